package connectjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/sink"
)

// DecimalFormat is the JsonConverter's decimal.format: how values of the Decimal logical type
// are written.
type DecimalFormat int

const (
	// Base64 writes a decimal as a base64 string of its unscaled value in two's complement,
	// big-endian and as short as possible (Java's BigInteger.toByteArray). The JsonConverter's
	// default.
	Base64 DecimalFormat = iota
	// Numeric writes a decimal as a JSON number in plain notation, keeping its scale ("1.50").
	Numeric
)

// Options are the settings that change how [AppendValue] and [AppendJavaMap] write values. The
// JsonConverter's defaults are Options{DecimalFormat: Base64, ReplaceNullWithDefault: true}.
type Options struct {
	// DecimalFormat is the JsonConverter's decimal.format.
	DecimalFormat DecimalFormat
	// ReplaceNullWithDefault is the JsonConverter's replace.null.with.default: a null value whose
	// schema has a default is written as the default. When false it is written as null.
	ReplaceNullWithDefault bool
	// FieldNames prefixes an error in the value of a struct's field with "field <name>: ", once
	// per level of nesting, so the message says where the bad value is. The JsonConverter's
	// messages do not name the field; leave it off to report them exactly.
	FieldNames bool
	// Jackson writes values that have no schema as Jackson's ObjectMapper writes the Java
	// objects behind them, where the JsonConverter would write them otherwise or refuse them: a
	// map whose keys are not all strings becomes an object keyed by the keys' string forms (as
	// [AppendJavaMap] writes it) instead of an array of [key, value] pairs, a time.Time becomes
	// epoch milliseconds, a decimal is written in DecimalFormat with no scale to check, and a
	// struct is written by its own schema. A sink that writes a record's Map value with an
	// ObjectMapper, as the Java Kusto sink does, sets it.
	Jackson bool
}

const millisPerDay = 24 * 60 * 60 * 1000

// AppendValue appends value as the JsonConverter writes a payload (Java's convertToJson): by its
// schema, or by its Go type when schema is nil. The Go type of a value of each schema type is
// the one [sink.Type] documents; without a schema, int is taken as an int64, a [sink.RawJSON]
// is written as it is and a json.Number as its text (after checking it is a JSON number).
//
//   - Logical types: Decimal as [DecimalFormat] says (base64 checks the value's scale against
//     the schema's), Date as days since the epoch, Time as milliseconds of the day, Timestamp
//     as epoch milliseconds; a Date with a time of day or a Time with a date is an error.
//   - bytes are base64; floats are written by [AppendFloat].
//   - A map with string keys is an object with its keys sorted (Java writes its map's
//     iteration order, which readers must not rely on); with other keys it is an array of
//     [key, value] pairs, in entry order. The key schema decides; without a schema, the keys.
//   - A struct is an object with its fields in schema order; its schema must equal the one
//     given.
//   - null is written for a null value of an optional schema or without a schema; see
//     [Options.ReplaceNullWithDefault] for one whose schema has a default.
//
// Errors carry the JsonConverter's messages. On error the returned slice has dst's length again
// (its capacity may have grown), so a caller can go on appending to it.
func AppendValue(dst []byte, schema *sink.Schema, value any, opts Options) ([]byte, error) {
	out, err := appendValue(dst, schema, value, &opts)
	if err != nil {
		return out[:len(dst)], err
	}
	return out, nil
}

// AppendJavaMap appends a map value as Jackson writes a java.util.Map: a JSON object whose keys
// are written as Java's toString writes them when they are not strings (map[string]any keys in
// sorted order, []sink.MapEntry keys in entry order). Each value is written as [AppendValue]
// writes it with the map schema's value schema, or with no schema when schema is nil. value
// must be a map[string]any or a []sink.MapEntry, and schema nil or a Map schema; the key
// schema is not checked, as Jackson does not know it.
//
// On error the returned slice has dst's length again, as with AppendValue.
func AppendJavaMap(dst []byte, schema *sink.Schema, value any, opts Options) ([]byte, error) {
	var valueSchema *sink.Schema
	if schema != nil {
		if schema.Type != sink.Map {
			return dst, fmt.Errorf("Invalid type for %s: %T", TypeName(schema.Type), value)
		}
		valueSchema = schema.ValueSchema
	}
	var out []byte
	var err error
	switch m := value.(type) {
	case map[string]any:
		out, err = appendObject(dst, valueSchema, m, &opts)
	case []sink.MapEntry:
		out, err = appendEntriesObject(dst, valueSchema, m, &opts)
	default:
		return dst, fmt.Errorf("Invalid type for MAP: %T", value)
	}
	if err != nil {
		return out[:len(dst)], err
	}
	return out, nil
}

