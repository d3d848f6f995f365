package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// logRecorder is a slog handler that keeps every record's message and attributes as text.
type logRecorder struct {
	mu    *sync.Mutex
	lines *[]string
	attrs string
}

func newLogRecorder() *logRecorder { return &logRecorder{mu: &sync.Mutex{}, lines: new([]string)} }

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message + r.attrs)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	r.mu.Lock()
	*r.lines = append(*r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	out := *r
	for _, a := range as {
		out.attrs += " " + a.String()
	}
	return &out
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// find returns the lines holding every one of parts.
func (r *logRecorder) find(parts ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range *r.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

func (r *logRecorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(*r.lines, "\n")
}

// fastStartRetries shortens the start-up backoff for one test.
func fastStartRetries(t *testing.T) {
	min, max := startBackoffMin, startBackoffMax
	startBackoffMin, startBackoffMax = 20*time.Millisecond, 100*time.Millisecond
	t.Cleanup(func() { startBackoffMin, startBackoffMax = min, max })
}

// freePort returns a local port nothing listens on (at the time of the call).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

// runHerder starts a herder on props and returns it, its log and the channel Run's result
// arrives on; the test's end stops it.
func runHerder(t *testing.T, props map[string]string) (*Herder, *logRecorder, context.CancelFunc, chan error) {
	t.Helper()
	cfg, err := ParseWorkerConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	rec := newLogRecorder()
	h, err := New(cfg, testRegistry(t), WithLogger(slog.New(rec)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the herder did not stop within 30 s")
		}
	})
	return h, rec, cancel, done
}

func startupWorker(bootstrap string, kv ...string) map[string]string {
	return with(with(minimalWorker(),
		"bootstrap.servers", bootstrap,
		"config.storage.replication.factor", "1",
		"offset.storage.replication.factor", "1",
		"offset.storage.partitions", "1",
		"status.storage.replication.factor", "1",
		"status.storage.partitions", "1",
		"session.timeout.ms", "1500",
		"heartbeat.interval.ms", "100",
		"request.timeout.ms", "2000",
	), kv...)
}

// TestStartupWaitsForKafka starts a worker before its broker: it waits, saying so, and starts
// once the broker is up.
func TestStartupWaitsForKafka(t *testing.T) {
	fastStartRetries(t)
	port := freePort(t)
	h, rec, _, done := runHerder(t, startupWorker("127.0.0.1:"+strconv.Itoa(port)))
	waitFor(t, 30*time.Second, "the worker says it waits for Kafka", func() error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("Run returned while Kafka was down: %v", err)
		default:
		}
		if len(rec.find("waiting for Kafka", "connection refused")) < 2 {
			return errors.New("no second wait logged")
		}
		return nil
	})
	// GET /health says what the worker waits for.
	waitFor(t, 30*time.Second, "health names the wait", func() error {
		var he *HealthError
		if err := h.Health(context.Background()); !errors.As(err, &he) || !he.Starting ||
			!strings.Contains(he.Stage, "The worker is currently waiting for Kafka to become reachable (last error: ") {
			return fmt.Errorf("health: %v", err)
		}
		return nil
	})
	kafka := newFakeKafka(t, kfake.Ports(port))
	select {
	case <-h.Ready():
	case err := <-done:
		t.Fatalf("Run returned: %v\n%s", err, rec.all())
	case <-time.After(30 * time.Second):
		t.Fatalf("not ready 30 s after the broker started\n%s", rec.all())
	}
	if len(rec.find("Kafka is reachable")) != 1 {
		t.Errorf("start after waiting not logged:\n%s", rec.all())
	}
	if _, err := kadm.NewClient(mustClient(t, kafka)).ListTopics(context.Background(), "connect-configs"); err != nil {
		t.Fatal(err)
	}
}

