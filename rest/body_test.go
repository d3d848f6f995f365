package rest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/storage"
)

func TestIsJSONMediaType(t *testing.T) {
	cases := []struct {
		value string
		want  bool
	}{
		{"", true},
		{"   ", true},
		{"application/json", true},
		{" application/json", true}, // the Postman collections' "Content-Type:  application/json"
		{"application/json ", true},
		{"Application/JSON", true},
		{"application/json; charset=utf-8", true},
		{"application/json;charset=UTF-8", true},
		{"application/json; charset", true}, // a malformed parameter does not change the type
		{"application/x-www-form-urlencoded", false},
		{"text/plain", false},
		{"application/jsonx", false},
		{"multipart/form-data; boundary=x", false},
	}
	for _, c := range cases {
		if got := isJSONMediaType(c.value); got != c.want {
			t.Errorf("isJSONMediaType(%q) = %v, want %v", c.value, got, c.want)
		}
	}
}

// TestConfigMapCoercion pins Jackson's Map<String,String> binding: scalars become their JSON
// text, null stays null, objects and arrays fail.
func TestConfigMapCoercion(t *testing.T) {
	cases := []struct {
		body    string
		key     string
		want    *string
		wantErr string
	}{
		{`{"k":"v"}`, "k", ptr("v"), ""},
		{`{"k":1}`, "k", ptr("1"), ""},
		{`{"k":-12}`, "k", ptr("-12"), ""},
		{`{"k":1.5}`, "k", ptr("1.5"), ""},
		{`{"k":1.50}`, "k", ptr("1.50"), ""},
		{`{"k":1e3}`, "k", ptr("1e3"), ""},
		{`{"k":12345678901234567890123}`, "k", ptr("12345678901234567890123"), ""},
		{`{"k":true}`, "k", ptr("true"), ""},
		{`{"k":false}`, "k", ptr("false"), ""},
		{`{"k":null}`, "k", nil, ""},
		{`{"k":""}`, "k", ptr(""), ""},
		{`{"k":"\u00e9\n"}`, "k", ptr("é\n"), ""},
		{`{"k":"a<b&c>"}`, "k", ptr("a<b&c>"), ""},
		{`{"k":{"x":1}}`, "k", nil, "Cannot deserialize value of type `java.lang.String` from Object value (token `JsonToken.START_OBJECT`) at [line: 1, column: 6] (through reference chain: java.util.LinkedHashMap[\"k\"])"},
		{`{"k":[1]}`, "k", nil, "from Array value (token `JsonToken.START_ARRAY`)"},
		{`[]`, "", nil, "Cannot deserialize value of type `java.util.Map<java.lang.String,java.lang.String>` from Array value"},
		{`1`, "", nil, "from Integer value (token `JsonToken.VALUE_NUMBER_INT`)"},
		{`{"k":1`, "", nil, "Malformed JSON in request body: unexpected end of JSON input at [line: 1, column: 7]"},
		{"{\n  \"k\": tru\n}", "", nil, "Malformed JSON in request body: invalid character '\\n' in literal true (expecting 'e') at [line: 2, column: 11]"},
		{"", "", nil, "Request body is missing"},
		{" \n\t", "", nil, "Request body is missing"},
		{"null", "", nil, "Request body is missing"},
	}
	for _, c := range cases {
		m, err := decodeConfigMap([]byte(c.body))
		if c.wantErr != "" {
			var b *bindError
			if !errors.As(err, &b) || !strings.Contains(b.msg, c.wantErr) {
				t.Errorf("%s: err = %v, want a binding error containing %q", c.body, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		got, ok := m[c.key]
		if !ok {
			t.Errorf("%s: key %q missing", c.body, c.key)
			continue
		}
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: %q = %v, want %v", c.body, c.key, deref(got), deref(c.want))
		}
	}
}

func TestDecodeCreateRequest(t *testing.T) {
	cases := []struct {
		name        string
		body        string
		wantName    string
		wantInitial *storage.TargetState
		wantErr     string
	}{
		{"minimal", `{"name":"a","config":{}}`, "a", nil, ""},
		{"trimmed name", `{"name":"  a b \t","config":{}}`, "a b", nil, ""},
		{"numeric name", `{"name":7,"config":{}}`, "7", nil, ""},
		{"missing name", `{"config":{}}`, "", nil, ""},
		{"running", `{"name":"a","config":{},"initial_state":"RUNNING"}`, "a", tstate(storage.Started), ""},
		{"stopped mixed case", `{"name":"a","config":{},"initial_state":"sToPpEd"}`, "a", tstate(storage.Stopped), ""},
		{"null initial state", `{"name":"a","config":{},"initial_state":null}`, "a", nil, ""},
		{"field order", `{"initial_state":"paused","config":{"x":"y"},"name":"a"}`, "a", tstate(storage.Paused), ""},
		{"bad initial state", `{"name":"a","config":{},"initial_state":"STARTED"}`, "", nil, `from String "STARTED": not one of the values accepted: [RUNNING, PAUSED, STOPPED]`},
		{"unknown field", `{"name":"a","config":{},"tasks":[]}`, "", nil, `Unrecognized field "tasks"`},
		{"object name", `{"name":{},"config":{}}`, "", nil, "`java.lang.String` from Object value"},
		{"string config", `{"name":"a","config":"x"}`, "", nil, "`java.util.Map<java.lang.String,java.lang.String>` from String value"},
		{"null config", `{"name":"a","config":null}`, "", nil, `Missing "config"`},
		{"not an object", `"a"`, "", nil, "CreateConnectorRequest` from String value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := decodeCreateRequest([]byte(c.body))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				if asError(err).Status != http.StatusInternalServerError {
					t.Errorf("a binding error must answer 500, got %d", asError(err).Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.name != c.wantName {
				t.Errorf("name = %q, want %q", req.name, c.wantName)
			}
			if (req.initial == nil) != (c.wantInitial == nil) || req.initial != nil && *req.initial != *c.wantInitial {
				t.Errorf("initial = %v, want %v", req.initial, c.wantInitial)
			}
			if req.config == nil {
				t.Error("config is nil")
			}
		})
	}
}

func TestDecodeTaskConfigs(t *testing.T) {
	got, err := decodeTaskConfigs([]byte(`[{"a":"1","b":2},{},null]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0]["a"] != "1" || got[0]["b"] != "2" || len(got[1]) != 0 || len(got[2]) != 0 {
		t.Errorf("decoded %v", got)
	}
	if _, err := decodeTaskConfigs([]byte(`[{"a":null}]`)); asError(err).Status != http.StatusBadRequest {
		t.Errorf("a null task config value: %v, want a 400", err)
	}
	if _, err := decodeTaskConfigs([]byte(`[{"a":[1]}]`)); err == nil || !strings.Contains(err.Error(), `java.util.ArrayList[0]->java.util.LinkedHashMap["a"]`) {
		t.Errorf("nested value: %v", err)
	}
}

func TestReadBodyLimit(t *testing.T) {
	body := strings.NewReader(`{"k":"` + strings.Repeat("x", maxBodyBytes) + `"}`)
	r := httptest.NewRequest(http.MethodPut, "/connectors/a/config", body)
	_, err := readBody(httptest.NewRecorder(), r)
	if e := asError(err); e.Status != http.StatusRequestEntityTooLarge || !strings.Contains(e.Message, "larger than the limit") {
		t.Errorf("got %+v, want 413", e)
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

func tstate(s storage.TargetState) *storage.TargetState { return &s }

// TestNullValueErrorIsAdded: a key given as null keeps the errors validation found for it (it is
// validated as absent) and gets Java's null-value message after them, as AbstractHerder adds it
// with computeIfAbsent(key).addErrorMessage; the error count grows by one.
func TestNullValueErrorIsAdded(t *testing.T) {
	value := "old"
	infos := cluster.ConfigInfos{ErrorCount: 1, Configs: []cluster.ConfigInfo{
		{Value: &sink.ConfigValue{Name: "topics", Value: &value, Errors: []string{"Must configure one of topics or topics.regex"}}},
	}}
	got := withNullErrors(infos, []string{"topics", "flush.size.bytes"})
	if got.ErrorCount != 3 {
		t.Errorf("ErrorCount = %d, want 3", got.ErrorCount)
	}
	topics := got.Configs[0].Value
	if want := []string{"Must configure one of topics or topics.regex", msgNullValue}; !slices.Equal(topics.Errors, want) || topics.Value != nil {
		t.Errorf("topics = %+v, want errors %q and a null value", topics, want)
	}
	if len(got.Configs) != 2 || got.Configs[1].Value.Name != "flush.size.bytes" || !slices.Equal(got.Configs[1].Value.Errors, []string{msgNullValue}) {
		t.Errorf("configs = %+v", got.Configs)
	}
	if len(infos.Configs[0].Value.Errors) != 1 {
		t.Error("withNullErrors changed its input")
	}
}
