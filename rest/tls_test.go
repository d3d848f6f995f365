package rest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
)

// testPKI is a CA and one certificate it issued for 127.0.0.1 (server and client use), as PEM
// files in a temporary directory.
type testPKI struct {
	caFile    string
	storeFile string // private key + certificate chain: an ssl.keystore.location file
	ca        *x509.CertPool
	cert      tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kconnect test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	chainPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	p := &testPKI{caFile: filepath.Join(dir, "ca.pem"), storeFile: filepath.Join(dir, "worker.pem"), ca: x509.NewCertPool()}
	p.ca.AddCert(ca)
	if p.cert, err = tls.X509KeyPair(chainPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.storeFile, append(keyPEM, chainPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// client returns an HTTPS client that trusts the CA and, with withCert, shows the certificate.
func (p *testPKI) client(withCert bool) *http.Client {
	tc := &tls.Config{RootCAs: p.ca, MinVersion: tls.VersionTLS12}
	if withCert {
		tc.Certificates = []tls.Certificate{p.cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 20 * time.Second}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// nopSinkTask accepts every record.
type nopSinkTask struct{}

func (nopSinkTask) Start(context.Context, sink.TaskContext, map[string]string) error { return nil }
func (nopSinkTask) Open(context.Context, []sink.TopicPartition) error                { return nil }
func (nopSinkTask) Put(context.Context, []sink.Record) error                         { return nil }
func (nopSinkTask) PreCommit(_ context.Context, cur map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
	return cur, nil
}
func (nopSinkTask) Close(context.Context, []sink.TopicPartition) error { return nil }
func (nopSinkTask) Stop(context.Context) error                         { return nil }

// oneTaskSink hands out one task config.
type oneTaskSink struct{}

func (oneTaskSink) Start(context.Context, sink.ConnectorContext, map[string]string) error { return nil }
func (oneTaskSink) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{"task.setting": "x"}}, nil
}
func (oneTaskSink) Stop(context.Context) error { return nil }

// requestRecorder is a slog handler that keeps the REST request lines ("METHOD path status")
// of a server's debug log.
type requestRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *requestRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *requestRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *requestRecorder) WithGroup(string) slog.Handler            { return r }
func (r *requestRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "REST request" {
		return nil
	}
	var method, path, status string
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		case "status":
			status = a.Value.String()
		}
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, method+" "+path+" "+status)
	r.mu.Unlock()
	return nil
}

func (r *requestRecorder) has(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.lines, line)
}

