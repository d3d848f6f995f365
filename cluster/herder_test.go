package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
)

// The test sink plugin: a connector that hands out test.tasks (default tasks.max) task configs
// and tasks that accept every record. Counters let tests see restarts.
const (
	testSinkClass = "org.example.kconnect.TestSinkConnector"
	testTaskClass = "org.example.kconnect.TestSinkTask"
)

var testSinkStarts = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// connectorStarts counts successful starts of a connector ("name"), attempts to start it
// ("name#attempts") or starts of a task ("name-n").
func connectorStarts(name string) int {
	testSinkStarts.Lock()
	defer testSinkStarts.Unlock()
	return testSinkStarts.n[name]
}

type testSinkConnector struct {
	name   string
	config map[string]string
	log    *slog.Logger
}

// SetLogger receives the worker's logger (sink.LoggerSetter); Start counts starts that had one
// as "name#logger".
func (c *testSinkConnector) SetLogger(l *slog.Logger) { c.log = l }

func (c *testSinkConnector) Start(_ context.Context, _ sink.ConnectorContext, config map[string]string) error {
	testSinkStarts.Lock()
	testSinkStarts.n[config["name"]+"#attempts"]++
	if c.log != nil {
		testSinkStarts.n[config["name"]+"#logger"]++
	}
	testSinkStarts.Unlock()
	if config["test.fail.start"] == "true" {
		return errors.New("the test connector was told to fail")
	}
	c.name, c.config = config["name"], config
	testSinkStarts.Lock()
	testSinkStarts.n[c.name]++
	testSinkStarts.Unlock()
	return nil
}

func (c *testSinkConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	n := maxTasks
	if v, err := strconv.Atoi(c.config["test.tasks"]); err == nil {
		n = v
	}
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"task.number": strconv.Itoa(i), "test.connector": c.name, "test.setting": c.config["test.setting"],
			"test.fail.task": c.config["test.fail.task"], "test.fail.put": c.config["test.fail.put"]}
	}
	return out, nil
}

// Stop blocks while the connector's test.block.stop names a blocked gate (see blockStops).
func (c *testSinkConnector) Stop(context.Context) error {
	if gate := c.config["test.block.stop"]; gate != "" {
		stopGates.Lock()
		ch := stopGates.m[gate]
		stopGates.Unlock()
		if ch != nil {
			<-ch
		}
	}
	return nil
}

var stopGates = struct {
	sync.Mutex
	m map[string]chan struct{}
}{m: map[string]chan struct{}{}}

