package kafkaprops

import (
	"crypto/tls"
	"encoding/pem"
	"strings"
	"testing"
)

// TestSSLStores reads key and trust stores under a prefix, as the REST API does: errors name
// the keys as written, with the prefix, in the words both the Kafka clients and the REST API
// give, and never show a secret.
func TestSSLStores(t *testing.T) {
	p := newPKI(t)
	const prefix = "listeners.https."
	const secret = "Pa55-w0rd-never-shown"
	caFile := p.file(t, "ca.pem", p.caPEM)
	store := p.file(t, "store.pem", p.clientKeyPEM, p.clientCertPEM)
	encrypted := p.file(t, "encrypted.pem", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte(secret)}), p.clientCertPEM)

	keyStores := []struct {
		name    string
		props   map[string]string
		want    bool   // a certificate is returned
		wantErr string // the whole error text; "" for none
	}{
		{"none", map[string]string{}, false, ""},
		{"file", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": store}, true, ""},
		{"inline, lower-case type", map[string]string{"ssl.keystore.type": "pem", "ssl.keystore.key": string(p.clientKeyPEM),
			"ssl.keystore.certificate.chain": string(p.clientCertPEM)}, true, ""},
		{"JKS by default", map[string]string{"ssl.keystore.location": "/k.jks"}, false,
			"listeners.https.ssl.keystore.type=JKS is not supported; convert the key store to PEM and set listeners.https.ssl.keystore.type=PEM"},
		{"PKCS12", map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/k.p12"}, false,
			"listeners.https.ssl.keystore.type=PKCS12 is not supported; convert the key store to PEM and set listeners.https.ssl.keystore.type=PEM"},
		{"store password", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": store, "ssl.keystore.password": secret}, false,
			"listeners.https.ssl.keystore.password cannot be used with listeners.https.ssl.keystore.type=PEM (only listeners.https.ssl.key.password applies to PEM keys); remove it"},
		{"key password", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": store, "ssl.key.password": secret}, false,
			"listeners.https.ssl.key.password is not supported: Go cannot read encrypted PEM private keys; decrypt the key " +
				"(e.g. openssl pkcs8 -in key.pem -out key-plain.pem), protect the file instead, and remove listeners.https.ssl.key.password"},
		{"file and inline", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": store, "ssl.keystore.key": string(p.clientKeyPEM)}, false,
			"listeners.https.ssl.keystore.location and listeners.https.ssl.keystore.key/listeners.https.ssl.keystore.certificate.chain are mutually exclusive"},
		{"key without chain", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.key": string(p.clientKeyPEM)}, false,
			"listeners.https.ssl.keystore.key and listeners.https.ssl.keystore.certificate.chain must be set together"},
		{"encrypted key", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": encrypted}, false,
			"the private key of the key store (listeners.https.ssl.keystore.location) is encrypted; Go cannot read encrypted PEM private keys: decrypt it " +
				"(e.g. openssl pkcs8 -in key.pem -out key-plain.pem) and protect the file instead"},
		{"key and chain do not match", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.key": string(p.clientKeyPEM),
			"ssl.keystore.certificate.chain": string(p.caPEM)}, false,
			"loading the PEM key store (listeners.https.ssl.keystore.key): tls: private key does not match public key"},
	}
	for _, tc := range keyStores {
		t.Run("key store/"+tc.name, func(t *testing.T) {
			cert, err := SSL{Props: tc.props, Prefix: prefix}.KeyStore()
			checkSSLError(t, err, tc.wantErr, secret)
			if (cert != nil) != tc.want {
				t.Errorf("certificate %v, want one: %v", cert != nil, tc.want)
			}
		})
	}

	trustStores := []struct {
		name    string
		props   map[string]string
		want    bool // a pool is returned
		wantErr string
	}{
		{"none: the system's CAs", map[string]string{"ssl.truststore.password": secret}, false, ""},
		{"file", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile}, true, ""},
		{"inline", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": "\n" + string(p.caPEM) + "\n"}, true, ""},
		{"JKS by default", map[string]string{"ssl.truststore.location": "/ca.jks"}, false,
			"listeners.https.ssl.truststore.type=JKS is not supported; convert the trust store to PEM and set listeners.https.ssl.truststore.type=PEM"},
		{"store password", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile, "ssl.truststore.password": secret}, false,
			"listeners.https.ssl.truststore.password cannot be used with listeners.https.ssl.truststore.type=PEM; remove it"},
		{"file and inline", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile, "ssl.truststore.certificates": string(p.caPEM)}, false,
			"listeners.https.ssl.truststore.location and listeners.https.ssl.truststore.certificates are mutually exclusive"},
		{"no certificate", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": secret}, false,
			"listeners.https.ssl.truststore.certificates holds no PEM certificate"},
	}
	for _, tc := range trustStores {
		t.Run("trust store/"+tc.name, func(t *testing.T) {
			pool, err := SSL{Props: tc.props, Prefix: prefix}.TrustStore()
			checkSSLError(t, err, tc.wantErr, secret)
			if (pool != nil) != tc.want {
				t.Errorf("pool %v, want one: %v", pool != nil, tc.want)
			}
		})
	}
}

func checkSSLError(t *testing.T, err error, want, secret string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want %q", want)
	case want != "" && err.Error() != want:
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows a secret: %v", err)
	}
}

// TestSSLVersions reads protocol versions and cipher suites.
func TestSSLVersions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		props    map[string]string
		min, max uint16
		suites   int
		wantErr  string
	}{
		{"defaults", map[string]string{}, tls.VersionTLS12, 0, 0, ""},
		{"TLSv1.2 only", map[string]string{"ssl.protocol": "TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, 0, ""},
		{"TLSv1.3 only", map[string]string{"ssl.enabled.protocols": "TLSv1.3"}, tls.VersionTLS13, tls.VersionTLS13, 0, ""},
		{"both", map[string]string{"ssl.enabled.protocols": " TLSv1.3, TLSv1.2 ,"}, tls.VersionTLS12, tls.VersionTLS13, 0, ""},
		{"protocol caps enabled", map[string]string{"ssl.protocol": "TLSv1.2", "ssl.enabled.protocols": "TLSv1.2,TLSv1.3"}, tls.VersionTLS12, tls.VersionTLS12, 0, ""},
		{"suites, TLS 1.3 ones always on", map[string]string{"ssl.cipher.suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256"},
			tls.VersionTLS12, 0, 1, ""},
		{"old protocol", map[string]string{"ssl.protocol": "TLSv1.1"}, tls.VersionTLS12, 0, 0, "x.ssl.protocol=TLSv1.1 is not supported; use TLSv1.2 or TLSv1.3"},
		{"old enabled protocol", map[string]string{"ssl.enabled.protocols": "TLSv1.1,TLSv1.3"}, tls.VersionTLS13, tls.VersionTLS13, 0,
			"x.ssl.enabled.protocols: TLSv1.1 is not supported; use TLSv1.2 and/or TLSv1.3"},
		{"unknown suite", map[string]string{"ssl.cipher.suites": "TLS_FAKE"}, tls.VersionTLS12, 0, 0, "x.ssl.cipher.suites: TLS_FAKE is not a supported cipher suite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SSL{Props: tc.props, Prefix: "x."}.Versions()
			checkSSLError(t, err, tc.wantErr, "\x00")
			if got.MinVersion != tc.min || got.MaxVersion != tc.max || len(got.CipherSuites) != tc.suites {
				t.Errorf("versions %x-%x, %d suites; want %x-%x, %d", got.MinVersion, got.MaxVersion, len(got.CipherSuites), tc.min, tc.max, tc.suites)
			}
		})
	}
}