// startTLSWorker runs a herder and its REST API from worker properties, until the test ends.
// The REST API's request log goes to requests.
func startTLSWorker(t *testing.T, props map[string]string, requests *requestRecorder) (*cluster.Herder, *cluster.WorkerConfig) {
	t.Helper()
	cfg, err := cluster.ParseWorkerConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sink.NewRegistry(&sink.Plugin{
		Class: "org.example.kconnect.NopSinkConnector", TaskClass: "org.example.kconnect.NopSinkTask", Version: "1.0.0", Type: sink.PluginTypeSink,
		Config:       sink.NewConfigDef(),
		NewConnector: func() sink.Connector { return oneTaskSink{} },
		NewTask:      func() sink.Task { return nopSinkTask{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := cluster.New(cfg, reg, cluster.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(h, Options{Listeners: cfg.Listeners(), TLS: cfg.ListenerTLS(), ClientTLS: cfg.ClientTLS(), Logger: slog.New(requests)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("herder: %v", err)
		}
		sctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = srv.Shutdown(sctx)
	})
	select {
	case <-h.Ready():
	case err := <-done:
		t.Fatalf("herder stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready after 30 s")
	}
	return h, cfg
}

// TestHTTPSWorkers runs two workers that only talk HTTPS to each other and require client
// certificates: requests are forwarded to the leader over HTTPS, the follower sends the task
// configs of its connector to the leader over HTTPS, and the mixed http+https worker advertises
// its https listener.
func TestHTTPSWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Kafka broker and two workers")
	}
	p := newTestPKI(t)
	kafka, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kafka.Close)
	admin, err := kgo.NewClient(kgo.SeedBrokers(kafka.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := kadm.NewClient(admin).CreateTopic(context.Background(), 2, 1, nil, "input"); err != nil {
		t.Fatal(err)
	}
	common := map[string]string{
		"bootstrap.servers": strings.Join(kafka.ListenAddrs(), ","), "group.id": "https-cluster",
		"config.storage.topic": "c", "offset.storage.topic": "o", "status.storage.topic": "s",
		"config.storage.replication.factor": "1", "offset.storage.replication.factor": "1", "status.storage.replication.factor": "1",
		"offset.storage.partitions": "1", "status.storage.partitions": "1",
		"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"session.timeout.ms": "1500", "heartbeat.interval.ms": "100", "rebalance.timeout.ms": "5000", "scheduled.rebalance.max.delay.ms": "0",
	}
	props := func(kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range common {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	// Worker 1: http and https listeners, advertises https, plain ssl.* settings.
	var requests1, requests2 requestRecorder
	w1HTTP, w1HTTPS := freePort(t), freePort(t)
	_, cfg1 := startTLSWorker(t, props(
		"listeners", "http://127.0.0.1:"+w1HTTP+",https://127.0.0.1:"+w1HTTPS, "rest.advertised.listener", "https",
		"ssl.keystore.type", "PEM", "ssl.keystore.location", p.storeFile,
		"ssl.truststore.type", "PEM", "ssl.truststore.location", p.caFile, "ssl.client.auth", "required"), &requests1)
	// Worker 2: https only, listeners.https.ssl.* settings.
	w2HTTPS := freePort(t)
	_, cfg2 := startTLSWorker(t, props(
		"listeners", "https://127.0.0.1:"+w2HTTPS,
		"listeners.https.ssl.keystore.type", "PEM", "listeners.https.ssl.keystore.location", p.storeFile,
		"listeners.https.ssl.truststore.type", "PEM", "listeners.https.ssl.truststore.location", p.caFile,
		"listeners.https.ssl.client.auth", "required"), &requests2)
	if got, want := cfg1.AdvertisedURL(), "https://127.0.0.1:"+w1HTTPS+"/"; got != want {
		t.Fatalf("worker 1 advertises %s, want %s", got, want)
	}
	w1, w2 := "https://127.0.0.1:"+w1HTTPS, "https://127.0.0.1:"+w2HTTPS
	client := p.client(true)
	defer client.CloseIdleConnections()

	// One connector created through each worker: whichever is the follower forwards its
	// request to the leader.
	for i, base := range []string{w1, w2} {
		name := fmt.Sprintf("conn-%d", i+1)
		body := `{"name": "` + name + `", "config": {"connector.class": "NopSinkConnector", "topics": "input", "tasks.max": "1"}}`
		waitForTLS(t, "creating "+name, func() error {
			resp, err := client.Post(base+"/connectors", "application/json", strings.NewReader(body))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("%s: %s", resp.Status, data)
			}
			if loc := resp.Header.Get("Location"); loc != base+"/connectors/"+name {
				t.Errorf("Location %q, want %q", loc, base+"/connectors/"+name)
			}
			return nil
		})
	}

	// Both connectors run with their task, on different workers: the follower's connector had
	// its task configs stored by the leader through the internal endpoint, over HTTPS.
	owners := map[string]string{}
	for _, name := range []string{"conn-1", "conn-2"} {
		waitForTLS(t, name+" running with its task", func() error {
			var st struct {
				Connector struct {
					State    string
					WorkerID string `json:"worker_id"`
				}
				Tasks []struct{ State string }
			}
			if err := getJSON(client, w2+"/connectors/"+name+"/status", &st); err != nil {
				return err
			}
			if st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
				return fmt.Errorf("status %+v", st)
			}
			owners[name] = st.Connector.WorkerID
			return nil
		})
	}
	ids := map[string]bool{cfg1.WorkerID(): true, cfg2.WorkerID(): true}
	if owners["conn-1"] == owners["conn-2"] || !ids[owners["conn-1"]] || !ids[owners["conn-2"]] {
		t.Errorf("connectors run on %v; want one on each of %v", owners, ids)
	}
	stored := false
	for _, name := range []string{"conn-1", "conn-2"} {
		for _, r := range []*requestRecorder{&requests1, &requests2} {
			stored = stored || r.has("POST /connectors/"+name+"/tasks 204")
		}
	}
	if !stored {
		t.Error("no worker stored task configs sent by another worker")
	}

	// The http listener of worker 1 serves the same API.
	var names []string
	if err := getJSON(http.DefaultClient, "http://127.0.0.1:"+w1HTTP+"/connectors", &names); err != nil || len(names) != 2 {
		t.Errorf("GET /connectors over http: %v %v", names, err)
	}
	// Without a client certificate the https listeners refuse the connection.
	noCert := p.client(false)
	defer noCert.CloseIdleConnections()
	if resp, err := noCert.Get(w2 + "/connectors"); err == nil {
		resp.Body.Close()
		t.Errorf("a client without a certificate got %s", resp.Status)
	}
}

func waitForTLS(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(c *http.Client, url string, v any) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, data)
	}
	return json.NewDecoder(bytes.NewReader(data)).Decode(v)
}
