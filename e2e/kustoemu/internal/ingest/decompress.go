package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// MaxDecompressedSize is the most Decompress expands a payload to, and the most the compressed
// blocks of one Avro payload expand to: 1 GiB. Kusto takes larger blobs, but the emulator holds
// a payload in memory, so it stops here and says so (Stream_InputStreamTooLarge) rather than
// exhausting memory on a compression bomb.
const MaxDecompressedSize = 1 << 30

var (
	gzipMagic     = []byte{0x1f, 0x8b}
	zipMagic      = []byte("PK\x03\x04")
	emptyZipMagic = []byte("PK\x05\x06") // an archive with no entries is only an end record
)

// Decompress detects gzip (1f 8b) and zip (PK\x03\x04; the first file entry) from the content,
// never from names or headers, and returns the payload; other data is returned unchanged.
// Multi-member gzip is read to its end. Corrupt archives are a *model.Error (400,
// BadRequest_InvalidBlob for gzip, BadRequest_InvalidArchive or BadRequest_EmptyArchive for
// zip); output beyond MaxDecompressedSize is Stream_InputStreamTooLarge.
func Decompress(data []byte) ([]byte, error) {
	return DecompressLimit(data, MaxDecompressedSize)
}

// DecompressLimit is Decompress with a different bound on the decompressed size.
func DecompressLimit(data []byte, limit int64) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, gzipMagic):
		return gunzip(data, limit)
	case bytes.HasPrefix(data, zipMagic):
		return unzip(data, limit)
	case bytes.HasPrefix(data, emptyZipMagic):
		return nil, model.BadRequest(CodeEmptyArchive, "The zip archive is empty: it has no file to ingest.")
	}
	return data, nil
}

func gunzip(data []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, model.BadRequest(CodeInvalidBlob, "The gzip data is invalid: %v.", err)
	}
	defer zr.Close()
	// The trailer holds the (last member's) size modulo 2^32: a first guess for the buffer.
	claimed := int64(binary.LittleEndian.Uint32(data[max(len(data)-4, 0):]))
	out, err := readLimited(zr, limit, sizeHint(claimed, len(data), limit))
	if err != nil {
		return nil, expandError("gzip", CodeInvalidBlob, err, limit)
	}
	return out, nil
}

func unzip(data []byte, limit int64) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, model.BadRequest(CodeInvalidArchive, "The zip archive is invalid: %v.", err)
	}
	var first *zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() {
			first = f
			break
		}
	}
	if first == nil {
		return nil, model.BadRequest(CodeEmptyArchive, "The zip archive is empty: it has no file to ingest.")
	}
	rc, err := first.Open()
	if err != nil {
		return nil, model.BadRequest(CodeInvalidArchive, "The zip archive entry '%s' cannot be read: %v.", first.Name, err)
	}
	defer rc.Close()
	claimed := int64(min(first.UncompressedSize64, uint64(limit)))
	out, err := readLimited(rc, limit, sizeHint(claimed, int(first.CompressedSize64), limit))
	if err != nil {
		return nil, expandError("zip entry '"+first.Name+"'", CodeInvalidArchive, err, limit)
	}
	return out, nil
}

// sizeHint bounds a size an archive claims for its content before trusting it for an
// allocation: a forged header must not make a small payload allocate the whole limit.
func sizeHint(claimed int64, compressed int, limit int64) int64 {
	return max(0, min(claimed, limit, 32*int64(compressed)+4096))
}

var errTooLarge = errors.New("decompressed data exceeds the limit")

// readLimited reads r to its end, failing with errTooLarge past limit bytes.
func readLimited(r io.Reader, limit, sizeHint int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(max(sizeHint, 512)) + bytes.MinRead)
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

func expandError(what, code string, err error, limit int64) *model.Error {
	if errors.Is(err, errTooLarge) {
		return model.BadRequest(CodeInputStreamTooLarge,
			"The %s data expands to more than %d bytes, the most this emulator ingests from one payload.", what, limit)
	}
	return model.BadRequest(code, "The %s data is corrupt: %v.", what, err)
}
