package storage

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/faults"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/pki"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
)

type fixture struct {
	srv    *Server
	faults *faults.Set
	url    *url.URL
	client *http.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ca, err := pki.New()
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := ca.ServerConfig("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	fs := faults.NewSet()
	s := New(Config{Account: sas.Account{Name: "devstoreaccount1", Key: []byte("test key")}, Faults: fs})
	s.CreateContainer("tempstorage")
	s.CreateQueue("readyforaggregation-secured")
	s.CreateTable("ingestionsstatus")
	hs := httptest.NewUnstartedServer(s)
	hs.TLS = tlsCfg
	hs.StartTLS()
	t.Cleanup(hs.Close)
	u, _ := url.Parse(hs.URL)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	t.Cleanup(client.CloseIdleConnections)
	return &fixture{srv: s, faults: fs, url: u, client: client}
}

func (f *fixture) sas(svc sas.Service, resource, perms string) string {
	return f.srv.account.Sign(sas.Grant{Service: svc, Resource: resource, Permissions: perms, Expiry: time.Now().Add(time.Hour)}).Encode()
}

func (f *fixture) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{Transport: f.client, Retry: policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}}
}

// blobClient builds the client the way the Kusto SDK does: service URL with the SAS, the account
// inside the "container" name.
func (f *fixture) blobClient(t *testing.T, perms string) *azblob.Client {
	t.Helper()
	c, err := azblob.NewClientWithNoCredential("https://"+f.url.Host+"?"+f.sas(sas.Blob, "tempstorage", perms),
		&azblob.ClientOptions{ClientOptions: f.clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const sdkStyleBlobName = "db1_T_2026-11-21 04:58:09.887469703 +0000 UTC m=+0.004519582_a4241944-1111-2222-3333-444455556666_..gz"

func TestBlobUploadAndRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.blobClient(t, "racwl")
	small := []byte("small payload")
	large := bytes.Repeat([]byte("0123456789"), 5000)
	for _, tc := range []struct {
		name      string
		data      []byte
		blockSize int64
	}{
		{"single put", small, 0},
		{"blocks and block list", large, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.name + " " + sdkStyleBlobName
			_, err := c.UploadStream(ctx, "devstoreaccount1/tempstorage", name, bytes.NewReader(tc.data),
				&azblob.UploadStreamOptions{BlockSize: tc.blockSize})
			if err != nil {
				t.Fatalf("UploadStream: %v", err)
			}
			got, err := f.srv.ReadBlob("tempstorage", name)
			if err != nil || !bytes.Equal(got, tc.data) {
				t.Fatalf("ReadBlob = %d bytes, %v; want %d bytes", len(got), err, len(tc.data))
			}
			resp, err := c.DownloadStream(ctx, "devstoreaccount1/tempstorage", name, nil)
			if err != nil {
				t.Fatalf("DownloadStream: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(body, tc.data) {
				t.Fatalf("downloaded %d bytes, want %d", len(body), len(tc.data))
			}
			props, err := c.ServiceClient().NewContainerClient("devstoreaccount1/tempstorage").NewBlobClient(name).GetProperties(ctx, nil)
			if err != nil {
				t.Fatalf("GetProperties: %v", err)
			}
			if props.ContentLength == nil || *props.ContentLength != int64(len(tc.data)) || props.ETag == nil || props.LastModified == nil {
				t.Fatalf("properties = %+v", props)
			}
			if _, err := c.DeleteBlob(ctx, "devstoreaccount1/tempstorage", name, nil); !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
				t.Fatalf("DeleteBlob without d permission: %v, want AuthorizationPermissionMismatch", err)
			}
			if _, err := f.blobClient(t, "rd").DeleteBlob(ctx, "devstoreaccount1/tempstorage", name, nil); err != nil {
				t.Fatalf("DeleteBlob: %v", err)
			}
			if _, err := f.srv.ReadBlob("tempstorage", name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("blob still there after delete: %v", err)
			}
		})
	}
}

func TestBlobRequiresValidSAS(t *testing.T) {
	f := newFixture(t)
	base := "https://" + f.url.Host + "/devstoreaccount1/tempstorage/x.csv"
	good := f.sas(sas.Blob, "tempstorage", "racwl")
	forged := strings.Replace(good, "sp=racwl", "sp=racwdl", 1)
	tests := []struct {
		name, query string
		status      int
		code        string
	}{
		{"no SAS", "", http.StatusForbidden, "AuthenticationFailed"},
		{"forged permissions", forged, http.StatusForbidden, "AuthenticationFailed"},
		{"SAS of another resource", f.sas(sas.Blob, "other", "racwl"), http.StatusForbidden, "AuthenticationFailed"},
		{"valid", good, http.StatusCreated, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, base+"?"+tc.query, strings.NewReader("a,b"))
			req.Header.Set("x-ms-blob-type", "BlockBlob")
			resp, err := f.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			if tc.code != "" {
				if got := resp.Header.Get("x-ms-error-code"); got != tc.code {
					t.Errorf("x-ms-error-code = %q, want %q", got, tc.code)
				}
				if !bytes.Contains(body, []byte("<Code>"+tc.code+"</Code>")) {
					t.Errorf("body %s lacks the code", body)
				}
				if bytes.Contains(body, []byte("sig=")) {
					t.Errorf("error body leaks the signature: %s", body)
				}
			}
		})
	}
}

