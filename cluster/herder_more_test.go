package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/storage"
)

func kindOf(err error) Kind {
	var herr *Error
	if errors.As(err, &herr) {
		return herr.Kind
	}
	return 0
}

func TestVerifyRequest(t *testing.T) {
	h := newIdleHerder(t)
	body := []byte(`[{"a":"b"}]`)
	key := &storage.SessionKey{Key: []byte("0123456789abcdef0123456789abcdef"), Algorithm: hmacSHA256, Created: time.Now()}
	good := signRequest(key.Key, body)

	if err := h.verifyRequest(body, "", ""); err != nil {
		t.Fatalf("without the sessioned protocol nothing is checked: %v", err)
	}
	h.sessioned.Store(true)
	cases := []struct {
		name     string
		sig, alg string
		key      *storage.SessionKey
		kind     Kind
		message  string
	}{
		{"missing signature", "", hmacSHA256, key, KindBadRequest, msgMissingSignature},
		{"missing algorithm", good, "", key, KindBadRequest, msgMissingSignature},
		{"algorithm not allowed", good, "HmacSHA1", key, KindBadRequest, "This worker does not support the 'HmacSHA1' key signing algorithm used by other workers. This worker is currently configured to use: [HmacSHA256]. Check that all workers' configuration files permit the same set of signature algorithms, and correct any misconfigured worker and restart it."},
		{"not base64", "%%%", hmacSHA256, key, KindBadRequest, ""},
		{"no key yet", good, hmacSHA256, nil, KindUnavailable, msgNoSessionKey},
		{"wrong signature", base64.StdEncoding.EncodeToString([]byte("forged")), hmacSHA256, key, KindForbidden, msgInvalidSignature},
		{"signature of another body", signRequest(key.Key, []byte(`[]`)), hmacSHA256, key, KindForbidden, msgInvalidSignature},
		{"valid", good, hmacSHA256, key, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.sessionKey.Store(c.key)
			err := h.verifyRequest(body, c.sig, c.alg)
			if kindOf(err) != c.kind || (c.kind == 0) != (err == nil) {
				t.Fatalf("err = %v (kind %d), want kind %d", err, kindOf(err), c.kind)
			}
			if c.message != "" && err.Error() != c.message {
				t.Fatalf("message %q, want %q", err, c.message)
			}
		})
	}
}

