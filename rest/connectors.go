package rest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
)

// The connectors resource: /connectors and everything under it except the internal task
// configs endpoint (Java's ConnectorsResource).

// Config keys the REST layer itself reads.
const (
	keyName           = "name"
	keyConnectorClass = "connector.class"
)

// msgNullValue is the validation error of a null config value, as Java's AbstractHerder writes
// it.
const msgNullValue = "Null value can not be supplied as the configuration value."

// Expansions of GET /connectors.
const (
	expandStatus = "status"
	expandInfo   = "info"
)

// listConnectors answers GET /connectors: the names, or with ?expand=status and/or
// ?expand=info (repeatable, unknown values ignored) a map from name to the expansions. A
// connector whose status or info is not found (no status written yet, or deleted meanwhile) is
// left out, as Java does.
func (s *Server) listConnectors(x *exchange) (reply, error) {
	names, err := s.herder.Connectors(x.ctx())
	if err != nil {
		return reply{}, err
	}
	expansions, expand := x.r.URL.Query()["expand"]
	if !expand {
		return reply{status: http.StatusOK, body: nonNilStrings(names)}, nil
	}
	out := make(map[string]map[string]any, len(names))
	for _, name := range names {
		m, found, err := s.expandConnector(x, name, expansions)
		if err != nil {
			return reply{}, err
		}
		if found {
			out[name] = m
		}
	}
	return reply{status: http.StatusOK, body: out}, nil
}

func (s *Server) expandConnector(x *exchange, name string, expansions []string) (map[string]any, bool, error) {
	m := map[string]any{}
	for _, e := range expansions {
		switch e {
		case expandStatus:
			st, err := s.herder.ConnectorStatus(x.ctx(), name)
			if isNotFound(err) {
				return nil, false, nil
			}
			if err != nil {
				return nil, false, err
			}
			m[expandStatus] = fromConnectorState(st)
		case expandInfo:
			info, err := s.herder.ConnectorInfo(x.ctx(), name)
			if isNotFound(err) {
				return nil, false, nil
			}
			if err != nil {
				return nil, false, err
			}
			m[expandInfo] = fromConnectorInfo(info)
		default:
			s.log.Debug("ignoring unknown expansion of GET /connectors", "expand", e)
		}
	}
	return m, true, nil
}

func isNotFound(err error) bool {
	var e *cluster.Error
	return errors.As(err, &e) && e.Kind == cluster.KindNotFound
}

// createConnector answers POST /connectors: 201, a Location and the ConnectorInfo.
func (s *Server) createConnector(x *exchange) (reply, error) {
	data, err := readBody(x.w, x.r)
	if err != nil {
		return reply{}, err
	}
	req, err := decodeCreateRequest(data)
	if err != nil {
		return reply{}, err
	}
	if err := checkAndPutName(req.name, req.config); err != nil {
		return reply{}, err
	}
	config, err := s.requireNonNull(x, req.config)
	if err != nil {
		return reply{}, err
	}
	x.forwardBody = createConnectorRequest{Name: req.name, Config: req.config, InitialState: req.initialName}
	x.location = connectorPath(req.name)
	_, info, err := s.herder.PutConnectorConfig(x.ctx(), req.name, config, false, req.initial)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusCreated, body: fromConnectorInfo(info)}, nil
}

// putConnectorConfig answers PUT /connectors/{c}/config: 201 and a Location when the connector
// was created, 200 when it was updated.
func (s *Server) putConnectorConfig(x *exchange) (reply, error) {
	name, err := connectorName(x.r)
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
	if err := checkAndPutName(name, cfg); err != nil {
		return reply{}, err
	}
	config, err := s.requireNonNull(x, cfg)
	if err != nil {
		return reply{}, err
	}
	x.forwardBody = config
	x.location = connectorPath(name)
	created, info, err := s.herder.PutConnectorConfig(x.ctx(), name, config, true, nil)
	if err != nil {
		return reply{}, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return reply{status: status, body: fromConnectorInfo(info)}, nil
}

// patchConnectorConfig answers PATCH /connectors/{c}/config (KIP-477): null values remove keys.
func (s *Server) patchConnectorConfig(x *exchange) (reply, error) {
	name, err := connectorName(x.r)
	if err != nil {
		return reply{}, err
	}
	data, err := readBody(x.w, x.r)
	if err != nil {
		return reply{}, err
	}
	patch, err := decodeConfigMap(data)
	if err != nil {
		return reply{}, err
	}
	x.forwardBody = patch
	info, err := s.herder.PatchConnectorConfig(x.ctx(), name, patch)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, body: fromConnectorInfo(info)}, nil
}

// checkAndPutName checks that a config's "name", if present, equals the connector's name and
// inserts it otherwise (Java's checkAndPutConnectorConfigName; a null name counts as absent).
func checkAndPutName(name string, cfg map[string]*string) error {
	if included := cfg[keyName]; included != nil {
		if *included != name {
			return newError(http.StatusBadRequest, "Connector name configuration (%s) doesn't match connector name in the URL (%s)", *included, name)
		}
		return nil
	}
	n := name
	cfg[keyName] = &n
	return nil
}

// connectorPath is the path of a connector's resource, for Location headers.
func connectorPath(name string) string { return "/connectors/" + url.PathEscape(name) }

// requireNonNull returns cfg without null values, or, if it has any, the 400 answer Java's
// validation gives for them. The herder's contract carries no nulls (a config is a
// map[string]string), so the REST layer gives that answer: it validates the rest of the config
// through the herder, adds one error per null value, and reports them all in Java's words.
func (s *Server) requireNonNull(x *exchange, cfg map[string]*string) (map[string]string, error) {
	config, nulls := splitNulls(cfg)
	if len(nulls) == 0 {
		return config, nil
	}
	infos, err := s.herder.ValidateConfig(x.ctx(), config[keyConnectorClass], config)
	if err != nil {
		return nil, err
	}
	infos = withNullErrors(infos, nulls)
	return nil, cluster.InvalidConfigError(infos)
}

