package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/task"
)

// Worker configuration keys (distributed mode), spelled as Apache Kafka Connect spells them.
const (
	cfgBootstrapServers      = "bootstrap.servers"
	cfgClientID              = "client.id"
	cfgGroupID               = "group.id"
	cfgConfigTopic           = "config.storage.topic"
	cfgConfigReplication     = "config.storage.replication.factor"
	cfgConfigPartitions      = "config.storage.partitions"
	cfgOffsetTopic           = "offset.storage.topic"
	cfgOffsetPartitions      = "offset.storage.partitions"
	cfgOffsetReplication     = "offset.storage.replication.factor"
	cfgStatusTopic           = "status.storage.topic"
	cfgStatusPartitions      = "status.storage.partitions"
	cfgStatusReplication     = "status.storage.replication.factor"
	cfgKeyConverter          = "key.converter"
	cfgValueConverter        = "value.converter"
	cfgHeaderConverter       = "header.converter"
	cfgListeners             = "listeners"
	cfgAdvertisedHost        = "rest.advertised.host.name"
	cfgAdvertisedPort        = "rest.advertised.port"
	cfgAdvertisedListener    = "rest.advertised.listener"
	cfgAdminListeners        = "admin.listeners"
	cfgSSLClientAuth         = "ssl.client.auth"
	cfgCORSOrigin            = "access.control.allow.origin"
	cfgCORSMethods           = "access.control.allow.methods"
	cfgResponseHeaders       = "response.http.headers.config"
	cfgRestExtensions        = "rest.extension.classes"
	cfgSessionTimeout        = "session.timeout.ms"
	cfgHeartbeatInterval     = "heartbeat.interval.ms"
	cfgRebalanceTimeout      = "rebalance.timeout.ms"
	cfgWorkerSyncTimeout     = "worker.sync.timeout.ms"
	cfgWorkerUnsyncBackoff   = "worker.unsync.backoff.ms"
	cfgScheduledRebalanceMax = "scheduled.rebalance.max.delay.ms"
	cfgConnectProtocol       = "connect.protocol"
	cfgKeyGenAlgorithm       = "inter.worker.key.generation.algorithm"
	cfgKeySize               = "inter.worker.key.size"
	cfgKeyTTL                = "inter.worker.key.ttl.ms"
	cfgSignatureAlgorithm    = "inter.worker.signature.algorithm"
	cfgVerificationAlgs      = "inter.worker.verification.algorithms"
	cfgExactlyOnceSource     = "exactly.once.source.support"
	cfgOverridePolicy        = "connector.client.config.override.policy"
	cfgTaskShutdownTimeout   = "task.shutdown.graceful.timeout.ms"
	cfgOffsetFlushInterval   = "offset.flush.interval.ms"
	cfgOffsetFlushTimeout    = "offset.flush.timeout.ms"
	cfgPluginPath            = "plugin.path"
	cfgPluginDiscovery       = "plugin.discovery"
	cfgConfigProviders       = "config.providers"
	cfgTopicTracking         = "topic.tracking.enable"
	cfgTopicTrackingReset    = "topic.tracking.allow.reset"
	cfgTopicCreation         = "topic.creation.enable"
	cfgMetadataMaxAge        = "metadata.max.age.ms"
	cfgRequestTimeout        = "request.timeout.ms"
)

// Connect protocol names (connect.protocol values and group sub-protocols).
const (
	protocolEager      = "eager"
	protocolCompatible = "compatible"
	protocolSessioned  = "sessioned"
)

const (
	hmacSHA256             = "HmacSHA256"
	simpleHeaderConverter  = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
	groupWorker            = "Worker"
	groupTopics            = "Internal Topics"
	groupREST              = "REST"
	groupGroup             = "Worker Group"
	groupConverters        = "Converters"
	groupTasks             = "Tasks"
	groupSecurityOfSigning = "Internal Request Signing"
)

var listenerPattern = regexp.MustCompile(`^(?i)(https?)://(\[[0-9a-fA-F:.]+\]|[^:/\[\]]*):([0-9]+)$`)

func validListeners(v any) error {
	l, _ := v.([]string)
	if v == nil {
		return nil
	}
	if len(l) == 0 {
		return errors.New("Empty list")
	}
	return validListenerURLs(l, "listeners", "listener")
}

func validAdminListeners(v any) error {
	l, _ := v.([]string)
	return validListenerURLs(l, "admin.listeners", "admin listener")
}

