package task

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kconnect/kconnect/sink"
)

// The framework's sink connector keys, spelled as Java's SinkConnectorConfig and ConnectorConfig.
const (
	TopicsConfig                   = "topics"
	TopicsRegexConfig              = "topics.regex"
	KeyConverterConfig             = "key.converter"
	ValueConverterConfig           = "value.converter"
	HeaderConverterConfig          = "header.converter"
	ErrorsToleranceConfig          = "errors.tolerance"
	ErrorsRetryTimeoutConfig       = "errors.retry.timeout"
	ErrorsRetryMaxDelayConfig      = "errors.retry.delay.max.ms"
	ErrorsLogEnableConfig          = "errors.log.enable"
	ErrorsLogIncludeMessagesConfig = "errors.log.include.messages"
	DLQTopicNameConfig             = "errors.deadletterqueue.topic.name"
	DLQTopicReplicationConfig      = "errors.deadletterqueue.topic.replication.factor"
	DLQContextHeadersEnableConfig  = "errors.deadletterqueue.context.headers.enable"

	// ConsumerOverridePrefix prefixes Kafka consumer settings a connector overrides.
	ConsumerOverridePrefix = "consumer.override."
	// ProducerOverridePrefix prefixes Kafka producer settings a connector overrides (used by
	// the dead letter queue producer).
	ProducerOverridePrefix = "producer.override."
)

const (
	commonGroup        = "Common"
	errorHandlingGroup = "Error Handling"
)

const converterDoc = "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. " +
	"This controls the format of the %s in messages written to or read from Kafka, and since this is independent of connectors it allows " +
	"any connector to work with any serialization format. Examples of common formats include JSON and Avro."

