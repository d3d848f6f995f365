package kustoemu

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-kusto-go/azkustoingest"
)

// Queued ingestion properties reach the data-management service: an inline mapping,
// IgnoreFirstRecord, a creation time, and DeleteSource (the uploaded blob is removed once
// ingested; without it the blob is retained).
func TestQueuedIngestionProperties(t *testing.T) {
	e, err := Start(Options{Databases: []string{"db1"}, Logger: slog.New(slog.DiscardHandler), Batching: BatchingPolicy{MaxDelay: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kcsb := azkustodata.NewConnectionStringBuilder(e.EngineURL())
	c, err := azkustodata.New(kcsb, azkustodata.WithHttpClient(e.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Mgmt(ctx, "db1", kql.New(".create table P (a:long, s:string)")); err != nil {
		t.Fatal(err)
	}
	in, err := azkustoingest.New(kcsb, azkustoingest.WithDefaultDatabase("db1"), azkustoingest.WithDefaultTable("P"),
		azkustoingest.WithoutEndpointCorrection(), azkustoingest.WithHttpClient(e.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	wait := []azkustoingest.WaitOption{azkustoingest.WithInterval(10 * time.Millisecond), azkustoingest.WithImmediateFirst()}

	path := filepath.Join(t.TempDir(), "rows.json")
	if err := os.WriteFile(path, []byte(`{"x":{"n":7},"y":"seven"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	res, err := in.FromFile(ctx, path, azkustoingest.IngestionMapping(`[{"column":"a","Properties":{"Path":"$.x.n"}},{"column":"s","Properties":{"Path":"$.y"}}]`, azkustoingest.JSON),
		azkustoingest.DeleteSource(), azkustoingest.SetCreationTime(created), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-res.Wait(ctx, wait...); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("DeleteSource left the local file: %v", err)
	}
	if n := e.storage.BlobCount(tempContainer); n != 0 {
		t.Errorf("%d blobs left after an ingestion with DeleteSource, want 0", n)
	}

	res, err = in.FromReader(ctx, strings.NewReader("a,s\n8,eight\n"), azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.IgnoreFirstRecord(), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-res.Wait(ctx, wait...); err != nil {
		t.Fatal(err)
	}
	if n := e.storage.BlobCount(tempContainer); n != 1 {
		t.Errorf("%d blobs after an ingestion that retains its source, want 1", n)
	}
	rows, err := e.Rows("db1", "P")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0]["a"] != int64(7) || rows[0]["s"] != "seven" || rows[1]["a"] != int64(8) || rows[1]["s"] != "eight" {
		t.Fatalf("rows = %v", rows)
	}
	ext, err := e.Mgmt(ctx, "db1", ".show table P extents")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(flatten(ext[0]), " "), "2020-05-06") {
		t.Errorf(".show table P extents = %v, want the creation time 2020-05-06", ext[0].Rows)
	}
}

func flatten(t Table) []string {
	var out []string
	for _, r := range t.Rows {
		for _, v := range r {
			if tm, ok := v.(time.Time); ok {
				out = append(out, tm.Format(time.RFC3339))
				continue
			}
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
