package storage

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaOptions configure a Kafka-backed store.
type KafkaOptions struct {
	// ClientOpts connect to the cluster: seed brokers, TLS, SASL. The store adds what it needs
	// (client id, direct partition assignment, producer settings).
	ClientOpts []kgo.Opt
	// Topic is the internal topic the store reads and writes.
	Topic string
	// ClientID is the Kafka client id, e.g. "<group.id>-configs" or "<group.id>-statuses".
	ClientID string
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
}

func (o KafkaOptions) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// kgoLogger hands franz-go's log lines to slog. franz-go logs every request at info level, so
// its info lines are passed on only when the slog logger is at debug level; warnings and
// errors always are. The level is read on every call, so run-time level changes take effect.
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	if k.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelWarn
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var sl slog.Level
	switch level {
	case kgo.LogLevelError:
		sl = slog.LevelError
	case kgo.LogLevelWarn:
		sl = slog.LevelWarn
	default:
		sl = slog.LevelDebug
	}
	k.l.Log(context.Background(), sl, msg, keyvals...)
}
