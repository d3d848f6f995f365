package kusto

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	kerrors "github.com/Azure/azure-kusto-go/azkustodata/errors"
)

func TestClassify(t *testing.T) {
	httpErr := func(code int, body string) error {
		return kerrors.HTTP(kerrors.OpFileIngest, fmt.Sprintf("%d %s", code, http.StatusText(code)), code, nopBody(body), "error from Kusto endpoint")
	}
	cases := []struct {
		name string
		err  error
		want errorClass
	}{
		{"429", http429(), retriable},
		{"500 without body", httpErr(500, "oops"), retriable},
		{"503", httpErr(503, ""), retriable},
		{"408", httpErr(408, ""), retriable},
		{"400 permanent", http400(), permanent},
		{"403", httpErr(403, `{"error":{"code":"Forbidden","message":"no"}}`), refused},
		{"401 marked transient", httpErr(401, `{"error":{"code":"Unauthorized","@permanent":false}}`), refused},
		{"413", httpErr(413, ""), permanent},
		{"404 database", httpErr(404, `{"error":{"code":"BadRequest_EntityNotFound"}}`), permanent},
		{"400 marked transient", httpErr(400, `{"error":{"code":"X","@permanent":false}}`), retriable},
		{"500 marked permanent", httpErr(500, `{"error":{"code":"X","@permanent":true}}`), permanent},
		{"wrapped 429", fmt.Errorf("ingesting: %w", http429()), retriable},
		// The identity-token and resources calls flatten errors into text.
		{"flattened 401", errors.New("problem getting authorization context from Kusto via Mgmt: error from Kusto endpoint, With db(401 Unauthorized):\n{}"), refused},
		{"flattened 403 of the resources call", errors.New("failed to fetch ingestion resources: problem getting ingestion resources from Kusto: x(403 Forbidden):\n{}"), refused},
		{"streaming 403", &kerrors.Error{Kind: kerrors.KHTTPError, Err: errors.New("streaming ingestion failed: endpoint(x): error(403 Forbidden):\n")}, refused},
		{"flattened 429", errors.New("problem getting ingestion resources from Kusto: x(429 Too Many Requests):\n{}"), retriable},
		{"flattened permanent", errors.New(`x(400 Bad Request):` + "\n" + `{"error":{"code":"BadRequest_StreamingIngestionPolicyNotEnabled","@permanent":true}}`), permanent},
		{"streaming rewrap", &kerrors.Error{Kind: kerrors.KHTTPError, Err: errors.New("streaming ingestion failed: endpoint(x): error(503 Service Unavailable):\n")}, retriable},
		{"dial refused", &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, retriable},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), retriable},
		{"blob store", &kerrors.Error{Kind: kerrors.KBlobstore, Err: errors.New("problem uploading to IngestBlob Storage")}, retriable},
		// The SDK marks "every storage account failed" as no-retry; it is an outage, not bad data.
		{"storage accounts exhausted", (&kerrors.Error{Kind: kerrors.KBlobstore, Err: errors.New("max retry policy reached")}).SetNoRetry(), retriable},
		{"client args", &kerrors.Error{Kind: kerrors.KClientArgs, Err: errors.New("format and ingestion mapping type must match")}, permanent},
		{"untrusted host", &kerrors.Error{Kind: kerrors.KClientArgs, Err: errors.New("Can't communicate with 'x' as this hostname is currently not trusted")}, refused},
		// Token acquisition, flattened by the SDK into "Error while getting token : <azidentity error>".
		{"token refused", tokenErr("ClientSecretCredential authentication failed. \nPOST https://login.example/t/oauth2/v2.0/token\n" +
			"----\nRESPONSE 401: 401 Unauthorized\n----\n{\"error\": \"invalid_client\"}"), refused},
		{"token refused, flattened again", fmt.Errorf("problem getting authorization context from Kusto via Mgmt: %s",
			tokenErr("ClientSecretCredential authentication failed.\nRESPONSE 400: 400 Bad Request\n{\"error\":\"invalid_request\"}")), refused},
		{"no identity", tokenErr("ManagedIdentityCredential: no default identity is assigned to this resource"), refused},
		{"identity provider throttling", tokenErr("ClientSecretCredential authentication failed.\nRESPONSE 429: 429 Too Many Requests"), retriable},
		{"auth metadata unavailable", tokenErr("error 503 Service Unavailable when querying endpoint https://x/v1/rest/auth/metadata"), retriable},
		{"token request off the network", &causedError{err: tokenErr("ClientSecretCredential: dial failed"),
			cause: &transportFailure{Method: "POST", URL: "https://login.example/t", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}}, retriable},
		{"identity provider unreachable", tokenErr("ClientSecretCredential: unable to resolve an endpoint: server response error:\n " +
			`Get "https://login.microsoftonline.com/common/discovery/instance": dial tcp: lookup login.microsoftonline.com: no such host`), retriable},
		{"identity provider certificate", tokenErr(`ClientSecretCredential: Post "https://login.example/t": tls: failed to verify certificate: x509: certificate signed by unknown authority`), retriable},
		// Storage answers the SDK drops, noted by causeTransport.
		{"storage 403", storageErr(403, "AuthenticationFailed"), refused},
		{"storage 401", storageErr(401, "NoAuthenticationInformation"), refused},
		{"storage 400", storageErr(400, "InvalidInput"), retriable},
		{"storage 503", storageErr(503, "ServerBusy"), retriable},
		{"storage certificate", &causedError{err: blobstoreErr(), cause: &transportFailure{Method: "PUT", URL: "https://a/c/b",
			Err: &certificateError{err: x509.UnknownAuthorityError{}}}}, retriable},
		{"local file", &kerrors.Error{Kind: kerrors.KLocalFileSystem, Err: errors.New("problem retrieving source file")}, permanent},
		{"attempt deadline", context.DeadlineExceeded, retriable},
		{"unknown", errors.New("something odd"), retriable},
	}
	for _, tc := range cases {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: %v is %s, want %s", tc.name, tc.err, got, tc.want)
		}
	}
}

