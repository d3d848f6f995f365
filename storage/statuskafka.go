package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaStatusStore is the status topic (status.storage.topic): Java's KafkaStatusBackingStore.
// Writes are asynchronous and become visible when read back from the topic, so a status
// written by any worker shows the same way on every worker. Records are keyed and partitioned
// as Java partitions them, so Java and kconnect workers can share the topic.
type KafkaStatusStore struct {
	log    *Log
	logger *slog.Logger

	mu    sync.Mutex
	cache *statusCache
	// pending counts writes not yet acknowledged or given up; idle is closed when it drops to 0.
	pending int
	idle    chan struct{}
	closed  bool

	startOnce sync.Once
	startErr  error
	stopOnce  sync.Once
	stopErr   error
}

var _ StatusStore = (*KafkaStatusStore)(nil)

// NewKafkaStatusStore builds the store. It does no I/O; Start reads the topic.
func NewKafkaStatusStore(o KafkaOptions) (*KafkaStatusStore, error) {
	s := &KafkaStatusStore{
		logger: o.logger().With("store", "status"),
		cache:  newStatusCache(),
	}
	o.Logger = s.logger
	l, err := NewLog(o, s.onRecord)
	if err != nil {
		return nil, fmt.Errorf("creating status store: %w", err)
	}
	s.log = l
	return s, nil
}

// Start reads the whole topic and returns once caught up.
func (s *KafkaStatusStore) Start(ctx context.Context) error {
	s.startOnce.Do(func() {
		if err := s.log.Start(ctx); err != nil {
			s.startErr = fmt.Errorf("starting status store: %w", err)
			return
		}
		s.logger.Info("status store started", "partitions", s.log.Partitions())
	})
	return s.startErr
}

// Stop flushes pending writes (until ctx is done), stops reading and closes the client. It is
// safe to call more than once.
func (s *KafkaStatusStore) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if err := s.Flush(ctx); err != nil {
			s.stopErr = fmt.Errorf("stopping status store: %w", err)
		}
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.log.Close()
	})
	return s.stopErr
}

// onRecord applies one record read from the topic; it runs on the log's reader goroutine.
func (s *KafkaStatusStore) onRecord(r *kgo.Record) {
	key, err := parseStatusKey(string(r.Key))
	if err != nil {
		s.logger.Warn("discarding status topic record with invalid key", "key", string(r.Key), "offset", r.Offset, "err", err)
		return
	}
	tombstone := len(r.Value) == 0
	switch key.kind {
	case connectorStatusKind, taskStatusKind:
		var st *status
		if !tombstone {
			v, err := decodeStatus(r.Value)
			if err != nil {
				s.logger.Warn("ignoring unreadable status record", "key", string(r.Key), "offset", r.Offset, "err", err)
				return
			}
			st = &v
		}
		s.mu.Lock()
		if key.kind == connectorStatusKind {
			s.cache.readConnector(key.connector, st)
		} else {
			s.cache.readTask(ConnectorTaskID{Connector: key.connector, Task: key.task}, st)
		}
		s.mu.Unlock()
	case topicStatusKind:
		var ts *TopicStatus
		if !tombstone {
			v, err := decodeTopicStatus(r.Value)
			if err != nil {
				s.logger.Warn("ignoring unreadable topic status record", "key", string(r.Key), "offset", r.Offset, "err", err)
				return
			}
			ts = &v
		}
		s.mu.Lock()
		s.cache.readTopic(key.connector, key.topic, ts)
		s.mu.Unlock()
	}
}

// PutConnector writes unconditionally (a Destroyed state writes a tombstone).
func (s *KafkaStatusStore) PutConnector(st ConnectorStatus) {
	s.putStatus(connectorStatusKey(st.Connector), func() *statusEntry { return s.cache.connectors[st.Connector] },
		status{State: st.State, Trace: st.Trace, WorkerID: st.WorkerID, Generation: st.Generation}, false)
}

// PutConnectorSafe writes only if no status is cached, the cached one was written by the same
// worker, or its generation is not newer.
func (s *KafkaStatusStore) PutConnectorSafe(st ConnectorStatus) {
	s.putStatus(connectorStatusKey(st.Connector), func() *statusEntry { return s.cache.connectors[st.Connector] },
		status{State: st.State, Trace: st.Trace, WorkerID: st.WorkerID, Generation: st.Generation}, true)
}

