package task

import (
	"container/list"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/connectjson"
)

// JsonConverter settings (Java's JsonConverterConfig).
const (
	jsonSchemasEnableConfig          = "schemas.enable"
	jsonSchemasCacheSizeConfig       = "schemas.cache.size"
	jsonDecimalFormatConfig          = "decimal.format"
	jsonReplaceNullWithDefaultConfig = "replace.null.with.default"
)

func jsonConverterConfigDef() *sink.ConfigDef {
	// converter.type first, as Java's ConverterConfig.newConfigDef declares it.
	return sink.NewConfigDef().
		Define(converterTypeKey()).
		Define(sink.ConfigKey{Name: jsonSchemasEnableConfig, Type: sink.TypeBoolean, Default: true, Importance: sink.High,
			Doc: "Include schemas within each of the serialized values and keys.", Group: "Schemas", OrderInGroup: 1,
			Width: sink.WidthMedium, DisplayName: "Enable Schemas"}).
		Define(sink.ConfigKey{Name: jsonSchemasCacheSizeConfig, Type: sink.TypeInt, Default: int32(1000), Importance: sink.High,
			Doc: "The maximum number of schemas that can be cached in this converter instance.", Group: "Schemas", OrderInGroup: 2,
			Width: sink.WidthMedium, DisplayName: "Schema Cache Size"}).
		Define(sink.ConfigKey{Name: jsonDecimalFormatConfig, Type: sink.TypeString, Default: "BASE64",
			Validator: sink.OneOfIgnoringCase("BASE64", "NUMERIC"), Importance: sink.Low,
			Doc:   "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
			Group: "Serialization", OrderInGroup: 1, Width: sink.WidthMedium, DisplayName: "Decimal Format"}).
		Define(sink.ConfigKey{Name: jsonReplaceNullWithDefaultConfig, Type: sink.TypeBoolean, Default: true, Importance: sink.Low,
			Doc:   "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
			Group: "Serialization", OrderInGroup: 2, Width: sink.WidthMedium, DisplayName: "Replace null with default"})
}

// The JsonConverter's messages, exactly as Java's.
const (
	envelopeMessage = `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields.` +
		` If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`
	deserializeFailed = "Converting byte[] to Kafka Connect data failed due to serialization error: "
	serializeFailed   = "Converting Kafka Connect data to byte[] failed due to serialization error: "
)

// JSONConverter is org.apache.kafka.connect.json.JsonConverter, usable for keys, values and
// headers. With schemas.enable=true it reads and writes {"schema": ..., "payload": ...} envelopes;
// with schemas.enable=false it reads any JSON without a schema: objects and arrays are returned
// as [sink.RawJSON] (the bytes, after a validity check), scalars as string, int64, float64, bool
// or nil.
//
// It is safe for concurrent use.
type JSONConverter struct {
	schemasEnabled  bool
	numericDecimals bool
	replaceNull     bool

	toConnect   *schemaCache[string, *sink.Schema] // schema JSON text → schema
	fromConnect *schemaCache[*sink.Schema, []byte] // schema → schema JSON text
}

func newJSONConverter(cfg *sink.Config) (*JSONConverter, error) {
	size := max(cfg.Int(jsonSchemasCacheSizeConfig), 0)
	return &JSONConverter{
		schemasEnabled:  cfg.Bool(jsonSchemasEnableConfig),
		numericDecimals: strings.EqualFold(cfg.String(jsonDecimalFormatConfig), "NUMERIC"),
		replaceNull:     cfg.Bool(jsonReplaceNullWithDefaultConfig),
		toConnect:       newSchemaCache[string, *sink.Schema](size),
		fromConnect:     newSchemaCache[*sink.Schema, []byte](size),
	}, nil
}

// ToConnectData converts JSON bytes into Connect data (see [JSONConverter]).
func (c *JSONConverter) ToConnectData(_ string, data []byte) (*sink.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	if !c.schemasEnabled {
		first, doc, err := validJSON(data)
		if err != nil {
			return nil, nil, deserializeError(err)
		}
		v, err := c.schemaless(first, doc)
		return nil, v, dataError(err)
	}
	env, err := scanEnvelope(data)
	if err != nil {
		return nil, nil, deserializeError(err)
	}
	if !env.ok {
		return nil, nil, dataErrorf("%s", envelopeMessage)
	}
	schema, err := c.schemaFor(env.schema)
	if err != nil {
		return nil, nil, dataError(err)
	}
	if schema == nil {
		first := byte(0)
		if len(env.payload) > 0 {
			first = env.payload[0]
		}
		v, err := c.schemaless(first, env.payload)
		return nil, v, dataError(err)
	}
	payload, err := parseJSON(env.payload)
	if err != nil {
		return nil, nil, deserializeError(err)
	}
	v, err := c.toConnectValue(schema, &payload)
	if err != nil {
		return nil, nil, dataError(err)
	}
	return schema, v, nil
}

