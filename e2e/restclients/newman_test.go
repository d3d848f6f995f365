package restclients

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Postman collection and the npm files that pin newman.
const (
	collectionFile = "kusto-labs.postman_collection.json"
	packageJSON    = "package.json"
	packageLock    = "package-lock.json"
)

const (
	npmTimeout    = 5 * time.Minute
	newmanTimeout = 2 * time.Minute
)

// labsRequest is one request of the Azure kusto-labs collections as it must reach the worker.
type labsRequest struct {
	method, uri string
	contentType string // the raw header value; "-" when the header is absent
	body        string // "{" stands for the JSON connector config
}

// labsRequests are the 10 requests of the labs' collections, in their order.
var labsRequests = []labsRequest{
	{"GET", "/connector-plugins", " application/json", ""},
	{"GET", "/connectors/", " application/json", ""},
	{"POST", "/connectors/", "application/json", "{"},
	{"GET", "/connectors/KustoSinkConnectorCrimes/config", "application/json", " "},
	{"GET", "/connectors/KustoSinkConnectorCrimes/status", "application/json", " "},
	{"PUT", "/connectors/KustoSinkConnectorCrimes/pause", "application/json", " "},
	{"PUT", "/connectors/KustoSinkConnectorCrimes/resume", "-", ""},
	{"GET", "/connectors/KustoSinkConnectorCrimes/tasks", "-", ""},
	{"POST", "/connectors/KustoSinkConnectorCrimes/restart", " application/json", ""},
	{"DELETE", "/connectors/KustoSinkConnectorCrimes/", "application/json", " "},
}

