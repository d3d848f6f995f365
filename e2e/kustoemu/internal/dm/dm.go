// Package dm is the emulator's data-management service: it takes the ingestion messages clients
// put on the ready-for-aggregation queue, batches them per table by the table's ingestion
// batching policy, fetches each blob from the emulator's storage, decompresses and parses it with
// the table's mapping, appends the rows as an extent, and reports the outcome: failures in the
// cluster's ingestion-failure list and, when the client asked for it, the final status in the
// status table, so the SDK's Result.Wait sees real outcomes.
//
// One goroutine (the loop) owns the batches and does all processing; the owner of a [Loop] stops
// it with Close.
package dm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/faults"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/ingest"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/storage"
)

// Defaults of Config.
const (
	DefaultRetryDelay    = time.Second
	DefaultMaxAttempts   = 3
	DefaultBlobRetention = 15 * time.Minute
	// maxFailures bounds the ingestion-failure list (oldest dropped first).
	maxFailures = 10000
	// retentionSweepEvery is how often ingested blobs past retention are removed.
	retentionSweepEvery = time.Minute
)

// Config configures a Loop.
type Config struct {
	Cluster *model.Cluster
	Storage *storage.Server
	// StorageHost is the host:port of the storage endpoint; BlobPath and status-table URLs must
	// point there.
	StorageHost string
	// Queue is the ready-for-aggregation queue the loop consumes.
	Queue *storage.Queue
	// TempContainer is the container clients upload to; its blobs are removed BlobRetention after
	// they were written.
	TempContainer string
	// AuthContext is the identity token `.get kusto identity token` issues; messages must carry
	// it ("" = not checked).
	AuthContext string
	Faults      *faults.Set
	// DefaultBatching applies to tables without a batching policy; zero fields take
	// model.DefaultBatchingPolicy's values.
	DefaultBatching model.BatchingPolicy
	// RetryDelay is the wait before the first retry of a transient failure (doubling after);
	// MaxAttempts bounds the attempts per ingestion.
	RetryDelay    time.Duration
	MaxAttempts   int
	BlobRetention time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// Loop is the running data-management service.
type Loop struct {
	cfg      Config
	log      *slog.Logger
	ctx      context.Context // cancelled by Close; bounds injected delays
	cancel   context.CancelFunc
	stop     chan bool // true = drain before stopping
	flushReq chan chan struct{}
	done     chan struct{}

	// Owned by the loop goroutine.
	batches   map[string]*batch
	retries   []*item
	lastSweep time.Time
}

// batch is the items of one table that share their ingestion properties, sealed when the
// table's batching policy says so.
type batch struct {
	key      string
	items    []*item
	rawBytes int64
	deadline time.Time
	policy   model.BatchingPolicy
}

// item is one queued ingestion.
type item struct {
	msg       message
	sourceURL string // BlobPath without its SAS, for failures and status
	attempts  int
	notBefore time.Time
	operation uuid.UUID

	// Filled while processing.
	rows []([]any)
	tags []string
}

// outcome is how an ingestion ended.
type outcome struct {
	status    string // Succeeded, Failed, Skipped
	code      string
	details   string
	permanent bool
	exhausted bool
}

// Start starts the loop.
func Start(cfg Config) *Loop {
	if cfg.Faults == nil {
		cfg.Faults = faults.NewSet()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.BlobRetention <= 0 {
		cfg.BlobRetention = DefaultBlobRetention
	}
	cfg.DefaultBatching = withDefaults(cfg.DefaultBatching)
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{
		cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel,
		stop: make(chan bool, 1), flushReq: make(chan chan struct{}), done: make(chan struct{}),
		batches: map[string]*batch{}, lastSweep: cfg.Now(),
	}
	go l.run()
	return l
}

func withDefaults(p model.BatchingPolicy) model.BatchingPolicy {
	d := model.DefaultBatchingPolicy()
	if p.MaximumBatchingTimeSpan <= 0 {
		p.MaximumBatchingTimeSpan = d.MaximumBatchingTimeSpan
	}
	if p.MaximumNumberOfItems <= 0 {
		p.MaximumNumberOfItems = d.MaximumNumberOfItems
	}
	if p.MaximumRawDataSizeMB <= 0 {
		p.MaximumRawDataSizeMB = d.MaximumRawDataSizeMB
	}
	return p
}

// Flush makes the loop take every waiting message and ingest every open batch and pending
// retry now, and returns when that is done.
func (l *Loop) Flush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case l.flushReq <- reply:
	case <-l.done:
		return errors.New("flushing ingestion batches: the data management service is stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the loop and waits for it. With drain, waiting messages and open batches are
// ingested first (so nothing accepted is lost when the state is persisted); otherwise they are
// dropped. Close is idempotent.
func (l *Loop) Close(drain bool) {
	select {
	case l.stop <- drain:
	default:
	}
	if !drain {
		l.cancel()
	}
	<-l.done
	l.cancel()
}

func (l *Loop) run() {
	defer close(l.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.resetTimer(timer)
		select {
		case drain := <-l.stop:
			if drain {
				l.take()
				l.flushAll()
			} else if n := l.pending(); n > 0 {
				l.log.Info("stopping with queued ingestions not yet ingested; they are dropped", "count", n)
			}
			return
		case <-l.cfg.Queue.Ready():
			l.take()
		case reply := <-l.flushReq:
			l.take()
			l.flushAll()
			close(reply)
		case <-timer.C:
		}
		l.sealDue()
	}
}

// pending counts the ingestions waiting in batches, retries and the queue.
func (l *Loop) pending() int {
	n := len(l.retries) + l.cfg.Queue.Len()
	for _, b := range l.batches {
		n += len(b.items)
	}
	return n
}

// resetTimer arms the timer for the earliest batch deadline, retry or retention sweep.
func (l *Loop) resetTimer(t *time.Timer) {
	next := l.lastSweep.Add(retentionSweepEvery)
	for _, b := range l.batches {
		if b.deadline.Before(next) {
			next = b.deadline
		}
	}
	for _, it := range l.retries {
		if it.notBefore.Before(next) {
			next = it.notBefore
		}
	}
	d := next.Sub(l.cfg.Now())
	if d < 0 {
		d = 0
	}
	t.Reset(d)
}

// take moves waiting queue messages into batches.
func (l *Loop) take() {
	for _, m := range l.cfg.Queue.TakeAll(l.cfg.Now()) {
		l.accept(m)
	}
}

func (l *Loop) accept(qm storage.Message) {
	msg, err := decodeMessage(qm.Text)
	it := &item{msg: msg, operation: uuid.New(), sourceURL: redactURL(msg.BlobPath)}
	if err != nil {
		l.finish(it, outcome{status: "Failed", code: "BadRequest_InvalidMessage", permanent: true,
			details: "The queue message is not a valid ingestion message: " + err.Error()})
		return
	}
	l.enqueue(it)
}

// enqueue adds an item to its batch, or processes it at once (FlushImmediately, unknown table).
func (l *Loop) enqueue(it *item) {
	policy, key, known := l.batchingFor(it)
	if it.msg.FlushImmediately || !known {
		l.process([]*item{it})
		return
	}
	b, ok := l.batches[key]
	if !ok {
		b = &batch{key: key, policy: policy, deadline: l.cfg.Now().Add(policy.MaximumBatchingTimeSpan)}
		l.batches[key] = b
	}
	b.items = append(b.items, it)
	size := it.msg.RawDataSize
	if size <= 0 {
		size = l.blobSize(it)
	}
	b.rawBytes += size
	if len(b.items) >= policy.MaximumNumberOfItems || b.rawBytes >= int64(policy.MaximumRawDataSizeMB)<<20 {
		l.seal(b)
	}
}

// batchingFor returns the table's batching policy and the batch key of the item; known is false
// when the database or table does not exist.
func (l *Loop) batchingFor(it *item) (model.BatchingPolicy, string, bool) {
	var policy model.BatchingPolicy
	known := false
	_ = l.cfg.Cluster.View(func(s *model.State) error {
		db, ok := s.Databases[it.msg.Database]
		if !ok {
			return nil
		}
		t, ok := db.Tables[it.msg.Table]
		if !ok {
			return nil
		}
		known = true
		policy = l.cfg.DefaultBatching
		if t.BatchingPolicy != nil {
			policy = withDefaults(*t.BatchingPolicy)
		}
		return nil
	})
	m := it.msg
	tags, _ := m.listProp("tags")
	ifNotExists, _ := m.listProp("ingestIfNotExists")
	key := strings.Join([]string{m.Database, m.Table, m.prop("format"), m.prop("ingestionMappingReference", "jsonMappingReference", "csvMappingReference", "avroMappingReference"),
		m.prop("ingestionMappingType"), m.prop("ingestionMapping", "jsonMapping", "csvMapping", "avroMapping"), m.prop("ignoreFirstRecord"),
		strings.Join(sortedCopy(tags), ","), strings.Join(sortedCopy(ifNotExists), ","), m.prop("creationTime")}, "\x00")
	return policy, key, known
}

func (l *Loop) blobSize(it *item) int64 {
	u, err := url.Parse(it.msg.BlobPath)
	if err != nil {
		return 0
	}
	c, name, err := l.cfg.Storage.ResolveBlob(u)
	if err != nil {
		return 0
	}
	data, err := l.cfg.Storage.ReadBlob(c, name)
	if err != nil {
		return 0
	}
	return int64(len(data))
}

// sealDue seals batches past their deadline, retries transient failures that are due, and
// sweeps old blobs.
func (l *Loop) sealDue() {
	now := l.cfg.Now()
	for _, b := range l.sortedBatches() {
		if !now.Before(b.deadline) {
			l.seal(b)
		}
	}
	var due, later []*item
	for _, it := range l.retries {
		if now.Before(it.notBefore) {
			later = append(later, it)
		} else {
			due = append(due, it)
		}
	}
	l.retries = later
	for _, it := range due {
		l.process([]*item{it})
	}
	if now.Sub(l.lastSweep) >= retentionSweepEvery {
		l.lastSweep = now
		if n := l.cfg.Storage.DeleteBlobsBefore(l.cfg.TempContainer, now.Add(-l.cfg.BlobRetention)); n > 0 {
			l.log.Debug("removed ingestion blobs past retention", "count", n)
		}
	}
}

func (l *Loop) sortedBatches() []*batch {
	out := make([]*batch, 0, len(l.batches))
	for _, b := range l.batches {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].deadline.Before(out[j].deadline) })
	return out
}

func (l *Loop) seal(b *batch) {
	delete(l.batches, b.key)
	l.process(b.items)
}

// flushAll ingests every open batch and every pending retry now.
func (l *Loop) flushAll() {
	for _, b := range l.sortedBatches() {
		l.seal(b)
	}
	retries := l.retries
	l.retries = nil
	for _, it := range retries {
		l.process([]*item{it})
	}
}

// process ingests a sealed batch: each item is fetched and parsed on its own (a bad item fails
// alone), then the good ones are appended as one extent carrying the batch's tags.
func (l *Loop) process(items []*item) {
	var parsed []*item
	for _, it := range items {
		it.attempts++
		if o, ok := l.prepare(it); !ok {
			l.finish(it, o)
			continue
		}
		parsed = append(parsed, it)
	}
	if len(parsed) == 0 {
		return
	}
	outcomes := l.append(parsed)
	for i, it := range parsed {
		l.finish(it, outcomes[i])
	}
}

// prepare fetches, decompresses and parses an item's blob into it.rows. A panic while parsing
// fails the item, not the service.
func (l *Loop) prepare(it *item) (o outcome, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("ingestion crashed while parsing; the item is failed", "database", it.msg.Database, "table", it.msg.Table,
				"source", it.sourceURL, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			o, ok = permanent("General_InternalError", "The ingestion failed with an internal error: %v", r), false
		}
	}()
	m := it.msg
	if f, hit := l.cfg.Faults.Hit(faults.DM); hit {
		switch f.Kind {
		case faults.Delay:
			faults.Sleep(l.ctx, f.Delay)
		case faults.Permanent:
			code := f.Code
			if code == "" {
				code = "General_BadRequest"
			}
			return outcome{status: "Failed", code: code, permanent: true, details: "Injected permanent failure."}, false
		default:
			return transient(faultCode(f.Kind), "Injected transient failure (%s).", f.Kind), false
		}
	}
	if l.cfg.AuthContext != "" && m.prop("authorizationContext") != l.cfg.AuthContext {
		return permanent("BadRequest_InvalidAuthorizationContext",
			"The message's authorizationContext is missing or was not issued by this service; get it with .get kusto identity token."), false
	}
	data, o, ok := l.fetch(m.BlobPath)
	if !ok {
		return o, false
	}
	payload, err := ingest.Decompress(data)
	if err != nil {
		return fromError(err, "BadRequest_InvalidBlob"), false
	}
	spec, tags, err := specFor(m)
	spec.SourceLocation = it.sourceURL
	if err != nil {
		return fromError(err, "BadRequest_InvalidIngestionProperties"), false
	}
	var plan *ingest.Plan
	err = l.cfg.Cluster.View(func(s *model.State) error {
		db, ok := s.Databases[m.Database]
		if !ok {
			return model.BadRequest("BadRequest_DatabaseNotExist", "Database '%s' does not exist.", m.Database)
		}
		t, ok := db.Tables[m.Table]
		if !ok {
			return model.BadRequest("BadRequest_TableNotExist", "Table '%s' does not exist in database '%s'.", m.Table, m.Database)
		}
		var err error
		plan, err = ingest.Prepare(t, spec)
		return err
	})
	if err != nil {
		return fromError(err, "BadRequest_InvalidMapping"), false
	}
	rows, err := plan.Rows(payload)
	if err != nil {
		return fromError(err, "BadRequest_InvalidBlob"), false
	}
	it.rows, it.tags = rows, tags
	return outcome{}, true
}

