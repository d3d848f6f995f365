package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newFakeKafka(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100 * time.Millisecond)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

type testMember struct {
	*Member
	name   string
	client *kgo.Client
}

func newTestMember(t *testing.T, c *kfake.Cluster, group, name string) *testMember {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ClientID(name))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMember(MemberConfig{Client: cl, Group: group, SessionTimeout: 2 * time.Second, RebalanceTimeout: 5 * time.Second, HeartbeatInterval: 50 * time.Millisecond})
	t.Cleanup(func() {
		m.Close()
		cl.Close()
	})
	return &testMember{Member: m, name: name, client: cl}
}

// joinAs joins offering one protocol whose metadata is the member's name; as leader it
// assigns each member the sorted list of all member names and its own id.
func (m *testMember) join(ctx context.Context) (JoinResult, error) {
	protos := []JoinProtocol{{Name: "sessioned", Metadata: []byte(m.name)}, {Name: "default", Metadata: []byte(m.name + "-v0")}}
	return m.Join(ctx, protos, func(_ context.Context, protocol, leader string, gen int32, ms []GroupMember) (map[string][]byte, error) {
		var names []string
		for _, x := range ms {
			names = append(names, string(x.Metadata))
		}
		sort.Strings(names)
		out := map[string][]byte{}
		for _, x := range ms {
			out[x.ID] = []byte(fmt.Sprintf("%s|%d|%s|%s", protocol, gen, strings.Join(names, ","), x.ID))
		}
		return out, nil
	})
}

func within(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func waitRejoin(t *testing.T, m *testMember) {
	t.Helper()
	select {
	case <-m.RejoinNeeded():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s was not asked to rejoin", m.name)
	}
}

func TestMemberJoinRebalanceLeave(t *testing.T) {
	c := newFakeKafka(t)
	a := newTestMember(t, c, "workers", "a")
	ctx := within(t, 30*time.Second)

	res, err := a.join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.LeaderID != res.MemberID || res.Protocol != "sessioned" || res.Generation != 1 {
		t.Fatalf("first join: %+v", res)
	}
	if want := fmt.Sprintf("sessioned|1|a|%s", res.MemberID); string(res.Assignment) != want {
		t.Fatalf("assignment %q, want %q", res.Assignment, want)
	}
	if !strings.HasPrefix(res.MemberID, "a-") {
		t.Errorf("member id %q should start with the client id", res.MemberID)
	}

	// A second member forces a new generation; the first hears of it by heartbeat.
	b := newTestMember(t, c, "workers", "b")
	var wg sync.WaitGroup
	var bRes JoinResult
	var bErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		bRes, bErr = b.join(ctx)
	}()
	waitRejoin(t, a)
	aRes, err := a.join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if bErr != nil {
		t.Fatal(bErr)
	}
	if aRes.Generation != bRes.Generation || aRes.Generation < 2 {
		t.Fatalf("generations a=%d b=%d", aRes.Generation, bRes.Generation)
	}
	if aRes.LeaderID != bRes.LeaderID {
		t.Fatalf("leaders differ: %s / %s", aRes.LeaderID, bRes.LeaderID)
	}
	for _, r := range []JoinResult{aRes, bRes} {
		if want := fmt.Sprintf("sessioned|%d|a,b|%s", r.Generation, r.MemberID); string(r.Assignment) != want {
			t.Errorf("assignment %q, want %q", r.Assignment, want)
		}
	}

	// b leaves; a rebalances alone.
	if err := b.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitRejoin(t, a)
	aRes2, err := a.join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if aRes2.Generation <= aRes.Generation || aRes2.LeaderID != aRes2.MemberID {
		t.Fatalf("after leave: %+v", aRes2)
	}
	if want := fmt.Sprintf("sessioned|%d|a|%s", aRes2.Generation, aRes2.MemberID); string(aRes2.Assignment) != want {
		t.Fatalf("assignment %q, want %q", aRes2.Assignment, want)
	}
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitForGroupState(t, c, a.client, "workers", "Empty")
}

