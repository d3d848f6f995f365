package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/kconnect/kconnect/storage"
)

// Request bodies are bound the way Java's Jackson binds them, because that is what clients were
// written against: config maps are Map<String,String>, so JSON numbers and booleans become their
// JSON text ("tasks.max": 1 is "1"), null is kept as null, and objects or arrays are errors.
// Jackson's failures reach the user as 500s (Java's ConnectExceptionMapper treats them as
// unexpected); the messages here follow Jackson's and add the position in the body.

// maxBodyBytes bounds a request body. Connector configurations are a few KiB; the bound keeps a
// stray upload from filling the worker's memory.
const maxBodyBytes = 16 << 20

// Java class names used in binding errors, as Jackson names them.
const (
	classCreateRequest = "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest"
	classString        = "java.lang.String"
	classStringMap     = "java.util.Map<java.lang.String,java.lang.String>"
	classTaskConfigs   = "java.util.List<java.util.Map<java.lang.String,java.lang.String>>"
	classLinkedHashMap = "java.util.LinkedHashMap"
	classArrayList     = "java.util.ArrayList"
)

// bindError is a request body that could not be bound. It answers 500, as in Java.
type bindError struct{ msg string }

func (e *bindError) Error() string { return e.msg }

func bindErrorf(format string, args ...any) *bindError {
	return &bindError{msg: fmt.Sprintf(format, args...)}
}

// isJSONMediaType reports whether a Content-Type header value is acceptable on a route that
// reads a JSON body: absent (curl -X PUT without -H), or application/json with any parameters
// and stray whitespace ("application/json; charset=utf-8", " application/json").
func isJSONMediaType(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		// A malformed parameter list does not change what the body is.
		mt, _, _ = strings.Cut(v, ";")
	}
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// readBody reads the whole request body, up to maxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newError(http.StatusRequestEntityTooLarge, "Request body is larger than the limit of %d bytes", tooLarge.Limit)
		}
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return data, nil
}

// jsonBody walks a syntactically valid JSON body token by token, so each value can be coerced
// as Jackson would and each error can say where it happened.
type jsonBody struct {
	data []byte
	dec  *json.Decoder
}

// parseJSONBody checks the body's syntax and returns a walker over it. An empty (or
// whitespace-only) body and a bare null are reported as missing with missingMsg, since Java
// binds them to a null entity and fails on it.
func parseJSONBody(data []byte, missingMsg string) (*jsonBody, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, bindErrorf("%s", missingMsg)
	}
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			at := syn.Offset - 1 // the offending character
			if strings.HasPrefix(syn.Error(), "unexpected end") {
				at = syn.Offset
			}
			return nil, bindErrorf("Malformed JSON in request body: %s at %s", syn.Error(), position(data, at))
		}
		return nil, bindErrorf("Malformed JSON in request body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers keep their JSON text, as Jackson's getText does
	return &jsonBody{data: data, dec: dec}, nil
}

// position renders a byte offset of data as Jackson does: "line: L, column: C", 1-based.
func position(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("[line: %d, column: %d]", line, col)
}

// next returns the next token and the offset where it starts (approximately for scalars: the
// decoder reports where they end).
func (b *jsonBody) next() (json.Token, int64, error) {
	t, err := b.dec.Token()
	if err != nil {
		// The syntax was checked up front, so this is an internal inconsistency.
		return nil, b.dec.InputOffset(), bindErrorf("Malformed JSON in request body: %v at %s", err, position(b.data, b.dec.InputOffset()))
	}
	at := b.dec.InputOffset()
	if _, ok := t.(json.Delim); ok {
		at-- // a delimiter is one byte
	}
	return t, at, nil
}

// tokenDesc names a token as Jackson's error messages do: the kind of value and its JsonToken.
func tokenDesc(t json.Token) (kind, token string) {
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return "Object", "START_OBJECT"
		}
		return "Array", "START_ARRAY"
	case string:
		return "String", "VALUE_STRING"
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "Floating-point", "VALUE_NUMBER_FLOAT"
		}
		return "Integer", "VALUE_NUMBER_INT"
	case bool:
		if v {
			return "Boolean", "VALUE_TRUE"
		}
		return "Boolean", "VALUE_FALSE"
	case nil:
		return "Null", "VALUE_NULL"
	}
	return "unknown", "NOT_AVAILABLE"
}

// mismatch is Jackson's MismatchedInputException message.
func (b *jsonBody) mismatch(target string, t json.Token, at int64, chain string) *bindError {
	kind, token := tokenDesc(t)
	msg := fmt.Sprintf("Cannot deserialize value of type `%s` from %s value (token `JsonToken.%s`) at %s", target, kind, token, position(b.data, at))
	if chain != "" {
		msg += " (through reference chain: " + chain + ")"
	}
	return &bindError{msg: msg}
}

// scalar turns a scalar token into the string Jackson's StringDeserializer makes of it: the
// string itself, a number's JSON text, "true"/"false"; null is nil. Objects and arrays fail.
func (b *jsonBody) scalar(t json.Token, at int64, chain string) (*string, error) {
	var s string
	switch v := t.(type) {
	case string:
		s = v
	case json.Number:
		s = string(v)
	case bool:
		s = "false"
		if v {
			s = "true"
		}
	case nil:
		return nil, nil
	default:
		return nil, b.mismatch(classString, t, at, chain)
	}
	return &s, nil
}

