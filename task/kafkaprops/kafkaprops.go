// Package kafkaprops translates Java Kafka client properties into franz-go client options, so the
// settings users write for Java clients (worker.properties, "consumer.override.*" in connector
// configs) configure kgo clients the same way.
//
// [ClientOpts] is the entry point. It understands the connection and security keys
// (bootstrap.servers, security.protocol, sasl.*, ssl.*), the common client tuning keys and the
// consumer and producer keys a Connect worker uses. A key that would change how a client
// authenticates or encrypts but cannot be honoured (GSSAPI, JKS stores, encrypted PEM keys, ...)
// is an error naming the key; any other unknown key is logged at debug level and ignored, as
// harmless tuning. Error messages never contain passwords or key material.
//
// Keys absent from the map leave kgo's defaults in place, so a partial map (for example a
// connector's consumer overrides) only changes what it names. group.id and enable.auto.commit are
// ignored: whether a client joins a group and how it commits is its owner's decision.
// max.poll.records has no kgo option; it travels in the options and [MaxPollRecords] reads it
// back from the client.
//
// [SSL] reads the PEM key and trust stores, protocol versions and cipher suites of the ssl.*
// settings; the worker's REST API reads its own TLS settings through it too, so both accept and
// refuse the same.
package kafkaprops

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Java client property names understood by [ClientOpts].
const (
	BootstrapServers               = "bootstrap.servers"
	ClientID                       = "client.id"
	ClientRack                     = "client.rack"
	RequestTimeoutMs               = "request.timeout.ms"
	MetadataMaxAgeMs               = "metadata.max.age.ms"
	RetryBackoffMs                 = "retry.backoff.ms"
	RetryBackoffMaxMs              = "retry.backoff.max.ms"
	ConnectionsMaxIdleMs           = "connections.max.idle.ms"
	SocketConnectionSetupTimeoutMs = "socket.connection.setup.timeout.ms"

	MaxPollRecordsConfig        = "max.poll.records"
	FetchMaxBytes               = "fetch.max.bytes"
	FetchMinBytes               = "fetch.min.bytes"
	FetchMaxWaitMs              = "fetch.max.wait.ms"
	MaxPartitionFetchBytes      = "max.partition.fetch.bytes"
	SessionTimeoutMs            = "session.timeout.ms"
	HeartbeatIntervalMs         = "heartbeat.interval.ms"
	MaxPollIntervalMs           = "max.poll.interval.ms"
	AutoOffsetReset             = "auto.offset.reset"
	IsolationLevel              = "isolation.level"
	AutoCommitIntervalMs        = "auto.commit.interval.ms"
	GroupInstanceID             = "group.instance.id"
	PartitionAssignmentStrategy = "partition.assignment.strategy"

	Acks              = "acks"
	CompressionType   = "compression.type"
	LingerMs          = "linger.ms"
	BatchSize         = "batch.size"
	DeliveryTimeoutMs = "delivery.timeout.ms"
	EnableIdempotence = "enable.idempotence"
)

// DefaultMaxPollRecords is Java's default max.poll.records.
const DefaultMaxPollRecords = 500

// log returns the package logger; slog.Default is read on each call so a default set later applies.
func log() *slog.Logger { return slog.Default().With("logger", "kafkaprops") }

// ClientOpts translates Java Kafka client properties to kgo options. Only the keys present in
// props produce options. The error lists every problem found, one per line; it names keys, never
// secret values.
func ClientOpts(props map[string]string) ([]kgo.Opt, error) {
	b := &builder{props: props}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	if err := b.security(); err != nil {
		b.errs = append(b.errs, err)
	}
	for _, k := range keys {
		if isSecurityKey(k) {
			continue // handled by security
		}
		v := strings.TrimSpace(props[k])
		h, ok := tuning[k]
		if !ok {
			log().Debug("ignoring Kafka client property kconnect does not use", "key", k)
			continue
		}
		if err := h(b, k, v); err != nil {
			b.errs = append(b.errs, err)
		}
	}
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	b.retryBackoff()
	return b.opts, nil
}

