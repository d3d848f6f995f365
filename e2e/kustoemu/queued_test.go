package kustoemu_test

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustoingest"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

var fastWait = []azkustoingest.WaitOption{azkustoingest.WithInterval(20 * time.Millisecond), azkustoingest.WithImmediateFirst()}

const simpleTable = ".create table %s (a:long, s:string)"

// The same file ingested twice with an ingest-by tag and IfNotExists lands once: the second
// ingestion is reported Skipped, whether it comes after the first was ingested or in the same
// batch.
func TestIngestIfNotExistsLandsOnce(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "Seq"), fmt.Sprintf(simpleTable, "Batch"),
		`.alter table Batch policy ingestionbatching '{"MaximumBatchingTimeSpan":"00:01:00","MaximumNumberOfItems":2}'`)
	path := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(path, []byte("1,one\n2,two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []azkustoingest.FileOption{azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.Tags([]string{"ingest-by:rows-1", "other"}),
		azkustoingest.IfNotExists("rows-1"), azkustoingest.ReportResultToTable()}

	t.Run("after the first landed", func(t *testing.T) {
		in := newIngestor(t, e, queued, "Seq")
		ctx := ctxFor(t, 20*time.Second)
		first, err := in.FromFile(ctx, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-first.Wait(ctx, fastWait...); err != nil {
			t.Fatalf("first ingestion: %v", err)
		}
		second, err := in.FromFile(ctx, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		err = <-second.Wait(ctx, fastWait...)
		if status, _ := azkustoingest.GetIngestionStatus(err); status != azkustoingest.Skipped {
			t.Fatalf("second ingestion: status %v (%v), want Skipped", status, err)
		}
		if code, _ := azkustoingest.GetErrorCode(err); code != "Skipped_IngestByTagAlreadyExists" {
			t.Errorf("second ingestion: error code %q", code)
		}
		if got := queryRows(t, c, "Seq | count"); got[0][0] != int64(2) {
			t.Fatalf("Seq has %v rows, want 2", got[0][0])
		}
		tags, err := e.Mgmt(ctx, testDB, ".show table Seq extents")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(fmt.Sprint(tags[0].Rows), "ingest-by:rows-1") {
			t.Errorf(".show table Seq extents = %v, want the ingest-by tag", tags[0].Rows)
		}
	})

	t.Run("in the same batch", func(t *testing.T) {
		in := newIngestor(t, e, queued, "Batch")
		ctx := ctxFor(t, 20*time.Second)
		first, err := in.FromFile(ctx, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		second, err := in.FromFile(ctx, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-first.Wait(ctx, fastWait...); err != nil {
			t.Fatalf("first ingestion: %v", err)
		}
		if status, _ := azkustoingest.GetIngestionStatus(<-second.Wait(ctx, fastWait...)); status != azkustoingest.Skipped {
			t.Fatalf("second ingestion: status %v, want Skipped", status)
		}
		if got := queryRows(t, c, "Batch | count"); got[0][0] != int64(2) {
			t.Fatalf("Batch has %v rows, want 2", got[0][0])
		}
	})
}

// ReportResultToTable makes Result.Wait report the real outcome: success, and a permanent
// failure with Kusto's error code (also listed by .show ingestion failures).
func TestReportResultToTable(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "R"))
	in := newIngestor(t, e, queued, "R")
	ctx := ctxFor(t, 20*time.Second)

	ok, err := in.FromReader(ctx, strings.NewReader("1,a\n"), azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-ok.Wait(ctx, fastWait...); err != nil {
		t.Fatalf("Wait on a good ingestion: %v", err)
	}

	bad, err := in.FromReader(ctx, strings.NewReader(`{"a": 1`), azkustoingest.FileFormat(azkustoingest.MultiJSON), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	err = <-bad.Wait(ctx, fastWait...)
	status, _ := azkustoingest.GetIngestionStatus(err)
	failure, _ := azkustoingest.GetIngestionFailureStatus(err)
	code, _ := azkustoingest.GetErrorCode(err)
	if status != azkustoingest.Failed || failure != azkustoingest.Permanent || code == "" || azkustoingest.IsRetryable(err) {
		t.Fatalf("Wait on a bad ingestion = %v / %v / %q (%v)", status, failure, code, err)
	}
	failures, ferr := e.Mgmt(ctx, testDB, ".show ingestion failures")
	if ferr != nil {
		t.Fatal(ferr)
	}
	if len(failures[0].Rows) != 1 || !strings.Contains(fmt.Sprint(failures[0].Rows[0]), code) {
		t.Fatalf(".show ingestion failures = %v, want one failure with %s", failures[0].Rows, code)
	}
	if got := queryRows(t, c, "R | count"); got[0][0] != int64(1) {
		t.Fatalf("R has %v rows, want 1", got[0][0])
	}
}

// Bad input is a recorded failure for queued ingestion (reported through the status table) and
// an error for streaming; nothing is appended and the emulator keeps working.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "B"), ".alter table B policy streamingingestion enable",
		`.create table B ingestion json mapping 'jm' '[{"column":"a","Properties":{"Path":"$.a"}}]'`)
	tests := []struct {
		name   string
		table  string
		data   []byte
		opts   []azkustoingest.FileOption
		code   string
		stream bool // also try streaming
	}{
		{"malformed CSV", "B", []byte("1,\"unclosed\n2,b\n"), []azkustoingest.FileOption{azkustoingest.FileFormat(azkustoingest.CSV)}, "Stream_ClosingQuoteMissing", true},
		{"malformed JSON", "B", []byte(`[{"a":1},{"a":`), []azkustoingest.FileOption{azkustoingest.FileFormat(azkustoingest.MultiJSON)}, "BadRequest_InvalidBlob", true},
		{"malformed Avro", "B", []byte("Obj\x01 not really avro"), []azkustoingest.FileOption{azkustoingest.FileFormat(azkustoingest.AVRO)}, "BadRequest_InvalidBlob", true},
		{"unknown table", "NoSuchTable", []byte("1,a\n"), []azkustoingest.FileOption{azkustoingest.FileFormat(azkustoingest.CSV)}, "BadRequest_TableNotExist", false},
		{"wrong mapping kind", "B", []byte("1,a\n"), []azkustoingest.FileOption{azkustoingest.IngestionMappingRef("jm", azkustoingest.CSV)}, "BadRequest_MappingReferenceWasNotFound", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t, 20*time.Second)
			in := newIngestor(t, e, queued, tc.table)
			res, err := in.FromReader(ctx, bytes.NewReader(tc.data), append(tc.opts, azkustoingest.ReportResultToTable())...)
			if err != nil {
				t.Fatalf("FromReader: %v", err)
			}
			err = <-res.Wait(ctx, fastWait...)
			status, _ := azkustoingest.GetIngestionStatus(err)
			failure, _ := azkustoingest.GetIngestionFailureStatus(err)
			code, _ := azkustoingest.GetErrorCode(err)
			if status != azkustoingest.Failed || failure != azkustoingest.Permanent || code == "" || code == "Unknown" {
				t.Fatalf("Wait = %v / %v / %q (%v)", status, failure, code, err)
			}
			if code != tc.code {
				t.Errorf("error code = %q, want %q", code, tc.code)
			}
			t.Logf("queued: %s: %s", code, errDetails(err))
			if tc.stream {
				sin := newIngestor(t, e, streaming, tc.table)
				_, err := sin.FromReader(ctx, bytes.NewReader(tc.data), tc.opts...)
				if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), code) {
					t.Errorf("streaming: %v, want a 400 with %s", err, code)
				}
			}
		})
	}
	if got := queryRows(t, c, "B | count"); got[0][0] != int64(0) {
		t.Fatalf("B has %v rows after bad input, want 0", got[0][0])
	}
	if got := len(e.Failures()); got != len(tests) {
		t.Errorf("%d failures recorded, want %d", got, len(tests))
	}
}