// TypeName is the name of the constant of Java's Schema.Type enum for t (INT8, FLOAT32, ...),
// which Connect's messages print.
func TypeName(t sink.Type) string {
	switch t {
	case sink.Float32:
		return "FLOAT32"
	case sink.Float64:
		return "FLOAT64"
	}
	return strings.ToUpper(string(t))
}

// DecimalScale reads the scale parameter of a Decimal schema, with Connect's messages for a
// missing or malformed one.
func DecimalScale(s *sink.Schema) (int32, error) {
	str, ok := s.Parameters[sink.DecimalScaleParameter]
	if !ok {
		return 0, errors.New("Invalid Decimal schema: scale parameter not found.")
	}
	n, err := strconv.ParseInt(str, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("Invalid scale parameter found in Decimal schema: %s", str)
	}
	return int32(n), nil
}

// appendValue is AppendValue without restoring dst's length on error.
func appendValue(b []byte, s *sink.Schema, v any, o *Options) ([]byte, error) {
	if v == nil {
		switch {
		case s == nil:
			return append(b, "null"...), nil
		case s.Default != nil && o.ReplaceNullWithDefault:
			return appendValue(b, s, s.Default, o)
		case s.Optional:
			return append(b, "null"...), nil
		}
		return b, errors.New("Conversion error: null value for field that is required and has no default value")
	}
	if s != nil {
		switch s.Name {
		case sink.DecimalSchemaName:
			return appendDecimal(b, s, v, o)
		case sink.DateSchemaName:
			t, ok := v.(time.Time)
			if !ok {
				return b, fmt.Errorf("Invalid type for Date, expected Date but was %T", v)
			}
			ms := t.UnixMilli()
			if ms%millisPerDay != 0 {
				return b, errors.New("Kafka Connect Date type should not have any time fields set to non-zero values.")
			}
			return strconv.AppendInt(b, int64(int32(ms/millisPerDay)), 10), nil
		case sink.TimeSchemaName:
			t, ok := v.(time.Time)
			if !ok {
				return b, fmt.Errorf("Invalid type for Time, expected Date but was %T", v)
			}
			ms := t.UnixMilli()
			if ms < 0 || ms >= millisPerDay {
				return b, errors.New("Kafka Connect Time type should not have any date fields set to non-zero values.")
			}
			return strconv.AppendInt(b, ms, 10), nil
		case sink.TimestampSchemaName:
			t, ok := v.(time.Time)
			if !ok {
				return b, fmt.Errorf("Invalid type for Timestamp, expected Date but was %T", v)
			}
			return strconv.AppendInt(b, t.UnixMilli(), 10), nil
		}
	}
	var t sink.Type
	if s != nil {
		t = s.Type
	} else {
		switch x := v.(type) {
		case sink.RawJSON:
			return append(b, x...), nil
		case json.Number:
			if !validNumber(string(x)) {
				return b, fmt.Errorf("Invalid JSON number %q", string(x))
			}
			return append(b, x...), nil
		}
		if o.Jackson {
			switch x := v.(type) {
			case time.Time:
				return strconv.AppendInt(b, x.UnixMilli(), 10), nil
			case sink.Decimal, *sink.Decimal:
				return appendDecimal(b, nil, v, o)
			case []sink.MapEntry:
				return appendEntriesObject(b, nil, x, o)
			case *sink.StructValue:
				if x.Schema != nil {
					return appendValue(b, x.Schema, x, o)
				}
			}
		}
		var ok bool
		if t, ok = inferType(v); !ok {
			return b, fmt.Errorf("Go type %T does not have corresponding schema type.", v)
		}
	}
	bad := func() ([]byte, error) {
		return b, fmt.Errorf("Invalid type for %s: %T", TypeName(t), v)
	}
	switch t {
	case sink.Int8, sink.Int16, sink.Int32, sink.Int64:
		n, ok := integer(t, v, s == nil)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, n, 10), nil
	case sink.Float32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		return AppendFloat(b, float64(x), 32), nil
	case sink.Float64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		return AppendFloat(b, x, 64), nil
	case sink.Boolean:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		return strconv.AppendBool(b, x), nil
	case sink.String:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return AppendString(b, x), nil
	case sink.Bytes:
		x, ok := v.([]byte)
		if !ok {
			return b, fmt.Errorf("Invalid type for bytes type: %T", v)
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"'), nil
	case sink.Array:
		x, ok := v.([]any)
		if !ok {
			return bad()
		}
		var items *sink.Schema
		if s != nil {
			items = s.ItemsSchema
		}
		b = append(b, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, items, e, o); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case sink.Map:
		return appendMap(b, s, v, o)
	case sink.Struct:
		st, ok := v.(*sink.StructValue)
		if !ok {
			return bad()
		}
		if s == nil || !schemaEqual(st.Schema, s) {
			return b, errors.New("Mismatching schema.")
		}
		b = append(b, '{')
		var err error
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, f.Name)
			b = append(b, ':')
			var fv any
			if f.Index < len(st.Values) {
				fv = st.Values[f.Index]
			}
			if b, err = appendValue(b, f.Schema, fv, o); err != nil {
				if o.FieldNames {
					err = fmt.Errorf("field %s: %w", f.Name, err)
				}
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return b, fmt.Errorf("Couldn't convert %v to JSON.", v)
}

// appendMap writes a map the JsonConverter's way: an object when the keys are strings (by the
// key schema, or without a schema by the keys themselves), else an array of [key, value] pairs.
func appendMap(b []byte, s *sink.Schema, v any, o *Options) ([]byte, error) {
	var ks, vs *sink.Schema
	if s != nil {
		if s.KeySchema == nil {
			return b, errors.New("Map schema did not specify the key and value types")
		}
		ks, vs = s.KeySchema, s.ValueSchema
	}
	switch x := v.(type) {
	case map[string]any:
		if s != nil && ks.Type != sink.String {
			return b, fmt.Errorf("Invalid type for MAP: %T (the key schema is %s)", v, TypeName(ks.Type))
		}
		return appendObject(b, vs, x, o)
	case []sink.MapEntry:
		objectMode := s != nil && ks.Type == sink.String
		if s == nil {
			objectMode = true
			for _, e := range x {
				if _, ok := e.Key.(string); !ok {
					objectMode = false
					break
				}
			}
		}
		var err error
		if objectMode {
			b = append(b, '{')
			for i, e := range x {
				if i > 0 {
					b = append(b, ',')
				}
				k, isString := e.Key.(string)
				if !isString {
					// A key of a string schema that is not a Go string is written as the
					// string of its JSON form, or refused as the schema says.
					start := len(b)
					if b, err = appendValue(b, ks, e.Key, o); err != nil {
						return b, err
					}
					k = string(b[start:])
					b = b[:start]
				}
				b = AppendString(b, k)
				b = append(b, ':')
				if b, err = appendValue(b, vs, e.Value, o); err != nil {
					return b, err
				}
			}
			return append(b, '}'), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			if b, err = appendValue(b, ks, e.Key, o); err != nil {
				return b, err
			}
			b = append(b, ',')
			if b, err = appendValue(b, vs, e.Value, o); err != nil {
				return b, err
			}
			b = append(b, ']')
		}
		return append(b, ']'), nil
	}
	return b, fmt.Errorf("Invalid type for MAP: %T", v)
}

// appendObject writes a string-keyed map as an object with sorted keys, each value by vs.
func appendObject(b []byte, vs *sink.Schema, m map[string]any, o *Options) ([]byte, error) {
	var buf [32]string
	b = append(b, '{')
	var err error
	for i, k := range sortedKeys(buf[:0], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, vs, m[k], o); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendEntriesObject writes map entries as Jackson writes a java.util.Map: an object keyed by
// the keys' string forms, in entry order, each value by vs.
func appendEntriesObject(b []byte, vs *sink.Schema, entries []sink.MapEntry, o *Options) ([]byte, error) {
	b = append(b, '{')
	var err error
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJavaKey(b, e.Key)
		b = append(b, ':')
		if b, err = appendValue(b, vs, e.Value, o); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendJavaKey writes a map key as the JSON string of its Java toString, as Jackson writes the
// key of a java.util.Map.
func appendJavaKey(b []byte, k any) []byte {
	switch x := k.(type) {
	case string:
		return AppendString(b, x)
	case float64:
		b = append(b, '"')
		b = AppendJavaFloat(b, x, 64)
		return append(b, '"')
	case float32:
		b = append(b, '"')
		b = AppendJavaFloat(b, float64(x), 32)
		return append(b, '"')
	case int8:
		return appendQuotedInt(b, int64(x))
	case int16:
		return appendQuotedInt(b, int64(x))
	case int32:
		return appendQuotedInt(b, int64(x))
	case int64:
		return appendQuotedInt(b, x)
	case int:
		return appendQuotedInt(b, int64(x))
	}
	return AppendString(b, fmt.Sprint(k))
}

func appendQuotedInt(b []byte, n int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '"')
}

// appendDecimal writes a Decimal value (a sink.Decimal or *sink.Decimal). Without a schema
// (Options.Jackson) there is no scale to check.
func appendDecimal(b []byte, s *sink.Schema, v any, o *Options) ([]byte, error) {
	var d sink.Decimal
	switch x := v.(type) {
	case sink.Decimal:
		d = x
	case *sink.Decimal:
		d = *x
	default:
		return b, fmt.Errorf("Invalid type for Decimal, expected BigDecimal but was %T", v)
	}
	if o.DecimalFormat == Numeric {
		return append(b, d.String()...), nil
	}
	if s != nil {
		scale, err := DecimalScale(s)
		if err != nil {
			return b, err
		}
		if d.Scale != scale {
			return b, errors.New("BigDecimal has mismatching scale value for given Decimal schema")
		}
	}
	var scratch [64]byte
	raw := appendTwosComplement(scratch[:0], d.Unscaled)
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, '"'), nil
}

// appendTwosComplement appends x as Java's BigInteger.toByteArray writes it: big-endian two's
// complement in the fewest bytes that hold the sign bit. A nil x is zero.
func appendTwosComplement(dst []byte, x *big.Int) []byte {
	if x == nil || x.Sign() == 0 {
		return append(dst, 0)
	}
	bits := x.BitLen() // of |x|
	if x.Sign() < 0 && x.TrailingZeroBits() == uint(bits-1) {
		bits-- // -2^k fits in k bits and a sign bit, one less than 2^k needs
	}
	n := bits/8 + 1
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	x.FillBytes(out) // |x|
	if x.Sign() < 0 {
		// Negate in place: invert every byte, then add one.
		carry := true
		for i := len(out) - 1; i >= 0; i-- {
			out[i] = ^out[i]
			if carry {
				out[i]++
				carry = out[i] == 0
			}
		}
	}
	return dst
}

// integer returns v as an int64 when its Go type is the one of the integer schema type t; an
// int is taken as an INT64 only without a schema.
func integer(t sink.Type, v any, schemaless bool) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), t == sink.Int8
	case int16:
		return int64(x), t == sink.Int16
	case int32:
		return int64(x), t == sink.Int32
	case int64:
		return x, t == sink.Int64
	case int:
		return int64(x), t == sink.Int64 && schemaless
	}
	return 0, false
}

