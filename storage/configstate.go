package storage

import "maps"

// configState rebuilds the cluster's configuration from config topic records, as Java's
// KafkaConfigBackingStore does while reading its log. Both config stores feed it: the Kafka store
// with records read back from the topic, the memory store with the records it would have written,
// so both follow the same rules. It is not safe for concurrent use; its owner locks.
type configState struct {
	offset           int64
	sessionKey       *SessionKey
	connectorConfigs map[string]map[string]string
	targetStates     map[string]TargetState
	taskCounts       map[string]int
	taskConfigs      map[ConnectorTaskID]map[string]string
	inconsistent     map[string]bool
	applied          map[string]map[string]string
	// deferred buffers task configs per connector until a commit record applies them.
	deferred map[string]map[int]map[string]string

	// snap caches the snapshot of the current state; nil after any change.
	snap *Snapshot
}

func newConfigState() *configState {
	return &configState{
		offset:           -1,
		connectorConfigs: map[string]map[string]string{},
		targetStates:     map[string]TargetState{},
		taskCounts:       map[string]int{},
		taskConfigs:      map[ConnectorTaskID]map[string]string{},
		inconsistent:     map[string]bool{},
		applied:          map[string]map[string]string{},
		deferred:         map[string]map[int]map[string]string{},
	}
}

// configEventKind says which listener method announces a change.
type configEventKind int

const (
	eventConnectorConfig configEventKind = iota
	eventTaskConfigs
	eventTargetState
	eventRestart
	eventSessionKey
)

// configEvent is a change to announce to the ConfigListener.
type configEvent struct {
	kind      configEventKind
	connector string
	tasks     []ConnectorTaskID
	restart   RestartRequest
	key       SessionKey
}

// dispatch calls the listener method for each event, in order.
func dispatch(l ConfigListener, events []configEvent) {
	for _, e := range events {
		switch e.kind {
		case eventConnectorConfig:
			l.ConnectorConfigChanged(e.connector)
		case eventTaskConfigs:
			l.TaskConfigsCommitted(e.connector, e.tasks)
		case eventTargetState:
			l.TargetStateChanged(e.connector)
		case eventRestart:
			l.RestartRequested(e.restart)
		case eventSessionKey:
			l.SessionKeyChanged(e.key)
		}
	}
}

// advance records that the record at offset was read, whatever it held.
func (s *configState) advance(offset int64) {
	s.offset = offset + 1
	s.snap = nil
}

// apply applies the record read at offset and returns the changes a listener should hear of.
func (s *configState) apply(rec configRecord, offset int64) []configEvent {
	s.advance(offset)
	switch r := rec.(type) {
	case connectorConfigRecord:
		return s.applyConnectorConfig(r)
	case targetStateRecord:
		return s.applyTargetState(r)
	case taskConfigRecord:
		d := s.deferred[r.ID.Connector]
		if d == nil {
			d = map[int]map[string]string{}
			s.deferred[r.ID.Connector] = d
		}
		d[r.ID.Task] = r.Config
	case commitRecord:
		return s.applyCommit(r)
	case sessionKeyRecord:
		k := r.Key
		s.sessionKey = &k
		return []configEvent{{kind: eventSessionKey, key: k}}
	case restartRecord:
		return []configEvent{{kind: eventRestart, restart: r.Request}}
	case taskCountRecord, loggerLevelRecord:
		// Exactly-once source fencing and cluster-wide log levels are not kconnect features; the
		// records are valid and simply have no effect here.
	}
	return nil
}

func (s *configState) applyConnectorConfig(r connectorConfigRecord) []configEvent {
	if r.Config == nil {
		delete(s.connectorConfigs, r.Connector)
		delete(s.taskCounts, r.Connector)
		for id := range s.taskConfigs {
			if id.Connector == r.Connector {
				delete(s.taskConfigs, id)
			}
		}
		delete(s.deferred, r.Connector)
		delete(s.applied, r.Connector)
		delete(s.inconsistent, r.Connector)
		return []configEvent{{kind: eventConnectorConfig, connector: r.Connector}}
	}
	s.connectorConfigs[r.Connector] = r.Config
	// A connector without a target state record (one created before target states existed, or
	// whose record was compacted away) is STARTED.
	if _, ok := s.targetStates[r.Connector]; !ok {
		s.targetStates[r.Connector] = Started
	}
	return []configEvent{{kind: eventConnectorConfig, connector: r.Connector}}
}

func (s *configState) applyTargetState(r targetStateRecord) []configEvent {
	_, exists := s.connectorConfigs[r.Connector]
	if r.Deleted {
		delete(s.targetStates, r.Connector)
		// Every configured connector keeps a target state. The removal itself is announced by the
		// connector config tombstone, not here.
		if exists {
			s.targetStates[r.Connector] = Started
		}
		return nil
	}
	prev, had := s.targetStates[r.Connector]
	s.targetStates[r.Connector] = r.State
	// A target state written just before its connector's config (create with an initial state)
	// is announced with the config, not on its own.
	if !exists || (had && prev == r.State) {
		return nil
	}
	return []configEvent{{kind: eventTargetState, connector: r.Connector}}
}

func (s *configState) applyCommit(r commitRecord) []configEvent {
	deferred := s.deferred[r.Connector]
	delete(s.deferred, r.Connector)
	config, exists := s.connectorConfigs[r.Connector]
	if !exists {
		// The connector was deleted and compaction removed its config and tombstone, leaving
		// older task and commit records behind: they must not bring it back.
		return nil
	}
	s.taskCounts[r.Connector] = r.Tasks
	// Compaction may have removed task configs an older commit counted, so a commit applies only
	// if every id below its count is buffered. Ids at or above the count are leftovers of larger
	// task sets and are ignored.
	for i := 0; i < r.Tasks; i++ {
		if _, ok := deferred[i]; !ok {
			s.inconsistent[r.Connector] = true
			return []configEvent{{kind: eventTaskConfigs, connector: r.Connector, tasks: []ConnectorTaskID{}}}
		}
	}
	for id := range s.taskConfigs {
		if id.Connector == r.Connector && id.Task >= r.Tasks {
			delete(s.taskConfigs, id)
		}
	}
	tasks := make([]ConnectorTaskID, 0, r.Tasks)
	for i := 0; i < r.Tasks; i++ {
		id := ConnectorTaskID{Connector: r.Connector, Task: i}
		s.taskConfigs[id] = deferred[i]
		tasks = append(tasks, id)
	}
	delete(s.inconsistent, r.Connector)
	s.applied[r.Connector] = config
	return []configEvent{{kind: eventTaskConfigs, connector: r.Connector, tasks: tasks}}
}

// snapshot returns an immutable view of the state. Config maps are shared, not copied: nothing
// modifies a map once it is stored.
func (s *configState) snapshot() *Snapshot {
	if s.snap != nil {
		return s.snap
	}
	snap := &Snapshot{
		Offset:                  s.offset,
		ConnectorConfigs:        maps.Clone(s.connectorConfigs),
		TargetStates:            maps.Clone(s.targetStates),
		TaskCounts:              maps.Clone(s.taskCounts),
		TaskConfigs:             maps.Clone(s.taskConfigs),
		Inconsistent:            maps.Clone(s.inconsistent),
		AppliedConnectorConfigs: maps.Clone(s.applied),
	}
	if s.sessionKey != nil {
		k := *s.sessionKey
		snap.SessionKey = &k
	}
	s.snap = snap
	return snap
}
