package cluster

import (
	"context"
	"maps"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
	"github.com/kconnect/kconnect/task"
)

// The methods below are what the REST API asks of the herder (rest.Herder). Those Java runs on
// the herder thread are queued to the herder goroutine (call); reads Java answers from local
// views (connector list, statuses, topics, plugins) and pause/resume, which any worker writes
// directly, run on the caller's goroutine against the thread-safe stores.

// ServerInfo answers GET /.
func (h *Herder) ServerInfo(context.Context) ServerInfo {
	return ServerInfo{Version: h.opts.version, Commit: h.opts.commit, KafkaClusterID: *h.clusterID.Load()}
}

func (h *Herder) snapshot() *storage.Snapshot {
	if s := h.stores.Load(); s != nil {
		return s.config.Snapshot()
	}
	return storage.EmptySnapshot()
}

// Connectors lists the configured connectors, sorted, from the local view of the config topic.
func (h *Herder) Connectors(context.Context) ([]string, error) {
	return h.snapshot().Connectors(), nil
}

func (h *Herder) connectorInfo(snap *storage.Snapshot, name string) ConnectorInfo {
	cfg := maps.Clone(snap.ConnectorConfigs[name])
	return ConnectorInfo{Name: name, Config: cfg, Tasks: snap.Tasks(name), Type: h.connectorType(cfg)}
}

// ConnectorInfo returns a connector's config and committed tasks.
func (h *Herder) ConnectorInfo(ctx context.Context, name string) (ConnectorInfo, error) {
	var info ConnectorInfo
	err := h.call(ctx, func(context.Context) error {
		if h.rebalancePending() {
			return errRebalanceNeeded()
		}
		if !h.st.configState.Contains(name) {
			return errConnectorNotFound(name)
		}
		info = h.connectorInfo(h.st.configState, name)
		return nil
	})
	return info, err
}

// ConnectorConfig returns the connector's raw config.
func (h *Herder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	info, err := h.ConnectorInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	return info.Config, nil
}

// ValidateConfig validates a connector config for PUT /connector-plugins/{plugin}/config/validate.
func (h *Herder) ValidateConfig(_ context.Context, plugin string, config map[string]string) (ConfigInfos, error) {
	if class, ok := config[ccConnectorClass]; ok && !strings.HasSuffix(normalizedPluginName(class), normalizedPluginName(plugin)) {
		return ConfigInfos{}, errorf(KindBadRequest, "Included connector type %s does not match request type %s", class, plugin)
	}
	infos, _, err := h.validateConnectorConfig(config)
	return infos, err
}

// PutConnectorConfig validates a connector config on this worker, then has the leader write it.
func (h *Herder) PutConnectorConfig(ctx context.Context, name string, config map[string]string, replace bool, initial *storage.TargetState) (bool, ConnectorInfo, error) {
	config = maps.Clone(config)
	if config == nil {
		config = map[string]string{}
	}
	if _, ok := config[ccName]; !ok {
		config[ccName] = name
	}
	infos, _, err := h.validateConnectorConfig(config)
	if err != nil {
		return false, ConnectorInfo{}, err
	}
	if infos.ErrorCount > 0 {
		return false, ConnectorInfo{}, InvalidConfigError(infos)
	}
	var created bool
	var info ConnectorInfo
	err = h.call(ctx, func(ctx context.Context) error {
		if !h.isLeader() {
			return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Only the leader can set connector configs."}
		}
		exists := h.st.configState.Contains(name)
		if !replace && exists {
			return errorf(KindAlreadyExists, "Connector %s already exists", name)
		}
		wctx, cancel := h.leaderCtx(ctx)
		defer cancel()
		defer h.beginStage("writing a config for connector " + name + " to the config topic")()
		if err := h.configStore().PutConnectorConfig(wctx, name, config, initial); err != nil {
			return err
		}
		created = !exists
		// The updated config with the tasks known so far, as Java answers.
		info = ConnectorInfo{Name: name, Config: maps.Clone(config), Tasks: h.st.configState.Tasks(name), Type: h.connectorType(config)}
		return nil
	})
	return created, info, err
}

