package cluster

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// More error kinds, for the internal endpoints' request signatures (KIP-507) and topic
// tracking (KIP-558).
const (
	// KindForbidden: the request is not allowed, e.g. an internal request with an invalid
	// signature or topic tracking switched off (403).
	KindForbidden Kind = iota + KindTimeout + 1
	// KindUnavailable: the worker cannot answer yet, e.g. it has not read a session key to
	// verify an internal request with (503).
	KindUnavailable
)

// Messages Apache Kafka Connect answers with, word for word.
const (
	msgRebalanceExpected = "Request cannot be completed because a rebalance is expected"
	msgStaleConfig       = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"
	msgRequestTimedOut   = "Request timed out"
	msgShuttingDown      = "Worker is shutting down"
	msgMissingSignature  = "Internal request missing required signature"
	msgInvalidSignature  = "Internal request contained invalid signature."
	msgNoSessionKey      = "This worker is still starting up and has not been able to read a session key from the config topic yet"
	msgTrackingDisabled  = "Topic tracking is disabled."
	msgTrackingNoReset   = "Topic tracking reset is disabled."
	msgValidateEndpoint  = "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
)

// errShuttingDown fails requests that reach a herder that stopped; it is a 500, as Java's
// ConnectException("Worker is shutting down").
var errShuttingDown = errors.New(msgShuttingDown)

func errConnectorNotFound(name string) *Error {
	return errorf(KindNotFound, "Connector %s not found", name)
}

func errUnknownConnector(name string) *Error {
	return errorf(KindNotFound, "Unknown connector %s", name)
}

func errUnknownConnectorColon(name string) *Error {
	return errorf(KindNotFound, "Unknown connector: %s", name)
}

func errRebalanceNeeded() *Error { return errorf(KindRebalanceNeeded, msgRebalanceExpected) }

// errRequestTimedOut is the 500 of a request the herder goroutine did not run in time, with
// what it was doing meanwhile, in the words of Java's HerderRequestHandler (no final period).
func errRequestTimedOut(s *stage) *Error {
	if s == nil {
		return errorf(KindTimeout, msgRequestTimedOut)
	}
	return errorf(KindTimeout, "%s. %s", msgRequestTimedOut, strings.TrimSuffix(s.summary(), "."))
}

func errStaleConfig() *Error { return errorf(KindConflict, msgStaleConfig) }

// InvalidConfigError is the 400 a create or update answers when validation found errors: the
// number of errors, each error on its own line, then where to find them, in Java's words
// (AbstractHerder.validateConnectorConfig).
func InvalidConfigError(infos ConfigInfos) *Error {
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):", infos.ErrorCount)
	for _, ci := range infos.Configs {
		if ci.Value == nil {
			continue
		}
		for _, e := range ci.Value.Errors {
			b.WriteString("\n")
			b.WriteString(e)
		}
	}
	b.WriteString("\n")
	b.WriteString(msgValidateEndpoint)
	return &Error{Kind: KindBadRequest, Message: b.String()}
}

// errNoConnectorType is the 400 for a config without connector.class. Java prints the whole
// map; values of keys that look secret are hidden here, since the message reaches logs.
func errNoConnectorType(config map[string]string) *Error {
	return errorf(KindBadRequest, "Connector config %s contains no connector type", renderConfigMap(config))
}

// renderConfigMap renders a config as Java's Map.toString does ({k1=v1, k2=v2}), keys sorted,
// secret-looking values hidden.
func renderConfigMap(config map[string]string) string {
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		v := config[k]
		if looksSecret(k) {
			v = "[hidden]"
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	b.WriteByte('}')
	return b.String()
}

// looksSecret reports whether a config key probably holds a secret: a password, key, token,
// JAAS config or SAS signature. "sasl" settings other than the JAAS config (mechanism, ...) are
// not secrets.
func looksSecret(key string) bool {
	k := strings.ReplaceAll(strings.ToLower(key), "sasl", "")
	for _, s := range []string{"password", "secret", "appkey", "app.key", "token", "jaas", "credential", "sas", "private"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return strings.HasSuffix(k, ".key")
}
