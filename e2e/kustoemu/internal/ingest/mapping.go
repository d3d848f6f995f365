package ingest

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// An ingestion mapping is a JSON array with one element per column. Kusto accepts two shapes:
//
//	current: [{"column":"c","datatype":"string","Properties":{"Path":"$.x"}}]
//	legacy:  [{"column":"c","path":"$.x","datatype":"string"}]  (CSV: {"Name":"c","Ordinal":0})
//
// Property names are matched case-insensitively, and numbers may be given as JSON numbers or as
// strings ("Ordinal":"0"), as Kusto's own examples do.

// sourceKind says where a column's value comes from.
type sourceKind int

const (
	fromNothing    sourceKind = iota // the column is not mapped: null
	fromOrdinal                      // a field of a delimited record
	fromPath                         // a path into a JSON or Avro record
	fromConst                        // a constant (ConstValue, SourceLocation, GetPathElement)
	fromLineNumber                   // the record's line number (SourceLineNumber)
)

// source is how one table column gets its value.
type source struct {
	typ       model.Type
	kind      sourceKind
	ordinal   int
	path      []step
	transform transform
	constant  any // converted, for fromConst
	null      any // the column's value when its source is missing ("" for strings)
}

// value returns the column's value for one record: fields for delimited records, rec for JSON
// and Avro records, line for SourceLineNumber.
func (s *source) value(fields []string, rec any, line int) any {
	switch s.kind {
	case fromOrdinal:
		if s.ordinal < len(fields) {
			return s.convert(fields[s.ordinal])
		}
		return s.null
	case fromPath:
		return s.convert(lookup(rec, s.path))
	case fromConst:
		return s.constant
	case fromLineNumber:
		return s.convert(int64(line))
	}
	return s.null
}

// convert applies the transform and converts to the column type; a value that does not convert
// is null, as in Kusto.
func (s *source) convert(v any) any {
	if s.transform != noTransform {
		v = s.transform.apply(v)
	}
	out, _ := model.Convert(s.typ, v)
	return out
}

func newSource(typ model.Type) source {
	null, _ := model.Convert(typ, nil)
	return source{typ: typ, null: null}
}

// identitySources maps without a mapping: delimited fields by position, txt and raw into the
// first column, JSON and Avro top-level names to column names (case-sensitive).
func identitySources(f Format, cols []model.Column) []source {
	out := make([]source, len(cols))
	for i, c := range cols {
		out[i] = newSource(c.Type)
		switch {
		case f.MappingKind() != KindCSV:
			out[i].kind, out[i].path = fromPath, []step{{key: c.Name, index: -1}}
		case f == TXT || f == Raw:
			if i == 0 {
				out[i].kind = fromOrdinal
			}
		default:
			out[i].kind, out[i].ordinal = fromOrdinal, i
		}
	}
	return out
}

// mappedSources resolves a mapping's elements against the table's columns.
func mappedSources(f Format, t *model.Table, text, location string) ([]source, error) {
	elems, err := parseMapping(f.MappingKind(), text)
	if err != nil {
		return nil, err
	}
	out := make([]source, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = newSource(c.Type)
	}
	for _, e := range elems {
		idx, ok := t.ColumnIndex(e.column)
		if !ok {
			return nil, model.BadRequest(CodeInconsistentMapping,
				"The ingestion mapping names column '%s', which table '%s' does not have.", e.column, t.Name)
		}
		s := &out[idx]
		s.transform = e.transform
		switch {
		case e.transform == sourceLineNumber:
			s.kind, s.transform = fromLineNumber, noTransform
		case e.transform == sourceLocation:
			s.kind, s.transform = fromConst, noTransform
			s.constant = s.convert(location)
		case e.transform == getPathElement:
			s.kind, s.transform = fromConst, noTransform
			s.constant = s.convert(pathElement(e.steps, e.elementIndex))
		case e.hasConst:
			s.kind = fromConst
			s.constant = s.convert(e.constant)
		case e.ordinal >= 0:
			if (f == TXT || f == Raw) && e.ordinal > 0 {
				return nil, invalidMapping("column '%s': format %s has a single field per record, so only Ordinal 0 can be mapped", e.column, f)
			}
			s.kind, s.ordinal = fromOrdinal, e.ordinal
		default:
			s.kind, s.path = fromPath, e.steps
		}
	}
	return out, nil
}

