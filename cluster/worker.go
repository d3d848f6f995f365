package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
	"github.com/kconnect/kconnect/task"
)

// worker runs the connectors and tasks assigned to this worker (Java's Worker). It is used by
// the herder goroutine only; each connector instance and each task runs on a goroutine of its
// own, which the worker starts, stops and waits for.
type worker struct {
	h          *Herder
	settings   task.WorkerSettings
	connectors map[string]*connectorRunner
	tasks      map[storage.ConnectorTaskID]*taskRunner
}

func newWorker(h *Herder, settings task.WorkerSettings) *worker {
	return &worker{h: h, settings: settings, connectors: map[string]*connectorRunner{}, tasks: map[storage.ConnectorTaskID]*taskRunner{}}
}

func (w *worker) hasConnector(c string) bool { _, ok := w.connectors[c]; return ok }

func (w *worker) hasTask(t storage.ConnectorTaskID) bool { _, ok := w.tasks[t]; return ok }

func (w *worker) taskIDs() []storage.ConnectorTaskID {
	out := make([]storage.ConnectorTaskID, 0, len(w.tasks))
	for id := range w.tasks {
		out = append(out, id)
	}
	sortTasks(out)
	return out
}

func (w *worker) connectorNames() []string {
	return slices.Sorted(maps.Keys(w.connectors))
}

// stopAll stops every connector and task.
func (w *worker) stopAll() {
	w.stopTasks(w.taskIDs())
	for _, c := range w.connectorNames() {
		w.stopConnector(c)
	}
}

// stopExcept stops the connectors and tasks that are not in keep; it reports whether it
// stopped any.
func (w *worker) stopExcept(keep workSet) bool {
	var tasks []storage.ConnectorTaskID
	for _, id := range w.taskIDs() {
		if !keep.hasTask(id) {
			tasks = append(tasks, id)
		}
	}
	w.stopTasks(tasks)
	stopped := len(tasks) > 0
	for _, c := range w.connectorNames() {
		if !keep.hasConnector(c) {
			w.stopConnector(c)
			stopped = true
		}
	}
	return stopped
}

// setTargetState passes a connector's new target state to its instance and tasks here.
func (w *worker) setTargetState(connector string, ts storage.TargetState) {
	if r, ok := w.connectors[connector]; ok && r != nil {
		r.post(connectorCmd{target: ts})
	}
	for id, t := range w.tasks {
		if id.Connector == connector && t != nil && t.task != nil {
			t.task.SetPaused(ts != storage.Started)
		}
	}
}

// stopTasks stops the tasks and waits for them, all together at most
// task.shutdown.graceful.timeout.ms; tasks that do not stop in time are abandoned (their
// statuses are ignored from then on) and waited for when the worker shuts down.
func (w *worker) stopTasks(ids []storage.ConnectorTaskID) {
	var running []*taskRunner
	for _, id := range ids {
		t, ok := w.tasks[id]
		delete(w.tasks, id)
		if !ok || t == nil {
			continue
		}
		t.cancel()
		running = append(running, t)
	}
	if len(running) == 0 {
		return
	}
	defer w.h.beginStage(fmt.Sprintf("stopping %d task(s)", len(running)))()
	deadline := time.NewTimer(w.h.shutdownTimeout)
	defer deadline.Stop()
	for _, t := range running {
		select {
		case <-t.done:
			continue
		case <-deadline.C:
		}
		// Out of time: abandon the rest.
		for _, rest := range running {
			select {
			case <-rest.done:
			default:
				w.abandon("task "+taskName(rest.id), &rest.abandoned, rest.done)
			}
		}
		return
	}
}

func (w *worker) abandon(what string, flag *atomic.Bool, done <-chan struct{}) {
	flag.Store(true)
	w.h.log.Error("gave up waiting for a connector or task to stop; it is abandoned and its statuses ignored", "instance", what, "timeout", w.h.shutdownTimeout)
	w.h.abandoned.Add(1)
	go func() {
		defer w.h.abandoned.Done()
		<-done
	}()
}

