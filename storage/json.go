package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Values in the internal topics are written as Java's JsonConverter (schemas.enable=false)
// writes them, byte for byte, with package connectjson; this file holds what reads them back.

// errWrongShape reports a value that is valid JSON but not what the record kind requires.
var errWrongShape = errors.New("wrong shape")

// decodeObject parses a schemaless JSON value that must be an object. Numbers stay json.Number
// so integers and longs (Java writes both) are read exactly.
func decodeObject(value []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parsing JSON: %w", err)
	}
	if len(bytes.TrimSpace(value[dec.InputOffset():])) > 0 {
		return nil, errors.New("parsing JSON: trailing data after the value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: value is %s, not an object", errWrongShape, jsonKind(v))
	}
	return m, nil
}

// jsonKind names the JSON type of a decoded value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// stringField returns the string field name of m; absent and null are errors.
func stringField(m map[string]any, name string) (string, error) {
	s, ok := m[name].(string)
	if !ok {
		return "", fmt.Errorf("%w: field %q should be a string but is %s", errWrongShape, name, jsonKind(m[name]))
	}
	return s, nil
}

// optionalStringField returns the string field name of m, or "" when it is absent or null.
func optionalStringField(m map[string]any, name string) (string, error) {
	switch v := m[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("%w: field %q should be a string but is %s", errWrongShape, name, jsonKind(v))
	}
}

// int64Field returns the integral number field name of m. Java writes int32 and int64 fields
// alike as JSON integers and reads them back as longs; fractions and exponents are refused.
func int64Field(m map[string]any, name string) (int64, error) {
	n, ok := m[name].(json.Number)
	if !ok {
		return 0, fmt.Errorf("%w: field %q should be an integer but is %s", errWrongShape, name, jsonKind(m[name]))
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: field %q should be an integer but is %s", errWrongShape, name, n)
	}
	return v, nil
}

// int32Field is int64Field for values that must fit an int32.
func int32Field(m map[string]any, name string) (int32, error) {
	v, err := int64Field(m, name)
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("%w: field %q is out of range: %d", errWrongShape, name, v)
	}
	return int32(v), nil
}

// boolField returns the boolean field name of m and whether it was a boolean.
func boolField(m map[string]any, name string) (bool, bool) {
	b, ok := m[name].(bool)
	return b, ok
}

// stringMapField returns the object field name of m as a string map. Java stores
// Map<String,String>: a null value means the key has no value and is left out; numbers and
// booleans (which no Java worker writes, but hand-made records might) are kept as their JSON
// text; nested objects and arrays make the record unreadable.
func stringMapField(m map[string]any, name string) (map[string]string, error) {
	obj, ok := m[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: field %q should be an object but is %s", errWrongShape, name, jsonKind(m[name]))
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		switch v := v.(type) {
		case nil:
		case string:
			out[k] = v
		case json.Number:
			out[k] = string(v)
		case bool:
			out[k] = strconv.FormatBool(v)
		default:
			return nil, fmt.Errorf("%w: %q.%q should be a string but is %s", errWrongShape, name, k, jsonKind(v))
		}
	}
	return out, nil
}