func faultCode(k faults.Kind) string {
	switch k {
	case faults.Throttle:
		return "General_ThrottledIngestion"
	case faults.Internal:
		return "General_InternalServerError"
	default:
		return "General_TransientSchemaMismatch"
	}
}

// fetch reads the blob a BlobPath points to, which must be a blob of the emulator's storage
// readable with the SAS in the URL.
func (l *Loop) fetch(blobPath string) ([]byte, outcome, bool) {
	u, err := url.Parse(blobPath)
	if err != nil || u.Scheme != "https" || !SameHost(u.Host, l.cfg.StorageHost) {
		return nil, permanent("Download_SourceNotFound",
			"The blob %s is not in the emulator's storage (%s); the emulator ingests only blobs uploaded there.", redactURL(blobPath), l.cfg.StorageHost), false
	}
	c, name, err := l.cfg.Storage.ResolveBlob(u)
	if err != nil {
		var se *sas.Error
		if errors.As(err, &se) {
			return nil, permanent("Download_Forbidden", "Reading %s was refused: %s", redactURL(blobPath), se.Detail), false
		}
		return nil, permanent("Download_SourceNotFound", "The blob %s was not found.", redactURL(blobPath)), false
	}
	data, err := l.cfg.Storage.ReadBlob(c, name)
	if err != nil {
		return nil, permanent("Download_SourceNotFound", "The blob %s was not found.", redactURL(blobPath)), false
	}
	return data, outcome{}, true
}

