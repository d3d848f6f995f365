// Package e2e holds end-to-end tests: real `kconnect distributed` processes against an
// in-process Kafka broker (kfake) and the Kusto emulator, driven only through the REST API,
// Kafka (kcat and an admin client) and Kusto queries.
//
// TestMain builds the binary once. Each test builds its own [testEnv]: a broker, an emulator
// and the worker processes, all stopped by the test's cleanup, which also prints the workers'
// and the emulator's output when the test failed.
//
// The tests need kcat on the PATH and are skipped with -short. KCONNECT_E2E_BIN=<path> tests a
// binary built elsewhere instead of this tree's; KCONNECT_E2E_LOGS=1 prints the workers' output
// even when the tests pass.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with what the workers answer")

// kconnectBin is the binary under test, built once by TestMain.
var kconnectBin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if testing.Short() {
		return m.Run() // every test skips itself
	}
	if _, err := exec.LookPath("kcat"); err != nil {
		fmt.Fprintln(os.Stderr, "the end-to-end tests need kcat (Debian package kcat); .ci/run installs it:", err)
		return 1
	}
	// KCONNECT_E2E_BIN runs the tests against a binary built elsewhere (a release build, or a
	// tree with a change under review) instead of building this tree's.
	if bin := os.Getenv("KCONNECT_E2E_BIN"); bin != "" {
		kconnectBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "kconnect-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating a build directory:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	kconnectBin = filepath.Join(dir, "kconnect")
	build := exec.Command("go", "build", "-o", kconnectBin, "github.com/kconnect/kconnect/cmd/kconnect")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kconnect:", err)
		return 1
	}
	return m.Run()
}

// kustoDB is the emulator database every test writes into.
const kustoDB = "e2e"

// Group timings of the workers and of their sink consumers: short, so a killed worker's work
// moves within seconds. kfake accepts session timeouts down to the broker minimum set in
// newTestEnv.
const (
	sessionTimeoutMs    = "3000"
	heartbeatIntervalMs = "500"
)

// testEnv is one test's world: a Kafka broker and a Kusto emulator in this process, and
// kconnect worker processes.
type testEnv struct {
	ctx       context.Context // ends with the test's deadline
	bootstrap string
	kafka     *kgo.Client
	admin     *kadm.Client
	kusto     *kustoemu.Emulator
	kustoLog  logBuffer
	caFile    string // the emulator's CA certificate, for kusto.tls.ca.file
	dir       string // scratch files (worker properties, kcat input, spool)
	workers   []*worker
}

// newTestEnv starts the broker and the emulator. Queued ingestions are batched for batching
// (Kusto's default is five minutes).
func newTestEnv(t *testing.T, batching time.Duration) *testEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: runs worker processes for tens of seconds")
	}
	e := &testEnv{ctx: context.Background(), dir: t.TempDir()}
	if d, ok := t.Deadline(); ok {
		ctx, cancel := context.WithDeadline(e.ctx, d)
		t.Cleanup(cancel)
		e.ctx = ctx
	}
	broker, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.ClusterID("kconnect-e2e"),
		// Internal topics are compacted; compact often, as a long-running broker would have.
		kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": "1000"}),
		kfake.GroupMinSessionTimeout(time.Second),
	)
	if err != nil {
		t.Fatalf("starting the Kafka broker: %v", err)
	}
	t.Cleanup(broker.Close)
	e.bootstrap = broker.ListenAddrs()[0]
	if e.kafka, err = kgo.NewClient(kgo.SeedBrokers(e.bootstrap)); err != nil {
		t.Fatalf("creating a Kafka client: %v", err)
	}
	t.Cleanup(e.kafka.Close)
	e.admin = kadm.NewClient(e.kafka)

	e.kusto, err = kustoemu.Start(kustoemu.Options{
		Databases: []string{kustoDB},
		Batching:  kustoemu.BatchingPolicy{MaxDelay: batching},
		Logger:    slog.New(slog.NewTextHandler(&e.kustoLog, nil)),
	})
	if err != nil {
		t.Fatalf("starting the Kusto emulator: %v", err)
	}
	t.Cleanup(func() { _ = e.kusto.Close() })
	e.caFile = filepath.Join(e.dir, "kusto-ca.pem")
	if err := os.WriteFile(e.caFile, e.kusto.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}

	// Registered last, so it runs first: workers stop before the broker and the emulator go.
	t.Cleanup(func() {
		for _, w := range e.workers {
			if err := w.stop(); err != nil {
				t.Error(err)
			}
		}
		if t.Failed() || os.Getenv("KCONNECT_E2E_LOGS") != "" {
			for _, w := range e.workers {
				t.Logf("output of %s (%s):\n%s", w.name, w.id, w.log.String())
			}
			t.Logf("output of the Kusto emulator:\n%s", e.kustoLog.String())
		}
	})
	return e
}

// createTopic creates a topic with the given partitions.
func (e *testEnv) createTopic(t testing.TB, name string, partitions int32) {
	t.Helper()
	resp, err := e.admin.CreateTopic(e.ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", name, err)
	}
}