// validListenerURLs checks each URL of a listeners list; key and noun name them in Java's
// words.
func validListenerURLs(l []string, key, noun string) error {
	for _, item := range l {
		if strings.TrimSpace(item) == "" {
			return fmt.Errorf("Empty URL found when parsing %s list.", key)
		}
		if !listenerPattern.MatchString(item) {
			return fmt.Errorf("Could not parse %s %s: a listener is protocol://host:port with protocol http or https", noun, item)
		}
	}
	return nil
}

func validReplicationFactor(v any) error {
	n, _ := v.(int16)
	if v != nil && n != -1 && n < 1 {
		return errors.New("Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default")
	}
	return nil
}

func validPartitions(v any) error {
	n, _ := v.(int32)
	if v != nil && n != -1 && n < 1 {
		return errors.New("Number of partitions must be positive, or -1 to use the broker's default")
	}
	return nil
}

// overridePolicyPackage is where Java's built-in override policies live.
const overridePolicyPackage = "org.apache.kafka.connect.connector.policy."

// overridePolicyName returns the policy a connector.client.config.override.policy value names:
// All, None or Principal, given by alias or by Java's simple or fully qualified class name
// (e.g. org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy).
func overridePolicyName(v string) (string, bool) {
	s := strings.TrimPrefix(strings.TrimSpace(v), overridePolicyPackage)
	s = strings.TrimSuffix(s, "ConnectorClientConfigOverridePolicy")
	switch s {
	case task.OverridePolicyAll, task.OverridePolicyNone, task.OverridePolicyPrincipal:
		return s, true
	}
	return "", false
}

func validOverridePolicy(v any) error {
	s, _ := v.(string)
	if v == nil {
		return nil
	}
	if _, ok := overridePolicyName(s); !ok {
		return errors.New("String must be one of: All, None, Principal")
	}
	return nil
}

func validPort(v any) error {
	n, _ := v.(int32)
	if v != nil && (n < 1 || n > 65535) {
		return errors.New("Value must be a TCP port (1 to 65535)")
	}
	return nil
}

// WorkerConfigDef declares the configuration of a distributed worker (Java's DistributedConfig):
// it parses worker.properties and documents it. Keys it does not declare are kept and passed on
// to the Kafka clients as Connect passes them. Each call returns a new definition.
func WorkerConfigDef() *sink.ConfigDef { return buildWorkerConfigDef() }

// workerDef is the shared, never modified, worker definition.
var workerDef = sync.OnceValue(buildWorkerConfigDef)

