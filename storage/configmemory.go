package storage

import (
	"context"
	"maps"
	"sync"
	"time"
)

// MemoryConfigStore keeps the configuration in memory, for standalone mode and for tests of the
// layers above. It applies the records the Kafka store would write to the same state machine,
// in the same order, so its snapshots (offsets included) equal those of a KafkaConfigStore on a
// fresh topic after the same calls. Writes are visible, and announced to the listener, before
// they return.
type MemoryConfigStore struct {
	// writeMu serializes writes and their listener calls, so the listener hears of changes in
	// the order they were made. The listener may call Snapshot (which takes only mu) but must
	// not write.
	writeMu sync.Mutex

	mu       sync.Mutex
	state    *configState
	listener ConfigListener
	started  bool
	stopped  bool
}

var _ ConfigStore = (*MemoryConfigStore)(nil)

// NewMemoryConfigStore returns an empty store.
func NewMemoryConfigStore() *MemoryConfigStore {
	return &MemoryConfigStore{state: newConfigState()}
}

// Start makes l (may be nil) hear of changes written from now on. Writes made before Start are
// applied but not announced, as records replayed by a Kafka store are not.
func (s *MemoryConfigStore) Start(ctx context.Context, l ConfigListener) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrClosed
	}
	if !s.started {
		s.started, s.listener = true, l
	}
	return nil
}

// Stop makes further writes fail with ErrClosed. It is safe to call more than once.
func (s *MemoryConfigStore) Stop(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	return nil
}

// Snapshot returns the current state.
func (s *MemoryConfigStore) Snapshot() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.snapshot()
}

// Refresh has nothing to read: the store is always current.
func (s *MemoryConfigStore) Refresh(ctx context.Context) error {
	return ctx.Err()
}

// PutConnectorConfig writes the optional target state and then the connector config.
func (s *MemoryConfigStore) PutConnectorConfig(ctx context.Context, connector string, config map[string]string, target *TargetState) error {
	if config == nil {
		config = map[string]string{}
	}
	var recs []configRecord
	if target != nil {
		recs = append(recs, targetStateRecord{Connector: connector, State: *target})
	}
	recs = append(recs, connectorConfigRecord{Connector: connector, Config: maps.Clone(config)})
	return s.write(ctx, recs...)
}

// RemoveConnectorConfig removes the connector config and target state.
func (s *MemoryConfigStore) RemoveConnectorConfig(ctx context.Context, connector string) error {
	return s.write(ctx, connectorConfigRecord{Connector: connector}, targetStateRecord{Connector: connector, Deleted: true})
}

// PutTaskConfigs writes the task configs and their commit.
func (s *MemoryConfigStore) PutTaskConfigs(ctx context.Context, connector string, configs []map[string]string) error {
	recs := make([]configRecord, 0, len(configs)+1)
	for i, c := range configs {
		if c == nil {
			c = map[string]string{}
		}
		recs = append(recs, taskConfigRecord{ID: ConnectorTaskID{Connector: connector, Task: i}, Config: maps.Clone(c)})
	}
	recs = append(recs, commitRecord{Connector: connector, Tasks: len(configs)})
	return s.write(ctx, recs...)
}

// PutTargetState writes a target state.
func (s *MemoryConfigStore) PutTargetState(ctx context.Context, connector string, state TargetState) error {
	return s.write(ctx, targetStateRecord{Connector: connector, State: state})
}

// PutRestartRequest records a restart request; the listener hears of it.
func (s *MemoryConfigStore) PutRestartRequest(ctx context.Context, req RestartRequest) error {
	return s.write(ctx, restartRecord{Request: req})
}

// PutSessionKey stores a session key, kept to the millisecond as the config topic keeps it.
func (s *MemoryConfigStore) PutSessionKey(ctx context.Context, key SessionKey) error {
	key.Key = append([]byte(nil), key.Key...)
	key.Created = time.UnixMilli(key.Created.UnixMilli())
	return s.write(ctx, sessionKeyRecord{Key: key})
}

// write applies the records as if each was read at the next offset, then announces the changes.
func (s *MemoryConfigStore) write(ctx context.Context, recs ...configRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return ErrClosed
	}
	var events []configEvent
	for _, r := range recs {
		// The next record's offset: the state's offset is the one after the last record, or -1.
		events = append(events, s.state.apply(r, max(s.state.offset, 0))...)
	}
	l := s.listener
	s.mu.Unlock()
	if l != nil {
		dispatch(l, events)
	}
	return nil
}
