package kusto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Azure/azure-kusto-go/azkustoingest"
)

// WildcardTopic is the mapping topic that applies to every topic without its own mapping.
const WildcardTopic = "*"

// route says where the records of one topic go and how they are written.
type route struct {
	Topic     string
	Database  string
	Table     string
	Format    dataFormat
	Mapping   string // ingestion mapping reference; "" for none
	Streaming bool
}

// routes holds the parsed kusto.tables.topics.mapping: explicit topics first, then the wildcard.
type routes struct {
	byTopic  map[string]*route
	wildcard *route
	list     []*route // in configuration order, duplicates removed (a later entry wins)
}

// lookup returns the route of a topic, falling back to the wildcard entry.
func (r *routes) lookup(topic string) (*route, bool) {
	if rt, ok := r.byTopic[topic]; ok {
		return rt, true
	}
	if r.wildcard != nil {
		return r.wildcard, true
	}
	return nil, false
}

// anyStreaming reports whether a mapping asks for streaming ingestion.
func (r *routes) anyStreaming() bool {
	for _, rt := range r.list {
		if rt.Streaming {
			return true
		}
	}
	return false
}

// dataFormat is a Kusto data format this sink can write, with what the SDK and the spool file
// need to know about it.
type dataFormat struct {
	name   string                   // the canonical lower-case name users write
	sdk    azkustoingest.DataFormat // what the ingestion message declares
	fileID string                   // the spool file's format segment: the SDK enum name in upper case
	json   bool                     // JSON family: Struct values are written as JSON lines
}

// The formats of this release. Text formats pass records through line by line; the JSON family is
// ingested as MULTIJSON with a JSON mapping kind, as the Java sink does.
var (
	formatCSV       = dataFormat{name: "csv", sdk: azkustoingest.CSV, fileID: "CSV"}
	formatMultiJSON = dataFormat{name: "multijson", sdk: azkustoingest.MultiJSON, fileID: "MULTIJSON", json: true}

	supportedFormats = map[string]dataFormat{
		"csv":        formatCSV,
		"tsv":        {name: "tsv", sdk: azkustoingest.TSV, fileID: "TSV"},
		"tsve":       {name: "tsve", sdk: azkustoingest.TSVE, fileID: "TSVE"},
		"psv":        {name: "psv", sdk: azkustoingest.PSV, fileID: "PSV"},
		"scsv":       {name: "scsv", sdk: azkustoingest.SCSV, fileID: "SCSV"},
		"sohsv":      {name: "sohsv", sdk: azkustoingest.SOHSV, fileID: "SOHSV"},
		"txt":        {name: "txt", sdk: azkustoingest.TXT, fileID: "TXT"},
		"json":       formatMultiJSON,
		"singlejson": formatMultiJSON,
		"multijson":  formatMultiJSON,
	}
	// notYetSupported are Kusto formats the Java sink handles that this release does not write.
	notYetSupported = map[string]bool{
		"avro": true, "apacheavro": true, "parquet": true, "orc": true, "raw": true, "w3clogfile": true, "sstream": true,
	}
)

// supportedFormatNames lists the accepted format names for error messages.
func supportedFormatNames() string {
	names := make([]string, 0, len(supportedFormats))
	for n := range supportedFormats {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// KQL-injection guards of the Java sink (5.2.3): names that reach management commands.
var (
	safeName   = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)
	safeFormat = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
)

// mappingFields are the keys a mapping entry may have; anything else is rejected, as Jackson
// rejects unknown properties.
var mappingFields = []string{"topic", "db", "table", "format", "mapping", "streaming"}

// parseRoutes parses kusto.tables.topics.mapping: a JSON array of objects, where single-quoted
// strings are accepted as Jackson's ALLOW_SINGLE_QUOTES accepts them.
func parseRoutes(text string) (*routes, error) {
	normalized, err := singleToDoubleQuotes(text)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse ``kusto.tables.topics.mapping`` configuration. %w", err)
	}
	var entries []map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(normalized))
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("Failed to parse ``kusto.tables.topics.mapping`` configuration. %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, errors.New("Failed to parse ``kusto.tables.topics.mapping`` configuration. Unexpected content after the JSON array.")
	}
	rs := &routes{byTopic: map[string]*route{}}
	for i, e := range entries {
		if e == nil {
			return nil, fmt.Errorf("Failed to parse ``kusto.tables.topics.mapping`` configuration. Entry %d is null.", i)
		}
		rt, err := parseRoute(e)
		if err != nil {
			return nil, err
		}
		if rt.Topic == WildcardTopic {
			rs.wildcard = rt
		} else {
			rs.byTopic[rt.Topic] = rt
		}
	}
	for _, rt := range rs.byTopic {
		rs.list = append(rs.list, rt)
	}
	sort.Slice(rs.list, func(i, j int) bool { return rs.list[i].Topic < rs.list[j].Topic })
	if rs.wildcard != nil {
		rs.list = append(rs.list, rs.wildcard)
	}
	return rs, nil
}

func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "Expected a JSON array of objects, e.g. [{'topic':'t1','db':'db1','table':'table1','format':'csv'}]."
	}
	return "Invalid JSON: " + err.Error() + "."
}

