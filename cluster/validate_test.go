package cluster

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/sink"
)

func newIdleHerder(t *testing.T, kv ...string) *Herder {
	t.Helper()
	cfg, err := ParseWorkerConfig(with(minimalWorker(), kv...))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg, testRegistry(t), WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// errorsOf returns the validation errors by key; values without a definition are keyed with a
// "!" prefix.
func errorsOf(infos ConfigInfos) map[string][]string {
	out := map[string][]string{}
	for _, ci := range infos.Configs {
		if ci.Value == nil || len(ci.Value.Errors) == 0 {
			continue
		}
		key := ci.Value.Name
		if ci.Definition == nil {
			key = "!" + key
		}
		out[key] = ci.Value.Errors
	}
	return out
}

func TestValidateConnectorConfig(t *testing.T) {
	h := newIdleHerder(t)
	base := map[string]string{"name": "orders", "connector.class": "TestSink", "topics": "orders"}
	cases := []struct {
		name   string
		config map[string]string
		want   map[string][]string
	}{
		{"valid, by alias", base, map[string][]string{}},
		{"empty name", with(base, "name", ""), map[string][]string{"name": {"Invalid value  for configuration name: String may not be empty"}}},
		{"control characters in the name", with(base, "name", "a\tb\x01"), map[string][]string{
			"name": {"Invalid value a\tb\x01 for configuration name: String may not contain control sequences but had the following ASCII chars: 9, 1"}}},
		{"sink group equals the worker group", with(base, "name", "cluster"), map[string][]string{
			"name": {"Consumer group for sink connector named cluster conflicts with Connect worker group connect-cluster"}}},
		{"overridden group equals the worker group", with(base, "consumer.override.group.id", "connect-cluster"), map[string][]string{
			"!consumer.override.group.id": {"Consumer group connect-cluster conflicts with Connect worker group connect-cluster"}}},
		{"no topics", with(base, "topics", "<unset>"), map[string][]string{
			"topics":       {"Must configure one of topics or topics.regex"},
			"topics.regex": {"Must configure one of topics or topics.regex"}}},
		{"topics and regex", with(base, "topics.regex", "o.*"), map[string][]string{
			"topics":       {"topics and topics.regex are mutually exclusive options, but both are set."},
			"topics.regex": {"topics and topics.regex are mutually exclusive options, but both are set."}}},
		{"dead letter queue among the topics", with(base, "topics", "orders, dlq", "errors.deadletterqueue.topic.name", "dlq"), map[string][]string{
			"topics": {"The DLQ topic 'dlq' may not be included in the list of topics ('topics=[orders, dlq]') consumed by the connector"}}},
		{"dead letter queue matched by the regex", with(base, "topics", "<unset>", "topics.regex", "or.*", "errors.deadletterqueue.topic.name", "orders-dlq"), map[string][]string{
			"topics.regex": {"The DLQ topic 'orders-dlq' may not be included in the regex matching the topics ('topics.regex=or.*') consumed by the connector"}}},
		{"transforms without classes", with(base, "transforms", "a,b", "transforms.a.type", "com.example.Mask"), map[string][]string{
			"transforms.a.type": {"Invalid value com.example.Mask for configuration transforms.a.type: Class com.example.Mask could not be found."},
			"transforms.b.type": {`Missing required configuration "transforms.b.type" which has no default value.`}}},
		{"duplicate transform aliases", with(base, "transforms", "a,a", "transforms.a.type", "x"), map[string][]string{
			"transforms":        {"Invalid value a,a for configuration transforms: Duplicate alias provided."},
			"transforms.a.type": {"Invalid value x for configuration transforms.a.type: Class x could not be found."}}},
		{"predicates", with(base, "predicates", "p"), map[string][]string{
			"predicates.p.type": {`Missing required configuration "predicates.p.type" which has no default value.`}}},
		{"tasks.max below one", with(base, "tasks.max", "0"), map[string][]string{"tasks.max": {"Invalid value 0 for configuration tasks.max: Value must be at least 1"}}},
		{"reload action", with(base, "config.action.reload", "later"), map[string][]string{
			"config.action.reload": {"Invalid value later for configuration config.action.reload: String must be one of: none, restart"}}},
		{"the plugin's own checks", with(base, "test.setting", "invalid", "test.tasks", "x"), map[string][]string{
			"test.setting": {"test.setting may not be invalid"},
			"test.tasks":   {"Invalid value x for configuration test.tasks: Not a number of type INT"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			infos, plugin, err := h.validateConnectorConfig(c.config)
			if err != nil {
				t.Fatal(err)
			}
			if plugin.Class != testSinkClass || infos.Name != c.config["connector.class"] {
				t.Errorf("plugin %s, name %q", plugin.Class, infos.Name)
			}
			got := errorsOf(infos)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("errors\n%q\nwant\n%q", got, c.want)
			}
			n := 0
			for _, e := range c.want {
				n += len(e)
			}
			if infos.ErrorCount != n {
				t.Errorf("error_count %d, want %d", infos.ErrorCount, n)
			}
		})
	}
}

func TestValidateClientOverridePolicy(t *testing.T) {
	const secret = "pa55-w0rd"
	jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="` + secret + `";`
	config := map[string]string{"name": "x", "connector.class": testSinkClass, "topics": "t",
		"consumer.override.max.poll.records": "10", "consumer.override.sasl.jaas.config": jaas,
		"consumer.override.security.protocol": "SASL_SSL", "producer.override.acks": "all", "admin.override.retries": "3"}
	withDLQ := with(config, "errors.deadletterqueue.topic.name", "dlq")
	notAllowed := func(policy, name string) []string {
		return []string{"The '" + policy + "' policy does not allow '" + name + "' to be overridden in the connector configuration."}
	}
	cases := []struct {
		name, policy string
		config       map[string]string
		want         map[string][]string
		overrides    []string // the override entries, in order
	}{
		{"All", "All", config, map[string][]string{},
			[]string{"consumer.override.max.poll.records", "consumer.override.sasl.jaas.config", "consumer.override.security.protocol"}},
		// Without a dead letter queue the producer and admin overrides configure nothing and
		// are not checked, as in Java.
		{"None", "None", config, map[string][]string{
			"!consumer.override.max.poll.records":  notAllowed("None", "max.poll.records"),
			"!consumer.override.sasl.jaas.config":  notAllowed("None", "sasl.jaas.config"),
			"!consumer.override.security.protocol": notAllowed("None", "security.protocol")}, nil},
		{"Principal", "Principal", config, map[string][]string{
			"!consumer.override.max.poll.records": notAllowed("Principal", "max.poll.records")}, nil},
		{"Principal with a dead letter queue", "Principal", withDLQ, map[string][]string{
			"!producer.override.acks":             notAllowed("Principal", "acks"),
			"!consumer.override.max.poll.records": notAllowed("Principal", "max.poll.records"),
			"!admin.override.retries":             notAllowed("Principal", "retries")},
			[]string{"producer.override.acks", "consumer.override.max.poll.records", "consumer.override.sasl.jaas.config",
				"consumer.override.security.protocol", "admin.override.retries"}},
		{"class name", "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy", config, map[string][]string{
			"!consumer.override.max.poll.records": notAllowed("Principal", "max.poll.records")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newIdleHerder(t, "connector.client.config.override.policy", c.policy)
			infos, _, err := h.validateConnectorConfig(c.config)
			if err != nil {
				t.Fatal(err)
			}
			if got := errorsOf(infos); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("errors %q, want %q", got, c.want)
			}
			if infos.ErrorCount != len(c.want) {
				t.Errorf("error_count %d, want %d (one per refused setting)", infos.ErrorCount, len(c.want))
			}
			// The override entries follow the connector's keys.
			var overrides []string
			lastDefined := -1
			for i, ci := range infos.Configs {
				if ci.Definition != nil {
					lastDefined = i
				}
			}
			for _, ci := range infos.Configs[lastDefined+1:] {
				overrides = append(overrides, ci.Value.Name)
				if ci.Value.Name == "consumer.override.sasl.jaas.config" && *ci.Value.Value != "[hidden]" {
					t.Errorf("a JAAS config is echoed: %q", *ci.Value.Value)
				}
			}
			if c.overrides != nil && !reflect.DeepEqual(overrides, c.overrides) {
				t.Errorf("override entries %q, want %q", overrides, c.overrides)
			}
			if len(c.want) == 0 {
				return // creating would need a running herder
			}
			// Create refuses the config with Java's message, which names no value.
			_, _, err = h.PutConnectorConfig(context.Background(), "x", c.config, false, nil)
			var herr *Error
			if !errors.As(err, &herr) || herr.Kind != KindBadRequest ||
				!strings.HasPrefix(herr.Message, "Connector configuration is invalid and contains the following "+strconv.Itoa(len(c.want))+" error(s):\n") ||
				!strings.Contains(herr.Message, "\n"+notAllowed(map[bool]string{true: "None", false: "Principal"}[c.policy == "None"], "max.poll.records")[0]+"\n") {
				t.Errorf("create: %v", err)
			}
			if strings.Contains(herr.Message, secret) {
				t.Errorf("the create error shows the password: %s", herr.Message)
			}
		})
	}
}

// TestValidateConverterSettings: a converter the connector names has its own settings checked,
// reported under their prefixed names with the converter's definitions, after everything else.
func TestValidateConverterSettings(t *testing.T) {
	h := newIdleHerder(t)
	config := map[string]string{"name": "x", "connector.class": testSinkClass, "topics": "t",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "sometimes",
		"value.converter.decimal.format": "HEX", "key.converter": "StringConverter"}
	infos, _, err := h.validateConnectorConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"value.converter.schemas.enable": {"Invalid value sometimes for configuration schemas.enable: Expected value to be either true or false"},
		"value.converter.decimal.format": {"Invalid value HEX for configuration decimal.format: String must be one of (case insensitive): BASE64, NUMERIC"},
	}
	got := errorsOf(infos)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors\n%q\nwant\n%q", got, want)
	}
	if infos.ErrorCount != 2 {
		t.Errorf("error_count %d", infos.ErrorCount)
	}
	var names []string
	for _, ci := range infos.Configs {
		if ci.Value != nil && (strings.HasPrefix(ci.Value.Name, "key.converter.") || strings.HasPrefix(ci.Value.Name, "value.converter.")) {
			names = append(names, ci.Value.Name)
			if ci.Definition == nil || ci.Definition.Name != ci.Value.Name {
				t.Errorf("%s: definition %+v", ci.Value.Name, ci.Definition)
			}
		}
	}
	wantNames := []string{"key.converter.converter.type", "key.converter.converter.encoding",
		"value.converter.converter.type", "value.converter.schemas.enable", "value.converter.schemas.cache.size",
		"value.converter.decimal.format", "value.converter.replace.null.with.default"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("converter entries %q, want %q", names, wantNames)
	}
	last := infos.Configs[len(infos.Configs)-1]
	if last.Value.Name != "value.converter.replace.null.with.default" || *last.Value.Value != "true" {
		t.Errorf("last entry %+v", last.Value)
	}
	if !contains(infos.Groups, "Schemas") || !contains(infos.Groups, "Serialization") {
		t.Errorf("groups %q lack the converter's", infos.Groups)
	}
	// The same errors refuse a create.
	_, _, err = h.PutConnectorConfig(context.Background(), "x", config, false, nil)
	if err == nil || !strings.Contains(err.Error(), "contains the following 2 error(s):\nInvalid value sometimes for configuration schemas.enable") {
		t.Errorf("create: %v", err)
	}
}

func TestValidateShape(t *testing.T) {
	h := newIdleHerder(t)
	infos, _, err := h.validateConnectorConfig(map[string]string{"name": "x", "connector.class": testSinkClass, "topics": "t",
		"consumer.override.group.id": "connect-cluster", "transforms": "m", "transforms.m.type": "Mask"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Common", "Transforms", "Predicates", "Error Handling", "Transforms: m", "Test"}; !reflect.DeepEqual(infos.Groups, want) {
		t.Errorf("groups %q, want %q", infos.Groups, want)
	}
	// Values without a definition come first; then the framework's keys; then the plugin's.
	if infos.Configs[0].Definition != nil || infos.Configs[0].Value.Name != "consumer.override.group.id" {
		t.Errorf("first entry %+v", infos.Configs[0])
	}
	var names []string
	rest := infos.Configs[1:]
	for len(rest) > 0 && rest[0].Definition != nil {
		ci := rest[0]
		rest = rest[1:]
		names = append(names, ci.Definition.Name)
		if ci.Value == nil || ci.Value.Name != ci.Definition.Name {
			t.Errorf("%s: value %+v", ci.Definition.Name, ci.Value)
		}
	}
	// Then the client overrides, checked against the policy.
	if len(rest) != 1 || rest[0].Value.Name != "consumer.override.group.id" || *rest[0].Value.Value != "connect-cluster" || len(rest[0].Value.Errors) != 0 {
		t.Errorf("override entries %+v", rest)
	}
	if names[0] != "name" || names[1] != "connector.class" || names[2] != "tasks.max" {
		t.Errorf("framework keys first: %q", names)
	}
	if names[len(names)-2] != "test.setting" || names[len(names)-1] != "test.tasks" {
		t.Errorf("plugin keys last: %q", names)
	}
	for _, ci := range infos.Configs[1:] {
		if ci.Definition != nil && ci.Definition.Name == "tasks.max" && *ci.Value.Value != "1" {
			t.Errorf("tasks.max value %q", *ci.Value.Value)
		}
	}
	msg := InvalidConfigError(infos).Message
	want := "Connector configuration is invalid and contains the following 2 error(s):\n" +
		"Consumer group connect-cluster conflicts with Connect worker group connect-cluster\n" +
		"Invalid value Mask for configuration transforms.m.type: Class Mask could not be found.\n" +
		"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
	if msg != want {
		t.Errorf("message\n%s\nwant\n%s", msg, want)
	}
}

func TestValidateWithoutKnownClass(t *testing.T) {
	h := newIdleHerder(t)
	_, _, err := h.validateConnectorConfig(map[string]string{"name": "x", "topics": "t", "kusto.aad.appkey": "s3cret", "sasl.jaas.config": "pw"})
	var herr *Error
	if !errors.As(err, &herr) || herr.Kind != KindBadRequest ||
		herr.Message != "Connector config {kusto.aad.appkey=[hidden], name=x, sasl.jaas.config=[hidden], topics=t} contains no connector type" {
		t.Errorf("no class: %v", err)
	}
	_, _, err = h.validateConnectorConfig(map[string]string{"connector.class": "com.example.Nope"})
	if !errors.As(err, &herr) || herr.Kind != KindBadRequest || herr.Message !=
		"Failed to find any class that implements Connector and which name matches com.example.Nope, available connectors are: "+testSinkClass {
		t.Errorf("unknown class: %v", err)
	}
}

func TestValidateConfigEndpoint(t *testing.T) {
	h := newIdleHerder(t)
	ctx := context.Background()
	for _, c := range []struct {
		plugin, class string
		ok            bool
	}{
		{"TestSinkConnector", testSinkClass, true},
		{"TestSink", "TestSinkConnector", true},
		{testSinkClass, testSinkClass, true},
		{testSinkClass, "TestSink", false}, // Java compares suffixes: an alias does not end with the full name
		{"OtherConnector", testSinkClass, false},
	} {
		infos, err := h.ValidateConfig(ctx, c.plugin, map[string]string{"connector.class": c.class, "name": "v", "topics": "t"})
		switch {
		case c.ok && (err != nil || infos.ErrorCount != 0):
			t.Errorf("%s/%s: %v %+v", c.plugin, c.class, err, errorsOf(infos))
		case !c.ok && (err == nil || err.Error() != "Included connector type "+c.class+" does not match request type "+c.plugin):
			t.Errorf("%s/%s: %v", c.plugin, c.class, err)
		}
	}
	// The path's plugin never fills in connector.class.
	if _, err := h.ValidateConfig(ctx, "TestSink", map[string]string{"name": "v"}); err == nil || !strings.Contains(err.Error(), "contains no connector type") {
		t.Errorf("missing class: %v", err)
	}
}

func TestPluginsAndPluginConfig(t *testing.T) {
	h := newIdleHerder(t)
	// Connectors first; the converters follow (TestPluginsListConverters).
	if got := h.Plugins(); !reflect.DeepEqual(got[0], PluginInfo{Class: testSinkClass, Type: "sink", Version: "1.0.0"}) {
		t.Errorf("plugins %+v", got)
	}
	keys, err := h.PluginConfig("TestSink")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	if names[0] != "test.setting" || names[1] != "test.tasks" || names[2] != "name" || !contains(names, "topics") || !contains(names, "errors.tolerance") {
		t.Errorf("plugin config keys %q", names)
	}
	if _, err := h.PluginConfig("Nope"); err == nil || err.Error() != "Unknown plugin Nope." {
		t.Errorf("unknown plugin: %v", err)
	}
	if info := h.ServerInfo(context.Background()); info.Version != "unknown" {
		t.Errorf("server info %+v", info)
	}
	if got := ConnectorConfigDef().Keys()[0].Name; got != "name" {
		t.Errorf("ConnectorConfigDef starts with %s", got)
	}
	_ = sink.TypeString
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
