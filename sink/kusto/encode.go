package kusto

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kconnect/kconnect/sink"
)

// errTombstone marks a record with a null value: it is skipped (with a warning in Java).
var errTombstone = errors.New("record has a null value (tombstone)")

// appendRecord appends the line a record is written as to dst, choosing the writer the Java
// sink's FileWriter would (reference §4.1) from the value's shape. The choice is made per record,
// not once per file, so a partition whose values change shape keeps being written correctly.
//
// Text (a string or a String schema) and raw bytes pass through with a newline, as do RawJSON
// values: schemaless JSON is never decoded and re-encoded. Maps are written as JSON objects;
// structs as the JsonConverter (schemas disabled) renders them, and only into JSON formats.
func appendRecord(dst []byte, rec *sink.Record, f dataFormat) ([]byte, error) {
	v := rec.Value
	if v == nil {
		return dst, errTombstone
	}
	if s := rec.ValueSchema; s != nil && s.Type != sink.Struct {
		if m, ok := v.(map[string]any); ok { // Java checks `instanceof Map` before the schema
			return appendLine(appendConnectJSON(dst, s, m))
		}
		if me, ok := v.([]sink.MapEntry); ok {
			return appendLine(appendEntriesAsObject(dst, s, me))
		}
		switch s.Type {
		case sink.String:
			if str, ok := v.(string); ok {
				return append(append(dst, str...), '\n'), nil
			}
		case sink.Bytes:
			if b, ok := v.([]byte); ok {
				return append(append(dst, b...), '\n'), nil
			}
		}
		if s.Type != sink.String && s.Type != sink.Bytes {
			return dst, unsupportedType(javaTypeName(s.Type))
		}
		return dst, fmt.Errorf("value of type %T does not match its %s schema", v, javaTypeName(s.Type))
	}
	switch x := v.(type) {
	case *sink.StructValue:
		if !f.json {
			return dst, fmt.Errorf("Invalid Kusto table mapping, Kafka records of type Avro and JSON can only be ingested to Kusto table having Avro or JSON mapping. Currently, it is of type %s.", f.fileID)
		}
		return appendLine(appendConnectJSON(dst, x.Schema, x))
	case string:
		return append(append(dst, x...), '\n'), nil
	case []byte:
		return append(append(dst, x...), '\n'), nil
	case sink.RawJSON:
		return append(append(dst, x...), '\n'), nil
	case map[string]any:
		return appendLine(appendConnectJSON(dst, nil, x))
	case []any:
		return appendLine(appendConnectJSON(dst, nil, x))
	case int64:
		return append(strconv.AppendInt(dst, x, 10), '\n'), nil
	case float64:
		return append(appendJavaDouble(dst, x), '\n'), nil
	case bool:
		return append(strconv.AppendBool(dst, x), '\n'), nil
	case json.Number:
		return append(append(dst, x...), '\n'), nil
	}
	return dst, unsupportedType(fmt.Sprintf("%T", v))
}

func unsupportedType(name string) error {
	return fmt.Errorf("Invalid Kafka record format, connector does not support %s format. This connector supports Avro, Json with schema, Json without schema, Byte, String format. ", name)
}

func appendLine(dst []byte, err error) ([]byte, error) {
	if err != nil {
		return dst, err
	}
	return append(dst, '\n'), nil
}

// javaTypeName is the name of Connect's Schema.Type enum constant for a type.
func javaTypeName(t sink.Type) string {
	switch t {
	case sink.Float32:
		return "FLOAT32"
	case sink.Float64:
		return "FLOAT64"
	}
	return strings.ToUpper(string(t))
}

