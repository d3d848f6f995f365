package ingest

import (
	"bytes"
	"compress/flate"
	"math/big"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// writeOCF writes records as an Avro object container file with the codec.
func writeOCF(t testing.TB, schema, codec string, records ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Schema: schema, CompressionName: codec})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(records); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const eventSchema = `{
 "type": "record", "name": "Event", "namespace": "test.kusto",
 "fields": [
  {"name": "name", "type": "string"},
  {"name": "n", "type": "long"},
  {"name": "i", "type": "int"},
  {"name": "f", "type": "float"},
  {"name": "d", "type": "double"},
  {"name": "b", "type": "boolean"},
  {"name": "raw", "type": "bytes"},
  {"name": "opt", "type": ["null", "string"]},
  {"name": "inner", "type": ["null", {"type": "record", "name": "Inner", "fields": [
    {"name": "x", "type": "int"},
    {"name": "tags", "type": {"type": "array", "items": ["null", "string"]}}]}]},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "tsu", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
  {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "props", "type": {"type": "map", "values": ["null", "long"]}},
  {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
  {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
  {"name": "dur", "type": {"type": "int", "logicalType": "time-millis"}},
  {"name": "again", "type": ["null", "Inner"]},
  {"name": "millis", "type": "long"}
 ]}`

const eventColumns = "name:string,n:long,i:int,f:real,d:real,b:bool,raw:string,opt:string,inner:dynamic," +
	"ts:datetime,tsu:datetime,day:datetime,amount:decimal,id:guid,props:dynamic,kind:string,fx:string,dur:timespan,again:dynamic,millis:long"

func eventRecords() []any {
	full := map[string]any{
		"name": "first", "n": int64(9007199254740993), "i": int32(-7), "f": float32(1.5), "d": 2.25, "b": true,
		"raw": []byte{0, 1, 2, 250}, "opt": goavro.Union("string", "present"),
		"inner": goavro.Union("test.kusto.Inner", map[string]any{"x": int32(3),
			"tags": []any{goavro.Union("string", "t1"), nil}}),
		"ts":     time.Date(2024, 2, 3, 4, 5, 6, 789000000, time.UTC),
		"tsu":    goavro.Union("long.timestamp-micros", time.Date(2024, 2, 3, 4, 5, 6, 123456000, time.UTC)),
		"day":    time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC),
		"amount": big.NewRat(-12345, 100),
		"id":     "0b7c3d8e-1f2a-4b5c-8d9e-0a1b2c3d4e5f",
		"props":  map[string]any{"k": goavro.Union("long", int64(5)), "none": nil},
		"kind":   "B", "fx": []byte("abcd"), "dur": 90 * time.Second,
		"again":  goavro.Union("test.kusto.Inner", map[string]any{"x": int32(4), "tags": []any{}}),
		"millis": int64(1700000000123),
	}
	empty := map[string]any{
		"name": "", "n": int64(0), "i": int32(0), "f": float32(0), "d": 0.0, "b": false,
		"raw": []byte{}, "opt": nil, "inner": nil,
		"ts": time.Unix(0, 0).UTC(), "tsu": nil, "day": time.Unix(0, 0).UTC(), "amount": big.NewRat(0, 1),
		"id": "not-a-guid", "props": map[string]any{}, "kind": "A", "fx": []byte{0, 0, 0, 0}, "dur": time.Duration(0),
		"again": nil, "millis": int64(0),
	}
	return []any{full, empty}
}

const eventWant = `[
 ["first", 9007199254740993, -7, 1.5, 2.25, true, "AAEC+g==", "present", {"x": 3, "tags": ["t1", null]},
  "2024-02-03T04:05:06.789Z", "2024-02-03T04:05:06.123456Z", "2024-02-03T00:00:00Z", "-123.45",
  "0b7c3d8e-1f2a-4b5c-8d9e-0a1b2c3d4e5f", {"k": 5, "none": null}, "B", "YWJjZA==", "00:01:30", {"x": 4, "tags": []}, 1700000000123],
 ["", 0, 0, 0, 0, false, "", "", null,
  "1970-01-01T00:00:00Z", null, "1970-01-01T00:00:00Z", "0",
  null, {}, "A", "AAAAAA==", "00:00:00", null, 0]
]`

