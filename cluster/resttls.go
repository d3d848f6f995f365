package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// TLS of the REST API (Java's SSLUtils). The https listeners and the client that calls other
// workers (forwarded requests, task configs sent to the leader) read the ssl.* settings under
// listeners.https. when any such key is set, and the plain ssl.* settings otherwise, never a
// mix of both (Java's valuesWithPrefixAllOrNothing). The plain ssl.* settings are the Kafka
// clients' as well, as in Java. Only PEM stores are read; JKS and PKCS12 are refused with an
// error that says to convert them.

// listenersHTTPSPrefix prefixes the ssl.* settings of the https listeners.
const listenersHTTPSPrefix = "listeners.https."

// REST TLS setting names, as Java spells them.
const (
	sslClientAuth                 = "ssl.client.auth"
	sslProtocol                   = "ssl.protocol"
	sslEnabledProtocols           = "ssl.enabled.protocols"
	sslCipherSuites               = "ssl.cipher.suites"
	sslEndpointIdentification     = "ssl.endpoint.identification.algorithm"
	sslTruststoreType             = "ssl.truststore.type"
	sslTruststoreLocation         = "ssl.truststore.location"
	sslTruststoreCertificates     = "ssl.truststore.certificates"
	sslTruststorePassword         = "ssl.truststore.password"
	sslKeystoreType               = "ssl.keystore.type"
	sslKeystoreLocation           = "ssl.keystore.location"
	sslKeystoreKey                = "ssl.keystore.key"
	sslKeystoreCertificateChain   = "ssl.keystore.certificate.chain"
	sslKeystorePassword           = "ssl.keystore.password"
	sslKeyPassword                = "ssl.key.password"
	sslKeymanagerAlgorithm        = "ssl.keymanager.algorithm"
	sslTrustmanagerAlgorithm      = "ssl.trustmanager.algorithm"
	sslSecureRandom               = "ssl.secure.random.implementation"
	sslProvider                   = "ssl.provider"
	sslEngineFactoryClass         = "ssl.engine.factory.class"
	clientAuthNone                = "none"
	clientAuthRequested           = "requested"
	clientAuthRequired            = "required"
	defaultStoreType              = "JKS" // Java's default for both stores
	pemStoreType                  = "PEM"
	defaultEndpointIdentification = "https"
)

// restTLSKeys are the ssl.* settings the REST TLS configuration reads.
var restTLSKeys = map[string]bool{
	sslClientAuth: true, sslProtocol: true, sslEnabledProtocols: true, sslCipherSuites: true, sslEndpointIdentification: true,
	sslTruststoreType: true, sslTruststoreLocation: true, sslTruststoreCertificates: true, sslTruststorePassword: true,
	sslKeystoreType: true, sslKeystoreLocation: true, sslKeystoreKey: true, sslKeystoreCertificateChain: true,
	sslKeystorePassword: true, sslKeyPassword: true, sslKeymanagerAlgorithm: true, sslTrustmanagerAlgorithm: true,
	// Go's TLS always draws from crypto/rand; the setting has nothing to choose.
	sslSecureRandom: true,
}

// restTLS is the TLS of the REST API, built when the worker configuration is parsed.
type restTLS struct {
	server *tls.Config // for https listeners; nil when every listener is http
	client *tls.Config // for requests to other workers' https listeners; never nil
	// clientProblem is why the settings could not be used for the client, when this worker
	// does not need them itself (no https listener, http advertised): requests to workers that
	// advertise https then fail with it.
	clientProblem error
}

// sslSettings are the ssl.* settings of the REST API, with the prefix they were read under.
type sslSettings struct {
	props  map[string]string // keys without the prefix
	prefix string            // "listeners.https." or ""
}

// name is the key as the user wrote it, for error messages.
func (s sslSettings) name(key string) string { return s.prefix + key }

func (s sslSettings) get(key string) string { return strings.TrimSpace(s.props[key]) }

