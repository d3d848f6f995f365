package storage

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testLogger discards logs unless the test runs verbosely.
func testLogger(t testing.TB) *slog.Logger {
	t.Helper()
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// newCluster starts an in-process Kafka cluster that compacts often and closes it with the test.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": "100"}),
	}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// clientOpts connects a client to c. Metadata may be refreshed at once after an error, so tests
// of retried faults take milliseconds instead of the default 5 s per refresh.
func clientOpts(c *kfake.Cluster) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(10 * time.Millisecond)}
}

// newAdmin returns an admin client on c, closed with the test.
func newAdmin(t testing.TB, c *kfake.Cluster) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(clientOpts(c)...)
	if err != nil {
		t.Fatalf("creating client: %v", err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// testContext is a context for one test step.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// seedTopic creates a compacted topic on c.
func seedTopic(t testing.TB, c *kfake.Cluster, topic string, partitions int32) {
	t.Helper()
	if err := c.CreateTopic(topic, partitions, map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

// produceRaw writes records to topic with a plain client, as another program (or a Java
// worker) would, and waits for them.
func produceRaw(t testing.TB, c *kfake.Cluster, topic string, entries ...Entry) {
	t.Helper()
	cl, err := kgo.NewClient(append(clientOpts(c), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))...)
	if err != nil {
		t.Fatalf("creating client: %v", err)
	}
	defer cl.Close()
	for _, e := range entries {
		r := &kgo.Record{Topic: topic, Key: []byte(e.Key), Value: e.Value}
		if err := cl.ProduceSync(testContext(t), r).FirstErr(); err != nil {
			t.Fatalf("producing %s: %v", e.Key, err)
		}
	}
}

// produceBatch writes many records at once and waits for all of them.
func produceBatch(t testing.TB, c *kfake.Cluster, topic string, entries []Entry) {
	t.Helper()
	cl, err := kgo.NewClient(clientOpts(c)...)
	if err != nil {
		t.Fatalf("creating client: %v", err)
	}
	defer cl.Close()
	rs := make([]*kgo.Record, len(entries))
	for i, e := range entries {
		rs[i] = &kgo.Record{Topic: topic, Key: []byte(e.Key), Value: e.Value}
	}
	if err := cl.ProduceSync(testContext(t), rs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recordingListener records listener calls as strings.
type recordingListener struct {
	mu     sync.Mutex
	events []string
}

func (l *recordingListener) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, s)
}

func (l *recordingListener) Events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

func (l *recordingListener) ConnectorConfigChanged(c string) { l.add("config " + c) }
func (l *recordingListener) TaskConfigsCommitted(c string, tasks []ConnectorTaskID) {
	s := "tasks " + c + " ["
	for i, id := range tasks {
		if i > 0 {
			s += " "
		}
		s += id.Connector + "/" + strconv.Itoa(id.Task)
	}
	l.add(s + "]")
}
func (l *recordingListener) TargetStateChanged(c string) { l.add("target " + c) }
func (l *recordingListener) RestartRequested(r RestartRequest) {
	l.add("restart " + r.Connector + " tasks=" + strconv.FormatBool(r.IncludeTasks) + " failed=" + strconv.FormatBool(r.OnlyFailed))
}
func (l *recordingListener) SessionKeyChanged(k SessionKey) { l.add("session-key " + k.Algorithm) }
