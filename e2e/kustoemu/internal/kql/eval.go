package kql

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// bound is an expression checked against a scope: its Kusto type and how to compute it for a
// row. konst marks expressions that do not depend on the row (eval may then be given nil).
type bound struct {
	typ   model.Type
	eval  func(row []any) any
	konst bool
}

func constant(t model.Type, v any) *bound {
	return &bound{typ: t, eval: func([]any) any { return v }, konst: true}
}

// binder resolves names against the columns of the operator's input and the query's let
// variables and parameters.
type binder struct {
	q    *query
	cols []model.Column
	idx  map[string]int
	op   string // the operator, for error messages
}

func newBinder(q *query, cols []model.Column, op string) *binder {
	idx := make(map[string]int, len(cols))
	for i, c := range cols {
		idx[c.Name] = i
	}
	return &binder{q: q, cols: cols, idx: idx, op: op}
}

func (b *binder) semantic(format string, args ...any) error {
	if b.op == "" {
		return model.SemanticError(format, args...)
	}
	return model.SemanticError("'"+b.op+"' operator: "+format, args...)
}

func (b *binder) bind(e Expr) (*bound, error) {
	switch x := e.(type) {
	case *Literal:
		return constant(x.Type, x.Value), nil
	case *Name:
		return b.name(x)
	case *Member:
		return b.member(x.X, func([]any) any { return x.Name }, true)
	case *Index:
		idx, err := b.bind(x.Index)
		if err != nil {
			return nil, err
		}
		switch idx.typ {
		case model.String, model.Int, model.Long, model.Dynamic:
		default:
			return nil, b.semantic("a dynamic value can only be indexed by a string or an integer, not by %s", idx.typ)
		}
		return b.member(x.X, idx.eval, idx.konst)
	case *Unary:
		return b.unary(x)
	case *Binary:
		return b.binary(x)
	case *InList:
		return b.inList(x)
	case *Between:
		return b.between(x)
	case *Call:
		return b.call(x)
	}
	return nil, b.semantic("unsupported expression")
}

func (b *binder) name(x *Name) (*bound, error) {
	if i, ok := b.idx[x.Name]; ok {
		t := b.cols[i].Type
		if t == model.String {
			// A missing string is the empty string.
			return &bound{typ: t, eval: func(row []any) any {
				if s, ok := row[i].(string); ok {
					return s
				}
				return ""
			}}, nil
		}
		return &bound{typ: t, eval: func(row []any) any {
			if v := row[i]; v != model.DBNull {
				return v
			}
			return nil
		}}, nil
	}
	if v, ok := b.q.scalars[x.Name]; ok {
		return constant(v.Type, v.Value), nil
	}
	return nil, b.semantic("Failed to resolve scalar expression named '%s'", x.Name)
}

// member binds dynamic access X[key], the key being a name, a string or an array position.
func (b *binder) member(xe Expr, key func([]any) any, keyConst bool) (*bound, error) {
	x, err := b.bind(xe)
	if err != nil {
		return nil, err
	}
	if x.typ != model.Dynamic {
		return nil, b.semantic("dynamic member access requires a value of type dynamic, got %s", x.typ)
	}
	return &bound{typ: model.Dynamic, konst: x.konst && keyConst, eval: func(row []any) any {
		return lookup(x.eval(row), key(row))
	}}, nil
}

// lookup returns v[k] for a property bag and a string, or an array and a position (negative
// counts from the end); anything else is null.
func lookup(v, k any) any {
	switch c := v.(type) {
	case map[string]any:
		if s, ok := k.(string); ok {
			return c[s]
		}
	case []any:
		var i int64
		switch n := k.(type) {
		case int32:
			i = int64(n)
		case int64:
			i = n
		case json.Number:
			x, err := n.Int64()
			if err != nil {
				return nil
			}
			i = x
		default:
			return nil
		}
		if i < 0 {
			i += int64(len(c))
		}
		if i >= 0 && i < int64(len(c)) {
			return c[i]
		}
	}
	return nil
}

func (b *binder) unary(x *Unary) (*bound, error) {
	v, err := b.bind(x.X)
	if err != nil {
		return nil, err
	}
	switch {
	case isNumeric(v.typ):
		zero := castNumeric(v.typ, int64(0))
		sub := arithmetic("-", v.typ)
		return &bound{typ: v.typ, konst: v.konst, eval: func(row []any) any {
			a := v.eval(row)
			if a == nil {
				return nil
			}
			return sub(zero, a)
		}}, nil
	case v.typ == model.TimeSpan:
		return &bound{typ: v.typ, konst: v.konst, eval: func(row []any) any {
			if a, ok := v.eval(row).(time.Duration); ok {
				return -a
			}
			return nil
		}}, nil
	}
	return nil, b.semantic("the operator '-' is not defined for a value of type %s", v.typ)
}