func buildWorkerConfigDef() *sink.ConfigDef {
	d := sink.NewConfigDef()
	order := map[string]int{}
	def := func(k sink.ConfigKey) {
		order[k.Group]++
		k.OrderInGroup = order[k.Group]
		d.Define(k)
	}
	// Worker and Kafka connection.
	def(sink.ConfigKey{Name: cfgBootstrapServers, Type: sink.TypeList, Default: []string{"localhost:9092"}, Importance: sink.High, Group: groupWorker,
		Doc: "Kafka brokers (host:port, comma-separated) used to find the cluster. The worker, its internal topics and its tasks' consumers all use this cluster."})
	def(sink.ConfigKey{Name: cfgGroupID, Type: sink.TypeString, Required: true, Importance: sink.High, Group: groupWorker,
		Doc: "Identifies the Connect cluster this worker belongs to: the Kafka group the workers join. It must not equal the consumer group of any sink connector (connect-<connector name>)."})
	def(sink.ConfigKey{Name: cfgClientID, Type: sink.TypeString, Default: "", Importance: sink.Low, Group: groupWorker,
		Doc: "Client id prefix for this worker's Kafka clients. The worker group member uses it as its client id; empty means connect-<worker id>."})
	def(sink.ConfigKey{Name: cfgMetadataMaxAge, Type: sink.TypeLong, Default: int64(300000), Validator: sink.AtLeast(0), Importance: sink.Low, Group: groupWorker,
		Doc: "How often, in milliseconds, the worker's Kafka clients refresh cluster metadata even without a change."})
	def(sink.ConfigKey{Name: cfgRequestTimeout, Type: sink.TypeInt, Default: int32(40000), Validator: sink.AtLeast(0), Importance: sink.Medium, Group: groupWorker,
		Doc: "How long, in milliseconds, a Kafka client waits for a response to a request."})
	def(sink.ConfigKey{Name: cfgPluginPath, Type: sink.TypeList, Default: nil, Importance: sink.Low, Group: groupWorker,
		Doc: "Accepted for compatibility with Java worker files and ignored: kconnect's connector plugins are compiled in."})
	def(sink.ConfigKey{Name: cfgPluginDiscovery, Type: sink.TypeString, Default: "hybrid_warn", Importance: sink.Low, Group: groupWorker,
		Validator: sink.OneOfIgnoringCase("only_scan", "hybrid_warn", "hybrid_fail", "service_load"),
		Doc:       "Accepted for compatibility with Java worker files and ignored: plugins are compiled in."})
	def(sink.ConfigKey{Name: cfgConfigProviders, Type: sink.TypeList, Default: []string{}, Importance: sink.Low, Group: groupWorker,
		Doc: "Aliases of configuration providers. kconnect has none built in; references such as ${file:...} are passed to connectors unresolved."})
	def(sink.ConfigKey{Name: cfgOverridePolicy, Type: sink.TypeString, Default: task.OverridePolicyAll, Importance: sink.Medium, Group: groupWorker,
		Validator: validOverridePolicy,
		Doc: "Which Kafka client settings a connector may override with consumer.override.* (and, for its dead letter queue, producer.override.* and admin.override.*) keys: " +
			"All, None, or Principal (only sasl.jaas.config, sasl.mechanism and security.protocol). Java's class names of these policies are accepted too."})
	def(sink.ConfigKey{Name: cfgExactlyOnceSource, Type: sink.TypeString, Default: "disabled", Importance: sink.Low, Group: groupWorker,
		Validator: sink.OneOfIgnoringCase("disabled", "preparing", "enabled"),
		Doc:       "Exactly-once support for source connectors. kconnect runs sink connectors only, so this setting has no effect."})
	def(sink.ConfigKey{Name: cfgTopicTracking, Type: sink.TypeBoolean, Default: true, Importance: sink.Low, Group: groupWorker,
		Doc: "Whether the worker records the topics each connector uses (GET /connectors/{name}/topics)."})
	def(sink.ConfigKey{Name: cfgTopicTrackingReset, Type: sink.TypeBoolean, Default: true, Importance: sink.Low, Group: groupWorker,
		Doc: "Whether users may reset the recorded topics of a connector (PUT /connectors/{name}/topics/reset)."})
	def(sink.ConfigKey{Name: cfgTopicCreation, Type: sink.TypeBoolean, Default: true, Importance: sink.Low, Group: groupWorker,
		Doc: "Whether source connectors may create their topics. Accepted for compatibility; kconnect runs sink connectors only."})

	// Internal topics.
	def(sink.ConfigKey{Name: cfgConfigTopic, Type: sink.TypeString, Required: true, Importance: sink.High, Group: groupTopics,
		Doc: "The compacted topic, with a single partition, that holds connector and task configurations."})
	def(sink.ConfigKey{Name: cfgConfigReplication, Type: sink.TypeShort, Default: int16(3), Validator: validReplicationFactor, Importance: sink.Low, Group: groupTopics,
		Doc: "Replication factor of the config topic when the worker creates it; -1 uses the broker default. It is capped to the number of brokers, with a warning."})
	def(sink.ConfigKey{Name: cfgOffsetTopic, Type: sink.TypeString, Required: true, Importance: sink.High, Group: groupTopics,
		Doc: "The compacted topic that holds source connector offsets. Sink connectors keep their offsets in their consumer groups, but the topic is created so the cluster is ready for source connectors."})
	def(sink.ConfigKey{Name: cfgOffsetPartitions, Type: sink.TypeInt, Default: int32(25), Validator: validPartitions, Importance: sink.Low, Group: groupTopics,
		Doc: "Number of partitions of the offset topic when the worker creates it; -1 uses the broker default."})
	def(sink.ConfigKey{Name: cfgOffsetReplication, Type: sink.TypeShort, Default: int16(3), Validator: validReplicationFactor, Importance: sink.Low, Group: groupTopics,
		Doc: "Replication factor of the offset topic when the worker creates it; -1 uses the broker default."})
	def(sink.ConfigKey{Name: cfgStatusTopic, Type: sink.TypeString, Required: true, Importance: sink.High, Group: groupTopics,
		Doc: "The compacted topic that holds connector and task statuses."})
	def(sink.ConfigKey{Name: cfgStatusPartitions, Type: sink.TypeInt, Default: int32(5), Validator: validPartitions, Importance: sink.Low, Group: groupTopics,
		Doc: "Number of partitions of the status topic when the worker creates it; -1 uses the broker default."})
	def(sink.ConfigKey{Name: cfgStatusReplication, Type: sink.TypeShort, Default: int16(3), Validator: validReplicationFactor, Importance: sink.Low, Group: groupTopics,
		Doc: "Replication factor of the status topic when the worker creates it; -1 uses the broker default."})

	// Converters.
	def(sink.ConfigKey{Name: cfgKeyConverter, Type: sink.TypeClass, Required: true, Importance: sink.High, Group: groupConverters,
		Doc: "Default converter of record keys, e.g. org.apache.kafka.connect.json.JsonConverter. Settings prefixed with key.converter. configure it; connectors may override it."})
	def(sink.ConfigKey{Name: cfgValueConverter, Type: sink.TypeClass, Required: true, Importance: sink.High, Group: groupConverters,
		Doc: "Default converter of record values. Settings prefixed with value.converter. configure it; connectors may override it."})
	def(sink.ConfigKey{Name: cfgHeaderConverter, Type: sink.TypeClass, Default: simpleHeaderConverter, Importance: sink.Low, Group: groupConverters,
		Doc: "Default converter of record headers. Settings prefixed with header.converter. configure it."})

	// REST.
	def(sink.ConfigKey{Name: cfgListeners, Type: sink.TypeList, Default: []string{"http://:8083"}, Validator: validListeners, Importance: sink.Low, Group: groupREST,
		Doc: "Where the REST API listens: protocol://host:port entries with protocol http or https. An empty host binds the default interface, 0.0.0.0 all of them. https listeners take their certificate from the PEM key store of the listeners.https.ssl.* settings, or of the ssl.* settings when there are none."})
	def(sink.ConfigKey{Name: cfgAdvertisedHost, Type: sink.TypeString, Default: nil, Importance: sink.Low, Group: groupREST,
		Doc: "Host name other workers use to reach this worker's REST API; default: the listener's host, else the machine's host name."})
	def(sink.ConfigKey{Name: cfgAdvertisedPort, Type: sink.TypeInt, Default: nil, Validator: validPort, Importance: sink.Low, Group: groupREST,
		Doc: "Port other workers use to reach this worker's REST API; default: the listener's port."})
	def(sink.ConfigKey{Name: cfgAdvertisedListener, Type: sink.TypeString, Default: nil, Validator: sink.OneOfIgnoringCase("http", "https"), Importance: sink.Low, Group: groupREST,
		Doc: "Protocol (http or https) other workers use to reach this worker; default: http if any listener is http. Workers reach each other over https with the trust store of the listeners.https.ssl.* (or ssl.*) settings."})
	def(sink.ConfigKey{Name: cfgSSLClientAuth, Type: sink.TypeString, Default: clientAuthNone, Validator: sink.OneOf(clientAuthRequired, clientAuthRequested, clientAuthNone), Importance: sink.Low, Group: groupREST,
		Doc: "Whether https listeners ask REST clients for a certificate: required, requested (verified if given) or none. Under listeners.https.ssl.client.auth when the https listeners have settings of their own."})
	def(sink.ConfigKey{Name: cfgAdminListeners, Type: sink.TypeList, Default: nil, Validator: validAdminListeners, Importance: sink.Low, Group: groupREST,
		Doc: "Accepted for compatibility with Java worker files and not used: kconnect serves no admin endpoints (/admin/loggers), so no admin listener is opened."})
	def(sink.ConfigKey{Name: cfgCORSOrigin, Type: sink.TypeString, Default: "", Importance: sink.Low, Group: groupREST,
		Doc: "Origins allowed to call the REST API from a browser (CORS): comma-separated, each may hold * wildcards (https://*.example.com), or * for any. Allowed origins get Access-Control-Allow-Origin (their own origin) and Access-Control-Allow-Credentials; empty disables CORS."})
	def(sink.ConfigKey{Name: cfgCORSMethods, Type: sink.TypeString, Default: "", Importance: sink.Low, Group: groupREST,
		Doc: "Methods cross-origin preflight requests may ask for, comma-separated; empty allows GET, POST and HEAD."})
	def(sink.ConfigKey{Name: cfgResponseHeaders, Type: sink.TypeString, Default: "", Importance: sink.Low, Group: groupREST,
		Doc: "Rules for headers added to every REST response: comma-separated '<action> <Header-Name>:<value>' with action set, add, setDate or addDate (the value is then milliseconds from now); double-quote a rule that holds a comma."})
	def(sink.ConfigKey{Name: cfgRestExtensions, Type: sink.TypeList, Default: []string{}, Importance: sink.Low, Group: groupREST,
		Doc: "Accepted for compatibility with Java worker files; kconnect has no REST extensions."})

	// Worker group.
	def(sink.ConfigKey{Name: cfgSessionTimeout, Type: sink.TypeInt, Default: int32(10000), Importance: sink.High, Group: groupGroup,
		Doc: "Milliseconds without a heartbeat after which the group coordinator considers a worker failed and rebalances."})
	def(sink.ConfigKey{Name: cfgHeartbeatInterval, Type: sink.TypeInt, Default: int32(3000), Validator: sink.AtLeast(1), Importance: sink.High, Group: groupGroup,
		Doc: "Milliseconds between heartbeats to the group coordinator; keep it below a third of session.timeout.ms. It also bounds how quickly a worker notices a rebalance."})
	def(sink.ConfigKey{Name: cfgRebalanceTimeout, Type: sink.TypeInt, Default: int32(60000), Validator: sink.AtLeast(1), Importance: sink.High, Group: groupGroup,
		Doc: "Milliseconds each worker has to rejoin the group once a rebalance began."})
	def(sink.ConfigKey{Name: cfgWorkerSyncTimeout, Type: sink.TypeInt, Default: int32(3000), Validator: sink.AtLeast(1), Importance: sink.Medium, Group: groupGroup,
		Doc: "Milliseconds a worker waits to catch up with the config topic after a rebalance before it leaves the group and backs off."})
	def(sink.ConfigKey{Name: cfgWorkerUnsyncBackoff, Type: sink.TypeInt, Default: int32(300000), Validator: sink.AtLeast(0), Importance: sink.Medium, Group: groupGroup,
		Doc: "Milliseconds a worker that could not catch up with the config topic waits before rejoining (eager protocol)."})
	def(sink.ConfigKey{Name: cfgScheduledRebalanceMax, Type: sink.TypeInt, Default: int32(300000), Validator: sink.AtLeast(0), Importance: sink.Low, Group: groupGroup,
		Doc: "Milliseconds the leader waits for a departed worker to return before giving its connectors and tasks to others (compatible and sessioned protocols); 0 reassigns at once."})
	def(sink.ConfigKey{Name: cfgConnectProtocol, Type: sink.TypeString, Default: protocolSessioned, Importance: sink.Low, Group: groupGroup,
		Validator: sink.OneOfIgnoringCase(protocolEager, protocolCompatible, protocolSessioned),
		Doc:       "Rebalancing protocol: eager (stop everything on every rebalance), compatible (incremental cooperative) or sessioned (incremental cooperative with signed internal requests). The group uses the newest protocol every worker offers."})

	// Internal request signing (KIP-507).
	def(sink.ConfigKey{Name: cfgKeyGenAlgorithm, Type: sink.TypeString, Default: hmacSHA256, Validator: sink.OneOf(hmacSHA256), Importance: sink.Low, Group: groupSecurityOfSigning,
		Doc: "Algorithm of the session keys the leader distributes for signing internal requests."})
	def(sink.ConfigKey{Name: cfgKeySize, Type: sink.TypeInt, Default: nil, Validator: sink.AtLeast(1), Importance: sink.Low, Group: groupSecurityOfSigning,
		Doc: "Size in bits of session keys; unset uses 256."})
	def(sink.ConfigKey{Name: cfgKeyTTL, Type: sink.TypeInt, Default: int32(3600000), Validator: sink.AtLeast(0), Importance: sink.Low, Group: groupSecurityOfSigning,
		Doc: "Milliseconds after which the leader replaces the session key."})
	def(sink.ConfigKey{Name: cfgSignatureAlgorithm, Type: sink.TypeString, Default: hmacSHA256, Validator: sink.OneOf(hmacSHA256), Importance: sink.Low, Group: groupSecurityOfSigning,
		Doc: "Algorithm used to sign internal requests."})
	def(sink.ConfigKey{Name: cfgVerificationAlgs, Type: sink.TypeList, Default: []string{hmacSHA256}, Importance: sink.Low, Group: groupSecurityOfSigning,
		Doc: "Algorithms accepted when verifying internal requests; must include inter.worker.signature.algorithm."})

	// Tasks.
	def(sink.ConfigKey{Name: cfgTaskShutdownTimeout, Type: sink.TypeLong, Default: int64(5000), Validator: sink.AtLeast(0), Importance: sink.Low, Group: groupTasks,
		Doc: "Milliseconds the worker waits, in total, for its tasks to stop before it gives up on them."})
	def(sink.ConfigKey{Name: cfgOffsetFlushInterval, Type: sink.TypeLong, Default: int64(60000), Validator: sink.AtLeast(0), Importance: sink.Low, Group: groupTasks,
		Doc: "Milliseconds between offset commits of sink tasks."})
	def(sink.ConfigKey{Name: cfgOffsetFlushTimeout, Type: sink.TypeLong, Default: int64(5000), Validator: sink.AtLeast(0), Importance: sink.Low, Group: groupTasks,
		Doc: "Milliseconds an offset commit may take before it is counted as failed."})
	return d
}

