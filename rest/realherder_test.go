package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
)

var _ Herder = (*cluster.Herder)(nil)

// idleSink is a connector plugin for answers that need no running herder.
type idleSink struct{}

func (idleSink) Start(context.Context, sink.ConnectorContext, map[string]string) error { return nil }
func (idleSink) TaskConfigs(int) ([]map[string]string, error)                          { return nil, nil }
func (idleSink) Stop(context.Context) error                                            { return nil }

// newIdleClusterHerder is a real herder that was never run, with the Principal override policy:
// plugin listings, plugin configs and validation need no herder goroutine.
func newIdleClusterHerder(t *testing.T) *cluster.Herder {
	t.Helper()
	cfg, err := cluster.ParseWorkerConfig(map[string]string{"group.id": "connect-cluster", "config.storage.topic": "c",
		"offset.storage.topic": "o", "status.storage.topic": "s", "key.converter": "StringConverter", "value.converter": "StringConverter",
		"connector.client.config.override.policy": "Principal"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sink.NewRegistry(&sink.Plugin{
		Class: "org.example.kconnect.IdleSinkConnector", TaskClass: "org.example.kconnect.IdleSinkTask", Version: "1.0.0", Type: sink.PluginTypeSink,
		Config: sink.NewConfigDef().Define(sink.ConfigKey{Name: "idle.setting", Type: sink.TypeString, Default: "", Importance: sink.Low,
			Doc: "A setting.", Group: "Idle", OrderInGroup: 1, Width: sink.WidthShort, DisplayName: "Idle setting"}),
		NewConnector: func() sink.Connector { return idleSink{} },
		NewTask:      func() sink.Task { return nil }, // never run
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := cluster.New(cfg, reg, cluster.WithVersion("3.9.0", "0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRealHerderAnswers sends requests to the REST API over a real (idle) herder and compares
// the answers with testdata/realherder/<name>.json (go test -update rewrites them): converters
// in the plugin list and their config, and a validation and a create that fail on a converter
// setting and on client overrides the worker's policy refuses.
func TestRealHerderAnswers(t *testing.T) {
	s := newTestServer(t, newIdleClusterHerder(t))
	const secret = "s3cret-Pa55"
	config := `{"connector.class": "IdleSink", "name": "events", "topics": "events",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "maybe",
		"consumer.override.bootstrap.servers": "SASL_SSL://ns.servicebus.windows.net:9093",
		"consumer.override.security.protocol": "SASL_SSL", "consumer.override.sasl.mechanism": "PLAIN",
		"consumer.override.sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$ConnectionString\" password=\"` + secret + `\";"}`
	for _, c := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"plugins-all", http.MethodGet, "/connector-plugins?connectorsOnly=false", "", http.StatusOK},
		{"plugins-connectors", http.MethodGet, "/connector-plugins", "", http.StatusOK},
		{"plugin-config-converter", http.MethodGet, "/connector-plugins/JsonConverter/config", "", http.StatusOK},
		{"validate-converter-and-overrides", http.MethodPut, "/connector-plugins/IdleSinkConnector/config/validate", config, http.StatusOK},
		{"create-refused", http.MethodPost, "/connectors", `{"name": "events", "config": ` + config + `}`, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("the answer shows the password: %s", rec.Body)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
				t.Fatalf("not JSON: %v: %s", err, rec.Body)
			}
			pretty.WriteByte('\n')
			file := filepath.Join("testdata", "realherder", c.name+".json")
			if *update {
				if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if pretty.String() != string(want) {
				t.Errorf("answer differs from %s:\n%s", file, pretty.String())
			}
		})
	}
}