// ValidateMapping checks a mapping's JSON text for the kind ("csv", "json", "avro"; also
// "parquet", "orc" and "w3clogfile", which share Avro's rules), as
// `.create table T ingestion <kind> mapping` must; the error is a *model.Error (400).
func ValidateMapping(kind, text string) error {
	k := normalizeKind(kind)
	switch k {
	case KindCSV, KindJSON, KindAvro:
	case "parquet", "orc", "w3clogfile":
		k = KindAvro
	default:
		return invalidMapping("unknown mapping kind '%s'; kinds are csv, json, avro, parquet, orc, w3clogfile", kind)
	}
	_, err := parseMapping(k, text)
	return err
}

func invalidMapping(format string, args ...any) *model.Error {
	return model.BadRequest(CodeInvalidMapping, "Ingestion mapping is invalid: "+format+".", args...)
}

// element is one parsed mapping element.
type element struct {
	column       string
	ordinal      int // -1 when not set
	steps        []step
	hasPath      bool // a $-path or a Field
	constant     string
	hasConst     bool
	transform    transform
	elementIndex int // the argument of GetPathElement
}

// parseMapping parses and checks a mapping of kind csv, json or avro.
func parseMapping(kind, text string) ([]element, error) {
	doc, err := model.DecodeJSON([]byte(text))
	if err != nil {
		return nil, invalidMapping("the mapping is not valid JSON: %v", err)
	}
	list, ok := doc.([]any)
	if !ok {
		return nil, invalidMapping("the mapping must be a JSON array of column mappings")
	}
	if len(list) == 0 {
		return nil, invalidMapping("the mapping has no columns")
	}
	out := make([]element, 0, len(list))
	seen := make(map[string]bool, len(list))
	for i, raw := range list {
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, invalidMapping("element %d is not a JSON object", i)
		}
		e, err := parseElement(kind, i, obj)
		if err != nil {
			return nil, err
		}
		if seen[e.column] {
			return nil, invalidMapping("column '%s' is mapped more than once", e.column)
		}
		seen[e.column] = true
		out = append(out, e)
	}
	return out, nil
}

