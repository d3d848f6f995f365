package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/task/kafkaprops"
)

// Defaults the runtime uses when the worker settings leave them zero.
const (
	defaultFlushInterval = 60 * time.Second // offset.flush.interval.ms
	defaultFlushTimeout  = 5 * time.Second  // offset.flush.timeout.ms
	// defaultRedeliveryBackoff is how long a batch waits after a retriable Put error when the
	// task did not call TaskContext.Timeout.
	defaultRedeliveryBackoff = time.Second
	// defaultShutdownTimeout bounds the final PreCommit, Close and Stop calls when the worker
	// sets no task.shutdown.graceful.timeout.ms; their context is cancelled after it.
	defaultShutdownTimeout = 5 * time.Second
)

// SinkTask runs one sink task: Java's WorkerSinkTask. It owns one kgo consumer in the
// connector's consumer group, converts what it polls, delivers it to the plugin's [sink.Task] and
// commits the offsets the task's PreCommit returns. See the package documentation for the
// concurrency design.
type SinkTask struct {
	cfg      Config
	log      *slog.Logger
	status   StatusListener
	id       string // "<connector>-<task>", as Java's ConnectorTaskId prints
	settings *settings

	keyConverter, valueConverter Converter
	headerConverter              HeaderConverter
	keyClass, valueClass         string
	headerClass                  string

	consumerOpts []kgo.Opt
	dlqOpts      []kgo.Opt // nil without a dead letter queue

	flushInterval, flushTimeout time.Duration
	shutdownTimeout             time.Duration

	topics TopicListener // nil unless the status listener records topics

	started atomic.Bool

	// Requests from other goroutines; each is followed by wakeup().
	targetPaused    atomic.Bool
	commitRequested atomic.Bool
	taskTimeout     atomic.Int64 // TaskContext.Timeout, in ns; consumed by the next retriable Put error

	mu         sync.Mutex
	woken      bool               // a request arrived since the loop last looked
	pollCancel context.CancelFunc // cancels the poll in progress, if any
	rebalances []*rebalanceRequest
	serving    bool // the loop takes rebalance requests; false before and after it runs
	pauseReqs  map[sink.TopicPartition]bool
	assignment []sink.TopicPartition // what TaskContext.Assignment returns
	wakeCh     chan struct{}

	// State below is owned by the goroutine running Run.
	cl        *kgo.Client
	task      sink.Task
	tol       *tolerance
	dlq       *deadLetterQueue
	maxPoll   int
	parts     map[sink.TopicPartition]*partitionState
	paused    bool                         // the target state PAUSED is applied
	kgoPaused map[sink.TopicPartition]bool // partitions paused in the consumer
	pending   *batch                       // a batch waiting for redelivery after a retriable Put error
	redeliver time.Time                    // when to deliver pending again
	failure   error                        // the error that fails the task
	noCommit  bool                         // skip the final commit (offsets may be unsafe)
	warnedAt  map[string]time.Time         // rate limit for repeated consumer warnings
}

// partitionState tracks one assigned partition.
type partitionState struct {
	// consumed is the offset after the last record delivered by a successful Put (skipped
	// records included); -1 until a record of the partition was seen.
	consumed int64
	// committed is the last committed offset, or the position consumption started from in this
	// assignment; -1 until known.
	committed int64
	// taskPaused is set while the task paused the partition through TaskContext.Pause.
	taskPaused bool
}

// batch is one poll's records after conversion, and the offset after the last record of each
// partition it covers (records skipped by errors.tolerance included).
type batch struct {
	records []sink.Record
	next    map[sink.TopicPartition]int64
}

