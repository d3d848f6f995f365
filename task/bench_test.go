package task

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/sink"
)

// telemetryRecord returns a deterministic telemetry-style JSON object of about 1 KiB, the shape
// of the corpus in specs/performance-anchors.md §3.
func telemetryRecord(rng *rand.Rand, i int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":%d,"device":"dev-%05d","site":"site-%02d","ts":"2026-11-21T06:%02d:%02d.%03dZ",`,
		i, rng.IntN(100000), rng.IntN(50), rng.IntN(60), rng.IntN(60), rng.IntN(1000))
	fmt.Fprintf(&b, `"temperature":%.3f,"humidity":%.2f,"pressure":%.1f,"ok":%v,`, rng.Float64()*40, rng.Float64()*100, 950+rng.Float64()*100, rng.IntN(2) == 0)
	b.WriteString(`"tags":[`)
	for j := range 6 {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"tag-%d-%d"`, j, rng.IntN(1000))
	}
	b.WriteString(`],"readings":[`)
	for j := range 20 {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"k":"sensor-%02d","v":%.4f,"u":"unit"}`, j, rng.Float64()*1000)
	}
	b.WriteString(`],"meta":{"fw":"1.2.3","model":"TX-9000","region":"westeurope","note":"generated for the benchmark corpus"}}`)
	return []byte(b.String())
}

func corpus(n int) [][]byte {
	rng := rand.New(rand.NewPCG(42, 42))
	out := make([][]byte, n)
	for i := range out {
		out[i] = telemetryRecord(rng, i)
	}
	return out
}

