package mgmt

import (
	"strings"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// cursor reads a command's tokens one at a time, so that the text after `<|` or '|' can be
// taken as it is rather than lexed as KQL.
type cursor struct {
	src string
	lx  *kql.Lexer
	tok kql.Token
}

func newCursor(src string) (*cursor, error) {
	c := &cursor{src: src, lx: kql.NewLexer(src)}
	return c, c.advance()
}

func (c *cursor) advance() error {
	t, err := c.lx.Next()
	if err != nil {
		return err
	}
	c.tok = t
	return nil
}

// rest is the text from the current token on.
func (c *cursor) rest() string { return c.src[c.tok.Pos:] }

// after is the text after the current token.
func (c *cursor) after() string { return c.src[c.tok.End:] }

func (c *cursor) isOp(text string) bool { return c.tok.Kind == kql.Op && c.tok.Text == text }

// is reports whether the current token is one of the keywords (any case).
func (c *cursor) is(words ...string) bool {
	if c.tok.Kind != kql.Ident {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(c.tok.Text, w) {
			return true
		}
	}
	return false
}

// accept consumes the keyword if it is next.
func (c *cursor) accept(word string) (bool, error) {
	if !c.is(word) {
		return false, nil
	}
	return true, c.advance()
}

func (c *cursor) expect(word string) error {
	if !c.is(word) {
		return c.syntax("expected '%s'", word)
	}
	return c.advance()
}

func (c *cursor) expectOp(text string) error {
	if !c.isOp(text) {
		return c.syntax("expected '%s'", text)
	}
	return c.advance()
}

// word returns the current identifier in lower case and consumes it.
func (c *cursor) word() (string, error) {
	if c.tok.Kind != kql.Ident {
		return "", c.syntax("expected a keyword")
	}
	w := strings.ToLower(c.tok.Text)
	return w, c.advance()
}

// name parses an entity name: an identifier or ['quoted'] / ["quoted"].
func (c *cursor) name() (string, error) {
	switch {
	case c.tok.Kind == kql.Ident:
		n := c.tok.Text
		return n, c.advance()
	case c.isOp("["):
		if err := c.advance(); err != nil {
			return "", err
		}
		if c.tok.Kind != kql.String {
			return "", c.syntax("expected a quoted name")
		}
		n, err := c.str()
		if err != nil {
			return "", err
		}
		if n == "" {
			return "", c.syntax("a name cannot be empty")
		}
		return n, c.expectOp("]")
	}
	return "", c.syntax("expected a name")
}

// literal parses exactly one string literal (a name written as a string).
func (c *cursor) literal() (string, error) {
	if c.tok.Kind != kql.String {
		return "", c.syntax("expected a string literal")
	}
	v := c.tok.Value
	return v, c.advance()
}

// str parses one or more adjacent string literals, concatenated (Kusto allows a mapping to be
// written as several quoted lines).
func (c *cursor) str() (string, error) {
	if c.tok.Kind != kql.String {
		return "", c.syntax("expected a string literal")
	}
	var b strings.Builder
	for c.tok.Kind == kql.String {
		b.WriteString(c.tok.Value)
		if err := c.advance(); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func (c *cursor) syntax(format string, args ...any) *model.Error {
	return kql.SyntaxErrorAt(c.src, c.tok.Pos, format, args...)
}

func (c *cursor) unexpected() *model.Error {
	if c.tok.Kind == kql.EOF {
		return c.syntax("the command ended unexpectedly")
	}
	return c.syntax("unexpected '%s'", c.tok.Text)
}

// unknownCommand is the error for a command the emulator does not know.
func (c *cursor) unknownCommand() *model.Error {
	text := strings.TrimSpace(c.src)
	if i := strings.IndexAny(text, "\r\n|"); i >= 0 {
		text = strings.TrimSpace(text[:i])
	}
	if len(text) > 80 {
		text = text[:80] + "…"
	}
	return c.syntax("unknown or unsupported management command '%s'", text)
}