func parseElement(kind string, i int, obj map[string]any) (element, error) {
	e := element{ordinal: -1}
	var path, field, ordinal, constant, transformName *string
	props := map[string]any{}
	for _, k := range sortedKeys(obj) {
		switch v := obj[k]; strings.ToLower(k) {
		case "column", "name":
			s, ok := v.(string)
			if !ok {
				return e, invalidMapping("element %d: the column name must be a string", i)
			}
			e.column = s
		case "datatype":
			s, ok := v.(string)
			if !ok {
				return e, invalidMapping("element %d: datatype must be a string", i)
			}
			if _, known := model.ParseType(s); s != "" && !known {
				return e, invalidMapping("element %d: unknown datatype '%s'", i, s)
			}
		case "properties":
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return e, invalidMapping("element %d: Properties must be a JSON object", i)
			}
			for pk, pv := range m {
				props[strings.ToLower(pk)] = pv
			}
		default:
			// Legacy elements carry the properties at the top level.
			if _, exists := props[strings.ToLower(k)]; !exists {
				props[strings.ToLower(k)] = v
			}
		}
	}
	if e.column == "" {
		return e, invalidMapping("element %d has no column name", i)
	}
	for _, name := range sortedKeys(props) {
		v := props[name]
		if v == nil {
			continue
		}
		text, ok := scalarText(v)
		if !ok {
			return e, invalidMapping("column '%s': property '%s' must be a string or a number", e.column, name)
		}
		switch name {
		case "path":
			path = &text
		case "field":
			field = &text
		case "ordinal":
			ordinal = &text
		case "constvalue", "constantvalue":
			constant = &text
		case "transform":
			transformName = &text
		}
	}

	if transformName != nil {
		t, arg, err := parseTransform(*transformName)
		if err != nil {
			return e, invalidMapping("column '%s': %v", e.column, err)
		}
		e.transform, e.elementIndex = t, arg
	}
	if ordinal != nil {
		n, err := strconv.Atoi(strings.TrimSpace(*ordinal))
		if err != nil || n < 0 {
			return e, invalidMapping("column '%s': Ordinal '%s' is not a non-negative integer", e.column, *ordinal)
		}
		e.ordinal = n
	}
	if constant != nil {
		e.constant, e.hasConst = *constant, true
	}
	if path != nil {
		// A Path that does not start with $ is a constant value (Kusto's rule for JSON and Avro).
		if strings.HasPrefix(strings.TrimSpace(*path), "$") {
			steps, err := parsePath(strings.TrimSpace(*path))
			if err != nil {
				return e, invalidMapping("column '%s': Path '%s' %v", e.column, *path, err)
			}
			e.steps, e.hasPath = steps, true
		} else if !e.hasConst {
			e.constant, e.hasConst = *path, true
		}
	}
	if field != nil && !e.hasPath {
		switch f := strings.TrimSpace(*field); {
		case f == "":
			return e, invalidMapping("column '%s': Field is empty", e.column)
		case strings.HasPrefix(f, "$"):
			// Some tools write a path into Field ("$.['a b']"); Kusto reads it as one.
			steps, err := parsePath(f)
			if err != nil {
				return e, invalidMapping("column '%s': Field '%s' %v", e.column, *field, err)
			}
			e.steps = steps
		default:
			e.steps = []step{{key: *field, index: -1}}
		}
		e.hasPath = true
	}
	return e, checkElement(kind, e, path != nil, field != nil)
}

// checkElement applies the per-kind rules: which properties a kind uses, what needs a source.
func checkElement(kind string, e element, gavePath, gaveField bool) error {
	standalone := e.transform == sourceLocation || e.transform == sourceLineNumber
	switch kind {
	case KindCSV:
		if gavePath || gaveField {
			return invalidMapping("column '%s': a csv mapping selects fields by Ordinal, not Path or Field", e.column)
		}
		if e.ordinal >= 0 && e.hasConst {
			return invalidMapping("column '%s': Ordinal and ConstValue cannot both be set", e.column)
		}
		if e.transform == bagArrayToDict || e.transform == getPathElement {
			return invalidMapping("column '%s': transform %s does not apply to csv mappings", e.column, e.transform)
		}
		if e.ordinal < 0 && !e.hasConst && !standalone {
			return invalidMapping("column '%s': a csv mapping element needs Ordinal or ConstValue", e.column)
		}
	default:
		if e.ordinal >= 0 {
			return invalidMapping("column '%s': a %s mapping selects values by Path or Field, not Ordinal", e.column, kind)
		}
		if !e.hasPath && !e.hasConst && !standalone {
			return invalidMapping("column '%s': a %s mapping element needs Path, Field or ConstValue", e.column, kind)
		}
		if e.transform == getPathElement && !e.hasPath {
			return invalidMapping("column '%s': GetPathElement needs a Path", e.column)
		}
	}
	if e.transform.needsValue() && !e.hasPath && e.ordinal < 0 && !e.hasConst {
		return invalidMapping("column '%s': transform %s needs a value to transform", e.column, e.transform)
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scalarText renders a property value given as a string, number or bool.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// step is one step of a path: a property name, or an array index when index >= 0.
type step struct {
	key   string
	index int
}

// parsePath parses the JSONPath subset Kusto mappings use: $ (the whole record), .name,
// ['name'] or ["name"] (with \ escaping the quote), and [n] array indexes. Wildcards and
// recursive descent are not part of it.
func parsePath(s string) ([]step, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("must start with $")
	}
	var steps []step
	i := 1
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			if i < len(s) && s[i] == '[' {
				continue // "$.['a b']" is written by some tools; the dot is redundant
			}
			start := i
			for i < len(s) && s[i] != '.' && s[i] != '[' {
				i++
			}
			name := s[start:i]
			switch name {
			case "":
				return nil, fmt.Errorf("has an empty property name at position %d (recursive descent is not supported)", start)
			case "*":
				return nil, fmt.Errorf("uses a wildcard at position %d, which ingestion mappings do not support", start)
			}
			steps = append(steps, step{key: name, index: -1})
		case '[':
			st, next, err := parseBracket(s, i)
			if err != nil {
				return nil, err
			}
			steps, i = append(steps, st), next
		default:
			return nil, fmt.Errorf("has an unexpected character %q at position %d", s[i], i)
		}
	}
	return steps, nil
}

