package storage

import "testing"

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
