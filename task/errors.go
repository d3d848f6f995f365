package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/sink"
)

// Stage names the step of record processing an error happened in: Java's errors.Stage, also the
// value of the __connect.errors.stage header.
type Stage string

// The stages of a sink task.
const (
	StageKeyConverter    Stage = "KEY_CONVERTER"
	StageValueConverter  Stage = "VALUE_CONVERTER"
	StageHeaderConverter Stage = "HEADER_CONVERTER"
	StageTaskPut         Stage = "TASK_PUT"
	StageKafkaConsume    Stage = "KAFKA_CONSUME"
)

// connectError is an error the runtime raises around a cause, printed in status traces as
// "<message>" then "Caused by: <cause>", the shape of Java's stack traces.
type connectError struct {
	msg   string
	cause error
}

func (e *connectError) Error() string {
	if e.cause == nil {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

func (e *connectError) Unwrap() error { return e.cause }

// Trace renders err as a status trace: the runtime's messages, each cause on a "Caused by:" line.
func Trace(err error) string {
	var b strings.Builder
	for err != nil {
		ce, ok := err.(*connectError)
		if !ok {
			b.WriteString(err.Error())
			break
		}
		b.WriteString(ce.msg)
		if ce.cause == nil {
			break
		}
		b.WriteString("\nCaused by: ")
		err = ce.cause
	}
	return b.String()
}

// javaExceptionClass names the Java exception class matching err, for the DLQ headers.
func javaExceptionClass(err error) string {
	var de *sink.DataError
	switch {
	case errors.As(err, &de):
		return "org.apache.kafka.connect.errors.DataException"
	case sink.IsRetriable(err):
		return "org.apache.kafka.connect.errors.RetriableException"
	}
	return "org.apache.kafka.connect.errors.ConnectException"
}

// processing is the error context of one consumed record: Java's ProcessingContext.
type processing struct {
	rec   *kgo.Record
	stage Stage
	class string
	err   error
}

// tolerance applies errors.tolerance, errors.retry.* and the error reporters to the converter
// stages: Java's RetryWithToleranceOperator.
type tolerance struct {
	all            bool
	retryTimeout   time.Duration // < 0: forever
	retryMaxDelay  time.Duration
	taskID         string
	logErrors      bool
	includeMessage bool
	log            *slog.Logger
	dlq            *deadLetterQueue // nil when not configured
}

// retryMinDelay is Java's RETRIES_DELAY_MIN_MS: the first retry waits 300 ms, doubling after.
const retryMinDelay = 300 * time.Millisecond

// failed handles err, the failure of one stage of a record. It retries op (the stage again)
// while the error is retriable, within errors.retry.timeout, then reports the failure (log,
// dead letter queue). It returns nil when a retry succeeded, errSkip when the failure is
// tolerated (the record is skipped), or the error that fails the task. The stage's first
// attempt runs outside, so the common success path allocates nothing here.
func (t *tolerance) failed(ctx context.Context, p *processing, stage Stage, class string, err error, op func() error) error {
	p.stage, p.class = stage, class
	if sink.IsRetriable(err) {
		err = t.retry(ctx, op)
		if err == nil {
			return nil
		}
	}
	p.err = err
	t.report(ctx, p)
	if !t.all {
		return &connectError{msg: "Tolerance exceeded in error handler", cause: err}
	}
	return errSkip
}

var errSkip = errors.New("record skipped by errors.tolerance=all")

// retry runs op again after a retriable failure until it succeeds, fails otherwise, or
// errors.retry.timeout passes. Backoff: 300 ms doubling, or a random delay below
// errors.retry.delay.max.ms once doubling would exceed it, never past the deadline.
func (t *tolerance) retry(ctx context.Context, op func() error) error {
	start := time.Now()
	var err error
	for attempt := 1; ; attempt++ {
		if t.retryTimeout >= 0 && time.Since(start) >= t.retryTimeout {
			return err
		}
		delay := retryMinDelay << min(attempt-1, 20)
		if delay > t.retryMaxDelay {
			delay = time.Duration(rand.Int64N(max(int64(t.retryMaxDelay), 1)))
		}
		if t.retryTimeout >= 0 {
			delay = min(delay, max(0, t.retryTimeout-time.Since(start)))
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		if err = op(); err == nil || !sink.IsRetriable(err) {
			return err
		}
	}
}

// report logs the failure (errors.log.enable) and sends the record to the dead letter queue.
func (t *tolerance) report(ctx context.Context, p *processing) {
	if t.logErrors {
		t.log.Error(t.message(p), "error", p.err)
	} else {
		t.log.Debug("record failed in "+string(p.stage), "topic", p.rec.Topic, "partition", p.rec.Partition, "offset", p.rec.Offset, "error", p.err)
	}
	if t.dlq != nil {
		t.dlq.send(ctx, p)
	}
}

// message is Java's LogReporter message.
func (t *tolerance) message(p *processing) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Error encountered in task %s. Executing stage '%s' with class '%s'", t.taskID, p.stage, p.class)
	if t.includeMessage && p.rec != nil {
		fmt.Fprintf(&b, ", where consumed record is {topic='%s', partition=%d, offset=%d", p.rec.Topic, p.rec.Partition, p.rec.Offset)
		if tt := timestampType(p.rec); tt != sink.NoTimestampType {
			fmt.Fprintf(&b, ", timestamp=%d, timestampType=%s", p.rec.Timestamp.UnixMilli(), tt)
		}
		b.WriteByte('}')
	}
	b.WriteByte('.')
	return b.String()
}

// timestampType reads a consumed record's timestamp type.
func timestampType(r *kgo.Record) sink.TimestampType {
	if r.Timestamp.UnixMilli() < 0 {
		return sink.NoTimestampType
	}
	if r.Attrs.TimestampType() == 1 {
		return sink.LogAppendTime
	}
	return sink.CreateTime
}

// The dead letter queue context headers (Java's DeadLetterQueueReporter).
const (
	headerPrefix              = "__connect.errors."
	HeaderTopic               = headerPrefix + "topic"
	HeaderPartition           = headerPrefix + "partition"
	HeaderOffset              = headerPrefix + "offset"
	HeaderConnectorName       = headerPrefix + "connector.name"
	HeaderTaskID              = headerPrefix + "task.id"
	HeaderStage               = headerPrefix + "stage"
	HeaderExecutingClass      = headerPrefix + "class.name"
	HeaderExceptionClass      = headerPrefix + "exception.class.name"
	HeaderExceptionMessage    = headerPrefix + "exception.message"
	HeaderExceptionStacktrace = headerPrefix + "exception.stacktrace"
)

// deadLetterQueue writes failed records, as they were consumed, to the DLQ topic. Sends are
// asynchronous; flush waits for them, and a failed send makes flush fail so no offset is
// committed past a record that reached neither the sink nor the queue.
type deadLetterQueue struct {
	cl             *kgo.Client
	topic          string
	connector      string
	task           int
	contextHeaders bool
	log            *slog.Logger

	mu  sync.Mutex
	err error // first failed send
}

// dlqPartitions is the partition count of a DLQ topic kconnect creates, as Java's.
const dlqPartitions = 1

// newDeadLetterQueue creates the producer and the topic when it does not exist.
func newDeadLetterQueue(ctx context.Context, opts []kgo.Opt, s *settings, connector string, task int, log *slog.Logger) (*deadLetterQueue, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the dead letter queue producer: %w", err)
	}
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, dlqPartitions, s.dlqReplication, nil, s.dlqTopic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		cl.Close()
		return nil, &connectError{msg: "Could not initialize dead letter queue with topic=" + s.dlqTopic, cause: err}
	}
	if err == nil {
		log.Info("created the dead letter queue topic", "topic", s.dlqTopic, "replication.factor", s.dlqReplication)
	}
	return &deadLetterQueue{cl: cl, topic: s.dlqTopic, connector: connector, task: task,
		contextHeaders: s.dlqContextHeaders, log: log}, nil
}

