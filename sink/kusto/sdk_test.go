package kusto

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	trustedEndpoints "github.com/Azure/azure-kusto-go/azkustodata/trusted_endpoints"
)

func TestConnectionStringPerStrategy(t *testing.T) {
	for _, tc := range []struct {
		kv    []string
		check func(t *testing.T, kcsbFields map[string]any)
	}{
		{[]string{KeyAuthStrategy, "application"}, func(t *testing.T, f map[string]any) {
			if f["app"] != "some-appid" || f["key"] != "some-appkey" || f["tenant"] != "some-authority" || f["fed"] != true {
				t.Errorf("application: %v", f)
			}
		}},
		{[]string{KeyAuthStrategy, "MANAGED_IDENTITY", KeyAppID, "<delete>"}, func(t *testing.T, f map[string]any) {
			if f["msi"] != true || f["msiClient"] != "" {
				t.Errorf("system-assigned identity: %v", f)
			}
		}},
		{[]string{KeyAuthStrategy, "managed_identity"}, func(t *testing.T, f map[string]any) {
			if f["msi"] != true || f["msiClient"] != "some-appid" {
				t.Errorf("user-assigned identity: %v", f)
			}
		}},
		{[]string{KeyAuthStrategy, "workload_identity"}, func(t *testing.T, f map[string]any) {
			if f["workload"] != true || f["app"] != "some-appid" {
				t.Errorf("workload identity: %v", f)
			}
		}},
		{[]string{KeyAuthStrategy, "az_dev_token", KeyAccessToken, " tok "}, func(t *testing.T, f map[string]any) {
			if f["token"] != "tok" {
				t.Errorf("dev token: %v", f)
			}
		}},
		{[]string{KeyAuthStrategy, "none", KeyIngestionURL, "http://127.0.0.1:1"}, func(t *testing.T, f map[string]any) {
			if f["fed"] != false {
				t.Errorf("none must not authenticate: %v", f)
			}
		}},
	} {
		t.Run(tc.kv[1], func(t *testing.T) {
			cfg, err := ParseConfig(with(baseProps(t), tc.kv...))
			if err != nil {
				t.Fatal(err)
			}
			k, err := connectionString(cfg, cfg.IngestionURL)
			if err != nil {
				t.Fatal(err)
			}
			if k.DataSource != cfg.IngestionURL {
				t.Errorf("data source %q", k.DataSource)
			}
			if !strings.Contains(k.ApplicationForTracing, "Kusto.Kafka.Sink:{"+Version+"}") ||
				!strings.Contains(k.ApplicationForTracing, "AuthType:{"+strings.ToUpper(tc.kv[1])+"}") {
				t.Errorf("connector details %q", k.ApplicationForTracing)
			}
			tc.check(t, map[string]any{
				"app": k.ApplicationClientId, "key": k.ApplicationKey, "tenant": k.AuthorityId, "fed": k.AadFederatedSecurity,
				"msi": k.MsiAuthentication, "msiClient": k.ManagedServiceIdentityClientId, "workload": k.WorkloadAuthentication,
				"token": k.UserToken,
			})
		})
	}
}

func TestHTTPClientProxyAndRedirects(t *testing.T) {
	cfg, err := ParseConfig(with(baseProps(t), KeyProxyHost, "proxy.corp", KeyProxyPort, "3128"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := httpClient(cfg, &streamWatch{})
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Transport.(*causeTransport).next.(*streamWatch).next.(*http.Transport)
	req, _ := http.NewRequest(http.MethodPost, "https://ingest-x.kusto.windows.net/v1/rest/mgmt", nil)
	u, err := tr.Proxy(req)
	if err != nil || u == nil || u.String() != "http://proxy.corp:3128" {
		t.Fatalf("proxy %v %v", u, err)
	}
	if c.CheckRedirect(req, nil) != http.ErrUseLastResponse {
		t.Fatal("redirects must not be followed")
	}
	cfg.ProxyPort = -1
	c, _ = httpClient(cfg, &streamWatch{})
	if u, _ := c.Transport.(*causeTransport).next.(*streamWatch).next.(*http.Transport).Proxy(req); u != nil {
		t.Fatalf("proxy without a port: %v", u)
	}
}

func TestTrustedHostsReachTheSDK(t *testing.T) {
	// The SDK's list is process-wide: fresh names keep -count=N runs independent.
	run := strings.ToLower(strings.ReplaceAll(t.Name()+uuid.NewString()[:8], "/", "-"))
	host := "kusto." + run + ".internal"
	suffix := ".suffix-" + run + ".internal"
	if trustedEndpoints.Instance.ValidateTrustedEndpoint("https://"+host, loginEndpoints[0]) == nil {
		t.Fatal("the host must not be trusted before the test")
	}
	if err := trustInSDK(parseTrustedHosts([]string{" " + strings.ToUpper(host) + " ", suffix})); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{host, "a" + suffix} {
		if err := trustedEndpoints.Instance.ValidateTrustedEndpoint("https://"+h, loginEndpoints[0]); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if trustedEndpoints.Instance.ValidateTrustedEndpoint("https://other.internal", loginEndpoints[0]) == nil {
		t.Error("other hosts must stay untrusted")
	}
}
