package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kconnect/kconnect/storage"
)

// rebalance joins the group and takes in the assignment (Java's WorkerCoordinator onJoinPrepare,
// metadata, onLeaderElected and onJoinComplete, with the herder's RebalanceListener). It runs on
// the herder goroutine; the group waits for it, so it does only what a rebalance needs.
func (h *Herder) rebalance(ctx context.Context) error {
	h.log.Info("rebalance started")
	h.endLeadership()
	h.st.rebalanceResolved = false
	if h.st.protocol == "" || h.st.protocol == subprotocolDefault {
		// Eager: give up all work before joining; the new assignment is complete.
		h.st.worker.stopAll()
		h.st.owned = workSet{}
	}
	// Statuses written so far (UNASSIGNED of stopped work among them) reach the topic before
	// the new round, so they cannot overwrite what the next owner writes.
	h.flushStatuses(ctx)

	snap := h.configStore().Snapshot()
	h.st.joinSnap = snap
	h.st.pendingOwners = nil
	var allocation *assignment
	if !h.st.owned.empty() && h.st.assignment != nil {
		a := *h.st.assignment
		a.Connectors, a.Tasks = h.st.owned.Connectors, h.st.owned.Tasks
		a.RevokedConnectors, a.RevokedTasks, a.Delay = nil, nil, 0
		allocation = &a
	}
	protocols := make([]JoinProtocol, 0, len(h.offered))
	for _, name := range h.offered {
		md := memberMetadata{Version: protocolVersion(name), URL: h.url, ConfigOffset: snap.Offset, Allocation: allocation}
		protocols = append(protocols, JoinProtocol{Name: name, Metadata: encodeMetadata(md)})
	}

	endStage := h.beginStage("ensuring membership in the cluster")
	res, err := h.st.member.Join(ctx, protocols, h.performAssignment)
	endStage()
	if err != nil {
		h.st.assignment = nil
		h.st.rejoinRequested = true
		return err
	}

	a, err := decodeAssignment(res.Assignment)
	if err != nil {
		h.log.Error("the leader's assignment cannot be read; rejoining", "error", err)
		a = assignment{Error: assignmentConfigMismatch}
	}
	cooperative := res.Protocol != subprotocolDefault
	prevProtocol := h.st.protocol
	h.st.protocol = res.Protocol
	h.sessioned.Store(res.Protocol == subprotocolSessioned)
	if prevProtocol != res.Protocol {
		h.log.Info("the worker group runs protocol "+res.Protocol, "previous", prevProtocol)
	}

	var full workSet
	if cooperative {
		full = union(h.st.owned.minus(newWorkSet(a.RevokedConnectors, a.RevokedTasks)), newWorkSet(a.Connectors, a.Tasks))
	} else {
		full = newWorkSet(a.Connectors, a.Tasks)
	}
	// Stop what is no longer ours: revocations, and anything left over from a protocol change.
	if stopped := h.st.worker.stopExcept(full); stopped {
		h.flushStatuses(ctx)
	}
	h.st.owned = full
	h.st.assignment = &a
	h.st.memberID = res.MemberID
	h.st.generation = res.Generation
	h.st.lastCompletedGeneration = res.Generation
	h.generation.Store(res.Generation)
	h.st.rejoinRequested = false
	url := a.LeaderURL
	h.leaderURL.Store(&url)
	if a.Delay > 0 {
		h.st.scheduledRebalance = time.Now().Add(time.Duration(a.Delay) * time.Millisecond)
	} else {
		h.st.scheduledRebalance = time.Time{}
	}
	h.log.Info("joined the worker group", "generation", res.Generation, "member_id", res.MemberID, "leader", a.Leader,
		"leader_url", a.LeaderURL, "protocol", res.Protocol, "config_offset", a.ConfigOffset,
		"connectors", len(full.Connectors), "tasks", len(full.Tasks), "error", a.Error)
	if h.isLeader() {
		h.st.owners = h.st.pendingOwners
		h.startLeadership()
	} else {
		h.st.owners = nil
		h.st.ledBefore = false
	}
	return nil
}

// isLeader reports whether the last assignment names this worker leader.
func (h *Herder) isLeader() bool {
	return h.st.assignment != nil && h.st.assignment.Leader != "" && h.st.assignment.Leader == h.st.memberID
}

// leaderURLNow returns the leader's URL from the last assignment, "" when unknown.
func (h *Herder) leaderURLNow() string {
	if h.st.assignment == nil {
		return ""
	}
	return h.st.assignment.LeaderURL
}