// PatchConnectorConfig applies a KIP-477 patch to a connector's config, then validates and
// writes it as PutConnectorConfig does.
func (h *Herder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error) {
	var patched map[string]string
	err := h.call(ctx, func(context.Context) error {
		if !h.isLeader() {
			return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Only the leader can set connector configs."}
		}
		if !h.st.configState.Contains(name) {
			return errConnectorNotFound(name)
		}
		patched = maps.Clone(h.st.configState.ConnectorConfigs[name])
		for k, v := range patch {
			if v == nil {
				delete(patched, k)
			} else {
				patched[k] = *v
			}
		}
		return nil
	})
	if err != nil {
		return ConnectorInfo{}, err
	}
	_, info, err := h.PutConnectorConfig(ctx, name, patched, true, nil)
	return info, err
}

// DeleteConnector removes a connector (leader only).
func (h *Herder) DeleteConnector(ctx context.Context, name string) error {
	return h.call(ctx, func(ctx context.Context) error {
		if !h.isLeader() {
			return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Only the leader can delete connector configs."}
		}
		if !h.st.configState.Contains(name) {
			return errConnectorNotFound(name)
		}
		wctx, cancel := h.leaderCtx(ctx)
		defer cancel()
		defer h.beginStage("removing the config for connector " + name + " from the config topic")()
		return h.configStore().RemoveConnectorConfig(wctx, name)
	})
}

// ConnectorStatus returns the connector's and its tasks' states from the status topic.
func (h *Herder) ConnectorStatus(_ context.Context, name string) (ConnectorState, error) {
	s := h.stores.Load()
	if s == nil {
		return ConnectorState{}, errorf(KindNotFound, "No status found for connector %s", name)
	}
	cs, ok := s.status.Connector(name)
	if !ok {
		return ConnectorState{}, errorf(KindNotFound, "No status found for connector %s", name)
	}
	out := ConnectorState{
		Name:      name,
		Connector: InstanceState{State: cs.State, WorkerID: cs.WorkerID, Trace: cs.Trace},
		Type:      h.connectorType(s.config.Snapshot().ConnectorConfigs[name]),
		Tasks:     []TaskState{},
	}
	for _, t := range s.status.Tasks(name) {
		out.Tasks = append(out.Tasks, TaskState{ID: t.ID.Task, InstanceState: InstanceState{State: t.State, WorkerID: t.WorkerID, Trace: t.Trace}})
	}
	sort.Slice(out.Tasks, func(i, j int) bool { return out.Tasks[i].ID < out.Tasks[j].ID })
	return out, nil
}

// TaskStatus returns one task's state from the status topic.
func (h *Herder) TaskStatus(_ context.Context, id storage.ConnectorTaskID) (TaskState, error) {
	s := h.stores.Load()
	if s != nil {
		if t, ok := s.status.Task(id); ok {
			return TaskState{ID: id.Task, InstanceState: InstanceState{State: t.State, WorkerID: t.WorkerID, Trace: t.Trace}}, nil
		}
	}
	return TaskState{}, errorf(KindNotFound, "No status found for task %s", taskName(id))
}

// TaskConfigs returns the committed task configs.
func (h *Herder) TaskConfigs(ctx context.Context, name string) ([]TaskInfo, error) {
	var out []TaskInfo
	err := h.call(ctx, func(context.Context) error {
		if h.rebalancePending() {
			return errRebalanceNeeded()
		}
		if !h.st.configState.Contains(name) {
			return errConnectorNotFound(name)
		}
		out = []TaskInfo{}
		for _, id := range h.st.configState.Tasks(name) {
			out = append(out, TaskInfo{ID: id, Config: maps.Clone(h.st.configState.TaskConfigs[id])})
		}
		return nil
	})
	return out, err
}

