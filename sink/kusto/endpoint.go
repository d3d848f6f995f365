package kusto

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	trustedEndpoints "github.com/Azure/azure-kusto-go/azkustodata/trusted_endpoints"
)

// The login endpoints of the Kusto SDK's well-known endpoint list (one per cloud). A host is a
// known Kusto endpoint when the SDK trusts it for any of them, as the Java sink's
// KustoEndpointUrlValidator checks (MSRC 110999).
var loginEndpoints = []string{
	"https://login.microsoftonline.com",
	"https://login.microsoftonline.us",
	"https://login.partner.microsoftonline.cn",
	"https://login.microsoftonline.eaglex.ic.gov",
	"https://login.microsoftonline.microsoft.scloud",
	"https://login.sovcloud-identity.fr",
	"https://login.sovcloud-identity.de",
	"https://login.sovcloud-identity.sg",
}

// trustedHost is one entry of kusto.trusted.hosts: an exact host name, or a domain suffix when
// it starts with a dot.
type trustedHost struct {
	name   string // lower case
	suffix bool
}

func parseTrustedHosts(entries []string) []trustedHost {
	var out []trustedHost
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		if u, err := url.Parse(e); err == nil && u.Host != "" {
			e = u.Hostname() // a URL was given: trust its host
		}
		if e == "" {
			continue
		}
		out = append(out, trustedHost{name: e, suffix: strings.HasPrefix(e, ".")})
	}
	return out
}

func (t trustedHost) matches(host string) bool {
	if t.suffix {
		return strings.HasSuffix(host, t.name) && len(host) > len(t.name)
	}
	return host == t.name
}

func hostTrusted(hosts []trustedHost, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, t := range hosts {
		if t.matches(host) {
			return true
		}
	}
	return false
}

// isLoopback reports whether host is localhost or a loopback IP, the hosts the SDK always trusts.
func isLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func isIPLiteral(host string) bool {
	return net.ParseIP(host) != nil || strings.Contains(host, ":")
}

// checkEndpoint normalizes and checks a Kusto endpoint URL. Blank values are returned as they are
// (the caller decides whether the URL is required). Missing schemes default to https, as in Java.
//
// https URLs must point to a well-known Kusto endpoint unless the host is in trusted. http URLs
// are only allowed without authentication (strategy none), and then only to loopback or trusted
// hosts: a token is never sent in clear text and never to a host the user did not name.
func checkEndpoint(raw string, noAuth bool, trusted []trustedHost) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return s, nil
	}
	if len(s) >= 7 && strings.EqualFold(s[:7], "http://") {
		if !noAuth {
			return "", errors.New("HTTP is not supported. Only HTTPS endpoints are allowed. (Plain http:// is only accepted with aad.auth.strategy=none, for local Kusto emulators.)")
		}
	} else if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("Invalid URL format: %v", unwrapURLError(err))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("Invalid URL format: unsupported scheme %q; use https://", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return "", errors.New("Invalid URL format: the URL has no host")
	}
	if u.User != nil {
		return "", errors.New("Invalid URL format: credentials in the URL are not allowed; set them in the aad.auth.* settings")
	}
	switch {
	case hostTrusted(trusted, host):
		return s, nil
	case isLoopback(host) && noAuth:
		return s, nil
	case scheme == "http":
		return "", fmt.Errorf("URL does not point to a loopback address. Plain HTTP is only allowed for local Kusto emulators; to use %s, list it in %s.", host, KeyTrustedHosts)
	case isLoopback(host) || isIPLiteral(host):
		return "", fmt.Errorf("URL does not point to a known Azure Data Explorer endpoint. %s is a loopback or IP address, which is only trusted when listed in %s (e.g. for a Kusto emulator or a private endpoint).", host, KeyTrustedHosts)
	}
	for _, login := range loginEndpoints {
		if trustedEndpoints.Instance.ValidateTrustedEndpoint(s, login) == nil {
			return s, nil
		}
	}
	return "", fmt.Errorf("URL does not point to a known Azure Data Explorer endpoint. %s is not a well-known Kusto host (such as <cluster>.<region>.kusto.windows.net); to use it (Private Link, a proxy, an emulator), list it in %s.", host, KeyTrustedHosts)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// sdkTrust registers hosts of kusto.trusted.hosts with the Kusto SDK, whose trusted-endpoint list
// is process-wide: a host one connector trusts is trusted by every connector of the worker.
// Hosts the SDK already trusts are not added again.
var sdkTrust sync.Mutex

func trustInSDK(hosts []trustedHost) error {
	sdkTrust.Lock()
	defer sdkTrust.Unlock()
	var rules []trustedEndpoints.MatchRule
	for _, h := range hosts {
		probe := h.name
		if h.suffix {
			probe = "x" + h.name
		}
		if trustedEndpoints.Instance.ValidateTrustedEndpoint("https://"+probe, loginEndpoints[0]) == nil {
			continue
		}
		rules = append(rules, trustedEndpoints.MatchRule{Suffix: h.name, Exact: !h.suffix})
	}
	if len(rules) == 0 {
		return nil
	}
	if err := trustedEndpoints.Instance.AddTrustedHosts(rules, false); err != nil {
		return fmt.Errorf("Cannot trust the hosts of %s: %w", KeyTrustedHosts, err)
	}
	return nil
}
