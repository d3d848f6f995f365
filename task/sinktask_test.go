package task

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/sink"
)

// ---- a recording test sink ----

type call struct {
	kind    string // start, open, put, precommit, close, stop
	parts   []sink.TopicPartition
	offsets []int64 // put: offsets of the records, in order
	current map[sink.TopicPartition]int64
}

// recorder is a sink.Task that records every call. Behaviour hooks run under no lock.
type recorder struct {
	mu      sync.Mutex
	calls   []call
	records []sink.Record
	tc      sink.TaskContext
	logger  *slog.Logger

	onOpen      func(tc sink.TaskContext, parts []sink.TopicPartition) error
	onPut       func(tc sink.TaskContext, records []sink.Record) error
	onPreCommit func(current map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error)
}

func (r *recorder) add(c call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// SetLogger records the logger the runtime hands the task (sink.LoggerSetter).
func (r *recorder) SetLogger(l *slog.Logger) {
	r.mu.Lock()
	r.logger = l
	r.mu.Unlock()
	r.add(call{kind: "logger"})
}

func (r *recorder) Start(_ context.Context, tc sink.TaskContext, _ map[string]string) error {
	r.mu.Lock()
	r.tc = tc
	r.mu.Unlock()
	r.add(call{kind: "start"})
	return nil
}

func (r *recorder) Open(_ context.Context, parts []sink.TopicPartition) error {
	r.add(call{kind: "open", parts: slices.Clone(parts)})
	if r.onOpen != nil {
		return r.onOpen(r.context(), parts)
	}
	return nil
}

func (r *recorder) Put(_ context.Context, records []sink.Record) error {
	offs := make([]int64, len(records))
	for i, rec := range records {
		offs[i] = rec.Offset
	}
	var err error
	if r.onPut != nil {
		err = r.onPut(r.context(), records)
	}
	r.mu.Lock()
	r.calls = append(r.calls, call{kind: "put", offsets: offs})
	if err == nil {
		r.records = append(r.records, records...)
	}
	r.mu.Unlock()
	return err
}

func (r *recorder) PreCommit(_ context.Context, current map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
	r.add(call{kind: "precommit", current: clone(current)})
	if r.onPreCommit != nil {
		return r.onPreCommit(clone(current))
	}
	return clone(current), nil
}

func (r *recorder) Close(_ context.Context, parts []sink.TopicPartition) error {
	r.add(call{kind: "close", parts: slices.Clone(parts)})
	return nil
}

func (r *recorder) Stop(context.Context) error {
	r.add(call{kind: "stop"})
	return nil
}

func (r *recorder) context() sink.TaskContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tc
}

func clone(m map[sink.TopicPartition]int64) map[sink.TopicPartition]int64 {
	out := make(map[sink.TopicPartition]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (r *recorder) snapshot() ([]call, []sink.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls), slices.Clone(r.records)
}

func (r *recorder) values() []string {
	_, recs := r.snapshot()
	out := make([]string, len(recs))
	for i, rec := range recs {
		out[i] = fmt.Sprint(rec.Value)
	}
	return out
}

// opened returns every partition passed to Open, in call order (a partition twice means it was
// reopened).
func (r *recorder) opened() []sink.TopicPartition {
	calls, _ := r.snapshot()
	var out []sink.TopicPartition
	for _, c := range calls {
		if c.kind == "open" {
			out = append(out, c.parts...)
		}
	}
	return out
}

func (r *recorder) closed() []sink.TopicPartition {
	calls, _ := r.snapshot()
	var out []sink.TopicPartition
	for _, c := range calls {
		if c.kind == "close" {
			out = append(out, c.parts...)
		}
	}
	return out
}

func (r *recorder) count(kind string) int {
	calls, _ := r.snapshot()
	n := 0
	for _, c := range calls {
		if c.kind == kind {
			n++
		}
	}
	return n
}

// ---- status ----

type statusRecorder struct {
	mu     sync.Mutex
	states []string
	trace  string
}

func (s *statusRecorder) set(st string) {
	s.mu.Lock()
	s.states = append(s.states, st)
	s.mu.Unlock()
}
func (s *statusRecorder) Running()  { s.set("RUNNING") }
func (s *statusRecorder) Paused()   { s.set("PAUSED") }
func (s *statusRecorder) Shutdown() { s.set("UNASSIGNED") }
func (s *statusRecorder) Failed(trace string) {
	s.mu.Lock()
	s.trace = trace
	s.mu.Unlock()
	s.set("FAILED")
}

func (s *statusRecorder) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.states) == 0 {
		return ""
	}
	return s.states[len(s.states)-1]
}

func (s *statusRecorder) history() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.states)
}

// ---- harness ----

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLog collects the task's logs and prints them when the test fails.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

type harness struct {
	t       *testing.T
	log     *slog.Logger
	cluster *kfake.Cluster
	addrs   []string
	prod    *kgo.Client
	adm     *kadm.Client
}

