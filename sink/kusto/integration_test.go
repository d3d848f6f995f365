package kusto

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu"
	"github.com/kconnect/kconnect/sink"
)

// These tests run the task through the real Kusto SDK against the emulator: queued ingestion
// (DM commands, blob upload over HTTPS with the emulator's CA, queue message) and streaming.

const itDB = "db1"

// itColumns is the table of the Java sink's integration test.
const itColumns = "(vnum:int, vdec:decimal, vdate:datetime, vb:bool, vreal:real, vstr:string, vlong:long, vtype:string)"

// itRow is one expected row.
type itRow struct {
	vnum  int32
	vdec  string
	vdate time.Time
	vb    bool
	vreal float64
	vstr  string
	vlong int64
	vtype string
}

func itRows(n int, vtype string) []itRow {
	rows := make([]itRow, n)
	for i := range rows {
		rows[i] = itRow{
			vnum: int32(i), vdec: fmt.Sprintf("%d.125", i), vdate: time.Date(2026, 1, 1, 0, 0, i%60, 0, time.UTC),
			vb: i%2 == 0, vreal: float64(i) + 0.25, vstr: fmt.Sprintf(`V %d, "quoted"`, i), vlong: 9000000000 + int64(i), vtype: vtype,
		}
	}
	return rows
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func (r itRow) csv() string {
	return strings.Join([]string{fmt.Sprint(r.vnum), r.vdec, r.vdate.Format(time.RFC3339), fmt.Sprint(r.vb),
		fmt.Sprint(r.vreal), csvQuote(r.vstr), fmt.Sprint(r.vlong), r.vtype}, ",")
}

// csvReversed writes the fields in reverse order; itCSVMapping puts them back and sets vtype.
func (r itRow) csvReversed() string {
	f := []string{fmt.Sprint(r.vlong), csvQuote(r.vstr), fmt.Sprint(r.vreal), fmt.Sprint(r.vb), r.vdate.Format(time.RFC3339), r.vdec, fmt.Sprint(r.vnum)}
	return strings.Join(f, ",")
}

const itCSVMapping = `[{"column":"vlong","Properties":{"Ordinal":"0"}},{"column":"vstr","Properties":{"Ordinal":"1"}},` +
	`{"column":"vreal","Properties":{"Ordinal":"2"}},{"column":"vb","Properties":{"Ordinal":"3"}},` +
	`{"column":"vdate","Properties":{"Ordinal":"4"}},{"column":"vdec","Properties":{"Ordinal":"5"}},` +
	`{"column":"vnum","Properties":{"Ordinal":"6"}},{"column":"vtype","Properties":{"ConstValue":"csv-mapped"}}]`

func (r itRow) json() string {
	return fmt.Sprintf(`{"vnum":%d,"vdec":%s,"vdate":%q,"vb":%t,"vreal":%v,"vstr":%q,"vlong":%d,"vtype":%q}`,
		r.vnum, r.vdec, r.vdate.Format(time.RFC3339), r.vb, r.vreal, r.vstr, r.vlong, r.vtype)
}

// itStructSchema is a Connect struct whose fields the JSON mapping renames; "when" is a
// Timestamp, which the JsonConverter writes as epoch milliseconds.
var itStructSchema = &sink.Schema{Type: sink.Struct, Name: "it.Row", Fields: []sink.Field{
	{Name: "num", Index: 0, Schema: &sink.Schema{Type: sink.Int32}},
	{Name: "dec", Index: 1, Schema: &sink.Schema{Type: sink.String}},
	{Name: "when", Index: 2, Schema: &sink.Schema{Type: sink.Int64, Name: sink.TimestampSchemaName}},
	{Name: "flag", Index: 3, Schema: &sink.Schema{Type: sink.Boolean}},
	{Name: "real", Index: 4, Schema: &sink.Schema{Type: sink.Float64}},
	{Name: "text", Index: 5, Schema: &sink.Schema{Type: sink.String, Optional: true}},
	{Name: "long", Index: 6, Schema: &sink.Schema{Type: sink.Int64}},
}}

const itJSONMapping = `[{"column":"vnum","Properties":{"Path":"$.num"}},{"column":"vdec","Properties":{"Path":"$.dec"}},` +
	`{"column":"vdate","Properties":{"Path":"$.when","Transform":"DateTimeFromUnixMilliseconds"}},` +
	`{"column":"vb","Properties":{"Path":"$.flag"}},{"column":"vreal","Properties":{"Path":"$.real"}},` +
	`{"column":"vstr","Properties":{"Path":"$['text']"}},{"column":"vlong","Properties":{"Path":"$.long"}},` +
	`{"column":"vtype","Properties":{"ConstValue":"struct-json"}}]`

func (r itRow) structValue() *sink.StructValue {
	s := sink.NewStruct(itStructSchema)
	s.Values = []any{r.vnum, r.vdec, r.vdate, r.vb, r.vreal, r.vstr, r.vlong}
	return s
}

func kqlQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// startEmu starts an emulator with a short batching delay.
func startEmu(t *testing.T) *kustoemu.Emulator {
	t.Helper()
	return startEmuWithAuth(t, nil)
}

// startEmuWithAuth starts an emulator that requires tokens when auth is set.
func startEmuWithAuth(t *testing.T, auth *kustoemu.Auth) *kustoemu.Emulator {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	e, err := kustoemu.Start(kustoemu.Options{
		Auth:             auth,
		Databases:        []string{itDB},
		Batching:         kustoemu.BatchingPolicy{MaxDelay: 50 * time.Millisecond},
		IngestRetryDelay: 10 * time.Millisecond,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func emuMgmt(t *testing.T, e *kustoemu.Emulator, commands ...string) {
	t.Helper()
	for _, c := range commands {
		if _, err := e.Mgmt(context.Background(), itDB, c); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
}

// emuProps configures the sink for the emulator: no authentication, the emulator's CA trusted.
func emuProps(t *testing.T, e *kustoemu.Emulator, mapping string, kv ...string) map[string]string {
	ca := filepath.Join(t.TempDir(), "emulator-ca.pem")
	if err := os.WriteFile(ca, e.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	props := map[string]string{
		KeyIngestionURL:  e.EngineURL(),
		KeyQueryURL:      e.EngineURL(),
		KeyAuthStrategy:  "none",
		KeyTLSCAFile:     ca,
		KeyTopicsMapping: mapping,
		KeyTempDir:       t.TempDir(),
		KeyFlushSize:     "2000",
		KeyFlushInterval: "200",
		KeyRetryBackoff:  "50",
	}
	return with(props, kv...)
}

// startSDKTask starts a task with the real SDK ingester.
func startSDKTask(t *testing.T, props map[string]string) *Task {
	t.Helper()
	return startSDKTaskLogging(t, props, io.Discard)
}

// startSDKTaskLogging starts a task with the real SDK ingester that logs to w.
func startSDKTaskLogging(t *testing.T, props map[string]string, w io.Writer) *Task {
	t.Helper()
	task := NewTask()
	task.SetLogger(slog.New(slog.NewTextHandler(w, nil)))
	if err := task.Start(context.Background(), &fakeContext{}, props); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := task.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return task
}

// putAll delivers records as the runtime does, redelivering after retriable errors.
func putAll(t *testing.T, task *Task, recs []sink.Record) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := task.Put(context.Background(), recs)
		if err == nil {
			return
		}
		if !sink.IsRetriable(err) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCommitted waits until PreCommit returns want for every partition, flushing the emulator's
// batches on the way.
func waitCommitted(t *testing.T, task *Task, want map[sink.TopicPartition]int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := preCommit(t, task)
		done := true
		for tp, off := range want {
			if got[tp] != off {
				done = false
			}
		}
		if done {
			return
		}
		if err := task.failure(); err != nil {
			t.Fatalf("task failed: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRows flushes the emulator's batches until the table has want rows (and no more).
func waitRows(t *testing.T, e *kustoemu.Emulator, table string, want int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := e.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		rows, err := e.Rows(itDB, table)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > want {
			t.Fatalf("%s has %d rows, want %d", table, len(rows), want)
		}
		if len(rows) == want {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d rows after 30s, want %d (ingestion failures: %+v)", table, len(rows), want, e.Failures())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkRows compares rows value by value with the expected ones, matched by vnum.
func checkRows(t *testing.T, rows []map[string]any, want []itRow) {
	t.Helper()
	byNum := map[int32]map[string]any{}
	for _, r := range rows {
		n, ok := r["vnum"].(int32)
		if !ok {
			t.Fatalf("row without an int vnum: %v", r)
		}
		if _, dup := byNum[n]; dup {
			t.Fatalf("vnum %d ingested twice", n)
		}
		byNum[n] = r
	}
	for _, w := range want {
		r, ok := byNum[w.vnum]
		if !ok {
			t.Fatalf("row vnum=%d missing", w.vnum)
		}
		dec, _ := r["vdec"].(decimal.Decimal)
		when, _ := r["vdate"].(time.Time)
		if !dec.Equal(decimal.RequireFromString(w.vdec)) || !when.Equal(w.vdate) || r["vb"] != w.vb ||
			r["vreal"] != w.vreal || r["vstr"] != w.vstr || r["vlong"] != w.vlong || r["vtype"] != w.vtype {
			t.Fatalf("row vnum=%d is %v, want %+v", w.vnum, r, w)
		}
	}
}

func TestIntegrationFormatsAndMappings(t *testing.T) {
	e := startEmu(t)
	emuMgmt(t, e,
		".create table Csv "+itColumns,
		".create table CsvMapped "+itColumns,
		".create table CsvMapped ingestion csv mapping 'csv_mapping' "+kqlQuote(itCSVMapping),
		".create table Json "+itColumns,
		".create table StructJson "+itColumns,
		".create table StructJson ingestion json mapping 'data_mapping' "+kqlQuote(itJSONMapping),
	)
	mapping := `[{'topic':'csv','db':'db1','table':'Csv','format':'csv'},` +
		`{'topic':'csv-mapped','db':'db1','table':'CsvMapped','format':'csv','mapping':'csv_mapping'},` +
		`{'topic':'json','db':'db1','table':'Json','format':'json'},` +
		`{'topic':'struct','db':'db1','table':'StructJson','format':'json','mapping':'data_mapping'}]`
	task := startSDKTask(t, emuProps(t, e, mapping))
	messages := captureQueueMessages(task)
	parts := []sink.TopicPartition{tp("csv", 0), tp("csv-mapped", 0), tp("json", 0), tp("json", 1), tp("struct", 0)}
	if err := task.Open(context.Background(), parts); err != nil {
		t.Fatal(err)
	}
	const n = 60
	csvRows, mappedRows, jsonRows, structRows := itRows(n, "csv"), itRows(n, "csv-mapped"), itRows(n, "json"), itRows(n, "struct-json")
	var recs []sink.Record
	for i := range n {
		off := int64(i)
		recs = append(recs,
			strRecord("csv", 0, off, csvRows[i].csv()),
			strRecord("csv-mapped", 0, off, mappedRows[i].csvReversed()),
			// Schemaless JSON arrives as RawJSON and is written as it came.
			sink.Record{Topic: "json", Partition: int32(i % 2), Value: sink.RawJSON(jsonRows[i].json())},
			sink.Record{Topic: "struct", Partition: 0, Offset: off, ValueSchema: itStructSchema, Value: structRows[i].structValue()},
		)
	}
	// JSON records alternate between two partitions, each in offset order.
	next := map[int32]int64{}
	for i := range recs {
		if recs[i].Topic == "json" {
			recs[i].Offset = next[recs[i].Partition]
			next[recs[i].Partition]++
		}
	}
	for start := 0; start < len(recs); start += 37 {
		putAll(t, task, recs[start:min(start+37, len(recs))])
	}
	waitCommitted(t, task, map[sink.TopicPartition]int64{
		tp("csv", 0): n, tp("csv-mapped", 0): n, tp("json", 0): n / 2, tp("json", 1): n / 2, tp("struct", 0): n,
	})
	checkRows(t, waitRows(t, e, "Csv", n), csvRows)
	checkRows(t, waitRows(t, e, "CsvMapped", n), mappedRows)
	checkRows(t, waitRows(t, e, "Json", n), jsonRows)
	checkRows(t, waitRows(t, e, "StructJson", n), structRows)

	// Every ingestion message declares what the file is: gzip, its uncompressed size, the format
	// and mapping of its table.
	msgs := messages.all()
	if len(msgs) < 5 {
		t.Fatalf("%d queue messages", len(msgs))
	}
	var rawTotal int64
	for _, m := range msgs {
		if !strings.Contains(m.BlobPath, ".gz?") {
			t.Errorf("blob %s is not named .gz", m.BlobPath)
		}
		if m.RawDataSize <= 0 {
			t.Errorf("message without RawDataSize: %+v", m)
		}
		rawTotal += m.RawDataSize
		want := map[string][3]string{"Csv": {"csv", "", ""}, "CsvMapped": {"csv", "csv_mapping", "Csv"},
			"Json": {"multijson", "", ""}, "StructJson": {"multijson", "data_mapping", "Json"}}[m.TableName]
		got := [3]string{m.AdditionalProperties["format"], m.AdditionalProperties["ingestionMappingReference"], m.AdditionalProperties["ingestionMappingType"]}
		if got != want || m.DatabaseName != itDB {
			t.Errorf("message for %s.%s declares %v, want %v", m.DatabaseName, m.TableName, got, want)
		}
	}
	var wantRaw int64
	for i := range n {
		wantRaw += int64(len(csvRows[i].csv())+len(mappedRows[i].csvReversed())+len(jsonRows[i].json())) + 3
		b, _ := appendConnectJSON(nil, itStructSchema, structRows[i].structValue())
		wantRaw += int64(len(b)) + 1
	}
	if rawTotal != wantRaw {
		t.Fatalf("messages declare %d raw bytes in all, the records are %d", rawTotal, wantRaw)
	}
}

// queueMessage is the part of a queued-ingestion message the tests check.
type queueMessage struct {
	BlobPath             string
	DatabaseName         string
	TableName            string
	RawDataSize          int64
	AdditionalProperties map[string]string
}

type messageLog struct {
	mu   sync.Mutex
	msgs []queueMessage
	next http.RoundTripper
}

func (l *messageLog) all() []queueMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]queueMessage(nil), l.msgs...)
}

// RoundTrip decodes queue messages (XML around base64 around JSON) on their way to storage.
func (l *messageLog) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/messages") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var env struct{ MessageText string }
		var m queueMessage
		if xml.Unmarshal(body, &env) == nil {
			if js, err := base64.StdEncoding.DecodeString(env.MessageText); err == nil {
				var raw struct {
					queueMessage
					AdditionalProperties map[string]any
				}
				if json.Unmarshal(js, &raw) == nil {
					m = raw.queueMessage
					m.AdditionalProperties = map[string]string{}
					for k, v := range raw.AdditionalProperties {
						m.AdditionalProperties[k] = fmt.Sprint(v)
					}
				}
			}
		}
		l.mu.Lock()
		l.msgs = append(l.msgs, m)
		l.mu.Unlock()
	}
	return l.next.RoundTrip(req)
}

// captureQueueMessages records the ingestion messages the task's SDK clients send. It is set
// before the first Put, which orders it before every request.
func captureQueueMessages(task *Task) *messageLog {
	w := task.ing.(*sdkIngester).streams
	l := &messageLog{next: w.next}
	w.next = l
	return l
}

func TestIntegrationStreaming(t *testing.T) {
	e := startEmu(t)
	emuMgmt(t, e,
		".create table Streamed "+itColumns, ".alter table Streamed policy streamingingestion enable",
		".create table NoPolicy "+itColumns, ".alter table NoPolicy policy streamingingestion enable",
	)
	if err := e.Faults().DisableStreaming(itDB, "NoPolicy"); err != nil {
		t.Fatal(err)
	}
	mapping := `[{'topic':'s','db':'db1','table':'Streamed','format':'csv','streaming':'true'},` +
		`{'topic':'q','db':'db1','table':'NoPolicy','format':'csv','streaming':true}]`
	task := startSDKTask(t, emuProps(t, e, mapping, KeyFlushSize, "500"))
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("s", 0), tp("q", 0)}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	streamed, fallback := itRows(n, "streamed"), itRows(n, "fallback")
	var recs []sink.Record
	for i := range n {
		recs = append(recs, strRecord("s", 0, int64(i), streamed[i].csv()), strRecord("q", 0, int64(i), fallback[i].csv()))
	}
	putAll(t, task, recs)
	waitCommitted(t, task, map[sink.TopicPartition]int64{tp("s", 0): n, tp("q", 0): n})
	// Streamed rows are in the table without any batching.
	rows, err := e.Rows(itDB, "Streamed")
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, rows, streamed)
	checkRows(t, waitRows(t, e, "NoPolicy", n), fallback)
	ing := task.ing.(*sdkIngester)
	if !ing.streamingOff(&route{Database: itDB, Table: "NoPolicy"}) || ing.streamingOff(&route{Database: itDB, Table: "Streamed"}) {
		t.Fatal("the table without a streaming policy must be switched to queued ingestion, and only that one")
	}
	// Later files of that table no longer try streaming.
	before := e.Faults().Counts().Requests[kustoemu.SurfaceStreaming]
	more := itRows(n+5, "fallback")[n:]
	for i, r := range more {
		putAll(t, task, []sink.Record{strRecord("q", 0, int64(n+i), r.csv())})
	}
	waitCommitted(t, task, map[sink.TopicPartition]int64{tp("q", 0): n + 5})
	if after := e.Faults().Counts().Requests[kustoemu.SurfaceStreaming]; after != before {
		t.Fatalf("%d more streaming requests after streaming was switched off", after-before)
	}
	waitRows(t, e, "NoPolicy", n+5)
}

// Throttling, server errors and dropped connections on the storage endpoints are retried until
// every record is in Kusto exactly once.
func TestIntegrationFaultsAreRetriedWithoutLoss(t *testing.T) {
	e := startEmu(t)
	emuMgmt(t, e, ".create table Faulty "+itColumns)
	task := startSDKTask(t, emuProps(t, e, `[{'topic':'f','db':'db1','table':'Faulty','format':'csv'}]`))
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("f", 0)}); err != nil {
		t.Fatal(err)
	}
	rows := itRows(90, "faulty")
	put := func(from, to int) {
		var recs []sink.Record
		for i := from; i < to; i++ {
			recs = append(recs, strRecord("f", 0, int64(i), rows[i].csv()))
		}
		putAll(t, task, recs)
	}
	put(0, 10) // the first file fetches the ingestion resources while nothing fails
	waitCommitted(t, task, map[sink.TopicPartition]int64{tp("f", 0): 10})
	for _, f := range []kustoemu.Fault{
		{Surface: kustoemu.SurfaceBlob, Kind: kustoemu.FaultThrottle, Count: 5},
		{Surface: kustoemu.SurfaceQueue, Kind: kustoemu.FaultInternal, Count: 5},
		{Surface: kustoemu.SurfaceBlob, Kind: kustoemu.FaultDrop, Count: 5},
	} {
		if err := e.Faults().Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	put(10, 90)
	waitCommitted(t, task, map[sink.TopicPartition]int64{tp("f", 0): 90})
	if left := e.Faults().List(); len(left) != 0 {
		t.Fatalf("faults not used up: %+v", left)
	}
	checkRows(t, waitRows(t, e, "Faulty", 90), rows)
}

// A permanent failure (Kusto answers 400 with @permanent) follows behavior.on.error.
func TestIntegrationPermanentFailure(t *testing.T) {
	for _, behavior := range []string{"FAIL", "LOG", "IGNORE"} {
		t.Run(behavior, func(t *testing.T) {
			e := startEmu(t)
			emuMgmt(t, e, ".create table P "+itColumns)
			props := emuProps(t, e, `[{'topic':'p','db':'db1','table':'P','format':'csv'}]`, KeyBehaviorOnErr, behavior, KeyFlushSize, "100000")
			task := startSDKTask(t, props)
			if err := task.Open(context.Background(), []sink.TopicPartition{tp("p", 0)}); err != nil {
				t.Fatal(err)
			}
			// The first request of a fresh client is its identity-token command: reject it for good.
			if err := e.Faults().Inject(kustoemu.Fault{Surface: kustoemu.SurfaceMgmt, Kind: kustoemu.FaultPermanent, Count: 1}); err != nil {
				t.Fatal(err)
			}
			rows := itRows(20, "permanent")
			for i := range 10 {
				putAll(t, task, []sink.Record{strRecord("p", 0, int64(i), rows[i].csv())})
			}
			if behavior == "FAIL" {
				eventually(t, "task failure", func() bool { return task.failure() != nil })
				err := task.Put(context.Background(), []sink.Record{strRecord("p", 0, 10, rows[10].csv())})
				if err == nil || sink.IsRetriable(err) || !strings.Contains(err.Error(), "Failed to write records to KustoDB.") {
					t.Fatalf("put after the failure: %v", err)
				}
				if got := preCommit(t, task); len(got) != 0 {
					t.Fatalf("committed %v past the rejected file", got)
				}
				return
			}
			waitCommitted(t, task, map[sink.TopicPartition]int64{tp("p", 0): 10}) // skipped
			for i := 10; i < 20; i++ {
				putAll(t, task, []sink.Record{strRecord("p", 0, int64(i), rows[i].csv())})
			}
			waitCommitted(t, task, map[sink.TopicPartition]int64{tp("p", 0): 20})
			checkRows(t, waitRows(t, e, "P", 10), rows[10:])
		})
	}
}

// logBuffer collects a task's log lines; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// putOne opens partition 0 of topic and writes one row; the time-based roll sends it.
func putOne(t *testing.T, task *Task, topic string) {
	t.Helper()
	if err := task.Open(context.Background(), []sink.TopicPartition{tp(topic, 0)}); err != nil {
		t.Fatal(err)
	}
	putAll(t, task, []sink.Record{strRecord(topic, 0, 0, itRows(1, topic)[0].csv())})
}

// waitFailure waits for the task to fail and returns what Put then reports.
func waitFailure(t *testing.T, task *Task, topic string) string {
	t.Helper()
	eventually(t, "task failure", func() bool { return task.failure() != nil })
	err := task.Put(context.Background(), []sink.Record{strRecord(topic, 0, 1, "next")})
	if err == nil || sink.IsRetriable(err) {
		t.Fatalf("put after the failure: %v", err)
	}
	if got := preCommit(t, task); len(got) != 0 {
		t.Fatalf("committed %v past a file that was not ingested", got)
	}
	t.Log(err.Error())
	return err.Error()
}

// noSAS fails the test when text shows a SAS signature.
func noSAS(t *testing.T, text string) {
	t.Helper()
	if strings.Count(text, "sig=") != strings.Count(text, "sig=REDACTED") {
		t.Fatalf("the text shows a SAS signature:\n%s", text)
	}
}

// A storage endpoint whose certificate the sink does not trust: the SDK only says "problem
// uploading to IngestBlob Storage"; the sink's error and log name the certificate problem.
func TestIntegrationUntrustedStorageCertificateIsNamed(t *testing.T) {
	e := startEmu(t)
	emuMgmt(t, e, ".create table T "+itColumns)
	mapping := `[{'topic':'tls','db':'db1','table':'T','format':'csv'}]`
	const want = "problem uploading to IngestBlob Storage; cause: PUT https://"
	const certificate = "tls: failed to verify certificate: x509: certificate signed by unknown authority"

	t.Run("fail", func(t *testing.T) {
		task := startSDKTask(t, emuProps(t, e, mapping, KeyTLSCAFile, "<delete>", KeyRetryMaxTime, "0"))
		putOne(t, task, "tls")
		msg := waitFailure(t, task, "tls")
		if !strings.Contains(msg, "Retry attempts exhausted") || !strings.Contains(msg, want) || !strings.Contains(msg, certificate) {
			t.Fatalf("failure does not name the certificate problem:\n%s", msg)
		}
		noSAS(t, msg)
	})
	t.Run("log", func(t *testing.T) {
		var logs logBuffer
		task := startSDKTaskLogging(t, emuProps(t, e, mapping, KeyTLSCAFile, "<delete>", KeyBehaviorOnErr, "log"), &logs)
		putOne(t, task, "tls")
		eventually(t, "a retry warning naming the certificate problem", func() bool {
			return strings.Contains(logs.String(), "ingestion failed; will retry") && strings.Contains(logs.String(), certificate)
		})
		if task.failure() != nil || len(preCommit(t, task)) != 0 {
			t.Fatalf("a retriable failure must neither fail the task nor commit: %v %v", task.failure(), preCommit(t, task))
		}
		noSAS(t, logs.String())
	})
}

// Failed storage answers (injected faults) are named in the sink's error with their status,
// error code and message.
func TestIntegrationStorageFaultsAreNamed(t *testing.T) {
	e := startEmu(t)
	emuMgmt(t, e, ".create table T "+itColumns)
	for _, tc := range []struct {
		fault kustoemu.Fault
		want  []string
	}{
		{kustoemu.Fault{Surface: kustoemu.SurfaceBlob, Kind: kustoemu.FaultPermanent},
			[]string{"problem uploading to IngestBlob Storage; cause: PUT https://", " was answered with HTTP 400 InvalidInput: One of the request inputs is not valid. Injected fault."}},
		{kustoemu.Fault{Surface: kustoemu.SurfaceQueue, Kind: kustoemu.FaultPermanent, Code: "QueueDisabled"},
			[]string{"could not upload file to any queue; cause: POST https://", "/messages was answered with HTTP 400 QueueDisabled: One of the request inputs is not valid."}},
	} {
		t.Run(string(tc.fault.Surface), func(t *testing.T) {
			topic := "fault-" + string(tc.fault.Surface)
			task := startSDKTask(t, emuProps(t, e, `[{'topic':'`+topic+`','db':'db1','table':'T','format':'csv'}]`, KeyRetryMaxTime, "0"))
			if err := e.Faults().Inject(tc.fault); err != nil {
				t.Fatal(err)
			}
			putOne(t, task, topic)
			msg := waitFailure(t, task, topic)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("failure lacks %q:\n%s", w, msg)
				}
			}
			noSAS(t, msg)
		})
	}
}

// forgeSAS replaces the SAS signature of blob uploads, so storage answers 403.
type forgeSAS struct{ next http.RoundTripper }

const forgedSignature = "Zm9yZ2VkLXNpZ25hdHVyZQ=="

func (f *forgeSAS) RoundTrip(req *http.Request) (*http.Response, error) {
	if q := req.URL.Query(); req.Method == http.MethodPut && q.Get("sig") != "" {
		q.Set("sig", forgedSignature)
		req = req.Clone(req.Context())
		req.URL.RawQuery = q.Encode()
	}
	return f.next.RoundTrip(req)
}

// Storage refusing the SAS is not bad data: the task stops under every behavior.on.error and
// says so, with the storage's answer and without any signature.
func TestIntegrationStorageRefusalStopsTheTask(t *testing.T) {
	e := startEmu(t)
	emuMgmt(t, e, ".create table T "+itColumns)
	for _, behavior := range []string{"FAIL", "LOG", "IGNORE"} {
		t.Run(behavior, func(t *testing.T) {
			topic := "refused-" + strings.ToLower(behavior)
			task := startSDKTask(t, emuProps(t, e, `[{'topic':'`+topic+`','db':'db1','table':'T','format':'csv'}]`, KeyBehaviorOnErr, behavior))
			w := task.ing.(*sdkIngester).streams
			w.next = &forgeSAS{next: w.next} // set before the first Put, which orders it before every request
			putOne(t, task, topic)
			msg := waitFailure(t, task, topic)
			for _, want := range []string{
				"Kusto or its storage refused the sink's credentials or permissions (identity: aad.auth.strategy=none, no credentials are sent).",
				"The task stops under every behavior.on.error setting",
				" was answered with HTTP 403 AuthenticationFailed: Server failed to authenticate the request.",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("failure lacks %q:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, forgedSignature) || strings.Contains(msg, url.QueryEscape(forgedSignature)) {
				t.Errorf("failure shows the signature:\n%s", msg)
			}
			noSAS(t, msg)
		})
	}
}

// A wrong application secret (the identity provider refuses the token) and a token the engine
// refuses (401) stop the task under every behavior.on.error, naming the identity but no secret.
func TestIntegrationAuthRefusalsStopTheTask(t *testing.T) {
	const appID, secret = "8c3f3c8e-0000-4000-8000-00000000b001", "the-right-secret"
	e := startEmuWithAuth(t, &kustoemu.Auth{Clients: map[string]string{appID: secret}})
	emuMgmt(t, e, ".create table T "+itColumns)
	for _, tc := range []struct {
		name     string
		kv       []string
		secret   string
		identity string
	}{
		{"wrong secret", []string{KeyAuthStrategy, "application", KeyAppID, appID, KeyAppKey, "not-the-secret-1", KeyAuthority, e.Tenant()},
			"not-the-secret-1", "aad.auth.strategy=application, aad.auth.appid=" + appID + ", aad.auth.authority=" + e.Tenant()},
		{"refused token", []string{KeyAuthStrategy, "az_dev_token", KeyAccessToken, "forged.token.value"},
			"forged.token.value", "aad.auth.strategy=az_dev_token, the static token in aad.auth.accesstoken"},
	} {
		for _, behavior := range []string{"FAIL", "LOG", "IGNORE"} {
			t.Run(tc.name+"/"+behavior, func(t *testing.T) {
				topic := "auth"
				kv := append([]string{KeyTrustedHosts, "127.0.0.1", KeyBehaviorOnErr, behavior}, tc.kv...)
				task := startSDKTask(t, emuProps(t, e, `[{'topic':'auth','db':'db1','table':'T','format':'csv'}]`, kv...))
				// The emulator's transport sends the identity client's instance discovery
				// (login.microsoftonline.com) to its token endpoint; the sink's own layers stay.
				w := task.ing.(*sdkIngester).streams
				w.next = e.HTTPClient().Transport
				putOne(t, task, topic)
				msg := waitFailure(t, task, topic)
				if !strings.Contains(msg, "Kusto or its storage refused the sink's credentials or permissions (identity: "+tc.identity) {
					t.Errorf("failure does not name the refusal and the identity:\n%s", msg)
				}
				if strings.Contains(msg, tc.secret) || strings.Contains(msg, secret) {
					t.Errorf("failure shows a secret:\n%s", msg)
				}
			})
		}
	}
}
