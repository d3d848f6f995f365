package task

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/connectjson"
)

var update = flag.Bool("update", false, "write the actual output of golden tests as expected")

// TestConverterGolden walks testdata/converters/<converter>/<case>/. Each case holds:
//
//	input            the bytes to convert (absent: a null key or value)
//	config           optional converter settings, one key=value per line
//	header           optional: convert as a header value instead of a record value
//	expected         the rendered schema and value, or
//	expected.err     the error message
//	roundtrip        optional: the bytes FromConnectData writes for the converted data
func TestConverterGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "converters", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 50 {
		t.Fatalf("found only %d golden cases", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			runGoldenCase(t, dir)
		})
	}
}

func readOptional(t *testing.T, path string) ([]byte, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

func readProperties(t *testing.T, path string) map[string]string {
	t.Helper()
	props := map[string]string{}
	b, ok := readOptional(t, path)
	if !ok {
		return props
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return props
}

func runGoldenCase(t *testing.T, dir string) {
	class := filepath.Base(filepath.Dir(dir))
	spec := ConverterSpec{Class: class, Config: readProperties(t, filepath.Join(dir, "config"))}
	input, _ := readOptional(t, filepath.Join(dir, "input"))
	_, asHeader := readOptional(t, filepath.Join(dir, "header"))

	var schema *sink.Schema
	var value any
	var err error
	var fromConnect func(*sink.Schema, any) ([]byte, error)
	if asHeader {
		hc, herr := NewHeaderConverter(spec)
		if herr != nil {
			t.Fatal(herr)
		}
		schema, value, err = hc.ToConnectHeader("topic", "h", input)
		fromConnect = func(s *sink.Schema, v any) ([]byte, error) { return hc.FromConnectHeader("topic", "h", s, v) }
	} else {
		c, cerr := NewConverter(spec, false)
		if cerr != nil {
			t.Fatal(cerr)
		}
		schema, value, err = c.ToConnectData("topic", input)
		fromConnect = func(s *sink.Schema, v any) ([]byte, error) { return c.FromConnectData("topic", s, v) }
	}

	errPath, expPath := filepath.Join(dir, "expected.err"), filepath.Join(dir, "expected")
	if err != nil {
		if _, isData := err.(*sink.DataError); !isData {
			t.Errorf("error %T is not a *sink.DataError", err)
		}
		golden(t, errPath, []byte(err.Error()+"\n"))
		if _, ok := readOptional(t, expPath); ok {
			t.Errorf("conversion failed: %v", err)
		}
		return
	}
	if _, ok := readOptional(t, errPath); ok {
		t.Fatalf("conversion succeeded, want the error in %s; got %s", errPath, render(schema, value))
	}
	golden(t, expPath, []byte(render(schema, value)))

	if _, ok := readOptional(t, filepath.Join(dir, "roundtrip")); ok {
		got, err := fromConnect(schema, value)
		if err != nil {
			t.Fatalf("FromConnectData: %v", err)
		}
		golden(t, filepath.Join(dir, "roundtrip"), got)
	}
}

// golden compares got with the file at path (or writes it with -update).
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, ok := readOptional(t, path)
	if !ok {
		t.Fatalf("missing %s; got:\n%s", path, got)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs\nwant: %q\ngot:  %q", path, want, got)
	}
}

// render prints a converted schema and value with their Go types, one line each.
func render(schema *sink.Schema, value any) string {
	c := &JSONConverter{toConnect: newSchemaCache[string, *sink.Schema](0), fromConnect: newSchemaCache[*sink.Schema, []byte](0),
		numericDecimals: true}
	s, err := c.appendSchema(nil, schema)
	if err != nil {
		s = []byte("unrenderable: " + err.Error())
	}
	return fmt.Sprintf("schema: %s\nvalue: %s\n", s, renderValue(value))
}

func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("boolean(%v)", x)
	case int8, int16, int32, int64:
		return fmt.Sprintf("%T(%d)", x, x)
	case float32:
		return "float32(" + string(connectjson.AppendJavaFloat(nil, float64(x), 32)) + ")"
	case float64:
		return "float64(" + string(connectjson.AppendJavaFloat(nil, x, 64)) + ")"
	case string:
		return "string(" + strconv.Quote(x) + ")"
	case []byte:
		return "bytes(" + base64.StdEncoding.EncodeToString(x) + ")"
	case sink.RawJSON:
		return "raw(" + string(x) + ")"
	case sink.Decimal:
		return fmt.Sprintf("decimal(%s unscaled=%s scale=%d)", x, x.Unscaled, x.Scale)
	case time.Time:
		if x.Location() != time.UTC {
			return "time-not-utc(" + x.String() + ")"
		}
		return "time(" + x.Format("2006-01-02T15:04:05.000Z07:00") + ")"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderValue(e)
		}
		return "array[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, strconv.Quote(k)+": "+renderValue(x[k]))
		}
		return "map{" + strings.Join(parts, ", ") + "}"
	case []sink.MapEntry:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderValue(e.Key) + ": " + renderValue(e.Value)
		}
		return "entries[" + strings.Join(parts, ", ") + "]"
	case *sink.StructValue:
		parts := make([]string, len(x.Schema.Fields))
		for i, f := range x.Schema.Fields {
			parts[i] = f.Name + ": " + renderValue(x.Values[f.Index])
		}
		return "struct{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("unexpected %T(%v)", v, v)
}