// TestPostmanKustoLabs replays, with newman, the REST calls of the Azure kusto-labs Kafka
// integration labs for the Kusto sink exactly as their Postman collections send them
// (kusto-labs.postman_collection.json: the same 10 requests with assertions on every answer,
// then the labs' dockerized-quickstart config with JSON numbers), checks that newman counted no
// failure, that the requests reached the worker in the labs' shapes, and that the quickstart
// connector moves storm events into its table through the named CSV mapping.
func TestPostmanKustoLabs(t *testing.T) {
	node := requireNode(t)
	newman := installNewman(t)
	if v, err := exec.Command(node, newman, "--version").Output(); err != nil || strings.TrimSpace(string(v)) != "6.2.2" {
		t.Fatalf("newman --version = %q, %v; want 6.2.2", v, err)
	}

	// What the labs' configs refer to: the crimes topic and table with its JSON mapping, and
	// the quickstart's Storms table with its CSV mapping over the demo's storm-events topic.
	createTopic(t, "crimes", 6)
	kustoMgmt(t, ".create table crimes (Id:long, Kind:string)")
	kustoMgmt(t, `.create table crimes ingestion json mapping 'crimes_mapping' '[{"column":"Id","Properties":{"Path":"$.id"}},{"column":"Kind","Properties":{"Path":"$.kind"}}]'`)
	kustoMgmt(t, ".create table Storms (StartTime:datetime, EndTime:datetime, EventId:int, State:string, EventType:string, Source:string)")
	kustoMgmt(t, `.create table Storms ingestion csv mapping 'Storms_CSV_Mapping' '[{"column":"StartTime","Properties":{"Ordinal":"0"}},{"column":"EndTime","Properties":{"Ordinal":"1"}},{"column":"EventId","Properties":{"Ordinal":"3"}},{"column":"State","Properties":{"Ordinal":"4"}},{"column":"EventType","Properties":{"Ordinal":"5"}},{"column":"Source","Properties":{"Ordinal":"12"}}]'`)

	rec := startRecorder(t)
	host, port, err := net.SplitHostPort(strings.TrimPrefix(rec.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "newman-report.json")
	args := []string{newman, "run", collectionFile,
		"--env-var", "host=" + host,
		"--env-var", "port=" + port,
		"--env-var", "kafka=" + dev.kafka,
		"--env-var", "kustoUrl=" + dev.engineURL,
		"--env-var", "caFile=" + dev.caFile,
		"--env-var", "db=" + dev.database,
		"--env-var", "tempDir=" + filepath.Join(dir, "spool") + string(filepath.Separator),
		"--reporters", "cli,json",
		"--reporter-json-export", report,
		"--timeout-request", "15000",
		"--color", "off",
		"--disable-unicode",
	}
	ctx, cancel := context.WithTimeout(context.Background(), newmanTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	t.Logf("newman output:\n%s", out.String())
	logRequests(t, "newman", rec.all())

	run := readNewmanReport(t, report)
	if run.Stats.Assertions.Failed != 0 || len(run.Failures) != 0 || run.Stats.Requests.Failed != 0 || run.Stats.TestScripts.Failed != 0 {
		t.Errorf("newman: %d of %d assertions failed, %d requests failed, %d test scripts failed, %d failures (exit: %v)",
			run.Stats.Assertions.Failed, run.Stats.Assertions.Total, run.Stats.Requests.Failed, run.Stats.TestScripts.Failed, len(run.Failures), runErr)
	} else if runErr != nil {
		t.Errorf("newman exited with %v although it reported no failure", runErr)
	}
	// Every pm.test in the collection runs exactly once (the polling requests assert only on
	// their last attempt), so fewer assertions mean a script stopped early.
	collection, err := os.ReadFile(collectionFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Count(collection, []byte("pm.test(")); run.Stats.Assertions.Total != want {
		t.Errorf("newman ran %d assertions, want the collection's %d", run.Stats.Assertions.Total, want)
	}

	checkLabsWire(t, rec.all())

	// The quickstart connector (numbers in its config) moves the demo's storm events into
	// Storms through Storms_CSV_Mapping: with flush.size.bytes 10000 each partition's first
	// files roll by size at once.
	eventually(t, rowsTimeout, "rows in Storms", func() (bool, string) {
		n, err := kustoCount("Storms")
		if err != nil {
			return false, err.Error()
		}
		if n > demoRecords {
			t.Fatalf("Storms holds %d rows, more than the %d storm events produced", n, demoRecords)
		}
		return n > 0, fmt.Sprintf("%d rows", n)
	})
	// The mapping picked the columns by ordinal: every row has its event id and source.
	if n, err := kustoCount("Storms | where isnull(EventId) or isempty(Source) or isempty(State)"); err != nil || n != 0 {
		t.Errorf("Storms rows without EventId, State or Source: %d, %v; want none", n, err)
	}
	if status, body := restDo(t, http.MethodDelete, "/connectors/storm", nil); status != http.StatusNoContent {
		t.Fatalf("DELETE /connectors/storm = %d %s", status, body)
	}
	requireNotFound(t, "/connectors/storm")
}

// checkLabsWire checks that the labs' 10 requests reached the worker exactly in the labs'
// shapes: newman must not have normalised away what the test is about.
func checkLabsWire(t *testing.T, reqs []recordedRequest) {
	t.Helper()
	// A polled request repeats; keep the first of each run.
	var seq []recordedRequest
	for _, r := range reqs {
		if n := len(seq); n > 0 && seq[n-1].Method == r.Method && seq[n-1].URI == r.URI {
			continue
		}
		seq = append(seq, r)
	}
	if len(seq) < len(labsRequests) {
		t.Fatalf("the worker got %d distinct requests, fewer than the labs' %d", len(seq), len(labsRequests))
	}
	for i, want := range labsRequests {
		got := seq[i]
		ct, hasCT := got.rawHeader("Content-Type")
		if !hasCT {
			ct = "-"
		}
		body := string(got.Body)
		if want.body == "{" {
			if !strings.HasPrefix(body, "{\r\n") || !json.Valid(got.Body) {
				t.Errorf("labs request %02d: body %q, want the connector JSON with CRLF line ends", i+1, body)
			}
			body = want.body
		}
		if got.Method != want.method || got.URI != want.uri || ct != want.contentType || body != want.body {
			t.Errorf("labs request %02d reached the worker as %s %s, Content-Type %q, body %q; want %s %s, Content-Type %q, body %q",
				i+1, got.Method, got.URI, ct, body, want.method, want.uri, want.contentType, want.body)
		}
	}
}

// newmanRun is the part of newman's JSON report the test reads.
type newmanRun struct {
	Stats struct {
		Requests    newmanCount `json:"requests"`
		TestScripts newmanCount `json:"testScripts"`
		Assertions  newmanCount `json:"assertions"`
	} `json:"stats"`
	Failures []json.RawMessage `json:"failures"`
}

type newmanCount struct {
	Total  int `json:"total"`
	Failed int `json:"failed"`
}

func readNewmanReport(t *testing.T, path string) newmanRun {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading newman's report: %v", err)
	}
	var report struct {
		Run newmanRun `json:"run"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("decoding newman's report: %v", err)
	}
	return report.Run
}

// requireNode returns the path of node, after checking that node and npm are installed.
// Missing tools fail the test (CI installs them); with -short they skip it.
func requireNode(t *testing.T) string {
	t.Helper()
	node, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		msg := fmt.Sprintf("replaying the Postman collection needs node and npm on PATH (node: %v, npm: %v)", nodeErr, npmErr)
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return node
}

// installNewman installs the newman pinned in package-lock.json with `npm ci` and returns its
// command script. The install is cached under the user cache directory, keyed by package.json
// and package-lock.json, so only the first run reaches the npm registry.
func installNewman(t *testing.T) string {
	t.Helper()
	manifest, err := os.ReadFile(packageJSON)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(packageLock)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(append([]byte{}, manifest...), lock...))
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	root := filepath.Join(base, "kconnect", "restclients-newman")
	dir := filepath.Join(root, hex.EncodeToString(sum[:8]))
	script := filepath.Join(dir, "node_modules", "newman", "bin", "newman.js")
	const done = ".npm-ci-complete"
	if _, err := os.Stat(filepath.Join(dir, done)); err == nil {
		return script
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatalf("creating the newman install directory: %v", err)
	}
	tmp, err := os.MkdirTemp(root, "install-")
	if err != nil {
		t.Fatalf("creating the newman install directory: %v", err)
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	for name, data := range map[string][]byte{packageJSON: manifest, packageLock: lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("npm ci (in %s) failed: %v\n%s", tmp, err, out.String())
	}
	if err := os.WriteFile(filepath.Join(tmp, done), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another run installed the same lock meanwhile; use that one.
		if _, statErr := os.Stat(filepath.Join(dir, done)); statErr != nil {
			t.Fatalf("moving the newman install into place: %v", err)
		}
	}
	t.Logf("npm ci installed newman in %s", time.Since(start).Round(time.Millisecond))
	return script
}
