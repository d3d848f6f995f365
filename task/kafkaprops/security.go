package kafkaprops

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Java security property names understood by [ClientOpts].
const (
	SecurityProtocol = "security.protocol"

	SASLMechanism  = "sasl.mechanism"
	SASLJAASConfig = "sasl.jaas.config"

	SSLProtocol                        = "ssl.protocol"
	SSLEnabledProtocols                = "ssl.enabled.protocols"
	SSLCipherSuites                    = "ssl.cipher.suites"
	SSLEndpointIdentificationAlgorithm = "ssl.endpoint.identification.algorithm"
	SSLTruststoreType                  = "ssl.truststore.type"
	SSLTruststoreLocation              = "ssl.truststore.location"
	SSLTruststoreCertificates          = "ssl.truststore.certificates"
	SSLTruststorePassword              = "ssl.truststore.password"
	SSLKeystoreType                    = "ssl.keystore.type"
	SSLKeystoreLocation                = "ssl.keystore.location"
	SSLKeystoreKey                     = "ssl.keystore.key"
	SSLKeystoreCertificateChain        = "ssl.keystore.certificate.chain"
	SSLKeystorePassword                = "ssl.keystore.password"
	SSLKeyPassword                     = "ssl.key.password"
	SSLKeymanagerAlgorithm             = "ssl.keymanager.algorithm"
	SSLTrustmanagerAlgorithm           = "ssl.trustmanager.algorithm"
	SSLSecureRandomImplementation      = "ssl.secure.random.implementation"
)

// The login modules sasl.jaas.config may name.
const (
	plainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
)

func isSecurityKey(k string) bool {
	return strings.HasPrefix(k, "security.") || strings.HasPrefix(k, "sasl.") || strings.HasPrefix(k, "ssl.")
}

// security turns security.protocol and the sasl.* / ssl.* keys into TLS and SASL options.
func (b *builder) security() error {
	p := b.props
	var errs []error
	handled := map[string]bool{SecurityProtocol: true}

	proto, given := p[SecurityProtocol]
	proto = strings.ToUpper(strings.TrimSpace(proto))
	if !given {
		proto = "PLAINTEXT"
	}
	var useTLS, useSASL bool
	switch proto {
	case "PLAINTEXT":
	case "SSL":
		useTLS = true
	case "SASL_PLAINTEXT":
		useSASL = true
	case "SASL_SSL":
		useTLS, useSASL = true, true
	default:
		return invalid(SecurityProtocol, p[SecurityProtocol], "String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL")
	}

	if useSASL {
		mech, err := b.saslMechanism(handled)
		if err != nil {
			errs = append(errs, err)
		} else {
			b.add(kgo.SASL(mech))
		}
	}
	if useTLS {
		tc, err := b.tlsConfig(handled)
		if err != nil {
			errs = append(errs, err)
		} else {
			b.add(kgo.DialTLSConfig(tc))
		}
	}

	keys := make([]string, 0, len(p))
	for k := range p {
		if isSecurityKey(k) && !handled[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "sasl.") && !useSASL:
			if k == SASLJAASConfig || k == SASLMechanism {
				log().Warn("SASL setting ignored because security.protocol is not SASL_PLAINTEXT or SASL_SSL", "key", k, "security.protocol", proto)
			} else {
				log().Debug("SASL setting ignored because security.protocol does not use SASL", "key", k)
			}
		case strings.HasPrefix(k, "ssl.") && !useTLS:
			log().Debug("SSL setting ignored because security.protocol does not use TLS", "key", k)
		case strings.HasPrefix(k, "sasl.kerberos."), strings.HasPrefix(k, "sasl.oauthbearer."),
			strings.HasPrefix(k, "sasl.login.") && !strings.HasSuffix(k, ".class"),
			k == SSLSecureRandomImplementation:
			// Settings of mechanisms not in use, or tuning of the login refresh thread.
			log().Debug("ignoring security setting that does not apply", "key", k)
		case k == SSLKeymanagerAlgorithm || k == SSLTrustmanagerAlgorithm:
			want := map[string]string{SSLKeymanagerAlgorithm: "SunX509", SSLTrustmanagerAlgorithm: "PKIX"}[k]
			if v := strings.TrimSpace(p[k]); v != "" && !strings.EqualFold(v, want) {
				errs = append(errs, fmt.Errorf("%s=%s is not supported (only %s)", k, v, want))
			}
		default:
			errs = append(errs, fmt.Errorf("%s is not supported by kconnect's Kafka client; remove it or use a supported security setting", k))
		}
	}
	return errors.Join(errs...)
}

