package storage

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/sink/connectjson"
)

// Config topic record keys, exactly as Java's KafkaConfigBackingStore writes them. Keys are plain
// UTF-8 strings; values are schemaless JSON.
const (
	targetStatePrefix   = "target-state-"
	connectorPrefix     = "connector-"
	taskPrefix          = "task-"
	commitPrefix        = "commit-"
	restartPrefix       = "restart-connector-"
	taskCountPrefix     = "tasks-fencing-"
	sessionKeyKey       = "session-key"
	loggerClusterPrefix = "logger-cluster-"
)

// errUnknownKey reports a config or status topic record whose key has no known prefix.
var errUnknownKey = errors.New("unknown record key")

// configRecord is one decoded config topic record.
type configRecord interface {
	// key returns the record key.
	key() string
	// value returns the record value; nil is a tombstone.
	value() []byte
}

// connectorConfigRecord is "connector-<name>": {"properties":{...}}. A nil Config is the
// tombstone written when the connector is deleted.
type connectorConfigRecord struct {
	Connector string
	Config    map[string]string
}

// targetStateRecord is "target-state-<name>": {"state":...,"state.v2":...}; Deleted is the
// tombstone.
type targetStateRecord struct {
	Connector string
	State     TargetState
	Deleted   bool
}

// taskConfigRecord is "task-<name>-<n>": {"properties":{...}}, applied by the next commit.
type taskConfigRecord struct {
	ID     ConnectorTaskID
	Config map[string]string
}

// commitRecord is "commit-<name>": {"tasks":N}.
type commitRecord struct {
	Connector string
	Tasks     int
}

// sessionKeyRecord is "session-key": {"key":...,"algorithm":...,"creation-timestamp":...}.
type sessionKeyRecord struct {
	Key SessionKey
}

// restartRecord is "restart-connector-<name>": {"include-tasks":...,"only-failed":...}.
type restartRecord struct {
	Request RestartRequest
}

// taskCountRecord is "tasks-fencing-<name>": {"task-count":N} (KIP-618, exactly-once source
// support). kconnect runs sink connectors only; it reads these records and ignores them.
type taskCountRecord struct {
	Connector string
	TaskCount int32
}

// loggerLevelRecord is "logger-cluster-<namespace>": {"level":...} (KIP-976). It is read and
// ignored: cluster-wide log levels are not applied from the config topic.
type loggerLevelRecord struct {
	Namespace string
	Level     string
}

func (r connectorConfigRecord) key() string { return connectorPrefix + r.Connector }
func (r targetStateRecord) key() string     { return targetStatePrefix + r.Connector }
func (r taskConfigRecord) key() string {
	return taskPrefix + r.ID.Connector + "-" + strconv.Itoa(r.ID.Task)
}
func (r commitRecord) key() string      { return commitPrefix + r.Connector }
func (r sessionKeyRecord) key() string  { return sessionKeyKey }
func (r restartRecord) key() string     { return restartPrefix + r.Request.Connector }
func (r taskCountRecord) key() string   { return taskCountPrefix + r.Connector }
func (r loggerLevelRecord) key() string { return loggerClusterPrefix + r.Namespace }

func (r connectorConfigRecord) value() []byte {
	if r.Config == nil {
		return nil
	}
	return appendProperties(nil, r.Config)
}

func (r targetStateRecord) value() []byte {
	if r.Deleted {
		return nil
	}
	// Workers older than KIP-875 know no STOPPED; they read "state" and see PAUSED.
	legacy := r.State
	if legacy == Stopped {
		legacy = Paused
	}
	b := append([]byte(nil), `{"state":`...)
	b = connectjson.AppendString(b, string(legacy))
	b = append(b, `,"state.v2":`...)
	b = connectjson.AppendString(b, string(r.State))
	return append(b, '}')
}