// New checks the config (converters, topics/topics.regex, errors.*, client overrides) and builds
// the task; an error means the task cannot run and is reported FAILED by the caller. It does no
// I/O.
func New(cfg Config) (*SinkTask, error) {
	if cfg.Plugin == nil || cfg.Plugin.NewTask == nil {
		return nil, errors.New("creating sink task: no plugin")
	}
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	t := &SinkTask{
		cfg:       cfg,
		settings:  s,
		status:    cfg.Status,
		id:        cfg.Connector + "-" + strconv.Itoa(cfg.Task),
		wakeCh:    make(chan struct{}, 1),
		pauseReqs: map[sink.TopicPartition]bool{},
	}
	if t.status == nil {
		t.status = nopStatus{}
	}
	t.log = cfg.Logger // named by the caller
	if t.log == nil {
		t.log = slog.Default().With("connector", cfg.Connector, "task", cfg.Task)
	}
	t.targetPaused.Store(cfg.Paused)
	t.flushInterval = cmpOr(cfg.Worker.OffsetFlushInterval, defaultFlushInterval)
	t.flushTimeout = cmpOr(cfg.Worker.OffsetFlushTimeout, defaultFlushTimeout)
	t.shutdownTimeout = cmpOr(cfg.Worker.ShutdownTimeout, defaultShutdownTimeout)
	t.topics, _ = cfg.Status.(TopicListener)

	if t.keyConverter, err = NewConverter(s.keyConverter, true); err != nil {
		return nil, fmt.Errorf("Failed to create key converter: %w", err)
	}
	if t.valueConverter, err = NewConverter(s.valueConverter, false); err != nil {
		return nil, fmt.Errorf("Failed to create value converter: %w", err)
	}
	if t.headerConverter, err = NewHeaderConverter(s.headerConverter); err != nil {
		return nil, fmt.Errorf("Failed to create header converter: %w", err)
	}
	t.keyClass = className(s.keyConverter.Class)
	t.valueClass = className(s.valueConverter.Class)
	t.headerClass = className(s.headerConverter.Class)

	consumer, err := clientOpts(cfg.Worker, cfg.Worker.ConsumerProps, s.consumerOverrides)
	if err != nil {
		return nil, fmt.Errorf("invalid Kafka consumer settings (the worker's consumer.* and the connector's %s*): %w", ConsumerOverridePrefix, err)
	}
	t.consumerOpts = t.buildConsumerOpts(consumer)

	if s.dlqTopic != "" {
		producer, err := clientOpts(cfg.Worker, cfg.Worker.ProducerProps, s.producerOverrides)
		if err != nil {
			return nil, fmt.Errorf("invalid Kafka producer settings (the worker's producer.* and the connector's %s*): %w", ProducerOverridePrefix, err)
		}
		t.dlqOpts = []kgo.Opt{
			kgo.ClientID("connector-dlq-producer-" + t.id),
			kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
			kgo.WithLogger(kafkaprops.Logger(t.log.With("component", "kgo"))),
		}
		t.dlqOpts = append(t.dlqOpts, producer...)
	}
	t.tol = &tolerance{
		all: s.toleranceAll, retryTimeout: s.retryTimeout, retryMaxDelay: s.retryMaxDelay,
		taskID: t.id, logErrors: s.logErrors, includeMessage: s.logIncludeMessages, log: t.log,
	}
	return t, nil
}

func className(name string) string {
	if p, ok := lookupConverter(name); ok {
		return p.class
	}
	return name
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// buildConsumerOpts layers the consumer options as Java's Worker does: the sink defaults (start
// at the earliest offset, the task's client id), then the worker's client settings with the
// connector's consumer overrides on top (client), then what the runtime requires (the group,
// manual commits, the rebalance callbacks, the subscription).
func (t *SinkTask) buildConsumerOpts(client []kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(500 * time.Millisecond), // Java's fetch.max.wait.ms; kgo waits 5 s
		kgo.ClientID("connector-consumer-" + t.id),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.WithLogger(kafkaprops.Logger(t.log.With("component", "kgo"))),
	}
	opts = append(opts, client...)
	opts = append(opts,
		kgo.ConsumerGroup(t.settings.groupID),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(t.onAssigned),
		kgo.OnPartitionsRevoked(t.onRevoked),
		kgo.OnPartitionsLost(t.onLost),
	)
	if t.settings.topicsRegex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(t.settings.topicsRegex))
	} else {
		opts = append(opts, kgo.ConsumeTopics(t.settings.topics...))
	}
	return opts
}

// SetPaused applies the connector's target state (PAUSED ↔ STARTED) without leaving the group:
// fetching stops or resumes and the status becomes PAUSED or RUNNING. It is safe to call from
// any goroutine, before or during Run.
func (t *SinkTask) SetPaused(paused bool) {
	t.targetPaused.Store(paused)
	t.wakeup()
}

