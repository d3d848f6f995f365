package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// collector gathers what a Log hands its callback.
type collector struct {
	mu   sync.Mutex
	recs []string // "partition/offset key=value"
	keys map[string][]byte
}

func (c *collector) onRecord(r *kgo.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string][]byte{}
	}
	c.recs = append(c.recs, fmt.Sprintf("%d/%d %s=%s", r.Partition, r.Offset, r.Key, r.Value))
	c.keys[string(r.Key)] = r.Value
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recs)
}

func (c *collector) value(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.keys[key]
	return v, ok
}

func newTestLog(t *testing.T, c *kfake.Cluster, topic string, onRecord func(*kgo.Record)) *Log {
	t.Helper()
	l, err := NewLog(KafkaOptions{ClientOpts: clientOpts(c), Topic: topic, ClientID: "test-log", Logger: testLogger(t)}, onRecord)
	if err != nil {
		t.Fatalf("NewLog: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

func TestLogStartReadsExistingRecordsAndTails(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 3)
	var want []Entry
	for i := range 30 {
		want = append(want, Entry{Key: fmt.Sprintf("k%d", i), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	produceRaw(t, c, "log", want...)

	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// Start returns only after every record present at the call went through the callback.
	if got := col.count(); got != 30 {
		t.Fatalf("after Start the callback saw %d records, want 30", got)
	}
	if l.Partitions() != 3 {
		t.Fatalf("Partitions() = %d, want 3", l.Partitions())
	}

	// Records written afterwards (by anyone) are tailed; ReadToEnd waits for them.
	produceRaw(t, c, "log", Entry{Key: "later", Value: []byte("x")})
	if err := l.ReadToEnd(testContext(t)); err != nil {
		t.Fatalf("ReadToEnd: %v", err)
	}
	if v, ok := col.value("later"); !ok || string(v) != "x" {
		t.Fatalf("after ReadToEnd the record written later was not seen (got %q, %v)", v, ok)
	}
}

func TestLogRecordsArriveInOrderPerPartitionAndAsWrittenByKafkaPartitioner(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 5)
	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ctx := testContext(t)
	for i := range 20 {
		if err := l.Send(ctx, Entry{Key: "foobar", Value: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if err := l.ReadToEnd(ctx); err != nil {
		t.Fatalf("ReadToEnd: %v", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.recs) != 20 {
		t.Fatalf("saw %d records, want 20", len(col.recs))
	}
	// Kafka's default partitioner: toPositive(murmur2(key)) % partitions, where
	// murmur2("foobar") = -790332482 (a vector of Kafka's UtilsTest.testMurmur2).
	hash := int32(-790332482)
	wantPartition := (hash & 0x7fffffff) % 5
	for i, r := range col.recs {
		want := fmt.Sprintf("%d/%d foobar=%d", wantPartition, i, i)
		if r != want {
			t.Fatalf("record %d = %q, want %q", i, r, want)
		}
	}
}

func TestLogReadToEndOnEmptyTopicAndTombstones(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 1)
	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start on an empty topic: %v", err)
	}
	if err := l.ReadToEnd(testContext(t)); err != nil {
		t.Fatalf("ReadToEnd on an empty topic: %v", err)
	}
	if err := l.Send(testContext(t), Entry{Key: "gone"}); err != nil {
		t.Fatalf("Send tombstone: %v", err)
	}
	if err := l.ReadToEnd(testContext(t)); err != nil {
		t.Fatalf("ReadToEnd: %v", err)
	}
	if v, ok := col.value("gone"); !ok || v != nil {
		t.Fatalf("tombstone read back as %q (seen %v), want a nil value", v, ok)
	}

	// Flush waits for every asynchronous write.
	var mu sync.Mutex
	acked := 0
	for i := range 50 {
		l.SendAsync(Entry{Key: fmt.Sprint("async-", i), Value: []byte("v")}, func(err error) {
			if err == nil {
				mu.Lock()
				acked++
				mu.Unlock()
			}
		})
	}
	if err := l.Flush(testContext(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if acked != 50 {
		t.Fatalf("%d of 50 writes acknowledged when Flush returned", acked)
	}
}

func TestLogReadToEndPassesTransactionMarkers(t *testing.T) {
	// A Java leader with exactly-once support writes the config topic in transactions; the
	// commit marker takes the last offset, where no data record will ever be.
	c := newCluster(t)
	seedTopic(t, c, "log", 1)
	txn, err := kgo.NewClient(append(clientOpts(c), kgo.TransactionalID("connect-cluster-test"))...)
	if err != nil {
		t.Fatalf("creating transactional client: %v", err)
	}
	defer txn.Close()
	ctx := testContext(t)
	if err := txn.BeginTransaction(); err != nil {
		t.Fatalf("BeginTransaction: %v", err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Topic: "log", Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("EndTransaction: %v", err)
	}

	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if col.count() != 1 {
		t.Fatalf("callback saw %d records, want 1 (the marker is not a record)", col.count())
	}
	if err := l.ReadToEnd(ctx); err != nil {
		t.Fatalf("ReadToEnd: %v", err)
	}
}

func TestLogReadToEndHonoursContext(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 1)
	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// Fail every fetch so the reader cannot advance, then write a record: ReadToEnd must give
	// up when its context ends rather than hang.
	h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Err: kerr.UnknownServerError, Count: -1})
	produceRaw(t, c, "log", Entry{Key: "k", Value: []byte("v")})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := l.ReadToEnd(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadToEnd with fetches failing = %v, want a deadline error", err)
	}
	// Once fetches work again, the same reader catches up: the failures did not kill it.
	h.Remove()
	if err := l.ReadToEnd(testContext(t)); err != nil {
		t.Fatalf("ReadToEnd after the fault cleared: %v", err)
	}
	if _, ok := col.value("k"); !ok {
		t.Fatal("record not read after the fault cleared")
	}
}

func TestLogSurvivesProduceFaults(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 1)
	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// The first produce requests fail with retriable errors; the client retries them.
	h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotLeaderForPartition, Count: 3})
	if err := l.Send(testContext(t), Entry{Key: "a", Value: []byte("1")}, Entry{Key: "b", Value: []byte("2")}); err != nil {
		t.Fatalf("Send through retriable faults: %v", err)
	}
	if err := h.Wait(testContext(t), 3); err != nil {
		t.Fatalf("the produce faults were not hit: %v", err)
	}
	if err := l.ReadToEnd(testContext(t)); err != nil {
		t.Fatalf("ReadToEnd: %v", err)
	}
	if _, ok := col.value("b"); !ok {
		t.Fatal("record written through faults was not read back")
	}
}

func TestLogSendHonoursContextAndCloseFailsPending(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 1)
	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotLeaderForPartition, Count: -1})
	defer h.Remove()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := l.Send(ctx, Entry{Key: "a", Value: []byte("1")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send while the broker refuses writes = %v, want a deadline error", err)
	}
	done := make(chan error, 1)
	l.SendAsync(Entry{Key: "b", Value: []byte("2")}, func(err error) { done <- err })
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("pending write after Close ended with %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pending write was not failed by Close")
	}
	if err := l.ReadToEnd(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadToEnd after Close = %v, want ErrClosed", err)
	}
	l.Close() // idempotent
}