// stopConnector stops the connector instance and waits for it, at most
// task.shutdown.graceful.timeout.ms. Task configs being sent to the leader for it are dropped.
func (w *worker) stopConnector(name string) {
	if cancel, ok := w.h.st.forwards[name]; ok {
		cancel()
		delete(w.h.st.forwards, name)
	}
	r, ok := w.connectors[name]
	delete(w.connectors, name)
	if !ok || r == nil {
		return
	}
	r.post(connectorCmd{stop: true})
	defer w.h.beginStage("stopping connector " + name)()
	t := time.NewTimer(w.h.shutdownTimeout)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
		w.abandon("connector "+name, &r.abandoned, r.done)
	}
}

// startConnector starts the instance of an assigned connector in its current target state.
func (h *Herder) startConnector(name string) {
	w := h.st.worker
	cfg := h.st.configState.ConnectorConfigs[name]
	if cfg == nil {
		h.log.Warn("cannot start connector: it has no configuration", "connector", name)
		return
	}
	class := strings.TrimSpace(cfg[ccConnectorClass])
	plugin, ok := h.plugins.Lookup(class)
	if !ok {
		h.log.Error("cannot start connector: its class is not installed", "connector", name, "class", class)
		h.statusStore().PutConnectorSafe(storage.ConnectorStatus{Connector: name, State: storage.Failed, WorkerID: h.workerID, Generation: h.generation.Load(),
			Trace: fmt.Sprintf("Failed to find any class that implements Connector and which name matches %s, available connectors are: %s", class, strings.Join(h.pluginClasses(), ", "))})
		w.connectors[name] = nil
		return
	}
	h.log.Info("starting connector", "connector", name, "target_state", h.st.configState.TargetState(name))
	r := &connectorRunner{
		h:      h,
		name:   name,
		config: maps.Clone(cfg),
		plugin: plugin,
		target: h.st.configState.TargetState(name),
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		log:    h.log.With("connector", name),
	}
	w.connectors[name] = r
	go r.run(h.st.workCtx)
}

// startTask starts an assigned task in its connector's current target state.
func (h *Herder) startTask(id storage.ConnectorTaskID) {
	w := h.st.worker
	snap := h.st.configState
	cc := snap.ConnectorConfigs[id.Connector]
	tc := snap.TaskConfigs[id]
	if cc == nil || tc == nil {
		h.log.Warn("cannot start task: its configuration is gone", "task", taskName(id))
		return
	}
	gen := h.generation.Load()
	fail := func(trace string) {
		h.log.Error("task cannot start", "connector", id.Connector, "task", taskName(id), "error", trace)
		h.statusStore().PutTaskSafe(storage.TaskStatus{ID: id, State: storage.Failed, Trace: trace, WorkerID: h.workerID, Generation: gen})
		w.tasks[id] = nil
	}
	class := strings.TrimSpace(cc[ccConnectorClass])
	plugin, ok := h.plugins.Lookup(class)
	if !ok {
		fail(fmt.Sprintf("Failed to find any class that implements Connector and which name matches %s", class))
		return
	}
	if maxTasks, enforce := tasksMax(cc); enforce && snap.TaskCounts[id.Connector] > maxTasks {
		fail(tooManyTasks(id.Connector, snap.TaskCounts[id.Connector], maxTasks))
		return
	}
	tr := &taskRunner{id: id, done: make(chan struct{})}
	listener := &taskStatus{h: h, runner: tr, written: map[string]time.Time{}}
	logged := &loggedErrors{}
	taskLog := slog.New(logged.wrap(h.log.Handler())).With(logKey, "task", "connector", id.Connector, "task", taskName(id))
	t, err := task.New(task.Config{
		Connector:       id.Connector,
		Task:            id.Task,
		ConnectorConfig: maps.Clone(cc),
		TaskConfig:      maps.Clone(tc),
		Plugin:          plugin,
		Worker:          w.settings,
		Paused:          snap.TargetState(id.Connector) != storage.Started,
		Status:          listener,
		Logger:          taskLog,
	})
	if err != nil {
		fail(err.Error())
		return
	}
	h.log.Info("starting task", "task", taskName(id))
	ctx, cancel := context.WithCancel(h.st.workCtx)
	tr.task, tr.cancel = t, cancel
	w.tasks[id] = tr
	go func() {
		defer close(tr.done)
		defer cancel()
		// A failure is logged once: by the task runtime when it logs it itself, else here.
		if err := t.Run(ctx); err != nil && ctx.Err() == nil && !logged.has(err) {
			taskLog.Error("task failed", "error", err)
		}
	}()
}