func TestConverterRegistry(t *testing.T) {
	if got := Converters(); !slices.Equal(got, []string{ByteArrayConverterClass, JSONConverterClass, StringConverterClass}) {
		t.Errorf("Converters() = %v", got)
	}
	if got := HeaderConverters(); !slices.Contains(got, SimpleHeaderConverterClass) || !slices.Contains(got, JSONConverterClass) {
		t.Errorf("HeaderConverters() = %v", got)
	}
	for _, name := range []string{JSONConverterClass, "JsonConverter", "Json", "StringConverter", "ByteArray"} {
		if _, err := NewConverter(ConverterSpec{Class: name}, false); err != nil {
			t.Errorf("NewConverter(%s): %v", name, err)
		}
	}
	for _, tc := range []struct {
		spec ConverterSpec
		want string
	}{
		{ConverterSpec{Class: "io.confluent.connect.avro.AvroConverter"}, "Class io.confluent.connect.avro.AvroConverter could not be found or is not a Converter"},
		{ConverterSpec{Class: SimpleHeaderConverterClass}, "is not a Converter"},
		{ConverterSpec{Class: JSONConverterClass, Config: map[string]string{"schemas.enable": "maybe"}}, "Invalid value maybe for configuration schemas.enable: Expected value to be either true or false"},
		{ConverterSpec{Class: JSONConverterClass, Config: map[string]string{"decimal.format": "HEX"}}, "Invalid value HEX for configuration decimal.format: String must be one of (case insensitive): BASE64, NUMERIC"},
		{ConverterSpec{Class: StringConverterClass, Config: map[string]string{"converter.encoding": "UTF-16"}}, "kconnect supports only the UTF-8 character set"},
	} {
		_, err := NewConverter(tc.spec, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewConverter(%+v) error = %v, want %q", tc.spec, err, tc.want)
		}
	}
	if _, err := NewHeaderConverter(ConverterSpec{Class: SimpleHeaderConverterClass}); err != nil {
		t.Errorf("NewHeaderConverter: %v", err)
	}
}

func jsonConverter(t testing.TB, props map[string]string) *JSONConverter {
	t.Helper()
	c, err := NewConverter(ConverterSpec{Class: JSONConverterClass, Config: props}, false)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*JSONConverter)
}