// workerOnlyPrefixes are prefixes of worker settings that are not Kafka client settings.
var workerOnlyPrefixes = []string{
	"producer.", "consumer.", "admin.", "key.converter.", "value.converter.", "header.converter.",
	"config.storage.", "offset.storage.", "status.storage.", "listeners.", "admin.listeners.",
	"inter.worker.", "config.providers.", "rest.", "access.control.", "plugin.",
}

// clientKeys are declared worker keys that Kafka clients read as well.
var clientKeys = map[string]bool{cfgBootstrapServers: true, cfgMetadataMaxAge: true, cfgRequestTimeout: true}

// WorkerConfig is a parsed worker.properties (distributed mode).
type WorkerConfig struct {
	cfg   *sink.Config
	props map[string]string
	tls   restTLS
}

// LoadWorkerConfig reads and parses a worker.properties file.
func LoadWorkerConfig(path string) (*WorkerConfig, error) {
	props, err := LoadProperties(path)
	if err != nil {
		return nil, err
	}
	return ParseWorkerConfig(props)
}

// ParseWorkerConfig parses worker properties. The error lists every invalid or missing key, in
// the words of Java's ConfigException. Undeclared keys are kept.
func ParseWorkerConfig(props map[string]string) (*WorkerConfig, error) {
	cfg, err := workerDef().Parse(props)
	if err != nil {
		return nil, fmt.Errorf("invalid worker configuration: %w", err)
	}
	c := &WorkerConfig{cfg: cfg, props: cfg.Originals()}
	var problems []error
	verify := cfg.List(cfgVerificationAlgs)
	sig := cfg.String(cfgSignatureAlgorithm)
	found := false
	for _, a := range verify {
		if a == sig {
			found = true
		}
		if a != hmacSHA256 {
			problems = append(problems, fmt.Errorf("Invalid value %s for configuration %s: Unsupported algorithm %s; kconnect verifies %s only", strings.Join(verify, ","), cfgVerificationAlgs, a, hmacSHA256))
		}
	}
	if !found {
		problems = append(problems, fmt.Errorf("Invalid value %s for configuration %s: Signature algorithm '%s' must be present in %s list", sig, cfgSignatureAlgorithm, sig, cfgVerificationAlgs))
	}
	if n := cfg.Int(cfgHeartbeatInterval); n >= cfg.Int(cfgSessionTimeout) {
		problems = append(problems, fmt.Errorf("Invalid value %d for configuration %s: must be lower than %s (%d)", n, cfgHeartbeatInterval, cfgSessionTimeout, cfg.Int(cfgSessionTimeout)))
	}
	scheme, _, _ := c.advertised()
	rt, err := buildRESTTLS(c.props, c.hasHTTPSListener(), scheme == "https")
	if err != nil {
		problems = append(problems, err)
	}
	c.tls = rt
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid worker configuration: %w", errors.Join(problems...))
	}
	return c, nil
}

