package storage

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newKafkaConfigStore(t *testing.T, c *kfake.Cluster, topic string) *KafkaConfigStore {
	t.Helper()
	s, err := NewKafkaConfigStore(KafkaOptions{ClientOpts: clientOpts(c), Topic: topic, ClientID: "connect-configs", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("NewKafkaConfigStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func startedKafkaConfigStore(t *testing.T, c *kfake.Cluster, topic string, l ConfigListener) *KafkaConfigStore {
	t.Helper()
	s := newKafkaConfigStore(t, c, topic)
	if err := s.Start(testContext(t), l); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

// configScript is a sequence of writes a herder makes; it runs against both config stores.
func configScript(t *testing.T, s ConfigStore, step func(string)) {
	ctx := testContext(t)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		step(what)
	}
	paused := Paused
	must("create a", s.PutConnectorConfig(ctx, "a", props("name", "a", "tasks.max", "2"), nil))
	must("create my-b paused", s.PutConnectorConfig(ctx, "my-b", props("name", "my-b"), &paused))
	must("tasks a", s.PutTaskConfigs(ctx, "a", []map[string]string{props("t", "0"), props("t", "1")}))
	must("tasks my-b", s.PutTaskConfigs(ctx, "my-b", []map[string]string{props("t", "b0")}))
	must("pause a", s.PutTargetState(ctx, "a", Paused))
	must("resume a", s.PutTargetState(ctx, "a", Started))
	must("reconfigure a", s.PutConnectorConfig(ctx, "a", props("name", "a", "tasks.max", "1"), nil))
	must("fewer tasks a", s.PutTaskConfigs(ctx, "a", []map[string]string{props("t", "0'")}))
	must("stop my-b", s.PutTargetState(ctx, "my-b", Stopped))
	must("no tasks my-b", s.PutTaskConfigs(ctx, "my-b", nil))
	must("restart a", s.PutRestartRequest(ctx, RestartRequest{Connector: "a", IncludeTasks: true}))
	must("session key", s.PutSessionKey(ctx, SessionKey{Key: []byte("secret"), Algorithm: "HmacSHA256", Created: time.UnixMilli(1700000000123)}))
	must("delete my-b", s.RemoveConnectorConfig(ctx, "my-b"))
}

// TestConfigStoresAgree runs the same writes against the memory store and the Kafka store: their
// snapshots (offsets included) and listener calls must be identical after every step.
func TestConfigStoresAgree(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 1)

	var kl recordingListener
	ks := startedKafkaConfigStore(t, c, "configs", &kl)
	var kafkaSnaps []*Snapshot
	configScript(t, ks, func(string) {
		// PutTargetState only waits for the acknowledgement.
		if err := ks.Refresh(testContext(t)); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		kafkaSnaps = append(kafkaSnaps, ks.Snapshot())
	})

	var ml recordingListener
	ms := NewMemoryConfigStore()
	if err := ms.Start(testContext(t), &ml); err != nil {
		t.Fatal(err)
	}
	i := 0
	configScript(t, ms, func(step string) {
		if got, want := ms.Snapshot(), kafkaSnaps[i]; !snapshotsEqual(got, want) {
			t.Fatalf("after %q the stores differ:\nmemory %+v\nkafka  %+v", step, got, want)
		}
		i++
	})
	if !reflect.DeepEqual(ml.Events(), kl.Events()) {
		t.Fatalf("listener calls differ:\nmemory %q\nkafka  %q", ml.Events(), kl.Events())
	}
	want := []string{
		"config a", "config my-b", "tasks a [a/0 a/1]", "tasks my-b [my-b/0]", "target a", "target a",
		"config a", "tasks a [a/0]", "target my-b", "tasks my-b []", "restart a tasks=true failed=false",
		"session-key HmacSHA256", "config my-b",
	}
	if !reflect.DeepEqual(kl.Events(), want) {
		t.Fatalf("listener calls %q, want %q", kl.Events(), want)
	}

	final := ks.Snapshot()
	if !reflect.DeepEqual(final.Connectors(), []string{"a"}) || final.TargetState("a") != Started ||
		!reflect.DeepEqual(final.Tasks("a"), []ConnectorTaskID{tid("a", 0)}) || final.TaskConfigs[tid("a", 0)]["t"] != "0'" ||
		final.SessionKey == nil || string(final.SessionKey.Key) != "secret" {
		t.Fatalf("final snapshot %+v", final)
	}
}

func snapshotsEqual(a, b *Snapshot) bool {
	ak, bk := a.SessionKey, b.SessionKey
	if (ak == nil) != (bk == nil) {
		return false
	}
	if ak != nil && (string(ak.Key) != string(bk.Key) || ak.Algorithm != bk.Algorithm || !ak.Created.Equal(bk.Created)) {
		return false
	}
	ac, bc := *a, *b
	ac.SessionKey, bc.SessionKey = nil, nil
	return reflect.DeepEqual(ac, bc)
}

func TestKafkaConfigStoreRestartsFromTopic(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 1)
	first := startedKafkaConfigStore(t, c, "configs", nil)
	configScript(t, first, func(string) {})
	if err := first.Refresh(testContext(t)); err != nil {
		t.Fatal(err)
	}
	want := first.Snapshot()
	if err := first.Stop(testContext(t)); err != nil {
		t.Fatal(err)
	}

	// A worker starting later rebuilds the same state from the topic, and hears nothing of it.
	var l recordingListener
	second := startedKafkaConfigStore(t, c, "configs", &l)
	if got := second.Snapshot(); !snapshotsEqual(got, want) {
		t.Fatalf("restarted store differs:\ngot  %+v\nwant %+v", got, want)
	}
	if ev := l.Events(); len(ev) != 0 {
		t.Fatalf("records replayed at start were announced: %q (restart requests must not be replayed)", ev)
	}
	// Changes after the start are announced.
	if err := second.PutTargetState(testContext(t), "a", Paused); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the target state change to be announced", func() bool {
		ev := l.Events()
		return len(ev) == 1 && ev[0] == "target a"
	})
}