func tasksMax(cc map[string]string) (int, bool) {
	n := 1
	if v, err := strconv.Atoi(strings.TrimSpace(cc[ccTasksMax])); err == nil && v > 0 {
		n = v
	}
	enforce := !strings.EqualFold(strings.TrimSpace(cc[ccTasksMaxEnforce]), "false")
	return n, enforce
}

func tooManyTasks(connector string, n, max int) string {
	return fmt.Sprintf("The connector %s has generated %d tasks, which is greater than %d, the maximum number of tasks it is configured to create. "+
		"Set 'tasks.max.enforce' to false in the connector configuration to allow it; that option is deprecated.", connector, n, max)
}

// taskRunner is one running task.
type taskRunner struct {
	id        storage.ConnectorTaskID
	task      *task.SinkTask
	cancel    context.CancelFunc
	done      chan struct{}
	abandoned atomic.Bool
}

// taskStatus writes a task's state changes to the status topic (Java's Worker task status
// listener): RUNNING and PAUSED unconditionally, FAILED and UNASSIGNED only if no newer owner
// wrote one (putSafe). It also records the topics the task consumes (KIP-558).
type taskStatus struct {
	h      *Herder
	runner *taskRunner
	// written holds when this task recorded a topic the status store has not read back yet;
	// only the task's goroutine (TopicUsed) touches it.
	written map[string]time.Time
}

// topicReadBack is how long a recorded topic may take to appear in the status store before the
// task records it again. Tests shorten it.
var topicReadBack = 5 * time.Second

// TopicUsed records in the status topic that the task's connector consumes topic
// (status-topic-<topic>:connector-<name>), unless the topic is recorded already: Java's
// WorkerTask.recordActiveTopic, so each (connector, topic) is written once, and again after a
// reset (PUT /connectors/{name}/topics/reset). Nothing is written when topic.tracking.enable
// is false.
func (s *taskStatus) TopicUsed(topic string) {
	if !s.h.topicTracking || s.runner.abandoned.Load() {
		return
	}
	store := s.h.statusStore()
	for _, t := range store.Topics(s.runner.id.Connector) {
		if t.Topic == topic {
			delete(s.written, topic)
			return
		}
	}
	now := time.Now()
	if at, ok := s.written[topic]; ok && now.Sub(at) < topicReadBack {
		return // written a moment ago and not read back yet
	}
	s.written[topic] = now
	store.PutTopic(storage.TopicStatus{Topic: topic, Connector: s.runner.id.Connector, Task: s.runner.id.Task, DiscoverTimestamp: now})
}

func (s *taskStatus) put(state storage.State, trace string, safe bool) {
	if s.runner.abandoned.Load() {
		return
	}
	st := storage.TaskStatus{ID: s.runner.id, State: state, Trace: trace, WorkerID: s.h.workerID, Generation: s.h.generation.Load()}
	if safe {
		s.h.statusStore().PutTaskSafe(st)
	} else {
		s.h.statusStore().PutTask(st)
	}
}

func (s *taskStatus) Running()            { s.put(storage.Running, "", false) }
func (s *taskStatus) Paused()             { s.put(storage.StatePaused, "", false) }
func (s *taskStatus) Failed(trace string) { s.put(storage.Failed, trace, true) }
func (s *taskStatus) Shutdown()           { s.put(storage.Unassigned, "", true) }