func (b *builder) saslMechanism(handled map[string]bool) (sasl.Mechanism, error) {
	handled[SASLMechanism], handled[SASLJAASConfig] = true, true
	name := strings.TrimSpace(b.props[SASLMechanism])
	if name == "" {
		name = "GSSAPI" // Java's default
	}
	var module string
	switch strings.ToUpper(name) {
	case "PLAIN":
		module = plainLoginModule
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		module = scramLoginModule
	default:
		return nil, fmt.Errorf("%s %s is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", SASLMechanism, name)
	}
	raw, ok := b.props[SASLJAASConfig]
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%s is required for %s %s", SASLJAASConfig, SASLMechanism, name)
	}
	jaas, err := parseJAAS(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", SASLJAASConfig, err)
	}
	if jaas.module != module {
		return nil, fmt.Errorf("%s names login module %s, but %s %s needs %s", SASLJAASConfig, jaas.module, SASLMechanism, name, module)
	}
	user, pass := jaas.options["username"], jaas.options["password"]
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%s must set username and password", SASLJAASConfig)
	}
	switch strings.ToUpper(name) {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass, IsToken: strings.EqualFold(jaas.options["tokenauth"], "true")}.AsSha256Mechanism(), nil
	default:
		return scram.Auth{User: user, Pass: pass, IsToken: strings.EqualFold(jaas.options["tokenauth"], "true")}.AsSha512Mechanism(), nil
	}
}