func TestKafkaConfigStoresShareTopic(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 1)
	var la, lb recordingListener
	a := startedKafkaConfigStore(t, c, "configs", &la)
	b := startedKafkaConfigStore(t, c, "configs", &lb)
	ctx := testContext(t)
	if err := a.PutConnectorConfig(ctx, "x", props("name", "x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := a.PutTaskConfigs(ctx, "x", []map[string]string{props("k", "v")}); err != nil {
		t.Fatal(err)
	}
	// The other worker sees the leader's writes once it read to the end...
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b.Snapshot(); !got.Contains("x") || len(got.Tasks("x")) != 1 || got.Offset != a.Snapshot().Offset {
		t.Fatalf("second store snapshot %+v", got)
	}
	// ...and its listener heard of them, as the writer's did.
	if !reflect.DeepEqual(lb.Events(), []string{"config x", "tasks x [x/0]"}) || !reflect.DeepEqual(la.Events(), lb.Events()) {
		t.Fatalf("listeners: writer %q, reader %q", la.Events(), lb.Events())
	}
	// Pause and resume may be written by any worker.
	if err := b.PutTargetState(ctx, "x", Paused); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Snapshot().TargetState("x") != Paused {
		t.Fatal("target state written by the other store not seen")
	}
}

func TestKafkaConfigStoreReadsJavaRecordsAndSkipsBadOnes(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 1)
	java := func(name string) Entry {
		k, v := goldenRecord(t, "java", name)
		return Entry{Key: k, Value: v}
	}
	golden := func(name string) Entry {
		k, v := goldenRecord(t, "config", name)
		return Entry{Key: k, Value: v}
	}
	produceRaw(t, c, "configs",
		java("connector-config-hashmap-order"),
		Entry{Key: "connector-broken", Value: []byte(`{"properties":`)},
		Entry{Key: "what-is-this", Value: []byte(`{}`)},
		Entry{Key: "commit-kusto-sink", Value: []byte(`{"tasks":"one"}`)},
		java("target-state-v1-paused"),
		golden("logger-cluster"),
		golden("tasks-fencing"),
		Entry{Key: "task-kusto-sink-0", Value: []byte(`{"properties":{"topics":"storm-events","task.class":"x"}}`)},
		Entry{Key: "task-kusto-sink-1", Value: []byte(`{"properties":{"topics":"storm-events","task.class":"x"}}`)},
		Entry{Key: "commit-kusto-sink", Value: []byte(`{"tasks":2}`)},
		golden("restart"),
		golden("session-key"),
	)
	var l recordingListener
	s := startedKafkaConfigStore(t, c, "configs", &l)
	snap := s.Snapshot()
	if snap.Offset != 12 {
		t.Fatalf("offset %d, want 12 (every record counts, readable or not)", snap.Offset)
	}
	if !reflect.DeepEqual(snap.Connectors(), []string{"kusto-sink"}) || !reflect.DeepEqual(snap.ConnectorConfigs["kusto-sink"], kustoConfig) {
		t.Fatalf("connectors %v config %v", snap.Connectors(), snap.ConnectorConfigs["kusto-sink"])
	}
	if snap.TargetState("kusto-sink") != Paused || len(snap.Tasks("kusto-sink")) != 2 || snap.SessionKey == nil {
		t.Fatalf("snapshot %+v", snap)
	}
	if len(l.Events()) != 0 {
		t.Fatalf("replayed records announced: %q", l.Events())
	}
	// The reader is still alive after the bad records.
	produceRaw(t, c, "configs", Entry{Key: "restart-connector-kusto-sink", Value: []byte(`{"include-tasks":false,"only-failed":true}`)})
	if err := s.Refresh(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if ev := l.Events(); !reflect.DeepEqual(ev, []string{"restart kusto-sink tasks=false failed=true"}) {
		t.Fatalf("events %q", ev)
	}
}