// restSSLSettings selects the ssl.* settings of the REST API: the listeners.https.-prefixed ones
// if any key starts with the prefix, else the plain ones.
func restSSLSettings(props map[string]string) sslSettings {
	prefixed := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, listenersHTTPSPrefix); ok {
			prefixed[rest] = v
		}
	}
	if len(prefixed) > 0 {
		return sslSettings{props: prefixed, prefix: listenersHTTPSPrefix}
	}
	plain := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, "ssl.") {
			plain[k] = v
		}
	}
	return sslSettings{props: plain}
}

// buildRESTTLS builds the TLS of the REST API. needServer: some listener is https (a key store
// is then required); needClient: this worker advertises https, so other workers reach it with
// the same settings and they must be usable. Errors name keys, never values.
func buildRESTTLS(props map[string]string, needServer, needClient bool) (restTLS, error) {
	s := restSSLSettings(props)
	p, errs := s.parts()
	var out restTLS
	if needServer {
		server, serverErrs := s.serverConfig(p)
		out.server = server
		errs = append(errs, serverErrs...)
	}
	client, clientErrs := s.clientConfig(p)
	out.client = client
	errs = append(errs, clientErrs...)
	err := errors.Join(errs...)
	switch {
	case err == nil:
		return out, nil
	case needServer || needClient:
		return restTLS{}, fmt.Errorf("configuring TLS for the REST API: %w", err)
	}
	out.clientProblem = err
	problem := fmt.Errorf("the TLS settings for requests to other workers cannot be used: %w", err)
	// Every handshake fails in VerifyConnection with the reason. InsecureSkipVerify only makes
	// sure that check is the one that runs (the certificate checks would fail first with a
	// less helpful error); no connection is ever accepted.
	out.client = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true,
		VerifyConnection:   func(tls.ConnectionState) error { return problem },
	}
	return out, nil
}

// tlsParts are what the server and the client configuration share.
type tlsParts struct {
	base *tls.Config      // protocol versions and cipher suites
	cert *tls.Certificate // the key store; nil when none is configured
	pool *x509.CertPool   // the trust store; nil when none is configured (the system's CAs)
}

// parts reads the settings servers and clients share.
func (s sslSettings) parts() (tlsParts, []error) {
	var errs []error
	if err := s.check(); err != nil {
		errs = append(errs, err)
	}
	base, err := s.versions()
	if err != nil {
		errs = append(errs, err)
	}
	cert, err := s.keyStore()
	if err != nil {
		errs = append(errs, err)
	}
	pool, err := s.trustStore()
	if err != nil {
		errs = append(errs, err)
	}
	return tlsParts{base: base, cert: cert, pool: pool}, errs
}

// check refuses settings the REST TLS cannot honour: unknown ones under listeners.https.,
// providers and engines (Java classes), other key and trust manager algorithms than Java's
// defaults, and an unknown ssl.client.auth.
func (s sslSettings) check() error {
	var errs []error
	keys := make([]string, 0, len(s.props))
	for k := range s.props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case restTLSKeys[k]:
		case k == sslProvider || k == sslEngineFactoryClass:
			if s.get(k) != "" {
				errs = append(errs, fmt.Errorf("%s is not supported: kconnect uses Go's TLS implementation", s.name(k)))
			}
		case s.prefix != "":
			errs = append(errs, fmt.Errorf("%s is not a TLS setting kconnect knows; remove it", s.name(k)))
		}
	}
	for _, k := range []string{sslKeymanagerAlgorithm, sslTrustmanagerAlgorithm} {
		want := map[string]string{sslKeymanagerAlgorithm: "SunX509", sslTrustmanagerAlgorithm: "PKIX"}[k]
		if v := s.get(k); v != "" && !strings.EqualFold(v, want) {
			errs = append(errs, fmt.Errorf("%s=%s is not supported (only %s)", s.name(k), v, want))
		}
	}
	switch auth := s.get(sslClientAuth); auth {
	case "", clientAuthNone, clientAuthRequested, clientAuthRequired:
	default:
		errs = append(errs, fmt.Errorf("Invalid value %s for configuration %s: String must be one of: %s, %s, %s",
			auth, s.name(sslClientAuth), clientAuthRequired, clientAuthRequested, clientAuthNone))
	}
	return errors.Join(errs...)
}

