package cluster

import (
	"math"
	"sort"
	"time"

	"github.com/kconnect/kconnect/storage"
)

// cooperativeAssignor is the incremental cooperative assignor of the "compatible" and
// "sessioned" protocols (KIP-415; Java's IncrementalCooperativeAssignor). Members report what
// they run; the leader answers each with what to start and what to stop, so work that stays
// put keeps running through a rebalance.
//
// It remembers the previous round: the assignment it computed, what it revoked, which members
// were present, a scheduled rebalance that waits for departed workers, and how many rounds in
// a row revoked work to balance load. That memory is dropped when the last generation this
// worker completed is not the one it computed (another leader ran a round in between).
//
// It is used by the herder goroutine only and needs no locking.
type cooperativeAssignor struct {
	maxDelay time.Duration

	previousAssignment   workSet
	previousRevocation   workSet
	revokedInPrevious    bool
	candidateWorkers     []string // workers that were empty while lost work waited; insertion order
	scheduledRebalance   time.Time
	delay                time.Duration
	previousGeneration   int32
	previousMembers      map[string]bool
	successiveRevocation int
}

func newCooperativeAssignor(maxDelay time.Duration) *cooperativeAssignor {
	return &cooperativeAssignor{maxDelay: maxDelay, previousGeneration: -1, previousMembers: map[string]bool{}}
}

// clusterAssignment is the outcome of one cooperative round, per member.
type clusterAssignment struct {
	Assigned map[string]workSet // newly assigned: start these
	Revoked  map[string]workSet // stop these now
	All      map[string]workSet // what each member runs once the round is applied
	Delay    time.Duration      // a scheduled rebalance: members rejoin after it
}

// workerLoad is one worker's connectors and tasks while a round is computed. The lists keep
// their order: revocations take from the front.
type workerLoad struct {
	worker     string
	connectors []string
	tasks      []storage.ConnectorTaskID
}

func (l *workerLoad) empty() bool { return len(l.connectors) == 0 && len(l.tasks) == 0 }

func (l *workerLoad) remove(w workSet) {
	l.connectors = filterConnectors(l.connectors, func(c string) bool { return !w.hasConnector(c) })
	l.tasks = filterTasks(l.tasks, func(t storage.ConnectorTaskID) bool { return !w.hasTask(t) })
}

func (l *workerLoad) set() workSet { return newWorkSet(l.connectors, l.tasks) }

