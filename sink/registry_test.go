package sink

import (
	"context"
	"testing"
)

type nopConnector struct{}

func (nopConnector) Start(context.Context, ConnectorContext, map[string]string) error { return nil }
func (nopConnector) TaskConfigs(int) ([]map[string]string, error)                     { return nil, nil }
func (nopConnector) Stop(context.Context) error                                       { return nil }

func plugin(class string) *Plugin {
	return &Plugin{Class: class, Type: PluginTypeSink, Config: NewConfigDef(),
		NewConnector: func() Connector { return nopConnector{} }, NewTask: func() Task { return nil }}
}

func TestRegistryAliases(t *testing.T) {
	kusto := plugin("com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector")
	fabric := plugin("com.microsoft.fabric.connect.eventhouse.sink.FabricSinkConnector")
	a := plugin("org.a.SharedConnector")
	b := plugin("org.b.SharedConnector")
	r, err := NewRegistry(kusto, fabric, a, b)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]*Plugin{
		kusto.Class:             kusto,
		"KustoSinkConnector":    kusto,
		"KustoSink":             kusto,
		"FabricSink":            fabric,
		"org.a.SharedConnector": a,
	} {
		if got, ok := r.Lookup(name); !ok || got != want {
			t.Errorf("Lookup(%q) = %v, %v", name, got, ok)
		}
	}
	for _, name := range []string{"SharedConnector", "Shared", "Kusto", ""} {
		if _, ok := r.Lookup(name); ok {
			t.Errorf("Lookup(%q) should fail (ambiguous or unknown)", name)
		}
	}
	if ps := r.Plugins(); len(ps) != 4 || ps[0] != kusto {
		t.Errorf("Plugins() not sorted by class: %v", ps)
	}
}

func TestRegistryRejectsDuplicatesAndIncompletePlugins(t *testing.T) {
	if _, err := NewRegistry(plugin("a.B"), plugin("a.B")); err == nil {
		t.Error("duplicate class accepted")
	}
	if _, err := NewRegistry(&Plugin{Class: "a.C"}); err == nil {
		t.Error("incomplete plugin accepted")
	}
}
