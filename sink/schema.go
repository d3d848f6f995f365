package sink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"time"
)

// Type is a Connect schema type. The string values are the lower-case names the JsonConverter
// uses in schema envelopes.
type Type string

// The Connect schema types, and the Go type of a value of each:
//
//	Int8 int8, Int16 int16, Int32 int32, Int64 int64, Float32 float32, Float64 float64,
//	Boolean bool, String string, Bytes []byte, Array []any, Map map[string]any when the key
//	schema is String and []MapEntry otherwise, Struct *StructValue.
//
// Logical types change the Go type: Decimal is a [Decimal]; Date, Time and Timestamp are a
// time.Time in UTC. A nil value is null and is only valid for optional schemas.
const (
	Int8    Type = "int8"
	Int16   Type = "int16"
	Int32   Type = "int32"
	Int64   Type = "int64"
	Float32 Type = "float"
	Float64 Type = "double"
	Boolean Type = "boolean"
	String  Type = "string"
	Bytes   Type = "bytes"
	Array   Type = "array"
	Map     Type = "map"
	Struct  Type = "struct"
)

// Names of Connect's logical types, as carried in [Schema.Name].
const (
	DecimalSchemaName   = "org.apache.kafka.connect.data.Decimal"
	DateSchemaName      = "org.apache.kafka.connect.data.Date"
	TimeSchemaName      = "org.apache.kafka.connect.data.Time"
	TimestampSchemaName = "org.apache.kafka.connect.data.Timestamp"
	// DecimalScaleParameter is the schema parameter holding a Decimal's scale.
	DecimalScaleParameter = "scale"
)

// Schema describes the shape of a key, value or header: Java's org.apache.kafka.connect.data.Schema.
type Schema struct {
	Type       Type
	Optional   bool
	Name       string
	Version    int // 0 when absent
	Doc        string
	Parameters map[string]string
	Default    any // nil when the schema has no default

	Fields      []Field // Struct only, in declaration order
	ItemsSchema *Schema // Array only
	KeySchema   *Schema // Map only
	ValueSchema *Schema // Map only
}

// Field is one field of a struct schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Field returns the field with the given name, or nil.
func (s *Schema) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Predefined schemas the converters return.
var (
	OptionalStringSchema = &Schema{Type: String, Optional: true}
	OptionalBytesSchema  = &Schema{Type: Bytes, Optional: true}
)

// StructValue is a value of a struct schema: one value per field, by field index.
type StructValue struct {
	Schema *Schema
	Values []any
}

// NewStruct returns an empty struct value (all fields null) of the schema.
func NewStruct(s *Schema) *StructValue {
	return &StructValue{Schema: s, Values: make([]any, len(s.Fields))}
}

// Get returns the value of the named field, or nil when the field is null or unknown.
func (s *StructValue) Get(name string) any {
	if f := s.Schema.Field(name); f != nil && f.Index < len(s.Values) {
		return s.Values[f.Index]
	}
	return nil
}

// Put sets the named field; it returns an error for a field the schema does not have.
func (s *StructValue) Put(name string, v any) error {
	f := s.Schema.Field(name)
	if f == nil {
		return fmt.Errorf("%s is not a valid field name", name)
	}
	s.Values[f.Index] = v
	return nil
}

// MapEntry is one entry of a map whose keys are not strings (kept in order).
type MapEntry struct {
	Key   any
	Value any
}

// Decimal is the value of the Decimal logical type: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// String renders the decimal in plain notation, as Java's BigDecimal.toPlainString does.
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "0"
	}
	if d.Scale <= 0 {
		v := new(big.Int).Mul(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil))
		return v.String()
	}
	r := new(big.Rat).SetFrac(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
	return r.FloatString(int(d.Scale))
}

// RawJSON is a schemaless JSON object or array kept as the bytes it arrived in. The JsonConverter
// with schemas.enable=false returns it (after checking the bytes are valid JSON) so sinks that
// write JSON can pass the bytes through instead of decoding and re-encoding every record.
type RawJSON []byte

// Decode parses the JSON into map[string]any / []any values, with numbers as json.Number.
func (j RawJSON) Decode() (any, error) {
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding JSON value: %w", err)
	}
	return v, nil
}

// Epoch is the zero of Connect's Date, Time and Timestamp logical types.
var Epoch = time.Unix(0, 0).UTC()
