package kusto

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/sink"
)

func TestDefaults(t *testing.T) {
	props := baseProps(t)
	delete(props, KeyTempDir)
	c, err := ParseConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		IngestionURL: "https://ingest-cluster_name.kusto.windows.net", QueryURL: "https://cluster_name.kusto.windows.net",
		Auth: AuthApplication, AppID: "some-appid", Authority: "some-authority", ProxyPort: -1, TrustedHosts: []string{},
		TempDir: os.TempDir(), FlushSize: 1 << 20, FlushInterval: 30 * time.Second, CompressionLevel: 1, Concurrency: 4,
		BehaviorOnError: BehaviorFail, RetryMaxTime: 300 * time.Second, RetryBackoff: 10 * time.Second,
	}
	got := *c
	got.routes, got.AppKey = nil, sink.Password{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if c.AppKey.Value() != "some-appkey" || c.AppKey.String() != "[hidden]" {
		t.Fatal("app key must be kept and hidden")
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		kv   []string
		want string // "" = valid
	}{
		{"missing ingestion URL", []string{KeyIngestionURL, "<delete>"}, `Missing required configuration "kusto.ingestion.url" which has no default value.`},
		{"missing mapping", []string{KeyTopicsMapping, "<delete>"}, `Missing required configuration "kusto.tables.topics.mapping" which has no default value.`},
		{"application without appid", []string{KeyAppID, "<delete>"}, "Kusto authentication missing App Key."},
		{"application without appkey", []string{KeyAppKey, "<delete>"}, "Kusto authentication missing App Key."},
		{"application without authority", []string{KeyAuthority, "<delete>"}, "Kusto authentication missing Authority"},
		{"managed identity without appid", []string{KeyAuthStrategy, "MANAGED_IDENTITY", KeyAppID, "<delete>", KeyAppKey, "<delete>"}, ""},
		{"lower-case managed identity without appkey", []string{KeyAuthStrategy, "managed_identity", KeyAppKey, "<delete>"}, ""},
		{"workload identity", []string{KeyAuthStrategy, "workload_identity", KeyAppKey, "<delete>"}, ""},
		{"mixed-case strategy", []string{KeyAuthStrategy, "Managed_Identity"},
			"Invalid value Managed_Identity for configuration aad.auth.strategy: String must be one of: APPLICATION, application, MANAGED_IDENTITY, managed_identity, AZ_DEV_TOKEN, az_dev_token, WORKLOAD_IDENTITY, workload_identity, NONE, none"},
		{"dev token without token", []string{KeyAuthStrategy, "az_dev_token"}, "Kusto authentication missing Access Token"},
		{"dev token", []string{KeyAuthStrategy, "AZ_DEV_TOKEN", KeyAccessToken, "eyJ0eXAi"}, ""},
		{"behavior", []string{KeyBehaviorOnErr, "DummyValue"},
			"Invalid value DummyValue for configuration behavior.on.error: String must be one of: FAIL, LOG, IGNORE, fail, log, ignore"},
		{"behavior lower case", []string{KeyBehaviorOnErr, "ignore"}, ""},
		{"flush size", []string{KeyFlushSize, "99"}, "Invalid value 99 for configuration flush.size.bytes: Value must be at least 100"},
		{"flush interval", []string{KeyFlushInterval, "10"}, "Invalid value 10 for configuration flush.interval.ms: Value must be at least 100"},
		{"backoff", []string{KeyRetryBackoff, "0"}, "Invalid value 0 for configuration errors.retry.backoff.time.ms: Value must be at least 1"},
		{"compression level", []string{KeyCompression, "10"}, "Invalid value 10 for configuration kusto.compression.level: Value must be no more than 9"},
		{"compression store", []string{KeyCompression, "0"}, ""},
		{"http with authentication", []string{KeyIngestionURL, "http://ingest-cluster.kusto.windows.net"},
			"Invalid value http://ingest-cluster.kusto.windows.net for configuration kusto.ingestion.url: HTTP is not supported. Only HTTPS endpoints are allowed."},
		{"HTTP upper case", []string{KeyQueryURL, "HTTP://cluster.kusto.windows.net"}, "HTTP is not supported. Only HTTPS endpoints are allowed."},
		{"http loopback without authentication", []string{KeyAuthStrategy, "none", KeyIngestionURL, "http://127.0.0.1:8080", KeyQueryURL, "http://localhost:8080/"}, ""},
		{"http remote without authentication", []string{KeyAuthStrategy, "none", KeyIngestionURL, "http://kustoemu:8080"}, "Plain HTTP is only allowed for local Kusto emulators"},
		{"http trusted host without authentication", []string{KeyAuthStrategy, "none", KeyIngestionURL, "http://kustoemu:8080", KeyTrustedHosts, "kustoemu"}, ""},
		{"https loopback with authentication", []string{KeyIngestionURL, "https://127.0.0.1"}, "URL does not point to a known Azure Data Explorer endpoint."},
		{"https trusted private host", []string{KeyIngestionURL, "https://ingest-x.privatelink.corp", KeyTrustedHosts, ".privatelink.corp"}, ""},
		{"trusted host given as a URL", []string{KeyIngestionURL, "https://kusto.proxy.corp:8443", KeyTrustedHosts, "other, https://KUSTO.proxy.corp:8443/"}, ""},
		{"scheme-less", []string{KeyIngestionURL, "ingest-cluster.westeurope.kusto.windows.net"}, ""},
		{"blank query URL", []string{KeyQueryURL, ""}, ""},
		{"blank query URL with streaming", []string{KeyQueryURL, "", KeyTopicsMapping, "[{'topic':'a','db':'d','table':'t','streaming':true}]"}, "needs the Kusto query URL"},
		{"bad URL", []string{KeyIngestionURL, "https://bad host.kusto.windows.net"}, "Invalid URL format:"},
		{"CA file missing", []string{KeyTLSCAFile, "/nonexistent/ca.pem"}, "Invalid value /nonexistent/ca.pem for configuration kusto.tls.ca.file: Cannot read the CA file"},
		{"proxy", []string{KeyProxyHost, "proxy.corp", KeyProxyPort, "3128"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(with(baseProps(t), tc.kv...))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
}

// The allow-list of the Java sink's KustoEndpointUrlValidatorTest (reference §1.6).
func TestEndpointAllowList(t *testing.T) {
	accepted := []string{
		"https://mycluster.westeurope.kusto.windows.net", "https://ingest-mycluster.westeurope.kusto.windows.net",
		"https://MYCLUSTER.KUSTO.WINDOWS.NET", "https://mycluster.kusto.windows.net/", "https://mycluster.kusto.windows.net:443",
		"https://mycluster.kusto.windows.net/some/path", "https://mycluster.kustomfa.windows.net", "https://mycluster.kustodev.windows.net",
		"https://mycluster.kusto.chinacloudapi.cn", "https://mycluster.kusto.usgovcloudapi.net",
		"https://myeventhouse.z1.kusto.fabric.microsoft.com", "https://title.playfab.com", "https://title.playfabapi.com",
		"https://x.azureplayfab.com", "https://pool.workspace.kusto.azuresynapse.net", "https://help.kusto.data.microsoft.com",
		"https://c.kusto.core.eaglex.ic.gov", "https://c.kusto.core.microsoft.scloud", "https://c.kusto.sovcloud-api.fr",
		"https://c.kusto.sovcloud-api.de", "https://c.kusto.sovcloud-api.sg", "", "   ",
	}
	for _, u := range accepted {
		if _, err := checkEndpoint(u, false, nil); err != nil {
			t.Errorf("%q rejected: %v", u, err)
		}
	}
	rejected := []string{
		"https://evil.attacker.com", "https://internal-service.corp.net", "https://not-kusto.microsoft.com",
		"https://kusto-fake.windows.net", "https://kusto.windows.net.attacker.com", "https://kusto.windows.net.evil.com",
		"https://localhost:8080", "https://10.0.0.1", "https://[::1]:443",
	}
	for _, u := range rejected {
		if _, err := checkEndpoint(u, false, nil); err == nil || !strings.Contains(err.Error(), "URL does not point to a known Azure Data Explorer endpoint.") {
			t.Errorf("%q: %v", u, err)
		}
	}
	if got, _ := checkEndpoint("  cluster.kusto.windows.net ", false, nil); got != "https://cluster.kusto.windows.net" {
		t.Errorf("normalized to %q", got)
	}
}

func TestTopicMapping(t *testing.T) {
	rs, err := parseRoutes("[{'topic':'topic1','db':'db1','table':'table1','format':'csv'},{'topic':'topic2','db':'db2','table':'table2','format':'JSON','mapping':'Mapping','streaming':'TRUE'}]")
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := rs.lookup("topic1")
	r2, _ := rs.lookup("topic2")
	if *r1 != (route{Topic: "topic1", Database: "db1", Table: "table1", Format: formatCSV}) {
		t.Errorf("topic1: %+v", r1)
	}
	if *r2 != (route{Topic: "topic2", Database: "db2", Table: "table2", Format: formatMultiJSON, Mapping: "Mapping", Streaming: true}) {
		t.Errorf("topic2: %+v", r2)
	}
	if _, ok := rs.lookup("topic3"); ok {
		t.Error("topic3 has no mapping")
	}

	rs, err = parseRoutes(`[{"topic":"a","db":"d","table":"t1","streaming":false},{"topic":"a","db":"d","table":"t2"},{'topic':'*','db':'dw','table':'tw','format':'singlejson'}]`)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := rs.lookup("a"); r.Table != "t2" || r.Format != formatCSV {
		t.Errorf("a later entry for the same topic must win: %+v", r)
	}
	if r, _ := rs.lookup("anything"); r.Table != "tw" || r.Format != formatMultiJSON {
		t.Errorf("wildcard: %+v", r)
	}
	if r, _ := rs.lookup("*"); r.Table != "tw" {
		t.Errorf("wildcard by name: %+v", r)
	}

	for text, want := range map[string]string{
		`[{'db':'db1','table':'t'}]`:                                              "'topic' must be provided for each mapping",
		`[{'topic':'a','table':'t'}]`:                                             "'db' must be provided for each mapping",
		`[{'topic':'a','db':'','table':'t'}]`:                                     "'db' must be provided for each mapping",
		`[{'topic':'a','db':'d'}]`:                                                "'table' must be provided for each mapping",
		`[{'topic':null,'db':'d','table':'t'}]`:                                   "'topic' must be provided for each mapping",
		`[{'topic':'a','db':'d','table':'TestTable; .show databases'}]`:           "'table' contains invalid characters: 'TestTable; .show databases'. Only alphanumeric characters, underscores, hyphens, and dots are allowed.",
		`[{'topic':'a','db':'testdb; .drop table X','table':'t'}]`:                "'db' contains invalid characters: 'testdb; .drop table X'. Only alphanumeric characters, underscores, hyphens, and dots are allowed.",
		`[{'topic':'a','db':'d','table':'t','mapping':'m1\' | .show databases'}]`: "'mapping' contains invalid characters: 'm1' | .show databases'.",
		`[{'topic':'a','db':'d','table':'t','format':'json; .drop table'}]`:       "'format' contains invalid characters: 'json; .drop table'. Only alphanumeric characters are allowed.",
		`[{'topic':'a','db':'d','table':'TestTable | project Name'}]`:             "'table' contains invalid characters",
		`[{'topic':'a','db':'d','table':'t','format':'avro'}]`:                    "Topic 'a': ingestion format 'avro' is not supported by this version of the Kusto sink yet. Supported formats are: csv, json, multijson, psv, scsv, singlejson, sohsv, tsv, tsve, txt.",
		`[{'topic':'a','db':'d','table':'t','format':'parquet'}]`:                 "is not supported by this version of the Kusto sink yet",
		`[{'topic':'a','db':'d','table':'t','format':'parqet'}]`:                  "Topic 'a': unsupported ingestion format 'parqet'. Supported formats are:",
		`[{'topic':'a','db':'d','table':'t','streaming':'yes'}]`:                  "only \"true\" or \"false\" recognized",
		`[{'topic':'a','db':'d','table':'t','dynamicPayload':'true'}]`:            `Unrecognized field "dynamicPayload"`,
		`[{'Topic':'a','db':'d','table':'t'}]`:                                    `Unrecognized field "Topic"`,
		`{'topic':'a','db':'d','table':'t'}`:                                      "Expected a JSON array of objects",
		`testValue`:                                                               "Failed to parse ``kusto.tables.topics.mapping`` configuration. Invalid JSON",
		`[{'topic':'a'`:                                                           "Failed to parse ``kusto.tables.topics.mapping`` configuration.",
		`[{'topic':'a,'db':'d','table':'t'}]`:                                     "Failed to parse ``kusto.tables.topics.mapping`` configuration.",
		`[] []`:                                                                   "Unexpected content after the JSON array.",
	} {
		if _, err := parseRoutes(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want %q, got %v", text, want, err)
		}
	}
	for _, ok := range []string{
		`[{'topic':'a','db':'my_db.prod','table':'my_table-v2','mapping':'my_mapping.v1','format':'tsv'}]`,
		`[{'topic':'a.b-c','db':'db1','table':'Table1','format':'Csv','mapping':null,'streaming':null}]`,
		`[{'topic':'it\'s','db':'d','table':'t','format':''}]`,
		`[{"topic":"with \"quotes\"","db":"d","table":"t"}]`,
		`[]`,
	} {
		if _, err := parseRoutes(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	rs, _ = parseRoutes(`[{'topic':'it\'s "x"','db':'d','table':'t'}]`)
	if _, ok := rs.lookup(`it's "x"`); !ok {
		t.Error("single-quoted strings must unescape \\' and keep double quotes")
	}
}

func TestValidateReportsCrossKeyErrorsOnTheirKeys(t *testing.T) {
	c := NewConnector()
	props := with(baseProps(t), KeyAppKey, "<delete>", KeyTopicsMapping, "[{'topic':'a','db':'bad db','table':'t'}]",
		KeyFlushSize, "5", KeyQueryURL, "https://evil.attacker.com")
	values := c.Validate(props, ConfigDef().Validate(props))
	errs := map[string][]string{}
	for _, v := range values {
		if len(v.Errors) > 0 {
			errs[v.Name] = v.Errors
		}
	}
	want := map[string]string{
		KeyFlushSize:     "Value must be at least 100",
		KeyAppKey:        "Kusto authentication missing App Key.",
		KeyTopicsMapping: "'db' contains invalid characters: 'bad db'.",
		KeyQueryURL:      "URL does not point to a known Azure Data Explorer endpoint.",
	}
	if len(errs) != len(want) {
		t.Fatalf("errors on %v, want on %v", errs, want)
	}
	for k, w := range want {
		if len(errs[k]) != 1 || !strings.Contains(errs[k][0], w) {
			t.Errorf("%s: %q, want %q", k, errs[k], w)
		}
	}
	for _, v := range values {
		if v.Name == KeyAppKey && v.Value != nil {
			t.Errorf("absent app key reported as %q", *v.Value)
		}
	}
	clean := c.Validate(baseProps(t), ConfigDef().Validate(baseProps(t)))
	for _, v := range clean {
		if len(v.Errors) > 0 {
			t.Errorf("valid config: %s: %v", v.Name, v.Errors)
		}
	}
	// A missing required key is reported once; the other checks still run.
	props = with(baseProps(t), KeyIngestionURL, "<delete>", KeyTopicsMapping, "nope")
	for _, v := range c.Validate(props, ConfigDef().Validate(props)) {
		switch v.Name {
		case KeyIngestionURL:
			if len(v.Errors) != 1 {
				t.Errorf("ingestion URL errors %q", v.Errors)
			}
		case KeyTopicsMapping:
			if len(v.Errors) != 1 || !strings.Contains(v.Errors[0], "Failed to parse") {
				t.Errorf("mapping errors %q", v.Errors)
			}
		}
	}
}

// A topic listed in topics without a mapping entry is a configuration error on
// kusto.tables.topics.mapping, found by Validate and at connector start, with the message the
// task gives when such a partition is assigned.
func TestTopicsWithoutMapping(t *testing.T) {
	msg := func(topic string) string {
		return "Kusto Sink has no ingestion props mapped for the topic: " + topic + ". please check your configuration."
	}
	for _, tc := range []struct {
		name string
		kv   []string
		want []string // unmapped topics, in order
	}{
		{"all mapped", []string{"topics", "topic1,topic2"}, nil},
		{"one unmapped", []string{"topics", "topic1, topic3"}, []string{"topic3"}},
		{"each once, in order", []string{"topics", " topic4 ,topic3,topic4,,topic2"}, []string{"topic4", "topic3"}},
		{"wildcard maps the rest", []string{"topics", "topic1,topic3", KeyTopicsMapping, "[{'topic':'*','db':'d','table':'t'}]"}, nil},
		{"topics.regex is checked when partitions are assigned", []string{"topics.regex", "topic.*"}, nil},
		{"no topics key", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := with(baseProps(t), tc.kv...)
			_, err := ParseConfig(props)
			var wantErrs []string
			for _, topic := range tc.want {
				wantErrs = append(wantErrs, msg(topic))
			}
			if len(wantErrs) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
			} else if err == nil || err.Error() != strings.Join(wantErrs, "\n") {
				t.Fatalf("parse error %v, want %q", err, wantErrs)
			}

			values := NewConnector().Validate(props, ConfigDef().Validate(props))
			var got []string
			for _, v := range values {
				if len(v.Errors) > 0 && v.Name != KeyTopicsMapping {
					t.Errorf("errors on %s: %v", v.Name, v.Errors)
				}
				if v.Name == KeyTopicsMapping {
					got = v.Errors
				}
			}
			if !reflect.DeepEqual(got, wantErrs) && len(got)+len(wantErrs) > 0 {
				t.Errorf("validate: %q, want %q", got, wantErrs)
			}

			err = NewConnector().Start(context.Background(), nil, props)
			if len(wantErrs) == 0 && err != nil {
				t.Fatalf("connector start: %v", err)
			}
			if len(wantErrs) > 0 && (err == nil || !strings.Contains(err.Error(), "Kusto Connector failed to start due to configuration error. "+wantErrs[0])) {
				t.Fatalf("connector start: %v", err)
			}
		})
	}
	// A broken mapping is reported once, not once per topic as well.
	props := with(baseProps(t), "topics", "a,b", KeyTopicsMapping, "nope")
	for _, v := range NewConnector().Validate(props, ConfigDef().Validate(props)) {
		if v.Name == KeyTopicsMapping && (len(v.Errors) != 1 || !strings.Contains(v.Errors[0], "Failed to parse")) {
			t.Errorf("broken mapping: %q", v.Errors)
		}
	}
}

// Every refusal of a host says how to trust it, and no message points at SDK internals.
func TestEndpointErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		url    string
		noAuth bool
		want   string
	}{
		{"https://127.0.0.1:8080", false, "127.0.0.1 is a loopback or IP address, which is only trusted when listed in kusto.trusted.hosts"},
		{"https://localhost", false, "localhost is a loopback or IP address, which is only trusted when listed in kusto.trusted.hosts"},
		{"https://[::1]:443", false, "::1 is a loopback or IP address"},
		{"https://10.1.2.3", true, "10.1.2.3 is a loopback or IP address"},
		{"https://kusto.corp.example", false, "kusto.corp.example is not a well-known Kusto host (such as <cluster>.<region>.kusto.windows.net); " +
			"to use it (Private Link, a proxy, an emulator), list it in kusto.trusted.hosts."},
		{"http://kustoemu:8080", true, "to use kustoemu, list it in kusto.trusted.hosts"},
		{"http://cluster.kusto.windows.net", false, "HTTP is not supported. Only HTTPS endpoints are allowed. (Plain http:// is only accepted with aad.auth.strategy=none"},
		{"ftp://cluster.kusto.windows.net", false, `unsupported scheme "ftp"; use https://`},
		{"https://user:pw@cluster.kusto.windows.net", false, "set them in the aad.auth.* settings"},
	} {
		_, err := checkEndpoint(tc.url, tc.noAuth, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
			continue
		}
		for _, internal := range []string{"azure-kusto-java", "WellKnownKustoEndpoints", "SDK"} {
			if strings.Contains(err.Error(), internal) {
				t.Errorf("%s: the message mentions %q: %v", tc.url, internal, err)
			}
		}
		if strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: the message shows the password: %v", tc.url, err)
		}
	}
}