func TestRequestsTimeOutAndFailAfterShutdown(t *testing.T) {
	h := newIdleHerder(t) // never run: nothing serves its queue
	saved := requestTimeout
	requestTimeout = 50 * time.Millisecond
	defer func() { requestTimeout = saved }()

	_, err := h.ConnectorInfo(context.Background(), "x")
	if kindOf(err) != KindTimeout || err.Error() != "Request timed out" {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.TaskConfigs(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	h.closeQueue()
	if err := h.DeleteConnector(context.Background(), "x"); err == nil || err.Error() != "Worker is shutting down" {
		t.Fatalf("after shutdown: %v", err)
	}
	// Reads from local views do not need the herder goroutine.
	if names, err := h.Connectors(context.Background()); err != nil || len(names) != 0 {
		t.Fatalf("connectors: %v %v", names, err)
	}
	if _, err := h.ConnectorStatus(context.Background(), "x"); kindOf(err) != KindNotFound || err.Error() != "No status found for connector x" {
		t.Fatalf("status: %v", err)
	}
	if _, err := h.TaskStatus(context.Background(), storage.ConnectorTaskID{Connector: "x", Task: 3}); err == nil || err.Error() != "No status found for task x-3" {
		t.Fatalf("task status: %v", err)
	}
}

func TestTopicTrackingSwitches(t *testing.T) {
	ctx := context.Background()
	off := newIdleHerder(t, "topic.tracking.enable", "false")
	if _, err := off.ConnectorTopics(ctx, "x"); kindOf(err) != KindForbidden || err.Error() != "Topic tracking is disabled." {
		t.Errorf("topics: %v", err)
	}
	if err := off.ResetConnectorTopics(ctx, "x"); kindOf(err) != KindForbidden || err.Error() != "Topic tracking is disabled." {
		t.Errorf("reset: %v", err)
	}
	noReset := newIdleHerder(t, "topic.tracking.allow.reset", "false")
	if topics, err := noReset.ConnectorTopics(ctx, "x"); err != nil || len(topics) != 0 {
		t.Errorf("topics: %v %v", topics, err)
	}
	if err := noReset.ResetConnectorTopics(ctx, "x"); kindOf(err) != KindForbidden || err.Error() != "Topic tracking reset is disabled." {
		t.Errorf("reset: %v", err)
	}
}

// TestClusterAnswersWhileRebalancePending: a worker that cannot join keeps answering, and
// requests that need a settled group get the conflict or rebalance error Java gives.
func TestClusterAnswersWhileRebalancePending(t *testing.T) {
	c := newTestCluster(t)
	fault := c.kafka.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Group: "kconnect-test", Err: kerr.UnknownServerError, Count: -1})
	w := c.launch()
	ctx := context.Background()
	waitFor(t, 30*time.Second, "a refused join", func() error {
		if fault.Hits() == 0 {
			return errors.New("no join yet")
		}
		return nil
	})
	if _, err := w.h.ConnectorInfo(ctx, "x"); kindOf(err) != KindRebalanceNeeded || err.Error() != "Request cannot be completed because a rebalance is expected" {
		t.Errorf("read: %v", err)
	}
	if _, err := w.h.TaskConfigs(ctx, "x"); kindOf(err) != KindRebalanceNeeded {
		t.Errorf("task configs: %v", err)
	}
	if _, err := w.h.RestartConnector(ctx, "x", false, false); kindOf(err) != KindConflict || err.Error() != msgStaleConfig {
		t.Errorf("restart: %v", err)
	}
	if err := w.h.RestartTask(ctx, storage.ConnectorTaskID{Connector: "x"}); kindOf(err) != KindConflict {
		t.Errorf("restart task: %v", err)
	}
	_, _, err := w.h.PutConnectorConfig(ctx, "x", sinkConfig("x"), false, nil)
	var redirect *RedirectError
	if !errors.As(err, &redirect) || redirect.TargetURL != "" {
		t.Errorf("write without a known leader: %v", err)
	}
	select {
	case <-w.h.Ready():
		t.Fatal("ready without joining")
	default:
	}
	fault.Remove()
	w.waitReady(t)
	if _, _, err := w.h.PutConnectorConfig(ctx, "x", sinkConfig("x"), false, nil); err != nil {
		t.Fatalf("create once joined: %v", err)
	}
}

