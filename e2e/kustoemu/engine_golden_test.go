package kustoemu_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata/kql"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

// updating reports whether -update (registered by the package's internal tests) was given.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// post sends a request body the way the SDK does and returns status and body.
func post(t *testing.T, e *kustoemu.Emulator, path, body string, header map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.EngineURL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from %s:\n got %s\nwant %s", name, path, got, want)
	}
}

// The engine's own answers (data-management commands, streaming ingestion, request errors) are
// pinned byte for byte; values that differ per run (ports, SAS times and signatures, the identity
// token, error context ids) are replaced before comparing.
func TestEngineResponsesGolden(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, ".create table G (a:long, s:string)", ".alter table G policy streamingingestion enable")
	storageHost := strings.TrimPrefix(e.StorageURL(), "https://")
	normalize := func(b []byte) []byte {
		s := strings.ReplaceAll(string(b), storageHost, "STORAGE")
		s = regexp.MustCompile(`se=[0-9A-Za-z%:-]+`).ReplaceAllString(s, "se=EXPIRY")
		s = regexp.MustCompile(`sig=[0-9A-Za-z%+/=]+`).ReplaceAllString(s, "sig=SIGNATURE")
		s = regexp.MustCompile(`"@context":\{[^}]*\}`).ReplaceAllString(s, `"@context":{}`)
		return []byte(s)
	}
	tests := []struct {
		name, path, body string
		header           map[string]string
		status           int
		fix              func([]byte) []byte
	}{
		{"get-ingestion-resources", "/v1/rest/mgmt", `{"db":"NetDefaultDB","csl":".get ingestion resources","properties":{"Options":{"servertimeout":"00:00:30"},"Parameters":null}}`, nil, http.StatusOK, normalize},
		{"show-ingestion-resources", "/v1/rest/mgmt", `{"db":"db1","csl":".show   ingestion resources","properties":"{\"Options\":{}}"}`, nil, http.StatusOK, normalize},
		{"get-kusto-identity-token", "/v1/rest/mgmt", `{"db":"NetDefaultDB","csl":".get kusto identity token"}`, nil, http.StatusOK,
			func(b []byte) []byte {
				return regexp.MustCompile(`\[\["[A-Za-z0-9_-]{20,}"\]\]`).ReplaceAll(b, []byte(`[["TOKEN"]]`))
			}},
		{"streaming-ingest", "/v1/rest/ingest/db1/G?streamFormat=Csv", "1,a\n2,b\n", nil, http.StatusOK, nil},
		{"error-malformed-body", "/v1/rest/mgmt", `{"db":"db1","csl":`, map[string]string{"x-ms-client-request-id": "KGC.execute;golden"}, http.StatusBadRequest, normalize},
		{"error-streaming-unknown-table", "/v1/rest/ingest/db1/Nope?streamFormat=Csv", "1,a\n", nil, http.StatusNotFound, normalize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, e, tc.path, tc.body, tc.header)
			if status != tc.status {
				t.Fatalf("status = %d (%s), want %d", status, body, tc.status)
			}
			if tc.fix != nil {
				body = tc.fix(body)
			}
			checkGolden(t, tc.name, body)
		})
	}
}

// The client request id of a failed request is echoed in the error's @context.
func TestErrorCarriesClientRequestID(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	status, body := post(t, e, "/v2/rest/query", `{"db":"db1","csl":"NoSuchTable | count"}`, map[string]string{"x-ms-client-request-id": "KGC.execute;abc-123"})
	if status < 400 || !bytes.Contains(body, []byte(`"clientRequestId":"KGC.execute;abc-123"`)) {
		t.Fatalf("status %d body %s", status, body)
	}
}

// Clients that do not ask for fragmented primary tables (Python, Java, Node, the Go SDK's RawV2)
// get each table as one DataTable frame; the Go SDK's Query gets the fragmented sequence.
func TestQueryV2Framing(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, ".create table V (a:long, s:string)", ".alter table V policy streamingingestion enable")
	if status, body := post(t, e, "/v1/rest/ingest/db1/V?streamFormat=Csv", "1,a\n2,b\n", nil); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, body)
	}
	frames := func(props string) []map[string]any {
		t.Helper()
		status, body := post(t, e, "/v2/rest/query", `{"db":"db1","csl":"V | order by a asc","properties":`+props+`}`, nil)
		if status != http.StatusOK {
			t.Fatalf("query: %d %s", status, body)
		}
		var fs []map[string]any
		if err := json.Unmarshal(body, &fs); err != nil {
			t.Fatalf("the answer is not one JSON array: %v\n%s", err, body)
		}
		return fs
	}
	kinds := func(fs []map[string]any) string {
		var k []string
		for _, f := range fs {
			s := fmt.Sprint(f["FrameType"])
			if tk, ok := f["TableKind"]; ok {
				s += ":" + fmt.Sprint(tk)
			}
			k = append(k, s)
		}
		return strings.Join(k, " ")
	}
	plain := frames(`{"Options":{"servertimeout":"00:04:00"}}`)
	if got, want := kinds(plain), "DataSetHeader DataTable:QueryProperties DataTable:PrimaryResult DataTable:QueryCompletionInformation DataSetCompletion"; got != want {
		t.Fatalf("unfragmented frames = %s, want %s", got, want)
	}
	if rows := fmt.Sprint(plain[2]["Rows"]); rows != "[[1 a] [2 b]]" {
		t.Errorf("PrimaryResult rows = %s", rows)
	}
	if plain[0]["IsFragmented"] != false {
		t.Errorf("DataSetHeader = %v", plain[0])
	}
	frag := frames(`{"Options":{"results_v2_fragment_primary_tables":true,"results_v2_newlines_between_frames":true,"results_error_reporting_placement":"end_of_table"}}`)
	if got, want := kinds(frag), "DataSetHeader DataTable:QueryProperties TableHeader:PrimaryResult TableFragment TableCompletion DataTable:QueryCompletionInformation DataSetCompletion"; got != want {
		t.Fatalf("fragmented frames = %s, want %s", got, want)
	}
	raw, err := c.QueryToJson(ctxFor(t, 10*time.Second), testDB, kql.New("V | count"))
	if err != nil {
		t.Fatalf("QueryToJson: %v", err)
	}
	if !strings.Contains(raw, `"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[{"ColumnName":"Count","ColumnType":"long"}],"Rows":[[2]]`) {
		t.Errorf("QueryToJson = %s", raw)
	}
}
