package task

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/task/kafkaprops"
)

// The values of connector.client.config.override.policy: which client settings a connector may
// override with "consumer.override." (and "producer.override.", "admin.override.") keys.
const (
	// OverridePolicyAll allows every override (the default).
	OverridePolicyAll = "All"
	// OverridePolicyNone allows none.
	OverridePolicyNone = "None"
	// OverridePolicyPrincipal allows only the settings that choose who the client authenticates
	// as: sasl.jaas.config, sasl.mechanism and security.protocol.
	OverridePolicyPrincipal = "Principal"
)

// principalOverrides are the client settings the Principal policy allows, as Java's
// PrincipalConnectorClientConfigOverridePolicy lists them.
var principalOverrides = map[string]bool{
	kafkaprops.SASLJAASConfig:   true,
	kafkaprops.SASLMechanism:    true,
	kafkaprops.SecurityProtocol: true,
}

// ClientOverrideAllowed reports whether the override policy lets a connector override the
// client setting name (the key without its "consumer.override." prefix). An empty policy is
// [OverridePolicyAll].
func ClientOverrideAllowed(policy, name string) bool {
	switch policy {
	case OverridePolicyNone:
		return false
	case OverridePolicyPrincipal:
		return principalOverrides[name]
	default:
		return true
	}
}

// ClientOverrideError is the validation error for an override the policy refuses, in the words
// of Java's AbstractConnectorClientConfigOverridePolicy. It names the setting, never its value.
func ClientOverrideError(policy, name string) string {
	if policy == "" {
		policy = OverridePolicyAll
	}
	return fmt.Sprintf("The '%s' policy does not allow '%s' to be overridden in the connector configuration.", policy, name)
}

// refusedOverrides returns an error message for each override, in key order, that the policy
// refuses; overrides holds the keys after prefix.
func refusedOverrides(policy, prefix string, overrides map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if !ClientOverrideAllowed(policy, name) {
			out = append(out, prefix+name+": "+ClientOverrideError(policy, name))
		}
	}
	return out
}

// clientOpts builds the kgo options of one of the task's clients from the worker's properties
// for it and the connector's overrides, as Java's Worker layers them: the worker's settings,
// then the connector's on top, translated together so an override can replace any worker
// setting, its credentials included. Without worker properties the worker's options come from
// ClientOpts alone, and only the overrides are translated. group.id is the runtime's business
// and never reaches the translation.
func clientOpts(worker WorkerSettings, workerProps, overrides map[string]string) ([]kgo.Opt, error) {
	props := make(map[string]string, len(workerProps)+len(overrides))
	maps.Copy(props, workerProps)
	maps.Copy(props, overrides)
	delete(props, "group.id")
	opts, err := kafkaprops.ClientOpts(props)
	if err != nil {
		return nil, err
	}
	return append(slices.Clip(worker.ClientOpts), opts...), nil
}

// overrideKeys lists the keys of overrides with prefix, sorted, for logs (never the values).
func overrideKeys(prefix string, overrides map[string]string) string {
	keys := slices.Sorted(maps.Keys(overrides))
	for i, k := range keys {
		keys[i] = prefix + k
	}
	return strings.Join(keys, ",")
}
