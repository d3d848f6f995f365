package rest

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestResponseHeaderRules(t *testing.T) {
	valid := []struct {
		config string
		want   []headerRule
	}{
		{"", nil},
		{"set X-Frame-Options:DENY", []headerRule{{action: actionSet, name: "X-Frame-Options", value: "DENY"}}},
		{`add Cache-Control: no-cache, "add Cache-Control: no-store, must-revalidate",SETDATE Expires:31540000000`, []headerRule{
			{action: actionAdd, name: "Cache-Control", value: "no-cache"},
			{action: actionAdd, name: "Cache-Control", value: "no-store, must-revalidate"},
			{action: actionSetDate, name: "Expires", value: "31540000000", millis: 31540000000},
		}},
		{"  addDate   last-modified:0 ", []headerRule{{action: actionAddDate, name: "Last-Modified", value: "0"}}},
	}
	for _, c := range valid {
		got, err := parseHeaderRules(c.config)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseHeaderRules(%q) = %+v, %v; want %+v", c.config, got, err, c.want)
		}
	}
	invalid := []struct{ config, want string }{
		{"set", "Invalid format of header config 'set'"},
		{"X-Frame-Options:DENY", "Invalid format of header config"},
		{"put X-Frame-Options:DENY", "Invalid header config action: 'put'. Expected one of [set, add, setDate, addDate]"},
		{"set X-Frame-Options", "Invalid format of header name and header value pair 'X-Frame-Options'"},
		{"set X-Frame-Options:", "Invalid format of header name and header value pair"},
		{"set Location:http://x", "Invalid format of header name and header value pair"},
		{"set :DENY", "Invalid header name ''"},
		{"set X Frame:DENY", "Invalid header name 'X Frame'. The '[header name]' cannot contain whitespace"},
		{"setDate Expires:tomorrow", "milliseconds from now"},
	}
	for _, c := range invalid {
		_, err := parseHeaderRules(c.config)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "response.http.headers.config") {
			t.Errorf("parseHeaderRules(%q) = %v, want an error containing %q", c.config, err, c.want)
		}
	}
}

func TestResponseHeadersApplied(t *testing.T) {
	s, err := New(newFakeHerder(), Options{Logger: testLogger(t),
		ResponseHeaders: `set X-Frame-Options:DENY,add Cache-Control:no-cache,add Cache-Control:no-store,setDate Expires:60000,set Content-Type:text/plain`})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/connectors", "/nowhere"} {
		before := time.Now().Truncate(time.Second)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		h := rec.Header()
		if got := h.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", path, got)
		}
		if got := h.Values("Cache-Control"); !reflect.DeepEqual(got, []string{"no-cache", "no-store"}) {
			t.Errorf("%s: Cache-Control %q", path, got)
		}
		expires, err := http.ParseTime(h.Get("Expires"))
		if err != nil || expires.Before(before.Add(time.Minute)) || expires.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: Expires %q (%v), want a minute from now", path, h.Get("Expires"), err)
		}
		// The API's own headers win, as the servlet's do over Jetty's header filter.
		if got := h.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s: Content-Type %q", path, got)
		}
	}
}

func TestCSVSplit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a, b ,,c", []string{"a", "b", "c"}},
		{`"a, b", c`, []string{"a, b", "c"}},
		{`  "x \"y\", z"  ,w`, []string{`x "y", z`, "w"}},
	} {
		if got := csvSplit(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("csvSplit(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
