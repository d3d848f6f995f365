package kafkaprops

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func newClient(t *testing.T, props map[string]string) *kgo.Client {
	t.Helper()
	opts, err := ClientOpts(props)
	if err != nil {
		t.Fatalf("ClientOpts: %v", err)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestClientOptsTranslatesValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		opt   any
		want  any
	}{
		{"bootstrap", map[string]string{"bootstrap.servers": " a:9092, PLAINTEXT://b:9093 ,"}, kgo.SeedBrokers, []string{"a:9092", "b:9093"}},
		{"client id", map[string]string{"client.id": "me"}, kgo.ClientID, "me"},
		{"rack", map[string]string{"client.rack": "r1"}, kgo.Rack, "r1"},
		{"fetch.max.bytes", map[string]string{"fetch.max.bytes": "1048576"}, kgo.FetchMaxBytes, int32(1048576)},
		{"fetch.min.bytes", map[string]string{"fetch.min.bytes": "10"}, kgo.FetchMinBytes, int32(10)},
		{"max.partition.fetch.bytes", map[string]string{"max.partition.fetch.bytes": "65536"}, kgo.FetchMaxPartitionBytes, int32(65536)},
		{"fetch.max.wait.ms", map[string]string{"fetch.max.wait.ms": "250"}, kgo.FetchMaxWait, 250 * time.Millisecond},
		{"session.timeout.ms", map[string]string{"session.timeout.ms": "10000"}, kgo.SessionTimeout, 10 * time.Second},
		{"heartbeat.interval.ms", map[string]string{"heartbeat.interval.ms": "500"}, kgo.HeartbeatInterval, 500 * time.Millisecond},
		{"max.poll.interval.ms", map[string]string{"max.poll.interval.ms": "120000"}, kgo.RebalanceTimeout, 2 * time.Minute},
		{"request.timeout.ms", map[string]string{"request.timeout.ms": "20000"}, kgo.RequestTimeoutOverhead, 20 * time.Second},
		{"request.timeout.ms clamped", map[string]string{"request.timeout.ms": "10"}, kgo.RequestTimeoutOverhead, 100 * time.Millisecond},
		{"metadata.max.age.ms", map[string]string{"metadata.max.age.ms": "60000"}, kgo.MetadataMaxAge, time.Minute},
		{"metadata.max.age.ms small", map[string]string{"metadata.max.age.ms": "1000"}, kgo.MetadataMinAge, time.Second},
		{"metadata.max.age.ms clamped", map[string]string{"metadata.max.age.ms": "7200000"}, kgo.MetadataMaxAge, time.Hour},
		{"auto.commit.interval.ms", map[string]string{"auto.commit.interval.ms": "2000"}, kgo.AutoCommitInterval, 2 * time.Second},
		{"group.instance.id", map[string]string{"group.instance.id": "i-1"}, kgo.InstanceID, "i-1"},
		{"linger.ms", map[string]string{"linger.ms": "5"}, kgo.ProducerLinger, 5 * time.Millisecond},
		{"batch.size", map[string]string{"batch.size": "16384"}, kgo.ProducerBatchMaxBytes, int32(16384)},
		{"connections.max.idle.ms", map[string]string{"connections.max.idle.ms": "-1"}, kgo.ConnIdleTimeout, 15 * time.Minute},
		{"socket.connection.setup.timeout.ms", map[string]string{"socket.connection.setup.timeout.ms": "3000"}, kgo.DialTimeout, 3 * time.Second},
		{"trimmed", map[string]string{"fetch.min.bytes": " 7 "}, kgo.FetchMinBytes, int32(7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := newClient(t, tc.props)
			got := cl.OptValue(tc.opt)
			if !equalAny(got, tc.want) {
				t.Errorf("option = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func equalAny(a, b any) bool {
	as, ok1 := a.([]string)
	bs, ok2 := b.([]string)
	if ok1 && ok2 {
		return strings.Join(as, ",") == strings.Join(bs, ",")
	}
	return a == b
}

func TestClientOptsEnumsAndHooks(t *testing.T) {
	cl := newClient(t, map[string]string{
		"auto.offset.reset":             "earliest",
		"isolation.level":               "read_committed",
		"max.poll.records":              "42",
		"partition.assignment.strategy": "org.apache.kafka.clients.consumer.RangeAssignor, cooperative-sticky",
		"acks":                          "1",
		"compression.type":              "zstd",
	})
	if got := MaxPollRecords(cl); got != 42 {
		t.Errorf("MaxPollRecords = %d, want 42", got)
	}
	if got := cl.OptValue(kgo.ConsumeResetOffset).(kgo.Offset); got != kgo.NewOffset().AtStart() {
		t.Errorf("reset offset = %v, want start", got)
	}
	if got := cl.OptValue(kgo.FetchIsolationLevel); got != int8(1) { // kgo stores read_committed as 1
		t.Errorf("isolation = %v, want read committed", got)
	}
	bals := cl.OptValue(kgo.Balancers).([]kgo.GroupBalancer)
	if len(bals) != 2 || bals[0].ProtocolName() != "range" || bals[1].ProtocolName() != "cooperative-sticky" {
		t.Errorf("balancers = %v", bals)
	}
	if got := cl.OptValue(kgo.DisableIdempotentWrite); got != true {
		t.Errorf("acks=1 must disable idempotent writes, got %v", got)
	}
	if got := MaxPollRecords(newClient(t, map[string]string{})); got != DefaultMaxPollRecords {
		t.Errorf("default MaxPollRecords = %d", got)
	}
}

func TestClientOptsIgnoresUnknownTuningKeys(t *testing.T) {
	opts, err := ClientOpts(map[string]string{
		"group.id": "connect-cluster", "config.storage.topic": "x", "receive.buffer.bytes": "1",
		"enable.auto.commit":         "false", // the caller decides (a sink consumer always disables it)
		"key.deserializer":           "org.apache.kafka.common.serialization.ByteArrayDeserializer",
		"sasl.kerberos.service.name": "kafka", // not a SASL protocol: ignored
	})
	if err != nil || len(opts) != 0 {
		t.Fatalf("ClientOpts = %d opts, %v; want none and no error", len(opts), err)
	}
}

const secret = "s3cr3t-Passw0rd"

func TestClientOptsErrors(t *testing.T) {
	jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="` + secret + `";`
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"bad number", map[string]string{"fetch.max.bytes": "lots"}, "Invalid value lots for configuration fetch.max.bytes: Not a number"},
		{"negative", map[string]string{"fetch.min.bytes": "-1"}, "Value must be between 0 and"},
		{"empty bootstrap", map[string]string{"bootstrap.servers": " , "}, "No resolvable bootstrap urls given in bootstrap.servers"},
		{"bad bootstrap", map[string]string{"bootstrap.servers": "a:b"}, "Invalid url in bootstrap.servers: a:b"},
		{"reset", map[string]string{"auto.offset.reset": "smallest"}, "String must be one of: latest, earliest, none"},
		{"assignor", map[string]string{"partition.assignment.strategy": "com.acme.Mine"}, "unknown assignor"},
		{"protocol", map[string]string{"security.protocol": "SASL_TLS"}, "security.protocol"},
		{"gssapi default", map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.jaas.config": jaas}, "sasl.mechanism GSSAPI is not supported"},
		{"oauth", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER", "sasl.jaas.config": jaas}, "OAUTHBEARER is not supported"},
		{"missing jaas", map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"}, "sasl.jaas.config is required"},
		{"module mismatch", map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas}, "needs org.apache.kafka.common.security.scram.ScramLoginModule"},
		{"jaas no password", map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u";`}, "must set username and password"},
		{"jaas unterminated", map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="` + secret}, "unterminated quoted value"},
		{"jaas two modules", map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": jaas + jaas}, "contains 2 login modules"},
		{"jaas bad flag", map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule mandatory username="u" password="` + secret + `";`}, "invalid login module control flag"},
		{"callback handler", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": jaas,
			"sasl.client.callback.handler.class": "com.acme.Handler"}, "sasl.client.callback.handler.class is not supported"},
		{"jks", map[string]string{"security.protocol": "SSL", "ssl.truststore.location": "/x.jks", "ssl.truststore.password": secret}, "ssl.truststore.type=JKS is not supported"},
		{"pkcs12 keystore", map[string]string{"security.protocol": "SSL", "ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/k.p12", "ssl.keystore.password": secret}, "ssl.keystore.type=PKCS12 is not supported"},
		{"pem truststore password", map[string]string{"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.certificates": "x", "ssl.truststore.password": secret}, "ssl.truststore.password cannot be used"},
		{"encrypted key", map[string]string{"security.protocol": "SSL", "ssl.keystore.type": "PEM", "ssl.keystore.key": "k", "ssl.keystore.certificate.chain": "c", "ssl.key.password": secret}, "ssl.key.password is not supported"},
		{"missing truststore file", map[string]string{"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": "/nonexistent/ca.pem"}, "reading ssl.truststore.location"},
		{"no certs in truststore", map[string]string{"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.certificates": secret}, "ssl.truststore.certificates holds no PEM certificate"},
		{"endpoint algorithm", map[string]string{"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "ldaps"}, "ssl.endpoint.identification.algorithm=ldaps is not supported"},
		{"old tls", map[string]string{"security.protocol": "SSL", "ssl.enabled.protocols": "TLSv1.1"}, "TLSv1.1 is not supported"},
		{"cipher", map[string]string{"security.protocol": "SSL", "ssl.cipher.suites": "TLS_FAKE"}, "TLS_FAKE is not a supported cipher suite"},
		{"unknown ssl key", map[string]string{"security.protocol": "SSL", "ssl.engine.factory.class": "com.acme.Engine"}, "ssl.engine.factory.class is not supported"},
		{"trust manager", map[string]string{"security.protocol": "SSL", "ssl.trustmanager.algorithm": "Custom"}, "ssl.trustmanager.algorithm=Custom is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ClientOpts(tc.props)
			if err == nil {
				t.Fatalf("ClientOpts succeeded; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %q", err)
			}
		})
	}
}

func TestParseJAAS(t *testing.T) {
	for _, tc := range []struct {
		in      string
		module  string
		options map[string]string
	}{
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="a\"b";`,
			plainLoginModule, map[string]string{"username": "alice", "password": `a"b`}},
		{"org.apache.kafka.common.security.scram.ScramLoginModule REQUIRED\n  username='bob'\n  password='p w' tokenauth=true ; ",
			scramLoginModule, map[string]string{"username": "bob", "password": "p w", "tokenauth": "true"}},
		{`/* comment */ org.apache.kafka.common.security.plain.PlainLoginModule optional // trailing
		 username="u" password="p";`, plainLoginModule, map[string]string{"username": "u", "password": "p"}},
	} {
		e, err := parseJAAS(tc.in)
		if err != nil {
			t.Errorf("parseJAAS(%q): %v", tc.in, err)
			continue
		}
		if e.module != tc.module || len(e.options) != len(tc.options) {
			t.Errorf("parseJAAS(%q) = %+v", tc.in, e)
		}
		for k, v := range tc.options {
			if e.options[k] != v {
				t.Errorf("parseJAAS(%q) option %s = %q, want %q", tc.in, k, e.options[k], v)
			}
		}
	}
}

// ping makes one metadata request through a client built from props.
func ping(t *testing.T, seeds []string, props map[string]string) error {
	t.Helper()
	props["bootstrap.servers"] = strings.Join(seeds, ",")
	opts, err := ClientOpts(props)
	if err != nil {
		t.Fatalf("ClientOpts: %v", err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.RetryTimeout(time.Second), kgo.RequestRetries(0))...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func TestSASLAgainstKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plainuser", secret),
		kfake.Superuser("SCRAM-SHA-256", "scram256", secret),
		kfake.Superuser("SCRAM-SHA-512", "scram512", secret))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	jaas := func(module, user, pass string) string {
		return module + ` required username="` + user + `" password="` + pass + `";`
	}
	for _, tc := range []struct {
		mech, module, user, pass string
		ok                       bool
	}{
		{"PLAIN", plainLoginModule, "plainuser", secret, true},
		{"SCRAM-SHA-256", scramLoginModule, "scram256", secret, true},
		{"SCRAM-SHA-512", scramLoginModule, "scram512", secret, true},
		{"PLAIN", plainLoginModule, "plainuser", "wrong", false},
	} {
		err := ping(t, c.ListenAddrs(), map[string]string{
			"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": tc.mech,
			"sasl.jaas.config": jaas(tc.module, tc.user, tc.pass),
		})
		if (err == nil) != tc.ok {
			t.Errorf("%s %s (right password: %v): ping error %v, want ok=%v", tc.mech, tc.user, tc.pass == secret, err, tc.ok)
		}
	}
}

type testPKI struct {
	caPEM         []byte
	caKey         *ecdsa.PrivateKey
	ca            *x509.Certificate
	dir           string
	clientCertPEM []byte
	clientKeyPEM  []byte
	otherCAPEM    []byte
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	p.ca, p.caKey, p.caPEM = selfSigned(t, "test ca")
	_, _, p.otherCAPEM = selfSigned(t, "other ca")
	cert, key := p.issue(t, "client", nil, nil, x509.ExtKeyUsageClientAuth)
	p.clientCertPEM, p.clientKeyPEM = cert, key
	return p
}

func selfSigned(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func (p *testPKI) issue(t *testing.T, cn string, ips []net.IP, dns []string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: ips, DNSNames: dns, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

func (p *testPKI) file(t *testing.T, name string, data ...[]byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	var all []byte
	for _, d := range data {
		all = append(all, d...)
	}
	if err := os.WriteFile(path, all, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *testPKI) cluster(t *testing.T, ips []net.IP, dns []string, requireClientCert bool) *kfake.Cluster {
	t.Helper()
	certPEM, keyPEM := p.issue(t, "broker", ips, dns, x509.ExtKeyUsageServerAuth)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	if requireClientCert {
		pool := x509.NewCertPool()
		pool.AddCert(p.ca)
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(tc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestTLSAgainstKfake(t *testing.T) {
	p := newPKI(t)
	good := p.cluster(t, []net.IP{net.IPv4(127, 0, 0, 1)}, nil, false)
	wrongHost := p.cluster(t, nil, []string{"broker.example"}, false)
	mtls := p.cluster(t, []net.IP{net.IPv4(127, 0, 0, 1)}, nil, true)
	caFile := p.file(t, "ca.pem", p.caPEM)
	keystore := p.file(t, "client.pem", p.clientCertPEM, p.clientKeyPEM)

	for _, tc := range []struct {
		name  string
		c     *kfake.Cluster
		props map[string]string
		ok    bool
	}{
		{"trust store file", good, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile}, true},
		{"inline trust store", good, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": string(p.caPEM)}, true},
		{"untrusted CA", good, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": string(p.otherCAPEM)}, false},
		{"system roots", good, map[string]string{}, false},
		{"host name checked by default", wrongHost, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile}, false},
		{"host name check disabled", wrongHost, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile, "ssl.endpoint.identification.algorithm": ""}, true},
		{"chain still checked without host check", wrongHost, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": string(p.otherCAPEM), "ssl.endpoint.identification.algorithm": ""}, false},
		{"client cert required, none given", mtls, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile}, false},
		{"client cert from key store file", mtls, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile,
			"ssl.keystore.type": "PEM", "ssl.keystore.location": keystore}, true},
		{"client cert inline", mtls, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile,
			"ssl.keystore.type": "PEM", "ssl.keystore.key": string(p.clientKeyPEM), "ssl.keystore.certificate.chain": string(p.clientCertPEM)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.props["security.protocol"] = "SSL"
			err := ping(t, tc.c.ListenAddrs(), tc.props)
			if (err == nil) != tc.ok {
				t.Errorf("ping error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