// stringMap reads an object of string-coerced values; a JSON null yields a nil map. Keys keep
// their null values (nil pointers) for the caller to judge.
func (b *jsonBody) stringMap(chain string) (map[string]*string, error) {
	t, at, err := b.next()
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, b.mismatch(classStringMap, t, at, chain)
	}
	out := map[string]*string{}
	for b.dec.More() {
		kt, _, err := b.next()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string) // object keys are always strings once the syntax is valid
		vt, vat, err := b.next()
		if err != nil {
			return nil, err
		}
		v, err := b.scalar(vt, vat, joinChain(chain, classLinkedHashMap, key))
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	if _, _, err := b.next(); err != nil { // the closing brace
		return nil, err
	}
	return out, nil
}

func joinChain(chain, class, key string) string {
	link := fmt.Sprintf("%s[%q]", class, key)
	if chain == "" {
		return link
	}
	return chain + "->" + link
}

// createRequest is a bound POST /connectors body.
type createRequest struct {
	name    string             // trimmed; "" when absent or null
	config  map[string]*string // nil when absent or null
	initial *storage.TargetState
	// initialName is the KIP-980 name of the initial state (RUNNING, PAUSED, STOPPED), sent on
	// when the request is forwarded.
	initialName *string
}

// initialStates maps KIP-980 initial_state values (case-insensitive) to target states.
var initialStates = []struct {
	name  string
	state storage.TargetState
}{
	{"RUNNING", storage.Started},
	{"PAUSED", storage.Paused},
	{"STOPPED", storage.Stopped},
}

// decodeCreateRequest binds a CreateConnectorRequest: "name", "config" and the optional
// "initial_state"; any other field is an error, as Jackson fails on unknown properties.
func decodeCreateRequest(data []byte) (createRequest, error) {
	var req createRequest
	b, err := parseJSONBody(data, `Request body is missing: expected a JSON object with "name" and "config"`)
	if err != nil {
		return req, err
	}
	t, at, err := b.next()
	if err != nil {
		return req, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return req, b.mismatch(classCreateRequest, t, at, "")
	}
	for b.dec.More() {
		kt, kat, err := b.next()
		if err != nil {
			return req, err
		}
		field, _ := kt.(string)
		chain := joinChain("", classCreateRequest, field)
		switch field {
		case "name":
			vt, vat, err := b.next()
			if err != nil {
				return req, err
			}
			name, err := b.scalar(vt, vat, chain)
			if err != nil {
				return req, err
			}
			req.name = ""
			if name != nil {
				req.name = strings.TrimSpace(*name)
			}
		case "config":
			cfg, err := b.stringMap(chain)
			if err != nil {
				return req, err
			}
			req.config = cfg
		case "initial_state":
			vt, vat, err := b.next()
			if err != nil {
				return req, err
			}
			v, err := b.scalar(vt, vat, chain)
			if err != nil {
				return req, err
			}
			req.initial, req.initialName = nil, nil
			if v != nil {
				found := false
				for _, s := range initialStates {
					if strings.EqualFold(*v, s.name) {
						state, name := s.state, s.name
						req.initial, req.initialName, found = &state, &name, true
						break
					}
				}
				if !found {
					return req, bindErrorf("Cannot deserialize value of type `%s$InitialState` from String %q: not one of the values accepted: [RUNNING, PAUSED, STOPPED] at %s (through reference chain: %s)",
						classCreateRequest, *v, position(b.data, vat), chain)
				}
			}
		default:
			return req, bindErrorf("Unrecognized field %q (class %s), not marked as ignorable (3 known properties: \"name\", \"config\", \"initial_state\"]) at %s (through reference chain: %s)",
				field, classCreateRequest, position(b.data, kat), chain)
		}
	}
	if req.config == nil {
		return req, bindErrorf(`Missing "config" in the request body: expected a JSON object of connector configuration properties`)
	}
	return req, nil
}

// decodeConfigMap binds a flat config map (PUT and PATCH …/config, validate). Null values are
// kept as nil for the caller to judge.
func decodeConfigMap(data []byte) (map[string]*string, error) {
	b, err := parseJSONBody(data, "Request body is missing: expected a JSON object of connector configuration properties")
	if err != nil {
		return nil, err
	}
	return b.stringMap("")
}

// decodeTaskConfigs binds the internal POST /connectors/{c}/tasks body: a list of task
// configurations. A null element is an empty configuration; a null value is refused, since
// task configurations are stored as strings.
func decodeTaskConfigs(data []byte) ([]map[string]string, error) {
	b, err := parseJSONBody(data, "Request body is missing: expected a JSON array of task configurations")
	if err != nil {
		return nil, err
	}
	t, at, err := b.next()
	if err != nil {
		return nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return nil, b.mismatch(classTaskConfigs, t, at, "")
	}
	out := []map[string]string{}
	for i := 0; b.dec.More(); i++ {
		m, err := b.stringMap(fmt.Sprintf("%s[%d]", classArrayList, i))
		if err != nil {
			return nil, err
		}
		cfg := make(map[string]string, len(m))
		for k, v := range m {
			if v == nil {
				return nil, newError(http.StatusBadRequest, "Null value can not be supplied as the configuration value of task %d (key %q).", i, k)
			}
			cfg[k] = *v
		}
		out = append(out, cfg)
	}
	return out, nil
}