func (r taskConfigRecord) value() []byte {
	config := r.Config
	if config == nil {
		config = map[string]string{}
	}
	return appendProperties(nil, config)
}

func (r commitRecord) value() []byte {
	b := append([]byte(nil), `{"tasks":`...)
	b = strconv.AppendInt(b, int64(r.Tasks), 10)
	return append(b, '}')
}

func (r sessionKeyRecord) value() []byte {
	b := append([]byte(nil), `{"key":`...)
	b = connectjson.AppendString(b, base64.StdEncoding.EncodeToString(r.Key.Key))
	b = append(b, `,"algorithm":`...)
	b = connectjson.AppendString(b, r.Key.Algorithm)
	b = append(b, `,"creation-timestamp":`...)
	b = strconv.AppendInt(b, r.Key.Created.UnixMilli(), 10)
	return append(b, '}')
}

func (r restartRecord) value() []byte {
	b := append([]byte(nil), `{"include-tasks":`...)
	b = strconv.AppendBool(b, r.Request.IncludeTasks)
	b = append(b, `,"only-failed":`...)
	b = strconv.AppendBool(b, r.Request.OnlyFailed)
	return append(b, '}')
}

func (r taskCountRecord) value() []byte {
	b := append([]byte(nil), `{"task-count":`...)
	b = strconv.AppendInt(b, int64(r.TaskCount), 10)
	return append(b, '}')
}

func (r loggerLevelRecord) value() []byte {
	b := append([]byte(nil), `{"level":`...)
	b = connectjson.AppendString(b, r.Level)
	return append(b, '}')
}

func appendProperties(dst []byte, config map[string]string) []byte {
	if dst == nil {
		// Room for the map without escapes, so the common case allocates once.
		n := len(`{"properties":{}}`)
		for k, v := range config {
			n += len(k) + len(v) + len(`"":"",`)
		}
		dst = make([]byte, 0, n)
	}
	dst = append(dst, `{"properties":`...)
	dst = connectjson.AppendStringMap(dst, config)
	return append(dst, '}')
}

// decodeConfigRecord parses a config topic record. Keys are dispatched by prefix in Java's order
// (target-state-, connector-, task-, commit-, restart-connector-, tasks-fencing-, session-key,
// logger-cluster-); an empty value is a tombstone. It returns errUnknownKey for keys of no known
// kind and an error wrapping errWrongShape for values of the wrong shape.
func decodeConfigRecord(key string, value []byte) (configRecord, error) {
	switch {
	case strings.HasPrefix(key, targetStatePrefix):
		return decodeTargetState(strings.TrimPrefix(key, targetStatePrefix), value)
	case strings.HasPrefix(key, connectorPrefix):
		name := strings.TrimPrefix(key, connectorPrefix)
		if len(value) == 0 {
			return connectorConfigRecord{Connector: name}, nil
		}
		config, err := decodeField(value, "connector config", "properties", stringMapField)
		if err != nil {
			return nil, err
		}
		return connectorConfigRecord{Connector: name, Config: config}, nil
	case strings.HasPrefix(key, taskPrefix):
		id, ok := parseTaskKey(strings.TrimPrefix(key, taskPrefix))
		if !ok {
			return nil, fmt.Errorf("%w: %q is not a task config key", errUnknownKey, key)
		}
		if len(value) == 0 {
			// Checked here so the common case formats no message.
			return nil, fmt.Errorf("%w: task config for %s-%d is unexpectedly null", errWrongShape, id.Connector, id.Task)
		}
		config, err := decodeField(value, "task config", "properties", stringMapField)
		if err != nil {
			return nil, err
		}
		return taskConfigRecord{ID: id, Config: config}, nil
	case strings.HasPrefix(key, commitPrefix):
		n, err := decodeField(value, "task commit", "tasks", int32Field)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fmt.Errorf("%w: task count %d is negative", errWrongShape, n)
		}
		return commitRecord{Connector: strings.TrimPrefix(key, commitPrefix), Tasks: int(n)}, nil
	case strings.HasPrefix(key, restartPrefix):
		m, err := decodeRequired(value, "restart request")
		if err != nil {
			return nil, err
		}
		// Java defaults a missing or non-boolean field to false rather than dropping the request.
		includeTasks, _ := boolField(m, "include-tasks")
		onlyFailed, _ := boolField(m, "only-failed")
		return restartRecord{Request: RestartRequest{
			Connector:    strings.TrimPrefix(key, restartPrefix),
			IncludeTasks: includeTasks,
			OnlyFailed:   onlyFailed,
		}}, nil
	case strings.HasPrefix(key, taskCountPrefix):
		n, err := decodeField(value, "task count record", "task-count", int32Field)
		if err != nil {
			return nil, err
		}
		return taskCountRecord{Connector: strings.TrimPrefix(key, taskCountPrefix), TaskCount: n}, nil
	case key == sessionKeyKey:
		return decodeSessionKey(value)
	case strings.HasPrefix(key, loggerClusterPrefix):
		level, err := decodeField(value, "logging level", "level", stringField)
		if err != nil {
			return nil, err
		}
		return loggerLevelRecord{Namespace: strings.TrimPrefix(key, loggerClusterPrefix), Level: level}, nil
	default:
		return nil, fmt.Errorf("%w: %q", errUnknownKey, key)
	}
}

