package cluster

import (
	"sort"

	"github.com/kconnect/kconnect/storage"
)

// joinedMember is one worker of a rebalance, as the leader sees it in the JoinGroup response.
type joinedMember struct {
	ID       string
	Metadata memberMetadata
}

// owners records, after an assignment, which member runs each connector and task and where
// each member's REST API is: the leader uses it to send restart requests to the owner (Java's
// WorkerCoordinator.LeaderState).
type owners struct {
	urls       map[string]string // member id → advertised URL
	connectors map[string]string // connector → member id
	tasks      map[storage.ConnectorTaskID]string
}

func newOwners(members []joinedMember, all map[string]workSet) *owners {
	o := &owners{urls: map[string]string{}, connectors: map[string]string{}, tasks: map[storage.ConnectorTaskID]string{}}
	for _, m := range members {
		o.urls[m.ID] = m.Metadata.URL
	}
	for member, w := range all {
		for _, c := range w.Connectors {
			o.connectors[c] = member
		}
		for _, t := range w.Tasks {
			o.tasks[t] = member
		}
	}
	return o
}

// connectorURL returns the URL of the worker running the connector, or "" if none does.
func (o *owners) connectorURL(connector string) string {
	if o == nil {
		return ""
	}
	return o.urls[o.connectors[connector]]
}

// taskURL returns the URL of the worker running the task, or "" if none does.
func (o *owners) taskURL(id storage.ConnectorTaskID) string {
	if o == nil {
		return ""
	}
	return o.urls[o.tasks[id]]
}

// assignResult is what the leader sends each member, and who owns what afterwards.
type assignResult struct {
	Assignments map[string]assignment
	Owners      *owners
}

// configuredWork returns every connector of the snapshot and its committed tasks, sorted.
func configuredWork(snap *storage.Snapshot) workSet {
	var w workSet
	w.Connectors = snap.Connectors()
	for _, c := range w.Connectors {
		w.Tasks = append(w.Tasks, snap.Tasks(c)...)
	}
	sortTasks(w.Tasks)
	return w
}

func sortedMemberIDs(members []joinedMember) []string {
	ids := make([]string, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return ids
}

func memberURL(members []joinedMember, id string) string {
	for _, m := range members {
		if m.ID == id {
			return m.Metadata.URL
		}
	}
	return ""
}

// maxConfigOffset is the newest config topic position any member reported.
func maxConfigOffset(members []joinedMember) int64 {
	max := int64(-1)
	for i, m := range members {
		if i == 0 || m.Metadata.ConfigOffset > max {
			max = m.Metadata.ConfigOffset
		}
	}
	return max
}

// configMismatch answers every member with CONFIG_MISMATCH: the leader was behind the newest
// config offset a member reported, so everyone reads the config topic and rejoins.
func configMismatch(leaderID string, members []joinedMember, version int16, offset int64) assignResult {
	out := assignResult{Assignments: map[string]assignment{}}
	url := memberURL(members, leaderID)
	for _, m := range members {
		out.Assignments[m.ID] = assignment{Version: version, Error: assignmentConfigMismatch, Leader: leaderID, LeaderURL: url, ConfigOffset: offset}
	}
	return out
}

// eagerAssign is the assignor of the eager "default" protocol (Java's EagerAssignor): members
// sorted by id take the connectors (sorted by name) round-robin and then, continuing the same
// rotation, every task (connectors in name order, tasks in id order). Every member gets its
// complete assignment.
func eagerAssign(leaderID string, members []joinedMember, snap *storage.Snapshot, offset int64) assignResult {
	ids := sortedMemberIDs(members)
	all := make(map[string]workSet, len(ids))
	next := 0
	take := func() string {
		id := ids[next%len(ids)]
		next++
		return id
	}
	work := configuredWork(snap)
	for _, c := range work.Connectors {
		id := take()
		w := all[id]
		w.Connectors = append(w.Connectors, c)
		all[id] = w
	}
	for _, t := range work.Tasks {
		id := take()
		w := all[id]
		w.Tasks = append(w.Tasks, t)
		all[id] = w
	}
	out := assignResult{Assignments: map[string]assignment{}, Owners: newOwners(members, all)}
	url := memberURL(members, leaderID)
	for _, id := range ids {
		out.Assignments[id] = assignment{
			Version: 0, Leader: leaderID, LeaderURL: url, ConfigOffset: offset,
			Connectors: all[id].Connectors, Tasks: all[id].Tasks,
		}
	}
	return out
}
