// Package auth is the emulator's identity provider: an HTTPS token endpoint that speaks the part
// of the Microsoft identity platform that azidentity's client-secret credential (MSAL's
// confidential client) uses — instance discovery, OpenID Connect discovery and the
// client_credentials token request — and the check of the bearer tokens it issued.
//
// MSAL sends instance discovery to login.microsoftonline.com for any authority host it does not
// know; clients reach the emulator there only through a transport that routes that host to the
// token endpoint (the emulator's HTTPClient does).
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultTenant is the tenant of the emulator's directory when none is configured.
const DefaultTenant = "kustoemu"

// DefaultTokenLifetime is how long issued tokens are valid when not configured.
const DefaultTokenLifetime = time.Hour

// InstanceDiscoveryHost is where MSAL sends instance discovery for unknown authorities.
const InstanceDiscoveryHost = "login.microsoftonline.com"

// Config configures the identity provider.
type Config struct {
	Tenant string
	// Clients maps application (client) ids to their secrets.
	Clients map[string]string
	// Audience is the resource tokens are issued for (the engine's KustoServiceResourceId).
	Audience      string
	TokenLifetime time.Duration
	// SigningKey signs and checks tokens; nil = a random key (tokens die with the process).
	SigningKey []byte
	Logger     *slog.Logger
	Now        func() time.Time
}

// Provider issues and checks tokens. Set its base URL once it listens.
type Provider struct {
	cfg Config
	key []byte
	log *slog.Logger

	mu   sync.RWMutex
	base string // https://host:port of the token endpoint
}

// New returns a provider with a fresh signing key.
func New(cfg Config) (*Provider, error) {
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Clients) == 0 {
		return nil, errors.New("auth: at least one client (application id and secret) is required")
	}
	for id, secret := range cfg.Clients {
		if id == "" || secret == "" {
			return nil, errors.New("auth: client ids and secrets must not be empty")
		}
	}
	key := cfg.SigningKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("auth: generating signing key: %w", err)
		}
	}
	return &Provider{cfg: cfg, key: key, log: cfg.Logger}, nil
}

// Tenant returns the directory's tenant id.
func (p *Provider) Tenant() string { return p.cfg.Tenant }

// SetBaseURL sets the token endpoint's https://host:port, used in discovery documents and as
// the token issuer.
func (p *Provider) SetBaseURL(base string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.base = strings.TrimSuffix(base, "/")
}

// BaseURL returns the token endpoint's base URL (the LoginEndpoint clients use).
func (p *Provider) BaseURL() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.base
}

func (p *Provider) issuer() string { return p.BaseURL() + "/" + p.cfg.Tenant + "/v2.0" }

// ServeHTTP answers instance discovery, OpenID configuration and token requests.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "common" && parts[1] == "discovery" && parts[2] == "instance":
		p.instanceDiscovery(w, r)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		p.openIDConfiguration(w, parts[0])
	case r.Method == http.MethodPost && len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token":
		p.token(w, r, parts[0])
	default:
		writeOAuthError(w, http.StatusNotFound, "not_found", "AADSTS90000", "The emulator's token endpoint does not serve "+r.Method+" "+r.URL.Path+".")
	}
}

func (p *Provider) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	authz, err := url.Parse(r.URL.Query().Get("authorization_endpoint"))
	if err != nil || authz.Host == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_instance", "AADSTS50049", "Unknown or invalid instance: the authorization_endpoint parameter is missing.")
		return
	}
	base := p.BaseURL()
	u, _ := url.Parse(base)
	if !strings.EqualFold(authz.Host, u.Host) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_instance", "AADSTS50049", fmt.Sprintf("Unknown or invalid instance: %s is not this emulator's authority (%s).", authz.Host, u.Host))
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(authz.Path, "/"), "/")
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": base + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": u.Host, "preferred_cache": u.Host, "aliases": []string{u.Host},
		}},
	})
}

func (p *Provider) openIDConfiguration(w http.ResponseWriter, tenant string) {
	if !p.knownTenant(tenant) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002", fmt.Sprintf("Tenant '%s' not found.", tenant))
		return
	}
	base := p.BaseURL() + "/" + p.cfg.Tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                p.issuer(),
		"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		"response_types_supported":              []string{"token"},
		"grant_types_supported":                 []string{"client_credentials"},
		"tenant_region_scope":                   "emulator",
	})
}

