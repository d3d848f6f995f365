package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/task/kafkaprops"
)

// TLS of the REST API (Java's SSLUtils). The https listeners and the client that calls other
// workers (forwarded requests, task configs sent to the leader) read the ssl.* settings under
// listeners.https. when any such key is set, and the plain ssl.* settings otherwise, never a
// mix of both (Java's valuesWithPrefixAllOrNothing). The plain ssl.* settings are the Kafka
// clients' as well, as in Java, and kafkaprops.SSL reads the stores, versions and cipher suites
// for both. Only PEM stores are read; JKS and PKCS12 are refused with an error that says to
// convert them.

// listenersHTTPSPrefix prefixes the ssl.* settings of the https listeners.
const listenersHTTPSPrefix = "listeners.https."

// REST TLS setting names, as Java spells them, besides the ssl.* settings the Kafka clients
// share (kafkaprops.SSL*).
const (
	sslClientAuth         = "ssl.client.auth"
	sslProvider           = "ssl.provider"
	sslEngineFactoryClass = "ssl.engine.factory.class"
	clientAuthNone        = "none"
	clientAuthRequested   = "requested"
	clientAuthRequired    = "required"
)

// restTLSKeys are the ssl.* settings the REST TLS configuration reads.
var restTLSKeys = map[string]bool{
	sslClientAuth:                                 true,
	kafkaprops.SSLProtocol:                        true,
	kafkaprops.SSLEnabledProtocols:                true,
	kafkaprops.SSLCipherSuites:                    true,
	kafkaprops.SSLEndpointIdentificationAlgorithm: true,
	kafkaprops.SSLTruststoreType:                  true,
	kafkaprops.SSLTruststoreLocation:              true,
	kafkaprops.SSLTruststoreCertificates:          true,
	kafkaprops.SSLTruststorePassword:              true,
	kafkaprops.SSLKeystoreType:                    true,
	kafkaprops.SSLKeystoreLocation:                true,
	kafkaprops.SSLKeystoreKey:                     true,
	kafkaprops.SSLKeystoreCertificateChain:        true,
	kafkaprops.SSLKeystorePassword:                true,
	kafkaprops.SSLKeyPassword:                     true,
	kafkaprops.SSLKeymanagerAlgorithm:             true,
	kafkaprops.SSLTrustmanagerAlgorithm:           true,
	// Go's TLS always draws from crypto/rand; the setting has nothing to choose.
	kafkaprops.SSLSecureRandomImplementation: true,
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

// sslSettings are the ssl.* settings of the REST API, with the prefix they were read under
// ("listeners.https." or "").
type sslSettings struct{ kafkaprops.SSL }

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
		return sslSettings{kafkaprops.SSL{Props: prefixed, Prefix: listenersHTTPSPrefix}}
	}
	plain := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, "ssl.") {
			plain[k] = v
		}
	}
	return sslSettings{kafkaprops.SSL{Props: plain}}
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
	base, err := s.Versions()
	if err != nil {
		errs = append(errs, err)
	}
	cert, err := s.KeyStore()
	if err != nil {
		errs = append(errs, err)
	}
	pool, err := s.TrustStore()
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
	keys := make([]string, 0, len(s.Props))
	for k := range s.Props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case restTLSKeys[k]:
		case k == sslProvider || k == sslEngineFactoryClass:
			if s.Get(k) != "" {
				errs = append(errs, fmt.Errorf("%s is not supported: kconnect uses Go's TLS implementation", s.Name(k)))
			}
		case s.Prefix != "":
			errs = append(errs, fmt.Errorf("%s is not a TLS setting kconnect knows; remove it", s.Name(k)))
		}
	}
	for _, k := range []string{kafkaprops.SSLKeymanagerAlgorithm, kafkaprops.SSLTrustmanagerAlgorithm} {
		if err := s.CheckManagerAlgorithm(k); err != nil {
			errs = append(errs, err)
		}
	}
	switch auth := s.Get(sslClientAuth); auth {
	case "", clientAuthNone, clientAuthRequested, clientAuthRequired:
	default:
		errs = append(errs, fmt.Errorf("Invalid value %s for configuration %s: String must be one of: %s, %s, %s",
			auth, s.Name(sslClientAuth), clientAuthRequired, clientAuthRequested, clientAuthNone))
	}
	return errors.Join(errs...)
}

// serverConfig is the TLS of the https listeners: the key store is the server certificate,
// the trust store verifies client certificates as ssl.client.auth asks.
func (s sslSettings) serverConfig(p tlsParts) (*tls.Config, []error) {
	tc := p.base.Clone()
	var errs []error
	if p.cert != nil {
		tc.Certificates = []tls.Certificate{*p.cert}
	} else if s.Get(kafkaprops.SSLKeystoreLocation)+s.Get(kafkaprops.SSLKeystoreKey)+s.Get(kafkaprops.SSLKeystoreCertificateChain) == "" {
		errs = append(errs, fmt.Errorf("an https listener needs a certificate: set %s=PEM and %s (a PEM file holding the private key and the certificate chain), or %s and %s",
			s.Name(kafkaprops.SSLKeystoreType), s.Name(kafkaprops.SSLKeystoreLocation), s.Name(kafkaprops.SSLKeystoreKey), s.Name(kafkaprops.SSLKeystoreCertificateChain)))
	}
	tc.ClientCAs = p.pool // nil: client certificates are checked against the system's CAs
	switch s.Get(sslClientAuth) {
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
	if err := s.VerifyEndpoint(tc); err != nil {
		errs = append(errs, err)
	}
	return tc, errs
}
