package task

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jkind is the type of a parsed JSON node, named as Jackson's JsonNodeType (used in messages).
type jkind uint8

const (
	jMissing jkind = iota // no node: an absent field
	jNull
	jBoolean
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	return [...]string{"MISSING", "NULL", "BOOLEAN", "NUMBER", "STRING", "ARRAY", "OBJECT"}[k]
}

// jnode is one parsed JSON value. Numbers keep their text so integers, floats and decimals are
// read exactly; objects and arrays keep their source bytes so schemaless data can pass through.
type jnode struct {
	kind   jkind
	b      bool
	str    string  // string value
	raw    []byte  // source bytes: the number text, or the whole object or array
	elems  []jnode // array elements
	fields []jfield
}

type jfield struct {
	key string
	val jnode
}

var missingNode = jnode{}

// get returns the value of the last field named key (Jackson keeps the last duplicate), or a
// missing node.
func (n *jnode) get(key string) *jnode {
	for i := len(n.fields) - 1; i >= 0; i-- {
		if n.fields[i].key == key {
			return &n.fields[i].val
		}
	}
	return &missingNode
}

// isNull reports whether the node is JSON null or absent.
func (n *jnode) isNull() bool { return n.kind == jNull || n.kind == jMissing }

// isIntegral reports whether a number node is written without fraction or exponent, which is
// how Jackson decides between an integral and a floating-point node.
func (n *jnode) isIntegral() bool {
	if n.kind != jNumber {
		return false
	}
	for _, c := range n.raw {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// maxJSONDepth bounds nesting, as Jackson's StreamReadConstraints do, so hostile input cannot
// exhaust the stack.
const maxJSONDepth = 1000

type jsonSyntaxError struct {
	msg    string
	offset int
}

func (e *jsonSyntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.offset) }

type jparser struct {
	b     []byte
	i     int
	depth int
	build bool // false: validate and find spans only
}

// parseJSON parses one JSON document (surrounding whitespace allowed, nothing else after it).
func parseJSON(b []byte) (jnode, error) {
	p := jparser{b: b, build: true}
	p.ws()
	if p.i == len(b) {
		return jnode{kind: jMissing}, nil // Jackson reads no content as a missing node
	}
	var n jnode
	if err := p.value(&n); err != nil {
		return jnode{}, err
	}
	p.ws()
	if p.i != len(b) {
		return jnode{}, p.errorf("unexpected character %q after the JSON value", b[p.i])
	}
	return n, nil
}

// validJSON checks that b is one JSON document and returns its first non-space byte (0 for no
// content) and the document without surrounding whitespace.
func validJSON(b []byte) (first byte, doc []byte, err error) {
	p := jparser{b: b}
	p.ws()
	if p.i == len(b) {
		return 0, nil, nil
	}
	start := p.i
	if err := p.value(nil); err != nil {
		return 0, nil, err
	}
	end := p.i
	p.ws()
	if p.i != len(b) {
		return 0, nil, p.errorf("unexpected character %q after the JSON value", b[p.i])
	}
	return b[start], b[start:end], nil
}

func (p *jparser) errorf(format string, args ...any) error {
	return &jsonSyntaxError{msg: fmt.Sprintf(format, args...), offset: p.i}
}

func (p *jparser) ws() {
	if p.i < len(p.b) && p.b[p.i] > ' ' {
		return // the common case: no whitespace
	}
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) value(n *jnode) error {
	if p.i >= len(p.b) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(n)
	case c == '[':
		return p.array(n)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		if n != nil {
			n.kind, n.str = jString, s
		}
		return nil
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		if err := p.number(); err != nil {
			return err
		}
		if n != nil {
			n.kind, n.raw = jNumber, p.b[start:p.i]
		}
		return nil
	case c == 't':
		return p.literal("true", n, jBoolean, true)
	case c == 'f':
		return p.literal("false", n, jBoolean, false)
	case c == 'n':
		return p.literal("null", n, jNull, false)
	default:
		return p.errorf("unexpected character %q: expected a JSON value", c)
	}
}

func (p *jparser) literal(word string, n *jnode, kind jkind, b bool) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return p.errorf("unrecognized token: expected %s", word)
	}
	p.i += len(word)
	if n != nil {
		n.kind, n.b = kind, b
	}
	return nil
}

func (p *jparser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.errorf("document nesting depth exceeds the maximum allowed (%d)", maxJSONDepth)
	}
	return nil
}

