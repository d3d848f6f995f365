package kql

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// maxDepth bounds expression nesting and maxNodes the size of a query's syntax tree, so that
// hostile input cannot exhaust the stack of the recursive parser and binder.
const (
	maxDepth = 200
	maxNodes = 50000
)

// parser is a recursive-descent parser over a token slice.
type parser struct {
	src   string
	toks  []Token
	i     int
	depth int
	nodes int
}

// node counts one more syntax node against the query's budget.
func (p *parser) node() error {
	p.nodes++
	if p.nodes > maxNodes {
		return p.errAt(p.peek(), "the query is too large")
	}
	return nil
}

// Parse parses a query: statements separated by ';'.
func Parse(src string) ([]Statement, error) {
	toks, err := Tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	var stmts []Statement
	for {
		for p.isOp(";") {
			p.next()
		}
		if p.peek().Kind == EOF {
			return stmts, nil
		}
		s, err := p.statement()
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
		if p.peek().Kind != EOF && !p.isOp(";") {
			return nil, p.unexpected()
		}
	}
}

// parseOperators parses text of the form "| op | op …" (what follows a management command).
func parseOperators(src string) ([]Operator, error) {
	toks, err := Tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	var ops []Operator
	for p.isOp("|") {
		p.next()
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	if p.peek().Kind != EOF {
		return nil, p.unexpected()
	}
	return ops, nil
}

func (p *parser) peek() Token { return p.toks[p.i] }

func (p *parser) peekAt(n int) Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() Token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) isOp(text string) bool {
	t := p.peek()
	return t.Kind == Op && t.Text == text
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.Kind == Ident && t.Text == w
}

func (p *parser) errAt(t Token, format string, args ...any) error {
	return syntaxErrorAt(p.src, t.Pos, format, args...)
}

func (p *parser) unexpected() error {
	t := p.peek()
	if t.Kind == EOF {
		return p.errAt(t, "unexpected end of query")
	}
	return p.errAt(t, "unexpected '%s'", t.Text)
}

func (p *parser) expectOp(text string) error {
	if !p.isOp(text) {
		t := p.peek()
		if t.Kind == EOF {
			return p.errAt(t, "expected '%s' but the query ended", text)
		}
		return p.errAt(t, "expected '%s'", text)
	}
	p.next()
	return nil
}

func (p *parser) expectWord(w string) error {
	if !p.isWord(w) {
		return p.errAt(p.peek(), "expected '%s'", w)
	}
	p.next()
	return nil
}

// name parses an entity name: an identifier or ['quoted'] / ["quoted"].
func (p *parser) name() (string, error) {
	t := p.peek()
	if t.Kind == Ident {
		p.next()
		return t.Text, nil
	}
	if t.Kind == Op && t.Text == "[" && p.peekAt(1).Kind == String {
		p.next()
		s := p.stringLit()
		if err := p.expectOp("]"); err != nil {
			return "", err
		}
		return s, nil
	}
	return "", p.errAt(t, "expected a name")
}

// isNameStart reports whether a name starts here.
func (p *parser) isNameStart() bool {
	t := p.peek()
	return t.Kind == Ident || (t.Kind == Op && t.Text == "[" && p.peekAt(1).Kind == String)
}

// stringLit reads one or more adjacent string literals, concatenated.
func (p *parser) stringLit() string {
	var b strings.Builder
	for p.peek().Kind == String {
		b.WriteString(p.next().Value)
	}
	return b.String()
}