func (b *binder) binary(x *Binary) (*bound, error) {
	l, err := b.bind(x.L)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(x.R)
	if err != nil {
		return nil, err
	}
	konst := l.konst && r.konst
	switch x.Op {
	case "and", "or":
		return b.logical(x.Op, l, r)
	case "+", "-", "*", "/", "%":
		return b.arith(x.Op, l, r)
	case "==", "!=", "<", "<=", ">", ">=":
		return b.compare(x.Op, l, r)
	case "=~", "!~":
		ls, rs := stringOf(l), stringOf(r)
		neg := x.Op == "!~"
		return &bound{typ: model.Bool, konst: konst, eval: func(row []any) any {
			return strings.EqualFold(ls(row), rs(row)) != neg
		}}, nil
	case "matches regex":
		if !r.konst || r.typ != model.String {
			return nil, b.semantic("the pattern of 'matches regex' must be a constant string")
		}
		re, err := regexp.Compile(r.eval(nil).(string))
		if err != nil {
			return nil, b.semantic("invalid regular expression: %v", err)
		}
		ls := stringOf(l)
		return &bound{typ: model.Bool, konst: konst, eval: func(row []any) any { return re.MatchString(ls(row)) }}, nil
	}
	neg := strings.HasPrefix(x.Op, "!")
	pred, ok := stringPredicates[strings.TrimPrefix(x.Op, "!")]
	if !ok {
		return nil, b.semantic("unsupported operator '%s'", x.Op)
	}
	ls, rs := stringOf(l), stringOf(r)
	return &bound{typ: model.Bool, konst: konst, eval: func(row []any) any {
		return pred(ls(row), rs(row)) != neg
	}}, nil
}

// stringOf returns a function giving the value of b as text (tostring semantics).
func stringOf(b *bound) func([]any) string {
	if b.typ == model.String {
		return func(row []any) string { return b.eval(row).(string) }
	}
	return func(row []any) string { return model.FormatText(b.eval(row)) }
}

// asBool returns a function giving b as a nullable bool, or false when b cannot be a predicate.
func asBool(b *bound) (func([]any) any, bool) {
	switch b.typ {
	case model.Bool:
		return b.eval, true
	case model.Dynamic:
		return func(row []any) any { return fromDynamic(model.Bool, b.eval(row)) }, true
	}
	return nil, false
}

func (b *binder) logical(op string, l, r *bound) (*bound, error) {
	lb, ok1 := asBool(l)
	rb, ok2 := asBool(r)
	if !ok1 || !ok2 {
		return nil, b.semantic("the operator '%s' needs bool operands, got %s and %s", op, l.typ, r.typ)
	}
	and := op == "and"
	return &bound{typ: model.Bool, konst: l.konst && r.konst, eval: func(row []any) any {
		a := lb(row)
		// Short-circuit as Kusto does: false and _ = false, true or _ = true.
		if a == !and {
			return a
		}
		c := rb(row)
		if c == !and {
			return c
		}
		if a == nil || c == nil {
			return nil
		}
		return and
	}}, nil
}

// arithmetic returns the numeric operation op computed in type t.
func arithmetic(op string, t model.Type) func(a, b any) any {
	switch t {
	case model.Int, model.Long:
		wrap := func(n int64) any {
			if t == model.Int {
				return int32(n)
			}
			return n
		}
		return func(a, b any) any {
			x, y := toI64(a), toI64(b)
			switch op {
			case "+":
				return wrap(x + y)
			case "-":
				return wrap(x - y)
			case "*":
				return wrap(x * y)
			case "/":
				if y == 0 {
					return nil
				}
				return wrap(x / y)
			default:
				if y == 0 {
					return nil
				}
				return wrap(x % y)
			}
		}
	case model.Real:
		return func(a, b any) any {
			x, y := toF64(a), toF64(b)
			switch op {
			case "+":
				return x + y
			case "-":
				return x - y
			case "*":
				return x * y
			case "/":
				return x / y
			default:
				return math.Mod(x, y)
			}
		}
	default:
		return func(a, b any) any {
			x, y := toDec(a), toDec(b)
			switch op {
			case "+":
				return x.Add(y)
			case "-":
				return x.Sub(y)
			case "*":
				return x.Mul(y)
			}
			if y.IsZero() {
				return nil
			}
			if op == "/" {
				return x.Div(y)
			}
			return x.Mod(y)
		}
	}
}