// wakeup makes the loop look at its requests: it cancels a poll in progress and ends a wait.
func (t *SinkTask) wakeup() {
	t.mu.Lock()
	t.woken = true
	if t.pollCancel != nil {
		t.pollCancel()
	}
	t.mu.Unlock()
	select {
	case t.wakeCh <- struct{}{}:
	default:
	}
}

// Run runs the task until ctx is cancelled or the task fails, then closes its partitions (final
// PreCommit + commit), calls sink.Task.Stop and closes the consumer. It reports
// Running/Paused/Failed/Shutdown through cfg.Status and returns the failure, if any. Run may be
// called once.
func (t *SinkTask) Run(ctx context.Context) error {
	if !t.started.CompareAndSwap(false, true) {
		return errors.New("sink task already ran")
	}
	// A task whose connector is PAUSED waits, without joining the group, until it is resumed.
	if t.targetPaused.Load() {
		t.status.Paused()
		for t.targetPaused.Load() {
			select {
			case <-ctx.Done():
				t.status.Shutdown()
				return nil
			case <-t.wakeCh:
			}
		}
		t.paused = false
	}

	inst := t.cfg.Plugin.NewTask()
	if ls, ok := inst.(sink.LoggerSetter); ok {
		ls.SetLogger(t.log.With("logger", "sink"))
	}
	t.task = guardedTask{Task: inst, log: t.log}
	err := t.start(ctx)
	switch {
	case err == nil:
		t.status.Running()
		t.loop(ctx)
		err = t.failure
	case ctx.Err() != nil:
		// Stopped while starting: whatever Start made of the cancelled context is no failure.
		t.log.Info("sink task stopped while starting", "error", err)
		err = nil
	}
	t.shutdown(ctx, err)
	if err != nil {
		t.status.Failed(Trace(err))
		return err
	}
	t.status.Shutdown()
	return nil
}

// start starts the plugin task, the dead letter queue and the consumer.
func (t *SinkTask) start(ctx context.Context) error {
	if err := t.task.Start(ctx, &taskContext{t: t}, t.cfg.TaskConfig); err != nil {
		return &connectError{msg: "Failed to start the sink task", cause: err}
	}
	if t.dlqOpts != nil {
		dlq, err := newDeadLetterQueue(ctx, t.dlqOpts, t.settings, t.cfg.Connector, t.cfg.Task, t.log)
		if err != nil {
			return err
		}
		t.dlq, t.tol.dlq = dlq, dlq
	}
	t.parts = map[sink.TopicPartition]*partitionState{}
	t.kgoPaused = map[sink.TopicPartition]bool{}
	t.warnedAt = map[string]time.Time{}
	t.mu.Lock()
	t.serving = true
	t.mu.Unlock()
	cl, err := kgo.NewClient(t.consumerOpts...)
	if err != nil {
		return &connectError{msg: "Failed to create the sink task's consumer", cause: err}
	}
	t.cl = cl
	t.maxPoll = kafkaprops.MaxPollRecords(cl)
	t.log.Info("sink task started", "group", t.settings.groupID, "topics", t.settings.topics, "topics.regex", t.settings.topicsRegex,
		"consumer_overrides", overrideKeys(ConsumerOverridePrefix, t.settings.consumerOverrides))
	return nil
}

