// Package storage keeps the cluster's durable state: connector and task configurations, target
// states and session keys (the config topic), connector and task statuses (the status topic),
// and source offsets (the offsets topic), in the byte formats Apache Kafka Connect writes, so a
// kconnect cluster can take over the internal topics of a Java Connect cluster.
//
// Each store is an interface because each has two implementations: Kafka-backed ones for
// distributed mode, built on [Log] (Java's KafkaBasedLog), and in-memory ones for standalone
// mode and for tests of the layers above. Types to learn first: [Snapshot] (the immutable
// ClusterConfigState the herder reads), [ConfigStore], [StatusStore].
package storage

import (
	"context"
	"sort"
	"time"
)

// TargetState is what the user asked a connector to be: Java's TargetState.
type TargetState string

// Target states, spelled as the config topic's "state.v2" field spells them.
const (
	Started TargetState = "STARTED"
	Paused  TargetState = "PAUSED"
	Stopped TargetState = "STOPPED"
)

// State is the observed state of a connector or task, as the status topic and REST API spell it.
type State string

// States. Tasks are never Stopped; Destroyed is written as a tombstone and never shown.
const (
	Unassigned   State = "UNASSIGNED"
	Running      State = "RUNNING"
	StatePaused  State = "PAUSED"
	Failed       State = "FAILED"
	Restarting   State = "RESTARTING"
	StateStopped State = "STOPPED"
	Destroyed    State = "DESTROYED"
)

// ConnectorTaskID names one task of a connector.
type ConnectorTaskID struct {
	Connector string
	Task      int
}

// SessionKey is the KIP-507 key the leader distributes for signing internal requests.
type SessionKey struct {
	Key       []byte
	Algorithm string
	Created   time.Time
}

// RestartRequest is a KIP-745 restart request as stored in the config topic.
type RestartRequest struct {
	Connector    string
	IncludeTasks bool
	OnlyFailed   bool
}

// Snapshot is an immutable view of the config topic at one offset: Java's ClusterConfigState.
// Stores hand out a new Snapshot after every change; nobody may modify one.
type Snapshot struct {
	// Offset is the config topic position the snapshot reflects: the offset after the last
	// record read, or -1 when nothing was read. Workers report it in their group metadata.
	Offset int64
	// SessionKey is the newest session key, or nil.
	SessionKey *SessionKey
	// ConnectorConfigs holds the raw configuration of every connector, by name.
	ConnectorConfigs map[string]map[string]string
	// TargetStates holds the target state of every connector that has a config.
	TargetStates map[string]TargetState
	// TaskCounts holds the committed task count of connectors that have one.
	TaskCounts map[string]int
	// TaskConfigs holds the committed task configurations.
	TaskConfigs map[ConnectorTaskID]map[string]string
	// Inconsistent names connectors whose last commit record did not find every task config it
	// counted; their tasks are not run until the connector writes a complete set.
	Inconsistent map[string]bool
	// AppliedConnectorConfigs holds, per connector, the connector config that was in effect
	// when its task configs were last committed.
	AppliedConnectorConfigs map[string]map[string]string
}

// EmptySnapshot returns the snapshot of an empty config topic.
func EmptySnapshot() *Snapshot {
	return &Snapshot{
		Offset:                  -1,
		ConnectorConfigs:        map[string]map[string]string{},
		TargetStates:            map[string]TargetState{},
		TaskCounts:              map[string]int{},
		TaskConfigs:             map[ConnectorTaskID]map[string]string{},
		Inconsistent:            map[string]bool{},
		AppliedConnectorConfigs: map[string]map[string]string{},
	}
}

