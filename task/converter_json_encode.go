package task

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/connectjson"
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
		if b, err = connectjson.AppendValue(b, schema, value, c.writeOptions()); err != nil {
			return nil, dataError(err)
		}
		b = append(b, '}')
		return b, nil
	}
	if b, err = connectjson.AppendValue(b, schema, value, c.writeOptions()); err != nil {
		return nil, dataError(err)
	}
	return b, nil
}

// writeOptions are the converter's settings for writing values.
func (c *JSONConverter) writeOptions() connectjson.Options {
	o := connectjson.Options{ReplaceNullWithDefault: c.replaceNull}
	if c.numericDecimals {
		o.DecimalFormat = connectjson.Numeric
	}
	return o
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
			b = connectjson.AppendString(b, f.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = connectjson.AppendString(b, s.Name)
	}
	if s.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = connectjson.AppendString(b, s.Doc)
	}
	if s.Parameters != nil {
		b = append(b, `,"parameters":`...)
		b = connectjson.AppendStringMap(b, s.Parameters)
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = connectjson.AppendValue(b, s, s.Default, c.writeOptions()); err != nil {
			return nil, err
		}
	}
	b = append(b, '}')
	c.fromConnect.put(s, slices.Clone(b[start:]))
	return b, nil
}
