package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/storage"
)

// TestTaskFailureLoggedOnce fails one task in Start (the task runtime returns the failure
// without logging it) and one in Put (the runtime logs it, then returns it): each failure is
// one ERROR line, naming the connector and the task.
func TestTaskFailureLoggedOnce(t *testing.T) {
	kafka := newFakeKafka(t)
	createTopic(t, kafka, "input", 1, nil)
	// No record is produced: the put failure comes from the empty Put after a poll that found
	// nothing, and polls wait at most until the next offset commit, so commits are frequent.
	h, rec, _, _ := runHerder(t, startupWorker(strings.Join(kafka.ListenAddrs(), ","),
		"scheduled.rebalance.max.delay.ms", "0", "offset.flush.interval.ms", "200"))
	select {
	case <-h.Ready():
	case <-time.After(30 * time.Second):
		t.Fatalf("not ready\n%s", rec.all())
	}
	ctx := context.Background()
	for name, kv := range map[string][]string{"fails-in-start": {"test.fail.task", "0"}, "fails-in-put": {"test.fail.put", "0"}} {
		if err := retryConflicts(func() error {
			_, _, err := h.PutConnectorConfig(ctx, name, sinkConfig(name, append([]string{"tasks.max", "1"}, kv...)...), false, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		expectStatus(t, h, name, storage.Running, storage.Failed)
	}
	for name, cause := range map[string]string{"fails-in-start": "the test task was told to fail", "fails-in-put": "told to fail in put"} {
		var errs []string
		waitFor(t, 10*time.Second, "the failure of "+name+" logged", func() error {
			errs = rec.find("ERROR", "connector="+name, cause)
			if len(errs) == 0 {
				return errors.New("not logged")
			}
			return nil
		})
		if len(errs) != 1 {
			t.Errorf("%s: %d ERROR lines for one failure:\n%s", name, len(errs), strings.Join(errs, "\n"))
		}
		if !strings.Contains(errs[0], "task="+name+"-0") || !strings.Contains(errs[0], "logger=task") {
			t.Errorf("%s: the line does not name the task: %s", name, errs[0])
		}
	}
}

// retryConflicts retries fn while the worker answers that it is rebalancing.
func retryConflicts(fn func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := fn()
		var herr *Error
		if err == nil || !errors.As(err, &herr) || (herr.Kind != KindConflict && herr.Kind != KindRebalanceNeeded) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLoggedErrors(t *testing.T) {
	var logged loggedErrors
	rec := newLogRecorder()
	log := slog.New(logged.wrap(rec)).With("task", "c-0")
	first, second := errors.New("first"), errors.New("second")
	log.Error("failed", "error", first)
	log.Warn("a warning", "error", second) // not an ERROR record
	log.Error("not an error value", "error", "text")
	if !logged.has(first) || !logged.has(fmt.Errorf("returned: %w", first)) {
		t.Error("a logged error, or one wrapping it, is not known")
	}
	if logged.has(second) || logged.has(errors.New("first")) {
		t.Error("an error that was not logged at ERROR level is known")
	}
	for i := 0; i < 2*maxLoggedErrors; i++ {
		log.Error("more", "error", fmt.Errorf("e%d", i))
	}
	if logged.has(first) {
		t.Error("more than the last errors are kept")
	}
	if got := len(rec.find("c-0")); got != 3+2*maxLoggedErrors {
		t.Errorf("%d lines passed on, want %d", got, 3+2*maxLoggedErrors)
	}
}
