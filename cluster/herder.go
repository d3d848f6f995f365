package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
	"github.com/kconnect/kconnect/task"
	"github.com/kconnect/kconnect/task/kafkaprops"
)

// requestTimeout is how long a REST request waits for the herder goroutine: Java's
// RestServer.DEFAULT_REST_REQUEST_TIMEOUT_MS. Tests shorten it.
var requestTimeout = 90 * time.Second

// logKey is the log attribute naming the component a line comes from: "cluster" (the herder
// and the group member), "storage" (the stores), "task" (a task's runtime, with "connector"
// and "task"), "kgo" (the herder's Kafka clients). Each derived logger names its own
// component; the program's log handler keeps the innermost name.
const logKey = "logger"

// Option configures a Herder.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	httpClient *http.Client
	version    string
	commit     string
}

// WithLogger sets the herder's logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHTTPClient sets the client a follower uses to send task configurations to the leader.
// Default: a client with a 30 s timeout that speaks TLS to https workers as
// WorkerConfig.ClientTLS says.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithVersion sets the software version and commit GET / reports. Default: "unknown".
func WithVersion(version, commit string) Option {
	return func(o *options) { o.version, o.commit = version, commit }
}

// Herder runs one worker of a distributed Connect cluster: Java's DistributedHerder. See the
// package documentation for how its goroutines and requests interleave.
type Herder struct {
	cfg      *WorkerConfig
	plugins  *sink.Registry
	opts     options
	log      *slog.Logger
	url      string
	workerID string
	offered  []string // sub-protocols offered, most preferred first

	syncTimeout     time.Duration
	unsyncBackoff   time.Duration
	maxDelay        time.Duration
	keyTTL          time.Duration
	shutdownTimeout time.Duration
	topicTracking   bool // topic.tracking.enable

	ready     chan struct{}
	readyOnce sync.Once
	ran       atomic.Bool

	// Published by the herder goroutine for the other goroutines (REST callers, task status
	// listeners, forwarders).
	stores     atomic.Pointer[stores]
	clusterID  atomic.Pointer[string]
	generation atomic.Int32
	leaderURL  atomic.Pointer[string]
	sessioned  atomic.Bool // the group runs the sessioned protocol: internal requests are signed
	sessionKey atomic.Pointer[storage.SessionKey]
	stage      atomic.Pointer[stage] // what the herder goroutine is doing or did last

	// The request queue: REST callers and internal events enqueue, the herder goroutine runs.
	qmu    sync.Mutex
	queue  []*request
	seq    uint64
	closed bool
	wake   chan struct{}

	// Changes heard by the config listener, waiting for the herder goroutine.
	umu     sync.Mutex
	pending pendingUpdates

	// bg counts the forwarders of task configs; Run waits for them. abandoned counts tasks
	// and connector instances that did not stop within their shutdown timeout; Run waits for
	// them a while longer and then reports them.
	bg        sync.WaitGroup
	abandoned sync.WaitGroup

	// st is owned by the herder goroutine: nothing else reads or writes it.
	st herderState
}

type stores struct {
	config storage.ConfigStore
	status storage.StatusStore
}

// herderState is the cluster state as this worker knows it. Only the herder goroutine
// touches it.
type herderState struct {
	runCtx      context.Context // cancelled when Run's ctx ends
	workCtx     context.Context // for connectors and tasks: cancelled by halt after stopping them
	cancelWork  context.CancelFunc
	member      *Member
	configState *storage.Snapshot // the config topic as last processed
	joinSnap    *storage.Snapshot // the snapshot reported in the current JoinGroup

	memberID                string
	generation              int32
	lastCompletedGeneration int32
	protocol                string      // sub-protocol of the last rebalance; "" before the first
	assignment              *assignment // the last assignment received (leader, offset, delay)
	owned                   workSet     // everything assigned to this worker
	rejoinRequested         bool
	rebalanceResolved       bool
	scheduledRebalance      time.Time
	canReadConfigs          bool
	backoffRetries          int
	joinBackoff             *backoff

	leader        *leadership // non-nil while this worker leads
	ledBefore     bool        // this worker led the previous generation
	pendingOwners *owners     // computed by this worker as leader during the current join
	owners        *owners     // who runs what, as of the last assignment this worker computed
	assignor      *cooperativeAssignor

	sessionKey *storage.SessionKey
	forwards   map[string]context.CancelFunc // task config forwarders by connector
	restarts   map[string]storage.RestartRequest

	worker *worker

	// fatal ends Run with this error: the first join failed in a way retrying cannot fix.
	fatal error
}

