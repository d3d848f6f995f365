package connectjson

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendStringEscapesLikeJackson(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001F"`},
		{"\x0b\x1a\x1b", `"\u000B\u001A\u001B"`},
		{"\x7f", "\"\x7f\""},
		{"/<>&'", `"/<>&'"`},
		{"é☃𝄞", `"é☃𝄞"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	}
	for _, tc := range cases {
		if got := string(AppendString(nil, tc.in)); got != tc.want {
			t.Errorf("AppendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := string(AppendString([]byte("prefix:"), "x")); got != `prefix:"x"` {
		t.Errorf("AppendString must append to dst: %s", got)
	}
}

func TestAppendStringRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab\"\\\n\t\x00\x01\x1f\x7f/é☃𝄞\u2028<>&")
	for range 2000 {
		var sb strings.Builder
		for range r.IntN(20) {
			sb.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		in := sb.String()
		var out string
		enc := AppendString(nil, in)
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

func TestAppendStringMapSortsKeys(t *testing.T) {
	if got := string(AppendStringMap(nil, nil)); got != `{}` {
		t.Errorf("nil map = %s", got)
	}
	got := string(AppendStringMap(nil, map[string]string{"b": "2", "a\n": "\x01", "c": ""}))
	if want := `{"a\n":"\u0001","b":"2","c":""}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// More keys than the stack buffer holds.
	big := map[string]string{}
	var want strings.Builder
	want.WriteByte('{')
	for i := range 100 {
		big[fmt.Sprintf("k%03d", i)] = fmt.Sprint(i)
		if i > 0 {
			want.WriteByte(',')
		}
		fmt.Fprintf(&want, `"k%03d":"%d"`, i, i)
	}
	want.WriteByte('}')
	if got := string(AppendStringMap(nil, big)); got != want.String() {
		t.Errorf("100 keys: got %s", got)
	}
}
