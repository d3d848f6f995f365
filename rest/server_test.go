package rest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
)

func TestParseListener(t *testing.T) {
	cases := []struct {
		raw       string
		wantAddr  string
		wantErr   string
		wantHTTPS bool
	}{
		{"http://:8083", ":8083", "", false},
		{"HTTP://127.0.0.1:0", "127.0.0.1:0", "", false},
		{"http://0.0.0.0:8083/", "0.0.0.0:8083", "", false},
		{"http://[::1]:8083", "[::1]:8083", "", false},
		{" http://worker1:8083 ", "worker1:8083", "", false},
		{"https://:8443", ":8443", "", true},
		{"HTTPS://127.0.0.1:0", "127.0.0.1:0", "", true},
		{"ftp://:21", "", `unsupported protocol "ftp"`, false},
		{"localhost:8083", "", "expected protocol://host:port", false},
		{"http://worker1", "", "with a port", false},
		{"http://worker1:8083/connect", "", "a listener has no path", false},
		{"", "", "expected protocol://host:port", false},
	}
	for _, c := range cases {
		spec, err := parseListener(c.raw)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("parseListener(%q) = %v, want an error containing %q", c.raw, err, c.wantErr)
			}
			continue
		}
		if err != nil || spec.addr != c.wantAddr || spec.https != c.wantHTTPS {
			t.Errorf("parseListener(%q) = %q (https %v), %v; want %q (https %v)", c.raw, spec.addr, spec.https, err, c.wantAddr, c.wantHTTPS)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New accepted a nil herder")
	}
	s, err := New(newFakeHerder(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.specs) != 1 || s.specs[0].addr != ":8083" {
		t.Errorf("default listeners = %+v, want :8083", s.specs)
	}
	if _, err := New(newFakeHerder(), Options{Listeners: []string{"http://:0", "https://:8443"}}); err == nil || !strings.Contains(err.Error(), "no TLS settings") {
		t.Errorf("an https listener without TLS settings: %v", err)
	}
	if _, err := New(newFakeHerder(), Options{CORS: CORS{AllowedOrigins: "*"}, ResponseHeaders: "set X-Frame-Options"}); err == nil ||
		!strings.Contains(err.Error(), "response.http.headers.config") {
		t.Errorf("bad response header rules: %v", err)
	}
}

