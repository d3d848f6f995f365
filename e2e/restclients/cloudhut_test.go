package restclients

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	connect "github.com/cloudhut/connect-client"
)

// TestCloudhutConnectClient drives Redpanda Console's Kafka Connect client through every call
// it has, over one connector's whole life: whatever Console's Connect pages do works if this
// passes.
func TestCloudhutConnectClient(t *testing.T) {
	rec := startRecorder(t)
	f := newSinkFixture(t, "cloudhut-sink", "cloudhut-events", "CloudhutEvents")
	c := connect.NewClient(connect.WithHost(rec.URL()), connect.WithTimeout(15*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer func() { logRequests(t, "cloudhut/connect-client", rec.all()) }()

	// The worker and its plugins, as Console's overview shows them.
	root, err := c.GetRoot(ctx)
	if err != nil {
		t.Fatalf("GetRoot: %v", err)
	}
	if root.Version == "" || root.Commit == "" || root.KafkaClusterID != "kconnect-dev" {
		t.Errorf("GetRoot = %+v, want a version, a commit and kafka_cluster_id kconnect-dev", root)
	}
	plugins, err := c.GetConnectorPlugins(ctx)
	if err != nil {
		t.Fatalf("GetConnectorPlugins: %v", err)
	}
	if !slices.ContainsFunc(plugins, func(p connect.ConnectorPluginInfo) bool {
		return p.Class == kustoSinkClass && p.Type == "sink" && p.Version != ""
	}) {
		t.Errorf("GetConnectorPlugins = %+v, want the Kusto sink (type sink, with a version)", plugins)
	}

	// Console validates the form before it creates the connector.
	config := f.config()
	valid, err := c.PutValidateConnectorConfig(ctx, kustoSinkClass, connect.ValidateConnectorConfigOptions{Config: toAny(withName(config, f.name))})
	if err != nil {
		t.Fatalf("PutValidateConnectorConfig: %v", err)
	}
	if valid.ErrorCount != 0 || valid.Name != kustoSinkClass || len(valid.Configs) == 0 || len(valid.Groups) == 0 {
		t.Errorf("PutValidateConnectorConfig(valid config) = name %q, %d errors, %d groups, %d configs; want the class name, 0 errors and the config definitions",
			valid.Name, valid.ErrorCount, len(valid.Groups), len(valid.Configs))
	}
	for _, ci := range valid.Configs {
		if ci.Definition["name"] == nil || ci.Value["name"] != ci.Definition["name"] {
			t.Errorf("PutValidateConnectorConfig: config entry %+v lacks a matching definition.name and value.name", ci)
			break
		}
	}
	broken := withName(config, f.name)
	delete(broken, "kusto.query.url")
	invalid, err := c.PutValidateConnectorConfig(ctx, kustoSinkClass, connect.ValidateConnectorConfigOptions{Config: toAny(broken)})
	if err != nil {
		t.Fatalf("PutValidateConnectorConfig(without kusto.query.url): %v", err)
	}
	if invalid.ErrorCount == 0 {
		t.Errorf("PutValidateConnectorConfig(without kusto.query.url) found no error")
	}

	// Create, then read it back every way Console does.
	created, err := c.CreateConnector(ctx, connect.CreateConnectorRequest{Name: f.name, Config: toAny(config)})
	if err != nil {
		t.Fatalf("CreateConnector: %v", err)
	}
	if created.Name != f.name || created.Type != "sink" {
		t.Errorf("CreateConnector = %+v, want name %s and type sink", created, f.name)
	}
	if d := equalConfig(created.Config, withName(config, f.name)); d != "" {
		t.Errorf("CreateConnector config: %s", d)
	}
	eventually(t, settleTimeout, "GetConnector lists 2 tasks", func() (bool, string) {
		info, err := c.GetConnector(ctx, f.name)
		if err != nil {
			return false, err.Error()
		}
		if info.Name != f.name || info.Type != "sink" {
			t.Fatalf("GetConnector = %+v, want name %s and type sink", info, f.name)
		}
		if d := equalConfig(info.Config, withName(config, f.name)); d != "" {
			t.Fatalf("GetConnector config: %s", d)
		}
		return slices.Equal(info.Tasks, []connect.ConnectorTaskID{{Connector: f.name, Task: 0}, {Connector: f.name, Task: 1}}), ""
	})
	got, err := c.GetConnectorConfig(ctx, f.name)
	if err != nil {
		t.Fatalf("GetConnectorConfig: %v", err)
	}
	if d := equalConfig(got, withName(config, f.name)); d != "" {
		t.Errorf("GetConnectorConfig: %s", d)
	}
	names, err := c.ListConnectors(ctx)
	if err != nil {
		t.Fatalf("ListConnectors: %v", err)
	}
	if !slices.Contains(names, f.name) {
		t.Errorf("ListConnectors = %v, want %s in it", names, f.name)
	}
	waitCloudhutState(ctx, t, c, f.name, "RUNNING", 2)
	expanded, err := c.ListConnectorsExpanded(ctx)
	if err != nil {
		t.Fatalf("ListConnectorsExpanded: %v", err)
	}
	if e, ok := expanded[f.name]; !ok || e.Info.Name != f.name || e.Info.Config["connector.class"] != kustoSinkClass || e.Info.Type != "sink" ||
		e.Status.Name != f.name || e.Status.Connector.State != "RUNNING" || len(e.Status.Tasks) != 2 || e.Status.Type != "sink" {
		t.Errorf("ListConnectorsExpanded[%s] = %+v (present %v), want its info and RUNNING status", f.name, e, ok)
	}

	// The connector moves records, and then reports the topic it read.
	f.produceAndWait(t, 20)
	eventually(t, settleTimeout, "GetConnectorTopics lists "+f.topic, func() (bool, string) {
		topics, err := c.GetConnectorTopics(ctx, f.name)
		if err != nil {
			return false, err.Error()
		}
		return slices.Equal(topics[f.name].Topics, []string{f.topic}), ""
	})

	// Edit the config in place.
	config["flush.interval.ms"] = "1500"
	updated, err := c.PutConnectorConfig(ctx, f.name, connect.PutConnectorConfigOptions{Config: toAny(config)})
	if err != nil {
		t.Fatalf("PutConnectorConfig: %v", err)
	}
	if d := equalConfig(updated.Config, withName(config, f.name)); d != "" {
		t.Errorf("PutConnectorConfig answer: %s", d)
	}
	got, err = c.GetConnectorConfig(ctx, f.name)
	if err != nil {
		t.Fatalf("GetConnectorConfig after the update: %v", err)
	}
	if d := equalConfig(got, withName(config, f.name)); d != "" {
		t.Errorf("GetConnectorConfig after the update: %s", d)
	}
	waitCloudhutState(ctx, t, c, f.name, "RUNNING", 2)

	// Pause, resume, restart, stop, reset the topics, start again.
	if err := c.PauseConnector(ctx, f.name); err != nil {
		t.Fatalf("PauseConnector: %v", err)
	}
	waitCloudhutState(ctx, t, c, f.name, "PAUSED", 2)
	if err := c.ResumeConnector(ctx, f.name); err != nil {
		t.Fatalf("ResumeConnector: %v", err)
	}
	waitCloudhutState(ctx, t, c, f.name, "RUNNING", 2)
	for _, opts := range []connect.RestartConnectorOptions{{}, {IncludeTasks: true}, {IncludeTasks: true, OnlyFailed: true}} {
		if err := c.RestartConnector(ctx, f.name, opts); err != nil {
			t.Fatalf("RestartConnector(%+v): %v", opts, err)
		}
		waitCloudhutState(ctx, t, c, f.name, "RUNNING", 2)
	}
	if err := c.RestartConnectorTask(ctx, f.name, 1); err != nil {
		t.Fatalf("RestartConnectorTask(1): %v", err)
	}
	waitCloudhutState(ctx, t, c, f.name, "RUNNING", 2)
	f.produceAndWait(t, 10)
	if err := c.StopConnector(ctx, f.name); err != nil {
		t.Fatalf("StopConnector: %v", err)
	}
	waitCloudhutState(ctx, t, c, f.name, "STOPPED", 0)
	if err := c.ResetConnectorTopics(ctx, f.name); err != nil {
		t.Fatalf("ResetConnectorTopics: %v", err)
	}
	// As in Connect, the reset is a tombstone in the status topic that the worker reads back.
	eventually(t, settleTimeout, "GetConnectorTopics lists no topic after the reset", func() (bool, string) {
		topics, err := c.GetConnectorTopics(ctx, f.name)
		if err != nil {
			return false, err.Error()
		}
		return len(topics[f.name].Topics) == 0, fmt.Sprintf("%+v", topics)
	})
	if err := c.ResumeConnector(ctx, f.name); err != nil {
		t.Fatalf("ResumeConnector after StopConnector: %v", err)
	}
	waitCloudhutState(ctx, t, c, f.name, "RUNNING", 2)
	f.produceAndWait(t, 10)

	// Delete: every read answers Connect's 404 error, which the client turns into an ApiError.
	if err := c.DeleteConnector(ctx, f.name); err != nil {
		t.Fatalf("DeleteConnector: %v", err)
	}
	var apiErr connect.ApiError
	if _, err := c.GetConnector(ctx, f.name); !errors.As(err, &apiErr) || apiErr.ErrorCode != http.StatusNotFound || apiErr.Message == "" {
		t.Errorf("GetConnector after DeleteConnector: %v, want an ApiError with error_code 404", err)
	}
	eventually(t, settleTimeout, "GetConnectorStatus answers 404", func() (bool, string) {
		_, err := c.GetConnectorStatus(ctx, f.name)
		return errors.As(err, &apiErr) && apiErr.ErrorCode == http.StatusNotFound, "error " + errString(err)
	})
	names, err = c.ListConnectors(ctx)
	if err != nil {
		t.Fatalf("ListConnectors after the delete: %v", err)
	}
	if slices.Contains(names, f.name) {
		t.Errorf("ListConnectors after the delete = %v", names)
	}
	expanded, err = c.ListConnectorsExpanded(ctx)
	if err != nil {
		t.Fatalf("ListConnectorsExpanded after the delete: %v", err)
	}
	if _, ok := expanded[f.name]; ok {
		t.Errorf("ListConnectorsExpanded after the delete still has %s", f.name)
	}

	// What the client sent: its own User-Agent and a JSON Content-Type on every call, GET and
	// DELETE included.
	for _, r := range rec.all() {
		if r.Header.Get("User-Agent") != "CloudHut-Connect-Client" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("cloudhut sent %s; expected its User-Agent and Content-Type application/json", r)
			break
		}
	}
}

// waitCloudhutState waits until the connector and its tasks (as many as tasks) are all in state.
func waitCloudhutState(ctx context.Context, t *testing.T, c *connect.Client, name, state string, tasks int) {
	t.Helper()
	eventually(t, settleTimeout, name+" "+state+" with its tasks", func() (bool, string) {
		st, err := c.GetConnectorStatus(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		if st.Name != name || st.Type != "sink" || st.Connector.WorkerID == "" {
			t.Fatalf("GetConnectorStatus = %+v, want name %s, type sink and a worker_id", st, name)
		}
		if st.Connector.State != state || len(st.Tasks) != tasks {
			return false, stateText(st.Connector.State, len(st.Tasks))
		}
		for i, ts := range st.Tasks {
			if ts.ID != i || ts.State != state || ts.WorkerID == "" {
				return false, stateText(st.Connector.State, len(st.Tasks)) + " task " + ts.State
			}
		}
		return true, ""
	})
}

func stateText(state string, tasks int) string {
	return fmt.Sprintf("%s with %d tasks", state, tasks)
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
