package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestComponentNames(t *testing.T) {
	var buf bytes.Buffer
	root, err := newLogger(&buf, "info")
	if err != nil {
		t.Fatal(err)
	}
	worker := root.With(loggerKey, "kconnect")
	herder := worker.With(loggerKey, "cluster", "worker_id", "w1:8083")
	task := herder.With(loggerKey, "task", "connector", "c", "task", "c-0")
	kgo := task.With("component", "x").With(loggerKey, "kgo")

	worker.Info("starting")
	herder.Info("joined")
	task.Error("sink task failed", "error", "boom")
	kgo.Warn("retrying", "broker", 1)
	herder.Info("one-off name", loggerKey, "storage")
	herder.Debug("below the level")
	root.Info("unnamed")
	herder.WithGroup("g").Info("grouped", "k", "v")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`msg=starting logger=kconnect`,
		`msg=joined logger=cluster worker_id=w1:8083`,
		`msg="sink task failed" logger=task worker_id=w1:8083 connector=c task=c-0 error=boom`,
		`msg=retrying logger=kgo worker_id=w1:8083 connector=c task=c-0 component=x broker=1`,
		`msg="one-off name" logger=storage worker_id=w1:8083`,
		`msg=unnamed`,
		`msg=grouped logger=cluster worker_id=w1:8083 g.k=v`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		_, rest, _ := strings.Cut(lines[i], " level=")
		_, rest, _ = strings.Cut(rest, " ")
		if rest != w {
			t.Errorf("line %d:\n got %s\nwant %s", i, rest, w)
		}
		if strings.Count(lines[i], "logger=") > 1 {
			t.Errorf("line %d names more than one component: %s", i, lines[i])
		}
	}
	if _, err := newLogger(&buf, "verbose"); err == nil {
		t.Error("an unknown level was accepted")
	}
	if !root.Handler().Enabled(context.Background(), slog.LevelInfo) || root.Handler().Enabled(context.Background(), slog.LevelDebug) {
		t.Error("the level is not applied")
	}
}

func TestCommandLine(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		stderr     []string
		noStdout   bool
		emptyError bool
	}{
		{name: "version", args: []string{"version"}, code: 0,
			stdout: []string{"kconnect " + version + " (commit ", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}},
		{name: "version with arguments", args: []string{"version", "x"}, code: 2, stderr: []string{"unexpected arguments"}},
		{name: "help", args: []string{"help"}, code: 0, stdout: []string{"kconnect distributed [flags] [worker.properties]", "kconnect dev [flags]", "kconnect version"}},
		{name: "no command", args: nil, code: 2, stderr: []string{"Usage:"}},
		{name: "unknown command", args: []string{"standalone"}, code: 2, stderr: []string{`unknown command "standalone"`}},
		{name: "distributed -h", args: []string{"distributed", "-h"}, code: 0,
			stdout: []string{"Usage: kconnect distributed [flags] [worker.properties]\n\nRun one worker", "\n\nFlags:\n", "-log-level"}, emptyError: true},
		{name: "dev -h", args: []string{"dev", "-help"}, code: 0,
			stdout: []string{"Usage: kconnect dev [flags]\n\nRun a Kafka broker", "\n\nFlags:\n", "-log-level", "-kafka", "-rest"}, emptyError: true},
		{name: "distributed, unknown flag", args: []string{"distributed", "-x"}, code: 2, noStdout: true,
			stderr: []string{"flag provided but not defined: -x", "Usage: kconnect distributed"}},
		{name: "dev, unknown flag", args: []string{"dev", "--records=x"}, code: 2, noStdout: true,
			stderr: []string{`invalid value "x" for flag -records`, "Usage: kconnect dev"}},
		{name: "distributed, two files", args: []string{"distributed", "a.properties", "b.properties"}, code: 2, noStdout: true,
			stderr: []string{"kconnect distributed: at most one worker.properties file", "Usage: kconnect distributed"}},
		{name: "dev, arguments", args: []string{"dev", "now"}, code: 2, stderr: []string{`kconnect dev: unexpected arguments ["now"]`, "Usage: kconnect dev"}},
		{name: "distributed, bad level", args: []string{"distributed", "-log-level", "loud"}, code: 2, stderr: []string{`invalid log level "loud"`}},
		{name: "distributed, missing file", args: []string{"distributed", filepath.Join(t.TempDir(), "none.properties")}, code: 1,
			stderr: []string{"kconnect distributed: reading properties"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, c.code, &stdout, &stderr)
			}
			for _, s := range c.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout does not hold %q:\n%s", s, &stdout)
				}
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr does not hold %q:\n%s", s, &stderr)
				}
			}
			if c.noStdout && stdout.Len() > 0 {
				t.Errorf("stdout: %s", &stdout)
			}
			if c.emptyError && stderr.Len() > 0 {
				t.Errorf("stderr: %s", &stderr)
			}
		})
	}
}

