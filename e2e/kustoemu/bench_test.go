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

// benchCSV is about 1 MiB of CSV rows for the simple table.
func benchCSV() []byte {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "%d,row number %d with some text\n", i, i)
	}
	return []byte(b.String())
}

// BenchmarkStreamingIngest measures a 1 MiB CSV payload through the SDK's streaming client
// (gzip by the SDK, gunzip, parse, append).
func BenchmarkStreamingIngest(b *testing.B) {
	e := startEmulator(b, kustoemu.Options{})
	c := newClient(b, e, nil)
	mgmt(b, c, fmt.Sprintf(simpleTable, "S"), ".alter table S policy streamingingestion enable")
	in := newIngestor(b, e, streaming, "S")
	data := benchCSV()
	ctx := ctxFor(b, time.Hour)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := in.FromReader(ctx, bytes.NewReader(data), azkustoingest.FileFormat(azkustoingest.CSV)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueuedIngest measures a 1 MiB CSV payload through the queued client and the
// data-management service, from FromReader to the status-table report.
func BenchmarkQueuedIngest(b *testing.B) {
	e := startEmulator(b, kustoemu.Options{})
	c := newClient(b, e, nil)
	mgmt(b, c, fmt.Sprintf(simpleTable, "Q"))
	in := newIngestor(b, e, queued, "Q")
	data := benchCSV()
	ctx := ctxFor(b, time.Hour)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		res, err := in.FromReader(ctx, bytes.NewReader(data), azkustoingest.FileFormat(azkustoingest.CSV),
			azkustoingest.FlushImmediately(), azkustoingest.ReportResultToTable())
		if err != nil {
			b.Fatal(err)
		}
		if err := <-res.Wait(ctx, azkustoingest.WithInterval(time.Millisecond), azkustoingest.WithImmediateFirst()); err != nil {
			b.Fatal(err)
		}
	}
}
