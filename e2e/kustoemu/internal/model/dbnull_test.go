package model

import "testing"

func TestDBNull(t *testing.T) {
	for _, typ := range Types {
		if got := FormatJSON(typ, DBNull); got != nil {
			t.Errorf("FormatJSON(%s, DBNull) = %#v, want nil", typ, got)
		}
	}
	if got := FormatText(DBNull); got != "" {
		t.Errorf("FormatText(DBNull) = %q", got)
	}
	// A plain null string is still the empty string.
	if got := FormatJSON(String, nil); got != "" {
		t.Errorf("FormatJSON(String, nil) = %#v", got)
	}
}

func TestEntityAlreadyExists(t *testing.T) {
	e := EntityAlreadyExists("Table", "T", "schema %s differs", "a:long")
	if e.Status != 400 || e.Code != "BadRequest_EntityAlreadyExists" || e.Detail != "Table 'T' already exists: schema a:long differs" || !e.Permanent {
		t.Fatalf("%+v", e)
	}
	if e := EntityAlreadyExists("Mapping", "m", ""); e.Detail != "Mapping 'm' already exists" {
		t.Fatalf("%+v", e)
	}
}
