package cluster

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/sink"
)

func TestParseProperties(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want map[string]string
		err  string
	}{
		{name: "separators", in: "a=1\nb:2\nc 3\nd\t=\t4\ne   :  5\nf\n", want: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": ""}},
		{name: "comments and blanks", in: "# comment\n  ! other comment\n\n   \na=1\n#b=2\n", want: map[string]string{"a": "1"}},
		{name: "value keeps trailing spaces and later separators", in: "a = x = y : z  \n", want: map[string]string{"a": "x = y : z  "}},
		{name: "continuation", in: "list=a,\\\n    b,\\\n\tc\n", want: map[string]string{"list": "a,b,c"}},
		{name: "even backslashes do not continue", in: "path=c:\\\\\nnext=1\n", want: map[string]string{"path": `c:\`, "next": "1"}},
		{name: "comment lines do not continue", in: "# ends in \\\na=1\n", want: map[string]string{"a": "1"}},
		{name: "continuation at end of input", in: "a=1\\", want: map[string]string{"a": "1"}},
		{name: "escapes", in: `k=tab\there\nnl\rcr\fff\=eq\:col\ sp\\bs\q` + "\n", want: map[string]string{"k": "tab\there\nnl\rcr\fff=eq:col sp\\bsq"}},
		{name: "escaped separators in keys", in: `a\=b\:c\ d=v` + "\n", want: map[string]string{"a=b:c d": "v"}},
		{name: "unicode escapes", in: `greeting=caf\u00e9 \u4E2D` + "\nemoji=\\uD83D\\uDE00\n", want: map[string]string{"greeting": "café 中", "emoji": "😀"}},
		{name: "CRLF and CR line ends", in: "a=1\r\nb=2\rc=3", want: map[string]string{"a": "1", "b": "2", "c": "3"}},
		{name: "later duplicate wins", in: "a=1\na=2\n", want: map[string]string{"a": "2"}},
		{name: "leading whitespace", in: "   a=1\n\t\fb=2\n", want: map[string]string{"a": "1", "b": "2"}},
		{name: "UTF-8 with BOM", in: "\uFEFFa=ü\n", want: map[string]string{"a": "ü"}},
		{name: "ISO-8859-1", in: "a=caf\xe9\n", want: map[string]string{"a": "café"}},
		{name: "malformed unicode escape", in: "a=1\nb=\\u12G4\n", err: `line 2: malformed \uxxxx encoding`},
		{name: "short unicode escape", in: "b=\\u12", err: `line 1: malformed \uxxxx encoding`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseProperties([]byte(c.in))
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func minimalWorker() map[string]string {
	return map[string]string{
		"bootstrap.servers":    "k1:9092,k2:9092",
		"group.id":             "connect-cluster",
		"config.storage.topic": "connect-configs",
		"offset.storage.topic": "connect-offsets",
		"status.storage.topic": "connect-status",
		"key.converter":        "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":      "org.apache.kafka.connect.json.JsonConverter",
	}
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestParseWorkerConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		props map[string]string
		want  []string // each must appear in the error
	}{
		{"everything missing", map[string]string{}, []string{
			`Missing required configuration "group.id" which has no default value.`,
			`Missing required configuration "config.storage.topic" which has no default value.`,
			`Missing required configuration "offset.storage.topic" which has no default value.`,
			`Missing required configuration "status.storage.topic" which has no default value.`,
			`Missing required configuration "key.converter" which has no default value.`,
			`Missing required configuration "value.converter" which has no default value.`,
		}},
		{"bad number", with(minimalWorker(), "offset.flush.interval.ms", "soon"), []string{"Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG"}},
		{"bad protocol", with(minimalWorker(), "connect.protocol", "fancy"), []string{"Invalid value fancy for configuration connect.protocol: String must be one of (case insensitive): eager, compatible, sessioned"}},
		{"bad listener", with(minimalWorker(), "listeners", "ftp://x:1"), []string{"Invalid value ftp://x:1 for configuration listeners: Could not parse listener ftp://x:1"}},
		{"empty listeners", with(minimalWorker(), "listeners", ""), []string{"Invalid value  for configuration listeners: Empty list"}},
		{"bad replication", with(minimalWorker(), "status.storage.replication.factor", "0"), []string{"Invalid value 0 for configuration status.storage.replication.factor: Replication factor must be positive"}},
		{"bad partitions", with(minimalWorker(), "offset.storage.partitions", "0"), []string{"Invalid value 0 for configuration offset.storage.partitions: Number of partitions must be positive, or -1"}},
		{"signature algorithm not verified", with(minimalWorker(), "inter.worker.verification.algorithms", "HmacSHA256", "inter.worker.signature.algorithm", "HmacSHA512"), []string{"inter.worker.signature.algorithm"}},
		{"heartbeat not below session", with(minimalWorker(), "heartbeat.interval.ms", "10000"), []string{"heartbeat.interval.ms: must be lower than session.timeout.ms"}},
		{"advertised port", with(minimalWorker(), "rest.advertised.port", "70000"), []string{"rest.advertised.port"}},
		{"bad admin listener", with(minimalWorker(), "admin.listeners", "http://a.b:9999, ,https://a.b:9999"), []string{"Empty URL found when parsing admin.listeners list."}},
		{"admin listener without port", with(minimalWorker(), "admin.listeners", "http://a.b"), []string{"Could not parse admin listener http://a.b"}},
		{"bad client auth", with(minimalWorker(), "ssl.client.auth", "abc"), []string{"Invalid value abc for configuration ssl.client.auth: String must be one of: required, requested, none"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseWorkerConfig(c.props)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestWorkerConfigDefaults(t *testing.T) {
	c, err := ParseWorkerConfig(minimalWorker())
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"group", c.GroupID(), "connect-cluster"},
		{"listeners", c.Listeners(), []string{"http://:8083"}},
		{"protocol", c.ConnectProtocol(), "sessioned"},
		{"offset partitions", c.cfg.Int(cfgOffsetPartitions), 25},
		{"status partitions", c.cfg.Int(cfgStatusPartitions), 5},
		{"config replication", c.cfg.Int(cfgConfigReplication), 3},
		{"offset replication", c.cfg.Int(cfgOffsetReplication), 3},
		{"status replication", c.cfg.Int(cfgStatusReplication), 3},
		{"session timeout", c.duration(cfgSessionTimeout), 10 * time.Second},
		{"heartbeat", c.duration(cfgHeartbeatInterval), 3 * time.Second},
		{"rebalance timeout", c.duration(cfgRebalanceTimeout), time.Minute},
		{"scheduled delay", c.duration(cfgScheduledRebalanceMax), 5 * time.Minute},
		{"flush interval", c.duration(cfgOffsetFlushInterval), time.Minute},
		{"flush timeout", c.duration(cfgOffsetFlushTimeout), 5 * time.Second},
		{"graceful shutdown", c.duration(cfgTaskShutdownTimeout), 5 * time.Second},
		{"header converter", c.cfg.String(cfgHeaderConverter), "org.apache.kafka.connect.storage.SimpleHeaderConverter"},
		{"admin listeners unset", c.AdminListeners() == nil, true},
		{"member client id", strings.HasPrefix(c.memberClientID(), "connect-"), true},
		{"client id base", c.clientIDBase(), "connect-cluster-"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	enabled, reset := c.TopicTracking()
	if !enabled || !reset {
		t.Error("topic tracking should default to enabled with reset allowed")
	}
}

func TestAdvertisedURL(t *testing.T) {
	host := localHostName()
	pemTLS := newTestPKI(t).tlsProps("")
	cases := []struct {
		name    string
		props   []string
		url, id string
	}{
		{"default listener", nil, "http://" + host + ":8083/", host + ":8083"},
		{"listener host", []string{"listeners", "http://w1:9000"}, "http://w1:9000/", "w1:9000"},
		{"all interfaces", []string{"listeners", "http://0.0.0.0:9000"}, "http://" + host + ":9000/", host + ":9000"},
		{"advertised host and port", []string{"listeners", "http://0.0.0.0:8083", "rest.advertised.host.name", "connect-1", "rest.advertised.port", "18083"}, "http://connect-1:18083/", "connect-1:18083"},
		{"https only", append([]string{"listeners", "https://secure:8443"}, pemTLS...), "https://secure:8443/", "secure:8443"},
		{"http preferred", append([]string{"listeners", "https://s:8443,http://p:8083"}, pemTLS...), "http://p:8083/", "p:8083"},
		{"advertised listener", append([]string{"listeners", "https://s:8443,http://p:8083", "rest.advertised.listener", "HTTPS"}, pemTLS...), "https://s:8443/", "s:8443"},
		{"https behind a proxy", []string{"listeners", "http://p:8083", "rest.advertised.listener", "https", "rest.advertised.host.name", "proxy", "rest.advertised.port", "443"},
			"https://proxy:443/", "proxy:443"},
		{"IPv6", []string{"listeners", "http://[::1]:8083"}, "http://[::1]:8083/", "[::1]:8083"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseWorkerConfig(with(minimalWorker(), c.props...))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.AdvertisedURL(); got != c.url {
				t.Errorf("AdvertisedURL = %q, want %q", got, c.url)
			}
			if got := cfg.WorkerID(); got != c.id {
				t.Errorf("WorkerID = %q, want %q", got, c.id)
			}
		})
	}
}

func TestClientProps(t *testing.T) {
	cfg, err := ParseWorkerConfig(with(minimalWorker(),
		"security.protocol", "SASL_SSL",
		"sasl.mechanism", "PLAIN",
		"client.id", "w1",
		"consumer.max.poll.records", "100",
		"consumer.security.protocol", "SSL",
		"producer.acks", "all",
		"admin.request.timeout.ms", "1000",
		"key.converter.schemas.enable", "false",
		"config.storage.min.insync.replicas", "2",
		"listeners.https.ssl.keystore.location", "/k",
		"session.timeout.ms", "20000",
		"ssl.client.auth", "required",
		"admin.listeners", "http://127.0.0.1:9999",
		"admin.listeners.https.ssl.keystore.location", "/a",
		"access.control.allow.methods", "GET,PUT",
	))
	if err != nil {
		t.Fatal(err)
	}
	base := cfg.clientProps("")
	want := map[string]string{"bootstrap.servers": "k1:9092,k2:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}
	if !reflect.DeepEqual(base, want) {
		t.Errorf("base client props = %v, want %v", base, want)
	}
	consumer := cfg.clientProps("consumer.")
	if consumer["security.protocol"] != "SSL" || consumer["max.poll.records"] != "100" || consumer["sasl.mechanism"] != "PLAIN" {
		t.Errorf("consumer props = %v", consumer)
	}
	if _, ok := consumer["acks"]; ok {
		t.Error("producer settings leaked into the consumer")
	}
	admin := cfg.clientProps("admin.")
	if got := admin["request.timeout.ms"]; got != "1000" {
		t.Errorf("admin request.timeout.ms = %q", got)
	}
	for k := range admin {
		if strings.HasPrefix(k, "listeners") {
			t.Errorf("the admin client gets the REST setting %s", k)
		}
	}
	if got, want := cfg.unusedSettings(), []string{"access.control.allow.methods", "admin.listeners", "admin.listeners.https.ssl.keystore.location"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unused settings = %v, want %v", got, want)
	}
	if got := cfg.clientIDBase(); got != "connect-cluster-w1-" {
		t.Errorf("client id base = %q", got)
	}
	if got := cfg.memberClientID(); got != "w1" {
		t.Errorf("member client id = %q", got)
	}
	topic, ignored := cfg.topicSettings("config.storage.")
	if ignored || !reflect.DeepEqual(topic, map[string]string{"min.insync.replicas": "2"}) {
		t.Errorf("config topic settings = %v (policy ignored %v)", topic, ignored)
	}
	reg, err := sink.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	ts := h.taskSettings()
	if ts.KeyConverter.Class != "org.apache.kafka.connect.json.JsonConverter" || !reflect.DeepEqual(ts.KeyConverter.Config, map[string]string{"schemas.enable": "false"}) {
		t.Errorf("key converter = %+v", ts.KeyConverter)
	}
	if ts.HeaderConverter.Class != simpleHeaderConverter || ts.GroupID != "connect-cluster" || ts.OffsetFlushInterval != time.Minute {
		t.Errorf("task settings = %+v", ts)
	}
	// Tasks get the raw properties, to lay each connector's overrides over them.
	if !reflect.DeepEqual(ts.ConsumerProps, consumer) || !reflect.DeepEqual(ts.ProducerProps, cfg.clientProps("producer.")) || ts.ProducerProps["acks"] != "all" {
		t.Errorf("task client props: consumer %v, producer %v", ts.ConsumerProps, ts.ProducerProps)
	}
	if ts.OverridePolicy != "All" || ts.ShutdownTimeout != 5*time.Second {
		t.Errorf("policy %q, shutdown timeout %v", ts.OverridePolicy, ts.ShutdownTimeout)
	}
}

func TestOverridePolicyNames(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"All", "All"},
		{"None", "None"},
		{" Principal ", "Principal"},
		{"PrincipalConnectorClientConfigOverridePolicy", "Principal"},
		{"org.apache.kafka.connect.connector.policy.NoneConnectorClientConfigOverridePolicy", "None"},
		{"org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy", "All"},
		{"all", ""},
		{"com.example.MyPolicy", ""},
	} {
		cfg, err := ParseWorkerConfig(with(minimalWorker(), "connector.client.config.override.policy", c.value))
		switch {
		case c.want == "" && (err == nil || !strings.Contains(err.Error(), "Invalid value "+strings.TrimSpace(c.value)+" for configuration connector.client.config.override.policy")):
			t.Errorf("%q: %v", c.value, err)
		case c.want != "" && err != nil:
			t.Errorf("%q: %v", c.value, err)
		case c.want != "" && cfg.OverridePolicy() != c.want:
			t.Errorf("%q: policy %q, want %q", c.value, cfg.OverridePolicy(), c.want)
		}
	}
	cfg, err := ParseWorkerConfig(with(minimalWorker(), "task.shutdown.graceful.timeout.ms", "0"))
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := sink.NewRegistry()
	h, err := New(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.taskSettings().ShutdownTimeout; got <= 0 || got > time.Millisecond {
		t.Errorf("a zero graceful timeout gives the tasks %v, want the least possible", got)
	}
}

func TestLoadWorkerConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "worker.properties")
	content := `# A typical distributed worker file
bootstrap.servers=localhost:9092
group.id=connect-cluster
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.topic=connect-offsets
offset.storage.replication.factor=1
config.storage.topic=connect-configs
config.storage.replication.factor=1
status.storage.topic=connect-status
status.storage.replication.factor=1
offset.flush.interval.ms=10000
plugin.path=/usr/share/java,\
        /usr/local/share/kafka/plugins
`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadWorkerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.duration(cfgOffsetFlushInterval); got != 10*time.Second {
		t.Errorf("flush interval = %v", got)
	}
	if v, _ := cfg.Get("plugin.path"); v != "/usr/share/java,/usr/local/share/kafka/plugins" {
		t.Errorf("plugin.path = %q", v)
	}
	if got := cfg.unusedSettings(); !reflect.DeepEqual(got, []string{"plugin.path"}) {
		t.Errorf("unused settings = %v", got)
	}
	if _, err := LoadWorkerConfig(filepath.Join(dir, "missing.properties")); err == nil {
		t.Error("a missing file must fail")
	}
}

// TestWorkerConfigDefDocumented keeps every worker key documented, so the generated reference
// is complete.
func TestWorkerConfigDefDocumented(t *testing.T) {
	for _, k := range WorkerConfigDef().Keys() {
		if k.Doc == "" || k.Group == "" {
			t.Errorf("%s lacks documentation or a group", k.Name)
		}
	}
	if md := WorkerConfigDef().Markdown(); !strings.Contains(md, "`group.id`") {
		t.Error("Markdown reference lacks group.id")
	}
}
