package kusto

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/sink"
)

// baseProps is a valid configuration in the shape of the Java sink's unit tests.
func baseProps(t testing.TB) map[string]string {
	return map[string]string{
		KeyIngestionURL:  "https://ingest-cluster_name.kusto.windows.net",
		KeyQueryURL:      "https://cluster_name.kusto.windows.net",
		KeyTopicsMapping: "[{'topic':'topic1','db':'db1','table':'table1','format':'csv'},{'topic':'topic2','db':'db2','table':'table2','format':'json','mapping':'Mapping'}]",
		KeyAppID:         "some-appid",
		KeyAppKey:        "some-appkey",
		KeyAuthority:     "some-authority",
		KeyTempDir:       t.TempDir(),
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// ingested is one file the fake ingester accepted.
type ingested struct {
	name    string
	route   route
	raw     int64
	records int
	lines   []string
	size    int64 // compressed
}

// fakeIngester is the test double of the ingester boundary. It decompresses every file it is
// given (so a broken gzip file fails the test), and asks hook, if set, what to answer.
type fakeIngester struct {
	t     testing.TB
	mu    sync.Mutex
	files []ingested
	calls int
	hook  func(call int, req *ingestRequest) error
	// hookCtx, if set, runs with the attempt's context (set it before the first Put).
	hookCtx func(ctx context.Context) error
	closed  int
}

func (f *fakeIngester) Ingest(ctx context.Context, req *ingestRequest) error {
	data, err := os.ReadFile(req.Path)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.calls++
	call := f.calls
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		if err := hook(call, req); err != nil {
			return err
		}
	}
	if f.hookCtx != nil {
		if err := f.hookCtx(ctx); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	plain, err := gunzipExactly(data)
	if err != nil {
		f.t.Errorf("%s is not a valid gzip file: %v", req.Path, err)
		return err
	}
	if int64(len(plain)) != req.RawSize {
		f.t.Errorf("%s: raw size %d, but it decompresses to %d bytes", req.Path, req.RawSize, len(plain))
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(plain))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files = append(f.files, ingested{name: filepath.Base(req.Path), route: *req.Route, raw: req.RawSize,
		records: req.Records, lines: lines, size: int64(len(data))})
	return nil
}

func (f *fakeIngester) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

func (f *fakeIngester) snapshot() []ingested {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ingested(nil), f.files...)
}

func (f *fakeIngester) setHook(h func(call int, req *ingestRequest) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

func gunzipExactly(data []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	r.Multistream(false)
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		return nil, fmt.Errorf("%d bytes after the gzip member", len(rest))
	}
	return out, nil
}

// fakeContext is the runtime side of a task.
type fakeContext struct {
	mu       sync.Mutex
	timeouts []time.Duration
}

func (c *fakeContext) Assignment() []sink.TopicPartition { return nil }
func (c *fakeContext) Pause(...sink.TopicPartition)      {}
func (c *fakeContext) Resume(...sink.TopicPartition)     {}
func (c *fakeContext) RequestCommit()                    {}
func (c *fakeContext) Timeout(d time.Duration) {
	c.mu.Lock()
	c.timeouts = append(c.timeouts, d)
	c.mu.Unlock()
}

// startTask starts a task on props with the fake ingester; Stop runs at cleanup.
func startTask(t testing.TB, props map[string]string, fake *fakeIngester) *Task {
	t.Helper()
	fake.t = t
	task := NewTask()
	task.SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	task.newIngester = func(*Config, *slog.Logger) (ingester, error) { return fake, nil }
	if err := task.Start(context.Background(), &fakeContext{}, props); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := task.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return task
}

func tp(topic string, p int32) sink.TopicPartition {
	return sink.TopicPartition{Topic: topic, Partition: p}
}

func strRecord(topic string, part int32, offset int64, value string) sink.Record {
	return sink.Record{Topic: topic, Partition: part, Offset: offset, ValueSchema: sink.OptionalStringSchema, Value: value}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustPut(t testing.TB, task *Task, recs ...sink.Record) {
	t.Helper()
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func preCommit(t testing.TB, task *Task) map[sink.TopicPartition]int64 {
	t.Helper()
	got, err := task.PreCommit(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// spoolFiles lists the files in every spool directory under root, sorted.
func spoolFiles(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	dirs, _ := filepath.Glob(filepath.Join(root, "kusto-sink-connector-*"))
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func allLines(files []ingested) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.lines...)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func nopBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