func TestClusterInitialStatesAndProtocolDowngrade(t *testing.T) {
	c := newTestCluster(t)
	w1 := c.start()
	ctx := context.Background()
	paused, stopped := storage.Paused, storage.Stopped
	for name, initial := range map[string]*storage.TargetState{"starts-paused": &paused, "starts-stopped": &stopped} {
		if err := c.doRetry(w1.h, func(h *Herder) error {
			_, _, err := h.PutConnectorConfig(ctx, name, sinkConfig(name), false, initial)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Connectors created paused or stopped generate no tasks until resumed.
	expectStatus(t, w1.h, "starts-paused", storage.StatePaused)
	expectStatus(t, w1.h, "starts-stopped", storage.StateStopped)
	if info, err := w1.h.ConnectorInfo(ctx, "starts-paused"); err != nil || len(info.Tasks) != 0 {
		t.Fatalf("paused at creation: %+v %v", info, err)
	}
	for _, name := range []string{"starts-paused", "starts-stopped"} {
		if err := w1.h.ResumeConnector(ctx, name); err != nil {
			t.Fatal(err)
		}
		expectStatus(t, w1.h, name, storage.Running, storage.Running, storage.Running)
	}

	// A worker offering only the eager protocol downgrades the group; work is spread anew.
	w2 := c.launch("connect.protocol", "eager")
	w2.waitReady(t)
	protocolOf := func(h *Herder) string {
		var p string
		_ = h.call(ctx, func(context.Context) error { p = h.st.protocol; return nil })
		return p
	}
	waitFor(t, 30*time.Second, "eager protocol on both workers", func() error {
		if p1, p2 := protocolOf(w1.h), protocolOf(w2.h); p1 != subprotocolDefault || p2 != subprotocolDefault {
			return fmt.Errorf("protocols %q %q", p1, p2)
		}
		return nil
	})
	waitFor(t, 30*time.Second, "work on both workers", func() error {
		seen := map[string]bool{}
		for _, name := range []string{"starts-paused", "starts-stopped"} {
			st, err := w1.h.ConnectorStatus(ctx, name)
			if err != nil {
				return err
			}
			for _, ts := range append(st.Tasks, TaskState{InstanceState: st.Connector}) {
				if ts.State != storage.Running {
					return fmt.Errorf("%s: %+v", name, ts)
				}
				seen[ts.WorkerID] = true
			}
		}
		if len(seen) != 2 {
			return fmt.Errorf("work on %v", seen)
		}
		return nil
	})

	// Once the eager worker leaves, the group goes back to the sessioned protocol.
	w2.stop()
	waitFor(t, 30*time.Second, "sessioned protocol again", func() error {
		if p := protocolOf(w1.h); p != subprotocolSessioned {
			return fmt.Errorf("protocol %q", p)
		}
		return nil
	})
	expectStatus(t, w1.h, "starts-paused", storage.Running, storage.Running, storage.Running)
	expectStatus(t, w1.h, "starts-stopped", storage.Running, storage.Running, storage.Running)
}

// TestClusterAbandonsAHungConnector: a connector whose Stop never returns is abandoned after
// task.shutdown.graceful.timeout.ms, so the herder keeps working, and its late statuses are
// ignored.
func TestClusterAbandonsAHungConnector(t *testing.T) {
	c := newTestCluster(t, "task.shutdown.graceful.timeout.ms", "200")
	release := blockStops("hung")
	defer release()
	w := c.start()
	ctx := context.Background()
	if err := c.doRetry(w.h, func(h *Herder) error {
		_, _, err := h.PutConnectorConfig(ctx, "hangs", sinkConfig("hangs", "test.block.stop", "hung"), false, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, w.h, "hangs", storage.Running, storage.Running, storage.Running)
	before := connectorStarts("hangs")
	start := time.Now()
	if err := c.doRetry(w.h, func(h *Herder) error { _, err := h.RestartConnector(ctx, "hangs", false, false); return err }); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("restart returned after %v, before the shutdown timeout", d)
	}
	waitFor(t, 10*time.Second, "a new connector instance", func() error {
		if got := connectorStarts("hangs"); got != before+1 {
			return fmt.Errorf("starts %d, want %d", got, before+1)
		}
		return nil
	})
	// The herder still answers, and the new instance runs.
	if _, err := w.h.ConnectorInfo(ctx, "hangs"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, w.h, "hangs", storage.Running, storage.Running, storage.Running)

	// Once the abandoned instance finally stops, its UNASSIGNED status is not written.
	release()
	if !waitTimeout(&w.h.abandoned, 10*time.Second) {
		t.Fatal("the abandoned instance never finished")
	}
	if err := w.h.statusStore().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := w.h.ConnectorStatus(ctx, "hangs"); err != nil || st.Connector.State != storage.Running {
		t.Fatalf("status after the abandoned instance stopped: %+v %v", st, err)
	}
}

func TestPerformAssignment(t *testing.T) {
	ctx := context.Background()
	cs := storage.NewMemoryConfigStore()
	if err := cs.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	stale := cs.Snapshot()
	if err := cs.PutConnectorConfig(ctx, "c1", sinkConfig("c1"), nil); err != nil {
		t.Fatal(err)
	}
	if err := cs.PutTaskConfigs(ctx, "c1", []map[string]string{{}, {}}); err != nil {
		t.Fatal(err)
	}
	fresh := cs.Snapshot()
	newHerder := func(joinSnap *storage.Snapshot) *Herder {
		h := newIdleHerder(t)
		h.stores.Store(&stores{config: cs, status: storage.NewMemoryStatusStore()})
		h.st = herderState{assignor: newCooperativeAssignor(0), joinSnap: joinSnap, lastCompletedGeneration: -1}
		return h
	}
	meta := func(version int16, url string, offset int64) []byte {
		return encodeMetadata(memberMetadata{Version: version, URL: url, ConfigOffset: offset})
	}
	decodeAll := func(t *testing.T, out map[string][]byte) map[string]assignment {
		t.Helper()
		res := map[string]assignment{}
		for id, b := range out {
			a, err := decodeAssignment(b)
			if err != nil {
				t.Fatal(err)
			}
			res[id] = a
		}
		return res
	}
	total := func(as map[string]assignment) workSet {
		var all []workSet
		for _, a := range as {
			all = append(all, newWorkSet(a.Connectors, a.Tasks))
		}
		return union(all...)
	}
	want := newWorkSet([]string{"c1"}, []storage.ConnectorTaskID{tid("c1", 0), tid("c1", 1)})

	t.Run("sessioned", func(t *testing.T) {
		h := newHerder(fresh)
		out, err := h.performAssignment(ctx, subprotocolSessioned, "L", 4, []GroupMember{
			{ID: "L", Metadata: meta(2, "http://l:1/", fresh.Offset)}, {ID: "F", Metadata: meta(2, "http://f:1/", fresh.Offset)}})
		if err != nil {
			t.Fatal(err)
		}
		as := decodeAll(t, out)
		for id, a := range as {
			if a.Version != 2 || a.Leader != "L" || a.LeaderURL != "http://l:1/" || a.ConfigOffset != fresh.Offset || a.failed() {
				t.Errorf("%s: %+v", id, a)
			}
		}
		if got := total(as); !reflect.DeepEqual(got, want) {
			t.Errorf("assigned %+v", got)
		}
		if h.st.pendingOwners.connectorURL("c1") == "" {
			t.Error("the leader does not know who runs c1")
		}
	})
	t.Run("eager", func(t *testing.T) {
		h := newHerder(fresh)
		out, err := h.performAssignment(ctx, subprotocolDefault, "L", 4, []GroupMember{
			{ID: "L", Metadata: meta(0, "http://l:1/", fresh.Offset)}, {ID: "F", Metadata: meta(0, "http://f:1/", fresh.Offset)}})
		if err != nil {
			t.Fatal(err)
		}
		as := decodeAll(t, out)
		if as["F"].Version != 0 || !reflect.DeepEqual(total(as), want) {
			t.Errorf("assignments %+v", as)
		}
	})
	t.Run("leader behind a member", func(t *testing.T) {
		h := newHerder(fresh)
		out, err := h.performAssignment(ctx, subprotocolSessioned, "L", 4, []GroupMember{
			{ID: "L", Metadata: meta(2, "http://l:1/", fresh.Offset)}, {ID: "F", Metadata: meta(2, "http://f:1/", fresh.Offset+5)}})
		if err != nil {
			t.Fatal(err)
		}
		for id, a := range decodeAll(t, out) {
			if a.Error != assignmentConfigMismatch || a.ConfigOffset != fresh.Offset+5 || len(a.Connectors)+len(a.Tasks) != 0 {
				t.Errorf("%s: %+v", id, a)
			}
		}
	})
	t.Run("leader catches up from a fresh snapshot", func(t *testing.T) {
		h := newHerder(stale)
		out, err := h.performAssignment(ctx, subprotocolSessioned, "L", 4, []GroupMember{
			{ID: "L", Metadata: meta(2, "http://l:1/", stale.Offset)}, {ID: "F", Metadata: meta(2, "http://f:1/", fresh.Offset)}})
		if err != nil {
			t.Fatal(err)
		}
		as := decodeAll(t, out)
		if as["L"].failed() || as["L"].ConfigOffset != fresh.Offset || !reflect.DeepEqual(total(as), want) {
			t.Errorf("assignments %+v", as)
		}
	})
	t.Run("unreadable metadata", func(t *testing.T) {
		h := newHerder(fresh)
		if _, err := h.performAssignment(ctx, subprotocolSessioned, "L", 4, []GroupMember{{ID: "L", Metadata: []byte{0xff}}}); err == nil {
			t.Error("want an error")
		}
	})
}

func TestClusterFailuresAndRestartOnlyFailed(t *testing.T) {
	c := newTestCluster(t)
	w := c.start()
	ctx := context.Background()
	create := func(name string, kv ...string) {
		t.Helper()
		if err := c.doRetry(w.h, func(h *Herder) error {
			_, _, err := h.PutConnectorConfig(ctx, name, sinkConfig(name, kv...), false, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	create("bad-start", "test.fail.start", "true")
	st := expectStatus(t, w.h, "bad-start", storage.Failed)
	if !strings.Contains(st.Connector.Trace, "the test connector was told to fail") || st.Connector.WorkerID != w.h.WorkerID() {
		t.Errorf("failed connector status %+v", st.Connector)
	}

	create("bad-task", "test.fail.task", "1")
	st = expectStatus(t, w.h, "bad-task", storage.Running, storage.Running, storage.Failed)
	if !strings.Contains(st.Tasks[1].Trace, "the test task was told to fail") {
		t.Errorf("failed task trace %q", st.Tasks[1].Trace)
	}
	starts, taskStarts := connectorStarts("bad-task"), connectorStarts("bad-task-1")
	if got := connectorStarts("bad-task#logger"); got != connectorStarts("bad-task#attempts") || got == 0 {
		t.Errorf("the connector was started %d times with the worker's logger, of %d starts", got, connectorStarts("bad-task#attempts"))
	}
	var plan *ConnectorState
	if err := c.doRetry(w.h, func(h *Herder) error {
		var err error
		plan, err = h.RestartConnector(ctx, "bad-task", true, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Only the failed task restarts; the running connector and task keep their state.
	if plan.Connector.State != storage.Running || plan.Tasks[0].State != storage.Running || plan.Tasks[1].State != storage.Restarting || plan.Type != "sink" {
		t.Fatalf("plan %+v", plan)
	}
	waitFor(t, 10*time.Second, "the failed task restarted", func() error {
		if n := connectorStarts("bad-task-1"); n != taskStarts+1 {
			return fmt.Errorf("task started %d times, was %d", n, taskStarts)
		}
		return nil
	})
	expectStatus(t, w.h, "bad-task", storage.Running, storage.Running, storage.Failed)
	if got := connectorStarts("bad-task"); got != starts {
		t.Errorf("the connector restarted (%d starts, was %d)", got, starts)
	}

	// Restarting the failed connector alone (onlyFailed) restarts it; it fails again.
	attempts := connectorStarts("bad-start#attempts")
	if err := c.doRetry(w.h, func(h *Herder) error {
		var err error
		plan, err = h.RestartConnector(ctx, "bad-start", false, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if plan.Connector.State != storage.Restarting || len(plan.Tasks) != 0 {
		t.Fatalf("plan %+v", plan)
	}
	waitFor(t, 10*time.Second, "the failed connector restarted", func() error {
		if n := connectorStarts("bad-start#attempts"); n != attempts+1 {
			return fmt.Errorf("%d start attempts, was %d", n, attempts)
		}
		return nil
	})
	expectStatus(t, w.h, "bad-start", storage.Failed)
}