// blockStops makes Stop of connectors configured with test.block.stop=gate block until the
// returned release is called.
func blockStops(gate string) (release func()) {
	ch := make(chan struct{})
	stopGates.Lock()
	stopGates.m[gate] = ch
	stopGates.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// Validate implements sink.ConfigValidator: test.setting "invalid" is refused.
func (c *testSinkConnector) Validate(config map[string]string, values []sink.ConfigValue) []sink.ConfigValue {
	for i := range values {
		if values[i].Name == "test.setting" && config["test.setting"] == "invalid" {
			values[i].Errors = append(values[i].Errors, "test.setting may not be invalid")
		}
	}
	return values
}

// testSinkTask fails Start when its number is test.fail.task, and Put when test.fail.put is
// its number.
type testSinkTask struct{ failPut bool }

// Start counts starts and fails the task whose number is test.fail.task.
func (t *testSinkTask) Start(_ context.Context, _ sink.TaskContext, config map[string]string) error {
	t.failPut = config["test.fail.put"] != "" && config["test.fail.put"] == config["task.number"]
	testSinkStarts.Lock()
	testSinkStarts.n[config["test.connector"]+"-"+config["task.number"]]++
	testSinkStarts.Unlock()
	if config["test.fail.task"] != "" && config["test.fail.task"] == config["task.number"] {
		return errors.New("the test task was told to fail")
	}
	return nil
}
func (testSinkTask) Open(context.Context, []sink.TopicPartition) error { return nil }
func (t *testSinkTask) Put(context.Context, []sink.Record) error {
	if t.failPut {
		return errors.New("the test task was told to fail in put")
	}
	return nil
}
func (testSinkTask) PreCommit(_ context.Context, cur map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
	return cur, nil
}
func (testSinkTask) Close(context.Context, []sink.TopicPartition) error { return nil }
func (testSinkTask) Stop(context.Context) error                         { return nil }

func testRegistry(t *testing.T) *sink.Registry {
	t.Helper()
	def := sink.NewConfigDef().
		Define(sink.ConfigKey{Name: "test.setting", Type: sink.TypeString, Default: "", Group: "Test", Doc: "A setting."}).
		Define(sink.ConfigKey{Name: "test.tasks", Type: sink.TypeInt, Default: nil, Group: "Test", Doc: "How many tasks to generate."})
	reg, err := sink.NewRegistry(&sink.Plugin{
		Class: testSinkClass, TaskClass: testTaskClass, Version: "1.0.0", Type: sink.PluginTypeSink, Config: def,
		NewConnector: func() sink.Connector { return &testSinkConnector{} },
		NewTask:      func() sink.Task { return &testSinkTask{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// testCluster is several herders in one process against one kfake broker (Nomad's TestServer
// pattern). Each worker serves the internal endpoint POST /connectors/{c}/tasks, forwarding to
// the worker a RedirectError names, as the REST layer does.
type testCluster struct {
	t      *testing.T
	kafka  *kfake.Cluster
	reg    *sink.Registry
	props  map[string]string
	mu     sync.Mutex
	byURL  map[string]*testWorker
	client *http.Client
}

type testWorker struct {
	h      *Herder
	srv    *http.Server
	cancel context.CancelFunc
	done   chan error
}

func newTestCluster(t *testing.T, extra ...string) *testCluster {
	t.Helper()
	kafka := newFakeKafka(t)
	props := with(minimalWorker(),
		"bootstrap.servers", strings.Join(kafka.ListenAddrs(), ","),
		"group.id", "kconnect-test",
		"config.storage.replication.factor", "1",
		"offset.storage.replication.factor", "1",
		"offset.storage.partitions", "2",
		"status.storage.replication.factor", "1",
		"session.timeout.ms", "1500",
		"heartbeat.interval.ms", "100",
		"rebalance.timeout.ms", "5000",
		"task.shutdown.graceful.timeout.ms", "2000",
		"scheduled.rebalance.max.delay.ms", "0",
	)
	props = with(props, extra...)
	c := &testCluster{t: t, kafka: kafka, reg: testRegistry(t), props: props, byURL: map[string]*testWorker{}, client: &http.Client{Timeout: 10 * time.Second}}
	adm, err := kgo.NewClient(kgo.SeedBrokers(kafka.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(context.Background(), 4, 1, nil, "input"); err != nil {
		t.Fatal(err)
	}
	return c
}

func testLogger() *slog.Logger {
	if os.Getenv("KCONNECT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start starts a worker and waits until it completed its first rebalance.
func (c *testCluster) start() *testWorker {
	c.t.Helper()
	w := c.launch()
	w.waitReady(c.t)
	return w
}

func (w *testWorker) waitReady(t *testing.T) {
	t.Helper()
	select {
	case <-w.h.Ready():
	case err := <-w.done:
		w.done <- err
		t.Fatalf("worker stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready after 30 s")
	}
}

// launch starts a worker with extra properties, without waiting for it.
func (c *testCluster) launch(kv ...string) *testWorker {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	props := with(with(c.props, kv...), "listeners", "http://"+ln.Addr().String())
	cfg, err := ParseWorkerConfig(props)
	if err != nil {
		c.t.Fatal(err)
	}
	h, err := New(cfg, c.reg, WithLogger(testLogger()), WithVersion("test", "abc"))
	if err != nil {
		c.t.Fatal(err)
	}
	w := &testWorker{h: h, done: make(chan error, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connectors/{c}/tasks", func(rw http.ResponseWriter, r *http.Request) { c.serveTaskConfigs(h, rw, r) })
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = w.srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- h.Run(ctx) }()
	c.mu.Lock()
	c.byURL[h.URL()] = w
	c.mu.Unlock()
	c.t.Cleanup(w.stop)
	return w
}

func (w *testWorker) stop() {
	w.cancel()
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		panic("herder did not stop within 30 s")
	}
	w.done <- nil // later stops return at once
	_ = w.srv.Close()
}

func (c *testCluster) serveTaskConfigs(h *Herder, rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var configs []map[string]string
	if err := json.Unmarshal(body, &configs); err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	err := h.PutTaskConfigs(r.Context(), r.PathValue("c"), configs, body, r.Header.Get("X-Connect-Authorization"), r.Header.Get("X-Connect-Request-Signature-Algorithm"))
	var redirect *RedirectError
	if errors.As(err, &redirect) && redirect.TargetURL != "" && r.URL.Query().Get("forward") != "false" {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, strings.TrimSuffix(redirect.TargetURL, "/")+r.URL.Path+"?forward=false", bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, ferr := c.client.Do(req)
		if ferr != nil {
			http.Error(rw, ferr.Error(), http.StatusInternalServerError)
			return
		}
		defer resp.Body.Close()
		rw.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(rw, resp.Body)
		return
	}
	status := http.StatusNoContent
	var herr *Error
	switch {
	case err == nil:
	case errors.As(err, &herr):
		status = map[Kind]int{KindNotFound: 404, KindBadRequest: 400, KindConflict: 409, KindForbidden: 403, KindUnavailable: 503}[herr.Kind]
		if status == 0 {
			status = 500
		}
	default:
		status = http.StatusConflict
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	if err != nil {
		_ = json.NewEncoder(rw).Encode(map[string]any{"error_code": status, "message": err.Error()})
	}
}

// worker returns the running worker with the advertised URL.
func (c *testCluster) worker(url string) *testWorker {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byURL[url]
}

// do calls fn on h and follows redirects to the target worker, as the REST layer forwards.
func (c *testCluster) do(h *Herder, fn func(*Herder) error) error {
	c.t.Helper()
	for hop := 0; hop < 3; hop++ {
		err := fn(h)
		var redirect *RedirectError
		if !errors.As(err, &redirect) {
			return err
		}
		w := c.worker(redirect.TargetURL)
		if w == nil {
			return fmt.Errorf("redirected to unknown worker %q: %w", redirect.TargetURL, err)
		}
		h = w.h
	}
	return errors.New("too many redirects")
}

// doRetry is do, retried while the cluster is mid-rebalance (409, unknown leader), as real
// clients retry.
func (c *testCluster) doRetry(h *Herder, fn func(*Herder) error) error {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.do(h, fn)
		var herr *Error
		var redirect *RedirectError
		retry := errors.As(err, &herr) && (herr.Kind == KindConflict || herr.Kind == KindRebalanceNeeded) ||
			errors.As(err, &redirect) || err != nil && strings.Contains(err.Error(), "redirected to unknown worker")
		if !retry || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls cond until it returns nil or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %v: %v", what, timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func isLeader(h *Herder) bool {
	var leader bool
	_ = h.call(context.Background(), func(context.Context) error { leader = h.isLeader() && h.st.rebalanceResolved; return nil })
	return leader
}

func sinkConfig(name string, kv ...string) map[string]string {
	return with(map[string]string{"name": name, "connector.class": testSinkClass, "tasks.max": "2", "topics": "input"}, kv...)
}

// expectStatus waits until the connector's status has the given connector state and task
// states (by task number), and returns it.
func expectStatus(t *testing.T, h *Herder, name string, connector storage.State, tasks ...storage.State) ConnectorState {
	t.Helper()
	var st ConnectorState
	waitFor(t, 30*time.Second, "status of "+name, func() error {
		var err error
		st, err = h.ConnectorStatus(context.Background(), name)
		if err != nil {
			return err
		}
		if st.Connector.State != connector {
			return fmt.Errorf("connector %s", st.Connector.State)
		}
		if len(st.Tasks) != len(tasks) {
			return fmt.Errorf("%d tasks: %+v", len(st.Tasks), st.Tasks)
		}
		for i, s := range tasks {
			if st.Tasks[i].ID != i || st.Tasks[i].State != s {
				return fmt.Errorf("task %d: %+v", i, st.Tasks[i])
			}
		}
		return nil
	})
	return st
}

func TestClusterConnectorLifecycle(t *testing.T) {
	c := newTestCluster(t)
	w1 := c.start()
	w2 := c.start()
	ctx := context.Background()
	waitFor(t, 30*time.Second, "a single leader", func() error {
		if isLeader(w1.h) == isLeader(w2.h) {
			return errors.New("no single leader yet")
		}
		return nil
	})
	leader, follower := w1.h, w2.h
	if isLeader(w2.h) {
		leader, follower = w2.h, w1.h
	}

	// Created through the follower: it validates, then redirects to the leader.
	_, _, err := follower.PutConnectorConfig(ctx, "sink-a", sinkConfig("sink-a"), false, nil)
	var redirect *RedirectError
	if !errors.As(err, &redirect) || redirect.TargetURL != leader.URL() {
		t.Fatalf("create on the follower: %v, want a redirect to %s", err, leader.URL())
	}
	var created bool
	var info ConnectorInfo
	if err := c.doRetry(follower, func(h *Herder) error {
		var err error
		created, info, err = h.PutConnectorConfig(ctx, "sink-a", sinkConfig("sink-a"), false, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !created || info.Name != "sink-a" || info.Type != "sink" || info.Config["topics"] != "input" {
		t.Fatalf("create: created=%v info=%+v", created, info)
	}
	st := expectStatus(t, follower, "sink-a", storage.Running, storage.Running, storage.Running)
	if st.Type != "sink" {
		t.Errorf("status type %q", st.Type)
	}
	if st.Tasks[0].WorkerID == st.Tasks[1].WorkerID {
		t.Errorf("both tasks run on %s; want them spread over the two workers", st.Tasks[0].WorkerID)
	}

	// Task configs carry task.class and topics, as Java stores them.
	var tasks []TaskInfo
	waitFor(t, 10*time.Second, "task configs", func() error {
		var err error
		tasks, err = follower.TaskConfigs(ctx, "sink-a")
		if err == nil && len(tasks) != 2 {
			err = fmt.Errorf("%d task configs", len(tasks))
		}
		return err
	})
	if tasks[1].Config["task.class"] != testTaskClass || tasks[1].Config["topics"] != "input" || tasks[1].Config["task.number"] != "1" {
		t.Errorf("task config %+v", tasks[1].Config)
	}

	// Creating it again conflicts; an invalid config is refused with Java's message.
	err = c.doRetry(follower, func(h *Herder) error {
		_, _, err := h.PutConnectorConfig(ctx, "sink-a", sinkConfig("sink-a"), false, nil)
		return err
	})
	if herr := new(Error); !errors.As(err, &herr) || herr.Kind != KindAlreadyExists || herr.Message != "Connector sink-a already exists" {
		t.Errorf("second create: %v", err)
	}
	_, _, err = follower.PutConnectorConfig(ctx, "bad", sinkConfig("bad", "topics", "<unset>", "test.setting", "invalid"), false, nil)
	wantMsg := "Connector configuration is invalid and contains the following 3 error(s):\n" +
		"Must configure one of topics or topics.regex\nMust configure one of topics or topics.regex\n" +
		"test.setting may not be invalid\n" + msgValidateEndpoint
	if herr := new(Error); !errors.As(err, &herr) || herr.Kind != KindBadRequest || herr.Message != wantMsg {
		t.Errorf("invalid create: %v\nwant %q", err, wantMsg)
	}

	// Pause and resume may be written by any worker.
	if err := follower.PauseConnector(ctx, "sink-a"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, leader, "sink-a", storage.StatePaused, storage.StatePaused, storage.StatePaused)
	if err := follower.ResumeConnector(ctx, "sink-a"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, leader, "sink-a", storage.Running, storage.Running, storage.Running)
	if err := follower.PauseConnector(ctx, "missing"); err == nil || err.Error() != "Unknown connector missing" {
		t.Errorf("pause of a missing connector: %v", err)
	}

	// Restart the connector from whichever worker: the request reaches its owner.
	before := connectorStarts("sink-a")
	for _, h := range []*Herder{w1.h, w2.h} {
		if err := c.doRetry(h, func(h *Herder) error { _, err := h.RestartConnector(ctx, "sink-a", false, false); return err }); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "two connector restarts", func() error {
		if n := connectorStarts("sink-a") - before; n < 2 {
			return fmt.Errorf("%d restarts", n)
		}
		return nil
	})
	for _, h := range []*Herder{w1.h, w2.h} {
		if err := c.doRetry(h, func(h *Herder) error {
			return h.RestartTask(ctx, storage.ConnectorTaskID{Connector: "sink-a", Task: 1})
		}); err != nil {
			t.Fatal(err)
		}
	}
	err = c.doRetry(follower, func(h *Herder) error {
		return h.RestartTask(ctx, storage.ConnectorTaskID{Connector: "sink-a", Task: 7})
	})
	if err == nil || err.Error() != "Unknown task: sink-a-7" {
		t.Errorf("restart of an unknown task: %v", err)
	}

	// A restart with includeTasks goes through the leader and returns the plan.
	var plan *ConnectorState
	if err := c.doRetry(follower, func(h *Herder) error {
		var err error
		plan, err = h.RestartConnector(ctx, "sink-a", true, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if plan == nil || plan.Connector.State != storage.Restarting || len(plan.Tasks) != 2 || plan.Tasks[0].State != storage.Restarting {
		t.Fatalf("restart plan %+v", plan)
	}
	expectStatus(t, follower, "sink-a", storage.Running, storage.Running, storage.Running)
	if err := c.doRetry(follower, func(h *Herder) error { _, err := h.RestartConnector(ctx, "nope", true, true); return err }); err == nil || err.Error() != "Unknown connector: nope" {
		t.Errorf("restart of an unknown connector: %v", err)
	}

	// Stop: no tasks, connector STOPPED; resume brings the tasks back.
	if err := c.doRetry(follower, func(h *Herder) error { return h.StopConnector(ctx, "sink-a") }); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, follower, "sink-a", storage.StateStopped)
	waitFor(t, 10*time.Second, "no tasks after stop", func() error {
		info, err := follower.ConnectorInfo(ctx, "sink-a")
		if err == nil && len(info.Tasks) != 0 {
			err = fmt.Errorf("tasks %v", info.Tasks)
		}
		return err
	})
	if err := leader.ResumeConnector(ctx, "sink-a"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, follower, "sink-a", storage.Running, storage.Running, storage.Running)

	// A config change restarts the connector and regenerates its tasks.
	if err := c.doRetry(follower, func(h *Herder) error {
		_, _, err := h.PutConnectorConfig(ctx, "sink-a", sinkConfig("sink-a", "tasks.max", "3"), true, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, follower, "sink-a", storage.Running, storage.Running, storage.Running, storage.Running)

	// Delete: the config goes at once, the status after the next rebalance.
	if err := c.doRetry(follower, func(h *Herder) error { return h.DeleteConnector(ctx, "sink-a") }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "status gone after delete", func() error {
		if _, err := follower.ConnectorStatus(ctx, "sink-a"); err == nil {
			return errors.New("status still present")
		}
		return nil
	})
	if names, _ := follower.Connectors(ctx); len(names) != 0 {
		t.Errorf("connectors after delete: %v", names)
	}
	err = c.doRetry(follower, func(h *Herder) error { return h.DeleteConnector(ctx, "sink-a") })
	if err == nil || err.Error() != "Connector sink-a not found" {
		t.Errorf("second delete: %v", err)
	}
}

func TestClusterWorkMovesWhenAWorkerStops(t *testing.T) {
	for _, tc := range []struct{ name, protocol, delay string }{
		{"eager", "eager", "0"},
		{"sessioned", "sessioned", "0"},
		// The departed worker's work waits for the scheduled rebalance before it moves.
		{"sessioned with a scheduled rebalance", "sessioned", "1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t, "connect.protocol", tc.protocol, "scheduled.rebalance.max.delay.ms", tc.delay)
			w1 := c.start()
			w2 := c.start()
			ctx := context.Background()
			if err := c.doRetry(w1.h, func(h *Herder) error {
				_, _, err := h.PutConnectorConfig(ctx, "mover", sinkConfig("mover"), false, nil)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			st := expectStatus(t, w1.h, "mover", storage.Running, storage.Running, storage.Running)
			if st.Tasks[0].WorkerID == st.Tasks[1].WorkerID {
				t.Fatalf("tasks not spread: %+v", st.Tasks)
			}
			w2.stop()
			waitFor(t, 30*time.Second, "all work on the surviving worker", func() error {
				st, err := w1.h.ConnectorStatus(ctx, "mover")
				if err != nil {
					return err
				}
				if st.Connector.State != storage.Running || st.Connector.WorkerID != w1.h.WorkerID() {
					return fmt.Errorf("connector %+v", st.Connector)
				}
				for _, ts := range st.Tasks {
					if ts.State != storage.Running || ts.WorkerID != w1.h.WorkerID() {
						return fmt.Errorf("task %+v", ts)
					}
				}
				if len(st.Tasks) != 2 {
					return fmt.Errorf("%d tasks", len(st.Tasks))
				}
				return nil
			})
		})
	}
}

func TestClusterRecoversFromTopicsAfterRestart(t *testing.T) {
	c := newTestCluster(t)
	w1 := c.start()
	w2 := c.start()
	ctx := context.Background()
	for _, name := range []string{"first", "second"} {
		if err := c.doRetry(w1.h, func(h *Herder) error {
			_, _, err := h.PutConnectorConfig(ctx, name, sinkConfig(name), false, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	expectStatus(t, w1.h, "first", storage.Running, storage.Running, storage.Running)
	// Paused once its tasks exist: a connector paused earlier would have generated none.
	expectStatus(t, w1.h, "second", storage.Running, storage.Running, storage.Running)
	if err := w2.h.PauseConnector(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, w1.h, "second", storage.StatePaused, storage.StatePaused, storage.StatePaused)
	w1.stop()
	w2.stop()

	// New workers read everything back from the config and status topics.
	w3 := c.start()
	w4 := c.start()
	names, err := w4.h.Connectors(ctx)
	if err != nil || len(names) != 2 || names[0] != "first" || names[1] != "second" {
		t.Fatalf("connectors after restart: %v, %v", names, err)
	}
	expectStatus(t, w3.h, "first", storage.Running, storage.Running, storage.Running)
	expectStatus(t, w3.h, "second", storage.StatePaused, storage.StatePaused, storage.StatePaused)
	st, _ := w3.h.ConnectorStatus(ctx, "first")
	for _, ts := range append([]TaskState{{InstanceState: st.Connector}}, st.Tasks...) {
		if ts.WorkerID != w3.h.WorkerID() && ts.WorkerID != w4.h.WorkerID() {
			t.Errorf("status from a stopped worker: %+v", ts)
		}
	}
}
