package task

import (
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/sink"
)

// ConverterSpec names a converter class and the settings it is configured with (the keys after
// the "key.converter." / "value.converter." / "header.converter." prefix).
type ConverterSpec struct {
	Class  string
	Config map[string]string
}

// WorkerSettings are the worker-level settings every sink task of a worker shares.
type WorkerSettings struct {
	// WorkerID is the worker's id (advertised host:port), for logs.
	WorkerID string
	// GroupID is the worker group's id; a sink's consumer group may not equal it.
	GroupID string
	// ConsumerProps are the worker's Kafka client properties for sink consumers, in Java's
	// names: its connection and security settings (bootstrap.servers, security.protocol,
	// sasl.*, ssl.*, ...) overlaid with its "consumer." settings, prefix removed. The runtime
	// overlays the connector's "consumer.override." settings and translates the result once
	// (package kafkaprops), so a connector may bring its own cluster and credentials, as Java's
	// Worker.baseConsumerConfigs allows. Nil means the worker contributes only ClientOpts.
	ConsumerProps map[string]string
	// ProducerProps are the same for the dead letter queue producer: the worker's connection
	// and security settings overlaid with its "producer." settings, under the connector's
	// "producer.override." settings. Nil means the worker contributes only ClientOpts.
	ProducerProps map[string]string
	// ClientOpts are kgo options applied to every client of the task before the translated
	// properties, for what properties cannot express (a dialer, a hook, seed brokers in tests).
	// They must not set SASL when the properties do, since kgo would then offer both.
	ClientOpts []kgo.Opt
	// OverridePolicy is connector.client.config.override.policy: [OverridePolicyAll] (also
	// when empty), [OverridePolicyNone] or [OverridePolicyPrincipal]. Validation refuses
	// disallowed client overrides before a connector is stored; the runtime checks again, as
	// Java's Worker does, in case the worker's policy changed since.
	OverridePolicy string
	// ShutdownTimeout is task.shutdown.graceful.timeout.ms: how long the final PreCommit, commit,
	// Close and Stop may take when the task stops. Zero means 5 s.
	ShutdownTimeout time.Duration
	// KeyConverter, ValueConverter and HeaderConverter are the worker defaults; a connector
	// config overrides them with its own "key.converter" etc.
	KeyConverter    ConverterSpec
	ValueConverter  ConverterSpec
	HeaderConverter ConverterSpec
	// OffsetFlushInterval is offset.flush.interval.ms: how often offsets are committed.
	OffsetFlushInterval time.Duration
	// OffsetFlushTimeout is offset.flush.timeout.ms.
	OffsetFlushTimeout time.Duration
}

// StatusListener receives a task's state changes: Java's TaskStatus.Listener. Calls come from the
// task's goroutine and must not block for long.
type StatusListener interface {
	// Running is called when the task started or resumed.
	Running()
	// Paused is called when the task paused because its connector's target state is PAUSED.
	Paused()
	// Failed is called once when the task fails; trace describes the error. No secret may appear
	// in it.
	Failed(trace string)
	// Shutdown is called when the task stopped normally.
	Shutdown()
}

// TopicListener is implemented by a [StatusListener] that records the topics a task consumes
// (KIP-558, Java's WorkerTask.recordActiveTopic). The runtime calls TopicUsed from the task's
// goroutine for each topic of a poll whose records converted, once per poll and topic, before
// they are delivered; the listener decides whether the topic is new. It must not block.
type TopicListener interface {
	TopicUsed(topic string)
}

// Config is everything needed to run one sink task.
type Config struct {
	Connector string
	Task      int
	// ConnectorConfig is the connector's raw config: converters, errors.*, consumer.override.*
	// and topics are read from it, as Java's WorkerSinkTask reads them from SinkConnectorConfig.
	ConnectorConfig map[string]string
	// TaskConfig is what the connector's TaskConfigs returned for this task (plus task.class and
	// topics); it is passed to sink.Task.Start.
	TaskConfig map[string]string
	// Plugin constructs the task.
	Plugin *sink.Plugin
	// Worker holds the worker-level settings.
	Worker WorkerSettings
	// Paused starts the task paused (the connector's target state is PAUSED).
	Paused bool
	// Status receives state changes, and the topics consumed when it implements
	// [TopicListener].
	Status StatusListener
	// Logger is the task's logger; nil means slog.Default().
	Logger *slog.Logger
}
