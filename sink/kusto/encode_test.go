package kusto

import (
	"encoding/json"
	"flag"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/sink"
)

var update = flag.Bool("update", false, "rewrite golden files")

func dec(unscaled int64, scale int32) sink.Decimal {
	return sink.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

// allTypes is a struct of every Connect type and logical type, as the JsonConverter or an Avro
// converter delivers it.
func allTypes() *sink.StructValue {
	inner := &sink.Schema{Type: sink.Struct, Name: "Inner", Fields: []sink.Field{{Name: "month", Index: 0, Schema: &sink.Schema{Type: sink.Int8}}, {Name: "day", Index: 1, Schema: &sink.Schema{Type: sink.Int16}}}}
	s := &sink.Schema{Type: sink.Struct, Name: "com.example.All", Fields: []sink.Field{
		{Name: "i32", Index: 0, Schema: &sink.Schema{Type: sink.Int32}},
		{Name: "i64", Index: 1, Schema: &sink.Schema{Type: sink.Int64}},
		{Name: "f32", Index: 2, Schema: &sink.Schema{Type: sink.Float32}},
		{Name: "f64", Index: 3, Schema: &sink.Schema{Type: sink.Float64}},
		{Name: "big", Index: 4, Schema: &sink.Schema{Type: sink.Float64}},
		{Name: "nan", Index: 5, Schema: &sink.Schema{Type: sink.Float64}},
		{Name: "bool", Index: 6, Schema: &sink.Schema{Type: sink.Boolean}},
		{Name: "str", Index: 7, Schema: &sink.Schema{Type: sink.String}},
		{Name: "bytes", Index: 8, Schema: &sink.Schema{Type: sink.Bytes}},
		{Name: "dec", Index: 9, Schema: &sink.Schema{Type: sink.Bytes, Name: sink.DecimalSchemaName, Parameters: map[string]string{"scale": "2"}}},
		{Name: "negdec", Index: 10, Schema: &sink.Schema{Type: sink.Bytes, Name: sink.DecimalSchemaName, Parameters: map[string]string{"scale": "2"}}},
		{Name: "date", Index: 11, Schema: &sink.Schema{Type: sink.Int32, Name: sink.DateSchemaName}},
		{Name: "time", Index: 12, Schema: &sink.Schema{Type: sink.Int32, Name: sink.TimeSchemaName}},
		{Name: "ts", Index: 13, Schema: &sink.Schema{Type: sink.Int64, Name: sink.TimestampSchemaName}},
		{Name: "opt", Index: 14, Schema: &sink.Schema{Type: sink.String, Optional: true}},
		{Name: "withDefault", Index: 15, Schema: &sink.Schema{Type: sink.Int32, Optional: true, Default: int32(7)}},
		{Name: "arr", Index: 16, Schema: &sink.Schema{Type: sink.Array, ItemsSchema: &sink.Schema{Type: sink.String}}},
		{Name: "smap", Index: 17, Schema: &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.String}, ValueSchema: &sink.Schema{Type: sink.Int64}}},
		{Name: "imap", Index: 18, Schema: &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.Int32}, ValueSchema: &sink.Schema{Type: sink.String}}},
		{Name: "inner", Index: 19, Schema: inner},
	}}
	in := sink.NewStruct(inner)
	in.Values = []any{int8(12), int16(31)}
	v := sink.NewStruct(s)
	v.Values = []any{
		int32(-42), int64(9007199254740993), float32(1.1), 0.1, 1e20, math.NaN(), true,
		"é \"q\" \\ \n\t\u0001 </script>", []byte{0, 1, 2, 0xff}, dec(125, 2), dec(-129, 2),
		time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 13, 14, 15, 16e6, time.UTC),
		time.Date(2026, 11, 21, 5, 44, 1, 234e6, time.UTC), nil, nil,
		[]any{"a", "b"}, map[string]any{"z": int64(1), "a": int64(2)}, []sink.MapEntry{{Key: int32(2), Value: "two"}, {Key: int32(1), Value: "one"}},
		in,
	}
	return v
}