func TestLogStartFailsWhenTopicMissing(t *testing.T) {
	c := newCluster(t)
	var col collector
	l := newTestLog(t, c, "missing", col.onRecord)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := l.Start(ctx); err == nil {
		t.Fatal("Start on a missing topic succeeded")
	}
	if err := l.ReadToEnd(testContext(t)); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("ReadToEnd after a failed Start = %v, want ErrNotStarted", err)
	}
}

func TestLogReadToEndAfterRecordsDeleted(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 1)
	produceRaw(t, c, "log", Entry{Key: "a", Value: []byte("1")}, Entry{Key: "b", Value: []byte("2")})
	if err := c.DeleteRecords("log", 0, 2); err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	// The end offset is 2 but no record is left to read: Start must still return.
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if col.count() != 0 {
		t.Fatalf("saw %d records of a deleted range", col.count())
	}
}

func TestLogReadsPartitionsAddedLater(t *testing.T) {
	c := newCluster(t)
	seedTopic(t, c, "log", 1)
	var col collector
	l := newTestLog(t, c, "log", col.onRecord)
	if err := l.Start(testContext(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	adm := newAdmin(t, c)
	if _, err := adm.UpdatePartitions(testContext(t), 3, "log"); err != nil {
		t.Fatalf("adding partitions: %v", err)
	}
	// Written by another client straight into the new partitions.
	cl, err := kgo.NewClient(append(clientOpts(c), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for p := range int32(3) {
		r := &kgo.Record{Topic: "log", Partition: p, Key: []byte(fmt.Sprint("p", p)), Value: []byte("v")}
		if err := cl.ProduceSync(testContext(t), r).FirstErr(); err != nil {
			t.Fatalf("producing to partition %d: %v", p, err)
		}
	}
	if err := l.ReadToEnd(testContext(t)); err != nil {
		t.Fatalf("ReadToEnd: %v", err)
	}
	for _, k := range []string{"p0", "p1", "p2"} {
		if _, ok := col.value(k); !ok {
			t.Errorf("record %s of a partition added after Start not read", k)
		}
	}
	if l.Partitions() != 3 {
		t.Errorf("Partitions() = %d, want 3", l.Partitions())
	}
}