// endOffsets returns the sum of the topic's end offsets: how many records it holds.
func (e *testEnv) endOffsets(t testing.TB, topic string) int64 {
	t.Helper()
	offs, err := e.admin.ListEndOffsets(e.ctx, topic)
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// describeGroup describes one consumer or worker group.
func (e *testEnv) describeGroup(group string) (kadm.DescribedGroup, error) {
	groups, err := e.admin.DescribeGroups(e.ctx, group)
	if err != nil {
		return kadm.DescribedGroup{}, err
	}
	g, ok := groups[group]
	if !ok {
		return kadm.DescribedGroup{}, fmt.Errorf("group %s not described", group)
	}
	return g, g.Err
}

// leader returns the worker that leads the worker group, as the assignments name it.
func (e *testEnv) leader(group string) (*worker, error) {
	g, err := e.describeGroup(group)
	if err != nil {
		return nil, err
	}
	for _, m := range g.Members {
		a, ok := m.Assigned.AsConnect()
		if !ok || a.LeaderURL == "" {
			continue
		}
		for _, w := range e.workers {
			if strings.TrimSuffix(a.LeaderURL, "/") == w.url {
				return w, nil
			}
		}
		return nil, fmt.Errorf("leader URL %s is no worker of this test", a.LeaderURL)
	}
	return nil, fmt.Errorf("group %s (state %s) has no assignment naming a leader", group, g.State)
}

// kustoMgmt runs a management command.
func (e *testEnv) kustoMgmt(t testing.TB, csl string) {
	t.Helper()
	if _, err := e.kusto.Mgmt(e.ctx, kustoDB, csl); err != nil {
		t.Fatalf("running %q: %v", csl, err)
	}
}

// kustoLong runs a query whose answer is one long (a count) and returns it.
func (e *testEnv) kustoLong(csl string) (int64, error) {
	res, err := e.kusto.Query(e.ctx, kustoDB, csl)
	if err != nil {
		return 0, fmt.Errorf("query %q: %w", csl, err)
	}
	if len(res) == 0 || len(res[0].Rows) != 1 || len(res[0].Rows[0]) != 1 {
		return 0, fmt.Errorf("query %q: want one value, got %+v", csl, res)
	}
	switch n := res[0].Rows[0][0].(type) {
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	}
	return 0, fmt.Errorf("query %q: want a long, got %T", csl, res[0].Rows[0][0])
}

// mustKustoLong is kustoLong failing the test on error.
func (e *testEnv) mustKustoLong(t testing.TB, csl string) int64 {
	t.Helper()
	n, err := e.kustoLong(csl)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// worker is one `kconnect distributed` process, started and restarted with the same properties.
type worker struct {
	name  string
	props string // path of its worker.properties
	port  int
	url   string // advertised REST URL without the trailing slash
	id    string // worker id as status responses show it

	log logBuffer // every incarnation's output

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exited
}

// addWorker writes a worker.properties (common settings, then extra) and returns the worker,
// not started.
func (e *testEnv) addWorker(t testing.TB, name string, extra map[string]string) *worker {
	t.Helper()
	port := freePort(t)
	w := &worker{name: name, port: port}
	w.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	w.id = fmt.Sprintf("127.0.0.1:%d", port)
	props := map[string]string{
		"bootstrap.servers":                 e.bootstrap,
		"group.id":                          "connect-cluster",
		"config.storage.topic":              "connect-configs",
		"offset.storage.topic":              "connect-offsets",
		"status.storage.topic":              "connect-status",
		"config.storage.replication.factor": "1",
		"offset.storage.replication.factor": "1",
		"status.storage.replication.factor": "1",
		"key.converter":                     "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                   "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable":    "false",
		"listeners":                         w.url,
		"rest.advertised.host.name":         "127.0.0.1",
		"rest.advertised.port":              fmt.Sprint(port),
		"offset.flush.interval.ms":          "1000",
		"session.timeout.ms":                sessionTimeoutMs,
		"heartbeat.interval.ms":             heartbeatIntervalMs,
		"scheduled.rebalance.max.delay.ms":  "0",
		"consumer.session.timeout.ms":       sessionTimeoutMs,
		"consumer.heartbeat.interval.ms":    heartbeatIntervalMs,
	}
	for k, v := range extra {
		props[k] = v
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# written by the end-to-end tests\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	w.props = filepath.Join(e.dir, name+".properties")
	if err := os.WriteFile(w.props, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e.workers = append(e.workers, w)
	return w
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuffer collects output written from several goroutines (exec's copying goroutine, the
// emulator's loggers).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start launches the process and waits until its REST API answers.
func (w *worker) start(t testing.TB) {
	t.Helper()
	w.mu.Lock()
	if w.cmd != nil {
		select {
		case <-w.done:
		default:
			w.mu.Unlock()
			t.Fatalf("%s is already running", w.name)
		}
	}
	fmt.Fprintf(&w.log, "----- %s: starting %s at %s\n", w.name, w.id, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(kconnectBin, "distributed", w.props)
	cmd.Stdout, cmd.Stderr = &w.log, &w.log
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		w.mu.Unlock()
		t.Fatalf("starting %s: %v", w.name, err)
	}
	done := make(chan struct{})
	go func() { // owned by the worker; ends when the process exits, which stop and kill wait for
		err := cmd.Wait()
		fmt.Fprintf(&w.log, "----- %s: exited (%v) at %s\n", w.name, err, time.Now().Format(time.RFC3339Nano))
		close(done)
	}()
	w.cmd, w.done = cmd, done
	w.mu.Unlock()
	waitFor(t, 60*time.Second, w.name+" REST API", func() (bool, string) {
		select {
		case <-done:
			t.Fatalf("%s exited while starting:\n%s", w.name, w.log.String())
		default:
		}
		status, body, err := httpDo(http.MethodGet, w.url+"/", nil)
		if err != nil {
			return false, err.Error()
		}
		return status == http.StatusOK, body
	})
}

// running reports whether the process is running.
func (w *worker) running() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return false
	}
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL, as a crash would, and waits for the process to be gone.
func (w *worker) kill() {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// stop sends SIGTERM and waits for the process to exit; after a grace period it kills the
// process and returns an error. Stopping a stopped worker does nothing.
func (w *worker) stop() error {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within 30s of SIGTERM; killed it", w.name)
	}
}

// exitCode returns the exit code of the last incarnation (-1 when killed by a signal).
func (w *worker) exitCode() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil || w.cmd.ProcessState == nil {
		return -1
	}
	return w.cmd.ProcessState.ExitCode()
}

// pollInterval is how often waitFor checks its condition.
const pollInterval = 200 * time.Millisecond

// waitFor polls cond until it holds or the timeout passes; what cond last said is reported on
// failure.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if err := poll(timeout, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// poll is waitFor returning an error, for use off the test goroutine.
func poll(timeout time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		ok, detail := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v; last: %s", timeout, detail)
		}
		<-tick.C
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// httpDo sends a request with an optional JSON body (a string is sent as is, anything else is
// marshalled) and returns the status and the body.
func httpDo(method, url string, body any) (int, string, error) {
	resp, data, err := httpExchange(method, url, nil, body)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(data), nil
}

// httpExchange sends a request with the given headers (Content-Type defaults to JSON when there
// is a body) and returns the response (body consumed) and its body.
func httpExchange(method, url string, header http.Header, body any) (*http.Response, []byte, error) {
	var r io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			r = strings.NewReader(b)
		default:
			data, err := json.Marshal(b)
			if err != nil {
				return nil, nil, err
			}
			r = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, r)
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// connectorStatus is the body of GET /connectors/{c}/status.
type connectorStatus struct {
	Name      string `json:"name"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"tasks"`
	Type string `json:"type"`
}

// status reads a connector's status from a worker.
func (w *worker) status(connector string) (connectorStatus, string, error) {
	var st connectorStatus
	code, body, err := httpDo(http.MethodGet, w.url+"/connectors/"+connector+"/status", nil)
	if err != nil {
		return st, "", err
	}
	if code != http.StatusOK {
		return st, body, fmt.Errorf("status %d: %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return st, body, fmt.Errorf("decoding %s: %w", body, err)
	}
	return st, body, nil
}

// waitForState polls w until the connector and exactly tasks tasks are in state, and check (if
// not nil) accepts the status. It fails the test at once when an instance is FAILED.
func waitForState(t testing.TB, w *worker, connector, state string, tasks int, timeout time.Duration, check func(connectorStatus) bool) connectorStatus {
	t.Helper()
	var last connectorStatus
	waitFor(t, timeout, fmt.Sprintf("%s %s with %d tasks (asking %s)", connector, state, tasks, w.name), func() (bool, string) {
		st, body, err := w.status(connector)
		if err != nil {
			return false, err.Error()
		}
		last = st
		if st.Connector.State == "FAILED" {
			t.Fatalf("connector %s failed: %s", connector, body)
		}
		if st.Connector.State != state || len(st.Tasks) != tasks {
			return false, body
		}
		for _, task := range st.Tasks {
			if task.State == "FAILED" {
				t.Fatalf("task %d of %s failed: %s", task.ID, connector, body)
			}
			if task.State != state {
				return false, body
			}
		}
		if check != nil && !check(st) {
			return false, body
		}
		return true, body
	})
	return last
}

// kcatProduce writes lines of "key<TAB>value" to a file and produces them to the topic with
// kcat, one record a line. It returns kcat's error and output.
func kcatProduce(bootstrap, topic, file string, lines []string) error {
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	cmd := exec.Command("kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-z", "lz4", "-l", file)
	cmd.SysProcAttr = childProcAttr()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kcat produce: %w\n%s", err, out)
	}
	return nil
}

// errStopped ends a background loop early.
var errStopped = errors.New("stopped")
