package kusto

import (
	"context"
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
		{"403", httpErr(403, `{"error":{"code":"Forbidden","message":"no"}}`), permanent},
		{"404 database", httpErr(404, `{"error":{"code":"BadRequest_EntityNotFound"}}`), permanent},
		{"400 marked transient", httpErr(400, `{"error":{"code":"X","@permanent":false}}`), retriable},
		{"500 marked permanent", httpErr(500, `{"error":{"code":"X","@permanent":true}}`), permanent},
		{"wrapped 429", fmt.Errorf("ingesting: %w", http429()), retriable},
		// The identity-token and resources calls flatten errors into text.
		{"flattened 401", errors.New("problem getting authorization context from Kusto via Mgmt: error from Kusto endpoint, With db(401 Unauthorized):\n{}"), permanent},
		{"flattened 429", errors.New("problem getting ingestion resources from Kusto: x(429 Too Many Requests):\n{}"), retriable},
		{"flattened permanent", errors.New(`x(400 Bad Request):` + "\n" + `{"error":{"code":"BadRequest_StreamingIngestionPolicyNotEnabled","@permanent":true}}`), permanent},
		{"streaming rewrap", &kerrors.Error{Kind: kerrors.KHTTPError, Err: errors.New("streaming ingestion failed: endpoint(x): error(503 Service Unavailable):\n")}, retriable},
		{"dial refused", &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, retriable},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), retriable},
		{"blob store", &kerrors.Error{Kind: kerrors.KBlobstore, Err: errors.New("problem uploading to IngestBlob Storage")}, retriable},
		// The SDK marks "every storage account failed" as no-retry; it is an outage, not bad data.
		{"storage accounts exhausted", (&kerrors.Error{Kind: kerrors.KBlobstore, Err: errors.New("max retry policy reached")}).SetNoRetry(), retriable},
		{"client args", &kerrors.Error{Kind: kerrors.KClientArgs, Err: errors.New("format and ingestion mapping type must match")}, permanent},
		{"untrusted host", &kerrors.Error{Kind: kerrors.KClientArgs, Err: errors.New("Can't communicate with 'x' as this hostname is currently not trusted")}, permanent},
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

func TestRedactHidesSASSignatures(t *testing.T) {
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
}
