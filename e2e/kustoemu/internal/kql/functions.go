package kql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// scalarFunc is a scalar function: its arity (max < 0 = any number) and how it binds.
type scalarFunc struct {
	min, max int
	bind     func(b *binder, args []*bound) (*bound, error)
}

var scalarFuncs map[string]scalarFunc

func init() {
	conv := func(to model.Type) scalarFunc {
		return scalarFunc{1, 1, func(_ *binder, a []*bound) (*bound, error) {
			x := a[0]
			return &bound{typ: to, konst: x.konst, eval: func(row []any) any { return convertTo(to, x.typ, x.eval(row)) }}, nil
		}}
	}
	scalarFuncs = map[string]scalarFunc{
		"tostring":     conv(model.String),
		"toint":        conv(model.Int),
		"tolong":       conv(model.Long),
		"todouble":     conv(model.Real),
		"toreal":       conv(model.Real),
		"todecimal":    conv(model.Decimal),
		"tobool":       conv(model.Bool),
		"toboolean":    conv(model.Bool),
		"todatetime":   conv(model.DateTime),
		"totimespan":   conv(model.TimeSpan),
		"totime":       conv(model.TimeSpan),
		"toguid":       conv(model.GUID),
		"todynamic":    {1, 1, bindParseJSON},
		"toobject":     {1, 1, bindParseJSON},
		"parse_json":   {1, 1, bindParseJSON},
		"strlen":       {1, 1, bindStrlen},
		"tolower":      {1, 1, stringMap(strings.ToLower)},
		"toupper":      {1, 1, stringMap(strings.ToUpper)},
		"now":          {0, 1, bindNow},
		"ago":          {1, 1, bindAgo},
		"iif":          {3, 3, bindIif},
		"iff":          {3, 3, bindIif},
		"coalesce":     {1, 64, bindCoalesce},
		"array_length": {1, 1, bindArrayLength},
		"isnull":       {1, 1, nullTest(false, false)},
		"isnotnull":    {1, 1, nullTest(true, false)},
		"isempty":      {1, 1, nullTest(false, true)},
		"isnotempty":   {1, 1, nullTest(true, true)},
		"bin":          {2, 2, bindBin},
		"floor":        {2, 2, bindBin},
		"strcat":       {1, 64, bindStrcat},
		"substring":    {2, 3, bindSubstring},
		"split":        {2, 2, bindSplit},
		"replace_string": {3, 3, func(b *binder, a []*bound) (*bound, error) {
			s, f, r := stringOf(a[0]), stringOf(a[1]), stringOf(a[2])
			return &bound{typ: model.String, konst: allConst(a), eval: func(row []any) any {
				find := f(row)
				if find == "" {
					return s(row)
				}
				return strings.ReplaceAll(s(row), find, r(row))
			}}, nil
		}},
		"abs":        {1, 1, bindAbs},
		"round":      {1, 2, bindRound},
		"not":        {1, 1, bindNot},
		"bag_pack":   {0, 64, bindBagPack},
		"pack":       {0, 64, bindBagPack},
		"pack_array": {0, 64, bindPackArray},
	}
}

