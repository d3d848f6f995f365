package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/kconnect/kconnect/cluster"
)

// exchange is one request on its way through a handler. Besides the request it holds what the
// handler learnt that the wrapper needs afterwards: the body and query to send on if the herder
// redirects the request, and the Location of a created connector.
type exchange struct {
	w http.ResponseWriter
	r *http.Request
	// forwardBody is the parsed body, re-serialised when the request is forwarded (as Java
	// does; nil sends no body).
	forwardBody any
	// forwardQuery holds the query parameters forwarded besides "forward".
	forwardQuery url.Values
	// location is the path of the connector a 201 answer created, made absolute for the
	// Location header.
	location string
}

func (x *exchange) ctx() context.Context { return x.r.Context() }

// reply is a handler's answer: a status and an optional body.
type reply struct {
	status int
	body   any    // encoded as JSON; nil for no body
	raw    []byte // a JSON body relayed from another worker, sent as is
}

// handlerFunc handles one endpoint: it returns the answer or an error for asError to map.
type handlerFunc func(x *exchange) (reply, error)

// endpoint wraps a handler: it bounds the request's time, forwards the request when the
// herder answers with a redirect (forward.go, decided once here for every endpoint), and writes
// the reply or the error.
func (s *Server) endpoint(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.requestTimeout)
		defer cancel()
		x := &exchange{w: w, r: r.WithContext(ctx)}
		rep, err := h(x)
		var redirect *cluster.RedirectError
		if errors.As(err, &redirect) {
			rep, err = s.forward(x, redirect)
		}
		if err != nil {
			s.writeError(w, x.r, err)
			return
		}
		if rep.status == http.StatusCreated && x.location != "" {
			w.Header().Set("Location", absoluteURL(x.r, x.location))
		}
		writeReply(w, rep)
	}
}

// absoluteURL makes a path absolute against the URL the client used, as JAX-RS does for
// Location headers.
func absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

func writeReply(w http.ResponseWriter, rep reply) {
	switch {
	case rep.raw != nil:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.raw)
	case rep.body != nil:
		data, err := encodeJSON(rep.body)
		if err != nil {
			writeErrorBody(w, newError(http.StatusInternalServerError, "Encoding the response failed: %v", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = w.Write(data)
	default:
		w.WriteHeader(rep.status)
	}
}

// encodeJSON encodes v compactly and, like Jackson, without escaping <, > and &.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeError answers with err's status and an ErrorMessage body, and logs failures of this
// worker (not the client's mistakes) at error level.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if !isClientError(err) {
		s.log.Error("REST request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Message)
	}
	writeErrorBody(w, e)
}

func writeErrorBody(w http.ResponseWriter, e *Error) {
	data, err := encodeJSON(errorMessage{ErrorCode: e.Code, Message: e.Message})
	if err != nil {
		data = []byte(`{"error_code":500,"message":"` + msgInternalServerError + `"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(data)
}
