package kusto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/kusto/internal/gzchunk"
	"github.com/kconnect/kconnect/sink/kusto/internal/spooldir"
)

// chunkSize is how many uncompressed bytes a partition buffers before compressing them into its
// spool file. Measured on 1 KiB JSON lines (BenchmarkChunking in internal/gzchunk): at 128 KiB
// the ratio is within 2% of one continuous stream at full speed, while a partition holds no
// compressor and at most this buffer between records.
const chunkSize = 128 << 10

// dictFromLevel is the lowest compression level at which each chunk is primed with the 32 KiB
// before it, recovering the ratio of a continuous stream for about 10% more CPU: users who pick
// a high level want the smaller files.
const dictFromLevel = 6

// partition owns everything the task holds for one assigned topic partition: the open spool
// file, the sealed files on their way to Kusto, and the offset that is safe to commit.
//
// Commit invariant: committed is the offset after the last record of the longest prefix of this
// partition's records (in offset order) that is either accepted by Kusto (queued: blob uploaded
// and message enqueued; streaming: accepted) or deliberately skipped (tombstone; behavior.on.error
// log/ignore). Files are sealed in offset order and only the oldest unresolved file holds the
// prefix back, so files may be ingested concurrently and in any order.
type partition struct {
	task  *Task
	tp    sink.TopicPartition
	route *route
	dir   *spooldir.Dir
	log   *slog.Logger

	// ctx is cancelled when the partition is closed, aborting its uploads.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	cur       *openFile
	buf       []byte // uncompressed bytes of cur not yet compressed; buf[:dictLen] is dictionary
	dictLen   int
	lastSeen  int64         // offset of the last record Put handed us (written or skipped); -1 before any
	pending   []*spoolFile  // sealed files not yet popped, in offset order
	committed int64         // next offset to commit; -1 while nothing is safe
	changed   chan struct{} // closed (and replaced) by notify
}

// openFile is the spool file records are being appended to.
type openFile struct {
	path    string
	f       *os.File
	gz      *gzchunk.Writer
	raw     int64 // uncompressed bytes, including those still in the partition's buf
	records int
	first   int64 // offset of the first record written
	last    int64 // offset of the last record covered (written or skipped)
	opened  time.Time
}

// fileState is where a sealed file is on its way to Kusto.
type fileState int

const (
	fileQueued   fileState = iota // waiting for an ingestion worker
	fileInFlight                  // being ingested
	fileWaiting                   // failed; a retry is scheduled
	fileFailed                    // failed for good under behavior.on.error=fail: holds the commit back
	fileAccepted                  // Kusto accepted it
	fileSkipped                   // dropped under behavior.on.error=log/ignore
)

// spoolFile is a sealed spool file.
type spoolFile struct {
	part    *partition
	path    string
	raw     int64
	records int
	first   int64
	last    int64 // last offset covered; commits advance to last+1 once resolved

	// Guarded by part.mu.
	state        fileState
	attempts     int
	failingSince time.Time
	lastErr      error
}

func (f *spoolFile) resolved() bool { return f.state == fileAccepted || f.state == fileSkipped }

func newPartition(t *Task, tp sink.TopicPartition, rt *route, dir *spooldir.Dir) *partition {
	ctx, cancel := context.WithCancel(t.ctx)
	return &partition{
		task: t, tp: tp, route: rt, dir: dir, ctx: ctx, cancel: cancel,
		log:      t.log.With("topic", tp.Topic, "partition", tp.Partition),
		lastSeen: -1, committed: -1, changed: make(chan struct{}),
	}
}

// fileName is the spool file name of the Java sink: kafka_<topic>_<partition>_<offset>.<FORMAT>.gz,
// where offset is the first record's.
func (p *partition) fileName(offset int64) string {
	return "kafka_" + p.tp.Topic + "_" + strconv.Itoa(int(p.tp.Partition)) + "_" +
		strconv.FormatInt(offset, 10) + "." + p.route.Format.fileID + ".gz"
}

