package storage

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// statusStoreUnderTest is a status store plus a way to wait until its writes are visible.
type statusStoreUnderTest struct {
	StatusStore
	sync func(t *testing.T)
}

func memoryStatusStore(t *testing.T) statusStoreUnderTest {
	s := NewMemoryStatusStore()
	if err := s.Start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	return statusStoreUnderTest{StatusStore: s, sync: func(*testing.T) {}}
}

func kafkaStatusStore(t *testing.T) statusStoreUnderTest {
	c := newCluster(t)
	seedTopic(t, c, "statuses", 5)
	s := newKafkaStatusStore(t, c, "statuses")
	return statusStoreUnderTest{StatusStore: s, sync: func(t *testing.T) { syncStatusStore(t, s) }}
}

func newKafkaStatusStore(t *testing.T, c *kfake.Cluster, topic string) *KafkaStatusStore {
	t.Helper()
	s, err := NewKafkaStatusStore(KafkaOptions{
		ClientOpts: clientOpts(c), Topic: topic, ClientID: "connect-statuses", Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("NewKafkaStatusStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	if err := s.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

// syncStatusStore waits until the store's writes were acknowledged and read back.
func syncStatusStore(t *testing.T, s *KafkaStatusStore) {
	t.Helper()
	ctx := testContext(t)
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := s.log.ReadToEnd(ctx); err != nil {
		t.Fatalf("ReadToEnd: %v", err)
	}
}

func TestStatusStores(t *testing.T) {
	for name, newStore := range map[string]func(*testing.T) statusStoreUnderTest{
		"memory": memoryStatusStore,
		"kafka":  kafkaStatusStore,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testStatusStore(t, newStore(t))
		})
	}
}

func testStatusStore(t *testing.T, s statusStoreUnderTest) {
	conn := func(name string, st State, worker string, gen int32) ConnectorStatus {
		return ConnectorStatus{Connector: name, State: st, WorkerID: worker, Generation: gen}
	}
	tsk := func(name string, n int, st State, worker string, gen int32) TaskStatus {
		return TaskStatus{ID: ConnectorTaskID{Connector: name, Task: n}, State: st, WorkerID: worker, Generation: gen}
	}
	wantConnector := func(name string, want ConnectorStatus) {
		t.Helper()
		got, ok := s.Connector(name)
		if !ok || got != want {
			t.Fatalf("Connector(%s) = %+v, %v; want %+v", name, got, ok, want)
		}
	}
	wantTask := func(name string, n int, want TaskStatus) {
		t.Helper()
		got, ok := s.Task(ConnectorTaskID{Connector: name, Task: n})
		if !ok || got != want {
			t.Fatalf("Task(%s-%d) = %+v, %v; want %+v", name, n, got, ok, want)
		}
	}

	// A plain put is visible once read back, trace included.
	failed := conn("my-sink", Failed, "w1:8083", 3)
	failed.Trace = "boom\n\tat x"
	s.PutConnector(failed)
	s.sync(t)
	wantConnector("my-sink", failed)

	// putSafe does not overwrite a newer generation of another worker...
	s.PutConnector(conn("my-sink", Running, "w2:8083", 5))
	s.sync(t)
	s.PutConnectorSafe(conn("my-sink", Unassigned, "w1:8083", 4))
	s.sync(t)
	wantConnector("my-sink", conn("my-sink", Running, "w2:8083", 5))
	// ...but does overwrite the same worker's status, whatever its generation...
	s.PutConnectorSafe(conn("my-sink", Failed, "w2:8083", 1))
	s.sync(t)
	wantConnector("my-sink", conn("my-sink", Failed, "w2:8083", 1))
	// ...and an older generation.
	s.PutConnectorSafe(conn("my-sink", Unassigned, "w3:8083", 2))
	s.sync(t)
	wantConnector("my-sink", conn("my-sink", Unassigned, "w3:8083", 2))

	// A stale UNASSIGNED for a connector (its previous owner stopping it after the new owner
	// wrote RUNNING in a newer generation) is ignored too; one of the same generation is kept.
	s.PutConnector(conn("moved", Running, "w2:8083", 6))
	s.sync(t)
	// (Written unconditionally: the old owner's cache had not read the RUNNING yet, so its
	// putSafe check let the write through; only the reader can drop it.)
	s.PutConnector(conn("moved", Unassigned, "w1:8083", 5))
	s.sync(t)
	wantConnector("moved", conn("moved", Running, "w2:8083", 6))
	s.PutConnector(conn("moved", Unassigned, "w2:8083", 6))
	s.sync(t)
	wantConnector("moved", conn("moved", Unassigned, "w2:8083", 6))
	s.PutConnector(conn("moved", Destroyed, "w2:8083", 6))
	s.sync(t)

	// Tasks, with '-' in the connector name.
	s.PutTask(tsk("my-sink", 12, Running, "w2:8083", 6))
	s.PutTask(tsk("my-sink", 2, Running, "w1:8083", 6))
	s.sync(t)
	// A stale UNASSIGNED from an older generation (a worker that had not read the new owner's
	// RUNNING) is ignored...
	s.PutTask(tsk("my-sink", 12, Unassigned, "w1:8083", 5))
	s.sync(t)
	wantTask("my-sink", 12, tsk("my-sink", 12, Running, "w2:8083", 6))
	// ...one of the same generation (a clean shutdown) is kept...
	s.PutTask(tsk("my-sink", 12, Unassigned, "w2:8083", 6))
	s.sync(t)
	wantTask("my-sink", 12, tsk("my-sink", 12, Unassigned, "w2:8083", 6))
	// ...and so is a newer one.
	s.PutTask(tsk("my-sink", 12, Running, "w2:8083", 7))
	s.PutTask(tsk("my-sink", 12, Unassigned, "w2:8083", 8))
	s.sync(t)
	wantTask("my-sink", 12, tsk("my-sink", 12, Unassigned, "w2:8083", 8))
	// putSafe on tasks follows the connector rule.
	s.PutTask(tsk("my-sink", 2, StatePaused, "w1:8083", 9))
	s.sync(t)
	s.PutTaskSafe(tsk("my-sink", 2, Failed, "w4:8083", 8))
	s.sync(t)
	wantTask("my-sink", 2, tsk("my-sink", 2, StatePaused, "w1:8083", 9))

	if got := s.Tasks("my-sink"); len(got) != 2 || got[0].ID.Task != 2 || got[1].ID.Task != 12 {
		t.Fatalf("Tasks sorted by number = %+v", got)
	}

	// A destroyed task is removed; a destroyed connector takes its tasks with it.
	s.PutConnector(conn("other", Running, "w1:8083", 1))
	s.PutTask(tsk("my-sink", 2, Destroyed, "w1:8083", 9))
	s.sync(t)
	if _, ok := s.Task(ConnectorTaskID{Connector: "my-sink", Task: 2}); ok {
		t.Fatal("destroyed task still has a status")
	}
	if got := s.Connectors(); !reflect.DeepEqual(got, []string{"my-sink", "other"}) {
		t.Fatalf("Connectors() = %v", got)
	}
	s.PutConnector(conn("my-sink", Destroyed, "w1:8083", 9))
	s.sync(t)
	if _, ok := s.Connector("my-sink"); ok {
		t.Fatal("destroyed connector still has a status")
	}
	if got := s.Tasks("my-sink"); len(got) != 0 {
		t.Fatalf("tasks of a destroyed connector: %+v", got)
	}
	if got := s.Connectors(); !reflect.DeepEqual(got, []string{"other"}) {
		t.Fatalf("Connectors() = %v", got)
	}

	// Topics a connector uses, sorted, and their removal.
	ts := time.UnixMilli(1700000000123)
	s.PutTopic(TopicStatus{Topic: "b-topic", Connector: "other", Task: 1, DiscoverTimestamp: ts})
	s.PutTopic(TopicStatus{Topic: "a-topic", Connector: "other", Task: 0, DiscoverTimestamp: ts})
	s.sync(t)
	topics := s.Topics("other")
	if len(topics) != 2 || topics[0].Topic != "a-topic" || topics[1].Topic != "b-topic" || topics[1].Task != 1 ||
		!topics[0].DiscoverTimestamp.Equal(ts) {
		t.Fatalf("Topics = %+v", topics)
	}
	s.DeleteTopic("other", "a-topic")
	s.sync(t)
	if topics := s.Topics("other"); len(topics) != 1 || topics[0].Topic != "b-topic" {
		t.Fatalf("Topics after delete = %+v", topics)
	}

	if err := s.Flush(testContext(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := s.Stop(testContext(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(testContext(t)); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	// Writes after Stop are dropped, not panics.
	s.PutConnector(conn("late", Running, "w", 1))
	s.PutTopic(TopicStatus{Topic: "t", Connector: "late"})
}

func TestKafkaStatusStoresShareTopicAndRestart(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "statuses", 5)
	// Statuses a Java worker wrote before.
	_, javaValue := goldenRecord(t, "java", "status-reordered")
	_, failed := goldenRecord(t, "status", "connector-failed")
	_, topicValue := goldenRecord(t, "status", "topic")
	produceRaw(t, c, "statuses",
		Entry{Key: "status-connector-kusto-sink", Value: javaValue},
		Entry{Key: "status-connector-dead", Value: failed},
		Entry{Key: "status-connector-dead"},
		Entry{Key: "status-task-kusto-sink-0", Value: []byte(`{"state":`)}, // unreadable: skipped
		Entry{Key: "bogus", Value: []byte(`{}`)},
		Entry{Key: "status-topic-storm-events:connector-kusto-sink", Value: topicValue},
	)
	a := newKafkaStatusStore(t, c, "statuses")
	if got, ok := a.Connector("kusto-sink"); !ok || got.State != Running || got.WorkerID != "worker1:8083" || got.Generation != 7 {
		t.Fatalf("status written by Java = %+v, %v", got, ok)
	}
	if _, ok := a.Connector("dead"); ok {
		t.Fatal("tombstoned status read as present")
	}
	if topics := a.Topics("kusto-sink"); len(topics) != 1 || topics[0].Task != 1 {
		t.Fatalf("topics %+v", topics)
	}

	// Another worker's writes become visible on this one.
	b := newKafkaStatusStore(t, c, "statuses")
	b.PutTask(TaskStatus{ID: tid("kusto-sink", 1), State: Running, WorkerID: "w2:8083", Generation: 8})
	b.PutConnector(ConnectorStatus{Connector: "kusto-sink", State: StatePaused, WorkerID: "w2:8083", Generation: 8})
	syncStatusStore(t, b)
	syncStatusStore(t, a)
	if got, _ := a.Task(tid("kusto-sink", 1)); got.State != Running || got.WorkerID != "w2:8083" {
		t.Fatalf("task status from the other worker = %+v", got)
	}
	if got, _ := a.Connector("kusto-sink"); got.State != StatePaused {
		t.Fatalf("connector status from the other worker = %+v", got)
	}
	// putSafe consults what this worker read: w1 with an older generation may not overwrite.
	a.PutConnectorSafe(ConnectorStatus{Connector: "kusto-sink", State: Unassigned, WorkerID: "w1:8083", Generation: 7})
	syncStatusStore(t, a)
	syncStatusStore(t, b)
	if got, _ := b.Connector("kusto-sink"); got.State != StatePaused {
		t.Fatalf("unsafe overwrite reached the topic: %+v", got)
	}

	// A worker started later sees the same statuses.
	if err := a.Stop(testContext(t)); err != nil {
		t.Fatal(err)
	}
	later := newKafkaStatusStore(t, c, "statuses")
	if got, want := later.Connectors(), b.Connectors(); !reflect.DeepEqual(got, want) || len(got) != 1 {
		t.Fatalf("connectors after restart %v, want %v", got, want)
	}
	if got, want := later.Tasks("kusto-sink"), b.Tasks("kusto-sink"); !reflect.DeepEqual(got, want) {
		t.Fatalf("tasks after restart %+v, want %+v", got, want)
	}
}

func TestKafkaStatusStoreFlushWaitsAndSurvivesFaults(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "statuses", 5)
	s := newKafkaStatusStore(t, c, "statuses")
	// Retriable produce failures are retried; Flush returns once the writes landed.
	h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: 3})
	for i := range 10 {
		s.PutTask(TaskStatus{ID: tid("c", i), State: Running, WorkerID: "w", Generation: 1})
	}
	syncStatusStore(t, s)
	if h.Hits() != 3 {
		t.Fatalf("faults hit %d times, want 3", h.Hits())
	}
	if got := s.Tasks("c"); len(got) != 10 {
		t.Fatalf("%d task statuses read back, want 10", len(got))
	}

	// While the broker refuses writes, Flush gives up with its context; the writes stay
	// pending and land once the broker recovers.
	down := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	s.PutConnector(ConnectorStatus{Connector: "c", State: Failed, Trace: "x", WorkerID: "w", Generation: 2})
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Flush(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush while writes fail = %v, want a deadline error", err)
	}
	down.Remove()
	syncStatusStore(t, s)
	if got, ok := s.Connector("c"); !ok || got.State != Failed {
		t.Fatalf("status written after the broker recovered = %+v, %v", got, ok)
	}
}
