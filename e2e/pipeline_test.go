package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// The pipeline under test: topic → two workers → connector with two tasks → Kusto table.
const (
	pipelineTopic      = "orders"
	pipelinePartitions = 4
	pipelineConnector  = "orders-to-kusto"
	pipelineTable      = "Orders"
	pipelineTasks      = 2

	// flushInterval is the sink's flush.interval.ms and batchingDelay the emulator's queued
	// ingestion batching time: together they bound how long a record takes from the sink's
	// spool file to a queryable row.
	flushInterval = time.Second
	batchingDelay = time.Second
)

// Record phases: every record carries the phase it was produced in, so each phase is counted
// apart.
const (
	phaseInitial  = "initial"
	phasePaused   = "paused"
	phaseFailover = "failover"
	phaseRestart  = "restart"
)

// TestPipeline runs the whole path through two worker processes: create the Kusto sink through
// the REST API and ingest 20,000 records exactly once; pause and resume; kill -9 a worker while
// records flow; restart both workers; delete the connector. The phases share one cluster and
// run in order; a failed phase ends the test.
func TestPipeline(t *testing.T) {
	e := newTestEnv(t, batchingDelay)
	e.createTopic(t, pipelineTopic, pipelinePartitions)
	e.kustoMgmt(t, ".create table "+pipelineTable+" (key:string, phase:string, seq:long, amount:real, note:string)")
	w1 := e.addWorker(t, "worker1", nil)
	w2 := e.addWorker(t, "worker2", nil)
	w1.start(t)
	w2.start(t)
	p := &pipeline{e: e, workers: []*worker{w1, w2}}

	for _, phase := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"create and ingest", p.createAndIngest},
		{"pause and resume", p.pauseAndResume},
		{"kill a worker mid-stream", p.failover},
		{"restart both workers", p.restart},
		{"delete", p.delete},
	} {
		if !t.Run(phase.name, phase.run) {
			return
		}
	}
}

// pipeline is the state the phases of TestPipeline share.
type pipeline struct {
	e       *testEnv
	workers []*worker

	produced     map[string]int // records produced per phase
	batch        int            // kcat input files written so far
	failuresSeen int            // ingestion failures of the emulator already reported
}

// produce writes n records of a phase, numbered from the phase's current count, with kcat and
// checks the broker holds them.
func (p *pipeline) produce(t *testing.T, phase string, n int) {
	t.Helper()
	before := p.e.endOffsets(t, pipelineTopic)
	if err := p.produceBatch(phase, n); err != nil {
		t.Fatal(err)
	}
	if after := p.e.endOffsets(t, pipelineTopic); after-before != int64(n) {
		t.Fatalf("kcat produced %d records, the topic grew by %d", n, after-before)
	}
}

// produceBatch produces the next n records of a phase; it is safe to call from one goroutine
// at a time.
func (p *pipeline) produceBatch(phase string, n int) error {
	if p.produced == nil {
		p.produced = map[string]int{}
	}
	from := p.produced[phase]
	lines := make([]string, n)
	for i := range lines {
		lines[i] = recordLine(phase, from+i)
	}
	p.batch++
	file := filepath.Join(p.e.dir, fmt.Sprintf("records-%03d.txt", p.batch))
	if err := kcatProduce(p.e.bootstrap, pipelineTopic, file, lines); err != nil {
		return err
	}
	p.produced[phase] = from + n
	return nil
}

// recordLine is one kcat input line: the key, a tab, and a JSON value whose fields are the
// table's columns.
func recordLine(phase string, seq int) string {
	key := fmt.Sprintf("%s-%06d", phase, seq)
	value, _ := json.Marshal(map[string]any{
		"key":    key,
		"phase":  phase,
		"seq":    seq,
		"amount": float64(seq%1000) + 0.25,
		"note":   strings.Repeat(string(rune('a'+seq%26)), 16+seq%48),
	})
	return key + "\t" + string(value)
}

// rowsOf returns how many rows and distinct keys a phase has in Kusto.
func (p *pipeline) rowsOf(phase string) (rows, keys int64, err error) {
	where := fmt.Sprintf("%s | where phase == '%s'", pipelineTable, phase)
	if rows, err = p.e.kustoLong(where + " | count"); err != nil {
		return 0, 0, err
	}
	if keys, err = p.e.kustoLong(where + " | distinct key | count"); err != nil {
		return 0, 0, err
	}
	return rows, keys, nil
}

