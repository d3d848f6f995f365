// Package rest serves the Kafka Connect REST API of a worker: the same paths, JSON shapes,
// status codes and error messages as Apache Kafka Connect, over the [Herder] interface the
// cluster package implements.
//
// Start with [Server] ([New], [Server.Start], [Server.Shutdown]). The route table is in
// routes.go, one file per resource holds its handlers (root.go, connectors.go, plugins.go,
// internal.go), entities.go holds the JSON shapes, errors.go the single mapping from errors to
// statuses, forward.go the forwarding of requests to the worker that must handle them,
// body.go the Jackson-compatible binding of request bodies, and cors.go and headers.go the
// CORS answers and response header rules the worker configuration asks for. Listeners are
// http or https (Options.TLS).
package rest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Time limits.
const (
	// requestTimeout bounds one request, as Connect's 90 s REST request timeout does; a herder
	// call that takes longer answers 500 "Request timed out".
	requestTimeout = 90 * time.Second
	// healthTimeout bounds the herder call behind GET /health (KIP-1017 waits 10 s).
	healthTimeout = 10 * time.Second
	// readHeaderTimeout stops clients that open connections and never finish a request.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes keep-alive connections nobody uses.
	idleTimeout = 2 * time.Minute
)

// DefaultListener is the listener used when Options.Listeners is empty (Connect's default).
const DefaultListener = "http://:8083"

// Options configure a Server.
type Options struct {
	// Listeners are the URLs to serve on, as Connect's "listeners" setting spells them:
	// "http://host:port" or "https://host:port"; an empty host binds every interface and port
	// 0 picks a free port. Default: [DefaultListener].
	Listeners []string
	// TLS serves the https listeners; New refuses an https listener without it.
	// cluster.WorkerConfig.ListenerTLS builds it from the worker's ssl.* settings.
	TLS *tls.Config
	// Logger receives request logs (debug) and server errors. Default: slog.Default().
	Logger *slog.Logger
	// HTTPClient forwards requests to other workers. It is used with redirects disabled.
	// Default: a client with connect and response-header timeouts that speaks TLS to https
	// workers with ClientTLS.
	HTTPClient *http.Client
	// ClientTLS is the TLS of the default HTTPClient (cluster.WorkerConfig.ClientTLS builds it
	// from the worker's settings). Default: Go's, which trusts the system's CAs.
	ClientTLS *tls.Config
	// CORS answers cross-origin requests as Connect's access.control.allow.* settings do.
	// Default: no CORS headers.
	CORS CORS
	// ResponseHeaders are Connect's response.http.headers.config: comma-separated rules
	// "<action> <Header-Name>:<value>" adding headers to every response. Default: none.
	ResponseHeaders string
}

// Server is the REST API of one worker. Build it with New, bind it with Start, stop it with
// Shutdown; Handler serves the same API without listening, for tests.
type Server struct {
	herder  Herder
	log     *slog.Logger
	client  *http.Client
	specs   []listenerSpec
	tls     *tls.Config
	cors    *corsPolicy  // nil: CORS disabled
	headers []headerRule // response.http.headers.config
	handler http.Handler

	requestTimeout time.Duration

	// inflight counts running handlers, so Shutdown can wait for them after it cancels them.
	inflight sync.WaitGroup
	// baseCtx is every request's parent; cancel ends requests a forced shutdown abandons.
	baseCtx context.Context
	cancel  context.CancelFunc

	mu        sync.Mutex
	state     serverState
	srv       *http.Server
	listeners []net.Listener
	serving   sync.WaitGroup // one per listener's Serve goroutine
}

type serverState int

const (
	stateNew serverState = iota
	stateStarted
	stateStopped
)

// listenerSpec is one parsed entry of Options.Listeners.
type listenerSpec struct {
	raw   string
	addr  string // host:port for net.Listen
	https bool
}

