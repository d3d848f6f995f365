package task

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/sink"
)

type rebalanceKind int

const (
	partitionsAssigned rebalanceKind = iota
	partitionsRevoked
	partitionsLost
)

// rebalanceRequest carries one franz-go rebalance callback to the loop goroutine; done is closed
// when the loop handled it (or will never handle it because the task stopped).
type rebalanceRequest struct {
	kind  rebalanceKind
	parts []sink.TopicPartition
	done  chan struct{}
}

func (t *SinkTask) onAssigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	t.handOff(partitionsAssigned, m)
}

func (t *SinkTask) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	t.handOff(partitionsRevoked, m)
}

func (t *SinkTask) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	t.handOff(partitionsLost, m)
}

// handOff runs on franz-go's group goroutine. It queues the callback for the loop and blocks
// until the loop handled it, so franz-go's guarantees hold as if the loop had run the callback:
// fetching of new partitions starts only after Open, and revoked partitions are committed and
// closed before the group moves on.
//
// Interleavings: the loop is either polling (wakeup cancels the poll, so it returns at once),
// waiting (wakeup ends the wait), or inside a task call or a commit; it takes the request at
// the top of its next iteration, so a callback waits at most one Put. Records polled before a
// revocation are delivered and then committed by it, which is correct because the group still
// counts this member as their owner until the callback returns. Once the task stops serving
// (shutdown, after its own final commit and Close of every partition), callbacks return
// immediately; that includes the revocation franz-go runs when Close leaves the group.
func (t *SinkTask) handOff(kind rebalanceKind, m map[string][]int32) {
	var parts []sink.TopicPartition
	for topic, ps := range m {
		for _, p := range ps {
			parts = append(parts, sink.TopicPartition{Topic: topic, Partition: p})
		}
	}
	if len(parts) == 0 {
		return // franz-go also calls at session boundaries with nothing to do
	}
	sortTPs(parts)
	req := &rebalanceRequest{kind: kind, parts: parts, done: make(chan struct{})}
	t.mu.Lock()
	if !t.serving {
		t.mu.Unlock()
		return
	}
	t.rebalances = append(t.rebalances, req)
	t.mu.Unlock()
	t.wakeup()
	<-req.done
}

// handleRebalance runs on the loop goroutine.
func (t *SinkTask) handleRebalance(ctx context.Context, r *rebalanceRequest) {
	switch r.kind {
	case partitionsAssigned:
		var added []sink.TopicPartition
		for _, tp := range r.parts {
			if _, ok := t.parts[tp]; !ok {
				t.parts[tp] = &partitionState{consumed: -1, committed: -1}
				added = append(added, tp)
			}
		}
		t.publishAssignment()
		// Pauses (target state, redelivery) apply to new partitions before franz-go fetches them.
		t.applyPauses()
		if len(added) == 0 {
			return
		}
		t.log.Info("partitions assigned", "partitions", tpStrings(added))
		if err := t.task.Open(ctx, added); err != nil {
			t.fail(&connectError{msg: "Opening partitions failed", cause: err})
		}
	case partitionsRevoked, partitionsLost:
		var mine []sink.TopicPartition
		for _, tp := range r.parts {
			if _, ok := t.parts[tp]; ok {
				mine = append(mine, tp)
			}
		}
		if len(mine) == 0 {
			return
		}
		lost := r.kind == partitionsLost
		if lost {
			t.log.Info("partitions lost; closing them without a commit", "partitions", tpStrings(mine))
		} else {
			t.log.Info("partitions revoked", "partitions", tpStrings(mine))
		}
		t.closePartitions(ctx, mine, lost)
	}
}

// closePartitions closes partitions leaving the task: for a revocation PreCommit, then Close,
// then a synchronous commit of what PreCommit returned for them; for lost partitions only Close.
// Records of them waiting for redelivery are dropped: the next owner consumes them again.
func (t *SinkTask) closePartitions(ctx context.Context, parts []sink.TopicPartition, lost bool) {
	var offsets map[string]map[int32]kgo.EpochOffset
	if !lost {
		offsets = t.preCommit(ctx, parts, true)
	}
	if err := t.task.Close(ctx, parts); err != nil {
		t.log.Error("closing partitions failed", "partitions", tpStrings(parts), "error", err)
	}
	if len(offsets) > 0 {
		t.commitOffsets(ctx, offsets)
	}
	for _, tp := range parts {
		delete(t.parts, tp)
	}
	t.dropPending(parts)
	t.publishAssignment()
	t.applyPauses()
}

// dropPending removes records of parts from the batch waiting for redelivery.
func (t *SinkTask) dropPending(parts []sink.TopicPartition) {
	if t.pending == nil {
		return
	}
	drop := map[sink.TopicPartition]bool{}
	for _, tp := range parts {
		drop[tp] = true
	}
	kept := t.pending.records[:0:0]
	for _, r := range t.pending.records {
		if !drop[r.TopicPartition()] {
			kept = append(kept, r)
		}
	}
	for tp := range drop {
		delete(t.pending.next, tp)
	}
	t.pending.records = kept
	if len(t.pending.next) == 0 {
		t.pending = nil
	}
}

// publishAssignment updates what TaskContext.Assignment returns.
func (t *SinkTask) publishAssignment() {
	a := t.assigned()
	t.mu.Lock()
	t.assignment = a
	t.mu.Unlock()
}

func tpStrings(tps []sink.TopicPartition) []string {
	out := make([]string, len(tps))
	for i, tp := range tps {
		out[i] = tp.String()
	}
	return out
}
