package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The request shapes real clients send, and the response shapes they decode
// (specs/clients-kfake-peers.md §2).

// TestPostmanCollection replays the ten requests of the Azure kusto-labs Postman collections in
// order, with their trailing slashes, their "Content-Type:  application/json" header (two
// spaces), their one-space bodies and their restart without a body.
func TestPostmanCollection(t *testing.T) {
	f := newEmptyFakeHerder()
	f.autoStatus = true
	w := startWorker(t, f, Options{})
	const ct = " application/json" // sent as "Content-Type:  application/json"
	create := `{
  "name": "KustoSinkConnectorCrimes",
  "config": {
    "connector.class": "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector",
    "topics": "crimes",
    "kusto.ingestion.url": "https://ingest-mycluster.eastus.kusto.windows.net",
    "kusto.query.url": "https://mycluster.eastus.kusto.windows.net",
    "aad.auth.authority": "72f988bf-0000-0000-0000-2d7cd011db47",
    "aad.auth.appid": "00000000-1111-2222-3333-444444444444",
    "aad.auth.appkey": "app-key",
    "kusto.tables.topics.mapping": "[{'topic': 'crimes','db': 'crimes_db', 'table': 'crimes','format': 'json', 'mapping':'crimes_mapping'}]",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    "tasks.max": "6",
    "tempdir.path": "/var/tmp/",
    "flush.size.bytes": "10485760",
    "flush.interval.ms": "15000",
    "behavior.on.error": "LOG"
  }
}`
	steps := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       string
		wantStatus int
	}{
		{"01 Show-Available-Connector-Plugins", http.MethodGet, "/connector-plugins", map[string]string{"Accept": "application/json", "Content-Type": ct}, "", http.StatusOK},
		{"02 Kusto-Connectors-Provisioned?", http.MethodGet, "/connectors/", map[string]string{"Accept": "application/json", "Content-Type": ct}, "", http.StatusOK},
		{"03 Provision-Kusto-Connector", http.MethodPost, "/connectors/", map[string]string{"Accept": "application/json", "Content-Type": ct}, create, http.StatusCreated},
		{"04 Show-Kusto-Connector-Conf", http.MethodGet, "/connectors/KustoSinkConnectorCrimes/config", map[string]string{"Content-Type": ct}, " ", http.StatusOK},
		{"05 Show-Kusto-Connector-Status", http.MethodGet, "/connectors/KustoSinkConnectorCrimes/status", map[string]string{"Content-Type": ct}, " ", http.StatusOK},
		{"06 Pause-Kusto-Connectors", http.MethodPut, "/connectors/KustoSinkConnectorCrimes/pause", map[string]string{"Content-Type": ct}, " ", http.StatusAccepted},
		{"07 Resume-Kusto-Connectors", http.MethodPut, "/connectors/KustoSinkConnectorCrimes/resume", nil, "", http.StatusAccepted},
		{"08 List-Kusto-Connectors-Tasks", http.MethodGet, "/connectors/KustoSinkConnectorCrimes/tasks", nil, "", http.StatusOK},
		{"09 Restart-Kusto-Connectors", http.MethodPost, "/connectors/KustoSinkConnectorCrimes/restart", map[string]string{"Content-Type": ct}, "", http.StatusNoContent},
		{"10 Delete-Kusto-Connectors", http.MethodDelete, "/connectors/KustoSinkConnectorCrimes/", map[string]string{"Content-Type": ct}, " ", http.StatusNoContent},
	}
	for _, s := range steps {
		res := do(t, s.method, w.http.URL+s.path, s.header, s.body)
		if res.status != s.wantStatus {
			t.Fatalf("%s: status %d, want %d; body %s", s.name, res.status, s.wantStatus, res.body)
		}
		if res.status != http.StatusNoContent && res.status != http.StatusAccepted && !json.Valid([]byte(res.body)) {
			t.Errorf("%s: body is not JSON: %q", s.name, res.body)
		}
	}
	want := []string{
		`PutConnectorConfig name="KustoSinkConnectorCrimes" replace=false`,
		`PauseConnector name="KustoSinkConnectorCrimes"`,
		`ResumeConnector name="KustoSinkConnectorCrimes"`,
		`RestartConnector name="KustoSinkConnectorCrimes" includeTasks=false onlyFailed=false`,
		`DeleteConnector name="KustoSinkConnectorCrimes"`,
	}
	calls := f.Calls()
	if len(calls) != len(want) {
		t.Fatalf("herder calls = %q", calls)
	}
	for i := range want {
		if !strings.HasPrefix(calls[i], want[i]) {
			t.Errorf("call %d = %q, want %q…", i, calls[i], want[i])
		}
	}
}

// The shapes the Go clients decode (cloudhut/connect-client, go-kafka/connect,
// ricardo-ch/go-kafka-connect): configs are map[string]string, so every value must be a string.
type (
	clientTaskID struct {
		Connector string `json:"connector"`
		Task      int    `json:"task"`
	}
	clientInfo struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
		Tasks  []clientTaskID    `json:"tasks"`
		Type   string            `json:"type"`
	}
	clientState struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	}
	clientTaskState struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	}
	clientStatus struct {
		Name      string            `json:"name"`
		Connector clientState       `json:"connector"`
		Tasks     []clientTaskState `json:"tasks"`
		Type      string            `json:"type"`
	}
	clientError struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
)

