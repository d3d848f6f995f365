package sink

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ConfigType is the type of a configuration key, named as Java's ConfigDef.Type.
type ConfigType string

// The configuration types, with the Go type a parsed value has:
// BOOLEAN bool, STRING string, INT int32, SHORT int16, LONG int64, DOUBLE float64, LIST []string,
// CLASS string, PASSWORD Password.
const (
	TypeBoolean  ConfigType = "BOOLEAN"
	TypeString   ConfigType = "STRING"
	TypeInt      ConfigType = "INT"
	TypeShort    ConfigType = "SHORT"
	TypeLong     ConfigType = "LONG"
	TypeDouble   ConfigType = "DOUBLE"
	TypeList     ConfigType = "LIST"
	TypeClass    ConfigType = "CLASS"
	TypePassword ConfigType = "PASSWORD"
)

// Importance says how much a user should care about a key.
type Importance string

// Importance levels.
const (
	High   Importance = "HIGH"
	Medium Importance = "MEDIUM"
	Low    Importance = "LOW"
)

// Width is the display width hint of a key.
type Width string

// Width hints.
const (
	WidthNone   Width = "NONE"
	WidthShort  Width = "SHORT"
	WidthMedium Width = "MEDIUM"
	WidthLong   Width = "LONG"
)

// Password is a secret configuration value. It prints as "[hidden]" so it cannot leak through
// logs or status traces; Value returns the secret itself.
type Password struct{ secret string }

// NewPassword wraps a secret.
func NewPassword(secret string) Password { return Password{secret: secret} }

// Value returns the secret.
func (p Password) Value() string { return p.secret }

// String returns "[hidden]".
func (p Password) String() string { return "[hidden]" }

// GoString returns "[hidden]", so %#v hides the secret too.
func (p Password) GoString() string { return "[hidden]" }

// Validator checks a parsed value (nil for a null value). The error message is shown after
// "Invalid value <v> for configuration <name>: ".
type Validator func(value any) error

// ConfigKey declares one configuration key: Java's ConfigDef.ConfigKey.
type ConfigKey struct {
	Name string
	Type ConfigType
	// Required keys have no default and must be given.
	Required bool
	// Default is the value of an absent key, of the Go type Type parses to; nil means null.
	Default      any
	Validator    Validator
	Importance   Importance
	Doc          string
	Group        string
	OrderInGroup int
	Width        Width
	DisplayName  string
	Dependents   []string
}

// ConfigDef is an ordered set of key declarations. It parses and validates configurations and
// describes them for the REST API and the documentation.
type ConfigDef struct {
	keys  []ConfigKey
	index map[string]int
}

// NewConfigDef returns an empty definition.
func NewConfigDef() *ConfigDef { return &ConfigDef{index: map[string]int{}} }

// Define adds a key. It panics on a duplicate name or a default of the wrong Go type, which are
// programming errors found by the first test that builds the definition.
func (d *ConfigDef) Define(k ConfigKey) *ConfigDef {
	if _, dup := d.index[k.Name]; dup {
		panic(fmt.Sprintf("config key %s defined twice", k.Name))
	}
	if !k.Required && k.Default != nil {
		if err := checkGoType(k.Type, k.Default); err != nil {
			panic(fmt.Sprintf("config key %s: default: %v", k.Name, err))
		}
	}
	if k.Importance == "" {
		k.Importance = Medium
	}
	if k.Width == "" {
		k.Width = WidthNone
	}
	if k.DisplayName == "" {
		k.DisplayName = k.Name
	}
	d.index[k.Name] = len(d.keys)
	d.keys = append(d.keys, k)
	return d
}

// Extend returns a new definition with d's keys followed by those of other that d lacks.
func (d *ConfigDef) Extend(other *ConfigDef) *ConfigDef {
	out := NewConfigDef()
	for _, k := range d.keys {
		out.Define(k)
	}
	for _, k := range other.keys {
		if _, ok := out.index[k.Name]; !ok {
			out.Define(k)
		}
	}
	return out
}

// Keys returns the declarations in definition order.
func (d *ConfigDef) Keys() []ConfigKey { return append([]ConfigKey(nil), d.keys...) }

// Key returns the declaration of name.
func (d *ConfigDef) Key(name string) (ConfigKey, bool) {
	i, ok := d.index[name]
	if !ok {
		return ConfigKey{}, false
	}
	return d.keys[i], true
}

// Groups returns the group names in the order they first appear.
func (d *ConfigDef) Groups() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range d.keys {
		if k.Group != "" && !seen[k.Group] {
			seen[k.Group] = true
			out = append(out, k.Group)
		}
	}
	return out
}