// ConfigDef declares the framework's sink connector keys (topics, topics.regex, the converters
// and errors.*) with Java's documentation, defaults and groups, for validation and docs.
func ConfigDef() *sink.ConfigDef {
	return sink.NewConfigDef().
		Define(sink.ConfigKey{Name: TopicsConfig, Type: sink.TypeList, Default: []string{}, Importance: sink.High,
			Doc: "List of topics to consume, separated by commas", Group: commonGroup, OrderInGroup: 4,
			Width: sink.WidthLong, DisplayName: "Topics"}).
		Define(sink.ConfigKey{Name: TopicsRegexConfig, Type: sink.TypeString, Default: "", Importance: sink.High,
			Validator: validateTopicsRegex,
			Doc: "Regular expression giving topics to consume. Under the hood, the regex is compiled to a <code>java.util.regex.Pattern</code>. " +
				"Only one of topics or topics.regex should be specified.",
			Group: commonGroup, OrderInGroup: 4, Width: sink.WidthLong, DisplayName: "Topics regex"}).
		Define(sink.ConfigKey{Name: KeyConverterConfig, Type: sink.TypeClass, Importance: sink.Low,
			Validator: converterValidator(false), Doc: fmt.Sprintf(converterDoc, "keys"),
			Group: commonGroup, OrderInGroup: 5, Width: sink.WidthShort, DisplayName: "Key converter class"}).
		Define(sink.ConfigKey{Name: ValueConverterConfig, Type: sink.TypeClass, Importance: sink.Low,
			Validator: converterValidator(false), Doc: fmt.Sprintf(converterDoc, "values"),
			Group: commonGroup, OrderInGroup: 6, Width: sink.WidthShort, DisplayName: "Value converter class"}).
		Define(sink.ConfigKey{Name: HeaderConverterConfig, Type: sink.TypeClass, Importance: sink.Low,
			Validator: converterValidator(true),
			Doc: "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. " +
				"This controls the format of the header values in messages written to or read from Kafka, and since this is independent of connectors " +
				"it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro. " +
				"By default, the SimpleHeaderConverter is used to serialize header values to strings and deserialize them by inferring the schemas.",
			Group: commonGroup, OrderInGroup: 7, Width: sink.WidthShort, DisplayName: "Header converter class"}).
		Define(sink.ConfigKey{Name: ErrorsRetryTimeoutConfig, Type: sink.TypeLong, Default: int64(0), Importance: sink.Medium,
			Doc: "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. " +
				"Use -1 for infinite retries.",
			Group: errorHandlingGroup, OrderInGroup: 1, Width: sink.WidthMedium, DisplayName: "Retry Timeout for Errors"}).
		Define(sink.ConfigKey{Name: ErrorsRetryMaxDelayConfig, Type: sink.TypeLong, Default: int64(60000), Importance: sink.Medium,
			Doc: "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached " +
				"to prevent thundering herd issues.",
			Group: errorHandlingGroup, OrderInGroup: 2, Width: sink.WidthMedium, DisplayName: "Maximum Delay Between Retries for Errors"}).
		Define(sink.ConfigKey{Name: ErrorsToleranceConfig, Type: sink.TypeString, Default: "none", Importance: sink.Medium,
			Validator: sink.OneOfIgnoringCase("none", "all"),
			Doc: "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an " +
				"immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
			Group: errorHandlingGroup, OrderInGroup: 3, Width: sink.WidthShort, DisplayName: "Error Tolerance"}).
		Define(sink.ConfigKey{Name: ErrorsLogEnableConfig, Type: sink.TypeBoolean, Default: false, Importance: sink.Medium,
			Doc: "If true, write each error and the details of the failed operation and problematic record to the Connect application log. " +
				"This is 'false' by default, so that only errors that are not tolerated are reported.",
			Group: errorHandlingGroup, OrderInGroup: 4, Width: sink.WidthShort, DisplayName: "Log Errors"}).
		Define(sink.ConfigKey{Name: ErrorsLogIncludeMessagesConfig, Type: sink.TypeBoolean, Default: false, Importance: sink.Medium,
			Doc: "Whether to include in the log the Connect record that resulted in a failure. For sink records, the topic, partition, offset, " +
				"and timestamp will be logged. For source records, the key and value (and their schemas), all headers, and the timestamp, Kafka topic, " +
				"Kafka partition, source partition, and source offset will be logged. This is 'false' by default, which will prevent record keys, " +
				"values, and headers from being written to log files.",
			Group: errorHandlingGroup, OrderInGroup: 5, Width: sink.WidthShort, DisplayName: "Log Error Details"}).
		Define(sink.ConfigKey{Name: DLQTopicNameConfig, Type: sink.TypeString, Default: "", Importance: sink.Medium,
			Doc: "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink " +
				"connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ.",
			Group: errorHandlingGroup, OrderInGroup: 6, Width: sink.WidthMedium, DisplayName: "Dead Letter Queue Topic Name"}).
		Define(sink.ConfigKey{Name: DLQTopicReplicationConfig, Type: sink.TypeShort, Default: int16(3), Importance: sink.Medium,
			Doc:   "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
			Group: errorHandlingGroup, OrderInGroup: 7, Width: sink.WidthMedium, DisplayName: "Dead Letter Queue Topic Replication Factor"}).
		Define(sink.ConfigKey{Name: DLQContextHeadersEnableConfig, Type: sink.TypeBoolean, Default: false, Importance: sink.Medium,
			Doc: "If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers " +
				"from the original record, all error context header keys, all error context header keys will start with <code>__connect.errors.</code>",
			Group: errorHandlingGroup, OrderInGroup: 8, Width: sink.WidthMedium, DisplayName: "Enable Error Context Headers"})
}

func converterValidator(header bool) sink.Validator {
	return func(v any) error {
		name, _ := v.(string)
		if v == nil || name == "" {
			return nil
		}
		p, ok := lookupConverter(name)
		if !ok || header && p.newHeader == nil || !header && p.newConverter == nil {
			return fmt.Errorf("Class %s could not be found.", name)
		}
		return nil
	}
}

// re2Hint explains a topics.regex that Go's RE2 engine rejects.
const re2Hint = "kconnect matches topics.regex with RE2 syntax, which has no lookaround, backreferences, " +
	"possessive quantifiers or atomic groups"

func validateTopicsRegex(v any) error {
	s, _ := v.(string)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if _, err := regexp.Compile(s); err != nil {
		return fmt.Errorf("Invalid regex: %v (%s)", err, re2Hint)
	}
	return nil
}

// fullMatch anchors a Java regex so it must match the whole topic name, as Java's
// Pattern.matcher(topic).matches() does.
func fullMatch(re string) string { return `\A(?:` + re + `)\z` }

