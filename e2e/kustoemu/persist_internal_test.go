package kustoemu

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenCluster holds one value of every type, nulls, a column whose values changed kind (after
// a schema change), tags, mappings, policies and a failure.
func goldenCluster() *model.Cluster {
	c := model.NewCluster("db1", "empty")
	day := time.Date(2024, 1, 2, 3, 4, 5, 123456700, time.UTC)
	_ = c.Update(func(s *model.State) error {
		db := s.Databases["db1"]
		db.StreamingPolicy = &model.StreamingPolicy{IsEnabled: true}
		db.Tables["T"] = &model.Table{
			Name: "T", Folder: "f", DocString: "every type",
			Columns: []model.Column{{Name: "a", Type: model.Long}, {Name: "i", Type: model.Int}, {Name: "s", Type: model.String},
				{Name: "r", Type: model.Real}, {Name: "b", Type: model.Bool}, {Name: "d", Type: model.DateTime}, {Name: "ts", Type: model.TimeSpan},
				{Name: "g", Type: model.GUID}, {Name: "dec", Type: model.Decimal}, {Name: "dyn", Type: model.Dynamic}},
			Mappings:        []*model.Mapping{{Name: "m", Kind: "json", Text: `[{"column":"a","Properties":{"Path":"$.a"}}]`, LastUpdated: day}},
			StreamingPolicy: &model.StreamingPolicy{IsEnabled: false},
			BatchingPolicy:  &model.BatchingPolicy{MaximumBatchingTimeSpan: 30 * time.Second, MaximumNumberOfItems: 20, MaximumRawDataSizeMB: 100},
			Extents: []*model.Extent{
				{ID: uuid.MustParse("00000000-0000-4000-8000-000000000001"), CreatedOn: day, Tags: []string{"ingest-by:x", "t"}, Rows: [][]any{
					{int64(math.MaxInt64), int32(-7), "text \"quoted\" é", 0.1, true, day, 26*time.Hour + 1, uuid.MustParse("5a0f3c8e-1b2d-4e6f-8a9b-0c1d2e3f4a5b"),
						decimal.RequireFromString("12345678901234567890.123"), map[string]any{"k": []any{json.Number("1"), "{not json}", nil, true}}},
					{int64(2), nil, "", math.Inf(-1), false, nil, nil, nil, nil, "a dynamic string"},
					{int64(3), nil, "", math.NaN(), nil, nil, -time.Minute, nil, nil, nil},
				}},
				{ID: uuid.MustParse("00000000-0000-4000-8000-000000000002"), CreatedOn: day.Add(time.Hour), Rows: [][]any{
					{int64(4), int32(1)}, {"four", int64(5)},
				}},
			},
		}
		s.Failures = []model.Failure{{OperationID: uuid.MustParse("00000000-0000-4000-8000-000000000003"), Database: "db1", Table: "T",
			FailedOn: day, IngestionSourcePath: "https://127.0.0.1:1/devstoreaccount1/tempstorage/x.gz", Details: "bad", FailureKind: "Permanent",
			ErrorCode: "BadRequest_InvalidBlob"}}
		return nil
	})
	return c
}

// The snapshot format is pinned by a golden file; reading it back gives the same state, values
// with their exact Go types, and writes the same bytes again.
func TestSnapshotGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := goldenCluster().WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "snapshot-v1.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("snapshot differs from %s (run with -update after a deliberate format change):\n%s", golden, buf.String())
	}
	c, err := model.ReadSnapshot(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := c.WriteSnapshot(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), want) {
		t.Fatalf("re-written snapshot differs:\n%s", again.String())
	}
	var got, orig [][]any
	_ = c.View(func(s *model.State) error { got = s.Databases["db1"].Tables["T"].Extents[0].Rows; return nil })
	_ = goldenCluster().View(func(s *model.State) error { orig = s.Databases["db1"].Tables["T"].Extents[0].Rows; return nil })
	for i := range orig {
		for j := range orig[i] {
			g, o := got[i][j], orig[i][j]
			if reflect.TypeOf(g) != reflect.TypeOf(o) {
				t.Errorf("row %d column %d: type %T, want %T", i, j, g, o)
				continue
			}
			switch ov := o.(type) {
			case float64:
				if gv := g.(float64); !(gv == ov || math.IsNaN(gv) && math.IsNaN(ov)) {
					t.Errorf("row %d column %d = %v, want %v", i, j, gv, ov)
				}
			case decimal.Decimal:
				if !g.(decimal.Decimal).Equal(ov) {
					t.Errorf("row %d column %d = %v, want %v", i, j, g, ov)
				}
			default:
				if !reflect.DeepEqual(g, o) {
					t.Errorf("row %d column %d = %#v, want %#v", i, j, g, o)
				}
			}
		}
	}
}

func TestReadSnapshotRejects(t *testing.T) {
	for name, text := range map[string]string{
		"newer version": `{"Version":2,"Databases":[]}`,
		"not JSON":      `{"Version":1,`,
		"bad kind":      `{"Version":1,"Databases":[{"Name":"d","Tables":[{"Name":"T","Columns":[],"Extents":[{"ID":"00000000-0000-4000-8000-000000000001","CreatedOn":"2024-01-01T00:00:00Z","Kinds":["long"],"Rows":[["x"]]}]}]}]}`,
		"bad type":      `{"Version":1,"Databases":[{"Name":"d","Tables":[{"Name":"T","Columns":[{"Name":"a","Type":"blob"}],"Extents":[]}]}]}`,
	} {
		if _, err := model.ReadSnapshot(bytes.NewReader([]byte(text))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkWriteSnapshot measures persisting 100,000 rows of mixed types.
func BenchmarkWriteSnapshot(b *testing.B) {
	c := model.NewCluster("db1")
	rows := make([][]any, 100000)
	day := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range rows {
		rows[i] = []any{int64(i), "some text value", float64(i) / 3, day.Add(time.Duration(i) * time.Second), map[string]any{"k": json.Number("1")}}
	}
	_ = c.Update(func(s *model.State) error {
		s.Databases["db1"].Tables["T"] = &model.Table{Name: "T", Columns: []model.Column{{Name: "a", Type: model.Long}, {Name: "s", Type: model.String},
			{Name: "r", Type: model.Real}, {Name: "d", Type: model.DateTime}, {Name: "dyn", Type: model.Dynamic}},
			Extents: []*model.Extent{{ID: uuid.New(), Rows: rows, CreatedOn: day}}}
		return nil
	})
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := c.WriteSnapshot(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