// waitForKeys polls Kusto until every key produced in the phase is there and returns how many
// rows the phase has then.
func (p *pipeline) waitForKeys(t *testing.T, phase string, timeout time.Duration) int64 {
	t.Helper()
	want := int64(p.produced[phase])
	var rows int64
	waitFor(t, timeout, fmt.Sprintf("%d %s keys in Kusto", want, phase), func() (bool, string) {
		r, keys, err := p.rowsOf(phase)
		if err != nil {
			return false, err.Error()
		}
		rows = r
		return keys == want, fmt.Sprintf("%d rows, %d distinct keys", r, keys)
	})
	return rows
}

// checkExactlyOnce checks that every key produced in the phase is in Kusto exactly once and no
// other key of the phase is.
func (p *pipeline) checkExactlyOnce(t *testing.T, phase string) {
	t.Helper()
	where := fmt.Sprintf("%s | where phase == '%s'", pipelineTable, phase)
	dupKeys := p.e.mustKustoLong(t, where+" | summarize count() by key | where count_ > 1 | count")
	outside := p.e.mustKustoLong(t, fmt.Sprintf("%s | where seq < 0 or seq >= %d | count", where, p.produced[phase]))
	rows, keys, err := p.rowsOf(phase)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(p.produced[phase])
	if rows != want || keys != want || dupKeys != 0 || outside != 0 {
		t.Errorf("%s records: %d rows, %d distinct keys, %d keys more than once, %d unknown; want %d rows, each key once",
			phase, rows, keys, dupKeys, outside, want)
	}
}

// counts returns the rows per key of a phase, read from the table directly: the exact check
// behind the queries. Every row must hold the values its record was produced with, in the
// column types: the JSON went through the converter, the sink and Kusto's JSON ingestion.
func (p *pipeline) counts(t *testing.T, phase string) map[string]int {
	t.Helper()
	rows, err := p.e.kusto.Rows(kustoDB, pipelineTable)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	wrong := 0
	for _, r := range rows {
		if r["phase"] != phase {
			continue
		}
		k, _ := r["key"].(string)
		out[k]++
		var seq int
		if _, err := fmt.Sscanf(strings.TrimPrefix(k, phase+"-"), "%d", &seq); err != nil || !rowMatches(r, phase, seq) {
			if wrong++; wrong <= 3 {
				t.Errorf("row %v does not hold what record %s was produced with", r, k)
			}
		}
	}
	if wrong > 3 {
		t.Errorf("%d rows of phase %s hold wrong values", wrong, phase)
	}
	return out
}

// rowMatches reports whether a row holds record seq of a phase as recordLine wrote it.
func rowMatches(r map[string]any, phase string, seq int) bool {
	return r["seq"] == int64(seq) &&
		r["amount"] == float64(seq%1000)+0.25 &&
		r["note"] == strings.Repeat(string(rune('a'+seq%26)), 16+seq%48) &&
		r["key"] == fmt.Sprintf("%s-%06d", phase, seq)
}

// tableCount returns `T | count`.
func (p *pipeline) tableCount() (int64, error) {
	return p.e.kustoLong(pipelineTable + " | count")
}

// waitForTableCount polls `T | count` until it is want.
func (p *pipeline) waitForTableCount(t *testing.T, want int64, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("%s | count == %d", pipelineTable, want), func() (bool, string) {
		n, err := p.tableCount()
		if err != nil {
			return false, err.Error()
		}
		if n > want {
			t.Fatalf("%s | count is %d, more than the %d records produced", pipelineTable, n, want)
		}
		return n == want, fmt.Sprint(n)
	})
}

