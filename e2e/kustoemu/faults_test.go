package kustoemu_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	kerrors "github.com/Azure/azure-kusto-go/azkustodata/errors"
	"github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-kusto-go/azkustoingest"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

// faultOutcome is what the unmodified SDK does when one request of a surface fails.
type faultOutcome struct {
	err      bool  // the SDK call returns an error
	requests int64 // requests the surface saw for the call (0 = not checked: the SDK polls)
}

// TestFaultsSeenFromTheSDK injects one fault of every kind into every surface and records what
// the SDK does with it. Observed with azkustodata v1.2.3 / azkustoingest v1.2.2:
//
//   - mgmt, query: the SDK never retries. 429/500/503/permanent surface as a KHTTPError carrying
//     the status and the OneApiError body; a dropped connection surfaces as "EOF"; a delay only
//     slows the call.
//   - streaming (NewStreaming): no retries either; every fault surfaces as an error whose text
//     holds the status (the SDK drops status and @permanent when it re-wraps the error).
//   - streaming via NewManaged: any failed attempt, permanent included, is retried after a
//     backoff (about 0.5–1.5 s) and the second attempt succeeds by streaming.
//   - blob, queue (queued upload and enqueue): azcore's retry policy retries 429, 500, 503 and
//     dropped connections (one retry here, ~0.8 s); a permanent 400 is not retried and FromReader
//     fails ("problem uploading to IngestBlob Storage" / "could not upload file to any queue").
//   - table (ReportResultToTable): the Pending write and Result.Wait's reads are retried by
//     azcore for transient faults; a permanent fault on the Pending write makes FromReader fail
//     with status StatusRetrievalFailed.
//   - dm: transient faults are retried by the emulator's data-management service (as Kusto's
//     DM does) and the data lands; a permanent fault is reported Failed/Permanent to Wait.
func TestFaultsSeenFromTheSDK(t *testing.T) {
	t.Parallel()
	type surfaceCase struct {
		surface kustoemu.Surface
		managed bool // drive the streaming surface with the managed client
		want    map[kustoemu.FaultKind]faultOutcome
	}
	allErr := map[kustoemu.FaultKind]faultOutcome{
		kustoemu.FaultThrottle: {true, 1}, kustoemu.FaultInternal: {true, 1}, kustoemu.FaultUnavailable: {true, 1},
		kustoemu.FaultPermanent: {true, 1}, kustoemu.FaultDrop: {true, 1}, kustoemu.FaultDelay: {false, 1},
	}
	retried := map[kustoemu.FaultKind]faultOutcome{
		kustoemu.FaultThrottle: {false, 2}, kustoemu.FaultInternal: {false, 2}, kustoemu.FaultUnavailable: {false, 2},
		kustoemu.FaultPermanent: {true, 1}, kustoemu.FaultDrop: {false, 2}, kustoemu.FaultDelay: {false, 1},
	}
	polled := map[kustoemu.FaultKind]faultOutcome{
		kustoemu.FaultThrottle: {false, 0}, kustoemu.FaultInternal: {false, 0}, kustoemu.FaultUnavailable: {false, 0},
		kustoemu.FaultPermanent: {true, 1}, kustoemu.FaultDrop: {false, 0}, kustoemu.FaultDelay: {false, 0},
	}
	cases := []surfaceCase{
		{surface: kustoemu.SurfaceMgmt, want: allErr},
		{surface: kustoemu.SurfaceQuery, want: allErr},
		{surface: kustoemu.SurfaceStreaming, want: allErr},
		{surface: kustoemu.SurfaceStreaming, managed: true, want: map[kustoemu.FaultKind]faultOutcome{
			kustoemu.FaultThrottle: {false, 2}, kustoemu.FaultInternal: {false, 2}, kustoemu.FaultUnavailable: {false, 2},
			kustoemu.FaultPermanent: {false, 2}, kustoemu.FaultDrop: {false, 2}, kustoemu.FaultDelay: {false, 1},
		}},
		{surface: kustoemu.SurfaceBlob, want: retried},
		{surface: kustoemu.SurfaceQueue, want: retried},
		{surface: kustoemu.SurfaceTable, want: polled},
		{surface: kustoemu.SurfaceDM, want: retried},
	}
	kinds := []kustoemu.FaultKind{kustoemu.FaultThrottle, kustoemu.FaultInternal, kustoemu.FaultUnavailable, kustoemu.FaultPermanent, kustoemu.FaultDrop, kustoemu.FaultDelay}
	for _, sc := range cases {
		name := string(sc.surface)
		if sc.managed {
			name += "-managed"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := startEmulator(t, kustoemu.Options{})
			c := newClient(t, e, nil)
			mgmt(t, c, fmt.Sprintf(simpleTable, "F"), ".alter table F policy streamingingestion enable")
			op := faultOperation(t, e, c, sc.surface, sc.managed)
			if err := op(); err != nil { // warm up: resources, tokens and connections are in place
				t.Fatalf("without faults: %v", err)
			}
			for _, kind := range kinds {
				want := sc.want[kind]
				f := kustoemu.Fault{Surface: sc.surface, Kind: kind, Count: 1}
				if kind == kustoemu.FaultDelay {
					f.Delay = 50 * time.Millisecond
				}
				if err := e.Faults().Inject(f); err != nil {
					t.Fatal(err)
				}
				before := e.Faults().Counts()
				err := op()
				after := e.Faults().Counts()
				if (err != nil) != want.err {
					t.Errorf("%s: err = %v, want error %v", kind, err, want.err)
				}
				if got := after.Requests[sc.surface] - before.Requests[sc.surface]; want.requests != 0 && got != want.requests {
					t.Errorf("%s: %d requests, want %d", kind, got, want.requests)
				}
				if got := after.Injected[sc.surface] - before.Injected[sc.surface]; got != 1 {
					t.Errorf("%s: the fault fired %d times, want once", kind, got)
				}
				if len(e.Faults().List()) != 0 {
					t.Errorf("%s: the fault is still active after the call", kind)
				}
			}
		})
	}
}

