package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The REST golden test's connectors.
const (
	restTopic     = "events"
	restTable     = "Events"
	restConnector = "kusto-sink"
	restSecond    = "kusto-sink-2"
)

// restCall is one request of the golden sequence and the name of its golden file.
type restCall struct {
	name   string
	to     string // "leader" or "follower": the worker the request is sent to
	method string
	path   string
	header map[string]string // Content-Type defaults to application/json when there is a body
	body   string            // sent as is; "" sends none
	// before waits for the state the call's answer depends on (tasks running, ...).
	before func(r *restRun)
	// retryConflict repeats the call while the cluster answers 409 because a rebalance is under
	// way, as Connect clients do; only the final answer is compared.
	retryConflict bool
}

// TestRESTGolden sends the REST API's requests, valid and invalid, to a two-worker cluster
// running the eager protocol and compares the answers (status, Location, Content-Type, body)
// with testdata/rest/*.golden. Requests mostly go to the follower, which forwards writes to the
// leader. Worker ids, ports and paths are normalised; `go test -run TestRESTGolden -update`
// rewrites the files.
func TestRESTGolden(t *testing.T) {
	e := newTestEnv(t, batchingDelay)
	e.createTopic(t, restTopic, 2)
	e.kustoMgmt(t, ".create table "+restTable+" (key:string, phase:string, seq:long, amount:real, note:string)")
	protocol := map[string]string{"connect.protocol": "eager"}
	w1 := e.addWorker(t, "worker1", protocol)
	w2 := e.addWorker(t, "worker2", protocol)
	w1.start(t)
	w2.start(t)
	r := &restRun{t: t, e: e}
	r.waitForGroup()

	dir := filepath.Join("testdata", "rest")
	files := map[string]bool{}
	for i, c := range r.calls() {
		file := fmt.Sprintf("%02d-%s.golden", i+1, c.name)
		files[file] = true
		if c.before != nil {
			c.before(r)
		}
		// A differing answer does not stop the sequence: later calls depend on the cluster's
		// state, which the befores wait for, not on earlier answers.
		checkGolden(t, filepath.Join(dir, file), r.do(c))
	}
	// Files of calls that no longer exist (renamed, reordered) would go unnoticed.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if files[entry.Name()] {
			continue
		}
		if *update {
			if err := os.Remove(filepath.Join(dir, entry.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s belongs to no call; run with -update to remove it", filepath.Join(dir, entry.Name()))
	}
}

// restRun is the state of one golden sequence.
type restRun struct {
	t        *testing.T
	e        *testEnv
	leader   *worker
	follower *worker
	norm     *strings.Replacer // version, commit and scratch directory
	hosts    map[string]string // host:port of the workers and the emulator → placeholder
}

// hostPort matches the loopback addresses of the workers and the emulator.
var hostPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// normalize replaces what differs from run to run (addresses, the scratch directory, the
// version) with placeholders. Worker ids in status bodies all become {worker}: which worker runs
// what depends on member ids the coordinator chooses.
func (r *restRun) normalize(s string) string {
	s = workerIDField.ReplaceAllString(s, `"worker_id":"{worker}"`)
	s = hostPort.ReplaceAllStringFunc(s, func(hp string) string {
		if p, ok := r.hosts[hp]; ok {
			return p
		}
		return "{unknown-address}"
	})
	return r.norm.Replace(s)
}

// waitForStableGroup waits for both workers to be in a stable group and returns its leader.
func (r *restRun) waitForStableGroup() *worker {
	r.t.Helper()
	var leader *worker
	waitFor(r.t, 30*time.Second, "a stable worker group of two with a leader", func() (bool, string) {
		g, err := r.e.describeGroup("connect-cluster")
		if err != nil {
			return false, err.Error()
		}
		if g.State != "Stable" || len(g.Members) != 2 {
			return false, fmt.Sprintf("state %s, %d members", g.State, len(g.Members))
		}
		if leader, err = r.e.leader("connect-cluster"); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return leader
}

// waitForGroup waits for the group and learns who leads it and how to normalise answers.
func (r *restRun) waitForGroup() {
	r.t.Helper()
	r.leader = r.waitForStableGroup()
	for _, w := range r.e.workers {
		if w != r.leader {
			r.follower = w
		}
	}
	// The worker's version and commit depend on how the binary was built.
	var info struct{ Version, Commit string }
	code, body, err := httpDo(http.MethodGet, r.leader.url+"/", nil)
	if err != nil || code != http.StatusOK || json.Unmarshal([]byte(body), &info) != nil {
		r.t.Fatalf("GET /: %d %s %v", code, body, err)
	}
	r.norm = strings.NewReplacer(
		`"version":"`+info.Version+`"`, `"version":"{version}"`,
		`"commit":"`+info.Commit+`"`, `"commit":"{commit}"`,
		r.e.dir, "{dir}",
	)
	r.hosts = map[string]string{
		r.leader.id:   "{leader}",
		r.follower.id: "{follower}",
		strings.TrimPrefix(r.e.kusto.EngineURL(), "http://"): "{kusto}",
	}
	r.t.Logf("leader %s (%s), follower %s (%s)", r.leader.name, r.leader.id, r.follower.name, r.follower.id)
}

// waitRunning waits until the connector and its tasks run, each on one of the two workers.
func (r *restRun) waitRunning(connector string, tasks int) {
	r.t.Helper()
	waitForState(r.t, r.follower, connector, "RUNNING", tasks, 60*time.Second, r.onWorkers)
}

// onWorkers checks that every instance runs on a worker of this test.
func (r *restRun) onWorkers(st connectorStatus) bool {
	ids := map[string]bool{r.leader.id: true, r.follower.id: true}
	if !ids[st.Connector.WorkerID] {
		return false
	}
	for _, task := range st.Tasks {
		if !ids[task.WorkerID] {
			return false
		}
	}
	return true
}

// waitGone waits until neither worker knows the connector.
func (r *restRun) waitGone(connector string) {
	r.t.Helper()
	for _, w := range []*worker{r.leader, r.follower} {
		waitFor(r.t, 30*time.Second, connector+" gone on "+w.name, func() (bool, string) {
			code, body, err := httpDo(http.MethodGet, w.url+"/connectors/"+connector+"/status", nil)
			if err != nil {
				return false, err.Error()
			}
			return code == http.StatusNotFound, fmt.Sprintf("%d %s", code, body)
		})
	}
}

// connectorJSON is the connector's config as a JSON object, with tasks.max as a number and a
// boolean value, both of which the API stores as strings.
func (r *restRun) connectorJSON(flushMs int, tasks int) string {
	cfg := map[string]any{
		"connector.class":                "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector",
		"tasks.max":                      tasks,
		"topics":                         restTopic,
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": false,
		"kusto.ingestion.url":            r.e.kusto.EngineURL(),
		"kusto.query.url":                r.e.kusto.EngineURL(),
		"aad.auth.strategy":              "none",
		"kusto.tls.ca.file":              r.e.caFile,
		"kusto.tables.topics.mapping":    fmt.Sprintf("[{'topic': '%s', 'db': '%s', 'table': '%s', 'format': 'json'}]", restTopic, kustoDB, restTable),
		"flush.interval.ms":              flushMs,
		"tempdir.path":                   filepath.Join(r.e.dir, "spool"),
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(data)
}

// calls is the golden sequence. Its order matters: later calls see what earlier ones created.
func (r *restRun) calls() []restCall {
	const c = "/connectors/" + restConnector
	create := `{"name":"` + restConnector + `","config":` + r.connectorJSON(1000, 2) + `}`
	// Both workers' views: the leader plans restarts from its own.
	running := func(r *restRun) {
		for _, w := range []*worker{r.leader, r.follower} {
			waitForState(r.t, w, restConnector, "RUNNING", 2, 60*time.Second, r.onWorkers)
		}
	}
	// After a config update the tasks get new configs, which takes a rebalance: wait until both
	// workers show them and the group has settled.
	updated := func(r *restRun) {
		for _, w := range []*worker{r.leader, r.follower} {
			waitFor(r.t, 60*time.Second, "the updated task configs on "+w.name, func() (bool, string) {
				code, body, err := httpDo(http.MethodGet, w.url+c+"/tasks", nil)
				if err != nil {
					return false, err.Error()
				}
				return code == http.StatusOK && strings.Count(body, `"flush.interval.ms":"2000"`) == 2, fmt.Sprintf("%d %s", code, body)
			})
		}
		r.waitForGroup() // the leader may have changed: learn it again
		running(r)
	}
	paused := func(r *restRun) {
		for _, w := range []*worker{r.leader, r.follower} {
			waitForState(r.t, w, restConnector, "PAUSED", 2, 30*time.Second, r.onWorkers)
		}
	}
	return []restCall{
		{name: "server-info", to: "follower", method: "GET", path: "/"},
		{name: "list-empty", to: "follower", method: "GET", path: "/connectors"},
		{name: "plugins", to: "follower", method: "GET", path: "/connector-plugins"},
		{name: "plugins-all", to: "follower", method: "GET", path: "/connector-plugins?connectorsOnly=false"},
		{name: "plugins-trailing-slash", to: "follower", method: "GET", path: "/connector-plugins/"},

		// Creation, forwarded by the follower to the leader.
		{name: "create", to: "follower", method: "POST", path: "/connectors", body: create, retryConflict: true},
		{name: "create-existing", to: "follower", method: "POST", path: "/connectors", body: create, retryConflict: true},
		{name: "create-no-class", to: "follower", method: "POST", path: "/connectors",
			body: `{"name":"no-class","config":{"tasks.max":"1","topics":"events"}}`},
		{name: "create-unknown-class", to: "follower", method: "POST", path: "/connectors",
			body: `{"name":"unknown-class","config":{"connector.class":"com.example.NoSuchConnector","topics":"events"}}`},
		{name: "create-invalid-config", to: "follower", method: "POST", path: "/connectors",
			body: `{"name":"invalid","config":{"connector.class":"KustoSink","tasks.max":"two","topics":"events","flush.interval.ms":"soon"}}`},
		{name: "create-name-mismatch", to: "follower", method: "POST", path: "/connectors",
			body: `{"name":"one","config":{"name":"other","connector.class":"KustoSink","topics":"events"}}`},
		{name: "create-no-name", to: "follower", method: "POST", path: "/connectors",
			body: `{"config":{"connector.class":"KustoSink","topics":"events"}}`},
		{name: "create-null-value", to: "follower", method: "POST", path: "/connectors",
			body: `{"name":"nulls","config":` + strings.Replace(r.connectorJSON(1000, 1), "{", `{"custom.setting":null,`, 1) + `}`},
		{name: "create-unknown-field", to: "follower", method: "POST", path: "/connectors",
			body: `{"name":"extra","config":{"connector.class":"KustoSink"},"foo":1}`},
		{name: "create-nested-value", to: "follower", method: "POST", path: "/connectors",
			body: `{"name":"nested","config":{"connector.class":"KustoSink","topics":{"a":1}}}`},
		{name: "create-malformed-json", to: "follower", method: "POST", path: "/connectors", body: `{"name":`},
		{name: "create-form-content-type", to: "follower", method: "POST", path: "/connectors", body: create,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{name: "create-forward-false", to: "follower", method: "POST", path: "/connectors?forward=false",
			body: `{"name":"not-forwarded","config":` + r.connectorJSON(1000, 1) + `}`},

		// Reads, once the connector runs.
		{name: "get", to: "follower", method: "GET", path: c, before: running},
		{name: "get-trailing-slash", to: "follower", method: "GET", path: c + "/"},
		{name: "get-config", to: "follower", method: "GET", path: c + "/config"},
		{name: "get-status", to: "follower", method: "GET", path: c + "/status"},
		{name: "get-status-leader", to: "leader", method: "GET", path: c + "/status"},
		{name: "get-tasks", to: "follower", method: "GET", path: c + "/tasks"},
		{name: "get-task-status", to: "follower", method: "GET", path: c + "/tasks/1/status"},
		{name: "get-task-status-unknown", to: "follower", method: "GET", path: c + "/tasks/7/status"},
		{name: "get-task-status-not-a-number", to: "follower", method: "GET", path: c + "/tasks/x/status"},
		{name: "list", to: "follower", method: "GET", path: "/connectors"},
		{name: "list-expand-status", to: "follower", method: "GET", path: "/connectors?expand=status"},
		{name: "list-expand-info", to: "follower", method: "GET", path: "/connectors?expand=info"},
		{name: "list-expand-both", to: "follower", method: "GET", path: "/connectors?expand=status&expand=info"},
		{name: "list-expand-unknown", to: "follower", method: "GET", path: "/connectors?expand=nothing"},

		// Config updates: forwarded, with Content-Type parameters and GET's stray bodies
		// tolerated.
		{name: "put-config-update", to: "follower", method: "PUT", path: c + "/config", body: r.connectorJSON(2000, 2),
			header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}, retryConflict: true},
		{name: "get-config-updated", to: "follower", method: "GET", path: c + "/config", body: " ", before: updated,
			header: map[string]string{"Content-Type": "text/plain"}},
		{name: "put-config-name-mismatch", to: "follower", method: "PUT", path: c + "/config",
			body: `{"name":"other","connector.class":"KustoSink","topics":"events"}`},
		{name: "put-config-invalid", to: "follower", method: "PUT", path: c + "/config",
			body: `{"connector.class":"KustoSink","topics":"events","tasks.max":"0"}`},
		{name: "put-config-text-plain", to: "follower", method: "PUT", path: c + "/config", body: r.connectorJSON(2000, 2),
			header: map[string]string{"Content-Type": "text/plain"}},
		{name: "put-config-create", to: "follower", method: "PUT", path: "/connectors/" + restSecond + "/config/",
			body: r.connectorJSON(1000, 1), retryConflict: true},
		{name: "list-two", to: "leader", method: "GET", path: "/connectors", before: func(r *restRun) { r.waitRunning(restSecond, 1) }},

		// Pause and resume, sent to either worker (no forwarding needed), with a stray body.
		{name: "pause", to: "follower", method: "PUT", path: c + "/pause", body: " ", before: running,
			header: map[string]string{"Content-Type": "text/plain"}},
		{name: "get-status-paused", to: "follower", method: "GET", path: c + "/status", before: paused},
		{name: "pause-again", to: "leader", method: "PUT", path: c + "/pause"},
		{name: "resume", to: "leader", method: "PUT", path: c + "/resume/"},
		{name: "get-status-resumed", to: "follower", method: "GET", path: c + "/status", before: running},

		// Restarts: the connector's owner restarts it, whichever worker is asked. The leader
		// plans a restart with onlyFailed from the statuses it has read, so that one comes first,
		// while nothing is restarting: the RUNNING states after the resume above are settled ones.
		// The other answers do not depend on states still changing.
		{name: "restart-only-failed", to: "follower", method: "POST", path: c + "/restart?includeTasks=true&onlyFailed=true",
			retryConflict: true},
		{name: "restart-include-tasks", to: "follower", method: "POST", path: c + "/restart?includeTasks=true&onlyFailed=false",
			before: running, retryConflict: true},
		{name: "restart", to: "follower", method: "POST", path: c + "/restart", body: " ", before: running, retryConflict: true},
		{name: "restart-leader", to: "leader", method: "POST", path: c + "/restart", before: running, retryConflict: true},
		{name: "restart-task-0", to: "follower", method: "POST", path: c + "/tasks/0/restart", before: running, retryConflict: true},
		{name: "restart-task-1", to: "leader", method: "POST", path: c + "/tasks/1/restart", before: running, retryConflict: true},
		{name: "restart-task-unknown", to: "follower", method: "POST", path: c + "/tasks/7/restart", before: running},

		// Unknown connectors.
		{name: "unknown-get", to: "follower", method: "GET", path: "/connectors/nope"},
		{name: "unknown-get-config", to: "follower", method: "GET", path: "/connectors/nope/config"},
		{name: "unknown-put-config-invalid", to: "follower", method: "PUT", path: "/connectors/nope/config",
			body: `{"connector.class":"KustoSink"}`},
		{name: "unknown-status", to: "follower", method: "GET", path: "/connectors/nope/status"},
		{name: "unknown-tasks", to: "follower", method: "GET", path: "/connectors/nope/tasks"},
		{name: "unknown-task-status", to: "follower", method: "GET", path: "/connectors/nope/tasks/0/status"},
		{name: "unknown-pause", to: "follower", method: "PUT", path: "/connectors/nope/pause"},
		{name: "unknown-resume", to: "follower", method: "PUT", path: "/connectors/nope/resume"},
		{name: "unknown-restart", to: "follower", method: "POST", path: "/connectors/nope/restart"},
		{name: "unknown-restart-task", to: "follower", method: "POST", path: "/connectors/nope/tasks/0/restart"},
		{name: "unknown-delete", to: "follower", method: "DELETE", path: "/connectors/nope"},

		// Paths and methods the API does not have.
		{name: "no-such-path", to: "follower", method: "GET", path: "/no/such/path"},
		{name: "method-not-allowed", to: "follower", method: "DELETE", path: "/connectors"},
		{name: "method-not-allowed-status", to: "follower", method: "POST", path: c + "/status"},

		// Deletion: through the leader and through the follower.
		{name: "delete-second", to: "leader", method: "DELETE", path: "/connectors/" + restSecond, body: " ",
			header: map[string]string{"Content-Type": "text/plain"}, retryConflict: true},
		{name: "delete", to: "follower", method: "DELETE", path: c + "/", retryConflict: true},
		{name: "delete-again", to: "follower", method: "DELETE", path: c, before: func(r *restRun) {
			r.waitGone(restConnector)
			r.waitGone(restSecond)
		}},
		{name: "list-empty-after-delete", to: "follower", method: "GET", path: "/connectors"},
	}
}

// workerIDField matches worker ids in status bodies.
var workerIDField = regexp.MustCompile(`"worker_id":"[^"]*"`)

// do sends one call and returns its exchange as golden text.
func (r *restRun) do(c restCall) string {
	r.t.Helper()
	w := r.follower
	if c.to == "leader" {
		w = r.leader
	}
	header := http.Header{}
	for k, v := range c.header {
		header.Set(k, v)
	}
	var body any
	if c.body != "" {
		body = c.body
	}
	var (
		resp *http.Response
		data []byte
	)
	waitFor(r.t, 30*time.Second, c.method+" "+c.path, func() (bool, string) {
		var err error
		resp, data, err = httpExchange(c.method, w.url+c.path, header, body)
		if err != nil {
			return false, err.Error()
		}
		retry := c.retryConflict && resp.StatusCode == http.StatusConflict &&
			strings.Contains(string(data), "Cannot complete request")
		return !retry, string(data)
	})

	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s)\n", c.method, c.path, c.to)
	if ct := header.Get("Content-Type"); ct != "" {
		fmt.Fprintf(&b, "Content-Type: %s\n", ct)
	} else if c.body != "" {
		b.WriteString("Content-Type: application/json\n")
	}
	if c.body != "" {
		b.WriteString(indentJSON(r.normalize(c.body)) + "\n")
	}
	fmt.Fprintf(&b, "\nHTTP %d\n", resp.StatusCode)
	for _, h := range []string{"Location", "Content-Type"} {
		if v := resp.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, r.normalize(v))
		}
	}
	if len(data) > 0 {
		b.WriteString(indentJSON(r.normalize(string(data))) + "\n")
	}
	return b.String()
}

// indentJSON indents a JSON text, keeping its field order; anything else is returned as is.
func indentJSON(s string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

// checkGolden compares got with the golden file, or rewrites the file with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run with -update to create it); got:\n%s", err, got)
		return
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