// loop is the task's one goroutine: it serves rebalance requests and state changes, commits on
// schedule, polls, converts and delivers, until ctx is cancelled or the task fails.
func (t *SinkTask) loop(ctx context.Context) {
	nextCommit := time.Now().Add(t.flushInterval)
	for {
		t.serve(ctx)
		if t.failure != nil || ctx.Err() != nil {
			return
		}
		now := time.Now()
		if t.commitRequested.Swap(false) || !now.Before(nextCommit) {
			t.commitAll(ctx)
			nextCommit = time.Now().Add(t.flushInterval)
			continue
		}
		if t.pending != nil {
			// Waiting to redeliver needs no poll: franz-go heartbeats on its own goroutine, so
			// the member stays in the group, and every partition is paused anyway.
			if now.Before(t.redeliver) {
				t.wait(ctx, earliest(t.redeliver, nextCommit))
				continue
			}
			t.deliver(ctx, t.pending)
			continue
		}
		fetches := t.poll(ctx, nextCommit)
		t.handleFetches(ctx, fetches)
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// serve handles everything other goroutines asked for since the last look: rebalance callbacks,
// the target state, the task's pause and resume calls.
func (t *SinkTask) serve(ctx context.Context) {
	t.mu.Lock()
	t.woken = false
	reqs := t.rebalances
	t.rebalances = nil
	t.mu.Unlock()
	select {
	case <-t.wakeCh:
	default:
	}
	for _, r := range reqs {
		if t.failure == nil {
			t.handleRebalance(ctx, r)
			// Pauses the task asked for in Open take effect before franz-go fetches.
			t.applyPauseRequests()
			t.applyPauses()
		}
		close(r.done)
	}
	if t.failure != nil {
		return
	}
	if paused := t.targetPaused.Load(); paused != t.paused {
		t.paused = paused
		if paused {
			t.log.Info("pausing the sink task (connector target state PAUSED)")
			t.commitRequested.Store(true) // Java commits when pausing
			t.status.Paused()
		} else {
			t.log.Info("resuming the sink task")
			t.status.Running()
		}
	}
	t.applyPauseRequests()
	t.applyPauses()
}

// applyPauseRequests records the task's TaskContext.Pause and Resume calls.
func (t *SinkTask) applyPauseRequests() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for tp, pause := range t.pauseReqs {
		if st, ok := t.parts[tp]; ok {
			st.taskPaused = pause
		} else {
			t.log.Warn("ignoring pause/resume of a partition that is not assigned to the task", "partition", tp.String())
		}
	}
	clear(t.pauseReqs)
}

// applyPauses makes the consumer's paused partitions what the state asks for: every assigned
// partition while the connector is paused or a batch waits for redelivery, otherwise the ones
// the task paused.
func (t *SinkTask) applyPauses() {
	all := t.paused || t.pending != nil
	var pause, resume map[string][]int32
	for tp, st := range t.parts {
		want := all || st.taskPaused
		if want && !t.kgoPaused[tp] {
			pause = addTP(pause, tp)
			t.kgoPaused[tp] = true
		} else if !want && t.kgoPaused[tp] {
			resume = addTP(resume, tp)
			delete(t.kgoPaused, tp)
		}
	}
	for tp := range t.kgoPaused {
		if _, ok := t.parts[tp]; !ok { // no longer assigned: do not leave it paused in the client
			resume = addTP(resume, tp)
			delete(t.kgoPaused, tp)
		}
	}
	if len(pause) > 0 {
		t.cl.PauseFetchPartitions(pause)
	}
	if len(resume) > 0 {
		t.cl.ResumeFetchPartitions(resume)
	}
}

func addTP(m map[string][]int32, tp sink.TopicPartition) map[string][]int32 {
	if m == nil {
		m = map[string][]int32{}
	}
	m[tp.Topic] = append(m[tp.Topic], tp.Partition)
	return m
}

// wait blocks until a request arrives, the deadline passes or ctx is cancelled.
func (t *SinkTask) wait(ctx context.Context, deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-t.wakeCh:
	case <-timer.C:
	}
}

// poll fetches until records arrive, the deadline passes or a request wakes the loop.
func (t *SinkTask) poll(ctx context.Context, deadline time.Time) kgo.Fetches {
	pctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t.mu.Lock()
	if t.woken { // a request arrived after serve: handle it first
		t.mu.Unlock()
		return nil
	}
	t.pollCancel = cancel
	t.mu.Unlock()
	fetches := t.cl.PollRecords(pctx, t.maxPoll)
	t.mu.Lock()
	t.pollCancel = nil
	t.mu.Unlock()
	return fetches
}

// handleFetches reports consumer errors, converts the records and delivers them.
func (t *SinkTask) handleFetches(ctx context.Context, fetches kgo.Fetches) {
	fetches.EachError(func(topic string, partition int32, err error) {
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrClientClosed):
		case isFatalConsumerError(err):
			t.fail(&connectError{msg: fmt.Sprintf("Consuming %s-%d failed", topic, partition), cause: err})
		default:
			t.warnRateLimited(fmt.Sprintf("%s-%d: %v", topic, partition, err), "consumer error; the client retries",
				"topic", topic, "partition", partition, "error", err)
		}
	})
	if t.failure != nil {
		return
	}
	if fetches.NumRecords() == 0 {
		// Java calls put with an empty batch after every poll: tasks rely on it to report
		// failures found in the background and to do time-based work when no records arrive.
		t.deliver(ctx, &batch{})
		return
	}
	b := t.convert(ctx, fetches)
	if t.failure != nil {
		return
	}
	t.deliver(ctx, b)
}