// splitNulls separates a bound config into its values and the sorted keys given as null.
func splitNulls(cfg map[string]*string) (map[string]string, []string) {
	config := make(map[string]string, len(cfg))
	var nulls []string
	for k, v := range cfg {
		if v == nil {
			nulls = append(nulls, k)
			continue
		}
		config[k] = *v
	}
	sort.Strings(nulls)
	return config, nulls
}

// withNullErrors adds Java's null-value error to the validation result of each key that was
// given as null: after the errors the herder found for the key (validated as absent), or as a
// new result when the herder had none. ErrorCount follows.
func withNullErrors(infos cluster.ConfigInfos, nulls []string) cluster.ConfigInfos {
	if len(nulls) == 0 {
		return infos
	}
	infos.Configs = append([]cluster.ConfigInfo(nil), infos.Configs...)
	for _, key := range nulls {
		replaced := false
		for i, ci := range infos.Configs {
			if ci.Value == nil || ci.Value.Name != key {
				continue
			}
			// Java adds the message to the key's other errors (computeIfAbsent(key).addErrorMessage).
			v := *ci.Value
			infos.ErrorCount++
			v.Value = nil
			v.Errors = append(append([]string(nil), v.Errors...), msgNullValue)
			infos.Configs[i].Value = &v
			replaced = true
			break
		}
		if !replaced {
			infos.Configs = append(infos.Configs, cluster.ConfigInfo{Value: &sink.ConfigValue{
				Name: key, RecommendedValues: []string{}, Errors: []string{msgNullValue}, Visible: true,
			}})
			infos.ErrorCount++
		}
	}
	return infos
}

// Most routes under /connectors/{connector} name one resource, make one herder call and answer
// a fixed status: lookup and action build their handlers, so the route table shows each in one
// line.

// lookup is the handler that reads the resource the path names (id reads its name from the
// request), gets it from the herder and answers 200 with body's JSON form of it.
func lookup[ID, T, B any](id func(*http.Request) (ID, error), get func(context.Context, ID) (T, error), body func(T) B) handlerFunc {
	return func(x *exchange) (reply, error) {
		key, err := id(x.r)
		if err != nil {
			return reply{}, err
		}
		v, err := get(x.ctx(), key)
		if err != nil {
			return reply{}, err
		}
		return reply{status: http.StatusOK, body: body(v)}, nil
	}
}

// action is the handler that reads the resource the path names (id reads its name from the
// request), has the herder act on it and answers status with no body.
func action[ID any](id func(*http.Request) (ID, error), act func(context.Context, ID) error, status int) handlerFunc {
	return func(x *exchange) (reply, error) {
		key, err := id(x.r)
		if err != nil {
			return reply{}, err
		}
		if err := act(x.ctx(), key); err != nil {
			return reply{}, err
		}
		return reply{status: status}, nil
	}
}

// connectorName reads the {connector} parameter.
func connectorName(r *http.Request) (string, error) { return pathParam(r, paramConnector) }

// taskID reads the {connector} and {task} parameters. A task number that is not an integer
// matches no resource (Jersey answers 404 for an unparsable Integer path parameter).
func taskID(r *http.Request) (storage.ConnectorTaskID, error) {
	name, err := connectorName(r)
	if err != nil {
		return storage.ConnectorTaskID{}, err
	}
	raw, err := pathParam(r, paramTask)
	if err != nil {
		return storage.ConnectorTaskID{}, err
	}
	n, err := strconv.ParseInt(raw, 10, 32)
	if err != nil {
		return storage.ConnectorTaskID{}, newError(http.StatusNotFound, msgNotFound)
	}
	return storage.ConnectorTaskID{Connector: name, Task: int(n)}, nil
}

// restartConnector answers POST /connectors/{c}/restart (KIP-745): without includeTasks and
// onlyFailed only the connector restarts (204); with either, the answer is 202 and the planned
// states, and both parameters travel with a forwarded request.
func (s *Server) restartConnector(x *exchange) (reply, error) {
	name, err := connectorName(x.r)
	if err != nil {
		return reply{}, err
	}
	includeTasks := queryBool(x.r, "includeTasks", false)
	onlyFailed := queryBool(x.r, "onlyFailed", false)
	if !includeTasks && !onlyFailed {
		if _, err := s.herder.RestartConnector(x.ctx(), name, false, false); err != nil {
			return reply{}, err
		}
		return reply{status: http.StatusNoContent}, nil
	}
	x.forwardQuery = url.Values{
		"includeTasks": {boolText(includeTasks)},
		"onlyFailed":   {boolText(onlyFailed)},
	}
	plan, err := s.herder.RestartConnector(x.ctx(), name, includeTasks, onlyFailed)
	if err != nil {
		return reply{}, err
	}
	if plan == nil {
		return reply{status: http.StatusAccepted}, nil
	}
	return reply{status: http.StatusAccepted, body: fromConnectorState(*plan)}, nil
}

// getConnectorTopics answers GET /connectors/{c}/topics (KIP-558) as {"<c>": {"topics": [...]}};
// like Java it does not check that the connector exists.
func (s *Server) getConnectorTopics(x *exchange) (reply, error) {
	name, err := connectorName(x.r)
	if err != nil {
		return reply{}, err
	}
	topics, err := s.herder.ConnectorTopics(x.ctx(), name)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, body: map[string]activeTopics{name: {Topics: nonNilStrings(topics)}}}, nil
}