func newHarness(t *testing.T, opts ...kfake.Opt) *harness {
	t.Helper()
	logs := &testLog{}
	t.Cleanup(func() { // registered first, so it runs after every task and client stopped
		if t.Failed() {
			logs.mu.Lock()
			t.Log("task logs:\n" + logs.buf.String())
			logs.mu.Unlock()
		}
	})
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	h := &harness{t: t, cluster: c, addrs: c.ListenAddrs(),
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	h.prod, err = kgo.NewClient(kgo.SeedBrokers(h.addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	h.adm = kadm.NewClient(h.prod)
	return h
}

func (h *harness) createTopic(name string, partitions int32) {
	h.t.Helper()
	resp, err := h.adm.CreateTopic(context.Background(), partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) produce(recs ...*kgo.Record) {
	h.t.Helper()
	if err := h.prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

// produceN writes n records "<prefix>-<i>" round-robin over the partitions.
func (h *harness) produceN(topic string, partitions int32, prefix string, n int) {
	h.t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Partition: int32(i) % partitions,
			Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}
	}
	h.produce(recs...)
}

// committed returns the group's committed offsets.
func (h *harness) committed(group string) map[sink.TopicPartition]int64 {
	h.t.Helper()
	resp, err := h.adm.FetchOffsets(context.Background(), group)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[sink.TopicPartition]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			out[sink.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.At
		}
	})
	return out
}

func (h *harness) members(group string) []string {
	h.t.Helper()
	groups, err := h.adm.DescribeGroups(context.Background(), group)
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, m := range groups[group].Members {
		ids = append(ids, m.MemberID)
	}
	return ids
}

type runningTask struct {
	task   *SinkTask
	rec    *recorder
	status *statusRecorder
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // what Run returned
}

// wait waits for Run to return (without stopping the task) and returns its error.
func (r *runningTask) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// stop cancels the task and waits for Run to return.
func (r *runningTask) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

func (r *runningTask) trace() string {
	r.status.mu.Lock()
	defer r.status.mu.Unlock()
	return r.status.trace
}

func (h *harness) config(connector string, taskID int, props map[string]string, rec *recorder, st *statusRecorder) Config {
	cc := map[string]string{
		"connector.class": "test.RecordingSink",
		// Fast rebalances: a member learns of a rebalance at its next heartbeat.
		"consumer.override.heartbeat.interval.ms": "100",
		"consumer.override.session.timeout.ms":    "6000",
	}
	for k, v := range props {
		cc[k] = v
	}
	return Config{
		Connector:       connector,
		Task:            taskID,
		ConnectorConfig: cc,
		TaskConfig:      map[string]string{"task.class": "test.RecordingSinkTask"},
		Plugin: &sink.Plugin{Class: "test.RecordingSink", Type: sink.PluginTypeSink, Config: sink.NewConfigDef(),
			NewTask: func() sink.Task { return rec }},
		Worker: WorkerSettings{
			WorkerID:            "test:8083",
			GroupID:             "connect-cluster",
			ClientOpts:          []kgo.Opt{kgo.SeedBrokers(h.addrs...)},
			KeyConverter:        ConverterSpec{Class: StringConverterClass},
			ValueConverter:      ConverterSpec{Class: StringConverterClass},
			OffsetFlushInterval: time.Hour, // tests commit explicitly unless they set a shorter interval
			OffsetFlushTimeout:  5 * time.Second,
		},
		Status: st,
		Logger: h.log,
	}
}

func (h *harness) start(cfg Config, rec *recorder) *runningTask {
	h.t.Helper()
	var st *statusRecorder
	switch s := cfg.Status.(type) {
	case *statusRecorder:
		st = s
	case *topicRecorder:
		st = &s.statusRecorder
	}
	task, err := New(cfg)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rt := &runningTask{task: task, rec: rec, status: st, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rt.done)
		rt.err = task.Run(ctx)
	}()
	h.t.Cleanup(func() {
		cancel()
		<-rt.done
	})
	return rt
}

func (h *harness) run(connector string, taskID int, props map[string]string, rec *recorder) *runningTask {
	h.t.Helper()
	return h.start(h.config(connector, taskID, props, rec, &statusRecorder{}), rec)
}

// barrier returns after the task's loop served two commit requests made after the call began:
// at least one full loop iteration, including a poll, ran in between.
func barrier(t *testing.T, rec *recorder) {
	t.Helper()
	for range 2 {
		n := rec.count("precommit")
		rec.context().RequestCommit()
		eventually(t, "the barrier commit", func() bool { return rec.count("precommit") > n })
	}
}

func tp(topic string, p int32) sink.TopicPartition {
	return sink.TopicPartition{Topic: topic, Partition: p}
}

// ---- tests ----