func TestStartServesEveryListenerAndShutsDown(t *testing.T) {
	s, err := New(newFakeHerder(), Options{Listeners: []string{"http://127.0.0.1:0", "http://127.0.0.1:0"}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Addrs()) != 0 {
		t.Error("addresses before Start")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addrs := s.Addrs()
	if len(addrs) != 2 || addrs[0].String() == addrs[1].String() {
		t.Fatalf("Addrs = %v, want two distinct addresses", addrs)
	}
	for _, a := range addrs {
		res := do(t, http.MethodGet, "http://"+a.String()+"/connectors", nil, "")
		if res.status != http.StatusOK || res.body != `["fresh","s1"]` {
			t.Errorf("%s: %d %s", a, res.status, res.body)
		}
	}
	if err := s.Start(); err == nil {
		t.Error("a second Start succeeded")
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if _, err := http.Get("http://" + a.String() + "/"); err == nil {
			t.Errorf("%s still serves after Shutdown", a)
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestStartFailsFastAndBindsNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()

	s, err := New(newFakeHerder(), Options{Listeners: []string{"http://" + freeAddr, "http://" + busy.Addr().String()}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start()
	if err == nil || !strings.Contains(err.Error(), "binding listener http://"+busy.Addr().String()) {
		t.Fatalf("Start = %v, want a binding error naming the busy listener", err)
	}
	if len(s.Addrs()) != 0 {
		t.Errorf("Addrs = %v after a failed Start", s.Addrs())
	}
	// The listener bound before the failure was released.
	l, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Errorf("%s is still bound after the failed Start: %v", freeAddr, err)
	} else {
		l.Close()
	}
}

func TestShutdownBeforeStart(t *testing.T) {
	s := newTestServer(t, newFakeHerder())
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Error("Start after Shutdown succeeded")
	}
}

// TestShutdownCancelsStuckRequests: when Shutdown runs out of time it cancels the requests still
// waiting on the herder and returns only after their handlers did.
func TestShutdownCancelsStuckRequests(t *testing.T) {
	f := newFakeHerder()
	f.block = true
	s := newTestServer(t, f)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	url := "http://" + s.Addrs()[0].String() + "/connectors/s1"
	done := make(chan error, 1)
	go func() {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	waitFor(t, func() bool { return f.waiting.Load() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's deadline", err)
	}
	if n := f.waiting.Load(); n != 0 {
		t.Errorf("%d herder calls still running after Shutdown returned", n)
	}
	<-done // the client gets an answer or a closed connection; either way it returns
}

func TestRequestTimeout(t *testing.T) {
	f := newFakeHerder()
	f.block = true
	s := newTestServer(t, f)
	s.requestTimeout = 50 * time.Millisecond
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/connectors/s1/config", nil))
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != `{"error_code":500,"message":"Request timed out"}` {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

// TestRequestLogging: every request is logged at debug with method, path, status and latency;
// bodies never are, and failures of the worker are logged at error.
func TestRequestLogging(t *testing.T) {
	var buf syncBuffer
	f := newFakeHerder()
	f.fail["ConnectorStatus"] = errors.New("status store closed")
	s, err := New(f, Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	secret := "do-not-log-this-app-key"
	body := `{"name":"l1","config":{"connector.class":"KustoSink","topics":"t","kusto.ingestion.url":"https://x","aad.auth.appkey":"` + secret + `"}}`
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/connectors", strings.NewReader(body)))
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/connectors", strings.NewReader(`{"name":"l2","config":{"aad.auth.appkey":{"v":"`+secret+`"}}}`)))
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/connectors/s1/status", nil))

	logs := buf.String()
	for _, want := range []string{
		`level=DEBUG msg="REST request" method=POST path=/connectors status=201 latency=`,
		`level=DEBUG msg="REST request" method=POST path=/connectors status=500 latency=`,
		`level=ERROR msg="REST request failed" method=GET path=/connectors/s1/status status=500 err="status store closed"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, secret) {
		t.Errorf("a request body reached the logs:\n%s", logs)
	}
	if strings.Contains(logs, `level=ERROR msg="REST request failed" method=POST`) {
		t.Errorf("a client's malformed body was logged as a server failure:\n%s", logs)
	}
}

func TestHealth(t *testing.T) {
	f := newFakeHerder()
	s := newTestServer(t, f)
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
		return rec.Code, rec.Body.String()
	}
	const stage = "The worker is currently ensuring membership in the cluster, which began at 2024-05-01T10:00:00.123Z."
	for _, c := range []struct {
		name   string
		fail   error
		status int
		body   string
	}{
		{"healthy", nil, http.StatusOK, `{"status":"healthy","message":"Worker has completed startup and is ready to handle requests."}`},
		{"starting", &cluster.HealthError{Starting: true, Stage: stage}, http.StatusServiceUnavailable,
			`{"status":"starting","message":"Worker is still starting up. ` + stage + `"}`},
		{"starting, no stage yet", &cluster.HealthError{Starting: true}, http.StatusServiceUnavailable,
			`{"status":"starting","message":"Worker is still starting up."}`},
		{"herder goroutine stuck", &cluster.HealthError{Stage: stage}, http.StatusInternalServerError,
			`{"status":"unhealthy","message":"Worker was unable to handle this request and may be unable to handle other requests. ` + stage + `"}`},
		{"shutting down", errors.New("Worker is shutting down"), http.StatusInternalServerError,
			`{"error_code":500,"message":"Worker is shutting down"}`},
	} {
		f.mu.Lock()
		f.fail["Health"] = c.fail
		f.mu.Unlock()
		if c.fail == nil {
			f.mu.Lock()
			delete(f.fail, "Health")
			f.mu.Unlock()
		}
		if code, body := get(); code != c.status || body != c.body {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, body, c.status, c.body)
		}
	}
}

// TestHealthOfARealHerder: a *cluster.Herder that has not run is still starting.
func TestHealthOfARealHerder(t *testing.T) {
	cfg, err := cluster.ParseWorkerConfig(map[string]string{"group.id": "g", "config.storage.topic": "c", "offset.storage.topic": "o",
		"status.storage.topic": "s", "key.converter": "StringConverter", "value.converter": "StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sink.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	h, err := cluster.New(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, h)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != `{"status":"starting","message":"Worker is still starting up."}` {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}

type panicHerder struct{ *fakeHerder }

func (panicHerder) ServerInfo(context.Context) cluster.ServerInfo { panic("herder bug") }

func TestPanicAnswers500(t *testing.T) {
	var buf syncBuffer
	s, err := New(panicHerder{newFakeHerder()}, Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != `{"error_code":500,"message":"HTTP 500 Internal Server Error"}` {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(buf.String(), `msg="REST handler panicked"`) || !strings.Contains(buf.String(), "herder bug") {
		t.Errorf("the panic was not logged:\n%s", buf.String())
	}
}

// TestHead: HEAD is answered wherever GET is, without a body.
func TestHead(t *testing.T) {
	w := startWorker(t, newFakeHerder(), Options{})
	res := do(t, http.MethodHead, w.http.URL+"/connectors/s1/status/", nil, "")
	if res.status != http.StatusOK || res.body != "" || res.header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD: %d %q %q", res.status, res.header.Get("Content-Type"), res.body)
	}
	if n, _ := strconv.Atoi(res.header.Get("Content-Length")); n == 0 {
		t.Errorf("HEAD Content-Length = %q, want the GET body's length", res.header.Get("Content-Length"))
	}
}

// waitFor polls cond until it holds, failing the test after a few seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)