// ToConnectHeader is ToConnectData for a header value.
func (c *JSONConverter) ToConnectHeader(topic, _ string, data []byte) (*sink.Schema, any, error) {
	return c.ToConnectData(topic, data)
}

func deserializeError(err error) error {
	return &sink.DataError{Err: fmt.Errorf("%s%w", deserializeFailed, err)}
}

// schemaless converts one valid JSON document without a schema; first is its first byte (0 for
// no content, which Jackson reads as a missing node: null).
func (c *JSONConverter) schemaless(first byte, doc []byte) (any, error) {
	switch first {
	case 0:
		return nil, nil
	case '{', '[':
		return sink.RawJSON(doc), nil
	}
	n, err := parseJSON(doc)
	if err != nil {
		return nil, err
	}
	return schemalessScalar(&n)
}

func schemalessScalar(n *jnode) (any, error) {
	switch n.kind {
	case jNull, jMissing:
		return nil, nil
	case jBoolean:
		return n.b, nil
	case jString:
		return n.str, nil
	case jNumber:
		if n.isIntegral() {
			v, err := parseInt64(n.raw)
			if err != nil {
				return nil, fmt.Errorf("Numeric value (%s) out of range of long", n.raw)
			}
			return v, nil
		}
		f, _ := strconv.ParseFloat(string(n.raw), 64) // syntax already checked; range gives ±Inf as Java does
		return f, nil
	case jObject, jArray:
		return sink.RawJSON(n.raw), nil
	}
	return nil, fmt.Errorf("Unknown schema type: %s", n.kind)
}

// envelope holds the raw schema and payload of a schemas.enable=true document.
type envelope struct {
	ok              bool // an object with exactly the fields "schema" and "payload"
	schema, payload []byte
}

