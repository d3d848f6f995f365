package rest

import (
	"net/http"
	"strings"
)

// The connector-plugins resource (Java's ConnectorPluginsResource).

// Plugin types listed when connectorsOnly is true (the default).
var connectorPluginTypes = map[string]bool{"sink": true, "source": true}

// aliasSuffix is what Java strips from a connector class name to get its alias.
const aliasSuffix = "Connector"

// listPlugins answers GET /connector-plugins: connector plugins, or with connectorsOnly=false
// every plugin the herder lists (converters too, when it lists them).
func (s *Server) listPlugins(x *exchange) (reply, error) {
	connectorsOnly := queryBool(x.r, "connectorsOnly", true)
	out := []pluginInfo{}
	for _, p := range s.herder.Plugins() {
		if connectorsOnly && !connectorPluginTypes[p.Type] {
			continue
		}
		out = append(out, fromPluginInfo(p))
	}
	return reply{status: http.StatusOK, body: out}, nil
}

// getPluginConfig answers GET /connector-plugins/{plugin}/config: the plugin's config keys.
func (s *Server) getPluginConfig(x *exchange) (reply, error) {
	plugin, err := pathParam(x.r, paramPlugin)
	if err != nil {
		return reply{}, err
	}
	keys, err := s.herder.PluginConfig(plugin)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, body: fromConfigKeys(keys)}, nil
}

// validateConfig answers PUT /connector-plugins/{plugin}/config/validate with ConfigInfos,
// 200 even when the config has errors. The body must name its own connector.class; the path
// only has to agree with it (Java does not fill connector.class in from the path).
func (s *Server) validateConfig(x *exchange) (reply, error) {
	plugin, err := pathParam(x.r, paramPlugin)
	if err != nil {
		return reply{}, err
	}
	data, err := readBody(x.w, x.r)
	if err != nil {
		return reply{}, err
	}
	cfg, err := decodeConfigMap(data)
	if err != nil {
		return reply{}, err
	}
	if class := cfg[keyConnectorClass]; class != nil && !strings.HasSuffix(normalizedPluginName(*class), normalizedPluginName(plugin)) {
		return reply{}, newError(http.StatusBadRequest, "Included connector type %s does not match request type %s", *class, plugin)
	}
	config, nulls := splitNulls(cfg)
	infos, err := s.herder.ValidateConfig(x.ctx(), plugin, config)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, body: fromConfigInfos(withNullErrors(infos, nulls))}, nil
}

// normalizedPluginName strips the "Connector" suffix, so a class name and its alias compare
// (Java's ConnectorPluginsResource.normalizedPluginName).
func normalizedPluginName(name string) string {
	if strings.HasSuffix(name, aliasSuffix) && len(name) > len(aliasSuffix) {
		return strings.TrimSuffix(name, aliasSuffix)
	}
	return name
}
