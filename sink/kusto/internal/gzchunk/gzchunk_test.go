package gzchunk

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"testing"

	"github.com/kconnect/kconnect/sink/kusto/internal/corpus"
)

// writeChunked writes data as chunks of chunkSize, each compressed with the previous dictLen
// bytes as dictionary (0 = none), through one pooled compressor.
func writeChunked(t testing.TB, c *Compressor, data []byte, chunkSize, dictLen int) []byte {
	t.Helper()
	var out bytes.Buffer
	z := c.NewWriter(&out)
	for start := 0; ; start += chunkSize {
		end := min(start+chunkSize, len(data))
		var dict []byte
		if dictLen > 0 {
			dict = data[max(0, start-dictLen):start]
		}
		if end == len(data) {
			if err := z.Close(data[start:end], dict); err != nil {
				t.Fatal(err)
			}
			break
		}
		if err := z.WriteChunk(data[start:end], dict); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r.Multistream(false) // the file must be exactly one member
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); len(rest) != 0 {
		t.Fatal("trailing data after the gzip member")
	}
	return got
}

func lines(n int) []byte {
	var b bytes.Buffer
	for _, r := range corpus.Records(n, 42) {
		b.Write(r)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestChunksDecompressToTheInputAsOneMember(t *testing.T) {
	data := lines(150) // ~150 KiB: several 64 KiB blocks
	for _, level := range []int{0, 1, 6, 9} {
		c, err := NewCompressor(level)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ chunk, size int }{{7, 2000}, {1000, 40000}, {64 << 10, len(data)}, {1 << 20, len(data)}} {
			for _, dict := range []int{0, MaxDict} {
				t.Run(fmt.Sprintf("level%d/chunk%d/dict%d", level, tc.chunk, dict), func(t *testing.T) {
					in := data[:tc.size]
					if got := gunzip(t, writeChunked(t, c, in, tc.chunk, dict)); !bytes.Equal(got, in) {
						t.Fatal("round trip differs")
					}
				})
			}
		}
	}
}

func TestEmptyMemberAndReuse(t *testing.T) {
	c, _ := NewCompressor(1)
	var out bytes.Buffer
	z := c.NewWriter(&out)
	if err := z.Close(nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := gunzip(t, out.Bytes()); len(got) != 0 {
		t.Fatalf("empty member decompressed to %q", got)
	}
	if err := z.WriteChunk([]byte("x"), nil); err == nil {
		t.Fatal("writing after Close must fail")
	}
	var second bytes.Buffer
	z.Reset(&second)
	if err := z.WriteChunk([]byte("hello "), nil); err != nil {
		t.Fatal(err)
	}
	if err := z.Close([]byte("world\n"), []byte("hello ")); err != nil {
		t.Fatal(err)
	}
	if got := string(gunzip(t, second.Bytes())); got != "hello world\n" {
		t.Fatalf("got %q", got)
	}
	if z.Size() != 12 {
		t.Fatalf("size %d", z.Size())
	}
}

func TestLevelRange(t *testing.T) {
	for _, bad := range []int{-1, 10} {
		if _, err := NewCompressor(bad); err == nil {
			t.Errorf("level %d accepted", bad)
		}
	}
}

// BenchmarkChunking compares ways of compressing ~1 MiB of 1 KiB JSON lines: chunk size and
// whether each chunk gets the previous 32 KiB as dictionary. It reports the compression ratio.
func BenchmarkChunking(b *testing.B) {
	data := lines(1100)
	for _, level := range []int{1, 6} {
		c, _ := NewCompressor(level)
		for _, chunk := range []int{32 << 10, 64 << 10, 128 << 10, 256 << 10, len(data)} {
			for _, dict := range []int{0, MaxDict} {
				if chunk == len(data) && dict > 0 {
					continue
				}
				b.Run(fmt.Sprintf("L%d/chunk=%dK/dict=%v", level, chunk>>10, dict > 0), func(b *testing.B) {
					b.SetBytes(int64(len(data)))
					var n int
					for b.Loop() {
						n = len(writeChunked(b, c, data, chunk, dict))
					}
					b.ReportMetric(float64(len(data))/float64(n), "ratio")
				})
			}
		}
	}
}
