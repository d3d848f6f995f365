package cluster

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/storage"
)

// readHex reads a golden file of hex bytes; lines starting with # are comments.
func readHex(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "protocol", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		b.WriteString(strings.ReplaceAll(line, " ", ""))
	}
	out, err := hex.DecodeString(b.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

func tid(c string, n int) storage.ConnectorTaskID {
	return storage.ConnectorTaskID{Connector: c, Task: n}
}

const w1 = "http://w1:8083/"

func TestMetadataGolden(t *testing.T) {
	cases := []struct {
		file      string
		want      memberMetadata
		roundTrip bool // re-encoding gives the same bytes
	}{
		{"metadata_v0", memberMetadata{Version: 0, URL: w1, ConfigOffset: 5}, true},
		{"metadata_v1_no_allocation", memberMetadata{Version: 1, URL: w1, ConfigOffset: 5}, true},
		{"metadata_v2_no_allocation", memberMetadata{Version: 2, URL: w1, ConfigOffset: 5}, true},
		{"metadata_v2_allocation", memberMetadata{Version: 2, URL: w1, ConfigOffset: 5, Allocation: &assignment{
			Version: 2, Leader: "connect-w1:8083-1a2b", LeaderURL: w1, ConfigOffset: 4,
			Connectors: []string{"c1"}, Tasks: []storage.ConnectorTaskID{tid("c1", 0), tid("c2", 1)},
		}}, true},
		{"metadata_v3_future", memberMetadata{Version: 3, URL: w1, ConfigOffset: 7}, false},
		{"metadata_v1_truncated_allocation", memberMetadata{Version: 1, URL: w1, ConfigOffset: 9}, false},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw := readHex(t, c.file)
			got, err := decodeMetadata(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, c.want)
			}
			if c.roundTrip {
				if enc := encodeMetadata(got); !bytes.Equal(enc, raw) {
					t.Fatalf("re-encoded\n% x\nwant\n% x", enc, raw)
				}
			}
		})
	}
}

func TestAssignmentGolden(t *testing.T) {
	cases := []struct {
		file      string
		want      assignment
		roundTrip bool
	}{
		{"assignment_v0", assignment{Version: 0, Leader: "leader-1", LeaderURL: w1, ConfigOffset: 5,
			Connectors: []string{"c1"}, Tasks: []storage.ConnectorTaskID{tid("c1", 0), tid("c1", 1), tid("c2", 2)}}, true},
		{"assignment_v1", assignment{Version: 1, Leader: "leader-1", LeaderURL: w1, ConfigOffset: 12,
			Connectors: []string{"c2"}, RevokedConnectors: []string{"c1"}, RevokedTasks: []storage.ConnectorTaskID{tid("c1", 3)}, Delay: 3000}, true},
		{"assignment_v2_spec", assignment{Version: 2, Leader: "connect-w1:8083-1a2b", LeaderURL: w1, ConfigOffset: 5,
			Connectors: []string{"c1"}, Tasks: []storage.ConnectorTaskID{tid("c1", 0), tid("c1", 1)}}, true},
		{"assignment_v1_config_mismatch", assignment{Version: 1, Error: assignmentConfigMismatch, Leader: "leader-1", LeaderURL: w1, ConfigOffset: 20}, true},
		{"assignment_v1_null_arrays", assignment{Version: 1, Leader: "leader-1", LeaderURL: w1, ConfigOffset: 5}, false},
		{"assignment_v1_no_trailing", assignment{Version: 1, Leader: "leader-1", LeaderURL: w1, ConfigOffset: 5,
			Tasks: []storage.ConnectorTaskID{tid("c1", 0)}}, false},
		{"assignment_large_task_ids", assignment{Version: 2, Leader: "l", LeaderURL: w1, ConfigOffset: 1,
			Tasks: []storage.ConnectorTaskID{tid("big", 40000), tid("big", 70000)}}, true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw := readHex(t, c.file)
			got, err := decodeAssignment(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, c.want)
			}
			if c.roundTrip {
				if enc := encodeAssignment(got); !bytes.Equal(enc, raw) {
					t.Fatalf("re-encoded\n% x\nwant\n% x", enc, raw)
				}
			}
		})
	}
}

func TestDecodeRejectsBadInput(t *testing.T) {
	good := readHex(t, "assignment_v1")
	for _, c := range []struct {
		name string
		raw  []byte
	}{
		{"empty", nil},
		{"negative version", []byte{0xff, 0xff, 0, 0}},
		{"truncated string", good[:7]},
		{"truncated array", good[:len(good)-12]},
		{"negative string length", []byte{0, 1, 0, 0, 0x80, 0}},
		{"huge array", append(append([]byte{}, good[:2+2+2+8+2+len(w1)+8]...), 0x7f, 0xff, 0xff, 0xff)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeAssignment(c.raw); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	if _, err := decodeMetadata([]byte{0xff, 0xfe}); err == nil || !strings.Contains(err.Error(), "unsupported subscription version") {
		t.Fatalf("negative metadata version: %v", err)
	}
	if _, err := decodeMetadata(readHex(t, "metadata_v0")[:10]); err == nil {
		t.Fatal("truncated metadata: want an error")
	}
}

// TestMetadataDeterministic pins that equal states encode to equal bytes: the coordinator
// compares JoinGroup metadata to decide whether a member's rejoin changes anything.
func TestMetadataDeterministic(t *testing.T) {
	build := func(cs []string, ts []storage.ConnectorTaskID) []byte {
		w := newWorkSet(cs, ts)
		a := assignment{Version: 2, Leader: "l", LeaderURL: w1, ConfigOffset: 3, Connectors: w.Connectors, Tasks: w.Tasks}
		return encodeMetadata(memberMetadata{Version: 2, URL: w1, ConfigOffset: 3, Allocation: &a})
	}
	a := build([]string{"b", "a"}, []storage.ConnectorTaskID{tid("b", 1), tid("a", 0), tid("b", 0)})
	b := build([]string{"a", "b", "a"}, []storage.ConnectorTaskID{tid("b", 0), tid("b", 1), tid("a", 0)})
	if !bytes.Equal(a, b) {
		t.Fatalf("same state, different bytes:\n% x\n% x", a, b)
	}
}

func TestWorkSetOperations(t *testing.T) {
	a := newWorkSet([]string{"c2", "c1"}, []storage.ConnectorTaskID{tid("c1", 1), tid("c1", 0)})
	b := newWorkSet([]string{"c1"}, []storage.ConnectorTaskID{tid("c1", 1), tid("c3", 0)})
	if got := a.minus(b); !reflect.DeepEqual(got, workSet{Connectors: []string{"c2"}, Tasks: []storage.ConnectorTaskID{tid("c1", 0)}}) {
		t.Errorf("minus = %+v", got)
	}
	if got := a.intersect(b); !reflect.DeepEqual(got, workSet{Connectors: []string{"c1"}, Tasks: []storage.ConnectorTaskID{tid("c1", 1)}}) {
		t.Errorf("intersect = %+v", got)
	}
	u := union(a, b)
	if !reflect.DeepEqual(u.Connectors, []string{"c1", "c2"}) || len(u.Tasks) != 3 || u.Tasks[2] != tid("c3", 0) {
		t.Errorf("union = %+v", u)
	}
}
