package kusto

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ingester sends one sealed spool file to Kusto. Ingest returns once the file was accepted
// (queued: blob uploaded and ingestion message enqueued; streaming: accepted by the engine) or
// with the reason it was not; classify decides what a failure means. Implementations are safe
// for concurrent use.
type ingester interface {
	Ingest(ctx context.Context, f *ingestRequest) error
	Close() error
}

// ingestRequest describes one file for an ingester.
type ingestRequest struct {
	Path    string // a gzip file
	Route   *route
	RawSize int64 // uncompressed bytes
	Records int
}

// pipeline runs a fixed number of ingestion workers over a queue of sealed files. It owns the
// workers: stop makes them exit and waits for them.
type pipeline struct {
	t     *Task
	ing   ingester
	mu    sync.Mutex
	queue []*spoolFile
	wake  chan struct{}
	quit  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

func newPipeline(t *Task, ing ingester, workers int) *pipeline {
	pl := &pipeline{t: t, ing: ing, wake: make(chan struct{}, workers), quit: make(chan struct{})}
	for range workers {
		pl.wg.Add(1)
		go pl.work()
	}
	return pl
}

// submit queues a file; the caller holds the file's partition lock.
func (pl *pipeline) submit(f *spoolFile) {
	pl.mu.Lock()
	pl.queue = append(pl.queue, f)
	pl.mu.Unlock()
	select {
	case pl.wake <- struct{}{}:
	default:
	}
}

func (pl *pipeline) next() *spoolFile {
	for {
		pl.mu.Lock()
		if len(pl.queue) > 0 {
			f := pl.queue[0]
			pl.queue[0] = nil
			pl.queue = pl.queue[1:]
			more := len(pl.queue) > 0
			pl.mu.Unlock()
			if more { // let another worker take the rest
				select {
				case pl.wake <- struct{}{}:
				default:
				}
			}
			return f
		}
		pl.mu.Unlock()
		select {
		case <-pl.quit:
			return nil
		case <-pl.wake:
		}
	}
}

// stop makes the workers exit after their current file and waits for them until ctx ends.
// Uploads of closed partitions are already cancelled; the wait only covers SDK calls that do
// not honour cancellation at once.
func (pl *pipeline) stop(ctx context.Context) error {
	pl.once.Do(func() { close(pl.quit) })
	done := make(chan struct{})
	go func() { pl.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for ingestion workers: %w", ctx.Err())
	}
}

func (pl *pipeline) work() {
	defer pl.wg.Done()
	for {
		f := pl.next()
		if f == nil {
			return
		}
		pl.ingest(f)
	}
}

func (pl *pipeline) ingest(f *spoolFile) {
	p := f.part
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	f.state = fileInFlight
	f.attempts++
	req := &ingestRequest{Path: f.path, Route: p.route, RawSize: f.raw, Records: f.records}
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(p.ctx, attemptTimeout(f.raw))
	start := time.Now()
	err := redact(pl.ing.Ingest(ctx, req), pl.t.cfg.secrets()...)
	cancel()
	pl.finish(f, err, time.Since(start))
}

// attemptTimeout bounds one ingestion attempt: a hung connection must become a retry, not a
// stuck partition. It grows with the file so slow links can still move large files.
func attemptTimeout(raw int64) time.Duration {
	return 2*time.Minute + time.Duration(raw>>20)*time.Second
}

// finish records the outcome of one attempt.
func (pl *pipeline) finish(f *spoolFile, err error, took time.Duration) {
	p := f.part
	cfg := pl.t.cfg
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return // the partition was revoked: its files are gone and the next owner re-reads them
	}
	name := filepath.Base(f.path)
	if err == nil {
		f.state, f.lastErr = fileAccepted, nil
		p.log.Debug("file accepted by Kusto", "file", name, "records", f.records, "bytes", f.raw,
			"attempts", f.attempts, "took", took)
		removeFile(p, f.path)
		p.advance()
		return
	}
	class := classify(err)
	f.lastErr = err
	defer p.notify() // a Put waiting for room returns a retriable error now
	if class == refused {
		// Whatever behavior.on.error says: skipping would drop every file until the
		// configuration is fixed, and retrying quietly would hide that it must be.
		f.state = fileFailed
		pl.t.fail(fmt.Errorf("Failed to write records to KustoDB. %s The task stops under every behavior.on.error setting, "+
			"so that no records are skipped; restart it once this is fixed. %s (%s, offsets %d-%d) was not ingested: %w",
			refusalAdvice(cfg, p.route, err), name, p.tp, f.first, f.last, err))
		return
	}
	if class == permanent {
		switch cfg.BehaviorOnError {
		case BehaviorLog, BehaviorIgnore:
			level := slogLevel(cfg.BehaviorOnError)
			p.log.Log(p.ctx, level, "Kusto rejected a file; its records are skipped (behavior.on.error)",
				"file", name, "first_offset", f.first, "last_offset", f.last, "records", f.records, "error", err)
			f.state = fileSkipped
			removeFile(p, f.path)
			p.advance()
		default:
			f.state = fileFailed
			pl.t.fail(fmt.Errorf("Failed to write records to KustoDB. Kusto rejected %s (%s, offsets %d-%d) for good. "+
				"Fix the cause (often the database, table, format or mapping in kusto.tables.topics.mapping), or set "+
				"behavior.on.error=log to skip files Kusto rejects: %w", name, p.tp, f.first, f.last, err))
		}
		return
	}
	now := time.Now()
	if f.failingSince.IsZero() {
		f.failingSince = now
	}
	delay := retryDelay(cfg.RetryBackoff, f.attempts)
	if now.Add(delay).Sub(f.failingSince) > cfg.RetryMaxTime {
		if cfg.BehaviorOnError == BehaviorFail {
			f.state = fileFailed
			pl.t.fail(fmt.Errorf("Retry attempts exhausted, failed to ingest records into KustoDB. %s (%s, offsets %d-%d) failed %s in %s. "+
				"Restart the task once Kusto and its storage are reachable, or raise errors.retry.max.time.ms to wait longer: %w",
				name, p.tp, f.first, f.last, times(f.attempts), now.Sub(f.failingSince).Round(time.Millisecond), err))
			return
		}
		// Data is never skipped for an unreachable or throttling Kusto: keep retrying with a
		// fresh budget and say so.
		p.log.Error("Kusto has not accepted a file within errors.retry.max.time.ms; still retrying",
			"file", name, "attempts", f.attempts, "error", err)
		f.failingSince = now
	} else {
		p.log.Warn("ingestion failed; will retry", "file", name, "attempt", f.attempts, "retry_in", delay.Round(time.Millisecond), "error", err)
	}
	f.state = fileWaiting
	pl.t.timers.schedule(now.Add(delay), func() { pl.requeue(f) })
}

