package rest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
)

// fakeHerder is an in-memory double of the Herder interface: one worker's view of a small
// cluster, answering with the errors and messages a Connect herder uses. Tests seed it, inject
// errors per method, make it redirect leader-only requests, and read back the write calls it
// received.
type fakeHerder struct {
	mu       sync.Mutex
	info     cluster.ServerInfo
	configs  map[string]map[string]string
	tasks    map[string][]map[string]string // committed task configs
	statuses map[string]cluster.ConnectorState
	targets  map[string]storage.TargetState
	topics   map[string][]string
	plugins  []fakePlugin

	// redirect, when set, is returned by the calls only the leader (or an owner) completes.
	redirect *cluster.RedirectError
	// fail holds an error to return per method name.
	fail map[string]error
	// block makes every call wait for its context to end; waiting counts the calls doing so.
	block   bool
	waiting atomic.Int32
	// autoStatus makes a created connector RUNNING at once, as a worker reports it shortly
	// after creation.
	autoStatus bool
	// calls records the write calls, one line each.
	calls []string
}

var _ Herder = (*fakeHerder)(nil)

type fakePlugin struct {
	info    cluster.PluginInfo
	aliases []string
	def     *sink.ConfigDef // nil for non-connector plugins
}

const (
	kustoClass  = "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector"
	kustoAppKey = "s3cr3t-app-key"
)

// kustoDef is a small version of the Kusto sink's definition plus the framework's keys: enough
// for validation answers with groups, orders, defaults, validators and a password.
func kustoDef() *sink.ConfigDef {
	return sink.NewConfigDef().
		Define(sink.ConfigKey{Name: "name", Type: sink.TypeString, Required: true, Importance: sink.High,
			Doc: "Globally unique name to use for this connector.", Group: "Common", OrderInGroup: 1, Width: sink.WidthMedium, DisplayName: "Connector name",
			Validator: func(v any) error {
				if s, _ := v.(string); s == "" {
					return errors.New("String must be non-empty")
				}
				return nil
			}}).
		Define(sink.ConfigKey{Name: "connector.class", Type: sink.TypeString, Required: true, Importance: sink.High,
			Doc: "Name or alias of the class for this connector.", Group: "Common", OrderInGroup: 2, Width: sink.WidthLong, DisplayName: "Connector class"}).
		Define(sink.ConfigKey{Name: "tasks.max", Type: sink.TypeInt, Default: int32(1), Validator: sink.AtLeast(1), Importance: sink.High,
			Doc: "Maximum number of tasks to use for this connector.", Group: "Common", OrderInGroup: 3, Width: sink.WidthShort, DisplayName: "Tasks max"}).
		Define(sink.ConfigKey{Name: "topics", Type: sink.TypeList, Default: []string{}, Importance: sink.High,
			Doc: "List of topics to consume, separated by commas", Group: "Common", OrderInGroup: 4, Width: sink.WidthLong, DisplayName: "Topics"}).
		Define(sink.ConfigKey{Name: "kusto.ingestion.url", Type: sink.TypeString, Required: true, Importance: sink.High,
			Doc: "The Kusto data management endpoint.", Group: "Connection", OrderInGroup: 1}).
		Define(sink.ConfigKey{Name: "aad.auth.appkey", Type: sink.TypePassword, Default: nil, Importance: sink.High,
			Doc: "The application key.", Group: "Connection", OrderInGroup: 2}).
		Define(sink.ConfigKey{Name: "flush.size.bytes", Type: sink.TypeLong, Default: int64(1 << 20), Validator: sink.AtLeast(100), Importance: sink.Medium,
			Doc: "Bytes to buffer before ingesting a file.", Group: "Writer", OrderInGroup: 1, Dependents: []string{"flush.interval.ms"}}).
		Define(sink.ConfigKey{Name: "behavior.on.error", Type: sink.TypeString, Default: "FAIL", Validator: sink.OneOfIgnoringCase("FAIL", "IGNORE", "LOG"),
			Doc: "What to do when a record fails.", Width: sink.WidthShort})
}