func TestRecordEncodingGolden(t *testing.T) {
	str := func(v any) sink.Record { return sink.Record{ValueSchema: sink.OptionalStringSchema, Value: v} }
	none := func(v any) sink.Record { return sink.Record{Value: v} }
	cases := []struct {
		name   string
		rec    sink.Record
		format dataFormat
	}{
		{"string schema", str("hello-0,with,commas"), formatCSV},
		{"string without schema", none("plain text"), formatCSV},
		{"bytes schema", sink.Record{ValueSchema: sink.OptionalBytesSchema, Value: []byte("hello-1")}, formatCSV},
		{"bytes without schema", none([]byte("raw\x00bytes")), formatCSV},
		{"raw JSON object passes through", none(sink.RawJSON(`{"b": 1,  "a":[1, 2]}`)), formatMultiJSON},
		{"raw JSON pretty-printed passes through", none(sink.RawJSON("{\n  \"x\": 1\n}")), formatMultiJSON},
		{"raw JSON array passes through", none(sink.RawJSON(`[1,{"a":2}]`)), formatMultiJSON},
		{"schemaless map", none(map[string]any{"hello": int64(0), "nested": map[string]any{"b": true, "a": nil}, "list": []any{json.Number("1.50"), "x"}}), formatMultiJSON},
		{"schemaless long", none(int64(-7)), formatCSV},
		{"schemaless double", none(3.0), formatCSV},
		{"schemaless small double", none(1.0e-4), formatCSV},
		{"schemaless bool", none(false), formatCSV},
		{"struct of every type", sink.Record{ValueSchema: allTypes().Schema, Value: allTypes()}, formatMultiJSON},
		{"map schema", sink.Record{ValueSchema: &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.String}, ValueSchema: &sink.Schema{Type: sink.String}}, Value: map[string]any{"k": "v"}}, formatCSV},
	}
	var b strings.Builder
	for _, tc := range cases {
		out, err := appendRecord(nil, &tc.rec, tc.format)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(out) == 0 || out[len(out)-1] != '\n' {
			t.Fatalf("%s: output must end with one newline: %q", tc.name, out)
		}
		b.WriteString("== " + tc.name + "\n")
		b.Write(out)
	}
	golden := filepath.Join("testdata", "records.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("records differ from %s (run with -update and review the diff):\n%s", golden, b.String())
	}
}

func TestRecordEncodingErrors(t *testing.T) {
	cases := []struct {
		rec    sink.Record
		format dataFormat
		want   string
	}{
		{sink.Record{ValueSchema: allTypes().Schema, Value: allTypes()}, formatCSV,
			"Invalid Kusto table mapping, Kafka records of type Avro and JSON can only be ingested to Kusto table having Avro or JSON mapping. Currently, it is of type CSV."},
		{sink.Record{ValueSchema: &sink.Schema{Type: sink.Int64}, Value: int64(1)}, formatCSV,
			"Invalid Kafka record format, connector does not support INT64 format. This connector supports Avro, Json with schema, Json without schema, Byte, String format. "},
		{sink.Record{ValueSchema: &sink.Schema{Type: sink.Float32}, Value: float32(1)}, formatMultiJSON, "does not support FLOAT32 format"},
		{sink.Record{ValueSchema: &sink.Schema{Type: sink.Array, ItemsSchema: sink.OptionalStringSchema}, Value: []any{"a"}}, formatMultiJSON, "does not support ARRAY format"},
		{sink.Record{Value: struct{}{}}, formatCSV, "does not support struct {} format"},
		{sink.Record{ValueSchema: sink.OptionalStringSchema, Value: 5}, formatCSV, "does not match its STRING schema"},
	}
	for _, tc := range cases {
		if _, err := appendRecord(nil, &tc.rec, tc.format); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: want %q, got %v", tc.rec.Value, tc.want, err)
		}
	}
	required := &sink.Schema{Type: sink.Struct, Fields: []sink.Field{{Name: "must", Index: 0, Schema: &sink.Schema{Type: sink.String}}}}
	if _, err := appendRecord(nil, &sink.Record{ValueSchema: required, Value: sink.NewStruct(required)}, formatMultiJSON); err == nil ||
		!strings.Contains(err.Error(), "field must: Conversion error: null value for field that is required and has no default value") {
		t.Errorf("null in a required field: %v", err)
	}
	if _, err := appendRecord(nil, &sink.Record{}, formatCSV); err != errTombstone {
		t.Errorf("tombstone: %v", err)
	}
}

// Control characters are escaped as Jackson escapes them, with upper-case hex (\u001F): the
// bytes of a struct or map line are the Java sink's bytes. (The sink once wrote lower-case hex,
// which JSON readers accept but which differs from what the Java sink writes.)
func TestRecordEncodingEscapesControlCharactersAsJackson(t *testing.T) {
	s := &sink.Schema{Type: sink.Struct, Fields: []sink.Field{{Name: "s\x1b", Index: 0, Schema: &sink.Schema{Type: sink.String}}}}
	v := sink.NewStruct(s)
	v.Values[0] = "unit\x1fsep\x0bvt\x7fdel\x00"
	cases := []struct {
		rec  sink.Record
		want string
	}{
		{sink.Record{ValueSchema: s, Value: v}, `{"s\u001B":"unit\u001Fsep\u000Bvt` + "\x7f" + `del\u0000"}` + "\n"},
		{sink.Record{Value: map[string]any{"k\x1a": []any{"\x0e", "\x1c"}}}, `{"k\u001A":["\u000E","\u001C"]}` + "\n"},
		{sink.Record{ValueSchema: &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.Int32}, ValueSchema: sink.OptionalStringSchema},
			Value: []sink.MapEntry{{Key: int32(1), Value: "\x1d"}}}, `{"1":"\u001D"}` + "\n"},
	}
	for _, tc := range cases {
		got, err := appendRecord(nil, &tc.rec, formatMultiJSON)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