type builder struct {
	props map[string]string
	opts  []kgo.Opt
	errs  []error

	backoffBase, backoffMax time.Duration
	backoffSet              bool
}

func (b *builder) add(o ...kgo.Opt) { b.opts = append(b.opts, o...) }

// retryBackoff applies retry.backoff.ms / retry.backoff.max.ms as Java 3.7+ does: exponential
// from the base, capped at the max, with ±20% jitter.
func (b *builder) retryBackoff() {
	if !b.backoffSet {
		return
	}
	base, max := b.backoffBase, b.backoffMax
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if max <= 0 {
		max = time.Second
	}
	if max < base {
		max = base
	}
	b.add(kgo.RetryBackoffFn(func(tries int) time.Duration {
		d := base
		for i := 1; i < tries && d < max; i++ {
			d *= 2
		}
		d = min(d, max)
		return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}))
}

func invalid(key, value, why string) error {
	return fmt.Errorf("Invalid value %s for configuration %s: %s", value, key, why)
}

func parseInt(key, v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, invalid(key, v, "Not a number")
	}
	if n < lo || n > hi {
		return 0, invalid(key, v, fmt.Sprintf("Value must be between %d and %d", lo, hi))
	}
	return n, nil
}

func parseMillis(key, v string, lo int64) (time.Duration, error) {
	n, err := parseInt(key, v, lo, math.MaxInt32)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Millisecond, nil
}

// clampDuration keeps d within kgo's accepted range, logging when it had to change it.
func clampDuration(key string, d, lo, hi time.Duration) time.Duration {
	switch {
	case d < lo:
		log().Warn("Kafka client property below what franz-go accepts; using the minimum", "key", key, "value", d, "used", lo)
		return lo
	case d > hi:
		log().Warn("Kafka client property above what franz-go accepts; using the maximum", "key", key, "value", d, "used", hi)
		return hi
	}
	return d
}

type handler func(b *builder, key, v string) error

func durationOpt(lo int64, fn func(time.Duration) kgo.Opt) handler {
	return func(b *builder, key, v string) error {
		d, err := parseMillis(key, v, lo)
		if err != nil {
			return err
		}
		b.add(fn(d))
		return nil
	}
}

func int32Opt(lo int64, fn func(int32) kgo.Opt) handler {
	return func(b *builder, key, v string) error {
		n, err := parseInt(key, v, lo, math.MaxInt32)
		if err != nil {
			return err
		}
		b.add(fn(int32(n)))
		return nil
	}
}

