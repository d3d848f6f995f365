package storage

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeTopic returns a topic's partition count, replication factor and cleanup policy.
func describeTopic(t *testing.T, adm *kadm.Client, topic string) (int, int, string) {
	t.Helper()
	ctx := testContext(t)
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	td := tds[topic]
	if td.Err != nil {
		t.Fatalf("describing %s: %v", topic, td.Err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" {
			policy = c.MaybeValue()
		}
	}
	return len(td.Partitions), len(td.Partitions[0].Replicas), policy
}

func TestEnsureTopicCreates(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(2))
	adm := newAdmin(t, c)
	ctx := testContext(t)
	specs := []TopicSpec{
		// The config topic: one partition whatever is asked; a user's cleanup.policy is overridden.
		{Name: "connect-configs", Partitions: 5, ReplicationFactor: 3, SinglePartition: true,
			Configs: map[string]string{"cleanup.policy": "delete", "min.compaction.lag.ms": "0"}},
		// Replication 3 on 2 brokers is capped to 2.
		{Name: "connect-status", Partitions: 5, ReplicationFactor: 3},
		// Broker defaults.
		{Name: "connect-offsets", Partitions: -1, ReplicationFactor: -1},
	}
	for _, spec := range specs {
		if err := EnsureTopic(ctx, adm, spec, testLogger(t)); err != nil {
			t.Fatalf("EnsureTopic(%s): %v", spec.Name, err)
		}
	}
	for _, want := range []struct {
		topic      string
		partitions int
		rf         int
	}{
		{"connect-configs", 1, 2},
		{"connect-status", 5, 2},
		{"connect-offsets", 10, 2}, // kfake's defaults: 10 partitions, min(3, brokers) replicas
	} {
		p, rf, policy := describeTopic(t, adm, want.topic)
		if p != want.partitions || rf != want.rf || policy != "compact" {
			t.Errorf("%s: %d partitions, RF %d, cleanup.policy %q; want %d, %d, compact", want.topic, p, rf, policy, want.partitions, want.rf)
		}
	}
	// The extra config reached the topic.
	rcs, _ := adm.DescribeTopicConfigs(ctx, "connect-configs")
	rc, _ := rcs.On("connect-configs", nil)
	found := false
	for _, cfg := range rc.Configs {
		found = found || cfg.Key == "min.compaction.lag.ms" && cfg.MaybeValue() == "0"
	}
	if !found {
		t.Error("extra topic config was not applied")
	}
	// Ensuring an existing, correct topic is a no-op.
	for _, spec := range specs {
		if err := EnsureTopic(ctx, adm, spec, testLogger(t)); err != nil {
			t.Fatalf("EnsureTopic(%s) again: %v", spec.Name, err)
		}
	}
}

func TestEnsureTopicChecksExistingTopics(t *testing.T) {
	c := newCluster(t)
	adm := newAdmin(t, c)
	for _, tc := range []struct {
		name    string
		configs map[string]string
		parts   int32
		spec    TopicSpec
		wantErr []string
	}{
		{"compact", map[string]string{"cleanup.policy": "compact"}, 1,
			TopicSpec{Name: "compact", Partitions: 1, ReplicationFactor: 1, SinglePartition: true}, nil},
		{"compact status topic with other partitions", map[string]string{"cleanup.policy": "compact"}, 3,
			TopicSpec{Name: "status3", Partitions: 5, ReplicationFactor: 1}, nil},
		{"delete", map[string]string{"cleanup.policy": "delete"}, 1,
			TopicSpec{Name: "delete", ReplicationFactor: 1, Property: "status.storage.topic", Purpose: "connector and task statuses"},
			[]string{"Topic 'delete' supplied via the 'status.storage.topic' property is required to have 'cleanup.policy=compact'",
				"found the topic currently has 'cleanup.policy=delete'", "connector and task statuses"}},
		{"compact,delete", map[string]string{"cleanup.policy": "compact,delete"}, 1,
			TopicSpec{Name: "both", ReplicationFactor: 1},
			[]string{"'cleanup.policy=compact,delete'"}},
		{"default policy", nil, 1,
			TopicSpec{Name: "default", ReplicationFactor: 1},
			[]string{"'cleanup.policy=delete'"}},
		{"multi-partition config topic", map[string]string{"cleanup.policy": "compact"}, 2,
			TopicSpec{Name: "configs2", SinglePartition: true, ReplicationFactor: 1, Property: "config.storage.topic"},
			[]string{"Topic 'configs2' supplied via the 'config.storage.topic' property is required to have a single partition", "found 2 partitions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.CreateTopic(tc.spec.Name, tc.parts, tc.configs); err != nil {
				t.Fatal(err)
			}
			err := EnsureTopic(testContext(t), adm, tc.spec, testLogger(t))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("EnsureTopic: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("EnsureTopic accepted the topic")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestEnsureTopicRace(t *testing.T) {
	// Workers starting together all try to create the topics; none may fail.
	c := newCluster(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		adm := newAdmin(t, c)
		wg.Go(func() {
			errs <- EnsureTopic(testContext(t), adm, TopicSpec{Name: "connect-configs", ReplicationFactor: 1, SinglePartition: true}, testLogger(t))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent EnsureTopic: %v", err)
		}
	}
}

func TestEnsureTopicRetriesTransientErrors(t *testing.T) {
	c := newCluster(t)
	adm := newAdmin(t, c)
	h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.CreateTopics}, Err: kerr.RequestTimedOut, Count: 2})
	if err := EnsureTopic(testContext(t), adm, TopicSpec{Name: "t", ReplicationFactor: 1}, testLogger(t)); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	if h.Hits() < 2 {
		t.Fatalf("faults hit %d times", h.Hits())
	}
	// A permanent failure is returned, not retried for ever.
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.CreateTopics}, Err: kerr.PolicyViolation, Count: -1})
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	err := EnsureTopic(ctx, adm, TopicSpec{Name: "u", ReplicationFactor: 1}, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "POLICY_VIOLATION") {
		t.Fatalf("EnsureTopic with a policy violation = %v", err)
	}
}