// appendConnectJSON renders a value as Connect's JsonConverter does with schemas disabled
// (decimal.format BASE64, replace.null.with.default true): struct fields in schema order, bytes
// and decimals as base64, Date as days, Time as milliseconds of the day, Timestamp as epoch
// milliseconds, maps with non-string keys as arrays of [key, value] pairs. A nil schema means the
// value is schemaless and its Go type decides.
func appendConnectJSON(dst []byte, s *sink.Schema, v any) ([]byte, error) {
	if v == nil {
		if s == nil {
			return append(dst, "null"...), nil
		}
		if s.Default != nil {
			return appendConnectJSON(dst, s, s.Default)
		}
		if s.Optional {
			return append(dst, "null"...), nil
		}
		return dst, errors.New("Conversion error: null value for field that is required and has no default value")
	}
	if s == nil {
		return appendSchemaless(dst, v)
	}
	switch s.Name {
	case sink.DecimalSchemaName:
		d, ok := v.(sink.Decimal)
		if !ok {
			return dst, mismatch(s, v)
		}
		return appendBase64(dst, twosComplement(d.Unscaled)), nil
	case sink.DateSchemaName, sink.TimeSchemaName, sink.TimestampSchemaName:
		t, ok := v.(time.Time)
		if !ok {
			return dst, mismatch(s, v)
		}
		ms := t.UnixMilli()
		switch s.Name {
		case sink.DateSchemaName:
			return strconv.AppendInt(dst, floorDiv(ms, 86400000), 10), nil
		case sink.TimeSchemaName:
			return strconv.AppendInt(dst, ms-floorDiv(ms, 86400000)*86400000, 10), nil
		}
		return strconv.AppendInt(dst, ms, 10), nil
	}
	switch s.Type {
	case sink.Int8, sink.Int16, sink.Int32, sink.Int64:
		n, ok := asInt64(v)
		if !ok {
			return dst, mismatch(s, v)
		}
		return strconv.AppendInt(dst, n, 10), nil
	case sink.Float32:
		f, ok := v.(float32)
		if !ok {
			return dst, mismatch(s, v)
		}
		return appendJavaFloat(dst, float64(f), 32), nil
	case sink.Float64:
		f, ok := v.(float64)
		if !ok {
			return dst, mismatch(s, v)
		}
		return appendJavaFloat(dst, f, 64), nil
	case sink.Boolean:
		b, ok := v.(bool)
		if !ok {
			return dst, mismatch(s, v)
		}
		return strconv.AppendBool(dst, b), nil
	case sink.String:
		str, ok := v.(string)
		if !ok {
			return dst, mismatch(s, v)
		}
		return appendJSONString(dst, str), nil
	case sink.Bytes:
		b, ok := v.([]byte)
		if !ok {
			return dst, mismatch(s, v)
		}
		return appendBase64(dst, b), nil
	case sink.Array:
		items, ok := v.([]any)
		if !ok {
			return dst, mismatch(s, v)
		}
		dst = append(dst, '[')
		for i, it := range items {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendConnectJSON(dst, s.ItemsSchema, it); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case sink.Map:
		switch m := v.(type) {
		case map[string]any:
			return appendObject(dst, m, s.ValueSchema)
		case []sink.MapEntry:
			dst = append(dst, '[')
			for i, e := range m {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, '[')
				var err error
				if dst, err = appendConnectJSON(dst, s.KeySchema, e.Key); err != nil {
					return dst, err
				}
				dst = append(dst, ',')
				if dst, err = appendConnectJSON(dst, s.ValueSchema, e.Value); err != nil {
					return dst, err
				}
				dst = append(dst, ']')
			}
			return append(dst, ']'), nil
		}
		return dst, mismatch(s, v)
	case sink.Struct:
		st, ok := v.(*sink.StructValue)
		if !ok {
			return dst, mismatch(s, v)
		}
		dst = append(dst, '{')
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, f.Name)
			dst = append(dst, ':')
			var fv any
			if f.Index < len(st.Values) {
				fv = st.Values[f.Index]
			}
			var err error
			if dst, err = appendConnectJSON(dst, f.Schema, fv); err != nil {
				return dst, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		return append(dst, '}'), nil
	}
	return dst, fmt.Errorf("unknown schema type %q", s.Type)
}

func mismatch(s *sink.Schema, v any) error {
	name := javaTypeName(s.Type)
	if s.Name != "" {
		name = s.Name
	}
	return fmt.Errorf("Invalid type for %s: %T", name, v)
}

