package ingest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"math/big"
	"strings"
	"sync"

	"github.com/golang/snappy"
	"github.com/linkedin/goavro/v2"
	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// avro and apacheavro are both Avro object container files with the codecs null, deflate and
// snappy (Kusto's legacy avro reader lacks snappy; the emulator reads it under both names). The
// container (header, blocks, sync markers, compression) is read here, with every length checked
// against the data actually present; each record is then checked against the schema
// (avroChecker) before goavro decodes it, because goavro sizes arrays and maps from the counts
// in the data and recurses as deep as the data nests.
//
// goavro's native values are normalised before mapping: unions ({"type": value}) are unwrapped
// using the schema, decimals (*big.Rat) become decimal.Decimal; records and maps stay
// map[string]any, arrays []any, bytes and fixed []byte, timestamp-millis/micros and date
// time.Time, time-millis/micros time.Duration.

// goavroSchemas guards goavro's package-level cache of validated-string patterns, which
// compiling a schema writes and decoding reads without a lock of its own: compiling holds it
// exclusively, decoding shared.
var goavroSchemas sync.RWMutex

var avroMagic = []byte("Obj\x01")

const (
	avroSyncLength = 16
	// maxAvroDepth bounds how deep a schema or a value may nest.
	maxAvroDepth = 256
	// maxZeroWidthItems bounds, per payload, the array items that take no bytes (null, empty
	// records), which the data could otherwise declare by the billion.
	maxZeroWidthItems = 1 << 16
)

func avroError(format string, args ...any) *model.Error {
	return model.BadRequest(CodeInvalidBlob, "The Avro payload is invalid: "+format+".", args...)
}

func (p *Plan) avroRows(data []byte, b *rowBuilder) (err error) {
	if len(data) == 0 {
		return nil
	}
	if !bytes.HasPrefix(data, avroMagic) {
		return avroError("it is not an Avro object container file (the magic bytes Obj\\x01 are missing)")
	}
	// goavro is a third-party decoder fed with user data; a panic in it must fail this payload,
	// not the emulator.
	defer func() {
		if r := recover(); r != nil {
			err = avroError("the decoder failed: %v", r)
		}
	}()
	h, rest, err := readAvroHeader(data[len(avroMagic):])
	if err != nil {
		return err
	}
	codec, err := compileAvroSchema(h.schema)
	if err != nil {
		return avroError("the schema is not valid: %v", err)
	}
	schema := parseAvroSchema(h.schema)
	if schema == nil {
		return avroError("the schema nests deeper than %d levels or names a type it does not define", maxAvroDepth)
	}

	goavroSchemas.RLock()
	defer goavroSchemas.RUnlock()
	budget := p.maxExpansion
	var check avroChecker
	record := 0
	for block := 1; len(rest) > 0; block++ {
		var count int64
		var raw []byte
		count, raw, rest, err = readAvroBlock(h, rest, block, &budget, p.maxExpansion)
		if err != nil {
			return err
		}
		for range count {
			record++
			if _, err := check.value(schema, raw, 0); err != nil {
				return avroError("record %d (block %d) does not match the schema: %v", record, block, err)
			}
			var datum any
			if datum, raw, err = codec.NativeFromBinary(raw); err != nil {
				return avroError("cannot decode record %d (block %d): %v", record, block, err)
			}
			p.addRecord(b, normalizeAvro(datum, schema), record)
		}
		if len(raw) != 0 {
			return avroError("block %d has %d bytes after its last record", block, len(raw))
		}
	}
	return nil
}

func compileAvroSchema(schema string) (*goavro.Codec, error) {
	goavroSchemas.Lock()
	defer goavroSchemas.Unlock()
	return goavro.NewCodec(schema)
}

type avroHeader struct {
	schema string
	codec  string
	sync   []byte
}

