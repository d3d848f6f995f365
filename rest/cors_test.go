package rest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	type headers map[string]string
	cases := []struct {
		name    string
		cors    CORS
		method  string
		path    string
		request headers
		status  int
		want    headers // "" means the header must be absent
	}{
		{
			name: "disabled", cors: CORS{}, method: http.MethodGet, path: "/connectors",
			request: headers{"Origin": "https://ui.example.com"}, status: http.StatusOK,
			want: headers{headerAllowOrigin: "", headerAllowCredentials: ""},
		},
		{
			name: "any origin, simple request", cors: CORS{AllowedOrigins: "*"}, method: http.MethodGet, path: "/connectors",
			request: headers{"Origin": "https://ui.example.com"}, status: http.StatusOK,
			want: headers{headerAllowOrigin: "https://ui.example.com", headerAllowCredentials: "true", "Vary": "", headerAllowMethods: ""},
		},
		{
			name: "listed origin", cors: CORS{AllowedOrigins: "https://a.example.com, https://ui.example.com"}, method: http.MethodGet, path: "/connectors",
			request: headers{"Origin": "https://ui.example.com"}, status: http.StatusOK,
			want: headers{headerAllowOrigin: "https://ui.example.com", "Vary": "Origin"},
		},
		{
			name: "wildcard origin", cors: CORS{AllowedOrigins: "https://*.example.com"}, method: http.MethodGet, path: "/",
			request: headers{"Origin": "https://ui.eu.example.com"}, status: http.StatusOK,
			want: headers{headerAllowOrigin: "https://ui.eu.example.com"},
		},
		{
			name: "wildcard does not match another domain", cors: CORS{AllowedOrigins: "https://*.example.com"}, method: http.MethodGet, path: "/",
			request: headers{"Origin": "https://example.com.evil.org"}, status: http.StatusOK,
			want: headers{headerAllowOrigin: ""},
		},
		{
			name: "origin not allowed", cors: CORS{AllowedOrigins: "https://a.example.com"}, method: http.MethodGet, path: "/connectors",
			request: headers{"Origin": "https://evil.example.org"}, status: http.StatusOK,
			want: headers{headerAllowOrigin: ""},
		},
		{
			name: "no origin", cors: CORS{AllowedOrigins: "*"}, method: http.MethodGet, path: "/connectors",
			status: http.StatusOK, want: headers{headerAllowOrigin: ""},
		},
		{
			name: "preflight for a default method", cors: CORS{AllowedOrigins: "*"}, method: http.MethodOptions, path: "/connectors",
			request: headers{"Origin": "https://ui.example.com", headerRequestMethod: "POST", headerRequestHeaders: "content-type"},
			status:  http.StatusOK,
			want: headers{headerAllowOrigin: "https://ui.example.com", headerAllowMethods: "GET,POST,HEAD", headerMaxAge: "1800",
				headerAllowHeaders: "X-Requested-With,Content-Type,Accept,Origin", headerAllowCredentials: "true", "Allow": "GET, HEAD, POST, OPTIONS"},
		},
		{
			name: "preflight for a method not allowed", cors: CORS{AllowedOrigins: "*"}, method: http.MethodOptions, path: "/connectors/c",
			request: headers{"Origin": "https://ui.example.com", headerRequestMethod: "DELETE"},
			status:  http.StatusOK,
			want:    headers{headerAllowOrigin: "", headerAllowMethods: "", "Allow": "GET, HEAD, DELETE, OPTIONS"},
		},
		{
			name: "preflight for configured methods", cors: CORS{AllowedOrigins: "*", AllowedMethods: "GET, PUT,DELETE"}, method: http.MethodOptions, path: "/connectors/c",
			request: headers{"Origin": "https://ui.example.com", headerRequestMethod: "DELETE"},
			status:  http.StatusOK,
			want:    headers{headerAllowOrigin: "https://ui.example.com", headerAllowMethods: "GET,PUT,DELETE"},
		},
		{
			name: "preflight asking for a header not allowed", cors: CORS{AllowedOrigins: "*"}, method: http.MethodOptions, path: "/connectors",
			request: headers{"Origin": "https://ui.example.com", headerRequestMethod: "POST", headerRequestHeaders: "Content-Type, X-Secret"},
			status:  http.StatusOK,
			want:    headers{headerAllowOrigin: ""},
		},
		{
			name: "a non-simple request", cors: CORS{AllowedOrigins: "*"}, method: http.MethodDelete, path: "/connectors/missing",
			request: headers{"Origin": "https://ui.example.com"}, status: http.StatusNotFound,
			want: headers{headerAllowOrigin: "https://ui.example.com"},
		},
		{
			name: "OPTIONS of an unknown resource", cors: CORS{AllowedOrigins: "*"}, method: http.MethodOptions, path: "/nowhere",
			request: headers{"Origin": "https://ui.example.com", headerRequestMethod: "GET"}, status: http.StatusNotFound,
			want: headers{"Allow": ""},
		},
		{
			name: "WebSocket handshake left alone", cors: CORS{AllowedOrigins: "*"}, method: http.MethodGet, path: "/connectors",
			request: headers{"Origin": "https://ui.example.com", "Connection": "keep-alive, Upgrade", "Upgrade": "websocket"}, status: http.StatusOK,
			want: headers{headerAllowOrigin: ""},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(newFakeHerder(), Options{CORS: c.cors, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(c.method, c.path, nil)
			for k, v := range c.request {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Errorf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			for k, v := range c.want {
				if got := strings.Join(rec.Header().Values(k), ","); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
