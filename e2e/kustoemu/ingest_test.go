package kustoemu_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustoingest"
	"github.com/Azure/azure-kusto-go/azkustoingest/ingestoptions"
	"github.com/google/uuid"
	"github.com/linkedin/goavro/v2"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

// The test table has one column of every type; three records cover values, quoting and nulls.
var columns = []struct{ name, typ string }{
	{"a", "long"}, {"i", "int"}, {"s", "string"}, {"r", "real"}, {"b", "bool"},
	{"d", "datetime"}, {"ts", "timespan"}, {"g", "guid"}, {"dec", "decimal"}, {"dyn", "dynamic"},
}

var (
	guid1 = uuid.MustParse("5a0f3c8e-1b2d-4e6f-8a9b-0c1d2e3f4a5b")
	guid2 = uuid.MustParse("00000000-0000-0000-0000-0000000000ff")
)

// record is one row as text (for CSV and the Avro string fields), as JSON values, and as the
// values the SDK reads back (normalised by norm).
type record struct {
	text     []string // one per column; "" is empty/null
	json     map[string]any
	expected []any
}

var records = []record{
	{
		text: []string{"1", "10", "alpha", "1.5", "true", "2024-01-02T03:04:05.1234567Z", "01:02:03", guid1.String(), "12.345", `{"k":"v","n":[1,2]}`},
		json: map[string]any{"a": 1, "i": 10, "s": "alpha", "r": 1.5, "b": true, "d": "2024-01-02T03:04:05.1234567Z", "ts": "01:02:03",
			"g": guid1.String(), "dec": json.Number("12.345"), "dyn": map[string]any{"k": "v", "n": []any{1, 2}}},
		expected: []any{int64(1), int32(10), "alpha", 1.5, true, time.Date(2024, 1, 2, 3, 4, 5, 123456700, time.UTC),
			time.Hour + 2*time.Minute + 3*time.Second, guid1, "12.345", map[string]any{"k": "v", "n": []any{1.0, 2.0}}},
	},
	{
		text: []string{"2", "-3", `beta, "quoted"`, "-0.25", "false", "2023-12-31T23:59:59Z", "1.02:03:04.5", guid2.String(), "0.1", `[1,"two"]`},
		json: map[string]any{"a": 2, "i": -3, "s": `beta, "quoted"`, "r": -0.25, "b": false, "d": "2023-12-31T23:59:59Z", "ts": "1.02:03:04.5",
			"g": guid2.String(), "dec": "0.1", "dyn": []any{1, "two"}},
		expected: []any{int64(2), int32(-3), `beta, "quoted"`, -0.25, false, time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC),
			26*time.Hour + 3*time.Minute + 4500*time.Millisecond, guid2, "0.1", []any{1.0, "two"}},
	},
	{
		text:     []string{"3", "", "", "", "", "", "", "", "", ""},
		json:     map[string]any{"a": 3, "i": nil, "s": ""},
		expected: []any{int64(3), nil, "", nil, nil, nil, nil, nil, nil, nil},
	},
}

func createTableCommand(table string) string {
	parts := make([]string, len(columns))
	for i, c := range columns {
		parts[i] = c.name + ":" + c.typ
	}
	return fmt.Sprintf(".create table %s (%s)", table, strings.Join(parts, ", "))
}

// kqlString quotes s as a single-quoted KQL string literal.
func kqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// csvData writes the records; mapped reverses the field order (a mapping puts them back).
func csvData(mapped bool) []byte {
	var b strings.Builder
	for _, r := range records {
		fields := make([]string, len(r.text))
		for i, v := range r.text {
			j := i
			if mapped {
				j = len(r.text) - 1 - i
			}
			fields[j] = csvField(v)
		}
		b.WriteString(strings.Join(fields, ",") + "\n")
	}
	return []byte(b.String())
}