// pendingUpdates are config topic changes the listener heard.
type pendingUpdates struct {
	connectors   map[string]bool
	taskCommits  map[string]bool
	targetStates map[string]bool
	restarts     map[string]storage.RestartRequest
	sessionKey   *storage.SessionKey
}

// request is work for the herder goroutine.
type request struct {
	fn        func(ctx context.Context)
	at        time.Time
	seq       uint64
	done      chan struct{} // nil for internal requests
	cancelled atomic.Bool
}

// New builds the herder of one worker from its configuration and the installed plugins. It
// does no I/O.
func New(cfg *WorkerConfig, plugins *sink.Registry, opts ...Option) (*Herder, error) {
	if cfg == nil || plugins == nil {
		return nil, errors.New("creating herder: a worker config and a plugin registry are required")
	}
	o := options{version: "unknown", commit: "unknown"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     cfg.ClientTLS(),
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	h := &Herder{
		cfg:             cfg,
		plugins:         plugins,
		opts:            o,
		url:             cfg.AdvertisedURL(),
		workerID:        cfg.WorkerID(),
		syncTimeout:     cfg.duration(cfgWorkerSyncTimeout),
		unsyncBackoff:   cfg.duration(cfgWorkerUnsyncBackoff),
		maxDelay:        cfg.duration(cfgScheduledRebalanceMax),
		keyTTL:          cfg.duration(cfgKeyTTL),
		shutdownTimeout: cfg.duration(cfgTaskShutdownTimeout),
		ready:           make(chan struct{}),
		wake:            make(chan struct{}, 1),
	}
	h.topicTracking, _ = cfg.TopicTracking()
	h.log = o.logger.With(logKey, "cluster", "worker_id", h.workerID)
	switch cfg.ConnectProtocol() {
	case protocolEager:
		h.offered = []string{subprotocolDefault}
	case protocolCompatible:
		h.offered = []string{subprotocolCompatible, subprotocolDefault}
	default:
		h.offered = []string{subprotocolSessioned, subprotocolCompatible, subprotocolDefault}
	}
	empty := ""
	h.clusterID.Store(&empty)
	h.leaderURL.Store(&empty)
	return h, nil
}

// Ready is closed once the herder completed its first rebalance and started its work.
func (h *Herder) Ready() <-chan struct{} { return h.ready }

func (h *Herder) markReady() { h.readyOnce.Do(func() { close(h.ready) }) }

// isReady reports whether the herder completed its first rebalance.
func (h *Herder) isReady() bool {
	select {
	case <-h.ready:
		return true
	default:
		return false
	}
}

// WorkerID returns this worker's id (advertised host:port).
func (h *Herder) WorkerID() string { return h.workerID }

// URL returns this worker's advertised REST URL.
func (h *Herder) URL() string { return h.url }

// Run creates missing internal topics, starts the stores, joins the worker group and serves
// until ctx is cancelled; then it stops connectors and tasks, leaves the group and returns.
// Until Kafka is reachable it waits, logging why (startup.go); it returns an error at once for
// what waiting cannot fix: refused credentials or permissions, unusable internal topics, or a
// first join the group refuses. Cancelling ctx while it waits returns nil. It may be called
// once.
func (h *Herder) Run(ctx context.Context) error {
	if !h.ran.CompareAndSwap(false, true) {
		return errors.New("running herder: Run was already called")
	}
	defer h.closeQueue()
	h.log.Info("starting worker", "url", h.url, "group", h.cfg.GroupID(), "connect_protocol", h.cfg.ConnectProtocol())
	if unused := h.cfg.unusedSettings(); len(unused) > 0 {
		h.log.Info("worker settings accepted but not used by kconnect", "settings", unused)
	}
	if p := h.cfg.tls.clientProblem; p != nil {
		h.log.Warn("requests to workers that advertise https will fail: the TLS settings cannot be used", "error", p)
	}

	base, err := kafkaprops.ClientOpts(h.cfg.clientProps(""))
	if err != nil {
		return fmt.Errorf("configuring Kafka clients: %w", err)
	}
	adminOpts, err := kafkaprops.ClientOpts(h.cfg.clientProps("admin."))
	if err != nil {
		return fmt.Errorf("configuring the Kafka admin client: %w", err)
	}
	// Task clients translate these with each connector's overrides; checked here so a bad
	// worker setting stops the worker rather than failing every task.
	if _, err := kafkaprops.ClientOpts(h.cfg.clientProps("consumer.")); err != nil {
		return fmt.Errorf("configuring task consumers: %w", err)
	}
	if _, err := kafkaprops.ClientOpts(h.cfg.clientProps("producer.")); err != nil {
		return fmt.Errorf("configuring task producers: %w", err)
	}
	idBase := h.cfg.clientIDBase()
	kgoLog := kafkaprops.Logger(h.log.With(logKey, "kgo"))
	adminClient, err := kgo.NewClient(slices.Concat(adminOpts, []kgo.Opt{kgo.ClientID(idBase + "shared-admin"), kgo.WithLogger(kgoLog)})...)
	if err != nil {
		return fmt.Errorf("creating the Kafka admin client: %w", err)
	}
	defer adminClient.Close()
	adm := kadm.NewClient(adminClient)

	st, err := h.connectKafka(ctx, adm, base, idBase)
	if err != nil {
		if ctx.Err() != nil {
			return nil // asked to stop while starting
		}
		return err
	}
	memberClient, err := kgo.NewClient(slices.Concat(base, []kgo.Opt{kgo.ClientID(h.cfg.memberClientID()), kgo.WithLogger(kgoLog)})...)
	if err != nil {
		h.stopStores(st)
		return fmt.Errorf("creating the worker group client: %w", err)
	}
	defer memberClient.Close()
	member := NewMember(MemberConfig{
		Client:            memberClient,
		Group:             h.cfg.GroupID(),
		SessionTimeout:    h.cfg.duration(cfgSessionTimeout),
		RebalanceTimeout:  h.cfg.duration(cfgRebalanceTimeout),
		HeartbeatInterval: h.cfg.duration(cfgHeartbeatInterval),
		Logger:            h.log,
	})
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	h.st = herderState{
		runCtx:         runCtx,
		workCtx:        workCtx,
		cancelWork:     cancelWork,
		member:         member,
		configState:    st.config.Snapshot(),
		generation:     -1,
		canReadConfigs: true,
		backoffRetries: backoffRetries,
		joinBackoff:    newBackoff(500*time.Millisecond, 30*time.Second),
		assignor:       newCooperativeAssignor(h.maxDelay),
		forwards:       map[string]context.CancelFunc{},
		restarts:       map[string]storage.RestartRequest{},
	}
	h.st.worker = newWorker(h, h.taskSettings())
	if h.offered[0] == subprotocolDefault {
		h.log.Info("the worker runs the eager rebalancing protocol (connect.protocol=eager)")
	}

	for runCtx.Err() == nil && h.st.fatal == nil {
		h.tick(runCtx)
	}
	h.halt()
	h.stopStores(st)
	return h.st.fatal
}

// backoffRetries is how many times a cooperative worker that cannot catch up with the config
// topic backs off before it gives up its work (Java's BACKOFF_RETRIES).
const backoffRetries = 5

// taskSettings are the worker settings every task shares; the tasks only read the maps.
func (h *Herder) taskSettings() task.WorkerSettings {
	spec := func(key string) task.ConverterSpec {
		return task.ConverterSpec{Class: h.cfg.cfg.String(key), Config: sink.WithPrefix(h.cfg.props, key+".")}
	}
	return task.WorkerSettings{
		WorkerID:        h.workerID,
		GroupID:         h.cfg.GroupID(),
		ConsumerProps:   h.cfg.clientProps("consumer."),
		ProducerProps:   h.cfg.clientProps("producer."),
		OverridePolicy:  h.cfg.OverridePolicy(),
		KeyConverter:    spec(cfgKeyConverter),
		ValueConverter:  spec(cfgValueConverter),
		HeaderConverter: spec(cfgHeaderConverter),
		// Zero would mean the task's default; the worker's 0 means no grace at all.
		ShutdownTimeout:     max(h.shutdownTimeout, time.Millisecond),
		OffsetFlushInterval: h.cfg.duration(cfgOffsetFlushInterval),
		OffsetFlushTimeout:  h.cfg.duration(cfgOffsetFlushTimeout),
	}
}

// topicSpecs describes the three internal topics. The offset topic is created although sink
// connectors do not use it, so the cluster is ready for source connectors, as Java creates it.
// Settings it ignores are logged here, once.
func (h *Herder) topicSpecs() []storage.TopicSpec {
	specs := []storage.TopicSpec{
		{Name: h.cfg.cfg.String(cfgConfigTopic), Partitions: 1, ReplicationFactor: int16(h.cfg.cfg.Int(cfgConfigReplication)), SinglePartition: true,
			Property: cfgConfigTopic, Purpose: "connector configurations"},
		{Name: h.cfg.cfg.String(cfgOffsetTopic), Partitions: int32(h.cfg.cfg.Int(cfgOffsetPartitions)), ReplicationFactor: int16(h.cfg.cfg.Int(cfgOffsetReplication)),
			Property: cfgOffsetTopic, Purpose: "source connector offsets"},
		{Name: h.cfg.cfg.String(cfgStatusTopic), Partitions: int32(h.cfg.cfg.Int(cfgStatusPartitions)), ReplicationFactor: int16(h.cfg.cfg.Int(cfgStatusReplication)),
			Property: cfgStatusTopic, Purpose: "connector and task statuses"},
	}
	prefixes := []string{"config.storage.", "offset.storage.", "status.storage."}
	for i := range specs {
		configs, ignored := h.cfg.topicSettings(prefixes[i])
		if ignored {
			h.log.Warn("ignoring the cleanup.policy setting of an internal topic: internal topics are always compacted", "setting", prefixes[i]+"cleanup.policy")
		}
		specs[i].Configs = configs
	}
	if _, set := h.cfg.props[cfgConfigPartitions]; set {
		h.log.Warn("config.storage.partitions is ignored: the config topic always has a single partition")
	}
	return specs
}

// ensureTopics creates the internal topics if they are missing, or checks them.
func (h *Herder) ensureTopics(ctx context.Context, adm *kadm.Client, specs []storage.TopicSpec) error {
	log := h.log.With(logKey, "storage")
	for _, spec := range specs {
		if err := storage.EnsureTopic(ctx, adm, spec, log); err != nil {
			return fmt.Errorf("preparing internal topic %s: %w", spec.Name, err)
		}
	}
	return nil
}

// startStores creates the config and status stores and reads their topics to the end. On
// failure it closes whatever it created, so it can be called again.
func (h *Herder) startStores(ctx context.Context, base []kgo.Opt, idBase string) (*stores, error) {
	log := h.log.With(logKey, "storage")
	// Each store gets its own copy of the options, as it appends its own.
	cs, err := storage.NewKafkaConfigStore(storage.KafkaOptions{ClientOpts: slices.Clone(base), Topic: h.cfg.cfg.String(cfgConfigTopic), ClientID: idBase + "configs", Logger: log})
	if err != nil {
		return nil, fmt.Errorf("creating the config store: %w", err)
	}
	ss, err := storage.NewKafkaStatusStore(storage.KafkaOptions{ClientOpts: slices.Clone(base), Topic: h.cfg.cfg.String(cfgStatusTopic), ClientID: idBase + "statuses", Logger: log})
	if err != nil {
		_ = cs.Stop(context.Background())
		return nil, fmt.Errorf("creating the status store: %w", err)
	}
	s := &stores{config: cs, status: ss}
	if err := ss.Start(ctx); err != nil {
		h.stopStores(s)
		return nil, fmt.Errorf("reading the status topic: %w", err)
	}
	if err := cs.Start(ctx, configListener{h}); err != nil {
		h.stopStores(s)
		return nil, fmt.Errorf("reading the config topic: %w", err)
	}
	h.stores.Store(s)
	return s, nil
}

func (h *Herder) stopStores(s *stores) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.status.Stop(ctx); err != nil {
		h.log.Warn("stopping the status store", "error", err)
	}
	if err := s.config.Stop(ctx); err != nil {
		h.log.Warn("stopping the config store", "error", err)
	}
}

