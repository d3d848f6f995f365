package task

import (
	"encoding/base64"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/sink"
)

// SimpleHeaderConverter is org.apache.kafka.connect.storage.SimpleHeaderConverter, the default
// header.converter: header values are UTF-8 text whose schema is inferred.
//
// Reading infers this subset of Java's Values.parseString:
//   - null bytes → null; "" → STRING ""; "null" → null
//   - "true" / "false" → BOOLEAN
//   - "yyyy-MM-dd" → Date, "HH:mm:ss.SSS'Z'" → Time, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'" → Timestamp (UTC)
//   - a number (optional sign, digits, fraction, exponent) → the smallest of INT8, INT16, INT32,
//     INT64 that holds it exactly; otherwise FLOAT32 when it has a fraction and fits, then
//     FLOAT64; otherwise a Decimal with the number's scale
//   - anything else, including "[...]" and "{...}" (Java parses those as arrays and maps), → STRING,
//     the text unchanged.
//
// Writing renders values as Java's Values.convertToString does: text as is, numbers and booleans
// in Java's notation, bytes in base64, dates by Values' ISO formats, arrays as [a,b] and maps and
// structs as {k:v}, with strings inside them quoted.
type SimpleHeaderConverter struct{}

// ToConnectHeader infers a schema and value from the header's text.
func (SimpleHeaderConverter) ToConnectHeader(_, _ string, data []byte) (*sink.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	s := utf8String(data)
	if s == "" {
		return stringSchema, "", nil
	}
	schema, v := parseHeaderString(s)
	return schema, v, nil
}

// FromConnectHeader renders the value as text.
func (SimpleHeaderConverter) FromConnectHeader(_, _ string, schema *sink.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	var b []byte
	b = appendValueString(b, schema, value, false)
	return b, nil
}

// Schemas SimpleHeaderConverter infers (required, as Java's Schema.*_SCHEMA constants).
var (
	stringSchema    = &sink.Schema{Type: sink.String}
	booleanSchema   = &sink.Schema{Type: sink.Boolean}
	int8Schema      = &sink.Schema{Type: sink.Int8}
	int16Schema     = &sink.Schema{Type: sink.Int16}
	int32Schema     = &sink.Schema{Type: sink.Int32}
	int64Schema     = &sink.Schema{Type: sink.Int64}
	float32Schema   = &sink.Schema{Type: sink.Float32}
	float64Schema   = &sink.Schema{Type: sink.Float64}
	dateSchema      = &sink.Schema{Type: sink.Int32, Name: sink.DateSchemaName, Version: 1}
	timeSchema      = &sink.Schema{Type: sink.Int32, Name: sink.TimeSchemaName, Version: 1}
	timestampSchema = &sink.Schema{Type: sink.Int64, Name: sink.TimestampSchemaName, Version: 1}
)

func decimalSchema(scale int32) *sink.Schema {
	return &sink.Schema{Type: sink.Bytes, Name: sink.DecimalSchemaName, Version: 1,
		Parameters: map[string]string{sink.DecimalScaleParameter: strconv.Itoa(int(scale))}}
}

func parseHeaderString(s string) (*sink.Schema, any) {
	token := strings.TrimSpace(s)
	switch token {
	case "null":
		return nil, nil
	case "true":
		return booleanSchema, true
	case "false":
		return booleanSchema, false
	case "":
		return stringSchema, s
	}
	first := token[0]
	digit := first >= '0' && first <= '9'
	if digit {
		if schema, v, ok := parseTemporal(token); ok {
			return schema, v
		}
	}
	if digit || first == '+' || first == '-' {
		if schema, v, ok := parseHeaderNumber(token); ok {
			return schema, v
		}
	}
	return stringSchema, s
}

const (
	isoDate      = "2006-01-02"
	isoTime      = "15:04:05.000Z"
	isoTimestamp = "2006-01-02T15:04:05.000Z"
)

func parseTemporal(token string) (*sink.Schema, any, bool) {
	var layout string
	var schema *sink.Schema
	switch len(token) {
	case len(isoTime):
		layout, schema = isoTime, timeSchema
	case len(isoTimestamp):
		layout, schema = isoTimestamp, timestampSchema
	case len(isoDate):
		layout, schema = isoDate, dateSchema
	default:
		return nil, nil, false
	}
	t, err := time.ParseInLocation(layout, token, time.UTC)
	if err != nil {
		return nil, nil, false
	}
	if schema == timeSchema {
		t = sink.Epoch.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
			time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()))
	}
	return schema, t, true
}

