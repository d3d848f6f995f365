package sas

import (
	"encoding/base64"
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	blobsas "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	queuesas "github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/sas"
)

var testAccount = Account{Name: "devstoreaccount1", Key: []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")}

// The Azure SDK signers are the reference: a signature the emulator issues must equal the one the
// SDK computes for the same values, and one the SDK issues must verify.
func TestSignMatchesAzureSDKSigners(t *testing.T) {
	expiry := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	key := base64.StdEncoding.EncodeToString(testAccount.Key)

	blobCred, err := azblob.NewSharedKeyCredential(testAccount.Name, key)
	if err != nil {
		t.Fatal(err)
	}
	bq, err := blobsas.BlobSignatureValues{Version: BlobVersion, Protocol: blobsas.ProtocolHTTPS, ExpiryTime: expiry,
		Permissions: "racwl", ContainerName: "tempstorage"}.SignWithSharedKey(blobCred)
	if err != nil {
		t.Fatal(err)
	}
	mine := testAccount.Sign(Grant{Service: Blob, Resource: "tempstorage", Permissions: "racwl", Expiry: expiry})
	if got, want := mine.Get("sig"), bq.Signature(); got != want {
		t.Errorf("blob signature = %s, SDK computes %s", got, want)
	}

	queueCred, err := azqueue.NewSharedKeyCredential(testAccount.Name, key)
	if err != nil {
		t.Fatal(err)
	}
	qq, err := queuesas.QueueSignatureValues{Version: QueueVersion, Protocol: queuesas.ProtocolHTTPS, ExpiryTime: expiry,
		Permissions: "ra", QueueName: "readyforaggregation-secured"}.SignWithSharedKey(queueCred)
	if err != nil {
		t.Fatal(err)
	}
	mine = testAccount.Sign(Grant{Service: Queue, Resource: "readyforaggregation-secured", Permissions: "ra", Expiry: expiry})
	if got, want := mine.Get("sig"), qq.Signature(); got != want {
		t.Errorf("queue signature = %s, SDK computes %s", got, want)
	}

	tableCred, err := aztables.NewSharedKeyCredential(testAccount.Name, key)
	if err != nil {
		t.Fatal(err)
	}
	tq, err := aztables.SASSignatureValues{Version: TableVersion, Protocol: aztables.SASProtocolHTTPS, ExpiryTime: expiry,
		Permissions: "rau", TableName: "ingestionsstatus"}.Sign(tableCred)
	if err != nil {
		t.Fatal(err)
	}
	sdkTable, err := url.ParseQuery(tq)
	if err != nil {
		t.Fatal(err)
	}
	mine = testAccount.Sign(Grant{Service: Table, Resource: "ingestionsstatus", Permissions: "rau", Expiry: expiry})
	if got, want := mine.Get("sig"), sdkTable.Get("sig"); got != want {
		t.Errorf("table signature = %s, SDK computes %s", got, want)
	}
	now := expiry.Add(-time.Hour)
	if err := testAccount.Verify(sdkTable, Request{Service: Table, Resource: "ingestionsstatus", Permission: 'a', Now: now}); err != nil {
		t.Errorf("SDK-signed table SAS rejected: %v", err)
	}
	sdkBlob, _ := url.ParseQuery(bq.Encode())
	if err := testAccount.Verify(sdkBlob, Request{Service: Blob, Resource: "tempstorage", Blob: "a b+c:d.gz", Permission: 'w', Now: now}); err != nil {
		t.Errorf("SDK-signed container SAS rejected: %v", err)
	}
}

func TestVerify(t *testing.T) {
	expiry := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := expiry.Add(-time.Hour)
	container := testAccount.Sign(Grant{Service: Blob, Resource: "tempstorage", Permissions: "racwl", Expiry: expiry})
	queue := testAccount.Sign(Grant{Service: Queue, Resource: "q1", Permissions: "a", Expiry: expiry})
	table := testAccount.Sign(Grant{Service: Table, Resource: "status", Permissions: "r", Expiry: expiry})
	with := func(q url.Values, k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range q {
			c[kk] = append([]string(nil), vv...)
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	otherKey := Account{Name: testAccount.Name, Key: []byte("another key")}
	tests := []struct {
		name string
		q    url.Values
		req  Request
		code string // "" = accepted
	}{
		{"container write", container, Request{Service: Blob, Resource: "tempstorage", Blob: "x.gz", Permission: 'w'}, ""},
		{"container read", container, Request{Service: Blob, Resource: "tempstorage", Blob: "x.gz", Permission: 'r'}, ""},
		{"container delete not granted", container, Request{Service: Blob, Resource: "tempstorage", Blob: "x.gz", Permission: 'd'}, CodePermissionMismatch},
		{"other container", container, Request{Service: Blob, Resource: "other", Blob: "x", Permission: 'w'}, CodeAuthenticationFailed},
		{"missing signature", with(container, "sig", ""), Request{Service: Blob, Resource: "tempstorage", Permission: 'r'}, CodeAuthenticationFailed},
		{"tampered permissions", with(container, "sp", "racwdl"), Request{Service: Blob, Resource: "tempstorage", Permission: 'd'}, CodeAuthenticationFailed},
		{"tampered expiry", with(container, "se", "2031-01-01T00:00:00Z"), Request{Service: Blob, Resource: "tempstorage", Permission: 'r'}, CodeAuthenticationFailed},
		{"garbage signature", with(container, "sig", "!!!"), Request{Service: Blob, Resource: "tempstorage", Permission: 'r'}, CodeAuthenticationFailed},
		{"old version", with(container, "sv", "2015-04-05"), Request{Service: Blob, Resource: "tempstorage", Permission: 'r'}, CodeAuthenticationFailed},
		{"queue add", queue, Request{Service: Queue, Resource: "q1", Permission: 'a'}, ""},
		{"queue read not granted", queue, Request{Service: Queue, Resource: "q1", Permission: 'r'}, CodePermissionMismatch},
		{"queue token on another queue", queue, Request{Service: Queue, Resource: "q2", Permission: 'a'}, CodeAuthenticationFailed},
		{"queue token on a container", queue, Request{Service: Blob, Resource: "q1", Permission: 'a'}, CodeAuthenticationFailed},
		{"table read", table, Request{Service: Table, Resource: "status", Permission: 'r'}, ""},
		{"table name case-insensitive", table, Request{Service: Table, Resource: "Status", Permission: 'r'}, ""},
		{"table token on another table", table, Request{Service: Table, Resource: "other", Permission: 'r'}, CodeResourceTypeMismatch},
		{"table add not granted", table, Request{Service: Table, Resource: "status", Permission: 'a'}, CodePermissionMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Now = now
			err := testAccount.Verify(tc.q, tc.req)
			checkCode(t, err, tc.code)
		})
	}
	t.Run("expired", func(t *testing.T) {
		checkCode(t, testAccount.Verify(container, Request{Service: Blob, Resource: "tempstorage", Permission: 'r', Now: expiry.Add(time.Second)}), CodeAuthenticationFailed)
	})
	t.Run("other key", func(t *testing.T) {
		checkCode(t, otherKey.Verify(container, Request{Service: Blob, Resource: "tempstorage", Permission: 'r', Now: now}), CodeAuthenticationFailed)
	})
	t.Run("not yet valid", func(t *testing.T) {
		q := with(container, "st", "2029-12-31T23:30:00Z")
		q.Set("sig", testAccount.sign(mustSTS(t, q, "tempstorage")))
		checkCode(t, testAccount.Verify(q, Request{Service: Blob, Resource: "tempstorage", Permission: 'r', Now: now}), CodeAuthenticationFailed)
		checkCode(t, testAccount.Verify(q, Request{Service: Blob, Resource: "tempstorage", Permission: 'r', Now: expiry.Add(-time.Minute)}), "")
	})
	t.Run("ip range", func(t *testing.T) {
		q := with(container, "sip", "10.0.0.1-10.0.0.9")
		q.Set("sig", testAccount.sign(mustSTS(t, q, "tempstorage")))
		checkCode(t, testAccount.Verify(q, Request{Service: Blob, Resource: "tempstorage", Permission: 'r', Now: now, RemoteIP: net.ParseIP("10.0.0.5")}), "")
		checkCode(t, testAccount.Verify(q, Request{Service: Blob, Resource: "tempstorage", Permission: 'r', Now: now, RemoteIP: net.ParseIP("127.0.0.1")}), CodeSourceIPMismatch)
	})
}

func mustSTS(t *testing.T, q url.Values, container string) string {
	t.Helper()
	s, err := stringToSign(testAccount.Name, Blob, q, container, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("rejected: %v", err)
		}
		return
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	if se.Code != code {
		t.Fatalf("code = %s (%s), want %s", se.Code, se.Detail, code)
	}
}

func TestRedact(t *testing.T) {
	got := Redact("https://127.0.0.1:1/acct/c/b?sig=SECRET%2B&sp=r")
	if want := "https://127.0.0.1:1/acct/c/b?sig=REDACTED&sp=r"; got != want {
		t.Errorf("Redact = %s, want %s", got, want)
	}
}
