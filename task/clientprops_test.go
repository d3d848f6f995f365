package task

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kconnect/kconnect/sink"
)

func TestClientOverridePolicies(t *testing.T) {
	for _, c := range []struct {
		policy, name string
		allowed      bool
	}{
		{"", "max.poll.records", true},
		{"All", "sasl.jaas.config", true},
		{"All", "bootstrap.servers", true},
		{"None", "sasl.jaas.config", false},
		{"None", "max.poll.records", false},
		{"Principal", "sasl.jaas.config", true},
		{"Principal", "sasl.mechanism", true},
		{"Principal", "security.protocol", true},
		{"Principal", "bootstrap.servers", false},
		{"Principal", "ssl.truststore.location", false},
		{"Principal", "group.id", false},
	} {
		if got := ClientOverrideAllowed(c.policy, c.name); got != c.allowed {
			t.Errorf("%q allows %s: %v, want %v", c.policy, c.name, got, c.allowed)
		}
	}
	if got, want := ClientOverrideError("Principal", "bootstrap.servers"),
		"The 'Principal' policy does not allow 'bootstrap.servers' to be overridden in the connector configuration."; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// TestNewEnforcesOverridePolicy: a connector stored under a laxer policy cannot run its
// refused overrides after the worker's policy changed; the error names keys, never values.
func TestNewEnforcesOverridePolicy(t *testing.T) {
	h := &harness{addrs: []string{"127.0.0.1:1"}, log: slog.New(slog.DiscardHandler)}
	const secret = "hunter2-password"
	jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="` + secret + `";`
	props := map[string]string{"topics": "a",
		"consumer.override.security.protocol": "SASL_PLAINTEXT", "consumer.override.sasl.mechanism": "PLAIN",
		"consumer.override.sasl.jaas.config": jaas, "consumer.override.max.poll.records": "10",
		"producer.override.acks": "1"}
	for _, c := range []struct {
		policy string
		extra  map[string]string
		want   string // "" : New succeeds
	}{
		{"All", nil, ""},
		{"", nil, ""},
		{"Principal", nil, "Client Config Overrides not allowed: consumer.override.max.poll.records: " +
			"The 'Principal' policy does not allow 'max.poll.records' to be overridden in the connector configuration."},
		// Producer overrides only configure the dead letter queue's producer.
		{"Principal", map[string]string{"errors.deadletterqueue.topic.name": "dlq"}, "Client Config Overrides not allowed: " +
			"consumer.override.max.poll.records: The 'Principal' policy does not allow 'max.poll.records' to be overridden in the connector configuration. " +
			"producer.override.acks: The 'Principal' policy does not allow 'acks' to be overridden in the connector configuration."},
		{"None", nil, "consumer.override.sasl.jaas.config: The 'None' policy does not allow 'sasl.jaas.config' to be overridden in the connector configuration."},
	} {
		cfg := h.config("c", 0, props, &recorder{}, &statusRecorder{})
		for k, v := range c.extra {
			cfg.ConnectorConfig[k] = v
		}
		// The harness's own overrides (heartbeat and session timeouts) are not under test.
		delete(cfg.ConnectorConfig, "consumer.override.heartbeat.interval.ms")
		delete(cfg.ConnectorConfig, "consumer.override.session.timeout.ms")
		cfg.Worker.OverridePolicy = c.policy
		_, err := New(cfg)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("policy %q: %v", c.policy, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("policy %q: error %v, want %q", c.policy, err, c.want)
		case err != nil && strings.Contains(err.Error(), secret):
			t.Errorf("policy %q: the error shows the password: %v", c.policy, err)
		}
	}
}

// topicRecorder is a status listener that also records the topics the task reports.
type topicRecorder struct {
	statusRecorder
	tmu    sync.Mutex
	topics []string
}

func (r *topicRecorder) TopicUsed(topic string) {
	r.tmu.Lock()
	r.topics = append(r.topics, topic)
	r.tmu.Unlock()
}

func (r *topicRecorder) used() []string {
	r.tmu.Lock()
	defer r.tmu.Unlock()
	return slices.Clone(r.topics)
}

// saslMechanism returns the kgo mechanism for a kfake user.
func saslMechanism(method, user, pass string) sasl.Mechanism {
	switch method {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	default:
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
}

// newSASLHarness is a harness whose broker only accepts user/pass with method; its own
// producer and admin client authenticate.
func newSASLHarness(t *testing.T, method, user, pass string) (*harness, *testLog) {
	t.Helper()
	logs := &testLog{}
	t.Cleanup(func() {
		if t.Failed() {
			logs.mu.Lock()
			t.Log("task logs:\n" + logs.buf.String())
			logs.mu.Unlock()
		}
	})
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(method, user, pass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	h := &harness{t: t, cluster: c, addrs: c.ListenAddrs(),
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	h.prod, err = kgo.NewClient(kgo.SeedBrokers(h.addrs...), kgo.SASL(saslMechanism(method, user, pass)),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	h.adm = kadm.NewClient(h.prod)
	return h, logs
}

// TestConsumerCredentialsFromConnectorOverrides: the worker has no credentials (or wrong
// ones); the connector brings them in consumer.override.*, as Event Hubs and Confluent Cloud
// users do, and the task consumes and commits through SASL. The password reaches neither the
// logs nor the status.
func TestConsumerCredentialsFromConnectorOverrides(t *testing.T) {
	const user, pass = "connector-user", "s3cret-Pa55word"
	for _, c := range []struct {
		name, method, module string
		worker               map[string]string // the worker's consumer properties besides bootstrap.servers
	}{
		{"PLAIN", "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule", nil},
		{"SCRAM-SHA-256", "SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule", nil},
		{"SCRAM-SHA-512", "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule", nil},
		{"replacing the worker's credentials", "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule", map[string]string{
			"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="worker" password="wrong";`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, logs := newSASLHarness(t, c.method, user, pass)
			h.createTopic("secured", 2)
			h.produceN("secured", 2, "v", 20)
			rec := &recorder{}
			st := &topicRecorder{}
			cfg := h.config("sasl", 0, map[string]string{"topics": "secured",
				"consumer.override.security.protocol": "SASL_PLAINTEXT",
				"consumer.override.sasl.mechanism":    c.method,
				"consumer.override.sasl.jaas.config":  c.module + ` required username="` + user + `" password="` + pass + `";`,
			}, rec, &st.statusRecorder)
			cfg.Status = st
			cfg.Worker.ClientOpts = nil
			cfg.Worker.ConsumerProps = map[string]string{"bootstrap.servers": strings.Join(h.addrs, ",")}
			for k, v := range c.worker {
				cfg.Worker.ConsumerProps[k] = v
			}
			rt := h.start(cfg, rec)
			eventually(t, "20 records through SASL", func() bool { return len(rec.values()) == 20 })
			rec.context().RequestCommit()
			want := map[sink.TopicPartition]int64{tp("secured", 0): 10, tp("secured", 1): 10}
			eventually(t, "the commit", func() bool { return fmt.Sprint(h.committed("connect-sasl")) == fmt.Sprint(want) })
			if err := rt.stop(t); err != nil {
				t.Fatal(err)
			}
			if got := st.used(); len(got) == 0 || slices.ContainsFunc(got, func(s string) bool { return s != "secured" }) {
				t.Errorf("topics reported %v", got)
			}
			logs.mu.Lock()
			text := logs.buf.String()
			logs.mu.Unlock()
			if strings.Contains(text, pass) {
				t.Errorf("the password reached the logs")
			}
			if !strings.Contains(text, "consumer_overrides=consumer.override.heartbeat.interval.ms,consumer.override.sasl.jaas.config,consumer.override.sasl.mechanism,"+
				"consumer.override.security.protocol,consumer.override.session.timeout.ms") {
				t.Errorf("the start-up log does not name the overrides:\n%s", text)
			}
		})
	}
}