func TestDeliversInOrderAndCommitsOnlyPreCommitAnswer(t *testing.T) {
	h := newHarness(t)
	h.createTopic("orders", 4)
	commits := 0
	var commitsMu sync.Mutex
	h.cluster.ControlKey(kmsg.OffsetCommit.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		commitsMu.Lock()
		commits++
		commitsMu.Unlock()
		return nil, nil, false
	})
	countCommits := func() int {
		commitsMu.Lock()
		defer commitsMu.Unlock()
		return commits
	}

	rec := &recorder{}
	var answer atomic.Value // map[sink.TopicPartition]int64
	rec.onPreCommit = func(current map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
		a, _ := answer.Load().(map[sink.TopicPartition]int64)
		return a, nil
	}
	rt := h.run("in-order", 0, map[string]string{"topics": "orders"}, rec)

	h.produceN("orders", 4, "v", 200)
	eventually(t, "200 records", func() bool { return len(rec.values()) == 200 })

	// Per partition, offsets are delivered in order with no gap or repeat.
	_, recs := rec.snapshot()
	next := map[sink.TopicPartition]int64{}
	for _, r := range recs {
		if r.Offset != next[r.TopicPartition()] {
			t.Fatalf("%s: got offset %d, want %d", r.TopicPartition(), r.Offset, next[r.TopicPartition()])
		}
		next[r.TopicPartition()]++
		if r.KeySchema != sink.OptionalStringSchema || r.TimestampType != sink.CreateTime || r.Timestamp.IsZero() {
			t.Fatalf("record %s/%d: key schema %v, timestamp %v %v", r.TopicPartition(), r.Offset, r.KeySchema, r.TimestampType, r.Timestamp)
		}
	}

	// The task answers less than it consumed, plus offsets it may not commit: one beyond what
	// was consumed and one for a partition it does not own.
	answer.Store(map[sink.TopicPartition]int64{
		tp("orders", 0): 10, tp("orders", 1): 20, tp("orders", 2): 999, tp("elsewhere", 0): 5,
	})
	rec.context().RequestCommit()
	want := map[sink.TopicPartition]int64{tp("orders", 0): 10, tp("orders", 1): 20}
	eventually(t, "the commit", func() bool { return fmt.Sprint(h.committed("connect-in-order")) == fmt.Sprint(want) })
	if got := h.committed("connect-in-order"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("committed %v, want exactly %v", got, want)
	}

	// PreCommit received the consumed offsets of every assigned partition.
	calls, _ := rec.snapshot()
	var pc call
	for _, c := range calls {
		if c.kind == "precommit" {
			pc = c
		}
	}
	for p := int32(0); p < 4; p++ {
		if pc.current[tp("orders", p)] != 50 {
			t.Errorf("PreCommit current[%d] = %d, want 50", p, pc.current[tp("orders", p)])
		}
	}

	// Unchanged offsets are not committed again.
	before := countCommits()
	preCommits := rec.count("precommit")
	rec.context().RequestCommit()
	eventually(t, "a second PreCommit", func() bool { return rec.count("precommit") > preCommits })
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := countCommits(); got != before {
		t.Errorf("%d OffsetCommit requests after unchanged PreCommit answers, want 0", got-before)
	}
	if got := rt.status.history(); !slices.Equal(got, []string{"RUNNING", "UNASSIGNED"}) {
		t.Errorf("status history %v", got)
	}
}

func TestPeriodicCommitAndShutdownCommit(t *testing.T) {
	h := newHarness(t)
	h.createTopic("periodic", 2)
	rec := &recorder{}
	cfg := h.config("periodic", 0, map[string]string{"topics": "periodic"}, rec, &statusRecorder{})
	cfg.Worker.OffsetFlushInterval = 50 * time.Millisecond
	rt := h.start(cfg, rec)

	h.produceN("periodic", 2, "a", 10)
	want := map[sink.TopicPartition]int64{tp("periodic", 0): 5, tp("periodic", 1): 5}
	eventually(t, "a periodic commit", func() bool { return fmt.Sprint(h.committed("connect-periodic")) == fmt.Sprint(want) })

	// At shutdown the final PreCommit answer is committed, then the partitions are closed and
	// the task stopped.
	h.produceN("periodic", 2, "b", 4)
	eventually(t, "14 records", func() bool { return len(rec.values()) == 14 })
	rec.onPreCommit = func(current map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
		return map[sink.TopicPartition]int64{tp("periodic", 0): 6}, nil
	}
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
	want = map[sink.TopicPartition]int64{tp("periodic", 0): 6, tp("periodic", 1): 5}
	if got := h.committed("connect-periodic"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("committed %v, want %v", got, want)
	}
	calls, _ := rec.snapshot()
	var tail []string
	for _, c := range calls[len(calls)-3:] {
		tail = append(tail, c.kind)
	}
	if !slices.Equal(tail, []string{"precommit", "close", "stop"}) {
		t.Errorf("last calls %v, want precommit, close, stop", tail)
	}
	if members := h.members("connect-periodic"); len(members) != 0 {
		t.Errorf("the task left members behind: %v", members)
	}
}