// connectorConfig is the Kusto sink's configuration: JSON values without schemas into a table
// whose columns are the record's fields, queued ingestion, the emulator's CA, short flushes.
func (p *pipeline) connectorConfig() map[string]string {
	return map[string]string{
		"connector.class":                "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector",
		"tasks.max":                      fmt.Sprint(pipelineTasks),
		"topics":                         pipelineTopic,
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"kusto.ingestion.url":            p.e.kusto.EngineURL(),
		"kusto.query.url":                p.e.kusto.EngineURL(),
		"aad.auth.strategy":              "none",
		"kusto.tls.ca.file":              p.e.caFile,
		"kusto.tables.topics.mapping": fmt.Sprintf("[{'topic': '%s', 'db': '%s', 'table': '%s', 'format': 'json'}]",
			pipelineTopic, kustoDB, pipelineTable),
		"flush.interval.ms": fmt.Sprint(flushInterval.Milliseconds()),
		"tempdir.path":      filepath.Join(p.e.dir, "spool"),
	}
}

// running returns the workers whose process is up.
func (p *pipeline) running() []*worker {
	var out []*worker
	for _, w := range p.workers {
		if w.running() {
			out = append(out, w)
		}
	}
	return out
}

// waitForGroup polls the worker group until exactly the running workers are its members and
// it is stable.
func (p *pipeline) waitForGroup(t *testing.T, timeout time.Duration) {
	t.Helper()
	want := len(p.running())
	waitFor(t, timeout, fmt.Sprintf("a stable worker group of %d", want), func() (bool, string) {
		g, err := p.e.describeGroup("connect-cluster")
		if err != nil {
			return false, err.Error()
		}
		return g.State == "Stable" && len(g.Members) == want, fmt.Sprintf("state %s, %d members", g.State, len(g.Members))
	})
}

// waitForSpread polls until the connector and its tasks run and every running worker holds at
// least one of them: the assignment is balanced over the group.
func (p *pipeline) waitForSpread(t *testing.T, timeout time.Duration) connectorStatus {
	t.Helper()
	running := p.running()
	return waitForState(t, running[0], pipelineConnector, "RUNNING", pipelineTasks, timeout, func(st connectorStatus) bool {
		holders := map[string]bool{st.Connector.WorkerID: true}
		for _, task := range st.Tasks {
			holders[task.WorkerID] = true
		}
		for _, w := range running {
			if !holders[w.id] {
				return false
			}
		}
		return len(holders) == len(running)
	})
}

// waitForSinkGroup polls the connector's consumer group until each task's consumer is a
// member with partitions: only then are no partitions about to move between tasks.
func (p *pipeline) waitForSinkGroup(t *testing.T, timeout time.Duration) {
	t.Helper()
	group := "connect-" + pipelineConnector
	waitFor(t, timeout, "consumer group "+group+" stable with a member per task", func() (bool, string) {
		g, err := p.e.describeGroup(group)
		if err != nil {
			return false, err.Error()
		}
		if g.State != "Stable" || len(g.Members) != pipelineTasks {
			return false, fmt.Sprintf("state %s, %d members", g.State, len(g.Members))
		}
		partitions := 0
		for _, m := range g.Members {
			a, ok := m.Assigned.AsConsumer()
			if !ok {
				return false, "member " + m.MemberID + " has no consumer assignment"
			}
			n := 0
			for _, tp := range a.Topics {
				n += len(tp.Partitions)
			}
			if n == 0 {
				return false, "member " + m.MemberID + " has no partitions"
			}
			partitions += n
		}
		return partitions == pipelinePartitions, fmt.Sprintf("%d partitions assigned", partitions)
	})
}

// waitForCommitted polls until the connector's consumer group has committed the end offset of
// every partition: everything produced is in Kusto and no ingestion is in flight.
func (p *pipeline) waitForCommitted(t *testing.T, timeout time.Duration) {
	t.Helper()
	group := "connect-" + pipelineConnector
	waitFor(t, timeout, "consumer group "+group+" to commit every record", func() (bool, string) {
		ends, err := p.e.admin.ListEndOffsets(p.e.ctx, pipelineTopic)
		if err != nil {
			return false, err.Error()
		}
		committed, err := p.e.admin.FetchOffsets(p.e.ctx, group)
		if err != nil {
			return false, err.Error()
		}
		var lag int64
		ends.Each(func(o kadm.ListedOffset) {
			c, ok := committed.Lookup(o.Topic, o.Partition)
			if !ok {
				lag += o.Offset
				return
			}
			lag += o.Offset - c.At
		})
		return lag == 0, fmt.Sprintf("lag %d", lag)
	})
}

