package storage

import (
	"reflect"
	"testing"
)

func props(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func task(c string, n int, kv ...string) taskConfigRecord {
	return taskConfigRecord{ID: ConnectorTaskID{Connector: c, Task: n}, Config: props(kv...)}
}

func tid(c string, n int) ConnectorTaskID { return ConnectorTaskID{Connector: c, Task: n} }

// eventStrings renders events the way recordingListener does, to compare both.
func eventStrings(events []configEvent) []string {
	var l recordingListener
	dispatch(&l, events)
	return l.Events()
}

func TestConfigStateReconstruction(t *testing.T) {
	cfgA := props("name", "a", "tasks.max", "2")
	cfgA2 := props("name", "a", "tasks.max", "1")
	cases := []struct {
		name    string
		records []configRecord
		check   func(t *testing.T, s *Snapshot)
		events  []string // of the last record
	}{
		{
			name: "connector with committed tasks",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 0, "t", "0"), task("a", 1, "t", "1"),
				commitRecord{"a", 2},
			},
			check: func(t *testing.T, s *Snapshot) {
				wantTasks(t, s, "a", tid("a", 0), tid("a", 1))
				if s.TaskConfigs[tid("a", 1)]["t"] != "1" || s.TaskCounts["a"] != 2 || s.Inconsistent["a"] {
					t.Errorf("snapshot %+v", s)
				}
				if !reflect.DeepEqual(s.AppliedConnectorConfigs["a"], cfgA) || s.TargetState("a") != Started || s.Offset != 4 {
					t.Errorf("applied %v target %s offset %d", s.AppliedConnectorConfigs["a"], s.TargetState("a"), s.Offset)
				}
			},
			events: []string{"tasks a [a/0 a/1]"},
		},
		{
			name: "task configs are invisible until their commit",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 0), task("a", 1),
			},
			check: func(t *testing.T, s *Snapshot) {
				wantTasks(t, s, "a")
				if len(s.TaskConfigs) != 0 {
					t.Errorf("buffered task configs leaked: %v", s.TaskConfigs)
				}
			},
		},
		{
			name: "commit missing a task id marks the connector inconsistent",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 1), // task 0 was compacted away
				commitRecord{"a", 2},
			},
			check: func(t *testing.T, s *Snapshot) {
				if !s.Inconsistent["a"] || s.TaskCounts["a"] != 2 {
					t.Errorf("inconsistent %v count %d", s.Inconsistent["a"], s.TaskCounts["a"])
				}
				wantTasks(t, s, "a")
				if _, ok := s.AppliedConnectorConfigs["a"]; ok {
					t.Error("an inconsistent commit recorded an applied config")
				}
			},
			events: []string{"tasks a []"},
		},
		{
			name: "a complete later commit clears the inconsistency",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 1),
				commitRecord{"a", 2},
				task("a", 0, "v", "new"), task("a", 1, "v", "new"),
				commitRecord{"a", 2},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.Inconsistent["a"] {
					t.Error("still inconsistent")
				}
				wantTasks(t, s, "a", tid("a", 0), tid("a", 1))
				if s.TaskConfigs[tid("a", 0)]["v"] != "new" {
					t.Errorf("task 0 config %v", s.TaskConfigs[tid("a", 0)])
				}
			},
			events: []string{"tasks a [a/0 a/1]"},
		},
		{
			name: "the buffer is cleared by an inconsistent commit",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 1),
				commitRecord{"a", 2},
				task("a", 0),
				commitRecord{"a", 2}, // task 1 is no longer buffered
			},
			check: func(t *testing.T, s *Snapshot) {
				if !s.Inconsistent["a"] {
					t.Error("commit applied a task config consumed by an earlier commit")
				}
			},
			events: []string{"tasks a []"},
		},
		{
			name: "compaction leftovers above the count are ignored",
			// Written: task0 task1 commit(2) task0' commit(1); compacted: task1 task0' commit(1).
			records: []configRecord{
				connectorConfigRecord{"a", cfgA2},
				task("a", 1, "v", "old"),
				task("a", 0, "v", "new"),
				commitRecord{"a", 1},
			},
			check: func(t *testing.T, s *Snapshot) {
				wantTasks(t, s, "a", tid("a", 0))
				if _, ok := s.TaskConfigs[tid("a", 1)]; ok || s.Inconsistent["a"] || s.TaskConfigs[tid("a", 0)]["v"] != "new" {
					t.Errorf("task configs %v inconsistent %v", s.TaskConfigs, s.Inconsistent["a"])
				}
			},
			events: []string{"tasks a [a/0]"},
		},
		{
			name: "a smaller commit drops task configs above the new count",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 0), task("a", 1), commitRecord{"a", 2},
				task("a", 0), commitRecord{"a", 1},
			},
			check: func(t *testing.T, s *Snapshot) {
				wantTasks(t, s, "a", tid("a", 0))
				if len(s.TaskConfigs) != 1 {
					t.Errorf("task configs %v", s.TaskConfigs)
				}
			},
			events: []string{"tasks a [a/0]"},
		},
		{
			name: "zero-task commit (stopped connector)",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 0), commitRecord{"a", 1},
				targetStateRecord{Connector: "a", State: Stopped},
				commitRecord{"a", 0},
			},
			check: func(t *testing.T, s *Snapshot) {
				wantTasks(t, s, "a")
				if s.TaskCounts["a"] != 0 || len(s.TaskConfigs) != 0 || s.TargetState("a") != Stopped {
					t.Errorf("count %d configs %v state %s", s.TaskCounts["a"], s.TaskConfigs, s.TargetState("a"))
				}
			},
			events: []string{"tasks a []"},
		},
		{
			name: "deleted connector whose config and tombstone were compacted is not resurrected",
			records: []configRecord{
				task("a", 0), task("a", 1),
				commitRecord{"a", 2},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.Contains("a") || len(s.TaskConfigs) != 0 || len(s.TaskCounts) != 0 || len(s.Connectors()) != 0 {
					t.Errorf("deleted connector came back: %+v", s)
				}
			},
			events: nil,
		},
		{
			name: "leftover tasks of a deleted connector do not leak into its re-creation",
			records: []configRecord{
				task("a", 0, "v", "old"),
				commitRecord{"a", 1},
				connectorConfigRecord{"a", cfgA},
			},
			check: func(t *testing.T, s *Snapshot) {
				wantTasks(t, s, "a")
				if len(s.TaskConfigs) != 0 {
					t.Errorf("old task configs: %v", s.TaskConfigs)
				}
			},
			events: []string{"config a"},
		},
		{
			name: "connector tombstone removes its tasks, count and applied config",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				task("a", 0), commitRecord{"a", 1},
				connectorConfigRecord{"b", cfgA},
				task("a", 0), // buffered, then dropped by the tombstone
				connectorConfigRecord{Connector: "a"},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.Contains("a") || len(s.TaskConfigs) != 0 || len(s.TaskCounts) != 0 || len(s.AppliedConnectorConfigs) != 0 {
					t.Errorf("snapshot after delete: %+v", s)
				}
				if !reflect.DeepEqual(s.Connectors(), []string{"b"}) {
					t.Errorf("connectors %v", s.Connectors())
				}
				// Java removes the target state only with its own tombstone.
				if s.TargetStates["a"] != Started {
					t.Errorf("target states %v", s.TargetStates)
				}
			},
			events: []string{"config a"},
		},
		{
			name: "delete then target state tombstone",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				connectorConfigRecord{Connector: "a"},
				targetStateRecord{Connector: "a", Deleted: true},
			},
			check: func(t *testing.T, s *Snapshot) {
				if _, ok := s.TargetStates["a"]; ok {
					t.Errorf("target state of a deleted connector kept: %v", s.TargetStates)
				}
			},
			events: nil,
		},
		{
			name: "target state tombstone of a configured connector resets it to STARTED",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				targetStateRecord{Connector: "a", State: Paused},
				targetStateRecord{Connector: "a", Deleted: true},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.TargetStates["a"] != Started {
					t.Errorf("target state %q", s.TargetStates["a"])
				}
			},
			events: nil,
		},
		{
			name: "create with an initial target state announces the config only",
			records: []configRecord{
				targetStateRecord{Connector: "a", State: Paused},
				connectorConfigRecord{"a", cfgA},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.TargetState("a") != Paused {
					t.Errorf("target state %s", s.TargetState("a"))
				}
			},
			events: []string{"config a"},
		},
		{
			name: "a target state before its config is not announced",
			records: []configRecord{
				targetStateRecord{Connector: "a", State: Stopped},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.Contains("a") || s.TargetStates["a"] != Stopped {
					t.Errorf("snapshot %+v", s)
				}
			},
			events: nil,
		},
		{
			name: "a changed target state is announced",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				targetStateRecord{Connector: "a", State: Paused},
			},
			events: []string{"target a"},
		},
		{
			name: "an unchanged target state is not announced",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				targetStateRecord{Connector: "a", State: Started},
			},
			events: nil,
		},
		{
			name: "connector config update keeps tasks and target state",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				targetStateRecord{Connector: "a", State: Paused},
				task("a", 0), commitRecord{"a", 1},
				connectorConfigRecord{"a", cfgA2},
			},
			check: func(t *testing.T, s *Snapshot) {
				wantTasks(t, s, "a", tid("a", 0))
				if s.TargetState("a") != Paused || !reflect.DeepEqual(s.ConnectorConfigs["a"], cfgA2) ||
					!reflect.DeepEqual(s.AppliedConnectorConfigs["a"], cfgA) {
					t.Errorf("snapshot %+v", s)
				}
			},
			events: []string{"config a"},
		},
		{
			name: "session key",
			records: []configRecord{
				sessionKeyRecord{Key: SessionKey{Key: []byte("k1"), Algorithm: "HmacSHA256", Created: sessionCreated}},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.SessionKey == nil || string(s.SessionKey.Key) != "k1" || !s.SessionKey.Created.Equal(sessionCreated) {
					t.Errorf("session key %+v", s.SessionKey)
				}
			},
			events: []string{"session-key HmacSHA256"},
		},
		{
			name: "restart request",
			records: []configRecord{
				restartRecord{Request: RestartRequest{Connector: "a", IncludeTasks: true, OnlyFailed: true}},
			},
			events: []string{"restart a tasks=true failed=true"},
		},
		{
			name: "task count and logger records change nothing but the offset",
			records: []configRecord{
				connectorConfigRecord{"a", cfgA},
				taskCountRecord{Connector: "a", TaskCount: 3},
				loggerLevelRecord{Namespace: "root", Level: "DEBUG"},
			},
			check: func(t *testing.T, s *Snapshot) {
				if s.Offset != 3 || len(s.ConnectorConfigs) != 1 {
					t.Errorf("snapshot %+v", s)
				}
			},
			events: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newConfigState()
			var last []configEvent
			for i, r := range tc.records {
				last = st.apply(r, int64(i))
			}
			snap := st.snapshot()
			if snap.Offset != int64(len(tc.records)) {
				t.Errorf("offset %d, want %d", snap.Offset, len(tc.records))
			}
			if tc.check != nil {
				tc.check(t, snap)
			}
			if got := eventStrings(last); !reflect.DeepEqual(got, tc.events) {
				t.Errorf("events of the last record %q, want %q", got, tc.events)
			}
		})
	}
}

