package cluster

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/kconnect/kconnect/storage"
)

// snapshotOf returns a config snapshot with connectors "connector1".."connectorN", each with
// tasksPer committed tasks.
func snapshotOf(offset int64, connectors, tasksPer int) *storage.Snapshot {
	s := storage.EmptySnapshot()
	s.Offset = offset
	for i := 1; i <= connectors; i++ {
		c := fmt.Sprintf("connector%d", i)
		s.ConnectorConfigs[c] = map[string]string{"name": c}
		s.TaskCounts[c] = tasksPer
		for t := 0; t < tasksPer; t++ {
			s.TaskConfigs[tid(c, t)] = map[string]string{}
		}
	}
	return s
}

func members(ids ...string) []joinedMember {
	var out []joinedMember
	for _, id := range ids {
		out = append(out, joinedMember{ID: id, Metadata: memberMetadata{URL: "http://" + id + ":8083/", ConfigOffset: 10}})
	}
	return out
}

func TestEagerAssign(t *testing.T) {
	two := storage.EmptySnapshot()
	two.Offset = 10
	two.ConnectorConfigs["c1"] = map[string]string{}
	two.ConnectorConfigs["c2"] = map[string]string{}
	two.TaskCounts["c1"] = 2
	two.TaskCounts["c2"] = 1
	two.TaskConfigs[tid("c1", 0)] = map[string]string{}
	two.TaskConfigs[tid("c1", 1)] = map[string]string{}
	two.TaskConfigs[tid("c2", 0)] = map[string]string{}

	cases := []struct {
		name    string
		members []joinedMember
		snap    *storage.Snapshot
		want    map[string]workSet
	}{
		{
			name:    "one member gets everything",
			members: members("leader"),
			snap:    two,
			want: map[string]workSet{"leader": {Connectors: []string{"c1", "c2"},
				Tasks: []storage.ConnectorTaskID{tid("c1", 0), tid("c1", 1), tid("c2", 0)}}},
		},
		{
			// Connectors round-robin over sorted members, then tasks continue the rotation.
			name:    "two members",
			members: members("member", "leader"),
			snap:    two,
			want: map[string]workSet{
				"leader": {Connectors: []string{"c1"}, Tasks: []storage.ConnectorTaskID{tid("c1", 0), tid("c2", 0)}},
				"member": {Connectors: []string{"c2"}, Tasks: []storage.ConnectorTaskID{tid("c1", 1)}},
			},
		},
		{
			name:    "more members than work",
			members: members("a", "b", "c", "d", "e"),
			snap:    two,
			want: map[string]workSet{
				"a": {Connectors: []string{"c1"}},
				"b": {Connectors: []string{"c2"}},
				"c": {Tasks: []storage.ConnectorTaskID{tid("c1", 0)}},
				"d": {Tasks: []storage.ConnectorTaskID{tid("c1", 1)}},
				"e": {Tasks: []storage.ConnectorTaskID{tid("c2", 0)}},
			},
		},
		{
			name:    "nothing configured",
			members: members("a", "b"),
			snap:    storage.EmptySnapshot(),
			want:    map[string]workSet{"a": {}, "b": {}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := eagerAssign("leader", c.members, c.snap, 10)
			if len(res.Assignments) != len(c.members) {
				t.Fatalf("%d assignments for %d members", len(res.Assignments), len(c.members))
			}
			for id, want := range c.want {
				a := res.Assignments[id]
				if a.Version != 0 || a.Leader != "leader" || a.ConfigOffset != 10 || a.Error != 0 {
					t.Errorf("%s: header %+v", id, a)
				}
				got := workSet{Connectors: a.Connectors, Tasks: a.Tasks}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %+v, want %+v", id, got, want)
				}
			}
		})
	}
	res := eagerAssign("leader", members("member", "leader"), two, 10)
	if got := res.Owners.taskURL(tid("c1", 1)); got != "http://member:8083/" {
		t.Errorf("owner of c1-1 = %q", got)
	}
	if got := res.Owners.connectorURL("c1"); got != "http://leader:8083/" {
		t.Errorf("owner of c1 = %q", got)
	}
}