// newFakeHerder returns a herder seeded with two connectors: s1 (running, two tasks, one of
// them failed) and fresh (configured, no tasks or status yet).
func newFakeHerder() *fakeHerder {
	f := newEmptyFakeHerder()
	f.configs["s1"] = map[string]string{
		"name": "s1", "connector.class": kustoClass, "tasks.max": "2", "topics": "storms",
		"kusto.ingestion.url": "https://ingest-c.kusto.windows.net", "aad.auth.appkey": kustoAppKey,
	}
	f.tasks["s1"] = []map[string]string{
		{"task.class": kustoClass + "Task", "topics": "storms", "task.id": "0"},
		{"task.class": kustoClass + "Task", "topics": "storms", "task.id": "1"},
	}
	f.statuses["s1"] = cluster.ConnectorState{
		Name:      "s1",
		Connector: cluster.InstanceState{State: storage.Running, WorkerID: "w1:8083"},
		// Out of order on purpose: the API sorts tasks by id.
		Tasks: []cluster.TaskState{
			{ID: 1, InstanceState: cluster.InstanceState{State: storage.Failed, WorkerID: "w2:8083", Trace: "ingest failed: queue unreachable\n\tat writer.flush"}},
			{ID: 0, InstanceState: cluster.InstanceState{State: storage.Running, WorkerID: "w1:8083"}},
		},
		Type: "sink",
	}
	f.topics["s1"] = []string{"storms", "storms-2"}
	f.configs["fresh"] = map[string]string{
		"name": "fresh", "connector.class": "KustoSink", "topics": "t", "kusto.ingestion.url": "https://x",
	}
	return f
}

func newEmptyFakeHerder() *fakeHerder {
	return &fakeHerder{
		info:     cluster.ServerInfo{Version: "3.9.0", Commit: "0123456789abcdef", KafkaClusterID: "q6WfxrxTRdC0tL0x4nKq2g"},
		configs:  map[string]map[string]string{},
		tasks:    map[string][]map[string]string{},
		statuses: map[string]cluster.ConnectorState{},
		targets:  map[string]storage.TargetState{},
		topics:   map[string][]string{},
		fail:     map[string]error{},
		plugins: []fakePlugin{
			{info: cluster.PluginInfo{Class: kustoClass, Type: "sink", Version: "5.0.0"}, aliases: []string{"KustoSinkConnector", "KustoSink"}, def: kustoDef()},
			{info: cluster.PluginInfo{Class: "org.example.UnversionedSinkConnector", Type: "sink"}, aliases: []string{"UnversionedSinkConnector", "UnversionedSink"}, def: kustoDef()},
			{info: cluster.PluginInfo{Class: "org.apache.kafka.connect.storage.StringConverter", Type: "converter", Version: "3.9.0"}},
		},
	}
}

// enter returns the injected error or the context's, if any. The caller holds f.mu; a
// blocking herder releases it while it waits.
func (f *fakeHerder) enter(ctx context.Context, method string) error {
	if f.block {
		f.waiting.Add(1)
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		f.waiting.Add(-1)
		return ctx.Err()
	}
	if err := f.fail[method]; err != nil {
		return err
	}
	return ctx.Err()
}

func (f *fakeHerder) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// Calls returns the write calls received so far.
func (f *fakeHerder) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// config returns a stored connector config.
func (f *fakeHerder) config(name string) (map[string]string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg, ok := f.configs[name]
	return cfg, ok
}

func notFoundf(format string, args ...any) error {
	return &cluster.Error{Kind: cluster.KindNotFound, Message: fmt.Sprintf(format, args...)}
}

func badRequestf(format string, args ...any) error {
	return &cluster.Error{Kind: cluster.KindBadRequest, Message: fmt.Sprintf(format, args...)}
}

