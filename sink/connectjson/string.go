package connectjson

import (
	"slices"
	"unicode/utf8"
)

const hexUpper = "0123456789ABCDEF"

// plain marks the ASCII bytes a JSON string holds as they are: all but the control characters,
// '"' and '\\'.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string the way Jackson writes it: '"' and '\\' are escaped,
// control characters use \b \t \n \f \r or \u00XX with upper-case hex (\u001F), and everything
// else, including '/', '<', '>', '&', DEL and non-ASCII text, is written as UTF-8. Invalid UTF-8
// becomes U+FFFD, as it would in a Java string.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendStringMap appends m as a JSON object of strings with its keys sorted, so the bytes are
// deterministic (Java writes its map's iteration order, which readers must not rely on).
func AppendStringMap(dst []byte, m map[string]string) []byte {
	var buf [32]string
	dst = append(dst, '{')
	for i, k := range sortedKeys(buf[:0], m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k])
	}
	return append(dst, '}')
}

// sortedKeys appends the keys of m to keys and sorts them. Callers pass a slice of an array on
// their stack, so maps of usual size are written without allocating.
func sortedKeys[V any](keys []string, m map[string]V) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