// readAvroHeader reads the metadata map and the sync marker that follow the magic bytes.
func readAvroHeader(r []byte) (avroHeader, []byte, error) {
	meta := map[string][]byte{}
	for {
		count, n := avroLong(r)
		if n == 0 {
			return avroHeader{}, nil, avroError("the header metadata is corrupt")
		}
		r = r[n:]
		if count == 0 {
			break
		}
		if count < 0 { // a negative count is followed by the block's size in bytes
			if count == math.MinInt64 {
				return avroHeader{}, nil, avroError("the header metadata is corrupt")
			}
			count = -count
			if _, n = avroLong(r); n == 0 {
				return avroHeader{}, nil, avroError("the header metadata is corrupt")
			}
			r = r[n:]
		}
		if count > int64(len(r))/2 {
			return avroHeader{}, nil, avroError("the header declares %d metadata entries in %d bytes", count, len(r))
		}
		for range count {
			key, rest, ok := avroBytes(r)
			if !ok {
				return avroHeader{}, nil, avroError("the header metadata is truncated")
			}
			value, rest, ok := avroBytes(rest)
			if !ok {
				return avroHeader{}, nil, avroError("the header metadata value of %q is truncated", key)
			}
			meta[string(key)], r = value, rest
		}
	}
	if len(r) < avroSyncLength {
		return avroHeader{}, nil, avroError("the header has no sync marker")
	}
	h := avroHeader{codec: string(meta["avro.codec"]), sync: r[:avroSyncLength]}
	schema, ok := meta["avro.schema"]
	if !ok {
		return avroHeader{}, nil, avroError("the header has no avro.schema")
	}
	h.schema = string(schema)
	switch h.codec {
	case "":
		h.codec = "null"
	case "null", "deflate", "snappy":
	default:
		return avroHeader{}, nil, avroError("the compression codec %q is not supported (null, deflate and snappy are)", h.codec)
	}
	return h, r[avroSyncLength:], nil
}

// readAvroBlock reads one block (record count, size, data, sync marker) and decompresses it,
// drawing the decompressed size from budget.
func readAvroBlock(h avroHeader, r []byte, block int, budget *int64, limit int64) (count int64, raw, rest []byte, err error) {
	count, n1 := avroLong(r)
	size, n2 := avroLong(r[n1:])
	if n1 == 0 || n2 == 0 {
		return 0, nil, nil, avroError("block %d has a corrupt header", block)
	}
	r = r[n1+n2:]
	if count <= 0 || size <= 0 || size > int64(len(r)-avroSyncLength) {
		return 0, nil, nil, avroError("block %d declares %d records in %d bytes, but %d bytes remain", block, count, size, len(r))
	}
	body, marker := r[:size], r[size:size+avroSyncLength]
	if !bytes.Equal(marker, h.sync) {
		return 0, nil, nil, avroError("the sync marker after block %d does not match the header's", block)
	}
	switch h.codec {
	case "deflate":
		raw, err = readLimited(flate.NewReader(bytes.NewReader(body)), *budget, size*4)
	case "snappy":
		raw, err = unsnappy(body, *budget)
	default:
		raw = body
	}
	switch {
	case errors.Is(err, errTooLarge):
		return 0, nil, nil, model.BadRequest(CodeInputStreamTooLarge,
			"The Avro blocks expand to more than %d bytes, the most this emulator ingests from one payload.", limit)
	case err != nil:
		return 0, nil, nil, avroError("block %d cannot be decompressed (%s): %v", block, h.codec, err)
	}
	if h.codec != "null" {
		*budget -= int64(len(raw))
	}
	// Every record takes at least one byte except of schemas with no data at all; bounding the
	// count by the size keeps a forged count from producing billions of rows.
	if count > int64(len(raw)) {
		return 0, nil, nil, avroError("block %d declares %d records in %d bytes of data", block, count, len(raw))
	}
	return count, raw, r[size+avroSyncLength:], nil
}

// unsnappy decompresses a snappy block, which ends with the CRC-32 of the decompressed data.
func unsnappy(body []byte, budget int64) ([]byte, error) {
	if len(body) < 4 {
		return nil, errors.New("the block is too short for its checksum")
	}
	data, sum := body[:len(body)-4], binary.BigEndian.Uint32(body[len(body)-4:])
	n, err := snappy.DecodedLen(data)
	if err != nil {
		return nil, err
	}
	// No snappy element expands more than 32-fold: a larger claim is corrupt, and must not
	// size the allocation Decode makes before it reads the data.
	if int64(n) > 32*int64(len(data))+32 {
		return nil, errors.New("the block claims a decompressed size its data cannot have")
	}
	if int64(n) > budget {
		return nil, errTooLarge
	}
	out, err := snappy.Decode(nil, data)
	if err != nil {
		return nil, err
	}
	if crc32.ChecksumIEEE(out) != sum {
		return nil, errors.New("the checksum does not match")
	}
	return out, nil
}

// avroLong decodes a zig-zag varint long; n is 0 when b does not hold one.
func avroLong(b []byte) (v int64, n int) {
	var u uint64
	for i := 0; i < len(b) && i < 10; i++ {
		u |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return int64(u>>1) ^ -int64(u&1), i + 1
		}
	}
	return 0, 0
}

// avroBytes decodes length-prefixed bytes.
func avroBytes(b []byte) (v, rest []byte, ok bool) {
	size, n := avroLong(b)
	if n == 0 || size < 0 || size > int64(len(b)-n) {
		return nil, nil, false
	}
	return b[n : n+int(size)], b[n+int(size):], true
}

