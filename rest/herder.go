package rest

import (
	"context"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
)

// Herder is what the REST API needs from the cluster. *cluster.Herder implements it.
//
// Errors are *cluster.Error (mapped to a status by kind) or *cluster.RedirectError (the request
// is forwarded to the target worker, §2.3 of the Connect REST spec); anything else is a 500.
type Herder interface {
	// ServerInfo answers GET /.
	ServerInfo(ctx context.Context) cluster.ServerInfo
	// Health answers GET /health (KIP-1017): nil when the herder's own goroutine ran a no-op
	// in time; a *cluster.HealthError when the worker is still starting (503) or its goroutine
	// did not answer (500), with what it was doing; any other error is a 500 ErrorMessage.
	Health(ctx context.Context) error

	// Connectors lists connector names from the local snapshot.
	Connectors(ctx context.Context) ([]string, error)
	// ConnectorInfo returns a connector's config and tasks.
	ConnectorInfo(ctx context.Context, name string) (cluster.ConnectorInfo, error)
	// ConnectorConfig returns the raw config (as submitted, plus "name").
	ConnectorConfig(ctx context.Context, name string) (map[string]string, error)
	// PutConnectorConfig validates and writes a connector config. replace=false is POST
	// /connectors (exists → AlreadyExists); initial is the optional KIP-980 initial state.
	// created reports whether the connector is new.
	PutConnectorConfig(ctx context.Context, name string, config map[string]string, replace bool, initial *storage.TargetState) (created bool, info cluster.ConnectorInfo, err error)
	// PatchConnectorConfig applies a KIP-477 patch: non-nil values set, nil values remove.
	PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (cluster.ConnectorInfo, error)
	// DeleteConnector removes a connector.
	DeleteConnector(ctx context.Context, name string) error

	// ConnectorStatus returns the connector's and its tasks' states.
	ConnectorStatus(ctx context.Context, name string) (cluster.ConnectorState, error)
	// TaskStatus returns one task's state.
	TaskStatus(ctx context.Context, id storage.ConnectorTaskID) (cluster.TaskState, error)
	// TaskConfigs returns the committed task configs.
	TaskConfigs(ctx context.Context, name string) ([]cluster.TaskInfo, error)
	// PutTaskConfigs is the internal endpoint POST /connectors/{c}/tasks through which a
	// follower asks the leader to store task configs. body is the raw request body and
	// signature/algorithm the KIP-507 headers (empty when absent), for verification.
	PutTaskConfigs(ctx context.Context, name string, configs []map[string]string, body []byte, signature, algorithm string) error

	// PauseConnector, ResumeConnector and StopConnector change the target state.
	PauseConnector(ctx context.Context, name string) error
	ResumeConnector(ctx context.Context, name string) error
	StopConnector(ctx context.Context, name string) error
	// RestartConnector restarts a connector; with includeTasks or onlyFailed it returns the
	// planned states (202), otherwise nil (204).
	RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*cluster.ConnectorState, error)
	// RestartTask restarts one task.
	RestartTask(ctx context.Context, id storage.ConnectorTaskID) error

	// ConnectorTopics returns the topics a connector used (KIP-558).
	ConnectorTopics(ctx context.Context, name string) ([]string, error)
	// ResetConnectorTopics forgets them.
	ResetConnectorTopics(ctx context.Context, name string) error

	// Plugins lists installed connector plugins.
	Plugins() []cluster.PluginInfo
	// PluginConfig returns a plugin's config definition (own keys, then framework keys).
	PluginConfig(name string) ([]sink.ConfigKey, error)
	// ValidateConfig validates a connector config as create would, for PUT
	// /connector-plugins/{plugin}/config/validate.
	ValidateConfig(ctx context.Context, plugin string, config map[string]string) (cluster.ConfigInfos, error)
}