// performAssignment is the leader's half of a rebalance, called by Member.Join on the herder
// goroutine: it decides every member's assignment.
func (h *Herder) performAssignment(_ context.Context, protocol, leaderID string, generation int32, raw []GroupMember) (map[string][]byte, error) {
	members := make([]joinedMember, 0, len(raw))
	for _, m := range raw {
		md, err := decodeMetadata(m.Metadata)
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", m.ID, err)
		}
		members = append(members, joinedMember{ID: m.ID, Metadata: md})
	}
	version := protocolVersion(protocol)
	maxOffset := maxConfigOffset(members)
	snap := h.st.joinSnap
	offset := maxOffset
	if snap.Offset < maxOffset {
		// Behind another member: a fresh snapshot may already have caught up.
		fresh := h.configStore().Snapshot()
		if fresh.Offset < maxOffset {
			h.log.Info("chosen to assign work but behind the config topic position other workers reported; asking everyone to catch up",
				"local_offset", fresh.Offset, "max_offset", maxOffset)
			return encodeAll(configMismatch(leaderID, members, version, maxOffset)), nil
		}
		snap = fresh
		h.st.joinSnap = fresh
		offset = fresh.Offset
	}

	var res assignResult
	if protocol == subprotocolDefault {
		res = eagerAssign(leaderID, members, snap, offset)
	} else {
		allocations := make(map[string]workSet, len(members))
		for _, m := range members {
			var w workSet
			if a := m.Metadata.Allocation; a != nil {
				w = newWorkSet(a.Connectors, a.Tasks)
			}
			allocations[m.ID] = w
		}
		ca := h.st.assignor.assign(time.Now(), snap, h.st.lastCompletedGeneration, generation, allocations)
		url := memberURL(members, leaderID)
		res = assignResult{Assignments: map[string]assignment{}, Owners: newOwners(members, ca.All)}
		for _, m := range members {
			res.Assignments[m.ID] = assignment{
				Version: version, Leader: leaderID, LeaderURL: url, ConfigOffset: offset,
				Connectors: ca.Assigned[m.ID].Connectors, Tasks: ca.Assigned[m.ID].Tasks,
				RevokedConnectors: ca.Revoked[m.ID].Connectors, RevokedTasks: ca.Revoked[m.ID].Tasks,
				Delay: int32(ca.Delay.Milliseconds()),
			}
		}
	}
	h.st.pendingOwners = res.Owners
	h.log.Debug("computed assignments", "protocol", protocol, "generation", generation, "members", len(members), "config_offset", offset)
	return encodeAll(res), nil
}

func encodeAll(res assignResult) map[string][]byte {
	out := make(map[string][]byte, len(res.Assignments))
	for id, a := range res.Assignments {
		out[id] = encodeAssignment(a)
	}
	return out
}

// handleRebalanceCompleted brings this worker in line with a new assignment (Java's
// DistributedHerder.handleRebalanceCompleted): catch up with the config topic to the
// assignment's offset, then start the assigned work. It returns false when the worker must
// rejoin first.
func (h *Herder) handleRebalanceCompleted(ctx context.Context) bool {
	if h.st.rebalanceResolved {
		return true
	}
	a := h.st.assignment
	needsRead, needsRejoin := false, false
	if a.failed() {
		needsRejoin = true
		if h.isLeader() {
			h.log.Warn("the assignment failed and this worker is the leader: reading the config topic to its end before rejoining")
			needsRead = true
		} else if h.st.configState.Offset < a.ConfigOffset {
			h.log.Warn("the assignment failed and this worker is behind the config topic: reading to its end before rejoining")
			needsRead = true
		}
	} else if h.st.configState.Offset < a.ConfigOffset {
		h.log.Info("catching up to the assignment's config offset", "local_offset", h.st.configState.Offset, "assignment_offset", a.ConfigOffset)
		needsRead = true
	}
	if needsRead {
		if h.readConfigToEnd(ctx) {
			h.st.canReadConfigs = true
		} else {
			h.st.canReadConfigs = false
			needsRejoin = true
		}
	}
	if needsRejoin {
		h.requestRejoin("the assignment could not be used")
		return false
	}
	if h.st.configState.Offset != a.ConfigOffset {
		h.log.Info("the config topic moved past the assignment's offset; rebalancing again",
			"local_offset", h.st.configState.Offset, "assignment_offset", a.ConfigOffset)
		h.requestRejoin("config offset mismatch")
		return false
	}
	h.startWork()
	h.st.rebalanceResolved = true
	h.markReady()
	if len(a.RevokedConnectors) > 0 || len(a.RevokedTasks) > 0 {
		// Two-phase cooperative rebalance: what was revoked here is handed out in the next round.
		a.RevokedConnectors, a.RevokedTasks = nil, nil
		h.requestRejoin("work was revoked")
		return false
	}
	return true
}

