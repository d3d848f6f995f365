package connectjson

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kconnect/kconnect/sink"
)

// connectDefaults are the JsonConverter's settings when none are given.
var connectDefaults = Options{ReplaceNullWithDefault: true}

func dec(unscaled int64, scale int32) sink.Decimal {
	return sink.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

func decimalSchema(scale int) *sink.Schema {
	return &sink.Schema{Type: sink.Bytes, Name: sink.DecimalSchemaName, Version: 1, Parameters: map[string]string{"scale": fmt.Sprint(scale)}}
}

var (
	dateSchema      = &sink.Schema{Type: sink.Int32, Name: sink.DateSchemaName}
	timeSchema      = &sink.Schema{Type: sink.Int32, Name: sink.TimeSchemaName}
	timestampSchema = &sink.Schema{Type: sink.Int64, Name: sink.TimestampSchemaName}
	int32Keys       = &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.Int32}, ValueSchema: &sink.Schema{Type: sink.String}}
	stringKeys      = &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.String}, ValueSchema: &sink.Schema{Type: sink.Int64}}
)

// everyType is a struct of every Connect type and logical type, one field each.
func everyType() *sink.StructValue {
	inner := &sink.Schema{Type: sink.Struct, Name: "Inner", Fields: []sink.Field{{Name: "month", Index: 0, Schema: &sink.Schema{Type: sink.Int8}}, {Name: "day", Index: 1, Schema: &sink.Schema{Type: sink.Int16}}}}
	innerValue := sink.NewStruct(inner)
	innerValue.Values = []any{int8(12), int16(31)}
	fields := []struct {
		name   string
		schema *sink.Schema
		value  any
	}{
		{"i32", &sink.Schema{Type: sink.Int32}, int32(-42)},
		{"i64", &sink.Schema{Type: sink.Int64}, int64(9007199254740993)},
		{"f32", &sink.Schema{Type: sink.Float32}, float32(1.1)},
		{"f64", &sink.Schema{Type: sink.Float64}, 0.1},
		{"nan", &sink.Schema{Type: sink.Float64}, math.NaN()},
		{"bool", &sink.Schema{Type: sink.Boolean}, true},
		{"str", &sink.Schema{Type: sink.String}, "q\"\\\n\x1f</ü"},
		{"bytes", &sink.Schema{Type: sink.Bytes}, []byte{0, 1, 2, 0xff}},
		{"dec", decimalSchema(2), dec(-129, 2)},
		{"date", dateSchema, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		{"time", timeSchema, time.Date(1970, 1, 1, 13, 14, 15, 16e6, time.UTC)},
		{"ts", timestampSchema, time.Date(2026, 11, 21, 5, 44, 1, 234e6, time.UTC)},
		{"opt", &sink.Schema{Type: sink.String, Optional: true}, nil},
		{"withDefault", &sink.Schema{Type: sink.Int32, Optional: true, Default: int32(7)}, nil},
		{"arr", &sink.Schema{Type: sink.Array, ItemsSchema: &sink.Schema{Type: sink.String}}, []any{"a", "b"}},
		{"smap", stringKeys, map[string]any{"z": int64(1), "a": int64(2)}},
		{"imap", int32Keys, []sink.MapEntry{{Key: int32(2), Value: "two"}, {Key: int32(1), Value: "one"}}},
		{"inner", inner, innerValue},
	}
	s := &sink.Schema{Type: sink.Struct, Name: "com.example.All"}
	var values []any
	for i, f := range fields {
		s.Fields = append(s.Fields, sink.Field{Name: f.name, Index: i, Schema: f.schema})
		values = append(values, f.value)
	}
	v := sink.NewStruct(s)
	v.Values = values
	return v
}

const everyTypeJSON = `{"i32":-42,"i64":9007199254740993,"f32":1.1,"f64":0.1,"nan":"NaN","bool":true,"str":"q\"\\\n\u001F</ü",` +
	`"bytes":"AAEC/w==","dec":"/38=","date":20778,"time":47655016,"ts":1795239841234,"opt":null,"withDefault":7,"arr":["a","b"],` +
	`"smap":{"a":2,"z":1},"imap":[[2,"two"],[1,"one"]],"inner":{"month":12,"day":31}}`

func TestAppendValue(t *testing.T) {
	optionalDefault := &sink.Schema{Type: sink.Int32, Optional: true, Default: int32(42)}
	required := &sink.Schema{Type: sink.Struct, Name: "R", Fields: []sink.Field{{Name: "must", Index: 0, Schema: &sink.Schema{Type: sink.String}}}}
	every := everyType()
	sameShape := *every.Schema // equal, not the same pointer
	numeric := Options{DecimalFormat: Numeric, ReplaceNullWithDefault: true}

	for _, tc := range []struct {
		name    string
		opts    Options
		schema  *sink.Schema
		value   any
		want    string
		wantErr string
	}{
		{name: "struct of every type", opts: connectDefaults, schema: every.Schema, value: every, want: everyTypeJSON},
		{name: "struct with an equal schema", opts: connectDefaults, schema: &sameShape, value: every, want: everyTypeJSON},
		{name: "struct with another schema", schema: required, value: every, wantErr: "Mismatching schema."},
		{name: "struct without a schema", value: every, wantErr: "Mismatching schema."},
		{name: "null without a schema", want: `null`},
		{name: "null replaced by the default", opts: connectDefaults, schema: optionalDefault, want: `42`},
		{name: "null kept without replace", schema: optionalDefault, want: `null`},
		{name: "required null", schema: &sink.Schema{Type: sink.Int32},
			wantErr: "Conversion error: null value for field that is required and has no default value"},
		{name: "required null in a field", schema: required, value: sink.NewStruct(required),
			wantErr: "Conversion error: null value for field that is required and has no default value"},
		{name: "wrong Go type", schema: &sink.Schema{Type: sink.Int32}, value: int64(1), wantErr: "Invalid type for INT32: int64"},
		{name: "wrong Go type for a float", schema: &sink.Schema{Type: sink.Float32}, value: 1.5, wantErr: "Invalid type for FLOAT32: float64"},
		{name: "int is only an int64 without a schema", schema: &sink.Schema{Type: sink.Int64}, value: 3, wantErr: "Invalid type for INT64: int"},
		{name: "bytes of the wrong type", schema: &sink.Schema{Type: sink.Bytes}, value: "x", wantErr: "Invalid type for bytes type: string"},
		{name: "floats in Java notation", value: []any{100.0, 1e7, 0.001, 1.0e-4, float32(12.34), math.Copysign(0, -1), math.Inf(-1)},
			want: `[100.0,1.0E7,0.001,1.0E-4,12.34,-0.0,"-Infinity"]`},
		{name: "schemaless scalars", value: []any{int8(1), int16(2), int32(3), int64(4), 5, true, "s", []byte("hi"), nil},
			want: `[1,2,3,4,5,true,"s","aGk=",null]`},
		{name: "raw JSON passes through", value: []any{sink.RawJSON(`{"a": 1}`), json.Number("-1.50e+3")}, want: `[{"a": 1},-1.50e+3]`},
		{name: "invalid JSON number", value: json.Number("NaN"), wantErr: `Invalid JSON number "NaN"`},
		{name: "no schema type for a Go type", value: struct{}{}, wantErr: "Go type struct {} does not have corresponding schema type."},
		{name: "no schema type for a time", value: time.Unix(0, 0), wantErr: "Go type time.Time does not have corresponding schema type."},
		{name: "decimal base64", schema: decimalSchema(2), value: dec(156, 2), want: `"AJw="`},
		{name: "decimal base64 of a pointer", schema: decimalSchema(2), value: &sink.Decimal{Unscaled: big.NewInt(-156), Scale: 2}, want: `"/2Q="`},
		{name: "decimal base64 of nil", schema: decimalSchema(0), value: sink.Decimal{}, want: `"AA=="`},
		{name: "decimal numeric", opts: numeric, schema: decimalSchema(2), value: dec(15600, 4), want: `1.5600`},
		{name: "decimal scale mismatch", schema: decimalSchema(2), value: dec(1, 3),
			wantErr: "BigDecimal has mismatching scale value for given Decimal schema"},
		{name: "decimal without scale", schema: &sink.Schema{Type: sink.Bytes, Name: sink.DecimalSchemaName}, value: dec(1, 0),
			wantErr: "Invalid Decimal schema: scale parameter not found."},
		{name: "decimal of the wrong type", schema: decimalSchema(2), value: 1.5,
			wantErr: "Invalid type for Decimal, expected BigDecimal but was float64"},
		{name: "date before the epoch", schema: dateSchema, value: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), want: `-1`},
		{name: "date with a time", schema: dateSchema, value: time.Date(1997, 5, 19, 1, 0, 0, 0, time.UTC),
			wantErr: "Kafka Connect Date type should not have any time fields set to non-zero values."},
		{name: "time with a date", schema: timeSchema, value: time.Date(1997, 5, 19, 1, 0, 0, 0, time.UTC),
			wantErr: "Kafka Connect Time type should not have any date fields set to non-zero values."},
		{name: "timestamp of the wrong type", schema: timestampSchema, value: int64(1), wantErr: "Invalid type for Timestamp, expected Date but was int64"},
		{name: "map with string keys", schema: stringKeys, value: map[string]any{"b": int64(2), "a": int64(1)}, want: `{"a":1,"b":2}`},
		{name: "map with non-string keys", schema: int32Keys, value: []sink.MapEntry{{Key: int32(2), Value: "b"}, {Key: int32(1), Value: "a"}},
			want: `[[2,"b"],[1,"a"]]`},
		{name: "map entries with string keys", schema: &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.String}, ValueSchema: &sink.Schema{Type: sink.Int32}},
			value: []sink.MapEntry{{Key: "z", Value: int32(1)}, {Key: "a", Value: int32(2)}}, want: `{"z":1,"a":2}`},
		{name: "string-keyed map for int keys", schema: int32Keys, value: map[string]any{"1": "a"},
			wantErr: "Invalid type for MAP: map[string]interface {} (the key schema is INT32)"},
		{name: "map schema without keys", schema: &sink.Schema{Type: sink.Map}, value: map[string]any{},
			wantErr: "Map schema did not specify the key and value types"},
		{name: "schemaless entries with non-string keys", value: []sink.MapEntry{{Key: int32(1), Value: "a"}, {Key: "b", Value: "b"}},
			want: `[[1,"a"],["b","b"]]`},
		{name: "schemaless entries with string keys", value: []sink.MapEntry{{Key: "b", Value: int64(2)}, {Key: "a", Value: nil}},
			want: `{"b":2,"a":null}`},
		{name: "schemaless nested map", value: map[string]any{"b": int64(2), "a": []any{true, nil, 1.5, map[string]any{"\x1f": "x"}}},
			want: `{"a":[true,null,1.5,{"\u001F":"x"}],"b":2}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendValue([]byte("prefix "), tc.schema, tc.value, tc.opts)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				if string(got) != "prefix " {
					t.Errorf("on error dst must keep its length, got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix "+tc.want {
				t.Errorf("got  %s\nwant prefix %s", got, tc.want)
			}
		})
	}
}

func TestAppendValueFieldNames(t *testing.T) {
	inner := &sink.Schema{Type: sink.Struct, Fields: []sink.Field{{Name: "must", Index: 0, Schema: &sink.Schema{Type: sink.String}}}}
	outer := &sink.Schema{Type: sink.Struct, Fields: []sink.Field{{Name: "ok", Index: 0, Schema: &sink.Schema{Type: sink.Int32}},
		{Name: "inner", Index: 1, Schema: inner}}}
	v := sink.NewStruct(outer)
	v.Values = []any{int32(1), sink.NewStruct(inner)}
	const cause = "Conversion error: null value for field that is required and has no default value"
	if _, err := AppendValue(nil, outer, v, Options{}); err == nil || err.Error() != cause {
		t.Errorf("without FieldNames: %v", err)
	}
	if _, err := AppendValue(nil, outer, v, Options{FieldNames: true}); err == nil || err.Error() != "field inner: field must: "+cause {
		t.Errorf("with FieldNames: %v", err)
	}
}

func TestAppendValueJackson(t *testing.T) {
	jackson := Options{ReplaceNullWithDefault: true, Jackson: true}
	st := &sink.Schema{Type: sink.Struct, Fields: []sink.Field{{Name: "d", Index: 0, Schema: dateSchema}}}
	sv := sink.NewStruct(st)
	sv.Values[0] = time.Date(1970, 1, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		value   any
		want    string
		wantErr string
	}{
		{name: "entries as an object keyed by toString", value: []sink.MapEntry{{Key: int32(2), Value: "two"}, {Key: 1.5, Value: nil},
			{Key: float32(1e7), Value: int64(3)}, {Key: true, Value: "t"}, {Key: "s\n", Value: "s"}, {Key: int8(-1), Value: []any{}}},
			want: `{"2":"two","1.5":null,"1.0E7":3,"true":"t","s\n":"s","-1":[]}`},
		{name: "a time as epoch milliseconds", value: []any{time.UnixMilli(-1500).UTC()}, want: `[-1500]`},
		{name: "a decimal without a scale to check", value: map[string]any{"d": dec(-129, 7), "p": &sink.Decimal{Unscaled: big.NewInt(128)}},
			want: `{"d":"/38=","p":"AIA="}`},
		{name: "a struct by its own schema", value: []any{sv}, want: `[{"d":2}]`},
		{name: "a struct without a schema", value: &sink.StructValue{}, wantErr: "Mismatching schema."},
		{name: "other Go types are still refused", value: []any{struct{}{}}, wantErr: "Go type struct {} does not have corresponding schema type."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendValue(nil, nil, tc.value, jackson)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
	// With a schema, the JsonConverter's rules hold: entries under an INT32 key schema are pairs.
	got, err := AppendValue(nil, int32Keys, []sink.MapEntry{{Key: int32(1), Value: "a"}}, jackson)
	if err != nil || string(got) != `[[1,"a"]]` {
		t.Errorf("entries with a schema: %s (%v)", got, err)
	}
	if got, err := AppendValue(nil, nil, dec(15600, 4), Options{Jackson: true, DecimalFormat: Numeric}); err != nil || string(got) != `1.5600` {
		t.Errorf("numeric decimal without a schema: %s (%v)", got, err)
	}
}

func TestAppendJavaMap(t *testing.T) {
	dates := &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.Int32}, ValueSchema: dateSchema}
	for _, tc := range []struct {
		name    string
		schema  *sink.Schema
		value   any
		want    string
		wantErr string
	}{
		{name: "string keys sorted", value: map[string]any{"hello": int64(0), "a": map[string]any{}}, want: `{"a":{},"hello":0}`},
		{name: "values by the value schema", schema: dates, value: []sink.MapEntry{{Key: int32(7), Value: time.Unix(86400, 0).UTC()}}, want: `{"7":1}`},
		{name: "the key schema is not checked", schema: int32Keys, value: map[string]any{"k": "v"}, want: `{"k":"v"}`},
		{name: "a schema that is not a map", schema: &sink.Schema{Type: sink.String}, value: map[string]any{},
			wantErr: "Invalid type for STRING: map[string]interface {}"},
		{name: "a value that is not a map", value: []any{}, wantErr: "Invalid type for MAP: []interface {}"},
		{name: "a bad value", schema: dates, value: []sink.MapEntry{{Key: int32(7), Value: "x"}},
			wantErr: "Invalid type for Date, expected Date but was string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendJavaMap([]byte("x"), tc.schema, tc.value, Options{Jackson: true})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || string(got) != "x" {
					t.Fatalf("got %q, error = %v, want %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != "x"+tc.want {
				t.Fatalf("got %s (%v), want x%s", got, err, tc.want)
			}
		})
	}
}

func TestValidNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-12", "1.5", "0.001", "1e5", "1E+5", "-1.25e-10", "123456789012345678901234567890"} {
		if !validNumber(s) {
			t.Errorf("%q should be a JSON number", s)
		}
	}
	for _, s := range []string{"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "NaN", "Infinity", "0x10", "1_000", "1 ", " 1", "1.5.5"} {
		if validNumber(s) {
			t.Errorf("%q should not be a JSON number", s)
		}
	}
}

func TestTwosComplementMatchesJavaBigInteger(t *testing.T) {
	for v, want := range map[int64][]byte{
		0: {0}, 1: {1}, 127: {0x7f}, 128: {0, 0x80}, 156: {0, 0x9c}, 255: {0, 0xff}, 256: {1, 0},
		-1: {0xff}, -128: {0x80}, -129: {0xff, 0x7f}, -156: {0xff, 0x64}, -256: {0xff, 0}, -32768: {0x80, 0}, -32769: {0xff, 0x7f, 0xff},
		math.MinInt64: {0x80, 0, 0, 0, 0, 0, 0, 0}, math.MaxInt64: {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if got := appendTwosComplement(nil, big.NewInt(v)); string(got) != string(want) {
			t.Errorf("%d: % x, want % x", v, got, want)
		}
	}
	if got := appendTwosComplement([]byte{9}, nil); string(got) != "\x09\x00" {
		t.Errorf("nil: % x", got)
	}
	// Against the definition, for values of every length up to 40 bytes: the fewest bytes n
	// with -2^(8n-1) <= v < 2^(8n-1), holding v mod 2^(8n).
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		raw := make([]byte, r.IntN(40)+1)
		for i := range raw {
			raw[i] = byte(r.Uint32())
		}
		v := new(big.Int).SetBytes(raw)
		if r.IntN(2) == 0 {
			v.Neg(v)
		}
		if r.IntN(10) == 0 { // powers of two and their negatives are the edge cases
			v.Lsh(big.NewInt(int64(1-2*r.IntN(2))), uint(r.IntN(320)))
		}
		n := 1
		for limit := big.NewInt(128); v.Cmp(limit) >= 0 || v.Cmp(new(big.Int).Neg(limit)) < 0; limit.Lsh(limit, 8) {
			n++
		}
		mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
		want := new(big.Int).Mod(v, mod).FillBytes(make([]byte, n))
		if got := appendTwosComplement(nil, v); string(got) != string(want) {
			t.Fatalf("%s: % x, want % x", v, got, want)
		}
	}
}

// Writing into a buffer that is large enough allocates nothing for the common types, logical
// types, decimals and maps of usual size.
func TestAppendValueDoesNotAllocate(t *testing.T) {
	every := everyType()
	every.Values[4] = 2.5
	buf := make([]byte, 0, 4096)
	keys := map[string]string{"connector.class": "x", "tasks.max": "1", "topics": "a,b"}
	for name, f := range map[string]func(){
		"struct of every type": func() {
			if _, err := AppendValue(buf, every.Schema, every, connectDefaults); err != nil {
				t.Fatal(err)
			}
		},
		"schemaless map": func() {
			if _, err := AppendValue(buf, nil, every.Values[15], Options{Jackson: true}); err != nil {
				t.Fatal(err)
			}
		},
		"string map": func() { _ = AppendStringMap(buf, keys) },
		"string":     func() { _ = AppendString(buf, "a \"quoted\"\n\x01 é string") },
		"float":      func() { _ = AppendFloat(buf, 5e-324, 64) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

func TestTypeName(t *testing.T) {
	for ty, want := range map[sink.Type]string{sink.Int8: "INT8", sink.Float32: "FLOAT32", sink.Float64: "FLOAT64", sink.Boolean: "BOOLEAN",
		sink.Bytes: "BYTES", sink.Array: "ARRAY", sink.Map: "MAP", sink.Struct: "STRUCT", sink.String: "STRING"} {
		if got := TypeName(ty); got != want {
			t.Errorf("TypeName(%s) = %s, want %s", ty, got, want)
		}
	}
}