// TestTopicsReportedOncePerPoll: the listener hears each topic with converted records, once per
// poll, and not a topic whose records were all skipped by errors.tolerance=all.
func TestTopicsReportedOncePerPoll(t *testing.T) {
	h := newHarness(t)
	h.createTopic("good", 2)
	h.createTopic("bad", 1)
	rec := &recorder{}
	st := &topicRecorder{}
	cfg := h.config("track", 0, map[string]string{"topics": "good,bad", "errors.tolerance": "all",
		"value.converter": "JsonConverter", "value.converter.schemas.enable": "false"}, rec, &st.statusRecorder)
	cfg.Status = st
	h.start(cfg, rec)
	h.produce(&kgo.Record{Topic: "bad", Value: []byte("{not json")})
	for i := range 10 {
		h.produce(&kgo.Record{Topic: "good", Partition: int32(i % 2), Value: []byte(`{"n":1}`)})
	}
	eventually(t, "the good records", func() bool { return len(rec.values()) == 10 })
	barrier(t, rec)
	calls, _ := rec.snapshot()
	puts := 0
	for _, c := range calls {
		if c.kind == "put" && len(c.offsets) > 0 {
			puts++
		}
	}
	used := st.used()
	if slices.Contains(used, "bad") || len(used) == 0 || len(used) > puts {
		t.Errorf("topics reported %v for %d non-empty puts", used, puts)
	}
}

// stopCapture records the deadline of the context its Stop receives.
type stopCapture struct {
	*recorder
	mu     sync.Mutex
	called time.Time
	until  time.Duration // deadline - call time
	has    bool
}

func (s *stopCapture) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.called = time.Now()
	var d time.Time
	d, s.has = ctx.Deadline()
	s.until = d.Sub(s.called)
	return s.recorder.Stop(ctx)
}

// TestShutdownTimeoutBoundsFinalCalls: task.shutdown.graceful.timeout.ms is the budget of the
// final calls into the task.
func TestShutdownTimeoutBoundsFinalCalls(t *testing.T) {
	h := newHarness(t)
	h.createTopic("bye", 1)
	for _, c := range []struct {
		setting time.Duration
		max     time.Duration
	}{
		{300 * time.Millisecond, 300 * time.Millisecond},
		{0, defaultShutdownTimeout},
	} {
		rec := &recorder{}
		sc := &stopCapture{recorder: rec}
		cfg := h.config("bye", 0, map[string]string{"topics": "bye"}, rec, &statusRecorder{})
		cfg.Plugin.NewTask = func() sink.Task { return sc }
		cfg.Worker.ShutdownTimeout = c.setting
		rt := h.start(cfg, rec)
		eventually(t, "the task running", func() bool { return rt.status.last() == "RUNNING" })
		if err := rt.stop(t); err != nil {
			t.Fatal(err)
		}
		sc.mu.Lock()
		if !sc.has || sc.until <= 0 || sc.until > c.max || (c.setting == 0 && sc.until <= c.max/2) {
			t.Errorf("setting %v: Stop's context ends %v after the call (deadline set: %v), want at most %v", c.setting, sc.until, sc.has, c.max)
		}
		sc.mu.Unlock()
	}
}
