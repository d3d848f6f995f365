package ingest

import (
	"archive/zip"
	"bytes"
	stdgzip "compress/gzip"
	"testing"
)

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts { // one gzip member per part
		w := stdgzip.NewWriter(&buf)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// zipOf builds an archive; entries are name, content pairs, a name ending in / is a directory.
func zipOf(t testing.TB, method uint16, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := 0; i+1 < len(entries); i += 2 {
		f, err := w.CreateHeader(&zip.FileHeader{Name: entries[i], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(entries[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecompress(t *testing.T) {
	big := bytes.Repeat([]byte("a,b,c\n"), 100000)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"plain csv unchanged", []byte("a,b\n"), "a,b\n"},
		{"empty unchanged", nil, ""},
		{"avro unchanged", []byte("Obj\x01rest"), "Obj\x01rest"},
		{"one gzip byte unchanged", []byte{0x1f}, "\x1f"},
		{"gzip", gz(t, "a,b\n"), "a,b\n"},
		{"multi-member gzip", gz(t, "a,1\n", "b,2\n", "c,3\n"), "a,1\nb,2\nc,3\n"},
		{"gzip of nothing", gz(t, ""), ""},
		{"large gzip", gz(t, string(big)), string(big)},
		{"zip deflate", zipOf(t, zip.Deflate, "data.csv", "x,y\n", "second.csv", "no\n"), "x,y\n"},
		{"zip store", zipOf(t, zip.Store, "data.json", `{"a":1}`), `{"a":1}`},
		{"zip skips directories", zipOf(t, zip.Deflate, "dir/", "", "dir/data.csv", "z\n"), "z\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decompress(tc.in)
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("got %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tc.want), tc.want)
			}
		})
	}
}

func TestDecompressErrors(t *testing.T) {
	good := gz(t, "hello, world\n")
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-8] ^= 0xff
	forgedSize := bytes.Clone(good)
	copy(forgedSize[len(forgedSize)-4:], []byte{0xff, 0xff, 0xff, 0xff}) // claims 4 GiB
	zipped := zipOf(t, zip.Deflate, "a.csv", "some,data\n")
	badZip := bytes.Clone(zipped)
	badZip[len(badZip)-30] ^= 0xff // inside the central directory
	var empty bytes.Buffer
	if err := zip.NewWriter(&empty).Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       []byte
		limit    int64
		code     string
		contains string
	}{
		{"truncated gzip", good[:len(good)/2], MaxDecompressedSize, CodeInvalidBlob, "gzip data is corrupt"},
		{"gzip header only", good[:4], MaxDecompressedSize, CodeInvalidBlob, "gzip data is invalid"},
		{"gzip checksum", badCRC, MaxDecompressedSize, CodeInvalidBlob, "checksum"},
		{"gzip with trailing garbage", append(bytes.Clone(good), "junk"...), MaxDecompressedSize, CodeInvalidBlob, "corrupt"},
		{"gzip forged size still checked", forgedSize, MaxDecompressedSize, CodeInvalidBlob, "corrupt"},
		{"gzip over limit", gz(t, string(make([]byte, 5000))), 4096, CodeInputStreamTooLarge, "more than 4096 bytes"},
		{"multi-member over limit", gz(t, string(make([]byte, 3000)), string(make([]byte, 3000))), 4096, CodeInputStreamTooLarge, "4096"},
		{"zip over limit", zipOf(t, zip.Deflate, "big.csv", string(make([]byte, 5000))), 4096, CodeInputStreamTooLarge, "zip entry 'big.csv'"},
		{"corrupt zip", badZip, MaxDecompressedSize, CodeInvalidArchive, "zip archive"},
		{"truncated zip", zipped[:20], MaxDecompressedSize, CodeInvalidArchive, "zip archive is invalid"},
		{"empty zip", empty.Bytes(), MaxDecompressedSize, CodeEmptyArchive, "no file"},
		{"zip of directories", zipOf(t, zip.Deflate, "d/", ""), MaxDecompressedSize, CodeEmptyArchive, "no file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecompressLimit(tc.in, tc.limit)
			if got != nil {
				t.Errorf("got %d bytes, want none", len(got))
			}
			assertError(t, err, tc.code, tc.contains)
		})
	}
}

// A zip entry whose data is corrupt fails on its checksum.
func TestDecompressZipEntryCorrupt(t *testing.T) {
	z := zipOf(t, zip.Store, "a.csv", "0123456789abcdef")
	i := bytes.Index(z, []byte("0123456789abcdef"))
	z[i] = 'X'
	_, err := Decompress(z)
	assertError(t, err, CodeInvalidArchive, "checksum")
}
