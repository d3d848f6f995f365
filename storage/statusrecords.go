package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/sink/connectjson"
)

// Status topic record keys, exactly as Java's KafkaStatusBackingStore writes them.
const (
	connectorStatusPrefix = "status-connector-"
	taskStatusPrefix      = "status-task-"
	topicStatusPrefix     = "status-topic-"
	topicStatusSeparator  = ":connector-"
)

// status is the value of a connector or task status record.
type status struct {
	State      State
	Trace      string // "" is written as null
	WorkerID   string
	Generation int32
}

func connectorStatusKey(connector string) string { return connectorStatusPrefix + connector }

func taskStatusKey(id ConnectorTaskID) string {
	return taskStatusPrefix + id.Connector + "-" + strconv.Itoa(id.Task)
}

func topicStatusKey(topic, connector string) string {
	return topicStatusPrefix + topic + topicStatusSeparator + connector
}

// encodeStatus writes {"state":...,"trace":...,"worker_id":...,"generation":...}; a Destroyed
// state is a tombstone (nil).
func encodeStatus(s status) []byte {
	if s.State == Destroyed {
		return nil
	}
	b := append([]byte(nil), `{"state":`...)
	b = connectjson.AppendString(b, string(s.State))
	b = append(b, `,"trace":`...)
	if s.Trace == "" {
		b = append(b, "null"...)
	} else {
		b = connectjson.AppendString(b, s.Trace)
	}
	b = append(b, `,"worker_id":`...)
	b = connectjson.AppendString(b, s.WorkerID)
	b = append(b, `,"generation":`...)
	b = strconv.AppendInt(b, int64(s.Generation), 10)
	return append(b, '}')
}

// encodeTopicStatus writes {"topic":{"name":...,"connector":...,"task":...,"discoverTimestamp":...}}.
func encodeTopicStatus(t TopicStatus) []byte {
	b := append([]byte(nil), `{"topic":{"name":`...)
	b = connectjson.AppendString(b, t.Topic)
	b = append(b, `,"connector":`...)
	b = connectjson.AppendString(b, t.Connector)
	b = append(b, `,"task":`...)
	b = strconv.AppendInt(b, int64(t.Task), 10)
	b = append(b, `,"discoverTimestamp":`...)
	b = strconv.AppendInt(b, t.DiscoverTimestamp.UnixMilli(), 10)
	return append(b, "}}"...)
}

// decodeStatus parses a connector or task status value.
func decodeStatus(value []byte) (status, error) {
	m, err := decodeObject(value)
	if err != nil {
		return status{}, err
	}
	state, err := stringField(m, "state")
	if err != nil {
		return status{}, err
	}
	switch st := State(state); st {
	case Unassigned, Running, StatePaused, Failed, Restarting, StateStopped, Destroyed:
	default:
		return status{}, fmt.Errorf("%w: invalid state %q", errWrongShape, state)
	}
	trace, err := optionalStringField(m, "trace")
	if err != nil {
		return status{}, err
	}
	worker, err := optionalStringField(m, "worker_id")
	if err != nil {
		return status{}, err
	}
	gen, err := int32Field(m, "generation")
	if err != nil {
		return status{}, err
	}
	return status{State: State(state), Trace: trace, WorkerID: worker, Generation: gen}, nil
}

// decodeTopicStatus parses a topic status value.
func decodeTopicStatus(value []byte) (TopicStatus, error) {
	m, err := decodeObject(value)
	if err != nil {
		return TopicStatus{}, err
	}
	inner, ok := m["topic"].(map[string]any)
	if !ok {
		return TopicStatus{}, fmt.Errorf("%w: field \"topic\" should be an object but is %s", errWrongShape, jsonKind(m["topic"]))
	}
	name, err := stringField(inner, "name")
	if err != nil {
		return TopicStatus{}, err
	}
	connector, err := stringField(inner, "connector")
	if err != nil {
		return TopicStatus{}, err
	}
	task, err := int32Field(inner, "task")
	if err != nil {
		return TopicStatus{}, err
	}
	ts, err := int64Field(inner, "discoverTimestamp")
	if err != nil {
		return TopicStatus{}, err
	}
	return TopicStatus{Topic: name, Connector: connector, Task: int(task), DiscoverTimestamp: time.UnixMilli(ts)}, nil
}

// statusKeyKind says what a status topic key names.
type statusKeyKind int

const (
	connectorStatusKind statusKeyKind = iota
	taskStatusKind
	topicStatusKind
)

// statusKey is a parsed status topic key.
type statusKey struct {
	kind      statusKeyKind
	connector string
	task      int    // taskStatusKind
	topic     string // topicStatusKind
}

// parseStatusKey parses a status topic key. Connector names may contain '-' (the task number
// follows the last one) and ':' (the topic, which cannot, ends at the first one).
func parseStatusKey(key string) (statusKey, error) {
	switch {
	case strings.HasPrefix(key, connectorStatusPrefix):
		name := strings.TrimPrefix(key, connectorStatusPrefix)
		if name == "" {
			return statusKey{}, fmt.Errorf("%w: connector status key %q has no connector", errUnknownKey, key)
		}
		return statusKey{kind: connectorStatusKind, connector: name}, nil
	case strings.HasPrefix(key, taskStatusPrefix):
		id, ok := parseTaskKey(strings.TrimPrefix(key, taskStatusPrefix))
		if !ok {
			return statusKey{}, fmt.Errorf("%w: %q is not a task status key", errUnknownKey, key)
		}
		return statusKey{kind: taskStatusKind, connector: id.Connector, task: id.Task}, nil
	case strings.HasPrefix(key, topicStatusPrefix):
		rest := strings.TrimPrefix(key, topicStatusPrefix)
		i := strings.IndexByte(rest, ':')
		if i <= 0 || !strings.HasPrefix(rest[i:], topicStatusSeparator) || len(rest) == i+len(topicStatusSeparator) {
			return statusKey{}, fmt.Errorf("%w: %q is not a topic status key", errUnknownKey, key)
		}
		return statusKey{kind: topicStatusKind, topic: rest[:i], connector: rest[i+len(topicStatusSeparator):]}, nil
	default:
		return statusKey{}, fmt.Errorf("%w: %q", errUnknownKey, key)
	}
}