// scanEnvelope checks the whole document is valid JSON and finds the envelope fields without
// building the payload, so the schema can be looked up in the cache by its text first.
func scanEnvelope(b []byte) (envelope, error) {
	p := jparser{b: b}
	p.ws()
	if p.i == len(b) {
		return envelope{}, nil // no content: a missing node, not an object
	}
	if b[p.i] != '{' {
		if err := p.value(nil); err != nil {
			return envelope{}, err
		}
		p.ws()
		if p.i != len(b) {
			return envelope{}, p.errorf("unexpected character %q after the JSON value", b[p.i])
		}
		return envelope{}, nil
	}
	var env envelope
	var keys []string
	p.i++
	p.depth++
	p.ws()
	if p.i < len(b) && b[p.i] == '}' {
		p.i++
	} else {
		for {
			p.ws()
			if p.i >= len(b) || b[p.i] != '"' {
				return envelope{}, p.errorf("expected a field name")
			}
			p.build = true
			key, err := p.str()
			p.build = false
			if err != nil {
				return envelope{}, err
			}
			p.ws()
			if p.i >= len(b) || b[p.i] != ':' {
				return envelope{}, p.errorf("expected ':' after a field name")
			}
			p.i++
			p.ws()
			start := p.i
			if err := p.value(nil); err != nil {
				return envelope{}, err
			}
			switch key {
			case "schema":
				env.schema = b[start:p.i]
			case "payload":
				env.payload = b[start:p.i]
			}
			if !containsString(keys, key) {
				keys = append(keys, key)
			}
			p.ws()
			if p.i >= len(b) {
				return envelope{}, p.errorf("unexpected end of input in an object")
			}
			if b[p.i] == ',' {
				p.i++
				continue
			}
			if b[p.i] == '}' {
				p.i++
				break
			}
			return envelope{}, p.errorf("unexpected character %q: expected ',' or '}'", b[p.i])
		}
	}
	p.ws()
	if p.i != len(b) {
		return envelope{}, p.errorf("unexpected character %q after the JSON value", b[p.i])
	}
	env.ok = len(keys) == 2 && env.schema != nil && env.payload != nil
	return env, nil
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// schemaFor returns the schema the envelope's schema JSON describes, from the cache when the
// same text was seen before.
func (c *JSONConverter) schemaFor(raw []byte) (*sink.Schema, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	if s, ok := getByBytes(c.toConnect, raw); ok {
		return s, nil
	}
	n, err := parseJSON(raw)
	if err != nil {
		return nil, err
	}
	s, err := c.toConnectSchema(&n)
	if err != nil {
		return nil, err
	}
	c.toConnect.put(string(raw), s)
	return s, nil
}

var schemaTypes = map[string]sink.Type{
	"boolean": sink.Boolean, "int8": sink.Int8, "int16": sink.Int16, "int32": sink.Int32, "int64": sink.Int64,
	"float": sink.Float32, "double": sink.Float64, "bytes": sink.Bytes, "string": sink.String,
	"array": sink.Array, "map": sink.Map, "struct": sink.Struct,
}

// toConnectSchema is Java's JsonConverter.asConnectSchema.
func (c *JSONConverter) toConnectSchema(n *jnode) (*sink.Schema, error) {
	if n.isNull() {
		return nil, nil
	}
	typeNode := n.get("type")
	if typeNode.kind != jString {
		return nil, errors.New("Schema must contain 'type' field")
	}
	t, ok := schemaTypes[typeNode.str]
	if !ok {
		return nil, fmt.Errorf("Unknown schema type: %s", typeNode.str)
	}
	s := &sink.Schema{Type: t}
	switch t {
	case sink.Array:
		items := n.get("items")
		if items.isNull() {
			return nil, errors.New("Array schema did not specify the element type")
		}
		var err error
		if s.ItemsSchema, err = c.toConnectSchema(items); err != nil {
			return nil, err
		}
	case sink.Map:
		keys, values := n.get("keys"), n.get("values")
		if keys.isNull() {
			return nil, errors.New("Map schema did not specify the key type")
		}
		if values.isNull() {
			return nil, errors.New("Map schema did not specify the value type")
		}
		var err error
		if s.KeySchema, err = c.toConnectSchema(keys); err != nil {
			return nil, err
		}
		if s.ValueSchema, err = c.toConnectSchema(values); err != nil {
			return nil, err
		}
	case sink.Struct:
		fields := n.get("fields")
		if fields.kind != jArray {
			return nil, errors.New(`Struct schema's "fields" argument is not an array.`)
		}
		for i := range fields.elems {
			f := &fields.elems[i]
			name := f.get("field")
			if name.kind != jString {
				return nil, errors.New("Struct schema's field name not specified properly")
			}
			if s.Field(name.str) != nil {
				return nil, fmt.Errorf("Cannot create field because of field name duplication %s", name.str)
			}
			fs, err := c.toConnectSchema(f)
			if err != nil {
				return nil, err
			}
			if fs == nil {
				return nil, fmt.Errorf("fieldSchema for field %s cannot be null.", name.str)
			}
			s.Fields = append(s.Fields, sink.Field{Name: name.str, Index: len(s.Fields), Schema: fs})
		}
	}
	if opt := n.get("optional"); opt.kind == jBoolean && opt.b {
		s.Optional = true
	}
	if name := n.get("name"); name.kind == jString {
		s.Name = name.str
	}
	if v := n.get("version"); v.isIntegral() {
		if n, err := parseInt64(v.raw); err == nil {
			s.Version = int(int32(n)) // Jackson's intValue
		}
	}
	if doc := n.get("doc"); doc.kind == jString {
		s.Doc = doc.str
	}
	if params := n.get("parameters"); params.kind == jObject {
		s.Parameters = make(map[string]string, len(params.fields))
		for _, f := range params.fields {
			if f.val.kind != jString {
				return nil, errors.New("Schema parameters must have string values.")
			}
			s.Parameters[f.key] = f.val.str
		}
	}
	if def := n.get("default"); def.kind != jMissing {
		v, err := c.toConnectValue(s, def)
		if err != nil {
			return nil, err
		}
		s.Default = v
	}
	return s, nil
}

// toConnectValue is Java's JsonConverter.convertToConnect for a non-null schema.
func (c *JSONConverter) toConnectValue(s *sink.Schema, n *jnode) (any, error) {
	if n.isNull() {
		if s.Default != nil && c.replaceNull {
			return s.Default, nil
		}
		if s.Optional {
			return nil, nil
		}
		return nil, fmt.Errorf("Invalid null value for required %s field", connectjson.TypeName(s.Type))
	}
	switch s.Name {
	case sink.DecimalSchemaName:
		return decimalToConnect(s, n)
	case sink.DateSchemaName:
		if !isInt32Node(n) {
			return nil, fmt.Errorf("Invalid type for Date, underlying representation should be integer but was %s", n.kind)
		}
		days, _ := parseInt64(n.raw)
		return time.UnixMilli(days * millisPerDay).UTC(), nil
	case sink.TimeSchemaName:
		if !isInt32Node(n) {
			return nil, fmt.Errorf("Invalid type for Time, underlying representation should be integer but was %s", n.kind)
		}
		ms, _ := parseInt64(n.raw)
		if ms < 0 || ms > millisPerDay {
			return nil, errors.New("Time values must use number of milliseconds greater than 0 and less than 86400000")
		}
		return time.UnixMilli(ms).UTC(), nil
	case sink.TimestampSchemaName:
		if !n.isIntegral() {
			return nil, fmt.Errorf("Invalid type for Timestamp, underlying representation should be integral but was %s", n.kind)
		}
		ms, err := parseInt64(n.raw)
		if err != nil {
			return nil, fmt.Errorf("Numeric value (%s) out of range of long", n.raw)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	switch s.Type {
	case sink.Boolean:
		if n.kind != jBoolean {
			return nil, wrongNode(s.Type, "a JSON boolean", n)
		}
		return n.b, nil
	case sink.Int8, sink.Int16, sink.Int32, sink.Int64:
		return intToConnect(s.Type, n)
	case sink.Float32:
		if n.kind != jNumber {
			return nil, wrongNode(s.Type, "a JSON number", n)
		}
		f, _ := strconv.ParseFloat(string(n.raw), 32)
		return float32(f), nil
	case sink.Float64:
		if n.kind != jNumber {
			return nil, wrongNode(s.Type, "a JSON number", n)
		}
		f, _ := strconv.ParseFloat(string(n.raw), 64)
		return f, nil
	case sink.String:
		if n.kind != jString {
			return nil, wrongNode(s.Type, "a JSON string", n)
		}
		return n.str, nil
	case sink.Bytes:
		if n.kind != jString {
			return nil, wrongNode(s.Type, "a base64 JSON string", n)
		}
		b, err := base64.StdEncoding.DecodeString(n.str)
		if err != nil {
			return nil, fmt.Errorf("Invalid bytes field: %w", err)
		}
		return b, nil
	case sink.Array:
		if n.kind != jArray {
			return nil, wrongNode(s.Type, "a JSON array", n)
		}
		out := make([]any, len(n.elems))
		for i := range n.elems {
			v, err := c.toConnectValue(s.ItemsSchema, &n.elems[i])
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case sink.Map:
		return c.mapToConnect(s, n)
	case sink.Struct:
		if n.kind != jObject {
			return nil, fmt.Errorf("Structs should be encoded as JSON objects, but found %s", n.kind)
		}
		st := sink.NewStruct(s)
		for _, f := range s.Fields {
			v, err := c.toConnectValue(f.Schema, n.get(f.Name))
			if err != nil {
				return nil, err
			}
			st.Values[f.Index] = v
		}
		return st, nil
	}
	return nil, fmt.Errorf("Unknown schema type: %s", s.Type)
}

func (c *JSONConverter) mapToConnect(s *sink.Schema, n *jnode) (any, error) {
	if s.KeySchema.Type == sink.String {
		if n.kind != jObject {
			return nil, fmt.Errorf("Maps with string fields should be encoded as JSON objects, but found %s", n.kind)
		}
		out := make(map[string]any, len(n.fields))
		for i := range n.fields {
			v, err := c.toConnectValue(s.ValueSchema, &n.fields[i].val)
			if err != nil {
				return nil, err
			}
			out[n.fields[i].key] = v
		}
		return out, nil
	}
	if n.kind != jArray {
		return nil, fmt.Errorf("Maps with non-string fields should be encoded as JSON array of tuples, but found %s", n.kind)
	}
	out := make([]sink.MapEntry, 0, len(n.elems))
	for i := range n.elems {
		e := &n.elems[i]
		if e.kind != jArray {
			return nil, fmt.Errorf("Found invalid map entry instead of array tuple: %s", e.kind)
		}
		if len(e.elems) != 2 {
			return nil, fmt.Errorf("Found invalid map entry, expected length 2 but found :%d", len(e.elems))
		}
		k, err := c.toConnectValue(s.KeySchema, &e.elems[0])
		if err != nil {
			return nil, err
		}
		v, err := c.toConnectValue(s.ValueSchema, &e.elems[1])
		if err != nil {
			return nil, err
		}
		out = append(out, sink.MapEntry{Key: k, Value: v})
	}
	return out, nil
}

const millisPerDay = 24 * 60 * 60 * 1000

func wrongNode(t sink.Type, want string, n *jnode) error {
	return fmt.Errorf("Invalid value for %s field: expected %s but found %s", connectjson.TypeName(t), want, n.kind)
}

// isInt32Node is Jackson's isInt: an integral number within the int range.
func isInt32Node(n *jnode) bool {
	if !n.isIntegral() {
		return false
	}
	v, err := parseInt64(n.raw)
	return err == nil && v >= math.MinInt32 && v <= math.MaxInt32
}

// intToConnect reads an integer of the schema's width. Unlike Java, which truncates and wraps
// silently, a fraction or an out-of-range value is an error; numbers written with a zero
// fraction or an exponent (1.0, 1e3) are accepted when their value is a whole number.
func intToConnect(t sink.Type, n *jnode) (any, error) {
	if n.kind != jNumber {
		return nil, wrongNode(t, "a JSON number", n)
	}
	v, err := parseInt64(n.raw)
	if err != nil {
		unscaled, scale, ok := parseDecimalText(string(n.raw))
		i, exact := integralValue(unscaled, scale)
		if !ok || !exact || !i.IsInt64() {
			return nil, fmt.Errorf("Numeric value (%s) is not a whole number in the range of %s", n.raw, connectjson.TypeName(t))
		}
		v = i.Int64()
	}
	switch t {
	case sink.Int8:
		if v >= math.MinInt8 && v <= math.MaxInt8 {
			return int8(v), nil
		}
	case sink.Int16:
		if v >= math.MinInt16 && v <= math.MaxInt16 {
			return int16(v), nil
		}
	case sink.Int32:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return int32(v), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("Numeric value (%s) is not a whole number in the range of %s", n.raw, connectjson.TypeName(t))
}

func decimalToConnect(s *sink.Schema, n *jnode) (any, error) {
	switch n.kind {
	case jNumber:
		// The number keeps its own scale, as Jackson's exact BigDecimal does.
		u, scale, ok := parseDecimalText(string(n.raw))
		if !ok {
			return nil, fmt.Errorf("Invalid number for Decimal field: %s", n.raw)
		}
		return sink.Decimal{Unscaled: u, Scale: scale}, nil
	case jString:
		scale, err := connectjson.DecimalScale(s)
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(n.str)
		if err != nil || len(b) == 0 {
			return nil, errors.New("Invalid bytes for Decimal field")
		}
		return sink.Decimal{Unscaled: fromTwosComplement(b), Scale: scale}, nil
	}
	return nil, fmt.Errorf("Invalid type for Decimal, underlying representation should be numeric or bytes but was %s", n.kind)
}

// fromTwosComplement reads a big-endian two's-complement integer, as Java's BigInteger(byte[]).
func fromTwosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return v
}

// schemaCache is a small LRU map, safe for concurrent use. A size of 0 disables caching.
type schemaCache[K comparable, V any] struct {
	mu    sync.Mutex
	size  int
	order *list.List // of entry[K, V], most recent first
	items map[K]*list.Element
}

type cacheEntry[K comparable, V any] struct {
	key K
	val V
}

func newSchemaCache[K comparable, V any](size int) *schemaCache[K, V] {
	return &schemaCache[K, V]{size: size, order: list.New(), items: map[K]*list.Element{}}
}

func (c *schemaCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(cacheEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// getByBytes looks a string-keyed cache up by bytes without converting them to a string.
func getByBytes[V any](c *schemaCache[string, V], raw []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[string(raw)]; ok {
		c.order.MoveToFront(e)
		return e.Value.(cacheEntry[string, V]).val, true
	}
	var zero V
	return zero, false
}

func (c *schemaCache[K, V]) put(k K, v V) {
	if c.size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value = cacheEntry[K, V]{k, v}
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(cacheEntry[K, V]{k, v})
	if c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(cacheEntry[K, V]).key)
	}
}
