package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/kconnect/kconnect/storage"
)

// benchMembers returns n members that together run everything in snap, round-robin.
func benchMembers(n int, snap *storage.Snapshot) map[string]workSet {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("connect-worker-%03d", i)
	}
	out := map[string]workSet{}
	w := configuredWork(snap)
	parts := make([][]string, n)
	tparts := make([][]storage.ConnectorTaskID, n)
	for i, c := range w.Connectors {
		parts[i%n] = append(parts[i%n], c)
	}
	for i, t := range w.Tasks {
		tparts[i%n] = append(tparts[i%n], t)
	}
	for i, id := range ids {
		out[id] = newWorkSet(parts[i], tparts[i])
	}
	return out
}

// BenchmarkCooperativeAssign measures one leader round for 50 workers running 500 connectors
// with 8 tasks each, one worker having just joined empty.
func BenchmarkCooperativeAssign(b *testing.B) {
	snap := snapshotOf(1, 500, 8)
	members := benchMembers(49, snap)
	members["connect-worker-new"] = workSet{}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a := newCooperativeAssignor(0)
		a.assign(now, snap, -1, 1, members)
	}
}

// BenchmarkEagerAssign is the same cluster with the eager assignor.
func BenchmarkEagerAssign(b *testing.B) {
	snap := snapshotOf(1, 500, 8)
	var ms []joinedMember
	for i := 0; i < 50; i++ {
		ms = append(ms, joinedMember{ID: fmt.Sprintf("connect-worker-%03d", i), Metadata: memberMetadata{URL: "http://w/"}})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		eagerAssign(ms[0].ID, ms, snap, 1)
	}
}

// BenchmarkAssignmentCodec encodes and decodes the assignment of a worker running 100 tasks
// of 10 connectors.
func BenchmarkAssignmentCodec(b *testing.B) {
	w := configuredWork(snapshotOf(1, 10, 10))
	a := assignment{Version: 2, Leader: "connect-w1:8083-1a2b", LeaderURL: w1, ConfigOffset: 1234, Connectors: w.Connectors, Tasks: w.Tasks}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		raw := encodeAssignment(a)
		if _, err := decodeAssignment(raw); err != nil {
			b.Fatal(err)
		}
	}
}