// PutTaskConfigs is the internal endpoint through which a follower has the leader store the
// task configs of a connector it runs. With the sessioned protocol the request must carry a
// valid signature.
func (h *Herder) PutTaskConfigs(ctx context.Context, name string, configs []map[string]string, body []byte, signature, algorithm string) error {
	if err := h.verifyRequest(body, signature, algorithm); err != nil {
		return err
	}
	return h.call(ctx, func(ctx context.Context) error {
		if !h.isLeader() {
			return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Only the leader may write task configurations."}
		}
		if !h.st.configState.Contains(name) {
			return errConnectorNotFound(name)
		}
		if h.st.configState.TargetState(name) == storage.Stopped && len(configs) > 0 {
			return errorf(KindBadRequest, "Cannot submit non-empty set of task configs for stopped connector %s", name)
		}
		wctx, cancel := h.leaderCtx(ctx)
		defer cancel()
		defer h.beginStage("writing task configs for connector " + name + " to the config topic")()
		return h.configStore().PutTaskConfigs(wctx, name, configs)
	})
}

// PauseConnector writes the PAUSED target state; any worker may.
func (h *Herder) PauseConnector(ctx context.Context, name string) error {
	return h.putTargetState(ctx, name, storage.Paused)
}

// ResumeConnector writes the STARTED target state; any worker may. It also resumes a stopped
// connector.
func (h *Herder) ResumeConnector(ctx context.Context, name string) error {
	return h.putTargetState(ctx, name, storage.Started)
}

func (h *Herder) putTargetState(ctx context.Context, name string, ts storage.TargetState) error {
	s := h.stores.Load()
	if s == nil || !s.config.Snapshot().Contains(name) {
		return errUnknownConnector(name)
	}
	return s.config.PutTargetState(ctx, name, ts)
}

// StopConnector stops a connector (leader only): an empty set of task configs, then the
// STOPPED target state.
func (h *Herder) StopConnector(ctx context.Context, name string) error {
	return h.call(ctx, func(ctx context.Context) error {
		if !h.isLeader() {
			return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Only the leader can transition connectors to the STOPPED state."}
		}
		if !h.st.configState.Contains(name) {
			return errUnknownConnector(name)
		}
		wctx, cancel := h.leaderCtx(ctx)
		defer cancel()
		// Task configs first: if the target state write fails, the cluster is still healthy.
		if err := h.configStore().PutTaskConfigs(wctx, name, nil); err != nil {
			return err
		}
		if err := h.configStore().PutTargetState(wctx, name, storage.Stopped); err != nil {
			return err
		}
		rctx, rcancel := context.WithTimeout(wctx, h.syncTimeout)
		defer rcancel()
		if err := h.configStore().Refresh(rctx); err != nil {
			h.log.Warn("reading the config topic after writing the STOPPED target state", "connector", name, "error", err)
		}
		return nil
	})
}

