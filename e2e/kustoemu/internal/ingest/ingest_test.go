package ingest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		errPart string
	}{
		{in: "csv", want: CSV},
		{in: "Csv", want: CSV},
		{in: " tsv ", want: TSV},
		{in: "Tsve", want: TSVE},
		{in: "Psv", want: PSV},
		{in: "SCSV", want: SCSV},
		{in: "Sohsv", want: SOHSV},
		{in: "Txt", want: TXT},
		{in: "Raw", want: Raw},
		{in: "Json", want: JSON},
		{in: "MultiJson", want: MultiJSON},
		{in: "SingleJson", want: SingleJSON},
		{in: "Avro", want: Avro},
		{in: "ApacheAvro", want: ApacheAvro},
		{in: "", want: CSV},
		{in: "Parquet", errPart: "not supported by this emulator"},
		{in: "w3clogfile", errPart: "not supported by this emulator"},
		{in: "xml", errPart: "Unknown data format 'xml'"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFormat(tc.in)
			if tc.errPart != "" {
				assertError(t, err, CodeFormatNotSupported, tc.errPart)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestMappingKind(t *testing.T) {
	want := map[Format]string{
		CSV: "csv", TSV: "csv", TSVE: "csv", PSV: "csv", SCSV: "csv", SOHSV: "csv", TXT: "csv", Raw: "csv",
		JSON: "json", MultiJSON: "json", SingleJSON: "json", Avro: "avro", ApacheAvro: "avro",
	}
	if len(want) != len(Formats) {
		t.Fatalf("test covers %d formats, package has %d", len(want), len(Formats))
	}
	for _, f := range Formats {
		if got := f.MappingKind(); got != want[f] {
			t.Errorf("%s.MappingKind() = %q, want %q", f, got, want[f])
		}
	}
}

func tableWithMappings(t *testing.T) *model.Table {
	tbl := testTable(t, "a:string,b:int")
	tbl.Mappings = []*model.Mapping{
		{Name: "jm", Kind: "json", Text: `[{"column":"a","Properties":{"Path":"$.x"}},{"column":"b","Properties":{"Path":"$.y"}}]`},
		{Name: "cm", Kind: "csv", Text: `[{"column":"a","Properties":{"Ordinal":"1"}},{"column":"b","Properties":{"Ordinal":"0"}}]`},
		{Name: "am", Kind: "avro", Text: `[{"column":"a","Properties":{"Field":"x"}}]`},
	}
	return tbl
}

func TestPrepareMappingReference(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		data string
		want string // rows as fmt %v
	}{
		{name: "json reference", spec: Spec{Format: MultiJSON, MappingReference: "jm", MappingKind: "Json"},
			data: `{"x":"v","y":3}`, want: "[[v 3]]"},
		{name: "csv reference", spec: Spec{Format: PSV, MappingReference: "cm", MappingKind: "csv"},
			data: "4|w\n", want: "[[w 4]]"},
		{name: "inline wins over reference", spec: Spec{Format: JSON, MappingReference: "no-such-mapping",
			Mapping: `[{"column":"b","Properties":{"Path":"$.z"}}]`}, data: `{"z":5}`, want: "[[ 5]]"},
		{name: "identity without mapping", spec: Spec{Format: JSON}, data: `{"a":"x","b":6}`, want: "[[x 6]]"},
		{name: "apacheavro declared kind", spec: Spec{Format: Avro, MappingKind: "ApacheAvro"}, data: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Prepare(tableWithMappings(t), tc.spec)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if tc.data == "" {
				return
			}
			rows, err := plan.Rows([]byte(tc.data))
			if err != nil {
				t.Fatalf("Rows: %v", err)
			}
			if got := fmt.Sprint(rows); got != tc.want {
				t.Errorf("rows = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPrepareErrors(t *testing.T) {
	tests := []struct {
		name     string
		spec     Spec
		code     string
		contains []string
	}{
		{name: "unknown reference", spec: Spec{Format: JSON, MappingReference: "nope"},
			code: CodeMappingReferenceNotFound, contains: []string{"'nope'", "kind 'json'", "table 'T'"}},
		{name: "reference of another kind", spec: Spec{Format: JSON, MappingReference: "cm"},
			code: CodeMappingReferenceNotFound, contains: []string{"exists with kind 'csv'"}},
		{name: "reference names are case-sensitive", spec: Spec{Format: JSON, MappingReference: "JM"},
			code: CodeMappingReferenceNotFound},
		{name: "declared kind does not fit format", spec: Spec{Format: MultiJSON, MappingKind: "Csv", MappingReference: "jm"},
			code: CodeInvalidMapping, contains: []string{"'Csv'", "multijson", "Json mapping"}},
		{name: "declared avro for csv", spec: Spec{Format: CSV, MappingKind: "avro"}, code: CodeInvalidMapping},
		{name: "csv mapping for json format", spec: Spec{Format: JSON, Mapping: `[{"column":"a","Properties":{"Ordinal":"0"}}]`},
			code: CodeInvalidMapping, contains: []string{"column 'a'", "not Ordinal"}},
		{name: "json mapping for csv format", spec: Spec{Format: CSV, Mapping: `[{"column":"a","Properties":{"Path":"$.a"}}]`},
			code: CodeInvalidMapping, contains: []string{"Ordinal, not Path"}},
		{name: "column the table lacks", spec: Spec{Format: JSON, Mapping: `[{"column":"zz","Properties":{"Path":"$.a"}}]`},
			code: CodeInconsistentMapping, contains: []string{"'zz'", "table 'T'"}},
		{name: "txt maps only ordinal 0", spec: Spec{Format: TXT, Mapping: `[{"column":"a","Properties":{"Ordinal":"1"}}]`},
			code: CodeInvalidMapping, contains: []string{"only Ordinal 0"}},
		{name: "invalid inline mapping", spec: Spec{Format: JSON, Mapping: `{"column":"a"}`},
			code: CodeInvalidMapping, contains: []string{"JSON array"}},
		{name: "unknown format", spec: Spec{Format: "xml"}, code: CodeFormatNotSupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Prepare(tableWithMappings(t), tc.spec)
			assertError(t, err, tc.code, tc.contains...)
		})
	}
}

// A plan holds its own copy of the schema: a column added after Prepare does not change the
// width of the rows it returns.
func TestPlanCopiesSchema(t *testing.T) {
	tbl := testTable(t, "a:string")
	plan, err := Prepare(tbl, Spec{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	tbl.Columns = append(tbl.Columns, model.Column{Name: "b", Type: model.Int})
	tbl.Columns[0].Type = model.Int
	rows, err := plan.Rows([]byte("x,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != "x" {
		t.Fatalf("rows = %v, want [[x]]", rows)
	}
}

// Rows shares nothing mutable between calls: many goroutines may parse with one plan.
func TestRowsConcurrently(t *testing.T) {
	plan, err := Prepare(testTable(t, "a:string,b:long"), Spec{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			var sb strings.Builder
			for i := range 500 {
				fmt.Fprintf(&sb, "\"g%d,%d\",%d\n", g, i, i)
			}
			rows, err := plan.Rows([]byte(sb.String()))
			if err != nil {
				errs <- err
				return
			}
			for i, r := range rows {
				if r[0] != fmt.Sprintf("g%d,%d", g, i) || r[1] != int64(i) {
					errs <- fmt.Errorf("goroutine %d row %d = %v", g, i, r)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Many rows span several slabs; rows must not overlap.
func TestRowsAcrossSlabs(t *testing.T) {
	plan, err := Prepare(testTable(t, "n:int,s:string"), Spec{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	n := rowsPerSlab*3 + 7
	for i := range n {
		fmt.Fprintf(&sb, "%d,s%d\n", i, i)
	}
	rows, err := plan.Rows([]byte(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Fatalf("got %d rows, want %d", len(rows), n)
	}
	for i, r := range rows {
		if len(r) != 2 || cap(r) != 2 || r[0] != int32(i) || r[1] != fmt.Sprintf("s%d", i) {
			t.Fatalf("row %d = %v (cap %d)", i, r, cap(r))
		}
	}
}

// Where a malformed payload fails, the error says what and where, for every format family.
func TestMalformedPayloads(t *testing.T) {
	tests := []struct {
		format   Format
		data     string
		code     string
		contains []string
	}{
		{CSV, "a,b\nc\n", CodeWrongNumberOfFields, []string{"record 2 (line 2)", "1 fields"}},
		{CSV, "a,\"b\n", CodeClosingQuoteMissing, []string{"record 1 (line 1)"}},
		{TSV, "a\tb\n\"c\td\n\n", CodeClosingQuoteMissing, []string{"tsv", "record 2 (line 2)"}},
		{PSV, "a|b\n\nc|d|e\n", CodeWrongNumberOfFields, []string{"psv", "record 2 (line 3)"}},
		{CSV, "\"multi\nline\",x\n1,2,3\n", CodeWrongNumberOfFields, []string{"record 2 (line 3)"}},
		{TXT, "\n\r\n\n", CodeNoRecords, nil},
		{Raw, "", CodeNoRecords, nil},
		{JSON, "not json\n[1]\n", CodeNoRecords, nil},
		{MultiJSON, "{\"a\":1}\n{\"a\":2,\n \"b\": oops}", CodeInvalidBlob, []string{"line 3, column 7", "invalid character 'o'"}},
		{MultiJSON, "{\"a\":1}}", CodeInvalidBlob, []string{"line 1, column 8"}},
		{SingleJSON, "[{\"a\":1}]", CodeInvalidBlob, []string{"not an array"}},
		{SingleJSON, "", CodeNoRecords, nil},
		{Avro, "a,b\n", CodeInvalidBlob, []string{"magic bytes"}},
		{ApacheAvro, "Obj\x01", CodeInvalidBlob, []string{"Avro payload is invalid"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.format)+"/"+tc.code, func(t *testing.T) {
			plan, err := Prepare(testTable(t, "a:string,b:string"), Spec{Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := plan.Rows([]byte(tc.data))
			if rows != nil {
				t.Errorf("rows = %v, want none", rows)
			}
			assertError(t, err, tc.code, tc.contains...)
		})
	}
}