// parseBracket parses ['name'], ["name"] or [n] starting at s[open] == '['.
func parseBracket(s string, open int) (step, int, error) {
	i := skipSpaces(s, open+1)
	if i >= len(s) {
		return step{}, 0, fmt.Errorf("has an unterminated [ at position %d", open)
	}
	var st step
	if q := s[i]; q == '\'' || q == '"' {
		var b strings.Builder
		i++
		for {
			if i >= len(s) {
				return step{}, 0, fmt.Errorf("has an unterminated quoted name at position %d", open)
			}
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			i++
			if c == q {
				break
			}
			b.WriteByte(c)
		}
		st = step{key: b.String(), index: -1}
	} else {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(s[start:i])
		if start == i || err != nil {
			return step{}, 0, fmt.Errorf("has an invalid array index at position %d (only non-negative integers and quoted names are supported)", start)
		}
		st = step{index: n}
	}
	i = skipSpaces(s, i)
	if i >= len(s) || s[i] != ']' {
		return step{}, 0, fmt.Errorf("is missing ] at position %d", i)
	}
	return st, i + 1, nil
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// lookup follows path into a JSON or Avro record; anything missing is nil.
func lookup(v any, path []step) any {
	for _, st := range path {
		if st.index >= 0 {
			arr, ok := v.([]any)
			if !ok || st.index >= len(arr) {
				return nil
			}
			v = arr[st.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[st.key]
	}
	return v
}

// pathElement is GetPathElement(index): 0 is the path's last element, -1 the one before it.
func pathElement(steps []step, index int) any {
	i := len(steps) - 1 + index
	if index > 0 || i < 0 {
		return nil
	}
	if steps[i].index >= 0 {
		return strconv.Itoa(steps[i].index)
	}
	return steps[i].key
}

// transform is a mapping transformation.
type transform int

const (
	noTransform transform = iota
	unixSeconds
	unixMilliseconds
	unixMicroseconds
	unixNanoseconds
	bagArrayToDict
	sourceLocation
	sourceLineNumber
	getPathElement
)

var transformNames = map[transform]string{
	unixSeconds:      "DateTimeFromUnixSeconds",
	unixMilliseconds: "DateTimeFromUnixMilliseconds",
	unixMicroseconds: "DateTimeFromUnixMicroseconds",
	unixNanoseconds:  "DateTimeFromUnixNanoseconds",
	bagArrayToDict:   "PropertyBagArrayToDictionary",
	sourceLocation:   "SourceLocation",
	sourceLineNumber: "SourceLineNumber",
	getPathElement:   "GetPathElement",
}

func (t transform) String() string { return transformNames[t] }

// needsValue reports whether the transform works on an extracted value.
func (t transform) needsValue() bool {
	switch t {
	case unixSeconds, unixMilliseconds, unixMicroseconds, unixNanoseconds, bagArrayToDict:
		return true
	}
	return false
}

// parseTransform parses a transform name (any case); GetPathElement takes an integer argument.
func parseTransform(s string) (transform, int, error) {
	name := strings.TrimSpace(s)
	if open := strings.IndexByte(name, '('); open >= 0 && strings.HasSuffix(name, ")") {
		if !strings.EqualFold(strings.TrimSpace(name[:open]), "GetPathElement") {
			return 0, 0, fmt.Errorf("unknown transform '%s'", s)
		}
		n, err := strconv.Atoi(strings.TrimSpace(name[open+1 : len(name)-1]))
		if err != nil || n > 0 {
			return 0, 0, fmt.Errorf("GetPathElement takes an index of 0 or less, got '%s'", s)
		}
		return getPathElement, n, nil
	}
	for t, known := range transformNames {
		if t != getPathElement && strings.EqualFold(name, known) {
			return t, 0, nil
		}
	}
	return 0, 0, fmt.Errorf("unknown transform '%s'", s)
}

// apply runs a value transform; a value it cannot transform becomes null.
func (t transform) apply(v any) any {
	switch t {
	case unixSeconds:
		return unixTime(v, time.Second)
	case unixMilliseconds:
		return unixTime(v, time.Millisecond)
	case unixMicroseconds:
		return unixTime(v, time.Microsecond)
	case unixNanoseconds:
		return unixTime(v, time.Nanosecond)
	case bagArrayToDict:
		return bagToDict(v)
	}
	return v
}

// unixTime turns a number of units since 1970-01-01 (a number, or text holding one) into a UTC
// datetime with Kusto's 100 ns precision.
func unixTime(v any, unit time.Duration) any {
	var text string
	switch x := v.(type) {
	case time.Time:
		return x
	case int32:
		return unixFromInt(int64(x), unit)
	case int64:
		return unixFromInt(x, unit)
	case int:
		return unixFromInt(int64(x), unit)
	case float32:
		return unixFromFloat(float64(x), unit)
	case float64:
		return unixFromFloat(x, unit)
	case json.Number:
		text = string(x)
	case string:
		text = strings.TrimSpace(x)
	default:
		return nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return unixFromInt(n, unit)
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		return unixFromFloat(f, unit)
	}
	return nil
}

func unixFromInt(n int64, unit time.Duration) any {
	var t time.Time
	switch unit {
	case time.Second:
		t = time.Unix(n, 0)
	case time.Millisecond:
		t = time.UnixMilli(n)
	case time.Microsecond:
		t = time.UnixMicro(n)
	default:
		t = time.Unix(0, n)
	}
	return inDateTimeRange(t)
}

func unixFromFloat(f float64, unit time.Duration) any {
	whole := math.Floor(f)
	if math.IsNaN(whole) || math.IsInf(whole, 0) || math.Abs(whole) > 1<<62 {
		return nil
	}
	t, ok := unixFromInt(int64(whole), unit).(time.Time)
	if !ok {
		return nil
	}
	// The fraction of a unit is exact in float64 (f - floor(f)); scaling it alone keeps the
	// sub-unit digits that f*unit would lose.
	return inDateTimeRange(t.Add(time.Duration(math.Round((f - whole) * float64(unit)))))
}

// inDateTimeRange keeps datetimes Kusto can hold (years 1 to 9999), at 100 ns precision.
func inDateTimeRange(t time.Time) any {
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return nil
	}
	return t.Truncate(100 * time.Nanosecond)
}

// bagToDict merges an array of property bags ([{"a":1},{"b":2}]) into one ({"a":1,"b":2}).
func bagToDict(v any) any {
	arr, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make(map[string]any)
	for _, e := range arr {
		if m, ok := e.(map[string]any); ok {
			for k, x := range m {
				out[k] = x
			}
		}
	}
	return out
}