// BenchmarkJSONConverter measures converting one record value.
func BenchmarkJSONConverter(b *testing.B) {
	values := corpus(1024)
	var bytes int
	for _, v := range values {
		bytes += len(v)
	}
	avg := int64(bytes / len(values))

	b.Run("schemaless-object", func(b *testing.B) {
		c := jsonConverter(b, map[string]string{"schemas.enable": "false"})
		b.SetBytes(avg)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, _, err := c.ToConnectData("t", values[i%len(values)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("envelope-struct", func(b *testing.B) {
		c := jsonConverter(b, nil)
		schema := `{"type":"struct","fields":[{"type":"int64","field":"id"},{"type":"string","field":"device"},` +
			`{"type":"string","field":"site"},{"type":"double","field":"temperature"},{"type":"double","field":"humidity"},` +
			`{"type":"boolean","field":"ok"},{"type":"array","items":{"type":"string"},"field":"tags"},` +
			`{"type":"map","keys":{"type":"string"},"values":{"type":"string"},"field":"meta"}],"optional":false,"name":"Telemetry"}`
		rng := rand.New(rand.NewPCG(1, 1))
		inputs := make([][]byte, 256)
		for i := range inputs {
			inputs[i] = fmt.Appendf(nil, `{"schema":%s,"payload":{"id":%d,"device":"dev-%05d","site":"site-%02d","temperature":%.3f,"humidity":%.2f,"ok":true,`+
				`"tags":["a","b","c","d"],"meta":{"fw":"1.2.3","model":"TX-9000","region":"westeurope"}}}`,
				schema, i, rng.IntN(100000), rng.IntN(50), rng.Float64()*40, rng.Float64()*100)
		}
		b.SetBytes(int64(len(inputs[0])))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, _, err := c.ToConnectData("t", inputs[i%len(inputs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string", func(b *testing.B) {
		var c StringConverter
		b.SetBytes(avg)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, _, err := c.ToConnectData("t", values[i%len(values)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// nopTask counts what Put receives and signals when it reached target.
type nopTask struct {
	delivered atomic.Int64
	target    int64
	reached   chan struct{}
}

func (*nopTask) Start(context.Context, sink.TaskContext, map[string]string) error { return nil }
func (*nopTask) Open(context.Context, []sink.TopicPartition) error                { return nil }
func (n *nopTask) Put(_ context.Context, records []sink.Record) error {
	if n.delivered.Add(int64(len(records))) >= n.target && n.target > 0 {
		close(n.reached)
		n.target = 0
	}
	return nil
}
func (*nopTask) PreCommit(_ context.Context, c map[sink.TopicPartition]int64) (map[sink.TopicPartition]int64, error) {
	return c, nil
}
func (*nopTask) Close(context.Context, []sink.TopicPartition) error { return nil }
func (*nopTask) Stop(context.Context) error                         { return nil }

// BenchmarkSinkLoop measures the whole loop (kfake → poll → JsonConverter schemas.enable=false →
// Put into a task that does nothing) next to raw kgo group consumption of the same records in
// the same run (performance-anchors §3c): one topic, 4 partitions, 1 KiB JSON values produced
// once; every iteration is a fresh consumer group reading all of them from the start.
func BenchmarkSinkLoop(b *testing.B) {
	const records = 50000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("bench"),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	values := corpus(4096)
	batch := make([]*kgo.Record, 0, 1000)
	for i := range records {
		batch = append(batch, &kgo.Record{Value: values[i%len(values)]})
		if len(batch) == cap(batch) {
			if err := prod.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	prod.Close()

	var group atomic.Int64
	b.Run("raw-kgo", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			start := time.Now()
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("bench"),
				kgo.ConsumerGroup(fmt.Sprintf("raw-%d", group.Add(1))), kgo.DisableAutoCommit(),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for n < records {
				fs := cl.PollRecords(context.Background(), rawMaxPollRecords)
				if err := fs.Err0(); err != nil {
					b.Fatal(err)
				}
				n += fs.NumRecords()
			}
			elapsed += time.Since(start)
			b.StopTimer()
			cl.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(records*b.N)/elapsed.Seconds(), "records/s")
	})
	for _, tracked := range []bool{false, true} {
		name := "sink-task"
		if tracked {
			name = "sink-task-topic-tracking" // a status listener that hears the topics used
		}
		b.Run(name, func(b *testing.B) { benchSinkTask(b, c, &group, records, tracked) })
	}
}

// trackingStatus is a status listener that records the topics used, as the worker's does
// (a lookup per topic and poll).
type trackingStatus struct {
	nopStatus
	mu   sync.Mutex
	seen map[string]bool
}

func (s *trackingStatus) TopicUsed(topic string) {
	s.mu.Lock()
	s.seen[topic] = true
	s.mu.Unlock()
}

// benchSinkTask runs the sink task over the records b.N times, with or without a topic listener.
func benchSinkTask(b *testing.B, c *kfake.Cluster, group *atomic.Int64, records int64, tracked bool) {
	var elapsed time.Duration
	for b.Loop() {
		nop := &nopTask{target: records, reached: make(chan struct{})}
		cfg := Config{
			Connector:       fmt.Sprintf("bench-%d", group.Add(1)),
			ConnectorConfig: map[string]string{"topics": "bench"},
			Plugin: &sink.Plugin{Class: "bench.Nop", Config: sink.NewConfigDef(),
				NewTask: func() sink.Task { return nop }},
			Worker: WorkerSettings{
				ClientOpts:     []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
				KeyConverter:   ConverterSpec{Class: StringConverterClass},
				ValueConverter: ConverterSpec{Class: JSONConverterClass, Config: map[string]string{"schemas.enable": "false"}},
			},
			Logger: slog.New(slog.DiscardHandler),
		}
		if tracked {
			cfg.Status = &trackingStatus{seen: map[string]bool{}}
		}
		start := time.Now()
		task, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- task.Run(ctx) }()
		select {
		case err := <-done:
			b.Fatalf("task stopped: %v", err)
		case <-nop.reached:
		}
		elapsed += time.Since(start)
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(records)*float64(b.N)/elapsed.Seconds(), "records/s")
}

// rawMaxPollRecords is the raw consumer's poll size: Java's max.poll.records default, which the
// sink task uses too.
const rawMaxPollRecords = 500

// BenchmarkJSONConverterFromConnect measures writing one record value as JSON (the
// JsonConverter's fromConnectData): a telemetry struct in an envelope and without one, a struct
// of logical types, and a schemaless map of the 1 KiB corpus records.
func BenchmarkJSONConverterFromConnect(b *testing.B) {
	telemetry := &sink.Schema{Type: sink.Struct, Name: "Telemetry"}
	for i, fs := range []*sink.Schema{{Type: sink.Int64}, {Type: sink.String}, {Type: sink.String}, {Type: sink.Float64}, {Type: sink.Float32},
		{Type: sink.Boolean}, {Type: sink.Array, ItemsSchema: &sink.Schema{Type: sink.String}}, {Type: sink.String, Optional: true}} {
		name := []string{"id", "device", "site", "temperature", "humidity", "ok", "tags", "note"}[i]
		telemetry.Fields = append(telemetry.Fields, sink.Field{Name: name, Index: i, Schema: fs})
	}
	rng := rand.New(rand.NewPCG(7, 7))
	structs := make([]*sink.StructValue, 256)
	for i := range structs {
		v := sink.NewStruct(telemetry)
		v.Values = []any{int64(i), fmt.Sprintf("dev-%05d", rng.IntN(100000)), fmt.Sprintf("site \"%02d\"", rng.IntN(50)),
			rng.Float64() * 40, float32(rng.Float64() * 100), i%2 == 0, []any{"a", "b", "c\td"}, nil}
		structs[i] = v
	}
	logical := &sink.Schema{Type: sink.Struct, Name: "Logical", Fields: []sink.Field{
		{Name: "amount", Index: 0, Schema: decimalSchema(2)}, {Name: "day", Index: 1, Schema: dateSchema}, {Name: "at", Index: 2, Schema: timestampSchema},
		{Name: "blob", Index: 3, Schema: &sink.Schema{Type: sink.Bytes}},
		{Name: "counts", Index: 4, Schema: &sink.Schema{Type: sink.Map, KeySchema: &sink.Schema{Type: sink.Int32}, ValueSchema: &sink.Schema{Type: sink.Int64}}},
	}}
	logicalValue := sink.NewStruct(logical)
	logicalValue.Values = []any{sink.Decimal{Unscaled: big.NewInt(-1234567), Scale: 2}, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
		time.UnixMilli(1795000000123).UTC(), []byte("some bytes to encode"), []sink.MapEntry{{Key: int32(1), Value: int64(10)}, {Key: int32(2), Value: int64(20)}}}
	maps := make([]any, 256)
	for i, r := range corpus(len(maps)) {
		m, err := sink.RawJSON(r).Decode()
		if err != nil {
			b.Fatal(err)
		}
		maps[i] = m
	}

	run := func(name string, props map[string]string, schema func(i int) *sink.Schema, value func(i int) any) {
		b.Run(name, func(b *testing.B) {
			c := jsonConverter(b, props)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := c.FromConnectData("t", schema(i), value(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	schemaless := map[string]string{"schemas.enable": "false"}
	run("envelope-struct", nil, func(int) *sink.Schema { return telemetry }, func(i int) any { return structs[i%len(structs)] })
	run("schemaless-struct", schemaless, func(int) *sink.Schema { return telemetry }, func(i int) any { return structs[i%len(structs)] })
	run("schemaless-logical", schemaless, func(int) *sink.Schema { return logical }, func(int) any { return logicalValue })
	run("schemaless-map", schemaless, func(int) *sink.Schema { return nil }, func(i int) any { return maps[i%len(maps)] })
}
