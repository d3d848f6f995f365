package cluster

import (
	"context"
	"errors"
	"time"
)

// healthTimeout is how long Health waits for the herder goroutine: Java's
// DEFAULT_HEALTH_CHECK_TIMEOUT_MS (KIP-1017). Tests shorten it.
var healthTimeout = 10 * time.Second

// HealthError is Health's answer when the worker is not healthy. GET /health answers 503
// "starting" when Starting is set, else 500 "unhealthy".
type HealthError struct {
	// Starting is set until the worker completed its first rebalance.
	Starting bool
	// Stage is what the herder goroutine is doing or last did, in Java's words ("The worker is
	// currently ensuring membership in the cluster, which began at ..."); empty when unknown.
	Stage string
}

// Error describes the worker's state.
func (e *HealthError) Error() string {
	msg := "the worker did not answer in time"
	if e.Starting {
		msg = "the worker is still starting"
	}
	if e.Stage != "" {
		msg += ": " + e.Stage
	}
	return msg
}

// Health reports whether the worker is healthy, as Java's herder healthCheck does for GET
// /health (KIP-1017): it runs a no-op on the herder goroutine and waits up to 10 s (less if ctx
// ends sooner). Before the first rebalance completed it answers a *HealthError with Starting
// set at once; when the herder goroutine does not run the no-op in time, a *HealthError saying
// what the goroutine is busy with. After Run returned it fails with "Worker is shutting down".
func (h *Herder) Health(ctx context.Context) error {
	select {
	case <-h.ready:
	default:
		return &HealthError{Starting: true, Stage: h.stageSummary()}
	}
	err := h.callWithin(ctx, healthTimeout, func(context.Context) error { return nil })
	if errors.Is(err, errNotRun) || errors.Is(err, context.DeadlineExceeded) {
		return &HealthError{Stage: h.stageSummary()}
	}
	return err
}
