package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a certificate authority and a certificate it issued for 127.0.0.1 and localhost
// (usable by servers and clients), written as PEM files to a temporary directory.
type testPKI struct {
	dir       string
	caFile    string // the CA certificate
	storeFile string // private key, then certificate chain (an ssl.keystore.location file)
	keyPEM    string // the private key alone (ssl.keystore.key)
	chainPEM  string // the certificate chain alone (ssl.keystore.certificate.chain)
	otherCA   string // a CA that issued nothing here
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	ca, caKey := newTestCA(t, "kconnect test CA")
	other, _ := newTestCA(t, "another CA")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "worker"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{
		dir:      dir,
		keyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		chainPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})),
	}
	p.caFile = writeTestFile(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})))
	p.otherCA = writeTestFile(t, dir, "other-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Raw})))
	p.storeFile = writeTestFile(t, dir, "worker.pem", p.keyPEM+p.chainPEM)
	return p
}

func newTestCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsProps are the PEM TLS settings of p under prefix ("" or "listeners.https.").
func (p *testPKI) tlsProps(prefix string, kv ...string) []string {
	return append([]string{
		prefix + "ssl.keystore.type", "PEM",
		prefix + "ssl.keystore.location", p.storeFile,
		prefix + "ssl.truststore.type", "PEM",
		prefix + "ssl.truststore.location", p.caFile,
	}, kv...)
}

func TestRESTTLSConfig(t *testing.T) {
	p := newTestPKI(t)
	const secret = "Pa55-w0rd-never-shown"
	https := []string{"listeners", "https://127.0.0.1:8443"}
	cases := []struct {
		name       string
		props      []string
		wantErr    []string // substrings of the parse error; nil: no error
		wantServer bool
		clientAuth tls.ClientAuthType
		clientCert bool // the client configuration presents a certificate
	}{
		{name: "http only, no TLS settings", props: nil},
		{name: "https, prefixed settings", props: append(p.tlsProps("listeners.https."), https...), wantServer: true, clientCert: true},
		{name: "https, plain settings", props: append(p.tlsProps(""), https...), wantServer: true, clientCert: true},
		{name: "mixed listeners", props: append(p.tlsProps(""), "listeners", "http://127.0.0.1:8083,https://127.0.0.1:8443"), wantServer: true, clientCert: true},
		{name: "inline key and chain", props: append([]string{"ssl.keystore.type", "pem", "ssl.keystore.key", p.keyPEM, "ssl.keystore.certificate.chain", p.chainPEM}, https...),
			wantServer: true, clientCert: true},
		{name: "client auth required", props: append(p.tlsProps("listeners.https.", "listeners.https.ssl.client.auth", "required"), https...),
			wantServer: true, clientAuth: tls.RequireAndVerifyClientCert, clientCert: true},
		{name: "client auth requested, plain", props: append(p.tlsProps("", "ssl.client.auth", "requested"), https...),
			wantServer: true, clientAuth: tls.VerifyClientCertIfGiven, clientCert: true},
		{name: "prefixed settings hide the plain ones", props: append([]string{"ssl.keystore.type", "PEM", "ssl.keystore.location", p.storeFile,
			"listeners.https.ssl.truststore.type", "PEM", "listeners.https.ssl.truststore.location", p.caFile}, https...),
			wantErr: []string{"an https listener needs a certificate", "listeners.https.ssl.keystore.location"}},
		{name: "https without a key store", props: https, wantErr: []string{"an https listener needs a certificate: set ssl.keystore.type=PEM"}},
		{name: "JKS key store", props: append([]string{"ssl.keystore.location", "/etc/worker.jks", "ssl.keystore.password", secret}, https...),
			wantErr: []string{"ssl.keystore.type=JKS is not supported", "convert the key store to PEM"}},
		{name: "PKCS12 trust store", props: append(p.tlsProps("listeners.https.", "listeners.https.ssl.truststore.type", "PKCS12"), https...),
			wantErr: []string{"listeners.https.ssl.truststore.type=PKCS12 is not supported"}},
		{name: "key password", props: append(p.tlsProps("", "ssl.key.password", secret), https...),
			wantErr: []string{"ssl.key.password is not supported", "encrypted PEM private keys"}},
		{name: "key store password with PEM", props: append(p.tlsProps("", "ssl.keystore.password", secret), https...),
			wantErr: []string{"ssl.keystore.password cannot be used with ssl.keystore.type=PEM"}},
		{name: "encrypted key", props: append([]string{"ssl.keystore.type", "PEM", "ssl.keystore.location",
			writeTestFile(t, p.dir, "encrypted.pem", string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte(secret)}))+p.chainPEM)}, https...),
			wantErr: []string{"is encrypted"}},
		{name: "key and chain do not match", props: append([]string{"ssl.keystore.type", "PEM", "ssl.keystore.key", p.keyPEM,
			"ssl.keystore.certificate.chain", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mustReadPEM(t, p.otherCA)}))}, https...),
			wantErr: []string{"loading the PEM key store (ssl.keystore.key)"}},
		{name: "bad client auth, prefixed", props: append(p.tlsProps("listeners.https.", "listeners.https.ssl.client.auth", "always"), https...),
			wantErr: []string{"Invalid value always for configuration listeners.https.ssl.client.auth"}},
		{name: "bad client auth, plain", props: append(p.tlsProps("", "ssl.client.auth", "REQUIRED"), https...),
			wantErr: []string{"ssl.client.auth"}},
		{name: "unknown prefixed setting", props: append(p.tlsProps("listeners.https.", "listeners.https.ssl.keystore.alias", "x"), https...),
			wantErr: []string{"listeners.https.ssl.keystore.alias is not a TLS setting kconnect knows"}},
		{name: "TLS 1.1", props: append(p.tlsProps("", "ssl.enabled.protocols", "TLSv1.1"), https...),
			wantErr: []string{"ssl.enabled.protocols: TLSv1.1 is not supported"}},
		{name: "advertised https needs usable client settings", props: []string{"rest.advertised.listener", "https", "ssl.truststore.location", "/etc/ca.jks"},
			wantErr: []string{"ssl.truststore.type=JKS is not supported"}},
		{name: "http only with unusable settings starts", props: []string{"ssl.truststore.location", "/etc/ca.jks"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseWorkerConfig(with(minimalWorker(), c.props...))
			if c.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, want := range c.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Errorf("the error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			server := cfg.ListenerTLS()
			if (server != nil) != c.wantServer {
				t.Fatalf("ListenerTLS() = %v, want a server config: %v", server, c.wantServer)
			}
			if server != nil {
				if len(server.Certificates) != 1 || server.ClientAuth != c.clientAuth {
					t.Errorf("server: %d certificates, client auth %v; want 1, %v", len(server.Certificates), server.ClientAuth, c.clientAuth)
				}
				if server.MinVersion != tls.VersionTLS12 {
					t.Errorf("server minimum version %x", server.MinVersion)
				}
			}
			client := cfg.ClientTLS()
			if client == nil {
				t.Fatal("no client config")
			}
			if got := len(client.Certificates) == 1; got != c.clientCert {
				t.Errorf("client presents a certificate: %v, want %v", got, c.clientCert)
			}
		})
	}
}