// Originals returns a copy of every property the worker was configured with.
func (c *WorkerConfig) Originals() map[string]string {
	out := make(map[string]string, len(c.props))
	for k, v := range c.props {
		out[k] = v
	}
	return out
}

// Get returns the raw value of a property and whether it was set.
func (c *WorkerConfig) Get(key string) (string, bool) {
	v, ok := c.props[key]
	return v, ok
}

// GroupID returns group.id.
func (c *WorkerConfig) GroupID() string { return c.cfg.String(cfgGroupID) }

// Listeners returns the REST listeners, e.g. ["http://:8083"].
func (c *WorkerConfig) Listeners() []string { return c.cfg.List(cfgListeners) }

// ListenerTLS returns the TLS configuration of the https listeners, or nil when every listener
// is http. It is read from the listeners.https.ssl.* settings, or the ssl.* ones when there are
// none (PEM stores only), and checked when the configuration is parsed.
func (c *WorkerConfig) ListenerTLS() *tls.Config {
	if c.tls.server == nil {
		return nil
	}
	return c.tls.server.Clone()
}

// ClientTLS returns the TLS configuration for requests to other workers' https listeners
// (forwarded REST requests and task configurations sent to the leader): the same settings as
// ListenerTLS, with the trust store verifying the other workers and the key store, if any, as
// the client certificate. If those settings cannot be used and this worker does not need them
// itself (no https listener, http advertised), it refuses every https connection with the
// reason, which the worker also logs when it starts.
func (c *WorkerConfig) ClientTLS() *tls.Config { return c.tls.client.Clone() }