func TestKafkaConfigStoreDoesNotResurrectCompactedConnector(t *testing.T) {
	c := newCluster(t)
	// Tombstones are removed by the first compaction, as they are after delete.retention.ms.
	if err := c.CreateTopic("configs", 1, map[string]string{"cleanup.policy": "compact", "delete.retention.ms": "0"}); err != nil {
		t.Fatal(err)
	}
	s := startedKafkaConfigStore(t, c, "configs", nil)
	ctx := testContext(t)
	for _, step := range []func() error{
		func() error { return s.PutConnectorConfig(ctx, "gone", props("name", "gone"), nil) },
		func() error { return s.PutTaskConfigs(ctx, "gone", []map[string]string{props("t", "0")}) },
		func() error { return s.RemoveConnectorConfig(ctx, "gone") },
		func() error { return s.PutConnectorConfig(ctx, "kept", props("name", "kept"), nil) },
		// The last batch is never compacted; this one keeps the records above compactable.
		func() error { return s.PutTargetState(ctx, "kept", Started) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	c.Compact()
	keys := topicKeys(t, c, "configs")
	if strings.Contains(keys, "connector-gone") || !strings.Contains(keys, "task-gone-0") || !strings.Contains(keys, "commit-gone") {
		t.Fatalf("compaction did not leave the old task and commit records alone: %s", keys)
	}

	restarted := startedKafkaConfigStore(t, c, "configs", nil)
	snap := restarted.Snapshot()
	if !reflect.DeepEqual(snap.Connectors(), []string{"kept"}) || len(snap.TaskConfigs) != 0 || len(snap.TaskCounts) != 0 {
		t.Fatalf("deleted connector came back: %+v", snap)
	}
}

// topicKeys lists the keys left in a topic, in order.
func topicKeys(t *testing.T, c *kfake.Cluster, topic string) string {
	t.Helper()
	var keys []string
	l := newTestLog(t, c, topic, func(r *kgo.Record) { keys = append(keys, string(r.Key)) })
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("reading %s: %v", topic, err)
	}
	l.Close()
	return strings.Join(keys, " ")
}

func TestKafkaConfigStoreRefusesMultiPartitionTopic(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 3)
	s := newKafkaConfigStore(t, c, "configs")
	err := s.Start(testContext(t), nil)
	if err == nil || !strings.Contains(err.Error(), "is required to have a single partition") || !strings.Contains(err.Error(), "found 3 partitions") {
		t.Fatalf("Start on a 3-partition topic = %v", err)
	}
	if err := s.PutTargetState(testContext(t), "a", Paused); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after a failed Start = %v, want ErrClosed", err)
	}
}