func TestConfigMismatch(t *testing.T) {
	res := configMismatch("l", members("l", "m"), 2, 42)
	for _, id := range []string{"l", "m"} {
		a := res.Assignments[id]
		if !a.failed() || a.ConfigOffset != 42 || a.LeaderURL != "http://l:8083/" || a.Version != 2 || len(a.Connectors)+len(a.Tasks) != 0 {
			t.Errorf("%s: %+v", id, a)
		}
	}
}

// coopSim drives the cooperative assignor through rounds the way a group would: members apply
// each round's result (drop revoked, add assigned) and report it in the next round.
type coopSim struct {
	t       *testing.T
	a       *cooperativeAssignor
	snap    *storage.Snapshot
	now     time.Time
	gen     int32
	members map[string]workSet
	last    clusterAssignment
}

func newCoopSim(t *testing.T, maxDelay time.Duration, snap *storage.Snapshot, ids ...string) *coopSim {
	s := &coopSim{t: t, a: newCooperativeAssignor(maxDelay), snap: snap, now: time.Unix(1_700_000_000, 0), members: map[string]workSet{}}
	for _, id := range ids {
		s.members[id] = workSet{}
	}
	return s
}

// round runs one rebalance and checks the totals assigned and revoked across members and the
// delay, as Java's assertAssignment and assertDelay do.
func (s *coopSim) round(connectorsAssigned, tasksAssigned, connectorsRevoked, tasksRevoked int, delay time.Duration) {
	s.t.Helper()
	s.gen++
	ca := s.a.assign(s.now, s.snap, s.gen-1, s.gen, s.members)
	var ac, at, rc, rt int
	for id := range s.members {
		ac += len(ca.Assigned[id].Connectors)
		at += len(ca.Assigned[id].Tasks)
		rc += len(ca.Revoked[id].Connectors)
		rt += len(ca.Revoked[id].Tasks)
		// A worker is never told to start what it runs or to stop what it does not run.
		if x := ca.Assigned[id].intersect(s.members[id]); !x.empty() {
			s.t.Fatalf("round %d: %s assigned what it runs: %+v", s.gen, id, x)
		}
		if x := ca.Revoked[id].minus(s.members[id]); !x.empty() {
			s.t.Fatalf("round %d: %s revoked what it does not run: %+v", s.gen, id, x)
		}
	}
	got := [4]int{ac, at, rc, rt}
	if want := [4]int{connectorsAssigned, tasksAssigned, connectorsRevoked, tasksRevoked}; got != want {
		s.t.Fatalf("round %d: assigned/revoked connectors and tasks = %v, want %v (%+v)", s.gen, got, want, ca)
	}
	if ca.Delay != delay {
		s.t.Fatalf("round %d: delay %v, want %v", s.gen, ca.Delay, delay)
	}
	for id := range s.members {
		s.members[id] = union(s.members[id].minus(ca.Revoked[id]), ca.Assigned[id])
		if !reflect.DeepEqual(s.members[id], union(ca.All[id])) {
			s.t.Fatalf("round %d: %s All=%+v but applying gives %+v", s.gen, id, ca.All[id], s.members[id])
		}
	}
	s.last = ca
}

func (s *coopSim) join(id string)        { s.members[id] = workSet{} }
func (s *coopSim) leave(id string)       { delete(s.members, id) }
func (s *coopSim) sleep(d time.Duration) { s.now = s.now.Add(d) }
func (s *coopSim) assertBalancedAndUnique() {
	s.t.Helper()
	assertBalancedAndUnique(s.t, s.snap, s.members)
}

// assertBalancedAndUnique checks what Java's RebalanceSourceConnectorsIntegrationTest checks:
// everything configured runs exactly once, and counts per worker differ by at most one.
func assertBalancedAndUnique(t *testing.T, snap *storage.Snapshot, ms map[string]workSet) {
	t.Helper()
	seenC := map[string]int{}
	seenT := map[storage.ConnectorTaskID]int{}
	minC, maxC, minT, maxT := 1<<30, -1, 1<<30, -1
	for _, w := range ms {
		for _, c := range w.Connectors {
			seenC[c]++
		}
		for _, x := range w.Tasks {
			seenT[x]++
		}
		minC, maxC = min(minC, len(w.Connectors)), max(maxC, len(w.Connectors))
		minT, maxT = min(minT, len(w.Tasks)), max(maxT, len(w.Tasks))
	}
	want := configuredWork(snap)
	for _, c := range want.Connectors {
		if seenC[c] != 1 {
			t.Fatalf("connector %s runs %d times: %+v", c, seenC[c], ms)
		}
	}
	for _, x := range want.Tasks {
		if seenT[x] != 1 {
			t.Fatalf("task %v runs %d times: %+v", x, seenT[x], ms)
		}
	}
	if len(seenC) != len(want.Connectors) || len(seenT) != len(want.Tasks) {
		t.Fatalf("unconfigured work runs: %+v", ms)
	}
	if maxC-minC > 1 || maxT-minT > 1 {
		t.Fatalf("unbalanced: connectors %d..%d, tasks %d..%d: %+v", minC, maxC, minT, maxT, ms)
	}
}