// connectorRunner runs one connector instance on its own goroutine (Java's WorkerConnector):
// sink.Connector's Start, TaskConfigs and Stop are all called from it. The herder posts
// commands; results go back to the herder goroutine as internal requests.
type connectorRunner struct {
	h      *Herder
	name   string
	config map[string]string
	plugin *sink.Plugin
	log    *slog.Logger

	mu     sync.Mutex
	target storage.TargetState // latest target state posted
	cmds   []connectorCmd
	raised error // from ConnectorContext.RaiseError
	reconf bool  // from ConnectorContext.RequestTaskReconfiguration

	kick      chan struct{}
	done      chan struct{}
	abandoned atomic.Bool
}

// connectorCmd is a command for a connector's goroutine.
type connectorCmd struct {
	target      storage.TargetState // non-empty: transition to it
	taskConfigs int                 // > 0: compute task configs for this tasks.max
	stop        bool
}

func (r *connectorRunner) post(c connectorCmd) {
	r.mu.Lock()
	r.cmds = append(r.cmds, c)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// RequestTaskReconfiguration implements sink.ConnectorContext.
func (r *connectorRunner) RequestTaskReconfiguration() {
	r.mu.Lock()
	r.reconf = true
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// RaiseError implements sink.ConnectorContext.
func (r *connectorRunner) RaiseError(err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	if r.raised == nil {
		r.raised = err
	}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *connectorRunner) putStatus(state storage.State, trace string) {
	if r.abandoned.Load() {
		return
	}
	st := storage.ConnectorStatus{Connector: r.name, State: state, Trace: trace, WorkerID: r.h.workerID, Generation: r.h.generation.Load()}
	if state == storage.Failed || state == storage.Unassigned {
		r.h.statusStore().PutConnectorSafe(st)
	} else {
		r.h.statusStore().PutConnector(st)
	}
}

// run is the connector's goroutine. The instance is started while the target state is STARTED
// and stopped while PAUSED or STOPPED, as Java's WorkerConnector does; a failure keeps it
// stopped until the connector is restarted.
func (r *connectorRunner) run(ctx context.Context) {
	defer close(r.done)
	var inst sink.Connector
	started, failed := false, false
	fail := func(err error) {
		if failed {
			return
		}
		failed = true
		r.log.Error("connector failed", "error", err)
		r.putStatus(storage.Failed, err.Error())
		if started {
			if serr := inst.Stop(ctx); serr != nil {
				r.log.Warn("stopping failed connector", "error", serr)
			}
			started = false
		}
	}
	stopInstance := func() {
		if started {
			if err := inst.Stop(ctx); err != nil {
				r.log.Warn("stopping connector", "error", err)
			}
			started = false
		}
	}
	current := storage.TargetState("")
	apply := func(ts storage.TargetState) {
		if ts == current || failed {
			current = ts
			return
		}
		current = ts
		switch ts {
		case storage.Started:
			inst = r.plugin.NewConnector()
			if ls, ok := inst.(sink.LoggerSetter); ok {
				ls.SetLogger(r.log.With("logger", "sink"))
			}
			if err := inst.Start(ctx, r, maps.Clone(r.config)); err != nil {
				started = true // Stop is called after a failed Start too
				fail(fmt.Errorf("starting connector %s: %w", r.name, err))
				return
			}
			started = true
			r.putStatus(storage.Running, "")
			r.requestReconfiguration()
		case storage.Paused:
			stopInstance()
			r.putStatus(storage.StatePaused, "")
		case storage.Stopped:
			stopInstance()
			r.putStatus(storage.StateStopped, "")
		}
	}
	r.mu.Lock()
	initial := r.target
	r.mu.Unlock()
	apply(initial)

	for {
		select {
		case <-r.kick:
		case <-ctx.Done():
			stopInstance()
			return
		}
		r.mu.Lock()
		cmds := r.cmds
		r.cmds = nil
		raised := r.raised
		r.raised = nil
		reconf := r.reconf
		r.reconf = false
		r.mu.Unlock()
		if raised != nil {
			fail(raised)
		}
		if reconf && started && !failed && current == storage.Started {
			r.requestReconfiguration()
		}
		for _, c := range cmds {
			switch {
			case c.stop:
				stopInstance()
				if !failed {
					r.putStatus(storage.Unassigned, "")
				}
				return
			case c.target != "":
				apply(c.target)
			case c.taskConfigs > 0:
				if !started || failed || current != storage.Started {
					continue
				}
				configs, err := inst.TaskConfigs(c.taskConfigs)
				if err != nil {
					fail(fmt.Errorf("generating task configs of connector %s: %w", r.name, err))
					continue
				}
				r.h.enqueueInternal(0, func(ctx context.Context) { r.h.onTaskConfigs(ctx, r, configs) })
			}
		}
	}
}

// requestReconfiguration asks the herder to regenerate the connector's task configs.
func (r *connectorRunner) requestReconfiguration() {
	r.h.enqueueInternal(0, func(ctx context.Context) { r.h.reconfigureConnector(r.name) })
}

// reconfigureConnector asks the running connector for task configs (Java's
// DistributedHerder.reconfigureConnector); the answer arrives through onTaskConfigs.
func (h *Herder) reconfigureConnector(name string) {
	r := h.st.worker.connectors[name]
	cc := h.st.configState.ConnectorConfigs[name]
	if r == nil || cc == nil || h.st.configState.TargetState(name) != storage.Started {
		h.log.Debug("skipping task reconfiguration of a connector that is not running here", "connector", name)
		return
	}
	maxTasks, _ := tasksMax(cc)
	r.post(connectorCmd{taskConfigs: maxTasks})
}

// onTaskConfigs stores new task configs of a connector running here, if they differ from the
// committed ones: directly when this worker leads, else through the leader's REST API.
func (h *Herder) onTaskConfigs(ctx context.Context, r *connectorRunner, configs []map[string]string) {
	if h.st.worker.connectors[r.name] != r {
		return // the instance was stopped or replaced meanwhile
	}
	snap := h.st.configState
	cc := snap.ConnectorConfigs[r.name]
	if cc == nil || snap.TargetState(r.name) != storage.Started {
		return
	}
	maxTasks, enforce := tasksMax(cc)
	if enforce && len(configs) > maxTasks {
		r.RaiseError(fmt.Errorf("%s", tooManyTasks(r.name, len(configs), maxTasks)))
		return
	}
	full := make([]map[string]string, len(configs))
	for i, c := range configs {
		m := maps.Clone(c)
		if m == nil {
			m = map[string]string{}
		}
		m[ccTaskClass] = r.plugin.TaskClass
		if v, ok := cc[ccTopics]; ok {
			m[ccTopics] = v
		}
		if v, ok := cc[ccTopicsRegex]; ok {
			m[ccTopicsRegex] = v
		}
		full[i] = m
	}
	changed := len(full) != snap.TaskCounts[r.name] || snap.Inconsistent[r.name] || !maps.Equal(cc, snap.AppliedConnectorConfigs[r.name])
	for i := 0; !changed && i < len(full); i++ {
		if !maps.Equal(full[i], snap.TaskConfigs[storage.ConnectorTaskID{Connector: r.name, Task: i}]) {
			changed = true
		}
	}
	if !changed {
		return
	}
	h.log.Info("storing new task configs", "connector", r.name, "tasks", len(full))
	if h.isLeader() {
		endStage := h.beginStage("writing task configs for connector " + r.name + " to the config topic")
		wctx, cancel := h.leaderCtx(ctx)
		err := h.configStore().PutTaskConfigs(wctx, r.name, full)
		cancel()
		endStage()
		if err != nil {
			h.log.Error("writing task configs failed; retrying", "connector", r.name, "error", err)
			h.enqueueInternal(250*time.Millisecond, func(context.Context) { h.reconfigureConnector(r.name) })
		}
		return
	}
	h.forwardTaskConfigs(r.name, full)
}

// forwardTaskConfigs sends task configs to the leader's internal endpoint from a goroutine of
// its own, so the herder keeps heartbeating, retrying with backoff (250 ms doubling to 60 s)
// until it succeeds, the connector stops here or the worker stops.
func (h *Herder) forwardTaskConfigs(name string, configs []map[string]string) {
	if cancel, ok := h.st.forwards[name]; ok {
		cancel()
	}
	ctx, cancel := context.WithCancel(h.st.runCtx)
	h.st.forwards[name] = cancel
	body, err := json.Marshal(configs)
	if err != nil {
		cancel()
		h.log.Error("encoding task configs", "connector", name, "error", err)
		return
	}
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		defer cancel()
		b := newBackoff(250*time.Millisecond, 60*time.Second)
		first := time.Now()
		for {
			err := h.postTaskConfigs(ctx, name, body)
			if err == nil || ctx.Err() != nil {
				return
			}
			if fe, ok := err.(*forwardError); ok && fe.status == http.StatusForbidden && time.Since(first) < time.Minute {
				h.log.Debug("the leader refused the task configs, possibly because of a stale session key; retrying", "connector", name)
			} else {
				h.log.Error("sending task configs to the leader failed; retrying", "connector", name, "error", err)
			}
			if !sleepCtx(ctx, b.next()) {
				return
			}
		}
	}()
}

// forwardError is an error answer of another worker.
type forwardError struct {
	status  int
	message string
}

func (e *forwardError) Error() string {
	return fmt.Sprintf("the leader answered %d: %s", e.status, e.message)
}

func (h *Herder) postTaskConfigs(ctx context.Context, name string, body []byte) error {
	leader := ""
	if p := h.leaderURL.Load(); p != nil {
		leader = *p
	}
	if strings.TrimSpace(leader) == "" {
		return fmt.Errorf("the URL of the leader's REST API is not known")
	}
	target := strings.TrimSuffix(leader, "/") + "/connectors/" + url.PathEscape(name) + "/tasks"
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request to the leader: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kafka-connect")
	if h.sessioned.Load() {
		if key := h.sessionKey.Load(); key != nil {
			req.Header.Set("X-Connect-Authorization", signRequest(key.Key, body))
			req.Header.Set("X-Connect-Request-Signature-Algorithm", h.cfg.cfg.String(cfgSignatureAlgorithm))
		}
	}
	resp, err := h.opts.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("sending task configs to %s: %w", leader, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	var em struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &em) != nil || em.Message == "" {
		em.Message = strings.TrimSpace(string(data))
	}
	return &forwardError{status: resp.StatusCode, message: em.Message}
}

// loggedErrors remembers the last errors a task logged at ERROR level, so the worker can tell
// whether a failure Run returns was logged already.
type loggedErrors struct {
	mu   sync.Mutex
	errs []error // the most recent last, at most maxLoggedErrors
}

const maxLoggedErrors = 4

// wrap returns a handler that passes every record to h and remembers the error attributes of
// ERROR records.
func (l *loggedErrors) wrap(h slog.Handler) slog.Handler { return errorRecorder{Handler: h, logged: l} }

// has reports whether err, or an error it wraps, was logged.
func (l *loggedErrors) has(err error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (l *loggedErrors) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == maxLoggedErrors {
		l.errs = append(l.errs[:0], l.errs[1:]...)
	}
	l.errs = append(l.errs, err)
}

type errorRecorder struct {
	slog.Handler
	logged *loggedErrors
}

func (r errorRecorder) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelError {
		rec.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && a.Value.Kind() == slog.KindAny {
				r.logged.add(err)
			}
			return true
		})
	}
	return r.Handler.Handle(ctx, rec)
}

func (r errorRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return errorRecorder{Handler: r.Handler.WithAttrs(as), logged: r.logged}
}

func (r errorRecorder) WithGroup(name string) slog.Handler {
	return errorRecorder{Handler: r.Handler.WithGroup(name), logged: r.logged}
}

func taskName(id storage.ConnectorTaskID) string { return fmt.Sprintf("%s-%d", id.Connector, id.Task) }
