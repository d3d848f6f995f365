package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrClosed is returned by operations on a log or store that was closed.
var ErrClosed = errors.New("storage: closed")

// ErrNotStarted is returned by operations that need a started log or store.
var ErrNotStarted = errors.New("storage: not started")

// startTimeout bounds how long Start waits for the topic's partitions to be known when the
// caller's context has no deadline (Java's KafkaBasedLog waits 30 s as well).
const startTimeout = 30 * time.Second

// emptyCheckDelay is how long a ReadToEnd waits before it checks whether the records it waits
// for were deleted from the topic.
const emptyCheckDelay = time.Second

// retryBackoff is the pause between attempts at a request that failed transiently.
const retryBackoff = 250 * time.Millisecond

// Entry is one record to write to a Log: a key and a value, where a nil Value is a tombstone.
type Entry struct {
	Key   string
	Value []byte
}

// Log is an internal topic read from its start and then tailed, with a producer to append to
// it: Java's KafkaBasedLog. It assigns itself every partition of the topic directly (no consumer
// group) and hands each record to its callback, one at a time and in offset order per
// partition, from a single goroutine it owns.
//
// One franz-go client does the reading, the writing and the offset look-ups. Its producer is not
// idempotent (like Java Connect's internal producers, so it works without the IDEMPOTENT_WRITE
// ACL on older brokers), waits for all in-sync replicas, retries retriable errors without limit,
// and partitions keyed records with murmur2 exactly as Kafka's default partitioner does, so
// records land where a Java worker would put them. Broker restarts and transient errors are
// retried by the client; they never stop the reading goroutine.
type Log struct {
	topic    string
	cl       *kgo.Client
	adm      *kadm.Client
	log      *slog.Logger
	onRecord func(*kgo.Record)

	ctx    context.Context // cancelled by Close; the lifetime of the reader and of writes
	cancel context.CancelFunc
	done   chan struct{} // closed when the reader goroutine returned

	closeOnce sync.Once
	startOnce sync.Once
	startErr  error

	mu        sync.Mutex
	started   bool
	closed    bool
	positions map[int32]int64 // next offset the callback has not seen, per assigned partition
	replayEnd map[int32]int64 // end offsets when Start was called
	waiters   []*endWaiter
}

// endWaiter is a ReadToEnd call waiting for the reader to pass target.
type endWaiter struct {
	target map[int32]int64
	done   chan struct{}
}

// NewLog builds a log on the topic of o. It does no I/O; Start begins reading. onRecord is
// called from the reader goroutine for every record, tombstones included (transaction markers
// are skipped); it must not block for long and must not wait for the log's ReadToEnd or Send
// (the reader would wait for itself).
func NewLog(o KafkaOptions, onRecord func(*kgo.Record)) (*Log, error) {
	if o.Topic == "" {
		return nil, errors.New("creating log: no topic")
	}
	if onRecord == nil {
		return nil, errors.New("creating log: no record callback")
	}
	logger := o.logger().With("topic", o.Topic)
	opts := append([]kgo.Opt{}, o.ClientOpts...)
	opts = append(opts,
		kgo.WithLogger(kgoLogger{logger}),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(0),
		// Internal topics are created before the stores start; a topic missing for a moment
		// (a broker restarting) must not fail the write.
		kgo.UnknownTopicRetries(-1),
		// If the broker lost data, re-read what is left from the start, as Java's consumer with
		// auto.offset.reset=earliest does.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Transaction markers (written by a Java leader with exactly-once support) occupy
		// offsets; seeing them lets the reader move past them to the end offset.
		kgo.KeepControlRecords(),
		// Java's consumer default (fetch.max.wait.ms=500): partitions added to the topic join
		// the next fetch, which an idle long poll would otherwise delay by 5 s.
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if o.ClientID != "" {
		opts = append(opts, kgo.ClientID(o.ClientID))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating client for topic %s: %w", o.Topic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Log{
		topic:     o.Topic,
		cl:        cl,
		adm:       kadm.NewClient(cl),
		log:       logger,
		onRecord:  onRecord,
		ctx:       ctx,
		cancel:    cancel,
		done:      make(chan struct{}),
		positions: map[int32]int64{},
		replayEnd: map[int32]int64{},
	}, nil
}

// Topic returns the topic the log reads.
func (l *Log) Topic() string { return l.topic }

// Start looks up the topic's partitions, assigns all of them from their start, starts the
// reader and returns once every record present at the call was passed to the callback. Without
// a deadline on ctx it gives up after 30 s if the topic's partitions cannot be found.
func (l *Log) Start(ctx context.Context) error {
	l.startOnce.Do(func() { l.startErr = l.start(ctx) })
	return l.startErr
}

func (l *Log) start(ctx context.Context) error {
	lookupCtx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		lookupCtx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	ends, err := l.endOffsets(lookupCtx, true)
	if err != nil {
		if ctx.Err() == nil && lookupCtx.Err() != nil {
			return fmt.Errorf("starting log on topic %s: could not look up partition metadata within %s; the brokers may be unreachable, "+
				"the topic's partitions unavailable, or the topic not created yet: %w", l.topic, startTimeout, err)
		}
		return fmt.Errorf("starting log on topic %s: %w", l.topic, err)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	assign := make(map[int32]kgo.Offset, len(ends))
	for p, end := range ends {
		l.positions[p] = 0
		l.replayEnd[p] = end
		assign[p] = kgo.NewOffset().AtStart()
	}
	l.started = true
	l.mu.Unlock()

	l.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{l.topic: assign})
	go l.read()
	l.log.Debug("reading internal topic", "partitions", len(ends))
	if err := l.waitFor(ctx, ends); err != nil {
		return fmt.Errorf("starting log on topic %s: reading to end: %w", l.topic, err)
	}
	return nil
}

// Partitions returns how many partitions the log reads; 0 before Start.
func (l *Log) Partitions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.positions)
}