const maxDelay = 300 * time.Second // scheduled.rebalance.max.delay.ms default

func TestCooperativeWorkerJoins(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 2, 4), "worker1")
	s.round(2, 8, 0, 0, 0)
	s.join("worker2")
	s.round(0, 0, 1, 4, 0) // revoke down to the balanced share
	s.round(1, 4, 0, 0, 0) // hand the revoked work to the new worker
	s.round(0, 0, 0, 0, 0) // stable
	s.assertBalancedAndUnique()
}

func TestCooperativeWorkerLeavesPermanently(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 2, 4), "worker1", "worker2")
	s.round(2, 8, 0, 0, 0)
	s.leave("worker2")
	s.round(0, 0, 0, 0, maxDelay) // its work waits for it to come back
	s.sleep(maxDelay / 2)
	s.round(0, 0, 0, 0, maxDelay/2)
	s.sleep(maxDelay/2 + time.Millisecond)
	s.round(1, 4, 0, 0, 0) // the delay expired: reassigned
	s.assertBalancedAndUnique()
}

func TestCooperativeWorkerBounces(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 2, 4), "worker1", "worker2")
	s.round(2, 8, 0, 0, 0)
	lost := s.members["worker2"]
	s.leave("worker2")
	s.round(0, 0, 0, 0, maxDelay)
	s.sleep(maxDelay / 2)
	s.round(0, 0, 0, 0, maxDelay/2)
	s.sleep(maxDelay / 4)
	s.join("worker2") // back before the delay expired, empty
	s.round(0, 0, 0, 0, maxDelay/4)
	s.sleep(maxDelay / 4)
	s.round(1, 4, 0, 0, 0) // the returning worker gets its work back
	if !reflect.DeepEqual(s.members["worker2"], lost) {
		t.Fatalf("worker2 got %+v, had %+v", s.members["worker2"], lost)
	}
	s.assertBalancedAndUnique()
}

func TestCooperativeLostWorkWithoutDelay(t *testing.T) {
	s := newCoopSim(t, 0, snapshotOf(10, 2, 4), "worker1", "worker2")
	s.round(2, 8, 0, 0, 0)
	s.leave("worker2")
	s.round(1, 4, 0, 0, 0) // scheduled.rebalance.max.delay.ms=0: reassigned at once
	s.assertBalancedAndUnique()
}

func TestCooperativeNewLeaderForgetsPreviousRound(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 2, 4), "worker1", "worker2")
	s.round(2, 8, 0, 0, 0)
	s.leave("worker1")
	// Another worker leads now: its assignor never ran, so nothing is known to be lost and the
	// departed worker's work is new work.
	s.a = newCooperativeAssignor(maxDelay)
	s.round(1, 4, 0, 0, 0)
	s.assertBalancedAndUnique()
}

func TestCooperativeConnectorDeleted(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 2, 4), "worker1", "worker2")
	s.round(2, 8, 0, 0, 0)
	s.snap = snapshotOf(11, 1, 4)
	s.round(0, 0, 1, 4, 0)
	s.round(0, 0, 0, 0, 0)
	s.assertBalancedAndUnique()
}

func TestCooperativeConnectorAdded(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 1, 2), "worker1", "worker2")
	s.round(1, 2, 0, 0, 0)
	s.snap = snapshotOf(11, 3, 2)
	s.round(2, 4, 0, 0, 0)
	s.round(0, 0, 0, 0, 0)
	s.assertBalancedAndUnique()
}

