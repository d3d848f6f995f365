package task

import (
	"slices"
	"time"

	"github.com/kconnect/kconnect/sink"
)

// taskContext is the sink.TaskContext a task receives. Its methods only record the request and
// wake the loop, which applies it on its own goroutine, so they are safe from any goroutine
// (including the task's own calls from inside Put).
type taskContext struct{ t *SinkTask }

// Assignment returns the partitions assigned to the task.
func (c *taskContext) Assignment() []sink.TopicPartition {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	return slices.Clone(c.t.assignment)
}

// Pause stops fetching from the partitions until Resume. Partitions not assigned are ignored
// with a warning.
func (c *taskContext) Pause(partitions ...sink.TopicPartition) { c.setPaused(partitions, true) }

// Resume undoes Pause.
func (c *taskContext) Resume(partitions ...sink.TopicPartition) { c.setPaused(partitions, false) }

func (c *taskContext) setPaused(partitions []sink.TopicPartition, paused bool) {
	if len(partitions) == 0 {
		return
	}
	c.t.mu.Lock()
	for _, tp := range partitions {
		c.t.pauseReqs[tp] = paused
	}
	c.t.mu.Unlock()
	c.t.wakeup()
}

// RequestCommit asks for a PreCommit and commit as soon as possible.
func (c *taskContext) RequestCommit() {
	c.t.commitRequested.Store(true)
	c.t.wakeup()
}

// Timeout sets how long the runtime waits before redelivering a batch after the next retriable
// Put error.
func (c *taskContext) Timeout(d time.Duration) { c.t.taskTimeout.Store(int64(d)) }