func (b *binder) call(c *Call) (*bound, error) {
	if _, isAgg := aggregateFuncs[c.Fn]; isAgg {
		return nil, b.semantic("the aggregate function '%s' can only be used in summarize", c.Fn)
	}
	f, ok := scalarFuncs[c.Fn]
	if !ok {
		return nil, b.semantic("Unknown function: '%s'", c.Fn)
	}
	if len(c.Args) < f.min || (f.max >= 0 && len(c.Args) > f.max) {
		return nil, b.semantic("the function '%s' expects %s, got %d", c.Fn, arity(f.min, f.max), len(c.Args))
	}
	args := make([]*bound, len(c.Args))
	for i, a := range c.Args {
		v, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	out, err := f.bind(b, args)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func arity(lo, hi int) string {
	switch {
	case lo == hi && lo == 1:
		return "1 argument"
	case lo == hi:
		return strconv.Itoa(lo) + " arguments"
	}
	return strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + " arguments"
}

func allConst(a []*bound) bool {
	for _, x := range a {
		if !x.konst {
			return false
		}
	}
	return true
}

func bindParseJSON(_ *binder, a []*bound) (*bound, error) {
	x := a[0]
	return &bound{typ: model.Dynamic, konst: x.konst, eval: func(row []any) any {
		v := x.eval(row)
		if s, ok := v.(string); ok && (x.typ == model.String || x.typ == model.Dynamic) {
			if parsed, err := model.DecodeJSON([]byte(s)); err == nil {
				return parsed
			}
			if x.typ == model.String && s == "" {
				return nil
			}
			return s
		}
		return toDynamic(x.typ, v)
	}}, nil
}

func bindStrlen(_ *binder, a []*bound) (*bound, error) {
	s := stringOf(a[0])
	return &bound{typ: model.Long, konst: a[0].konst, eval: func(row []any) any {
		// Kusto counts UTF-16 code units, as .NET strings do.
		n := int64(0)
		for _, r := range s(row) {
			n++
			if r > 0xFFFF {
				n++
			}
		}
		return n
	}}, nil
}

func stringMap(f func(string) string) func(*binder, []*bound) (*bound, error) {
	return func(_ *binder, a []*bound) (*bound, error) {
		s := stringOf(a[0])
		return &bound{typ: model.String, konst: a[0].konst, eval: func(row []any) any { return f(s(row)) }}, nil
	}
}

func bindNow(b *binder, a []*bound) (*bound, error) {
	now := b.q.now
	if len(a) == 0 {
		return constant(model.DateTime, now), nil
	}
	if a[0].typ != model.TimeSpan {
		return nil, b.semantic("now() expects a timespan offset, got %s", a[0].typ)
	}
	off := a[0]
	return &bound{typ: model.DateTime, konst: off.konst, eval: func(row []any) any {
		if d, ok := off.eval(row).(time.Duration); ok {
			return now.Add(d)
		}
		return nil
	}}, nil
}

func bindAgo(b *binder, a []*bound) (*bound, error) {
	if a[0].typ != model.TimeSpan {
		return nil, b.semantic("ago() expects a timespan, got %s", a[0].typ)
	}
	now, x := b.q.now, a[0]
	return &bound{typ: model.DateTime, konst: x.konst, eval: func(row []any) any {
		if d, ok := x.eval(row).(time.Duration); ok {
			return now.Add(-d)
		}
		return nil
	}}, nil
}

// commonType is the type values of the given types are returned in (iif, coalesce).
func commonType(ts ...*bound) (model.Type, bool) {
	t := ts[0].typ
	for _, x := range ts[1:] {
		switch {
		case x.typ == t:
		case isNumeric(x.typ) && isNumeric(t):
			t = promote(t, x.typ)
		default:
			return "", false
		}
	}
	return t, true
}

func castTo(t model.Type, x *bound) func([]any) any {
	if x.typ == t {
		return x.eval
	}
	return func(row []any) any {
		v := x.eval(row)
		if v == nil {
			return nil
		}
		return castNumeric(t, v)
	}
}

func bindIif(b *binder, a []*bound) (*bound, error) {
	pred, ok := asBool(a[0])
	if !ok {
		return nil, b.semantic("iif() expects a bool condition, got %s", a[0].typ)
	}
	t, ok := commonType(a[1], a[2])
	if !ok {
		return nil, b.semantic("iif(): the two results must have the same type, got %s and %s", a[1].typ, a[2].typ)
	}
	yes, no := castTo(t, a[1]), castTo(t, a[2])
	return &bound{typ: t, konst: allConst(a), eval: func(row []any) any {
		if pred(row) == true {
			return yes(row)
		}
		return no(row)
	}}, nil
}

func bindCoalesce(b *binder, a []*bound) (*bound, error) {
	t, ok := commonType(a...)
	if !ok {
		return nil, b.semantic("coalesce(): all arguments must have the same type")
	}
	evals := make([]func([]any) any, len(a))
	for i, x := range a {
		evals[i] = castTo(t, x)
	}
	return &bound{typ: t, konst: allConst(a), eval: func(row []any) any {
		for _, e := range evals {
			v := e(row)
			if v != nil && v != "" {
				return v
			}
		}
		if t == model.String {
			return ""
		}
		return nil
	}}, nil
}

func bindArrayLength(b *binder, a []*bound) (*bound, error) {
	if a[0].typ != model.Dynamic {
		return nil, b.semantic("array_length() expects a dynamic value, got %s", a[0].typ)
	}
	x := a[0]
	return &bound{typ: model.Long, konst: x.konst, eval: func(row []any) any {
		if arr, ok := x.eval(row).([]any); ok {
			return int64(len(arr))
		}
		return nil
	}}, nil
}

// nullTest is isnull (false, false), isnotnull, isempty (false, true) and isnotempty.
func nullTest(negate, emptyToo bool) func(*binder, []*bound) (*bound, error) {
	return func(_ *binder, a []*bound) (*bound, error) {
		x := a[0]
		return &bound{typ: model.Bool, konst: x.konst, eval: func(row []any) any {
			v := x.eval(row)
			isNull := v == nil
			if x.typ == model.String {
				// Strings are never null; only isempty looks at them.
				isNull = emptyToo && v == ""
			} else if emptyToo && v == "" {
				isNull = true
			}
			return isNull != negate
		}}, nil
	}
}

func bindBin(b *binder, a []*bound) (*bound, error) {
	x, size := a[0], a[1]
	konst := x.konst && size.konst
	switch {
	case isNumeric(x.typ) && isNumeric(size.typ):
		t := promote(x.typ, size.typ)
		return &bound{typ: t, konst: konst, eval: func(row []any) any {
			v, s := x.eval(row), size.eval(row)
			if v == nil || s == nil {
				return nil
			}
			switch t {
			case model.Int, model.Long:
				n, m := toI64(v), toI64(s)
				if m <= 0 {
					return nil
				}
				q := n / m
				if n%m != 0 && n < 0 {
					q--
				}
				return castNumeric(t, q*m)
			case model.Decimal:
				m := toDec(s)
				if !m.IsPositive() {
					return nil
				}
				return toDec(v).Div(m).Floor().Mul(m)
			}
			m := toF64(s)
			if m <= 0 {
				return nil
			}
			return math.Floor(toF64(v)/m) * m
		}}, nil
	case (x.typ == model.DateTime || x.typ == model.TimeSpan) && size.typ == model.TimeSpan:
		return &bound{typ: x.typ, konst: konst, eval: func(row []any) any {
			v, s := x.eval(row), size.eval(row)
			if v == nil || s == nil {
				return nil
			}
			m := int64(s.(time.Duration) / 100)
			if m <= 0 {
				return nil
			}
			floor := func(n int64) int64 {
				q := n / m
				if n%m != 0 && n < 0 {
					q--
				}
				return q * m
			}
			if x.typ == model.TimeSpan {
				return time.Duration(floor(int64(v.(time.Duration)/100))) * 100
			}
			return fromTicks(floor(dateTimeTicks(v.(time.Time))))
		}}, nil
	}
	return nil, b.semantic("bin() is not defined for arguments of types %s and %s", x.typ, size.typ)
}

func bindStrcat(_ *binder, a []*bound) (*bound, error) {
	parts := make([]func([]any) string, len(a))
	for i, x := range a {
		parts[i] = stringOf(x)
	}
	return &bound{typ: model.String, konst: allConst(a), eval: func(row []any) any {
		var sb strings.Builder
		for _, p := range parts {
			sb.WriteString(p(row))
		}
		return sb.String()
	}}, nil
}

func bindSubstring(b *binder, a []*bound) (*bound, error) {
	s := stringOf(a[0])
	for _, x := range a[1:] {
		if x.typ != model.Int && x.typ != model.Long {
			return nil, b.semantic("substring() expects integer positions, got %s", x.typ)
		}
	}
	return &bound{typ: model.String, konst: allConst(a), eval: func(row []any) any {
		runes := []rune(s(row))
		startV := a[1].eval(row)
		if startV == nil {
			return ""
		}
		start := max(toI64(startV), 0)
		if start >= int64(len(runes)) {
			return ""
		}
		end := int64(len(runes))
		if len(a) == 3 {
			n := a[2].eval(row)
			if n == nil {
				return ""
			}
			end = min(end, start+max(toI64(n), 0))
		}
		return string(runes[start:end])
	}}, nil
}

func bindSplit(_ *binder, a []*bound) (*bound, error) {
	s, sep := stringOf(a[0]), stringOf(a[1])
	return &bound{typ: model.Dynamic, konst: allConst(a), eval: func(row []any) any {
		text, d := s(row), sep(row)
		var parts []string
		if d == "" {
			parts = []string{text}
		} else {
			parts = strings.Split(text, d)
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out
	}}, nil
}

func bindAbs(b *binder, a []*bound) (*bound, error) {
	x := a[0]
	if !isNumeric(x.typ) && x.typ != model.TimeSpan {
		return nil, b.semantic("abs() is not defined for %s", x.typ)
	}
	return &bound{typ: x.typ, konst: x.konst, eval: func(row []any) any {
		switch v := x.eval(row).(type) {
		case int32:
			if v < 0 {
				return -v
			}
			return v
		case int64:
			if v < 0 {
				return -v
			}
			return v
		case float64:
			return math.Abs(v)
		case time.Duration:
			if v < 0 {
				return -v
			}
			return v
		case nil:
			return nil
		default:
			return toDec(v).Abs()
		}
	}}, nil
}

func bindRound(b *binder, a []*bound) (*bound, error) {
	x := a[0]
	if !isNumeric(x.typ) {
		return nil, b.semantic("round() is not defined for %s", x.typ)
	}
	var digits *bound
	if len(a) == 2 {
		if a[1].typ != model.Int && a[1].typ != model.Long {
			return nil, b.semantic("round() expects an integer precision, got %s", a[1].typ)
		}
		digits = a[1]
	}
	return &bound{typ: x.typ, konst: allConst(a), eval: func(row []any) any {
		v := x.eval(row)
		if v == nil {
			return nil
		}
		d := int64(0)
		if digits != nil {
			dv := digits.eval(row)
			if dv == nil {
				return nil
			}
			d = toI64(dv)
		}
		switch x.typ {
		case model.Real:
			p := math.Pow(10, float64(d))
			return math.Round(v.(float64)*p) / p
		case model.Decimal:
			return toDec(v).Round(int32(d))
		}
		if d >= 0 {
			return v
		}
		p := int64(math.Pow(10, float64(-d)))
		n := toI64(v)
		r := (n + p/2) / p * p
		if n < 0 {
			r = (n - p/2) / p * p
		}
		return castNumeric(x.typ, r)
	}}, nil
}

func bindNot(b *binder, a []*bound) (*bound, error) {
	x, ok := asBool(a[0])
	if !ok {
		return nil, b.semantic("not() expects a bool, got %s", a[0].typ)
	}
	return &bound{typ: model.Bool, konst: a[0].konst, eval: func(row []any) any {
		if v, ok := x(row).(bool); ok {
			return !v
		}
		return nil
	}}, nil
}

func bindBagPack(b *binder, a []*bound) (*bound, error) {
	if len(a)%2 != 0 {
		return nil, b.semantic("bag_pack() expects key/value pairs")
	}
	for i := 0; i < len(a); i += 2 {
		if a[i].typ != model.String {
			return nil, b.semantic("bag_pack() keys must be strings, got %s", a[i].typ)
		}
	}
	return &bound{typ: model.Dynamic, konst: allConst(a), eval: func(row []any) any {
		bag := make(map[string]any, len(a)/2)
		for i := 0; i < len(a); i += 2 {
			bag[a[i].eval(row).(string)] = toDynamic(a[i+1].typ, a[i+1].eval(row))
		}
		return bag
	}}, nil
}

func bindPackArray(_ *binder, a []*bound) (*bound, error) {
	return &bound{typ: model.Dynamic, konst: allConst(a), eval: func(row []any) any {
		arr := make([]any, len(a))
		for i, x := range a {
			arr[i] = toDynamic(x.typ, x.eval(row))
		}
		return arr
	}}, nil
}