// New builds the server of herder h. It checks the listeners but binds nothing.
func New(h Herder, opts Options) (*Server, error) {
	if h == nil {
		return nil, errors.New("rest: a herder is required")
	}
	listeners := opts.Listeners
	if len(listeners) == 0 {
		listeners = []string{DefaultListener}
	}
	specs := make([]listenerSpec, 0, len(listeners))
	for _, l := range listeners {
		spec, err := parseListener(l)
		if err != nil {
			return nil, err
		}
		if spec.https && opts.TLS == nil {
			return nil, fmt.Errorf("rest: listener %q is https but no TLS settings were given: set ssl.keystore.type=PEM and ssl.keystore.location "+
				"(or the listeners.https.ssl.* settings)", l)
		}
		specs = append(specs, spec)
	}
	cors, err := newCORSPolicy(opts.CORS)
	if err != nil {
		return nil, err
	}
	headers, err := parseHeaderRules(opts.ResponseHeaders)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		herder:         h,
		log:            log,
		client:         forwardingClient(opts.HTTPClient, opts.ClientTLS),
		specs:          specs,
		tls:            opts.TLS,
		cors:           cors,
		headers:        headers,
		requestTimeout: requestTimeout,
		baseCtx:        ctx,
		cancel:         cancel,
	}
	s.handler = s.routes()
	return s, nil
}

// parseListener checks one listener URL: protocol://host:port, protocol http or https,
// case-insensitive as in Connect.
func parseListener(raw string) (listenerSpec, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return listenerSpec{}, fmt.Errorf("rest: invalid listener %q: expected protocol://host:port, e.g. %s", raw, DefaultListener)
	}
	var https bool
	switch strings.ToLower(u.Scheme) {
	case "http":
	case "https":
		https = true
	default:
		return listenerSpec{}, fmt.Errorf("rest: listener %q: unsupported protocol %q; use http or https", raw, u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return listenerSpec{}, fmt.Errorf("rest: invalid listener %q: a listener has no path", raw)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || port == "" {
		return listenerSpec{}, fmt.Errorf("rest: invalid listener %q: expected protocol://host:port with a port", raw)
	}
	return listenerSpec{raw: raw, addr: net.JoinHostPort(host, port), https: https}, nil
}

// forwardingClient returns the client used to forward requests. Forwarding never follows
// redirects (Connect's RestClient does not either); a caller's client is copied, not changed.
func forwardingClient(c *http.Client, clientTLS *tls.Config) *http.Client {
	if c == nil {
		c = &http.Client{
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				TLSClientConfig:       clientTLS,
				TLSHandshakeTimeout:   10 * time.Second,
				MaxIdleConnsPerHost:   4,
				IdleConnTimeout:       90 * time.Second,
				ResponseHeaderTimeout: requestTimeout,
			},
		}
	} else {
		copied := *c
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// Handler returns the whole API as an http.Handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Start binds every listener and serves them in the background. It fails, binding nothing, if
// any listener cannot be bound. A server starts once.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("rest: server already started")
	}
	bound := make([]net.Listener, 0, len(s.specs))
	for _, spec := range s.specs {
		l, err := net.Listen("tcp", spec.addr)
		if err != nil {
			for _, b := range bound {
				_ = b.Close()
			}
			return fmt.Errorf("rest: binding listener %s: %w", spec.raw, err)
		}
		if spec.https {
			l = tls.NewListener(l, s.tls)
		}
		bound = append(bound, l)
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	s.listeners = bound
	s.state = stateStarted
	for i, l := range bound {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("REST listener stopped", "addr", l.Addr().String(), "err", err)
			}
		}()
		s.log.Info("REST API listening", "addr", l.Addr().String(), "listener", s.specs[i].raw)
	}
	return nil
}

// Addrs returns the bound addresses, in the order of Options.Listeners (nil before Start).
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Addr, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, l.Addr())
	}
	return out
}

// Shutdown stops accepting requests and waits for running ones to finish. If ctx ends first,
// it cancels the running requests, closes their connections, waits for the handlers to return
// and reports ctx's error. It is safe to call more than once and before Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateStopped:
		return nil
	case stateNew:
		s.state = stateStopped
		s.cancel()
		return nil
	}
	s.state = stateStopped
	err := s.srv.Shutdown(ctx)
	if err != nil {
		// Out of time: cancel what still runs (herder calls honour the context), drop the
		// connections, and wait for the handlers so none outlives the server.
		s.cancel()
		_ = s.srv.Close()
		s.inflight.Wait()
	}
	s.serving.Wait()
	s.cancel()
	if err != nil {
		return fmt.Errorf("rest: shutting down: %w", err)
	}
	return nil
}
