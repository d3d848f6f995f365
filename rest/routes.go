package rest

import (
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Route parameters.
const (
	paramConnector = "connector"
	paramTask      = "task"
	paramPlugin    = "plugin"
)

// routes is the route table of the whole API (Java's RootResource, ConnectorsResource,
// InternalConnectResource and ConnectorPluginsResource). Routes that read a JSON body go
// through requireJSON; every other route ignores whatever body and Content-Type a client sends
// (the Azure Postman collections send " " bodies on GET, PUT pause and DELETE). OPTIONS on any
// resource answers its methods (methodNotAllowed), as Jersey does, which CORS preflights need.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.guard, s.corsFilter, s.responseHeaders, s.logRequests, canonicalPath, middleware.GetHead)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)
	body := r.With(s.requireJSON)

	r.Get("/", s.endpoint(s.serverInfo))
	r.Get("/health", s.endpoint(s.health))

	r.Get("/connectors", s.endpoint(s.listConnectors))
	body.Post("/connectors", s.endpoint(s.createConnector))
	r.Get("/connectors/{connector}", s.endpoint(lookup(connectorName, s.herder.ConnectorInfo, fromConnectorInfo)))
	r.Delete("/connectors/{connector}", s.endpoint(action(connectorName, s.herder.DeleteConnector, http.StatusNoContent)))
	// The config is exactly the map the herder holds: clients (Terraform, Strimzi) compare it
	// with what they submitted.
	r.Get("/connectors/{connector}/config", s.endpoint(lookup(connectorName, s.herder.ConnectorConfig, nonNilMap)))
	body.Put("/connectors/{connector}/config", s.endpoint(s.putConnectorConfig))
	body.Patch("/connectors/{connector}/config", s.endpoint(s.patchConnectorConfig))
	r.Get("/connectors/{connector}/status", s.endpoint(lookup(connectorName, s.herder.ConnectorStatus, fromConnectorState)))
	r.Get("/connectors/{connector}/tasks", s.endpoint(lookup(connectorName, s.herder.TaskConfigs, fromTaskInfos)))
	body.Post("/connectors/{connector}/tasks", s.endpoint(s.putTaskConfigs)) // internal
	r.Get("/connectors/{connector}/tasks/{task}/status", s.endpoint(lookup(taskID, s.herder.TaskStatus, fromTaskState)))
	r.Post("/connectors/{connector}/tasks/{task}/restart", s.endpoint(action(taskID, s.herder.RestartTask, http.StatusNoContent)))
	r.Put("/connectors/{connector}/pause", s.endpoint(action(connectorName, s.herder.PauseConnector, http.StatusAccepted)))
	r.Put("/connectors/{connector}/resume", s.endpoint(action(connectorName, s.herder.ResumeConnector, http.StatusAccepted)))
	r.Put("/connectors/{connector}/stop", s.endpoint(action(connectorName, s.herder.StopConnector, http.StatusNoContent)))
	r.Post("/connectors/{connector}/restart", s.endpoint(s.restartConnector))
	r.Get("/connectors/{connector}/topics", s.endpoint(s.getConnectorTopics))
	r.Put("/connectors/{connector}/topics/reset", s.endpoint(action(connectorName, s.herder.ResetConnectorTopics, http.StatusAccepted)))

	r.Get("/connector-plugins", s.endpoint(s.listPlugins))
	r.Get("/connector-plugins/{plugin}/config", s.endpoint(s.getPluginConfig))
	body.Put("/connector-plugins/{plugin}/config/validate", s.endpoint(s.validateConfig))
	return r
}

// canonicalPath routes on the escaped path without one trailing slash. It is chi's
// StripSlashes (no redirect, which would break POST and DELETE clients) with one difference:
// it always routes on the escaped form, so a connector name holding an escaped "/" stays one
// path segment, and pathParam always unescapes.
func canonicalPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		if len(p) > 1 && p[len(p)-1] == '/' {
			p = p[:len(p)-1]
		}
		if p == "" {
			p = "/"
		}
		chi.RouteContext(r.Context()).RoutePath = p
		next.ServeHTTP(w, r)
	})
}

// pathParam returns a route parameter, unescaped. An empty segment or a malformed escape
// matches no resource (Jersey's path parameters need at least one character).
func pathParam(r *http.Request, name string) (string, error) {
	v, err := url.PathUnescape(chi.URLParam(r, name))
	if err != nil || v == "" {
		return "", newError(http.StatusNotFound, msgNotFound)
	}
	return v, nil
}

// routePath is the canonical escaped path the request was routed on, used when forwarding.
func routePath(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePath != "" {
		return rctx.RoutePath
	}
	return r.URL.EscapedPath()
}

// requireJSON answers 415 when a body-reading route gets a body that is declared as something
// other than JSON (Java: @Consumes(application/json)).
func (s *Server) requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isJSONMediaType(r.Header.Get("Content-Type")) {
			s.writeError(w, r, newError(http.StatusUnsupportedMediaType, msgUnsupportedMedia))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, newError(http.StatusNotFound, msgNotFound))
}

// allMethods are the methods the API serves, in the order the Allow header lists them.
var allMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers a method a resource does not serve with 405 and the methods it
// does serve; OPTIONS is answered with 200 and those methods.
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.Routes != nil {
		for _, m := range allMethods {
			match := m
			if m == http.MethodHead {
				match = http.MethodGet // GetHead serves HEAD wherever GET is served
			}
			if rctx.Routes.Match(chi.NewRouteContext(), match, rctx.RoutePath) {
				allowed = append(allowed, m)
			}
		}
	}
	if r.Method == http.MethodOptions && len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(append(allowed, http.MethodOptions), ", "))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
	}
	s.writeError(w, r, newError(http.StatusMethodNotAllowed, msgMethodNotAllowed))
}

// guard counts the request as in flight (Shutdown waits for it) and turns a panic into a 500,
// so a bug answers the client instead of dropping its connection.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("REST handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeErrorBody(w, newError(http.StatusInternalServerError, msgInternalServerError))
		}()
		next.ServeHTTP(w, r)
	})
}

// logRequests logs every request at debug level: method, path, status and latency. Bodies are
// never logged: connector configurations carry secrets.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "REST request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Duration("latency", time.Since(start)))
	})
}
