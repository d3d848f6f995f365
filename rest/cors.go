package rest

import (
	"net/http"
	"regexp"
	"strings"
)

// Cross-origin resource sharing, as Connect configures Jetty's CrossOriginFilter from
// access.control.allow.origin and access.control.allow.methods, with the filter's defaults
// for everything else: credentials allowed, preflights cached for 1800 s, the request headers
// X-Requested-With, Content-Type, Accept and Origin allowed, and preflights passed on to the
// API (which answers OPTIONS with the resource's methods).

// CORS configures cross-origin resource sharing.
type CORS struct {
	// AllowedOrigins is access.control.allow.origin: comma-separated origins, each of which
	// may hold "*" wildcards (https://*.example.com), or "*" for any. Empty disables CORS.
	AllowedOrigins string
	// AllowedMethods is access.control.allow.methods: comma-separated methods preflights may
	// ask for. Empty means GET, POST and HEAD.
	AllowedMethods string
}

// CORS header names.
const (
	headerOrigin                 = "Origin"
	headerRequestMethod          = "Access-Control-Request-Method"
	headerRequestHeaders         = "Access-Control-Request-Headers"
	headerAllowOrigin            = "Access-Control-Allow-Origin"
	headerAllowCredentials       = "Access-Control-Allow-Credentials"
	headerAllowMethods           = "Access-Control-Allow-Methods"
	headerAllowHeaders           = "Access-Control-Allow-Headers"
	headerMaxAge                 = "Access-Control-Max-Age"
	corsDefaultMethods           = "GET,POST,HEAD"
	corsAllowedHeaders           = "X-Requested-With,Content-Type,Accept,Origin"
	corsPreflightMaxAgeSeconds   = "1800"
	corsAnyOrigin                = "*"
	corsWebSocketUpgradeProtocol = "websocket"
)

// corsPolicy is a parsed CORS configuration.
type corsPolicy struct {
	anyOrigin bool
	origins   []string         // exact origins
	patterns  []*regexp.Regexp // origins with wildcards
	methods   []string
	headers   []string
}

// newCORSPolicy parses c; it returns nil when CORS is disabled.
func newCORSPolicy(c CORS) (*corsPolicy, error) {
	if strings.TrimSpace(c.AllowedOrigins) == "" {
		return nil, nil
	}
	p := &corsPolicy{}
	for _, o := range strings.Split(c.AllowedOrigins, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
		case o == corsAnyOrigin:
			p.anyOrigin = true
		case strings.Contains(o, "*"):
			parts := strings.Split(o, "*")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			// Greedy, so one wildcard spans several subdomains, as Jetty matches.
			re, err := regexp.Compile("^" + strings.Join(parts, ".*") + "$")
			if err != nil {
				return nil, err
			}
			p.patterns = append(p.patterns, re)
		default:
			p.origins = append(p.origins, o)
		}
	}
	methods := c.AllowedMethods
	if strings.TrimSpace(methods) == "" {
		methods = corsDefaultMethods
	}
	p.methods = splitTrimmed(methods)
	p.headers = splitTrimmed(corsAllowedHeaders)
	return p, nil
}

func splitTrimmed(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// allows reports whether the Origin header (a space-separated list) holds an allowed origin.
func (p *corsPolicy) allows(origin string) bool {
	if p.anyOrigin {
		return true
	}
	for _, o := range strings.Fields(origin) {
		for _, a := range p.origins {
			if a == o {
				return true
			}
		}
		for _, re := range p.patterns {
			if re.MatchString(o) {
				return true
			}
		}
	}
	return false
}

// corsFilter adds the CORS headers to answers to allowed cross-origin requests; every request goes
// on to the API, preflights included.
func (s *Server) corsFilter(next http.Handler) http.Handler {
	if s.cors == nil {
		return next
	}
	p := s.cors
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get(headerOrigin)
		if origin != "" && !isWebSocketUpgrade(r) && p.allows(origin) {
			if r.Method == http.MethodOptions && r.Header.Get(headerRequestMethod) != "" {
				p.preflight(w, r, origin)
			} else {
				p.simple(w, origin)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (p *corsPolicy) simple(w http.ResponseWriter, origin string) {
	h := w.Header()
	h.Set(headerAllowOrigin, origin)
	if !p.anyOrigin {
		h.Add("Vary", headerOrigin)
	}
	h.Set(headerAllowCredentials, "true")
}

// preflight answers a preflight whose method and headers are all allowed; otherwise it adds
// nothing and the browser refuses the request.
func (p *corsPolicy) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	method := strings.TrimSpace(r.Header.Get(headerRequestMethod))
	allowed := false
	for _, m := range p.methods {
		if m == method {
			allowed = true
		}
	}
	if !allowed {
		return
	}
	for _, want := range strings.Split(r.Header.Get(headerRequestHeaders), ",") {
		want = strings.TrimSpace(want)
		if want == "" {
			continue
		}
		ok := false
		for _, h := range p.headers {
			if strings.EqualFold(h, want) {
				ok = true
			}
		}
		if !ok {
			return
		}
	}
	p.simple(w, origin)
	h := w.Header()
	h.Set(headerMaxAge, corsPreflightMaxAgeSeconds)
	h.Set(headerAllowMethods, strings.Join(p.methods, ","))
	h.Set(headerAllowHeaders, strings.Join(p.headers, ","))
}

// isWebSocketUpgrade reports a WebSocket handshake, which Jetty's filter leaves alone.
func isWebSocketUpgrade(r *http.Request) bool {
	for _, c := range r.Header.Values("Connection") {
		for _, v := range strings.Split(c, ",") {
			if strings.EqualFold(strings.TrimSpace(v), "upgrade") {
				for _, u := range r.Header.Values("Upgrade") {
					if strings.EqualFold(strings.TrimSpace(u), corsWebSocketUpgradeProtocol) {
						return true
					}
				}
			}
		}
	}
	return false
}