// PutTask writes unconditionally (a Destroyed state writes a tombstone).
func (s *KafkaStatusStore) PutTask(st TaskStatus) {
	s.putStatus(taskStatusKey(st.ID), func() *statusEntry { return s.cache.tasks[st.ID.Connector][st.ID.Task] },
		status{State: st.State, Trace: st.Trace, WorkerID: st.WorkerID, Generation: st.Generation}, false)
}

// PutTaskSafe is PutConnectorSafe for tasks.
func (s *KafkaStatusStore) PutTaskSafe(st TaskStatus) {
	s.putStatus(taskStatusKey(st.ID), func() *statusEntry { return s.cache.tasks[st.ID.Connector][st.ID.Task] },
		status{State: st.State, Trace: st.Trace, WorkerID: st.WorkerID, Generation: st.Generation}, true)
}

// PutTopic records a topic a connector uses.
func (s *KafkaStatusStore) PutTopic(t TopicStatus) {
	s.putTopic(Entry{Key: topicStatusKey(t.Topic, t.Connector), Value: encodeTopicStatus(t)})
}

// DeleteTopic writes a tombstone for the connector's use of the topic.
func (s *KafkaStatusStore) DeleteTopic(connector, topic string) {
	s.putTopic(Entry{Key: topicStatusKey(topic, connector)})
}

// putStatus sends a connector or task status, applying Java's putSafe rule when safe is set.
// lookup (called with s.mu held) returns the cached entry, or nil.
func (s *KafkaStatusStore) putStatus(key string, lookup func() *statusEntry, st status, safe bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.logger.Warn("status store is stopped; dropping status write", "key", key, "state", st.State)
		return
	}
	if e := lookup(); safe && e != nil && !e.canWriteSafely(st) {
		s.mu.Unlock()
		s.logger.Debug("not overwriting a newer status of another worker", "key", key, "state", st.State)
		return
	}
	s.pending++
	s.mu.Unlock()
	s.send(Entry{Key: key, Value: encodeStatus(st)})
}

// putTopic sends a topic status record.
func (s *KafkaStatusStore) putTopic(e Entry) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.logger.Warn("status store is stopped; dropping topic status write", "key", e.Key)
		return
	}
	s.pending++
	s.mu.Unlock()
	s.send(e)
}

// send writes e without waiting. Java's status producer has no retries of its own and re-sends
// from its callback; here the client retries retriable errors itself, without limit and in
// order, which keeps a key's statuses in the order they were written. So an error reaching the
// callback is final (or the store is stopping) and is logged.
func (s *KafkaStatusStore) send(e Entry) {
	s.log.SendAsync(e, func(err error) {
		if err != nil && !errors.Is(err, ErrClosed) {
			s.logger.Error("failed to write status update", "key", e.Key, "err", err)
		}
		s.done()
	})
}

// done marks one pending write as finished.
func (s *KafkaStatusStore) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	if s.pending == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// Flush waits until every write so far was acknowledged (or failed for good), or ctx is done.
func (s *KafkaStatusStore) Flush(ctx context.Context) error {
	s.mu.Lock()
	if s.pending == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flushing status writes: %w", ctx.Err())
	}
}

// Connector returns the connector's status, if any.
func (s *KafkaStatusStore) Connector(connector string) (ConnectorStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connector(connector)
}

// Task returns the task's status, if any.
func (s *KafkaStatusStore) Task(id ConnectorTaskID) (TaskStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.task(id)
}

// Tasks returns the statuses of the connector's tasks, sorted by task number.
func (s *KafkaStatusStore) Tasks(connector string) []TaskStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connectorTasks(connector)
}

// Topics returns the topics the connector is known to use, sorted by name.
func (s *KafkaStatusStore) Topics(connector string) []TopicStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connectorTopics(connector)
}

// Connectors returns the names of connectors that have a status, sorted.
func (s *KafkaStatusStore) Connectors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.connectorNames()
}
