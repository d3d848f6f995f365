package kusto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	kerrors "github.com/Azure/azure-kusto-go/azkustodata/errors"
)

// storageRefusal is Azure Storage's answer to a SAS it does not accept.
const storageRefusal = `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>` +
	"<Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\nRequestId:1f\nTime:2026-01-01T00:00:00Z</Message>" +
	"<AuthenticationErrorDetail>Signature did not match. String to sign used was w\n2026-01-01</AuthenticationErrorDetail></Error>"

// storageServer answers like a storage account: 403 with the XML error for /refused, 503 for
// /busy, 201 otherwise.
func storageServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/c/refused":
			w.Header().Set("x-ms-error-code", "AuthenticationFailed")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, storageRefusal)
		case "/c/busy":
			w.Header().Set("x-ms-error-code", "ServerBusy")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/v1/rest/mgmt":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"Unauthorized"}}`)
		default:
			w.WriteHeader(http.StatusCreated)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func doRequest(t *testing.T, c *http.Client, ctx context.Context, method, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body, nil
}

func TestCauseTransportNotesFailedStorageAnswers(t *testing.T) {
	srv := storageServer(t)
	client := &http.Client{Transport: &causeTransport{next: http.DefaultTransport}}
	ctx, log := withAttemptLog(context.Background())
	const sas = "?sv=2020-01-01&sp=w&sig=c2VjcmV0%2Bc2ln"

	// The SDK still reads the whole answer: the transport only peeks at it.
	resp, body, err := doRequest(t, client, ctx, http.MethodPut, srv.URL+"/c/refused"+sas)
	if err != nil || resp.StatusCode != http.StatusForbidden || string(body) != storageRefusal {
		t.Fatalf("answer %v %q %v", resp, body, err)
	}
	sdkErr := fmt.Errorf("ingesting into db.t: %w", blobstoreErr())
	got := log.explain(sdkErr)
	want := "ingesting into db.t: Op(OpFileIngest): Kind(KBlobstore): problem uploading to IngestBlob Storage; cause: PUT " + srv.URL +
		"/c/refused was answered with HTTP 403 AuthenticationFailed: Server failed to authenticate the request. Make sure the value " +
		"of Authorization header is formed correctly including the signature. Signature did not match. String to sign used was w"
	if got.Error() != want {
		t.Fatalf("explained error\n got %q\nwant %q", got, want)
	}
	if strings.Contains(got.Error(), "sig=") || !errors.Is(got, sdkErr) || classify(got) != refused {
		t.Fatalf("the cause must hide the SAS, keep the SDK error and make it a refusal: %v", got)
	}

	// Kusto's own answers carry their status in the SDK's error already: not noted.
	ctx, log = withAttemptLog(context.Background())
	doRequest(t, client, ctx, http.MethodPost, srv.URL+"/v1/rest/mgmt")
	if err := log.explain(sdkErr); err != sdkErr {
		t.Fatalf("an engine answer was noted: %v", err)
	}

	// A failure the storage client overcame by retrying the same request is not the cause; a
	// later success of another request does not hide it.
	ctx, log = withAttemptLog(context.Background())
	doRequest(t, client, ctx, http.MethodPut, srv.URL+"/c/busy"+sas)
	doRequest(t, client, ctx, http.MethodPut, srv.URL+"/c/other"+sas)
	if err := log.explain(sdkErr); !strings.Contains(err.Error(), "; cause: PUT "+srv.URL+"/c/busy was answered with HTTP 503 ServerBusy") {
		t.Fatalf("the failure must survive another request's success: %v", err)
	}
	log.succeeded(http.MethodPut, srv.URL+"/c/busy")
	if err := log.explain(sdkErr); err != sdkErr {
		t.Fatalf("a retried request that succeeded is no cause: %v", err)
	}

	// Requests outside an attempt are passed through untouched.
	if resp, _, err := doRequest(t, client, context.Background(), http.MethodPut, srv.URL+"/c/refused"+sas); err != nil || resp.StatusCode != 403 {
		t.Fatalf("request without an attempt log: %v %v", resp, err)
	}
	if log.explain(nil) != nil {
		t.Fatal("explain(nil)")
	}
}

func TestCauseTransportNamesTransportErrors(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	client := &http.Client{Transport: &causeTransport{next: http.DefaultTransport}} // does not trust the test CA
	ctx, log := withAttemptLog(context.Background())
	_, _, err := doRequest(t, client, ctx, http.MethodPut, tlsSrv.URL+"/c/b?sv=1&sig=c2VjcmV0")
	var nonRetriable interface{ NonRetriable() }
	if err == nil || !errors.As(err, &nonRetriable) {
		t.Fatalf("a certificate failure must be marked non-retriable for the storage client: %v", err)
	}
	got := redact(log.explain(blobstoreErr())).Error()
	if !strings.Contains(got, "; cause: PUT "+tlsSrv.URL+"/c/b failed: tls: failed to verify certificate: x509: certificate signed by unknown authority") {
		t.Fatalf("explained error %q", got)
	}

	// A refused connection: the cause names it, and the failure stays retriable.
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.URL
	closed.Close()
	ctx, log = withAttemptLog(context.Background())
	if _, _, err := doRequest(t, client, ctx, http.MethodPut, addr+"/c/b?sig=x"); err == nil {
		t.Fatal("request to a closed server")
	}
	explained := log.explain(blobstoreErr())
	if !strings.Contains(explained.Error(), "connection refused") || classify(explained) != retriable {
		t.Fatalf("refused connection: %v (%s)", explained, classify(explained))
	}

	// An SDK error that already quotes the transport error gets no second copy.
	var noted *transportFailure
	if !errors.As(explained, &noted) {
		t.Fatal("the cause must be in the chain")
	}
	quoting := kerrors.ES(kerrors.OpMgmt, kerrors.KHTTPError, "With query: .show, %s", noted.Err)
	if got := log.explain(quoting); got != quoting {
		t.Fatalf("duplicated cause: %v", got)
	}
}

func TestStorageMessageIsShortAndFirstLinesOnly(t *testing.T) {
	answer := func(body string) *http.Response {
		return &http.Response{Body: io.NopCloser(strings.NewReader(body))}
	}
	for _, tc := range []struct{ body, want string }{
		{storageRefusal, "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly " +
			"including the signature. Signature did not match. String to sign used was w"},
		{`<Error><Code>X</Code><Message>Bad.\nRequestId:1</Message><Reason>Injected.</Reason></Error>`, "Bad. Injected."},
		{`<Error><Message>` + strings.Repeat("é", 300) + `</Message></Error>`, strings.Repeat("é", 200) + "…"},
		{`not xml`, ""},
		{``, ""},
	} {
		resp := answer(tc.body)
		if got := storageMessage(resp); got != tc.want {
			t.Errorf("%.40q: message %q, want %q", tc.body, got, tc.want)
		}
		if rest, _ := io.ReadAll(resp.Body); string(rest) != tc.body {
			t.Errorf("%.40q: the body must stay readable, got %q", tc.body, rest)
		}
	}
}