var tuning = map[string]handler{
	BootstrapServers: func(b *builder, key, v string) error {
		seeds, err := ParseBootstrapServers(v)
		if err != nil {
			return err
		}
		b.add(kgo.SeedBrokers(seeds...))
		return nil
	},
	ClientID: func(b *builder, _, v string) error {
		if v != "" {
			b.add(kgo.ClientID(v))
		}
		return nil
	},
	ClientRack: func(b *builder, _, v string) error {
		if v != "" {
			b.add(kgo.Rack(v))
		}
		return nil
	},
	RequestTimeoutMs: durationOpt(0, func(d time.Duration) kgo.Opt {
		return kgo.RequestTimeoutOverhead(clampDuration(RequestTimeoutMs, d, 100*time.Millisecond, 15*time.Minute))
	}),
	MetadataMaxAgeMs: func(b *builder, key, v string) error {
		d, err := parseMillis(key, v, 0)
		if err != nil {
			return err
		}
		d = clampDuration(key, d, 10*time.Millisecond, time.Hour)
		b.add(kgo.MetadataMaxAge(d))
		if d < 5*time.Second { // kgo's default minimum age would exceed the maximum
			b.add(kgo.MetadataMinAge(d))
		}
		return nil
	},
	RetryBackoffMs: func(b *builder, key, v string) error {
		d, err := parseMillis(key, v, 0)
		if err != nil {
			return err
		}
		b.backoffBase, b.backoffSet = d, true
		return nil
	},
	RetryBackoffMaxMs: func(b *builder, key, v string) error {
		d, err := parseMillis(key, v, 0)
		if err != nil {
			return err
		}
		b.backoffMax, b.backoffSet = d, true
		return nil
	},
	ConnectionsMaxIdleMs: func(b *builder, key, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return invalid(key, v, "Not a number")
		}
		if n < 0 { // -1 disables idle closing in Java; kgo's longest is 15 minutes
			n = int64(15 * time.Minute / time.Millisecond)
		}
		b.add(kgo.ConnIdleTimeout(clampDuration(key, time.Duration(n)*time.Millisecond, 100*time.Millisecond, 15*time.Minute)))
		return nil
	},
	SocketConnectionSetupTimeoutMs: durationOpt(0, func(d time.Duration) kgo.Opt { return kgo.DialTimeout(d) }),

	MaxPollRecordsConfig: func(b *builder, key, v string) error {
		n, err := parseInt(key, v, 1, math.MaxInt32)
		if err != nil {
			return err
		}
		b.add(kgo.WithHooks(maxPollRecords(n)))
		return nil
	},
	FetchMaxBytes:          int32Opt(0, func(n int32) kgo.Opt { return kgo.FetchMaxBytes(n) }),
	FetchMinBytes:          int32Opt(0, func(n int32) kgo.Opt { return kgo.FetchMinBytes(n) }),
	MaxPartitionFetchBytes: int32Opt(0, func(n int32) kgo.Opt { return kgo.FetchMaxPartitionBytes(n) }),
	FetchMaxWaitMs: durationOpt(0, func(d time.Duration) kgo.Opt {
		return kgo.FetchMaxWait(max(d, 10*time.Millisecond))
	}),
	SessionTimeoutMs:    durationOpt(100, func(d time.Duration) kgo.Opt { return kgo.SessionTimeout(d) }),
	HeartbeatIntervalMs: durationOpt(1, func(d time.Duration) kgo.Opt { return kgo.HeartbeatInterval(d) }),
	MaxPollIntervalMs:   durationOpt(100, func(d time.Duration) kgo.Opt { return kgo.RebalanceTimeout(d) }),
	AutoCommitIntervalMs: durationOpt(100, func(d time.Duration) kgo.Opt {
		return kgo.AutoCommitInterval(d)
	}),
	AutoOffsetReset: func(b *builder, key, v string) error {
		switch strings.ToLower(v) {
		case "earliest":
			b.add(kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		case "latest":
			b.add(kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		case "none":
			b.add(kgo.ConsumeResetOffset(kgo.NoResetOffset()))
		default:
			return invalid(key, v, "String must be one of: latest, earliest, none")
		}
		return nil
	},
	IsolationLevel: func(b *builder, key, v string) error {
		switch strings.ToLower(v) {
		case "read_uncommitted":
			b.add(kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
		case "read_committed":
			b.add(kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		default:
			return invalid(key, v, "String must be one of: read_committed, read_uncommitted")
		}
		return nil
	},
	GroupInstanceID: func(b *builder, _, v string) error {
		if v != "" {
			b.add(kgo.InstanceID(v))
		}
		return nil
	},
	PartitionAssignmentStrategy: func(b *builder, key, v string) error {
		var bals []kgo.GroupBalancer
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			bal, ok := balancers[name]
			if !ok {
				return invalid(key, name, "unknown assignor; supported: RangeAssignor, RoundRobinAssignor, StickyAssignor, CooperativeStickyAssignor")
			}
			bals = append(bals, bal())
		}
		if len(bals) > 0 {
			b.add(kgo.Balancers(bals...))
		}
		return nil
	},

	Acks: func(b *builder, key, v string) error {
		switch strings.ToLower(v) {
		case "all", "-1":
			b.add(kgo.RequiredAcks(kgo.AllISRAcks()))
		case "1":
			b.add(kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
		case "0":
			b.add(kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
		default:
			return invalid(key, v, "String must be one of: all, -1, 0, 1")
		}
		return nil
	},
	CompressionType: func(b *builder, key, v string) error {
		var c kgo.CompressionCodec
		switch strings.ToLower(v) {
		case "none":
			c = kgo.NoCompression()
		case "gzip":
			c = kgo.GzipCompression()
		case "snappy":
			c = kgo.SnappyCompression()
		case "lz4":
			c = kgo.Lz4Compression()
		case "zstd":
			c = kgo.ZstdCompression()
		default:
			return invalid(key, v, "String must be one of: none, gzip, snappy, lz4, zstd")
		}
		b.add(kgo.ProducerBatchCompression(c))
		return nil
	},
	LingerMs: durationOpt(0, func(d time.Duration) kgo.Opt {
		return kgo.ProducerLinger(min(d, time.Minute))
	}),
	BatchSize: func(b *builder, key, v string) error {
		n, err := parseInt(key, v, 0, math.MaxInt32)
		if err != nil {
			return err
		}
		b.add(kgo.ProducerBatchMaxBytes(int32(min(max(n, 512), 1<<30))))
		return nil
	},
	DeliveryTimeoutMs: durationOpt(0, func(d time.Duration) kgo.Opt {
		return kgo.RecordDeliveryTimeout(max(d, time.Second))
	}),
	EnableIdempotence: func(b *builder, key, v string) error {
		switch strings.ToLower(v) {
		case "true":
		case "false":
			b.add(kgo.DisableIdempotentWrite())
		default:
			return invalid(key, v, "Expected value to be either true or false")
		}
		return nil
	},
}

var balancers = map[string]func() kgo.GroupBalancer{
	"org.apache.kafka.clients.consumer.RangeAssignor":             kgo.RangeBalancer,
	"org.apache.kafka.clients.consumer.RoundRobinAssignor":        kgo.RoundRobinBalancer,
	"org.apache.kafka.clients.consumer.StickyAssignor":            kgo.StickyBalancer,
	"org.apache.kafka.clients.consumer.CooperativeStickyAssignor": kgo.CooperativeStickyBalancer,
	"range":              kgo.RangeBalancer,
	"roundrobin":         kgo.RoundRobinBalancer,
	"sticky":             kgo.StickyBalancer,
	"cooperative-sticky": kgo.CooperativeStickyBalancer,
}

// ParseBootstrapServers parses a bootstrap.servers list ("host:port,host:port", an optional
// "PROTOCOL://" prefix per entry tolerated as Java does).
func ParseBootstrapServers(v string) ([]string, error) {
	var seeds []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[i+3:]
		}
		i := strings.LastIndexByte(s, ':')
		if i <= 0 || i == len(s)-1 {
			return nil, fmt.Errorf("Invalid url in %s: %s", BootstrapServers, s)
		}
		if _, err := strconv.ParseUint(s[i+1:], 10, 16); err != nil {
			return nil, fmt.Errorf("Invalid url in %s: %s", BootstrapServers, s)
		}
		seeds = append(seeds, s)
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("No resolvable bootstrap urls given in %s", BootstrapServers)
	}
	return seeds, nil
}

// maxPollRecords carries max.poll.records through a kgo option list. kgo has no such option
// (the limit is an argument of PollRecords), so ClientOpts passes it as a hook whose only hook
// method does nothing; [MaxPollRecords] reads it back from the client.
type maxPollRecords int

// OnNewClient makes maxPollRecords a kgo hook (kgo rejects values that implement none).
func (maxPollRecords) OnNewClient(*kgo.Client) {}

// MaxPollRecords returns the max.poll.records given to cl through [ClientOpts] (the last one when
// several option lists set it), or [DefaultMaxPollRecords].
func MaxPollRecords(cl *kgo.Client) int {
	n := DefaultMaxPollRecords
	for _, v := range cl.OptValues(kgo.WithHooks) {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice {
			continue
		}
		for i := range rv.Len() {
			if m, ok := rv.Index(i).Interface().(maxPollRecords); ok {
				n = int(m)
			}
		}
	}
	return n
}
