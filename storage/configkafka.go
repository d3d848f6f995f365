package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// writeTimeout bounds each config write (records, acknowledgements and read-backs together), as
// Java's KafkaConfigBackingStore bounds them with READ_WRITE_TOTAL_TIMEOUT_MS.
const writeTimeout = 30 * time.Second

// KafkaConfigStore is the config topic (config.storage.topic): Java's KafkaConfigBackingStore.
// It reads the whole topic at Start, then tails it; every change read, by this worker or another,
// produces a new Snapshot. Writes return once they were read back, so a Snapshot taken after a
// write includes it. The topic must have a single partition, which keeps its records in order.
type KafkaConfigStore struct {
	log    *Log
	logger *slog.Logger

	// listener is set by Start before the reader starts and read only by the reader.
	listener ConfigListener

	startOnce sync.Once
	startErr  error

	mu    sync.Mutex
	state *configState
}

var _ ConfigStore = (*KafkaConfigStore)(nil)

// NewKafkaConfigStore builds the store. It does no I/O; Start reads the topic.
func NewKafkaConfigStore(o KafkaOptions) (*KafkaConfigStore, error) {
	s := &KafkaConfigStore{logger: o.logger().With("store", "config"), state: newConfigState()}
	o.Logger = s.logger
	l, err := NewLog(o, s.onRecord)
	if err != nil {
		return nil, fmt.Errorf("creating config store: %w", err)
	}
	s.log = l
	return s, nil
}

// Start reads the whole topic and returns once caught up; l (may be nil) then hears of every
// change read. It fails if the topic has more than one partition.
func (s *KafkaConfigStore) Start(ctx context.Context, l ConfigListener) error {
	s.startOnce.Do(func() {
		s.listener = l
		if err := s.log.Start(ctx); err != nil {
			s.startErr = fmt.Errorf("starting config store: %w", err)
			return
		}
		if n := s.log.Partitions(); n > 1 {
			s.log.Close()
			s.startErr = fmt.Errorf("starting config store: %w", errConfigTopicPartitions(s.log.Topic(), "config.storage.topic", n))
			return
		}
		s.logger.Info("config store started", "offset", s.Snapshot().Offset)
	})
	return s.startErr
}

// errConfigTopicPartitions is the error for a config topic with more than one partition.
func errConfigTopicPartitions(topic, property string, n int) error {
	via := ""
	if property != "" {
		via = fmt.Sprintf(" supplied via the '%s' property", property)
	}
	return fmt.Errorf("Topic '%s'%s is required to have a single partition in order to guarantee consistency of "+
		"connector configurations, but found %d partitions.", topic, via, n)
}

// Stop stops reading and closes the client. It is safe to call more than once.
func (s *KafkaConfigStore) Stop(context.Context) error {
	s.log.Close()
	return nil
}

// Snapshot returns the current state.
func (s *KafkaConfigStore) Snapshot() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.snapshot()
}

// Refresh reads the topic up to the end offset seen at call time.
func (s *KafkaConfigStore) Refresh(ctx context.Context) error {
	if err := s.log.ReadToEnd(ctx); err != nil {
		return fmt.Errorf("reading config topic: %w", err)
	}
	return nil
}

// onRecord applies one record read from the topic; it runs on the log's reader goroutine.
func (s *KafkaConfigStore) onRecord(r *kgo.Record) {
	var events []configEvent
	rec, err := decodeConfigRecord(string(r.Key), r.Value)
	s.mu.Lock()
	if err != nil {
		s.state.advance(r.Offset)
	} else {
		events = s.state.apply(rec, r.Offset)
	}
	s.mu.Unlock()
	if err != nil {
		// A record this worker cannot use is skipped, never fatal: other records stay readable.
		if errors.Is(err, errUnknownKey) {
			s.logger.Error("discarding config topic record with invalid key", "key", string(r.Key), "offset", r.Offset, "err", err)
		} else {
			s.logger.Error("ignoring unreadable config topic record", "key", string(r.Key), "offset", r.Offset, "err", err)
		}
		return
	}
	// Records replayed by Start describe the state Start returns, not changes.
	if s.listener != nil && len(events) > 0 && !s.log.Replayed(r) {
		dispatch(s.listener, events)
	}
}

