package kusto

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/connectjson"
)

// errTombstone marks a record with a null value: it is skipped (with a warning in Java).
var errTombstone = errors.New("record has a null value (tombstone)")

// jsonOptions are how the Java sink's JSON comes out: Connect's JsonConverter with its defaults
// (decimal.format BASE64, replace.null.with.default true) for structs, Jackson for the Java
// objects inside a Map value; errors name the struct field they are in.
var jsonOptions = connectjson.Options{ReplaceNullWithDefault: true, FieldNames: true, Jackson: true}

// appendRecord appends the line a record is written as to dst, choosing the writer the Java
// sink's FileWriter would (reference §4.1) from the value's shape. The choice is made per record,
// not once per file, so a partition whose values change shape keeps being written correctly.
//
// Text (a string or a String schema) and raw bytes pass through with a newline, as do RawJSON
// values: schemaless JSON is never decoded and re-encoded. Maps are written as JSON objects, as
// Jackson writes a java.util.Map; structs as the JsonConverter (schemas disabled) renders them,
// and only into JSON formats.
func appendRecord(dst []byte, rec *sink.Record, f dataFormat) ([]byte, error) {
	v := rec.Value
	if v == nil {
		return dst, errTombstone
	}
	if s := rec.ValueSchema; s != nil && s.Type != sink.Struct {
		switch v.(type) {
		case map[string]any, []sink.MapEntry: // Java checks `instanceof Map` before the schema
			return appendLine(connectjson.AppendJavaMap(dst, s, v, jsonOptions))
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
			return dst, unsupportedType(connectjson.TypeName(s.Type))
		}
		return dst, fmt.Errorf("The record's value does not match its %s schema; check value.converter and what the producer writes.", connectjson.TypeName(s.Type))
	}
	switch x := v.(type) {
	case *sink.StructValue:
		if !f.json {
			return dst, fmt.Errorf("Invalid Kusto table mapping, Kafka records of type Avro and JSON can only be ingested to Kusto table having Avro or JSON mapping. Currently, it is of type %s. Set 'format':'json' for the topic in kusto.tables.topics.mapping.", f.fileID)
		}
		return appendLine(appendConnectJSON(dst, x.Schema, x))
	case string:
		return append(append(dst, x...), '\n'), nil
	case []byte:
		return append(append(dst, x...), '\n'), nil
	case sink.RawJSON:
		return append(append(dst, x...), '\n'), nil
	case map[string]any:
		return appendLine(connectjson.AppendJavaMap(dst, nil, x, jsonOptions))
	case []any:
		return appendLine(appendConnectJSON(dst, nil, x))
	case int64:
		return append(strconv.AppendInt(dst, x, 10), '\n'), nil
	case float64:
		return append(connectjson.AppendJavaFloat(dst, x, 64), '\n'), nil
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

// appendConnectJSON renders a value as Connect's JsonConverter does with schemas disabled
// (struct fields in schema order, bytes and decimals as base64, Date as days, Time as
// milliseconds of the day, Timestamp as epoch milliseconds, maps with non-string keys as arrays
// of [key, value] pairs). A nil schema means the value is schemaless: Jackson writes it.
func appendConnectJSON(dst []byte, s *sink.Schema, v any) ([]byte, error) {
	return connectjson.AppendValue(dst, s, v, jsonOptions)
}
