package ingest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestValidateMapping(t *testing.T) {
	tests := []struct {
		name     string
		kind     string
		text     string
		contains string // "" = valid
	}{
		{"csv current form", "csv", `[{"column":"a","Properties":{"Ordinal":"0"}},{"Column":"b","Properties":{"ConstValue":"x"}}]`, ""},
		{"csv legacy form", "Csv", `[{"Name":"a","DataType":"int","Ordinal":0},{"name":"b","datatype":"string","ConstValue":"x"}]`, ""},
		{"csv source transforms", "csv", `[{"column":"a","Properties":{"Transform":"SourceLocation"}},{"column":"b","Properties":{"Transform":"SourceLineNumber"}}]`, ""},
		{"csv unix transform on ordinal", "csv", `[{"column":"a","Properties":{"Ordinal":"0","Transform":"DateTimeFromUnixSeconds"}}]`, ""},
		{"json current form", "json", `[{"column":"a","Properties":{"Path":"$.a.b"}},{"column":"b","Properties":{"Path":"$['x y']","Transform":"DateTimeFromUnixMilliseconds"}}]`, ""},
		{"json legacy form", "JSON", `[{"column":"a","path":"$.a","datatype":"string"},{"column":"b","path":"$","datatype":"dynamic"}]`, ""},
		{"json path without $ is a constant", "json", `[{"column":"a","Properties":{"Path":"fixed"}}]`, ""},
		{"json GetPathElement", "json", `[{"column":"a","Properties":{"Path":"$.a.b","Transform":"GetPathElement(-1)"}}]`, ""},
		{"avro field and path", "avro", `[{"column":"a","Properties":{"Field":"f"}},{"column":"b","Properties":{"Path":"$.r.x"}},{"column":"c","Properties":{"Field":"t","Transform":"DateTimeFromUnixMicroseconds"}}]`, ""},
		{"avro legacy", "avro", `[{"column":"a","field":"f","datatype":"long"}]`, ""},
		{"apacheavro kind", "ApacheAvro", `[{"column":"a","Properties":{"Field":"f"}}]`, ""},
		{"parquet kind", "parquet", `[{"column":"a","Properties":{"Path":"$.f"}}]`, ""},
		{"numbers as numbers", "csv", `[{"column":"a","Properties":{"Ordinal":3,"ConstValue":null}}]`, ""},

		{"unknown kind", "xml", `[{"column":"a","Properties":{"Path":"$.a"}}]`, "unknown mapping kind 'xml'"},
		{"not JSON", "json", `[{"column":"a",`, "not valid JSON"},
		{"not an array", "json", `{"column":"a"}`, "JSON array"},
		{"empty", "json", `[]`, "no columns"},
		{"element not object", "json", `["a"]`, "element 0 is not a JSON object"},
		{"no column", "json", `[{"Properties":{"Path":"$.a"}}]`, "element 0 has no column name"},
		{"column not a string", "json", `[{"column":5,"Properties":{"Path":"$.a"}}]`, "column name must be a string"},
		{"duplicate column", "json", `[{"column":"a","Properties":{"Path":"$.a"}},{"column":"a","Properties":{"Path":"$.b"}}]`, "mapped more than once"},
		{"unknown datatype", "json", `[{"column":"a","datatype":"varchar","Properties":{"Path":"$.a"}}]`, "unknown datatype 'varchar'"},
		{"properties not object", "json", `[{"column":"a","Properties":"$.a"}]`, "Properties must be a JSON object"},
		{"property not scalar", "json", `[{"column":"a","Properties":{"Path":["$.a"]}}]`, "property 'path' must be a string or a number"},
		{"json without source", "json", `[{"column":"a","Properties":{}}]`, "needs Path, Field or ConstValue"},
		{"json with ordinal", "json", `[{"column":"a","Properties":{"Ordinal":"0"}}]`, "not Ordinal"},
		{"csv with path", "csv", `[{"column":"a","Properties":{"Path":"$.a"}}]`, "Ordinal, not Path"},
		{"csv with field", "csv", `[{"column":"a","Properties":{"Field":"a"}}]`, "Ordinal, not Path or Field"},
		{"csv without source", "csv", `[{"column":"a"}]`, "needs Ordinal or ConstValue"},
		{"csv negative ordinal", "csv", `[{"column":"a","Properties":{"Ordinal":"-1"}}]`, "Ordinal '-1' is not a non-negative integer"},
		{"csv ordinal not a number", "csv", `[{"column":"a","Properties":{"Ordinal":"first"}}]`, "Ordinal 'first'"},
		{"csv ordinal and const", "csv", `[{"column":"a","Properties":{"Ordinal":"0","ConstValue":"x"}}]`, "cannot both be set"},
		{"csv bag transform", "csv", `[{"column":"a","Properties":{"Ordinal":"0","Transform":"PropertyBagArrayToDictionary"}}]`, "does not apply to csv"},
		{"unknown transform", "json", `[{"column":"a","Properties":{"Path":"$.a","Transform":"ToUpper"}}]`, "unknown transform 'ToUpper'"},
		{"GetPathElement positive", "json", `[{"column":"a","Properties":{"Path":"$.a","Transform":"GetPathElement(1)"}}]`, "index of 0 or less"},
		{"unix transform without value", "json", `[{"column":"a","Properties":{"Transform":"DateTimeFromUnixSeconds"}}]`, "needs Path, Field or ConstValue"},
		{"recursive descent", "json", `[{"column":"a","Properties":{"Path":"$..a"}}]`, "recursive descent"},
		{"wildcard", "json", `[{"column":"a","Properties":{"Path":"$.*"}}]`, "wildcard"},
		{"unterminated bracket", "json", `[{"column":"a","Properties":{"Path":"$["}}]`, "unterminated ["},
		{"unterminated quote", "json", `[{"column":"a","Properties":{"Path":"$['a"}}]`, "unterminated quoted name"},
		{"negative index", "json", `[{"column":"a","Properties":{"Path":"$.a[-1]"}}]`, "invalid array index"},
		{"missing bracket", "json", `[{"column":"a","Properties":{"Path":"$['a'"}}]`, "missing ]"},
		{"junk after $", "json", `[{"column":"a","Properties":{"Path":"$a"}}]`, "unexpected character 'a'"},
		{"trailing dot", "avro", `[{"column":"a","Properties":{"Path":"$.a."}}]`, "empty property name"},
		{"empty field", "avro", `[{"column":"a","Properties":{"Field":""}}]`, "Field is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateMapping(tc.kind, tc.text)
			if tc.contains == "" {
				if err != nil {
					t.Fatalf("ValidateMapping: %v", err)
				}
				return
			}
			assertError(t, err, CodeInvalidMapping, tc.contains)
		})
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want []step
	}{
		{"$", nil},
		{"$.a", []step{{key: "a", index: -1}}},
		{"$.a.b-c", []step{{key: "a", index: -1}, {key: "b-c", index: -1}}},
		{"$['a b']", []step{{key: "a b", index: -1}}},
		{`$["a'b"]`, []step{{key: "a'b", index: -1}}},
		{`$['it\'s']`, []step{{key: "it's", index: -1}}},
		{"$.['x']", []step{{key: "x", index: -1}}},
		{"$.arr[0][12]", []step{{key: "arr", index: -1}, {index: 0}, {index: 12}}},
		{"$[ 'k' ].z", []step{{key: "k", index: -1}, {key: "z", index: -1}}},
		{"$['0']", []step{{key: "0", index: -1}}},
	}
	for _, tc := range tests {
		got, err := parsePath(tc.path)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePath(%q) = %+v, %v; want %+v", tc.path, got, err, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	rec := map[string]any{"a": map[string]any{"b": []any{"x", map[string]any{"c": json.Number("1")}}}}
	tests := []struct {
		path string
		want any
	}{
		{"$.a.b[1].c", json.Number("1")},
		{"$.a.b[0]", "x"},
		{"$.a.b[2]", nil},
		{"$.a.b.c", nil},
		{"$.a[0]", nil},
		{"$.z.y", nil},
		{"$.a.b[0].c", nil},
	}
	for _, tc := range tests {
		steps, err := parsePath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup(rec, steps); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("lookup(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestUnixTransforms(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		tr   transform
		in   any
		want any
	}{
		{unixSeconds, json.Number("1700000000"), at("2023-11-14T22:13:20Z")},
		{unixSeconds, json.Number("1.7e9"), at("2023-11-14T22:13:20Z")},
		{unixSeconds, "  1700000000.25 ", at("2023-11-14T22:13:20.25Z")},
		{unixSeconds, int32(-86400), at("1969-12-31T00:00:00Z")},
		{unixMilliseconds, int64(1700000000123), at("2023-11-14T22:13:20.123Z")},
		{unixMilliseconds, float64(1.5), at("1970-01-01T00:00:00.0015Z")},
		{unixMicroseconds, json.Number("1700000000123456"), at("2023-11-14T22:13:20.123456Z")},
		{unixNanoseconds, json.Number("1700000000123456789"), at("2023-11-14T22:13:20.1234567Z")},
		{unixSeconds, at("2020-01-01T00:00:00Z"), at("2020-01-01T00:00:00Z")},
		{unixSeconds, "soon", nil},
		{unixSeconds, true, nil},
		{unixSeconds, nil, nil},
		{unixSeconds, json.Number("1e300"), nil},
		{unixSeconds, int64(1 << 62), nil},
		{bagArrayToDict, []any{map[string]any{"a": 1}, "skip", map[string]any{"b": 2, "a": 3}}, map[string]any{"a": 3, "b": 2}},
		{bagArrayToDict, map[string]any{"a": 1}, nil},
	}
	for _, tc := range tests {
		got := tc.tr.apply(tc.in)
		if tm, ok := got.(time.Time); ok {
			if want, ok := tc.want.(time.Time); !ok || !tm.Equal(want) {
				t.Errorf("%s(%v) = %v, want %v", tc.tr, tc.in, got, tc.want)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s(%v) = %v, want %v", tc.tr, tc.in, got, tc.want)
		}
	}
}
