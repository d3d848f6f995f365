// Package sas issues and checks Azure Storage service shared access signatures (SAS) for the
// emulator's storage account: container SAS for blobs, queue SAS and table SAS, signed with the
// account key exactly as Azure Storage signs them (HMAC-SHA256 over the documented string to
// sign), so that any Azure Storage client accepts the tokens and a forged or altered token fails.
package sas

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Service is the storage service a signature is for.
type Service string

// The services the emulator serves.
const (
	Blob  Service = "blob"
	Queue Service = "queue"
	Table Service = "table"
)

// Versions the emulator signs with. Each service's string to sign depends on the version; these
// are the layouts in force for current clients.
const (
	BlobVersion  = "2022-11-02"
	QueueVersion = "2022-11-02"
	TableVersion = "2019-02-02"
)

// Error codes of a rejected signature, as Azure Storage reports them (HTTP 403).
const (
	CodeAuthenticationFailed      = "AuthenticationFailed"
	CodePermissionMismatch        = "AuthorizationPermissionMismatch"
	CodeResourceTypeMismatch      = "AuthorizationResourceTypeMismatch"
	CodeSourceIPMismatch          = "AuthorizationSourceIPMismatch"
	CodeProtocolMismatch          = "AuthorizationProtocolMismatch"
	authenticationFailedMessage   = "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature."
	permissionMismatchMessage     = "This request is not authorized to perform this operation using this permission."
	resourceTypeMismatchMessage   = "This request is not authorized to perform this operation using this resource type."
	sourceIPMismatchMessage       = "This request is not authorized to perform this operation using this source IP"
	protocolMismatchMessage       = "This request is not authorized to perform this operation using this protocol."
	timeLayoutSeconds             = "2006-01-02T15:04:05Z"
	minimumBlobVersion            = "2018-11-09"
	blobEncryptionScopeVersion    = "2020-12-06"
	minimumQueueOrTableSASVersion = "2015-04-05"
)

// Error is a rejected signature. Message is Azure's message for Code; Detail explains the cause
// and never contains the signature or the key.
type Error struct {
	Code    string
	Message string
	Detail  string
}

// Error returns the code and the detail.
func (e *Error) Error() string { return e.Code + ": " + e.Detail }

func authFailed(format string, args ...any) *Error {
	return &Error{Code: CodeAuthenticationFailed, Message: authenticationFailedMessage, Detail: fmt.Sprintf(format, args...)}
}

// Account is a storage account and its key.
type Account struct {
	Name string
	Key  []byte
}

// NewKey returns a random 64-byte account key, the size Azure Storage uses.
func NewKey() ([]byte, error) {
	k := make([]byte, 64)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generating account key: %w", err)
	}
	return k, nil
}

