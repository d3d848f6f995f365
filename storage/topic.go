package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topic config names used on internal topics.
const (
	cleanupPolicyConfig  = "cleanup.policy"
	cleanupPolicyCompact = "compact"
)

// TopicSpec describes an internal topic to create or check.
type TopicSpec struct {
	Name              string
	Partitions        int32             // -1 = broker default
	ReplicationFactor int16             // -1 = broker default
	Configs           map[string]string // extra topic configs; cleanup.policy=compact is forced
	SinglePartition   bool              // the config topic: must have exactly one partition

	// Property optionally names the worker property the topic comes from (e.g.
	// "config.storage.topic"), and Purpose what the topic holds (e.g. "connector
	// configurations"); errors quote them, as Java Connect's do.
	Property string
	Purpose  string
}

// EnsureTopic creates the topic if missing (compacted; replication capped to the broker count
// with a warning), or checks an existing one (cleanup.policy must be exactly "compact";
// SinglePartition topics must have one partition) and returns a clear error otherwise. Another
// worker creating the topic at the same time is not an error. Transient failures are retried
// until ctx is done.
func EnsureTopic(ctx context.Context, adm *kadm.Client, spec TopicSpec, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if spec.Name == "" {
		return errors.New("ensuring internal topic: no topic name")
	}
	log = log.With("topic", spec.Name)
	for {
		err := ensureTopicOnce(ctx, adm, spec, log)
		if err == nil || !isTransient(err) {
			return err
		}
		log.Warn("checking internal topic failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("ensuring internal topic %s: %w (last error: %v)", spec.Name, ctx.Err(), err)
		case <-time.After(retryBackoff):
		}
	}
}

// isTransient reports whether an admin request may succeed when repeated.
func isTransient(err error) bool {
	var te *transientError
	return errors.As(err, &te)
}

// transientError marks an admin failure worth retrying.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func ensureTopicOnce(ctx context.Context, adm *kadm.Client, spec TopicSpec, log *slog.Logger) error {
	created, err := createTopic(ctx, adm, spec, log)
	if err != nil || created {
		return err
	}
	return verifyTopic(ctx, adm, spec, log)
}

// createTopic creates the topic and reports whether it did; false with no error means the topic
// already exists (or may not be created by this worker) and must be checked.
func createTopic(ctx context.Context, adm *kadm.Client, spec TopicSpec, log *slog.Logger) (bool, error) {
	configs := map[string]*string{}
	for k, v := range spec.Configs {
		if k == cleanupPolicyConfig && v != cleanupPolicyCompact {
			log.Warn("ignoring the configured cleanup.policy of an internal topic; it must be compact", "configured", v)
			continue
		}
		configs[k] = kadm.StringPtr(v)
	}
	configs[cleanupPolicyConfig] = kadm.StringPtr(cleanupPolicyCompact)

	partitions := spec.Partitions
	if spec.SinglePartition {
		partitions = 1
	}
	if partitions == 0 {
		partitions = -1
	}
	rf := spec.ReplicationFactor
	if rf == 0 {
		rf = -1
	}
	if rf > 0 {
		meta, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return false, classifyAdminErr(spec.Name, "listing brokers", err)
		}
		if n := len(meta.Brokers); n > 0 && int(rf) > n {
			log.Warn("internal topic replication factor is larger than the number of brokers; using the number of brokers",
				"replication_factor", rf, "brokers", n)
			rf = int16(n)
		}
	}

	resp, err := adm.CreateTopic(ctx, partitions, rf, configs, spec.Name)
	switch {
	case err == nil:
		log.Info("created internal topic", "partitions", resp.NumPartitions, "replication_factor", resp.ReplicationFactor)
		return true, nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return false, nil
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		// Java Connect carries on as well: the topic may exist, or be created by the broker.
		log.Warn("not authorized to create internal topic; assuming it exists", "err", err)
		return false, nil
	case errors.Is(err, kerr.UnsupportedVersion):
		log.Warn("the brokers cannot create topics; assuming the internal topic exists", "err", err)
		return false, nil
	default:
		msg := resp.ErrMessage
		if msg != "" {
			return false, classifyAdminErr(spec.Name, "creating topic", fmt.Errorf("%w: %s", err, msg))
		}
		return false, classifyAdminErr(spec.Name, "creating topic", err)
	}
}