// PutConnectorConfig writes the optional target state and then the connector config, and
// returns once both were read back.
func (s *KafkaConfigStore) PutConnectorConfig(ctx context.Context, connector string, config map[string]string, target *TargetState) error {
	if config == nil {
		config = map[string]string{}
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	var entries []Entry
	if target != nil {
		entries = append(entries, entryOf(targetStateRecord{Connector: connector, State: *target}))
	}
	entries = append(entries, entryOf(connectorConfigRecord{Connector: connector, Config: config}))
	if err := s.writeAndRead(ctx, entries...); err != nil {
		return fmt.Errorf("writing connector configuration for %s: %w", connector, err)
	}
	return nil
}

// RemoveConnectorConfig writes tombstones for the connector config and target state and
// returns once they were read back.
func (s *KafkaConfigStore) RemoveConnectorConfig(ctx context.Context, connector string) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	err := s.writeAndRead(ctx,
		entryOf(connectorConfigRecord{Connector: connector}),
		entryOf(targetStateRecord{Connector: connector, Deleted: true}))
	if err != nil {
		return fmt.Errorf("removing connector configuration for %s: %w", connector, err)
	}
	return nil
}

// PutTaskConfigs reads to the end, writes one record per task config, reads them back, then
// writes the commit record and returns once it was read back.
func (s *KafkaConfigStore) PutTaskConfigs(ctx context.Context, connector string, configs []map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	// Catch up first, so task configs are never buffered behind records not yet read.
	if err := s.log.ReadToEnd(ctx); err != nil {
		return fmt.Errorf("writing task configurations for %s: %w", connector, err)
	}
	entries := make([]Entry, 0, len(configs))
	for i, c := range configs {
		entries = append(entries, entryOf(taskConfigRecord{ID: ConnectorTaskID{Connector: connector, Task: i}, Config: c}))
	}
	if len(entries) > 0 {
		// Every task config must be in the topic before the commit that counts it.
		if err := s.writeAndRead(ctx, entries...); err != nil {
			return fmt.Errorf("writing task configurations for %s: %w", connector, err)
		}
	}
	if err := s.writeAndRead(ctx, entryOf(commitRecord{Connector: connector, Tasks: len(configs)})); err != nil {
		return fmt.Errorf("writing task configuration commit for %s: %w", connector, err)
	}
	return nil
}

// PutTargetState writes a target state record and returns once the broker acknowledged it.
func (s *KafkaConfigStore) PutTargetState(ctx context.Context, connector string, state TargetState) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := s.log.checkStarted(); err != nil {
		return fmt.Errorf("writing target state for %s: %w", connector, err)
	}
	if err := s.log.Send(ctx, entryOf(targetStateRecord{Connector: connector, State: state})); err != nil {
		return fmt.Errorf("writing target state for %s: %w", connector, err)
	}
	return nil
}

// PutRestartRequest writes a restart request record and returns once it was read back.
func (s *KafkaConfigStore) PutRestartRequest(ctx context.Context, req RestartRequest) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := s.writeAndRead(ctx, entryOf(restartRecord{Request: req})); err != nil {
		return fmt.Errorf("writing restart request for %s: %w", req.Connector, err)
	}
	return nil
}

// PutSessionKey writes a session key record and returns once it was read back.
func (s *KafkaConfigStore) PutSessionKey(ctx context.Context, key SessionKey) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := s.writeAndRead(ctx, entryOf(sessionKeyRecord{Key: key})); err != nil {
		return fmt.Errorf("writing session key: %w", err)
	}
	return nil
}

// writeAndRead writes the entries in order, waits for their acknowledgement and reads the topic
// to its end.
func (s *KafkaConfigStore) writeAndRead(ctx context.Context, entries ...Entry) error {
	if err := s.log.checkStarted(); err != nil {
		return err
	}
	if err := s.log.Send(ctx, entries...); err != nil {
		return err
	}
	return s.log.ReadToEnd(ctx)
}

// entryOf encodes a record for the log.
func entryOf(r configRecord) Entry {
	return Entry{Key: r.key(), Value: r.value()}
}
