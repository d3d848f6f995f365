// Package faults injects failures into the emulator's surfaces (management, query, streaming,
// blob, queue, table, data-management processing) so reliability tests can watch how clients
// react: the next N requests, or a fraction of them, fail with a throttling, internal or
// unavailable error, a permanent error, a dropped connection or a delay. It also counts requests
// per surface for inspection.
package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Surface is a place where faults can be injected.
type Surface string

// The surfaces.
const (
	Mgmt      Surface = "mgmt"      // POST /v1/rest/mgmt, including the data-management commands
	Query     Surface = "query"     // POST /v2/rest/query and /v1/rest/query
	Streaming Surface = "streaming" // POST /v1/rest/ingest/{db}/{table}
	Blob      Surface = "blob"      // blob requests on the storage endpoint
	Queue     Surface = "queue"     // queue requests on the storage endpoint
	Table     Surface = "table"     // status-table requests on the storage endpoint
	DM        Surface = "dm"        // data-management processing of one queued ingestion
)

// Surfaces lists every surface.
var Surfaces = []Surface{Mgmt, Query, Streaming, Blob, Queue, Table, DM}

// Kind is what an injected fault does.
type Kind string

// The kinds of fault.
const (
	Throttle    Kind = "throttle"    // HTTP 429 (storage: 503 ServerBusy is Azure's throttling; 429 is sent as asked)
	Internal    Kind = "internal"    // HTTP 500
	Unavailable Kind = "unavailable" // HTTP 503
	Permanent   Kind = "permanent"   // a permanent error: HTTP 400 with Code (engine: @permanent true)
	Drop        Kind = "drop"        // the connection is closed without a response
	Delay       Kind = "delay"       // the request waits Delay, then proceeds normally
)

// Kinds lists every kind.
var Kinds = []Kind{Throttle, Internal, Unavailable, Permanent, Drop, Delay}

// Status is the HTTP status a fault of kind k answers with (0 for Drop and Delay).
func (k Kind) Status() int {
	switch k {
	case Throttle:
		return http.StatusTooManyRequests
	case Internal:
		return http.StatusInternalServerError
	case Unavailable:
		return http.StatusServiceUnavailable
	case Permanent:
		return http.StatusBadRequest
	}
	return 0
}

// Fault is one injected fault. With Count > 0 it applies to the next Count matching requests;
// with Fraction in (0, 1] each matching request fails with that probability (until Count is used
// up, if Count is also set, or until cleared). With neither, Count is 1.
type Fault struct {
	Surface  Surface       `json:"surface"`
	Kind     Kind          `json:"kind"`
	Count    int           `json:"count,omitempty"`
	Fraction float64       `json:"fraction,omitempty"`
	Delay    time.Duration `json:"-"`
	// Code is the error code of a Permanent fault; "" takes the surface's usual one.
	Code string `json:"code,omitempty"`
}

type faultJSON struct {
	Surface  Surface         `json:"surface"`
	Kind     Kind            `json:"kind"`
	Count    int             `json:"count,omitempty"`
	Fraction float64         `json:"fraction,omitempty"`
	Delay    json.RawMessage `json:"delay,omitempty"`
	Code     string          `json:"code,omitempty"`
}

// MarshalJSON writes Delay as a Go duration string ("250ms").
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Surface: f.Surface, Kind: f.Kind, Count: f.Count, Fraction: f.Fraction, Code: f.Code}
	if f.Delay != 0 {
		j.Delay, _ = json.Marshal(f.Delay.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Delay as a Go duration string ("250ms", "2s") or a number of milliseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Fault{Surface: j.Surface, Kind: j.Kind, Count: j.Count, Fraction: j.Fraction, Code: j.Code}
	if len(j.Delay) > 0 && string(j.Delay) != "null" {
		var s string
		if err := json.Unmarshal(j.Delay, &s); err == nil {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("fault delay %q: %w", s, err)
			}
			f.Delay = d
		} else {
			var ms float64
			if err := json.Unmarshal(j.Delay, &ms); err != nil {
				return errors.New(`fault delay must be a duration string ("250ms") or a number of milliseconds`)
			}
			f.Delay = time.Duration(ms * float64(time.Millisecond))
		}
	}
	return nil
}