// CORS returns access.control.allow.origin and access.control.allow.methods.
func (c *WorkerConfig) CORS() (allowOrigin, allowMethods string) {
	return c.cfg.String(cfgCORSOrigin), c.cfg.String(cfgCORSMethods)
}

// ResponseHeaders returns response.http.headers.config.
func (c *WorkerConfig) ResponseHeaders() string { return c.cfg.String(cfgResponseHeaders) }

// hasHTTPSListener reports whether a listener is https.
func (c *WorkerConfig) hasHTTPSListener() bool {
	for _, s := range c.Listeners() {
		if l, ok := parseListener(s); ok && l.scheme == "https" {
			return true
		}
	}
	return false
}

// AdminListeners returns admin.listeners: nil when unset (serve admin endpoints on the main
// listeners), empty when set to "" (admin endpoints disabled).
func (c *WorkerConfig) AdminListeners() []string {
	if c.cfg.IsNull(cfgAdminListeners) {
		return nil
	}
	l := c.cfg.List(cfgAdminListeners)
	if l == nil {
		l = []string{}
	}
	return l
}

// OverridePolicy returns connector.client.config.override.policy as task.OverridePolicyAll,
// task.OverridePolicyNone or task.OverridePolicyPrincipal.
func (c *WorkerConfig) OverridePolicy() string {
	p, _ := overridePolicyName(c.cfg.String(cfgOverridePolicy))
	return p
}

