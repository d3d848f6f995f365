package restclients

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// devEnv is one running `kconnect dev` process and what its start-up output told about it.
type devEnv struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited
	err    error         // the process's exit status, set before exited is closed

	stdout *lineLog
	stderr *syncBuffer

	kafka     string // host:port of the embedded broker
	engineURL string // the Kusto emulator's engine (and data management) endpoint
	caFile    string // the emulator's CA certificate, for kusto.tls.ca.file
	database  string
	restURL   string // the worker's REST API, without a trailing slash
	restAddr  string // host:port of restURL

	kafkaClient *kgo.Client
	admin       *kadm.Client
}

// Start-up lines of `kconnect dev` (cmd/kconnect/dev.go).
var (
	kafkaLine  = regexp.MustCompile(`^Kafka broker\s+(\S+)$`)
	kustoLine  = regexp.MustCompile(`^Kusto engine\s+(\S+) \(database "([^"]+)"; storage (\S+), CA (.+)\)$`)
	restLine   = regexp.MustCompile(`^Connect REST API\s+(\S+)$`)
	readyLine  = "Everything keeps running until Ctrl-C"
	failedDemo = "demo failed:"
)

// startDev starts `kconnect dev` with its demo on free loopback ports and returns once the
// demo is done (every produced storm event is in Kusto) and the REST API answers. A port taken
// between choosing and binding it is retried with new ports.
//
// The emulator's CA certificate goes to caFile rather than to the shared default path, where
// another `kconnect dev` on the machine would overwrite it; an empty caFile keeps the default
// (for a kconnect without the --ca-file flag).
func startDev(ctx context.Context, bin string, records int, caFile string) (*devEnv, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		d, err := startDevOnce(ctx, bin, records, caFile)
		if err == nil {
			return d, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

func startDevOnce(ctx context.Context, bin string, records int, caFile string) (*devEnv, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	d := &devEnv{
		exited: make(chan struct{}),
		stdout: newLineLog(),
		stderr: &syncBuffer{},
	}
	args := []string{"dev",
		"--records", strconv.Itoa(records),
		"--kafka", addr(ports[0]),
		"--kusto", addr(ports[1]),
		"--storage", addr(ports[2]),
		"--rest", addr(ports[3])}
	if caFile != "" {
		args = append(args, "--ca-file", caFile)
	}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stderr = d.stderr
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		d.stdout.readFrom(out)
	}()
	go func() {
		<-copied // Wait must not run before the pipe is drained
		d.err = d.cmd.Wait()
		close(d.exited)
	}()

	ready, err := d.waitForLine(ctx, readyLine)
	if err == nil {
		err = d.parseStartup(ready)
	}
	if err == nil {
		err = d.waitForREST(ctx)
	}
	if err == nil {
		// Admin calls answer from metadata cached for MetadataMinAge (5s by default); the
		// tests list topics that a command created a moment ago.
		d.kafkaClient, err = kgo.NewClient(kgo.SeedBrokers(d.kafka), kgo.MetadataMinAge(10*time.Millisecond))
		if err == nil {
			d.admin = kadm.NewClient(d.kafkaClient)
		}
	}
	if err != nil {
		stopErr := d.stop()
		return nil, errors.Join(err, stopErr, fmt.Errorf("kconnect dev output:\n%s\n%s", d.stdout.text(), tail(d.stderr.String(), 4000)))
	}
	return d, nil
}

// waitForLine waits until the process printed a line starting with want and returns every
// line printed so far. It fails when the demo reports a failure or the process exits first.
func (d *devEnv) waitForLine(ctx context.Context, want string) ([]string, error) {
	for {
		lines, changed := d.stdout.snapshot()
		for _, l := range lines {
			if strings.HasPrefix(l, want) {
				return lines, nil
			}
			if strings.HasPrefix(l, failedDemo) {
				return nil, fmt.Errorf("kconnect dev: %s", l)
			}
		}
		select {
		case <-changed:
		case <-d.exited:
			lines, _ := d.stdout.snapshot()
			for _, l := range lines {
				if strings.HasPrefix(l, want) {
					return lines, nil
				}
			}
			return nil, fmt.Errorf("kconnect dev exited before it was ready: %v", d.err)
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %q from kconnect dev: %w", want, ctx.Err())
		}
	}
}

// parseStartup reads the addresses and the CA file from the start-up lines.
func (d *devEnv) parseStartup(lines []string) error {
	for _, l := range lines {
		if m := kafkaLine.FindStringSubmatch(l); m != nil {
			d.kafka = m[1]
		}
		if m := kustoLine.FindStringSubmatch(l); m != nil {
			d.engineURL, d.database, d.caFile = m[1], m[2], m[4]
		}
		if m := restLine.FindStringSubmatch(l); m != nil {
			d.restURL = strings.TrimSuffix(m[1], "/")
		}
	}
	if d.kafka == "" || d.engineURL == "" || d.restURL == "" {
		return fmt.Errorf("kconnect dev did not print the Kafka, Kusto and REST addresses:\n%s", strings.Join(lines, "\n"))
	}
	if _, err := os.Stat(d.caFile); err != nil {
		return fmt.Errorf("the CA file kconnect dev printed: %w", err)
	}
	d.restAddr = strings.TrimPrefix(d.restURL, "http://")
	return nil
}

// waitForREST waits until GET / answers the worker's info.
func (d *devEnv) waitForREST(ctx context.Context) error {
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.restURL+"/", nil)
		if err != nil {
			return err
		}
		resp, err := httpClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var info struct {
				Version string `json:"version"`
			}
			if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &info) == nil && info.Version != "" {
				return nil
			}
			last = fmt.Sprintf("%s %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the REST API at %s: %w (last: %s)", d.restURL, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop interrupts the process as Ctrl-C does and waits for it to exit; it kills it if it does
// not exit within 20 seconds. It is safe to call more than once.
func (d *devEnv) stop() error {
	if d.kafkaClient != nil {
		d.kafkaClient.Close()
		d.kafkaClient = nil
	}
	select {
	case <-d.exited:
		return nil
	default:
	}
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		return fmt.Errorf("interrupting kconnect dev: %w", err)
	}
	select {
	case <-d.exited:
		return d.err
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
		return errors.New("kconnect dev did not stop within 20s of an interrupt; killed it")
	}
}

// dumpLogs writes the process's output, for a failed run.
func (d *devEnv) dumpLogs(w io.Writer) {
	fmt.Fprintf(w, "--- kconnect dev stdout\n%s\n--- kconnect dev stderr (tail)\n%s\n", d.stdout.text(), tail(d.stderr.String(), 20000))
}

// devHasFlag reports whether `kconnect dev` of bin has the named flag.
func devHasFlag(bin, flag string) bool {
	out, _ := exec.Command(bin, "dev", "-h").CombinedOutput()
	return bytes.Contains(out, []byte("-"+flag+" "))
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// lineLog collects the lines a process prints and tells waiters when one arrives.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) readFrom(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// snapshot returns the lines so far and a channel closed when the next one arrives.
func (l *lineLog) snapshot() ([]string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...), l.changed
}

func (l *lineLog) text() string {
	lines, _ := l.snapshot()
	return strings.Join(lines, "\n")
}

// syncBuffer is a bytes.Buffer safe for a process to write while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
