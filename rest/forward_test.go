package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kconnect/kconnect/cluster"
)

// testWorker is one worker of a test cluster: a Server over a fakeHerder behind a real HTTP
// listener, recording the requests that reach it.
type testWorker struct {
	herder *fakeHerder
	server *Server
	http   *httptest.Server

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, uri string
	header      http.Header
	body        string
}

func startWorker(t *testing.T, f *fakeHerder, opts Options) *testWorker {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s, err := New(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	w := &testWorker{herder: f, server: s}
	w.http = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.mu.Lock()
		w.seen = append(w.seen, seenRequest{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone(), body: string(body)})
		w.mu.Unlock()
		s.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(w.http.Close)
	return w
}

func (w *testWorker) requests() []seenRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]seenRequest(nil), w.seen...)
}

// redirectTo makes w's herder send leader-only calls to target.
func (w *testWorker) redirectTo(target *testWorker) {
	w.herder.mu.Lock()
	defer w.herder.mu.Unlock()
	w.herder.redirect = &cluster.RedirectError{TargetURL: target.http.URL + "/", Reason: "not the leader"}
}

type testResponse struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, header map[string]string, body string) testResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return testResponse{status: res.StatusCode, header: res.Header, body: string(data)}
}

func TestForwardCreateToLeader(t *testing.T) {
	leader := startWorker(t, newFakeHerder(), Options{})
	follower := startWorker(t, newFakeHerder(), Options{})
	follower.redirectTo(leader)

	res := do(t, http.MethodPost, follower.http.URL+"/connectors/", map[string]string{
		"Content-Type":  "application/json; charset=utf-8",
		"Authorization": "Basic dXNlcjpwYXNz",
		"Cookie":        "session=1",
		"X-Custom":      "not forwarded",
	}, `{"name":" storm ","config":{"connector.class":"KustoSink","topics":"t","kusto.ingestion.url":"https://x","tasks.max":2,"enabled":true}}`)

	if res.status != http.StatusCreated {
		t.Fatalf("status = %d, body %s", res.status, res.body)
	}
	if got, want := res.header.Get("Location"), follower.http.URL+"/connectors/storm"; got != want {
		t.Errorf("Location = %q, want %q (relative to the worker the client called)", got, want)
	}
	wantInfo := `{"name":"storm","config":{"connector.class":"KustoSink","enabled":"true","kusto.ingestion.url":"https://x","name":"storm","tasks.max":"2","topics":"t"},"tasks":[],"type":"sink"}`
	if res.body != wantInfo {
		t.Errorf("body = %s\nwant %s", res.body, wantInfo)
	}

	seen := leader.requests()
	if len(seen) != 1 {
		t.Fatalf("leader saw %d requests, want 1", len(seen))
	}
	got := seen[0]
	if got.method != http.MethodPost || got.uri != "/connectors?forward=true" {
		t.Errorf("forwarded %s %s, want POST /connectors?forward=true", got.method, got.uri)
	}
	wantHeaders := map[string]string{
		"Authorization": "Basic dXNlcjpwYXNz",
		"Accept":        "application/json",
		"User-Agent":    "kafka-connect",
		"Content-Type":  "application/json",
		"Cookie":        "",
		"X-Custom":      "",
	}
	for k, v := range wantHeaders {
		if g := got.header.Get(k); g != v {
			t.Errorf("forwarded header %s = %q, want %q", k, g, v)
		}
	}
	// The body is the parsed request re-serialised: coerced values, the name inserted and
	// trimmed, and initial_state present as null, as Java sends it.
	wantBody := `{"name":"storm","config":{"connector.class":"KustoSink","enabled":"true","kusto.ingestion.url":"https://x","name":"storm","tasks.max":"2","topics":"t"},"initial_state":null}`
	if got.body != wantBody {
		t.Errorf("forwarded body = %s\nwant %s", got.body, wantBody)
	}
	if calls := leader.herder.Calls(); len(calls) != 1 || !strings.HasPrefix(calls[0], `PutConnectorConfig name="storm" replace=false`) {
		t.Errorf("leader herder calls = %q", calls)
	}
	if _, ok := leader.herder.config("storm"); !ok {
		t.Error("the leader did not store the connector")
	}
	if _, ok := follower.herder.config("storm"); ok {
		t.Error("the follower stored the connector itself")
	}
}

