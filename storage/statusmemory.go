package storage

import (
	"context"
	"sync"
	"time"
)

// MemoryStatusStore keeps statuses in memory, for standalone mode and for tests of the layers
// above. A write is applied at once, through the same rules a KafkaStatusStore applies when it
// reads the write back (putSafe, the stale-UNASSIGNED rule, tombstones).
type MemoryStatusStore struct {
	mu     sync.Mutex
	cache  *statusCache
	closed bool
}

var _ StatusStore = (*MemoryStatusStore)(nil)

// NewMemoryStatusStore returns an empty store.
func NewMemoryStatusStore() *MemoryStatusStore {
	return &MemoryStatusStore{cache: newStatusCache()}
}

// Start has nothing to read.
func (s *MemoryStatusStore) Start(ctx context.Context) error { return ctx.Err() }

// Stop makes further writes no-ops. It is safe to call more than once.
func (s *MemoryStatusStore) Stop(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// PutConnector writes unconditionally (a Destroyed state removes the status).
func (s *MemoryStatusStore) PutConnector(st ConnectorStatus) { s.putConnector(st, false) }

// PutConnectorSafe writes only if no status is stored, the stored one was written by the same
// worker, or its generation is not newer.
func (s *MemoryStatusStore) PutConnectorSafe(st ConnectorStatus) { s.putConnector(st, true) }

// PutTask writes unconditionally (a Destroyed state removes the status).
func (s *MemoryStatusStore) PutTask(st TaskStatus) { s.putTask(st, false) }

// PutTaskSafe is PutConnectorSafe for tasks.
func (s *MemoryStatusStore) PutTaskSafe(st TaskStatus) { s.putTask(st, true) }

func (s *MemoryStatusStore) putConnector(st ConnectorStatus, safe bool) {
	s.put(status{State: st.State, Trace: st.Trace, WorkerID: st.WorkerID, Generation: st.Generation}, safe,
		func() *statusEntry { return s.cache.connectors[st.Connector] },
		func(v *status) { s.cache.readConnector(st.Connector, v) })
}

func (s *MemoryStatusStore) putTask(st TaskStatus, safe bool) {
	s.put(status{State: st.State, Trace: st.Trace, WorkerID: st.WorkerID, Generation: st.Generation}, safe,
		func() *statusEntry { return s.cache.tasks[st.ID.Connector][st.ID.Task] },
		func(v *status) { s.cache.readTask(st.ID, v) })
}

// put stores v with store (nil for a Destroyed state, which removes the status) unless the
// store is stopped or, when safe, Java's putSafe rule keeps the cached entry.
func (s *MemoryStatusStore) put(v status, safe bool, cached func() *statusEntry, store func(*status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if e := cached(); safe && e != nil && !e.canWriteSafely(v) {
		return
	}
	if v.State == Destroyed {
		store(nil)
		return
	}
	store(&v)
}

// PutTopic records a topic a connector uses.
func (s *MemoryStatusStore) PutTopic(t TopicStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		// Kept to the millisecond, as the status topic keeps it.
		t.DiscoverTimestamp = time.UnixMilli(t.DiscoverTimestamp.UnixMilli())
		s.cache.readTopic(t.Connector, t.Topic, &t)
	}
}

// DeleteTopic forgets the connector's use of the topic.
func (s *MemoryStatusStore) DeleteTopic(connector, topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.cache.readTopic(connector, topic, nil)
	}
}

// Flush has nothing to wait for.
func (s *MemoryStatusStore) Flush(ctx context.Context) error { return ctx.Err() }

// Connector returns the connector's status, if any.
func (s *MemoryStatusStore) Connector(connector string) (ConnectorStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connector(connector)
}

// Task returns the task's status, if any.
func (s *MemoryStatusStore) Task(id ConnectorTaskID) (TaskStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.task(id)
}

// Tasks returns the statuses of the connector's tasks, sorted by task number.
func (s *MemoryStatusStore) Tasks(connector string) []TaskStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connectorTasks(connector)
}

// Topics returns the topics the connector is known to use, sorted by name.
func (s *MemoryStatusStore) Topics(connector string) []TopicStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connectorTopics(connector)
}

// Connectors returns the names of connectors that have a status, sorted.
func (s *MemoryStatusStore) Connectors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connectorNames()
}