func waitForGroupState(t *testing.T, _ *kfake.Cluster, cl *kgo.Client, group, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Groups = []string{group}
		resp, err := req.RequestWith(context.Background(), cl)
		if err == nil && len(resp.Groups) == 1 && resp.Groups[0].State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s never reached state %s (last: %+v, %v)", group, state, resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMemberRecoversFromCoordinatorErrors(t *testing.T) {
	cases := []struct {
		name  string
		fault kfake.Fault
	}{
		{"join: coordinator not available", kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Group: "g", Err: kerr.CoordinatorNotAvailable, Count: 3}},
		{"join: not coordinator", kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Group: "g", Err: kerr.NotCoordinator, Count: 2}},
		{"join: unknown member", kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Group: "g", Err: kerr.UnknownMemberID, Count: 1}},
		{"join: broker error", kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Group: "g", Err: kerr.UnknownServerError, Count: 2}},
		{"sync: rebalance in progress", kfake.Fault{Keys: []kmsg.Key{kmsg.SyncGroup}, Group: "g", Err: kerr.RebalanceInProgress, Count: 1}},
		{"sync: illegal generation", kfake.Fault{Keys: []kmsg.Key{kmsg.SyncGroup}, Group: "g", Err: kerr.IllegalGeneration, Count: 1}},
		{"sync: unknown member", kfake.Fault{Keys: []kmsg.Key{kmsg.SyncGroup}, Group: "g", Err: kerr.UnknownMemberID, Count: 1}},
		{"sync: coordinator load in progress", kfake.Fault{Keys: []kmsg.Key{kmsg.SyncGroup}, Group: "g", Err: kerr.CoordinatorLoadInProgress, Count: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeKafka(t)
			m := newTestMember(t, c, "g", "m")
			ctx := within(t, 30*time.Second)
			h := c.Fault(tc.fault)
			res, err := m.join(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h.Hits() < 1 {
				t.Fatalf("the fault never hit")
			}
			if res.LeaderID != res.MemberID || len(res.Assignment) == 0 {
				t.Fatalf("join result %+v", res)
			}
		})
	}
}

func TestMemberHeartbeatErrorsAskForRejoin(t *testing.T) {
	for _, e := range []*kerr.Error{kerr.UnknownMemberID, kerr.IllegalGeneration, kerr.RebalanceInProgress} {
		t.Run(e.Message, func(t *testing.T) {
			c := newFakeKafka(t)
			m := newTestMember(t, c, "g", "m")
			ctx := within(t, 30*time.Second)
			first, err := m.join(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Heartbeat}, Group: "g", Err: e, Count: 1})
			waitRejoin(t, m)
			again, err := m.join(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if again.Generation <= first.Generation {
				t.Fatalf("rejoin kept generation %d", again.Generation)
			}
		})
	}
}

func TestMemberFatalJoinErrors(t *testing.T) {
	c := newFakeKafka(t)
	// A consumer group member fixes the group's protocol type; a Connect worker cannot join.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = "taken", "consumer", 2000, 2000
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = "range"
	join.Protocols = append(join.Protocols, p)
	for i := 0; i < 2; i++ { // MEMBER_ID_REQUIRED, then the real join
		resp, err := join.RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		join.MemberID = resp.MemberID
	}
	m := newTestMember(t, c, "taken", "w")
	_, err = m.join(within(t, 10*time.Second))
	if !errors.Is(err, errGroupFatal) || !errors.Is(err, kerr.InconsistentGroupProtocol) {
		t.Fatalf("err = %v, want a fatal INCONSISTENT_GROUP_PROTOCOL", err)
	}
}

func TestMemberJoinStopsWithContext(t *testing.T) {
	c := newFakeKafka(t)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Group: "g", Err: kerr.UnknownServerError, Count: -1})
	m := newTestMember(t, c, "g", "m")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := m.join(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
