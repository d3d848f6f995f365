package kafkaprops

import (
	"errors"
	"fmt"
	"strings"
)

// jaasEntry is the single login module entry of a sasl.jaas.config value:
//
//	<LoginModuleClass> <ControlFlag> (<option>=<value>)*;
type jaasEntry struct {
	module  string
	flag    string
	options map[string]string
}

// parseJAAS parses a sasl.jaas.config value the way Kafka's JaasConfig does: words, single- or
// double-quoted values with backslash escapes, "//" and "/* */" comments, exactly one entry.
// Errors name options, never their values, because the value holds a password.
func parseJAAS(s string) (jaasEntry, error) {
	t := &jaasTokenizer{s: s}
	var entries []jaasEntry
	for {
		tok, err := t.next()
		if err != nil {
			return jaasEntry{}, err
		}
		if tok.kind == tokEOF {
			break
		}
		if tok.kind != tokWord {
			return jaasEntry{}, errors.New("expected a login module class name")
		}
		e := jaasEntry{module: tok.text, options: map[string]string{}}
		flag, err := t.next()
		if err != nil {
			return jaasEntry{}, err
		}
		switch strings.ToLower(flag.text) {
		case "required", "requisite", "sufficient", "optional":
			e.flag = strings.ToLower(flag.text)
		default:
			return jaasEntry{}, fmt.Errorf("invalid login module control flag %q", flag.text)
		}
		for {
			key, err := t.next()
			if err != nil {
				return jaasEntry{}, err
			}
			if key.kind == tokSemicolon {
				break
			}
			if key.kind != tokWord {
				return jaasEntry{}, errors.New("expected an option name or ';'")
			}
			eq, err := t.next()
			if err != nil {
				return jaasEntry{}, err
			}
			if eq.kind != tokEquals {
				return jaasEntry{}, fmt.Errorf("value not specified for key '%s'", key.text)
			}
			val, err := t.next()
			if err != nil {
				return jaasEntry{}, err
			}
			if val.kind != tokWord && val.kind != tokQuoted {
				return jaasEntry{}, fmt.Errorf("value not specified for key '%s'", key.text)
			}
			e.options[key.text] = val.text
		}
		entries = append(entries, e)
	}
	if len(entries) != 1 {
		return jaasEntry{}, fmt.Errorf("JAAS config property contains %d login modules, should be 1 module", len(entries))
	}
	return entries[0], nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokQuoted
	tokEquals
	tokSemicolon
)

type token struct {
	kind tokKind
	text string
}

type jaasTokenizer struct {
	s   string
	pos int
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '-' || c == '_' || c == '$' || c >= 0x80
}

func (t *jaasTokenizer) next() (token, error) {
	s := t.s
	for t.pos < len(s) {
		c := s[t.pos]
		switch {
		case c <= ' ':
			t.pos++
		case strings.HasPrefix(s[t.pos:], "//"):
			if i := strings.IndexByte(s[t.pos:], '\n'); i >= 0 {
				t.pos += i + 1
			} else {
				t.pos = len(s)
			}
		case strings.HasPrefix(s[t.pos:], "/*"):
			i := strings.Index(s[t.pos+2:], "*/")
			if i < 0 {
				return token{}, errors.New("unterminated comment")
			}
			t.pos += i + 4
		case c == '=':
			t.pos++
			return token{kind: tokEquals, text: "="}, nil
		case c == ';':
			t.pos++
			return token{kind: tokSemicolon, text: ";"}, nil
		case c == '"' || c == '\'':
			return t.quoted(c)
		case isWordByte(c):
			start := t.pos
			for t.pos < len(s) && isWordByte(s[t.pos]) {
				t.pos++
			}
			return token{kind: tokWord, text: s[start:t.pos]}, nil
		default:
			return token{}, fmt.Errorf("unexpected character %q", c)
		}
	}
	return token{kind: tokEOF}, nil
}

func (t *jaasTokenizer) quoted(q byte) (token, error) {
	var b strings.Builder
	s := t.s
	t.pos++ // opening quote
	for t.pos < len(s) {
		c := s[t.pos]
		t.pos++
		switch {
		case c == q:
			return token{kind: tokQuoted, text: b.String()}, nil
		case c == '\\' && t.pos < len(s):
			e := s[t.pos]
			t.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			default:
				b.WriteByte(e)
			}
		case c == '\n':
			return token{}, errors.New("unterminated quoted value")
		default:
			b.WriteByte(c)
		}
	}
	return token{}, errors.New("unterminated quoted value")
}