// faultOperation returns the SDK call that exercises a surface.
func faultOperation(t *testing.T, e *kustoemu.Emulator, c *azkustodata.Client, surface kustoemu.Surface, managedClient bool) func() error {
	ingest := func(kind ingestorKind, opts ...azkustoingest.FileOption) func() error {
		in := newIngestor(t, e, kind, "F")
		return func() error {
			ctx := ctxFor(t, 20*time.Second)
			res, err := in.FromReader(ctx, strings.NewReader("1,a\n"), append(opts, azkustoingest.FileFormat(azkustoingest.CSV))...)
			if err != nil || kind != queued || len(opts) == 0 {
				return err
			}
			return <-res.Wait(ctx, fastWait...)
		}
	}
	switch surface {
	case kustoemu.SurfaceMgmt:
		return func() error { _, err := c.Mgmt(ctxFor(t, 10*time.Second), testDB, kql.New(".show tables")); return err }
	case kustoemu.SurfaceQuery:
		return func() error { _, err := c.Query(ctxFor(t, 10*time.Second), testDB, kql.New("F | count")); return err }
	case kustoemu.SurfaceStreaming:
		if managedClient {
			return ingest(managed)
		}
		return ingest(streaming)
	case kustoemu.SurfaceBlob, kustoemu.SurfaceQueue:
		return ingest(queued)
	default:
		return ingest(queued, azkustoingest.ReportResultToTable())
	}
}

// Only 429 is retried when the ingest client fetches its identity token and ingestion resources;
// the throttled data-management commands cost a backoff, then ingestion works.
func TestThrottledDataManagementCommandsAreRetried(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "F"))
	if err := e.Faults().Inject(kustoemu.Fault{Surface: kustoemu.SurfaceMgmt, Kind: kustoemu.FaultThrottle, Count: 2}); err != nil {
		t.Fatal(err)
	}
	in := newIngestor(t, e, queued, "F")
	ctx := ctxFor(t, 30*time.Second)
	res, err := in.FromReader(ctx, strings.NewReader("1,a\n"), azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatalf("FromReader after throttled DM commands: %v", err)
	}
	if err := <-res.Wait(ctx, fastWait...); err != nil {
		t.Fatal(err)
	}
	if got := e.Faults().Counts().Injected[kustoemu.SurfaceMgmt]; got != 2 {
		t.Fatalf("%d throttles fired, want 2", got)
	}
}

// A DM fault that outlasts the retries is reported as an exhausted transient failure.
func TestDataManagementRetriesRunOut(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "F"))
	if err := e.Faults().Inject(kustoemu.Fault{Surface: kustoemu.SurfaceDM, Kind: kustoemu.FaultUnavailable, Count: 3}); err != nil {
		t.Fatal(err)
	}
	in := newIngestor(t, e, queued, "F")
	ctx := ctxFor(t, 20*time.Second)
	res, err := in.FromReader(ctx, strings.NewReader("1,a\n"), azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	err = <-res.Wait(ctx, fastWait...)
	status, _ := azkustoingest.GetIngestionStatus(err)
	failure, _ := azkustoingest.GetIngestionFailureStatus(err)
	if status != azkustoingest.Failed || failure != azkustoingest.Exhausted || !azkustoingest.IsRetryable(err) {
		t.Fatalf("Wait = %v / %v (%v), want Failed / Exhausted", status, failure, err)
	}
	if f := e.Failures(); len(f) != 1 || f[0].Permanent {
		t.Fatalf("failures = %+v, want one transient failure", f)
	}
}