// versions reads the protocol versions and cipher suites.
func (s sslSettings) versions() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	var errs []error
	if v := s.get(sslProtocol); v != "" {
		switch strings.ToUpper(v) {
		case "TLS", "TLSV1.3":
		case "TLSV1.2":
			tc.MaxVersion = tls.VersionTLS12
		default:
			errs = append(errs, fmt.Errorf("%s=%s is not supported; use TLSv1.2 or TLSv1.3", s.name(sslProtocol), v))
		}
	}
	if v := s.get(sslEnabledProtocols); v != "" {
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
				errs = append(errs, fmt.Errorf("%s: %s is not supported; use TLSv1.2 and/or TLSv1.3", s.name(sslEnabledProtocols), strings.TrimSpace(p)))
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
	if v := s.get(sslCipherSuites); v != "" {
		ids, err := cipherSuiteIDs(s.name(sslCipherSuites), v)
		if err != nil {
			errs = append(errs, err)
		}
		tc.CipherSuites = ids
	}
	return tc, errors.Join(errs...)
}

// serverConfig is the TLS of the https listeners: the key store is the server certificate,
// the trust store verifies client certificates as ssl.client.auth asks.
func (s sslSettings) serverConfig(p tlsParts) (*tls.Config, []error) {
	tc := p.base.Clone()
	var errs []error
	if p.cert != nil {
		tc.Certificates = []tls.Certificate{*p.cert}
	} else if s.get(sslKeystoreLocation)+s.get(sslKeystoreKey)+s.get(sslKeystoreCertificateChain) == "" {
		errs = append(errs, fmt.Errorf("an https listener needs a certificate: set %s=PEM and %s (a PEM file holding the private key and the certificate chain), or %s and %s",
			s.name(sslKeystoreType), s.name(sslKeystoreLocation), s.name(sslKeystoreKey), s.name(sslKeystoreCertificateChain)))
	}
	tc.ClientCAs = p.pool // nil: client certificates are checked against the system's CAs
	switch s.get(sslClientAuth) {
	case clientAuthRequested:
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	case clientAuthRequired:
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		tc.ClientAuth = tls.NoClientCert
	}
	// HTTP/1.1 only, as Connect's Jetty serves it.
	tc.NextProtos = []string{"http/1.1"}
	return tc, errs
}

// clientConfig is the TLS of requests to other workers: the trust store verifies them (the
// system's CAs when there is none), the key store, if any, is the certificate shown to workers
// that ask for one, and ssl.endpoint.identification.algorithm decides whether their host names
// are checked.
func (s sslSettings) clientConfig(p tlsParts) (*tls.Config, []error) {
	tc := p.base.Clone()
	var errs []error
	if p.cert != nil {
		tc.Certificates = []tls.Certificate{*p.cert}
	}
	tc.RootCAs = p.pool
	alg, set := s.props[sslEndpointIdentification]
	alg = strings.TrimSpace(alg)
	switch {
	case !set || strings.EqualFold(alg, defaultEndpointIdentification):
	case alg == "":
		// Java: an empty algorithm turns off the host name check only. InsecureSkipVerify
		// skips the chain check as well, so VerifyConnection does that one.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = verifyChain(p.pool)
	default:
		errs = append(errs, fmt.Errorf("%s=%s is not supported; use https or an empty value", s.name(sslEndpointIdentification), alg))
	}
	return tc, errs
}

// verifyChain checks a server's certificate chain against roots (the system's when nil)
// without checking its host name.
func verifyChain(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the worker presented no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}