func mustClient(t *testing.T, kafka *kfake.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(kafka.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestStartupStopsWhileWaiting cancels a worker that waits for Kafka: Run returns nil at once.
func TestStartupStopsWhileWaiting(t *testing.T) {
	fastStartRetries(t)
	_, rec, cancel, done := runHerder(t, startupWorker("127.0.0.1:"+strconv.Itoa(freePort(t))))
	waitFor(t, 30*time.Second, "the worker waits for Kafka", func() error {
		if len(rec.find("waiting for Kafka")) == 0 {
			return errors.New("no wait logged")
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of the cancel")
	}
}

// TestStartupFailsFastOnConfigurationErrors: what waiting cannot fix ends Run with an error
// at the first attempt, without waiting, and the error shows no password.
func TestStartupFailsFastOnConfigurationErrors(t *testing.T) {
	fastStartRetries(t)
	const password, wrong = "admin-Secret-1", "wrong-Secret-2"
	sasl := func(user, pass string) []string {
		return []string{"security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
			"sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="` + user + `" password="` + pass + `";`}
	}
	cases := []struct {
		name    string
		kafka   []kfake.Opt
		prepare func(t *testing.T, kafka *kfake.Cluster) // as an administrator
		worker  []string
		wantErr []string
		wantKE  *kerr.Error
	}{
		{
			name: "config topic not compacted",
			prepare: func(t *testing.T, kafka *kfake.Cluster) {
				createTopic(t, kafka, "connect-configs", 1, map[string]*string{"cleanup.policy": kadm.StringPtr("delete")})
			},
			wantErr: []string{"Topic 'connect-configs' supplied via the 'config.storage.topic' property is required to have 'cleanup.policy=compact'"},
		},
		{
			name: "status topic compacted and deleted",
			prepare: func(t *testing.T, kafka *kfake.Cluster) {
				createTopic(t, kafka, "connect-status", 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact,delete")})
			},
			wantErr: []string{"'status.storage.topic'", "connector and task statuses"},
		},
		{
			name: "config topic with two partitions",
			prepare: func(t *testing.T, kafka *kfake.Cluster) {
				createTopic(t, kafka, "connect-configs", 2, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")})
			},
			wantErr: []string{"is required to have a single partition", "found 2 partitions"},
		},
		{
			name: "group not authorized",
			prepare: func(t *testing.T, kafka *kfake.Cluster) {
				kafka.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Group: "connect-cluster", Err: kerr.GroupAuthorizationFailed, Count: -1})
			},
			wantKE:  kerr.GroupAuthorizationFailed,
			wantErr: []string{"cannot join the worker group connect-cluster", "GROUP_AUTHORIZATION_FAILED"},
		},
		{
			name:    "wrong password",
			kafka:   []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("PLAIN", "admin", password)},
			prepare: func(t *testing.T, kafka *kfake.Cluster) { answerBadPasswords(kafka, password) },
			worker:  sasl("admin", wrong),
			wantKE:  kerr.SaslAuthenticationFailed,
			wantErr: []string{"SASL_AUTHENTICATION_FAILED"},
		},
		{
			name: "not authorized",
			kafka: []kfake.Opt{kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("PLAIN", "admin", password),
				kfake.User("PLAIN", "connect", password, kfake.ACL{Resource: kmsg.ACLResourceTypeGroup, Name: "connect-cluster",
					Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationRead, Allow: true})},
			worker:  sasl("connect", password),
			wantErr: []string{"AUTHORIZATION_FAILED"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kafka := newFakeKafka(t, c.kafka...)
			if c.prepare != nil {
				c.prepare(t, kafka)
			}
			_, rec, _, done := runHerder(t, startupWorker(strings.Join(kafka.ListenAddrs(), ","), c.worker...))
			var err error
			select {
			case err = <-done:
				done <- err
			case <-time.After(30 * time.Second):
				t.Fatalf("Run still running after 30 s\n%s", rec.all())
			}
			if err == nil {
				t.Fatal("Run returned nil")
			}
			t.Logf("Run: %v", err)
			for _, want := range c.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if c.wantKE != nil && !errors.Is(err, c.wantKE) {
				t.Errorf("error %v is not %v", err, c.wantKE)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), wrong) {
				t.Errorf("the error shows a password: %v", err)
			}
			if waits := rec.find("waiting for Kafka"); len(waits) > 0 {
				t.Errorf("the worker waited for a configuration error: %q", waits)
			}
		})
	}
}

// answerBadPasswords makes kfake answer a PLAIN authentication with a wrong password as a
// Kafka broker does, with SASL_AUTHENTICATION_FAILED (kfake itself closes the connection).
func answerBadPasswords(kafka *kfake.Cluster, password string) {
	kafka.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		auth := req.(*kmsg.SASLAuthenticateRequest)
		parts := strings.Split(string(auth.SASLAuthBytes), "\x00")
		if len(parts) == 3 && parts[2] == password {
			return nil, nil, false // kfake authenticates
		}
		kafka.KeepControl()
		resp := auth.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed: Invalid username or password"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
}

func createTopic(t *testing.T, kafka *kfake.Cluster, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	if _, err := kadm.NewClient(mustClient(t, kafka)).CreateTopic(context.Background(), partitions, 1, configs, name); err != nil {
		t.Fatal(err)
	}
}

func TestFatalAtStartup(t *testing.T) {
	for _, c := range []struct {
		name  string
		err   error
		fatal bool
	}{
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, false},
		{"wrapped dial error", fmt.Errorf("preparing internal topic c: %w", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "kafka", IsNotFound: true}}), false},
		{"timeout", fmt.Errorf("starting log: %w", context.DeadlineExceeded), false},
		{"retriable broker error", fmt.Errorf("x: %w", kerr.LeaderNotAvailable), false},
		{"not enough brokers yet", fmt.Errorf("x: %w", kerr.InvalidReplicationFactor), false},
		{"unknown server error", fmt.Errorf("x: %w", kerr.UnknownServerError), false},
		{"SASL failure", fmt.Errorf("x: %w", kerr.SaslAuthenticationFailed), true},
		{"topic authorization", fmt.Errorf("x: %w", kerr.TopicAuthorizationFailed), true},
		{"group authorization", fmt.Errorf("x: %w", kerr.GroupAuthorizationFailed), true},
		{"invalid topic config", fmt.Errorf("x: %w", kerr.InvalidConfig), true},
		{"topic verdict", errors.New("Topic 'c' is required to have 'cleanup.policy=compact'"), true},
	} {
		if got := fatalAtStartup(c.err); got != c.fatal {
			t.Errorf("%s: fatalAtStartup(%v) = %v, want %v", c.name, c.err, got, c.fatal)
		}
	}
}