// isFatalConsumerError reports errors retrying cannot fix (authentication, authorization).
func isFatalConsumerError(err error) bool {
	for _, e := range []error{kerr.SaslAuthenticationFailed, kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
		kerr.ClusterAuthorizationFailed, kerr.IllegalSaslState, kerr.UnsupportedSaslMechanism} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (t *SinkTask) warnRateLimited(key, msg string, args ...any) {
	if last, ok := t.warnedAt[key]; ok && time.Since(last) < 30*time.Second {
		t.log.Debug(msg, args...)
		return
	}
	t.warnedAt[key] = time.Now()
	t.log.Warn(msg, args...)
}

// convert turns the polled records into sink records; a failure that is not tolerated fails the
// task and nothing of this poll is delivered, as in Java.
func (t *SinkTask) convert(ctx context.Context, fetches kgo.Fetches) *batch {
	b := &batch{records: make([]sink.Record, 0, fetches.NumRecords()), next: map[sink.TopicPartition]int64{}}
	var p processing
	var used []string // topics with converted records, for the topic listener
	for _, f := range fetches {
		for ti := range f.Topics {
			ft := &f.Topics[ti]
			for pi := range ft.Partitions {
				fp := &ft.Partitions[pi]
				if len(fp.Records) == 0 {
					continue
				}
				tp := sink.TopicPartition{Topic: ft.Topic, Partition: fp.Partition}
				st, ok := t.parts[tp]
				if !ok {
					t.log.Debug("dropping records of a partition no longer assigned", "partition", tp.String())
					continue
				}
				if st.committed < 0 {
					st.committed = fp.Records[0].Offset // the position consumption started from
				}
				if st.consumed < 0 {
					st.consumed = fp.Records[0].Offset
				}
				converted := len(b.records)
				for _, r := range fp.Records {
					p = processing{rec: r}
					rec, err := t.convertRecord(ctx, &p)
					switch {
					case errors.Is(err, errSkip):
					case err != nil:
						t.fail(err)
						return nil
					default:
						b.records = append(b.records, rec)
					}
				}
				b.next[tp] = fp.Records[len(fp.Records)-1].Offset + 1
				if len(b.records) > converted && t.topics != nil && !slices.Contains(used, ft.Topic) {
					// Recorded as soon as a record of the topic converted, as Java does.
					used = append(used, ft.Topic)
					t.topics.TopicUsed(ft.Topic)
				}
			}
		}
	}
	return b
}

func (t *SinkTask) convertRecord(ctx context.Context, p *processing) (sink.Record, error) {
	r := p.rec
	rec := sink.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, TimestampType: timestampType(r)}
	if rec.TimestampType != sink.NoTimestampType {
		rec.Timestamp = r.Timestamp
	}
	var err error
	if rec.KeySchema, rec.Key, err = t.keyConverter.ToConnectData(r.Topic, r.Key); err != nil {
		if rec.KeySchema, rec.Key, err = t.retryConversion(ctx, p, StageKeyConverter, t.keyClass, t.keyConverter, r.Key, err); err != nil {
			return rec, err
		}
	}
	if rec.ValueSchema, rec.Value, err = t.valueConverter.ToConnectData(r.Topic, r.Value); err != nil {
		if rec.ValueSchema, rec.Value, err = t.retryConversion(ctx, p, StageValueConverter, t.valueClass, t.valueConverter, r.Value, err); err != nil {
			return rec, err
		}
	}
	if len(r.Headers) > 0 {
		rec.Headers, err = t.convertHeaders(ctx, p)
	}
	return rec, err
}

// retryConversion handles a failed key or value conversion under errors.tolerance and
// errors.retry.*; it is apart from convertRecord so the success path allocates no closure.
func (t *SinkTask) retryConversion(ctx context.Context, p *processing, stage Stage, class string, c Converter, data []byte, err error) (*sink.Schema, any, error) {
	var schema *sink.Schema
	var value any
	err = t.tol.failed(ctx, p, stage, class, err, func() (err error) {
		schema, value, err = c.ToConnectData(p.rec.Topic, data)
		return err
	})
	return schema, value, err
}