func cipherSuiteIDs(key, v string) ([]uint16, error) {
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
			// TLS 1.3 suites cannot be chosen in Go; they are always enabled.
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

// storeType returns a store's type, upper case; Java's default is JKS.
func (s sslSettings) storeType(key string) string {
	if t := strings.ToUpper(s.get(key)); t != "" {
		return t
	}
	return defaultStoreType
}

// notPEM is the error for a JKS or PKCS12 store.
func (s sslSettings) notPEM(typeKey, what string) error {
	return fmt.Errorf("%s=%s is not supported: kconnect reads PEM %s only; convert it to PEM and set %s=PEM",
		s.name(typeKey), s.storeType(typeKey), what, s.name(typeKey))
}

// trustStore returns the CAs of the trust store, or nil when none is configured (the system's
// CAs then apply).
func (s sslSettings) trustStore() (*x509.CertPool, error) {
	loc, inline := s.get(sslTruststoreLocation), s.get(sslTruststoreCertificates)
	if loc == "" && inline == "" {
		return nil, nil
	}
	if s.storeType(sslTruststoreType) != pemStoreType {
		return nil, s.notPEM(sslTruststoreType, "trust stores")
	}
	if s.props[sslTruststorePassword] != "" {
		return nil, fmt.Errorf("%s cannot be used with %s=PEM; remove it", s.name(sslTruststorePassword), s.name(sslTruststoreType))
	}
	if loc != "" && inline != "" {
		return nil, fmt.Errorf("%s and %s are mutually exclusive", s.name(sslTruststoreLocation), s.name(sslTruststoreCertificates))
	}
	data, key := []byte(inline), s.name(sslTruststoreCertificates)
	if loc != "" {
		var err error
		if data, err = os.ReadFile(loc); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.name(sslTruststoreLocation), err)
		}
		key = s.name(sslTruststoreLocation)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", key)
	}
	return pool, nil
}

// keyStore returns the certificate and private key of the key store, or nil when none is
// configured.
func (s sslSettings) keyStore() (*tls.Certificate, error) {
	loc, key, chain := s.get(sslKeystoreLocation), s.get(sslKeystoreKey), s.get(sslKeystoreCertificateChain)
	if loc == "" && key == "" && chain == "" {
		return nil, nil
	}
	if s.storeType(sslKeystoreType) != pemStoreType {
		return nil, s.notPEM(sslKeystoreType, "key stores")
	}
	if s.props[sslKeystorePassword] != "" {
		return nil, fmt.Errorf("%s cannot be used with %s=PEM (only %s applies to PEM keys); remove it",
			s.name(sslKeystorePassword), s.name(sslKeystoreType), s.name(sslKeyPassword))
	}
	if s.props[sslKeyPassword] != "" {
		return nil, fmt.Errorf("%s is not supported: Go cannot read encrypted PEM private keys; decrypt the key "+
			"(e.g. openssl pkcs8 -in key.pem -out key-plain.pem), protect the file instead, and remove %s",
			s.name(sslKeyPassword), s.name(sslKeyPassword))
	}
	var certPEM, keyPEM []byte
	switch {
	case loc != "" && (key != "" || chain != ""):
		return nil, fmt.Errorf("%s and %s/%s are mutually exclusive", s.name(sslKeystoreLocation), s.name(sslKeystoreKey), s.name(sslKeystoreCertificateChain))
	case loc != "":
		data, err := os.ReadFile(loc)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.name(sslKeystoreLocation), err)
		}
		certPEM, keyPEM = data, data
	case key == "" || chain == "":
		return nil, fmt.Errorf("%s and %s must be set together", s.name(sslKeystoreKey), s.name(sslKeystoreCertificateChain))
	default:
		certPEM, keyPEM = []byte(s.props[sslKeystoreCertificateChain]), []byte(s.props[sslKeystoreKey])
	}
	if encryptedPEMKey(keyPEM) {
		return nil, fmt.Errorf("the private key of the key store (%s) is encrypted; Go cannot read encrypted PEM private keys: decrypt it "+
			"(e.g. openssl pkcs8 -in key.pem -out key-plain.pem) and protect the file instead", s.keyStoreName())
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The tls package names the problem (no certificate, no key, a mismatch), never the key.
		return nil, fmt.Errorf("loading the PEM key store (%s): %w", s.keyStoreName(), err)
	}
	return &cert, nil
}

func (s sslSettings) keyStoreName() string {
	if s.get(sslKeystoreLocation) != "" {
		return s.name(sslKeystoreLocation)
	}
	return s.name(sslKeystoreKey)
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
