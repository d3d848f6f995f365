package kusto

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	kerrors "github.com/Azure/azure-kusto-go/azkustodata/errors"
)

// errorClass says whether trying an ingestion again may succeed.
type errorClass int

const (
	// retriable failures (network, throttling, server errors, timeouts) are retried with backoff
	// and never cause data to be skipped.
	retriable errorClass = iota
	// permanent failures (bad request, unknown database or mapping, authentication) cannot
	// succeed by retrying; behavior.on.error decides what happens.
	permanent
)

func (c errorClass) String() string {
	if c == permanent {
		return "permanent"
	}
	return "retriable"
}

// statusInText finds the HTTP status the SDK embeds in error texts ("…(429 Too Many Requests):").
// Several SDK paths flatten errors to strings (the ingestion-resources and identity-token calls,
// streaming ingestion), so the text is the only place the status survives.
var statusInText = regexp.MustCompile(`\((\d{3}) [^()]*\):`)

// classify decides whether an ingestion failure is worth retrying. The SDK's own errors.Retry
// cannot be used: it answers false for every *HttpError (429 included) and true for every
// streaming failure (wire spec §2.8). The order of the checks is:
//
//  1. Our own deadline or a cancelled attempt: retriable (the caller handles shutdown itself).
//  2. An HTTP status, from an *errors.HttpError or the error text: 408, 429 and 5xx are retriable,
//     other 4xx permanent; an explicit "@permanent" in the Kusto error body wins.
//  3. Network errors (dial, reset, EOF, TLS, DNS): retriable.
//  4. SDK error kinds: client arguments, local files, unknown database and size limits are
//     permanent; everything else (blob and queue failures, I/O, timeouts) retriable.
//  5. Anything unrecognised: retriable. Retrying a permanent failure costs time; skipping a
//     transient one would lose data.
func classify(err error) errorClass {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return retriable
	}
	var httpErr *kerrors.HttpError
	if errors.As(err, &httpErr) {
		if p, ok := permanentFlag(&httpErr.KustoError); ok {
			return boolClass(p)
		}
		return statusClass(httpErr.StatusCode)
	}
	text := err.Error()
	if m := statusInText.FindStringSubmatch(text); m != nil {
		if strings.Contains(text, `"@permanent":true`) {
			return permanent
		}
		code, _ := strconv.Atoi(m[1])
		return statusClass(code)
	}
	if isNetworkError(err) {
		return retriable
	}
	var ke *kerrors.Error
	if errors.As(err, &ke) {
		if p, ok := permanentFlag(ke); ok {
			return boolClass(p)
		}
		switch ke.Kind {
		case kerrors.KClientArgs, kerrors.KLocalFileSystem, kerrors.KDBNotExist, kerrors.KLimitsExceeded,
			kerrors.KWrongTableKind, kerrors.KWrongColumnType, kerrors.KFailedToParse:
			return permanent
		}
		return retriable
	}
	return retriable
}

func boolClass(perm bool) errorClass {
	if perm {
		return permanent
	}
	return retriable
}

func statusClass(code int) errorClass {
	switch {
	case code == 408 || code == 429 || code >= 500:
		return retriable
	case code >= 400:
		return permanent
	}
	return retriable
}

// permanentFlag reads "@permanent" from a Kusto error body, if the error has one.
func permanentFlag(ke *kerrors.Error) (perm, ok bool) {
	body := ke.UnmarshalREST()
	if body == nil {
		return false, false
	}
	inner, _ := body["error"].(map[string]any)
	p, ok := inner["@permanent"].(bool)
	return p, ok
}

func isNetworkError(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &netErr), errors.As(err, &urlErr), errors.As(err, &opErr), errors.As(err, &dnsErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// sasSignature matches the signature of a storage SAS URL, which SDK errors may quote.
var sasSignature = regexp.MustCompile(`(?i)(sig=)[^&\s"'<>]+`)

// redactedError hides SAS signatures in an error's text while keeping it unwrappable, so that
// errors can be logged and reported as task failures without leaking storage credentials.
type redactedError struct{ err error }

func (e *redactedError) Error() string {
	return sasSignature.ReplaceAllString(e.err.Error(), "${1}REDACTED")
}
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error) error {
	if err == nil {
		return nil
	}
	var already *redactedError
	if errors.As(err, &already) {
		return err
	}
	return &redactedError{err: err}
}