func TestKafkaConfigStoreWritesBeforeStartFail(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 1)
	s := newKafkaConfigStore(t, c, "configs")
	if err := s.PutConnectorConfig(testContext(t), "a", props(), nil); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("write before Start = %v, want ErrNotStarted", err)
	}
}

func TestKafkaConfigStoreSurvivesBrokerFaults(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "configs", 1)
	produceRaw(t, c, "configs", Entry{Key: "connector-old", Value: []byte(`{"properties":{"name":"old"}}`)})
	// The first fetches of the start-up read fail; the store retries and starts.
	fetches := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Err: kerr.NotLeaderForPartition, Count: 2})
	s := startedKafkaConfigStore(t, c, "configs", nil)
	if err := fetches.Wait(testContext(t), 2); err != nil {
		t.Fatalf("fetch faults not hit: %v", err)
	}
	if !s.Snapshot().Contains("old") {
		t.Fatal("start-up read lost a record")
	}
	// Writes go through produce and list-offsets failures.
	produce := c.Fault(
		kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: 2},
		kfake.Fault{Keys: []kmsg.Key{kmsg.ListOffsets}, Err: kerr.NotLeaderForPartition, Count: 2},
	)
	ctx := testContext(t)
	if err := s.PutConnectorConfig(ctx, "new", props("name", "new"), nil); err != nil {
		t.Fatalf("write through faults: %v", err)
	}
	if err := produce.Wait(ctx, 4); err != nil {
		t.Fatalf("faults not hit: %v", err)
	}
	if !s.Snapshot().Contains("new") {
		t.Fatal("write not read back")
	}
	// A write whose broker never answers gives up when its context does.
	down := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.PutSessionKey(short, SessionKey{Key: []byte("k"), Algorithm: "HmacSHA256", Created: time.Now()}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write while the broker refuses = %v, want a deadline error", err)
	}
	down.Remove()
	if err := s.PutTargetState(testContext(t), "new", Paused); err != nil {
		t.Fatalf("write after the broker recovered: %v", err)
	}
}

func TestStoresSurviveBrokerRestart(t *testing.T) {
	dir := t.TempDir()
	start := func(ports ...int) *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(ports...), kfake.DataDir(dir))
		if err != nil {
			t.Fatalf("starting kfake: %v", err)
		}
		return c
	}
	c := start(0)
	addr := c.ListenAddrs()[0]
	port, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	if err != nil {
		t.Fatal(err)
	}
	seedTopic(t, c, "configs", 1)
	seedTopic(t, c, "statuses", 5)
	var l recordingListener
	cs := startedKafkaConfigStore(t, c, "configs", &l)
	ss := newKafkaStatusStore(t, c, "statuses")
	ctx := testContext(t)
	if err := cs.PutConnectorConfig(ctx, "a", props("name", "a"), nil); err != nil {
		t.Fatal(err)
	}

	// The broker goes away and comes back on the same address with its data.
	c.Close()
	c = start(port)
	defer c.Close()

	if err := cs.PutTaskConfigs(ctx, "a", []map[string]string{props("t", "0")}); err != nil {
		t.Fatalf("config write after the broker restarted: %v", err)
	}
	if got := cs.Snapshot(); len(got.Tasks("a")) != 1 || got.Offset != 3 {
		t.Fatalf("snapshot after restart %+v", got)
	}
	if ev := l.Events(); !reflect.DeepEqual(ev, []string{"config a", "tasks a [a/0]"}) {
		t.Fatalf("events %q", ev)
	}
	ss.PutConnector(ConnectorStatus{Connector: "a", State: Running, WorkerID: "w", Generation: 1})
	syncStatusStore(t, ss)
	if _, ok := ss.Connector("a"); !ok {
		t.Fatal("status written after the broker restarted not read back")
	}
}