// settle waits until the connector has committed every record, then has the emulator ingest
// every queued ingestion and open batch at once: after it, nothing sent is still on its way
// into the table, so counts are final.
func (p *pipeline) settle(t *testing.T) {
	t.Helper()
	p.waitForCommitted(t, 60*time.Second)
	if err := p.e.kusto.Flush(p.e.ctx); err != nil {
		t.Fatalf("flushing the emulator's ingestion batches: %v", err)
	}
	// Every file the sink sent must have been ingested, none rejected.
	failures := p.e.kusto.Failures()
	for _, f := range failures[p.failuresSeen:] {
		t.Errorf("ingestion into %s.%s failed (%s, permanent %v): %s", f.Database, f.Table, f.ErrorCode, f.Permanent, f.Details)
	}
	p.failuresSeen = len(failures)
}

func (p *pipeline) createAndIngest(t *testing.T) {
	p.waitForGroup(t, 30*time.Second)
	// Sent to the second worker; whichever is not the leader forwards it.
	body := map[string]any{"name": pipelineConnector, "config": p.connectorConfig()}
	waitFor(t, 30*time.Second, "POST /connectors to answer 201", func() (bool, string) {
		code, resp, err := httpDo(http.MethodPost, p.workers[1].url+"/connectors", body)
		if err != nil {
			return false, err.Error()
		}
		if code == http.StatusConflict && strings.Contains(resp, "already exists") {
			t.Fatalf("POST /connectors: %s", resp)
		}
		// 409 while a rebalance is under way is retried, as Connect clients do.
		if code != http.StatusCreated && code != http.StatusConflict {
			t.Fatalf("POST /connectors: %d %s", code, resp)
		}
		return code == http.StatusCreated, fmt.Sprintf("%d %s", code, resp)
	})
	st := p.waitForSpread(t, 60*time.Second)
	p.waitForSinkGroup(t, 30*time.Second)
	t.Logf("connector on %s, tasks on %s and %s", st.Connector.WorkerID, st.Tasks[0].WorkerID, st.Tasks[1].WorkerID)

	start := time.Now()
	p.produce(t, phaseInitial, 20000)
	produced := time.Now()
	p.waitForTableCount(t, 20000, 90*time.Second)
	t.Logf("produced 20,000 records with kcat in %v; all in Kusto %v later", produced.Sub(start).Round(time.Millisecond), time.Since(produced).Round(time.Millisecond))
	p.settle(t)
	p.checkExactlyOnce(t, phaseInitial)
	counts := p.counts(t, phaseInitial)
	for i := range 20000 {
		if k := fmt.Sprintf("%s-%06d", phaseInitial, i); counts[k] != 1 {
			t.Fatalf("key %s is in Kusto %d times", k, counts[k])
		}
	}
}