func jsonText(v any) string {
	data, err := encodeJSON(v)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

func (f *fakeHerder) plugin(name string) *fakePlugin {
	for i, p := range f.plugins {
		if p.info.Class == name {
			return &f.plugins[i]
		}
		for _, a := range p.aliases {
			if a == name {
				return &f.plugins[i]
			}
		}
	}
	return nil
}

func (f *fakeHerder) connectorType(name string) string {
	cfg, ok := f.configs[name]
	if !ok {
		return "unknown"
	}
	if p := f.plugin(cfg["connector.class"]); p != nil {
		return p.info.Type
	}
	return "unknown"
}

func (f *fakeHerder) taskIDs(name string) []storage.ConnectorTaskID {
	ids := []storage.ConnectorTaskID{}
	for i := range f.tasks[name] {
		ids = append(ids, storage.ConnectorTaskID{Connector: name, Task: i})
	}
	return ids
}

func (f *fakeHerder) connectorInfo(name string) cluster.ConnectorInfo {
	cfg := map[string]string{}
	for k, v := range f.configs[name] {
		cfg[k] = v
	}
	return cluster.ConnectorInfo{Name: name, Config: cfg, Tasks: f.taskIDs(name), Type: f.connectorType(name)}
}

// validate answers as a herder's validation does, and reports errors as Java's
// maybeAddConfigErrors words them.
func (f *fakeHerder) validate(cfg map[string]string) (cluster.ConfigInfos, error) {
	class, ok := cfg["connector.class"]
	if !ok {
		keys := make([]string, 0, len(cfg))
		for k := range cfg {
			keys = append(keys, k+"="+cfg[k])
		}
		sort.Strings(keys)
		return cluster.ConfigInfos{}, badRequestf("Connector config {%s} contains no connector type", strings.Join(keys, ", "))
	}
	p := f.plugin(class)
	if p == nil || p.def == nil {
		return cluster.ConfigInfos{}, badRequestf("Failed to find any class that implements Connector and which name matches %s", class)
	}
	infos := cluster.ConfigInfos{Name: class, Groups: p.def.Groups()}
	values := p.def.Validate(cfg)
	for i, k := range p.def.Keys() {
		def, v := k, values[i]
		infos.ErrorCount += len(v.Errors)
		infos.Configs = append(infos.Configs, cluster.ConfigInfo{Definition: &def, Value: &v})
	}
	return infos, nil
}

func (f *fakeHerder) ServerInfo(ctx context.Context) cluster.ServerInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

func (f *fakeHerder) Connectors(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "Connectors"); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(f.configs))
	for n := range f.configs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func (f *fakeHerder) ConnectorInfo(ctx context.Context, name string) (cluster.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ConnectorInfo"); err != nil {
		return cluster.ConnectorInfo{}, err
	}
	if _, ok := f.configs[name]; !ok {
		return cluster.ConnectorInfo{}, notFoundf("Connector %s not found", name)
	}
	return f.connectorInfo(name), nil
}

func (f *fakeHerder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ConnectorConfig"); err != nil {
		return nil, err
	}
	if _, ok := f.configs[name]; !ok {
		return nil, notFoundf("Connector %s not found", name)
	}
	return f.connectorInfo(name).Config, nil
}

func (f *fakeHerder) PutConnectorConfig(ctx context.Context, name string, config map[string]string, replace bool, initial *storage.TargetState) (bool, cluster.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	init := "<nil>"
	if initial != nil {
		init = string(*initial)
	}
	f.record("PutConnectorConfig name=%q replace=%v initial=%s config=%s", name, replace, init, jsonText(config))
	if err := f.enter(ctx, "PutConnectorConfig"); err != nil {
		return false, cluster.ConnectorInfo{}, err
	}
	infos, err := f.validate(config)
	if err != nil {
		return false, cluster.ConnectorInfo{}, err
	}
	if infos.ErrorCount > 0 {
		return false, cluster.ConnectorInfo{}, cluster.InvalidConfigError(infos)
	}
	if f.redirect != nil {
		return false, cluster.ConnectorInfo{}, f.redirect
	}
	_, exists := f.configs[name]
	if exists && !replace {
		return false, cluster.ConnectorInfo{}, &cluster.Error{Kind: cluster.KindAlreadyExists, Message: fmt.Sprintf("Connector %s already exists", name)}
	}
	previous := f.taskIDs(name)
	stored := map[string]string{}
	for k, v := range config {
		stored[k] = v
	}
	f.configs[name] = stored
	if initial != nil {
		f.targets[name] = *initial
	}
	if f.autoStatus && !exists {
		f.statuses[name] = cluster.ConnectorState{Name: name, Connector: cluster.InstanceState{State: storage.Running, WorkerID: "w1:8083"}, Type: f.connectorType(name)}
	}
	info := f.connectorInfo(name)
	info.Tasks = previous
	return !exists, info, nil
}

