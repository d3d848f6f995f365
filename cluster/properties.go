package cluster

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// ParseProperties parses the text of a Java .properties file as java.util.Properties.load
// does: "#" and "!" start comment lines; a key ends at the first unescaped "=", ":" or
// whitespace, and one "=" or ":" (with whitespace around it) separates it from the value; a line
// ending in an odd number of backslashes continues on the next line, whose leading whitespace is
// dropped; \t, \n, \r, \f and \uXXXX are escapes, and a backslash before any other character
// stands for that character. Later duplicates of a key win.
//
// Java reads .properties files as ISO-8859-1; text that is valid UTF-8 is read as UTF-8 here,
// anything else as ISO-8859-1, so both the files Java writes and files edited in UTF-8 work.
func ParseProperties(data []byte) (map[string]string, error) {
	text := decodePropertiesText(data)
	props := map[string]string{}
	lines := logicalLines(text)
	for _, l := range lines {
		key, value, err := splitProperty(l.text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", l.number, err)
		}
		props[key] = value
	}
	return props, nil
}

// LoadProperties reads and parses a .properties file.
func LoadProperties(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading properties: %w", err)
	}
	props, err := ParseProperties(data)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return props, nil
}

func decodePropertiesText(data []byte) string {
	if utf8.Valid(data) {
		return strings.TrimPrefix(string(data), "\uFEFF")
	}
	runes := make([]rune, len(data))
	for i, b := range data {
		runes[i] = rune(b)
	}
	return string(runes)
}

type logicalLine struct {
	number int // the natural line it starts on, 1-based
	text   string
}

func isPropertiesSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// logicalLines splits text into natural lines (terminated by \n, \r or \r\n), drops blank and
// comment lines, and joins continued lines.
func logicalLines(text string) []logicalLine {
	var natural []string
	for len(text) > 0 {
		i := strings.IndexAny(text, "\r\n")
		if i < 0 {
			natural = append(natural, text)
			break
		}
		natural = append(natural, text[:i])
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}

	var out []logicalLine
	for i := 0; i < len(natural); i++ {
		line := strings.TrimLeft(natural[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue // comment lines never continue
		}
		start := i + 1
		var b strings.Builder
		for {
			if !continues(line) {
				b.WriteString(line)
				break
			}
			b.WriteString(line[:len(line)-1])
			if i+1 >= len(natural) {
				break
			}
			i++
			line = strings.TrimLeft(natural[i], " \t\f")
		}
		out = append(out, logicalLine{number: start, text: b.String()})
	}
	return out
}

// continues reports whether line ends in an odd number of backslashes.
func continues(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (key, value string, err error) {
	// The key runs to the first unescaped separator or whitespace.
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++ // skip the escaped character
			continue
		}
		if c == '=' || c == ':' || isPropertiesSpace(c) {
			end = i
			break
		}
	}
	rawKey := line[:end]
	rest := line[end:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	if key, err = unescapeProperty(rawKey); err != nil {
		return "", "", err
	}
	if value, err = unescapeProperty(rest); err != nil {
		return "", "", err
	}
	return key, value, nil
}

var errMalformedUnicode = errors.New("malformed \\uxxxx encoding")

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			if c != '\\' {
				b.WriteByte(c)
			}
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", errMalformedUnicode
			}
			r, ok := hexRune(s[i+1 : i+5])
			if !ok {
				return "", errMalformedUnicode
			}
			i += 4
			// A surrogate pair written as two escapes forms one character, as in Java strings.
			if r >= 0xD800 && r < 0xDC00 && i+7 <= len(s) && strings.HasPrefix(s[i+1:], `\u`) {
				if lo, ok := hexRune(s[i+3 : i+7]); ok && lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				}
			}
			b.WriteRune(r)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

func hexRune(s string) (rune, bool) {
	if len(s) != 4 {
		return 0, false
	}
	var r rune
	for _, h := range []byte(s) {
		var d byte
		switch {
		case h >= '0' && h <= '9':
			d = h - '0'
		case h >= 'a' && h <= 'f':
			d = h - 'a' + 10
		case h >= 'A' && h <= 'F':
			d = h - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
