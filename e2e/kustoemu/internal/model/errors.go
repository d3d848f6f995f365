package model

import (
	"fmt"
	"net/http"
)

// Error is a Kusto service error: it is sent as a OneApiError body ({"error":{"code", "message",
// "@type", "@message", "@context", "@permanent"}}) with HTTP status Status, and inside v2
// OneApiErrors. Every failure the emulator reports to a client is an *Error.
type Error struct {
	Status    int    // HTTP status
	Code      string // e.g. "BadRequest_SyntaxError"
	Message   string // the short "message"
	Type      string // "@type", the .NET exception type
	Detail    string // "@message", the full explanation
	Permanent bool   // "@permanent": false means a retry may succeed
}

// Error returns the code and the detail.
func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// SyntaxError is a 400 for text that does not parse.
func SyntaxError(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest_SyntaxError",
		Message: "Request is invalid and cannot be executed.", Type: "Kusto.Data.Exceptions.SyntaxException",
		Detail: "Syntax error: " + fmt.Sprintf(format, args...), Permanent: true}
}

// SemanticError is a 400 for text that parses but means nothing valid (unknown column, wrong
// argument types, unsupported operator).
func SemanticError(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "General_BadRequest",
		Message: "Request is invalid and cannot be executed.", Type: "Kusto.Data.Exceptions.SemanticException",
		Detail: "Semantic error: " + fmt.Sprintf(format, args...), Permanent: true}
}

// BadRequest is a 400 with a specific code (e.g. "BadRequest_StreamingIngestionPolicyNotEnabled").
func BadRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code,
		Message: "Request is invalid and cannot be executed.", Type: "Kusto.Data.Exceptions.KustoBadRequestException",
		Detail: fmt.Sprintf(format, args...), Permanent: true}
}

// EntityNotFound is a 404 for an unknown database, table, column or mapping; kind is e.g.
// "Table" and name the entity's name.
func EntityNotFound(kind, name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "BadRequest_EntityNotFound",
		Message: "Request is invalid and cannot be executed.", Type: "Kusto.Data.Exceptions.EntityNotFoundException",
		Detail: fmt.Sprintf("%s '%s' was not found.", kind, name), Permanent: true}
}

// Throttled is a 429: the request may succeed later.
func Throttled(format string, args ...any) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
		Message: "Request was throttled.", Type: "Kusto.DataNode.Exceptions.ThrottlingException",
		Detail: fmt.Sprintf(format, args...), Permanent: false}
}

// Internal is a 500: a transient service failure.
func Internal(format string, args ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "Internal_Error",
		Message: "An internal error occurred.", Type: "Kusto.Common.Svc.Exceptions.InternalServiceException",
		Detail: fmt.Sprintf(format, args...), Permanent: false}
}

// Unavailable is a 503: the service cannot take the request now.
func Unavailable(format string, args ...any) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable",
		Message: "The service is unavailable.", Type: "Kusto.Common.Svc.Exceptions.ServiceUnavailableException",
		Detail: fmt.Sprintf(format, args...), Permanent: false}
}

// EntityAlreadyExists is a 400 for creating an entity (table, mapping) whose name is taken in a
// way the command does not allow; kind is e.g. "Table" and name the entity's name.
func EntityAlreadyExists(kind, name, format string, args ...any) *Error {
	detail := fmt.Sprintf("%s '%s' already exists", kind, name)
	if format != "" {
		detail += ": " + fmt.Sprintf(format, args...)
	}
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest_EntityAlreadyExists",
		Message: "Request is invalid and cannot be executed.", Type: "Kusto.Data.Exceptions.EntityAlreadyExistsException",
		Detail: detail, Permanent: true}
}