func TestForwardInitialStateAndPutStatuses(t *testing.T) {
	leader := startWorker(t, newFakeHerder(), Options{})
	follower := startWorker(t, newFakeHerder(), Options{})
	follower.redirectTo(leader)

	res := do(t, http.MethodPost, follower.http.URL+"/connectors", nil,
		`{"name":"p","config":{"connector.class":"KustoSink","topics":"t","kusto.ingestion.url":"https://x"},"initial_state":"Stopped"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d, body %s", res.status, res.body)
	}
	if body := leader.requests()[0].body; !strings.HasSuffix(body, `"initial_state":"STOPPED"}`) {
		t.Errorf("forwarded create body %s does not carry initial_state STOPPED", body)
	}

	cfg := `{"connector.class":"KustoSink","topics":"t","kusto.ingestion.url":"https://x"}`
	res = do(t, http.MethodPut, follower.http.URL+"/connectors/q/config", map[string]string{"Content-Type": "application/json"}, cfg)
	if res.status != http.StatusCreated || res.header.Get("Location") != follower.http.URL+"/connectors/q" {
		t.Errorf("first PUT: status %d, Location %q; want 201 and the follower's URL", res.status, res.header.Get("Location"))
	}
	res = do(t, http.MethodPut, follower.http.URL+"/connectors/q/config", map[string]string{"Content-Type": "application/json"}, cfg)
	if res.status != http.StatusOK || res.header.Get("Location") != "" {
		t.Errorf("second PUT: status %d, Location %q; want 200 and none", res.status, res.header.Get("Location"))
	}
	last := leader.requests()[2]
	if last.uri != "/connectors/q/config?forward=true" || last.body != `{"connector.class":"KustoSink","kusto.ingestion.url":"https://x","name":"q","topics":"t"}` {
		t.Errorf("forwarded PUT = %s %s", last.uri, last.body)
	}
}

func TestForwardPatchKeepsNulls(t *testing.T) {
	leader := startWorker(t, newFakeHerder(), Options{})
	follower := startWorker(t, newFakeHerder(), Options{})
	follower.redirectTo(leader)

	res := do(t, http.MethodPatch, follower.http.URL+"/connectors/s1/config", nil, `{"tasks.max":3,"topics.regex":null}`)
	if res.status != http.StatusOK {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	if got := leader.requests()[0].body; got != `{"tasks.max":"3","topics.regex":null}` {
		t.Errorf("forwarded patch = %s", got)
	}
	if cfg, _ := leader.herder.config("s1"); cfg["tasks.max"] != "3" {
		t.Error("the leader did not apply the patch")
	}
}

// TestForwardTwoHops follows Java's restart path: follower → leader (forward=true) → owner
// (forward=false), with the restart parameters on every hop.
func TestForwardTwoHops(t *testing.T) {
	owner := startWorker(t, newFakeHerder(), Options{})
	leader := startWorker(t, newFakeHerder(), Options{})
	follower := startWorker(t, newFakeHerder(), Options{})
	follower.redirectTo(leader)
	leader.redirectTo(owner)

	res := do(t, http.MethodPost, follower.http.URL+"/connectors/s1/restart?includeTasks=true&onlyFailed=true", nil, "")
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	var plan connectorStateInfo
	if err := json.Unmarshal([]byte(res.body), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Tasks[1].State != "RESTARTING" || plan.Tasks[0].State != "RUNNING" {
		t.Errorf("relayed plan = %+v", plan)
	}
	if got := leader.requests()[0].uri; got != "/connectors/s1/restart?forward=true&includeTasks=true&onlyFailed=true" {
		t.Errorf("first hop = %s", got)
	}
	if got := owner.requests()[0].uri; got != "/connectors/s1/restart?forward=false&includeTasks=true&onlyFailed=true" {
		t.Errorf("second hop = %s", got)
	}

	res = do(t, http.MethodPost, follower.http.URL+"/connectors/s1/tasks/1/restart", nil, "")
	if res.status != http.StatusNoContent || res.body != "" {
		t.Errorf("task restart: status %d, body %q", res.status, res.body)
	}
	if got := owner.requests()[1]; got.uri != "/connectors/s1/tasks/1/restart?forward=false" || got.body != "" || got.header.Get("Content-Type") != "" {
		t.Errorf("second hop of task restart = %s body %q content-type %q", got.uri, got.body, got.header.Get("Content-Type"))
	}
	if calls := owner.herder.Calls(); len(calls) != 2 || calls[1] != "RestartTask id=s1-1" {
		t.Errorf("owner calls = %q", calls)
	}
}

// TestForwardLoopRefused: three workers that each believe another one is the leader. The
// request makes two hops and the third worker refuses with 409, which travels back unchanged.
func TestForwardLoopRefused(t *testing.T) {
	w1 := startWorker(t, newFakeHerder(), Options{})
	w2 := startWorker(t, newFakeHerder(), Options{})
	w3 := startWorker(t, newFakeHerder(), Options{})
	w1.redirectTo(w2)
	w2.redirectTo(w3)
	w3.redirectTo(w1)

	res := do(t, http.MethodDelete, w1.http.URL+"/connectors/s1", nil, "")
	want := `{"error_code":409,"message":"Cannot complete request because of a conflicting operation (e.g. worker rebalance)"}`
	if res.status != http.StatusConflict || res.body != want {
		t.Errorf("got %d %s, want 409 %s", res.status, res.body, want)
	}
	if n := len(w1.requests()); n != 1 {
		t.Errorf("w1 saw %d requests, want only the user's", n)
	}
	if r := w2.requests(); len(r) != 1 || r[0].uri != "/connectors/s1?forward=true" {
		t.Errorf("w2 saw %+v", r)
	}
	if r := w3.requests(); len(r) != 1 || r[0].uri != "/connectors/s1?forward=false" {
		t.Errorf("w3 saw %+v", r)
	}
	for _, w := range []*testWorker{w1, w2, w3} {
		if _, ok := w.herder.config("s1"); !ok {
			t.Error("a worker deleted the connector")
		}
	}
}

func TestForwardRelaysRemoteErrors(t *testing.T) {
	leader := startWorker(t, newFakeHerder(), Options{})
	follower := startWorker(t, newFakeHerder(), Options{})
	follower.redirectTo(leader)

	res := do(t, http.MethodPost, follower.http.URL+"/connectors", nil,
		`{"name":"s1","config":{"connector.class":"KustoSink","topics":"t","kusto.ingestion.url":"https://x"}}`)
	if want := `{"error_code":409,"message":"Connector s1 already exists"}`; res.status != http.StatusConflict || res.body != want {
		t.Errorf("got %d %s, want 409 %s", res.status, res.body, want)
	}

	res = do(t, http.MethodPut, follower.http.URL+"/connectors/nope/stop", nil, "")
	if want := `{"error_code":404,"message":"Unknown connector nope"}`; res.status != http.StatusNotFound || res.body != want {
		t.Errorf("got %d %s, want 404 %s", res.status, res.body, want)
	}
}

// TestForwardTargetAnswers covers what another worker (or something else listening at its
// URL) can answer: each case is served by a stand-in target.
func TestForwardTargetAnswers(t *testing.T) {
	cases := []struct {
		name       string
		target     http.HandlerFunc
		wantStatus int
		wantBody   string // exact, or a prefix when wantPrefix
		wantPrefix bool
	}{
		{
			name: "error with its own error_code",
			target: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error_code":40001,"message":"custom failure"}`)
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   `{"error_code":40001,"message":"custom failure"}`,
		},
		{
			name: "error that is not JSON",
			target: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, "<html>bad gateway</html>")
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   `{"error_code":500,"message":"IO Error trying to forward REST request: http://`,
			wantPrefix: true,
		},
		{
			name: "redirect is not followed",
			target: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   `{"error_code":500,"message":"Unexpected status code when handling forwarded request: 301"}`,
		},
		{
			name: "success that is not JSON",
			target: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "ok")
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   `{"error_code":500,"message":"IO Error trying to forward REST request: http://`,
			wantPrefix: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hits sync.Map
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Store(r.URL.Path, true)
				c.target(w, r)
			}))
			defer target.Close()
			f := newFakeHerder()
			f.redirect = &cluster.RedirectError{TargetURL: target.URL}
			w := startWorker(t, f, Options{})

			res := do(t, http.MethodDelete, w.http.URL+"/connectors/s1", nil, "")
			if res.status != c.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", res.status, c.wantStatus, res.body)
			}
			if c.wantPrefix && !strings.HasPrefix(res.body, c.wantBody) || !c.wantPrefix && res.body != c.wantBody {
				t.Errorf("body = %s, want %s", res.body, c.wantBody)
			}
			if _, followed := hits.Load("/elsewhere"); followed {
				t.Error("the redirect was followed")
			}
		})
	}
}