func (a Account) sign(stringToSign string) string {
	m := hmac.New(sha256.New, a.Key)
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Grant describes a signature to issue: the resource, the permission letters (e.g. "racwl" for a
// container, "ra" for a queue, "rau" for a table) and the expiry.
type Grant struct {
	Service     Service
	Resource    string // container, queue or table name
	Permissions string
	Expiry      time.Time
}

// Sign returns the SAS query parameters for g. The signature is valid for HTTPS only.
func (a Account) Sign(g Grant) url.Values {
	q := url.Values{}
	q.Set("sp", g.Permissions)
	q.Set("se", g.Expiry.UTC().Format(timeLayoutSeconds))
	q.Set("spr", "https")
	switch g.Service {
	case Blob:
		q.Set("sv", BlobVersion)
		q.Set("sr", "c")
	case Queue:
		q.Set("sv", QueueVersion)
	case Table:
		q.Set("sv", TableVersion)
		q.Set("tn", strings.ToLower(g.Resource))
	}
	sts, _ := stringToSign(a.Name, g.Service, q, g.Resource, "")
	q.Set("sig", a.sign(sts))
	return q
}

// Request is what a storage request wants to do, for Verify.
type Request struct {
	Service Service
	// Resource is the container, queue or table the request addresses.
	Resource string
	// Blob is the blob name for blob requests ("" for container-level requests).
	Blob string
	// Permission is the permission letter the operation needs: r (read), a (add), c (create),
	// w (write), d (delete), l (list), u (update), p (process).
	Permission byte
	// RemoteIP is the client's address, checked against a signed IP range.
	RemoteIP net.IP
	Now      time.Time
}

// Verify checks the SAS in q for req: a known version, a matching signature, the validity window,
// the protocol, the source IP, the resource and the permission. It returns *Error when the
// request must be refused.
func (a Account) Verify(q url.Values, req Request) error {
	sig := q.Get("sig")
	if sig == "" {
		return authFailed("The request carries no shared access signature; this account accepts SAS-authorized requests only.")
	}
	if q.Get("si") != "" {
		return authFailed("Stored access policies (si) are not known to this account.")
	}
	if q.Get("skoid") != "" {
		return authFailed("User delegation signatures are not accepted by this account.")
	}
	resourceName := req.Resource
	blob := ""
	if req.Service == Blob {
		switch q.Get("sr") {
		case "c":
		case "b":
			blob = req.Blob
		default:
			return authFailed("Signed resource %q is not supported; use sr=c or sr=b.", q.Get("sr"))
		}
	}
	if req.Service == Table {
		tn := q.Get("tn")
		if tn == "" {
			return authFailed("The table signature has no table name (tn).")
		}
		resourceName = tn
	}
	sts, err := stringToSign(a.Name, req.Service, q, resourceName, blob)
	if err != nil {
		return err
	}
	want := a.sign(sts)
	got, decErr := base64.StdEncoding.DecodeString(sig)
	wantRaw, _ := base64.StdEncoding.DecodeString(want)
	if decErr != nil || !hmac.Equal(got, wantRaw) {
		return authFailed("Signature did not match. String to sign used was %s", strings.ReplaceAll(sts, "\n", `\n`))
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	expiry, err := parseSASTime(q.Get("se"))
	if err != nil {
		return authFailed("Signed expiry time %q is not a valid time.", q.Get("se"))
	}
	if st := q.Get("st"); st != "" {
		start, err := parseSASTime(st)
		if err != nil {
			return authFailed("Signed start time %q is not a valid time.", st)
		}
		if now.Before(start) {
			return authFailed("Signature not valid in the specified time frame: Start [%s] - Expiry [%s] - Current [%s]",
				start.Format(http1123), expiry.Format(http1123), now.UTC().Format(http1123))
		}
	}
	if !now.Before(expiry) {
		return authFailed("Signed expiry time [%s] must be after signed start time [%s]; the signature expired.",
			expiry.Format(http1123), now.UTC().Format(http1123))
	}
	if spr := q.Get("spr"); spr != "" && spr != "https" && spr != "https,http" {
		return &Error{Code: CodeProtocolMismatch, Message: protocolMismatchMessage, Detail: fmt.Sprintf("Signed protocol %q does not allow HTTPS.", spr)}
	}
	if sip := q.Get("sip"); sip != "" && !ipInRange(req.RemoteIP, sip) {
		return &Error{Code: CodeSourceIPMismatch, Message: sourceIPMismatchMessage, Detail: fmt.Sprintf("Source IP %s is outside the signed range %s.", req.RemoteIP, sip)}
	}
	switch req.Service {
	case Blob:
		if q.Get("sr") == "b" && req.Blob == "" {
			return &Error{Code: CodeResourceTypeMismatch, Message: resourceTypeMismatchMessage, Detail: "A blob signature cannot authorize a container operation."}
		}
	case Table:
		if !strings.EqualFold(q.Get("tn"), req.Resource) {
			return &Error{Code: CodeResourceTypeMismatch, Message: resourceTypeMismatchMessage, Detail: fmt.Sprintf("The signature is for table %q, not %q.", q.Get("tn"), req.Resource)}
		}
	}
	if !strings.ContainsRune(q.Get("sp"), rune(req.Permission)) {
		return &Error{Code: CodePermissionMismatch, Message: permissionMismatchMessage,
			Detail: fmt.Sprintf("The operation needs permission %q; the signature grants %q.", string(req.Permission), q.Get("sp"))}
	}
	return nil
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

// stringToSign builds the service SAS string to sign for the signed version in q.
func stringToSign(account string, svc Service, q url.Values, resource, blob string) (string, error) {
	sv := q.Get("sv")
	common := func(canonical string) []string {
		return []string{q.Get("sp"), q.Get("st"), q.Get("se"), canonical, q.Get("si"), q.Get("sip"), q.Get("spr"), sv}
	}
	switch svc {
	case Blob:
		if sv < minimumBlobVersion {
			return "", authFailed("Signed version %q is not supported; use %s or later.", sv, minimumBlobVersion)
		}
		canonical := "/blob/" + account + "/" + resource
		if blob != "" {
			canonical += "/" + blob
		}
		parts := append(common(canonical), q.Get("sr"), q.Get("snapshot"))
		if sv >= blobEncryptionScopeVersion {
			parts = append(parts, q.Get("ses"))
		}
		parts = append(parts, q.Get("rscc"), q.Get("rscd"), q.Get("rsce"), q.Get("rscl"), q.Get("rsct"))
		return strings.Join(parts, "\n"), nil
	case Queue:
		if sv < minimumQueueOrTableSASVersion {
			return "", authFailed("Signed version %q is not supported; use %s or later.", sv, minimumQueueOrTableSASVersion)
		}
		return strings.Join(common("/queue/"+account+"/"+resource), "\n"), nil
	case Table:
		if sv < minimumQueueOrTableSASVersion {
			return "", authFailed("Signed version %q is not supported; use %s or later.", sv, minimumQueueOrTableSASVersion)
		}
		parts := append(common("/table/"+account+"/"+strings.ToLower(resource)), q.Get("spk"), q.Get("srk"), q.Get("epk"), q.Get("erk"))
		return strings.Join(parts, "\n"), nil
	}
	return "", authFailed("Unknown storage service %q.", svc)
}

var sasTimeLayouts = []string{timeLayoutSeconds, "2006-01-02T15:04Z", "2006-01-02", time.RFC3339Nano}

func parseSASTime(s string) (time.Time, error) {
	for _, l := range sasTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a SAS time", s)
}

// ipInRange reports whether ip is the address or within the "from-to" range of sip.
func ipInRange(ip net.IP, sip string) bool {
	if ip == nil {
		return false
	}
	from, to, isRange := strings.Cut(sip, "-")
	lo, hi := net.ParseIP(from), net.ParseIP(from)
	if isRange {
		hi = net.ParseIP(to)
	}
	if lo == nil || hi == nil {
		return false
	}
	ip16, lo16, hi16 := ip.To16(), lo.To16(), hi.To16()
	return string(ip16) >= string(lo16) && string(ip16) <= string(hi16)
}

// Redact returns the URL with the SAS signature replaced, for logs and status records.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	if q.Has("sig") {
		q.Set("sig", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
