package kustoemu_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustoingest"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

// With a data directory, databases, tables, mappings, policies, rows and extent tags survive a
// restart, and so do the CA and the storage key. Queued data still batched at Close is ingested
// before the state is written.
func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := kustoemu.Options{DataDir: dir, Databases: []string{testDB, "other"}}
	e1 := startEmulator(t, opts)
	c1 := newClient(t, e1, nil)
	mgmt(t, c1, createTableCommand("T"),
		fmt.Sprintf(".create table T ingestion csv mapping 'm' %s", kqlString(csvMapping())),
		".alter table T policy streamingingestion enable",
		`.alter table T policy ingestionbatching '{"MaximumBatchingTimeSpan":"01:00:00","MaximumNumberOfItems":100,"MaximumRawDataSizeMB":100}'`)
	ctx := ctxFor(t, 30*time.Second)
	if _, err := newIngestor(t, e1, streaming, "T").FromReader(ctx, bytes.NewReader(csvData(true)), azkustoingest.IngestionMappingRef("m", azkustoingest.CSV)); err != nil {
		t.Fatal(err)
	}
	waitForCount(t, c1, "T", 3)
	if _, err := newIngestor(t, e1, queued, "T").FromReader(ctx, strings.NewReader("4,,late\n"), azkustoingest.FileFormat(azkustoingest.CSV),
		azkustoingest.Tags([]string{"ingest-by:late"})); err != nil {
		t.Fatal(err)
	}
	ca := e1.CACertPEM()
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := startEmulator(t, opts)
	c2 := newClient(t, e2, nil)
	if !bytes.Equal(ca, e2.CACertPEM()) {
		t.Error("the CA changed across the restart")
	}
	want := make([][]any, 0, 4)
	for _, r := range records {
		want = append(want, r.expected)
	}
	want = append(want, []any{int64(4), nil, "late", nil, nil, nil, nil, nil, nil, nil})
	compareRows(t, "Query", queryRows(t, c2, "T | order by a asc"), want)

	for cmd, wantText := range map[string]string{
		".show databases":                         "other",
		".show table T ingestion mappings":        `"Ordinal":"9"`,
		".show table T policy streamingingestion": "true",
		".show table T policy ingestionbatching":  "01:00:00",
		".show table T extents":                   "ingest-by:late",
	} {
		res, err := e2.Mgmt(ctx, testDB, cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if !strings.Contains(fmt.Sprint(res[0].Rows), wantText) {
			t.Errorf("%s = %v, want %s in it", cmd, res[0].Rows, wantText)
		}
	}
	// The restored table still takes data.
	if _, err := newIngestor(t, e2, streaming, "T").FromReader(ctx, strings.NewReader("5,,more\n"), azkustoingest.FileFormat(azkustoingest.CSV)); err != nil {
		t.Fatal(err)
	}
	waitForCount(t, c2, "T", 5)
}