func TestForwardIOError(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	f := newFakeHerder()
	f.redirect = &cluster.RedirectError{TargetURL: gone.URL + "/"}
	w := startWorker(t, f, Options{})

	res := do(t, http.MethodPut, w.http.URL+"/connectors/s1/stop", nil, "")
	prefix := `{"error_code":500,"message":"IO Error trying to forward REST request: `
	if res.status != http.StatusInternalServerError || !strings.HasPrefix(res.body, prefix) || !strings.Contains(res.body, "connection refused") {
		t.Errorf("got %d %s, want 500 %s…connection refused", res.status, res.body, prefix)
	}
}

// TestForwardBoundedByRequestTimeout: a target that never answers is abandoned when the
// request's time is up.
func TestForwardBoundedByRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer target.Close()
	defer close(release)
	f := newFakeHerder()
	f.redirect = &cluster.RedirectError{TargetURL: target.URL}
	w := startWorker(t, f, Options{})
	w.server.requestTimeout = 100 * time.Millisecond

	res := do(t, http.MethodDelete, w.http.URL+"/connectors/s1", nil, "")
	if res.status != http.StatusInternalServerError || !strings.Contains(res.body, "IO Error trying to forward REST request") || !strings.Contains(res.body, "context deadline exceeded") {
		t.Errorf("got %d %s", res.status, res.body)
	}
}

