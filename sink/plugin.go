package sink

import (
	"context"
	"log/slog"
	"time"
)

// Connector is a sink connector instance: Java's SinkConnector. The runtime runs at most one
// instance of a connector in the cluster, on the worker the assignor gave it to.
//
// Calls happen from one goroutine, in this order: Start, then TaskConfigs any number of times,
// then Stop. A new instance is created for every (re)start.
type Connector interface {
	// Start is called once with the connector's configuration (the raw map the user submitted,
	// plus "name"). An error fails the connector (status FAILED with the error as trace).
	Start(ctx context.Context, cc ConnectorContext, config map[string]string) error

	// TaskConfigs returns the configuration of each task, at most maxTasks of them. The runtime
	// adds "task.class" and copies "topics" / "topics.regex" before storing them. An error fails
	// the connector.
	TaskConfigs(maxTasks int) ([]map[string]string, error)

	// Stop releases what Start acquired. It is called once, also after a failed Start.
	Stop(ctx context.Context) error
}

// ConnectorContext is what a running connector may ask of the runtime.
type ConnectorContext interface {
	// RequestTaskReconfiguration asks the runtime to call TaskConfigs again and store the result.
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err.
	RaiseError(err error)
}

// ConfigValidator is implemented by connectors that check a configuration beyond what their
// [ConfigDef] expresses (cross-field rules). Validate receives the values the ConfigDef already
// validated, and may add errors to them; it must not fail on bad input.
type ConfigValidator interface {
	Validate(config map[string]string, values []ConfigValue) []ConfigValue
}

// Task is a sink task instance: Java's SinkTask. The runtime owns one Kafka consumer per task
// and calls the task from a single goroutine, so a Task needs no locking against the runtime;
// goroutines the task starts itself are its own to synchronise and stop.
//
// Lifecycle: Start; then any sequence of Open, Put, PreCommit and Close as partitions are
// assigned, records arrive, commits are due and partitions are revoked; then Stop. Every ctx
// passed in is cancelled when the runtime stops the task.
type Task interface {
	// Start is called once, before anything else, with the task's configuration (the map the
	// connector's TaskConfigs returned, plus "task.class" and "topics"/"topics.regex").
	// An error fails the task.
	Start(ctx context.Context, tc TaskContext, config map[string]string) error

	// Open is called with partitions newly assigned to this task, before any record of them is
	// passed to Put. Partitions the task already holds are never reopened. An error fails the task.
	Open(ctx context.Context, partitions []TopicPartition) error

	// Put delivers the next records, in offset order per partition. The task may buffer them.
	//
	// Returning an error wrapped with [Retriable] makes the runtime pause consumption, wait
	// (TaskContext.Timeout, if set) and deliver the same batch again, without limit. Any other
	// error fails the task.
	Put(ctx context.Context, records []Record) error

	// PreCommit is called before the runtime commits offsets: every offset.flush.interval.ms,
	// when the task asked for a commit, and before partitions are revoked. current holds, per
	// assigned partition, the offset after the last record passed to Put. The task returns the
	// offsets that are safe to commit (the next offset to consume, per partition); partitions it
	// leaves out are not committed. An error means nothing is committed this time and the runtime
	// rewinds consumption to the last committed offsets.
	PreCommit(ctx context.Context, current map[TopicPartition]int64) (map[TopicPartition]int64, error)

	// Close is called with partitions taken from this task (revoked after a final PreCommit and
	// commit, or lost without one). The task must discard or finish what it holds for them; no
	// further record of them is delivered until they are opened again. An error is logged.
	Close(ctx context.Context, partitions []TopicPartition) error

	// Stop is called once, last. Partitions still open are closed with Close before it.
	Stop(ctx context.Context) error
}

// TaskContext is what a running task may ask of the runtime: Java's SinkTaskContext. Its methods
// are safe to call from any goroutine.
type TaskContext interface {
	// Assignment returns the partitions currently assigned to the task.
	Assignment() []TopicPartition
	// Pause stops fetching from the partitions until Resume; the task keeps its assignment.
	Pause(partitions ...TopicPartition)
	// Resume undoes Pause.
	Resume(partitions ...TopicPartition)
	// RequestCommit asks for a PreCommit and commit as soon as possible.
	RequestCommit()
	// Timeout sets how long the runtime waits before redelivering a batch after a retriable
	// Put error.
	Timeout(d time.Duration)
}

// LoggerSetter is implemented by connectors and tasks that log. The runtime calls SetLogger once,
// right after it constructs the instance and before Start, with the worker's logger naming the
// plugin ("logger=sink"), the connector and, for a task, the task number, so the plugin's lines
// follow the worker's format and log level.
type LoggerSetter interface {
	SetLogger(l *slog.Logger)
}

// PluginType is the kind of a plugin as the REST API names it.
type PluginType string

// The plugin types kconnect lists.
const (
	PluginTypeSink PluginType = "sink"
)

// Plugin describes a connector kconnect can run. Plugins are compiled in and registered in a
// [Registry] by class name.
type Plugin struct {
	// Class is the fully qualified Java class name users put in connector.class.
	Class string
	// TaskClass is the fully qualified task class name the runtime stores as task.class.
	TaskClass string
	// Version is reported by GET /connector-plugins.
	Version string
	// Type is the plugin type (sink).
	Type PluginType
	// Config declares the connector's own configuration keys.
	Config *ConfigDef
	// NewConnector returns a new connector instance.
	NewConnector func() Connector
	// NewTask returns a new task instance.
	NewTask func() Task
}
