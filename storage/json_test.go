package storage

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendJSONStringEscapesLikeJackson(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001F"`},
		{"\x7f", "\"\x7f\""},
		{"/<>&'", `"/<>&'"`},
		{"é☃𝄞", `"é☃𝄞"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	}
	for _, tc := range cases {
		if got := string(appendJSONString(nil, tc.in)); got != tc.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAppendJSONStringRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab\"\\\n\t\x00\x01\x1f\x7f/é☃𝄞\u2028<>&")
	for range 2000 {
		var sb strings.Builder
		for range r.IntN(20) {
			sb.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		in := sb.String()
		var out string
		enc := appendJSONString(nil, in)
		if err := json.Unmarshal(enc, &out); err != nil {
			t.Fatalf("%q encoded as %s, which is not valid JSON: %v", in, enc, err)
		}
		if out != in {
			t.Fatalf("%q encoded as %s decodes to %q", in, enc, out)
		}
		if !utf8.Valid(enc) {
			t.Fatalf("%q encoded as invalid UTF-8", in)
		}
	}
}

func TestStringMapFieldCoercesScalars(t *testing.T) {
	m, err := decodeObject([]byte(`{"properties":{"s":"x","n":10,"f":1.5,"b":true,"null":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := stringMapField(m, "properties")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"s": "x", "n": "10", "f": "1.5", "b": "true"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
