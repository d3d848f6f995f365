package kafkaprops

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// The ssl.* settings are Java's common SslConfigs: the Kafka clients read them, and so does the
// REST API of a worker (its https listeners and its requests to other workers), as in Java.
// [SSL] reads what both make of them, so the two accept the same stores and refuse the same
// settings with the same words. Only PEM stores are read; JKS and PKCS12 stores, store
// passwords and encrypted keys are refused with an error that says what to do instead.

// Store types, as Java spells them.
const (
	defaultStoreType = "JKS" // Java's default for both stores
	pemStoreType     = "PEM"
)

// managerAlgorithms are the only key and trust manager algorithms Go's TLS matches: Java's
// defaults.
var managerAlgorithms = map[string]string{SSLKeymanagerAlgorithm: "SunX509", SSLTrustmanagerAlgorithm: "PKIX"}

// SSL is the ssl.* settings of one TLS endpoint. Props holds them without Prefix, the prefix
// they were written under ("" for the Kafka clients, "listeners.https." for the REST API's own
// settings); errors name the keys with it, as the user wrote them, and never show a value of a
// password, a key or a certificate.
type SSL struct {
	Props  map[string]string
	Prefix string
}

// Name returns key as the user wrote it.
func (s SSL) Name(key string) string { return s.Prefix + key }

// Get returns the value of key without surrounding white space; "" when it is not set.
func (s SSL) Get(key string) string { return strings.TrimSpace(s.Props[key]) }

// CheckManagerAlgorithm refuses an ssl.keymanager.algorithm or ssl.trustmanager.algorithm
// other than Java's default, the only one Go's TLS matches. An empty value is the default.
func (s SSL) CheckManagerAlgorithm(key string) error {
	want := managerAlgorithms[key]
	if v := s.Get(key); v != "" && !strings.EqualFold(v, want) {
		return fmt.Errorf("%s=%s is not supported (only %s)", s.Name(key), v, want)
	}
	return nil
}

// Versions returns a configuration holding the protocol versions of ssl.protocol and
// ssl.enabled.protocols (TLS 1.2 at the least) and the cipher suites of ssl.cipher.suites. On
// error it still returns a configuration, of what could be read.
func (s SSL) Versions() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	var errs []error
	if v := s.Get(SSLProtocol); v != "" {
		switch strings.ToUpper(v) {
		case "TLS", "TLSV1.3":
		case "TLSV1.2":
			tc.MaxVersion = tls.VersionTLS12
		default:
			errs = append(errs, fmt.Errorf("%s=%s is not supported; use TLSv1.2 or TLSv1.3", s.Name(SSLProtocol), v))
		}
	}
	if v := s.Get(SSLEnabledProtocols); v != "" {
		var lo, hi uint16
		for _, p := range strings.Split(v, ",") {
			var ver uint16
			switch strings.ToUpper(strings.TrimSpace(p)) {
			case "":
				continue
			case "TLSV1.2":
				ver = tls.VersionTLS12
			case "TLSV1.3":
				ver = tls.VersionTLS13
			default:
				errs = append(errs, fmt.Errorf("%s: %s is not supported; use TLSv1.2 and/or TLSv1.3", s.Name(SSLEnabledProtocols), strings.TrimSpace(p)))
				continue
			}
			if lo == 0 || ver < lo {
				lo = ver
			}
			hi = max(hi, ver)
		}
		if lo != 0 {
			tc.MinVersion = lo
			if tc.MaxVersion == 0 || hi < tc.MaxVersion {
				tc.MaxVersion = hi
			}
		}
	}
	if v := s.Get(SSLCipherSuites); v != "" {
		ids, err := cipherSuites(s.Name(SSLCipherSuites), v)
		if err != nil {
			errs = append(errs, err)
		}
		tc.CipherSuites = ids
	}
	return tc, errors.Join(errs...)
}

func cipherSuites(key, v string) ([]uint16, error) {
	byName := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		byName[cs.Name] = cs.ID
	}
	var ids []uint16
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case strings.HasPrefix(name, "TLS_AES_") || strings.HasPrefix(name, "TLS_CHACHA20_"):
			// TLS 1.3 suites are always enabled in Go and cannot be chosen.
		default:
			id, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("%s: %s is not a supported cipher suite", key, name)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// VerifyEndpoint applies ssl.endpoint.identification.algorithm to tc, a client configuration
// whose RootCAs are already set (nil: the system's CAs). Java checks the server's host name
// by default ("https"); an empty value turns off the host name check only, so the certificate
// chain is then checked against RootCAs in VerifyConnection.
func (s SSL) VerifyEndpoint(tc *tls.Config) error {
	alg, set := s.Props[SSLEndpointIdentificationAlgorithm]
	alg = strings.TrimSpace(alg)
	switch {
	case !set || strings.EqualFold(alg, "https"):
	case alg == "":
		// InsecureSkipVerify skips the chain check as well, so VerifyConnection does that one.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = verifyChain(tc.RootCAs)
	default:
		return fmt.Errorf("%s=%s is not supported; use https or an empty value", s.Name(SSLEndpointIdentificationAlgorithm), alg)
	}
	return nil
}

