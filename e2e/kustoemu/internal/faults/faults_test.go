package faults

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		f       Fault
		wantErr string
		count   int
	}{
		{"default count", Fault{Surface: Mgmt, Kind: Throttle}, "", 1},
		{"explicit count", Fault{Surface: Blob, Kind: Internal, Count: 3}, "", 3},
		{"fraction only", Fault{Surface: Queue, Kind: Unavailable, Fraction: 0.5}, "", 0},
		{"delay", Fault{Surface: Query, Kind: Delay, Delay: time.Millisecond}, "", 1},
		{"unknown surface", Fault{Surface: "nope", Kind: Drop}, "unknown fault surface", 0},
		{"unknown kind", Fault{Surface: DM, Kind: "explode"}, "unknown fault kind", 0},
		{"negative count", Fault{Surface: DM, Kind: Drop, Count: -1}, "negative", 0},
		{"fraction too big", Fault{Surface: DM, Kind: Drop, Fraction: 1.5}, "outside", 0},
		{"delay without duration", Fault{Surface: DM, Kind: Delay}, "positive delay", 0},
		{"duration without delay kind", Fault{Surface: DM, Kind: Drop, Delay: time.Second}, "only meaningful", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if tc.f.Count != tc.count {
					t.Fatalf("Count = %d, want %d", tc.f.Count, tc.count)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestHitCountsAndExpires(t *testing.T) {
	s := NewSet()
	if err := s.Inject(Fault{Surface: Mgmt, Kind: Throttle, Count: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Inject(Fault{Surface: Mgmt, Kind: Internal}); err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for range 4 {
		f, ok := s.Hit(Mgmt)
		if ok {
			kinds = append(kinds, f.Kind)
		} else {
			kinds = append(kinds, "")
		}
	}
	if want := []Kind{Throttle, Throttle, Internal, ""}; strings.Join(toStrings(kinds), ",") != strings.Join(toStrings(want), ",") {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	if _, ok := s.Hit(Query); ok {
		t.Fatal("a mgmt fault hit a query")
	}
	c := s.Counts()
	if c.Requests[Mgmt] != 4 || c.Injected[Mgmt] != 3 || c.Requests[Query] != 1 || c.Injected[Query] != 0 {
		t.Fatalf("counts = %+v", c)
	}
	if len(s.List()) != 0 {
		t.Fatalf("used-up faults still listed: %+v", s.List())
	}
}

func TestFractionUsesRandom(t *testing.T) {
	s := NewSet()
	draws := []float64{0.9, 0.1, 0.6, 0.2}
	s.rand = func() float64 { v := draws[0]; draws = draws[1:]; return v }
	if err := s.Inject(Fault{Surface: Blob, Kind: Drop, Fraction: 0.5}); err != nil {
		t.Fatal(err)
	}
	var hits []bool
	for range 4 {
		_, ok := s.Hit(Blob)
		hits = append(hits, ok)
	}
	if want := []bool{false, true, false, true}; !equalBools(hits, want) {
		t.Fatalf("hits = %v, want %v", hits, want)
	}
	if l := s.List(); len(l) != 1 || l[0].Fired != 2 {
		t.Fatalf("fraction fault = %+v, want it kept with 2 fired", l)
	}
	s.Clear()
	if len(s.List()) != 0 {
		t.Fatal("Clear left faults")
	}
}

func TestFaultJSON(t *testing.T) {
	var f Fault
	if err := json.Unmarshal([]byte(`{"surface":"query","kind":"delay","delay":"250ms"}`), &f); err != nil {
		t.Fatal(err)
	}
	if f.Delay != 250*time.Millisecond {
		t.Fatalf("delay = %v", f.Delay)
	}
	if err := json.Unmarshal([]byte(`{"surface":"query","kind":"delay","delay":1500}`), &f); err != nil || f.Delay != 1500*time.Millisecond {
		t.Fatalf("numeric delay = %v, %v", f.Delay, err)
	}
	if err := json.Unmarshal([]byte(`{"surface":"query","kind":"delay","delay":"soon"}`), &f); err == nil {
		t.Fatal("bad delay accepted")
	}
	b, _ := json.Marshal(Fault{Surface: Blob, Kind: Delay, Delay: 2 * time.Second, Count: 1})
	if string(b) != `{"surface":"blob","kind":"delay","count":1,"delay":"2s"}` {
		t.Fatalf("marshal = %s", b)
	}
}

func TestApply(t *testing.T) {
	s := NewSet()
	_ = s.Inject(Fault{Surface: Streaming, Kind: Permanent, Code: "X"})
	var gotStatus int
	var gotCode string
	var gotPermanent bool
	rec := httptest.NewRecorder()
	handled := s.Apply(Streaming, rec, httptest.NewRequest(http.MethodPost, "/", nil), func(w http.ResponseWriter, r *http.Request, status int, code string, permanent bool) {
		gotStatus, gotCode, gotPermanent = status, code, permanent
	})
	if !handled || gotStatus != http.StatusBadRequest || gotCode != "X" || !gotPermanent {
		t.Fatalf("Apply = %v, %d %q %v", handled, gotStatus, gotCode, gotPermanent)
	}
	if s.Apply(Streaming, rec, httptest.NewRequest(http.MethodPost, "/", nil), nil) {
		t.Fatal("Apply without a fault handled the request")
	}
}

func toStrings(k []Kind) []string {
	out := make([]string, len(k))
	for i, v := range k {
		out[i] = string(v)
	}
	return out
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