func tokenErr(detail string) error {
	return kerrors.ES(kerrors.OpMgmt, kerrors.KInternal, "Error while getting token : %s", detail)
}

func blobstoreErr() error {
	return kerrors.ES(kerrors.OpFileIngest, kerrors.KBlobstore, "problem uploading to IngestBlob Storage")
}

func storageErr(status int, code string) error {
	return &causedError{err: fmt.Errorf("ingesting into db.t: %w", blobstoreErr()),
		cause: &transportFailure{Method: "PUT", URL: "https://acct.blob.example/c/b", Status: status, Code: code, Message: "no"}}
}

func TestRetryDelayDoublesToACapWithJitter(t *testing.T) {
	for attempt, base := range map[int]time.Duration{1: 100, 2: 200, 3: 400, 4: 800} {
		for range 50 {
			d := retryDelay(100*time.Millisecond, attempt)
			if lo, hi := base*time.Millisecond*3/4, base*time.Millisecond*5/4; d < lo || d > hi {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, lo, hi)
			}
		}
	}
	if d := retryDelay(10*time.Second, 30); d > 75*time.Second || d < 45*time.Second {
		t.Fatalf("cap: %s", d)
	}
	if d := retryDelay(5*time.Minute, 3); d > 375*time.Second || d < 225*time.Second {
		t.Fatalf("a backoff above the cap is used as is: %s", d)
	}
}

func TestRedactHidesSecrets(t *testing.T) {
	inner := http429()
	err := redact(fmt.Errorf("PUT https://acct.blob.core.windows.net/c/b?sv=2020&SIG=abc%%2Bdef&se=1 failed: %w", inner))
	if got := err.Error(); strings.Contains(got, "abc") || !strings.Contains(got, "SIG=REDACTED&se=1") {
		t.Fatalf("redacted text %q", got)
	}
	if classify(err) != retriable || !errors.Is(err, inner) {
		t.Fatal("redaction must keep the error chain")
	}
	if redact(nil) != nil || redact(err) != err {
		t.Fatal("redact(nil) and double redaction")
	}

	for _, tc := range []struct{ text, secret, keep string }{
		{`Put "https://a.blob/c/b?sp=w&sig=s3cr%2Ft&se=x": tls: bad`, "s3cr%2Ft", `sig=REDACTED&se=x": tls: bad`},
		{"Authorization: Bearer eyJ0eXAi.eyJzdWIi.c2ln refused", "eyJ0eXAi.eyJzdWIi.c2ln", "Bearer REDACTED refused"},
		{`{"token_type":"Bearer","access_token":"tok-123","expires_in":3599}`, "tok-123", `"access_token":"REDACTED"`},
		{"grant_type=client_credentials&client_secret=p%40ss&scope=x", "p%40ss", "client_secret=REDACTED&scope=x"},
		{"client_assertion=eyJhbGciOi.payload.sig&x=1", "eyJhbGciOi", "client_assertion=REDACTED&x=1"},
		{"the service echoed my-app-key-value back", "my-app-key-value", "echoed REDACTED back"},
		{"the dev token tok-dev-0001 expired", "tok-dev-0001", "dev token REDACTED expired"},
	} {
		got := redact(errors.New(tc.text), "my-app-key-value", "tok-dev-0001", "abc").Error()
		if strings.Contains(got, tc.secret) || !strings.Contains(got, tc.keep) {
			t.Errorf("%q redacted to %q", tc.text, got)
		}
	}
	if got := redact(errors.New("unauthorized: the bearer token's signature is invalid")).Error(); got != "unauthorized: the bearer token's signature is invalid" {
		t.Errorf("prose about a bearer token is no token: %q", got)
	}
	// Configured secrets shorter than minSecretLen are not searched for: they would garble text.
	if got := redact(errors.New("a cat"), "a").Error(); got != "a cat" {
		t.Errorf("short secret: %q", got)
	}
}