func (f *fakeHerder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (cluster.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("PatchConnectorConfig name=%q patch=%s", name, jsonText(patch))
	if err := f.enter(ctx, "PatchConnectorConfig"); err != nil {
		return cluster.ConnectorInfo{}, err
	}
	if f.redirect != nil {
		return cluster.ConnectorInfo{}, f.redirect
	}
	old, ok := f.configs[name]
	if !ok {
		return cluster.ConnectorInfo{}, notFoundf("Connector %s not found", name)
	}
	merged := map[string]string{}
	for k, v := range old {
		merged[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = *v
		}
	}
	infos, err := f.validate(merged)
	if err != nil {
		return cluster.ConnectorInfo{}, err
	}
	if infos.ErrorCount > 0 {
		return cluster.ConnectorInfo{}, cluster.InvalidConfigError(infos)
	}
	f.configs[name] = merged
	return f.connectorInfo(name), nil
}

func (f *fakeHerder) DeleteConnector(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("DeleteConnector name=%q", name)
	if err := f.enter(ctx, "DeleteConnector"); err != nil {
		return err
	}
	if f.redirect != nil {
		return f.redirect
	}
	if _, ok := f.configs[name]; !ok {
		return notFoundf("Connector %s not found", name)
	}
	delete(f.configs, name)
	delete(f.targets, name)
	return nil
}

func (f *fakeHerder) ConnectorStatus(ctx context.Context, name string) (cluster.ConnectorState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ConnectorStatus"); err != nil {
		return cluster.ConnectorState{}, err
	}
	st, ok := f.statuses[name]
	if !ok {
		return cluster.ConnectorState{}, notFoundf("No status found for connector %s", name)
	}
	st.Tasks = append([]cluster.TaskState(nil), st.Tasks...)
	return st, nil
}

func (f *fakeHerder) TaskStatus(ctx context.Context, id storage.ConnectorTaskID) (cluster.TaskState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "TaskStatus"); err != nil {
		return cluster.TaskState{}, err
	}
	for _, t := range f.statuses[id.Connector].Tasks {
		if t.ID == id.Task {
			return t, nil
		}
	}
	return cluster.TaskState{}, notFoundf("No status found for task %s-%d", id.Connector, id.Task)
}

func (f *fakeHerder) TaskConfigs(ctx context.Context, name string) ([]cluster.TaskInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "TaskConfigs"); err != nil {
		return nil, err
	}
	if _, ok := f.configs[name]; !ok {
		return nil, notFoundf("Connector %s not found", name)
	}
	out := []cluster.TaskInfo{}
	for i, cfg := range f.tasks[name] {
		out = append(out, cluster.TaskInfo{ID: storage.ConnectorTaskID{Connector: name, Task: i}, Config: cfg})
	}
	return out, nil
}

func (f *fakeHerder) PutTaskConfigs(ctx context.Context, name string, configs []map[string]string, body []byte, signature, algorithm string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("PutTaskConfigs name=%q configs=%s body=%q signature=%q algorithm=%q", name, jsonText(configs), body, signature, algorithm)
	if err := f.enter(ctx, "PutTaskConfigs"); err != nil {
		return err
	}
	if f.redirect != nil {
		return f.redirect
	}
	if _, ok := f.configs[name]; !ok {
		return notFoundf("Connector %s not found", name)
	}
	f.tasks[name] = configs
	return nil
}

func (f *fakeHerder) setTarget(ctx context.Context, method, name string, state storage.TargetState, leaderOnly bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("%s name=%q", method, name)
	if err := f.enter(ctx, method); err != nil {
		return err
	}
	if leaderOnly && f.redirect != nil {
		return f.redirect
	}
	if _, ok := f.configs[name]; !ok {
		return notFoundf("Unknown connector %s", name)
	}
	f.targets[name] = state
	return nil
}

func (f *fakeHerder) PauseConnector(ctx context.Context, name string) error {
	return f.setTarget(ctx, "PauseConnector", name, storage.Paused, false)
}