// avroNode is an Avro schema, as far as checking and normalising values needs it.
type avroNode struct {
	kind   string   // record, enum, fixed, array, map, union, or a primitive type name
	keys   []string // the names goavro wraps a value of this type in when it is a union member
	fields []avroField
	byName map[string]*avroNode
	items  *avroNode // array items, map values
	union  []*avroNode
	size   int  // fixed
	zw     int8 // zeroWidth, once known: 1 yes, 2 no, 3 being computed
}

type avroField struct {
	name string
	node *avroNode
}

func (n *avroNode) member(key string) *avroNode {
	for _, m := range n.union {
		for _, k := range m.keys {
			if k == key {
				return m
			}
		}
	}
	return nil
}

var avroPrimitives = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true, "bytes": true, "string": true,
}

// parseAvroSchema parses a schema goavro accepted; nil when it nests too deep or a name does not
// resolve.
func parseAvroSchema(text string) *avroNode {
	var doc any
	if json.Unmarshal([]byte(text), &doc) != nil {
		return nil
	}
	s := schemaParser{named: map[string]*avroNode{}}
	n := s.parse(doc, "", 0)
	if s.failed {
		return nil
	}
	return n
}

type schemaParser struct {
	named  map[string]*avroNode
	failed bool
}

func (s *schemaParser) parse(v any, ns string, depth int) *avroNode {
	if depth > maxAvroDepth {
		s.failed = true
		return nil
	}
	switch x := v.(type) {
	case string:
		if avroPrimitives[x] {
			return &avroNode{kind: x, keys: []string{x}}
		}
		if n, ok := s.named[qualify(x, ns)]; ok {
			return n
		}
		if n, ok := s.named[x]; ok {
			return n
		}
	case []any:
		n := &avroNode{kind: "union"}
		for _, m := range x {
			n.union = append(n.union, s.parse(m, ns, depth+1))
		}
		return n
	case map[string]any:
		return s.parseObject(x, ns, depth)
	}
	s.failed = true
	return nil
}

func (s *schemaParser) parseObject(x map[string]any, ns string, depth int) *avroNode {
	t, ok := x["type"].(string)
	if !ok {
		return s.parse(x["type"], ns, depth+1)
	}
	switch t {
	case "record", "error":
		name, inner := s.name(x, ns)
		n := &avroNode{kind: "record", keys: []string{name}, byName: map[string]*avroNode{}}
		s.named[name] = n
		fields, _ := x["fields"].([]any)
		for _, f := range fields {
			fm, _ := f.(map[string]any)
			fname, _ := fm["name"].(string)
			child := s.parse(fm["type"], inner, depth+1)
			n.fields = append(n.fields, avroField{fname, child})
			n.byName[fname] = child
		}
		return n
	case "enum", "fixed":
		name, _ := s.name(x, ns)
		n := &avroNode{kind: t, keys: []string{name}}
		if size, ok := x["size"].(float64); ok {
			n.size = int(size)
		}
		s.named[name] = n
		return n
	case "array":
		return &avroNode{kind: t, keys: []string{t}, items: s.parse(x["items"], ns, depth+1)}
	case "map":
		return &avroNode{kind: t, keys: []string{t}, items: s.parse(x["values"], ns, depth+1)}
	}
	if !avroPrimitives[t] {
		return s.parse(t, ns, depth+1) // {"type": "some.Named"}
	}
	n := &avroNode{kind: t, keys: []string{t}}
	if lt, ok := x["logicalType"].(string); ok {
		n.keys = append(n.keys, t+"."+lt)
	}
	return n
}

// name returns a named type's full name and the namespace its children inherit.
func (s *schemaParser) name(x map[string]any, ns string) (full, inner string) {
	name, _ := x["name"].(string)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name, name[:i]
	}
	if explicit, ok := x["namespace"].(string); ok {
		ns = explicit
	}
	return qualify(name, ns), ns
}

func qualify(name, ns string) string {
	if ns == "" || strings.Contains(name, ".") {
		return name
	}
	return ns + "." + name
}

var errShortValue = errors.New("the data ends inside a value")

// avroChecker walks values of a schema in the data before goavro decodes them: every length and
// count must fit in the data, nesting is bounded, and so are items that take no bytes.
type avroChecker struct {
	zeroWidthItems int64
}

