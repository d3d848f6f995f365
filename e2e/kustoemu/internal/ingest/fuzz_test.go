package ingest

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// The fuzz targets hold every parser to one contract: no panic, and either rows of the plan's
// width or a 400 *model.Error and no rows. Run one with, e.g.,
// go test -run '^$' -fuzz FuzzDelimited -fuzztime 30s ./e2e/kustoemu/internal/ingest/

const fuzzColumns = "s:string,i:int,l:long,r:real,b:bool,d:datetime,t:timespan,g:guid,m:decimal,y:dynamic"

func checkRows(t *testing.T, plan *Plan, data []byte) {
	t.Helper()
	rows, err := plan.Rows(data)
	if err != nil {
		var ke *model.Error
		if !errors.As(err, &ke) || ke.Status != 400 || ke.Code == "" {
			t.Fatalf("error is not a 400 *model.Error: %#v", err)
		}
		if rows != nil {
			t.Fatalf("rows returned with an error")
		}
		return
	}
	if len(rows) == 0 {
		t.Fatalf("no rows and no error")
	}
	for i, r := range rows {
		if len(r) != len(plan.columns) {
			t.Fatalf("row %d has %d values, want %d", i, len(r), len(plan.columns))
		}
	}
}

// addCaseInputs seeds a fuzz target with the fixture inputs whose file name ends in ext.
func addCaseInputs(f *testing.F, exts ...string) {
	for _, ext := range exts {
		files, _ := filepath.Glob(filepath.Join("testdata", "cases", "*", "input."+ext))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, uint8(0), false)
		}
	}
}

func FuzzDelimited(f *testing.F) {
	addCaseInputs(f, "csv", "tsv", "psv", "scsv", "sohsv", "txt", "raw")
	f.Add([]byte("a,\"b\"\"c\",\"\n\"\r\n"), uint8(2), true)
	f.Add([]byte("x\\\ty\t\"\\\n"), uint8(2), false)
	formats := []Format{CSV, TSV, TSVE, PSV, SCSV, SOHSV, TXT, Raw}
	table := testTable(&testing.T{}, fuzzColumns)
	mapped := `[{"column":"s","Properties":{"Ordinal":"2"}},{"column":"d","Properties":{"Ordinal":"0","Transform":"DateTimeFromUnixSeconds"}},` +
		`{"column":"l","Properties":{"Transform":"SourceLineNumber"}},{"column":"y","Properties":{"ConstValue":"{\"a\":1}"}}]`
	f.Fuzz(func(t *testing.T, data []byte, format uint8, ignoreFirst bool) {
		fm := formats[int(format)%len(formats)]
		for _, mapping := range []string{"", mapped} {
			if mapping != "" && (fm == TXT || fm == Raw) {
				continue
			}
			plan, err := Prepare(table, Spec{Format: fm, Mapping: mapping, IgnoreFirstRecord: ignoreFirst})
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, plan, data)
		}
	})
}

func FuzzJSON(f *testing.F) {
	addCaseInputs(f, "json")
	f.Add([]byte(`[{"a":{"b":[1,{"c":"d"}]}}, {"a":null}]`), uint8(1), false)
	f.Add([]byte("{\"s\":\"x\",\"y\":[1,2]}\n{\"s\":1e400}\n"), uint8(0), false)
	formats := []Format{JSON, MultiJSON, SingleJSON}
	table := testTable(&testing.T{}, fuzzColumns)
	mapped := `[{"column":"s","Properties":{"Path":"$.a.b[1].c"}},{"column":"y","Properties":{"Path":"$"}},` +
		`{"column":"d","Properties":{"Path":"$['s']","Transform":"DateTimeFromUnixNanoseconds"}},` +
		`{"column":"m","Properties":{"Path":"$.a","Transform":"PropertyBagArrayToDictionary"}},{"column":"l","Properties":{"Transform":"SourceLineNumber"}}]`
	f.Fuzz(func(t *testing.T, data []byte, format uint8, _ bool) {
		for _, mapping := range []string{"", mapped} {
			plan, err := Prepare(table, Spec{Format: formats[int(format)%len(formats)], Mapping: mapping})
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, plan, data)
		}
	})
}

func FuzzAvro(f *testing.F) {
	for _, codec := range []string{"null", "deflate", "snappy"} {
		f.Add(writeOCF(f, eventSchema, codec, eventRecords()...))
	}
	f.Add(writeOCF(f, `["null","string",{"type":"array","items":"long"}]`, "null", nil, map[string]any{"array": []any{int64(1)}}))
	f.Add([]byte("Obj\x01\x00"))
	table := testTable(&testing.T{}, eventColumns)
	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := Prepare(table, Spec{Format: ApacheAvro})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, plan, data)
	})
}