// write appends one record. It returns a retriable error when the partition has too many files
// waiting for Kusto, and the task's failure when there is one.
func (p *partition) write(ctx context.Context, rec *sink.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("partition %s is closed", p.tp)
	}
	if rec.Offset <= p.lastSeen {
		return nil // redelivered after a retriable error: already written
	}
	if err := p.waitForRoom(ctx); err != nil {
		return err
	}
	before := len(p.buf)
	var err error
	p.buf, err = appendRecord(p.buf, rec, p.route.Format)
	if err != nil {
		p.buf = p.buf[:before]
		if errors.Is(err, errTombstone) {
			p.log.Debug("skipping a record with a null value", "offset", rec.Offset)
			p.skip(rec.Offset)
			return nil
		}
		return p.recordFailed(rec, err)
	}
	n := int64(len(p.buf) - before)
	if p.cur == nil {
		if err := p.openFile(rec.Offset); err != nil {
			p.buf = p.buf[:before]
			return p.task.fail(err)
		}
	}
	p.lastSeen = rec.Offset
	p.cur.raw += n
	p.cur.records++
	p.cur.last = rec.Offset
	if len(p.buf)-p.dictLen >= chunkSize {
		if err := p.compressChunk(); err != nil {
			return p.task.fail(err)
		}
	}
	if p.cur.raw > p.task.cfg.FlushSize {
		if err := p.seal(false); err != nil {
			return p.task.fail(err)
		}
	}
	return nil
}

// recordFailed applies behavior.on.error to a record that cannot be written. The Java sink fails
// the task for these regardless of the setting; here log and ignore skip the record instead.
func (p *partition) recordFailed(rec *sink.Record, err error) error {
	switch p.task.cfg.BehaviorOnError {
	case BehaviorLog:
		p.log.Error("skipping a record that cannot be written", "offset", rec.Offset, "error", err)
	case BehaviorIgnore:
		p.log.Debug("skipping a record that cannot be written", "offset", rec.Offset, "error", err)
	default:
		return p.task.fail(fmt.Errorf("Failed to write record to file for ingestion (%s, offset %d): %w", p.tp, rec.Offset, err))
	}
	p.skip(rec.Offset)
	return nil
}

// skip records that the record at offset needs no ingestion: it joins the range of the newest
// unresolved data, or becomes committable at once when there is none.
func (p *partition) skip(offset int64) {
	p.lastSeen = offset
	switch {
	case p.cur != nil:
		p.cur.last = offset
	case len(p.pending) > 0:
		p.pending[len(p.pending)-1].last = offset
	default:
		p.committed = offset + 1
	}
}

// waitForRoom blocks while the partition has maxPending unresolved files, releasing the lock
// while it waits. It gives up with a retriable error when the oldest file is failing (the runtime
// then pauses consumption and redelivers) or after putWait.
func (p *partition) waitForRoom(ctx context.Context) error {
	var deadline <-chan time.Time
	for {
		if err := p.task.failure(); err != nil {
			return err
		}
		unresolved := 0
		var failing *spoolFile
		for _, f := range p.pending {
			if !f.resolved() {
				unresolved++
				if failing == nil && f.lastErr != nil {
					failing = f
				}
			}
		}
		if unresolved < p.task.maxPending {
			return nil
		}
		if failing != nil {
			return sink.Retriable(fmt.Errorf("Kusto has not accepted %s yet (%d attempts, retrying): %w",
				filepath.Base(failing.path), failing.attempts, failing.lastErr))
		}
		if deadline == nil {
			t := time.NewTimer(p.task.putWait)
			defer t.Stop()
			deadline = t.C
		}
		ch := p.changed
		p.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		case <-deadline:
			err = sink.Retriable(fmt.Errorf("%d files of %s are still being ingested into Kusto", unresolved, p.tp))
		}
		p.mu.Lock()
		if err != nil {
			return err
		}
		if p.closed {
			return fmt.Errorf("partition %s is closed", p.tp)
		}
	}
}