// value checks one value of type n at the start of b and returns the bytes after it.
func (c *avroChecker) value(n *avroNode, b []byte, depth int) ([]byte, error) {
	if depth > maxAvroDepth {
		return nil, errors.New("the value nests too deep")
	}
	switch n.kind {
	case "null":
		return b, nil
	case "boolean":
		return skipBytes(b, 1)
	case "float":
		return skipBytes(b, 4)
	case "double":
		return skipBytes(b, 8)
	case "int", "long", "enum":
		if _, k := avroLong(b); k > 0 {
			return b[k:], nil
		}
		return nil, errShortValue
	case "bytes", "string":
		if _, rest, ok := avroBytes(b); ok {
			return rest, nil
		}
		return nil, errShortValue
	case "fixed":
		return skipBytes(b, n.size)
	case "record":
		var err error
		for _, f := range n.fields {
			if b, err = c.value(f.node, b, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case "union":
		i, k := avroLong(b)
		if k == 0 || i < 0 || i >= int64(len(n.union)) {
			return nil, errors.New("a union branch index is out of range")
		}
		return c.value(n.union[i], b[k:], depth+1)
	case "array", "map":
		return c.blocks(n, b, depth)
	}
	return nil, errors.New("the schema has a type the emulator does not know")
}

// blocks checks the blocks of an array or map.
func (c *avroChecker) blocks(n *avroNode, b []byte, depth int) ([]byte, error) {
	zeroWidth := n.kind == "array" && n.items.zeroWidth()
	for {
		count, k := avroLong(b)
		if k == 0 {
			return nil, errShortValue
		}
		b = b[k:]
		if count == 0 {
			return b, nil
		}
		if count < 0 { // a negative count is followed by the block's size in bytes
			if count == math.MinInt64 {
				return nil, errors.New("a block count is out of range")
			}
			count = -count
			if _, k = avroLong(b); k == 0 {
				return nil, errShortValue
			}
			b = b[k:]
		}
		if zeroWidth {
			c.zeroWidthItems += count
		}
		if (zeroWidth && c.zeroWidthItems > maxZeroWidthItems) || (!zeroWidth && count > int64(len(b))) {
			return nil, errors.New("an array or map declares more items than the data holds")
		}
		var err error
		for range count {
			if n.kind == "map" {
				if _, b, err = skipKey(b); err != nil {
					return nil, err
				}
			}
			if b, err = c.value(n.items, b, depth+1); err != nil {
				return nil, err
			}
		}
	}
}

func skipKey(b []byte) ([]byte, []byte, error) {
	key, rest, ok := avroBytes(b)
	if !ok {
		return nil, nil, errShortValue
	}
	return key, rest, nil
}

func skipBytes(b []byte, n int) ([]byte, error) {
	if n < 0 || n > len(b) {
		return nil, errShortValue
	}
	return b[n:], nil
}

// zeroWidth reports whether values of the type take no bytes at all. It is remembered per
// node, and a type met again while it is being computed (a recursive record) counts as taking
// bytes.
func (n *avroNode) zeroWidth() bool {
	switch n.zw {
	case 1:
		return true
	case 2, 3:
		return false
	}
	n.zw = 3
	z := n.kind == "null" || n.kind == "fixed" && n.size == 0
	if n.kind == "record" {
		z = true
		for _, f := range n.fields {
			z = z && f.node.zeroWidth()
		}
	}
	n.zw = 2
	if z {
		n.zw = 1
	}
	return z
}

// normalizeAvro turns a goavro native value into the values model.Convert and the mapping paths
// understand.
func normalizeAvro(v any, n *avroNode) any {
	switch x := v.(type) {
	case map[string]any:
		if n != nil && n.kind == "union" {
			if len(x) == 1 {
				for k, inner := range x {
					if m := n.member(k); m != nil {
						return normalizeAvro(inner, m)
					}
				}
			}
			n = nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			var child *avroNode
			if n != nil && n.kind == "record" {
				child = n.byName[k]
			} else if n != nil && n.kind == "map" {
				child = n.items
			}
			out[k] = normalizeAvro(e, child)
		}
		return out
	case []any:
		var child *avroNode
		if n != nil && n.kind == "array" {
			child = n.items
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeAvro(e, child)
		}
		return out
	case *big.Rat:
		return ratToDecimal(x)
	}
	return v
}

// ratToDecimal converts an Avro decimal exactly: its denominator is a power of ten (reduced),
// so as many digits as the larger power of 2 or 5 in it are enough.
func ratToDecimal(r *big.Rat) decimal.Decimal {
	d := new(big.Int).Set(r.Denom())
	twos := int(d.TrailingZeroBits())
	d.Rsh(d, uint(twos))
	fives := 0
	five, rem := big.NewInt(5), new(big.Int)
	for d.Cmp(big.NewInt(1)) > 0 {
		q := new(big.Int)
		q.QuoRem(d, five, rem)
		if rem.Sign() != 0 {
			break
		}
		d, fives = q, fives+1
	}
	return decimal.NewFromBigRat(r, int32(min(max(twos, fives), 1000)))
}
