package rest

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/cluster"
)

// TestLogsShowNoSecrets sends connector configs holding a password through every path that
// logs at debug, warning or error level (a request log, a forward that fails, a forward that
// is refused, a bad body) and checks the password never reaches the log.
func TestLogsShowNoSecrets(t *testing.T) {
	const secret = "sas-Signature-S3cret"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	config := `{"connector.class": "KustoSink", "kusto.ingestion.url": "https://ingest-x.kusto.windows.net", "aad.auth.appkey": "` + secret + `"}`
	for _, target := range []string{"http://127.0.0.1:1/", ""} {
		f := newFakeHerder()
		f.redirect = &cluster.RedirectError{TargetURL: target, Reason: "not the leader"}
		s, err := New(f, Options{Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*http.Request{
			httptest.NewRequest(http.MethodPost, "/connectors", strings.NewReader(`{"name": "c", "config": `+config+`}`)),
			httptest.NewRequest(http.MethodPut, "/connectors/c/config", strings.NewReader(config)),
			httptest.NewRequest(http.MethodPut, "/connectors/c/config?forward=false", strings.NewReader(config)),
			httptest.NewRequest(http.MethodPost, "/connectors", strings.NewReader(`{"name": "c", "config": `+config+`, "unknown": "`+secret+`"}`)),
			httptest.NewRequest(http.MethodPut, "/connectors/c/config", strings.NewReader(`{"aad.auth.appkey": "`+secret+`"`)),
		} {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Basic "+secret)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, r)
			if rec.Code < 400 {
				t.Errorf("%s %s: %d", r.Method, r.URL, rec.Code)
			}
		}
	}
	if !strings.Contains(logs.String(), "REST request failed") || !strings.Contains(logs.String(), "REST request") {
		t.Fatalf("nothing was logged:\n%s", &logs)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log shows the secret:\n%s", &logs)
	}
}