// Identity mapping over every Avro type, for each codec and both Avro format names: unions are
// unwrapped, logical types become Kusto values, bytes become base64 in string columns.
func TestAvroIdentity(t *testing.T) {
	for _, codec := range []string{"null", "deflate", "snappy"} {
		for _, f := range []Format{Avro, ApacheAvro} {
			t.Run(codec+"/"+string(f), func(t *testing.T) {
				data := writeOCF(t, eventSchema, codec, eventRecords()...)
				plan, err := Prepare(testTable(t, eventColumns), Spec{Format: f})
				if err != nil {
					t.Fatal(err)
				}
				rows, err := plan.Rows(data)
				if err != nil {
					t.Fatal(err)
				}
				assertRows(t, plan.Columns(), rows, []byte(eventWant))
			})
		}
	}
}

func TestAvroMapping(t *testing.T) {
	mapping := `[
	 {"column": "who", "Properties": {"Field": "name"}},
	 {"column": "x", "Properties": {"Path": "$.inner.x"}},
	 {"column": "tag", "Properties": {"Path": "$.inner.tags[0]"}},
	 {"column": "when", "Properties": {"Field": "millis", "Transform": "DateTimeFromUnixMilliseconds"}},
	 {"column": "kind", "Properties": {"ConstValue": "avro"}},
	 {"column": "pathconst", "Properties": {"Path": "not-a-path"}},
	 {"column": "all", "Properties": {"Path": "$.props"}},
	 {"column": "rec", "Properties": {"Field": "n"}},
	 {"column": "line", "Properties": {"Transform": "SourceLineNumber"}}
	]`
	columns := "who:string,x:int,tag:string,when:datetime,kind:string,pathconst:string,all:string,rec:string,line:int,unmapped:string"
	data := writeOCF(t, eventSchema, "deflate", eventRecords()...)
	plan, err := Prepare(testTable(t, columns), Spec{Format: ApacheAvro, Mapping: mapping, MappingKind: "Avro"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := plan.Rows(data)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, plan.Columns(), rows, []byte(`[
	 ["first", 3, "t1", "2023-11-14T22:13:20.123Z", "avro", "not-a-path", "{\"k\":5,\"none\":null}", "9007199254740993", 1, ""],
	 ["", null, "", "1970-01-01T00:00:00Z", "avro", "not-a-path", "{}", "0", 2, ""]
	]`))
}

// $ maps the whole record; a top-level value that is not a record still ingests through $.
func TestAvroWholeRecord(t *testing.T) {
	data := writeOCF(t, `["null", "string", "long"]`, "null", goavro.Union("string", "s"), nil, goavro.Union("long", int64(2)))
	plan, err := Prepare(testTable(t, "v:dynamic,s:string"),
		Spec{Format: Avro, Mapping: `[{"column":"v","Properties":{"Path":"$"}},{"column":"s","Properties":{"Path":"$"}}]`})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := plan.Rows(data)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, plan.Columns(), rows, []byte(`[["s","s"],[null,""],[2,"2"]]`))
}

// zz encodes an Avro long (zig-zag varint).
func zz(v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	var out []byte
	for u >= 0x80 {
		out = append(out, byte(u)|0x80)
		u >>= 7
	}
	return append(out, byte(u))
}

func avroString(s string) []byte { return append(zz(int64(len(s))), s...) }

var testSync = []byte("0123456789abcdef")

// ocfHeader builds a container header; negative writes the metadata as a block with a negative
// count and a byte size, as the format allows.
func ocfHeader(schema, codec string, negative bool) []byte {
	entries := append(append(avroString("avro.schema"), avroString(schema)...), append(avroString("avro.codec"), avroString(codec)...)...)
	out := []byte("Obj\x01")
	if negative {
		out = append(append(append(out, zz(-2)...), zz(int64(len(entries)))...), entries...)
	} else {
		out = append(append(out, zz(2)...), entries...)
	}
	return append(append(out, zz(0)...), testSync...)
}

