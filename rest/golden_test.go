package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/cluster"
)

var update = flag.Bool("update", false, "rewrite the expected responses in testdata/golden from the actual ones")

// A golden case is one file in testdata/golden: a request, the response it must get, and the
// write calls the herder must receive. The format:
//
//	# what the case shows (any number of comment lines)
//	@state empty                         start from a herder without connectors
//	@fail <Method> <kind> [message]      the herder's <Method> fails (kinds: see failKinds)
//	@redirect <url>|-                    leader-only calls redirect to url (- : leader unknown)
//	@body "<Go-quoted string>"           the exact request body (for bodies of whitespace)
//	METHOD /path?query
//	Header: value                        sent as written after "Header: " (spaces kept)
//
//	request body
//	--- response
//	STATUS
//	Content-Type: ...                    Content-Type, Location and Allow are compared exactly;
//	                                     a header not listed must be absent
//	response body (JSON, compared after compaction, so field order counts)
//	--- calls
//	one write call per line, as fakeHerder records them; no section means none
type goldenCase struct {
	file        string
	requestPart string // the request section, verbatim, for rewriting
	directives  []string
	method      string
	target      string
	headers     [][2]string
	body        []byte

	status      int
	respHeaders map[string]string
	respBody    string
	calls       []string
}

// comparedHeaders are the response headers a golden file pins.
var comparedHeaders = []string{"Content-Type", "Location", "Allow"}

func parseGolden(path string) (goldenCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return goldenCase{}, err
	}
	c := goldenCase{file: path, respHeaders: map[string]string{}}
	text := string(data)
	reqPart, rest, ok := strings.Cut(text, "\n--- response\n")
	if !ok {
		return c, errors.New(`no "--- response" line`)
	}
	c.requestPart = reqPart
	respPart, callsPart, _ := strings.Cut(rest, "\n--- calls\n")
	if strings.HasPrefix(rest, "--- calls\n") {
		return c, errors.New("empty response section")
	}

	lines := strings.Split(reqPart, "\n")
	i := 0
	var quotedBody *string
	for ; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "@body ") {
			b, err := strconv.Unquote(strings.TrimPrefix(l, "@body "))
			if err != nil {
				return c, fmt.Errorf("@body: %w", err)
			}
			quotedBody = &b
			continue
		}
		if strings.HasPrefix(l, "@") {
			c.directives = append(c.directives, l)
			continue
		}
		break
	}
	if i >= len(lines) {
		return c, errors.New("no request line")
	}
	method, target, ok := strings.Cut(lines[i], " ")
	if !ok {
		return c, fmt.Errorf("bad request line %q", lines[i])
	}
	c.method, c.target = method, target
	for i++; i < len(lines) && lines[i] != ""; i++ {
		name, value, ok := strings.Cut(lines[i], ":")
		if !ok {
			return c, fmt.Errorf("bad header line %q", lines[i])
		}
		c.headers = append(c.headers, [2]string{name, strings.TrimPrefix(value, " ")})
	}
	if i < len(lines) {
		c.body = []byte(strings.Join(lines[i+1:], "\n"))
	}
	if quotedBody != nil {
		c.body = []byte(*quotedBody)
	}

	rlines := strings.Split(strings.TrimRight(respPart, "\n"), "\n")
	c.status, err = strconv.Atoi(rlines[0])
	if err != nil {
		return c, fmt.Errorf("bad status line %q", rlines[0])
	}
	j := 1
	for ; j < len(rlines) && rlines[j] != ""; j++ {
		name, value, ok := strings.Cut(rlines[j], ": ")
		if !ok {
			return c, fmt.Errorf("bad response header line %q", rlines[j])
		}
		c.respHeaders[http.CanonicalHeaderKey(name)] = value
	}
	if j < len(rlines) {
		c.respBody = strings.Join(rlines[j+1:], "\n")
	}
	for _, l := range strings.Split(callsPart, "\n") {
		if l != "" {
			c.calls = append(c.calls, l)
		}
	}
	return c, nil
}

// failKinds are the error kinds @fail can inject.
var failKinds = map[string]func(msg string) error{
	"notfound":   func(m string) error { return &cluster.Error{Kind: cluster.KindNotFound, Message: m} },
	"exists":     func(m string) error { return &cluster.Error{Kind: cluster.KindAlreadyExists, Message: m} },
	"badrequest": func(m string) error { return &cluster.Error{Kind: cluster.KindBadRequest, Message: m} },
	"conflict":   func(m string) error { return &cluster.Error{Kind: cluster.KindConflict, Message: m} },
	"rebalance":  func(m string) error { return &cluster.Error{Kind: cluster.KindRebalanceNeeded, Message: m} },
	"timeout":    func(m string) error { return &cluster.Error{Kind: cluster.KindTimeout, Message: m} },
	"forbidden":  func(m string) error { return &cluster.Error{Kind: cluster.KindForbidden, Message: m} },
	"plain":      func(m string) error { return errors.New(m) },
}