func errDetails(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.Index(s, "Details"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// The table's batching policy decides when queued data appears: a batch is ingested when it has
// MaximumNumberOfItems items; FlushImmediately bypasses batching; Flush ingests open batches.
func TestBatchingPolicy(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{Batching: kustoemu.BatchingPolicy{MaxDelay: time.Hour}})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "P"), fmt.Sprintf(simpleTable, "Q"),
		`.alter table Q policy ingestionbatching '{"MaximumBatchingTimeSpan":"00:00:00.2"}'`,
		`.alter table P policy ingestionbatching '{"MaximumBatchingTimeSpan":"01:00:00","MaximumNumberOfItems":2,"MaximumRawDataSizeMB":1024}'`)
	in := newIngestor(t, e, queued, "P")
	ctx := ctxFor(t, 20*time.Second)
	send := func(data string, opts ...azkustoingest.FileOption) {
		t.Helper()
		if _, err := in.FromReader(ctx, strings.NewReader(data), append(opts, azkustoingest.FileFormat(azkustoingest.CSV))...); err != nil {
			t.Fatal(err)
		}
	}
	send("1,a\n")
	send("2,b\n", azkustoingest.FlushImmediately())
	waitForCount(t, c, "P", 1) // the flushed item alone: the first waits for a second item
	send("3,c\n")
	waitForCount(t, c, "P", 3) // two items fill the batch
	send("4,d\n")
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryRows(t, c, "P | count"); got[0][0] != int64(4) {
		t.Fatalf("after Flush P has %v rows, want 4", got[0][0])
	}
	// Q's own policy seals its batch after 200 ms; the default (one hour) would not.
	if _, err := newIngestor(t, e, queued, "Q").FromReader(ctx, strings.NewReader("1,a\n"), azkustoingest.FileFormat(azkustoingest.CSV)); err != nil {
		t.Fatal(err)
	}
	waitForCount(t, c, "Q", 1)
}

