package kustoemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/faults"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// Surface is a place where faults can be injected.
type Surface string

// The surfaces.
const (
	SurfaceMgmt      Surface = "mgmt"      // POST /v1/rest/mgmt, including the data-management commands
	SurfaceQuery     Surface = "query"     // POST /v2/rest/query and /v1/rest/query
	SurfaceStreaming Surface = "streaming" // POST /v1/rest/ingest/{db}/{table}
	SurfaceBlob      Surface = "blob"      // blob requests on the storage endpoint
	SurfaceQueue     Surface = "queue"     // queue requests on the storage endpoint
	SurfaceTable     Surface = "table"     // status-table requests on the storage endpoint
	SurfaceDM        Surface = "dm"        // data-management processing of one queued ingestion
)

// FaultKind is what a fault does.
type FaultKind string

// The kinds of fault. On the DM surface, throttle/internal/unavailable/drop are transient
// ingestion failures (retried by the data-management service, 3 attempts in all) and permanent
// is a permanent ingestion failure.
const (
	FaultThrottle    FaultKind = "throttle"    // HTTP 429
	FaultInternal    FaultKind = "internal"    // HTTP 500
	FaultUnavailable FaultKind = "unavailable" // HTTP 503
	FaultPermanent   FaultKind = "permanent"   // HTTP 400 with Code, @permanent true
	FaultDrop        FaultKind = "drop"        // the connection is closed without a response
	FaultDelay       FaultKind = "delay"       // the request waits Delay, then proceeds
)

// faultKindDisableStreaming is the admin endpoint's pseudo-kind that turns off a table's
// streaming ingestion policy.
const faultKindDisableStreaming = "disable-streaming-policy"

// Fault is an injected fault. With Count > 0 it hits the next Count requests of the surface;
// with Fraction in (0, 1] each request with that probability (until Count is used up, if also
// set, or until Clear). With neither, Count is 1.
type Fault struct {
	Surface  Surface
	Kind     FaultKind
	Count    int
	Fraction float64
	Delay    time.Duration // for FaultDelay
	Code     string        // error code of a FaultPermanent ("" = the surface's usual one)
}

// ActiveFault is an injected fault and how often it fired.
type ActiveFault struct {
	Fault
	ID        int
	Remaining int // left of Count (0 for fraction-only faults)
	Fired     int
}

// FaultCounts counts requests (and processed queued ingestions, for SurfaceDM) per surface, and
// those a fault hit.
type FaultCounts struct {
	Requests map[Surface]int64
	Injected map[Surface]int64
}

// Faults injects failures into the emulator. It is safe for concurrent use.
type Faults struct {
	e *Emulator
}

// Faults returns the emulator's fault injector.
func (e *Emulator) Faults() *Faults { return &Faults{e: e} }

func (f Fault) internal() faults.Fault {
	return faults.Fault{Surface: faults.Surface(f.Surface), Kind: faults.Kind(f.Kind), Count: f.Count, Fraction: f.Fraction, Delay: f.Delay, Code: f.Code}
}

// Inject adds a fault.
func (f *Faults) Inject(fault Fault) error {
	if err := f.e.faults.Inject(fault.internal()); err != nil {
		return fmt.Errorf("injecting fault: %w", err)
	}
	return nil
}

// Clear removes every injected fault; counters are kept.
func (f *Faults) Clear() { f.e.faults.Clear() }

// List returns the faults that can still fire, oldest first.
func (f *Faults) List() []ActiveFault {
	var out []ActiveFault
	for _, a := range f.e.faults.List() {
		out = append(out, ActiveFault{
			Fault: Fault{Surface: Surface(a.Surface), Kind: FaultKind(a.Kind), Count: a.Count, Fraction: a.Fraction, Delay: a.Delay, Code: a.Code},
			ID:    a.ID, Remaining: a.Remaining, Fired: a.Fired,
		})
	}
	return out
}

// Counts returns the request counters per surface.
func (f *Faults) Counts() FaultCounts {
	c := f.e.faults.Counts()
	out := FaultCounts{Requests: map[Surface]int64{}, Injected: map[Surface]int64{}}
	for k, v := range c.Requests {
		out.Requests[Surface(k)] = v
	}
	for k, v := range c.Injected {
		out.Injected[Surface(k)] = v
	}
	return out
}

// DisableStreaming turns off the table's streaming ingestion policy, so streaming ingestion into
// it fails with BadRequest_StreamingIngestionPolicyNotEnabled.
func (f *Faults) DisableStreaming(db, table string) error {
	return f.e.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		t.StreamingPolicy = &model.StreamingPolicy{IsEnabled: false}
		return nil
	})
}

// faultTarget is the table the admin endpoint's streaming-policy pseudo-kind applies to.
type faultTarget struct {
	Kind     string `json:"kind"`
	Database string `json:"database"`
	Table    string `json:"table"`
}

// faultsEndpoint is /emulator/faults: GET lists the faults and the counters, POST adds a fault
// (or several, as a JSON array), DELETE clears them.
func (e *Emulator) faultsEndpoint(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"faults": e.faults.List(), "counts": e.faults.Counts()})
	case http.MethodDelete:
		e.faults.Clear()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "reading the request body: " + err.Error()})
			return
		}
		var reqs []json.RawMessage
		if err := json.Unmarshal(body, &reqs); err != nil {
			reqs = []json.RawMessage{body}
		}
		for _, req := range reqs {
			if err := e.applyFaultRequest(req); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusCreated, map[string]any{"faults": e.faults.List()})
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET, POST or DELETE"})
	}
}

// applyFaultRequest applies one fault object of the admin endpoint.
func (e *Emulator) applyFaultRequest(raw json.RawMessage) error {
	var target faultTarget
	if err := json.Unmarshal(raw, &target); err != nil {
		return fmt.Errorf("the body must be a fault object or an array of them: %w", err)
	}
	if target.Kind == faultKindDisableStreaming {
		if target.Database == "" || target.Table == "" {
			return fmt.Errorf("kind %s needs database and table", faultKindDisableStreaming)
		}
		return e.Faults().DisableStreaming(target.Database, target.Table)
	}
	var f faults.Fault
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("the body must be a fault object or an array of them: %w", err)
	}
	return e.faults.Inject(f)
}

// flushEndpoint is POST /emulator/flush: ingest every waiting queued ingestion now.
func (e *Emulator) flushEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := e.dm.Flush(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