func TestIdentityNamesNoSecret(t *testing.T) {
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{nil, "aad.auth.strategy=application, aad.auth.appid=some-appid, aad.auth.authority=some-authority"},
		{[]string{KeyAuthStrategy, "managed_identity", KeyAppID, "<delete>"}, "aad.auth.strategy=managed_identity, the system-assigned identity"},
		{[]string{KeyAuthStrategy, "managed_identity"}, "aad.auth.strategy=managed_identity, the user-assigned identity aad.auth.appid=some-appid"},
		{[]string{KeyAuthStrategy, "workload_identity", KeyAppID, "<delete>"}, "aad.auth.strategy=workload_identity, the worker's AZURE_CLIENT_ID"},
		{[]string{KeyAuthStrategy, "az_dev_token", KeyAccessToken, "tok-secret"}, "aad.auth.strategy=az_dev_token, the static token in aad.auth.accesstoken"},
		{[]string{KeyAuthStrategy, "none", KeyIngestionURL, "http://127.0.0.1:1", KeyQueryURL, "http://127.0.0.1:1"}, "aad.auth.strategy=none, no credentials are sent"},
	} {
		cfg, err := ParseConfig(with(baseProps(t), tc.kv...))
		if err != nil {
			t.Fatal(err)
		}
		got := cfg.identity()
		if !strings.Contains(got, tc.want) || strings.Contains(got, "some-appkey") || strings.Contains(got, "tok-secret") {
			t.Errorf("identity %q, want %q and no secret", got, tc.want)
		}
	}
}