// TestForwardInternalTaskConfigs: the internal endpoint is forwarded like Java forwards it,
// without the signature headers (a leader that changed since signing re-verifies nothing it
// cannot).
func TestForwardInternalTaskConfigs(t *testing.T) {
	leader := startWorker(t, newFakeHerder(), Options{})
	follower := startWorker(t, newFakeHerder(), Options{})
	follower.redirectTo(leader)

	res := do(t, http.MethodPost, follower.http.URL+"/connectors/s1/tasks", map[string]string{
		headerSignature: "c2ln", headerSignatureAlgorithm: "HmacSHA256",
	}, `[{"a":1}]`)
	if res.status != http.StatusNoContent {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	got := leader.requests()[0]
	if got.uri != "/connectors/s1/tasks?forward=true" || got.body != `[{"a":"1"}]` || got.header.Get(headerSignature) != "" {
		t.Errorf("forwarded %s body %s signature %q", got.uri, got.body, got.header.Get(headerSignature))
	}
}

func TestForwardUsesGivenClient(t *testing.T) {
	leader := startWorker(t, newFakeHerder(), Options{})
	var used atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	follower := startWorker(t, newFakeHerder(), Options{HTTPClient: client})
	follower.redirectTo(leader)

	if res := do(t, http.MethodDelete, follower.http.URL+"/connectors/s1", nil, ""); res.status != http.StatusNoContent {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	if used.Load() != 1 {
		t.Errorf("the given client carried %d requests, want 1", used.Load())
	}
	if client.CheckRedirect != nil {
		t.Error("the caller's client was modified")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