// Parse parses every declared key of props (absent keys take their default). The error lists
// every problem, one per line, in the words of Java's ConfigException. Keys that props holds but
// d does not declare are kept in Originals.
func (d *ConfigDef) Parse(props map[string]string) (*Config, error) {
	c := &Config{def: d, values: make(map[string]any, len(d.keys)), originals: copyMap(props)}
	var errs []error
	for _, k := range d.keys {
		v, err := k.parse(props)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.values[k.Name] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// ConfigValue is the validation result of one key: Java's ConfigValue, as the validate endpoint
// reports it.
type ConfigValue struct {
	Name              string
	Value             *string // string form; "[hidden]" for passwords; nil when null
	RecommendedValues []string
	Errors            []string
	Visible           bool
}

// Validate checks every declared key of props and returns one result per key, in definition
// order. It never fails: problems are in each value's Errors.
func (d *ConfigDef) Validate(props map[string]string) []ConfigValue {
	out := make([]ConfigValue, 0, len(d.keys))
	for _, k := range d.keys {
		cv := ConfigValue{Name: k.Name, Visible: true, RecommendedValues: []string{}, Errors: []string{}}
		v, err := k.parse(props)
		if err != nil {
			cv.Errors = append(cv.Errors, err.Error())
			if raw, ok := props[k.Name]; ok {
				cv.Value = renderRaw(k.Type, raw)
			}
		} else {
			cv.Value = Render(k.Type, v)
		}
		out = append(out, cv)
	}
	return out
}

func renderRaw(t ConfigType, raw string) *string {
	if t == TypePassword {
		h := "[hidden]"
		return &h
	}
	return &raw
}

func (k ConfigKey) parse(props map[string]string) (any, error) {
	raw, given := props[k.Name]
	var v any
	switch {
	case given:
		p, err := ParseValue(k.Type, raw)
		if err != nil {
			return nil, fmt.Errorf("Invalid value %s for configuration %s: %v", printable(k.Type, raw), k.Name, err)
		}
		v = p
	case k.Required:
		return nil, fmt.Errorf("Missing required configuration \"%s\" which has no default value.", k.Name)
	default:
		v = k.Default
	}
	if k.Validator != nil {
		if err := k.Validator(v); err != nil {
			return nil, fmt.Errorf("Invalid value %s for configuration %s: %v", printable(k.Type, *Render(k.Type, v)), k.Name, err)
		}
	}
	return v, nil
}

func printable(t ConfigType, raw string) string {
	if t == TypePassword {
		return "[hidden]"
	}
	return raw
}

var commaWithSpace = regexp.MustCompile(`\s*,\s*`)

// ParseValue parses a raw string as Java's ConfigDef.parseType does: every type but PASSWORD is
// trimmed first; LIST splits on commas (an empty string is an empty list).
func ParseValue(t ConfigType, raw string) (any, error) {
	s := strings.TrimSpace(raw)
	switch t {
	case TypeBoolean:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errors.New("Expected value to be either true or false")
	case TypeString, TypeClass:
		return s, nil
	case TypePassword:
		return NewPassword(raw), nil
	case TypeInt:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, errors.New("Not a number of type INT")
		}
		return int32(n), nil
	case TypeShort:
		n, err := strconv.ParseInt(s, 10, 16)
		if err != nil {
			return nil, errors.New("Not a number of type SHORT")
		}
		return int16(n), nil
	case TypeLong:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("Not a number of type LONG")
		}
		return n, nil
	case TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New("Not a number of type DOUBLE")
		}
		return f, nil
	case TypeList:
		if s == "" {
			return []string{}, nil
		}
		return commaWithSpace.Split(s, -1), nil
	}
	return nil, fmt.Errorf("unknown config type %s", t)
}