// ocfBlock builds a block of count records whose encoding is body.
func ocfBlock(count int64, body []byte) []byte {
	return append(append(append(zz(count), zz(int64(len(body)))...), body...), testSync...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// A hand-built file exercises what goavro's writer never produces: metadata and array blocks
// with negative counts followed by their size.
func TestAvroHandBuilt(t *testing.T) {
	items := cat(zz(7), zz(-8))
	record := cat(avroString("x"), zz(-2), zz(int64(len(items))), items, zz(1), zz(9), zz(0))
	data := cat(ocfHeader(`{"type":"record","name":"R","fields":[{"name":"s","type":"string"},{"name":"a","type":{"type":"array","items":"long"}}]}`, "null", true),
		ocfBlock(1, record), ocfBlock(1, record))
	plan, err := Prepare(testTable(t, "s:string,a:dynamic"), Spec{Format: Avro})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := plan.Rows(data)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, plan.Columns(), rows, []byte(`[["x",[7,-8,9]],["x",[7,-8,9]]]`))
}

// Items that take no bytes are fine in reasonable numbers.
func TestAvroNullItems(t *testing.T) {
	data := cat(ocfHeader(`{"type":"array","items":"null"}`, "null", false), ocfBlock(1, cat(zz(3), zz(0))))
	plan, err := Prepare(testTable(t, "v:dynamic"), Spec{Format: Avro, Mapping: `[{"column":"v","Properties":{"Path":"$"}}]`})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := plan.Rows(data)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, plan.Columns(), rows, []byte(`[[[null,null,null]]]`))
}