func TestGoClientShapes(t *testing.T) {
	f := newFakeHerder()
	w := startWorker(t, f, Options{})
	get := func(path string, into any) int {
		t.Helper()
		res := do(t, http.MethodGet, w.http.URL+path, map[string]string{"Content-Type": "application/json; charset=utf-8"}, "")
		if err := json.Unmarshal([]byte(res.body), into); err != nil {
			t.Fatalf("GET %s: decoding %s into %T: %v", path, res.body, into, err)
		}
		return res.status
	}

	// Create with numbers and booleans as the labs' JSON file does; Terraform then compares
	// the config it reads back with what it sent (values through fmt.Sprint) plus "name".
	desired := map[string]any{
		"connector.class": "KustoSink", "topics": "storm", "kusto.ingestion.url": "https://x",
		"tasks.max": 1, "flush.size.bytes": 10000, "errors.log.enable": true,
	}
	body, _ := json.Marshal(map[string]any{"name": "storm", "config": desired})
	if res := do(t, http.MethodPost, w.http.URL+"/connectors", map[string]string{"Content-Type": "application/json"}, string(body)); res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var cfg map[string]string
	if status := get("/connectors/storm/config", &cfg); status != http.StatusOK {
		t.Fatalf("GET config: %d", status)
	}
	if len(cfg) != len(desired)+1 || cfg["name"] != "storm" {
		t.Errorf("config = %v, want the submitted keys plus name", cfg)
	}
	for k, v := range desired {
		if cfg[k] != fmt.Sprint(v) {
			t.Errorf("config[%q] = %q, want %q (Terraform's IsUpToDate would loop)", k, cfg[k], fmt.Sprint(v))
		}
	}

	var info clientInfo
	get("/connectors/s1", &info)
	if info.Name != "s1" || info.Type != "sink" || len(info.Tasks) != 2 || info.Tasks[1] != (clientTaskID{"s1", 1}) || info.Config["tasks.max"] != "2" {
		t.Errorf("info = %+v", info)
	}

	var status clientStatus
	get("/connectors/s1/status", &status)
	if status.Connector.State != "RUNNING" || len(status.Tasks) != 2 || status.Tasks[1].State != "FAILED" || status.Tasks[1].Trace == "" {
		t.Errorf("status = %+v", status)
	}
	// ricardo-ch decodes the connector object as map[string]string and reads ["state"].
	var loose struct {
		Connector map[string]string `json:"connector"`
	}
	get("/connectors/s1/status", &loose)
	if loose.Connector["state"] != "RUNNING" {
		t.Errorf("connector map = %v", loose.Connector)
	}

	var expanded map[string]struct {
		Info   clientInfo   `json:"info"`
		Status clientStatus `json:"status"`
	}
	get("/connectors?expand=info&expand=status", &expanded)
	if e, ok := expanded["s1"]; !ok || e.Info.Config["connector.class"] == "" || e.Status.Name != "s1" {
		t.Errorf("expanded = %+v", expanded)
	}

	var tasks []struct {
		ID     clientTaskID      `json:"id"`
		Config map[string]string `json:"config"`
	}
	get("/connectors/s1/tasks", &tasks)
	if len(tasks) != 2 || tasks[0].ID != (clientTaskID{"s1", 0}) || tasks[0].Config["topics"] != "storms" {
		t.Errorf("tasks = %+v", tasks)
	}

	var topics map[string]struct {
		Topics []string `json:"topics"`
	}
	get("/connectors/s1/topics", &topics)
	if len(topics["s1"].Topics) != 2 {
		t.Errorf("topics = %+v", topics)
	}

	var plugins []struct {
		Class   string `json:"class"`
		Type    string `json:"type"`
		Version string `json:"version"`
	}
	get("/connector-plugins", &plugins)
	if len(plugins) != 2 || plugins[0].Class != kustoClass {
		t.Errorf("plugins = %+v", plugins)
	}

	var names []string
	get("/connectors", &names)
	if strings.Join(names, ",") != "fresh,s1,storm" {
		t.Errorf("names = %v", names)
	}

	// Every error, 404 and 405 included, is a JSON ErrorMessage (the Confluent CLI
	// pretty-prints every body as JSON).
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/connectors/nope", http.StatusNotFound},
		{http.MethodGet, "/no/such/path", http.StatusNotFound},
		{http.MethodPost, "/connectors/s1", http.StatusMethodNotAllowed},
	} {
		res := do(t, c.method, w.http.URL+c.path, nil, "")
		var e clientError
		if err := json.Unmarshal([]byte(res.body), &e); err != nil || res.status != c.status || e.ErrorCode != c.status || e.Message == "" {
			t.Errorf("%s %s: %d %s (%v)", c.method, c.path, res.status, res.body, err)
		}
	}
}
