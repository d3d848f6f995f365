package task

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/connectjson"
)

func converterTypeKey() sink.ConfigKey {
	return sink.ConfigKey{Name: converterTypeConfig, Type: sink.TypeString, Required: true,
		Validator: sink.OneOfIgnoringCase("key", "value", "header"), Importance: sink.Low,
		Doc: "How this converter will be used."}
}

const stringEncodingConfig = "converter.encoding"

func stringConverterConfigDef() *sink.ConfigDef {
	return sink.NewConfigDef().
		Define(converterTypeKey()).
		Define(sink.ConfigKey{Name: stringEncodingConfig, Type: sink.TypeString, Default: "UTF8",
			Importance: sink.High, Doc: "The name of the Java character set to use for encoding strings as byte arrays.",
			Validator: func(v any) error {
				switch strings.ToUpper(strings.ReplaceAll(fmt.Sprint(v), "-", "")) {
				case "UTF8":
					return nil
				}
				return fmt.Errorf("kconnect supports only the UTF-8 character set")
			}})
}

// StringConverter is org.apache.kafka.connect.storage.StringConverter: bytes are UTF-8 text with
// an optional string schema; values are written as their string form.
type StringConverter struct{}

func newStringConverter(*sink.Config) (StringConverter, error) { return StringConverter{}, nil }

// ToConnectData returns the bytes as a string (malformed UTF-8 replaced by U+FFFD, as Java's
// decoder does) with [sink.OptionalStringSchema]; nil bytes are a null value.
func (StringConverter) ToConnectData(_ string, data []byte) (*sink.Schema, any, error) {
	if data == nil {
		return sink.OptionalStringSchema, nil, nil
	}
	return sink.OptionalStringSchema, utf8String(data), nil
}

// FromConnectData writes the value's string form as UTF-8; the schema is ignored.
func (StringConverter) FromConnectData(_ string, _ *sink.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	return []byte(javaString(value)), nil
}

// ToConnectHeader is ToConnectData for a header value.
func (c StringConverter) ToConnectHeader(topic, _ string, data []byte) (*sink.Schema, any, error) {
	return c.ToConnectData(topic, data)
}

// FromConnectHeader is FromConnectData for a header value.
func (c StringConverter) FromConnectHeader(topic, _ string, schema *sink.Schema, value any) ([]byte, error) {
	return c.FromConnectData(topic, schema, value)
}

func utf8String(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// javaString renders a Connect value as Java's toString would for the common types.
func javaString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case sink.RawJSON:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float32:
		return string(connectjson.AppendJavaFloat(nil, float64(x), 32))
	case float64:
		return string(connectjson.AppendJavaFloat(nil, x, 64))
	case sink.Decimal:
		return javaDecimalString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// ByteArrayConverter is org.apache.kafka.connect.converters.ByteArrayConverter: bytes pass
// through with an optional bytes schema.
type ByteArrayConverter struct{}

// ToConnectData returns the bytes themselves with [sink.OptionalBytesSchema].
func (ByteArrayConverter) ToConnectData(_ string, data []byte) (*sink.Schema, any, error) {
	if data == nil {
		return sink.OptionalBytesSchema, nil, nil
	}
	return sink.OptionalBytesSchema, data, nil
}

// FromConnectData accepts a nil or bytes schema and a []byte (or nil) value.
func (ByteArrayConverter) FromConnectData(_ string, schema *sink.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != sink.Bytes {
		return nil, dataErrorf("Invalid schema type for ByteArrayConverter: %s", connectjson.TypeName(schema.Type))
	}
	switch v := value.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	}
	return nil, dataErrorf("ByteArrayConverter is not compatible with objects of type %T", value)
}

// ToConnectHeader is ToConnectData for a header value.
func (c ByteArrayConverter) ToConnectHeader(topic, _ string, data []byte) (*sink.Schema, any, error) {
	return c.ToConnectData(topic, data)
}

// FromConnectHeader is FromConnectData for a header value.
func (c ByteArrayConverter) FromConnectHeader(topic, _ string, schema *sink.Schema, value any) ([]byte, error) {
	return c.FromConnectData(topic, schema, value)
}

// javaDecimalString renders a decimal as Java's BigDecimal.toString: plain notation when the
// scale is not negative and the adjusted exponent is at least -6, scientific otherwise
// ("1E+400", "1.23E-10").
func javaDecimalString(d sink.Decimal) string {
	if d.Unscaled == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Unscaled).String()
	adjusted := -int64(d.Scale) + int64(len(digits)-1)
	if d.Scale >= 0 && adjusted >= -6 {
		return d.String()
	}
	var b strings.Builder
	if d.Unscaled.Sign() < 0 {
		b.WriteByte('-')
	}
	b.WriteString(digits[:1])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('E')
	if adjusted >= 0 {
		b.WriteByte('+')
	}
	b.WriteString(strconv.FormatInt(adjusted, 10))
	return b.String()
}