func filterConnectors(in []string, keep func(string) bool) []string {
	out := in[:0:0]
	for _, c := range in {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func filterTasks(in []storage.ConnectorTaskID, keep func(storage.ConnectorTaskID) bool) []storage.ConnectorTaskID {
	out := in[:0:0]
	for _, t := range in {
		if keep(t) {
			out = append(out, t)
		}
	}
	return out
}

// loadsOf returns one load per member, sorted by member id, each excluding exclude.
func loadsOf(members map[string]workSet, exclude workSet) []*workerLoad {
	ids := make([]string, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]*workerLoad, 0, len(ids))
	for _, id := range ids {
		w := members[id].minus(exclude)
		out = append(out, &workerLoad{worker: id, connectors: w.Connectors, tasks: w.Tasks})
	}
	return out
}

// assign runs one round. members maps each member id to what it currently runs (its
// allocation); generation is the generation being completed and lastCompleted the last one
// this worker completed.
func (a *cooperativeAssignor) assign(now time.Time, snap *storage.Snapshot, lastCompleted, generation int32, members map[string]workSet) clusterAssignment {
	if a.previousGeneration != lastCompleted {
		// Another round happened without this leader (or its sync failed): what it remembers
		// may be stale.
		a.previousAssignment = workSet{}
	}
	configured := configuredWork(snap)
	var allActive []workSet
	for _, w := range members {
		allActive = append(allActive, w)
	}
	active := union(allActive...)

	// A revocation of the previous round that did not take effect: start from what runs.
	if !a.previousRevocation.empty() {
		if !a.previousRevocation.intersect(active).empty() {
			a.previousAssignment = active
		}
		a.previousRevocation = workSet{}
	}

	deleted := a.previousAssignment.minus(configured)
	duplicated := duplicatedWork(members)
	lost := a.previousAssignment.minus(active, deleted)
	created := configured.minus(a.previousAssignment, active)

	current := loadsOf(members, deleted)
	toRevoke := map[string]workSet{}
	addRevocations := func(m map[string]workSet) {
		for id, w := range m {
			toRevoke[id] = union(toRevoke[id], w)
		}
	}
	deletedToRevoke := perMember(members, deleted)
	duplicatedToRevoke := perMember(members, duplicated)
	addRevocations(deletedToRevoke)
	addRevocations(duplicatedToRevoke)

	next := loadsOf(members, workSet{})
	for _, l := range next {
		l.remove(deletedToRevoke[l.worker])
		l.remove(duplicatedToRevoke[l.worker])
	}

	lostToReassign := a.handleLostAssignments(now, lost, next)

	if a.delay == 0 {
		balancing := loadBalancingRevocations(configured, next)
		switch {
		case a.revokedInPrevious && len(balancing) > 0:
			// Revoking in consecutive rounds: back off before revoking again, unless delays
			// are disabled.
			a.successiveRevocation++
			a.delay = revocationBackoff(a.successiveRevocation, a.maxDelay)
			if a.delay != 0 {
				a.scheduledRebalance = now.Add(a.delay)
			} else {
				addRevocations(balancing)
				for _, l := range next {
					l.remove(balancing[l.worker])
				}
			}
		case len(balancing) > 0:
			addRevocations(balancing)
			for _, l := range next {
				l.remove(balancing[l.worker])
			}
			a.revokedInPrevious = true
		case a.revokedInPrevious:
			// The previous round revoked and this one need not: the load is balanced.
			a.revokedInPrevious = false
			a.successiveRevocation = 0
		}
	} else {
		a.revokedInPrevious = false
	}

	toAssign := union(created, lostToReassign)
	assignLeastLoaded(next, toAssign.Connectors, func(w *workerLoad) *[]string { return &w.connectors })
	assignLeastLoaded(next, toAssign.Tasks, func(w *workerLoad) *[]storage.ConnectorTaskID { return &w.tasks })

	out := clusterAssignment{Assigned: map[string]workSet{}, Revoked: map[string]workSet{}, All: map[string]workSet{}, Delay: a.delay}
	currentByID := map[string]*workerLoad{}
	for _, l := range current {
		currentByID[l.worker] = l
	}
	var nextSets []workSet
	for _, l := range next {
		n := l.set()
		nextSets = append(nextSets, n)
		out.Assigned[l.worker] = n.minus(currentByID[l.worker].set())
		out.Revoked[l.worker] = toRevoke[l.worker]
		out.All[l.worker] = n.minus(toRevoke[l.worker])
	}

	// What this round hands out, minus what it revoked, plus what is lost and still waiting.
	var revoked []workSet
	for _, r := range toRevoke {
		revoked = append(revoked, r)
	}
	allRevoked := union(revoked...)
	prev := union(nextSets...).minus(allRevoked)
	a.previousRevocation = union(a.previousRevocation, allRevoked)
	a.previousAssignment = union(prev, lost)
	a.previousGeneration = generation
	a.previousMembers = map[string]bool{}
	for id := range members {
		a.previousMembers[id] = true
	}
	return out
}

// handleLostAssignments decides what happens to work whose worker vanished: reassigned now
// (the worker probably only missed an assignment, or delays are disabled), reassigned to the
// workers that joined while it waited (the delay expired), or kept waiting up to
// scheduled.rebalance.max.delay.ms for the worker to return. It returns the lost work to
// allocate as new; work given to returning workers is added to next directly.
func (a *cooperativeAssignor) handleLostAssignments(now time.Time, lost workSet, next []*workerLoad) workSet {
	if lost.empty() && !a.revokedInPrevious {
		a.resetDelay()
		return workSet{}
	}
	present := map[string]bool{}
	for _, l := range next {
		present[l.worker] = true
	}
	allPrevious := true
	for id := range a.previousMembers {
		if !present[id] {
			allPrevious = false
			break
		}
	}
	if a.scheduledRebalance.IsZero() && allPrevious {
		return lost
	}
	if a.maxDelay == 0 {
		return lost
	}
	if !a.scheduledRebalance.IsZero() && !now.Before(a.scheduledRebalance) {
		var candidates []*workerLoad
		for _, id := range a.candidateWorkers {
			for _, l := range next {
				if l.worker == id {
					candidates = append(candidates, l)
				}
			}
		}
		var reassign workSet
		if len(candidates) > 0 {
			for i, c := range lost.Connectors {
				l := candidates[i%len(candidates)]
				l.connectors = append(l.connectors, c)
			}
			for i, t := range lost.Tasks {
				l := candidates[i%len(candidates)]
				l.tasks = append(l.tasks, t)
			}
		} else {
			reassign = lost
		}
		a.resetDelay()
		a.revokedInPrevious = false
		return reassign
	}
	for _, l := range next {
		if l.empty() && !containsString(a.candidateWorkers, l.worker) {
			a.candidateWorkers = append(a.candidateWorkers, l.worker)
		}
	}
	if now.Before(a.scheduledRebalance) {
		a.delay = min(a.scheduledRebalance.Sub(now), a.maxDelay)
	} else {
		a.delay = a.maxDelay
	}
	a.scheduledRebalance = now.Add(a.delay)
	return workSet{}
}

func (a *cooperativeAssignor) resetDelay() {
	a.candidateWorkers = nil
	a.scheduledRebalance = time.Time{}
	a.delay = 0
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// revocationBackoff is the delay before the n-th consecutive balancing revocation: 40 ms,
// 1.6 s, 64 s, then maxDelay (Java's ExponentialBackoff(1, 40, maxDelay, 0)); 0 when delays are
// disabled.
func revocationBackoff(n int, maxDelay time.Duration) time.Duration {
	maxMs := float64(maxDelay.Milliseconds())
	if maxMs <= 0 {
		return 0
	}
	expMax := 0.0
	if maxMs > 1 {
		expMax = math.Log(maxMs) / math.Log(40)
	}
	ms := math.Pow(40, math.Min(float64(n), expMax))
	if ms > maxMs {
		ms = maxMs
	}
	return time.Duration(int64(ms)) * time.Millisecond
}

// duplicatedWork returns what more than one member runs.
func duplicatedWork(members map[string]workSet) workSet {
	cs := map[string]int{}
	ts := map[storage.ConnectorTaskID]int{}
	for _, w := range members {
		for _, c := range w.Connectors {
			cs[c]++
		}
		for _, t := range w.Tasks {
			ts[t]++
		}
	}
	dc := map[string]bool{}
	dt := map[storage.ConnectorTaskID]bool{}
	for c, n := range cs {
		if n > 1 {
			dc[c] = true
		}
	}
	for t, n := range ts {
		if n > 1 {
			dt[t] = true
		}
	}
	return workSetOf(dc, dt)
}

// perMember returns, for each member, the part of w it runs (empty parts left out).
func perMember(members map[string]workSet, w workSet) map[string]workSet {
	out := map[string]workSet{}
	if w.empty() {
		return out
	}
	for id, m := range members {
		if x := m.intersect(w); !x.empty() {
			out[id] = x
		}
	}
	return out
}

// loadBalancingRevocations revokes from each worker what it runs beyond a balanced share:
// with T items and W workers each keeps floor(T/W), and T mod W of them one more. Connectors
// and tasks are balanced separately.
func loadBalancingRevocations(configured workSet, workers []*workerLoad) map[string]workSet {
	allEmpty := true
	for _, w := range workers {
		if !w.empty() {
			allEmpty = false
		}
	}
	if allEmpty || configured.empty() || len(workers) == 0 {
		return nil
	}
	out := map[string]workSet{}
	connectors := revokeExcess(len(configured.Connectors), workers, func(l *workerLoad) int { return len(l.connectors) })
	tasks := revokeExcess(len(configured.Tasks), workers, func(l *workerLoad) int { return len(l.tasks) })
	for _, l := range workers {
		var w workSet
		if n := connectors[l.worker]; n > 0 {
			w.Connectors = append(w.Connectors, l.connectors[:n]...)
		}
		if n := tasks[l.worker]; n > 0 {
			w.Tasks = append(w.Tasks, l.tasks[:n]...)
		}
		if !w.empty() {
			out[l.worker] = newWorkSet(w.Connectors, w.Tasks)
		}
	}
	return out
}

// revokeExcess returns how many items to revoke from each worker.
func revokeExcess(total int, workers []*workerLoad, size func(*workerLoad) int) map[string]int {
	n := len(workers)
	minPer := total / n
	extras := total % n
	atMin, atMinPlusOne := 0, 0
	for _, w := range workers {
		switch size(w) {
		case minPer:
			atMin++
		case minPer + 1:
			atMinPlusOne++
		}
	}
	if atMinPlusOne == extras && atMin+atMinPlusOne == n {
		return nil
	}
	out := map[string]int{}
	allocatedExtras := 0
	for _, w := range workers {
		s := size(w)
		if s <= minPer {
			continue
		}
		limit := minPer
		if allocatedExtras < extras {
			allocatedExtras++
			if s == minPer+1 {
				continue
			}
			limit = minPer + 1
		}
		out[w.worker] = s - limit
	}
	return out
}

// assignLeastLoaded hands items out one at a time to the workers that hold the fewest of their
// kind (held returns what a worker holds; ties by member id), round-robin among the least
// loaded.
func assignLeastLoaded[T any](workers []*workerLoad, items []T, held func(*workerLoad) *[]T) {
	if len(workers) == 0 {
		return
	}
	sort.SliceStable(workers, func(i, j int) bool {
		if a, b := len(*held(workers[i])), len(*held(workers[j])); a != b {
			return a < b
		}
		return workers[i].worker < workers[j].worker
	})
	for len(items) > 0 {
		floor := len(*held(workers[0]))
		for _, w := range workers {
			h := held(w)
			if len(*h) > floor || len(items) == 0 {
				break
			}
			*h = append(*h, items[0])
			items = items[1:]
		}
	}
}
