// Package cluster runs one worker of a distributed kconnect cluster: Apache Kafka Connect's
// DistributedHerder, WorkerGroupMember, WorkerCoordinator, assignors, Worker and
// DistributedConfig. Workers form a Kafka group with protocol type "connect"; the leader
// assigns connectors and tasks; every worker runs what it was assigned and keeps the config
// and status topics, through package storage, in the formats Java Connect writes.
//
// Types to learn first:
//
//   - [WorkerConfig]: worker.properties, parsed by [ParseProperties] and [WorkerConfigDef].
//   - [Herder]: the worker; [New] builds it, [Herder.Run] runs it, and its methods answer the
//     REST API (rest.Herder).
//   - [Member]: membership in the worker group over JoinGroup/SyncGroup/Heartbeat/LeaveGroup.
//
// # Files
//
// config.go and properties.go parse the worker configuration, resttls.go the TLS of the REST
// API (https listeners and requests to other workers); startup.go waits for Kafka at start-up
// and tells transient failures from configuration errors; protocol.go is the group
// protocol's byte layout (metadata and assignments, versions 0 to 2); assignor.go (eager) and
// cooperative.go (incremental cooperative, KIP-415) compute assignments as pure functions of
// the members and a config snapshot; member.go is the group member; herder.go holds the herder
// loop and its request queue; rebalance.go joins the group and applies assignments and config
// changes; leader.go holds what only the leader does; worker.go starts and stops connectors and
// tasks; endpoints.go answers the REST API; validate.go validates connector configurations;
// health.go answers GET /health and stage.go records what the herder goroutine is doing.
//
// # Concurrency
//
// One goroutine, the herder goroutine (Run's loop), owns the cluster state: the config
// snapshot being acted on, the current assignment and what this worker owns, the generation,
// the leader's id and URL, whether a rebalance is pending, the owner map the leader computed,
// the session key, and the worker's table of running connectors and tasks. Nothing else reads
// or writes that state (herderState), so it needs no lock. Each turn of the loop (tick) does,
// in order: rejoin the group if a rebalance is pending; finish a rebalance (catch up with the
// config topic, start the assigned work); distribute a session key if this worker leads; apply
// config topic changes (returning to rejoin first if they need a rebalance); run due requests
// in order; execute restart requests; then wait for the next request, a config change, a
// heartbeat's call for a rebalance or a timer.
//
// Requests. REST-facing methods that Java runs on its herder thread enqueue a closure and wait
// for it on the caller's goroutine, for the caller's context and at most 90 s (then
// "Request timed out"). The closure runs on the herder goroutine and reads the state directly.
// The queue is ordered by due time, then arrival; a mutex guards it and a 1-slot channel wakes
// the loop. Requests a caller gave up on are skipped. After Run returns, queued and new
// requests fail with "Worker is shutting down". Reads Java serves from local views — the
// connector list, statuses, topics, plugins — and pause/resume, which any worker writes
// directly, run on the caller's goroutine against the stores, which are safe for concurrent
// use. Internal events (task configs computed by a connector, retries) are requests too.
//
// Rebalances. The herder goroutine calls Member.Join, which blocks until the group completes a
// generation; while it blocks no request runs (as in Java, requests wait). On the leader,
// Join calls back into the assignor on the same goroutine. The member's heartbeat goroutine,
// started by its first join and stopped by Member.Close, only reports: a call for a rebalance
// is a signal on a 1-slot channel the loop selects on. With the eager protocol all work stops
// before joining; with the cooperative ones only revoked work stops when the assignment
// arrives, and the worker rejoins at once when something was revoked. A worker that cannot
// rejoin within a session timeout stops all its work, since the others may run it by then,
// and retries with backoff while it keeps answering requests. Config topic changes
// that add or remove connectors or commit task configs set "rebalance pending": requests that
// need a settled group answer 409 (writes) or 500 (reads) until it is done, which is visible
// only while the worker backs off from a failed join, because the loop rejoins before it runs
// requests.
//
// Leadership is a phase: it begins when an assignment names this worker leader and ends at the
// start of the next rebalance or at shutdown. Its context (leadership.ctx) bounds every
// leader-only write; the owner map and the assignor's memory belong to it.
//
// Other goroutines, each with an owner that stops it and waits:
//
//   - the config store's reader calls the config listener, which only records the change
//     under a mutex (umu) and wakes the loop;
//   - each connector instance runs on a goroutine of its own (connectorRunner), which calls
//     the plugin's Start, TaskConfigs and Stop; the herder posts commands to it and it posts
//     results back as internal requests; the worker stops it and waits for it, at most
//     task.shutdown.graceful.timeout.ms, then abandons it (its statuses are ignored from then
//     on); Run waits up to 30 s more for abandoned work before it returns, since plugin code
//     that ignores cancellation cannot be forced to stop;
//   - each task runs on a goroutine of its own (task.SinkTask.Run); the worker cancels it and
//     waits the same way; its status listener writes to the status store from that goroutine;
//   - a follower sends new task configs to the leader from a goroutine per connector (so the
//     herder keeps heartbeating), retrying with backoff until it succeeds or the connector
//     stops here; the herder cancels it and Run waits for it.
//
// Locks are never nested: the queue mutex (qmu), the pending-updates mutex (umu) and each
// connector runner's command mutex are each held only to copy a few fields. Values other
// goroutines read — the stores, the Kafka cluster id, the generation, the leader URL, the
// protocol, the session key and the stage (what the herder goroutine is doing, which request
// timeouts and GET /health report, stage.go) — are published through atomics.
//
// Health (health.go) runs a no-op through the request queue with a 10 s budget: the herder is
// healthy when its goroutine serves requests.
package cluster