func TestCooperativeDuplicatedAssignment(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 2, 2), "worker1", "worker2")
	s.round(2, 4, 0, 0, 0)
	// A worker that missed a revocation: both run connector1 and task connector1-0.
	// Workers that missed revocations: both run both connectors and the tasks of connector1.
	dup := newWorkSet([]string{"connector1", "connector2"}, []storage.ConnectorTaskID{tid("connector1", 0), tid("connector1", 1)})
	s.members["worker1"] = union(s.members["worker1"], dup)
	s.members["worker2"] = union(s.members["worker2"], dup)
	// Every copy of the duplicated work is revoked, then it is handed out once.
	s.round(0, 0, 4, 4, 0)
	s.round(2, 2, 0, 0, 0)
	s.assertBalancedAndUnique()
}

func TestCooperativeSuccessiveRevocationsBackOff(t *testing.T) {
	s := newCoopSim(t, maxDelay, snapshotOf(10, 2, 4), "worker1")
	s.round(2, 8, 0, 0, 0)
	s.join("worker2")
	s.round(0, 0, 1, 4, 0)
	s.join("worker3")
	// Another balancing revocation right after one: postponed by 40 ms.
	s.round(1, 4, 0, 0, 40*time.Millisecond)
	s.sleep(40 * time.Millisecond)
	s.round(0, 0, 0, 1, 0)
	s.round(0, 1, 0, 0, 0)
	s.round(0, 0, 0, 0, 0)
	s.assertBalancedAndUnique()
}

func TestCooperativeSuccessiveRevocationsWithoutDelay(t *testing.T) {
	s := newCoopSim(t, 0, snapshotOf(10, 2, 4), "worker1")
	s.round(2, 8, 0, 0, 0)
	s.join("worker2")
	s.round(0, 0, 1, 4, 0)
	s.join("worker3")
	s.round(1, 4, 0, 1, 0) // max delay 0: the second revocation happens at once
	s.round(0, 1, 0, 0, 0)
	s.assertBalancedAndUnique()
}

func TestRevocationBackoff(t *testing.T) {
	for _, c := range []struct {
		n    int
		max  time.Duration
		want time.Duration
	}{
		{1, maxDelay, 40 * time.Millisecond},
		{2, maxDelay, 1600 * time.Millisecond},
		{3, maxDelay, 64 * time.Second},
		{4, maxDelay, maxDelay},
		{10, maxDelay, maxDelay},
		{1, 0, 0},
		{1, 40 * time.Millisecond, 40 * time.Millisecond},
		{2, 40 * time.Millisecond, 40 * time.Millisecond},
	} {
		if got := revocationBackoff(c.n, c.max); got != c.want {
			t.Errorf("revocationBackoff(%d, %v) = %v, want %v", c.n, c.max, got, c.want)
		}
	}
}

// TestCooperativeConverges runs random joins, departures and config changes with delays off
// and checks that the group always settles with everything running once, balanced.
func TestCooperativeConverges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 200; trial++ {
		s := newCoopSim(t, 0, snapshotOf(1, 1+rng.IntN(4), rng.IntN(5)), "w0")
		next := 1
		for step := 0; step < 6; step++ {
			switch rng.IntN(3) {
			case 0:
				s.join(fmt.Sprintf("w%d", next))
				next++
			case 1:
				if len(s.members) > 1 {
					ids := make([]string, 0, len(s.members))
					for id := range s.members {
						ids = append(ids, id)
					}
					sort.Strings(ids)
					s.leave(ids[rng.IntN(len(ids))])
				}
			case 2:
				s.snap = snapshotOf(int64(step+2), 1+rng.IntN(5), rng.IntN(6))
			}
			// Rebalance until nothing moves any more.
			for i := 0; ; i++ {
				if i > 10 {
					t.Fatalf("trial %d: no convergence: %+v", trial, s.members)
				}
				s.gen++
				ca := s.a.assign(s.now, s.snap, s.gen-1, s.gen, s.members)
				moved := false
				for id := range s.members {
					if !ca.Assigned[id].empty() || !ca.Revoked[id].empty() {
						moved = true
					}
					s.members[id] = union(s.members[id].minus(ca.Revoked[id]), ca.Assigned[id])
				}
				if !moved {
					break
				}
			}
			assertBalancedAndUnique(t, s.snap, s.members)
		}
	}
}