func (p *pipeline) pauseAndResume(t *testing.T) {
	w := p.workers[1]
	if code, body, err := httpDo(http.MethodPut, w.url+"/connectors/"+pipelineConnector+"/pause", nil); err != nil || code != http.StatusAccepted {
		t.Fatalf("PUT pause: %d %s %v", code, body, err)
	}
	for _, w := range p.workers {
		waitForState(t, w, pipelineConnector, "PAUSED", pipelineTasks, 30*time.Second, nil)
	}
	p.produce(t, phasePaused, 1000)

	// Nothing may reach Kusto now, and only a fixed wait can show that nothing happens. Had the
	// tasks kept consuming, the records would be in spool files at once and the files sealed
	// and sent to Kusto one flush interval later; three flush intervals leave room for a slow
	// machine. Flushing the emulator then ingests whatever was sent without waiting out its
	// batching delay.
	quiet := 3 * flushInterval
	time.Sleep(quiet)
	if err := p.e.kusto.Flush(p.e.ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := p.tableCount(); err != nil || n != 20000 {
		t.Fatalf("%v after pausing and producing 1,000 records: %s | count = %d (%v), want 20000", quiet, pipelineTable, n, err)
	}
	if rows, _, err := p.rowsOf(phasePaused); err != nil || rows != 0 {
		t.Fatalf("paused connector ingested %d records (%v)", rows, err)
	}

	start := time.Now()
	if code, body, err := httpDo(http.MethodPut, w.url+"/connectors/"+pipelineConnector+"/resume", nil); err != nil || code != http.StatusAccepted {
		t.Fatalf("PUT resume: %d %s %v", code, body, err)
	}
	waitForState(t, w, pipelineConnector, "RUNNING", pipelineTasks, 30*time.Second, nil)
	p.waitForTableCount(t, 21000, 60*time.Second)
	t.Logf("resumed: 21,000 rows %v after PUT resume", time.Since(start).Round(time.Millisecond))
	p.settle(t)
	p.checkExactlyOnce(t, phasePaused)
}

// Failover load: failoverBatches kcat runs of failoverBatch records, one every failoverPace, so
// records flow for several seconds before and after the kill.
const (
	failoverBatches = 30
	failoverBatch   = 400
	failoverPace    = 200 * time.Millisecond
	killAfter       = 8 // batches produced before the kill
)

func (p *pipeline) failover(t *testing.T) {
	// The victim is the leader, so the group loses its leader and the victim's work at once;
	// the assignment is spread, so the victim runs part of the connector.
	st := p.waitForSpread(t, 30*time.Second)
	victim, err := p.e.leader("connect-cluster")
	if err != nil {
		t.Fatal(err)
	}
	survivor := p.workers[0]
	if survivor == victim {
		survivor = p.workers[1]
	}
	var held []string
	if st.Connector.WorkerID == victim.id {
		held = append(held, "the connector")
	}
	for _, task := range st.Tasks {
		if task.WorkerID == victim.id {
			held = append(held, fmt.Sprintf("task %d", task.ID))
		}
	}

	// The producer runs until it has produced every batch or the test stops it.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		batches  int
		stop     = make(chan struct{})
		produced = make(chan error, 1)
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(failoverPace)
		defer tick.Stop()
		for range failoverBatches {
			if err := p.produceBatch(phaseFailover, failoverBatch); err != nil {
				produced <- err
				return
			}
			mu.Lock()
			batches++
			mu.Unlock()
			select {
			case <-stop:
				produced <- errStopped
				return
			case <-tick.C:
			}
		}
		produced <- nil
	}()
	stopped := false
	stopProducer := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer stopProducer()

	// Kill once the producer is well under way and the sink is visibly ingesting this phase.
	waitFor(t, 60*time.Second, "failover records flowing into Kusto", func() (bool, string) {
		mu.Lock()
		n := batches
		mu.Unlock()
		rows, _, err := p.rowsOf(phaseFailover)
		if err != nil {
			return false, err.Error()
		}
		return n >= killAfter && rows > 0, fmt.Sprintf("%d batches produced, %d rows ingested", n, rows)
	})
	mu.Lock()
	atKill := batches
	mu.Unlock()
	killed := time.Now()
	victim.kill()
	t.Logf("killed the leader %s (%s, running %s) after %d of %d batches", victim.name, victim.id, strings.Join(held, " and "), atKill, failoverBatches)

	waitForState(t, survivor, pipelineConnector, "RUNNING", pipelineTasks, 60*time.Second, func(st connectorStatus) bool {
		if st.Connector.WorkerID != survivor.id {
			return false
		}
		for _, task := range st.Tasks {
			if task.WorkerID != survivor.id {
				return false
			}
		}
		return true
	})
	moved := time.Since(killed)

	select {
	case err := <-produced:
		stopped = true // the producer is done
		wg.Wait()
		if err != nil {
			t.Fatalf("producing: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the producer did not finish within 60s")
	}
	p.waitForKeys(t, phaseFailover, 120*time.Second)
	allIn := time.Since(killed)
	p.settle(t)
	want := p.produced[phaseFailover]
	counts := p.counts(t, phaseFailover)
	dupKeys, extra, rows := 0, 0, 0
	for _, n := range counts {
		rows += n
	}
	for i := range want {
		k := fmt.Sprintf("%s-%06d", phaseFailover, i)
		switch n := counts[k]; {
		case n == 0:
			t.Errorf("key %s never reached Kusto", k)
		case n > 1:
			dupKeys++
			extra += n - 1
		}
	}
	t.Logf("failover: connector and tasks on the survivor %v after the kill; all %d keys in Kusto %v after the kill; %d rows, %d duplicate rows over %d keys",
		moved.Round(time.Millisecond), want, allIn.Round(time.Millisecond), rows, extra, dupKeys)
	if rows != want+extra {
		t.Errorf("%d rows of the phase, but %d keys and %d duplicates: rows with keys never produced", rows, want, extra)
	}
}

func (p *pipeline) restart(t *testing.T) {
	// Bring the killed worker back first: it rejoins and takes its share again.
	start := time.Now()
	for _, w := range p.workers {
		if !w.running() {
			w.start(t)
		}
	}
	p.waitForGroup(t, 30*time.Second)
	p.waitForSpread(t, 60*time.Second)
	t.Logf("the killed worker rejoined and holds work again %v after it started", time.Since(start).Round(time.Millisecond))
	failoverRows, _, err := p.rowsOf(phaseFailover)
	if err != nil {
		t.Fatal(err)
	}

	// Stop both with SIGTERM, then start both again with the same properties.
	start = time.Now()
	var wg sync.WaitGroup
	stopErrs := make([]error, len(p.workers))
	for i, w := range p.workers {
		wg.Add(1)
		go func() { defer wg.Done(); stopErrs[i] = w.stop() }()
	}
	wg.Wait()
	if err := errors.Join(stopErrs...); err != nil {
		t.Error(err)
	}
	stoppedIn := time.Since(start)
	for _, w := range p.workers {
		if code := w.exitCode(); code != 0 {
			t.Errorf("%s exited with %d after SIGTERM, want 0", w.name, code)
		}
	}
	start = time.Now()
	for _, w := range p.workers {
		w.start(t)
	}
	p.waitForGroup(t, 30*time.Second)
	p.waitForSpread(t, 60*time.Second)
	p.waitForSinkGroup(t, 30*time.Second)
	back := time.Since(start)

	start = time.Now()
	p.produce(t, phaseRestart, 2000)
	p.waitForKeys(t, phaseRestart, 60*time.Second)
	p.settle(t)
	t.Logf("restart: both workers stopped %v after SIGTERM; connector and tasks running again %v after start; 2,000 new records in Kusto %v after producing",
		stoppedIn.Round(time.Millisecond), back.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	p.checkExactlyOnce(t, phaseRestart)
	p.counts(t, phaseRestart)
	// The restarted tasks went on from the committed offsets, not from the start of the topic.
	p.checkExactlyOnce(t, phaseInitial)
	p.checkExactlyOnce(t, phasePaused)
	if now, _, err := p.rowsOf(phaseFailover); err != nil || now != failoverRows {
		t.Errorf("failover rows went from %d to %d (%v) across the restart", failoverRows, now, err)
	}
}

func (p *pipeline) delete(t *testing.T) {
	leader, err := p.e.leader("connect-cluster")
	if err != nil {
		t.Fatal(err)
	}
	follower := p.workers[0]
	if follower == leader {
		follower = p.workers[1]
	}
	// A follower forwards the delete to the leader.
	if code, body, err := httpDo(http.MethodDelete, follower.url+"/connectors/"+pipelineConnector, nil); err != nil || code != http.StatusNoContent {
		t.Fatalf("DELETE on the follower: %d %s %v", code, body, err)
	}
	for _, w := range p.workers {
		waitFor(t, 30*time.Second, "status 404 on "+w.name, func() (bool, string) {
			code, body, err := httpDo(http.MethodGet, w.url+"/connectors/"+pipelineConnector+"/status", nil)
			if err != nil {
				return false, err.Error()
			}
			return code == http.StatusNotFound, fmt.Sprintf("%d %s", code, body)
		})
		code, body, err := httpDo(http.MethodGet, w.url+"/connectors", nil)
		if err != nil || code != http.StatusOK || body != "[]" {
			t.Errorf("GET /connectors on %s after delete: %d %s %v", w.name, code, body, err)
		}
	}
	group := "connect-" + pipelineConnector
	waitFor(t, 30*time.Second, "consumer group "+group+" to stop", func() (bool, string) {
		g, err := p.e.describeGroup(group)
		if err != nil {
			return false, err.Error()
		}
		return (g.State == "Empty" || g.State == "Dead") && len(g.Members) == 0, fmt.Sprintf("state %s, %d members", g.State, len(g.Members))
	})
}
