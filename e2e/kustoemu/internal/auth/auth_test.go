package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func newProvider(t *testing.T, now *time.Time) *Provider {
	t.Helper()
	p, err := New(Config{Clients: map[string]string{"app1": "s3cret"}, Audience: "https://127.0.0.1:8080",
		Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	p.SetBaseURL("https://127.0.0.1:9999")
	return p
}

func tokenRequest(p *Provider, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/kustoemu/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	return w
}

func TestTokenFlow(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProvider(t, &now)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app1"}, "client_secret": {"s3cret"}, "scope": {"https://127.0.0.1:8080/.default"}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c.Set(k, v)
		return c
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"wrong secret", with("client_secret", "nope"), http.StatusUnauthorized, "invalid_client"},
		{"unknown client", with("client_id", "app2"), http.StatusBadRequest, "unauthorized_client"},
		{"wrong scope", with("scope", "https://other/.default"), http.StatusBadRequest, "invalid_scope"},
		{"wrong grant", with("grant_type", "password"), http.StatusBadRequest, "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tokenRequest(p, tc.form)
			if w.Code != tc.status {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, tc.status)
			}
			var body map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if body["error"] != tc.code {
				t.Fatalf("error = %v, want %s", body["error"], tc.code)
			}
			if strings.Contains(w.Body.String(), "s3cret") {
				t.Fatal("the response contains the secret")
			}
		})
	}

	w := tokenRequest(p, good)
	if w.Code != http.StatusOK {
		t.Fatalf("token status = %d (%s)", w.Code, w.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Fatalf("token response = %s (%v)", w.Body, err)
	}
	if err := p.Validate("Bearer " + tok.AccessToken); err != nil {
		t.Fatalf("Validate(issued token) = %v", err)
	}
	tampered := tok.AccessToken[:len(tok.AccessToken)-2] + "xx"
	other, _ := New(Config{Clients: map[string]string{"a": "b"}, Audience: "https://127.0.0.1:8080"})
	for name, check := range map[string]func() error{
		"no header":    func() error { return p.Validate("") },
		"basic scheme": func() error { return p.Validate("Basic abc") },
		"tampered":     func() error { return p.Validate("Bearer " + tampered) },
		"not a JWT":    func() error { return p.Validate("Bearer abc") },
		"other issuer": func() error { return other.Validate("Bearer " + tok.AccessToken) },
		"after expiry": func() error {
			now = now.Add(2 * time.Hour)
			defer func() { now = now.Add(-2 * time.Hour) }()
			return p.Validate("Bearer " + tok.AccessToken)
		},
		"before issued": func() error {
			now = now.Add(-time.Hour)
			defer func() { now = now.Add(time.Hour) }()
			return p.Validate("Bearer " + tok.AccessToken)
		},
	} {
		err := check()
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: Validate = %v, want ErrUnauthorized", name, err)
		}
		if err != nil && strings.Contains(err.Error(), tok.AccessToken) {
			t.Errorf("%s: the error contains the token", name)
		}
	}
}

func TestDiscovery(t *testing.T) {
	now := time.Now()
	p := newProvider(t, &now)
	get := func(path string) (int, map[string]any) {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		return w.Code, m
	}
	code, m := get("/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape("https://127.0.0.1:9999/kustoemu/oauth2/v2.0/authorize"))
	if code != http.StatusOK || m["tenant_discovery_endpoint"] != "https://127.0.0.1:9999/kustoemu/v2.0/.well-known/openid-configuration" {
		t.Fatalf("instance discovery = %d %v", code, m)
	}
	if code, _ := get("/common/discovery/instance?authorization_endpoint=" + url.QueryEscape("https://login.example/x/oauth2/v2.0/authorize")); code != http.StatusBadRequest {
		t.Fatalf("instance discovery for another host = %d", code)
	}
	code, m = get("/kustoemu/v2.0/.well-known/openid-configuration")
	if code != http.StatusOK || m["token_endpoint"] != "https://127.0.0.1:9999/kustoemu/oauth2/v2.0/token" || m["issuer"] != "https://127.0.0.1:9999/kustoemu/v2.0" {
		t.Fatalf("openid configuration = %d %v", code, m)
	}
	if code, _ := get("/othertenant/v2.0/.well-known/openid-configuration"); code != http.StatusBadRequest {
		t.Fatalf("openid configuration of an unknown tenant = %d", code)
	}
}

func TestNewNeedsClients(t *testing.T) {
	if _, err := New(Config{Audience: "x"}); err == nil {
		t.Fatal("a provider without clients was created")
	}
	if _, err := New(Config{Audience: "x", Clients: map[string]string{"a": ""}}); err == nil {
		t.Fatal("a client with an empty secret was accepted")
	}
}