// Replayed reports whether r was already in the topic when Start was called, as opposed to
// written afterwards. Stores use it to announce only changes made after they started.
func (l *Log) Replayed(r *kgo.Record) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	end, ok := l.replayEnd[r.Partition]
	return ok && r.Offset < end
}

// checkStarted returns ErrNotStarted before Start succeeded and ErrClosed after Close.
func (l *Log) checkStarted() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case !l.started:
		return ErrNotStarted
	}
	return nil
}

// ReadToEnd returns once every record up to the end offsets of the topic at the time of the
// call was passed to the callback, or when ctx is done or the log closed.
func (l *Log) ReadToEnd(ctx context.Context) error {
	if err := l.checkStarted(); err != nil {
		return err
	}
	ends, err := l.endOffsets(ctx, false)
	if err != nil {
		return fmt.Errorf("reading topic %s to end: %w", l.topic, err)
	}
	l.addPartitions(ends)
	if err := l.waitFor(ctx, ends); err != nil {
		return fmt.Errorf("reading topic %s to end: %w", l.topic, err)
	}
	return nil
}

// addPartitions starts reading partitions added to the topic since the log started.
func (l *Log) addPartitions(ends map[int32]int64) {
	l.mu.Lock()
	var added map[int32]kgo.Offset
	for p := range ends {
		if _, ok := l.positions[p]; !ok {
			if added == nil {
				added = map[int32]kgo.Offset{}
			}
			l.positions[p] = 0
			added[p] = kgo.NewOffset().AtStart()
		}
	}
	l.mu.Unlock()
	if added != nil {
		l.log.Info("reading partitions added to internal topic", "partitions", len(added))
		l.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{l.topic: added})
	}
}

// endOffsets lists the end offset of every partition, retrying transient failures until ctx is
// done. With requireTopic, an unknown topic is retried too (it may be being created).
func (l *Log) endOffsets(ctx context.Context, requireTopic bool) (map[int32]int64, error) {
	for {
		ends, err := l.listEnds(ctx)
		if err == nil {
			return ends, nil
		}
		retriable := kerr.IsRetriable(err) || errors.Is(err, kerr.UnknownTopicOrPartition) && requireTopic ||
			kgo.IsRetryableBrokerErr(err)
		if !retriable {
			return nil, err
		}
		l.log.Debug("listing end offsets failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-l.ctx.Done():
			return nil, ErrClosed
		case <-time.After(retryBackoff):
		}
	}
}

func (l *Log) listEnds(ctx context.Context) (map[int32]int64, error) {
	listed, err := l.adm.ListEndOffsets(ctx, l.topic)
	if err != nil {
		return nil, err
	}
	ends := map[int32]int64{}
	var firstErr error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			if firstErr == nil {
				firstErr = o.Err
			}
			return
		}
		ends[o.Partition] = o.Offset
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if len(ends) == 0 {
		return nil, kerr.UnknownTopicOrPartition
	}
	return ends, nil
}

// waitFor waits until the reader passed every target offset.
func (l *Log) waitFor(ctx context.Context, target map[int32]int64) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if l.reachedLocked(target) {
		l.mu.Unlock()
		return nil
	}
	w := &endWaiter{target: target, done: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	l.mu.Unlock()

	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		l.removeWaiter(w)
		return ctx.Err()
	case <-l.ctx.Done():
		return ErrClosed
	case <-time.After(emptyCheckDelay):
	}

	// Still waiting: maybe a partition's records were deleted (its start offset reached its
	// end offset), so the reader will never see records up to the end. Count such partitions
	// as read.
	if empty := l.emptyPartitions(ctx, target); len(empty) > 0 {
		l.mu.Lock()
		for p, end := range empty {
			if l.positions[p] < end {
				l.positions[p] = end
			}
		}
		l.wakeWaitersLocked()
		l.mu.Unlock()
	}

	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		l.removeWaiter(w)
		return ctx.Err()
	case <-l.ctx.Done():
		return ErrClosed
	}
}