func TestRebalanceMovesOnlyRevokedPartitions(t *testing.T) {
	h := newHarness(t)
	h.createTopic("moving", 4)
	recA, recB := &recorder{}, &recorder{}
	props := map[string]string{"topics": "moving"}
	a := h.run("mover", 0, props, recA)
	h.produceN("moving", 4, "first", 40)
	eventually(t, "task 0 consumes everything", func() bool { return len(recA.values()) == 40 })
	if got := recA.opened(); len(got) != 4 {
		t.Fatalf("task 0 opened %v, want all 4 partitions once", got)
	}

	b := h.run("mover", 1, props, recB)
	eventually(t, "task 1 gets partitions", func() bool { return len(recB.opened()) > 0 && len(recA.closed()) > 0 })
	eventually(t, "the assignment settles", func() bool {
		return len(recA.opened())-len(recA.closed())+len(recB.opened())-len(recB.closed()) == 4 &&
			len(h.members("connect-mover")) == 2
	})

	closedA, openedB := recA.closed(), recB.opened()
	sortTPs(closedA)
	sortTPs(openedB)
	if !slices.Equal(closedA, openedB) {
		t.Errorf("task 0 closed %v but task 1 opened %v", closedA, openedB)
	}
	if got := recA.opened(); len(got) != 4 {
		t.Errorf("task 0 reopened kept partitions: opened %v", got)
	}
	// Before Close, task 0 ran PreCommit, and what it answered for the revoked partitions was
	// committed: every record of them.
	calls, _ := recA.snapshot()
	var order []string
	for _, c := range calls {
		if c.kind == "precommit" || c.kind == "close" {
			order = append(order, c.kind)
		}
	}
	if !slices.Equal(order, []string{"precommit", "close"}) {
		t.Errorf("task 0 calls around revocation %v, want precommit then close", order)
	}
	committed := h.committed("connect-mover")
	for _, p := range closedA {
		if committed[p] != 10 {
			t.Errorf("revoked %s committed at %d, want 10", p, committed[p])
		}
	}

	// New records are split between the tasks, none delivered twice.
	h.produceN("moving", 4, "second", 40)
	eventually(t, "both tasks consume the second round", func() bool {
		return len(recA.values())+len(recB.values()) == 80
	})
	seen := map[string]bool{}
	for _, v := range append(recA.values(), recB.values()...) {
		if seen[v] {
			t.Errorf("%s delivered twice", v)
		}
		seen[v] = true
	}
	for _, v := range recB.values() {
		if strings.HasPrefix(v, "first-") {
			t.Errorf("task 1 received %s, which task 0 had committed", v)
		}
	}
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestPauseKeepsMembershipAndStopsDelivery(t *testing.T) {
	h := newHarness(t)
	h.createTopic("pausing", 2)
	rec := &recorder{}
	rt := h.run("pauser", 0, map[string]string{"topics": "pausing"}, rec)
	h.produceN("pausing", 2, "before", 10)
	eventually(t, "10 records", func() bool { return len(rec.values()) == 10 })
	members := h.members("connect-pauser")
	if len(members) != 1 {
		t.Fatalf("members %v", members)
	}

	rt.task.SetPaused(true)
	eventually(t, "PAUSED", func() bool { return rt.status.last() == "PAUSED" })
	// Pausing commits (as Java requests a commit on pause).
	eventually(t, "commit on pause", func() bool { return len(h.committed("connect-pauser")) == 2 })
	h.produceN("pausing", 2, "during", 10)
	// Had the partitions not been paused, the loop would have polled them by the barrier.
	barrier(t, rec)
	for _, v := range rec.values() {
		if strings.HasPrefix(v, "during-") {
			t.Fatalf("record %s delivered while paused", v)
		}
	}
	if got := h.members("connect-pauser"); !slices.Equal(got, members) {
		t.Fatalf("paused task left the group: members %v, before %v", got, members)
	}

	rt.task.SetPaused(false)
	eventually(t, "RUNNING", func() bool { return rt.status.last() == "RUNNING" })
	eventually(t, "records produced while paused", func() bool { return len(rec.values()) == 20 })
	if got := h.members("connect-pauser"); !slices.Equal(got, members) {
		t.Errorf("members after resume %v, before %v", got, members)
	}
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestStartPausedJoinsOnResume(t *testing.T) {
	h := newHarness(t)
	h.createTopic("later", 1)
	h.produceN("later", 1, "v", 3)
	rec := &recorder{}
	cfg := h.config("later", 0, map[string]string{"topics": "later"}, rec, &statusRecorder{})
	cfg.Paused = true
	rt := h.start(cfg, rec)
	eventually(t, "PAUSED", func() bool { return rt.status.last() == "PAUSED" })
	if rec.count("start") != 0 || len(h.members("connect-later")) != 0 {
		t.Fatal("a task started paused must not start or join before it is resumed")
	}
	rt.task.SetPaused(false)
	eventually(t, "records", func() bool { return len(rec.values()) == 3 })
	if got := rt.status.history(); !slices.Equal(got, []string{"PAUSED", "RUNNING"}) {
		t.Errorf("status history %v", got)
	}
}

func TestTaskRequestedPause(t *testing.T) {
	h := newHarness(t)
	h.createTopic("selective", 2)
	rec := &recorder{}
	rec.onOpen = func(tc sink.TaskContext, parts []sink.TopicPartition) error {
		tc.Pause(tp("selective", 0))
		return nil
	}
	rt := h.run("selective", 0, map[string]string{"topics": "selective"}, rec)
	h.produceN("selective", 2, "v", 10)
	eventually(t, "partition 1", func() bool { return len(rec.values()) == 5 })
	barrier(t, rec)
	_, recs := rec.snapshot()
	for _, r := range recs {
		if r.Partition == 0 {
			t.Fatalf("record of the paused partition delivered: offset %d", r.Offset)
		}
	}
	// The target state does not undo the task's own pause.
	rt.task.SetPaused(true)
	eventually(t, "PAUSED", func() bool { return rt.status.last() == "PAUSED" })
	rt.task.SetPaused(false)
	eventually(t, "RUNNING", func() bool { return rt.status.last() == "RUNNING" })
	barrier(t, rec)
	if len(rec.values()) != 5 {
		t.Fatal("resuming the connector resumed a partition the task paused")
	}
	if got := rec.context().Assignment(); len(got) != 2 {
		t.Errorf("Assignment() = %v", got)
	}
	rec.context().Resume(tp("selective", 0))
	eventually(t, "partition 0 after Resume", func() bool { return len(rec.values()) == 10 })
}

func TestLostPartitionsCloseWithoutCommit(t *testing.T) {
	h := newHarness(t, kfake.GroupMinSessionTimeout(100*time.Millisecond))
	h.createTopic("lossy", 2)
	rec := &recorder{}
	rt := h.run("lossy", 0, map[string]string{"topics": "lossy", "consumer.override.session.timeout.ms": "1000"}, rec)
	h.produceN("lossy", 2, "v", 6)
	eventually(t, "6 records", func() bool { return len(rec.values()) == 6 })

	// The coordinator forgets the member: franz-go reports the partitions lost.
	h.cluster.ControlKey(kmsg.Heartbeat.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp, nil, true
	})
	eventually(t, "lost partitions closed", func() bool { return len(rec.closed()) == 2 })
	calls, _ := rec.snapshot()
	for i, c := range calls {
		if c.kind == "close" && i > 0 && calls[i-1].kind == "precommit" {
			t.Errorf("PreCommit ran before closing lost partitions: %v", calls)
		}
	}
	if got := h.committed("connect-lossy"); len(got) != 0 {
		t.Errorf("committed %v for lost partitions", got)
	}
	// The member rejoins, the partitions are opened again and the records redelivered.
	eventually(t, "partitions reopened", func() bool { return len(rec.opened()) == 4 })
	eventually(t, "redelivery", func() bool { return len(rec.values()) == 12 })
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestRetriablePutRedeliversSameBatch(t *testing.T) {
	h := newHarness(t)
	h.createTopic("flaky", 1)
	rec := &recorder{}
	var attempts atomic.Int32
	rec.onPut = func(tc sink.TaskContext, records []sink.Record) error {
		if len(records) == 0 {
			return nil // the empty batches of polls that returned nothing
		}
		if attempts.Add(1) <= 3 {
			tc.Timeout(20 * time.Millisecond)
			return sink.Retriable(errors.New("ingestion service busy"))
		}
		return nil
	}
	h.produceN("flaky", 1, "v", 5) // before the task starts: one poll returns all five
	rt := h.run("flaky", 0, map[string]string{"topics": "flaky"}, rec)
	eventually(t, "a successful delivery", func() bool { return len(rec.values()) == 5 })
	members := h.members("connect-flaky")

	calls, _ := rec.snapshot()
	var puts [][]int64
	for _, c := range calls {
		if c.kind == "put" && len(c.offsets) > 0 {
			puts = append(puts, c.offsets)
		}
	}
	if len(puts) != 4 {
		t.Fatalf("puts %v, want 4 deliveries of one batch", puts)
	}
	for _, p := range puts[1:] {
		if !slices.Equal(p, puts[0]) {
			t.Errorf("redelivered %v, first delivery was %v", p, puts[0])
		}
	}
	// Consumption goes on after the redelivery succeeded, and the task never left the group.
	h.produceN("flaky", 1, "w", 1)
	eventually(t, "the next record", func() bool { return len(rec.values()) == 6 })
	if got := h.members("connect-flaky"); len(got) != 1 || !slices.Equal(got, members) {
		t.Errorf("members %v, before %v", got, members)
	}
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(rt.status.history(), "FAILED") {
		t.Error("a retriable error must not fail the task")
	}
}

func TestFatalPutFailsTask(t *testing.T) {
	h := newHarness(t)
	h.createTopic("fatal", 1)
	rec := &recorder{}
	rec.onPut = func(_ sink.TaskContext, records []sink.Record) error {
		if len(records) == 0 {
			return nil
		}
		return fmt.Errorf("writing to the table: %w", errors.New("schema mismatch"))
	}
	rt := h.run("fatal", 0, map[string]string{"topics": "fatal"}, rec)
	h.produceN("fatal", 1, "v", 3)
	if err := rt.wait(t); err == nil {
		t.Fatal("Run returned nil")
	}
	if rt.status.last() != "FAILED" {
		t.Fatalf("status %v", rt.status.history())
	}
	trace := rt.trace()
	want := "Exiting WorkerSinkTask due to unrecoverable exception.\nCaused by: writing to the table: schema mismatch"
	if trace != want {
		t.Errorf("trace %q, want %q", trace, want)
	}
	if rec.count("stop") != 1 || rec.count("close") != 1 {
		t.Errorf("a failed task must close its partitions and stop: %d close, %d stop", rec.count("close"), rec.count("stop"))
	}
	if got := h.committed("connect-fatal"); len(got) != 0 {
		t.Errorf("committed %v after a failed Put", got)
	}
}

// TestEmptyPutSurfacesBackgroundFailures: like Java's WorkerSinkTask, the runtime calls Put with
// an empty batch after a poll that returned nothing, so a task can report a failure it found in
// the background (an ingestion that failed for good) even when no records arrive.
func TestEmptyPutSurfacesBackgroundFailures(t *testing.T) {
	h := newHarness(t)
	h.createTopic("quiet", 1)
	rec := &recorder{}
	var failNow atomic.Bool
	rec.onPut = func(_ sink.TaskContext, records []sink.Record) error {
		if len(records) == 0 && failNow.Load() {
			return errors.New("uploading a file in the background failed for good")
		}
		return nil
	}
	cfg := h.config("quiet", 0, map[string]string{"topics": "quiet"}, rec, &statusRecorder{})
	cfg.Worker.OffsetFlushInterval = 200 * time.Millisecond // polls wait at most until the next commit
	rt := h.start(cfg, rec)
	h.produceN("quiet", 1, "v", 2)
	eventually(t, "the records", func() bool { return len(rec.values()) == 2 })
	failNow.Store(true) // no more records: only an empty Put can report this
	if err := rt.wait(t); err == nil {
		t.Fatal("Run returned nil")
	}
	if !strings.Contains(rt.trace(), "uploading a file in the background failed for good") {
		t.Errorf("trace %q", rt.trace())
	}
}

// TestPluginGetsTheWorkersLogger: a task that implements sink.LoggerSetter receives the runtime's
// logger, named logger=sink and carrying the runtime's attributes, before Start.
func TestPluginGetsTheWorkersLogger(t *testing.T) {
	h := newHarness(t)
	h.createTopic("logs", 1)
	rec := &recorder{}
	var buf syncBuffer
	cfg := h.config("logs", 3, map[string]string{"topics": "logs"}, rec, &statusRecorder{})
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil)).With("connector", "logs", "task", 3)
	rt := h.start(cfg, rec)
	eventually(t, "Start", func() bool { return rec.count("start") == 1 })
	calls, _ := rec.snapshot()
	if len(calls) < 2 || calls[0].kind != "logger" || calls[1].kind != "start" {
		t.Fatalf("calls %v: want SetLogger before Start", calls)
	}
	rec.mu.Lock()
	rec.logger.Info("hello from the plugin")
	rec.mu.Unlock()
	if out := buf.String(); !strings.Contains(out, "hello from the plugin") || !strings.Contains(out, "connector=logs task=3 logger=sink") {
		t.Errorf("plugin log line %q lacks the runtime's attributes", out)
	}
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestPanickingPutFailsTask(t *testing.T) {
	h := newHarness(t)
	h.createTopic("panics", 1)
	rec := &recorder{}
	rec.onPut = func(sink.TaskContext, []sink.Record) error { panic("index out of range") }
	rt := h.run("panics", 0, map[string]string{"topics": "panics"}, rec)
	h.produceN("panics", 1, "v", 1)
	if err := rt.wait(t); err == nil || rt.status.last() != "FAILED" {
		t.Fatalf("Run = %v, status %v", err, rt.status.history())
	}
	if want := "Caused by: sink task Put panicked: index out of range"; !strings.Contains(rt.trace(), want) {
		t.Errorf("trace %q, want it to contain %q", rt.trace(), want)
	}
}

func TestPreCommitErrorRewinds(t *testing.T) {
	h := newHarness(t)
	h.createTopic("rewind", 1)
	rec := &recorder{}
	var fails atomic.Bool
	fails.Store(true)
	rec.onPreCommit = func(current map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
		if fails.Load() {
			return nil, errors.New("flush failed")
		}
		return current, nil
	}
	rt := h.run("rewind", 0, map[string]string{"topics": "rewind"}, rec)
	h.produceN("rewind", 1, "v", 4)
	eventually(t, "4 records", func() bool { return len(rec.values()) == 4 })

	rec.context().RequestCommit() // fails: consumption rewinds to the start
	eventually(t, "redelivery from offset 0", func() bool { return len(rec.values()) == 8 })
	fails.Store(false)
	_, recs := rec.snapshot()
	for i, r := range recs {
		if r.Offset != int64(i%4) {
			t.Fatalf("delivery %d has offset %d, want %d", i, r.Offset, i%4)
		}
	}
	if got := h.committed("connect-rewind"); len(got) != 0 {
		t.Fatalf("committed %v after a failed PreCommit", got)
	}
	rec.context().RequestCommit()
	eventually(t, "the commit", func() bool { return h.committed("connect-rewind")[tp("rewind", 0)] == 4 })
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestPoisonRecordWithToleranceNoneFailsWithoutCommittingPastIt(t *testing.T) {
	h := newHarness(t)
	h.createTopic("poison", 1)
	rec := &recorder{}
	rt := h.run("poison", 0, map[string]string{"topics": "poison",
		"value.converter": JSONConverterClass, "value.converter.schemas.enable": "false"}, rec)
	h.produce(&kgo.Record{Topic: "poison", Value: []byte(`{"n":0}`)}, &kgo.Record{Topic: "poison", Value: []byte(`{"n":1}`)})
	eventually(t, "the valid records", func() bool { return len(rec.values()) == 2 })
	h.produce(&kgo.Record{Topic: "poison", Value: []byte(`{"n":`)}, &kgo.Record{Topic: "poison", Value: []byte(`{"n":3}`)})

	if err := rt.wait(t); err == nil || rt.status.last() != "FAILED" {
		t.Fatalf("Run = %v, status %v", err, rt.status.history())
	}
	trace := rt.trace()
	if !strings.HasPrefix(trace, "Tolerance exceeded in error handler\nCaused by: Converting byte[] to Kafka Connect data failed due to serialization error: ") {
		t.Errorf("trace %q", trace)
	}
	if got := h.committed("connect-poison")[tp("poison", 0)]; got != 2 {
		t.Errorf("committed %d, want 2 (the records before the poison record)", got)
	}
	if len(rec.values()) != 2 {
		t.Errorf("delivered %v", rec.values())
	}
}

func TestPoisonRecordWithToleranceAllGoesToDeadLetterQueue(t *testing.T) {
	h := newHarness(t)
	h.createTopic("mixed", 1)
	rec := &recorder{}
	rt := h.run("dlq", 3, map[string]string{"topics": "mixed",
		"value.converter": JSONConverterClass, "value.converter.schemas.enable": "false",
		"errors.tolerance": "all", "errors.log.enable": "true", "errors.log.include.messages": "true",
		"errors.deadletterqueue.topic.name": "mixed-dlq", "errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable": "true"}, rec)
	poisonTime := time.UnixMilli(1700000000123)
	h.produce(
		&kgo.Record{Topic: "mixed", Value: []byte(`{"n":0}`)},
		&kgo.Record{Topic: "mixed", Key: []byte("bad-key"), Value: []byte(`{"n":`), Timestamp: poisonTime,
			Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("test")}}},
		&kgo.Record{Topic: "mixed", Value: []byte(`{"n":2}`)},
	)
	eventually(t, "the valid records", func() bool { return len(rec.values()) == 2 })
	_, recs := rec.snapshot()
	if recs[0].Offset != 0 || recs[1].Offset != 2 {
		t.Errorf("delivered offsets %d, %d; want 0, 2", recs[0].Offset, recs[1].Offset)
	}
	if raw, ok := recs[1].Value.(sink.RawJSON); !ok || string(raw) != `{"n":2}` {
		t.Errorf("value %#v, want RawJSON", recs[1].Value)
	}
	rec.context().RequestCommit()
	eventually(t, "the commit past the skipped record", func() bool { return h.committed("connect-dlq")[tp("mixed", 0)] == 3 })

	cl, err := kgo.NewClient(kgo.SeedBrokers(h.addrs...), kgo.ConsumeTopics("mixed-dlq"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fetches := cl.PollFetches(ctx)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	dlq := fetches.Records()
	if len(dlq) != 1 {
		t.Fatalf("%d records in the dead letter queue", len(dlq))
	}
	r := dlq[0]
	if string(r.Key) != "bad-key" || string(r.Value) != `{"n":` || !r.Timestamp.Equal(poisonTime) {
		t.Errorf("DLQ record key %q value %q timestamp %v", r.Key, r.Value, r.Timestamp)
	}
	headers := map[string]string{}
	var keys []string
	for _, hd := range r.Headers {
		headers[hd.Key] = string(hd.Value)
		keys = append(keys, hd.Key)
	}
	if keys[0] != "origin" {
		t.Errorf("original headers must come first: %v", keys)
	}
	for k, want := range map[string]string{
		"origin": "test", HeaderTopic: "mixed", HeaderPartition: "0", HeaderOffset: "1",
		HeaderConnectorName: "dlq", HeaderTaskID: "3", HeaderStage: "VALUE_CONVERTER",
		HeaderExecutingClass: JSONConverterClass, HeaderExceptionClass: "org.apache.kafka.connect.errors.DataException",
	} {
		if headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, headers[k], want)
		}
	}
	if !strings.HasPrefix(headers[HeaderExceptionMessage], "Converting byte[] to Kafka Connect data failed due to serialization error: ") ||
		!strings.HasPrefix(headers[HeaderExceptionStacktrace], "org.apache.kafka.connect.errors.DataException: ") {
		t.Errorf("exception headers %q / %q", headers[HeaderExceptionMessage], headers[HeaderExceptionStacktrace])
	}
	if err := rt.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestTopicsRegexMatchesWholeNames(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"logs-a", "logs-b", "old-logs-a"} {
		h.createTopic(name, 1)
		h.produceN(name, 1, name, 2)
	}
	rec := &recorder{}
	h.run("regex", 0, map[string]string{"topics.regex": "logs-.*"}, rec)
	eventually(t, "both matching topics", func() bool { return len(rec.values()) == 4 })
	barrier(t, rec)
	for _, v := range rec.values() {
		if strings.HasPrefix(v, "old-") {
			t.Errorf("consumed %s from a topic the regex does not fully match", v)
		}
	}
}