// SameHost compares host:port pairs, treating every loopback name as the same host; it decides
// whether a URL points to the emulator's storage.
func SameHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	ah, ap, err1 := net.SplitHostPort(a)
	bh, bp, err2 := net.SplitHostPort(b)
	return err1 == nil && err2 == nil && ap == bp && isLoopback(ah) && isLoopback(bh)
}

func isLoopback(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// specFor builds the ingest spec and the extent tags from a message's properties.
func specFor(m message) (ingest.Spec, []string, error) {
	format, err := ingest.ParseFormat(m.prop("format"))
	if err != nil {
		return ingest.Spec{}, nil, err
	}
	ignoreFirst, err := m.boolProp("ignoreFirstRecord")
	if err != nil {
		return ingest.Spec{}, nil, err
	}
	tags, err := m.listProp("tags")
	if err != nil {
		return ingest.Spec{}, nil, err
	}
	if _, err := m.listProp("ingestIfNotExists"); err != nil {
		return ingest.Spec{}, nil, err
	}
	if _, err := m.creationTime(); err != nil {
		return ingest.Spec{}, nil, err
	}
	return ingest.Spec{
		Format:            format,
		MappingReference:  m.prop("ingestionMappingReference", "jsonMappingReference", "csvMappingReference", "avroMappingReference"),
		Mapping:           m.prop("ingestionMapping", "jsonMapping", "csvMapping", "avroMapping"),
		MappingKind:       m.prop("ingestionMappingType"),
		IgnoreFirstRecord: ignoreFirst,
	}, tags, nil
}

// append appends the parsed items as one extent in one update and returns each item's outcome.
// An item is skipped when one of its ingestIfNotExists tags is already on an extent of the table,
// or was claimed by an earlier item of the batch.
func (l *Loop) append(items []*item) []outcome {
	outcomes := make([]outcome, len(items))
	now := l.cfg.Now().UTC()
	err := l.cfg.Cluster.Update(func(s *model.State) error {
		first := items[0].msg
		db, ok := s.Databases[first.Database]
		if !ok {
			return model.BadRequest("BadRequest_DatabaseNotExist", "Database '%s' does not exist.", first.Database)
		}
		t, ok := db.Tables[first.Table]
		if !ok {
			return model.BadRequest("BadRequest_TableNotExist", "Table '%s' does not exist in database '%s'.", first.Table, first.Database)
		}
		claimed := map[string]bool{}
		var rows [][]any
		var tags []string
		created := now
		for i, it := range items {
			ifNotExists, _ := it.msg.listProp("ingestIfNotExists")
			if tag, dup := firstExisting(t, claimed, ifNotExists); dup {
				outcomes[i] = outcome{status: "Skipped", code: "Skipped_IngestByTagAlreadyExists",
					details: fmt.Sprintf("An extent with tag 'ingest-by:%s' already exists; the ingestion was skipped.", tag)}
				continue
			}
			if len(it.rows) > 0 && len(it.rows[0]) > len(t.Columns) {
				outcomes[i] = transient("General_TransientSchemaMismatch", "The table's schema changed while the data was parsed.")
				continue
			}
			rows = append(rows, it.rows...)
			tags = it.tags
			if ct, _ := it.msg.creationTime(); !ct.IsZero() {
				created = ct
			}
			for _, tag := range it.tags {
				if v, ok := strings.CutPrefix(tag, "ingest-by:"); ok {
					claimed[v] = true
				}
			}
			outcomes[i] = outcome{status: "Succeeded"}
		}
		if len(rows) > 0 {
			t.Append(rows, tags, created)
		}
		return nil
	})
	if err != nil {
		o := fromError(err, "BadRequest_TableNotExist")
		for i := range outcomes {
			outcomes[i] = o
		}
	}
	return outcomes
}

func firstExisting(t *model.Table, claimed map[string]bool, tags []string) (string, bool) {
	for _, tag := range tags {
		if claimed[tag] || t.HasTag("ingest-by:"+tag) {
			return tag, true
		}
	}
	return "", false
}

// finish ends an item: a transient failure with attempts left is retried later; otherwise the
// outcome is recorded (failures list, status table) and the blob removed if the client asked.
func (l *Loop) finish(it *item, o outcome) {
	it.rows = nil
	if o.status == "Failed" && !o.permanent {
		if it.attempts < l.cfg.MaxAttempts {
			it.notBefore = l.cfg.Now().Add(l.cfg.RetryDelay << (it.attempts - 1))
			l.retries = append(l.retries, it)
			l.log.Debug("ingestion failed transiently; retrying", "database", it.msg.Database, "table", it.msg.Table,
				"code", o.code, "attempt", it.attempts)
			return
		}
		o.exhausted = true
	}
	m := it.msg
	switch o.status {
	case "Failed":
		l.log.Info("ingestion failed", "database", m.Database, "table", m.Table, "source", it.sourceURL, "code", o.code, "details", o.details)
		l.recordFailure(it, o)
	case "Skipped":
		l.log.Debug("ingestion skipped", "database", m.Database, "table", m.Table, "source", it.sourceURL, "code", o.code)
	default:
		l.log.Debug("ingestion succeeded", "database", m.Database, "table", m.Table, "source", it.sourceURL)
		if !m.RetainBlobOnSuccess {
			l.deleteSource(m.BlobPath)
		}
	}
	l.report(it, o)
}

func (l *Loop) recordFailure(it *item, o outcome) {
	kind := "Permanent"
	if !o.permanent {
		kind = "Transient"
	}
	f := model.Failure{
		OperationID: it.operation, Database: it.msg.Database, Table: it.msg.Table, FailedOn: l.cfg.Now().UTC(),
		IngestionSourcePath: it.sourceURL, Details: o.details, FailureKind: kind, ErrorCode: o.code, ShouldRetry: !o.permanent,
	}
	_ = l.cfg.Cluster.Update(func(s *model.State) error {
		s.Failures = append(s.Failures, f)
		if n := len(s.Failures) - maxFailures; n > 0 {
			s.Failures = append(s.Failures[:0:0], s.Failures[n:]...)
		}
		return nil
	})
}

func (l *Loop) deleteSource(blobPath string) {
	u, err := url.Parse(blobPath)
	if err != nil {
		return
	}
	if c, name, err := l.cfg.Storage.ResolveBlob(u); err == nil {
		_ = l.cfg.Storage.DeleteBlob(c, name)
	}
}

// report writes the final status into the status table when the message asked for table
// reporting at a level that covers this outcome.
func (l *Loop) report(it *item, o outcome) {
	m := it.msg
	if m.StatusTable == "" || m.StatusPartitionKey == "" || (m.ReportMethod != reportMethodTable && m.ReportMethod != reportMethodQueueAndTable) {
		return
	}
	switch m.ReportLevel {
	case reportNone:
		return
	case reportFailuresOnly:
		if o.status == "Succeeded" {
			return
		}
	}
	u, err := url.Parse(m.StatusTable)
	if err != nil || !SameHost(u.Host, l.cfg.StorageHost) {
		l.log.Warn("ingestion status table is not in the emulator's storage; status not reported", "table", redactURL(m.StatusTable))
		return
	}
	tableName, err := l.cfg.Storage.ResolveTable(u)
	if err != nil {
		l.log.Warn("ingestion status table not found; status not reported", "table", redactURL(m.StatusTable))
		return
	}
	props := map[string]any{
		"Status":              o.status,
		"Database":            m.Database,
		"Table":               m.Table,
		"IngestionSourcePath": it.sourceURL,
		"OperationId":         it.operation.String(),
		"ActivityId":          uuid.NewString(),
		"UpdatedOn":           l.cfg.Now().UTC().Format(time.RFC3339Nano),
		"ErrorCode":           o.code,
		"Details":             o.details,
	}
	if o.status == "Failed" {
		switch {
		case o.permanent:
			props["FailureStatus"] = "Permanent"
		case o.exhausted:
			props["FailureStatus"] = "Exhausted"
		default:
			props["FailureStatus"] = "Transient"
		}
	}
	rowKey := m.StatusRowKey
	if err := l.cfg.Storage.MergeEntity(tableName, m.StatusPartitionKey, rowKey, props); err != nil {
		l.log.Warn("writing ingestion status failed", "error", err)
	}
}

func permanent(code, format string, args ...any) outcome {
	return outcome{status: "Failed", code: code, permanent: true, details: fmt.Sprintf(format, args...)}
}

func transient(code, format string, args ...any) outcome {
	return outcome{status: "Failed", code: code, details: fmt.Sprintf(format, args...)}
}

// fromError turns an error into a failed outcome: a *model.Error keeps its code and permanence;
// anything else is a permanent failure with the fallback code.
func fromError(err error, fallback string) outcome {
	var me *model.Error
	if errors.As(err, &me) {
		code := me.Code
		if code == "" {
			code = fallback
		}
		return outcome{status: "Failed", code: code, permanent: me.Permanent, details: me.Detail}
	}
	return permanent(fallback, "%v", err)
}

func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
