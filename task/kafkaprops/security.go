package kafkaprops

import (
	"crypto/tls"
	"errors"
	"fmt"
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
			if err := (SSL{Props: p}).CheckManagerAlgorithm(k); err != nil {
				errs = append(errs, err)
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
	for _, k := range []string{SSLProtocol, SSLEnabledProtocols, SSLCipherSuites, SSLEndpointIdentificationAlgorithm,
		SSLTruststoreType, SSLTruststoreLocation, SSLTruststoreCertificates, SSLTruststorePassword,
		SSLKeystoreType, SSLKeystoreLocation, SSLKeystoreKey, SSLKeystoreCertificateChain, SSLKeystorePassword, SSLKeyPassword} {
		handled[k] = true
	}
	s := SSL{Props: b.props}
	var errs []error

	tc, err := s.Versions()
	if err != nil {
		errs = append(errs, err)
	}

	// Trust store.
	if s.Get(SSLTruststoreLocation) == "" && s.Get(SSLTruststoreCertificates) == "" && s.Props[SSLTruststorePassword] != "" {
		log().Debug("ssl.truststore.password ignored: no trust store configured")
	}
	roots, err := s.TrustStore()
	if err != nil {
		errs = append(errs, err)
	}
	tc.RootCAs = roots

	// Key store (client certificate).
	cert, err := s.KeyStore()
	if err != nil {
		errs = append(errs, err)
	} else if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}

	if err := s.VerifyEndpoint(tc); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tc, nil
}
