package cluster

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/task"
)

// Connector configuration keys the framework reads (Java's ConnectorConfig).
const (
	ccName            = "name"
	ccConnectorClass  = "connector.class"
	ccTasksMax        = "tasks.max"
	ccTasksMaxEnforce = "tasks.max.enforce"
	ccReloadAction    = "config.action.reload"
	ccTransforms      = "transforms"
	ccPredicates      = "predicates"
	ccTopics          = task.TopicsConfig
	ccTopicsRegex     = task.TopicsRegexConfig
	ccDLQTopic        = task.DLQTopicNameConfig
	ccTaskClass       = "task.class"
	ccConsumerGroupOv = "consumer.override.group.id"

	groupCommon     = "Common"
	groupTransforms = "Transforms"
	groupPredicates = "Predicates"
)

func validName(v any) error {
	s, _ := v.(string)
	if v == nil {
		return nil
	}
	if s == "" {
		return errors.New("String may not be empty")
	}
	var bad []string
	for _, r := range s {
		if unicode.IsControl(r) {
			bad = append(bad, strconv.Itoa(int(r)))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("String may not contain control sequences but had the following ASCII chars: %s", strings.Join(bad, ", "))
	}
	return nil
}

func uniqueAliases(v any) error {
	l, _ := v.([]string)
	seen := map[string]bool{}
	for _, a := range l {
		if seen[a] {
			return errors.New("Duplicate alias provided.")
		}
		seen[a] = true
	}
	return nil
}

// unknownClass rejects every class: kconnect has no transformations or predicates.
func unknownClass(v any) error {
	if s, ok := v.(string); ok {
		return fmt.Errorf("Class %s could not be found.", s)
	}
	return nil
}

// frameworkConnectorDef declares the connector keys of the framework itself; task.ConfigDef
// adds the sink task keys (topics, converters, errors.*).
func frameworkConnectorDef() *sink.ConfigDef {
	d := sink.NewConfigDef()
	d.Define(sink.ConfigKey{Name: ccName, Type: sink.TypeString, Required: true, Validator: validName, Importance: sink.High,
		Doc: "Globally unique name of the connector.", Group: groupCommon, OrderInGroup: 1, Width: sink.WidthMedium, DisplayName: "Connector name"})
	d.Define(sink.ConfigKey{Name: ccConnectorClass, Type: sink.TypeString, Required: true, Importance: sink.High,
		Doc:   "Class of the connector, fully qualified or by alias (the simple class name, with or without the Connector suffix).",
		Group: groupCommon, OrderInGroup: 2, Width: sink.WidthLong, DisplayName: "Connector class"})
	d.Define(sink.ConfigKey{Name: ccTasksMax, Type: sink.TypeInt, Default: int32(1), Validator: sink.AtLeast(1), Importance: sink.High,
		Doc: "Maximum number of tasks the connector may run.", Group: groupCommon, OrderInGroup: 3, Width: sink.WidthShort, DisplayName: "Tasks max"})
	d.Define(sink.ConfigKey{Name: ccTasksMaxEnforce, Type: sink.TypeBoolean, Default: true, Importance: sink.Low,
		Doc:   "(Deprecated) Fail a connector that generates more than tasks.max tasks, and a stored task set larger than tasks.max. Set to false to allow it.",
		Group: groupCommon, OrderInGroup: 5, Width: sink.WidthShort, DisplayName: "Enforce tasks max"})
	d.Define(sink.ConfigKey{Name: ccTransforms, Type: sink.TypeList, Default: []string{}, Validator: uniqueAliases, Importance: sink.Low,
		Doc: "Aliases of the transformations applied to records. kconnect has no transformations yet.", Group: groupTransforms, OrderInGroup: 6, Width: sink.WidthLong, DisplayName: "Transforms"})
	d.Define(sink.ConfigKey{Name: ccPredicates, Type: sink.TypeList, Default: []string{}, Validator: uniqueAliases, Importance: sink.Low,
		Doc: "Aliases of the predicates transformations use. kconnect has no predicates yet.", Group: groupPredicates, OrderInGroup: 7, Width: sink.WidthLong, DisplayName: "Predicates"})
	d.Define(sink.ConfigKey{Name: ccReloadAction, Type: sink.TypeString, Default: "restart", Validator: sink.OneOf("none", "restart"), Importance: sink.Low,
		Doc:   "What to do when a configuration provider reports a changed value: restart the connector, or none.",
		Group: groupCommon, OrderInGroup: 8, Width: sink.WidthMedium, DisplayName: "Reload Action"})
	return d
}

// connectorDef is every framework key of a sink connector, built once.
var connectorDef = sync.OnceValue(func() *sink.ConfigDef {
	return frameworkConnectorDef().Extend(task.ConfigDef())
})

// ConnectorConfigDef returns the framework's keys of a sink connector configuration: name,
// connector.class, tasks.max and the other connector keys, then the sink task keys (topics,
// converters, errors.*). GET /connector-plugins/{plugin}/config lists them after the plugin's own.
func ConnectorConfigDef() *sink.ConfigDef {
	return frameworkConnectorDef().Extend(task.ConfigDef())
}

// enrichedDef adds the per-alias keys of transforms and predicates, as Java's
// ConnectorConfig.enrich does; each alias needs a class, and none is known here.
func enrichedDef(config map[string]string) *sink.ConfigDef {
	base := connectorDef()
	extra := sink.NewConfigDef()
	for _, kind := range []struct{ key, group string }{{ccTransforms, "Transforms: "}, {ccPredicates, "Predicates: "}} {
		v, err := sink.ParseValue(sink.TypeList, config[kind.key])
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, alias := range v.([]string) {
			name := kind.key + "." + alias + ".type"
			if seen[alias] || alias == "" {
				continue
			}
			seen[alias] = true
			extra.Define(sink.ConfigKey{Name: name, Type: sink.TypeClass, Required: true, Validator: unknownClass, Importance: sink.High,
				Doc: "Class of the " + strings.TrimSuffix(kind.key, "s") + " '" + alias + "'.", Group: kind.group + alias, OrderInGroup: 1, Width: sink.WidthLong})
		}
	}
	if len(extra.Keys()) == 0 {
		return base
	}
	return base.Extend(extra)
}

// validateConnectorConfig validates a connector configuration as create does (Java's
// AbstractHerder.validateConnectorConfig for a sink in distributed mode). The answer has three
// parts, in Java's order:
//
//  1. the connector's keys: the framework's (with per-alias transform and predicate keys), the
//     sink cross-checks and the converter checks of task.ValidateConfig, the consumer group
//     check, then the plugin's own definition and its ConfigValidator; values without a
//     definition first, then every key;
//  2. the client overrides, each checked against connector.client.config.override.policy:
//     producer.override.* (only with a dead letter queue, whose producer they configure),
//     consumer.override.*, admin.override.* (only with a dead letter queue);
//  3. the settings of each converter the config names: header, key, then value converter.
//
// It returns an error only when the config names no known connector class; problems with
// values are in the result. error_count counts messages in part 1 and, as Java does, configs
// with errors in parts 2 and 3.
func (h *Herder) validateConnectorConfig(config map[string]string) (ConfigInfos, *sink.Plugin, error) {
	class, ok := config[ccConnectorClass]
	if !ok {
		return ConfigInfos{}, nil, errNoConnectorType(config)
	}
	plugin, ok := h.plugins.Lookup(strings.TrimSpace(class))
	if !ok {
		return ConfigInfos{}, nil, errorf(KindBadRequest, "Failed to find any class that implements Connector and which name matches %s, available connectors are: %s",
			class, strings.Join(h.pluginClasses(), ", "))
	}

	def := enrichedDef(config)
	values := def.Validate(config)
	ownValues := len(values)
	// The sink cross-checks (topics, topics.regex, dead letter queue) land on the framework's
	// values; the converters' own settings come after them.
	values = task.ValidateConfig(config, values)
	converterValues := values[ownValues:]
	values = values[:ownValues]

	byName := map[string]*sink.ConfigValue{}
	for i := range values {
		byName[values[i].Name] = &values[i]
	}
	var orphans []sink.ConfigValue // values without a definition
	addError := func(key, msg string) {
		if v, ok := byName[key]; ok {
			v.Errors = append(v.Errors, msg)
			return
		}
		for i := range orphans {
			if orphans[i].Name == key {
				orphans[i].Errors = append(orphans[i].Errors, msg)
				return
			}
		}
		cv := overrideValue(config, key)
		cv.Errors = []string{msg}
		orphans = append(orphans, cv)
	}

	// The sink's consumer group must not be the worker group.
	group := h.cfg.GroupID()
	if og, ok := config[ccConsumerGroupOv]; ok {
		if og == group {
			addError(ccConsumerGroupOv, fmt.Sprintf("Consumer group %s conflicts with Connect worker group %s", og, group))
		}
	} else if name := strings.TrimSpace(config[ccName]); "connect-"+name == group {
		addError(ccName, fmt.Sprintf("Consumer group for sink connector named %s conflicts with Connect worker group %s", name, group))
	}

	// The plugin's own keys; its ConfigValidator may add cross-field errors.
	pluginValues := plugin.Config.Validate(config)
	if v, ok := plugin.NewConnector().(sink.ConfigValidator); ok {
		pluginValues = v.Validate(config, pluginValues)
	}

	// Java's generateResult: values without a definition first, then every key (framework
	// keys, then the plugin's; a plugin key of the same name takes the framework key's place).
	keys := def.Keys()
	keyIndex := map[string]int{}
	for i, k := range keys {
		keyIndex[k.Name] = i
	}
	for _, k := range plugin.Config.Keys() {
		if i, ok := keyIndex[k.Name]; ok {
			keys[i] = k
			continue
		}
		keyIndex[k.Name] = len(keys)
		keys = append(keys, k)
	}
	for i := range pluginValues {
		pv := pluginValues[i]
		if _, defined := keyIndex[pv.Name]; !defined {
			orphans = append(orphans, pv)
			continue
		}
		byName[pv.Name] = &pv
	}

	infos := ConfigInfos{Name: class}
	groups := def.Groups()
	seenGroup := map[string]bool{}
	for _, g := range groups {
		seenGroup[g] = true
	}
	addGroup := func(g string) {
		if g != "" && !seenGroup[g] {
			seenGroup[g] = true
			groups = append(groups, g)
		}
	}
	for _, g := range plugin.Config.Groups() {
		addGroup(g)
	}
	for i := range orphans {
		v := orphans[i]
		infos.ErrorCount += len(v.Errors)
		infos.Configs = append(infos.Configs, ConfigInfo{Value: &v})
	}
	for i := range keys {
		k := keys[i]
		ci := ConfigInfo{Definition: &k}
		if v, ok := byName[k.Name]; ok {
			vc := *v
			ci.Value = &vc
			infos.ErrorCount += len(vc.Errors)
		}
		infos.Configs = append(infos.Configs, ci)
	}

	// Client overrides under the worker's policy. kconnect has no definitions of the Kafka
	// clients' settings, so these entries carry values only.
	policy := h.cfg.OverridePolicy()
	hasDLQ := strings.TrimSpace(config[ccDLQTopic]) != ""
	for _, prefix := range []struct {
		name string
		used bool
	}{{task.ProducerOverridePrefix, hasDLQ}, {task.ConsumerOverridePrefix, true}, {adminOverridePrefix, hasDLQ}} {
		if !prefix.used {
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(sink.WithPrefix(config, prefix.name))) {
			v := overrideValue(config, prefix.name+key)
			if !task.ClientOverrideAllowed(policy, key) {
				v.Errors = append(v.Errors, task.ClientOverrideError(policy, key))
				infos.ErrorCount++
			}
			infos.Configs = append(infos.Configs, ConfigInfo{Value: &v})
		}
	}

	// The converters' settings, with their definitions under the prefixed names.
	for i := range converterValues {
		v := converterValues[i]
		ci := ConfigInfo{Value: &v}
		for _, key := range []string{task.HeaderConverterConfig, task.KeyConverterConfig, task.ValueConverterConfig} {
			name, ok := strings.CutPrefix(v.Name, key+".")
			if !ok {
				continue
			}
			if cdef, ok := task.ConverterConfigDef(config[key]); ok {
				if k, ok := cdef.Key(name); ok {
					k.Name = v.Name
					ci.Definition = &k
					addGroup(k.Group)
				}
			}
			break
		}
		if len(v.Errors) > 0 {
			infos.ErrorCount++
		}
		infos.Configs = append(infos.Configs, ci)
	}
	infos.Groups = groups
	return infos, plugin, nil
}

// adminOverridePrefix prefixes the admin client settings a connector overrides (used for its
// dead letter queue topic).
const adminOverridePrefix = "admin.override."

// overrideValue is the value entry of a key without a definition: the raw value, hidden when
// the key looks secret (no definition says whether it is a password; assume it).
func overrideValue(config map[string]string, key string) sink.ConfigValue {
	cv := sink.ConfigValue{Name: key, RecommendedValues: []string{}, Errors: []string{}, Visible: true}
	if raw, has := config[key]; has {
		if looksSecret(key) {
			raw = "[hidden]"
		}
		cv.Value = &raw
	}
	return cv
}

func (h *Herder) pluginClasses() []string {
	var out []string
	for _, p := range h.plugins.Plugins() {
		out = append(out, p.Class)
	}
	return out
}

// connectorType returns "sink" for a config whose class is installed here, else "unknown".
func (h *Herder) connectorType(config map[string]string) string {
	if config == nil {
		return "unknown"
	}
	if p, ok := h.plugins.Lookup(strings.TrimSpace(config[ccConnectorClass])); ok {
		if p.Type == "" {
			return string(sink.PluginTypeSink)
		}
		return string(p.Type)
	}
	return "unknown"
}

// normalizedPluginName is a plugin name without its Connector suffix, as Java's
// ConnectorPluginsResource compares them.
func normalizedPluginName(name string) string {
	if len(name) > len("Connector") {
		return strings.TrimSuffix(name, "Connector")
	}
	return name
}
