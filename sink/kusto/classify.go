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
	// permanent failures (bad request, unknown database or mapping) cannot succeed by retrying;
	// behavior.on.error decides what happens.
	permanent
	// refused failures are the sink's configuration being refused: Kusto, its data-management
	// service or its storage answered 401 or 403, a token could not be obtained, or the SDK does
	// not trust the endpoint. They are not bad data, and every file would fail the same way
	// until the configuration is fixed, so they fail the task under every behavior.on.error
	// rather than skip files or retry quietly.
	refused
)

func (c errorClass) String() string {
	switch c {
	case permanent:
		return "permanent"
	case refused:
		return "refused"
	}
	return "retriable"
}

// statusInText finds the HTTP status the SDK embeds in error texts ("…(429 Too Many Requests):").
// Several SDK paths flatten errors to strings (the ingestion-resources and identity-token calls,
// streaming ingestion), so the text is the only place the status survives.
var statusInText = regexp.MustCompile(`\((\d{3}) [^()]*\):`)

// tokenStatusInText finds the statuses of the identity provider ("RESPONSE 401: …", azidentity)
// and of the auth metadata ("error 503 Service Unavailable when querying endpoint", the SDK) in
// a flattened token error.
var tokenStatusInText = regexp.MustCompile(`(?:RESPONSE|error) (\d{3})\b`)

// networkInText finds the network failures a flattened token error quotes (the identity client
// may send its requests without the attempt's context, so the transport cannot note them).
var networkInText = regexp.MustCompile(`(?i)dial tcp|no such host|connection refused|connection reset|network is unreachable|` +
	`i/o timeout|handshake timeout|context deadline exceeded|unexpected EOF|tls: |x509: `)

// The SDK's texts that mark token acquisition failures and untrusted endpoints.
const (
	sdkTokenError     = "Error while getting token"
	sdkUntrustedError = "hostname is currently not trusted"
)

// classify decides whether an ingestion failure is worth retrying. The SDK's own errors.Retry
// cannot be used: it answers false for every *HttpError (429 included) and true for every
// streaming failure (wire spec §2.8). The order of the checks is:
//
//  1. Our own deadline or a cancelled attempt: retriable (the caller handles shutdown itself).
//  2. An endpoint the SDK does not trust: refused.
//  3. An HTTP status, from an *errors.HttpError, a failed storage answer the transport noted,
//     or the error text: 401 and 403 are refused; 408, 429 and 5xx retriable; other 4xx
//     permanent, where an explicit "@permanent" in the Kusto error body wins.
//  4. A token that could not be obtained: refused, unless the identity provider or the network
//     failed (a transport error, also one only quoted in the text, or a 408, 429 or 5xx
//     answer), which is retriable.
//  5. Network errors (dial, reset, EOF, TLS, DNS): retriable.
//  6. SDK error kinds: client arguments, local files, unknown database and size limits are
//     permanent; everything else (blob and queue failures, I/O, timeouts) retriable.
//  7. Anything unrecognised: retriable. Retrying a permanent failure costs time; skipping a
//     transient one would lose data.
func classify(err error) errorClass {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return retriable
	}
	text := err.Error()
	if strings.Contains(text, sdkUntrustedError) {
		return refused
	}
	var httpErr *kerrors.HttpError
	if errors.As(err, &httpErr) {
		if isRefusal(httpErr.StatusCode) {
			return refused
		}
		if p, ok := permanentFlag(&httpErr.KustoError); ok {
			return boolClass(p)
		}
		return statusClass(httpErr.StatusCode)
	}
	var noted *transportFailure
	if errors.As(err, &noted) && noted.refusal() {
		return refused
	}
	if m := statusInText.FindStringSubmatch(text); m != nil {
		code, _ := strconv.Atoi(m[1])
		if isRefusal(code) {
			return refused
		}
		if strings.Contains(text, `"@permanent":true`) {
			return permanent
		}
		return statusClass(code)
	}
	if strings.Contains(text, sdkTokenError) {
		if (noted != nil && noted.Err != nil) || isNetworkError(err) || networkInText.MatchString(text) {
			return retriable
		}
		for _, m := range tokenStatusInText.FindAllStringSubmatch(text, -1) {
			if code, _ := strconv.Atoi(m[1]); statusClass(code) == retriable && code >= 400 {
				return retriable
			}
		}
		return refused
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

// isRefusal reports whether an HTTP status refuses the caller's credentials or permissions.
func isRefusal(code int) bool {
	return code == 401 || code == 403
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

// secretPatterns match the secrets an error text may quote: SAS signatures of storage URLs,
// bearer tokens, and token or secret fields of identity requests and answers.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(\bsig=)[^&\s"'<>]+`),
	regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]{10,}=*`), // tokens, not the word in "the bearer token's"
	regexp.MustCompile(`(?i)("?\b(?:access_token|refresh_token|id_token|client_secret|client_assertion)"?\s*[:=]\s*"?)[^"&\s,}]+`),
}

// minSecretLen is the shortest configured secret that is searched for in error texts verbatim;
// shorter ones would garble messages more than they protect.
const minSecretLen = 4

// redactedError hides secrets in an error's text (see secretPatterns, plus the configured
// secrets verbatim) while keeping it unwrappable, so that errors can be logged and reported as
// task failures without leaking credentials.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	s := e.err.Error()
	for _, secret := range e.secrets {
		s = strings.ReplaceAll(s, secret, "REDACTED")
	}
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, "${1}REDACTED")
	}
	return s
}
func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so its text hides secrets, including the given configured ones.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var already *redactedError
	if errors.As(err, &already) {
		return err
	}
	var long []string
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			long = append(long, s)
		}
	}
	return &redactedError{err: err, secrets: long}
}