// TestDistributedRefusesBadRESTSettings: a worker whose REST settings cannot be honoured stops
// before it binds anything or connects to Kafka.
func TestDistributedRefusesBadRESTSettings(t *testing.T) {
	dir := t.TempDir()
	base := "group.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\nstatus.storage.topic=s\n" +
		"key.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n" +
		"bootstrap.servers=127.0.0.1:1\nlisteners=http://127.0.0.1:0\n"
	for _, c := range []struct{ name, extra, want string }{
		{"header rules", "response.http.headers.config=set X-Frame-Options\n", "response.http.headers.config"},
		{"https without a key store", "listeners=https://127.0.0.1:0\n", "an https listener needs a certificate"},
		{"JKS key store", "listeners=https://127.0.0.1:0\nssl.keystore.location=/etc/k.jks\nssl.keystore.password=s3cret\n", "ssl.keystore.type=JKS is not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".properties")
			if err := os.WriteFile(file, []byte(base+c.extra), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"distributed", file}, &stdout, &stderr); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), c.want) || strings.Contains(stderr.String(), "s3cret") {
				t.Errorf("stderr does not say %q, or shows a password:\n%s", c.want, &stderr)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
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

// TestDistributedStopsWhileWaitingForKafka starts a worker whose broker is not there: it
// serves its REST API, logs that it waits, and stops cleanly (exit code 0) when told to.
func TestDistributedStopsWhileWaitingForKafka(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broker := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	file := filepath.Join(t.TempDir(), "worker.properties")
	props := "bootstrap.servers=" + broker + "\ngroup.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\nstatus.storage.topic=s\n" +
		"key.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n" +
		"listeners=http://127.0.0.1:0\n"
	if err := os.WriteFile(file, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"distributed", file}, &stdout, &stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), `msg="waiting for Kafka before the worker can start" logger=cluster`) {
		select {
		case c := <-code:
			t.Fatalf("exited with %d while waiting:\n%s", c, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no wait logged:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d, want 0:\n%s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after the stop")
	}
	if !strings.Contains(stderr.String(), "kconnect worker stopped") {
		t.Errorf("no stop logged:\n%s", stderr.String())
	}
}

// BenchmarkLogLine measures one log line of a task's logger (four levels of derived loggers)
// through the component handler, against the text handler alone.
func BenchmarkLogLine(b *testing.B) {
	plain := slog.New(slog.NewTextHandler(io.Discard, nil))
	named, err := newLogger(io.Discard, "info")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		root *slog.Logger
	}{{"text", plain}, {"component", named}} {
		log := c.root.With(loggerKey, "kconnect").With(loggerKey, "cluster", "worker_id", "w1:8083").
			With(loggerKey, "task", "connector", "c", "task", "c-0")
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				log.Info("committing offsets", "partitions", 3, "offset", int64(i))
			}
		})
	}
}
