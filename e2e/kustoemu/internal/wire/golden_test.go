package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/mgmt"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedEnvironment makes timestamps, ids and the machine identity of responses stable.
func fixedEnvironment(t *testing.T) {
	t.Helper()
	oldClock, oldID, oldHost, oldPID := clock, newID, hostName, processID
	clock = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC) }
	n := 0
	newID = func() uuid.UUID {
		n++
		return uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
	}
	hostName = func() string { return "emulator-host" }
	processID = func() int { return 4242 }
	t.Cleanup(func() { clock, newID, hostName, processID = oldClock, oldID, oldHost, oldPID })
}

// eventsColumns has one column of every type.
var eventsColumns = []model.Column{
	{Name: "Int", Type: model.Int}, {Name: "Long", Type: model.Long}, {Name: "Real", Type: model.Real},
	{Name: "Decimal", Type: model.Decimal}, {Name: "String", Type: model.String}, {Name: "Bool", Type: model.Bool},
	{Name: "DateTime", Type: model.DateTime}, {Name: "TimeSpan", Type: model.TimeSpan}, {Name: "Guid", Type: model.GUID},
	{Name: "Dynamic", Type: model.Dynamic},
}

func eventsRows() [][]any {
	dyn, _ := model.Convert(model.Dynamic, `{"k":"v","n":[1,2.5],"html":"<a&b>"}`)
	return [][]any{
		{int32(1), int64(9223372036854775807), 0.01, decimal.RequireFromString("2.00000000000001"), "asdf", true,
			time.Date(2020, 3, 4, 14, 5, 1, 310996500, time.UTC), time.Hour + 23*time.Minute + 45*time.Second + 678900*time.Microsecond,
			uuid.MustParse("123e27de-1e4e-49d9-b579-fe0b331d3642"), dyn},
		{int32(-2), int64(-5), 3.0, decimal.RequireFromString("-1.5"), "quote \" and\nnewline é", false,
			time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), -26 * time.Hour, uuid.MustParse("00000000-0000-0000-0000-000000000001"), "plain"},
		{nil, nil, math.NaN(), nil, "", nil, nil, nil, nil, nil},
	}
}

// goldenCluster is a database db1 with the Events table and an empty table.
func goldenCluster(t *testing.T) *model.Cluster {
	t.Helper()
	c := model.NewCluster("db1")
	if err := c.Update(func(s *model.State) error {
		ev := &model.Table{Name: "Events", Columns: eventsColumns, DocString: "every type", Folder: "tests"}
		ev.Append(eventsRows(), nil, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		s.Databases["db1"].Tables["Events"] = ev
		s.Databases["db1"].Tables["Empty"] = &model.Table{Name: "Empty", Columns: []model.Column{{Name: "a", Type: model.String}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}

func TestGoldenResponses(t *testing.T) {
	ctx := context.Background()
	command := func(csl string) func(*model.Cluster) ([]model.Result, error) {
		return func(c *model.Cluster) ([]model.Result, error) { return mgmt.Execute(ctx, c, "db1", csl) }
	}
	query := func(csl string) func(*model.Cluster) ([]model.Result, error) {
		return func(c *model.Cluster) ([]model.Result, error) { return kql.Query(ctx, c, "db1", csl, nil) }
	}
	for _, tc := range []struct {
		name string
		v2   bool
		run  func(*model.Cluster) ([]model.Result, error)
		// plain writes v2 without fragments, as answered to clients that do not ask for them.
		plain bool
	}{
		{"v1_show_tables", false, command(".show tables"), false},
		{"v1_show_version", false, command(".show version"), false},
		{"v1_show_databases", false, command(".show databases"), false},
		{"v1_schema_json", false, command(".show table Events schema as json"), false},
		{"v1_cslschema", false, command(".show table Events cslschema"), false},
		{"v1_policy_unset", false, command(".show table Events policy streamingingestion"), false},
		{"v1_policy_enabled", false, command(".alter table Events policy streamingingestion enable"), false},
		{"v1_all_types", false, query("Events"), false},
		{"v1_two_tables", false, query("Events | count; Empty"), false},
		{"v2_all_types", true, query("Events"), false},
		{"v2_summarize", true, query("Events | summarize n = count(), avg(Long), make_set(String) by Bool | order by n desc"), false},
		{"v2_empty", true, query("Empty"), false},
		{"v2_two_statements", true, query("Events | count; print x = 1, s = 'two'"), false},
		{"v2_unfragmented", true, query("Events | count; print x = 1, s = 'two'"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fixedEnvironment(t)
			res, err := tc.run(goldenCluster(t))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			switch {
			case tc.plain:
				err = WriteV2Unfragmented(&buf, res, "KGC.execute;golden")
			case tc.v2:
				err = WriteV2Request(&buf, res, "KGC.execute;golden")
			default:
				err = WriteV1(&buf, res)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, buf.Bytes())
		})
	}
}

func TestGoldenError(t *testing.T) {
	fixedEnvironment(t)
	rec := httptest.NewRecorder()
	WriteError(rec, model.SyntaxError("SYN0002: Query could not be parsed at 'foo' [line:position=1:5]"), "KGC.execute;golden")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	checkGolden(t, "error_syntax", rec.Body.Bytes())

	rec = httptest.NewRecorder()
	WriteError(rec, &model.Error{Code: "X"}, "")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("zero status sent as %d, want 500", rec.Code)
	}
}

// TestV2Framing checks the line rules of §2.6 on a result large enough to be fragmented.
func TestV2Framing(t *testing.T) {
	rows := make([][]any, 2*fragmentRows+1)
	for i := range rows {
		rows[i] = []any{int64(i)}
	}
	var buf bytes.Buffer
	if err := WriteV2(&buf, []model.Result{{Columns: []model.Column{{Name: "n", Type: model.Long}}, Rows: rows}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if lines[len(lines)-1] != "]" {
		t.Fatalf("last line = %q, want ]", lines[len(lines)-1])
	}
	var kinds []string
	total := 0
	for i, l := range lines[:len(lines)-1] {
		prefix := ","
		if i == 0 {
			prefix = "["
		}
		if !strings.HasPrefix(l, prefix) {
			t.Fatalf("line %d starts with %q, want %q", i, l[:1], prefix)
		}
		var frame map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l[1:]), &frame); err != nil {
			t.Fatalf("line %d is not one JSON frame: %v", i, err)
		}
		var ft string
		_ = json.Unmarshal(frame["FrameType"], &ft)
		kinds = append(kinds, ft)
		if ft == "TableFragment" {
			var fr [][]any
			_ = json.Unmarshal(frame["Rows"], &fr)
			total += len(fr)
			if len(fr) > fragmentRows {
				t.Fatalf("fragment of %d rows", len(fr))
			}
		}
	}
	want := "DataSetHeader DataTable TableHeader TableFragment TableFragment TableFragment TableCompletion DataTable DataSetCompletion"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("frames = %s\nwant %s", got, want)
	}
	if total != len(rows) {
		t.Fatalf("fragments carry %d rows, want %d", total, len(rows))
	}
}

func TestAppendReal(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", 0.01: "0.01", -2.5: "-2.5", 1e21: "1E+21", 1e-7: "1E-07", 123456789012: "123456789012.0", 0: "0.0",
	} {
		if got := string(appendReal(nil, f)); got != want {
			t.Errorf("appendReal(%v) = %s, want %s", f, got, want)
		}
	}
}
