package rest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Response header rules: Connect's response.http.headers.config, which configures Jetty's
// HeaderFilter. The value is a comma-separated list of rules "<action> <Header-Name>:<value>";
// a rule holding a comma is double-quoted. Actions (any case): set (replace the header), add
// (add a value), setDate and addDate (the value is milliseconds from now; the header is that
// time as an HTTP date). Rules apply to every response, before the API writes its own
// headers, so the API's own Content-Type, Location and Allow win, as they do in Connect.

const responseHeadersConfig = "response.http.headers.config"

// Header rule actions.
const (
	actionSet     = "set"
	actionAdd     = "add"
	actionSetDate = "setDate"
	actionAddDate = "addDate"
)

var headerActions = []string{actionSet, actionAdd, actionSetDate, actionAddDate}

// headerRule is one parsed rule.
type headerRule struct {
	action string // one of headerActions, as spelled there
	name   string // canonical header name
	value  string
	millis int64 // setDate, addDate: offset from now
}

var whitespace = regexp.MustCompile(`\s+`)

// parseHeaderRules parses response.http.headers.config with the checks Connect makes
// (RestServerConfig.validateHttpResponseHeaderConfig), plus a number check of date offsets.
func parseHeaderRules(config string) ([]headerRule, error) {
	if strings.TrimSpace(config) == "" {
		return nil, nil
	}
	var rules []headerRule
	for _, raw := range csvSplit(config) {
		r, err := parseHeaderRule(raw)
		if err != nil {
			return nil, fmt.Errorf("Invalid value %s for configuration %s: %w", config, responseHeadersConfig, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseHeaderRule(raw string) (headerRule, error) {
	tokens := whitespace.Split(strings.TrimSpace(raw), 2)
	if len(tokens) != 2 {
		return headerRule{}, fmt.Errorf("Invalid format of header config '%s'. Expected: '[action] [header name]:[header value]'", raw)
	}
	var r headerRule
	for _, a := range headerActions {
		if strings.EqualFold(a, tokens[0]) {
			r.action = a
		}
	}
	if r.action == "" {
		return headerRule{}, fmt.Errorf("Invalid header config action: '%s'. Expected one of [%s]", tokens[0], strings.Join(headerActions, ", "))
	}
	header := strings.TrimSpace(tokens[1])
	name, value, ok := strings.Cut(header, ":")
	// Connect wants "name:value" split on ":" into exactly two parts: the value may neither be
	// empty nor hold another ":".
	if !ok || value == "" || strings.Contains(value, ":") {
		return headerRule{}, fmt.Errorf("Invalid format of header name and header value pair '%s'. Expected: '[header name]:[header value]'", tokens[1])
	}
	name = strings.TrimSpace(name)
	if name == "" || whitespace.MatchString(name) {
		return headerRule{}, fmt.Errorf("Invalid header name '%s'. The '[header name]' cannot contain whitespace", name)
	}
	r.name = http.CanonicalHeaderKey(name)
	r.value = strings.TrimSpace(value)
	if r.action == actionSetDate || r.action == actionAddDate {
		ms, err := strconv.ParseInt(r.value, 10, 64)
		if err != nil {
			return headerRule{}, fmt.Errorf("Invalid header config '%s': the value of a %s rule is milliseconds from now, an integer", raw, r.action)
		}
		r.millis = ms
	}
	return r, nil
}

// csvSplit splits a comma-separated list as Jetty's StringUtil.csvSplit does: items are
// trimmed and empty ones dropped; an item in double quotes may hold commas, and a backslash in
// it escapes the next character.
func csvSplit(s string) []string {
	var out []string
	var b strings.Builder
	inQuotes, quoted := false, false
	flush := func() {
		item := b.String()
		if !quoted {
			item = strings.TrimSpace(item)
		}
		if item != "" {
			out = append(out, item)
		}
		b.Reset()
		quoted = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuotes && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case inQuotes && c == '"':
			inQuotes = false
		case !inQuotes && c == '"' && strings.TrimSpace(b.String()) == "":
			b.Reset()
			inQuotes, quoted = true, true
		case !inQuotes && c == ',':
			flush()
		case quoted && !inQuotes && (c == ' ' || c == '\t'):
			// spaces after a closing quote
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return out
}

// responseHeaders applies the header rules to every response.
func (s *Server) responseHeaders(next http.Handler) http.Handler {
	if len(s.headers) == 0 {
		return next
	}
	rules := s.headers
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		now := time.Now()
		for _, rule := range rules {
			switch rule.action {
			case actionSet:
				h.Set(rule.name, rule.value)
			case actionAdd:
				h.Add(rule.name, rule.value)
			case actionSetDate:
				h.Set(rule.name, now.Add(time.Duration(rule.millis)*time.Millisecond).UTC().Format(http.TimeFormat))
			case actionAddDate:
				h.Add(rule.name, now.Add(time.Duration(rule.millis)*time.Millisecond).UTC().Format(http.TimeFormat))
			}
		}
		next.ServeHTTP(w, r)
	})
}
