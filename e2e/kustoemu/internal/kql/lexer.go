package kql

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// TokenKind classifies a token.
type TokenKind int

// The token kinds.
const (
	EOF          TokenKind = iota
	Ident                  // a name or keyword; Text is the name
	String                 // a string literal; Value holds the decoded text
	Long                   // an integer literal
	Real                   // a real literal
	TimeSpan               // a timespan literal such as 1d or 30ms
	TypedLiteral           // datetime(…), date(…), timespan(…), time(…), guid(…); Text is the type, Value the raw content
	Op                     // punctuation and operators, including the negated word operators (!has, !in~ …)
)

// Token is one lexical token of KQL or of a management command.
type Token struct {
	Kind  TokenKind
	Text  string // the token's text (for TypedLiteral: the type name)
	Value string // String: decoded text; TypedLiteral: raw content between the parentheses
	Pos   int    // byte offset in the source
	End   int    // byte offset just past the token
}

// hyphenated are the keywords that contain '-' (identifiers cannot).
var hyphenated = map[string]bool{
	"project-away": true, "project-rename": true, "project-keep": true, "project-reorder": true,
	"project-smart": true, "mv-expand": true, "mv-apply": true, "make-series": true, "parse-where": true,
	"parse-kv": true, "top-nested": true, "top-hitters": true, "sample-distinct": true,
	"create-merge": true, "create-or-alter": true, "alter-merge": true, "set-or-append": true,
	"set-or-replace": true, "column-docstrings": true, "drop-pretend": true,
}

// negatable are the word operators that take a '!' prefix.
var negatable = map[string]bool{
	"has": true, "has_cs": true, "contains": true, "contains_cs": true, "startswith": true,
	"startswith_cs": true, "endswith": true, "endswith_cs": true, "hasprefix": true, "hassuffix": true,
	"in": true, "in~": true, "between": true, "has_any": true, "has_all": true,
}

// rawLiterals are the typed literals whose content is taken verbatim up to ')'.
var rawLiterals = map[string]bool{"datetime": true, "date": true, "timespan": true, "time": true, "guid": true}

// Lexer splits KQL text into tokens on demand, so that a caller may stop at any token and take
// the rest of the text as it is (the data after `<|` of `.ingest inline`).
type Lexer struct {
	src string
	pos int
}

// NewLexer returns a lexer over src.
func NewLexer(src string) *Lexer { return &Lexer{src: src} }

// Source returns the text being lexed.
func (l *Lexer) Source() string { return l.src }

// Tokenize splits src into tokens, ending with an EOF token.
func Tokenize(src string) ([]Token, error) {
	l := NewLexer(src)
	var out []Token
	for {
		t, err := l.Next()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.Kind == EOF {
			return out, nil
		}
	}
}

// Next returns the next token; at the end of the text it returns EOF tokens forever.
func (l *Lexer) Next() (Token, error) {
	l.skipSpace()
	start := l.pos
	if l.pos >= len(l.src) {
		return Token{Kind: EOF, Pos: start, End: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		if (c == 'h' || c == 'H') && l.pos+1 < len(l.src) {
			// h'…', H"…", h@'…': obfuscated strings read like plain ones.
			if n := l.src[l.pos+1]; n == '\'' || n == '"' || (n == '@' && l.pos+2 < len(l.src) && (l.src[l.pos+2] == '\'' || l.src[l.pos+2] == '"')) {
				l.pos++
				return l.stringToken(start)
			}
		}
		return l.identToken(start)
	case c >= '0' && c <= '9':
		return l.numberToken(start)
	case c == '\'' || c == '"' || c == '@':
		return l.stringToken(start)
	case c == '`' && strings.HasPrefix(l.src[l.pos:], "```"):
		return l.stringToken(start)
	}
	return l.opToken(start)
}

func (l *Lexer) skipSpace() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		default:
			return
		}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func (l *Lexer) readWord() string {
	start := l.pos
	for l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
		l.pos++
	}
	return l.src[start:l.pos]
}

