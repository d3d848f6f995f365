package restclients

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	kc "github.com/ricardo-ch/go-kafka-connect/v3/lib/connectors"
)

// TestRicardoGoKafkaConnect drives ricardo-ch/go-kafka-connect, the client under the Terraform
// provider and its own deployment CLI, through a connector's life with its synchronous
// variants, which poll the worker until the change shows. Its config carries JSON numbers, as
// configs read from YAML or JSON files do. DeployConnector must converge: deploying the config
// the worker already has sends no write (a PUT would restart the connector).
func TestRicardoGoKafkaConnect(t *testing.T) {
	rec := startRecorder(t)
	f := newSinkFixture(t, "ricardo-sink", "ricardo-events", "RicardoEvents")
	c := kc.NewClient(rec.URL())
	defer func() { logRequests(t, "ricardo-ch/go-kafka-connect", rec.all()) }()

	config := toAny(f.config())
	config["tasks.max"] = f.partitions // a number: the worker keeps it as the string "2"
	config["flush.interval.ms"] = 1000
	want := withName(f.config(), f.name)
	req := kc.CreateConnectorRequest{ConnectorRequest: kc.ConnectorRequest{Name: f.name}, Config: config}

	all, err := c.GetAll()
	if err != nil || all.Code != http.StatusOK || slices.Contains(all.Connectors, f.name) {
		t.Fatalf("GetAll = %+v, %v; want 200 without %s", all, err, f.name)
	}
	created, err := c.CreateConnector(req, true)
	if err != nil {
		t.Fatalf("CreateConnector(sync): %v", err)
	}
	if created.Code != http.StatusCreated || created.Name != f.name {
		t.Errorf("CreateConnector = code %d name %q, want 201 and %s", created.Code, created.Name, f.name)
	}
	if d := equalConfig(created.Config, want); d != "" {
		t.Errorf("CreateConnector config: %s", d)
	}
	eventually(t, settleTimeout, "GetConnector lists 2 tasks", func() (bool, string) {
		got, err := c.GetConnector(kc.ConnectorRequest{Name: f.name})
		if err != nil {
			return false, err.Error()
		}
		if got.Code != http.StatusOK || got.Name != f.name {
			t.Fatalf("GetConnector = code %d name %q", got.Code, got.Name)
		}
		if d := equalConfig(got.Config, want); d != "" {
			t.Fatalf("GetConnector config: %s", d)
		}
		return slices.Equal(got.Tasks, []kc.TaskID{{Connector: f.name, TaskID: 0}, {Connector: f.name, TaskID: 1}}), fmt.Sprintf("tasks %+v", got.Tasks)
	})
	cfg, err := c.GetConnectorConfig(kc.ConnectorRequest{Name: f.name})
	if err != nil || cfg.Code != http.StatusOK {
		t.Fatalf("GetConnectorConfig = %d, %v", cfg.Code, err)
	}
	if d := equalConfig(cfg.Config, want); d != "" {
		t.Errorf("GetConnectorConfig: %s", d)
	}
	upToDate, err := c.IsUpToDate(f.name, config)
	if err != nil || !upToDate {
		t.Errorf("IsUpToDate(the config just created) = %v, %v; want true", upToDate, err)
	}

	// Deploying what is deployed only reads.
	deployNoOp(t, c, rec, req)

	waitRicardoState(t, c, f.name, "RUNNING", 2)
	f.produceAndWait(t, 20)

	if res, err := c.PauseConnector(kc.ConnectorRequest{Name: f.name}, true); err != nil || res.Code != http.StatusAccepted {
		t.Fatalf("PauseConnector(sync) = %d, %v; want 202", res.Code, err)
	}
	waitRicardoState(t, c, f.name, "PAUSED", 2)
	if res, err := c.ResumeConnector(kc.ConnectorRequest{Name: f.name}, true); err != nil || res.Code != http.StatusAccepted {
		t.Fatalf("ResumeConnector(sync) = %d, %v; want 202", res.Code, err)
	}
	waitRicardoState(t, c, f.name, "RUNNING", 2)
	if res, err := c.RestartConnector(kc.ConnectorRequest{Name: f.name}); err != nil || res.Code != http.StatusNoContent {
		t.Fatalf("RestartConnector = %d, %v; want 204", res.Code, err)
	}
	waitRicardoState(t, c, f.name, "RUNNING", 2)

	tasks, err := c.GetAllTasks(kc.ConnectorRequest{Name: f.name})
	if err != nil || tasks.Code != http.StatusOK || len(tasks.Tasks) != 2 {
		t.Fatalf("GetAllTasks = %+v, %v; want 200 and 2 tasks", tasks, err)
	}
	for i, task := range tasks.Tasks {
		if task.ID != (kc.TaskID{Connector: f.name, TaskID: i}) || task.Config["task.class"] == nil {
			t.Errorf("GetAllTasks[%d] = %+v, want id {%s %d} and a task.class", i, task, f.name, i)
		}
	}
	// The client decodes the task status into a wrapper, so only the code is meaningful.
	if ts, err := c.GetTaskStatus(kc.TaskRequest{Connector: f.name, TaskID: 1}); err != nil || ts.Code != http.StatusOK {
		t.Errorf("GetTaskStatus(1) = %+v, %v; want 200", ts, err)
	}
	if res, err := c.RestartTask(kc.TaskRequest{Connector: f.name, TaskID: 1}); err != nil || res.Code != http.StatusNoContent {
		t.Errorf("RestartTask(1) = %d, %v; want 204", res.Code, err)
	}
	waitRicardoState(t, c, f.name, "RUNNING", 2)

	// A changed config: UpdateConnector(sync) waits until GET …/config shows it, and a
	// DeployConnector of the config after that is again a no-op.
	config["flush.interval.ms"] = 1200
	req.Config = config
	updated, err := c.UpdateConnector(req, true)
	if err != nil || updated.Code != http.StatusOK || updated.Config["flush.interval.ms"] != "1200" {
		t.Fatalf("UpdateConnector(sync) = code %d flush.interval.ms %v, %v; want 200 and \"1200\"", updated.Code, updated.Config["flush.interval.ms"], err)
	}
	deployNoOp(t, c, rec, req)
	config["flush.interval.ms"] = 1000
	mark := rec.mark()
	if err := c.DeployConnector(req); err != nil {
		t.Fatalf("DeployConnector(changed config): %v", err)
	}
	if puts := countMethod(rec.since(mark), http.MethodPut); puts != 1 {
		t.Errorf("DeployConnector(changed config) sent %d PUTs, want 1: %v", puts, methodsAndPaths(rec.since(mark)))
	}
	waitRicardoState(t, c, f.name, "RUNNING", 2)
	f.produceAndWait(t, 10)

	if res, err := c.DeleteConnector(kc.ConnectorRequest{Name: f.name}, true); err != nil || res.Code != http.StatusNoContent {
		t.Fatalf("DeleteConnector(sync) = %d, %v; want 204", res.Code, err)
	}
	if got, err := c.GetConnector(kc.ConnectorRequest{Name: f.name}); err != nil || got.Code != http.StatusNotFound {
		t.Errorf("GetConnector after the delete = %d, %v; want 404", got.Code, err)
	}
	requireNotFound(t, "/connectors/"+f.name)

	// DeployConnector of a connector that does not exist creates it with PUT …/config.
	mark = rec.mark()
	if err := c.DeployConnector(req); err != nil {
		t.Fatalf("DeployConnector(new connector): %v", err)
	}
	sent := methodsAndPaths(rec.since(mark))
	if want := []string{"GET /connectors/" + f.name, "PUT /connectors/" + f.name + "/config"}; len(sent) < 2 || !slices.Equal(sent[:2], want) {
		t.Errorf("DeployConnector(new connector) sent %v, want %v first", sent, want)
	}
	waitRicardoState(t, c, f.name, "RUNNING", 2)
	deployNoOp(t, c, rec, req)
	mark = rec.mark()
	if err := c.DeployMultipleConnector([]kc.CreateConnectorRequest{req}); err != nil {
		t.Fatalf("DeployMultipleConnector(deployed config): %v", err)
	}
	if sent := rec.since(mark); len(sent) != countMethod(sent, http.MethodGet) {
		t.Errorf("DeployMultipleConnector(deployed config) sent %v, want only GETs", methodsAndPaths(sent))
	}
	if res, err := c.DeleteConnector(kc.ConnectorRequest{Name: f.name}, true); err != nil || res.Code != http.StatusNoContent {
		t.Fatalf("DeleteConnector(sync) of the redeployed connector = %d, %v; want 204", res.Code, err)
	}

	for _, r := range rec.all() {
		if len(r.Body) > 0 && r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("ricardo-ch sent %s; expected Content-Type application/json; charset=utf-8 with a body", r)
			break
		}
	}
}