func TestHeadersAndKeysAreConverted(t *testing.T) {
	h := newHarness(t)
	h.createTopic("hdr", 1)
	rec := &recorder{}
	h.run("hdr", 0, map[string]string{"topics": "hdr", "key.converter": "ByteArrayConverter"}, rec)
	h.produce(&kgo.Record{Topic: "hdr", Key: []byte{1, 2}, Value: []byte("v"),
		Headers: []kgo.RecordHeader{{Key: "n", Value: []byte("42")}, {Key: "s", Value: []byte("text")}, {Key: "nil"}}})
	eventually(t, "the record", func() bool { return len(rec.values()) == 1 })
	_, recs := rec.snapshot()
	r := recs[0]
	if k, ok := r.Key.([]byte); !ok || len(k) != 2 || r.KeySchema != sink.OptionalBytesSchema {
		t.Errorf("key %#v schema %v", r.Key, r.KeySchema)
	}
	if len(r.Headers) != 3 || r.Headers[0].Value != int8(42) || r.Headers[1].Value != "text" || r.Headers[2].Value != nil {
		t.Errorf("headers %+v", r.Headers)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	h := &harness{addrs: []string{"127.0.0.1:1"}, log: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"no topics", map[string]string{}, "Must configure one of topics or topics.regex"},
		{"both", map[string]string{"topics": "a", "topics.regex": "a.*"}, "topics and topics.regex are mutually exclusive options, but both are set."},
		{"dlq in topics", map[string]string{"topics": "a, b", "errors.deadletterqueue.topic.name": "b"},
			"The DLQ topic 'b' may not be included in the list of topics ('topics=[a, b]') consumed by the connector"},
		{"dlq matches regex", map[string]string{"topics.regex": "a.*", "errors.deadletterqueue.topic.name": "a-dlq"},
			"The DLQ topic 'a-dlq' may not be included in the regex matching the topics ('topics.regex=a.*') consumed by the connector"},
		{"lookahead", map[string]string{"topics.regex": "(?!internal).*"}, "Invalid value (?!internal).* for configuration topics.regex: Invalid regex:"},
		{"tolerance", map[string]string{"topics": "a", "errors.tolerance": "some"}, "Invalid value some for configuration errors.tolerance"},
		{"group conflict", map[string]string{"topics": "a", "consumer.override.group.id": "connect-cluster"},
			"Consumer group connect-cluster conflicts with Connect worker group connect-cluster"},
		{"unsupported SASL mechanism", map[string]string{"topics": "a", "consumer.override.security.protocol": "SASL_SSL",
			"consumer.override.sasl.mechanism": "GSSAPI"},
			"sasl.mechanism GSSAPI is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
		{"bad override", map[string]string{"topics": "a", "consumer.override.max.poll.records": "many"},
			"invalid Kafka consumer settings (the worker's consumer.* and the connector's consumer.override.*): Invalid value many for configuration max.poll.records: Not a number"},
		{"bad dead letter queue producer override", map[string]string{"topics": "a", "errors.deadletterqueue.topic.name": "dlq",
			"producer.override.acks": "most"},
			"invalid Kafka producer settings (the worker's producer.* and the connector's producer.override.*): Invalid value most for configuration acks"},
		{"unknown converter", map[string]string{"topics": "a", "value.converter": "io.confluent.connect.avro.AvroConverter"},
			"Invalid value io.confluent.connect.avro.AvroConverter for configuration value.converter: Class io.confluent.connect.avro.AvroConverter could not be found."},
		{"converter settings", map[string]string{"topics": "a", "value.converter": "JsonConverter", "value.converter.decimal.format": "HEX"},
			"Failed to create value converter: configuring org.apache.kafka.connect.json.JsonConverter: Invalid value HEX for configuration decimal.format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(h.config("c", 0, tc.props, &recorder{}, &statusRecorder{}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want %q", err, tc.want)
			}
		})
	}
	cfg := h.config("c", 0, map[string]string{"topics": "a"}, &recorder{}, &statusRecorder{})
	cfg.Worker.KeyConverter = ConverterSpec{}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), `Missing required configuration "key.converter" which has no default value.`) {
		t.Errorf("New without a key converter: %v", err)
	}
}