// decodeRequired parses the value of a record that is never a tombstone: an empty value is an
// error that names what the record holds.
func decodeRequired(value []byte, what string) (map[string]any, error) {
	if len(value) == 0 {
		return nil, fmt.Errorf("%w: %s is unexpectedly null", errWrongShape, what)
	}
	return decodeObject(value)
}

// decodeField parses the value of a record that is never a tombstone and holds one field, and
// reads that field with read.
func decodeField[T any](value []byte, what, field string, read func(map[string]any, string) (T, error)) (T, error) {
	m, err := decodeRequired(value, what)
	if err != nil {
		var zero T
		return zero, err
	}
	return read(m, field)
}

func decodeTargetState(connector string, value []byte) (configRecord, error) {
	if len(value) == 0 {
		return targetStateRecord{Connector: connector, Deleted: true}, nil
	}
	m, err := decodeObject(value)
	if err != nil {
		return nil, err
	}
	// Readers prefer "state.v2" and fall back on "state", which older workers write alone.
	state, ok := m["state.v2"].(string)
	if !ok {
		if state, err = stringField(m, "state"); err != nil {
			return nil, err
		}
	}
	ts := TargetState(state)
	switch ts {
	case Started, Paused, Stopped:
	default:
		return nil, fmt.Errorf("%w: invalid target state %q", errWrongShape, state)
	}
	return targetStateRecord{Connector: connector, State: ts}, nil
}

func decodeSessionKey(value []byte) (configRecord, error) {
	m, err := decodeRequired(value, "session key")
	if err != nil {
		return nil, err
	}
	encoded, err := stringField(m, "key")
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: session key is not base64: %v", errWrongShape, err)
	}
	algorithm, err := stringField(m, "algorithm")
	if err != nil {
		return nil, err
	}
	created, err := int64Field(m, "creation-timestamp")
	if err != nil {
		return nil, err
	}
	return sessionKeyRecord{Key: SessionKey{Key: key, Algorithm: algorithm, Created: time.UnixMilli(created)}}, nil
}

// parseTaskKey parses "<connector>-<n>", the part of a task key after its prefix. The task number
// follows the last '-', so connector names may contain '-'.
func parseTaskKey(s string) (ConnectorTaskID, bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return ConnectorTaskID{}, false
	}
	n, err := strconv.ParseInt(s[i+1:], 10, 32)
	if err != nil {
		return ConnectorTaskID{}, false
	}
	return ConnectorTaskID{Connector: s[:i], Task: int(n)}, true
}