// Connectors returns the configured connector names, sorted.
func (s *Snapshot) Connectors() []string {
	out := make([]string, 0, len(s.ConnectorConfigs))
	for name := range s.ConnectorConfigs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Contains reports whether the connector has a config.
func (s *Snapshot) Contains(connector string) bool {
	_, ok := s.ConnectorConfigs[connector]
	return ok
}

// TargetState returns the connector's target state (Started when none was written).
func (s *Snapshot) TargetState(connector string) TargetState {
	if ts, ok := s.TargetStates[connector]; ok {
		return ts
	}
	return Started
}

// Tasks returns the ids of the connector's committed tasks, in order; none for an
// inconsistent connector.
func (s *Snapshot) Tasks(connector string) []ConnectorTaskID {
	if s.Inconsistent[connector] {
		return nil
	}
	n := s.TaskCounts[connector]
	out := make([]ConnectorTaskID, 0, n)
	for i := 0; i < n; i++ {
		id := ConnectorTaskID{Connector: connector, Task: i}
		if _, ok := s.TaskConfigs[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// ConfigListener receives changes read from the config topic after the store started (records
// replayed by Start are not announced). Calls come from the store's reader goroutine, one at a
// time, and must not block: record what changed and wake your own loop.
type ConfigListener interface {
	// ConnectorConfigChanged is called when a connector config is added, changed or removed.
	ConnectorConfigChanged(connector string)
	// TaskConfigsCommitted is called for every commit record read, with the task ids it
	// applied; the list is empty for a zero-task commit and for an inconsistent one (as Java).
	TaskConfigsCommitted(connector string, tasks []ConnectorTaskID)
	// TargetStateChanged is called when a connector's target state record changed.
	TargetStateChanged(connector string)
	// RestartRequested is called for each restart request record.
	RestartRequested(req RestartRequest)
	// SessionKeyChanged is called when a new session key was read.
	SessionKeyChanged(key SessionKey)
}

// ConfigStore is the config topic: Java's ConfigBackingStore.
type ConfigStore interface {
	// Start reads the whole log and returns once caught up; the listener (may be nil) receives
	// changes read after that.
	Start(ctx context.Context, l ConfigListener) error
	// Stop stops reading and releases the clients.
	Stop(ctx context.Context) error
	// Snapshot returns the current state.
	Snapshot() *Snapshot
	// Refresh reads the log up to the end offset seen at call time.
	Refresh(ctx context.Context) error
	// PutConnectorConfig writes the optional target state and then the connector config, and
	// returns once both were read back.
	PutConnectorConfig(ctx context.Context, connector string, config map[string]string, target *TargetState) error
	// RemoveConnectorConfig writes tombstones for the connector config and target state and
	// returns once they were read back. Task configs and commit records are left as Java does.
	RemoveConnectorConfig(ctx context.Context, connector string) error
	// PutTaskConfigs writes one record per task config, then a commit record with the count
	// (0 for none), and returns once the commit was read back.
	PutTaskConfigs(ctx context.Context, connector string, configs []map[string]string) error
	// PutTargetState writes a target state record and returns once the broker acknowledged it.
	PutTargetState(ctx context.Context, connector string, state TargetState) error
	// PutRestartRequest writes a restart request record and returns once it was read back.
	PutRestartRequest(ctx context.Context, req RestartRequest) error
	// PutSessionKey writes a session key record and returns once it was read back.
	PutSessionKey(ctx context.Context, key SessionKey) error
}

// ConnectorStatus is a connector's entry in the status topic.
type ConnectorStatus struct {
	Connector  string
	State      State
	Trace      string // empty when none
	WorkerID   string
	Generation int32
}

// TaskStatus is a task's entry in the status topic.
type TaskStatus struct {
	ID         ConnectorTaskID
	State      State
	Trace      string // empty when none
	WorkerID   string
	Generation int32
}

// TopicStatus records that a connector's task consumed from a topic (KIP-558).
type TopicStatus struct {
	Topic             string
	Connector         string
	Task              int
	DiscoverTimestamp time.Time
}

// StatusStore is the status topic: Java's StatusBackingStore. Writes are asynchronous (Flush
// waits for them); reads come from the store's view of the topic.
type StatusStore interface {
	// Start reads the whole log and returns once caught up.
	Start(ctx context.Context) error
	// Stop flushes pending writes, stops reading and releases the clients.
	Stop(ctx context.Context) error

	// PutConnector writes unconditionally (a Destroyed state writes a tombstone).
	PutConnector(s ConnectorStatus)
	// PutConnectorSafe writes only if no status is cached, the cached one was written by the
	// same worker, or its generation is not newer (Java's putSafe, used for FAILED and UNASSIGNED).
	PutConnectorSafe(s ConnectorStatus)
	// PutTask writes unconditionally (a Destroyed state writes a tombstone).
	PutTask(s TaskStatus)
	// PutTaskSafe is PutConnectorSafe for tasks.
	PutTaskSafe(s TaskStatus)
	// PutTopic records a topic a connector uses.
	PutTopic(s TopicStatus)
	// DeleteTopic writes a tombstone for the connector's use of the topic.
	DeleteTopic(connector, topic string)
	// Flush waits until every write so far was acknowledged.
	Flush(ctx context.Context) error

	// Connector returns the connector's status, if any.
	Connector(connector string) (ConnectorStatus, bool)
	// Task returns the task's status, if any.
	Task(id ConnectorTaskID) (TaskStatus, bool)
	// Tasks returns the statuses of the connector's tasks, sorted by task number.
	Tasks(connector string) []TaskStatus
	// Topics returns the topics the connector is known to use, sorted by name.
	Topics(connector string) []TopicStatus
	// Connectors returns the names of connectors that have a status, sorted.
	Connectors() []string
}