func mustReadPEM(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s holds no PEM", file)
	}
	return b.Bytes
}

// TestRESTTLSHandshakes serves HTTPS with one worker's ListenerTLS and calls it with another's
// ClientTLS: client certificates, trust stores and host name checks behave as configured.
func TestRESTTLSHandshakes(t *testing.T) {
	p := newTestPKI(t)
	parse := func(kv ...string) *WorkerConfig {
		t.Helper()
		cfg, err := ParseWorkerConfig(with(minimalWorker(), append([]string{"listeners", "https://127.0.0.1:8443"}, kv...)...))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	serve := func(cfg *WorkerConfig) string {
		t.Helper()
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.TLS.PeerCertificates) > 0 {
				_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
			}
		}))
		srv.TLS = cfg.ListenerTLS()
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	// call sends a request to url; a host named other.invalid is dialled at 127.0.0.1, so a
	// certificate that does not name it can be tried.
	call := func(cfg *WorkerConfig, url string) (string, error) {
		t.Helper()
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			addr = strings.Replace(addr, "other.invalid", "127.0.0.1", 1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg.ClientTLS(), DialContext: dial}, Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}

	required := serve(parse(p.tlsProps("", "ssl.client.auth", "required")...))
	requested := serve(parse(p.tlsProps("listeners.https.", "listeners.https.ssl.client.auth", "requested")...))
	none := serve(parse(p.tlsProps("")...))
	localhostURL := strings.Replace(none, "127.0.0.1", "localhost", 1)
	otherHostURL := strings.Replace(none, "127.0.0.1", "other.invalid", 1)

	withCert := parse(p.tlsProps("")...)
	noCert := parse(p.tlsProps("")...)
	noCert.tls.client.Certificates = nil // trusts the CA, shows no certificate
	otherTrust := parse(p.tlsProps("", "ssl.truststore.location", p.otherCA)...)
	noHostCheck := parse(p.tlsProps("", "ssl.endpoint.identification.algorithm", "")...)

	for _, c := range []struct {
		name    string
		client  *WorkerConfig
		url     string
		want    string // the client certificate's name the server saw
		wantErr bool
	}{
		{"required, certificate shown", withCert, required, "worker", false},
		{"required, no certificate", noCert, required, "", true},
		{"requested, certificate shown", withCert, requested, "worker", false},
		{"requested, no certificate", noCert, requested, "", false},
		{"not asked", withCert, none, "", false},
		{"server not trusted", otherTrust, none, "", true},
		{"host name in the certificate", withCert, localhostURL, "", false},
		{"host name not in the certificate", withCert, otherHostURL, "", true},
		{"no host name check", noHostCheck, otherHostURL, "", false},
		{"no host name check, chain still checked", parse(p.tlsProps("", "ssl.endpoint.identification.algorithm", "", "ssl.truststore.location", p.otherCA)...), otherHostURL, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := call(c.client, c.url)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want one: %v", err, c.wantErr)
			}
			if got != c.want {
				t.Errorf("the server saw client certificate %q, want %q", got, c.want)
			}
		})
	}

	// A worker that cannot use its TLS settings but does not need them starts, and its
	// requests to https workers fail with the reason.
	broken, err := ParseWorkerConfig(with(minimalWorker(), "ssl.truststore.location", "/etc/kafka/ca.jks"))
	if err != nil {
		t.Fatal(err)
	}
	if broken.tls.clientProblem == nil {
		t.Error("no client problem recorded")
	}
	if _, err := call(broken, none); err == nil || !strings.Contains(err.Error(), "ssl.truststore.type=JKS is not supported") {
		t.Errorf("request with unusable TLS settings: %v", err)
	}
}