// parseDecimalText parses a Java BigDecimal literal: sign, digits with an optional fraction,
// optional exponent. It returns the unscaled value and the scale.
func parseDecimalText(s string) (*big.Int, int32, bool) {
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
	}
	neg := false
	switch {
	case strings.HasPrefix(mant, "-"):
		neg, mant = true, mant[1:]
	case strings.HasPrefix(mant, "+"):
		mant = mant[1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return nil, 0, false
	}
	scale := int64(len(frac))
	if exp != "" {
		e, err := strconv.ParseInt(exp, 10, 32)
		if err != nil {
			return nil, 0, false
		}
		scale -= e
	}
	if scale > math.MaxInt32 || scale < math.MinInt32 {
		return nil, 0, false
	}
	u, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, 0, false
	}
	if neg {
		u.Neg(u)
	}
	return u, int32(scale), true
}

func parseHeaderNumber(token string) (*sink.Schema, any, bool) {
	unscaled, scale, ok := parseDecimalText(token)
	if !ok {
		return nil, nil, false
	}
	if i, exact := integralValue(unscaled, scale); exact && i.IsInt64() {
		n := i.Int64()
		switch {
		case n >= math.MinInt8 && n <= math.MaxInt8:
			return int8Schema, int8(n), true
		case n >= math.MinInt16 && n <= math.MaxInt16:
			return int16Schema, int16(n), true
		case n >= math.MinInt32 && n <= math.MaxInt32:
			return int32Schema, int32(n), true
		default:
			return int64Schema, n, true
		}
	}
	if scale != 0 {
		text := strings.TrimPrefix(token, "+")
		if f, err := strconv.ParseFloat(text, 32); err == nil && !math.IsInf(f, 0) {
			return float32Schema, float32(f), true
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) {
			return float64Schema, f, true
		}
	}
	return decimalSchema(scale), sink.Decimal{Unscaled: unscaled, Scale: scale}, true
}

// integralValue returns unscaled × 10^-scale when that is an integer.
func integralValue(unscaled *big.Int, scale int32) (*big.Int, bool) {
	if scale <= 0 {
		if scale < -40 { // far beyond int64; not worth computing
			return nil, unscaled.Sign() == 0
		}
		return new(big.Int).Mul(unscaled, pow10(int(-scale))), true
	}
	q, r := new(big.Int).QuoRem(unscaled, pow10(int(scale)), new(big.Int))
	return q, r.Sign() == 0
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// appendValueString renders v as Java's Values.convertToString does; embedded strings (inside
// arrays, maps and structs) are quoted.
func appendValueString(b []byte, schema *sink.Schema, v any, embedded bool) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		if embedded {
			b = append(b, '"')
			b = append(b, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(x)...)
			return append(b, '"')
		}
		return append(b, x...)
	case []byte:
		enc := base64.StdEncoding.AppendEncode(nil, x)
		if embedded {
			b = append(b, '"')
			b = append(b, enc...)
			return append(b, '"')
		}
		return append(b, enc...)
	case time.Time:
		return appendISODate(b, x)
	case []any:
		var item *sink.Schema
		if schema != nil {
			item = schema.ItemsSchema
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValueString(b, item, e, true)
		}
		return append(b, ']')
	case map[string]any:
		var vs *sink.Schema
		if schema != nil {
			vs = schema.ValueSchema
		}
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValueString(b, nil, k, true)
			b = append(b, ':')
			b = appendValueString(b, vs, x[k], true)
		}
		return append(b, '}')
	case []sink.MapEntry:
		var ks, vs *sink.Schema
		if schema != nil {
			ks, vs = schema.KeySchema, schema.ValueSchema
		}
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValueString(b, ks, e.Key, true)
			b = append(b, ':')
			b = appendValueString(b, vs, e.Value, true)
		}
		return append(b, '}')
	case *sink.StructValue:
		b = append(b, '{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValueString(b, nil, f.Name, true)
			b = append(b, ':')
			var fv any
			if f.Index < len(x.Values) {
				fv = x.Values[f.Index]
			}
			b = appendValueString(b, f.Schema, fv, true)
		}
		return append(b, '}')
	}
	return append(b, javaString(v)...)
}

// appendISODate formats a date value as Values.dateFormatFor chooses: a time of day when it is
// within the first day after the epoch, a date when it is a whole day, a timestamp otherwise.
func appendISODate(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	const day = 24 * 60 * 60 * 1000
	switch {
	case ms >= 0 && ms < day:
		return t.UTC().AppendFormat(b, isoTime)
	case ms%day == 0:
		return t.UTC().AppendFormat(b, isoDate)
	}
	return t.UTC().AppendFormat(b, isoTimestamp)
}