func (p *partition) openFile(offset int64) error {
	path := filepath.Join(p.dir.Path(), p.fileName(offset))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("Failed to create file or write record into file for ingestion: %w", err)
	}
	cur := &openFile{path: path, f: f, gz: p.task.comp.NewWriter(f), first: offset, last: offset, opened: time.Now()}
	p.cur = cur
	p.task.timers.schedule(cur.opened.Add(p.task.cfg.FlushInterval), func() { p.rollByTime(cur) })
	return nil
}

// compressChunk compresses the buffered bytes into the open file.
func (p *partition) compressChunk() error {
	if err := p.cur.gz.WriteChunk(p.buf[p.dictLen:], p.buf[:p.dictLen]); err != nil {
		return fmt.Errorf("Failed to create file or write record into file for ingestion: %w", err)
	}
	if p.task.comp.Level() >= dictFromLevel && len(p.buf) > 0 {
		keep := min(len(p.buf), gzchunk.MaxDict)
		copy(p.buf, p.buf[len(p.buf)-keep:])
		p.buf, p.dictLen = p.buf[:keep], keep
	} else {
		p.buf, p.dictLen = p.buf[:0], 0
	}
	return nil
}

// seal finishes the open file and hands it to the ingestion pipeline. idle says the partition
// went quiet (a time-based roll): its buffer is released rather than kept for the next file.
func (p *partition) seal(idle bool) error {
	cur := p.cur
	p.cur = nil
	err := cur.gz.Close(p.buf[p.dictLen:], p.buf[:p.dictLen])
	if cerr := cur.f.Close(); err == nil {
		err = cerr
	}
	p.buf, p.dictLen = p.buf[:0], 0
	if idle || cap(p.buf) > 4*chunkSize {
		p.buf = nil
	}
	if err != nil {
		_ = os.Remove(cur.path)
		return fmt.Errorf("Failed to create file or write record into file for ingestion: %w", err)
	}
	f := &spoolFile{part: p, path: cur.path, raw: cur.raw, records: cur.records, first: cur.first, last: cur.last}
	p.pending = append(p.pending, f)
	p.task.pipe.submit(f)
	return nil
}

// rollByTime seals the file if it is still the open one: it runs on the task's timer goroutine
// flush.interval.ms after the file's first record.
func (p *partition) rollByTime(file *openFile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.cur != file {
		return
	}
	if err := p.seal(true); err != nil {
		p.task.fail(err)
	}
}

// advance pops resolved files from the front and moves the commit offset past them.
func (p *partition) advance() {
	n := 0
	for n < len(p.pending) && p.pending[n].resolved() {
		p.committed = p.pending[n].last + 1
		n++
	}
	if n == 0 {
		return
	}
	clear(p.pending[:n])
	p.pending = p.pending[n:]
	p.notify()
}

// notify wakes Puts waiting for room: pending shrank or a file started failing.
func (p *partition) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// commitOffset returns the offset safe to commit, or -1.
func (p *partition) commitOffset() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.committed
}

// close stops the partition: time-based rolls become no-ops, uploads are cancelled, the open
// file is discarded (the next owner re-reads its records from the committed offset) and the
// spool directory is removed. It is idempotent.
func (p *partition) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.cancel()
	if p.cur != nil {
		p.cur.f.Close()
		p.cur = nil
	}
	p.buf, p.pending = nil, nil
	close(p.changed)
	p.mu.Unlock()
	// Uploads still running have their own descriptor of their file; removing the directory
	// does not disturb them, and their cancelled context stops them before they enqueue.
	if err := p.dir.Remove(); err != nil {
		p.log.Warn("could not remove the spool directory", "error", err)
	}
}