func FuzzDecompress(f *testing.F) {
	f.Add(gz(f, "a,b\n", "c,d\n"))
	f.Add(zipOf(f, zip.Deflate, "d/", "", "x.csv", "1,2\n"))
	f.Add([]byte("plain"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := DecompressLimit(data, 1<<20)
		if err != nil {
			var ke *model.Error
			if !errors.As(err, &ke) || ke.Status != 400 || out != nil {
				t.Fatalf("Decompress = %d bytes, %#v", len(out), err)
			}
			return
		}
		if len(out) > 1<<20 {
			t.Fatalf("output of %d bytes exceeds the limit", len(out))
		}
	})
}

func FuzzMapping(f *testing.F) {
	seeds := []string{
		`[{"column":"s","Properties":{"Path":"$.a['b c'][0]"}}]`,
		`[{"Name":"i","DataType":"int","Ordinal":"1"},{"column":"d","Properties":{"ConstValue":"2020-01-01"}}]`,
		`[{"column":"y","Properties":{"Field":"f","Transform":"GetPathElement(-2)"}}]`,
		`[{"column":"t","path":"$[\"x\\\"y\"]","datatype":"timespan"}]`,
	}
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	kinds := []string{"csv", "json", "avro"}
	formats := map[string]Format{"csv": CSV, "json": MultiJSON, "avro": Avro}
	table := testTable(&testing.T{}, fuzzColumns)
	f.Fuzz(func(t *testing.T, text string, kind uint8) {
		if text == "" {
			return // no mapping: Prepare maps by identity
		}
		k := kinds[int(kind)%len(kinds)]
		err := ValidateMapping(k, text)
		plan, perr := Prepare(table, Spec{Format: formats[k], Mapping: text})
		for _, e := range []error{err, perr} {
			var ke *model.Error
			if e != nil && (!errors.As(e, &ke) || ke.Status != 400) {
				t.Fatalf("error is not a 400 *model.Error: %#v", e)
			}
		}
		if (err == nil) != (perr == nil || strings.Contains(fmt.Sprint(perr), CodeInconsistentMapping)) {
			t.Fatalf("ValidateMapping = %v but Prepare = %v", err, perr)
		}
		if perr == nil && k != "avro" {
			checkRows(t, plan, []byte(`{"a":{"b c":[1]},"f":"x"}`+"\n1,2,3\n"))
		}
	})
}

func benchData(rows int, line func(i int) string) []byte {
	var sb strings.Builder
	for i := range rows {
		sb.WriteString(line(i))
	}
	return []byte(sb.String())
}

// The benchmarks parse 10,000 records of six columns. In "dynamic" the payload column is
// dynamic, so each row also parses a JSON document (model.Convert); in "scalar" it is a string,
// which measures the format parser itself.
var benchSchemas = []struct{ name, columns string }{
	{"scalar", "id:long,name:string,value:real,at:datetime,ok:bool,payload:string"},
	{"dynamic", "id:long,name:string,value:real,at:datetime,ok:bool,payload:dynamic"},
}

const benchRecords = 10000

func benchmarkRows(b *testing.B, format Format, line func(i int) string) {
	data := benchData(benchRecords, line)
	for _, schema := range benchSchemas {
		b.Run(schema.name, func(b *testing.B) {
			plan, err := Prepare(testTable(&testing.T{}, schema.columns), Spec{Format: format})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := plan.Rows(data)
				if err != nil || len(out) != benchRecords {
					b.Fatalf("%d rows, %v", len(out), err)
				}
			}
			b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func csvLine(i int) string {
	return fmt.Sprintf("%d,\"name, %d\",%d.25,2024-01-02T03:04:%02dZ,true,\"{\"\"k\"\":%d}\"\n", i, i, i, i%60, i)
}

func jsonLine(i int) string {
	return fmt.Sprintf(`{"id":%d,"name":"name, %d","value":%d.25,"at":"2024-01-02T03:04:%02dZ","ok":true,"payload":{"k":%d}}`+"\n", i, i, i, i%60, i)
}

func BenchmarkRowsCSV(b *testing.B)       { benchmarkRows(b, CSV, csvLine) }
func BenchmarkRowsJSON(b *testing.B)      { benchmarkRows(b, JSON, jsonLine) }
func BenchmarkRowsMultiJSON(b *testing.B) { benchmarkRows(b, MultiJSON, jsonLine) }

func BenchmarkDecompressGzip(b *testing.B) {
	raw := benchData(benchRecords, csvLine)
	data := gz(b, string(raw))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decompress(data); err != nil {
			b.Fatal(err)
		}
	}
}