// Validate checks the fault and fills the default Count.
func (f *Fault) Validate() error {
	if !contains(Surfaces, f.Surface) {
		return fmt.Errorf("unknown fault surface %q; known: %s", f.Surface, joinNames(Surfaces))
	}
	if !contains(Kinds, f.Kind) {
		return fmt.Errorf("unknown fault kind %q; known: %s", f.Kind, joinNames(Kinds))
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count %d is negative", f.Count)
	}
	if f.Fraction < 0 || f.Fraction > 1 {
		return fmt.Errorf("fault fraction %v is outside [0, 1]", f.Fraction)
	}
	if f.Kind == Delay && f.Delay <= 0 {
		return errors.New("a delay fault needs a positive delay")
	}
	if f.Kind != Delay && f.Delay != 0 {
		return fmt.Errorf("delay is only meaningful for kind %q", Delay)
	}
	if f.Count == 0 && f.Fraction == 0 {
		f.Count = 1
	}
	return nil
}

// Active is an injected fault and how often it has fired.
type Active struct {
	Fault
	ID        int `json:"id"`
	Remaining int `json:"remaining,omitempty"` // left of Count; 0 when the fault is fraction-only
	Fired     int `json:"fired"`
}

// Set holds the injected faults and the request counters. It is safe for concurrent use.
type Set struct {
	mu       sync.Mutex
	nextID   int
	active   []*Active
	requests map[Surface]int64
	injected map[Surface]int64
	rand     func() float64
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{requests: map[Surface]int64{}, injected: map[Surface]int64{}, rand: rand.Float64}
}

// Inject adds a fault after validating it.
func (s *Set) Inject(f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.active = append(s.active, &Active{Fault: f, ID: s.nextID, Remaining: f.Count})
	return nil
}

// Clear removes every injected fault (counters are kept).
func (s *Set) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = nil
}

// List returns the injected faults that can still fire, oldest first.
func (s *Set) List() []Active {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Active, 0, len(s.active))
	for _, a := range s.active {
		out = append(out, *a)
	}
	return out
}

// Counts is a snapshot of the request counters.
type Counts struct {
	// Requests is the number of requests (or processed ingestions, for DM) per surface.
	Requests map[Surface]int64 `json:"requests"`
	// Injected is the number of those that a fault hit.
	Injected map[Surface]int64 `json:"injected"`
}

// Counts returns the request counters.
func (s *Set) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Counts{Requests: map[Surface]int64{}, Injected: map[Surface]int64{}}
	for k, v := range s.requests {
		c.Requests[k] = v
	}
	for k, v := range s.injected {
		c.Injected[k] = v
	}
	return c
}

// Hit counts one request on the surface and returns the fault that applies to it, if any. The
// oldest matching fault wins; a fault whose Count is used up is removed.
func (s *Set) Hit(surface Surface) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[surface]++
	for i, a := range s.active {
		if a.Surface != surface {
			continue
		}
		if a.Fraction > 0 && s.rand() >= a.Fraction {
			continue
		}
		a.Fired++
		if a.Count > 0 {
			a.Remaining--
			if a.Remaining <= 0 {
				s.active = append(s.active[:i], s.active[i+1:]...)
			}
		}
		s.injected[surface]++
		return a.Fault, true
	}
	return Fault{}, false
}

// ErrorWriter writes a fault's error response in the surface's own format.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, code string, permanent bool)

// Apply counts a request on the surface and carries out the fault that applies to it, if any. It
// returns true when the request has been answered (an error was written or the connection was
// dropped); a Delay fault waits (or until the request is cancelled) and returns false.
func (s *Set) Apply(surface Surface, w http.ResponseWriter, r *http.Request, writeErr ErrorWriter) bool {
	f, ok := s.Hit(surface)
	if !ok {
		return false
	}
	switch f.Kind {
	case Delay:
		Sleep(r.Context(), f.Delay)
		return false
	case Drop:
		DropConnection(w)
		return true
	default:
		writeErr(w, r, f.Kind.Status(), f.Code, f.Kind == Permanent)
		return true
	}
}

// DropConnection closes the request's connection without writing a response. When the
// connection cannot be taken over, the handler aborts, which also closes it.
func DropConnection(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func joinNames[T ~string](list []T) string {
	names := make([]string, len(list))
	for i, v := range list {
		names[i] = string(v)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
