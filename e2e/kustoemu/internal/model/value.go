package model

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Values of each type are held as these Go types; nil is null:
//
//	string string (never null: a null string is "")
//	int int32, long int64, real float64, bool bool
//	datetime time.Time (UTC), timespan time.Duration, guid uuid.UUID, decimal decimal.Decimal
//	dynamic any JSON value: map[string]any, []any, string, json.Number, bool, or nil
//
// Convert turns a source value into that representation; FormatJSON and FormatText turn it back
// into the wire and text forms.

// Convert converts a source value to a value of type t following Kusto's ingestion rules: text
// is parsed (empty text is null, except for strings), JSON values are taken as they are, and a
// value that cannot be converted becomes null (ok = false) rather than failing the row, as Kusto
// does. Sources are text from delimited formats, JSON values (decoded with UseNumber), Avro
// values (int32, int64, float32, float64, []byte, map[string]any, []any, time.Time …) and values
// of the types above.
func Convert(t Type, v any) (out any, ok bool) {
	if t == String {
		return toString(v), true
	}
	if v == nil {
		return nil, true
	}
	if s, isText := v.(string); isText && t != Dynamic {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, true
		}
		return parseText(t, s)
	}
	switch t {
	case Int:
		n, ok := toInt64(v)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return nil, false
		}
		return int32(n), true
	case Long:
		n, ok := toInt64(v)
		if !ok {
			return nil, false
		}
		return n, true
	case Real:
		f, ok := toFloat(v)
		if !ok {
			return nil, false
		}
		return f, true
	case Bool:
		switch b := v.(type) {
		case bool:
			return b, true
		default:
			if f, ok := toFloat(v); ok {
				return f != 0, true
			}
		}
	case DateTime:
		if tm, ok := v.(time.Time); ok {
			return tm.UTC(), true
		}
	case TimeSpan:
		if d, ok := v.(time.Duration); ok {
			return d, true
		}
	case GUID:
		switch g := v.(type) {
		case uuid.UUID:
			return g, true
		case []byte:
			if u, err := uuid.FromBytes(g); err == nil {
				return u, true
			}
		}
	case Decimal:
		switch d := v.(type) {
		case decimal.Decimal:
			return d, true
		case json.Number:
			if x, err := decimal.NewFromString(string(d)); err == nil {
				return x, true
			}
		default:
			if n, ok := toInt64(v); ok {
				return decimal.NewFromInt(n), true
			}
			if f, ok := toFloat(v); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return decimal.NewFromFloat(f), true
			}
		}
	case Dynamic:
		// Empty text is null for every type but string, dynamic included.
		if s, isText := v.(string); isText && strings.TrimSpace(s) == "" {
			return nil, true
		}
		return toDynamic(v), true
	}
	return nil, false
}

func parseText(t Type, s string) (any, bool) {
	switch t {
	case Int:
		n, ok := parseInt(s)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return nil, false
		}
		return int32(n), true
	case Long:
		n, ok := parseInt(s)
		if !ok {
			return nil, false
		}
		return n, true
	case Real:
		f, ok := ParseReal(s)
		if !ok {
			return nil, false
		}
		return f, true
	case Bool:
		switch strings.ToLower(s) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	case DateTime:
		if tm, err := ParseDateTime(s); err == nil {
			return tm, true
		}
	case TimeSpan:
		if d, err := ParseTimeSpan(s); err == nil {
			return d, true
		}
	case GUID:
		if u, err := uuid.Parse(s); err == nil {
			return u, true
		}
	case Decimal:
		if d, err := decimal.NewFromString(s); err == nil {
			return d, true
		}
	}
	return nil, false
}

// parseInt accepts integers and, as Kusto does, reals with an integral part (truncated).
func parseInt(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// ParseReal parses a real as Kusto prints and reads it, including NaN and ±Infinity.
func ParseReal(s string) (float64, bool) {
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), true
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), true
	case "-infinity", "-inf":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint32:
		return int64(n), true
	case float32:
		return toInt64(float64(n))
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) || n > math.MaxInt64 || n < math.MinInt64 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		return parseInt(string(n))
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	case decimal.Decimal:
		return n.IntPart(), true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case json.Number:
		return ParseReal(string(n))
	case decimal.Decimal:
		f, _ := n.Float64()
		return f, true
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	if i, ok := toInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