func (h *Herder) configStore() storage.ConfigStore { return h.stores.Load().config }
func (h *Herder) statusStore() storage.StatusStore { return h.stores.Load().status }

// tick is one turn of the herder loop, as Java's DistributedHerder.tick: keep group
// membership, finish a rebalance, apply config changes, run due requests and restart
// requests, then wait for something to do.
func (h *Herder) tick(ctx context.Context) {
	select {
	case <-h.st.member.RejoinNeeded():
		h.requestRejoin("the group coordinator asked for a rebalance")
	default:
	}
	if !h.st.canReadConfigs {
		if !h.readConfigToEnd(ctx) {
			return
		}
		h.st.canReadConfigs = true
	}
	if h.st.rejoinRequested || h.st.assignment == nil {
		if err := h.rebalance(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, errGroupFatal) && !h.isReady() {
				// A worker that never joined has nothing to keep serving: the group refused
				// this configuration (authorization, session timeout, protocol type).
				h.st.fatal = err
				return
			}
			if !h.st.owned.empty() || len(h.st.worker.connectors)+len(h.st.worker.tasks) > 0 {
				// Not a member any more: others may run this work now.
				h.log.Warn("could not rejoin the worker group; stopping this worker's connectors and tasks until it does")
				h.st.worker.stopAll()
				h.st.owned = workSet{}
				h.flushStatuses(ctx)
			}
			d := h.st.joinBackoff.next()
			h.log.Error("joining the worker group failed", "error", err, "retry_in", d)
			h.serveFor(ctx, d)
			return
		}
		h.st.joinBackoff = newBackoff(500*time.Millisecond, 30*time.Second)
	}
	if !h.handleRebalanceCompleted(ctx) {
		return
	}
	if !h.st.scheduledRebalance.IsZero() && !time.Now().Before(h.st.scheduledRebalance) {
		h.st.scheduledRebalance = time.Time{}
		h.requestRejoin("a scheduled rebalance is due")
		return
	}
	h.maybeDistributeSessionKey()
	// Config changes first, so requests see them (or wait for the rebalance they need).
	if h.processConfigUpdates() {
		return
	}
	h.runDueRequests(ctx)
	h.processRestartRequests()
	h.waitForWork(ctx, time.Time{})
}

