package storage

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchConfig is a connector config of typical size (the Kusto sink's keys).
func benchConfig() map[string]string {
	m := map[string]string{}
	for k, v := range kustoConfig {
		m[k] = v
	}
	for i := range 20 {
		m[fmt.Sprintf("kusto.setting.%02d", i)] = fmt.Sprintf("value-%d with some \"quoted\" text", i)
	}
	return m
}

func BenchmarkEncodeConnectorConfig(b *testing.B) {
	rec := connectorConfigRecord{Connector: "kusto-sink", Config: benchConfig()}
	b.ReportAllocs()
	for b.Loop() {
		_ = rec.value()
	}
}

// BenchmarkEncodeConnectorConfigStdlib is the encoding/json baseline (which escapes differently
// and so cannot be used; it is here for comparison only).
func BenchmarkEncodeConnectorConfigStdlib(b *testing.B) {
	v := map[string]any{"properties": benchConfig()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeConnectorConfig(b *testing.B) {
	rec := connectorConfigRecord{Connector: "kusto-sink", Config: benchConfig()}
	key, value := rec.key(), rec.value()
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	for b.Loop() {
		if _, err := decodeConfigRecord(key, value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStatusRoundTrip(b *testing.B) {
	st := status{State: Failed, Trace: "org.apache.kafka.connect.errors.ConnectException: boom\n\tat x", WorkerID: "10.0.0.1:8083", Generation: 42}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeStatus(encodeStatus(st)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConfigReplay measures rebuilding the state from a config topic of 100 connectors with
// 4 tasks each, reconfigured 5 times (2,500 records): what a worker does at start-up.
func BenchmarkConfigReplay(b *testing.B) {
	type kv struct {
		key   string
		value []byte
	}
	var log []kv
	add := func(r configRecord) { log = append(log, kv{r.key(), r.value()}) }
	cfg := benchConfig()
	for round := range 5 {
		for c := range 100 {
			name := fmt.Sprintf("connector-%03d", c)
			add(connectorConfigRecord{Connector: name, Config: cfg})
			for n := range 3 {
				add(task(name, n, "task.class", "x", "round", fmt.Sprint(round)))
			}
			add(commitRecord{Connector: name, Tasks: 3})
		}
	}
	b.ReportMetric(float64(len(log)), "records/op")
	b.ReportAllocs()
	for b.Loop() {
		st := newConfigState()
		for i, r := range log {
			rec, err := decodeConfigRecord(r.key, r.value)
			if err != nil {
				b.Fatal(err)
			}
			st.apply(rec, int64(i))
		}
		if len(st.snapshot().Connectors()) != 100 {
			b.Fatal("bad replay")
		}
	}
}

// BenchmarkKafkaConfigStoreStart measures a start-up read of 2,500 config records from kfake.
func BenchmarkKafkaConfigStoreStart(b *testing.B) {
	c := newCluster(b)
	seedTopic(b, c, "configs", 1)
	var entries []Entry
	cfg := benchConfig()
	for i := range 2500 {
		entries = append(entries, entryOf(connectorConfigRecord{Connector: fmt.Sprintf("c%d", i%100), Config: cfg}))
	}
	produceBatch(b, c, "configs", entries)
	for b.Loop() {
		s, err := NewKafkaConfigStore(KafkaOptions{ClientOpts: clientOpts(c), Topic: "configs", Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Start(testContext(b), nil); err != nil {
			b.Fatal(err)
		}
		if s.Snapshot().Offset != 2500 {
			b.Fatalf("offset %d", s.Snapshot().Offset)
		}
		_ = s.Stop(testContext(b))
	}
}

// BenchmarkKafkaConfigStoreWrite measures one connector config write with its read-back.
func BenchmarkKafkaConfigStoreWrite(b *testing.B) {
	c := newCluster(b)
	seedTopic(b, c, "configs", 1)
	s, err := NewKafkaConfigStore(KafkaOptions{ClientOpts: clientOpts(c), Topic: "configs", Logger: testLogger(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Stop(testContext(b)) }()
	if err := s.Start(testContext(b), nil); err != nil {
		b.Fatal(err)
	}
	cfg := benchConfig()
	ctx := testContext(b)
	for b.Loop() {
		if err := s.PutConnectorConfig(ctx, "c", cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}