// times renders an attempt count: "once", "3 times".
func times(n int) string {
	if n == 1 {
		return "once"
	}
	return strconv.Itoa(n) + " times"
}

// refusalAdvice says what was refused and what to check, naming the identity (never a secret).
func refusalAdvice(cfg *Config, rt *route, err error) string {
	if strings.Contains(err.Error(), sdkUntrustedError) {
		return fmt.Sprintf("The sink refused to connect to a host that is not a known Kusto endpoint. If the host is yours "+
			"(Private Link, a proxy, an emulator), list it in %s.", KeyTrustedHosts)
	}
	return fmt.Sprintf("Kusto or its storage refused the sink's credentials or permissions (identity: %s). Check the "+
		"credentials, and that the identity may ingest into database %s (the Ingestor role) and is allowed through "+
		"the storage account's network rules.", cfg.identity(), rt.Database)
}

func (pl *pipeline) requeue(f *spoolFile) {
	p := f.part
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || f.state != fileWaiting {
		return
	}
	f.state = fileQueued
	pl.submit(f)
}

// retryDelay is the wait before retry number attempt (1-based): backoff doubled per attempt,
// capped at max(backoff, 1 minute), with ±25% jitter so partitions do not retry in lockstep.
func retryDelay(backoff time.Duration, attempt int) time.Duration {
	limit := max(backoff, time.Minute)
	d := backoff
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

func removeFile(p *partition, path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.log.Warn("could not remove an ingested spool file", "file", path, "error", err)
	}
}
