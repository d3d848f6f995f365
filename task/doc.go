// Package task is the sink task runtime of kconnect: Java's WorkerSinkTask with its converters
// and error handling. It runs one plugin [sink.Task] on one Kafka consumer, converts what it
// consumes, and commits exactly the offsets the task's PreCommit allows.
//
// Types to learn first:
//   - [SinkTask]: built by [New] from a [Config], driven by Run and SetPaused.
//   - [Converter] and [HeaderConverter]: the converters, registered by Java class name
//     ([Converters], [HeaderConverters], [NewConverter]); [JSONConverter] is the one with rules.
//   - [ConfigDef]: the framework's sink connector keys (topics, converters, errors.*).
//
// # Concurrency
//
// A SinkTask has one goroutine, the one that calls Run (the loop). It alone calls the plugin
// task, the converters and the consumer's poll, commit, pause and seek methods, and it alone
// owns the partition state. Everything else reaches it by request:
//
//   - franz-go's rebalance callbacks (OnPartitionsAssigned/Revoked/Lost) run on franz-go's group
//     goroutine. They queue the change, wake the loop and block until the loop has handled it
//     (Open; or PreCommit, Close and commit; or Close), so franz-go proceeds exactly as if the
//     callback had done the work itself. See handOff for the interleavings.
//   - SetPaused, TaskContext.Pause/Resume/RequestCommit store the request and wake the loop.
//
// Waking cancels the loop's poll context (or ends its backoff wait); the loop then serves every
// queued request at the top of its next iteration, before it polls again. A poll that already
// returned records is delivered first: the records' partitions are still owned until the
// pending callback returns, so committing them is correct.
//
// The loop goroutine starts no other goroutine. Dead letter queue sends complete on the
// producer's goroutines and are awaited (Flush) before every commit. The status listener, and
// its TopicListener side when it has one, is called from the loop goroutine.
//
// # Client settings
//
// The consumer (and the dead letter queue's producer) is configured as Java's Worker configures
// it: the worker's client properties (WorkerSettings.ConsumerProps) with the connector's
// "consumer.override." settings on top, translated once by package kafkaprops, so a connector
// can bring its own bootstrap servers and SASL credentials. The worker's
// connector.client.config.override.policy is enforced again when the task is built.
package task
