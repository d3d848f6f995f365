package nodesdk

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// report is what check.mjs prints: per step, the SDK's result objects flattened or the error
// it threw.
type report struct {
	Node string `json:"node"`
	SDK  struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"sdk"`
	Table string       `json:"table"`
	Steps []stepReport `json:"steps"`
}

type stepReport struct {
	Name       string          `json:"name"`
	API        string          `json:"api"`
	Database   string          `json:"database"`
	CSL        string          `json:"csl"`
	OK         bool            `json:"ok"`
	ReadFailed bool            `json:"readFailed"`
	Response   *responseReport `json:"response"`
	Error      *errorReport    `json:"error"`
}

// responseReport is a KustoResponseDataSet as the SDK's accessors describe it.
type responseReport struct {
	Version     string     `json:"version"`
	TableNames  []string   `json:"tableNames"`
	Tables      []tableRef `json:"tables"`
	ErrorsCount struct {
		Warnings int `json:"warnings"`
		Errors   int `json:"errors"`
	} `json:"errorsCount"`
	Exceptions        []string       `json:"exceptions"`
	Warnings          []string       `json:"warnings"`
	DataSetHeader     map[string]any `json:"dataSetHeader"`
	DataSetCompletion map[string]any `json:"dataSetCompletion"`
	StatusTable       *tableReport   `json:"statusTable"`
	Primary           []tableReport  `json:"primary"`
}

type tableRef struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	RowCount *int   `json:"rowCount"`
}

type tableReport struct {
	Name    string         `json:"name"`
	Kind    string         `json:"kind"`
	Columns []columnReport `json:"columns"`
	Rows    [][]cellReport `json:"rows"`
}

type columnReport struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Ordinal int    `json:"ordinal"`
}

// cellReport is one value: as it arrived in the row (raw) and as the SDK decoded it (kind is
// the JavaScript kind: string, number, boolean, object, array, null, date …).
type cellReport struct {
	Raw   json.RawMessage `json:"raw"`
	Kind  string          `json:"kind"`
	Value json.RawMessage `json:"value"`
	MS    *float64        `json:"ms"`
}

// errorReport is what the SDK threw.
type errorReport struct {
	Name            string `json:"name"`
	Message         string `json:"message"`
	Throttling      bool   `json:"throttling"`
	HTTP            bool   `json:"http"`
	Status          int    `json:"status"`
	BodyKind        string `json:"bodyKind"`
	Code            string `json:"code"`
	Type            string `json:"type"`
	KustoMessage    string `json:"kustoMessage"`
	Permanent       *bool  `json:"permanent"`
	ClientRequestID string `json:"clientRequestId"`
	Stack           string `json:"stack"`
}

func parseReport(data []byte) (*report, error) {
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if len(r.Steps) == 0 {
		return nil, fmt.Errorf("the report has no steps")
	}
	return &r, nil
}

// succeeded fails the test unless the step returned a result that the SDK read without error.
func (s stepReport) succeeded(t *testing.T) *responseReport {
	t.Helper()
	if s.ReadFailed {
		t.Fatalf("step %s (%s %q): the request succeeded but the SDK threw reading its result: %s", s.Name, s.API, s.CSL, describe(s.Error))
	}
	if !s.OK || s.Response == nil {
		t.Fatalf("step %s (%s %q) failed in the SDK: %s", s.Name, s.API, s.CSL, describe(s.Error))
	}
	if s.Response.ErrorsCount.Errors != 0 || len(s.Response.Exceptions) != 0 {
		t.Errorf("step %s: the SDK counts errors in the result: %+v, exceptions %q", s.Name, s.Response.ErrorsCount, s.Response.Exceptions)
	}
	for _, tb := range s.Response.Primary {
		tb.decodedAsTyped(t)
	}
	if s.Response.StatusTable != nil {
		s.Response.StatusTable.decodedAsTyped(t)
	}
	return s.Response
}

// decodedKinds are, per Kusto column type, the JavaScript kinds the SDK may decode a value of
// that type to (null is allowed in every column: management results carry null strings too).
var decodedKinds = map[string][]string{
	"string":   {"string"},
	"guid":     {"string"},
	"decimal":  {"string"},
	"int":      {"number"},
	"long":     {"number"},
	"real":     {"number", "string"}, // NaN, Infinity and -Infinity arrive as strings
	"bool":     {"boolean"},
	"datetime": {"date"},
	"timespan": {"number"},
	"dynamic":  {"string", "number", "boolean", "object", "array"},
}

// decodedAsTyped fails for a column whose type is not a Kusto type and for a value the SDK
// decoded to a kind that does not fit its column (an invalid Date, say).
func (tb tableReport) decodedAsTyped(t *testing.T) {
	t.Helper()
	for j, c := range tb.Columns {
		kinds, ok := decodedKinds[c.Type]
		if !ok {
			t.Errorf("table %s column %s has type %q, not a Kusto type", tb.Name, c.Name, c.Type)
			continue
		}
		for i, row := range tb.Rows {
			if j >= len(row) {
				t.Errorf("table %s row %d has %d values for %d columns", tb.Name, i, len(row), len(tb.Columns))
				break
			}
			got := row[j].Kind
			if got == "null" {
				continue
			}
			if !slices.Contains(kinds, got) {
				t.Errorf("table %s row %d column %s (%s): the SDK decoded a %s (%s, from %s)", tb.Name, i, c.Name, c.Type, got, row[j].Value, row[j].Raw)
				continue
			}
			if c.Type == "real" && got == "string" && !sameJSON(row[j].Value, `"NaN"`) && !sameJSON(row[j].Value, `"Infinity"`) && !sameJSON(row[j].Value, `"-Infinity"`) {
				t.Errorf("table %s row %d column %s: real as the string %s", tb.Name, i, c.Name, row[j].Value)
			}
		}
	}
}

func describe(e *errorReport) string {
	if e == nil {
		return "no error reported"
	}
	b, _ := json.Marshal(e)
	return string(b)
}

// onlyTable returns the single primary result table.
func (r *responseReport) onlyTable(t *testing.T) tableReport {
	t.Helper()
	if len(r.Primary) != 1 {
		t.Fatalf("got %d primary results, want 1", len(r.Primary))
	}
	return r.Primary[0]
}

// hasColumns fails unless the table's columns have exactly these names and types
// ("name:type", in order).
func (tb tableReport) hasColumns(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for i, c := range tb.Columns {
		if c.Ordinal != i {
			t.Errorf("column %s has ordinal %d, want %d", c.Name, c.Ordinal, i)
		}
		got = append(got, c.Name+":"+c.Type)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("columns = %v, want %v", got, want)
	}
}

// column returns the index of the named column.
func (tb tableReport) column(t *testing.T, name string) int {
	t.Helper()
	for i, c := range tb.Columns {
		if c.Name == name {
			return i
		}
	}
	t.Fatalf("table has no column %s", name)
	return -1
}

// strings returns the decoded values of a string column, sorted.
func (tb tableReport) strings(t *testing.T, name string) []string {
	t.Helper()
	i := tb.column(t, name)
	out := []string{}
	for _, row := range tb.Rows {
		c := row[i]
		var s string
		if c.Kind != "string" || json.Unmarshal(c.Value, &s) != nil {
			t.Fatalf("column %s holds a %s (%s), want a string", name, c.Kind, c.Value)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// want is the expected view of one value through the SDK: its JavaScript kind, the value as it
// arrives in the row (raw, JSON text) and as decoded (value, JSON text; a Date as ISO text with
// its milliseconds). Numbers compare as float64, as JavaScript holds them.
type want struct {
	kind  string
	raw   string
	value string
	ms    *float64
}

func wantString(s string) want {
	b, _ := json.Marshal(s)
	return want{kind: "string", raw: string(b), value: string(b)}
}

// wantNumber is a JSON number: ints, longs and finite reals arrive as numbers and stay numbers.
// A long beyond 2^53 loses precision in JavaScript (JSON.parse); the SDK does not use BigInt.
func wantNumber(text string) want { return want{kind: "number", raw: text, value: text} }

func wantBool(b bool) want {
	text := fmt.Sprint(b)
	return want{kind: "boolean", raw: text, value: text}
}

func wantNull() want { return want{kind: "null", raw: "null"} }

// wantDateTime is a datetime as Kusto sends it (ISO 8601 with up to 7 fractional digits); the
// SDK decodes it with new Date(text), which keeps milliseconds.
func wantDateTime(wire string) want {
	tm, err := time.Parse(time.RFC3339Nano, wire)
	if err != nil {
		panic(fmt.Sprintf("bad datetime in the test table: %q", wire))
	}
	ms := float64(tm.UnixMilli())
	raw, _ := json.Marshal(wire)
	iso := `"` + tm.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z") + `"`
	return want{kind: "date", raw: string(raw), value: iso, ms: &ms}
}

