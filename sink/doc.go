// Package sink is the plugin API of kconnect: what a sink connector and its tasks implement, the
// records and schemas they receive, and the configuration definitions they declare.
//
// It mirrors Kafka Connect's connect-api for sinks (SinkConnector, SinkTask, SinkTaskContext,
// SinkRecord, Schema, Struct, ConfigDef) so the Java documentation of a connector reads the same
// here. Types to learn first:
//
//   - [Plugin]: what a connector registers (class name, version, [ConfigDef], constructors).
//   - [Connector]: turns a connector configuration into task configurations.
//   - [Task]: receives records from the runtime; the runtime commits what [Task.PreCommit] returns.
//   - [Record] and [Schema]: a converted Kafka record.
//   - [ConfigDef]: one declaration that parses, validates and documents configuration.
//   - [Registry]: class names and aliases to plugins.
//
// Errors a task returns are classified with [Retriable] and [IsRetriable]; everything else fails
// the task.
package sink
