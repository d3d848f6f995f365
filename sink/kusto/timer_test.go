package kusto

import (
	"sync"
	"testing"
	"time"
)

func TestTimerQueueRunsInDeadlineOrderAndStops(t *testing.T) {
	q := newTimerQueue()
	var mu sync.Mutex
	var got []int
	now := time.Now()
	done := make(chan struct{})
	for i, d := range []time.Duration{30, 10, 20, 10} {
		q.schedule(now.Add(d*time.Millisecond), func() {
			mu.Lock()
			got = append(got, i)
			if len(got) == 4 {
				close(done)
			}
			mu.Unlock()
		})
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("timers did not fire")
	}
	if want := []int{1, 3, 2, 0}; len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("fired %v, want %v (deadline order, ties in scheduling order)", got, want)
	}
	fired := make(chan struct{}, 1)
	q.schedule(time.Now().Add(time.Hour), func() { fired <- struct{}{} })
	if q.len() != 1 {
		t.Fatalf("%d pending", q.len())
	}
	q.close()
	q.close() // idempotent
	q.schedule(time.Now(), func() { fired <- struct{}{} })
	select {
	case <-fired:
		t.Fatal("a timer ran after close")
	case <-time.After(50 * time.Millisecond):
	}
}
