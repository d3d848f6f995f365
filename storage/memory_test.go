package storage

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// snapshotReadingListener reads the store's snapshot from inside its callbacks, as a herder
// might, which must not deadlock.
type snapshotReadingListener struct {
	recordingListener
	store ConfigStore
	seen  []int64
}

func (l *snapshotReadingListener) ConnectorConfigChanged(c string) {
	l.seen = append(l.seen, l.store.Snapshot().Offset)
	l.recordingListener.ConnectorConfigChanged(c)
}

func TestMemoryConfigStoreListener(t *testing.T) {
	s := NewMemoryConfigStore()
	ctx := testContext(t)
	// Writes before Start are applied but not announced, like records replayed from a topic.
	if err := s.PutConnectorConfig(ctx, "early", props("name", "early"), nil); err != nil {
		t.Fatal(err)
	}
	l := &snapshotReadingListener{store: s}
	if err := s.Start(ctx, l); err != nil {
		t.Fatal(err)
	}
	if len(l.Events()) != 0 {
		t.Fatalf("write before Start announced: %q", l.Events())
	}
	if err := s.PutConnectorConfig(ctx, "a", props("name", "a"), nil); err != nil {
		t.Fatal(err)
	}
	// The listener ran before the write returned and saw the write in the snapshot.
	if !reflect.DeepEqual(l.Events(), []string{"config a"}) || !reflect.DeepEqual(l.seen, []int64{2}) {
		t.Fatalf("events %q, offsets seen %v", l.Events(), l.seen)
	}
	if !s.Snapshot().Contains("early") {
		t.Fatal("write before Start lost")
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	// The caller's maps are copied: changing them later changes nothing stored.
	cfg := props("name", "b")
	taskCfg := props("t", "0")
	if err := s.PutConnectorConfig(ctx, "b", cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTaskConfigs(ctx, "b", []map[string]string{taskCfg}); err != nil {
		t.Fatal(err)
	}
	cfg["name"], taskCfg["t"] = "changed", "changed"
	snap := s.Snapshot()
	if snap.ConnectorConfigs["b"]["name"] != "b" || snap.TaskConfigs[tid("b", 0)]["t"] != "0" {
		t.Fatalf("stored configs alias the caller's maps: %v %v", snap.ConnectorConfigs["b"], snap.TaskConfigs[tid("b", 0)])
	}

	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTargetState(ctx, "a", Paused); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Stop = %v, want ErrClosed", err)
	}
	if err := s.Start(ctx, l); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Stop = %v, want ErrClosed", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := NewMemoryConfigStore().PutTargetState(cancelled, "a", Paused); !errors.Is(err, context.Canceled) {
		t.Fatalf("write with a cancelled context = %v", err)
	}
}

func TestKafkaConfigStoreListenerMayReadSnapshot(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 1)
	s := newKafkaConfigStore(t, c, "configs")
	l := &snapshotReadingListener{store: s}
	if err := s.Start(testContext(t), l); err != nil {
		t.Fatal(err)
	}
	if err := s.PutConnectorConfig(testContext(t), "a", props("name", "a"), nil); err != nil {
		t.Fatal(err)
	}
	// The write returned after it was read back, which is after its listener call.
	if !reflect.DeepEqual(l.Events(), []string{"config a"}) || !reflect.DeepEqual(l.seen, []int64{1}) {
		t.Fatalf("events %q, offsets seen %v", l.Events(), l.seen)
	}
}
