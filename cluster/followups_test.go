package cluster

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kconnect/kconnect/storage"
	"github.com/kconnect/kconnect/task"
)

// TestClusterConsumesWithConnectorCredentials: the worker's own cluster needs no credentials;
// the connector reads from another cluster, with SCRAM credentials, through
// consumer.override.* (the Confluent Cloud and Event Hubs set-up). The topics it consumes are
// recorded in the status topic, listed, reset and recorded again.
func TestClusterConsumesWithConnectorCredentials(t *testing.T) {
	saved := topicReadBack
	topicReadBack = 100 * time.Millisecond
	t.Cleanup(func() { topicReadBack = saved }) // runs after the workers stopped

	const user, pass = "svc-kusto", "Sc4am-pa55word"
	data := newFakeKafka(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", user, pass))
	client, err := kgo.NewClient(kgo.SeedBrokers(data.ListenAddrs()...), kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	adm := kadm.NewClient(client)
	ctx := context.Background()
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "secured"); err != nil {
		t.Fatal(err)
	}
	produce := func(n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: "secured", Partition: int32(i % 2), Value: []byte("v")}
		}
		if err := client.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	committed := func() int64 {
		resp, err := adm.FetchOffsets(ctx, "connect-secure")
		if err != nil {
			return -1
		}
		var sum int64
		resp.Each(func(o kadm.OffsetResponse) { sum += o.At })
		return sum
	}
	produce(10)

	c := newTestCluster(t, "offset.flush.interval.ms", "100")
	w := c.start()
	cfg := sinkConfig("secure", "topics", "secured", "tasks.max", "1",
		"key.converter", "StringConverter", "value.converter", "StringConverter",
		"consumer.override.bootstrap.servers", strings.Join(data.ListenAddrs(), ","),
		"consumer.override.security.protocol", "SASL_PLAINTEXT",
		"consumer.override.sasl.mechanism", "SCRAM-SHA-512",
		"consumer.override.sasl.jaas.config", `org.apache.kafka.common.security.scram.ScramLoginModule required username="`+user+`" password="`+pass+`";`)
	if err := c.doRetry(w.h, func(h *Herder) error { _, _, err := h.PutConnectorConfig(ctx, "secure", cfg, false, nil); return err }); err != nil {
		t.Fatal(err)
	}
	st := expectStatus(t, w.h, "secure", storage.Running, storage.Running)
	waitFor(t, 30*time.Second, "the records consumed and committed", func() error {
		if n := committed(); n != 10 {
			return fmt.Errorf("committed %d", n)
		}
		return nil
	})
	if strings.Contains(fmt.Sprint(st), pass) {
		t.Errorf("the status shows the password: %+v", st)
	}

	topics := func(want ...string) func() error {
		return func() error {
			got, err := w.h.ConnectorTopics(ctx, "secure")
			if err != nil {
				return err
			}
			if len(want) == 0 && len(got) == 0 || reflect.DeepEqual(got, want) {
				return nil
			}
			return fmt.Errorf("topics %q", got)
		}
	}
	waitFor(t, 10*time.Second, "the topic recorded", topics("secured"))
	recorded := w.h.statusStore().Topics("secure")
	if len(recorded) != 1 || recorded[0].Task != 0 || recorded[0].DiscoverTimestamp.IsZero() {
		t.Errorf("topic status %+v", recorded)
	}
	if err := w.h.ResetConnectorTopics(ctx, "secure"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the topics reset", topics())
	// New records after the reset: the topic is recorded again once the earlier write is old.
	waitFor(t, 10*time.Second, "the topic recorded again", func() error {
		produce(2)
		return topics("secured")()
	})
}

// slowTopics is a status store whose topic records appear only when applied, as a Kafka-backed
// store shows them only once read back; it counts the writes.
type slowTopics struct {
	storage.StatusStore
	mu      sync.Mutex
	pending []storage.TopicStatus
	puts    []storage.TopicStatus
}

func (s *slowTopics) PutTopic(ts storage.TopicStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, ts)
	s.puts = append(s.puts, ts)
}

func (s *slowTopics) apply() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range s.pending {
		s.StatusStore.PutTopic(ts)
	}
	s.pending = nil
}

func (s *slowTopics) writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ts := range s.puts {
		out = append(out, fmt.Sprintf("%s:%s/%d", ts.Topic, ts.Connector, ts.Task))
	}
	return out
}

