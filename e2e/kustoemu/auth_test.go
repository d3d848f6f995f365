package kustoemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-kusto-go/azkustoingest"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

// With Auth the unmodified SDK authenticates with WithAadAppKey: azidentity's client-secret
// credential finds the token endpoint through the auth metadata, does MSAL's instance and OpenID
// discovery and the client_credentials request, and sends the token to the HTTPS engine.
func TestAuthWithAppKey(t *testing.T) {
	t.Parallel()
	const appID, secret = "8c3f3c8e-0000-4000-8000-00000000a001", "s3cret-value"
	e := startEmulator(t, kustoemu.Options{Auth: &kustoemu.Auth{Clients: map[string]string{appID: secret}}})
	if !strings.HasPrefix(e.EngineURL(), "https://") {
		t.Fatalf("engine URL %s is not https", e.EngineURL())
	}
	kcsb := func(key string) *azkustodata.ConnectionStringBuilder {
		return azkustodata.NewConnectionStringBuilder(e.EngineURL()).WithAadAppKey(appID, key, e.Tenant())
	}
	c := newClient(t, e, kcsb(secret))
	mgmt(t, c, ".create table A (a:long, s:string)", ".alter table A policy streamingingestion enable")

	in, err := azkustoingest.NewStreaming(kcsb(secret), azkustoingest.WithDefaultDatabase(testDB), azkustoingest.WithDefaultTable("A"),
		azkustoingest.WithoutEndpointCorrection(), azkustoingest.WithHttpClient(e.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.FromReader(ctxFor(t, 10*time.Second), strings.NewReader("1,a\n"), azkustoingest.FileFormat(azkustoingest.CSV)); err != nil {
		t.Fatalf("authenticated streaming ingestion: %v", err)
	}
	q, err := azkustoingest.New(kcsb(secret), azkustoingest.WithDefaultDatabase(testDB), azkustoingest.WithDefaultTable("A"),
		azkustoingest.WithoutEndpointCorrection(), azkustoingest.WithHttpClient(e.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := ctxFor(t, 20*time.Second)
	res, err := q.FromReader(ctx, strings.NewReader("2,b\n"), azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatalf("authenticated queued ingestion: %v", err)
	}
	if err := <-res.Wait(ctx, fastWait...); err != nil {
		t.Fatal(err)
	}
	waitForCount(t, c, "A", 2)

	t.Run("wrong secret", func(t *testing.T) {
		bad := newClient(t, e, kcsb("not-the-secret"))
		_, err := bad.Query(ctxFor(t, 20*time.Second), testDB, kql.New("A | count"))
		if err == nil || !strings.Contains(err.Error(), "invalid_client") || !strings.Contains(err.Error(), "401") {
			t.Fatalf("query with a wrong secret: %v", err)
		}
		if strings.Contains(err.Error(), "not-the-secret") {
			t.Fatal("the error contains the secret")
		}
	})
	t.Run("no token", func(t *testing.T) {
		for _, header := range []string{"", "Bearer forged.token.value"} {
			req, _ := http.NewRequest(http.MethodPost, e.EngineURL()+"/v2/rest/query", strings.NewReader(`{"db":"db1","csl":"A | count"}`))
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := e.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"Unauthorized"`) {
				t.Fatalf("query with Authorization %q = %d %s", header, resp.StatusCode, body)
			}
		}
	})
	t.Run("metadata", func(t *testing.T) {
		resp, err := e.HTTPClient().Get(e.EngineURL() + "/v1/rest/auth/metadata")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m struct{ AzureAD map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.AzureAD["LoginEndpoint"] != e.TokenURL() || m.AzureAD["KustoServiceResourceId"] != e.EngineURL() {
			t.Fatalf("metadata = %v", m.AzureAD)
		}
	})
}

// Without Auth the metadata is AzureAD null, as the official emulator answers.
func TestAuthMetadataWithoutAuth(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, kustoemu.Options{})
	resp, err := http.Get(e.EngineURL() + "/v1/rest/auth/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != `{"AzureAD":null}` {
		t.Fatalf("metadata = %d %s", resp.StatusCode, body)
	}
}
