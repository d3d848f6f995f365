package corpus

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestRecordsAreDeterministicJSONOfAboutOneKiB(t *testing.T) {
	a, b := Records(500, 7), Records(500, 7)
	total := 0
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("record %d differs between runs", i)
		}
		if !json.Valid(a[i]) {
			t.Fatalf("record %d is not JSON: %s", i, a[i])
		}
		total += len(a[i])
	}
	if avg := total / len(a); avg < 800 || avg > 1300 {
		t.Fatalf("average record size %d, want about 1 KiB", avg)
	}
}
