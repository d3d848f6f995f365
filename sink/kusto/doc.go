// Package kusto is the Kusto (Azure Data Explorer, Fabric Eventhouse) sink connector, registered
// under the Java class com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector. It reads
// the Java sink's configuration (see [ConfigDef]) and writes the same rows.
//
// Types to learn first: [Plugin] registers it; [Connector] checks the configuration and hands it
// to the tasks; [Task] does the work; [Config] is the parsed configuration.
//
// # How a task moves records
//
// Every assigned partition has a writer (partition.go) that appends each record, as one line, to
// an uncompressed buffer; every 128 KiB the buffer is compressed into the partition's gzip spool
// file <tempdir.path>/kusto-sink-connector-<uuid>/kafka_<topic>_<partition>_<offset>.<FORMAT>.gz
// by a pooled compressor (internal/gzchunk), so no partition holds a compressor between records.
// A file is sealed when its uncompressed size exceeds flush.size.bytes (the crossing record is
// included) or flush.interval.ms after its first record, whichever comes first.
//
// Sealed files go to a pool of kusto.ingestion.concurrency workers (pipeline.go) that ingest them
// with the Kusto SDK: queued (blob upload plus queue message, one client per task) or, for
// streaming mappings, managed streaming with queued fallback. The file is sent as it is, already
// gzipped, with its uncompressed size.
//
// # Offsets
//
// PreCommit returns, per partition, the offset after the longest run of records (from the last
// commit, in offset order) that Kusto has accepted or that was deliberately skipped (tombstones;
// records and files dropped under behavior.on.error=log/ignore). Files may be ingested in any
// order; the oldest file not yet accepted holds its partition's offset back. A file that fails
// with a retriable error (network, throttling, 5xx) is retried with exponential backoff; while a
// partition has too many files waiting, Put returns a retriable error so the runtime pauses
// consumption instead of Put sleeping. A permanent failure (a 4xx Kusto rejection) fails the task
// under behavior.on.error=fail, or skips the file under log and ignore. A file that keeps failing
// retriably for errors.retry.max.time.ms fails the task under fail and is retried on under log and
// ignore: an unreachable Kusto never causes data to be skipped. Failures of the local spool (disk
// full) fail the task. A failure found in the background is returned by the next Put; offsets are
// never committed past it, so a restarted task re-reads everything that was not ingested.
//
// Refusals are not bad data and never cause files to be skipped: a 401 or 403 from the engine,
// the data-management service or storage, a token the identity provider will not issue (a wrong
// secret, an unknown tenant or identity) and an endpoint the SDK does not trust fail the task at
// once under every behavior.on.error. Only a configuration change can fix them, so the failure
// says what was refused and names the identity (aad.auth.strategy and its ids, never a secret).
// A token request that fails on the network, or with 408, 429 or 5xx, is retried as any
// transient failure.
//
// # Errors
//
// The SDK reports a failed blob upload or queue enqueue without its cause. The sink's HTTP
// transport (transport.go) notes, per ingestion attempt, the last transport error (TLS trust,
// DNS, refused connection) and the last failed storage answer (status, error code and message)
// of the attempt's requests, and the error the sink logs and reports ends with it: "…; cause:
// PUT https://<account>/<container>/<blob> was answered with HTTP 403 AuthenticationFailed: …".
// SAS signatures, bearer tokens, token fields and the configured secrets are removed from every
// error text.
//
// Close discards what a revoked partition holds: its time-based rolls stop first, its uploads
// are cancelled, and its open file and directory are deleted; the next owner re-reads from the
// committed offset. Delivery is at least once: a file whose upload completed after the last
// commit is ingested again by the next owner.
//
// # Goroutines
//
// A task runs one timer goroutine (time-based rolls and retry delays of all its partitions,
// timer.go) and its ingestion workers. Start starts them, Stop stops them and waits. The runtime
// calls the task from one goroutine; partition state is guarded by a mutex per partition, which
// is never held across a network call.
package kusto
