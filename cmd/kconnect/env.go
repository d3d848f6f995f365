package main

import "strings"

// envProperties turns CONNECT_* environment variables into worker properties the way the
// confluentinc/cp-kafka-connect image does (its `ub` tool's ConvertKey): drop the prefix, lower
// the case, then "___" → "-", "__" → "_", "_" → ".". So a compose file written for that image
// configures kconnect unchanged. Variables the image uses for itself (heap, JMX, log4j) are not
// worker properties and are skipped.
func envProperties(environ []string, prefix string) map[string]string {
	props := map[string]string{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "" || ignoredEnv[rest] || strings.HasPrefix(rest, "LOG4J_") {
			continue
		}
		props[envKey(rest)] = value
	}
	return props
}

var ignoredEnv = map[string]bool{"HEAP_OPTS": true, "JMX_PORT": true, "JMX_HOSTNAME": true, "OPTS": true}

func envKey(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '_' {
			b.WriteByte(s[i])
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '_' {
			n++
		}
		// Runs of underscores: 3 → "-", 2 → "_", 1 → "."; longer runs are consumed greedily.
		for n > 0 {
			switch {
			case n >= 3:
				b.WriteByte('-')
				n -= 3
				i += 3
			case n == 2:
				b.WriteByte('_')
				n, i = 0, i+2
			default:
				b.WriteByte('.')
				n, i = 0, i+1
			}
		}
	}
	return b.String()
}