// RestartConnector restarts a connector. Without includeTasks or onlyFailed it restarts the
// connector instance on the worker that runs it (redirecting there); otherwise the leader
// writes a restart request every worker executes, and the planned states are returned.
func (h *Herder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorState, error) {
	if !includeTasks && !onlyFailed {
		err := h.call(ctx, func(context.Context) error {
			if h.rebalancePending() {
				return errStaleConfig()
			}
			if !h.st.configState.Contains(name) {
				return errUnknownConnectorColon(name)
			}
			switch {
			case h.st.owned.hasConnector(name):
				h.st.worker.stopConnector(name)
				h.startConnector(name)
				return nil
			case h.isLeader():
				return &RedirectError{TargetURL: h.st.owners.connectorURL(name), Reason: "Cannot restart connector since it is not assigned to this member"}
			default:
				return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Cannot restart connector since it is not assigned to this member"}
			}
		})
		return nil, err
	}
	var plan ConnectorState
	err := h.call(ctx, func(ctx context.Context) error {
		if h.rebalancePending() {
			return errStaleConfig()
		}
		if !h.st.configState.Contains(name) {
			return errUnknownConnectorColon(name)
		}
		if !h.isLeader() {
			return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Only the leader can process restart requests."}
		}
		req := storage.RestartRequest{Connector: name, IncludeTasks: includeTasks, OnlyFailed: onlyFailed}
		wctx, cancel := h.leaderCtx(ctx)
		defer cancel()
		if err := h.configStore().PutRestartRequest(wctx, req); err != nil {
			return err
		}
		p, ok := h.buildRestartPlan(req)
		if !ok {
			return errorf(KindNotFound, "Status for connector %s not found", name)
		}
		plan = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &plan, nil
}

// RestartTask restarts one task on the worker that runs it (redirecting there).
func (h *Herder) RestartTask(ctx context.Context, id storage.ConnectorTaskID) error {
	return h.call(ctx, func(context.Context) error {
		if h.rebalancePending() {
			return errStaleConfig()
		}
		if !h.st.configState.Contains(id.Connector) {
			return errUnknownConnectorColon(id.Connector)
		}
		if _, ok := h.st.configState.TaskConfigs[id]; !ok || !containsTask(h.st.configState.Tasks(id.Connector), id) {
			return errorf(KindNotFound, "Unknown task: %s", taskName(id))
		}
		switch {
		case h.st.owned.hasTask(id):
			h.st.worker.stopTasks([]storage.ConnectorTaskID{id})
			h.startTask(id)
			return nil
		case h.isLeader():
			return &RedirectError{TargetURL: h.st.owners.taskURL(id), Reason: "Cannot restart task since it is not assigned to this member"}
		default:
			return &RedirectError{TargetURL: h.leaderURLNow(), Reason: "Cannot restart task since it is not assigned to this member"}
		}
	})
}

func containsTask(ids []storage.ConnectorTaskID, id storage.ConnectorTaskID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// ConnectorTopics returns the topics a connector used (KIP-558), sorted. It does not check
// that the connector exists, as Java does not.
func (h *Herder) ConnectorTopics(_ context.Context, name string) ([]string, error) {
	if enabled, _ := h.cfg.TopicTracking(); !enabled {
		return nil, errorf(KindForbidden, msgTrackingDisabled)
	}
	out := []string{}
	if s := h.stores.Load(); s != nil {
		for _, t := range s.status.Topics(name) {
			out = append(out, t.Topic)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ResetConnectorTopics forgets the topics a connector used.
func (h *Herder) ResetConnectorTopics(_ context.Context, name string) error {
	enabled, allowReset := h.cfg.TopicTracking()
	if !enabled {
		return errorf(KindForbidden, msgTrackingDisabled)
	}
	if !allowReset {
		return errorf(KindForbidden, msgTrackingNoReset)
	}
	if s := h.stores.Load(); s != nil {
		for _, t := range s.status.Topics(name) {
			s.status.DeleteTopic(name, t.Topic)
		}
	}
	return nil
}

// Plugin types of the converters, as GET /connector-plugins?connectorsOnly=false lists them.
const (
	pluginTypeConverter       = "converter"
	pluginTypeHeaderConverter = "header_converter"
)

// Plugins lists the plugins of this worker in Java's order: sink connectors, source connectors
// (none), transformations and predicates (none), converters, header converters, each group
// sorted by class. The built-in converters carry the worker's version, as Java's carry Kafka's.
func (h *Herder) Plugins() []PluginInfo {
	var out []PluginInfo
	for _, p := range h.plugins.Plugins() {
		typ := string(p.Type)
		if typ == "" {
			typ = string(sink.PluginTypeSink)
		}
		v := p.Version
		if v == "undefined" {
			v = ""
		}
		out = append(out, PluginInfo{Class: p.Class, Type: typ, Version: v})
	}
	rank := map[string]int{string(sink.PluginTypeSink): 0, "source": 1}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Type] < rank[out[j].Type] })
	version := h.opts.version
	if version == "undefined" {
		version = ""
	}
	for _, class := range task.Converters() {
		out = append(out, PluginInfo{Class: class, Type: pluginTypeConverter, Version: version})
	}
	for _, class := range task.HeaderConverters() {
		out = append(out, PluginInfo{Class: class, Type: pluginTypeHeaderConverter, Version: version})
	}
	return out
}

// PluginConfig returns a plugin's config definition. For a connector: its own keys, then the
// framework's connector keys it does not declare itself. For a converter (by class name or
// alias): its own keys, with converter.type, which the worker sets, among them.
func (h *Herder) PluginConfig(name string) ([]sink.ConfigKey, error) {
	if p, ok := h.plugins.Lookup(name); ok {
		return p.Config.Extend(connectorDef()).Keys(), nil
	}
	if def, ok := task.ConverterConfigDef(name); ok {
		return def.Keys(), nil
	}
	return nil, errorf(KindNotFound, "Unknown plugin %s.", name)
}
