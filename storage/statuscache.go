package storage

import (
	"sort"
)

// statusEntry is the cached status of one connector or task: Java's CacheEntry.
type statusEntry struct {
	value *status // nil until a status was read
}

// canWriteSafely is Java's putSafe rule: write if nothing is cached, the cached status came
// from the same worker, or it is not from a newer generation.
func (e *statusEntry) canWriteSafely(s status) bool {
	return e.value == nil || e.value.WorkerID == s.WorkerID || e.value.Generation <= s.Generation
}

// statusCache is the status topic as read: the view both status stores answer from. It is not
// safe for concurrent use; its owner locks.
type statusCache struct {
	connectors map[string]*statusEntry
	tasks      map[string]map[int]*statusEntry
	topics     map[string]map[string]TopicStatus // connector → topic → status
}

func newStatusCache() *statusCache {
	return &statusCache{
		connectors: map[string]*statusEntry{},
		tasks:      map[string]map[int]*statusEntry{},
		topics:     map[string]map[string]TopicStatus{},
	}
}

func (c *statusCache) connectorEntry(connector string) *statusEntry {
	e := c.connectors[connector]
	if e == nil {
		e = &statusEntry{}
		c.connectors[connector] = e
	}
	return e
}

func (c *statusCache) taskEntry(id ConnectorTaskID) *statusEntry {
	row := c.tasks[id.Connector]
	if row == nil {
		row = map[int]*statusEntry{}
		c.tasks[id.Connector] = row
	}
	e := row[id.Task]
	if e == nil {
		e = &statusEntry{}
		row[id.Task] = e
	}
	return e
}

// readConnector applies a connector status read from the topic; nil is a tombstone, which also
// drops the connector's task statuses (the connector is gone).
func (c *statusCache) readConnector(connector string, s *status) {
	if s == nil {
		delete(c.connectors, connector)
		delete(c.tasks, connector)
		return
	}
	e := c.connectorEntry(connector)
	if staleUnassigned(s, e.value) {
		return
	}
	e.value = s
}

// staleUnassigned reports whether an UNASSIGNED status read from the topic is a stale write
// that must not replace the cached status. In a rebalance a worker may write UNASSIGNED for work
// it gave up after the work's new owner wrote RUNNING, because it had not read that status yet
// (KAFKA-12525). An UNASSIGNED from an older generation than a cached RUNNING is that stale
// write; one of the same generation is a clean shutdown and is kept. Java applies the rule to
// task statuses; kconnect applies it to connector statuses too, where the same race happens
// when a group changes from the cooperative to the eager protocol: the new owner starts a
// connector while its previous owner, which did not give up its work before rejoining, still
// stops it.
func staleUnassigned(s, cached *status) bool {
	return s.State == Unassigned && cached != nil && cached.State == Running && cached.Generation > s.Generation
}

// readTask applies a task status read from the topic; nil is a tombstone.
func (c *statusCache) readTask(id ConnectorTaskID, s *status) {
	if s == nil {
		if row := c.tasks[id.Connector]; row != nil {
			delete(row, id.Task)
			if len(row) == 0 {
				delete(c.tasks, id.Connector)
			}
		}
		return
	}
	e := c.taskEntry(id)
	if staleUnassigned(s, e.value) {
		return
	}
	e.value = s
}

// readTopic applies a topic status read from the topic; nil is a tombstone.
func (c *statusCache) readTopic(connector, topic string, t *TopicStatus) {
	if t == nil {
		if m := c.topics[connector]; m != nil {
			delete(m, topic)
			if len(m) == 0 {
				delete(c.topics, connector)
			}
		}
		return
	}
	m := c.topics[connector]
	if m == nil {
		m = map[string]TopicStatus{}
		c.topics[connector] = m
	}
	m[topic] = *t
}

func (c *statusCache) connector(name string) (ConnectorStatus, bool) {
	e := c.connectors[name]
	if e == nil || e.value == nil {
		return ConnectorStatus{}, false
	}
	v := e.value
	return ConnectorStatus{Connector: name, State: v.State, Trace: v.Trace, WorkerID: v.WorkerID, Generation: v.Generation}, true
}

func (c *statusCache) task(id ConnectorTaskID) (TaskStatus, bool) {
	e := c.tasks[id.Connector][id.Task]
	if e == nil || e.value == nil {
		return TaskStatus{}, false
	}
	v := e.value
	return TaskStatus{ID: id, State: v.State, Trace: v.Trace, WorkerID: v.WorkerID, Generation: v.Generation}, true
}

func (c *statusCache) connectorTasks(connector string) []TaskStatus {
	var out []TaskStatus
	for n := range c.tasks[connector] {
		if ts, ok := c.task(ConnectorTaskID{Connector: connector, Task: n}); ok {
			out = append(out, ts)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.Task < out[j].ID.Task })
	return out
}

func (c *statusCache) connectorTopics(connector string) []TopicStatus {
	m := c.topics[connector]
	out := make([]TopicStatus, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

func (c *statusCache) connectorNames() []string {
	out := make([]string, 0, len(c.connectors))
	for name, e := range c.connectors {
		if e.value != nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
