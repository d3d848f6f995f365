package cluster

import (
	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
)

// These are the answers the herder gives the REST layer. They carry data, not JSON: the rest
// package owns the wire shapes.

// ServerInfo describes this worker for GET /.
type ServerInfo struct {
	Version        string
	Commit         string
	KafkaClusterID string
}

// ConnectorInfo is a connector's configuration and committed tasks.
type ConnectorInfo struct {
	Name   string
	Config map[string]string // the raw config as submitted, plus "name"
	Tasks  []storage.ConnectorTaskID
	Type   string // "sink", or "unknown" when the class is not known here
}

// TaskInfo is one committed task configuration.
type TaskInfo struct {
	ID     storage.ConnectorTaskID
	Config map[string]string
}

// InstanceState is the state of a connector or task instance as GET …/status reports it.
type InstanceState struct {
	State    storage.State
	WorkerID string
	Trace    string // empty when none
}

// TaskState is a task's InstanceState with its number.
type TaskState struct {
	ID int
	InstanceState
}

// ConnectorState is a connector's status and the status of each task, sorted by task number.
type ConnectorState struct {
	Name      string
	Connector InstanceState
	Tasks     []TaskState
	Type      string // "sink", or "unknown" when the config is gone
}

// PluginInfo describes an installed connector plugin.
type PluginInfo struct {
	Class   string
	Type    string
	Version string // empty when undefined
}

// ConfigInfos is the answer of a validation: Java's ConfigInfos.
type ConfigInfos struct {
	Name       string // the connector.class value from the request
	ErrorCount int
	Groups     []string
	Configs    []ConfigInfo
}

// ConfigInfo pairs a key's definition with its validation result; either may be nil.
type ConfigInfo struct {
	Definition *sink.ConfigKey
	Value      *sink.ConfigValue
}