func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	if _, err := ParseConfig(with(baseProps(t), KeyTLSCAFile, notPEM)); err == nil || !strings.Contains(err.Error(), "The CA file holds no PEM certificate") {
		t.Fatalf("non-PEM CA file: %v", err)
	}
	good := filepath.Join(dir, "ca.pem")
	os.WriteFile(good, selfSignedCA(t), 0o600)
	c, err := ParseConfig(with(baseProps(t), KeyTLSCAFile, good))
	if err != nil || c.CACerts == nil {
		t.Fatalf("CA file: %v", err)
	}
}

func TestConnector(t *testing.T) {
	c := NewConnector()
	ctx := context.Background()
	err := c.Start(ctx, nil, with(baseProps(t), KeyTopicsMapping, "testValue"))
	if err == nil || !strings.Contains(err.Error(), "Kusto Connector failed to start due to configuration error.") {
		t.Fatalf("a bad mapping must fail the connector at start: %v", err)
	}
	props := baseProps(t)
	if err := c.Start(ctx, nil, props); err != nil {
		t.Fatal(err)
	}
	javaOnly := with(props, "misc.deadletterqueue.topic.name", "dlq", "kusto.validation.table.enable", "true")
	if got := ignoredJavaKeys(javaOnly); !reflect.DeepEqual(got, []string{"kusto.validation.table.enable", "misc.deadletterqueue.topic.name"}) {
		t.Fatalf("ignored keys %v", got)
	}
	tasks, err := c.TaskConfigs(3)
	if err != nil || len(tasks) != 3 {
		t.Fatalf("task configs: %v %v", tasks, err)
	}
	for _, tc := range tasks {
		if !reflect.DeepEqual(tc, props) {
			t.Fatalf("task config %v, want a copy of %v", tc, props)
		}
	}
	tasks[0]["x"] = "y"
	if _, ok := tasks[1]["x"]; ok {
		t.Fatal("task configs must be independent copies")
	}
	if tasks, err := c.TaskConfigs(0); err != nil || len(tasks) != 0 {
		t.Fatalf("no tasks: %v %v", tasks, err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// The runtime hands connectors and tasks its logger, which already names the connector.
func TestLoggersComeFromTheRuntime(t *testing.T) {
	type loggerSetter interface{ SetLogger(*slog.Logger) }
	var _ loggerSetter = (*Connector)(nil)
	var _ loggerSetter = (*Task)(nil)
	runtimeLogger := func(buf *bytes.Buffer) *slog.Logger {
		return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With("connector", "k1")
	}

	var buf bytes.Buffer
	c := NewConnector()
	c.SetLogger(runtimeLogger(&buf))
	if err := c.Start(context.Background(), nil, with(baseProps(t), "name", "k1", "misc.deadletterqueue.topic.name", "dlq")); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "is not supported by this version and is ignored") || strings.Count(out, "connector=k1") != 1 {
		t.Fatalf("connector log %q", out)
	}

	buf.Reset()
	task := NewTask()
	task.SetLogger(runtimeLogger(&buf))
	task.newIngester = func(*Config, *slog.Logger) (ingester, error) { return &fakeIngester{t: t}, nil }
	if err := task.Start(context.Background(), &fakeContext{}, with(baseProps(t), "name", "k1")); err != nil {
		t.Fatal(err)
	}
	defer task.Stop(context.Background())
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, sink.Record{Topic: "topic1", Offset: 0})
	if out := buf.String(); !strings.Contains(out, "skipping a record with a null value") || strings.Count(out, "connector=k1") != 1 {
		t.Fatalf("task log %q", out)
	}
}

func TestPluginRegistersUnderJavaNames(t *testing.T) {
	reg, err := sink.NewRegistry(Plugin())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ConnectorClass, "KustoSinkConnector", "KustoSink"} {
		p, ok := reg.Lookup(name)
		if !ok || p.TaskClass != TaskClass || p.Type != sink.PluginTypeSink || p.Config != ConfigDef() {
			t.Errorf("lookup %s: %+v %v", name, p, ok)
		}
	}
	// Groups and order follow the Java KustoSinkConfig.
	if got := ConfigDef().Groups(); !reflect.DeepEqual(got, []string{"Connection", "Writes", "Error Handling and Retries"}) {
		t.Errorf("groups %v", got)
	}
	for _, k := range ConfigDef().Keys() {
		if k.Doc == "" || k.DisplayName == "" {
			t.Errorf("%s lacks documentation", k.Name)
		}
	}
	for _, absent := range []string{"kusto.validation.table.enable", "misc.deadletterqueue.bootstrap.servers", "misc.deadletterqueue.topic.name"} {
		if _, ok := ConfigDef().Key(absent); ok {
			t.Errorf("%s is not implemented and must not be defined", absent)
		}
	}
}

func selfSignedCA(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
