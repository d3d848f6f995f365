package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/storage"
)

// Start-up. Before it can join the worker group a worker must create or check the internal
// topics and read the config and status topics to their ends. Kafka is often not there yet
// (containers start together, a broker restarts), so the worker waits for it: every failure
// that may go away by itself is retried with a growing delay (startBackoffMin doubling to
// startBackoffMax), each wait logged with its cause. Only what waiting cannot fix ends Run at
// once: credentials the broker refused, missing permissions, TLS that cannot be established
// with these settings, and internal topics or topic settings the worker must not use.

// Start-up retry delays. Tests shorten them.
var (
	startBackoffMin = 500 * time.Millisecond
	startBackoffMax = 30 * time.Second
)

// connectKafka creates or checks the internal topics, reads the Kafka cluster id and starts
// the stores, waiting for Kafka as the comment above describes. It returns ctx's error if ctx
// ends first.
func (h *Herder) connectKafka(ctx context.Context, adm *kadm.Client, base []kgo.Opt, idBase string) (*stores, error) {
	specs := h.topicSpecs()
	b := newBackoff(startBackoffMin, startBackoffMax)
	for attempt := 1; ; attempt++ {
		st, err := h.connectOnce(ctx, adm, specs, base, idBase)
		if err == nil {
			if attempt > 1 {
				h.log.Info("Kafka is reachable; the worker carries on starting", "attempts", attempt)
			}
			return st, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if fatalAtStartup(err) {
			return nil, err
		}
		d := b.next()
		h.log.Warn("waiting for Kafka before the worker can start", "error", err, "attempt", attempt, "retry_in", d)
		endStage := h.beginStage("waiting for Kafka to become reachable (last error: " + err.Error() + ")")
		slept := sleepCtx(ctx, d)
		endStage()
		if !slept {
			return nil, ctx.Err()
		}
	}
}

// connectOnce is one attempt of connectKafka.
func (h *Herder) connectOnce(ctx context.Context, adm *kadm.Client, specs []storage.TopicSpec, base []kgo.Opt, idBase string) (*stores, error) {
	endStage := h.beginStage("creating or checking the internal topics")
	err := h.ensureTopics(ctx, adm, specs)
	endStage()
	if err != nil {
		return nil, err
	}
	if md, err := adm.BrokerMetadata(ctx); err == nil {
		id := md.Cluster
		h.clusterID.Store(&id)
	} else if ctx.Err() == nil {
		h.log.Warn("reading the Kafka cluster id failed", "error", err)
	}
	endStage = h.beginStage("reading the config and status topics to their ends")
	defer endStage()
	return h.startStores(ctx, base, idBase)
}

// fatalKafkaErrors are the broker's answers that waiting does not change: the worker's
// credentials or permissions, or settings of the internal topics the broker refuses.
var fatalKafkaErrors = []*kerr.Error{
	kerr.SaslAuthenticationFailed, kerr.UnsupportedSaslMechanism, kerr.IllegalSaslState,
	kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed, kerr.ClusterAuthorizationFailed,
	kerr.TransactionalIDAuthorizationFailed, kerr.DelegationTokenAuthorizationFailed,
	kerr.InvalidTopicException, kerr.InvalidConfig, kerr.PolicyViolation, kerr.InvalidPartitions,
}

// fatalAtStartup reports whether a start-up failure is one waiting cannot fix. Kafka's answers
// are classified by code; TLS failures that depend on the certificates or settings are fatal;
// network failures, timeouts and every other broker error are worth waiting for. An error with
// none of these causes is a verdict of the storage package on an internal topic (not compacted,
// more than one partition for the config topic), which only an operator can change.
func fatalAtStartup(err error) bool {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		for _, f := range fatalKafkaErrors {
			if ke.Code == f.Code {
				return true
			}
		}
		return false
	}
	if tlsMisconfigured(err) {
		return true
	}
	return !transientNetworkError(err)
}

// tlsMisconfigured reports whether err is a TLS handshake that failed because of certificates
// or settings: an unknown or invalid certificate, a name mismatch, an alert from the broker
// (e.g. it wants a client certificate), or a broker port that does not speak TLS.
func tlsMisconfigured(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		alert            tls.AlertError
		record           tls.RecordHeaderError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verification) || errors.As(err, &alert) || errors.As(err, &record)
}

// transientNetworkError reports whether err comes from the network or a timeout: the broker not
// listening or not resolvable yet, a connection cut, a request that took too long.
func transientNetworkError(err error) bool {
	var netErr net.Error
	var sysErr *os.SyscallError
	var firstRead *kgo.ErrFirstReadEOF
	var shards *kadm.ShardErrors
	return errors.As(err, &netErr) || errors.As(err, &sysErr) || errors.As(err, &firstRead) || errors.As(err, &shards) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) || kgo.IsRetryableBrokerErr(err)
}
