package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// These are swapped by tests so that golden files are stable.
var (
	clock    = time.Now
	newID    = uuid.New
	hostName = defaultHostName
)

// jsonWriter builds JSON text by hand into a buffered writer; the first error sticks.
type jsonWriter struct {
	w   *bufio.Writer
	err error
	tmp []byte
	enc *json.Encoder
	eb  bytes.Buffer
}

func newJSONWriter(w io.Writer) *jsonWriter {
	jw := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
	jw.enc = json.NewEncoder(&jw.eb)
	jw.enc.SetEscapeHTML(false)
	return jw
}

func (jw *jsonWriter) raw(s string) {
	if jw.err == nil {
		_, jw.err = jw.w.WriteString(s)
	}
}

func (jw *jsonWriter) bytes(b []byte) {
	if jw.err == nil {
		_, jw.err = jw.w.Write(b)
	}
}

// str writes a JSON string.
func (jw *jsonWriter) str(s string) { jw.any(s) }

func (jw *jsonWriter) int(n int64) {
	jw.tmp = strconv.AppendInt(jw.tmp[:0], n, 10)
	jw.bytes(jw.tmp)
}

// any writes a JSON value with HTML characters left as they are (as Kusto does).
func (jw *jsonWriter) any(v any) {
	if jw.err != nil {
		return
	}
	jw.eb.Reset()
	if err := jw.enc.Encode(v); err != nil {
		jw.err = err
		return
	}
	jw.bytes(bytes.TrimRight(jw.eb.Bytes(), "\n"))
}

// value writes one cell of a column of type t.
func (jw *jsonWriter) value(t model.Type, v any) {
	switch x := model.FormatJSON(t, v).(type) {
	case nil:
		jw.raw("null")
	case bool:
		if x {
			jw.raw("true")
		} else {
			jw.raw("false")
		}
	case int32:
		jw.int(int64(x))
	case int64:
		jw.int(x)
	case int:
		jw.int(int64(x))
	case float64:
		jw.tmp = appendReal(jw.tmp[:0], x)
		jw.bytes(jw.tmp)
	case json.Number:
		jw.raw(string(x))
	default:
		jw.any(x)
	}
}

func (jw *jsonWriter) flush() error {
	if jw.err != nil {
		return jw.err
	}
	return jw.w.Flush()
}

// appendReal formats a finite real as Kusto's JSON does: plain decimal notation with at least
// one fractional digit (1.0, 0.25) and exponent notation for very large or small magnitudes.
func appendReal(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'E', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if bytes.IndexByte(b[start:], '.') < 0 {
		b = append(b, ".0"...)
	}
	return b
}

// columns writes a column list; v1 columns carry DataType too.
func (jw *jsonWriter) columns(cols []model.Column, withDataType bool) {
	jw.raw("[")
	for i, c := range cols {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw(`{"ColumnName":`)
		jw.str(c.Name)
		if withDataType {
			jw.raw(`,"DataType":`)
			jw.str(c.Type.DataType())
		}
		jw.raw(`,"ColumnType":`)
		jw.str(string(c.Type))
		jw.raw("}")
	}
	jw.raw("]")
}

// rows writes rows as a JSON array of arrays.
func (jw *jsonWriter) rows(cols []model.Column, rows [][]any) {
	jw.raw("[")
	for i, r := range rows {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw("[")
		for j, c := range cols {
			if j > 0 {
				jw.raw(",")
			}
			var v any
			if j < len(r) {
				v = r[j]
			}
			jw.value(c.Type, v)
		}
		jw.raw("]")
	}
	jw.raw("]")
}
