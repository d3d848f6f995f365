package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/kconnect/kconnect/cluster"
)

// Messages Apache Kafka Connect answers with, word for word: clients match on some of them
// (the Terraform provider retries on "rebalance" and "conflicting operation").
const (
	msgNoLeader            = "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
	msgConflictingOp       = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
	msgRebalanceExpected   = "Request cannot be completed because a rebalance is expected"
	msgTimedOut            = "Request timed out"
	msgInterrupted         = "Request interrupted"
	msgNotFound            = "HTTP 404 Not Found"
	msgMethodNotAllowed    = "HTTP 405 Method Not Allowed"
	msgUnsupportedMedia    = "HTTP 415 Unsupported Media Type"
	msgInternalServerError = "HTTP 500 Internal Server Error"
)

// Error is an error answered with an HTTP status and an ErrorMessage body: Java's
// ConnectRestException. Code is the body's error_code; it equals Status except when the error
// was relayed from another worker, whose error_code is passed on unchanged.
type Error struct {
	Status  int
	Code    int
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// newError returns an Error whose error_code is its status.
func newError(status int, format string, args ...any) *Error {
	return &Error{Status: status, Code: status, Message: fmt.Sprintf(format, args...)}
}

// kindStatus is the status of each kind of herder error, and the message used when the herder
// gave none. Every cluster.Kind must be here; errors_test.go checks that against cluster's
// source, so a new kind cannot reach users as an unexplained 500.
var kindStatus = map[cluster.Kind]struct {
	status  int
	message string
}{
	cluster.KindNotFound:      {http.StatusNotFound, msgNotFound},
	cluster.KindAlreadyExists: {http.StatusConflict, "Connector already exists"},
	cluster.KindBadRequest:    {http.StatusBadRequest, "HTTP 400 Bad Request"},
	cluster.KindConflict:      {http.StatusConflict, msgConflictingOp},
	// Reads of the config state while a rebalance is pending: Java's read paths do not
	// translate RebalanceNeededException, so it surfaces as a 500.
	cluster.KindRebalanceNeeded: {http.StatusInternalServerError, msgRebalanceExpected},
	cluster.KindTimeout:         {http.StatusInternalServerError, msgTimedOut},
	// An internal request with a bad signature, or topic tracking switched off.
	cluster.KindForbidden: {http.StatusForbidden, "HTTP 403 Forbidden"},
	// The worker cannot answer yet (e.g. no session key read yet to verify a request with).
	cluster.KindUnavailable: {http.StatusServiceUnavailable, "HTTP 503 Service Unavailable"},
}

// asError is the one place an error becomes a status and a message. Unclassified errors are
// 500s carrying their own text, as Java's ConnectExceptionMapper answers a ConnectException.
func asError(err error) *Error {
	var restErr *Error
	if errors.As(err, &restErr) {
		return restErr
	}
	var bind *bindError
	if errors.As(err, &bind) {
		return newError(http.StatusInternalServerError, "%s", bind.msg)
	}
	var herderErr *cluster.Error
	if errors.As(err, &herderErr) {
		m, ok := kindStatus[herderErr.Kind]
		if !ok {
			return newError(http.StatusInternalServerError, "%s", orDefault(herderErr.Message, msgInternalServerError))
		}
		return newError(m.status, "%s", orDefault(herderErr.Message, m.message))
	}
	var redirect *cluster.RedirectError
	if errors.As(err, &redirect) {
		// Redirects are forwarded before errors are mapped (forward.go); one that still
		// gets here could not be forwarded, which clients know as a retryable conflict.
		if redirect.TargetURL == "" {
			return newError(http.StatusConflict, msgNoLeader)
		}
		return newError(http.StatusConflict, msgConflictingOp)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return newError(http.StatusInternalServerError, msgTimedOut)
	case errors.Is(err, context.Canceled):
		return newError(http.StatusInternalServerError, msgInterrupted)
	}
	return newError(http.StatusInternalServerError, "%s", orDefault(err.Error(), msgInternalServerError))
}

// isClientError reports whether err was caused by the request rather than by this worker, so
// it is logged at debug level and not as a server failure. Body-binding errors are 500s for
// compatibility with Java, but they are the client's mistake.
func isClientError(err error) bool {
	var b *bindError
	if errors.As(err, &b) {
		return true
	}
	return asError(err).Status < http.StatusInternalServerError
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
