package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Member is this worker's membership in the worker group (Java's WorkerGroupMember and the
// classic-group half of WorkerCoordinator). It speaks JoinGroup, SyncGroup, Heartbeat and
// LeaveGroup with protocol type "connect" through a kgo client, which routes the requests to
// the group coordinator and follows coordinator moves.
//
// Join runs one rebalance on the caller's goroutine (the herder's) and returns the assignment
// bytes; the leader computes every member's assignment in a callback on that same goroutine.
// The member owns one heartbeat goroutine, started by the first successful Join and stopped by
// Close; it reports through RejoinNeeded when the coordinator asks for a rebalance or stops
// recognising the member.
type Member struct {
	client            *kgo.Client
	group             string
	sessionTimeout    time.Duration
	rebalanceTimeout  time.Duration
	heartbeatInterval time.Duration
	log               *slog.Logger

	rejoin chan struct{} // one pending signal at most

	mu         sync.Mutex
	memberID   string
	generation int32
	joining    bool // heartbeat answers are ignored while a join is in flight
	hbCancel   context.CancelFunc
	hbDone     chan struct{}
	closed     bool
}

// MemberConfig configures a Member.
type MemberConfig struct {
	Client            *kgo.Client // not owned by the member
	Group             string
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	HeartbeatInterval time.Duration
	Logger            *slog.Logger
}

// NewMember returns a member that has not joined yet.
func NewMember(c MemberConfig) *Member {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Member{
		client:            c.Client,
		group:             c.Group,
		sessionTimeout:    c.SessionTimeout,
		rebalanceTimeout:  c.RebalanceTimeout,
		heartbeatInterval: c.HeartbeatInterval,
		log:               log,
		rejoin:            make(chan struct{}, 1),
		generation:        -1,
	}
}

// JoinProtocol is one sub-protocol offered in JoinGroup, most preferred first.
type JoinProtocol struct {
	Name     string
	Metadata []byte
}

// GroupMember is a member of the group as the leader sees it after JoinGroup.
type GroupMember struct {
	ID       string
	Metadata []byte // of the chosen protocol
}

// AssignFunc computes every member's assignment; it is called on the leader only, on the
// goroutine that called Join. An error aborts the round (Join returns it).
type AssignFunc func(ctx context.Context, protocol, leaderID string, generation int32, members []GroupMember) (map[string][]byte, error)

// JoinResult is a completed rebalance.
type JoinResult struct {
	MemberID   string
	Generation int32
	Protocol   string
	LeaderID   string
	Assignment []byte
}

// errGroupFatal marks join errors that retrying cannot fix (the worker is misconfigured or not
// authorised); the herder logs them and keeps retrying slowly.
var errGroupFatal = errors.New("cannot join the worker group")

// RejoinNeeded returns a channel that receives a value when the coordinator asked for a
// rebalance or no longer recognises this member.
func (m *Member) RejoinNeeded() <-chan struct{} { return m.rejoin }

func (m *Member) signalRejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// ID returns the member id and generation of the last completed join.
func (m *Member) ID() (string, int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.memberID, m.generation
}

// Join joins the group (or rejoins it) offering protocols, and returns once this member has an
// assignment of a new generation. It retries failures with backoff for up to a session
// timeout, since the coordinator has most likely dropped a member that could not rejoin for
// that long, then returns the last error; errors retrying cannot fix return at once.
func (m *Member) Join(ctx context.Context, protocols []JoinProtocol, assign AssignFunc) (JoinResult, error) {
	m.mu.Lock()
	m.joining = true
	select { // a request for a rebalance is answered by this one
	case <-m.rejoin:
	default:
	}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.joining = false
		m.mu.Unlock()
	}()

	backoff := newBackoff(100*time.Millisecond, 5*time.Second)
	giveUp := time.Now().Add(m.sessionTimeout)
	for {
		if err := ctx.Err(); err != nil {
			return JoinResult{}, err
		}
		res, retry, err := m.joinOnce(ctx, protocols, assign)
		if err == nil {
			m.startHeartbeats()
			return res, nil
		}
		if ctx.Err() != nil {
			return JoinResult{}, ctx.Err()
		}
		if errors.Is(err, errGroupFatal) {
			return JoinResult{}, err
		}
		if retry {
			continue // a protocol step that asks to rejoin at once
		}
		if time.Now().After(giveUp) {
			return JoinResult{}, err
		}
		d := backoff.next()
		m.log.Warn("joining the worker group failed; retrying", "group", m.group, "backoff", d, "error", err)
		if !sleepCtx(ctx, d) {
			return JoinResult{}, ctx.Err()
		}
	}
}