// A managed client whose streaming keeps failing falls back to queued ingestion; a streaming
// client sees the permanent policy error (the SDK classifies it retryable, §2.8 of the spec).
func TestStreamingPolicyOff(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "S"), ".alter table S policy streamingingestion enable")
	if err := e.Faults().DisableStreaming(testDB, "S"); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 30*time.Second)
	_, err := newIngestor(t, e, streaming, "S").FromReader(ctx, strings.NewReader("1,a\n"), azkustoingest.FileFormat(azkustoingest.CSV))
	if err == nil || !strings.Contains(err.Error(), "BadRequest_StreamingIngestionPolicyNotEnabled") || !strings.Contains(err.Error(), `"@permanent":true`) {
		t.Fatalf("streaming into a table without the policy: %v", err)
	}
	if ke, ok := kerrors.GetKustoError(err); !ok || !kerrors.Retry(ke) {
		t.Errorf("the SDK now classifies the policy error as permanent (%v); update the spec §2.8", err)
	}
	before := e.Faults().Counts().Requests[kustoemu.SurfaceStreaming]
	if _, err := newIngestor(t, e, managed, "S").FromReader(ctx, strings.NewReader("2,b\n"), azkustoingest.FileFormat(azkustoingest.CSV)); err != nil {
		t.Fatalf("managed: %v", err)
	}
	if got := e.Faults().Counts().Requests[kustoemu.SurfaceStreaming] - before; got != 3 {
		t.Errorf("managed client made %d streaming attempts before falling back, want 3", got)
	}
	waitForCount(t, c, "S", 1)
}

// The admin endpoint injects, lists and clears faults over HTTP and can turn a table's streaming
// policy off.
func TestAdminEndpoint(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	c := newClient(t, e, nil)
	mgmt(t, c, fmt.Sprintf(simpleTable, "A"), ".alter table A policy streamingingestion enable")
	hc := e.HTTPClient()
	do := func(method, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, e.EngineURL()+"/emulator/faults", strings.NewReader(body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return resp.StatusCode, m
	}
	if code, m := do(http.MethodPost, `[{"surface":"query","kind":"throttle","count":2},{"surface":"mgmt","kind":"delay","delay":"10ms"}]`); code != http.StatusCreated {
		t.Fatalf("POST = %d %v", code, m)
	}
	if code, m := do(http.MethodPost, `{"surface":"query","kind":"explode"}`); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(m["error"]), "unknown fault kind") {
		t.Fatalf("POST of a bad fault = %d %v", code, m)
	}
	_, err := c.Query(ctxFor(t, 10*time.Second), testDB, kql.New("A | count"))
	var he *kerrors.HttpError
	if !asHTTPError(err, &he) || !he.IsThrottled() {
		t.Fatalf("query with an injected throttle: %v", err)
	}
	code, m := do(http.MethodGet, "")
	if code != http.StatusOK {
		t.Fatalf("GET = %d", code)
	}
	list, _ := m["faults"].([]any)
	if len(list) != 2 {
		t.Fatalf("GET faults = %v, want the remaining throttle and the delay", m["faults"])
	}
	counts, _ := m["counts"].(map[string]any)
	if inj, _ := counts["injected"].(map[string]any); inj["query"] != 1.0 {
		t.Fatalf("GET counts = %v", counts)
	}
	if code, _ := do(http.MethodDelete, ""); code != http.StatusNoContent {
		t.Fatalf("DELETE = %d", code)
	}
	if _, err := c.Query(ctxFor(t, 10*time.Second), testDB, kql.New("A | count")); err != nil {
		t.Fatalf("query after DELETE: %v", err)
	}
	if code, m := do(http.MethodPost, `{"kind":"disable-streaming-policy","database":"db1","table":"A"}`); code != http.StatusCreated {
		t.Fatalf("disable streaming = %d %v", code, m)
	}
	_, err = newIngestor(t, e, streaming, "A").FromReader(ctxFor(t, 10*time.Second), bytes.NewReader([]byte("1,a\n")), azkustoingest.FileFormat(azkustoingest.CSV))
	if err == nil || !strings.Contains(err.Error(), "StreamingIngestionPolicyNotEnabled") {
		t.Fatalf("streaming after disable-streaming-policy: %v", err)
	}
}

func asHTTPError(err error, target **kerrors.HttpError) bool {
	for err != nil {
		if he, ok := err.(*kerrors.HttpError); ok {
			*target = he
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