// verifyTopic checks an existing topic's cleanup policy and, for the config topic, its
// partition count.
func verifyTopic(ctx context.Context, adm *kadm.Client, spec TopicSpec, log *slog.Logger) error {
	if spec.SinglePartition {
		topics, err := adm.ListTopics(ctx, spec.Name)
		if err != nil {
			return classifyAdminErr(spec.Name, "describing topic", err)
		}
		td, ok := topics[spec.Name]
		switch {
		case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			// Created a moment ago and not yet in the metadata, or not creatable by us: look again.
			return &transientError{fmt.Errorf("ensuring internal topic %s: topic not found", spec.Name)}
		case td.Err != nil:
			return classifyAdminErr(spec.Name, "describing topic", td.Err)
		case len(td.Partitions) > 1:
			return fmt.Errorf("ensuring internal topic %s: %w", spec.Name, errConfigTopicPartitions(spec.Name, spec.Property, len(td.Partitions)))
		}
	}

	rcs, err := adm.DescribeTopicConfigs(ctx, spec.Name)
	if err == nil {
		var rc kadm.ResourceConfig
		if rc, err = rcs.On(spec.Name, nil); err == nil {
			err = rc.Err
		}
		if err == nil {
			policy := ""
			for _, c := range rc.Configs {
				if c.Key == cleanupPolicyConfig {
					policy = c.MaybeValue()
				}
			}
			return checkCleanupPolicy(spec, policy, log)
		}
	}
	if errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed) ||
		errors.Is(err, kerr.UnsupportedVersion) {
		// As in Java Connect, a policy that cannot be read is not a reason to refuse to start.
		log.Warn("cannot read the cleanup policy of the internal topic; not checking it", "err", err)
		return nil
	}
	return classifyAdminErr(spec.Name, "describing topic configs", err)
}

// checkCleanupPolicy refuses a topic whose cleanup.policy is not exactly compact: with delete,
// old configs and statuses would be lost.
func checkCleanupPolicy(spec TopicSpec, policy string, log *slog.Logger) error {
	var policies []string
	for _, p := range strings.Split(policy, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			policies = append(policies, p)
		}
	}
	sort.Strings(policies)
	if len(policies) == 0 {
		log.Warn("the internal topic's cleanup.policy could not be determined; not checking it")
		return nil
	}
	if len(policies) == 1 && policies[0] == cleanupPolicyCompact {
		log.Debug("internal topic exists and is compacted")
		return nil
	}
	via, purpose := "", spec.Purpose
	if spec.Property != "" {
		via = fmt.Sprintf(" supplied via the '%s' property", spec.Property)
	}
	if purpose == "" {
		purpose = "its data"
	}
	change := "Use a topic"
	if spec.Property != "" {
		change = fmt.Sprintf("Change the '%s' property in the Connect worker configurations to use a topic", spec.Property)
	}
	return fmt.Errorf("Topic '%s'%s is required to have '%s=%s' to guarantee consistency and durability of %s, "+
		"but found the topic currently has '%s=%s'. Continuing would likely result in eventually losing %s and "+
		"problems restarting this Connect cluster in the future. %s with '%s=%s'.",
		spec.Name, via, cleanupPolicyConfig, cleanupPolicyCompact, purpose, cleanupPolicyConfig, policy, purpose,
		change, cleanupPolicyConfig, cleanupPolicyCompact)
}

// classifyAdminErr wraps an admin failure, marking the ones worth retrying.
func classifyAdminErr(topic, action string, err error) error {
	wrapped := fmt.Errorf("ensuring internal topic %s: %s: %w", topic, action, err)
	var ke *kerr.Error
	if (errors.As(err, &ke) && ke.Retriable) || errors.Is(err, kerr.UnknownTopicOrPartition) {
		return &transientError{wrapped}
	}
	var se *kadm.ShardErrors
	if errors.As(err, &se) || kgo.IsRetryableBrokerErr(err) {
		return &transientError{wrapped}
	}
	return wrapped
}
