package cluster

import (
	"time"
)

// stage is a step of the herder goroutine's work, as Java's herder records them (Stage,
// TickThreadStage): when a request times out or GET /health finds the herder unresponsive, the
// answer says what the worker was doing.
type stage struct {
	description string
	started     time.Time
	completed   time.Time // zero while the step is in progress
}

// summary describes the stage in Java's words (Stage.summarize), e.g. "The worker is
// currently ensuring membership in the cluster, which began at 2024-05-01T10:00:00.123Z."
func (s *stage) summary() string {
	if s.completed.IsZero() {
		return "The worker is currently " + s.description + ", which began at " + javaInstant(s.started) + "."
	}
	return "The last operation the worker completed was " + s.description + ", which began at " +
		javaInstant(s.started) + " and completed at " + javaInstant(s.completed) + "."
}

// javaInstant formats t as Java's Instant.ofEpochMilli(ms).toString(): UTC, with milliseconds
// only when there are any.
func javaInstant(t time.Time) string {
	t = t.UTC().Truncate(time.Millisecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// beginStage records that the herder goroutine started a step; the returned func marks it
// completed. Only the herder goroutine calls it; other goroutines read the stage through
// stageSummary.
func (h *Herder) beginStage(description string) (done func()) {
	s := &stage{description: description, started: time.Now()}
	h.stage.Store(s)
	return func() {
		// A step nested in this one ended before it: this one is now the last completed.
		c := *s
		c.completed = time.Now()
		h.stage.Store(&c)
	}
}

// stageSummary describes the herder goroutine's current or last step, "" before the first.
func (h *Herder) stageSummary() string {
	if s := h.stage.Load(); s != nil {
		return s.summary()
	}
	return ""
}