func TestQueueEnqueue(t *testing.T) {
	f := newFixture(t)
	svc, err := azqueue.NewServiceClientWithNoCredential("https://"+f.url.Host+"?"+f.sas(sas.Queue, "readyforaggregation-secured", "a"),
		&azqueue.ClientOptions{ClientOptions: f.clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	// The Kusto SDK passes "account/queue" as the queue name; azqueue escapes the slash.
	q := svc.NewQueueClient("devstoreaccount1/readyforaggregation-secured")
	text := base64.StdEncoding.EncodeToString([]byte(`{"Id":"x"}`))
	resp, err := q.EnqueueMessage(context.Background(), text, nil)
	if err != nil {
		t.Fatalf("EnqueueMessage: %v", err)
	}
	if len(resp.Messages) != 1 || resp.Messages[0].MessageID == nil || resp.Messages[0].InsertionTime == nil {
		t.Fatalf("response = %+v", resp)
	}
	select {
	case <-f.srv.Queue("readyforaggregation-secured").Ready():
	default:
		t.Fatal("queue not signalled")
	}
	msgs := f.srv.Queue("readyforaggregation-secured").TakeAll(time.Now())
	if len(msgs) != 1 || msgs[0].Text != text {
		t.Fatalf("messages = %+v", msgs)
	}

	// A queue SAS with read only may not add.
	svc2, _ := azqueue.NewServiceClientWithNoCredential("https://"+f.url.Host+"?"+f.sas(sas.Queue, "readyforaggregation-secured", "r"),
		&azqueue.ClientOptions{ClientOptions: f.clientOptions()})
	_, err = svc2.NewQueueClient("devstoreaccount1/readyforaggregation-secured").EnqueueMessage(context.Background(), text, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || re.ErrorCode != "AuthorizationPermissionMismatch" {
		t.Fatalf("enqueue with read-only SAS: %v", err)
	}
}

func TestStatusTable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tc, err := aztables.NewClientWithNoCredential("https://"+f.url.Host+"/devstoreaccount1/ingestionsstatus?"+f.sas(sas.Table, "ingestionsstatus", "rau"),
		&aztables.ClientOptions{ClientOptions: f.clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	pk := "3a23024f-364f-4be9-8742-174d85c7ccdb"
	rk := "00000000-0000-0000-0000-000000000000"
	entity, _ := json.Marshal(map[string]any{"PartitionKey": pk, "RowKey": rk, "Status": "Pending", "Database": "db1"})
	full := aztables.MetadataFormatFull
	if _, err := tc.AddEntity(ctx, entity, &aztables.AddEntityOptions{Format: &full}); err != nil {
		t.Fatalf("AddEntity: %v", err)
	}
	if _, err := tc.AddEntity(ctx, entity, nil); err == nil || !strings.Contains(err.Error(), "EntityAlreadyExists") {
		t.Fatalf("second AddEntity: %v, want EntityAlreadyExists", err)
	}
	if err := f.srv.MergeEntity("ingestionsstatus", pk, rk, map[string]any{"Status": "Succeeded"}); err != nil {
		t.Fatal(err)
	}
	got, err := tc.GetEntity(ctx, pk, rk, nil)
	if err != nil {
		t.Fatalf("GetEntity: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(got.Value, &m); err != nil {
		t.Fatal(err)
	}
	if m["Status"] != "Succeeded" || m["Database"] != "db1" || m["PartitionKey"] != pk {
		t.Fatalf("entity = %v", m)
	}
	if _, err := tc.GetEntity(ctx, "missing", rk, nil); err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("GetEntity(missing) = %v", err)
	}
	if _, err := tc.UpsertEntity(ctx, entity, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeMerge}); err != nil {
		t.Fatalf("UpsertEntity: %v", err)
	}
	if _, err := tc.DeleteEntity(ctx, pk, rk, nil); !strings.Contains(errString(err), "AuthorizationPermissionMismatch") {
		t.Fatalf("DeleteEntity without d permission: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestParseEntityKeys(t *testing.T) {
	tests := []struct{ in, pk, rk string }{
		{"PartitionKey='a',RowKey='b'", "a", "b"},
		{"PartitionKey='it''s',RowKey=''", "it's", ""},
	}
	for _, tc := range tests {
		pk, rk, ok := parseEntityKeys(tc.in)
		if !ok || pk != tc.pk || rk != tc.rk {
			t.Errorf("parseEntityKeys(%q) = %q, %q, %v", tc.in, pk, rk, ok)
		}
	}
	for _, bad := range []string{"", "PartitionKey='a'", "PartitionKey='a,RowKey='b'", "PartitionKey='a',RowKey='b'x"} {
		if _, _, ok := parseEntityKeys(bad); ok {
			t.Errorf("parseEntityKeys(%q) accepted", bad)
		}
	}
}

// Faults on the blob surface: azblob's retry policy retries 500/503 and dropped connections, so
// a single fault is invisible to the caller; a permanent one surfaces.
func TestBlobFaults(t *testing.T) {
	f := newFixture(t)
	c := f.blobClient(t, "racwl")
	ctx := context.Background()
	for _, kind := range []faults.Kind{faults.Throttle, faults.Internal, faults.Unavailable, faults.Drop, faults.Delay} {
		t.Run(string(kind), func(t *testing.T) {
			fault := faults.Fault{Surface: faults.Blob, Kind: kind, Count: 1}
			if kind == faults.Delay {
				fault.Delay = 10 * time.Millisecond
			}
			if err := f.faults.Inject(fault); err != nil {
				t.Fatal(err)
			}
			before := f.faults.Counts()
			if _, err := c.UploadBuffer(ctx, "devstoreaccount1/tempstorage", "b-"+string(kind), []byte("x"), nil); err != nil {
				t.Fatalf("upload after one %s fault: %v", kind, err)
			}
			after := f.faults.Counts()
			wantRequests := int64(2)
			if kind == faults.Delay {
				wantRequests = 1
			}
			if got := after.Requests[faults.Blob] - before.Requests[faults.Blob]; got != wantRequests {
				t.Errorf("blob requests = %d, want %d", got, wantRequests)
			}
		})
	}
	if err := f.faults.Inject(faults.Fault{Surface: faults.Blob, Kind: faults.Permanent, Code: "InvalidBlobOrBlock"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.UploadBuffer(ctx, "devstoreaccount1/tempstorage", "perm", []byte("x"), nil)
	if !bloberror.HasCode(err, "InvalidBlobOrBlock") {
		t.Fatalf("upload with a permanent fault: %v", err)
	}
}

func TestUnknownResourceAndAccount(t *testing.T) {
	f := newFixture(t)
	for path, want := range map[string]int{
		"/devstoreaccount1/nope/x":    http.StatusNotFound,
		"/otheraccount/tempstorage/x": http.StatusBadRequest,
	} {
		resp, err := f.client.Get("https://" + f.url.Host + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}
