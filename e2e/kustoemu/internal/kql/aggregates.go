package kql

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// aggregator accumulates one aggregate over the rows of one group.
type aggregator interface {
	add(row []any)
	result() any
}

// aggFunc is an aggregation function of summarize: the prefix of its default column name
// (count_, sum_x …), its arity and how it binds to its arguments.
type aggFunc struct {
	prefix   string
	min, max int
	bind     func(b *binder, args []*bound) (model.Type, func() aggregator, error)
}

// maxSetSize is make_set's and make_list's default cap.
const maxSetSize = 1048576

var aggregateFuncs map[string]aggFunc

func init() {
	aggregateFuncs = map[string]aggFunc{
		"count":     {"count", 0, 1, bindCount},
		"countif":   {"countif", 1, 1, bindCountIf},
		"dcount":    {"dcount", 1, 2, bindDcount},
		"sum":       {"sum", 1, 1, bindSum},
		"min":       {"min", 1, 1, bindMinMax(-1)},
		"max":       {"max", 1, 1, bindMinMax(1)},
		"avg":       {"avg", 1, 1, bindAvg},
		"make_set":  {"set", 1, 2, bindMakeList(true)},
		"make_list": {"list", 1, 2, bindMakeList(false)},
		"take_any":  {"any", 1, 1, bindTakeAny},
		"any":       {"any", 1, 1, bindTakeAny},
	}
}

type simpleAgg struct {
	addFn    func(row []any)
	resultFn func() any
}

func (a *simpleAgg) add(row []any) { a.addFn(row) }
func (a *simpleAgg) result() any   { return a.resultFn() }

func bindCount(_ *binder, a []*bound) (model.Type, func() aggregator, error) {
	return model.Long, func() aggregator {
		var n int64
		return &simpleAgg{func(row []any) {
			if len(a) == 0 || a[0].eval(row) != nil {
				n++
			}
		}, func() any { return n }}
	}, nil
}

func bindCountIf(b *binder, a []*bound) (model.Type, func() aggregator, error) {
	pred, ok := asBool(a[0])
	if !ok {
		return "", nil, b.semantic("countif() expects a bool predicate, got %s", a[0].typ)
	}
	return model.Long, func() aggregator {
		var n int64
		return &simpleAgg{func(row []any) {
			if pred(row) == true {
				n++
			}
		}, func() any { return n }}
	}, nil
}

func bindDcount(b *binder, a []*bound) (model.Type, func() aggregator, error) {
	x := a[0]
	if len(a) == 2 && !a[1].konst {
		return "", nil, b.semantic("the accuracy of dcount() must be a constant")
	}
	return model.Long, func() aggregator {
		seen := map[string]struct{}{}
		var sb strings.Builder
		return &simpleAgg{func(row []any) {
			v := x.eval(row)
			if v == nil {
				return
			}
			sb.Reset()
			groupKey(&sb, x.typ, v)
			seen[sb.String()] = struct{}{}
		}, func() any { return int64(len(seen)) }}
	}, nil
}

func bindSum(b *binder, a []*bound) (model.Type, func() aggregator, error) {
	x := a[0]
	switch x.typ {
	case model.Int, model.Long:
		return model.Long, func() aggregator {
			var sum int64
			have := false
			return &simpleAgg{func(row []any) {
				if v := x.eval(row); v != nil {
					sum += toI64(v)
					have = true
				}
			}, func() any { return nullUnless(have, sum) }}
		}, nil
	case model.Real:
		return model.Real, func() aggregator {
			var sum float64
			have := false
			return &simpleAgg{func(row []any) {
				if v := x.eval(row); v != nil {
					sum += v.(float64)
					have = true
				}
			}, func() any { return nullUnless(have, sum) }}
		}, nil
	case model.Decimal:
		return model.Decimal, func() aggregator {
			sum := decimal.Zero
			have := false
			return &simpleAgg{func(row []any) {
				if v := x.eval(row); v != nil {
					sum = sum.Add(toDec(v))
					have = true
				}
			}, func() any { return nullUnless(have, sum) }}
		}, nil
	case model.TimeSpan:
		return model.TimeSpan, func() aggregator {
			var sum time.Duration
			have := false
			return &simpleAgg{func(row []any) {
				if v := x.eval(row); v != nil {
					sum += v.(time.Duration)
					have = true
				}
			}, func() any { return nullUnless(have, sum) }}
		}, nil
	}
	return "", nil, b.semantic("sum() is not defined for %s", x.typ)
}

func nullUnless(ok bool, v any) any {
	if !ok {
		return nil
	}
	return v
}

func bindMinMax(sign int) func(*binder, []*bound) (model.Type, func() aggregator, error) {
	return func(b *binder, a []*bound) (model.Type, func() aggregator, error) {
		x := a[0]
		if x.typ == model.Dynamic {
			return "", nil, b.semantic("min() and max() are not defined for dynamic values; cast them first")
		}
		return x.typ, func() aggregator {
			var best any
			return &simpleAgg{func(row []any) {
				v := x.eval(row)
				if v == nil {
					return
				}
				if best == nil || compareSame(x.typ, v, best)*sign > 0 {
					best = v
				}
			}, func() any {
				if best == nil && x.typ == model.String {
					return ""
				}
				return best
			}}
		}, nil
	}
}

func bindAvg(b *binder, a []*bound) (model.Type, func() aggregator, error) {
	x := a[0]
	if !isNumeric(x.typ) {
		return "", nil, b.semantic("avg() is not defined for %s", x.typ)
	}
	return model.Real, func() aggregator {
		var sum float64
		var n int64
		return &simpleAgg{func(row []any) {
			if v := x.eval(row); v != nil {
				sum += toF64(v)
				n++
			}
		}, func() any {
			if n == 0 {
				return nil
			}
			return sum / float64(n)
		}}
	}, nil
}

func bindMakeList(distinct bool) func(*binder, []*bound) (model.Type, func() aggregator, error) {
	return func(b *binder, a []*bound) (model.Type, func() aggregator, error) {
		x := a[0]
		limit := int64(maxSetSize)
		if len(a) == 2 {
			if !a[1].konst || (a[1].typ != model.Long && a[1].typ != model.Int) {
				return "", nil, b.semantic("the maximum size must be a constant integer")
			}
			if n := a[1].eval(nil); n != nil && toI64(n) > 0 {
				limit = toI64(n)
			}
		}
		return model.Dynamic, func() aggregator {
			out := []any{}
			seen := map[string]struct{}{}
			var sb strings.Builder
			return &simpleAgg{func(row []any) {
				v := x.eval(row)
				if v == nil || int64(len(out)) >= limit {
					return
				}
				if distinct {
					sb.Reset()
					groupKey(&sb, x.typ, v)
					if _, dup := seen[sb.String()]; dup {
						return
					}
					seen[sb.String()] = struct{}{}
				}
				out = append(out, toDynamic(x.typ, v))
			}, func() any { return out }}
		}, nil
	}
}

func bindTakeAny(_ *binder, a []*bound) (model.Type, func() aggregator, error) {
	x := a[0]
	return x.typ, func() aggregator {
		var got any
		return &simpleAgg{func(row []any) {
			if got == nil || got == "" {
				got = x.eval(row)
			}
		}, func() any {
			if got == nil && x.typ == model.String {
				return ""
			}
			return got
		}}
	}, nil
}
