package kusto

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/kusto/internal/corpus"
)

// nopIngester accepts every file at once: the benchmarks measure the writer, not the upload.
type nopIngester struct{}

func (nopIngester) Ingest(context.Context, *ingestRequest) error { return nil }
func (nopIngester) Close() error                                 { return nil }

// The spool file of every level decompresses to exactly the records, across many chunks and
// files, with and without chunk dictionaries.
func TestGzipFilesHoldExactlyTheRecords(t *testing.T) {
	records := corpus.Records(3000, 3)
	for _, level := range []string{"0", "1", "6", "9"} {
		t.Run("level"+level, func(t *testing.T) {
			fake := &fakeIngester{}
			props := with(baseProps(t), KeyCompression, level, KeyFlushSize, fmt.Sprint(700<<10), KeyFlushInterval, "60000",
				KeyTopicsMapping, "[{'topic':'j','db':'d','table':'t','format':'json'}]")
			task := startTask(t, props, fake)
			if err := task.Open(context.Background(), []sink.TopicPartition{tp("j", 0)}); err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, r := range records {
				mustPut(t, task, sink.Record{Topic: "j", Offset: int64(i), Value: sink.RawJSON(r)})
				want = append(want, string(r))
			}
			p := task.parts[tp("j", 0)]
			p.rollByTime(p.cur)
			eventually(t, "all committed", func() bool { return preCommit(t, task)[tp("j", 0)] == int64(len(records)) })
			files := fake.snapshot()
			// Files are ingested concurrently: put them back in offset order.
			sort.Slice(files, func(i, j int) bool { return fileOffset(files[i].name) < fileOffset(files[j].name) })
			if len(files) < 4 {
				t.Fatalf("%d files; the test wants several", len(files))
			}
			if got := allLines(files); !reflect.DeepEqual(got, want) {
				t.Fatalf("the files hold %d lines that differ from the %d records", len(got), len(want))
			}
			var raw, packed int64
			for _, f := range files {
				raw += f.raw
				packed += f.size
			}
			t.Logf("level %s: %d files, ratio %.2f", level, len(files), float64(raw)/float64(packed))
		})
	}
}

// fileOffset reads the first offset from a spool file name kafka_<topic>_<partition>_<offset>.<FORMAT>.gz.
func fileOffset(name string) int64 {
	base := strings.TrimSuffix(name, filepath.Ext(name))
	base = strings.TrimSuffix(base, filepath.Ext(base))
	n, _ := strconv.ParseInt(base[strings.LastIndexByte(base, '_')+1:], 10, 64)
	return n
}

// BenchmarkWriter measures the writer path per 1 KiB JSON record: append to the partition
// buffer, compress in 128 KiB chunks, roll 1 MiB files (the default flush.size.bytes), with an
// ingester that accepts at once. Bytes are uncompressed input.
func BenchmarkWriter(b *testing.B) {
	records := corpus.Records(4096, 42)
	var size int64
	for _, r := range records {
		size += int64(len(r) + 1)
	}
	for _, level := range []int{0, 1, 2, 3, 6, 9} {
		b.Run(fmt.Sprintf("level=%d", level), func(b *testing.B) {
			props := with(baseProps(b), KeyCompression, fmt.Sprint(level), KeyFlushInterval, "600000",
				KeyTopicsMapping, "[{'topic':'j','db':'d','table':'t','format':'json'}]")
			task := NewTask()
			task.newIngester = func(*Config, *slog.Logger) (ingester, error) { return nopIngester{}, nil }
			if err := task.Start(context.Background(), &fakeContext{}, props); err != nil {
				b.Fatal(err)
			}
			defer task.Stop(context.Background())
			if err := task.Open(context.Background(), []sink.TopicPartition{tp("j", 0)}); err != nil {
				b.Fatal(err)
			}
			// Values are boxed once, as a converter boxes each record once; the loop measures the writer.
			values := make([]any, len(records))
			for i, r := range records {
				values[i] = sink.RawJSON(r)
			}
			batch := make([]sink.Record, 1)
			b.SetBytes(size / int64(len(records)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch[0] = sink.Record{Topic: "j", Offset: int64(i), Value: values[i%len(values)]}
				if err := task.Put(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkBaselineStdlibGzip6 is the Java sink's way for comparison in the same run: one
// stdlib gzip stream at the default level (6), one Write per record and newline, a new 1 MiB
// file (writer Reset) at each roll, to memory.
func BenchmarkBaselineStdlibGzip6(b *testing.B) {
	records := corpus.Records(4096, 42)
	var size int64
	for _, r := range records {
		size += int64(len(r) + 1)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	var raw int64
	b.SetBytes(size / int64(len(records)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := records[i%len(records)]
		zw.Write(r)
		zw.Write([]byte{'\n'})
		if raw += int64(len(r) + 1); raw > 1<<20 {
			zw.Close()
			out.Reset()
			zw.Reset(&out)
			raw = 0
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeRecord measures rendering one record as its line, into a reused buffer: a
// telemetry struct (the JsonConverter's rendering), the struct of every type and logical type,
// and a schemaless map of a 1 KiB corpus record (Jackson's rendering of the map).
func BenchmarkEncodeRecord(b *testing.B) {
	telemetry := &sink.Schema{Type: sink.Struct, Name: "Telemetry"}
	for i, fs := range []*sink.Schema{{Type: sink.Int64}, {Type: sink.String}, {Type: sink.String}, {Type: sink.Float64}, {Type: sink.Float32},
		{Type: sink.Boolean}, {Type: sink.Int64, Name: sink.TimestampSchemaName}, {Type: sink.Array, ItemsSchema: &sink.Schema{Type: sink.String}}} {
		name := []string{"id", "device", "message", "latency", "ratio", "ok", "at", "tags"}[i]
		telemetry.Fields = append(telemetry.Fields, sink.Field{Name: name, Index: i, Schema: fs})
	}
	structs := make([]sink.Record, 256)
	for i := range structs {
		v := sink.NewStruct(telemetry)
		v.Values = []any{int64(i), fmt.Sprintf("dev-%05d", i*37), fmt.Sprintf("request %d completed in \"%d\" ms\n", i, i*3),
			float64(i) * 1.37, float32(i) / 7, i%2 == 0, time.UnixMilli(1795000000000 + int64(i)).UTC(), []any{"a", "b", "c"}}
		structs[i] = sink.Record{ValueSchema: telemetry, Value: v}
	}
	every := allTypes()
	maps := make([]sink.Record, 256)
	for i, r := range corpus.Records(len(maps), 42) {
		m, err := sink.RawJSON(r).Decode()
		if err != nil {
			b.Fatal(err)
		}
		maps[i] = sink.Record{Value: m}
	}
	run := func(name string, rec func(i int) *sink.Record) {
		b.Run(name, func(b *testing.B) {
			var dst []byte
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				var err error
				if dst, err = appendRecord(dst[:0], rec(i), formatMultiJSON); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("struct", func(i int) *sink.Record { return &structs[i%len(structs)] })
	run("struct-every-type", func(int) *sink.Record { return &sink.Record{ValueSchema: every.Schema, Value: every} })
	run("schemaless-map", func(i int) *sink.Record { return &maps[i%len(maps)] })
}