// inferType is Java's ConnectSchema.schemaType for a value without a schema.
func inferType(v any) (sink.Type, bool) {
	switch v.(type) {
	case int8:
		return sink.Int8, true
	case int16:
		return sink.Int16, true
	case int32:
		return sink.Int32, true
	case int64, int:
		return sink.Int64, true
	case float32:
		return sink.Float32, true
	case float64:
		return sink.Float64, true
	case bool:
		return sink.Boolean, true
	case string:
		return sink.String, true
	case []byte:
		return sink.Bytes, true
	case []any:
		return sink.Array, true
	case map[string]any, []sink.MapEntry:
		return sink.Map, true
	case *sink.StructValue:
		return sink.Struct, true
	}
	return "", false
}

// validNumber reports whether s is a number as JSON's grammar writes one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	digits := func() bool {
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > d
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// schemaEqual compares two schemas structurally, as Java's ConnectSchema.equals.
func schemaEqual(a, b *sink.Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	if a.Type != b.Type || a.Optional != b.Optional || a.Name != b.Name || a.Version != b.Version ||
		a.Doc != b.Doc || !maps.Equal(a.Parameters, b.Parameters) || !reflect.DeepEqual(a.Default, b.Default) ||
		len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || a.Fields[i].Index != b.Fields[i].Index ||
			!schemaEqual(a.Fields[i].Schema, b.Fields[i].Schema) {
			return false
		}
	}
	return schemaEqual(a.ItemsSchema, b.ItemsSchema) && schemaEqual(a.KeySchema, b.KeySchema) &&
		schemaEqual(a.ValueSchema, b.ValueSchema)
}