func TestTopicUsedRecordsEachTopicOnce(t *testing.T) {
	setup := func(kv ...string) (*Herder, *slowTopics, *taskStatus) {
		h := newIdleHerder(t, kv...)
		store := &slowTopics{StatusStore: storage.NewMemoryStatusStore()}
		h.stores.Store(&stores{config: storage.NewMemoryConfigStore(), status: store})
		ts := &taskStatus{h: h, runner: &taskRunner{id: storage.ConnectorTaskID{Connector: "c", Task: 1}}, written: map[string]time.Time{}}
		return h, store, ts
	}
	ctx := context.Background()

	h, store, ts := setup()
	ts.TopicUsed("a")
	ts.TopicUsed("a") // not read back yet, but written a moment ago
	store.apply()
	ts.TopicUsed("a") // known
	ts.TopicUsed("b")
	store.apply()
	if got := store.writes(); !slices.Equal(got, []string{"a:c/1", "b:c/1"}) {
		t.Fatalf("writes %q", got)
	}
	if got, _ := h.ConnectorTopics(ctx, "c"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("topics %q", got)
	}
	if ts := store.Topics("c"); ts[0].DiscoverTimestamp.IsZero() {
		t.Errorf("no discovery time: %+v", ts)
	}
	// After a reset the next use records the topic again.
	if err := h.ResetConnectorTopics(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	ts.TopicUsed("a")
	if got := store.writes(); len(got) != 3 || got[2] != "a:c/1" {
		t.Errorf("after a reset: writes %q", got)
	}

	// A write that never shows up is repeated once topicReadBack passed.
	_, store, ts = setup()
	ts.written["x"] = time.Now().Add(-topicReadBack)
	ts.TopicUsed("x")
	if got := store.writes(); len(got) != 1 {
		t.Errorf("a lost write is not repeated: %q", got)
	}

	// Switched off, or from an abandoned task: nothing.
	_, store, ts = setup("topic.tracking.enable", "false")
	ts.TopicUsed("a")
	_, store2, ts2 := setup()
	ts2.runner.abandoned.Store(true)
	ts2.TopicUsed("a")
	if len(store.writes())+len(store2.writes()) != 0 {
		t.Errorf("writes %q %q", store.writes(), store2.writes())
	}
}

// TestHealthAndTimeoutsNameTheStage: GET /health's answers, and the stage a stuck herder
// goroutine reports in health answers and request timeouts.
func TestHealthAndTimeoutsNameTheStage(t *testing.T) {
	ctx := context.Background()
	idle := newIdleHerder(t)
	var he *HealthError
	if err := idle.Health(ctx); !errors.As(err, &he) || !he.Starting || he.Stage != "" {
		t.Fatalf("a herder that never ran: %v", err)
	}

	release := blockStops("health")
	c := newTestCluster(t)
	t.Cleanup(release) // before the workers stop
	w := c.start()
	if err := w.h.Health(ctx); err != nil {
		t.Fatalf("a ready worker: %v", err)
	}
	cfg := sinkConfig("stuck", "tasks.max", "1", "test.block.stop", "health")
	if err := c.doRetry(w.h, func(h *Herder) error { _, _, err := h.PutConnectorConfig(ctx, "stuck", cfg, false, nil); return err }); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, w.h, "stuck", storage.Running, storage.Running)

	savedHealth, savedRequest := healthTimeout, requestTimeout
	healthTimeout, requestTimeout = 50*time.Millisecond, 50*time.Millisecond
	defer func() { healthTimeout, requestTimeout = savedHealth, savedRequest }()
	// The restart stops the connector on the herder goroutine, whose Stop blocks until release
	// (at most task.shutdown.graceful.timeout.ms, 2 s here).
	restarted := make(chan error, 1)
	go func() { _, err := w.h.RestartConnector(context.Background(), "stuck", false, false); restarted <- err }()
	defer func() { <-restarted }() // before the timeouts are restored
	const doing = "The worker is currently stopping connector stuck, which began at "
	waitFor(t, 10*time.Second, "an unhealthy answer", func() error {
		err := w.h.Health(ctx)
		if errors.As(err, &he) && !he.Starting && strings.HasPrefix(he.Stage, doing) && strings.HasSuffix(he.Stage, "Z.") {
			return nil
		}
		return fmt.Errorf("health: %v", err)
	})
	_, err := w.h.ConnectorInfo(ctx, "stuck")
	var herr *Error
	if !errors.As(err, &herr) || herr.Kind != KindTimeout || !strings.HasPrefix(herr.Message, "Request timed out. "+doing) || strings.HasSuffix(herr.Message, ".") {
		t.Errorf("a request meanwhile: %v", err)
	}
	release()
	// The restart timed out for its caller too, but the herder goroutine finishes it.
	if err := <-restarted; !errors.As(err, &herr) || herr.Kind != KindTimeout {
		t.Fatalf("restart: %v", err)
	}
	restarted <- nil
	expectStatus(t, w.h, "stuck", storage.Running, storage.Running)
	waitFor(t, 10*time.Second, "healthy again", func() error { return w.h.Health(ctx) })
	if s := w.h.stageSummary(); !strings.HasPrefix(s, "The last operation the worker completed was ") || !strings.Contains(s, " and completed at ") {
		t.Errorf("stage after the work: %q", s)
	}

	w.stop()
	if err := w.h.Health(ctx); err == nil || err.Error() != "Worker is shutting down" {
		t.Errorf("a stopped worker: %v", err)
	}
}