func (q *deadLetterQueue) send(ctx context.Context, p *processing) {
	r := &kgo.Record{Topic: q.topic, Key: p.rec.Key, Value: p.rec.Value}
	if timestampType(p.rec) != sink.NoTimestampType {
		r.Timestamp = p.rec.Timestamp
	}
	r.Headers = append(r.Headers, p.rec.Headers...)
	if q.contextHeaders {
		h := func(k, v string) { r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
		h(HeaderTopic, p.rec.Topic)
		h(HeaderPartition, strconv.Itoa(int(p.rec.Partition)))
		h(HeaderOffset, strconv.FormatInt(p.rec.Offset, 10))
		h(HeaderConnectorName, q.connector)
		h(HeaderTaskID, strconv.Itoa(q.task))
		h(HeaderStage, string(p.stage))
		h(HeaderExecutingClass, p.class)
		if p.err != nil {
			h(HeaderExceptionClass, javaExceptionClass(p.err))
			h(HeaderExceptionMessage, p.err.Error())
			h(HeaderExceptionStacktrace, javaExceptionClass(p.err)+": "+Trace(p.err))
		}
	}
	// The send outlives this call (it is awaited by flush), so it must not be cancelled with
	// the poll that produced the record.
	q.cl.Produce(context.WithoutCancel(ctx), r, func(_ *kgo.Record, err error) {
		if err == nil {
			return
		}
		q.log.Error("Could not produce message to dead letter queue. topic="+q.topic, "error", err)
		q.mu.Lock()
		if q.err == nil {
			q.err = err
		}
		q.mu.Unlock()
	})
}

// flush waits until every send was acknowledged and returns the first failure.
func (q *deadLetterQueue) flush(ctx context.Context) error {
	if err := q.cl.Flush(ctx); err != nil {
		return fmt.Errorf("waiting for dead letter queue sends: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return &connectError{msg: "Failed to send a record to the dead letter queue topic " + q.topic, cause: q.err}
	}
	return nil
}

func (q *deadLetterQueue) close() { q.cl.Close() }
