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
	// ClientOpts connect a kgo client to the cluster (seed brokers, TLS, SASL) with the worker's
	// "consumer." settings applied. The runtime adds the connector's "consumer.override."
	// settings, the consumer group, client id and the options a sink consumer requires.
	ClientOpts []kgo.Opt
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
	// Status receives state changes.
	Status StatusListener
	// Logger is the task's logger; nil means slog.Default().
	Logger *slog.Logger
}