func (f *fakeHerder) ResumeConnector(ctx context.Context, name string) error {
	return f.setTarget(ctx, "ResumeConnector", name, storage.Started, false)
}

func (f *fakeHerder) StopConnector(ctx context.Context, name string) error {
	return f.setTarget(ctx, "StopConnector", name, storage.Stopped, true)
}

func (f *fakeHerder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*cluster.ConnectorState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RestartConnector name=%q includeTasks=%v onlyFailed=%v", name, includeTasks, onlyFailed)
	if err := f.enter(ctx, "RestartConnector"); err != nil {
		return nil, err
	}
	if f.redirect != nil {
		return nil, f.redirect
	}
	if _, ok := f.configs[name]; !ok {
		return nil, notFoundf("Unknown connector: %s", name)
	}
	if !includeTasks && !onlyFailed {
		return nil, nil
	}
	st, ok := f.statuses[name]
	if !ok {
		return nil, notFoundf("Status for connector %s not found", name)
	}
	plan := st
	if !onlyFailed || plan.Connector.State == storage.Failed {
		plan.Connector.State = storage.Restarting
	}
	plan.Tasks = nil
	for _, t := range st.Tasks {
		if includeTasks && (!onlyFailed || t.State == storage.Failed) {
			t.State = storage.Restarting
		}
		plan.Tasks = append(plan.Tasks, t)
	}
	return &plan, nil
}

func (f *fakeHerder) RestartTask(ctx context.Context, id storage.ConnectorTaskID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RestartTask id=%s-%d", id.Connector, id.Task)
	if err := f.enter(ctx, "RestartTask"); err != nil {
		return err
	}
	if f.redirect != nil {
		return f.redirect
	}
	if _, ok := f.configs[id.Connector]; !ok {
		return notFoundf("Unknown connector: %s", id.Connector)
	}
	if id.Task < 0 || id.Task >= len(f.tasks[id.Connector]) {
		return notFoundf("Unknown task: %s-%d", id.Connector, id.Task)
	}
	return nil
}

func (f *fakeHerder) ConnectorTopics(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ConnectorTopics"); err != nil {
		return nil, err
	}
	return append([]string(nil), f.topics[name]...), nil
}

func (f *fakeHerder) ResetConnectorTopics(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ResetConnectorTopics name=%q", name)
	if err := f.enter(ctx, "ResetConnectorTopics"); err != nil {
		return err
	}
	delete(f.topics, name)
	return nil
}

func (f *fakeHerder) Plugins() []cluster.PluginInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]cluster.PluginInfo, 0, len(f.plugins))
	for _, p := range f.plugins {
		out = append(out, p.info)
	}
	return out
}

func (f *fakeHerder) PluginConfig(name string) ([]sink.ConfigKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail["PluginConfig"]; err != nil {
		return nil, err
	}
	p := f.plugin(name)
	if p == nil || p.def == nil {
		return nil, notFoundf("Unknown plugin %s.", name)
	}
	return p.def.Keys(), nil
}

func (f *fakeHerder) ValidateConfig(ctx context.Context, plugin string, config map[string]string) (cluster.ConfigInfos, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ValidateConfig plugin=%q config=%s", plugin, jsonText(config))
	if err := f.enter(ctx, "ValidateConfig"); err != nil {
		return cluster.ConfigInfos{}, err
	}
	return f.validate(config)
}

// Health models the real herder's answers: an injected KindRebalanceNeeded error stands for a
// worker that has not completed its first rebalance (starting), and a KindTimeout error or a
// blocked herder for a herder goroutine that did not answer; the error's message is then what
// the goroutine is doing. Other injected errors are returned as they are.
func (f *fakeHerder) Health(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.enter(ctx, "Health")
	var ce *cluster.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return &cluster.HealthError{}
	case errors.As(err, &ce) && ce.Kind == cluster.KindRebalanceNeeded:
		return &cluster.HealthError{Starting: true, Stage: ce.Message}
	case errors.As(err, &ce) && ce.Kind == cluster.KindTimeout:
		return &cluster.HealthError{Stage: ce.Message}
	}
	return err
}
