package kustoemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-kusto-go/azkustodata/query"
	"github.com/Azure/azure-kusto-go/azkustoingest"
	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

const testDB = "db1"

// testWriter writes into the test log, so output shows with -v or on failure.
type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// startEmulator starts an emulator with a short default batching delay and closes it when the
// test ends.
func startEmulator(t testing.TB, opts kustoemu.Options) *kustoemu.Emulator {
	t.Helper()
	if opts.Databases == nil {
		opts.Databases = []string{testDB}
	}
	if opts.Logger == nil {
		w := &testWriter{t: t}
		opts.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
		t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	}
	if opts.Batching.MaxDelay == 0 {
		opts.Batching.MaxDelay = 100 * time.Millisecond
	}
	if opts.IngestRetryDelay == 0 {
		opts.IngestRetryDelay = 20 * time.Millisecond
	}
	e, err := kustoemu.Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func kcsbFor(e *kustoemu.Emulator) *azkustodata.ConnectionStringBuilder {
	return azkustodata.NewConnectionStringBuilder(e.EngineURL())
}

func newClient(t testing.TB, e *kustoemu.Emulator, kcsb *azkustodata.ConnectionStringBuilder) *azkustodata.Client {
	t.Helper()
	if kcsb == nil {
		kcsb = kcsbFor(e)
	}
	c, err := azkustodata.New(kcsb, azkustodata.WithHttpClient(e.HTTPClient()))
	if err != nil {
		t.Fatalf("azkustodata.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// mgmt runs management commands through the SDK and fails the test on error.
func mgmt(t testing.TB, c *azkustodata.Client, commands ...string) {
	t.Helper()
	for _, cmd := range commands {
		if _, err := c.Mgmt(ctxFor(t, 10*time.Second), testDB, kql.New("").AddUnsafe(cmd)); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
}

type ingestorKind string

const (
	queued       ingestorKind = "queued"
	streaming    ingestorKind = "streaming"
	managed      ingestorKind = "managed"
	managedNoStr ingestorKind = "managed-streaming-off"
)

func newIngestor(t testing.TB, e *kustoemu.Emulator, kind ingestorKind, table string) azkustoingest.Ingestor {
	t.Helper()
	opts := []azkustoingest.Option{
		azkustoingest.WithDefaultDatabase(testDB), azkustoingest.WithDefaultTable(table),
		azkustoingest.WithoutEndpointCorrection(), azkustoingest.WithHttpClient(e.HTTPClient()),
	}
	var in azkustoingest.Ingestor
	var err error
	switch kind {
	case queued:
		in, err = azkustoingest.New(kcsbFor(e), opts...)
	case streaming:
		in, err = azkustoingest.NewStreaming(kcsbFor(e), opts...)
	default:
		in, err = azkustoingest.NewManaged(kcsbFor(e), opts...)
	}
	if err != nil {
		t.Fatalf("new %s ingestor: %v", kind, err)
	}
	t.Cleanup(func() { _ = in.Close() })
	return in
}

// queryRows runs a query with Query and returns the primary table's rows, values normalised.
func queryRows(t testing.TB, c *azkustodata.Client, q string) [][]any {
	t.Helper()
	ds, err := c.Query(ctxFor(t, 10*time.Second), testDB, kql.New("").AddUnsafe(q))
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	tables := ds.Tables()
	if len(tables) == 0 {
		t.Fatalf("query %q returned no tables", q)
	}
	return normRows(tables[0].Rows())
}

// iterativeRows runs a query with IterativeQuery and collects the primary table's rows.
func iterativeRows(t testing.TB, c *azkustodata.Client, q string) [][]any {
	t.Helper()
	ds, err := c.IterativeQuery(ctxFor(t, 10*time.Second), testDB, kql.New("").AddUnsafe(q))
	if err != nil {
		t.Fatalf("iterative query %q: %v", q, err)
	}
	defer ds.Close()
	var out [][]any
	for tr := range ds.Tables() {
		if tr.Err() != nil {
			t.Fatalf("iterative query %q: %v", q, tr.Err())
		}
		tb := tr.Table()
		if !tb.IsPrimaryResult() {
			for range tb.Rows() {
			}
			continue
		}
		for rr := range tb.Rows() {
			if rr.Err() != nil {
				t.Fatalf("iterative query %q: %v", q, rr.Err())
			}
			out = append(out, normRow(rr.Row()))
		}
	}
	return out
}

func normRows(rows []query.Row) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = normRow(r)
	}
	return out
}

func normRow(r query.Row) []any {
	vals := r.Values()
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = norm(v.GetValue())
	}
	return out
}

// norm turns an SDK value into a comparable one: pointers dereferenced (nil → nil), decimals as
// text, dynamic JSON decoded.
func norm(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		if x == nil {
			return nil
		}
		var d any
		if err := json.Unmarshal(x, &d); err != nil {
			return fmt.Sprintf("undecodable dynamic %q", x)
		}
		return d
	case decimal.Decimal:
		return x.String()
	case time.Time:
		return x.UTC()
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return norm(rv.Elem().Interface())
	}
	return v
}

// waitForCount polls `T | count` until it reports want rows.
func waitForCount(t testing.TB, c *azkustodata.Client, table string, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got int64 = -1
	for time.Now().Before(deadline) {
		rows := queryRows(t, c, table+" | count")
		if len(rows) == 1 {
			got, _ = rows[0][0].(int64)
			if got == want {
				return
			}
			if got > want {
				t.Fatalf("%s has %d rows, want %d", table, got, want)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s has %d rows after 30s, want %d", table, got, want)
}
