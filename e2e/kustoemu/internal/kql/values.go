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

// Values follow the model's representation (model/value.go): int int32, long int64, real
// float64, decimal decimal.Decimal, datetime time.Time, timespan time.Duration, guid uuid.UUID,
// bool bool, string string (never null), dynamic a JSON value. nil is null.

func isNumeric(t model.Type) bool {
	return t == model.Int || t == model.Long || t == model.Real || t == model.Decimal
}

// promote is the type two numeric operands are computed in.
func promote(a, b model.Type) model.Type {
	switch {
	case a == model.Decimal || b == model.Decimal:
		return model.Decimal
	case a == model.Real || b == model.Real:
		return model.Real
	case a == model.Long || b == model.Long:
		return model.Long
	}
	return model.Int
}

func toI64(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	case decimal.Decimal:
		return x.IntPart()
	}
	return 0
}

func toF64(v any) float64 {
	switch x := v.(type) {
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	case decimal.Decimal:
		f, _ := x.Float64()
		return f
	case json.Number:
		f, _ := model.ParseReal(string(x))
		return f
	}
	return 0
}

func toDec(v any) decimal.Decimal {
	switch x := v.(type) {
	case int32:
		return decimal.NewFromInt(int64(x))
	case int64:
		return decimal.NewFromInt(x)
	case float64:
		return decimal.NewFromFloat(x)
	case decimal.Decimal:
		return x
	}
	return decimal.Zero
}

// castNumeric converts a non-null numeric value to numeric type t.
func castNumeric(t model.Type, v any) any {
	switch t {
	case model.Int:
		return int32(toI64(v))
	case model.Long:
		return toI64(v)
	case model.Real:
		return toF64(v)
	case model.Decimal:
		return toDec(v)
	}
	return v
}

// compareSame orders two non-null values of the same type t: -1, 0 or 1.
func compareSame(t model.Type, a, b any) int {
	switch t {
	case model.String:
		return strings.Compare(a.(string), b.(string))
	case model.Int, model.Long:
		return cmpInt(toI64(a), toI64(b))
	case model.Real:
		x, y := toF64(a), toF64(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		case x == y:
			return 0
		case math.IsNaN(x) && !math.IsNaN(y):
			return -1
		case !math.IsNaN(x) && math.IsNaN(y):
			return 1
		}
		return 0
	case model.Decimal:
		return toDec(a).Cmp(toDec(b))
	case model.Bool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case model.DateTime:
		return a.(time.Time).Compare(b.(time.Time))
	case model.TimeSpan:
		return cmpInt(int64(a.(time.Duration)), int64(b.(time.Duration)))
	case model.GUID:
		return strings.Compare(a.(uuid.UUID).String(), b.(uuid.UUID).String())
	}
	return strings.Compare(dynamicText(a), dynamicText(b))
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// dynamicText is the compact JSON text of a dynamic value (a string stays as it is).
func dynamicText(v any) string { return model.FormatText(v) }

// toDynamic converts a value of type t to a dynamic (JSON) value.
func toDynamic(t model.Type, v any) any {
	if t == model.Dynamic {
		return v
	}
	if v == nil {
		return nil
	}
	if t == model.String {
		// A string stays a string inside a dynamic value (parse_json is what parses text),
		// and the empty string stays "".
		return v
	}
	d, _ := model.Convert(model.Dynamic, model.FormatJSON(t, v))
	return d
}

// fromDynamic converts a dynamic value to type t (null when it does not convert).
func fromDynamic(t model.Type, v any) any {
	if v == nil {
		if t == model.String {
			return ""
		}
		return nil
	}
	if t == model.String {
		return model.FormatText(v)
	}
	out, _ := model.Convert(t, v)
	return out
}

// convertTo converts a value of type from to type to, as the to*() functions do.
func convertTo(to, from model.Type, v any) any {
	if from == to {
		return v
	}
	if v == nil {
		if to == model.String {
			return ""
		}
		return nil
	}
	if to == model.String {
		return model.FormatText(v)
	}
	if from == model.Dynamic {
		return fromDynamic(to, v)
	}
	if to == model.Dynamic {
		return toDynamic(from, v)
	}
	switch {
	case isNumeric(from) && isNumeric(to):
		if from == model.Real && to != model.Real && to != model.Decimal {
			f := v.(float64)
			if math.IsNaN(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f < math.MinInt64 {
				return nil
			}
			if to == model.Int && (f >= math.MaxInt32+1 || f < math.MinInt32) {
				return nil
			}
		}
		if to == model.Int && from == model.Long && (toI64(v) > math.MaxInt32 || toI64(v) < math.MinInt32) {
			return nil
		}
		return castNumeric(to, v)
	case from == model.TimeSpan && (to == model.Long || to == model.Int || to == model.Real):
		// Kusto converts timespans to numbers as ticks.
		return castNumeric(to, int64(v.(time.Duration)/100))
	case from == model.DateTime && (to == model.Long || to == model.Real):
		return castNumeric(to, dateTimeTicks(v.(time.Time)))
	case isNumeric(from) && to == model.Bool:
		return toF64(v) != 0
	case from == model.Bool && isNumeric(to):
		if v.(bool) {
			return castNumeric(to, int64(1))
		}
		return castNumeric(to, int64(0))
	case isNumeric(from) && to == model.TimeSpan:
		return time.Duration(toI64(v)) * 100
	case from == model.String:
		out, _ := model.Convert(to, v)
		return out
	}
	out, _ := model.Convert(to, model.FormatJSON(from, v))
	return out
}

// epochTicks is the number of 100 ns ticks from 0001-01-01 to 1970-01-01.
const epochTicks = 62135596800 * 10_000_000

// dateTimeTicks is Kusto's tick count of a datetime (100 ns since 0001-01-01).
func dateTimeTicks(t time.Time) int64 {
	return t.Unix()*10_000_000 + int64(t.Nanosecond()/100) + epochTicks
}

// fromTicks is the inverse of dateTimeTicks.
func fromTicks(ticks int64) time.Time {
	ticks -= epochTicks
	sec := ticks / 10_000_000
	rem := ticks % 10_000_000
	if rem < 0 {
		sec--
		rem += 10_000_000
	}
	return time.Unix(sec, rem*100).UTC()
}

// groupKey writes an unambiguous key of a value, for grouping and distinct.
func groupKey(b *strings.Builder, t model.Type, v any) {
	if v == nil {
		b.WriteString("\x01")
		return
	}
	b.WriteString("\x02")
	s := model.FormatText(v)
	if t == model.Dynamic {
		s = dynamicKey(v)
	}
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// dynamicKey distinguishes the dynamic string "1" from the number 1.
func dynamicKey(v any) string {
	if s, ok := v.(string); ok {
		return "s" + s
	}
	return "j" + model.FormatText(v)
}