func (p *Provider) knownTenant(t string) bool {
	return strings.EqualFold(t, p.cfg.Tenant) || t == "organizations" || t == "common"
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if !p.knownTenant(tenant) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002", fmt.Sprintf("Tenant '%s' not found.", tenant))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144", "The request body must be a form.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003", fmt.Sprintf("The grant type '%s' is not supported; the emulator issues client_credentials tokens.", gt))
		return
	}
	clientID := r.PostForm.Get("client_id")
	want, known := p.cfg.Clients[clientID]
	if !known {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016",
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, p.cfg.Tenant))
		return
	}
	secret := r.PostForm.Get("client_secret")
	if secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
		p.log.Info("token request refused: invalid client secret", "client_id", clientID)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215",
			fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
		return
	}
	scope := r.PostForm.Get("scope")
	resource := ""
	for _, s := range strings.Fields(scope) {
		if res, ok := strings.CutSuffix(s, "/.default"); ok {
			resource = res
		}
	}
	if !strings.EqualFold(strings.TrimSuffix(resource, "/"), strings.TrimSuffix(p.cfg.Audience, "/")) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "AADSTS500011",
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s; request scope %s/.default.", resource, p.cfg.Tenant, p.cfg.Audience))
		return
	}
	now := p.cfg.Now()
	token := p.sign(map[string]any{
		"aud": p.cfg.Audience, "iss": p.issuer(), "sub": clientID, "appid": clientID, "tid": p.cfg.Tenant,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(p.cfg.TokenLifetime).Unix(), "uti": uuid.NewString(),
	})
	p.log.Debug("token issued", "client_id", clientID)
	secs := int(p.cfg.TokenLifetime / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token,
	})
}

var b64 = base64.RawURLEncoding

func (p *Provider) sign(claims map[string]any) string {
	header := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	signed := header + "." + b64.EncodeToString(body)
	return signed + "." + b64.EncodeToString(p.mac(signed))
}

func (p *Provider) mac(s string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// ErrUnauthorized is wrapped by every Validate failure.
var ErrUnauthorized = errors.New("unauthorized")

// Validate checks an Authorization header: a bearer token this provider issued, for the
// audience, not expired. Errors wrap ErrUnauthorized and never contain the token.
func (p *Provider) Validate(authorization string) error {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return fmt.Errorf("%w: the request carries no bearer token", ErrUnauthorized)
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: the bearer token is malformed", ErrUnauthorized)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, p.mac(parts[0]+"."+parts[1])) {
		return fmt.Errorf("%w: the bearer token's signature is invalid", ErrUnauthorized)
	}
	body, err := b64.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("%w: the bearer token is malformed", ErrUnauthorized)
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Nbf int64  `json:"nbf"`
	}
	if err := json.Unmarshal(body, &claims); err != nil {
		return fmt.Errorf("%w: the bearer token's claims are malformed", ErrUnauthorized)
	}
	now := p.cfg.Now().Unix()
	switch {
	case now >= claims.Exp:
		return fmt.Errorf("%w: the bearer token expired", ErrUnauthorized)
	case now < claims.Nbf:
		return fmt.Errorf("%w: the bearer token is not valid yet", ErrUnauthorized)
	case !strings.EqualFold(strings.TrimSuffix(claims.Aud, "/"), strings.TrimSuffix(p.cfg.Audience, "/")):
		return fmt.Errorf("%w: the bearer token is for audience %q, not %q", ErrUnauthorized, claims.Aud, p.cfg.Audience)
	}
	return nil
}

func writeOAuthError(w http.ResponseWriter, status int, code, aadCode, description string) {
	var num int
	_, _ = fmt.Sscanf(aadCode, "AADSTS%d", &num)
	writeJSON(w, status, map[string]any{
		"error": code, "error_description": aadCode + ": " + description, "error_codes": []int{num},
		"timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"), "trace_id": uuid.NewString(), "correlation_id": uuid.NewString(),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