// appendSchemaless renders a value without a schema from its Go type, as Jackson renders the
// corresponding Java object.
func appendSchemaless(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int8, int16, int32, int64, int:
		n, _ := asInt64(x)
		return strconv.AppendInt(dst, n, 10), nil
	case float32:
		return appendJavaFloat(dst, float64(x), 32), nil
	case float64:
		return appendJavaFloat(dst, x, 64), nil
	case json.Number:
		return append(dst, x...), nil
	case []byte:
		return appendBase64(dst, x), nil
	case sink.RawJSON:
		return append(dst, x...), nil
	case sink.Decimal:
		return appendBase64(dst, twosComplement(x.Unscaled)), nil
	case time.Time:
		return strconv.AppendInt(dst, x.UnixMilli(), 10), nil
	case map[string]any:
		return appendObject(dst, x, nil)
	case []sink.MapEntry:
		return appendEntriesAsObject(dst, nil, x)
	case []any:
		dst = append(dst, '[')
		for i, it := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendSchemaless(dst, it); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case *sink.StructValue:
		return appendConnectJSON(dst, x.Schema, x)
	}
	return dst, fmt.Errorf("cannot write a value of type %T as JSON", v)
}

// appendObject writes a string-keyed map as a JSON object with sorted keys (Java's map order is
// unspecified; sorted keys make files reproducible).
func appendObject(dst []byte, m map[string]any, valueSchema *sink.Schema) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendConnectJSON(dst, valueSchema, m[k]); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendEntriesAsObject writes a map with non-string keys as Jackson writes a Java Map: an object
// whose keys are the keys' string forms.
func appendEntriesAsObject(dst []byte, s *sink.Schema, entries []sink.MapEntry) ([]byte, error) {
	var valueSchema *sink.Schema
	if s != nil {
		valueSchema = s.ValueSchema
	}
	dst = append(dst, '{')
	for i, e := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, javaString(e.Key))
		dst = append(dst, ':')
		var err error
		if dst, err = appendConnectJSON(dst, valueSchema, e.Value); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func javaString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return string(appendJavaFloat(nil, x, 64))
	case float32:
		return string(appendJavaFloat(nil, float64(x), 32))
	}
	return fmt.Sprint(v)
}

func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// twosComplement returns the minimal big-endian two's-complement bytes of x, as Java's
// BigInteger.toByteArray.
func twosComplement(x *big.Int) []byte {
	if x == nil || x.Sign() == 0 {
		return []byte{0}
	}
	if x.Sign() > 0 {
		b := x.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Smallest n with -2^(8n-1) <= x: then 2^(8n) + x is the encoding.
	n := (new(big.Int).Not(x).BitLen())/8 + 1 // Not(x) = -x-1 >= 0
	v := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	v.Add(v, x)
	b := v.Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string, escaping what Jackson escapes (quote, backslash,
// control characters); invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJavaFloat writes a JSON number as Jackson writes a Java double or float; NaN and the
// infinities, which JSON lacks, are quoted strings (Jackson's QUOTE_NON_NUMERIC_NUMBERS).
func appendJavaFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		dst = append(dst, '"')
		dst = appendJavaDoubleBits(dst, f, bits)
		return append(dst, '"')
	}
	return appendJavaDoubleBits(dst, f, bits)
}

// appendJavaDouble writes f as Java's Double.toString does.
func appendJavaDouble(dst []byte, f float64) []byte { return appendJavaDoubleBits(dst, f, 64) }

// appendJavaDoubleBits writes f as Java's Double.toString (bits 64) or Float.toString (bits 32):
// the shortest digits that round-trip, in plain notation with at least one fractional digit
// for magnitudes in [1e-3, 1e7), else as d.dddE±n.
func appendJavaDoubleBits(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bits) // e.g. -1.2345e+06
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	ePos := 0
	for ePos < len(e) && e[ePos] != 'e' {
		ePos++
	}
	mant, expPart := e[:ePos], e[ePos+1:]
	exp, _ := strconv.Atoi(string(expPart))
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			intLen := exp + 1
			for len(digits) < intLen {
				digits = append(digits, '0')
			}
			dst = append(dst, digits[:intLen]...)
			dst = append(dst, '.')
			if frac := digits[intLen:]; len(frac) > 0 {
				return append(dst, frac...)
			}
			return append(dst, '0')
		}
		dst = append(dst, '0', '.')
		for i := 0; i < -exp-1; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) > 1 {
		dst = append(dst, digits[1:]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}