// ValidateConfig adds the framework's cross-field checks of a sink connector configuration to
// values (the results of [ConfigDef]().Validate(config)): topics and topics.regex are exclusive
// and one is required, and the dead letter queue topic may not be one of the consumed topics
// (Java's SinkConnectorConfig.validate, word for word). It then appends the validation of the
// settings of each converter the config names itself (a converter inherited from the worker is
// not checked), every key of the converter's definition with its prefixed name
// ("value.converter.schemas.enable"), header converter first, as Java's validate endpoint
// does. [ConverterConfigDef] gives the definitions of the appended values.
func ValidateConfig(config map[string]string, values []sink.ConfigValue) []sink.ConfigValue {
	add := func(name, msg string) {
		for i := range values {
			if values[i].Name == name {
				values[i].Errors = append(values[i].Errors, msg)
				return
			}
		}
		v := config[name]
		values = append(values, sink.ConfigValue{Name: name, Value: &v, Visible: true,
			RecommendedValues: []string{}, Errors: []string{msg}})
	}
	for _, e := range crossFieldErrors(config) {
		for _, k := range e.keys {
			add(k, e.msg)
		}
	}
	// Java's order: the header converter, then the key and value converters.
	for _, key := range []string{HeaderConverterConfig, KeyConverterConfig, ValueConverterConfig} {
		def, ok := ConverterConfigDef(config[key])
		if !ok {
			continue // no converter named, or an unknown class, which is reported on the key itself
		}
		settings := sink.WithPrefix(config, key+".")
		if _, set := settings[converterTypeConfig]; !set {
			settings[converterTypeConfig] = strings.TrimSuffix(key, ".converter")
		}
		for _, v := range def.Validate(settings) {
			v.Name = key + "." + v.Name
			values = append(values, v)
		}
	}
	return values
}

type fieldError struct {
	keys []string
	msg  string
}

// crossFieldErrors is Java's SinkConnectorConfig.validate.
func crossFieldErrors(config map[string]string) []fieldError {
	topicsList := config[TopicsConfig]
	topicsRegex := config[TopicsRegexConfig]
	dlq := strings.TrimSpace(config[DLQTopicNameConfig])
	hasTopics := strings.TrimSpace(topicsList) != ""
	hasRegex := strings.TrimSpace(topicsRegex) != ""
	var out []fieldError
	if hasTopics && hasRegex {
		out = append(out, fieldError{[]string{TopicsConfig, TopicsRegexConfig},
			TopicsConfig + " and " + TopicsRegexConfig + " are mutually exclusive options, but both are set."})
	}
	if !hasTopics && !hasRegex {
		out = append(out, fieldError{[]string{TopicsConfig, TopicsRegexConfig},
			"Must configure one of " + TopicsConfig + " or " + TopicsRegexConfig})
	}
	if dlq != "" {
		if hasTopics {
			topics := parseTopics(topicsList)
			if slices.Contains(topics, dlq) {
				out = append(out, fieldError{[]string{TopicsConfig}, fmt.Sprintf(
					"The DLQ topic '%s' may not be included in the list of topics ('%s=[%s]') consumed by the connector",
					dlq, TopicsConfig, strings.Join(topics, ", "))})
			}
		}
		if hasRegex {
			if re, err := regexp.Compile(fullMatch(topicsRegex)); err == nil && re.MatchString(dlq) {
				out = append(out, fieldError{[]string{TopicsRegexConfig}, fmt.Sprintf(
					"The DLQ topic '%s' may not be included in the regex matching the topics ('%s=%s') consumed by the connector",
					dlq, TopicsRegexConfig, topicsRegex)})
			}
		}
	}
	return out
}

