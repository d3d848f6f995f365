// Package gzchunk writes a gzip file as a sequence of independently compressed chunks, so a
// caller that builds many files at once (one per Kafka partition) holds no compressor between
// chunks: a compressor is taken from a pool for the length of one chunk and returned.
//
// The result is one ordinary gzip member (RFC 1952): a header, one DEFLATE stream made of the
// chunks' blocks, and the CRC-32 and size trailer. Every chunk but the last ends with a sync
// flush (an empty stored block), which byte-aligns the stream so the next chunk's compressor can
// continue it. A chunk may be compressed with a preset dictionary holding the tail of the data
// before it: the decoder's window holds that data, so back-references into it are valid and the
// ratio stays close to that of one continuous compressor.
package gzchunk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// MaxDict is the largest useful dictionary: DEFLATE's 32 KiB window.
const MaxDict = 32 << 10

// Compressor hands out pooled DEFLATE compressors of one level. It is safe for concurrent use.
type Compressor struct {
	level int
	flate sync.Pool // *flate.Writer
	out   sync.Pool // *bytes.Buffer
}

// NewCompressor returns a compressor pool for level: 0 (store) to 9 (best), as compress/gzip.
func NewCompressor(level int) (*Compressor, error) {
	if level < flate.NoCompression || level > flate.BestCompression {
		return nil, fmt.Errorf("gzip level %d is out of range 0..9", level)
	}
	return &Compressor{level: level}, nil
}

// Level returns the compression level.
func (c *Compressor) Level() int { return c.level }

// Writer writes one gzip member to an io.Writer, one chunk per call. It holds only the running
// checksum and size; it is not safe for concurrent use.
type Writer struct {
	c           *Compressor
	w           io.Writer
	crc         uint32
	size        int64
	wroteHeader bool
	closed      bool
}

// NewWriter starts a gzip member on w.
func (c *Compressor) NewWriter(w io.Writer) *Writer {
	return &Writer{c: c, w: w}
}

// Reset starts a new gzip member on w, reusing z.
func (z *Writer) Reset(w io.Writer) {
	*z = Writer{c: z.c, w: w}
}

// Size returns the number of uncompressed bytes written so far.
func (z *Writer) Size() int64 { return z.size }

// WriteChunk compresses p and writes it, ending with a sync flush. dict, at most MaxDict bytes,
// must be the data written just before p (nil for none or for the first chunk).
func (z *Writer) WriteChunk(p, dict []byte) error {
	return z.write(p, dict, false)
}

// Close compresses p (which may be empty) as the last chunk, writes the gzip trailer and ends
// the member. dict is as for WriteChunk. It does not close the underlying writer.
func (z *Writer) Close(p, dict []byte) error {
	return z.write(p, dict, true)
}

func (z *Writer) write(p, dict []byte, final bool) error {
	if z.closed {
		return fmt.Errorf("gzip member already closed")
	}
	out, _ := z.c.out.Get().(*bytes.Buffer)
	if out == nil {
		out = new(bytes.Buffer)
	}
	out.Reset()
	defer z.c.out.Put(out)

	if !z.wroteHeader {
		// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as compress/gzip writes it.
		out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255})
	}
	fw, _ := z.c.flate.Get().(*flate.Writer)
	if fw == nil {
		var err error
		if fw, err = flate.NewWriter(out, z.c.level); err != nil {
			return fmt.Errorf("creating compressor: %w", err)
		}
	}
	if len(dict) > MaxDict {
		dict = dict[len(dict)-MaxDict:]
	}
	fw.ResetDict(out, dict)
	_, err := fw.Write(p)
	if err == nil {
		if final {
			err = fw.Close()
		} else {
			err = fw.Flush()
		}
	}
	fw.ResetDict(nil, nil) // drop references to out and dict before pooling
	z.c.flate.Put(fw)
	if err != nil {
		return fmt.Errorf("compressing: %w", err)
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += int64(len(p))
	if final {
		var trailer [8]byte
		binary.LittleEndian.PutUint32(trailer[:4], z.crc)
		binary.LittleEndian.PutUint32(trailer[4:], uint32(z.size))
		out.Write(trailer[:])
		z.closed = true
	}
	if _, err := z.w.Write(out.Bytes()); err != nil {
		return err
	}
	z.wroteHeader = true
	return nil
}