func (h *Herder) requestRejoin(reason string) {
	if !h.st.rejoinRequested {
		h.log.Debug("requesting a rebalance", "reason", reason)
	}
	h.st.rejoinRequested = true
}

// rebalancePending reports whether this worker expects a rebalance before its view of the
// cluster can be trusted (Java's needsReconfigRebalance, checked by requests).
func (h *Herder) rebalancePending() bool {
	return h.st.rejoinRequested || h.st.assignment == nil || !h.st.rebalanceResolved
}

// waitForWork blocks until a request is due, the config listener or the member calls, a
// scheduled rebalance or key rotation is due, until (if not zero), or ctx ends.
func (h *Herder) waitForWork(ctx context.Context, until time.Time) {
	next := until
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	h.qmu.Lock()
	if len(h.queue) > 0 {
		consider(h.queue[0].at)
	}
	h.qmu.Unlock()
	consider(h.st.scheduledRebalance)
	consider(h.keyExpiry())
	var timer <-chan time.Time
	if !next.IsZero() {
		d := time.Until(next)
		if d <= 0 {
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-h.wake:
	case <-h.st.member.RejoinNeeded():
		h.requestRejoin("the group coordinator asked for a rebalance")
	case <-timer:
	}
}

// serveFor runs requests, and nothing else, for d: the herder backs off from the group but
// still answers (requests that need a settled group get a conflict).
func (h *Herder) serveFor(ctx context.Context, d time.Duration) {
	until := time.Now().Add(d)
	for ctx.Err() == nil && time.Now().Before(until) {
		h.runDueRequests(ctx)
		h.waitForWork(ctx, until)
	}
}

// enqueue adds a request; it fails once the herder stopped.
func (h *Herder) enqueue(r *request) error {
	h.qmu.Lock()
	if h.closed {
		h.qmu.Unlock()
		return errShuttingDown
	}
	h.seq++
	r.seq = h.seq
	if r.at.IsZero() {
		r.at = time.Now()
	}
	i := sort.Search(len(h.queue), func(i int) bool {
		q := h.queue[i]
		return q.at.After(r.at) || (q.at.Equal(r.at) && q.seq > r.seq)
	})
	h.queue = append(h.queue, nil)
	copy(h.queue[i+1:], h.queue[i:])
	h.queue[i] = r
	h.qmu.Unlock()
	h.kick()
	return nil
}

func (h *Herder) kick() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// enqueueInternal schedules fn on the herder goroutine after delay; nobody waits for it.
func (h *Herder) enqueueInternal(delay time.Duration, fn func(ctx context.Context)) {
	_ = h.enqueue(&request{fn: fn, at: time.Now().Add(delay)})
}

// runDueRequests runs every request that is due, in order.
func (h *Herder) runDueRequests(ctx context.Context) {
	for ctx.Err() == nil {
		h.qmu.Lock()
		if len(h.queue) == 0 || h.queue[0].at.After(time.Now()) {
			h.qmu.Unlock()
			return
		}
		r := h.queue[0]
		h.queue = h.queue[1:]
		h.qmu.Unlock()
		if r.cancelled.Load() {
			continue
		}
		r.fn(ctx)
		if r.done != nil {
			close(r.done)
		}
	}
}

// closeQueue fails every queued request and refuses new ones.
func (h *Herder) closeQueue() {
	h.qmu.Lock()
	h.closed = true
	q := h.queue
	h.queue = nil
	h.qmu.Unlock()
	for _, r := range q {
		if r.done != nil {
			r.cancelled.Store(true)
			close(r.done)
		}
	}
}

// call runs fn on the herder goroutine and waits for it, for the caller's ctx and at most
// requestTimeout. fn's error is the answer. A timeout says what the herder goroutine was doing,
// as Java's "Request timed out" does.
func (h *Herder) call(ctx context.Context, fn func(ctx context.Context) error) error {
	err := h.callWithin(ctx, requestTimeout, fn)
	if errors.Is(err, errNotRun) {
		return errRequestTimedOut(h.stage.Load())
	}
	return err
}

// errNotRun is callWithin's answer when the herder goroutine did not run the request in time.
var errNotRun = errors.New("the herder goroutine did not run the request in time")

// callWithin runs fn on the herder goroutine and waits for it, for the caller's ctx and at most
// d; then it returns errNotRun.
func (h *Herder) callWithin(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	var err error
	r := &request{done: make(chan struct{})}
	r.fn = func(hctx context.Context) { err = fn(hctx) }
	if e := h.enqueue(r); e != nil {
		return e
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.done:
		if r.cancelled.Load() {
			return errShuttingDown
		}
		return err
	case <-ctx.Done():
		r.cancelled.Store(true)
		return ctx.Err()
	case <-t.C:
		r.cancelled.Store(true)
		return errNotRun
	}
}

// configListener hands config topic changes to the herder goroutine.
type configListener struct{ h *Herder }

func (l configListener) update(fn func(p *pendingUpdates)) {
	l.h.umu.Lock()
	fn(&l.h.pending)
	l.h.umu.Unlock()
	l.h.kick()
}

func (l configListener) ConnectorConfigChanged(connector string) {
	l.h.log.Info("connector config changed", "connector", connector)
	l.update(func(p *pendingUpdates) { addKey(&p.connectors, connector) })
}

func (l configListener) TaskConfigsCommitted(connector string, tasks []storage.ConnectorTaskID) {
	l.h.log.Info("task configs committed", "connector", connector, "tasks", len(tasks))
	l.update(func(p *pendingUpdates) { addKey(&p.taskCommits, connector) })
}

func (l configListener) TargetStateChanged(connector string) {
	l.h.log.Info("connector target state changed", "connector", connector)
	l.update(func(p *pendingUpdates) { addKey(&p.targetStates, connector) })
}

func (l configListener) RestartRequested(req storage.RestartRequest) {
	l.h.log.Info("restart requested", "connector", req.Connector, "include_tasks", req.IncludeTasks, "only_failed", req.OnlyFailed)
	l.update(func(p *pendingUpdates) {
		if p.restarts == nil {
			p.restarts = map[string]storage.RestartRequest{}
		}
		p.restarts[req.Connector] = higherImpact(p.restarts[req.Connector], req, p.restarts)
	})
}

func (l configListener) SessionKeyChanged(key storage.SessionKey) {
	l.h.log.Info("session key updated")
	l.update(func(p *pendingUpdates) { k := key; p.sessionKey = &k })
}

func addKey(m *map[string]bool, k string) {
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[k] = true
}

// restartImpact ranks restart requests so pending ones for a connector coalesce to the one
// that restarts the most (Java's RestartRequest.compareTo).
func restartImpact(r storage.RestartRequest) int {
	switch {
	case r.OnlyFailed && !r.IncludeTasks:
		return 0
	case r.OnlyFailed && r.IncludeTasks:
		return 1
	case !r.OnlyFailed && !r.IncludeTasks:
		return 2
	default:
		return 3
	}
}

func higherImpact(existing, req storage.RestartRequest, m map[string]storage.RestartRequest) storage.RestartRequest {
	if _, ok := m[req.Connector]; !ok || restartImpact(req) > restartImpact(existing) {
		return req
	}
	return existing
}

func (h *Herder) takePending() pendingUpdates {
	h.umu.Lock()
	defer h.umu.Unlock()
	p := h.pending
	h.pending = pendingUpdates{}
	return p
}