func (l *Lexer) identToken(start int) (Token, error) {
	word := l.readWord()
	// Join hyphenated keywords (create-or-alter, project-away …): extend while the text is a
	// prefix of one and keep the longest that is a whole keyword.
	joined, keepWord, keepPos := word, word, l.pos
	for l.pos+1 < len(l.src) && l.src[l.pos] == '-' && isIdentStart(l.src[l.pos+1]) && hasHyphenatedPrefix(joined) {
		l.pos++
		joined += "-" + l.readWord()
		if hyphenated[strings.ToLower(joined)] {
			keepWord, keepPos = joined, l.pos
		}
	}
	word, l.pos = keepWord, keepPos
	if word == "in" && l.pos < len(l.src) && l.src[l.pos] == '~' {
		l.pos++
		word = "in~"
	}
	if rawLiterals[strings.ToLower(word)] {
		save := l.pos
		l.skipSpace()
		if l.pos < len(l.src) && l.src[l.pos] == '(' {
			end := strings.IndexByte(l.src[l.pos:], ')')
			if end < 0 {
				return Token{}, syntaxErrorAt(l.src, l.pos, "missing ')' of the %s literal", word)
			}
			content := strings.TrimSpace(l.src[l.pos+1 : l.pos+end])
			l.pos += end + 1
			return Token{Kind: TypedLiteral, Text: strings.ToLower(word), Value: content, Pos: start, End: l.pos}, nil
		}
		l.pos = save
	}
	return Token{Kind: Ident, Text: word, Pos: start, End: l.pos}, nil
}

// hasHyphenatedPrefix reports whether w is a proper prefix of a hyphenated keyword (the "or" of
// create-or-alter), so that joining continues.
func hasHyphenatedPrefix(w string) bool {
	w = strings.ToLower(w) + "-"
	for k := range hyphenated {
		if strings.HasPrefix(k, w) {
			return true
		}
	}
	return false
}

func (l *Lexer) numberToken(start int) (Token, error) {
	s := l.src
	if strings.HasPrefix(s[l.pos:], "0x") || strings.HasPrefix(s[l.pos:], "0X") {
		l.pos += 2
		hexStart := l.pos
		for l.pos < len(s) && strings.IndexByte("0123456789abcdefABCDEF", s[l.pos]) >= 0 {
			l.pos++
		}
		n, err := strconv.ParseUint(s[hexStart:l.pos], 16, 64)
		if err != nil {
			return Token{}, syntaxErrorAt(s, start, "invalid hexadecimal literal")
		}
		return Token{Kind: Long, Text: strconv.FormatInt(int64(n), 10), Pos: start, End: l.pos}, nil
	}
	kind := Long
	for l.pos < len(s) && s[l.pos] >= '0' && s[l.pos] <= '9' {
		l.pos++
	}
	if l.pos+1 < len(s) && s[l.pos] == '.' && s[l.pos+1] >= '0' && s[l.pos+1] <= '9' {
		kind = Real
		l.pos++
		for l.pos < len(s) && s[l.pos] >= '0' && s[l.pos] <= '9' {
			l.pos++
		}
	}
	if l.pos < len(s) && (s[l.pos] == 'e' || s[l.pos] == 'E') {
		p := l.pos + 1
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		if p < len(s) && s[p] >= '0' && s[p] <= '9' {
			kind = Real
			l.pos = p
			for l.pos < len(s) && s[l.pos] >= '0' && s[l.pos] <= '9' {
				l.pos++
			}
		}
	}
	if l.pos < len(s) && isIdentStart(s[l.pos]) {
		// A unit suffix makes a timespan literal: 1d, 1.5h, 100ms, 10microseconds.
		l.readWord()
		text := s[start:l.pos]
		if _, err := model.ParseTimeSpan(text); err != nil {
			return Token{}, syntaxErrorAt(s, start, "invalid literal '%s'", text)
		}
		return Token{Kind: TimeSpan, Text: text, Pos: start, End: l.pos}, nil
	}
	return Token{Kind: kind, Text: s[start:l.pos], Pos: start, End: l.pos}, nil
}

