package restclients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kustoSinkClass is the Java Kusto sink's connector class, which kconnect serves.
const kustoSinkClass = "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector"

// Time limits of the conditions the tests wait for.
const (
	settleTimeout = 30 * time.Second // a connector or task reaching a state
	rowsTimeout   = 45 * time.Second // produced records showing up in Kusto
)

var httpClient = &http.Client{Timeout: 15 * time.Second}

// sinkFixture is the Kafka topic and Kusto table one connector of a client test moves records
// between, and what has been produced into the topic so far.
type sinkFixture struct {
	name       string // the connector's name
	topic      string
	table      string
	partitions int
	produced   int
}

// fixtureSchema is the schema of a fixture table: records are CSV lines "id,client,note".
const fixtureSchema = "(Id:long, Client:string, Note:string)"

// newSinkFixture creates a topic with two partitions and an empty table for connector name.
func newSinkFixture(t *testing.T, name, topic, table string) *sinkFixture {
	t.Helper()
	f := &sinkFixture{name: name, topic: topic, table: table, partitions: 2}
	createTopic(t, topic, int32(f.partitions))
	kustoMgmt(t, ".create table "+table+" "+fixtureSchema)
	return f
}

// config is the connector config a client submits: a Kusto sink with two tasks that reads the
// fixture's topic into its table on the dev emulator, flushing every second.
func (f *sinkFixture) config() map[string]string {
	return map[string]string{
		"connector.class":             kustoSinkClass,
		"topics":                      f.topic,
		"tasks.max":                   strconv.Itoa(f.partitions),
		"kusto.ingestion.url":         dev.engineURL,
		"kusto.query.url":             dev.engineURL,
		"aad.auth.strategy":           "none",
		"kusto.tls.ca.file":           dev.caFile,
		"kusto.tables.topics.mapping": fmt.Sprintf("[{'topic': '%s', 'db': '%s', 'table': '%s', 'format': 'csv'}]", f.topic, dev.database, f.table),
		"flush.interval.ms":           "1000",
		"key.converter":               "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":             "org.apache.kafka.connect.storage.StringConverter",
	}
}

// withName is config plus the "name" key, which is what GET …/config must return.
func withName(config map[string]string, name string) map[string]string {
	out := maps.Clone(config)
	out["name"] = name
	return out
}

// toAny is m as the map[string]any the clients take configs as.
func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// produceAndWait produces n CSV records into the topic and waits until the table holds every
// record produced so far: the connector really moves data.
func (f *sinkFixture) produceAndWait(t *testing.T, n int) {
	t.Helper()
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf("%d,%s,record %d of %s", f.produced+i, f.name, f.produced+i, f.topic)
	}
	produce(t, f.topic, values...)
	f.produced += n
	waitRows(t, f.table, f.produced)
}

// createTopic creates a topic on the dev broker.
func createTopic(t *testing.T, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := dev.admin.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil && !errors.Is(res.Err, kerr.TopicAlreadyExists) {
		err = res.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

// produce writes one record per value, keyed by its index, and waits for the broker's acks.
func produce(t *testing.T, topic string, values ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	records := make([]*kgo.Record, len(values))
	for i, v := range values {
		records[i] = &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(v)}
	}
	if err := dev.kafkaClient.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
}

// kustoMgmt runs a management command on the emulator's dev database.
func kustoMgmt(t *testing.T, csl string) {
	t.Helper()
	if _, err := kustoCall("/v1/rest/mgmt", csl); err != nil {
		t.Fatalf("running %q: %v", csl, err)
	}
}

// kustoCount returns `table | count`.
func kustoCount(table string) (int, error) {
	res, err := kustoCall("/v1/rest/query", table+" | count")
	if err != nil {
		return 0, err
	}
	if len(res.Tables) == 0 || len(res.Tables[0].Rows) != 1 || len(res.Tables[0].Rows[0]) != 1 {
		return 0, fmt.Errorf("counting %s: unexpected answer %+v", table, res)
	}
	n, ok := res.Tables[0].Rows[0][0].(json.Number)
	if !ok {
		return 0, fmt.Errorf("counting %s: unexpected value %v", table, res.Tables[0].Rows[0][0])
	}
	c, err := n.Int64()
	return int(c), err
}

// kustoTables lists the tables of the dev database.
func kustoTables() ([]string, error) {
	res, err := kustoCall("/v1/rest/mgmt", ".show tables")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, row := range res.Tables[0].Rows {
		if name, ok := row[0].(string); ok {
			names = append(names, name)
		}
	}
	return names, nil
}

// v1Result is the Kusto v1 REST answer: tables of rows, numbers kept as json.Number.
type v1Result struct {
	Tables []struct {
		Rows [][]any `json:"Rows"`
	} `json:"Tables"`
}

func kustoCall(path, csl string) (v1Result, error) {
	body, _ := json.Marshal(map[string]string{"db": dev.database, "csl": csl})
	resp, err := httpClient.Post(dev.engineURL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return v1Result{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return v1Result{}, fmt.Errorf("%s: %s", resp.Status, data)
	}
	var res v1Result
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil || len(res.Tables) == 0 {
		return v1Result{}, fmt.Errorf("decoding %s: %v", data, err)
	}
	return res, nil
}

// waitRows waits until table holds exactly want rows; more rows than that fail at once.
func waitRows(t *testing.T, table string, want int) {
	t.Helper()
	eventually(t, rowsTimeout, fmt.Sprintf("%s holds %d rows", table, want), func() (bool, string) {
		n, err := kustoCount(table)
		if err != nil {
			return false, err.Error()
		}
		if n > want {
			t.Fatalf("%s holds %d rows, more than the %d produced", table, n, want)
		}
		return n == want, fmt.Sprintf("%d rows", n)
	})
}

// eventually polls cond until it holds; after timeout it fails the test with the last detail
// cond returned.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if ok, detail := poll(timeout, cond); !ok {
		t.Fatalf("waited %s for %s; last: %s", timeout, what, detail)
	}
}

// poll calls cond every 100ms until it holds or timeout passes, and reports whether it held
// and the last detail it returned.
func poll(timeout time.Duration, cond func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return true, detail
		}
		if time.Now().After(deadline) {
			return false, detail
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restDo sends one plain request to the worker and returns the status and body.
func restDo(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, dev.restURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// requireNotFound checks that GET path answers 404 with Connect's JSON error body.
func requireNotFound(t *testing.T, path string) {
	t.Helper()
	status, body := restDo(t, http.MethodGet, path, nil)
	var e struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	if status != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.ErrorCode != http.StatusNotFound || e.Message == "" {
		t.Fatalf("GET %s = %d %s, want 404 with {error_code: 404, message}", path, status, body)
	}
}

// equalConfig reports how got differs from want, or "" when they are equal.
func equalConfig[V any](got map[string]V, want map[string]string) string {
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("missing %q", k))
			continue
		}
		if s, isString := any(g).(string); !isString || s != w {
			diffs = append(diffs, fmt.Sprintf("%q = %#v, want %q", k, any(g), w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("extra %q = %#v", k, any(g)))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}