// verifyChain checks the server's certificate chain against roots (the system's when nil)
// without checking its host name.
func verifyChain(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server presented no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}

// storeType returns the type of a store, upper case; Java's default is JKS.
func (s SSL) storeType(key string) string {
	if t := strings.ToUpper(s.Get(key)); t != "" {
		return t
	}
	return defaultStoreType
}

// notPEM is the error for a store of another type than PEM (JKS, PKCS12); what names the store.
func (s SSL) notPEM(typeKey, what string) error {
	return fmt.Errorf("%s=%s is not supported; convert the %s to PEM and set %s=PEM",
		s.Name(typeKey), s.storeType(typeKey), what, s.Name(typeKey))
}

// TrustStore returns the CAs of the PEM trust store (ssl.truststore.location or
// ssl.truststore.certificates), or nil when none is configured: the system's CAs then apply.
func (s SSL) TrustStore() (*x509.CertPool, error) {
	loc, inline := s.Get(SSLTruststoreLocation), s.Get(SSLTruststoreCertificates)
	if loc == "" && inline == "" {
		return nil, nil
	}
	if s.storeType(SSLTruststoreType) != pemStoreType {
		return nil, s.notPEM(SSLTruststoreType, "trust store")
	}
	if s.Props[SSLTruststorePassword] != "" {
		return nil, fmt.Errorf("%s cannot be used with %s=PEM; remove it", s.Name(SSLTruststorePassword), s.Name(SSLTruststoreType))
	}
	if loc != "" && inline != "" {
		return nil, fmt.Errorf("%s and %s are mutually exclusive", s.Name(SSLTruststoreLocation), s.Name(SSLTruststoreCertificates))
	}
	data, key := []byte(inline), s.Name(SSLTruststoreCertificates)
	if loc != "" {
		var err error
		if data, err = os.ReadFile(loc); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Name(SSLTruststoreLocation), err)
		}
		key = s.Name(SSLTruststoreLocation)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", key)
	}
	return pool, nil
}

// KeyStore returns the certificate chain and private key of the PEM key store, or nil when
// none is configured. The store is one file holding both (ssl.keystore.location), or the two
// given inline (ssl.keystore.key and ssl.keystore.certificate.chain).
func (s SSL) KeyStore() (*tls.Certificate, error) {
	loc, key, chain := s.Get(SSLKeystoreLocation), s.Get(SSLKeystoreKey), s.Get(SSLKeystoreCertificateChain)
	if loc == "" && key == "" && chain == "" {
		return nil, nil
	}
	if s.storeType(SSLKeystoreType) != pemStoreType {
		return nil, s.notPEM(SSLKeystoreType, "key store")
	}
	if s.Props[SSLKeystorePassword] != "" {
		return nil, fmt.Errorf("%s cannot be used with %s=PEM (only %s applies to PEM keys); remove it",
			s.Name(SSLKeystorePassword), s.Name(SSLKeystoreType), s.Name(SSLKeyPassword))
	}
	if s.Props[SSLKeyPassword] != "" {
		return nil, fmt.Errorf("%s is not supported: Go cannot read encrypted PEM private keys; decrypt the key "+
			"(e.g. openssl pkcs8 -in key.pem -out key-plain.pem), protect the file instead, and remove %s",
			s.Name(SSLKeyPassword), s.Name(SSLKeyPassword))
	}
	var certPEM, keyPEM []byte
	switch {
	case loc != "" && (key != "" || chain != ""):
		return nil, fmt.Errorf("%s and %s/%s are mutually exclusive", s.Name(SSLKeystoreLocation), s.Name(SSLKeystoreKey), s.Name(SSLKeystoreCertificateChain))
	case loc != "":
		data, err := os.ReadFile(loc)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Name(SSLKeystoreLocation), err)
		}
		certPEM, keyPEM = data, data
	case key == "" || chain == "":
		return nil, fmt.Errorf("%s and %s must be set together", s.Name(SSLKeystoreKey), s.Name(SSLKeystoreCertificateChain))
	default:
		certPEM, keyPEM = []byte(s.Props[SSLKeystoreCertificateChain]), []byte(s.Props[SSLKeystoreKey])
	}
	// The setting that holds the key, for errors.
	keyName := s.Name(SSLKeystoreKey)
	if loc != "" {
		keyName = s.Name(SSLKeystoreLocation)
	}
	if encryptedPEMKey(keyPEM) {
		return nil, fmt.Errorf("the private key of the key store (%s) is encrypted; Go cannot read encrypted PEM private keys: decrypt it "+
			"(e.g. openssl pkcs8 -in key.pem -out key-plain.pem) and protect the file instead", keyName)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The tls package names the problem (no certificate, no key, a mismatch), never the key.
		return nil, fmt.Errorf("loading the PEM key store (%s): %w", keyName, err)
	}
	return &cert, nil
}

// encryptedPEMKey reports whether data holds an encrypted private key: PKCS#8 "ENCRYPTED
// PRIVATE KEY" or a legacy OpenSSL key with a Proc-Type header.
func encryptedPEMKey(data []byte) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return true
		}
	}
}
