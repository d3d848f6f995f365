package rest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchConfig is a Kusto sink config of the size users submit (about 20 keys).
const benchConfig = `{"connector.class":"KustoSink","topics":"crimes","kusto.ingestion.url":"https://ingest-mycluster.eastus.kusto.windows.net",
"kusto.query.url":"https://mycluster.eastus.kusto.windows.net","aad.auth.authority":"72f988bf-0000-0000-0000-2d7cd011db47",
"aad.auth.appid":"00000000-1111-2222-3333-444444444444","aad.auth.appkey":"secret",
"kusto.tables.topics.mapping":"[{'topic': 'crimes','db': 'crimes_db', 'table': 'crimes','format': 'json', 'mapping':'crimes_mapping'}]",
"key.converter":"org.apache.kafka.connect.storage.StringConverter","value.converter":"org.apache.kafka.connect.storage.StringConverter",
"tasks.max":6,"tempdir.path":"/var/tmp/","flush.size.bytes":10485760,"flush.interval.ms":15000,"behavior.on.error":"LOG",
"consumer.override.request.timeout.ms":20000,"consumer.override.retry.backoff.ms":500,"errors.tolerance":"all","errors.log.enable":true}`

func BenchmarkDecodeConfigMap(b *testing.B) {
	data := []byte(benchConfig)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeConfigMap(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutConnectorConfig(b *testing.B) {
	s, err := New(newFakeHerder(), Options{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPut, "/connectors/s2/config", strings.NewReader(benchConfig))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkGetConnectorStatus(b *testing.B) {
	s, err := New(newFakeHerder(), Options{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/connectors/s1/status/", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