func TestConfigDefAndValidate(t *testing.T) {
	def := ConfigDef()
	if got := def.Groups(); !slices.Equal(got, []string{"Common", "Error Handling"}) {
		t.Errorf("groups %v", got)
	}
	for name, want := range map[string]string{
		"topics": "", "topics.regex": "", "errors.tolerance": "none", "errors.retry.timeout": "0",
		"errors.retry.delay.max.ms": "60000", "errors.deadletterqueue.topic.replication.factor": "3",
		"errors.log.enable": "false", "errors.deadletterqueue.context.headers.enable": "false",
	} {
		k, ok := def.Key(name)
		if !ok {
			t.Errorf("%s not defined", name)
			continue
		}
		if got := sink.Render(k.Type, k.Default); got == nil || *got != want {
			t.Errorf("%s default %v, want %q", name, got, want)
		}
	}
	if k, _ := def.Key("header.converter"); k.Default != nil {
		t.Errorf("header.converter must default to null (the worker's converter applies)")
	}
	props := map[string]string{"errors.deadletterqueue.topic.name": "x",
		"value.converter": JSONConverterClass, "value.converter.schemas.enable": "sometimes"}
	values := ValidateConfig(props, def.Validate(props))
	errs := map[string][]string{}
	for _, v := range values {
		errs[v.Name] = v.Errors
	}
	if !slices.Contains(errs["topics"], "Must configure one of topics or topics.regex") ||
		!slices.Contains(errs["topics.regex"], "Must configure one of topics or topics.regex") {
		t.Errorf("topics errors %v / %v", errs["topics"], errs["topics.regex"])
	}
	if got := errs["value.converter.schemas.enable"]; len(got) != 1 || !strings.Contains(got[0], "Expected value to be either true or false") {
		t.Errorf("converter setting errors %v", got)
	}
	if _, ok := errs["value.converter.decimal.format"]; !ok {
		t.Error("converter settings missing from the validation")
	}
}

// syncBuffer is a bytes.Buffer safe for a logger writing from the task's goroutine while the
// test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