func (b *builder) tlsConfig(handled map[string]bool) (*tls.Config, error) {
	p := b.props
	for _, k := range []string{SSLProtocol, SSLEnabledProtocols, SSLCipherSuites, SSLEndpointIdentificationAlgorithm,
		SSLTruststoreType, SSLTruststoreLocation, SSLTruststoreCertificates, SSLTruststorePassword,
		SSLKeystoreType, SSLKeystoreLocation, SSLKeystoreKey, SSLKeystoreCertificateChain, SSLKeystorePassword, SSLKeyPassword} {
		handled[k] = true
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	var errs []error

	// Protocol versions.
	if v := strings.TrimSpace(p[SSLProtocol]); v != "" {
		switch strings.ToUpper(v) {
		case "TLS", "TLSV1.3":
		case "TLSV1.2":
			tc.MaxVersion = tls.VersionTLS12
		default:
			errs = append(errs, fmt.Errorf("%s=%s is not supported; use TLSv1.2 or TLSv1.3", SSLProtocol, v))
		}
	}
	if v, ok := p[SSLEnabledProtocols]; ok && strings.TrimSpace(v) != "" {
		var lo, hi uint16
		for _, s := range strings.Split(v, ",") {
			var ver uint16
			switch strings.ToUpper(strings.TrimSpace(s)) {
			case "TLSV1.2":
				ver = tls.VersionTLS12
			case "TLSV1.3":
				ver = tls.VersionTLS13
			case "":
				continue
			default:
				errs = append(errs, fmt.Errorf("%s: %s is not supported; use TLSv1.2 and/or TLSv1.3", SSLEnabledProtocols, strings.TrimSpace(s)))
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
	if v := strings.TrimSpace(p[SSLCipherSuites]); v != "" {
		ids, err := cipherSuites(v)
		if err != nil {
			errs = append(errs, err)
		}
		tc.CipherSuites = ids
	}

	// Trust store.
	roots, err := trustStore(p)
	if err != nil {
		errs = append(errs, err)
	}
	tc.RootCAs = roots

	// Key store (client certificate).
	cert, err := keyStore(p)
	if err != nil {
		errs = append(errs, err)
	} else if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}

	// Host name verification: Java verifies by default ("https"); an empty value disables only
	// the host name check, the certificate chain is still verified.
	alg, set := p[SSLEndpointIdentificationAlgorithm]
	alg = strings.TrimSpace(alg)
	switch {
	case !set || strings.EqualFold(alg, "https"):
	case alg == "":
		tc.InsecureSkipVerify = true // replaced by VerifyConnection below, which checks the chain
		tc.VerifyConnection = verifyChainOnly(roots)
	default:
		errs = append(errs, fmt.Errorf("%s=%s is not supported; use https or an empty value", SSLEndpointIdentificationAlgorithm, alg))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tc, nil
}

// verifyChainOnly checks the server's certificate chain against roots (the system pool when nil)
// without checking the host name.
func verifyChainOnly(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: server presented no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}

func cipherSuites(v string) ([]uint16, error) {
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
				return nil, fmt.Errorf("%s: %s is not a supported cipher suite", SSLCipherSuites, name)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func storeType(p map[string]string, key string) string {
	t := strings.ToUpper(strings.TrimSpace(p[key]))
	if t == "" {
		return "JKS" // Java's default
	}
	return t
}

func trustStore(p map[string]string) (*x509.CertPool, error) {
	loc := strings.TrimSpace(p[SSLTruststoreLocation])
	inline := p[SSLTruststoreCertificates]
	if loc == "" && strings.TrimSpace(inline) == "" {
		if p[SSLTruststorePassword] != "" {
			log().Debug("ssl.truststore.password ignored: no trust store configured")
		}
		return nil, nil // the system roots
	}
	if t := storeType(p, SSLTruststoreType); t != "PEM" {
		return nil, fmt.Errorf("%s=%s is not supported; convert the trust store to PEM and set %s=PEM", SSLTruststoreType, t, SSLTruststoreType)
	}
	if p[SSLTruststorePassword] != "" {
		return nil, fmt.Errorf("%s cannot be used with %s=PEM", SSLTruststorePassword, SSLTruststoreType)
	}
	if loc != "" && strings.TrimSpace(inline) != "" {
		return nil, fmt.Errorf("%s and %s are mutually exclusive", SSLTruststoreLocation, SSLTruststoreCertificates)
	}
	data, key := []byte(inline), SSLTruststoreCertificates
	if loc != "" {
		var err error
		if data, err = os.ReadFile(loc); err != nil {
			return nil, fmt.Errorf("reading %s: %w", SSLTruststoreLocation, err)
		}
		key = SSLTruststoreLocation
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", key)
	}
	return pool, nil
}

func keyStore(p map[string]string) (*tls.Certificate, error) {
	loc := strings.TrimSpace(p[SSLKeystoreLocation])
	key, chain := p[SSLKeystoreKey], p[SSLKeystoreCertificateChain]
	if loc == "" && strings.TrimSpace(key) == "" && strings.TrimSpace(chain) == "" {
		return nil, nil
	}
	if t := storeType(p, SSLKeystoreType); t != "PEM" {
		return nil, fmt.Errorf("%s=%s is not supported; convert the key store to PEM and set %s=PEM", SSLKeystoreType, t, SSLKeystoreType)
	}
	if p[SSLKeystorePassword] != "" {
		return nil, fmt.Errorf("%s cannot be used with %s=PEM (only %s applies to PEM keys)", SSLKeystorePassword, SSLKeystoreType, SSLKeyPassword)
	}
	if p[SSLKeyPassword] != "" {
		return nil, fmt.Errorf("%s is not supported: encrypted PEM private keys cannot be read; provide an unencrypted key", SSLKeyPassword)
	}
	var certPEM, keyPEM []byte
	switch {
	case loc != "" && (strings.TrimSpace(key) != "" || strings.TrimSpace(chain) != ""):
		return nil, fmt.Errorf("%s and %s/%s are mutually exclusive", SSLKeystoreLocation, SSLKeystoreKey, SSLKeystoreCertificateChain)
	case loc != "":
		data, err := os.ReadFile(loc)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", SSLKeystoreLocation, err)
		}
		certPEM, keyPEM = data, data
	case strings.TrimSpace(key) == "" || strings.TrimSpace(chain) == "":
		return nil, fmt.Errorf("%s and %s must be set together", SSLKeystoreKey, SSLKeystoreCertificateChain)
	default:
		certPEM, keyPEM = []byte(chain), []byte(key)
	}
	if encryptedKey(keyPEM) {
		return nil, errors.New("the PEM private key of the key store is encrypted; encrypted keys are not supported")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The tls error text names the problem (no certificate, key mismatch) but never the key.
		return nil, fmt.Errorf("loading the PEM key store: %w", err)
	}
	return &cert, nil
}

func encryptedKey(data []byte) bool {
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return false
		}
		if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "" {
			return true
		}
	}
}