// TopicTracking reports topic.tracking.enable and topic.tracking.allow.reset.
func (c *WorkerConfig) TopicTracking() (enabled, allowReset bool) {
	return c.cfg.Bool(cfgTopicTracking), c.cfg.Bool(cfgTopicTrackingReset)
}

type listener struct {
	scheme, host string
	port         int
}

func parseListener(s string) (listener, bool) {
	m := listenerPattern.FindStringSubmatch(s)
	if m == nil {
		return listener{}, false
	}
	port, err := strconv.Atoi(m[3])
	if err != nil {
		return listener{}, false
	}
	return listener{scheme: strings.ToLower(m[1]), host: m[2], port: port}, true
}

// advertised returns the scheme, host and port other workers use to reach this worker, as
// Java's RestServer.advertisedUrl computes them.
func (c *WorkerConfig) advertised() (scheme, host string, port int) {
	var ls []listener
	for _, s := range c.Listeners() {
		if l, ok := parseListener(s); ok {
			ls = append(ls, l)
		}
	}
	scheme = "https"
	if !c.cfg.IsNull(cfgAdvertisedListener) {
		scheme = strings.ToLower(c.cfg.String(cfgAdvertisedListener))
	} else {
		for _, l := range ls {
			if l.scheme == "http" {
				scheme = "http"
				break
			}
		}
	}
	var chosen *listener
	for i := range ls {
		if ls[i].scheme == scheme {
			chosen = &ls[i]
			break
		}
	}
	if chosen == nil && len(ls) > 0 {
		chosen = &ls[0]
	}
	switch {
	case !c.cfg.IsNull(cfgAdvertisedHost) && c.cfg.String(cfgAdvertisedHost) != "":
		host = c.cfg.String(cfgAdvertisedHost)
	case chosen != nil && chosen.host != "" && chosen.host != "0.0.0.0" && chosen.host != "[::]":
		host = chosen.host
	default:
		host = localHostName()
	}
	switch {
	case !c.cfg.IsNull(cfgAdvertisedPort):
		port = c.cfg.Int(cfgAdvertisedPort)
	case chosen != nil:
		port = chosen.port
	default:
		port = 8083
	}
	return scheme, host, port
}

