package kusto

import (
	"container/heap"
	"sync"
	"time"
)

// timerQueue runs functions at given times on one goroutine: the time-based rolls of every
// partition of a task and the delayed retries of its files. It replaces the Java sink's timer
// thread per partition. Functions run one at a time, in deadline order, outside the queue's lock;
// a function that must not run any more checks its own state (partitions use a closed flag and a
// file identity), so cancelled entries simply fire as no-ops.
type timerQueue struct {
	mu      sync.Mutex
	entries timerHeap
	seq     uint64
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type timerEntry struct {
	at  time.Time
	seq uint64 // ties run in scheduling order
	fn  func()
}

type timerHeap []timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = timerEntry{}
	*h = old[:len(old)-1]
	return e
}

// newTimerQueue starts the queue's goroutine; close stops it.
func newTimerQueue() *timerQueue {
	q := &timerQueue{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

// schedule runs fn at (or soon after) at. Entries scheduled after close never run.
func (q *timerQueue) schedule(at time.Time, fn func()) {
	q.mu.Lock()
	q.seq++
	heap.Push(&q.entries, timerEntry{at: at, seq: q.seq, fn: fn})
	first := q.entries[0].seq == q.seq
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// len returns the number of pending entries.
func (q *timerQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

// close stops the goroutine and waits for it; pending entries are dropped. It is idempotent.
func (q *timerQueue) close() {
	q.once.Do(func() { close(q.stop) })
	<-q.done
}

func (q *timerQueue) run() {
	defer close(q.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		q.mu.Lock()
		now := time.Now()
		var due []func()
		for len(q.entries) > 0 && !q.entries[0].at.After(now) {
			due = append(due, heap.Pop(&q.entries).(timerEntry).fn)
		}
		wait := time.Hour
		if len(q.entries) > 0 {
			wait = q.entries[0].at.Sub(now)
		}
		q.mu.Unlock()
		for _, fn := range due {
			select {
			case <-q.stop:
				return
			default:
			}
			fn()
		}
		if len(due) > 0 {
			continue // functions may have taken a while or scheduled more
		}
		t.Reset(wait)
		select {
		case <-q.stop:
			return
		case <-q.wake:
		case <-t.C:
		}
	}
}
