package dm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Report levels and methods of an ingestion message. Go sends them as integers, Java as names.
const (
	reportFailuresOnly          = 0
	reportNone                  = 1
	reportFailuresAndSuccesses  = 2
	reportMethodQueue           = 0
	reportMethodTable           = 1
	reportMethodQueueAndTable   = 2
	reportMethodAzureMonitoring = 3
)

var reportLevelNames = map[string]int{"failuresonly": reportFailuresOnly, "donotreport": reportNone, "none": reportNone, "failuresandsuccesses": reportFailuresAndSuccesses}
var reportMethodNames = map[string]int{"queue": reportMethodQueue, "table": reportMethodTable, "queueandtable": reportMethodQueueAndTable, "azuremonitoring": reportMethodAzureMonitoring}

// message is a queued ingestion message (the base64 JSON the SDKs enqueue), decoded leniently:
// Go's integer ReportLevel/ReportMethod and Java's names, typed and all-string additional
// properties.
type message struct {
	ID                   string
	BlobPath             string
	Database             string
	Table                string
	RawDataSize          int64
	RetainBlobOnSuccess  bool
	FlushImmediately     bool
	ReportLevel          int
	ReportMethod         int
	Props                map[string]any // AdditionalProperties, keys lower-cased
	StatusTable          string         // IngestionStatusInTable.TableConnectionString
	StatusPartitionKey   string
	StatusRowKey         string
	SourceCreationTime   time.Time
	ApplicationForTraces string
}

type wireMessage struct {
	ID                        string          `json:"Id"`
	BlobPath                  string          `json:"BlobPath"`
	DatabaseName              string          `json:"DatabaseName"`
	TableName                 string          `json:"TableName"`
	RawDataSize               json.RawMessage `json:"RawDataSize"`
	RetainBlobOnSuccess       json.RawMessage `json:"RetainBlobOnSuccess"`
	FlushImmediately          json.RawMessage `json:"FlushImmediately"`
	ReportLevel               json.RawMessage `json:"ReportLevel"`
	ReportMethod              json.RawMessage `json:"ReportMethod"`
	SourceMessageCreationTime string          `json:"SourceMessageCreationTime"`
	AdditionalProperties      map[string]any  `json:"AdditionalProperties"`
	IngestionStatusInTable    *struct {
		TableConnectionString string `json:"TableConnectionString"`
		PartitionKey          string `json:"PartitionKey"`
		RowKey                string `json:"RowKey"`
	} `json:"IngestionStatusInTable"`
	ApplicationForTracing string `json:"ApplicationForTracing"`
}

// decodeMessage decodes a queue message text: base64 of UTF-8 JSON (plain JSON is accepted too).
func decodeMessage(text string) (message, error) {
	raw := []byte(strings.TrimSpace(text))
	if len(raw) == 0 || raw[0] != '{' {
		b, err := base64.StdEncoding.DecodeString(string(raw))
		if err != nil {
			return message{}, fmt.Errorf("the message is neither base64 nor JSON: %w", err)
		}
		raw = b
	}
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		return message{}, fmt.Errorf("the message is not an ingestion message: %w", err)
	}
	m := message{
		ID: w.ID, BlobPath: w.BlobPath, Database: w.DatabaseName, Table: w.TableName,
		ApplicationForTraces: w.ApplicationForTracing, Props: map[string]any{},
	}
	var err error
	if m.RawDataSize, err = lenientInt(w.RawDataSize, nil); err != nil {
		return message{}, fmt.Errorf("RawDataSize: %w", err)
	}
	if m.RetainBlobOnSuccess, err = lenientBool(w.RetainBlobOnSuccess); err != nil {
		return message{}, fmt.Errorf("RetainBlobOnSuccess: %w", err)
	}
	if m.FlushImmediately, err = lenientBool(w.FlushImmediately); err != nil {
		return message{}, fmt.Errorf("FlushImmediately: %w", err)
	}
	level, err := lenientInt(w.ReportLevel, reportLevelNames)
	if err != nil {
		return message{}, fmt.Errorf("ReportLevel: %w", err)
	}
	method, err := lenientInt(w.ReportMethod, reportMethodNames)
	if err != nil {
		return message{}, fmt.Errorf("ReportMethod: %w", err)
	}
	m.ReportLevel, m.ReportMethod = int(level), int(method)
	if t, err := time.Parse(time.RFC3339Nano, w.SourceMessageCreationTime); err == nil {
		m.SourceCreationTime = t
	}
	for k, v := range w.AdditionalProperties {
		m.Props[strings.ToLower(k)] = v
	}
	if st := w.IngestionStatusInTable; st != nil {
		m.StatusTable, m.StatusPartitionKey, m.StatusRowKey = st.TableConnectionString, st.PartitionKey, st.RowKey
	}
	switch "" {
	case m.BlobPath:
		return m, fmt.Errorf("the message has no BlobPath")
	case m.Database:
		return m, fmt.Errorf("the message has no DatabaseName")
	case m.Table:
		return m, fmt.Errorf("the message has no TableName")
	}
	return m, nil
}

// lenientInt reads a JSON number, a numeric string or (with names) a case-insensitive name.
func lenientInt(raw json.RawMessage, names map[string]int) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return strconv.ParseInt(n.String(), 10, 64)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("%s is neither a number nor a string", raw)
	}
	if v, ok := names[strings.ToLower(strings.TrimSpace(s))]; ok {
		return int64(v), nil
	}
	n64, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a known value", s)
	}
	return n64, nil
}

func lenientBool(raw json.RawMessage) (bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return false, fmt.Errorf("%s is not a boolean", raw)
	}
	return strconv.ParseBool(strings.TrimSpace(s))
}

// prop returns an additional property as text ("" when absent); the first present key wins.
func (m message) prop(keys ...string) string {
	for _, k := range keys {
		v, ok := m.Props[strings.ToLower(k)]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			return x
		case bool:
			return strconv.FormatBool(x)
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		default:
			b, _ := json.Marshal(x)
			return string(b)
		}
	}
	return ""
}

// boolProp reads a boolean additional property (true/false as JSON or text).
func (m message) boolProp(key string) (bool, error) {
	s := m.prop(key)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("property %s: %q is not a boolean", key, s)
	}
	return b, nil
}

// listProp reads a property holding a list of strings: a JSON array (as the value or as text) or
// a single plain string (Go sends ingestIfNotExists that way).
func (m message) listProp(key string) ([]string, error) {
	v, ok := m.Props[strings.ToLower(key)]
	if !ok || v == nil {
		return nil, nil
	}
	var text string
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("property %s: %v is not a string", key, e)
			}
			out = append(out, s)
		}
		return out, nil
	case string:
		text = strings.TrimSpace(x)
	default:
		return nil, fmt.Errorf("property %s: %v is not a list of strings", key, v)
	}
	if text == "" {
		return nil, nil
	}
	if strings.HasPrefix(text, "[") {
		var out []string
		if err := json.Unmarshal([]byte(text), &out); err != nil {
			return nil, fmt.Errorf("property %s: %q is not a JSON array of strings", key, text)
		}
		return out, nil
	}
	return []string{text}, nil
}

// creationTime reads the creationTime property; the zero time (Go's default) means unset.
func (m message) creationTime() (time.Time, error) {
	s := m.prop("creationTime")
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("property creationTime: %q is not a datetime", s)
	}
	if t.Year() <= 1 {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
