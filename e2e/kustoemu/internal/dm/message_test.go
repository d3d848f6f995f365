package dm

import (
	"encoding/base64"
	"reflect"
	"testing"
	"time"
)

// A message as azkustoingest (Go) enqueues it: integer report level/method, typed properties,
// tags as a JSON array inside a string, ingestIfNotExists as a plain string.
const goMessage = `{"Id":"3a23024f-364f-4be9-8742-174d85c7ccdb","BlobPath":"https://127.0.0.1:1/devstoreaccount1/tempstorage/x.gz?sig=S","DatabaseName":"db1","TableName":"T","RawDataSize":16,"RetainBlobOnSuccess":true,"FlushImmediately":true,"ReportLevel":2,"ReportMethod":1,"SourceMessageCreationTime":"2026-11-21T04:58:09.890526965Z","AdditionalProperties":{"authorizationContext":"ctx","creationTime":"0001-01-01T00:00:00Z","format":"json","ignoreFirstRecord":false,"ingestIfNotExists":"tag1","ingestionMappingReference":"T_mapping","ingestionMappingType":"Json","tags":"[\"t1\",\"ingest-by:tag1\"]"},"IngestionStatusInTable":{"TableConnectionString":"https://127.0.0.1:1/devstoreaccount1/ingestionsstatus?sig=T","PartitionKey":"pk","RowKey":"00000000-0000-0000-0000-000000000000"},"ApplicationForTracing":"app","ClientVersionForTracing":"v"}`

// A message as the Java SDK enqueues it: report level/method by name, every property a string,
// ingestIfNotExists as a JSON array in a string.
const javaMessage = `{"BlobPath":"https://127.0.0.1:1/devstoreaccount1/tempstorage/y.csv.gz?sig=S","RawDataSize":"100","DatabaseName":"db1","TableName":"T","RetainBlobOnSuccess":"true","FlushImmediately":"false","ReportLevel":"FailuresAndSuccesses","ReportMethod":"QueueAndTable","AdditionalProperties":{"authorizationContext":"ctx","format":"csv","ignoreFirstRecord":"true","ingestIfNotExists":"[\"a\",\"b\"]","tags":"[]","creationTime":"2024-05-06T07:08:09Z"},"Id":"6a5c1c79-2f4e-4a44-8b0e-bb1e4d8f7a10"}`

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		name         string
		text         string
		check        func(t *testing.T, m message)
		wantDecodeOK bool
	}{
		{"go", base64.StdEncoding.EncodeToString([]byte(goMessage)), func(t *testing.T, m message) {
			if m.Database != "db1" || m.Table != "T" || m.RawDataSize != 16 || !m.RetainBlobOnSuccess || !m.FlushImmediately {
				t.Errorf("fields = %+v", m)
			}
			if m.ReportLevel != reportFailuresAndSuccesses || m.ReportMethod != reportMethodTable {
				t.Errorf("report = %d/%d", m.ReportLevel, m.ReportMethod)
			}
			if m.StatusPartitionKey != "pk" || m.StatusTable == "" {
				t.Errorf("status table = %q %q", m.StatusTable, m.StatusPartitionKey)
			}
			tags, _ := m.listProp("tags")
			ifne, _ := m.listProp("ingestIfNotExists")
			if !reflect.DeepEqual(tags, []string{"t1", "ingest-by:tag1"}) || !reflect.DeepEqual(ifne, []string{"tag1"}) {
				t.Errorf("tags %v, ingestIfNotExists %v", tags, ifne)
			}
			if ct, err := m.creationTime(); err != nil || !ct.IsZero() {
				t.Errorf("creationTime = %v, %v; want unset", ct, err)
			}
			spec, _, err := specFor(m)
			if err != nil || spec.Format != "json" || spec.MappingReference != "T_mapping" || spec.MappingKind != "Json" || spec.IgnoreFirstRecord {
				t.Errorf("spec = %+v, %v", spec, err)
			}
		}, true},
		{"java", base64.StdEncoding.EncodeToString([]byte(javaMessage)), func(t *testing.T, m message) {
			if m.RawDataSize != 100 || !m.RetainBlobOnSuccess || m.FlushImmediately {
				t.Errorf("fields = %+v", m)
			}
			if m.ReportLevel != reportFailuresAndSuccesses || m.ReportMethod != reportMethodQueueAndTable {
				t.Errorf("report = %d/%d", m.ReportLevel, m.ReportMethod)
			}
			ifne, _ := m.listProp("ingestIfNotExists")
			if !reflect.DeepEqual(ifne, []string{"a", "b"}) {
				t.Errorf("ingestIfNotExists = %v", ifne)
			}
			if ct, err := m.creationTime(); err != nil || !ct.Equal(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)) {
				t.Errorf("creationTime = %v, %v", ct, err)
			}
			spec, tags, err := specFor(m)
			if err != nil || spec.Format != "csv" || !spec.IgnoreFirstRecord || len(tags) != 0 {
				t.Errorf("spec = %+v, tags %v, %v", spec, tags, err)
			}
		}, true},
		{"plain JSON", goMessage, func(t *testing.T, m message) {
			if m.Table != "T" {
				t.Errorf("table = %q", m.Table)
			}
		}, true},
		{"not base64", "!!!", nil, false},
		{"not a message", base64.StdEncoding.EncodeToString([]byte(`[1,2]`)), nil, false},
		{"no blob", base64.StdEncoding.EncodeToString([]byte(`{"DatabaseName":"d","TableName":"t"}`)), nil, false},
		{"bad report level", base64.StdEncoding.EncodeToString([]byte(`{"BlobPath":"x","DatabaseName":"d","TableName":"t","ReportLevel":"Sometimes"}`)), nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := decodeMessage(tc.text)
			if (err == nil) != tc.wantDecodeOK {
				t.Fatalf("decodeMessage err = %v, want ok=%v", err, tc.wantDecodeOK)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestSameHost(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"127.0.0.1:443", "127.0.0.1:443", true},
		{"localhost:443", "127.0.0.1:443", true},
		{"[::1]:443", "127.0.0.1:443", true},
		{"127.0.0.1:444", "127.0.0.1:443", false},
		{"example.com:443", "127.0.0.1:443", false},
	}
	for _, tc := range tests {
		if got := SameHost(tc.a, tc.b); got != tc.want {
			t.Errorf("SameHost(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}
