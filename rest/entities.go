package rest

import (
	"sort"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
)

// The JSON shapes of the Connect REST API (Java's rest/entities), with the field names, the
// omissions and the ordering Apache Kafka Connect uses. Each has a from… function turning the
// herder's answer into it, so no handler builds JSON by hand.

// errorMessage is Java's ErrorMessage, the body of every error response.
type errorMessage struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// serverInfo answers GET /.
type serverInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// workerStatus answers GET /health (KIP-1017).
type workerStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// connectorTaskID is Java's ConnectorTaskId.
type connectorTaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// connectorInfo is Java's ConnectorInfo.
type connectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []connectorTaskID `json:"tasks"`
	Type   string            `json:"type"`
}

// taskInfo is Java's TaskInfo, an element of GET /connectors/{c}/tasks.
type taskInfo struct {
	ID     connectorTaskID   `json:"id"`
	Config map[string]string `json:"config"`
}

// connectorState is the "connector" object of Java's ConnectorStateInfo.
type connectorState struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"` // Java: JsonInclude.NON_EMPTY
}

// taskState is Java's ConnectorStateInfo.TaskState.
type taskState struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// connectorStateInfo is Java's ConnectorStateInfo.
type connectorStateInfo struct {
	Name      string         `json:"name"`
	Connector connectorState `json:"connector"`
	Tasks     []taskState    `json:"tasks"`
	Type      string         `json:"type"`
}

// createConnectorRequest is Java's CreateConnectorRequest as it is sent on when forwarding:
// Jackson writes every field, so an absent initial state travels as null.
type createConnectorRequest struct {
	Name         string             `json:"name"`
	Config       map[string]*string `json:"config"`
	InitialState *string            `json:"initial_state"`
}

// activeTopics is Java's ActiveTopicsInfo without its connector field (which Java does not
// serialise); GET /connectors/{c}/topics answers {"<c>": activeTopics}.
type activeTopics struct {
	Topics []string `json:"topics"`
}

// pluginInfo is Java's PluginInfo.
type pluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"` // Java omits the "undefined" version
}

// configKeyInfo is Java's ConfigKeyInfo. Java's creator parameter is order_in_group, but the
// property is serialised as "order".
type configKeyInfo struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Required     bool     `json:"required"`
	DefaultValue *string  `json:"default_value"`
	Importance   string   `json:"importance"`
	Doc          string   `json:"documentation"`
	Group        *string  `json:"group"`
	Width        string   `json:"width"`
	DisplayName  string   `json:"display_name"`
	Dependents   []string `json:"dependents"`
	Order        int      `json:"order"`
}

// configValueInfo is Java's ConfigValueInfo.
type configValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// configInfo is Java's ConfigInfo; either half may be null.
type configInfo struct {
	Definition *configKeyInfo   `json:"definition"`
	Value      *configValueInfo `json:"value"`
}

// configInfos is Java's ConfigInfos, the answer of the validate endpoint.
type configInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []configInfo `json:"configs"`
}

// connectorTypeName is the connector's "type" as the API spells it; an unknown class is
// "unknown", never empty.
func connectorTypeName(t string) string {
	if t == "" {
		return "unknown"
	}
	return t
}

func fromServerInfo(s cluster.ServerInfo) serverInfo {
	return serverInfo{Version: s.Version, Commit: s.Commit, KafkaClusterID: s.KafkaClusterID}
}

func fromTaskIDs(ids []storage.ConnectorTaskID) []connectorTaskID {
	out := make([]connectorTaskID, 0, len(ids))
	for _, id := range ids {
		out = append(out, connectorTaskID{Connector: id.Connector, Task: id.Task})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Task < out[j].Task })
	return out
}

func fromConnectorInfo(c cluster.ConnectorInfo) connectorInfo {
	return connectorInfo{
		Name:   c.Name,
		Config: nonNilMap(c.Config),
		Tasks:  fromTaskIDs(c.Tasks),
		Type:   connectorTypeName(c.Type),
	}
}

func fromTaskInfos(ts []cluster.TaskInfo) []taskInfo {
	out := make([]taskInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, taskInfo{
			ID:     connectorTaskID{Connector: t.ID.Connector, Task: t.ID.Task},
			Config: nonNilMap(t.Config),
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID.Task < out[j].ID.Task })
	return out
}

func fromTaskState(t cluster.TaskState) taskState {
	return taskState{ID: t.ID, State: string(t.State), WorkerID: t.WorkerID, Trace: t.Trace}
}

func fromConnectorState(s cluster.ConnectorState) connectorStateInfo {
	tasks := make([]taskState, 0, len(s.Tasks))
	for _, t := range s.Tasks {
		tasks = append(tasks, fromTaskState(t))
	}
	// The herder sorts already; the API promises it, so make sure.
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].ID < tasks[j].ID })
	return connectorStateInfo{
		Name: s.Name,
		Connector: connectorState{
			State:    string(s.Connector.State),
			WorkerID: s.Connector.WorkerID,
			Trace:    s.Connector.Trace,
		},
		Tasks: tasks,
		Type:  connectorTypeName(s.Type),
	}
}

func fromPluginInfo(p cluster.PluginInfo) pluginInfo {
	return pluginInfo{Class: p.Class, Type: p.Type, Version: p.Version}
}

func fromConfigKey(k sink.ConfigKey) configKeyInfo {
	out := configKeyInfo{
		Name:        k.Name,
		Type:        string(k.Type),
		Required:    k.Required,
		Importance:  string(k.Importance),
		Doc:         k.Doc,
		Width:       string(k.Width),
		DisplayName: k.DisplayName,
		Dependents:  nonNilStrings(k.Dependents),
		Order:       k.OrderInGroup,
	}
	if !k.Required {
		// Java renders the default as the value's string form: lists joined with ",",
		// passwords as "[hidden]", null as null.
		out.DefaultValue = sink.Render(k.Type, k.Default)
	}
	if k.Group != "" {
		g := k.Group
		out.Group = &g
	}
	if out.Importance == "" {
		out.Importance = string(sink.Medium)
	}
	if out.Width == "" {
		out.Width = string(sink.WidthNone)
	}
	if out.DisplayName == "" {
		out.DisplayName = k.Name
	}
	return out
}

func fromConfigKeys(keys []sink.ConfigKey) []configKeyInfo {
	out := make([]configKeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, fromConfigKey(k))
	}
	return out
}

func fromConfigValue(v sink.ConfigValue, def *sink.ConfigKey) configValueInfo {
	value := v.Value
	if value != nil && def != nil && def.Type == sink.TypePassword {
		// Secrets never leave the worker, whatever the herder put in the value.
		hidden := sink.NewPassword("").String()
		value = &hidden
	}
	return configValueInfo{
		Name:              v.Name,
		Value:             value,
		RecommendedValues: nonNilStrings(v.RecommendedValues),
		Errors:            nonNilStrings(v.Errors),
		Visible:           v.Visible,
	}
}

func fromConfigInfos(c cluster.ConfigInfos) configInfos {
	out := configInfos{
		Name:       c.Name,
		ErrorCount: c.ErrorCount,
		Groups:     nonNilStrings(c.Groups),
		Configs:    make([]configInfo, 0, len(c.Configs)),
	}
	for _, ci := range c.Configs {
		var info configInfo
		if ci.Definition != nil {
			d := fromConfigKey(*ci.Definition)
			info.Definition = &d
		}
		if ci.Value != nil {
			v := fromConfigValue(*ci.Value, ci.Definition)
			info.Value = &v
		}
		out.Configs = append(out.Configs, info)
	}
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