func (t *SinkTask) convertHeaders(ctx context.Context, p *processing) ([]sink.Header, error) {
	var hs []sink.Header
	convert := func() error {
		hs = make([]sink.Header, len(p.rec.Headers))
		for i, h := range p.rec.Headers {
			s, v, err := t.headerConverter.ToConnectHeader(p.rec.Topic, h.Key, h.Value)
			if err != nil {
				return err
			}
			hs[i] = sink.Header{Key: h.Key, Schema: s, Value: v}
		}
		return nil
	}
	if err := convert(); err != nil {
		return nil, t.tol.failed(ctx, p, StageHeaderConverter, t.headerClass, err, convert)
	}
	return hs, nil
}

// deliver passes a batch to Put. On success the batch's offsets become the consumed offsets;
// a retriable error keeps the batch for redelivery with every partition paused; any other error
// fails the task.
func (t *SinkTask) deliver(ctx context.Context, b *batch) {
	{
		records := b.records
		if t.pending != nil {
			records = slices.Clone(b.records) // each delivery gets its own slice
		}
		err := t.task.Put(ctx, records)
		if err != nil {
			if sink.IsRetriable(err) && ctx.Err() == nil {
				backoff := time.Duration(t.taskTimeout.Swap(0))
				if backoff <= 0 {
					backoff = defaultRedeliveryBackoff
				}
				t.log.Warn("RetriableException from sink task; redelivering the same records after a backoff",
					"records", len(b.records), "backoff", backoff, "error", err)
				wasPending := t.pending != nil
				t.pending, t.redeliver = b, time.Now().Add(backoff)
				if !wasPending {
					t.applyPauses()
				}
				return
			}
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return // stopping: the batch is not acknowledged and will be consumed again
			}
			t.fail(&connectError{msg: "Exiting WorkerSinkTask due to unrecoverable exception.", cause: err})
			return
		}
	}
	for tp, next := range b.next {
		if st, ok := t.parts[tp]; ok {
			st.consumed = next
		}
	}
	if t.pending != nil {
		t.pending = nil
		t.applyPauses()
	}
}

func (t *SinkTask) fail(err error) {
	if t.failure == nil {
		t.failure = err
		t.log.Error("sink task failed", "error", err)
	}
}

// shutdown closes the partitions (final PreCommit and commit unless the task failed in a way
// that makes offsets unsafe), stops the plugin task, stops taking rebalance requests and closes
// the clients.
func (t *SinkTask) shutdown(ctx context.Context, cause error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.shutdownTimeout)
	defer cancel()
	if t.cl != nil {
		// Rebalances queued while stopping are finished first, so Close and commits stay in order.
		t.serve(sctx)
		if parts := t.assigned(); len(parts) > 0 {
			if cause != nil && t.noCommit {
				t.closePartitions(sctx, parts, true)
			} else {
				t.closePartitions(sctx, parts, false)
			}
		}
	}
	if t.task != nil {
		if err := t.task.Stop(sctx); err != nil {
			t.log.Error("sink task Stop failed", "error", err)
		}
	}
	// From here on rebalance callbacks return at once: the partitions are closed already.
	t.mu.Lock()
	t.serving = false
	reqs := t.rebalances
	t.rebalances = nil
	t.mu.Unlock()
	for _, r := range reqs {
		close(r.done)
	}
	if t.cl != nil {
		t.cl.Close()
	}
	if t.dlq != nil {
		t.dlq.close()
	}
	t.log.Info("sink task stopped")
}

// assigned returns the assigned partitions, sorted.
func (t *SinkTask) assigned() []sink.TopicPartition {
	out := make([]sink.TopicPartition, 0, len(t.parts))
	for tp := range t.parts {
		out = append(out, tp)
	}
	sortTPs(out)
	return out
}

func sortTPs(tps []sink.TopicPartition) {
	slices.SortFunc(tps, func(a, b sink.TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
}

type nopStatus struct{}

func (nopStatus) Running()      {}
func (nopStatus) Paused()       {}
func (nopStatus) Failed(string) {}
func (nopStatus) Shutdown()     {}