// readConfigToEnd reads the config topic to its end within worker.sync.timeout.ms. When it
// cannot, the worker leaves the group and backs off, as Java does, so it does not hold the
// group back; meanwhile it still answers requests.
func (h *Herder) readConfigToEnd(ctx context.Context) bool {
	h.log.Info("reading the config topic to its end", "local_offset", h.st.configState.Offset)
	endStage := h.beginStage("reading to the end of the config topic")
	rctx, cancel := context.WithTimeout(ctx, h.syncTimeout)
	err := h.configStore().Refresh(rctx)
	cancel()
	endStage()
	if err == nil {
		h.setConfigState(h.configStore().Snapshot())
		h.log.Info("read the config topic to its end", "offset", h.st.configState.Offset)
		h.st.backoffRetries = backoffRetries
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	h.log.Warn("did not reach the end of the config topic in time; leaving the group and backing off", "error", err)
	lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
	if lerr := h.st.member.Leave(lctx); lerr != nil {
		h.log.Warn("leaving the worker group", "error", lerr)
	}
	lcancel()
	h.st.assignment = nil
	h.endLeadership()
	if h.st.protocol == "" || h.st.protocol == subprotocolDefault {
		h.serveFor(ctx, h.unsyncBackoff)
		return false
	}
	if h.st.backoffRetries > 0 {
		d := h.maxDelay / 10 / time.Duration(h.st.backoffRetries)
		h.st.backoffRetries--
		h.serveFor(ctx, d)
		return false
	}
	h.log.Info("giving up this worker's connectors and tasks: it has not caught up with the config topic after several retries")
	h.st.worker.stopAll()
	h.st.owned = workSet{}
	h.flushStatuses(ctx)
	h.st.backoffRetries = backoffRetries
	return false
}

func (h *Herder) setConfigState(s *storage.Snapshot) { h.st.configState = s }

// startWork starts the assigned connectors and tasks that are not running here yet.
func (h *Herder) startWork() {
	h.log.Debug("starting connectors and tasks", "config_offset", h.st.assignment.ConfigOffset)
	defer h.beginStage("starting the connectors and tasks assigned to this worker")()
	w := h.st.worker
	for _, c := range h.st.owned.Connectors {
		if !w.hasConnector(c) {
			h.startConnector(c)
		}
	}
	for _, t := range h.st.owned.Tasks {
		if !w.hasTask(t) {
			h.startTask(t)
		}
	}
	h.log.Debug("finished starting connectors and tasks")
}

// processConfigUpdates applies what the config listener heard. Added or removed connectors and
// new task configurations need a rebalance; a changed connector config restarts the connector
// where it runs; target states are passed to the running connector and tasks. It returns true
// when the worker must rejoin before doing anything else.
func (h *Herder) processConfigUpdates() bool {
	upd := h.takePending()
	if upd.sessionKey != nil {
		h.st.sessionKey = upd.sessionKey
		h.sessionKey.Store(upd.sessionKey)
	}
	for c, r := range upd.restarts {
		if _, ok := h.st.restarts[c]; !ok || restartImpact(r) > restartImpact(h.st.restarts[c]) {
			h.st.restarts[c] = r
		}
	}
	if len(upd.connectors) == 0 && len(upd.taskCommits) == 0 && len(upd.targetStates) == 0 {
		return false
	}
	old := h.st.configState
	h.setConfigState(h.configStore().Snapshot())
	snap := h.st.configState

	rebalance := len(upd.taskCommits) > 0
	for c := range upd.connectors {
		if old.Contains(c) != snap.Contains(c) {
			rebalance = true
		}
	}
	eager := h.st.protocol == "" || h.st.protocol == subprotocolDefault
	if rebalance {
		h.requestRejoin("connectors were added or removed, or task configs committed")
		if eager {
			// The rebalance stops and restarts everything with the new configs.
			return true
		}
	}
	for _, c := range slices.Sorted(maps.Keys(upd.connectors)) {
		if !h.st.owned.hasConnector(c) || !h.st.worker.hasConnector(c) {
			continue
		}
		h.st.worker.stopConnector(c)
		if snap.Contains(c) {
			h.log.Info("restarting connector after a config change", "connector", c)
			h.startConnector(c)
		} else {
			h.log.Info("stopped deleted connector", "connector", c)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(upd.targetStates)) {
		if !snap.Contains(c) {
			continue
		}
		h.st.worker.setTargetState(c, snap.TargetState(c))
	}
	if !eager && len(upd.taskCommits) > 0 {
		// New task configs: stop local tasks of those connectors; the follow-up rebalance
		// starts them again with the new configs if they are still assigned here.
		var stop []storage.ConnectorTaskID
		for _, t := range h.st.worker.taskIDs() {
			if upd.taskCommits[t.Connector] {
				stop = append(stop, t)
			}
		}
		if len(stop) > 0 {
			h.log.Info("stopping tasks whose configs changed", "tasks", len(stop))
			h.st.worker.stopTasks(stop)
		}
	}
	return rebalance
}

// processRestartRequests executes the restart requests read from the config topic for the
// connectors and tasks this worker runs (KIP-745).
func (h *Herder) processRestartRequests() {
	if len(h.st.restarts) == 0 {
		return
	}
	reqs := h.st.restarts
	h.st.restarts = map[string]storage.RestartRequest{}
	for _, name := range slices.Sorted(maps.Keys(reqs)) {
		h.doRestart(reqs[name])
	}
}

func (h *Herder) doRestart(req storage.RestartRequest) {
	plan, ok := h.buildRestartPlan(req)
	if !ok {
		h.log.Debug("skipping restart: no status is known for the connector", "connector", req.Connector)
		return
	}
	restartConnector := false
	var tasks []storage.ConnectorTaskID
	if plan.Connector.State == storage.Restarting && h.st.owned.hasConnector(req.Connector) {
		restartConnector = true
	}
	for _, t := range plan.Tasks {
		id := storage.ConnectorTaskID{Connector: req.Connector, Task: t.ID}
		if t.State == storage.Restarting && h.st.owned.hasTask(id) {
			tasks = append(tasks, id)
		}
	}
	if !restartConnector && len(tasks) == 0 {
		return
	}
	h.log.Info("executing restart request", "connector", req.Connector, "restart_connector", restartConnector, "tasks", len(tasks))
	ss := h.statusStore()
	gen := h.generation.Load()
	if restartConnector {
		h.st.worker.stopConnector(req.Connector)
		ss.PutConnector(storage.ConnectorStatus{Connector: req.Connector, State: storage.Restarting, WorkerID: h.workerID, Generation: gen})
	}
	if len(tasks) > 0 {
		h.st.worker.stopTasks(tasks)
		for _, id := range tasks {
			ss.PutTask(storage.TaskStatus{ID: id, State: storage.Restarting, WorkerID: h.workerID, Generation: gen})
		}
	}
	if restartConnector {
		h.startConnector(req.Connector)
	}
	for _, id := range tasks {
		h.startTask(id)
	}
}

// buildRestartPlan shows which instances a restart request restarts: they are shown as
// RESTARTING, the others keep their state (Java's AbstractHerder.buildRestartPlan).
func (h *Herder) buildRestartPlan(req storage.RestartRequest) (ConnectorState, bool) {
	ss := h.statusStore()
	cs, ok := ss.Connector(req.Connector)
	if !ok {
		return ConnectorState{}, false
	}
	out := ConnectorState{Name: req.Connector, Type: h.connectorType(h.configStore().Snapshot().ConnectorConfigs[req.Connector])}
	out.Connector = InstanceState{State: cs.State, WorkerID: cs.WorkerID, Trace: cs.Trace}
	if !req.OnlyFailed || cs.State == storage.Failed {
		out.Connector.State = storage.Restarting
	}
	for _, ts := range ss.Tasks(req.Connector) {
		st := TaskState{ID: ts.ID.Task, InstanceState: InstanceState{State: ts.State, WorkerID: ts.WorkerID, Trace: ts.Trace}}
		if req.IncludeTasks && (!req.OnlyFailed || ts.State == storage.Failed) {
			st.State = storage.Restarting
		}
		out.Tasks = append(out.Tasks, st)
	}
	return out, true
}

func (h *Herder) flushStatuses(ctx context.Context) {
	defer h.beginStage("flushing updates to the status topic")()
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.statusStore().Flush(fctx); err != nil && ctx.Err() == nil {
		h.log.Warn("flushing status updates", "error", err)
	}
}

// halt stops everything on shutdown: connectors and tasks (writing UNASSIGNED), leadership,
// forwarders and group membership.
func (h *Herder) halt() {
	h.log.Info("stopping connectors and tasks that are still assigned to this worker")
	defer h.beginStage("stopping the worker")()
	h.st.worker.stopAll()
	h.st.cancelWork()
	h.endLeadership()
	for c, cancel := range h.st.forwards {
		cancel()
		delete(h.st.forwards, c)
	}
	h.closeQueue()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.flushStatuses(ctx)
	if err := h.st.member.Leave(ctx); err != nil {
		h.log.Warn("leaving the worker group", "error", err)
	}
	h.st.member.Close()
	h.bg.Wait()
	if !waitTimeout(&h.abandoned, abandonedGrace) {
		h.log.Error("connectors or tasks that ignored the request to stop are still running; the worker stops without them", "waited", abandonedGrace)
	}
	h.log.Info("worker stopped")
}

// abandonedGrace is how long shutdown waits for connectors and tasks that did not stop within
// task.shutdown.graceful.timeout.ms: plugin code that ignores cancellation cannot be forced.
const abandonedGrace = 30 * time.Second

// waitTimeout waits for wg at most d; it reports whether wg finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