func (c goldenCase) herder() (*fakeHerder, error) {
	f := newFakeHerder()
	for _, d := range c.directives {
		fields := strings.Fields(d)
		switch fields[0] {
		case "@state":
			if len(fields) != 2 || fields[1] != "empty" {
				return nil, fmt.Errorf("bad directive %q", d)
			}
			f = newEmptyFakeHerder()
		}
	}
	for _, d := range c.directives {
		fields := strings.Fields(d)
		switch fields[0] {
		case "@state":
		case "@fail":
			if len(fields) < 3 {
				return nil, fmt.Errorf("bad directive %q", d)
			}
			mk, ok := failKinds[fields[2]]
			if !ok {
				return nil, fmt.Errorf("unknown error kind in %q", d)
			}
			f.fail[fields[1]] = mk(strings.Join(fields[3:], " "))
		case "@redirect":
			if len(fields) != 2 {
				return nil, fmt.Errorf("bad directive %q", d)
			}
			target := fields[1]
			if target == "-" {
				target = ""
			}
			f.redirect = &cluster.RedirectError{TargetURL: target, Reason: "not the leader"}
		default:
			return nil, fmt.Errorf("unknown directive %q", d)
		}
	}
	return f, nil
}

// TestGolden runs every request of testdata/golden against the handler and a fake herder.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			c, err := parseGolden(file)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			f, err := c.herder()
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			srv := newTestServer(t, f)
			req := httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
			for _, h := range c.headers {
				req.Header.Add(h[0], h[1])
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			calls := f.Calls()

			checkInvariants(t, req.URL.Path, res, body)
			if *update {
				if err := rewriteGolden(c, res, body, calls); err != nil {
					t.Fatal(err)
				}
				return
			}
			if res.StatusCode != c.status {
				t.Errorf("status = %d, want %d; body %s", res.StatusCode, c.status, body)
			}
			for _, h := range comparedHeaders {
				if got, want := res.Header.Get(h), c.respHeaders[h]; got != want {
					t.Errorf("header %s = %q, want %q", h, got, want)
				}
			}
			if c.respBody == "" {
				if len(body) != 0 {
					t.Errorf("body = %s, want none", body)
				}
			} else {
				var want bytes.Buffer
				if err := json.Compact(&want, []byte(c.respBody)); err != nil {
					t.Fatalf("expected body is not JSON: %v", err)
				}
				if !bytes.Equal(body, want.Bytes()) {
					t.Errorf("body mismatch\n got: %s\nwant: %s", body, want.Bytes())
				}
			}
			if !slices.Equal(calls, c.calls) {
				t.Errorf("herder calls mismatch\n got: %q\nwant: %q", calls, c.calls)
			}
		})
	}
}

// checkInvariants holds for every response: errors are JSON ErrorMessages whose error_code is
// the status (GET /health answers failures with a WorkerStatus instead), and 204 answers carry
// no body.
func checkInvariants(t *testing.T, path string, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode >= 400 && path != "/health" {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("error response Content-Type = %q, want application/json", ct)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("error body is not JSON: %v: %s", err, body)
		}
		if len(m) != 2 || m["error_code"] != float64(res.StatusCode) {
			t.Errorf("error body %s is not {error_code: %d, message}", body, res.StatusCode)
		}
		if _, ok := m["message"].(string); !ok {
			t.Errorf("error body %s has no message", body)
		}
	}
	if res.StatusCode == http.StatusNoContent && len(body) != 0 {
		t.Errorf("204 with a body: %s", body)
	}
}

func rewriteGolden(c goldenCase, res *http.Response, body []byte, calls []string) error {
	var b strings.Builder
	b.WriteString(c.requestPart)
	b.WriteString("\n--- response\n")
	fmt.Fprintf(&b, "%d\n", res.StatusCode)
	for _, h := range comparedHeaders {
		if v := res.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	if len(body) > 0 {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			return fmt.Errorf("response body is not JSON: %w", err)
		}
		b.WriteString("\n")
		b.Write(pretty.Bytes())
		b.WriteString("\n")
	}
	if len(calls) > 0 {
		b.WriteString("--- calls\n")
		for _, l := range calls {
			b.WriteString(l + "\n")
		}
	}
	return os.WriteFile(c.file, []byte(b.String()), 0o644)
}

// newTestServer builds a Server over h that logs to the test log.
func newTestServer(t *testing.T, h Herder) *Server {
	t.Helper()
	srv, err := New(h, Options{Listeners: []string{"http://127.0.0.1:0"}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// testLogger logs through t.Log at debug level.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
