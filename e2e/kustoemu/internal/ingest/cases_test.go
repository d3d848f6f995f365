package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// Each directory under testdata/cases is one ingestion: case.json (format, table columns as
// "name:type,…", optional inline mapping, ignoreFirstRecord, sourceLocation), the payload in
// input.*, and either want.json (the rows as they go on the wire, model.FormatJSON per column)
// or error.json (the *model.Error code and fragments its message must contain).

type caseSpec struct {
	Format            string          `json:"format"`
	Columns           string          `json:"columns"`
	Mapping           json.RawMessage `json:"mapping"`
	IgnoreFirstRecord bool            `json:"ignoreFirstRecord"`
	SourceLocation    string          `json:"sourceLocation"`
}

type caseError struct {
	Code     string   `json:"code"`
	Contains []string `json:"contains"`
}

func TestCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var spec caseSpec
			readJSON(t, filepath.Join(dir, "case.json"), &spec)
			inputs, _ := filepath.Glob(filepath.Join(dir, "input.*"))
			if len(inputs) != 1 {
				t.Fatalf("want one input.* file, have %v", inputs)
			}
			input, err := os.ReadFile(inputs[0])
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseFormat(spec.Format)
			if err != nil {
				t.Fatal(err)
			}
			var mapping string
			if len(spec.Mapping) > 0 {
				mapping = string(spec.Mapping)
			}
			plan, err := Prepare(testTable(t, spec.Columns), Spec{Format: f, Mapping: mapping,
				IgnoreFirstRecord: spec.IgnoreFirstRecord, SourceLocation: spec.SourceLocation})
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			rows, err := plan.Rows(input)

			if _, statErr := os.Stat(filepath.Join(dir, "error.json")); statErr == nil {
				var want caseError
				readJSON(t, filepath.Join(dir, "error.json"), &want)
				assertError(t, err, want.Code, want.Contains...)
				return
			}
			if err != nil {
				t.Fatalf("Rows: %v", err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "want.json"))
			if err != nil {
				t.Fatal(err)
			}
			assertRows(t, plan.Columns(), rows, raw)
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// testTable builds a table from "name:type,name:type".
func testTable(t *testing.T, columns string) *model.Table {
	t.Helper()
	tbl := &model.Table{Name: "T"}
	for _, c := range strings.Split(columns, ",") {
		name, typ, ok := strings.Cut(c, ":")
		kt, known := model.ParseType(typ)
		if !ok || !known {
			t.Fatalf("bad column %q", c)
		}
		tbl.Columns = append(tbl.Columns, model.Column{Name: name, Type: kt})
	}
	return tbl
}

// assertRows compares rows, rendered as on the wire, with the JSON array want.
func assertRows(t *testing.T, cols []model.Column, rows [][]any, want []byte) {
	t.Helper()
	wire := make([][]any, len(rows))
	for i, r := range rows {
		if len(r) != len(cols) {
			t.Fatalf("row %d has %d values for %d columns", i, len(r), len(cols))
		}
		wire[i] = make([]any, len(r))
		for j, v := range r {
			wire[i][j] = model.FormatJSON(cols[j].Type, v)
		}
	}
	got, err := json.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	g, err1 := model.DecodeJSON(got)
	w, err2 := model.DecodeJSON(want)
	if err1 != nil || err2 != nil {
		t.Fatalf("decode: %v %v", err1, err2)
	}
	if !reflect.DeepEqual(g, w) {
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, got, "", " ")
		t.Errorf("rows differ\ngot:  %s\nwant: %s", pretty.String(), want)
	}
}

// assertError checks that err is a *model.Error with the code, status 400 and the fragments.
func assertError(t *testing.T, err error, code string, contains ...string) {
	t.Helper()
	var ke *model.Error
	if !errors.As(err, &ke) {
		t.Fatalf("want *model.Error %s, got %v", code, err)
	}
	if ke.Code != code || ke.Status != 400 || !ke.Permanent {
		t.Errorf("got code %s status %d permanent %v (%s), want %s 400 permanent", ke.Code, ke.Status, ke.Permanent, ke.Detail, code)
	}
	for _, c := range contains {
		if !strings.Contains(ke.Detail, c) {
			t.Errorf("detail %q does not contain %q", ke.Detail, c)
		}
	}
}