func (b *binder) arith(op string, l, r *bound) (*bound, error) {
	konst := l.konst && r.konst
	nullSafe := func(t model.Type, f func(a, c any) any) *bound {
		return &bound{typ: t, konst: konst, eval: func(row []any) any {
			a, c := l.eval(row), r.eval(row)
			if a == nil || c == nil {
				return nil
			}
			return f(a, c)
		}}
	}
	lt, rt := l.typ, r.typ
	switch {
	case isNumeric(lt) && isNumeric(rt):
		t := promote(lt, rt)
		return nullSafe(t, arithmetic(op, t)), nil
	case lt == model.DateTime && rt == model.DateTime && op == "-":
		return nullSafe(model.TimeSpan, func(a, c any) any { return a.(time.Time).Sub(c.(time.Time)) }), nil
	case lt == model.DateTime && rt == model.TimeSpan && (op == "+" || op == "-"):
		return nullSafe(model.DateTime, func(a, c any) any {
			d := c.(time.Duration)
			if op == "-" {
				d = -d
			}
			return a.(time.Time).Add(d)
		}), nil
	case lt == model.TimeSpan && rt == model.DateTime && op == "+":
		return nullSafe(model.DateTime, func(a, c any) any { return c.(time.Time).Add(a.(time.Duration)) }), nil
	case lt == model.TimeSpan && rt == model.TimeSpan:
		switch op {
		case "+":
			return nullSafe(model.TimeSpan, func(a, c any) any { return a.(time.Duration) + c.(time.Duration) }), nil
		case "-":
			return nullSafe(model.TimeSpan, func(a, c any) any { return a.(time.Duration) - c.(time.Duration) }), nil
		case "/":
			return nullSafe(model.Real, func(a, c any) any { return float64(a.(time.Duration)) / float64(c.(time.Duration)) }), nil
		}
	case lt == model.TimeSpan && isNumeric(rt) && (op == "*" || op == "/"):
		return nullSafe(model.TimeSpan, func(a, c any) any {
			f := toF64(c)
			if op == "/" {
				if f == 0 {
					return nil
				}
				f = 1 / f
			}
			return scaleDuration(a.(time.Duration), f)
		}), nil
	case isNumeric(lt) && rt == model.TimeSpan && op == "*":
		return nullSafe(model.TimeSpan, func(a, c any) any { return scaleDuration(c.(time.Duration), toF64(a)) }), nil
	}
	return nil, b.semantic("the operator '%s' is not defined for arguments of types %s and %s", op, lt, rt)
}

// scaleDuration multiplies a timespan, keeping Kusto's 100 ns resolution.
func scaleDuration(d time.Duration, f float64) any {
	ticks := math.Round(float64(d/100) * f)
	if math.IsNaN(ticks) || math.IsInf(ticks, 0) || math.Abs(ticks) > math.MaxInt64/100 {
		return nil
	}
	return time.Duration(ticks) * 100
}

// comparable decides how two operand types compare: in a common type, or dynamically.
func comparableTypes(a, b model.Type) (model.Type, bool) {
	switch {
	case a == b:
		return a, true
	case isNumeric(a) && isNumeric(b):
		return promote(a, b), true
	case a == model.Dynamic || b == model.Dynamic:
		return model.Dynamic, true
	}
	return "", false
}

// cmpFunc returns a function comparing two values of types lt and rt; ok is false when they
// are not comparable at run time (a null, a dynamic value of another kind).
func cmpFunc(lt, rt model.Type) func(a, b any) (int, bool) {
	common, _ := comparableTypes(lt, rt)
	if common != model.Dynamic {
		return func(a, b any) (int, bool) {
			if a == nil || b == nil {
				return 0, false
			}
			if lt != common {
				a = castNumeric(common, a)
			}
			if rt != common {
				b = castNumeric(common, b)
			}
			return compareSame(common, a, b), true
		}
	}
	return func(a, b any) (int, bool) {
		if a == nil || b == nil {
			return 0, false
		}
		if lt == model.Dynamic && rt == model.Dynamic {
			return compareDynamic(a, b)
		}
		// One side is dynamic: compare in the other side's type.
		t, other := rt, b
		dyn := a
		flip := false
		if rt == model.Dynamic {
			t, other, dyn, flip = lt, a, b, true
		}
		var x any
		if isNumeric(t) {
			if t == model.Decimal {
				x = fromDynamic(model.Decimal, dyn)
			} else {
				x, t, other = fromDynamic(model.Real, dyn), model.Real, toF64(other)
			}
		} else {
			if _, isStr := dyn.(string); t == model.String && !isStr {
				return 0, false
			}
			x = fromDynamic(t, dyn)
		}
		if x == nil {
			return 0, false
		}
		c := compareSame(t, x, other)
		if flip {
			c = -c
		}
		return c, true
	}
}