// wantTimeSpan is a timespan as Kusto sends it (.NET "c" format, [-][d.]hh:mm:ss[.fffffff]);
// the SDK decodes it to a number of milliseconds, computed as
// sign * 1000 * (days*86400 + hours*3600 + minutes*60 + seconds) in float64.
func wantTimeSpan(wire string, negative bool, days, hours, minutes int, seconds float64) want {
	sign := 1.0
	if negative {
		sign = -1
	}
	ms := sign * 1000 * (float64(days*86400) + float64(hours*3600) + float64(minutes*60) + seconds)
	raw, _ := json.Marshal(wire)
	return want{kind: "number", raw: string(raw), value: jsonNumber(ms)}
}

func jsonNumber(f float64) string {
	b, err := json.Marshal(f)
	if err != nil || math.IsNaN(f) {
		panic(fmt.Sprintf("not a JSON number: %v", f))
	}
	return string(b)
}

// wantDynamic is a dynamic object or array: sent as embedded JSON, decoded as a JavaScript
// object or array.
func wantDynamic(jsonText string) want {
	kind := "object"
	if strings.HasPrefix(jsonText, "[") {
		kind = "array"
	}
	return want{kind: kind, raw: jsonText, value: jsonText}
}

// check compares a cell with the expectation.
func (w want) check(t *testing.T, where string, got cellReport) {
	t.Helper()
	if got.Kind != w.kind {
		t.Errorf("%s: the SDK decoded a %s (%s), want a %s (%s)", where, got.Kind, got.Value, w.kind, w.value)
		return
	}
	if !sameJSON(got.Raw, w.raw) {
		t.Errorf("%s: on the wire %s, want %s", where, got.Raw, w.raw)
	}
	if w.kind != "null" && !sameJSON(got.Value, w.value) {
		t.Errorf("%s: decoded %s, want %s", where, got.Value, w.value)
	}
	if w.ms != nil && (got.MS == nil || *got.MS != *w.ms) {
		t.Errorf("%s: decoded to %v ms since the epoch, want %v", where, msText(got.MS), *w.ms)
	}
}

func msText(ms *float64) string {
	if ms == nil {
		return "none"
	}
	return fmt.Sprint(*ms)
}

// sameJSON reports whether two JSON texts hold the same value, numbers compared as float64.
func sameJSON(got json.RawMessage, want string) bool {
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	return reflect.DeepEqual(g, w)
}
