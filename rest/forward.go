package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/kconnect/kconnect/cluster"
)

// Forwarding (Java's HerderRequestHandler.completeOrForwardRequest and RestClient). When the
// herder says another worker must handle a request (the leader, or the owner of a connector or
// task), the request is sent there and that worker's answer becomes this one's. The hidden
// "forward" query parameter bounds the path to two hops between workers:
//
//	absent  (the user's request)    → forward with forward=true; the next worker may forward once more
//	true    (first hop)             → forward with forward=false; the last hop
//	false   (last hop)              → refuse with 409: the cluster changed under the request
//
// Only the Authorization header travels with the request; the body is the parsed body
// re-serialised, as Java sends it.

const (
	forwardParam = "forward"
	// maxForwardedResponse bounds what is read from another worker's answer.
	maxForwardedResponse = 64 << 20
	// forwardUserAgent is the User-Agent of forwarded requests, as Connect's RestClient sets it.
	forwardUserAgent = "kafka-connect"
)

// forward sends the exchange's request to the redirect's target and returns its answer.
func (s *Server) forward(x *exchange, redirect *cluster.RedirectError) (reply, error) {
	// Java checks the hop count before the target: a last hop refuses even when the target
	// is unknown.
	incoming, present := forwardFlag(x.r)
	if present && !incoming {
		s.log.Warn("cannot complete request: the worker that must handle it was not reached within two hops",
			"method", x.r.Method, "path", x.r.URL.Path, "target", redirect.TargetURL)
		return reply{}, newError(http.StatusConflict, msgConflictingOp)
	}
	if redirect.TargetURL == "" {
		return reply{}, newError(http.StatusConflict, msgNoLeader)
	}
	query := url.Values{}
	for k, v := range x.forwardQuery {
		query[k] = v
	}
	query.Set(forwardParam, boolText(!present)) // a first hop may be forwarded once more
	target := strings.TrimRight(redirect.TargetURL, "/") + routePath(x.r) + "?" + query.Encode()

	var body io.Reader
	if x.forwardBody != nil {
		data, err := encodeJSON(x.forwardBody)
		if err != nil {
			return reply{}, newError(http.StatusInternalServerError, "Error trying to forward REST request: encoding the body: %v", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(x.ctx(), x.r.Method, target, body)
	if err != nil {
		return reply{}, newError(http.StatusInternalServerError, "IO Error trying to forward REST request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", forwardUserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth := x.r.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	s.log.Debug("forwarding REST request", "method", req.Method, "url", req.URL.Redacted(), "reason", redirect.Reason)

	resp, err := s.client.Do(req)
	if err != nil {
		return reply{}, newError(http.StatusInternalServerError, "IO Error trying to forward REST request: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardedResponse))
	if err != nil {
		return reply{}, newError(http.StatusInternalServerError, "IO Error trying to forward REST request: reading the response of %s: %v", req.URL.Redacted(), err)
	}
	return relay(req, resp.StatusCode, data)
}

// relay turns another worker's answer into this worker's: successes pass through with their
// status and body; errors are raised again with the same status, error_code and message.
func relay(req *http.Request, status int, data []byte) (reply, error) {
	switch {
	case status == http.StatusNoContent:
		return reply{status: status}, nil
	case status >= 400:
		var em errorMessage
		if err := json.Unmarshal(data, &em); err != nil {
			return reply{}, newError(http.StatusInternalServerError,
				"IO Error trying to forward REST request: %s answered HTTP %d with a body that is not a Connect error message: %v",
				req.URL.Redacted(), status, err)
		}
		return reply{}, &Error{Status: status, Code: em.ErrorCode, Message: em.Message}
	case status >= 200 && status < 300:
		if len(bytes.TrimSpace(data)) == 0 {
			return reply{status: status}, nil
		}
		if !json.Valid(data) {
			return reply{}, newError(http.StatusInternalServerError,
				"IO Error trying to forward REST request: %s answered HTTP %d with a body that is not JSON", req.URL.Redacted(), status)
		}
		return reply{status: status, raw: data}, nil
	}
	return reply{}, newError(http.StatusInternalServerError, "Unexpected status code when handling forwarded request: %d", status)
}

// forwardFlag reads the "forward" query parameter as JAX-RS reads a Boolean: absent is null,
// "true" in any case is true, anything else false.
func forwardFlag(r *http.Request) (value, present bool) {
	vs, ok := r.URL.Query()[forwardParam]
	if !ok || len(vs) == 0 {
		return false, false
	}
	return strings.EqualFold(vs[0], "true"), true
}

// queryBool reads a boolean query parameter the same way, with a default when absent.
func queryBool(r *http.Request, name string, def bool) bool {
	vs, ok := r.URL.Query()[name]
	if !ok || len(vs) == 0 {
		return def
	}
	return strings.EqualFold(vs[0], "true")
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