// emptyPartitions returns, for target partitions the reader has not reached, those whose log
// start offset is at or past the target: their records are gone, so the reader will never see
// them. Errors are ignored: the caller then just waits for records.
func (l *Log) emptyPartitions(ctx context.Context, target map[int32]int64) map[int32]int64 {
	starts, err := l.adm.ListStartOffsets(ctx, l.topic)
	if err != nil {
		return nil
	}
	var out map[int32]int64
	starts.Each(func(o kadm.ListedOffset) {
		end, ok := target[o.Partition]
		if o.Err != nil || !ok || o.Offset < end {
			return
		}
		if out == nil {
			out = map[int32]int64{}
		}
		out[o.Partition] = end
	})
	return out
}

func (l *Log) reachedLocked(target map[int32]int64) bool {
	for p, end := range target {
		if l.positions[p] < end {
			return false
		}
	}
	return true
}

func (l *Log) wakeWaitersLocked() {
	kept := l.waiters[:0]
	for _, w := range l.waiters {
		if l.reachedLocked(w.target) {
			close(w.done)
			continue
		}
		kept = append(kept, w)
	}
	for i := len(kept); i < len(l.waiters); i++ {
		l.waiters[i] = nil
	}
	l.waiters = kept
}

func (l *Log) removeWaiter(w *endWaiter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, x := range l.waiters {
		if x == w {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			return
		}
	}
}

// read is the reader goroutine: it polls until Close, passes records to the callback and
// advances positions after the callback returned, so a ReadToEnd that returns has seen every
// callback for the records before its end offsets.
func (l *Log) read() {
	defer close(l.done)
	var lastErr string
	var lastErrAt time.Time
	for {
		fetches := l.cl.PollFetches(l.ctx)
		if l.ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(_ string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			// The client retries on its own; say so once rather than on every poll.
			if msg := err.Error(); msg != lastErr || time.Since(lastErrAt) > time.Minute {
				lastErr, lastErrAt = msg, time.Now()
				l.log.Warn("reading internal topic failed; retrying", "partition", p, "err", err)
			}
		})
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if len(fp.Records) == 0 {
				return
			}
			for _, r := range fp.Records {
				if !r.Attrs.IsControl() {
					l.onRecord(r)
				}
			}
			next := fp.Records[len(fp.Records)-1].Offset + 1
			l.mu.Lock()
			if l.positions[fp.Partition] < next {
				l.positions[fp.Partition] = next
			}
			l.wakeWaitersLocked()
			l.mu.Unlock()
		})
	}
}

// Send writes the entries in order and returns once the broker acknowledged every one of them,
// or when ctx is done (the entries may still be written) or the log closed.
func (l *Log) Send(ctx context.Context, entries ...Entry) error {
	results := make(chan error, len(entries))
	for _, e := range entries {
		l.SendAsync(e, func(err error) { results <- err })
	}
	var first error
	for range entries {
		select {
		case err := <-results:
			if err != nil && first == nil {
				first = err
			}
		case <-ctx.Done():
			return fmt.Errorf("writing to topic %s: %w", l.topic, ctx.Err())
		}
	}
	if first != nil {
		return fmt.Errorf("writing to topic %s: %w", l.topic, first)
	}
	return nil
}

// SendAsync writes e and calls done with the outcome once the broker answered (nil when it
// acknowledged) or the log closed. done runs on the client's callback goroutine and must not
// block. Entries sent in order are written in order.
func (l *Log) SendAsync(e Entry, done func(error)) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		done(ErrClosed)
		return
	}
	r := &kgo.Record{Topic: l.topic, Key: []byte(e.Key), Value: e.Value}
	// The record lives as long as the log, not as long as a caller's context: a cancelled
	// caller stops waiting, but its record must not fail the records queued behind it.
	l.cl.Produce(l.ctx, r, func(_ *kgo.Record, err error) {
		if err != nil && l.ctx.Err() != nil {
			err = ErrClosed
		}
		done(err)
	})
}

// Flush waits until every record sent so far was acknowledged or failed, or ctx is done.
func (l *Log) Flush(ctx context.Context) error {
	if err := l.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flushing writes to topic %s: %w", l.topic, err)
	}
	return nil
}

// Close stops the reader, waits for it, fails records not yet acknowledged and closes the
// client. It is safe to call more than once.
func (l *Log) Close() {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		started := l.started
		l.mu.Unlock()
		l.cancel()
		if started {
			<-l.done
		}
		l.cl.Close()
	})
}
