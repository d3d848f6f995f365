package sink

import "errors"

// RetriableError marks an error after which the same operation may succeed if tried again:
// Java's RetriableException. Read it with [IsRetriable].
type RetriableError struct {
	Err error
}

// Error returns the wrapped error's message.
func (e *RetriableError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *RetriableError) Unwrap() error { return e.Err }

// Retriable wraps err as retriable; it returns nil for a nil err.
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return &RetriableError{Err: err}
}

// IsRetriable reports whether err, or an error it wraps, is a [RetriableError].
func IsRetriable(err error) bool {
	var r *RetriableError
	return errors.As(err, &r)
}

// DataError reports a record or value that cannot be processed as it is (Java's DataException):
// retrying it cannot help. Converters return it for malformed input.
type DataError struct {
	Err error
}

// Error returns the wrapped error's message.
func (e *DataError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *DataError) Unwrap() error { return e.Err }