func (p *jparser) object(n *jnode) error {
	start := p.i
	if err := p.enter(); err != nil {
		return err
	}
	p.i++ // {
	var fields []jfield
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
	} else {
		for {
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return p.errorf("expected a field name")
			}
			key, err := p.str()
			if err != nil {
				return err
			}
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return p.errorf("expected ':' after a field name")
			}
			p.i++
			p.ws()
			if p.build {
				fields = append(fields, jfield{key: key})
				if err := p.value(&fields[len(fields)-1].val); err != nil {
					return err
				}
			} else if err := p.value(nil); err != nil {
				return err
			}
			p.ws()
			if p.i >= len(p.b) {
				return p.errorf("unexpected end of input in an object")
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == '}' {
				p.i++
				break
			}
			return p.errorf("unexpected character %q: expected ',' or '}'", p.b[p.i])
		}
	}
	p.depth--
	if n != nil {
		n.kind, n.fields, n.raw = jObject, fields, p.b[start:p.i]
	}
	return nil
}

func (p *jparser) array(n *jnode) error {
	start := p.i
	if err := p.enter(); err != nil {
		return err
	}
	p.i++ // [
	var elems []jnode
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
	} else {
		for {
			p.ws()
			if p.build {
				elems = append(elems, jnode{})
				if err := p.value(&elems[len(elems)-1]); err != nil {
					return err
				}
			} else if err := p.value(nil); err != nil {
				return err
			}
			p.ws()
			if p.i >= len(p.b) {
				return p.errorf("unexpected end of input in an array")
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == ']' {
				p.i++
				break
			}
			return p.errorf("unexpected character %q: expected ',' or ']'", p.b[p.i])
		}
	}
	p.depth--
	if n != nil {
		n.kind, n.elems, n.raw = jArray, elems, p.b[start:p.i]
	}
	return nil
}

func (p *jparser) number() error {
	b := p.b
	if b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(b) && b[p.i] == '0':
		p.i++
	case p.i < len(b) && b[p.i] >= '1' && b[p.i] <= '9':
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
	default:
		return p.errorf("invalid number")
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		if p.i >= len(b) || b[p.i] < '0' || b[p.i] > '9' {
			return p.errorf("invalid number: expected a digit after '.'")
		}
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		if p.i >= len(b) || b[p.i] < '0' || b[p.i] > '9' {
			return p.errorf("invalid number: expected a digit in the exponent")
		}
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
	}
	return nil
}

// plainStringByte marks the ASCII bytes a JSON string may hold unescaped.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string token; when not building it only validates.
func (p *jparser) str() (string, error) {
	b := p.b
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes; UTF-8 is checked only when a non-ASCII byte was seen.
	ascii := true
	i := p.i
	for i < len(b) {
		c := b[i]
		if plainStringByte[c] {
			i++
			continue
		}
		if c >= 0x80 {
			ascii = false
			i++
			continue
		}
		break
	}
	p.i = i
	if i < len(b) && b[i] == '"' {
		s := b[start:i]
		p.i++
		if !ascii && !utf8.Valid(s) {
			return "", p.errorf("invalid UTF-8 in a string")
		}
		if !p.build {
			return "", nil
		}
		return string(s), nil
	}
	// Slow path with escapes.
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, b[start:p.i]...)
	for p.i < len(b) {
		c := b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(buf) {
				return "", p.errorf("invalid UTF-8 in a string")
			}
			if !p.build {
				return "", nil
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("illegal unquoted control character (code %d) in a string", c)
		case c == '\\':
			p.i++
			if p.i >= len(b) {
				return "", p.errorf("unexpected end of input in a string")
			}
			e := b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if p.i+1 < len(b) && b[p.i] == '\\' && b[p.i+1] == 'u' {
						p.i += 2
						low, err := p.hex4()
						if err != nil {
							return "", err
						}
						r2 = utf16.DecodeRune(r, low)
					}
					r = r2
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", p.errorf("unrecognized character escape %q", e)
			}
		default:
			buf = append(buf, c)
			p.i++
		}
	}
	return "", p.errorf("unexpected end of input in a string")
}

func (p *jparser) hex4() (rune, error) {
	if len(p.b)-p.i < 4 {
		return 0, p.errorf("unexpected end of input in a \\u escape")
	}
	n, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, p.errorf("invalid \\u escape")
	}
	p.i += 4
	return rune(n), nil
}

var errNotInteger = errors.New("not an integer")

// parseInt64 parses an integral number node's text exactly.
func parseInt64(raw []byte) (int64, error) {
	if len(raw) == 0 || len(raw) > 20 {
		return 0, errNotInteger
	}
	neg := raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return 0, errNotInteger
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, errNotInteger
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u), nil
	case neg && u <= 1<<63:
		return -int64(u), nil
	}
	return 0, errNotInteger
}