// joinOnce runs JoinGroup and SyncGroup once. retry reports an error after which the member
// should rejoin immediately.
func (m *Member) joinOnce(ctx context.Context, protocols []JoinProtocol, assign AssignFunc) (res JoinResult, retry bool, err error) {
	m.mu.Lock()
	memberID := m.memberID
	m.mu.Unlock()

	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = m.group
	join.SessionTimeoutMillis = int32(m.sessionTimeout.Milliseconds())
	join.RebalanceTimeoutMillis = int32(m.rebalanceTimeout.Milliseconds())
	join.MemberID = memberID
	join.ProtocolType = connectProtocolType
	for _, p := range protocols {
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name = p.Name
		jp.Metadata = p.Metadata
		join.Protocols = append(join.Protocols, jp)
	}
	joinResp, err := join.RequestWith(ctx, m.client)
	if err != nil {
		return res, false, fmt.Errorf("join group: %w", err)
	}
	if err := kerr.ErrorForCode(joinResp.ErrorCode); err != nil {
		switch {
		case errors.Is(err, kerr.MemberIDRequired):
			m.setIdentity(joinResp.MemberID, -1)
			return res, true, err
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.setIdentity("", -1)
			return res, true, err
		case errors.Is(err, kerr.RebalanceInProgress):
			return res, true, err
		case errors.Is(err, kerr.InconsistentGroupProtocol), errors.Is(err, kerr.InvalidSessionTimeout),
			errors.Is(err, kerr.GroupAuthorizationFailed), errors.Is(err, kerr.InvalidGroupID),
			errors.Is(err, kerr.GroupMaxSizeReached), errors.Is(err, kerr.UnsupportedVersion):
			return res, false, fmt.Errorf("%w %s: %w", errGroupFatal, m.group, err)
		}
		return res, false, fmt.Errorf("join group: %w", err)
	}
	m.setIdentity(joinResp.MemberID, joinResp.Generation)
	protocol := ""
	if joinResp.Protocol != nil {
		protocol = *joinResp.Protocol
	}

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group = m.group
	sync.Generation = joinResp.Generation
	sync.MemberID = joinResp.MemberID
	sync.ProtocolType = kmsg.StringPtr(connectProtocolType)
	sync.Protocol = kmsg.StringPtr(protocol)
	if joinResp.LeaderID == joinResp.MemberID {
		members := make([]GroupMember, 0, len(joinResp.Members))
		for _, jm := range joinResp.Members {
			members = append(members, GroupMember{ID: jm.MemberID, Metadata: jm.ProtocolMetadata})
		}
		assignments, err := assign(ctx, protocol, joinResp.LeaderID, joinResp.Generation, members)
		if err != nil {
			return res, false, fmt.Errorf("computing the group assignment: %w", err)
		}
		for _, jm := range members {
			a := kmsg.NewSyncGroupRequestGroupAssignment()
			a.MemberID = jm.ID
			a.MemberAssignment = assignments[jm.ID]
			sync.GroupAssignment = append(sync.GroupAssignment, a)
		}
	}
	syncResp, err := sync.RequestWith(ctx, m.client)
	if err != nil {
		return res, false, fmt.Errorf("sync group: %w", err)
	}
	if err := kerr.ErrorForCode(syncResp.ErrorCode); err != nil {
		switch {
		case errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration):
			return res, true, err
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.setIdentity("", -1)
			return res, true, err
		case errors.Is(err, kerr.GroupAuthorizationFailed), errors.Is(err, kerr.InconsistentGroupProtocol):
			return res, false, fmt.Errorf("%w %s: %w", errGroupFatal, m.group, err)
		}
		return res, false, fmt.Errorf("sync group: %w", err)
	}
	return JoinResult{
		MemberID:   joinResp.MemberID,
		Generation: joinResp.Generation,
		Protocol:   protocol,
		LeaderID:   joinResp.LeaderID,
		Assignment: syncResp.MemberAssignment,
	}, false, nil
}