func wantTasks(t *testing.T, s *Snapshot, connector string, want ...ConnectorTaskID) {
	t.Helper()
	got := s.Tasks(connector)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Tasks(%s) = %v, want %v", connector, got, want)
	}
}

func TestConfigStateSnapshotsAreImmutable(t *testing.T) {
	st := newConfigState()
	st.apply(connectorConfigRecord{"a", props("k", "v")}, 0)
	before := st.snapshot()
	if st.snapshot() != before {
		t.Fatal("snapshot of an unchanged state was rebuilt")
	}
	st.apply(connectorConfigRecord{"b", props()}, 1)
	st.apply(task("a", 0), 2)
	st.apply(commitRecord{"a", 1}, 3)
	after := st.snapshot()
	if after == before {
		t.Fatal("snapshot not renewed after a change")
	}
	if before.Contains("b") || len(before.TaskConfigs) != 0 || before.Offset != 1 {
		t.Fatalf("an earlier snapshot changed: %+v", before)
	}
	if !after.Contains("b") || len(after.Tasks("a")) != 1 || after.Offset != 4 {
		t.Fatalf("later snapshot %+v", after)
	}
}

func TestConfigStateOffsetCountsUnreadableRecords(t *testing.T) {
	st := newConfigState()
	if st.snapshot().Offset != -1 {
		t.Fatalf("empty offset %d, want -1", st.snapshot().Offset)
	}
	for i := range 5 {
		st.advance(int64(i))
	}
	if got := st.snapshot().Offset; got != 5 {
		t.Fatalf("offset %d, want 5", got)
	}
}
