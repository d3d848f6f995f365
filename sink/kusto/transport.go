package kusto

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// The Kusto SDK reports a failed blob upload or queue enqueue only as "problem uploading to
// IngestBlob Storage" or "could not upload file to any queue" and drops the cause (wire spec §8
// item 10). causeTransport, the HTTP transport of the SDK clients, keeps it: every ingestion
// attempt carries an attemptLog in its context, the transport notes in it the last transport
// error and the last failed storage answer of the attempt's requests, and the ingester attaches
// that note to the SDK's error.

// attemptLogKey is the context key of an attempt's *attemptLog.
type attemptLogKey struct{}

// attemptLog holds the last failed HTTP exchange of one ingestion attempt. It is safe for
// concurrent use: the SDK may upload blocks of one blob in parallel.
type attemptLog struct {
	mu   sync.Mutex
	last *transportFailure
}

// withAttemptLog returns a context whose HTTP requests are noted in the returned log.
func withAttemptLog(ctx context.Context) (context.Context, *attemptLog) {
	l := &attemptLog{}
	return context.WithValue(ctx, attemptLogKey{}, l), l
}

func attemptLogFrom(ctx context.Context) *attemptLog {
	l, _ := ctx.Value(attemptLogKey{}).(*attemptLog)
	return l
}

func (l *attemptLog) note(f *transportFailure) {
	l.mu.Lock()
	l.last = f
	l.mu.Unlock()
}

// succeeded forgets the noted failure when the same request has now succeeded (the storage
// client retried it): it is not why the attempt failed.
func (l *attemptLog) succeeded(method, url string) {
	l.mu.Lock()
	if l.last != nil && l.last.Method == method && l.last.URL == url {
		l.last = nil
	}
	l.mu.Unlock()
}

// explain attaches the noted failure to err, unless err already says it.
func (l *attemptLog) explain(err error) error {
	if err == nil {
		return nil
	}
	l.mu.Lock()
	f := l.last
	l.mu.Unlock()
	if f == nil || (f.Err != nil && strings.Contains(err.Error(), f.Err.Error())) {
		return err
	}
	return &causedError{err: err, cause: f}
}

// transportFailure is one failed HTTP exchange: a transport error (TLS, DNS, refused
// connection, timeout) or a storage answer that is not a success.
type transportFailure struct {
	Method  string
	URL     string // scheme://host/path: the query, which holds the SAS, is left out
	Status  int    // the storage answer's status; 0 for a transport error
	Code    string // the storage error code (x-ms-error-code)
	Message string // the storage error message and detail, first lines only
	Err     error  // the transport error; nil for a storage answer
}

func (f *transportFailure) Error() string {
	if f.Err != nil {
		return fmt.Sprintf("%s %s failed: %v", f.Method, f.URL, f.Err)
	}
	s := fmt.Sprintf("%s %s was answered with HTTP %d", f.Method, f.URL, f.Status)
	if f.Code != "" {
		s += " " + f.Code
	}
	if f.Message != "" {
		s += ": " + f.Message
	}
	return s
}

func (f *transportFailure) Unwrap() error { return f.Err }

// refusal reports whether storage refused the request's authorization (401, 403): the SAS the
// data-management service handed out, or the storage account's network rules.
func (f *transportFailure) refusal() bool {
	return f.Status == http.StatusUnauthorized || f.Status == http.StatusForbidden
}

// causedError is an SDK error with the cause the SDK dropped.
type causedError struct {
	err   error
	cause *transportFailure
}

func (e *causedError) Error() string   { return e.err.Error() + "; cause: " + e.cause.Error() }
func (e *causedError) Unwrap() []error { return []error{e.err, e.cause} }

// certificateError is a failed TLS certificate verification. It is marked non-retriable for the
// storage and identity clients (azcore's retry policy honours a NonRetriable method), so a
// certificate the sink does not trust fails the attempt at once instead of after several
// seconds of identical retries; the sink's own retry loop still retries it with backoff.
type certificateError struct{ err error }

func (e *certificateError) Error() string { return e.err.Error() }
func (e *certificateError) Unwrap() error { return e.err }

// NonRetriable marks the error as not worth retrying within one request.
func (e *certificateError) NonRetriable() {}

func isCertificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host)
}

// causeTransport notes failed exchanges in the attempt log of the request's context.
type causeTransport struct {
	next http.RoundTripper
}

// storageErrorPrefix is how much of a failed storage answer is read for its error message.
const storageErrorPrefix = 8 << 10

func (t *causeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil && isCertificateError(err) {
		err = &certificateError{err: err}
	}
	log := attemptLogFrom(req.Context())
	if log == nil {
		return resp, err
	}
	url := safeURL(req)
	switch {
	case err != nil:
		log.note(&transportFailure{Method: req.Method, URL: url, Err: err})
	case !isStorageRequest(req):
		// Kusto's own answers reach the SDK's errors with their status and body.
	case resp.StatusCode >= 300:
		f := &transportFailure{Method: req.Method, URL: url, Status: resp.StatusCode, Code: resp.Header.Get("x-ms-error-code")}
		f.Message = storageMessage(resp)
		log.note(f)
	default:
		log.succeeded(req.Method, url)
	}
	return resp, err
}

// isStorageRequest reports whether req goes to a storage account the data-management service
// handed out: those URLs carry a SAS signature.
func isStorageRequest(req *http.Request) bool {
	return req.URL.Query().Get("sig") != ""
}

// safeURL is the request URL without query and credentials.
func safeURL(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	return u.String()
}

// storageMessage reads the start of a storage error body (leaving the body intact for the SDK)
// and returns its message and authentication detail, first line of each.
func storageMessage(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, storageErrorPrefix))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return ""
	}
	var body struct {
		Message string `xml:"Message"`
		Detail  string `xml:"AuthenticationErrorDetail"`
		Reason  string `xml:"Reason"`
	}
	if xml.Unmarshal(head, &body) != nil {
		return ""
	}
	var parts []string
	for _, s := range []string{body.Message, body.Detail, body.Reason} {
		if line := firstLine(s); line != "" {
			parts = append(parts, line)
		}
	}
	msg := strings.Join(parts, " ")
	if len(msg) > maxStorageMessage {
		msg = strings.ToValidUTF8(msg[:maxStorageMessage], "") + "…"
	}
	return msg
}

// maxStorageMessage bounds the storage message quoted in an error.
const maxStorageMessage = 400

// firstLine returns the first line of s, also cutting at an escaped newline ("\n" as text).
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, `\n`); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
