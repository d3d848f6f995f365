package task

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/sink"
)

// commitAll runs the periodic (or requested) commit for every assigned partition.
func (t *SinkTask) commitAll(ctx context.Context) {
	if len(t.parts) == 0 {
		return
	}
	if offsets := t.preCommit(ctx, t.assigned(), false); len(offsets) > 0 {
		t.commitOffsets(ctx, offsets)
	}
}

// preCommit asks the task which offsets are safe to commit and keeps those Java's
// WorkerSinkTask would commit (§5.4): only for the partitions in scope, never beyond what was
// consumed, and only when they changed since the last commit. Dead letter queue sends are
// awaited first, so no offset passes a record before the queue acknowledged it. When PreCommit
// fails outside a revocation, consumption rewinds to the last committed offsets.
func (t *SinkTask) preCommit(ctx context.Context, scope []sink.TopicPartition, closing bool) map[string]map[int32]kgo.EpochOffset {
	if t.dlq != nil {
		fctx, cancel := context.WithTimeout(ctx, t.flushTimeout)
		err := t.dlq.flush(fctx)
		cancel()
		if err != nil {
			t.noCommit = true
			t.fail(err)
			return nil
		}
	}
	current := make(map[sink.TopicPartition]int64, len(t.parts))
	for tp, st := range t.parts {
		if st.consumed >= 0 {
			current[tp] = st.consumed
		}
	}
	offsets, err := t.task.PreCommit(ctx, current)
	if err != nil {
		if closing {
			t.log.Warn("Offset commit failed during close", "error", err)
		} else {
			t.log.Error("Offset commit failed, rewinding to last committed offsets", "error", err)
			t.rewind()
		}
		return nil
	}
	if len(offsets) == 0 {
		t.log.Debug("Skipping offset commit, task opted-out by returning no offsets from preCommit")
		return nil
	}
	inScope := make(map[sink.TopicPartition]bool, len(scope))
	for _, tp := range scope {
		inScope[tp] = true
	}
	var out map[string]map[int32]kgo.EpochOffset
	for tp, off := range offsets {
		st, assigned := t.parts[tp]
		switch {
		case !assigned:
			t.log.Warn("Ignoring invalid task provided offset -- partition not assigned", "partition", tp.String(), "offset", off)
			continue
		case !inScope[tp]:
			continue
		case st.consumed < 0 || off > st.consumed:
			t.log.Warn("Ignoring invalid task provided offset -- not yet consumed", "partition", tp.String(),
				"taskOffset", off, "currentOffset", st.consumed)
			continue
		case off == st.committed:
			continue
		}
		if out == nil {
			out = map[string]map[int32]kgo.EpochOffset{}
		}
		if out[tp.Topic] == nil {
			out[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		out[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	if len(out) == 0 {
		t.log.Debug("Skipping offset commit, no change since last commit")
	}
	return out
}

// commitOffsets commits synchronously and records what the broker accepted.
func (t *SinkTask) commitOffsets(ctx context.Context, offsets map[string]map[int32]kgo.EpochOffset) {
	cctx, cancel := context.WithTimeout(ctx, t.flushTimeout)
	defer cancel()
	t.cl.CommitOffsetsSync(cctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			t.log.Error("Commit of offsets failed", "error", err)
			return
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				tp := sink.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					t.log.Error("Commit of offsets failed", "partition", tp.String(), "error", err)
					continue
				}
				if st, ok := t.parts[tp]; ok {
					st.committed = offsets[rt.Topic][rp.Partition].Offset
				}
			}
		}
	})
	if errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		t.log.Error("Commit of offsets timed out", "timeout", t.flushTimeout)
	}
}

// rewind seeks every partition back to its last committed offset, so what was consumed since
// is delivered again (Java's behaviour when preCommit fails).
func (t *SinkTask) rewind() {
	seek := map[string]map[int32]kgo.EpochOffset{}
	var rewound []sink.TopicPartition
	for tp, st := range t.parts {
		if st.consumed < 0 || st.consumed == st.committed {
			continue
		}
		if seek[tp.Topic] == nil {
			seek[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		seek[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: st.committed}
		st.consumed = st.committed
		rewound = append(rewound, tp)
	}
	if len(seek) == 0 {
		return
	}
	t.cl.SetOffsets(seek)
	// Records waiting for redelivery are consumed again from the committed offsets.
	t.dropPending(rewound)
	t.applyPauses()
}