// compareDynamic compares two dynamic values of the same JSON kind.
func compareDynamic(a, b any) (int, bool) {
	an, aNum := a.(json.Number)
	bn, bNum := b.(json.Number)
	if aNum && bNum {
		return compareSame(model.Real, toF64(an), toF64(bn)), true
	}
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr {
		return strings.Compare(as, bs), true
	}
	ab, aBool := a.(bool)
	bb, bBool := b.(bool)
	if aBool && bBool {
		return compareSame(model.Bool, ab, bb), true
	}
	if dynamicText(a) == dynamicText(b) {
		return 0, true
	}
	return 0, false
}

func (b *binder) compare(op string, l, r *bound) (*bound, error) {
	if _, ok := comparableTypes(l.typ, r.typ); !ok {
		return nil, b.semantic("cannot compare values of types %s and %s", l.typ, r.typ)
	}
	if (l.typ == model.Bool || l.typ == model.GUID) && op != "==" && op != "!=" {
		return nil, b.semantic("the operator '%s' is not defined for values of type %s", op, l.typ)
	}
	cmp := cmpFunc(l.typ, r.typ)
	var test func(c int) bool
	switch op {
	case "==":
		test = func(c int) bool { return c == 0 }
	case "!=":
		test = func(c int) bool { return c != 0 }
	case "<":
		test = func(c int) bool { return c < 0 }
	case "<=":
		test = func(c int) bool { return c <= 0 }
	case ">":
		test = func(c int) bool { return c > 0 }
	default:
		test = func(c int) bool { return c >= 0 }
	}
	// Kusto's null rules: null == x is false and null != x true for a non-null x; two nulls,
	// and any ordering with a null, give null.
	var whenOneNull any
	switch op {
	case "==":
		whenOneNull = false
	case "!=":
		whenOneNull = true
	}
	return &bound{typ: model.Bool, konst: l.konst && r.konst, eval: func(row []any) any {
		a, c := l.eval(row), r.eval(row)
		if a == nil && c == nil {
			return nil
		}
		if a == nil || c == nil {
			return whenOneNull
		}
		n, ok := cmp(a, c)
		if !ok {
			// Values of kinds that do not compare (a bag and a number) are not equal.
			return whenOneNull
		}
		return test(n)
	}}, nil
}

func (b *binder) inList(x *InList) (*bound, error) {
	v, err := b.bind(x.X)
	if err != nil {
		return nil, err
	}
	items := make([]*bound, 0, len(x.List))
	konst := v.konst
	for _, e := range x.List {
		it, err := b.bind(e)
		if err != nil {
			return nil, err
		}
		if _, ok := comparableTypes(v.typ, it.typ); !ok && it.typ != model.Dynamic {
			return nil, b.semantic("the operator '%s' cannot compare %s with %s", x.Op, v.typ, it.typ)
		}
		konst = konst && it.konst
		items = append(items, it)
	}
	op := strings.TrimPrefix(x.Op, "!")
	neg := op != x.Op
	if op == "has_any" || op == "has_all" {
		vs := stringOf(v)
		all := op == "has_all"
		return &bound{typ: model.Bool, konst: konst, eval: func(row []any) any {
			s := vs(row)
			for _, it := range items {
				for _, term := range expandList(it, row) {
					found := hasTerm(s, model.FormatText(term.value), false)
					if found && !all {
						return !neg
					}
					if !found && all {
						return neg
					}
				}
			}
			return all != neg
		}}, nil
	}
	fold := op == "in~"
	return &bound{typ: model.Bool, konst: konst, eval: func(row []any) any {
		a := v.eval(row)
		if a == nil {
			return neg
		}
		for _, it := range items {
			for _, e := range expandList(it, row) {
				if fold {
					if strings.EqualFold(model.FormatText(a), model.FormatText(e.value)) {
						return !neg
					}
					continue
				}
				if c, ok := cmpFunc(v.typ, e.typ)(a, e.value); ok && c == 0 {
					return !neg
				}
			}
		}
		return neg
	}}, nil
}