func (m *Member) setIdentity(id string, generation int32) {
	m.mu.Lock()
	m.memberID, m.generation = id, generation
	m.mu.Unlock()
}

func (m *Member) startHeartbeats() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hbCancel != nil || m.closed {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.hbCancel = cancel
	m.hbDone = make(chan struct{})
	go m.heartbeat(ctx, m.hbDone)
}

// heartbeat keeps the session alive. It keeps beating during a rejoin too: the coordinator
// answers REBALANCE_IN_PROGRESS, which is ignored while a join is in flight, and the session of
// a member waiting for slower members stays alive. Failing to reach the coordinator for a whole
// session timeout asks for a rejoin, as the coordinator has likely dropped the member.
func (m *Member) heartbeat(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(m.heartbeatInterval)
	defer t.Stop()
	var failingSince time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		id, gen := m.memberID, m.generation
		m.mu.Unlock()
		if id == "" {
			continue
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group = m.group
		req.MemberID = id
		req.Generation = gen
		rctx, cancel := context.WithTimeout(ctx, m.sessionTimeout)
		resp, err := req.RequestWith(rctx, m.client)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		m.mu.Lock()
		joining := m.joining
		m.mu.Unlock()
		switch {
		case err == nil:
			failingSince = time.Time{}
		case errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration),
			errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			failingSince = time.Time{}
			if !joining {
				m.log.Debug("the group coordinator asks for a rebalance", "group", m.group, "reason", err)
				m.signalRejoin()
			}
		default:
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			m.log.Debug("heartbeat failed", "group", m.group, "error", err)
			if !joining && time.Since(failingSince) >= m.sessionTimeout {
				m.log.Warn("the group coordinator was unreachable for a session timeout; rejoining", "group", m.group, "error", err)
				failingSince = time.Time{}
				m.signalRejoin()
			}
		}
	}
}

// Leave leaves the group so the others rebalance at once instead of after a session timeout.
func (m *Member) Leave(ctx context.Context) error {
	m.stopHeartbeats()
	m.mu.Lock()
	id := m.memberID
	m.memberID, m.generation = "", -1
	m.mu.Unlock()
	if id == "" {
		return nil
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = m.group
	req.MemberID = id
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = id
	lm.Reason = kmsg.StringPtr("the worker is shutting down")
	req.Members = append(req.Members, lm)
	resp, err := req.RequestWith(ctx, m.client)
	if err != nil {
		return fmt.Errorf("leave group: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("leave group: %w", err)
	}
	for _, r := range resp.Members {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil && !errors.Is(err, kerr.UnknownMemberID) {
			return fmt.Errorf("leave group: %w", err)
		}
	}
	return nil
}

func (m *Member) stopHeartbeats() {
	m.mu.Lock()
	cancel, done := m.hbCancel, m.hbDone
	m.hbCancel, m.hbDone = nil, nil
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Close stops the heartbeat goroutine and waits for it. It does not leave the group; call
// Leave first for a clean departure. Close is idempotent.
func (m *Member) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.stopHeartbeats()
}

// backoff is an exponential backoff with a ceiling.
type backoff struct {
	cur, max time.Duration
}

func newBackoff(initial, max time.Duration) *backoff { return &backoff{cur: initial, max: max} }

func (b *backoff) next() time.Duration {
	d := b.cur
	b.cur *= 2
	if b.cur > b.max {
		b.cur = b.max
	}
	return d
}

// sleepCtx waits for d or until ctx ends; it reports whether the full d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