func csvMapping() string {
	var parts []string
	for i, c := range columns {
		parts = append(parts, fmt.Sprintf(`{"column":"%s","Properties":{"Ordinal":"%d"}}`, c.name, len(columns)-1-i))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// jsonData writes the records as a JSON array (multijson); mapped renames every key to x_<col>
// and nests a under "outer".
func jsonData(mapped bool) []byte {
	var objs []map[string]any
	for _, r := range records {
		o := map[string]any{}
		for k, v := range r.json {
			switch {
			case !mapped:
				o[k] = v
			case k == "a":
				o["outer"] = map[string]any{"a": v}
			default:
				o["x_"+k] = v
			}
		}
		objs = append(objs, o)
	}
	b, _ := json.MarshalIndent(objs, "", "  ")
	return b
}

func jsonMapping() string {
	var parts []string
	for _, c := range columns {
		path := fmt.Sprintf("$['x_%s']", c.name)
		if c.name == "a" {
			path = "$.outer.a"
		}
		parts = append(parts, fmt.Sprintf(`{"column":"%s","Properties":{"Path":"%s"}}`, c.name, path))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// avroData writes an Avro object container file; mapped names every field f_<col>.
func avroData(t testing.TB, mapped bool) []byte {
	t.Helper()
	prefix := ""
	if mapped {
		prefix = "f_"
	}
	types := map[string]string{"a": `"long"`, "i": `["null","int"]`, "s": `"string"`, "r": `["null","double"]`, "b": `["null","boolean"]`}
	var fields []string
	for _, c := range columns {
		typ, ok := types[c.name]
		if !ok {
			typ = `["null","string"]`
		}
		fields = append(fields, fmt.Sprintf(`{"name":"%s%s","type":%s}`, prefix, c.name, typ))
	}
	schema := `{"type":"record","name":"R","fields":[` + strings.Join(fields, ",") + `]}`
	var buf bytes.Buffer
	w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Schema: schema, CompressionName: goavro.CompressionDeflateLabel})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		rec := map[string]any{}
		for i, c := range columns {
			v := r.text[i]
			name := prefix + c.name
			switch c.name {
			case "a":
				rec[name] = r.expected[0]
			case "s":
				rec[name] = v
			case "i":
				rec[name] = union("int", r.expected[1])
			case "r":
				rec[name] = union("double", r.expected[3])
			case "b":
				rec[name] = union("boolean", r.expected[4])
			default:
				if v == "" {
					rec[name] = nil
				} else {
					rec[name] = goavro.Union("string", v)
				}
			}
		}
		if err := w.Append([]any{rec}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func union(name string, v any) any {
	if v == nil {
		return nil
	}
	return goavro.Union(name, v)
}

func avroMapping() string {
	var parts []string
	for _, c := range columns {
		parts = append(parts, fmt.Sprintf(`{"column":"%s","Properties":{"Field":"f_%s"}}`, c.name, c.name))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

type ingestCase struct {
	client  ingestorKind
	format  string // csv, multijson, avro
	file    bool   // FromFile instead of FromReader
	gzipped bool   // pre-compressed: DontCompress + CompressionType(GZIP) + RawDataSize
	mapping bool   // by mapping reference
}

func (c ingestCase) name() string {
	src, comp, m := "reader", "raw", "identity"
	if c.file {
		src = "file"
	}
	if c.gzipped {
		comp = "gzip"
	}
	if c.mapping {
		m = "mapping"
	}
	return strings.Join([]string{string(c.client), c.format, src, comp, m}, "/")
}

// Every client ingests every format; across the cases each client also reads from a reader and
// a file, raw and pre-compressed, with the identity mapping and a mapping reference.
var ingestCases = []ingestCase{
	{queued, "csv", false, false, false},
	{queued, "csv", true, true, true},
	{queued, "multijson", true, true, true},
	{queued, "multijson", false, false, false},
	{queued, "avro", false, false, true},
	{queued, "avro", true, false, false},
	{streaming, "csv", true, false, true},
	{streaming, "csv", false, true, false},
	{streaming, "multijson", false, true, true},
	{streaming, "multijson", true, false, false},
	{streaming, "avro", true, false, false},
	{streaming, "avro", false, false, true},
	{managed, "csv", false, true, true},
	{managed, "multijson", true, false, false},
	{managed, "avro", false, false, true},
	{managedNoStr, "csv", true, false, false},
	{managedNoStr, "multijson", false, true, true},
	{managedNoStr, "avro", true, false, true},
}

func TestIngestWithEveryClient(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	for n, tc := range ingestCases {
		table := fmt.Sprintf("T%d", n)
		mgmt(t, c, createTableCommand(table),
			fmt.Sprintf(".create table %s ingestion csv mapping 'm' %s", table, kqlString(csvMapping())),
			fmt.Sprintf(".create table %s ingestion json mapping 'm' %s", table, kqlString(jsonMapping())),
			fmt.Sprintf(".create table %s ingestion avro mapping 'm' %s", table, kqlString(avroMapping())))
		if tc.client == streaming || tc.client == managed {
			mgmt(t, c, fmt.Sprintf(".alter table %s policy streamingingestion enable", table))
		}
	}
	for n, tc := range ingestCases {
		table := fmt.Sprintf("T%d", n)
		t.Run(tc.name(), func(t *testing.T) {
			t.Parallel()
			in := newIngestor(t, e, tc.client, table)
			ingestCaseData(t, in, tc)
			waitForCount(t, c, table, int64(len(records)))
			want := make([][]any, len(records))
			for i, r := range records {
				want[i] = r.expected
			}
			q := table + " | order by a asc"
			compareRows(t, "Query", queryRows(t, c, q), want)
			compareRows(t, "IterativeQuery", iterativeRows(t, c, q), want)
		})
	}
}

func ingestCaseData(t *testing.T, in azkustoingest.Ingestor, tc ingestCase) {
	t.Helper()
	var data []byte
	var opts []azkustoingest.FileOption
	var format azkustoingest.DataFormat
	ext := tc.format
	switch tc.format {
	case "csv":
		data, format = csvData(tc.mapping), azkustoingest.CSV
	case "multijson":
		data, format, ext = jsonData(tc.mapping), azkustoingest.MultiJSON, "json"
	case "avro":
		data, format = avroData(t, tc.mapping), azkustoingest.AVRO
	}
	if tc.mapping {
		opts = append(opts, azkustoingest.IngestionMappingRef("m", format))
	} else {
		opts = append(opts, azkustoingest.FileFormat(format))
	}
	if tc.gzipped {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(data)
		_ = zw.Close()
		opts = append(opts, azkustoingest.DontCompress(), azkustoingest.CompressionType(ingestoptions.GZIP))
		if tc.client != streaming { // the streaming client refuses RawDataSize
			opts = append(opts, azkustoingest.RawDataSize(int64(len(data))))
		}
		data = buf.Bytes()
		ext += ".gz"
	}
	ctx := ctxFor(t, 30*time.Second)
	var err error
	if tc.file {
		path := filepath.Join(t.TempDir(), "data."+ext)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = in.FromFile(ctx, path, opts...)
	} else {
		_, err = in.FromReader(ctx, bytes.NewReader(data), opts...)
	}
	if err != nil {
		t.Fatalf("ingest %s: %v", tc.name(), err)
	}
}

func compareRows(t *testing.T, how string, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d: %v", how, len(got), len(want), got)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: row %d has %d values, want %d", how, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !reflect.DeepEqual(got[i][j], want[i][j]) {
				t.Errorf("%s: row %d column %s = %#v (%T), want %#v (%T)", how, i, columns[j].name, got[i][j], got[i][j], want[i][j], want[i][j])
			}
		}
	}
}