// Render returns the string form of a parsed value as Java's ConfigDef.convertToString does
// (lists joined with ","); nil for null; "[hidden]" for passwords.
func Render(t ConfigType, v any) *string {
	if v == nil {
		return nil
	}
	var s string
	switch x := v.(type) {
	case []string:
		s = strings.Join(x, ",")
	case Password:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

func checkGoType(t ConfigType, v any) error {
	ok := false
	switch t {
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeString, TypeClass:
		_, ok = v.(string)
	case TypePassword:
		_, ok = v.(Password)
	case TypeInt:
		_, ok = v.(int32)
	case TypeShort:
		_, ok = v.(int16)
	case TypeLong:
		_, ok = v.(int64)
	case TypeDouble:
		_, ok = v.(float64)
	case TypeList:
		_, ok = v.([]string)
	}
	if !ok {
		return fmt.Errorf("%T is not a valid default for type %s", v, t)
	}
	return nil
}

// Config is a parsed configuration. Accessors panic when asked for a key the definition does
// not declare or with the wrong type: both are programming errors, not bad input.
type Config struct {
	def       *ConfigDef
	values    map[string]any
	originals map[string]string
}

func (c *Config) get(name string, t ...ConfigType) any {
	i, ok := c.def.index[name]
	if !ok {
		panic(fmt.Sprintf("config key %s is not defined", name))
	}
	k := c.def.keys[i]
	for _, want := range t {
		if k.Type == want {
			return c.values[name]
		}
	}
	panic(fmt.Sprintf("config key %s is %s, not %v", name, k.Type, t))
}

// String returns a STRING or CLASS value ("" when null).
func (c *Config) String(name string) string {
	s, _ := c.get(name, TypeString, TypeClass).(string)
	return s
}

// IsNull reports whether the key's value is null.
func (c *Config) IsNull(name string) bool {
	_ = c.get(name, TypeBoolean, TypeString, TypeClass, TypePassword, TypeInt, TypeShort, TypeLong, TypeDouble, TypeList)
	return c.values[name] == nil
}

// Bool returns a BOOLEAN value (false when null).
func (c *Config) Bool(name string) bool {
	b, _ := c.get(name, TypeBoolean).(bool)
	return b
}

// Int returns an INT or SHORT value (0 when null).
func (c *Config) Int(name string) int {
	switch v := c.get(name, TypeInt, TypeShort).(type) {
	case int32:
		return int(v)
	case int16:
		return int(v)
	}
	return 0
}

// Long returns a LONG value (0 when null).
func (c *Config) Long(name string) int64 {
	n, _ := c.get(name, TypeLong).(int64)
	return n
}

// Double returns a DOUBLE value (0 when null).
func (c *Config) Double(name string) float64 {
	f, _ := c.get(name, TypeDouble).(float64)
	return f
}

// List returns a LIST value (nil when null).
func (c *Config) List(name string) []string {
	l, _ := c.get(name, TypeList).([]string)
	return l
}

// Password returns a PASSWORD value (empty when null).
func (c *Config) Password(name string) Password {
	p, _ := c.get(name, TypePassword).(Password)
	return p
}

// Originals returns a copy of the raw map the configuration was parsed from.
func (c *Config) Originals() map[string]string { return copyMap(c.originals) }

// OriginalsWithPrefix returns the raw entries whose key starts with prefix, with the prefix
// removed from the keys.
func (c *Config) OriginalsWithPrefix(prefix string) map[string]string {
	return WithPrefix(c.originals, prefix)
}

// WithPrefix returns the entries of m whose key starts with prefix, with the prefix removed.
func WithPrefix(m map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// AtLeast returns a validator for numbers ≥ min: Java's Range.atLeast.
func AtLeast(min float64) Validator {
	return func(v any) error {
		if v == nil {
			return nil
		}
		if f, ok := number(v); ok && f < min {
			return fmt.Errorf("Value must be at least %s", strconv.FormatFloat(min, 'f', -1, 64))
		}
		return nil
	}
}

// OneOf returns a validator for strings that must be one of the given values (exactly as
// written): Java's ValidString.in.
func OneOf(values ...string) Validator {
	return oneOf(values, func(a, b string) bool { return a == b }, "String must be one of: %s")
}

// OneOfIgnoringCase is OneOf compared without regard to case: Java's CaseInsensitiveValidString.
func OneOfIgnoringCase(values ...string) Validator {
	return oneOf(values, strings.EqualFold, "String must be one of (case insensitive): %s")
}

// oneOf is the validator of OneOf and OneOfIgnoringCase: v must equal one of values; msg
// formats the error with the list of values.
func oneOf(values []string, equal func(a, b string) bool, msg string) Validator {
	return func(v any) error {
		s, _ := v.(string)
		if v == nil {
			return nil
		}
		for _, ok := range values {
			if equal(s, ok) {
				return nil
			}
		}
		return fmt.Errorf(msg, strings.Join(values, ", "))
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// Markdown renders the definition as a Markdown reference: one section per group, one table row
// per key (name, type, default, valid values, importance, description).
func (d *ConfigDef) Markdown() string {
	var b strings.Builder
	groups := d.Groups()
	byGroup := map[string][]ConfigKey{}
	for _, k := range d.keys {
		byGroup[k.Group] = append(byGroup[k.Group], k)
	}
	if len(byGroup[""]) > 0 {
		groups = append([]string{""}, groups...)
	}
	for _, g := range groups {
		keys := byGroup[g]
		sort.SliceStable(keys, func(i, j int) bool { return keys[i].OrderInGroup < keys[j].OrderInGroup })
		if g != "" {
			fmt.Fprintf(&b, "### %s\n\n", g)
		}
		b.WriteString("| Key | Type | Default | Importance | Description |\n|---|---|---|---|---|\n")
		for _, k := range keys {
			def := "*required*"
			if !k.Required {
				def = "null"
				if r := Render(k.Type, k.Default); r != nil {
					def = "`" + *r + "`"
					if *r == "" {
						def = `""`
					}
				}
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Name, k.Type, def, k.Importance,
				strings.ReplaceAll(k.Doc, "|", `\|`))
		}
		b.WriteString("\n")
	}
	return b.String()
}
