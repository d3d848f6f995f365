package task

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kconnect/kconnect/sink"
)

// Converter turns record keys or values into Connect data and back: Java's
// org.apache.kafka.connect.storage.Converter. A Converter is used by one task and is not safe for
// concurrent use unless its documentation says otherwise.
type Converter interface {
	// ToConnectData converts the bytes of a key or value (nil for a null one) into a schema and
	// a value of the Go type [sink.Schema] documents. Malformed input is a [*sink.DataError].
	ToConnectData(topic string, data []byte) (*sink.Schema, any, error)
	// FromConnectData converts a schema and value into bytes; nil bytes mean a null key or value.
	FromConnectData(topic string, schema *sink.Schema, value any) ([]byte, error)
}

// HeaderConverter turns header values into Connect data and back: Java's
// org.apache.kafka.connect.storage.HeaderConverter.
type HeaderConverter interface {
	// ToConnectHeader converts the value of the header named key (nil for a null value).
	ToConnectHeader(topic, key string, data []byte) (*sink.Schema, any, error)
	// FromConnectHeader converts a header value into bytes; nil means a null value.
	FromConnectHeader(topic, key string, schema *sink.Schema, value any) ([]byte, error)
}

// Converter class names.
const (
	JSONConverterClass         = "org.apache.kafka.connect.json.JsonConverter"
	StringConverterClass       = "org.apache.kafka.connect.storage.StringConverter"
	ByteArrayConverterClass    = "org.apache.kafka.connect.converters.ByteArrayConverter"
	SimpleHeaderConverterClass = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

// converterTypeConfig is the setting the runtime adds to every converter's configuration, as
// Java's Worker does: "key", "value" or "header".
const converterTypeConfig = "converter.type"

// converterPlugin describes one converter class. newConverter is nil for header-only classes.
type converterPlugin struct {
	class        string
	config       func() *sink.ConfigDef
	newConverter func(cfg *sink.Config, isKey bool) (Converter, error)
	newHeader    func(cfg *sink.Config) (HeaderConverter, error)
}

var converterPlugins = map[string]*converterPlugin{
	JSONConverterClass: {
		class:  JSONConverterClass,
		config: jsonConverterConfigDef,
		newConverter: func(cfg *sink.Config, _ bool) (Converter, error) {
			return newJSONConverter(cfg)
		},
		newHeader: func(cfg *sink.Config) (HeaderConverter, error) { return newJSONConverter(cfg) },
	},
	StringConverterClass: {
		class:        StringConverterClass,
		config:       stringConverterConfigDef,
		newConverter: func(cfg *sink.Config, _ bool) (Converter, error) { return newStringConverter(cfg) },
		newHeader:    func(cfg *sink.Config) (HeaderConverter, error) { return newStringConverter(cfg) },
	},
	ByteArrayConverterClass: {
		class:        ByteArrayConverterClass,
		config:       func() *sink.ConfigDef { return sink.NewConfigDef().Define(converterTypeKey()) },
		newConverter: func(*sink.Config, bool) (Converter, error) { return ByteArrayConverter{}, nil },
		newHeader:    func(*sink.Config) (HeaderConverter, error) { return ByteArrayConverter{}, nil },
	},
	SimpleHeaderConverterClass: {
		class:     SimpleHeaderConverterClass,
		config:    sink.NewConfigDef,
		newHeader: func(*sink.Config) (HeaderConverter, error) { return SimpleHeaderConverter{}, nil },
	},
}

// lookupConverter finds a converter class by its fully qualified name or an alias: the simple
// class name, or the simple name without its "Converter" suffix, as Java's plugin aliases.
func lookupConverter(name string) (*converterPlugin, bool) {
	name = strings.TrimSpace(name)
	if p, ok := converterPlugins[name]; ok {
		return p, true
	}
	for class, p := range converterPlugins {
		simple := class[strings.LastIndexByte(class, '.')+1:]
		if name == simple || name == strings.TrimSuffix(simple, "Converter") {
			return p, true
		}
	}
	return nil, false
}

// Converters returns the converter classes usable as key.converter and value.converter, sorted.
func Converters() []string {
	var out []string
	for class, p := range converterPlugins {
		if p.newConverter != nil {
			out = append(out, class)
		}
	}
	slices.Sort(out)
	return out
}

// HeaderConverters returns the classes usable as header.converter, sorted.
func HeaderConverters() []string {
	var out []string
	for class, p := range converterPlugins {
		if p.newHeader != nil {
			out = append(out, class)
		}
	}
	slices.Sort(out)
	return out
}

// ConverterConfigDef returns the configuration keys of a converter class (or alias).
func ConverterConfigDef(class string) (*sink.ConfigDef, bool) {
	p, ok := lookupConverter(class)
	if !ok {
		return nil, false
	}
	return p.config(), true
}

func parseConverterConfig(p *converterPlugin, typ string, settings map[string]string) (*sink.Config, error) {
	props := maps.Clone(settings)
	if props == nil {
		props = map[string]string{}
	}
	props[converterTypeConfig] = typ
	return p.config().Parse(props)
}

// NewConverter builds the key (isKey) or value converter spec names, configured with its settings.
func NewConverter(spec ConverterSpec, isKey bool) (Converter, error) {
	p, ok := lookupConverter(spec.Class)
	if !ok || p.newConverter == nil {
		return nil, fmt.Errorf("Class %s could not be found or is not a Converter; known converters: %s", spec.Class, strings.Join(Converters(), ", "))
	}
	typ := "value"
	if isKey {
		typ = "key"
	}
	cfg, err := parseConverterConfig(p, typ, spec.Config)
	if err != nil {
		return nil, fmt.Errorf("configuring %s: %w", p.class, err)
	}
	return p.newConverter(cfg, isKey)
}

// NewHeaderConverter builds the header converter spec names, configured with its settings.
func NewHeaderConverter(spec ConverterSpec) (HeaderConverter, error) {
	p, ok := lookupConverter(spec.Class)
	if !ok || p.newHeader == nil {
		return nil, fmt.Errorf("Class %s could not be found or is not a HeaderConverter; known header converters: %s", spec.Class, strings.Join(HeaderConverters(), ", "))
	}
	cfg, err := parseConverterConfig(p, "header", spec.Config)
	if err != nil {
		return nil, fmt.Errorf("configuring %s: %w", p.class, err)
	}
	return p.newHeader(cfg)
}

// dataErrorf returns a [*sink.DataError] with a formatted message.
func dataErrorf(format string, args ...any) error {
	return &sink.DataError{Err: fmt.Errorf(format, args...)}
}

// dataError marks err as a data error unless it already is one.
func dataError(err error) error {
	if err == nil {
		return nil
	}
	return markData(err)
}

func markData(err error) error {
	var de *sink.DataError
	if errors.As(err, &de) {
		return err
	}
	return &sink.DataError{Err: err}
}
