package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/kconnect/kconnect/storage"
)

// leadership is the phase during which this worker leads the group. It begins when an
// assignment names this worker leader and ends when the next rebalance starts or the worker
// stops; its context bounds every leader-only write (connector configs and deletions, task
// configs and commits, restart requests, session keys), so a worker that lost the lead stops
// writing as the leader.
type leadership struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (h *Herder) startLeadership() {
	ctx, cancel := context.WithCancel(h.st.runCtx)
	h.st.leader = &leadership{ctx: ctx, cancel: cancel}
	if !h.st.ledBefore {
		h.log.Info("this worker leads the group", "generation", h.st.generation)
	}
	h.st.ledBefore = true
	h.cleanupDeletedStatuses()
}

func (h *Herder) endLeadership() {
	if h.st.leader != nil {
		h.st.leader.cancel()
		h.st.leader = nil
	}
}

// leaderCtx returns the context of a leader write made for a request: done when the request's
// ctx is done or the leadership ends.
func (h *Herder) leaderCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancel(ctx)
	if h.st.leader == nil {
		cancel()
		return out, cancel
	}
	stop := context.AfterFunc(h.st.leader.ctx, cancel)
	return out, func() {
		stop()
		cancel()
	}
}

// cleanupDeletedStatuses tombstones the statuses of connectors that are no longer configured
// and of tasks their connector no longer has (Java's updateDeletedConnectorStatus and
// updateDeletedTaskStatus, run by the leader after each rebalance).
func (h *Herder) cleanupDeletedStatuses() {
	snap := h.configStore().Snapshot()
	ss := h.statusStore()
	gen := h.generation.Load()
	for _, c := range ss.Connectors() {
		if !snap.Contains(c) {
			h.log.Debug("removing statuses of deleted connector", "connector", c)
			for _, t := range ss.Tasks(c) {
				ss.PutTask(storage.TaskStatus{ID: t.ID, State: storage.Destroyed, WorkerID: h.workerID, Generation: gen})
			}
			ss.PutConnector(storage.ConnectorStatus{Connector: c, State: storage.Destroyed, WorkerID: h.workerID, Generation: gen})
			continue
		}
		remaining := map[storage.ConnectorTaskID]bool{}
		for _, t := range snap.Tasks(c) {
			remaining[t] = true
		}
		for _, t := range ss.Tasks(c) {
			if !remaining[t.ID] {
				ss.PutTask(storage.TaskStatus{ID: t.ID, State: storage.Destroyed, WorkerID: h.workerID, Generation: gen})
			}
		}
	}
}

// sessionKeyBytes is the size of generated session keys.
func (h *Herder) sessionKeyBytes() int {
	if h.cfg.cfg.IsNull(cfgKeySize) {
		return 32
	}
	return (h.cfg.cfg.Int(cfgKeySize) + 7) / 8
}

// keyExpiry is when the leader must replace the session key; zero when it need not track one.
func (h *Herder) keyExpiry() time.Time {
	if h.st.protocol != subprotocolSessioned || !h.isLeader() || h.st.sessionKey == nil || h.keyTTL <= 0 {
		return time.Time{}
	}
	return h.st.sessionKey.Created.Add(h.keyTTL)
}

// maybeDistributeSessionKey makes the leader write a new session key when there is none, it
// expired, or its algorithm or size no longer matches the configuration (KIP-507). Followers
// take the key from the config topic.
func (h *Herder) maybeDistributeSessionKey() {
	if h.st.protocol != subprotocolSessioned {
		return
	}
	if h.st.sessionKey == nil && h.st.configState.SessionKey != nil {
		k := *h.st.configState.SessionKey
		h.st.sessionKey = &k
		h.sessionKey.Store(&k)
	}
	if !h.isLeader() || h.st.leader == nil {
		return
	}
	now := time.Now()
	key := h.st.sessionKey
	alg := h.cfg.cfg.String(cfgKeyGenAlgorithm)
	switch {
	case key == nil:
		h.log.Debug("no session key was distributed yet; distributing one")
	case h.keyTTL > 0 && !now.Before(key.Created.Add(h.keyTTL)):
		h.log.Debug("the session key expired; distributing a new one")
	case key.Algorithm != alg || len(key.Key) != h.sessionKeyBytes():
		h.log.Debug("the session key does not match the configured algorithm or size; distributing a new one")
	default:
		return
	}
	raw := make([]byte, h.sessionKeyBytes())
	if _, err := rand.Read(raw); err != nil {
		h.log.Error("generating a session key", "error", err)
		return
	}
	next := storage.SessionKey{Key: raw, Algorithm: alg, Created: now}
	defer h.beginStage("writing a new session key to the config topic")()
	ctx, cancel := h.leaderCtx(h.st.runCtx)
	ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	err := h.configStore().PutSessionKey(ctx, next)
	cancelT()
	cancel()
	if err != nil {
		h.log.Error("distributing a session key", "error", err)
		return
	}
	h.st.sessionKey = &next
	h.sessionKey.Store(&next)
}

// signRequest returns the KIP-507 signature of an internal request body.
func signRequest(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// verifyRequest checks the signature of an internal request when the group runs the sessioned
// protocol (Java's DistributedHerder.putTaskConfigs request validation).
func (h *Herder) verifyRequest(body []byte, signature, algorithm string) error {
	if !h.sessioned.Load() {
		return nil
	}
	if signature == "" || algorithm == "" {
		return errorf(KindBadRequest, msgMissingSignature)
	}
	allowed := h.cfg.cfg.List(cfgVerificationAlgs)
	ok := false
	for _, a := range allowed {
		if a == algorithm {
			ok = true
		}
	}
	if !ok {
		return errorf(KindBadRequest, "This worker does not support the '%s' key signing algorithm used by other workers. "+
			"This worker is currently configured to use: %v. "+
			"Check that all workers' configuration files permit the same set of signature algorithms, "+
			"and correct any misconfigured worker and restart it.", algorithm, allowed)
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return errorf(KindBadRequest, "Illegal base64 signature: %v", err)
	}
	key := h.sessionKey.Load()
	if key == nil {
		return errorf(KindUnavailable, msgNoSessionKey)
	}
	mac := hmac.New(sha256.New, key.Key)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), got) {
		return errorf(KindForbidden, msgInvalidSignature)
	}
	return nil
}