func (l *Lexer) stringToken(start int) (Token, error) {
	s := l.src
	if strings.HasPrefix(s[l.pos:], "```") {
		end := strings.Index(s[l.pos+3:], "```")
		if end < 0 {
			return Token{}, syntaxErrorAt(s, start, "unterminated multi-line string literal")
		}
		v := s[l.pos+3 : l.pos+3+end]
		l.pos += end + 6
		return Token{Kind: String, Text: s[start:l.pos], Value: v, Pos: start, End: l.pos}, nil
	}
	verbatim := false
	if s[l.pos] == '@' {
		verbatim = true
		l.pos++
		if l.pos >= len(s) || (s[l.pos] != '\'' && s[l.pos] != '"') {
			return Token{}, syntaxErrorAt(s, start, "unexpected character '@'")
		}
	}
	quote := s[l.pos]
	l.pos++
	var b strings.Builder
	for {
		if l.pos >= len(s) || s[l.pos] == '\n' {
			return Token{}, syntaxErrorAt(s, start, "unterminated string literal")
		}
		c := s[l.pos]
		switch {
		case c == quote:
			if verbatim && l.pos+1 < len(s) && s[l.pos+1] == quote {
				b.WriteByte(quote)
				l.pos += 2
				continue
			}
			l.pos++
			return Token{Kind: String, Text: s[start:l.pos], Value: b.String(), Pos: start, End: l.pos}, nil
		case c == '\\' && !verbatim:
			if err := l.escape(&b, start); err != nil {
				return Token{}, err
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
}

// escape decodes one backslash escape at l.pos into b.
func (l *Lexer) escape(b *strings.Builder, start int) error {
	s := l.src
	if l.pos+1 >= len(s) {
		return syntaxErrorAt(s, start, "unterminated string literal")
	}
	c := s[l.pos+1]
	l.pos += 2
	switch c {
	case '\\', '\'', '"':
		b.WriteByte(c)
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case '0':
		b.WriteByte(0)
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'v':
		b.WriteByte('\v')
	case 'u', 'x':
		n := 4
		if c == 'x' {
			n = 2
		}
		if l.pos+n > len(s) {
			return syntaxErrorAt(s, start, "invalid escape sequence in string literal")
		}
		r, err := strconv.ParseUint(s[l.pos:l.pos+n], 16, 32)
		if err != nil {
			return syntaxErrorAt(s, start, "invalid escape sequence in string literal")
		}
		l.pos += n
		if c == 'u' && r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(s[l.pos:], `\u`) && l.pos+6 <= len(s) {
			// A UTF-16 surrogate pair written as two escapes.
			if lo, err := strconv.ParseUint(s[l.pos+2:l.pos+6], 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				l.pos += 6
			}
		}
		b.WriteRune(rune(r))
	default:
		return syntaxErrorAt(s, start, "invalid escape sequence '\\%c' in string literal", c)
	}
	return nil
}

// operators lists the punctuation, longest first.
var operators = []string{
	"<|", "==", "=~", "!=", "!~", "<=", ">=", "<>", "..", "=>",
	"|", "(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "=", "<", ">", "+", "-", "*", "/", "%", "~",
}

func (l *Lexer) opToken(start int) (Token, error) {
	s := l.src
	if s[l.pos] == '!' && l.pos+1 < len(s) && isIdentStart(s[l.pos+1]) {
		l.pos++
		word := l.readWord()
		if word == "in" && l.pos < len(s) && s[l.pos] == '~' {
			l.pos++
			word = "in~"
		}
		if !negatable[word] {
			return Token{}, syntaxErrorAt(s, start, "unexpected '!%s'", word)
		}
		return Token{Kind: Op, Text: "!" + word, Pos: start, End: l.pos}, nil
	}
	for _, op := range operators {
		if strings.HasPrefix(s[l.pos:], op) {
			l.pos += len(op)
			return Token{Kind: Op, Text: op, Pos: start, End: l.pos}, nil
		}
	}
	r, _ := utf8.DecodeRuneInString(s[l.pos:])
	return Token{}, syntaxErrorAt(s, start, "unexpected character '%c'", r)
}

// lineCol converts a byte offset to Kusto's 1-based line and position.
func lineCol(src string, pos int) (int, int) {
	if pos > len(src) {
		pos = len(src)
	}
	line, col := 1, 1
	for _, r := range src[:pos] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// syntaxErrorAt is Kusto's parse error, pointing at the offending text.
func syntaxErrorAt(src string, pos int, format string, args ...any) *model.Error {
	line, col := lineCol(src, pos)
	near := src[min(pos, len(src)):]
	if i := strings.IndexAny(near, " \t\r\n"); i >= 0 {
		near = near[:i]
	}
	if len(near) > 40 {
		near = near[:40]
	}
	return model.SyntaxError("SYN0002: Query could not be parsed at '%s' [line:position=%d:%d]: "+format,
		append([]any{near, line, col}, args...)...)
}

// SyntaxErrorAt is Kusto's syntax error for the text of src at byte offset pos, with a reason.
func SyntaxErrorAt(src string, pos int, format string, args ...any) *model.Error {
	return syntaxErrorAt(src, pos, format, args...)
}
