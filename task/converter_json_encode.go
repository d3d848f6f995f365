package task

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kconnect/kconnect/sink"
)

// FromConnectData writes Connect data as JSON: an envelope {"schema":...,"payload":...} with
// schemas.enable=true, the payload alone otherwise. A nil schema and nil value give nil bytes (a
// null record). The text is compact, with object fields in schema order (map keys sorted).
func (c *JSONConverter) FromConnectData(_ string, schema *sink.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	var b []byte
	var err error
	if c.schemasEnabled {
		b = append(b, `{"schema":`...)
		if b, err = c.appendSchema(b, schema); err != nil {
			return nil, dataError(err)
		}
		b = append(b, `,"payload":`...)
		if b, err = c.appendValue(b, schema, value); err != nil {
			return nil, dataError(err)
		}
		b = append(b, '}')
		return b, nil
	}
	if b, err = c.appendValue(b, schema, value); err != nil {
		return nil, dataError(err)
	}
	return b, nil
}

// FromConnectHeader is FromConnectData for a header value.
func (c *JSONConverter) FromConnectHeader(topic, _ string, schema *sink.Schema, value any) ([]byte, error) {
	return c.FromConnectData(topic, schema, value)
}

var jsonTypeNames = map[sink.Type]string{
	sink.Boolean: "boolean", sink.Int8: "int8", sink.Int16: "int16", sink.Int32: "int32", sink.Int64: "int64",
	sink.Float32: "float", sink.Float64: "double", sink.Bytes: "bytes", sink.String: "string",
	sink.Array: "array", sink.Map: "map", sink.Struct: "struct",
}

// appendSchema writes the schema JSON (Java's asJsonSchema): type, then items / keys and values /
// fields, then optional, name, version, doc, parameters and default.
func (c *JSONConverter) appendSchema(b []byte, s *sink.Schema) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	if cached, ok := c.fromConnect.get(s); ok {
		return append(b, cached...), nil
	}
	start := len(b)
	name, ok := jsonTypeNames[s.Type]
	if !ok {
		return nil, fmt.Errorf("Couldn't translate unsupported schema type %s.", s.Type)
	}
	b = append(b, `{"type":"`...)
	b = append(b, name...)
	b = append(b, '"')
	var err error
	switch s.Type {
	case sink.Array:
		if s.ItemsSchema == nil {
			return nil, errors.New("Array schema did not specify the element type")
		}
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.ItemsSchema); err != nil {
			return nil, err
		}
	case sink.Map:
		if s.KeySchema == nil || s.ValueSchema == nil {
			return nil, errors.New("Map schema did not specify the key and value types")
		}
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.KeySchema); err != nil {
			return nil, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.ValueSchema); err != nil {
			return nil, err
		}
	case sink.Struct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if f.Schema == nil {
				return nil, fmt.Errorf("fieldSchema for field %s cannot be null.", f.Name)
			}
			if b, err = c.appendSchema(b, f.Schema); err != nil {
				return nil, err
			}
			b = b[:len(b)-1] // reopen the field's schema object to add its name
			b = append(b, `,"field":`...)
			b = appendJSONString(b, f.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, s.Name)
	}
	if s.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendJSONString(b, s.Doc)
	}
	if s.Parameters != nil {
		b = append(b, `,"parameters":{`...)
		for i, k := range slices.Sorted(maps.Keys(s.Parameters)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, s.Parameters[k])
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default); err != nil {
			return nil, err
		}
	}
	b = append(b, '}')
	c.fromConnect.put(s, slices.Clone(b[start:]))
	return b, nil
}