type typedValue struct {
	typ   model.Type
	value any
}

// expandList evaluates one element of an in-list; a dynamic array contributes its elements.
func expandList(it *bound, row []any) []typedValue {
	v := it.eval(row)
	if arr, ok := v.([]any); ok && it.typ == model.Dynamic {
		out := make([]typedValue, len(arr))
		for i, e := range arr {
			out[i] = typedValue{model.Dynamic, e}
		}
		return out
	}
	return []typedValue{{it.typ, v}}
}

func (b *binder) between(x *Between) (*bound, error) {
	v, err := b.bind(x.X)
	if err != nil {
		return nil, err
	}
	lo, err := b.bind(x.Lo)
	if err != nil {
		return nil, err
	}
	hi, err := b.bind(x.Hi)
	if err != nil {
		return nil, err
	}
	if v.typ == model.DateTime && lo.typ == model.DateTime && hi.typ == model.TimeSpan {
		// datetime between (start .. length)
		span := hi
		hi = &bound{typ: model.DateTime, konst: lo.konst && span.konst, eval: func(row []any) any {
			s, d := lo.eval(row), span.eval(row)
			if s == nil || d == nil {
				return nil
			}
			return s.(time.Time).Add(d.(time.Duration))
		}}
	}
	for _, e := range []*bound{lo, hi} {
		if _, ok := comparableTypes(v.typ, e.typ); !ok {
			return nil, b.semantic("the operator 'between' cannot compare %s with %s", v.typ, e.typ)
		}
	}
	cmpLo, cmpHi := cmpFunc(v.typ, lo.typ), cmpFunc(v.typ, hi.typ)
	return &bound{typ: model.Bool, konst: v.konst && lo.konst && hi.konst, eval: func(row []any) any {
		a := v.eval(row)
		c1, ok1 := cmpLo(a, lo.eval(row))
		c2, ok2 := cmpHi(a, hi.eval(row))
		if !ok1 || !ok2 {
			return nil
		}
		return (c1 >= 0 && c2 <= 0) != x.Not
	}}, nil
}

// stringPredicates are the string operators by name (without the '!' prefix).
var stringPredicates = map[string]func(s, t string) bool{
	"has":           func(s, t string) bool { return hasTerm(s, t, false) },
	"has_cs":        func(s, t string) bool { return hasTerm(s, t, true) },
	"hasprefix":     func(s, t string) bool { return hasAffix(s, t, true) },
	"hassuffix":     func(s, t string) bool { return hasAffix(s, t, false) },
	"contains":      func(s, t string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(t)) },
	"contains_cs":   strings.Contains,
	"startswith":    func(s, t string) bool { return strings.HasPrefix(strings.ToLower(s), strings.ToLower(t)) },
	"startswith_cs": strings.HasPrefix,
	"endswith":      func(s, t string) bool { return strings.HasSuffix(strings.ToLower(s), strings.ToLower(t)) },
	"endswith_cs":   strings.HasSuffix,
}

func isTermRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// hasTerm reports whether needle occurs in s as whole terms: Kusto's 'has'. Terms are runs of
// letters and digits; the match must not extend a term of s on either side.
func hasTerm(s, needle string, caseSensitive bool) bool {
	return findTerm(s, needle, caseSensitive, true, true)
}

// hasAffix is 'hasprefix' (a term of s starts with needle) and 'hassuffix'.
func hasAffix(s, needle string, prefix bool) bool {
	return findTerm(s, needle, false, prefix, !prefix)
}

func findTerm(s, needle string, caseSensitive, left, right bool) bool {
	if !caseSensitive {
		s, needle = strings.ToLower(s), strings.ToLower(needle)
	}
	if needle == "" {
		return true
	}
	first, _ := utf8.DecodeRuneInString(needle)
	last, _ := utf8.DecodeLastRuneInString(needle)
	for from := 0; from <= len(s); {
		j := strings.Index(s[from:], needle)
		if j < 0 {
			return false
		}
		start, end := from+j, from+j+len(needle)
		okLeft, okRight := true, true
		if left && start > 0 && isTermRune(first) {
			r, _ := utf8.DecodeLastRuneInString(s[:start])
			okLeft = !isTermRune(r)
		}
		if right && end < len(s) && isTermRune(last) {
			r, _ := utf8.DecodeRuneInString(s[end:])
			okRight = !isTermRune(r)
		}
		if okLeft && okRight {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		from = start + max(size, 1)
	}
	return false
}