// parseTopics parses the topics list as Java does: trimmed, empty entries dropped, duplicates removed.
func parseTopics(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// settings is a sink connector's framework configuration, as the runtime uses it.
type settings struct {
	topics      []string
	topicsRegex string // anchored for a full match; "" when topics is used

	keyConverter, valueConverter, headerConverter ConverterSpec

	toleranceAll       bool
	retryTimeout       time.Duration // < 0: retry forever
	retryMaxDelay      time.Duration
	logErrors          bool
	logIncludeMessages bool
	dlqTopic           string
	dlqReplication     int16
	dlqContextHeaders  bool

	groupID           string
	consumerOverrides map[string]string
	producerOverrides map[string]string
}

// parseSettings reads the framework keys of a connector config, falling back to the worker's
// converters as Java's Worker does (a connector's "key.converter.*" settings apply only when the
// connector also names "key.converter").
func parseSettings(cfg Config) (*settings, error) {
	props := cfg.ConnectorConfig
	parsed, err := ConfigDef().Parse(props)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range crossFieldErrors(props) {
		errs = append(errs, errors.New(e.msg))
	}
	s := &settings{
		toleranceAll:       strings.EqualFold(parsed.String(ErrorsToleranceConfig), "all"),
		retryTimeout:       time.Duration(parsed.Long(ErrorsRetryTimeoutConfig)) * time.Millisecond,
		retryMaxDelay:      time.Duration(parsed.Long(ErrorsRetryMaxDelayConfig)) * time.Millisecond,
		logErrors:          parsed.Bool(ErrorsLogEnableConfig),
		logIncludeMessages: parsed.Bool(ErrorsLogIncludeMessagesConfig),
		dlqTopic:           strings.TrimSpace(parsed.String(DLQTopicNameConfig)),
		dlqReplication:     int16(parsed.Int(DLQTopicReplicationConfig)),
		dlqContextHeaders:  parsed.Bool(DLQContextHeadersEnableConfig),
		consumerOverrides:  sink.WithPrefix(props, ConsumerOverridePrefix),
		producerOverrides:  sink.WithPrefix(props, ProducerOverridePrefix),
	}
	if parsed.Long(ErrorsRetryTimeoutConfig) < 0 {
		s.retryTimeout = -1
	}
	if strings.TrimSpace(props[TopicsConfig]) != "" {
		s.topics = parseTopics(props[TopicsConfig])
	} else if re := strings.TrimSpace(props[TopicsRegexConfig]); re != "" {
		s.topicsRegex = fullMatch(re)
	}

	converter := func(key string, worker ConverterSpec, fallback string) ConverterSpec {
		if class := strings.TrimSpace(props[key]); class != "" {
			return ConverterSpec{Class: class, Config: sink.WithPrefix(props, key+".")}
		}
		if worker.Class == "" {
			worker.Class = fallback
		}
		return worker
	}
	s.keyConverter = converter(KeyConverterConfig, cfg.Worker.KeyConverter, "")
	s.valueConverter = converter(ValueConverterConfig, cfg.Worker.ValueConverter, "")
	s.headerConverter = converter(HeaderConverterConfig, cfg.Worker.HeaderConverter, SimpleHeaderConverterClass)
	if s.keyConverter.Class == "" {
		errs = append(errs, fmt.Errorf("Missing required configuration \"%s\" which has no default value.", KeyConverterConfig))
	}
	if s.valueConverter.Class == "" {
		errs = append(errs, fmt.Errorf("Missing required configuration \"%s\" which has no default value.", ValueConverterConfig))
	}

	s.groupID = "connect-" + cfg.Connector
	if g, ok := s.consumerOverrides["group.id"]; ok && strings.TrimSpace(g) != "" {
		s.groupID = strings.TrimSpace(g)
	}
	delete(s.consumerOverrides, "group.id")
	if cfg.Worker.GroupID != "" && s.groupID == cfg.Worker.GroupID {
		errs = append(errs, fmt.Errorf("Consumer group %s conflicts with Connect worker group %s", s.groupID, cfg.Worker.GroupID))
	}
	// The producer overrides apply only to the dead letter queue's producer, so, as in Java,
	// only a connector with a dead letter queue has them checked.
	refused := refusedOverrides(cfg.Worker.OverridePolicy, ConsumerOverridePrefix, sink.WithPrefix(props, ConsumerOverridePrefix))
	if s.dlqTopic != "" {
		refused = append(refused, refusedOverrides(cfg.Worker.OverridePolicy, ProducerOverridePrefix, s.producerOverrides)...)
	}
	if len(refused) > 0 {
		errs = append(errs, fmt.Errorf("Client Config Overrides not allowed: %s", strings.Join(refused, " ")))
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}
	return s, nil
}
