package cluster

import "fmt"

// Kind classifies the errors the herder returns, so the REST layer can pick a status code with
// errors.As instead of reading messages.
type Kind int

// Error kinds.
const (
	// KindNotFound: an unknown connector, task or plugin (404).
	KindNotFound Kind = iota + 1
	// KindAlreadyExists: creating a connector that exists (409).
	KindAlreadyExists
	// KindBadRequest: invalid input, e.g. a config that fails validation (400).
	KindBadRequest
	// KindConflict: the cluster cannot take the request now, e.g. a rebalance is expected or no
	// leader is known; clients retry (409).
	KindConflict
	// KindRebalanceNeeded: a read of the config state while a rebalance is pending. Write
	// paths report KindConflict instead; Java answers reads with 500.
	KindRebalanceNeeded
	// KindTimeout: the herder did not finish the request in time (500).
	KindTimeout
)

// Error is an error the herder returns for a request; Message is what the user sees, in the words
// Apache Kafka Connect uses.
type Error struct {
	Kind    Kind
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

func errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// RedirectError says another worker must handle the request: the leader for leader-only writes,
// or the worker that owns a connector or task for restarts. The REST layer forwards the request
// to TargetURL (an advertised REST URL such as "http://w1:8083/"). An empty TargetURL means the
// target is not known yet (mid-rebalance), which the REST layer answers with 409.
type RedirectError struct {
	TargetURL string
	Reason    string // e.g. "not the leader"; for logs
}

// Error describes the redirect.
func (e *RedirectError) Error() string {
	if e.TargetURL == "" {
		return fmt.Sprintf("cannot complete request here (%s) and no target URL is known", e.Reason)
	}
	return fmt.Sprintf("request must be handled by %s (%s)", e.TargetURL, e.Reason)
}