func TestJavaInstant(t *testing.T) {
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{base, "2024-05-01T08:00:00Z"},
		{base.Add(123 * time.Millisecond), "2024-05-01T08:00:00.123Z"},
		{base.Add(120*time.Millisecond + 999*time.Microsecond), "2024-05-01T08:00:00.120Z"},
	} {
		if got := javaInstant(c.t); got != c.want {
			t.Errorf("%v: %s, want %s", c.t, got, c.want)
		}
	}
	s := &stage{description: "reading to the end of the config topic", started: base, completed: base.Add(time.Second)}
	if got, want := s.summary(), "The last operation the worker completed was reading to the end of the config topic, which began at 2024-05-01T08:00:00Z and completed at 2024-05-01T08:00:01Z."; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestPluginsListConverters(t *testing.T) {
	h := newIdleHerder(t)
	got := h.Plugins()
	want := []PluginInfo{{Class: testSinkClass, Type: "sink", Version: "1.0.0"}}
	for _, class := range []string{task.ByteArrayConverterClass, task.JSONConverterClass, task.StringConverterClass} {
		want = append(want, PluginInfo{Class: class, Type: "converter", Version: "unknown"})
	}
	for _, class := range []string{task.ByteArrayConverterClass, task.JSONConverterClass, task.SimpleHeaderConverterClass, task.StringConverterClass} {
		want = append(want, PluginInfo{Class: class, Type: "header_converter", Version: "unknown"})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plugins\n%+v\nwant\n%+v", got, want)
	}
	for name, first := range map[string]string{"JsonConverter": "converter.type", "Json": "converter.type", task.StringConverterClass: "converter.type"} {
		keys, err := h.PluginConfig(name)
		if err != nil || len(keys) == 0 || keys[0].Name != first {
			t.Errorf("%s: %v %+v", name, err, keys)
		}
	}
	keys, _ := h.PluginConfig("JsonConverter")
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	if !slices.Equal(names, []string{"converter.type", "schemas.enable", "schemas.cache.size", "decimal.format", "replace.null.with.default"}) {
		t.Errorf("JsonConverter keys %q", names)
	}
	if keys, err := h.PluginConfig("SimpleHeaderConverter"); err != nil || len(keys) != 0 {
		t.Errorf("SimpleHeaderConverter: %v %+v", err, keys)
	}
}

func TestLooksSecret(t *testing.T) {
	for key, secret := range map[string]bool{
		"consumer.override.sasl.jaas.config":           true,
		"consumer.override.ssl.key.password":           true,
		"consumer.override.ssl.keystore.key":           true,
		"storage.sas.token":                            true,
		"aad.auth.appkey":                              true,
		"consumer.override.sasl.mechanism":             false,
		"consumer.override.security.protocol":          false,
		"consumer.override.sasl.kerberos.service.name": false,
		"consumer.override.bootstrap.servers":          false,
	} {
		if got := looksSecret(key); got != secret {
			t.Errorf("looksSecret(%s) = %v", key, got)
		}
	}
}