func TestAvroMalformed(t *testing.T) {
	const strRecord = `{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`
	good := writeOCF(t, strRecord, "null", map[string]any{"a": "x"}, map[string]any{"a": "y"})
	in := bytes.NewReader(good)
	if _, err := goavro.NewOCFReader(in); err != nil {
		t.Fatal(err)
	}
	headerEnd := len(good) - in.Len() // magic, metadata, sync marker
	corruptSync := bytes.Clone(good)
	corruptSync[len(corruptSync)-1] ^= 0xff
	snappyFile := writeOCF(t, strRecord, "snappy", map[string]any{"a": "x"})
	snappyFile[len(snappyFile)-avroSyncLength-1] ^= 0xff // the block's CRC-32
	recursive := `{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}`
	deep := append(bytes.Repeat(zz(1), 300), zz(0)...)
	tests := []struct {
		name     string
		data     []byte
		code     string
		contains string
	}{
		{"parquet magic", []byte("PAR1\x00\x00"), CodeInvalidBlob, "magic bytes"},
		{"json data", []byte(`{"a":"x"}`), CodeInvalidBlob, "magic bytes"},
		{"header only magic", []byte("Obj\x01"), CodeInvalidBlob, "header metadata is corrupt"},
		{"metadata count beyond the data", cat([]byte("Obj\x01"), zz(1<<40)), CodeInvalidBlob, "declares 1099511627776 metadata entries"},
		{"metadata truncated", cat([]byte("Obj\x01"), zz(1), avroString("avro.schema"), zz(100), []byte("{}")), CodeInvalidBlob, "value of \"avro.schema\" is truncated"},
		{"no sync marker", cat([]byte("Obj\x01"), zz(0), []byte("short")), CodeInvalidBlob, "no sync marker"},
		{"no schema", cat([]byte("Obj\x01"), zz(1), avroString("avro.codec"), avroString("null"), zz(0), testSync), CodeInvalidBlob, "no avro.schema"},
		{"unsupported codec", ocfHeader(strRecord, "zstandard", false), CodeInvalidBlob, `codec "zstandard" is not supported`},
		{"invalid schema", ocfHeader(`{"type":}`, "null", false), CodeInvalidBlob, "schema is not valid"},
		{"truncated block", good[:len(good)-20], CodeInvalidBlob, "block 1 declares"},
		{"corrupt sync marker", corruptSync, CodeInvalidBlob, "sync marker after block 1"},
		{"block larger than payload", cat(good[:headerEnd], zz(1), zz(1<<31)), CodeInvalidBlob, "block 1 declares 1 records in 2147483648 bytes"},
		{"garbage after header", cat(good[:headerEnd], bytes.Repeat([]byte{0xff}, 11)), CodeInvalidBlob, "block 1 has a corrupt header"},
		{"record data corrupt", cat(good[:headerEnd], zz(1), zz(2), []byte{0x7f, 0x7f}, good[headerEnd-avroSyncLength:headerEnd]), CodeInvalidBlob, "record 1 (block 1) does not match the schema"},
		{"more records than bytes", cat(ocfHeader(strRecord, "null", false), ocfBlock(100, avroString("ab"))), CodeInvalidBlob, "declares 100 records in 3 bytes"},
		{"bytes after the last record", cat(ocfHeader(strRecord, "null", false), ocfBlock(1, cat(avroString("ab"), []byte{1}))), CodeInvalidBlob, "block 1 has 1 bytes after its last record"},
		{"array count bomb", cat(ocfHeader(`{"type":"array","items":"long"}`, "null", false), ocfBlock(1, cat(zz(1<<30), zz(1)))), CodeInvalidBlob, "more items than the data holds"},
		{"null array bomb", cat(ocfHeader(`{"type":"array","items":"null"}`, "null", false), ocfBlock(1, cat(zz(1<<40), zz(0)))), CodeInvalidBlob, "more items than the data holds"},
		{"nested null arrays", cat(ocfHeader(`{"type":"array","items":{"type":"array","items":"null"}}`, "null", false),
			ocfBlock(1, cat(zz(5), bytes.Repeat(cat(zz(maxZeroWidthItems/4), zz(0)), 5), zz(0)))), CodeInvalidBlob, "more items than the data holds"},
		{"map count bomb", cat(ocfHeader(`{"type":"map","values":"null"}`, "null", false), ocfBlock(1, cat(zz(1<<40), zz(0)))), CodeInvalidBlob, "more items than the data holds"},
		{"union index out of range", cat(ocfHeader(`["null","string"]`, "null", false), ocfBlock(1, zz(5))), CodeInvalidBlob, "union branch index"},
		{"nesting too deep", cat(ocfHeader(recursive, "null", false), ocfBlock(300, deep)), CodeInvalidBlob, "nests too deep"},
		{"corrupt deflate", cat(ocfHeader(strRecord, "deflate", false), ocfBlock(1, []byte{0xff, 0xff, 0xff})), CodeInvalidBlob, "cannot be decompressed (deflate)"},
		{"snappy checksum", snappyFile, CodeInvalidBlob, "checksum does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Prepare(testTable(t, "a:string"), Spec{Format: Avro})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := plan.Rows(tc.data)
			if rows != nil {
				t.Errorf("rows = %v, want none", rows)
			}
			assertError(t, err, tc.code, tc.contains)
		})
	}
}

// A deflate block that expands beyond what the emulator ingests from one payload is refused
// before it is held in memory.
func TestAvroDeflateBomb(t *testing.T) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := cat(ocfHeader(`{"type":"fixed","name":"F","size":1}`, "deflate", false), ocfBlock(1, buf.Bytes()))
	plan, err := Prepare(testTable(t, "a:string"), Spec{Format: Avro})
	if err != nil {
		t.Fatal(err)
	}
	plan.maxExpansion = 1 << 20
	_, err = plan.Rows(data)
	assertError(t, err, CodeInputStreamTooLarge, "expand to more than 1048576 bytes")
}

func TestRatToDecimal(t *testing.T) {
	tests := []struct {
		r    *big.Rat
		want string
	}{
		{big.NewRat(-12345, 100), "-123.45"},
		{big.NewRat(1, 8), "0.125"},
		{big.NewRat(3, 1), "3"},
		{big.NewRat(7, 1000000), "0.000007"},
	}
	for _, tc := range tests {
		if got := ratToDecimal(tc.r).String(); got != tc.want {
			t.Errorf("ratToDecimal(%v) = %s, want %s", tc.r, got, tc.want)
		}
	}
}
