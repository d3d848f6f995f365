package restclients

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
)

// recorder is a TCP proxy in front of the worker that passes every byte through unchanged and
// keeps what clients sent, so a test can check the requests exactly as they went over the wire
// (a trailing slash, a " " body, a header value with a leading space) without the worker
// seeing anything but the client's own bytes.
type recorder struct {
	upstream string
	ln       net.Listener

	mu    sync.Mutex
	seq   int // counts chunks read from clients, over all connections
	conns []*tap
	open  map[net.Conn]struct{}

	wg sync.WaitGroup
}

// tap is what one client connection sent: its bytes and, for each read, where it started and
// its sequence number (which orders requests across connections).
type tap struct {
	data   []byte
	chunks []chunk
}

type chunk struct{ seq, offset int }

// recordedRequest is one request a client sent.
type recordedRequest struct {
	seq       int
	Method    string
	URI       string // the request target as sent, e.g. "/connectors/"
	Header    http.Header
	RawHeader string // the header block as sent
	Body      []byte
}

func (r recordedRequest) String() string {
	return fmt.Sprintf("%s %s (Content-Type %q, %d-byte body, User-Agent %q)", r.Method, r.URI, r.Header.Get("Content-Type"), len(r.Body), r.Header.Get("User-Agent"))
}

// rawHeader returns the value of header key exactly as it was sent (leading spaces kept).
func (r recordedRequest) rawHeader(key string) (string, bool) {
	for _, line := range strings.Split(r.RawHeader, "\r\n")[1:] {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(name, key) {
			value, _ = strings.CutPrefix(value, " ") // the separator; a second space is the value's
			return value, true
		}
	}
	return "", false
}

// startRecorder starts a recorder for the dev worker; the test's cleanup stops it.
func startRecorder(t *testing.T) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the recording proxy: %v", err)
	}
	r := &recorder{upstream: dev.restAddr, ln: ln, open: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

// URL is the base URL clients use instead of the worker's.
func (r *recorder) URL() string { return "http://" + r.ln.Addr().String() }

// mark returns a position: since(mark) lists the requests that began after it.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

func (r *recorder) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", r.upstream)
		if err != nil {
			c.Close()
			continue
		}
		tp := &tap{}
		r.mu.Lock()
		r.conns = append(r.conns, tp)
		r.open[c], r.open[up] = struct{}{}, struct{}{}
		r.mu.Unlock()
		r.wg.Add(2)
		go r.pipe(c, up, tp)
		go r.pipe(up, c, nil)
	}
}

// pipe copies from src to dst, recording into tp when it is not nil, and closes both ends when
// either side is done.
func (r *recorder) pipe(src, dst net.Conn, tp *tap) {
	defer r.wg.Done()
	defer r.forget(src, dst)
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if tp != nil {
				r.mu.Lock()
				r.seq++
				tp.chunks = append(tp.chunks, chunk{seq: r.seq, offset: len(tp.data)})
				tp.data = append(tp.data, buf[:n]...)
				r.mu.Unlock()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *recorder) forget(conns ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(r.open, c)
	}
}

func (r *recorder) close() {
	r.ln.Close()
	r.mu.Lock()
	for c := range r.open {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// since returns the complete requests that began after mark, in the order they were sent.
func (r *recorder) since(mark int) []recordedRequest {
	r.mu.Lock()
	taps := make([]tap, len(r.conns))
	for i, tp := range r.conns {
		taps[i] = tap{data: append([]byte(nil), tp.data...), chunks: append([]chunk(nil), tp.chunks...)}
	}
	r.mu.Unlock()
	var out []recordedRequest
	for _, tp := range taps {
		for _, req := range tp.requests() {
			if req.seq > mark {
				out = append(out, req)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// all returns every complete request so far.
func (r *recorder) all() []recordedRequest { return r.since(0) }

// requests parses the connection's bytes into the complete requests they hold.
func (tp tap) requests() []recordedRequest {
	cr := &countingReader{r: bytes.NewReader(tp.data)}
	br := bufio.NewReader(cr)
	var out []recordedRequest
	for {
		start := cr.n - br.Buffered()
		req, err := http.ReadRequest(br)
		if err != nil {
			return out
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return out // the rest of this request has not arrived yet
		}
		rec := recordedRequest{Method: req.Method, URI: req.RequestURI, Header: req.Header, Body: body}
		if end := bytes.Index(tp.data[start:], []byte("\r\n\r\n")); end >= 0 {
			rec.RawHeader = string(tp.data[start : start+end])
		}
		for _, c := range tp.chunks {
			if c.offset > start {
				break
			}
			rec.seq = c.seq
		}
		out = append(out, rec)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// logRequests writes the requests to the test log, as a record of what a client sends.
func logRequests(t *testing.T, client string, reqs []recordedRequest) {
	t.Helper()
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString("\n  ")
		b.WriteString(r.String())
	}
	t.Logf("%s sent %d requests:%s", client, len(reqs), b.String())
}

// methodsAndPaths lists "METHOD URI" of each request.
func methodsAndPaths(reqs []recordedRequest) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + r.URI
	}
	return out
}