func parseRoute(e map[string]json.RawMessage) (*route, error) {
	var unknown []string
	for k := range e {
		known := false
		for _, f := range mappingFields {
			if k == f {
				known = true
				break
			}
		}
		if !known {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("Failed to parse ``kusto.tables.topics.mapping`` configuration. Unrecognized field %q (known fields: %s).",
			unknown[0], strings.Join(mappingFields, ", "))
	}
	str := func(field string) (string, error) {
		raw, ok := e[field]
		if !ok || string(raw) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			// Jackson coerces scalars to String; do the same for numbers and booleans.
			var n json.Number
			var b bool
			switch {
			case json.Unmarshal(raw, &n) == nil:
				return n.String(), nil
			case json.Unmarshal(raw, &b) == nil:
				return fmt.Sprint(b), nil
			}
			return "", fmt.Errorf("Failed to parse ``kusto.tables.topics.mapping`` configuration. Field '%s' must be a string.", field)
		}
		return s, nil
	}
	var rt route
	var format string
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{"topic", &rt.Topic}, {"db", &rt.Database}, {"table", &rt.Table}, {"format", &format}, {"mapping", &rt.Mapping}} {
		if *f.dst, err = str(f.name); err != nil {
			return nil, err
		}
	}
	if rt.Streaming, err = parseStreaming(e["streaming"]); err != nil {
		return nil, err
	}
	// Java's TopicToTableMapping.validate, in its order.
	switch {
	case rt.Database == "":
		return nil, errors.New("'db' must be provided for each mapping")
	case rt.Table == "":
		return nil, errors.New("'table' must be provided for each mapping")
	case rt.Topic == "":
		return nil, errors.New("'topic' must be provided for each mapping")
	}
	for _, f := range []struct{ name, value string }{{"db", rt.Database}, {"table", rt.Table}, {"mapping", rt.Mapping}} {
		if f.value != "" && !safeName.MatchString(f.value) {
			return nil, fmt.Errorf("'%s' contains invalid characters: '%s'. Only alphanumeric characters, underscores, hyphens, and dots are allowed.", f.name, f.value)
		}
	}
	if format != "" && !safeFormat.MatchString(format) {
		return nil, fmt.Errorf("'format' contains invalid characters: '%s'. Only alphanumeric characters are allowed.", format)
	}
	if rt.Format, err = lookupFormat(rt.Topic, format); err != nil {
		return nil, err
	}
	return &rt, nil
}

// lookupFormat resolves a mapping's format name (case-insensitive; blank means csv, as in Java).
func lookupFormat(topic, name string) (dataFormat, error) {
	if name == "" {
		return formatCSV, nil
	}
	lower := strings.ToLower(name)
	if f, ok := supportedFormats[lower]; ok {
		return f, nil
	}
	if notYetSupported[lower] {
		return dataFormat{}, fmt.Errorf("Topic '%s': ingestion format '%s' is not supported by this version of the Kusto sink yet. Supported formats are: %s.",
			topic, name, supportedFormatNames())
	}
	return dataFormat{}, fmt.Errorf("Topic '%s': unsupported ingestion format '%s'. Supported formats are: %s.", topic, name, supportedFormatNames())
}

// parseStreaming reads the optional streaming flag: a JSON boolean, or the strings "true" /
// "false" in any case (Jackson's coercion); absent or null means false.
func parseStreaming(raw json.RawMessage) (bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
		return false, fmt.Errorf("Failed to parse ``kusto.tables.topics.mapping`` configuration. Cannot deserialize value of type `boolean` from String %q: only \"true\" or \"false\" recognized.", s)
	}
	return false, fmt.Errorf("Failed to parse ``kusto.tables.topics.mapping`` configuration. Field 'streaming' must be true or false, not %s.", raw)
}

// singleToDoubleQuotes rewrites single-quoted JSON strings as double-quoted ones, so that
// Jackson's ALLOW_SINGLE_QUOTES dialect can be read with encoding/json. Inside a single-quoted
// string a double quote is literal and \' is an escaped single quote.
func singleToDoubleQuotes(in string) ([]byte, error) {
	out := make([]byte, 0, len(in)+8)
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '"':
			// Copy a double-quoted string verbatim, escapes included.
			j := i + 1
			for ; j < len(in) && in[j] != '"'; j++ {
				if in[j] == '\\' {
					j++
				}
			}
			if j >= len(in) {
				return nil, errors.New("Unterminated string.")
			}
			out = append(out, in[i:j+1]...)
			i = j
		case '\'':
			out = append(out, '"')
			j := i + 1
			for ; j < len(in) && in[j] != '\''; j++ {
				switch {
				case in[j] == '\\' && j+1 < len(in) && in[j+1] == '\'':
					out = append(out, '\'')
					j++
				case in[j] == '\\' && j+1 < len(in):
					out = append(out, in[j], in[j+1])
					j++
				case in[j] == '"':
					out = append(out, '\\', '"')
				default:
					out = append(out, in[j])
				}
			}
			if j >= len(in) {
				return nil, errors.New("Unterminated string.")
			}
			out = append(out, '"')
			i = j
		default:
			out = append(out, c)
		}
	}
	return out, nil
}