// toString renders any source value as a Kusto string: text as is, null as "", JSON values as
// compact JSON, typed values in their text form.
func toString(v any) string {
	switch x := v.(type) {
	case nil, dbNull:
		return ""
	case string:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int32, int64, int, int16, int8:
		return fmt.Sprint(x)
	case float64:
		return FormatReal(x)
	case float32:
		return FormatReal(float64(x))
	case time.Time:
		return FormatDateTime(x)
	case time.Duration:
		return FormatTimeSpan(x)
	case uuid.UUID:
		return x.String()
	case decimal.Decimal:
		return x.String()
	}
	b, err := marshalCompact(toDynamic(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// toDynamic normalises a source value to a JSON value (numbers as json.Number). Text that is a
// JSON object or array is parsed; other text stays a string.
func toDynamic(v any) any {
	switch x := v.(type) {
	case nil, bool, json.Number:
		return x
	case string:
		t := strings.TrimSpace(x)
		if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			if parsed, err := DecodeJSON([]byte(t)); err == nil {
				return parsed
			}
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toDynamic(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toDynamic(e)
		}
		return out
	case int, int8, int16, int32, int64:
		return json.Number(fmt.Sprint(x))
	case float32:
		return toDynamic(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return FormatReal(x)
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return toString(v)
}

// DecodeJSON parses one JSON value with numbers kept as json.Number.
func DecodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// FormatJSON returns the JSON value a column of type t carries on the wire (v1 and v2 rows):
// numbers as numbers, reals that are not finite as "NaN"/"Infinity"/"-Infinity", datetimes,
// timespans, guids and decimals as strings, dynamic values as embedded JSON. A nil string is
// "" (strings are never null); DBNull is null in any column.
func FormatJSON(t Type, v any) any {
	if v == DBNull {
		return nil
	}
	if v == nil {
		if t == String {
			return ""
		}
		return nil
	}
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return FormatReal(x)
		}
		return x
	case time.Time:
		return FormatDateTime(x)
	case time.Duration:
		return FormatTimeSpan(x)
	case uuid.UUID:
		return x.String()
	case decimal.Decimal:
		return x.String()
	}
	return v
}

// FormatText renders a value as tostring() does ("" for null).
func FormatText(v any) string { return toString(v) }

// FormatReal renders a real as Kusto does: shortest round-trip digits, NaN, Infinity, -Infinity.
func FormatReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RFC1123,
	time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2006/01/02 15:04:05",
	"2006/01/02",
}

// ParseDateTime parses the datetime text forms Kusto accepts (ISO 8601 with or without zone,
// fraction or time, RFC 1123, slash dates); the result is UTC, truncated to 100 ns ticks.
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(100 * time.Nanosecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a datetime", s)
}

// FormatDateTime renders a datetime as Kusto's JSON does: ISO 8601 UTC with up to 7 fractional
// digits, trailing zeros dropped (2024-01-02T03:04:05.1234567Z, 2024-01-02T03:04:05Z).
func FormatDateTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if frac := t.Nanosecond() / 100; frac != 0 {
		f := strings.TrimRight(fmt.Sprintf("%07d", frac), "0")
		s += "." + f
	}
	return s + "Z"
}

// ParseTimeSpan parses .NET TimeSpan text ([-][d.]hh:mm[:ss[.fffffff]]) and the KQL literal
// forms (1d, 2h, 30m, 10s, 100ms, 5microsecond, 7tick, with long unit names too).
func ParseTimeSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := parseDotNetTimeSpan(s); ok {
		return d, nil
	}
	if d, ok := parseTimeSpanLiteral(s); ok {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a timespan", s)
}

func parseDotNetTimeSpan(s string) (time.Duration, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if !strings.Contains(s, ":") {
		return 0, false
	}
	var days int64
	if i := strings.IndexByte(s, '.'); i >= 0 && i < strings.IndexByte(s, ':') {
		d, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, false
		}
		days, s = d, s[i+1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return 0, false
	}
	var sec, ticks int64
	if len(parts) == 3 {
		secText, frac, hasFrac := strings.Cut(parts[2], ".")
		v, err := strconv.ParseInt(secText, 10, 64)
		if err != nil || v > 59 {
			return 0, false
		}
		sec = v
		if hasFrac {
			if len(frac) == 0 || len(frac) > 7 {
				return 0, false
			}
			f, err := strconv.ParseInt(frac+strings.Repeat("0", 7-len(frac)), 10, 64)
			if err != nil {
				return 0, false
			}
			ticks = f
		}
	}
	// A time.Duration holds ±106751 days; Kusto's timespan (100 ns ticks) holds ±10675199.
	// Text beyond the Duration's range does not convert rather than wrapping into another value.
	if days > int64(math.MaxInt64/(24*time.Hour)) {
		return 0, false
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(ticks)*100
	if d < 0 { // the sum wrapped past the Duration's range
		return 0, false
	}
	if neg {
		d = -d
	}
	return d, true
}

var timeSpanUnits = []struct {
	names []string
	unit  time.Duration
}{
	{[]string{"days", "day", "d"}, 24 * time.Hour},
	{[]string{"hours", "hour", "hrs", "hr", "h"}, time.Hour},
	{[]string{"minutes", "minute", "min", "m"}, time.Minute},
	{[]string{"seconds", "second", "sec", "s"}, time.Second},
	{[]string{"milliseconds", "millisecond", "milli", "ms"}, time.Millisecond},
	{[]string{"microseconds", "microsecond", "micro"}, time.Microsecond},
	{[]string{"nanoseconds", "nanosecond", "nano"}, time.Nanosecond},
	{[]string{"ticks", "tick"}, 100 * time.Nanosecond},
}

func parseTimeSpanLiteral(s string) (time.Duration, bool) {
	lower := strings.ToLower(s)
	for _, u := range timeSpanUnits {
		for _, name := range u.names {
			num, ok := strings.CutSuffix(lower, name)
			if !ok || num == "" {
				continue
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				continue
			}
			v := f * float64(u.unit)
			if math.IsNaN(v) || v >= math.MaxInt64 || v < math.MinInt64 {
				return 0, false // beyond a time.Duration: see parseDotNetTimeSpan
			}
			return time.Duration(v), true
		}
	}
	return 0, false
}

// FormatTimeSpan renders a timespan in .NET's "c" format: [-][d.]hh:mm:ss[.fffffff].
func FormatTimeSpan(d time.Duration) string {
	var b strings.Builder
	magnitude := uint64(d) // for math.MinInt64 too, whose negation does not fit an int64
	if d < 0 {
		b.WriteByte('-')
		magnitude = uint64(-d)
	}
	ticks := int64(magnitude / 100)
	days := ticks / (24 * 3600 * 1e7)
	ticks -= days * 24 * 3600 * 1e7
	h := ticks / (3600 * 1e7)
	ticks -= h * 3600 * 1e7
	m := ticks / (60 * 1e7)
	ticks -= m * 60 * 1e7
	sec := ticks / 1e7
	ticks -= sec * 1e7
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, sec)
	if ticks > 0 {
		fmt.Fprintf(&b, ".%07d", ticks)
	}
	return b.String()
}
