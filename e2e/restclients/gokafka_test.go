package restclients

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"

	gokafka "github.com/go-kafka/connect"
)

// TestGoKafkaConnect drives go-kafka/connect v0.9.0 (the library of the kafka-connect CLI)
// through a connector's life. It decodes every config as map[string]string, so any non-string
// value in an answer breaks it.
func TestGoKafkaConnect(t *testing.T) {
	rec := startRecorder(t)
	f := newSinkFixture(t, "gokafka-sink", "gokafka-events", "GokafkaEvents")
	c := gokafka.NewClient(rec.URL() + "/")
	defer func() { logRequests(t, "go-kafka/connect", rec.all()) }()

	config := f.config()
	want := withName(config, f.name)
	conn := &gokafka.Connector{Name: f.name, Config: maps.Clone(config)}
	resp, err := c.CreateConnector(conn)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("CreateConnector = %v, %v; want 201", statusOf(resp), err)
	}
	if conn.Name != f.name {
		t.Errorf("CreateConnector answered name %q", conn.Name)
	}
	if d := equalConfig(conn.Config, want); d != "" {
		t.Errorf("CreateConnector config: %s", d)
	}

	names, _, err := c.ListConnectors()
	if err != nil || !slices.Contains(names, f.name) {
		t.Fatalf("ListConnectors = %v, %v; want %s in it", names, err, f.name)
	}
	eventually(t, settleTimeout, "GetConnector lists 2 tasks", func() (bool, string) {
		got, _, err := c.GetConnector(f.name)
		if err != nil {
			return false, err.Error()
		}
		if d := equalConfig(got.Config, want); got.Name != f.name || d != "" {
			t.Fatalf("GetConnector = name %q, config: %s", got.Name, d)
		}
		return slices.Equal(got.Tasks, []gokafka.TaskID{{ConnectorName: f.name, ID: 0}, {ConnectorName: f.name, ID: 1}}), fmt.Sprintf("tasks %+v", got.Tasks)
	})
	got, _, err := c.GetConnectorConfig(f.name)
	if err != nil {
		t.Fatalf("GetConnectorConfig: %v", err)
	}
	if d := equalConfig(got, want); d != "" {
		t.Errorf("GetConnectorConfig: %s", d)
	}
	waitGoKafkaState(t, c, f.name, "RUNNING", 2)
	f.produceAndWait(t, 20)

	config["flush.interval.ms"] = "1300"
	updated, resp, err := c.UpdateConnectorConfig(f.name, config)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("UpdateConnectorConfig = %v, %v; want 200", statusOf(resp), err)
	}
	if d := equalConfig(updated.Config, withName(config, f.name)); d != "" {
		t.Errorf("UpdateConnectorConfig answer: %s", d)
	}
	waitGoKafkaState(t, c, f.name, "RUNNING", 2)

	if resp, err := c.PauseConnector(f.name); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PauseConnector = %v, %v; want 202", statusOf(resp), err)
	}
	waitGoKafkaState(t, c, f.name, "PAUSED", 2)
	if resp, err := c.ResumeConnector(f.name); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ResumeConnector = %v, %v; want 202", statusOf(resp), err)
	}
	waitGoKafkaState(t, c, f.name, "RUNNING", 2)
	if resp, err := c.RestartConnector(f.name); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("RestartConnector = %v, %v; want 204", statusOf(resp), err)
	}
	waitGoKafkaState(t, c, f.name, "RUNNING", 2)

	tasks, _, err := c.GetConnectorTasks(f.name)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("GetConnectorTasks = %+v, %v; want 2 tasks", tasks, err)
	}
	for i, task := range tasks {
		if task.ID != (gokafka.TaskID{ConnectorName: f.name, ID: i}) || task.Config["task.class"] == "" {
			t.Errorf("GetConnectorTasks[%d] = %+v, want id {%s %d} and a task.class", i, task, f.name, i)
		}
	}
	f.produceAndWait(t, 10)

	if resp, err := c.DeleteConnector(f.name); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteConnector = %v, %v; want 204", statusOf(resp), err)
	}
	var apiErr gokafka.APIError
	if _, _, err := c.GetConnector(f.name); !errors.As(err, &apiErr) || apiErr.Code != http.StatusNotFound || apiErr.Message == "" {
		t.Errorf("GetConnector after the delete: %v, want an APIError with error_code 404", err)
	}
	eventually(t, settleTimeout, "GetConnectorStatus answers 404", func() (bool, string) {
		_, _, err := c.GetConnectorStatus(f.name)
		return errors.As(err, &apiErr) && apiErr.Code == http.StatusNotFound, errString(err)
	})
}

func statusOf(resp *http.Response) string {
	if resp == nil {
		return "no response"
	}
	return resp.Status
}

// waitGoKafkaState waits until GetConnectorStatus shows the connector and its tasks in state.
func waitGoKafkaState(t *testing.T, c *gokafka.Client, name, state string, tasks int) {
	t.Helper()
	eventually(t, settleTimeout, name+" "+state, func() (bool, string) {
		st, _, err := c.GetConnectorStatus(name)
		if err != nil {
			return false, err.Error()
		}
		if st.Name != name || st.Connector.WorkerID == "" {
			t.Fatalf("GetConnectorStatus = %+v, want name %s and a worker_id", st, name)
		}
		if st.Connector.State != state || len(st.Tasks) != tasks {
			return false, stateText(st.Connector.State, len(st.Tasks))
		}
		for i, ts := range st.Tasks {
			if ts.ID != i || ts.State != state || ts.WorkerID == "" {
				return false, fmt.Sprintf("task %+v", ts)
			}
		}
		return true, ""
	})
}