// deployNoOp checks that DeployConnector of the deployed config succeeds with reads only.
func deployNoOp(t *testing.T, c kc.HighLevelClient, rec *recorder, req kc.CreateConnectorRequest) {
	t.Helper()
	mark := rec.mark()
	if err := c.DeployConnector(req); err != nil {
		t.Fatalf("DeployConnector(deployed config): %v", err)
	}
	sent := rec.since(mark)
	if len(sent) == 0 || len(sent) != countMethod(sent, http.MethodGet) {
		t.Errorf("DeployConnector(deployed config) sent %v, want only GETs", methodsAndPaths(sent))
	}
}

func countMethod(reqs []recordedRequest, method string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method {
			n++
		}
	}
	return n
}

// waitRicardoState waits until GetConnectorStatus shows the connector and its tasks in state.
func waitRicardoState(t *testing.T, c kc.HighLevelClient, name, state string, tasks int) {
	t.Helper()
	eventually(t, settleTimeout, name+" "+state, func() (bool, string) {
		st, err := c.GetConnectorStatus(kc.ConnectorRequest{Name: name})
		if err != nil {
			return false, err.Error()
		}
		if st.Code != http.StatusOK || st.Name != name || st.ConnectorStatus["worker_id"] == "" {
			return false, fmt.Sprintf("code %d name %q connector %v", st.Code, st.Name, st.ConnectorStatus)
		}
		if st.ConnectorStatus["state"] != state || len(st.TasksStatus) != tasks {
			return false, stateText(st.ConnectorStatus["state"], len(st.TasksStatus))
		}
		for i, ts := range st.TasksStatus {
			if ts.ID != i || ts.State != state || ts.WorkerID == "" {
				return false, fmt.Sprintf("task %+v", ts)
			}
		}
		return true, ""
	})
}
