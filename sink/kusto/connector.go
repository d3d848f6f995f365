package kusto

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/sink"
)

// Connector is the Kusto sink connector: Java's KustoSinkConnector. It checks the configuration
// when it starts and hands every task the same configuration; the consumer group spreads the
// partitions over the tasks.
type Connector struct {
	log            *slog.Logger
	logFromRuntime bool // the logger was set by SetLogger and already names the connector
	config         map[string]string
}

var _ sink.ConfigValidator = (*Connector)(nil)

// NewConnector returns a connector for the runtime to start.
func NewConnector() *Connector { return &Connector{log: slog.Default()} }

// SetLogger sets the connector's logger (before Start); the runtime's logger already names the
// connector.
func (c *Connector) SetLogger(l *slog.Logger) { c.log, c.logFromRuntime = l, true }

// Start checks the whole configuration, including the topic mapping (every topic listed in
// topics must have an entry) and the endpoints, so a bad configuration fails the connector at
// once rather than every task later.
func (c *Connector) Start(ctx context.Context, cc sink.ConnectorContext, config map[string]string) error {
	if _, err := ParseConfig(config); err != nil {
		return fmt.Errorf("Kusto Connector failed to start due to configuration error. %w", err)
	}
	if !c.logFromRuntime {
		c.log = c.log.With("connector", config["name"])
	}
	for _, k := range ignoredJavaKeys(config) {
		c.log.Warn("the Java Kusto sink setting is not supported by this version and is ignored", "key", k)
	}
	c.config = maps.Clone(config)
	return nil
}

// ignoredJavaKeys lists the keys of the Java sink this version does not implement (its
// miscellaneous dead-letter queue and start-up table validation) that config sets.
func ignoredJavaKeys(config map[string]string) []string {
	var out []string
	for k := range config {
		if strings.HasPrefix(k, "misc.deadletterqueue.") || k == "kusto.validation.table.enable" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TaskConfigs returns maxTasks copies of the connector's configuration.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if maxTasks <= 0 {
		c.log.Warn("No Connector tasks have been configured.")
		return []map[string]string{}, nil
	}
	out := make([]map[string]string, maxTasks)
	for i := range out {
		out[i] = maps.Clone(c.config)
	}
	return out, nil
}

// Stop releases nothing: the connector holds no resources.
func (c *Connector) Stop(ctx context.Context) error { return nil }

// Validate adds the checks that span keys (authentication, endpoint allow-list, topic mapping,
// CA file) to the per-key results of the ConfigDef.
func (c *Connector) Validate(config map[string]string, values []sink.ConfigValue) []sink.ConfigValue {
	return validateConfig(config, values)
}