func (p *parser) statement() (Statement, error) {
	switch {
	case p.isWord("declare"):
		return p.declare()
	case p.isWord("let"):
		return p.let()
	case p.isWord("set"):
		p.next()
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		s := &SetOption{Name: name}
		if p.isOp("=") {
			p.next()
			if s.Value, err = p.expr(); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	t, err := p.tabular()
	if err != nil {
		return nil, err
	}
	return &TabularStatement{T: t}, nil
}

func (p *parser) declare() (Statement, error) {
	p.next()
	if err := p.expectWord("query_parameters"); err != nil {
		return nil, err
	}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	d := &DeclareParams{}
	for !p.isOp(")") {
		if len(d.Params) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(":"); err != nil {
			return nil, err
		}
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		decl := ParamDecl{Name: name, Type: typ}
		if p.isOp("=") {
			p.next()
			if decl.Default, err = p.expr(); err != nil {
				return nil, err
			}
		}
		d.Params = append(d.Params, decl)
	}
	p.next()
	return d, nil
}

// typeName parses a scalar type name (string, long, datetime …).
func (p *parser) typeName() (model.Type, error) {
	t := p.peek()
	if t.Kind != Ident {
		return "", p.errAt(t, "expected a type name")
	}
	typ, ok := model.ParseType(t.Text)
	if !ok {
		return "", p.errAt(t, "unknown type '%s'", t.Text)
	}
	p.next()
	return typ, nil
}

func (p *parser) let() (Statement, error) {
	p.next()
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp("="); err != nil {
		return nil, err
	}
	// A scalar expression that ends the statement is a scalar let; anything else is tabular.
	save := p.i
	x, exprErr := p.expr()
	if exprErr == nil && (p.isOp(";") || p.peek().Kind == EOF) {
		return &Let{Name: name, X: x}, nil
	}
	exprEnd := p.i
	p.i = save
	t, err := p.tabular()
	if err != nil {
		if exprErr != nil && exprEnd > p.i {
			return nil, exprErr // the scalar reading got further: its error is the useful one
		}
		return nil, err
	}
	return &Let{Name: name, T: t}, nil
}

// unsupportedSources are Kusto's tabular sources the emulator does not implement.
var unsupportedSources = map[string]bool{
	"union": true, "range": true, "find": true, "search": true, "externaldata": true, "external_table": true,
	"materialize": true, "cluster": true, "evaluate": true, "materialized_view": true, "graph": true,
}

func (p *parser) tabular() (*Tabular, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(p.peek(), "the query is nested too deeply")
	}
	src, err := p.source()
	if err != nil {
		return nil, err
	}
	t := &Tabular{Source: src}
	for p.isOp("|") {
		p.next()
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		t.Ops = append(t.Ops, op)
	}
	return t, nil
}

func (p *parser) source() (Source, error) {
	t := p.peek()
	switch {
	case t.Kind == Op && t.Text == "(":
		p.next()
		sub, err := p.tabular()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return &SubQuery{T: sub}, nil
	case t.Kind == Ident && t.Text == "print":
		p.next()
		items, err := p.namedList()
		if err != nil {
			return nil, err
		}
		return &PrintSource{Items: items}, nil
	case t.Kind == Ident && t.Text == "datatable":
		return p.datatable()
	case t.Kind == Ident && (t.Text == "database" || t.Text == "table") && p.peekAt(1).Kind == Op && p.peekAt(1).Text == "(":
		p.next()
		p.next()
		if p.peek().Kind != String {
			return nil, p.errAt(p.peek(), "expected a string literal")
		}
		arg := p.stringLit()
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		if t.Text == "table" {
			return &TableRef{Name: arg, At: t.Pos}, nil
		}
		if err := p.expectOp("."); err != nil {
			return nil, err
		}
		at := p.peek().Pos
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		return &TableRef{Database: arg, Name: name, At: at}, nil
	case t.Kind == Ident && unsupportedSources[t.Text] && p.peekAt(1).Kind != EOF && !(p.peekAt(1).Kind == Op && (p.peekAt(1).Text == "|" || p.peekAt(1).Text == ";")):
		return nil, model.SemanticError("'%s' is not supported by the emulator", t.Text)
	case p.isNameStart():
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		return &TableRef{Name: name, At: t.Pos}, nil
	}
	return nil, p.unexpected()
}

func (p *parser) datatable() (Source, error) {
	at := p.next().Pos
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	d := &DataTableSource{At: at}
	for !p.isOp(")") {
		if len(d.Columns) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(":"); err != nil {
			return nil, err
		}
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		d.Columns = append(d.Columns, model.Column{Name: name, Type: typ})
	}
	p.next()
	if err := p.expectOp("["); err != nil {
		return nil, err
	}
	for !p.isOp("]") {
		if len(d.Values) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("]") { // a trailing comma is allowed
				break
			}
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		d.Values = append(d.Values, v)
	}
	p.next()
	return d, nil
}

// unsupportedOperators are Kusto's tabular operators the emulator does not implement.
var unsupportedOperators = map[string]bool{
	"join": true, "union": true, "lookup": true, "mv-expand": true, "mv-apply": true, "parse": true,
	"parse-where": true, "parse-kv": true, "render": true, "as": true, "serialize": true, "sample": true,
	"sample-distinct": true, "top-nested": true, "top-hitters": true, "make-series": true, "facet": true,
	"fork": true, "invoke": true, "scan": true, "search": true, "find": true, "partition": true,
	"reduce": true, "consume": true, "project-keep": true, "project-reorder": true, "project-smart": true,
	"range": true, "externaldata": true, "execute": true, "graph-match": true, "make-graph": true,
}

func (p *parser) operator() (Operator, error) {
	t := p.peek()
	if t.Kind != Ident {
		return nil, p.errAt(t, "expected a query operator")
	}
	p.next()
	switch t.Text {
	case "where", "filter":
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Where{Pred: x}, nil
	case "take", "limit":
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Take{N: x}, nil
	case "count":
		return &Count{}, nil
	case "project":
		items, err := p.namedList()
		if err != nil {
			return nil, err
		}
		return &Project{Items: items}, nil
	case "extend":
		items, err := p.namedList()
		if err != nil {
			return nil, err
		}
		return &Extend{Items: items}, nil
	case "project-away":
		names, err := p.patternList()
		if err != nil {
			return nil, err
		}
		return &ProjectAway{Names: names}, nil
	case "project-rename":
		return p.projectRename()
	case "summarize":
		return p.summarize()
	case "order", "sort":
		if err := p.expectWord("by"); err != nil {
			return nil, err
		}
		var keys []SortKey
		for {
			k, err := p.sortKey()
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		return &Sort{Keys: keys}, nil
	case "top":
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expectWord("by"); err != nil {
			return nil, err
		}
		k, err := p.sortKey()
		if err != nil {
			return nil, err
		}
		return &Top{N: n, Key: k}, nil
	case "distinct":
		if p.isOp("*") {
			p.next()
			return &Distinct{All: true}, nil
		}
		var cols []string
		for {
			name, err := p.name()
			if err != nil {
				return nil, err
			}
			cols = append(cols, name)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		return &Distinct{Columns: cols}, nil
	case "evaluate":
		return p.evaluate()
	case "getschema":
		return &GetSchema{}, nil
	}
	if unsupportedOperators[t.Text] {
		return nil, model.SemanticError("the '%s' operator is not supported by the emulator", t.Text)
	}
	return nil, p.errAt(t, "unknown query operator '%s'", t.Text)
}

func (p *parser) evaluate() (Operator, error) {
	t := p.peek()
	if t.Kind != Ident {
		return nil, p.errAt(t, "expected a plugin name")
	}
	p.next()
	if t.Text != "bag_unpack" {
		return nil, model.SemanticError("the '%s' plugin is not supported by the emulator", t.Text)
	}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	col, err := p.expr()
	if err != nil {
		return nil, err
	}
	b := &BagUnpack{Column: col}
	if p.isOp(",") {
		p.next()
		if p.peek().Kind != String {
			return nil, p.errAt(p.peek(), "expected the column prefix as a string literal")
		}
		b.Prefix = p.stringLit()
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return b, nil
}

func (p *parser) projectRename() (Operator, error) {
	r := &ProjectRename{}
	for {
		newName, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		old, err := p.name()
		if err != nil {
			return nil, err
		}
		r.Pairs = append(r.Pairs, [2]string{newName, old})
		if !p.isOp(",") {
			return r, nil
		}
		p.next()
	}
}

func (p *parser) summarize() (Operator, error) {
	s := &Summarize{}
	var err error
	if !p.isWord("by") {
		if s.Aggs, err = p.namedList(); err != nil {
			return nil, err
		}
	}
	if p.isWord("by") {
		p.next()
		if s.By, err = p.namedList(); err != nil {
			return nil, err
		}
	}
	if len(s.Aggs) == 0 && len(s.By) == 0 {
		return nil, p.errAt(p.peek(), "summarize needs an aggregation or a 'by' clause")
	}
	return s, nil
}

func (p *parser) sortKey() (SortKey, error) {
	x, err := p.expr()
	if err != nil {
		return SortKey{}, err
	}
	k := SortKey{X: x}
	switch {
	case p.isWord("asc"):
		p.next()
		k.Asc = true
	case p.isWord("desc"):
		p.next()
	}
	// Kusto's defaults: nulls first when ascending, last when descending.
	k.NullsFirst = k.Asc
	if p.isWord("nulls") {
		p.next()
		switch {
		case p.isWord("first"):
			k.NullsFirst = true
		case p.isWord("last"):
			k.NullsFirst = false
		default:
			return SortKey{}, p.errAt(p.peek(), "expected 'first' or 'last'")
		}
		p.next()
	}
	return k, nil
}

// namedList parses "[name =] expr, …".
func (p *parser) namedList() ([]NamedExpr, error) {
	var out []NamedExpr
	for {
		var item NamedExpr
		if p.isNameStart() {
			save := p.i
			name, err := p.name()
			if err == nil && p.isOp("=") {
				p.next()
				item.Name = name
			} else {
				p.i = save
			}
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		item.X = x
		out = append(out, item)
		if !p.isOp(",") {
			return out, nil
		}
		p.next()
	}
}

// patternList parses column names that may contain '*' wildcards (project-away a*, *_id).
func (p *parser) patternList() ([]string, error) {
	var out []string
	for {
		var b strings.Builder
		end := -1
		for {
			t := p.peek()
			if end >= 0 && t.Pos != end {
				break
			}
			if t.Kind == Op && t.Text == "*" {
				b.WriteString("*")
				end = t.End
				p.next()
				continue
			}
			if t.Kind == Ident || (t.Kind == Op && t.Text == "[") {
				name, err := p.name()
				if err != nil {
					return nil, err
				}
				b.WriteString(name)
				end = p.toks[p.i-1].End
				continue
			}
			break
		}
		if b.Len() == 0 {
			return nil, p.errAt(p.peek(), "expected a column name")
		}
		out = append(out, b.String())
		if !p.isOp(",") {
			return out, nil
		}
		p.next()
	}
}

// Expressions, lowest precedence first.

func (p *parser) expr() (Expr, error) {
	if err := p.node(); err != nil {
		return nil, err
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(p.peek(), "the expression is nested too deeply")
	}
	return p.or()
}

func (p *parser) or() (Expr, error) {
	return p.binaryLevel(p.and, func() bool { return p.isWord("or") }, "or")
}

func (p *parser) and() (Expr, error) {
	return p.binaryLevel(p.comparison, func() bool { return p.isWord("and") }, "and")
}

// binaryLevel parses one left-associative level of binary operators: operands from next, joined
// while match reports an operator. op names the operator; "" takes the operator token's text.
func (p *parser) binaryLevel(next func() (Expr, error), match func() bool, op string) (Expr, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for match() {
		if err := p.node(); err != nil {
			return nil, err
		}
		t := p.next()
		r, err := next()
		if err != nil {
			return nil, err
		}
		name := op
		if name == "" {
			name = t.Text
		}
		l = &Binary{Op: name, L: l, R: r, At: t.Pos}
	}
	return l, nil
}

// wordComparisons are the string predicates written as words.
var wordComparisons = map[string]bool{
	"has": true, "has_cs": true, "contains": true, "contains_cs": true, "startswith": true,
	"startswith_cs": true, "endswith": true, "endswith_cs": true, "hasprefix": true, "hassuffix": true,
	"has_any": true, "has_all": true,
}

var symbolComparisons = map[string]bool{"==": true, "!=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true, "=~": true, "!~": true}

func (p *parser) comparison() (Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		var op string
		switch {
		case t.Kind == Op && symbolComparisons[t.Text]:
			op = t.Text
			if op == "<>" {
				op = "!="
			}
		case t.Kind == Op && strings.HasPrefix(t.Text, "!") && len(t.Text) > 2:
			op = t.Text
		case t.Kind == Ident && (wordComparisons[t.Text] || t.Text == "in" || t.Text == "in~" || t.Text == "between" || t.Text == "matches"):
			op = t.Text
		default:
			return l, nil
		}
		if err := p.node(); err != nil {
			return nil, err
		}
		p.next()
		switch op {
		case "in", "in~", "!in", "!in~", "has_any", "has_all", "!has_any", "!has_all":
			list, err := p.parenList()
			if err != nil {
				return nil, err
			}
			l = &InList{Op: op, X: l, List: list, At: t.Pos}
			continue
		case "between", "!between":
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			lo, err := p.additive()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(".."); err != nil {
				return nil, err
			}
			hi, err := p.additive()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			l = &Between{Not: op == "!between", X: l, Lo: lo, Hi: hi, At: t.Pos}
			continue
		case "matches":
			if err := p.expectWord("regex"); err != nil {
				return nil, err
			}
			op = "matches regex"
		}
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: op, L: l, R: r, At: t.Pos}
	}
}

func (p *parser) parenList() ([]Expr, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var list []Expr
	for !p.isOp(")") {
		if len(list) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		list = append(list, x)
	}
	p.next()
	return list, nil
}

func (p *parser) additive() (Expr, error) {
	return p.binaryLevel(p.multiplicative, func() bool { return p.isOp("+") || p.isOp("-") }, "")
}

func (p *parser) multiplicative() (Expr, error) {
	return p.binaryLevel(p.unary, func() bool { return p.isOp("*") || p.isOp("/") || p.isOp("%") }, "")
}

func (p *parser) unary() (Expr, error) {
	if p.isOp("-") || p.isOp("+") {
		t := p.next()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errAt(t, "the expression is nested too deeply")
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		// Fold signs into numeric literals so that -9223372036854775808 is representable.
		if lit, ok := x.(*Literal); ok && t.Text == "-" {
			if neg, ok := negateLiteral(lit); ok {
				return neg, nil
			}
		}
		if t.Text == "+" {
			return x, nil
		}
		return &Unary{Op: "-", X: x, At: t.Pos}, nil
	}
	return p.postfix()
}

func negateLiteral(l *Literal) (*Literal, bool) {
	switch v := l.Value.(type) {
	case int64:
		return &Literal{Type: l.Type, Value: -v, At: l.At}, true
	case int32:
		return &Literal{Type: l.Type, Value: -v, At: l.At}, true
	case float64:
		return &Literal{Type: l.Type, Value: -v, At: l.At}, true
	case time.Duration:
		return &Literal{Type: l.Type, Value: -v, At: l.At}, true
	case decimal.Decimal:
		return &Literal{Type: l.Type, Value: v.Neg(), At: l.At}, true
	}
	return nil, false
}

func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		if p.isOp(".") || p.isOp("[") {
			if err := p.node(); err != nil {
				return nil, err
			}
		}
		switch {
		case p.isOp("."):
			t := p.next()
			name, err := p.name()
			if err != nil {
				return nil, err
			}
			x = &Member{X: x, Name: name, At: t.Pos}
		case p.isOp("["):
			t := p.next()
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			x = &Index{X: x, Index: idx, At: t.Pos}
		default:
			return x, nil
		}
	}
}

// typedLiteralFuncs are the literal forms written like calls: int(5), dynamic([1]) …
var typedLiteralFuncs = map[string]model.Type{
	"int": model.Int, "long": model.Long, "real": model.Real, "double": model.Real, "bool": model.Bool,
	"boolean": model.Bool, "decimal": model.Decimal, "dynamic": model.Dynamic, "string": model.String,
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.Kind {
	case Long:
		p.next()
		n, err := strconv.ParseInt(t.Text, 10, 64)
		if err != nil {
			return nil, p.errAt(t, "the number '%s' is out of range", t.Text)
		}
		return &Literal{Type: model.Long, Value: n, At: t.Pos}, nil
	case Real:
		p.next()
		f, err := strconv.ParseFloat(t.Text, 64)
		if err != nil {
			return nil, p.errAt(t, "the number '%s' is out of range", t.Text)
		}
		return &Literal{Type: model.Real, Value: f, At: t.Pos}, nil
	case TimeSpan:
		p.next()
		d, err := model.ParseTimeSpan(t.Text)
		if err != nil {
			return nil, p.errAt(t, "invalid timespan literal")
		}
		return &Literal{Type: model.TimeSpan, Value: d, At: t.Pos}, nil
	case String:
		return &Literal{Type: model.String, Value: p.stringLit(), At: t.Pos}, nil
	case TypedLiteral:
		p.next()
		return p.rawLiteral(t)
	case Ident:
		if t.Text == "true" || t.Text == "false" {
			p.next()
			return &Literal{Type: model.Bool, Value: t.Text == "true", At: t.Pos}, nil
		}
		next := p.peekAt(1)
		if next.Kind == Op && next.Text == "(" {
			if typ, ok := typedLiteralFuncs[t.Text]; ok {
				p.next()
				p.next()
				return p.callLiteral(t, typ)
			}
			p.next()
			args, err := p.parenList()
			if err != nil {
				return nil, err
			}
			return &Call{Fn: t.Text, Args: args, At: t.Pos}, nil
		}
		p.next()
		return &Name{Name: t.Text, At: t.Pos}, nil
	case Op:
		switch t.Text {
		case "(":
			p.next()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		case "[":
			if p.peekAt(1).Kind == String {
				name, err := p.name()
				if err != nil {
					return nil, err
				}
				return &Name{Name: name, At: t.Pos}, nil
			}
		}
	}
	return nil, p.unexpected()
}

// rawLiteral interprets datetime(…), timespan(…), guid(…).
func (p *parser) rawLiteral(t Token) (Expr, error) {
	content := strings.Trim(t.Value, `"'`)
	lit := &Literal{At: t.Pos}
	isNull := strings.EqualFold(t.Value, "null")
	switch t.Text {
	case "datetime", "date":
		lit.Type = model.DateTime
		if !isNull {
			v, err := model.ParseDateTime(content)
			if err != nil {
				return nil, p.errAt(t, "invalid datetime literal '%s'", t.Value)
			}
			lit.Value = v
		}
	case "timespan", "time":
		lit.Type = model.TimeSpan
		if !isNull {
			v, err := model.ParseTimeSpan(content)
			if err != nil {
				return nil, p.errAt(t, "invalid timespan literal '%s'", t.Value)
			}
			lit.Value = v
		}
	case "guid":
		lit.Type = model.GUID
		if !isNull {
			v, err := uuid.Parse(content)
			if err != nil {
				return nil, p.errAt(t, "invalid guid literal '%s'", t.Value)
			}
			lit.Value = v
		}
	}
	return lit, nil
}

// callLiteral parses the inside of int(…), real(…), dynamic(…) … after the '('.
func (p *parser) callLiteral(t Token, typ model.Type) (Expr, error) {
	lit := &Literal{Type: typ, At: t.Pos}
	if p.isWord("null") {
		p.next()
		if typ == model.String {
			lit.Value = ""
		}
		return lit, p.expectOp(")")
	}
	switch typ {
	case model.Dynamic:
		v, err := p.dynamicValue()
		if err != nil {
			return nil, err
		}
		lit.Value = v
	case model.String:
		if p.peek().Kind != String {
			return nil, p.errAt(p.peek(), "expected a string literal")
		}
		lit.Value = p.stringLit()
	case model.Bool:
		switch {
		case p.isWord("true"):
			lit.Value = true
		case p.isWord("false"):
			lit.Value = false
		default:
			return nil, p.errAt(p.peek(), "expected true, false or null")
		}
		p.next()
	default:
		text, err := p.signedNumber()
		if err != nil {
			return nil, err
		}
		v, ok := model.Convert(typ, text)
		if !ok || v == nil {
			return nil, p.errAt(t, "invalid %s literal '%s'", typ, text)
		}
		if (typ == model.Int || typ == model.Long) && strings.ContainsAny(text, ".eE") {
			return nil, p.errAt(t, "invalid %s literal '%s'", typ, text)
		}
		lit.Value = v
	}
	return lit, p.expectOp(")")
}

// signedNumber reads an optionally signed number, or nan/inf, as text.
func (p *parser) signedNumber() (string, error) {
	sign := ""
	if p.isOp("-") || p.isOp("+") {
		sign = p.next().Text
	}
	t := p.peek()
	switch {
	case t.Kind == Long || t.Kind == Real:
		p.next()
		return sign + t.Text, nil
	case t.Kind == Ident && (strings.EqualFold(t.Text, "nan") || strings.EqualFold(t.Text, "inf") || strings.EqualFold(t.Text, "infinity")):
		p.next()
		return sign + t.Text, nil
	}
	return "", p.errAt(t, "expected a number")
}

// dynamicValue parses the JSON-like content of a dynamic literal.
func (p *parser) dynamicValue() (any, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(p.peek(), "the dynamic literal is nested too deeply")
	}
	t := p.peek()
	switch {
	case t.Kind == Op && t.Text == "{":
		p.next()
		obj := map[string]any{}
		for !p.isOp("}") {
			if len(obj) > 0 {
				if err := p.expectOp(","); err != nil {
					return nil, err
				}
			}
			k := p.peek()
			var key string
			switch k.Kind {
			case String:
				key = p.stringLit()
			case Ident:
				key = p.next().Text
			default:
				return nil, p.errAt(k, "expected a property name")
			}
			if err := p.expectOp(":"); err != nil {
				return nil, err
			}
			v, err := p.dynamicValue()
			if err != nil {
				return nil, err
			}
			obj[key] = v
		}
		p.next()
		return obj, nil
	case t.Kind == Op && t.Text == "[":
		p.next()
		arr := []any{}
		for !p.isOp("]") {
			if len(arr) > 0 {
				if err := p.expectOp(","); err != nil {
					return nil, err
				}
			}
			v, err := p.dynamicValue()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		p.next()
		return arr, nil
	case t.Kind == String:
		return p.stringLit(), nil
	case t.Kind == Ident && (t.Text == "true" || t.Text == "false"):
		p.next()
		return t.Text == "true", nil
	case t.Kind == Ident && t.Text == "null":
		p.next()
		return nil, nil
	case t.Kind == TypedLiteral:
		p.next()
		lit, err := p.rawLiteral(t)
		if err != nil {
			return nil, err
		}
		l := lit.(*Literal)
		v, _ := model.Convert(model.Dynamic, model.FormatJSON(l.Type, l.Value))
		return v, nil
	case t.Kind == TimeSpan:
		p.next()
		d, _ := model.ParseTimeSpan(t.Text)
		return model.FormatTimeSpan(d), nil
	}
	text, err := p.signedNumber()
	if err != nil {
		return nil, err
	}
	f, ok := model.ParseReal(text)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, p.errAt(t, "invalid number '%s' in a dynamic literal", text)
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return json.Number(strconv.FormatInt(n, 10)), nil
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
}