// A blob already in the emulator's storage can be ingested by URL: the streaming client sends
// sourceKind=uri, the queued client enqueues the URL as is. The URL's SAS is checked.
func TestIngestFromBlobURL(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "U"), ".alter table U policy streamingingestion enable")
	ctx := ctxFor(t, 20*time.Second)
	res, err := e.Mgmt(ctx, testDB, ".get ingestion resources")
	if err != nil {
		t.Fatal(err)
	}
	var temp string
	for _, r := range res[0].Rows {
		if r[0] == "TempStorage" {
			temp = r[1].(string)
		}
	}
	u, err := url.Parse(temp)
	if err != nil || temp == "" {
		t.Fatalf("TempStorage = %q", temp)
	}
	bc, err := azblob.NewClientWithNoCredential("https://"+u.Host+"?"+u.RawQuery, &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: e.HTTPClient()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.UploadBuffer(ctx, "devstoreaccount1/tempstorage", "own data.csv", []byte("1,a\n2,b\n"), nil); err != nil {
		t.Fatal(err)
	}
	blobURL := "https://" + u.Host + "/devstoreaccount1/tempstorage/own%20data.csv?" + u.RawQuery
	if _, err := newIngestor(t, e, streaming, "U").FromFile(ctx, blobURL, azkustoingest.FileFormat(azkustoingest.CSV)); err != nil {
		t.Fatalf("streaming from a blob URL: %v", err)
	}
	waitForCount(t, c, "U", 2)
	q := newIngestor(t, e, queued, "U")
	r, err := q.FromFile(ctx, blobURL, azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-r.Wait(ctx, fastWait...); err != nil {
		t.Fatalf("queued from a blob URL: %v", err)
	}
	waitForCount(t, c, "U", 4)

	forged := strings.Replace(blobURL, "sp=racwl", "sp=racwdl", 1)
	r, err = q.FromFile(ctx, forged, azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := azkustoingest.GetErrorCode(<-r.Wait(ctx, fastWait...)); code != "Download_Forbidden" {
		t.Errorf("queued from a forged blob URL: code %q, want Download_Forbidden", code)
	}
	if _, err := newIngestor(t, e, streaming, "U").FromFile(ctx, forged, azkustoingest.FileFormat(azkustoingest.CSV)); err == nil || !strings.Contains(err.Error(), "Download_Forbidden") {
		t.Errorf("streaming from a forged blob URL: %v", err)
	}
}