func localHostName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// AdvertisedURL returns the URL other workers use to reach this worker's REST API, ending in
// "/", e.g. "http://host:8083/".
func (c *WorkerConfig) AdvertisedURL() string {
	scheme, host, port := c.advertised()
	return scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)) + "/"
}

// WorkerID returns the worker's id, "host:port" of its advertised URL: what status records and
// the REST API show as worker_id.
func (c *WorkerConfig) WorkerID() string {
	_, host, port := c.advertised()
	return host + ":" + strconv.Itoa(port)
}

// ConnectProtocol returns connect.protocol in lower case.
func (c *WorkerConfig) ConnectProtocol() string {
	return strings.ToLower(c.cfg.String(cfgConnectProtocol))
}

func (c *WorkerConfig) duration(key string) time.Duration {
	k, _ := workerDef().Key(key)
	switch k.Type {
	case sink.TypeLong:
		return time.Duration(c.cfg.Long(key)) * time.Millisecond
	default:
		return time.Duration(c.cfg.Int(key)) * time.Millisecond
	}
}

// clientProps returns the Kafka client properties for one of the worker's clients: the
// undeclared top-level properties (security.protocol, sasl.*, ssl.*, ...) and the declared
// client keys, overlaid with the properties under prefix ("producer.", "consumer.", "admin."),
// prefix removed. An empty prefix returns the top-level properties only.
func (c *WorkerConfig) clientProps(prefix string) map[string]string {
	def := workerDef()
	out := map[string]string{}
	for k, v := range c.props {
		if _, declared := def.Key(k); declared && !clientKeys[k] {
			continue
		}
		if hasAnyPrefix(k, workerOnlyPrefixes) {
			continue
		}
		out[k] = v
	}
	if _, ok := out[cfgBootstrapServers]; !ok {
		out[cfgBootstrapServers] = strings.Join(c.cfg.List(cfgBootstrapServers), ",")
	}
	if prefix != "" {
		for k, v := range sink.WithPrefix(c.props, prefix) {
			if prefix == "admin." && (k == "listeners" || strings.HasPrefix(k, "listeners.")) {
				continue // admin.listeners*, REST settings
			}
			out[k] = v
		}
	}
	return out
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// clientIDBase is Java's ConnectUtils.clientIdBase: "<group.id>-" or "<group.id>-<client.id>-".
func (c *WorkerConfig) clientIDBase() string {
	base := c.GroupID() + "-"
	if id := c.cfg.String(cfgClientID); id != "" {
		base += id + "-"
	}
	return base
}

// memberClientID is the client id of the worker group member.
func (c *WorkerConfig) memberClientID() string {
	if id := c.cfg.String(cfgClientID); id != "" {
		return id
	}
	return "connect-" + c.WorkerID()
}

// topicSettings returns the extra topic configs given as <prefix><config> (e.g.
// config.storage.min.insync.replicas), leaving out topic, partitions and replication.factor.
// cleanup.policy is dropped with a warning by the caller: internal topics are always compacted.
func (c *WorkerConfig) topicSettings(prefix string) (configs map[string]string, ignoredPolicy bool) {
	configs = map[string]string{}
	for k, v := range sink.WithPrefix(c.props, prefix) {
		switch k {
		case "topic", "partitions", "replication.factor":
		case "cleanup.policy":
			ignoredPolicy = true
		default:
			configs[k] = v
		}
	}
	return configs, ignoredPolicy
}

// unusedSettings lists settings that are accepted but have no effect, for a start-up log line.
func (c *WorkerConfig) unusedSettings() []string {
	var out []string
	for _, k := range []string{cfgPluginPath, cfgRestExtensions, cfgConfigProviders, cfgConfigPartitions, cfgAdminListeners} {
		if _, ok := c.props[k]; ok {
			out = append(out, k)
		}
	}
	for k := range c.props {
		if strings.HasPrefix(k, cfgAdminListeners+".") {
			out = append(out, k) // admin.listeners.https.ssl.*
		}
	}
	// As in Connect, the methods apply only to origins CORS allows.
	if _, set := c.props[cfgCORSMethods]; set && strings.TrimSpace(c.cfg.String(cfgCORSOrigin)) == "" {
		out = append(out, cfgCORSMethods)
	}
	sort.Strings(out)
	return out
}