// TestJSONFromConnect covers serialisation cases that do not start from JSON input (ported from
// Java's JsonConverterTest *ToJson tests).
func TestJSONFromConnect(t *testing.T) {
	decimal := decimalSchema(2)
	optionalInt := &sink.Schema{Type: sink.Int32, Optional: true}
	withDefault := &sink.Schema{Type: sink.Int32, Optional: true, Default: int32(42)}
	structSchema := &sink.Schema{Type: sink.Struct, Name: "com.acme.User", Fields: []sink.Field{
		{Name: "id", Index: 0, Schema: &sink.Schema{Type: sink.Int32}},
		{Name: "name", Index: 1, Schema: sink.OptionalStringSchema},
	}}
	user := sink.NewStruct(structSchema)
	user.Values[0], user.Values[1] = int32(1), "x"
	otherSchema := &sink.Schema{Type: sink.Struct, Fields: []sink.Field{{Name: "id", Index: 0, Schema: &sink.Schema{Type: sink.Int64}}}}
	other := sink.NewStruct(otherSchema)
	other.Values[0] = int64(1)

	for _, tc := range []struct {
		name    string
		props   map[string]string
		schema  *sink.Schema
		value   any
		want    string
		wantErr string
	}{
		{name: "null record", want: ""},
		{name: "struct envelope (spec example)", schema: structSchema, value: user,
			want: `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":false,"name":"com.acme.User"},"payload":{"id":1,"name":"x"}}`},
		{name: "mismatching struct schema", schema: structSchema, value: other, wantErr: "Mismatching schema."},
		{name: "decimal base64", schema: decimal, value: sink.Decimal{Unscaled: big.NewInt(156), Scale: 2},
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}`},
		{name: "negative decimal base64", props: map[string]string{"schemas.enable": "false"}, schema: decimal,
			value: sink.Decimal{Unscaled: big.NewInt(-156), Scale: 2}, want: `"/2Q="`},
		{name: "decimal numeric", props: map[string]string{"decimal.format": "NUMERIC", "schemas.enable": "false"}, schema: decimal,
			value: sink.Decimal{Unscaled: big.NewInt(15600), Scale: 4}, want: `1.5600`},
		{name: "decimal scale mismatch", schema: decimal, value: sink.Decimal{Unscaled: big.NewInt(1), Scale: 3},
			wantErr: "BigDecimal has mismatching scale value for given Decimal schema"},
		{name: "null uses default", props: map[string]string{"schemas.enable": "false"}, schema: withDefault, want: `42`},
		{name: "null keeps null without replace", props: map[string]string{"schemas.enable": "false", "replace.null.with.default": "false"},
			schema: withDefault, want: `null`},
		{name: "optional null", props: map[string]string{"schemas.enable": "false"}, schema: optionalInt, want: `null`},
		{name: "required null", schema: &sink.Schema{Type: sink.Int32}, wantErr: "Conversion error: null value for field that is required and has no default value"},
		{name: "wrong Go type", schema: &sink.Schema{Type: sink.Int32}, value: "1", wantErr: "Invalid type for INT32: string"},
		{name: "schemaless map with non-string keys", props: map[string]string{"schemas.enable": "false"},
			value: []sink.MapEntry{{Key: int32(1), Value: "a"}, {Key: int32(2), Value: "b"}}, want: `[[1,"a"],[2,"b"]]`},
		{name: "schemaless map with string keys", props: map[string]string{"schemas.enable": "false"},
			value: map[string]any{"b": int64(2), "a": []any{true, nil, 1.5}}, want: `{"a":[true,null,1.5],"b":2}`},
		{name: "schemaless envelope", value: int64(12), want: `{"schema":null,"payload":12}`},
		{name: "raw JSON passes through", props: map[string]string{"schemas.enable": "false"}, value: sink.RawJSON(`{"a": 1}`), want: `{"a": 1}`},
		{name: "floats in Java notation", props: map[string]string{"schemas.enable": "false"},
			value: []any{100.0, 1e7, 0.001, 1.0e-4, float32(12.34), math.Copysign(0, -1)}, want: `[100.0,1.0E7,0.001,1.0E-4,12.34,-0.0]`},
		{name: "escapes as Jackson", props: map[string]string{"schemas.enable": "false"},
			value: "q\"\\\n\t\x01</ü", want: `"q\"\\\n\t\u0001</ü"`},
		{name: "date", props: map[string]string{"schemas.enable": "false"}, schema: dateSchema,
			value: time.Date(1997, 5, 19, 0, 0, 0, 0, time.UTC), want: `10000`},
		{name: "date with time", schema: dateSchema, value: time.Date(1997, 5, 19, 1, 0, 0, 0, time.UTC),
			wantErr: "Kafka Connect Date type should not have any time fields set to non-zero values."},
		{name: "time", props: map[string]string{"schemas.enable": "false"}, schema: timeSchema,
			value: sink.Epoch.Add(4 * time.Hour), want: `14400000`},
		{name: "time with date", schema: timeSchema, value: time.Date(1997, 5, 19, 1, 0, 0, 0, time.UTC),
			wantErr: "Kafka Connect Time type should not have any date fields set to non-zero values."},
		{name: "timestamp", props: map[string]string{"schemas.enable": "false"}, schema: timestampSchema,
			value: time.UnixMilli(4398046511104).UTC(), want: `4398046511104`},
		{name: "no schema type for Go value", value: struct{}{}, wantErr: "Go type struct {} does not have corresponding schema type."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := jsonConverter(t, tc.props)
			got, err := c.FromConnectData("topic", tc.schema, tc.value)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				if _, ok := err.(*sink.DataError); !ok {
					t.Errorf("error %T is not a *sink.DataError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if tc.want == "" && got != nil {
				t.Errorf("null record must be nil bytes, got %q", got)
			}
		})
	}
}

// fromTwosComplement reads what Java's BigInteger.toByteArray writes (and the JsonConverter
// writes for a decimal), including forms longer than the shortest.
func TestFromTwosComplement(t *testing.T) {
	for in, want := range map[string]int64{"00": 0, "7f": 127, "0080": 128, "80": -128, "ff7f": -129, "009c": 156, "ff64": -156,
		"ffff64": -156, "0000009c": 156, "ff": -1, "0100": 256, "ff00": -256, "800000": -(1 << 23)} {
		b, err := hex.DecodeString(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := fromTwosComplement(b); !got.IsInt64() || got.Int64() != want {
			t.Errorf("fromTwosComplement(%s) = %s, want %d", in, got, want)
		}
	}
}

func TestJSONSchemaCacheReusesSchemas(t *testing.T) {
	c := jsonConverter(t, nil)
	in := []byte(`{"schema":{"type":"struct","fields":[{"type":"int32","field":"a"}]},"payload":{"a":1}}`)
	s1, _, err := c.ToConnectData("t", in)
	if err != nil {
		t.Fatal(err)
	}
	s2, _, _ := c.ToConnectData("t", in)
	if s1 != s2 {
		t.Error("the same schema text must give the cached schema")
	}
	small := jsonConverter(t, map[string]string{"schemas.cache.size": "1"})
	a, _, _ := small.ToConnectData("t", []byte(`{"schema":{"type":"int32"},"payload":1}`))
	small.ToConnectData("t", []byte(`{"schema":{"type":"int64"},"payload":1}`))
	b, _, _ := small.ToConnectData("t", []byte(`{"schema":{"type":"int32"},"payload":1}`))
	if a == b {
		t.Error("an evicted schema must be parsed again")
	}
}

func TestJSONDeepNestingIsAnError(t *testing.T) {
	c := jsonConverter(t, map[string]string{"schemas.enable": "false"})
	in := []byte(strings.Repeat("[", 5000) + strings.Repeat("]", 5000))
	_, _, err := c.ToConnectData("t", in)
	if err == nil || !strings.Contains(err.Error(), "nesting depth") {
		t.Fatalf("error = %v", err)
	}
}

func TestJavaDecimalString(t *testing.T) {
	for _, tc := range []struct {
		unscaled int64
		scale    int32
		want     string
	}{
		{156, 2, "1.56"}, {15600, 4, "1.5600"}, {-156, 2, "-1.56"}, {1, -400, "1E+400"}, {123, -2, "1.23E+4"},
		{123, 12, "1.23E-10"}, {1, 6, "0.000001"}, {1, 7, "1E-7"}, {0, 0, "0"}, {42, 0, "42"},
	} {
		if got := javaDecimalString(sink.Decimal{Unscaled: big.NewInt(tc.unscaled), Scale: tc.scale}); got != tc.want {
			t.Errorf("javaDecimalString(%d, %d) = %s, want %s", tc.unscaled, tc.scale, got, tc.want)
		}
	}
}