// appendValue writes a value (Java's convertToJson).
func (c *JSONConverter) appendValue(b []byte, s *sink.Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s == nil:
			return append(b, "null"...), nil
		case s.Default != nil && c.replaceNull:
			return c.appendValue(b, s, s.Default)
		case s.Optional:
			return append(b, "null"...), nil
		}
		return nil, errors.New("Conversion error: null value for field that is required and has no default value")
	}
	if s != nil {
		switch s.Name {
		case sink.DecimalSchemaName:
			return c.appendDecimal(b, s, v)
		case sink.DateSchemaName:
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("Invalid type for Date, expected Date but was %T", v)
			}
			ms := t.UnixMilli()
			if ms%millisPerDay != 0 {
				return nil, errors.New("Kafka Connect Date type should not have any time fields set to non-zero values.")
			}
			return strconv.AppendInt(b, int64(int32(ms/millisPerDay)), 10), nil
		case sink.TimeSchemaName:
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("Invalid type for Time, expected Date but was %T", v)
			}
			ms := t.UnixMilli()
			if ms < 0 || ms >= millisPerDay {
				return nil, errors.New("Kafka Connect Time type should not have any date fields set to non-zero values.")
			}
			return strconv.AppendInt(b, ms, 10), nil
		case sink.TimestampSchemaName:
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("Invalid type for Timestamp, expected Date but was %T", v)
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
			if _, err := strconv.ParseFloat(string(x), 64); err != nil {
				return nil, fmt.Errorf("Invalid JSON number %q", string(x))
			}
			return append(b, x...), nil
		}
		var ok bool
		if t, ok = inferType(v); !ok {
			return nil, fmt.Errorf("Go type %T does not have corresponding schema type.", v)
		}
	}
	bad := func() ([]byte, error) {
		return nil, fmt.Errorf("Invalid type for %s: %T", typeName(t), v)
	}
	switch t {
	case sink.Int8:
		x, ok := v.(int8)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case sink.Int16:
		x, ok := v.(int16)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case sink.Int32:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case sink.Int64:
		switch x := v.(type) {
		case int64:
			return strconv.AppendInt(b, x, 10), nil
		case int:
			if s == nil {
				return strconv.AppendInt(b, int64(x), 10), nil
			}
		}
		return bad()
	case sink.Float32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		return appendJSONFloat(b, float64(x), 32), nil
	case sink.Float64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		return appendJSONFloat(b, x, 64), nil
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
		return appendJSONString(b, x), nil
	case sink.Bytes:
		x, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("Invalid type for bytes type: %T", v)
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
			if b, err = c.appendValue(b, items, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case sink.Map:
		return c.appendMap(b, s, v)
	case sink.Struct:
		st, ok := v.(*sink.StructValue)
		if !ok {
			return bad()
		}
		if s == nil || !schemaEqual(st.Schema, s) {
			return nil, errors.New("Mismatching schema.")
		}
		b = append(b, '{')
		var err error
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			var fv any
			if f.Index < len(st.Values) {
				fv = st.Values[f.Index]
			}
			if b, err = c.appendValue(b, f.Schema, fv); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("Couldn't convert %v to JSON.", v)
}

func (c *JSONConverter) appendMap(b []byte, s *sink.Schema, v any) ([]byte, error) {
	var ks, vs *sink.Schema
	if s != nil {
		ks, vs = s.KeySchema, s.ValueSchema
	}
	var err error
	switch x := v.(type) {
	case map[string]any:
		if s != nil && ks.Type != sink.String {
			return nil, fmt.Errorf("Invalid type for MAP: %T (the key schema is %s)", v, typeName(ks.Type))
		}
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			if b, err = c.appendValue(b, vs, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
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
		if objectMode {
			b = append(b, '{')
		} else {
			b = append(b, '[')
		}
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if objectMode {
				var key []byte
				if key, err = c.appendValue(nil, ks, e.Key); err != nil {
					return nil, err
				}
				k, isString := e.Key.(string)
				if !isString {
					k = string(key)
				}
				b = appendJSONString(b, k)
				b = append(b, ':')
				if b, err = c.appendValue(b, vs, e.Value); err != nil {
					return nil, err
				}
				continue
			}
			b = append(b, '[')
			if b, err = c.appendValue(b, ks, e.Key); err != nil {
				return nil, err
			}
			b = append(b, ',')
			if b, err = c.appendValue(b, vs, e.Value); err != nil {
				return nil, err
			}
			b = append(b, ']')
		}
		if objectMode {
			return append(b, '}'), nil
		}
		return append(b, ']'), nil
	}
	return nil, fmt.Errorf("Invalid type for MAP: %T", v)
}

func (c *JSONConverter) appendDecimal(b []byte, s *sink.Schema, v any) ([]byte, error) {
	var d sink.Decimal
	switch x := v.(type) {
	case sink.Decimal:
		d = x
	case *sink.Decimal:
		d = *x
	default:
		return nil, fmt.Errorf("Invalid type for Decimal, expected BigDecimal but was %T", v)
	}
	if c.numericDecimals {
		return append(b, d.String()...), nil
	}
	scale, err := decimalScale(s)
	if err != nil {
		return nil, err
	}
	if d.Scale != scale {
		return nil, errors.New("BigDecimal has mismatching scale value for given Decimal schema")
	}
	unscaled := d.Unscaled
	if unscaled == nil {
		unscaled = new(big.Int)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, toTwosComplement(unscaled))
	return append(b, '"'), nil
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

// appendJSONFloat writes a float as Jackson does: Java's notation, NaN and the infinities quoted.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b = append(b, '"')
		b = appendJavaFloat(b, f, bits)
		return append(b, '"')
	}
	return appendJavaFloat(b, f, bits)
}

const hexDigits = "0123456789ABCDEF"

// appendJSONString writes s as a JSON string the way Jackson does: only '"', '\\' and control
// characters are escaped; other text, including non-ASCII, is written as UTF-8. Invalid UTF-8 is
// replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
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
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
