package kusto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/kusto/internal/gzchunk"
	"github.com/kconnect/kconnect/sink/kusto/internal/spooldir"
)

// Task is the Kusto sink task: Java's KustoSinkTask. Records of each assigned partition are
// appended to a gzip spool file; a file is sealed when its uncompressed size exceeds
// flush.size.bytes or flush.interval.ms after its first record, and ingested by a small pool of
// workers while Put goes on. PreCommit returns, per partition, the offset after the last record
// Kusto accepted (see the commit invariant on partition).
//
// Goroutines: one timer goroutine (time-based rolls and retry delays for every partition) and
// kusto.ingestion.concurrency ingestion workers, all started by Start and stopped by Stop.
type Task struct {
	log            *slog.Logger
	logFromRuntime bool // the logger was set by SetLogger and already names the connector
	tc             sink.TaskContext
	cfg            *Config

	// newIngester builds the ingester; tests replace it.
	newIngester func(*Config, *slog.Logger) (ingester, error)

	ctx    context.Context // cancelled by Stop
	cancel context.CancelFunc
	comp   *gzchunk.Compressor
	timers *timerQueue
	pipe   *pipeline
	ing    ingester

	maxPending int           // unresolved files per partition before Put waits
	putWait    time.Duration // how long Put waits for room before returning a retriable error

	parts map[sink.TopicPartition]*partition // touched only by the runtime's goroutine

	fatal    atomic.Pointer[error]
	stopOnce sync.Once
	stopErr  error
}

// NewTask returns a task for the runtime to start.
func NewTask() *Task {
	return &Task{newIngester: newSDKIngester, log: slog.Default()}
}

// SetLogger sets the task's logger (before Start); the runtime's logger already names the
// connector and task.
func (t *Task) SetLogger(l *slog.Logger) { t.log, t.logFromRuntime = l, true }

// Start parses the configuration, sweeps spool directories left by crashed runs, creates the
// Kusto clients and starts the task's goroutines.
func (t *Task) Start(ctx context.Context, tc sink.TaskContext, props map[string]string) error {
	cfg, err := ParseConfig(props)
	if err != nil {
		return fmt.Errorf("Kusto Connector failed to start due to configuration error. %w", err)
	}
	comp, err := gzchunk.NewCompressor(cfg.CompressionLevel)
	if err != nil {
		return err
	}
	t.cfg, t.tc, t.comp = cfg, tc, comp
	if !t.logFromRuntime {
		t.log = t.log.With("connector", props["name"])
	}
	if removed, err := spooldir.Sweep(cfg.TempDir); err != nil {
		t.log.Warn("could not sweep old spool directories", "dir", cfg.TempDir, "error", err)
	} else if len(removed) > 0 {
		t.log.Info("removed spool directories left by an earlier run", "dirs", removed)
	}
	ing, err := t.newIngester(cfg, t.log)
	if err != nil {
		return fmt.Errorf("Failed to create the Kusto ingestion clients: %w", redact(err, cfg.secrets()...))
	}
	t.ing = ing
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.maxPending = max(2, cfg.Concurrency)
	if t.putWait == 0 {
		t.putWait = 30 * time.Second
	}
	t.parts = map[sink.TopicPartition]*partition{}
	t.timers = newTimerQueue()
	t.pipe = newPipeline(t, ing, cfg.Concurrency)
	return nil
}

// Open creates a writer for each newly assigned partition; partitions already held keep theirs.
func (t *Task) Open(ctx context.Context, partitions []sink.TopicPartition) error {
	for _, tp := range partitions {
		if _, ok := t.parts[tp]; ok {
			continue
		}
		rt, ok := t.cfg.routes.lookup(tp.Topic)
		if !ok {
			return fmt.Errorf("Kusto Sink has no ingestion props mapped for the topic: %s. please check your configuration.", tp.Topic)
		}
		dir, err := spooldir.Create(t.cfg.TempDir)
		if err != nil {
			return fmt.Errorf("creating the spool directory of %s under tempdir.path (%s): %w", tp, t.cfg.TempDir, err)
		}
		t.parts[tp] = newPartition(t, tp, rt, dir)
	}
	return nil
}

// Put appends records to their partitions' files. A retriable error means a partition has too
// many files on their way to Kusto (usually because Kusto is failing and they are being retried):
// the runtime pauses and redelivers the batch, and records already written are skipped.
func (t *Task) Put(ctx context.Context, records []sink.Record) error {
	if err := t.failure(); err != nil {
		return err
	}
	for i := range records {
		rec := &records[i]
		p, ok := t.parts[rec.TopicPartition()]
		if !ok {
			return fmt.Errorf("Received a record without a mapped writer for topic:partition(%s:%d), dropping record.", rec.Topic, rec.Partition)
		}
		if err := p.write(ctx, rec); err != nil {
			if sink.IsRetriable(err) {
				t.tc.Timeout(t.cfg.RetryBackoff)
			}
			return err
		}
	}
	return nil
}

// PreCommit returns, for every partition with accepted data, the offset after its last record
// that Kusto accepted (or that was deliberately skipped). The runtime's offsets are ignored:
// they include records still in spool files.
func (t *Task) PreCommit(ctx context.Context, current map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
	out := make(map[sink.TopicPartition]int64, len(t.parts))
	for tp, p := range t.parts {
		if off := p.commitOffset(); off >= 0 {
			out[tp] = off
		}
	}
	return out, nil
}

// Close discards what the task holds for revoked partitions: their time-based rolls stop first,
// then uploads are cancelled and open files deleted with their directories. Records not yet
// accepted are read again by the partitions' next owner from the committed offsets.
func (t *Task) Close(ctx context.Context, partitions []sink.TopicPartition) error {
	for _, tp := range partitions {
		if p, ok := t.parts[tp]; ok {
			p.close()
			delete(t.parts, tp)
		}
	}
	return nil
}

// Stop closes every partition, stops the timer and the ingestion workers (waiting for them while
// ctx allows) and closes the Kusto clients. It is idempotent.
func (t *Task) Stop(ctx context.Context) error {
	t.stopOnce.Do(func() {
		if t.cancel == nil {
			return // never started
		}
		tps := make([]sink.TopicPartition, 0, len(t.parts))
		for tp := range t.parts {
			tps = append(tps, tp)
		}
		sort.Slice(tps, func(i, j int) bool { return tps[i].String() < tps[j].String() })
		_ = t.Close(ctx, tps)
		t.cancel()
		t.timers.close()
		var errs []error
		if err := t.pipe.stop(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := t.ing.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing Kusto clients: %w", err))
		}
		t.stopErr = errors.Join(errs...)
	})
	return t.stopErr
}

// fail records the first failure that must stop the task and returns it; Put returns it from
// then on.
func (t *Task) fail(err error) error {
	t.fatal.CompareAndSwap(nil, &err)
	return *t.fatal.Load()
}

func (t *Task) failure() error {
	if p := t.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

func slogLevel(b BehaviorOnError) slog.Level {
	if b == BehaviorIgnore {
		return slog.LevelDebug
	}
	return slog.LevelError
}
