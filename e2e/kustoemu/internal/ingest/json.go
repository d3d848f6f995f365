package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// Three JSON formats:
//   - json is JSON Lines: one object per line (\n or \r\n). Kusto ignores malformed lines, and
//     so does the emulator: a line that is not a JSON object is skipped.
//   - multijson is any number of objects, or arrays of objects, separated by whitespace, each
//     possibly spanning lines. Anything malformed fails the payload (BadRequest_InvalidBlob).
//   - singlejson is exactly one object.
//
// Numbers keep their text (json.Number), so long and decimal values lose nothing.

// jsonLineRows reads json (JSON Lines).
func (p *Plan) jsonLineRows(data []byte, b *rowBuilder) error {
	line := 0
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] != '{' {
			continue
		}
		if rec, ok := decodeLine(l); ok {
			p.addRecord(b, rec, line)
		}
	}
	return nil
}

// decodeLine decodes one line holding exactly one JSON object.
func decodeLine(l []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(l))
	d.UseNumber()
	// Decoding into any takes encoding/json's fast path for objects; into a map it reflects.
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, false
	}
	rec, ok := v.(map[string]any)
	return rec, ok
}

// multiJSONRows reads multijson.
func (p *Plan) multiJSONRows(data []byte, b *rowBuilder) error {
	return p.jsonValues(data, b, false)
}

// singleJSONRows reads singlejson.
func (p *Plan) singleJSONRows(data []byte, b *rowBuilder) error {
	return p.jsonValues(data, b, true)
}

// jsonValues reads top-level JSON values: objects, and (unless single) arrays of objects.
func (p *Plan) jsonValues(data []byte, b *rowBuilder, single bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	lines := lineCounter{data: data}
	for n := 0; ; n++ {
		start := skipJSONSpace(data, int(dec.InputOffset()))
		if start >= len(data) {
			return nil
		}
		if single && n > 0 {
			return p.jsonError(data, start, "singlejson holds one JSON object, but more data follows")
		}
		switch data[start] {
		case '{':
			var rec any
			if err := dec.Decode(&rec); err != nil {
				return p.jsonDecodeError(data, start, err)
			}
			p.addRecord(b, rec, lines.at(start))
		case '[':
			if single {
				return p.jsonError(data, start, "singlejson holds one JSON object, not an array")
			}
			if err := p.jsonArray(dec, data, start, &lines, b); err != nil {
				return err
			}
		default:
			return p.jsonError(data, start, "expected a JSON object or an array of objects")
		}
	}
}

// jsonArray reads one top-level array of objects; dec is positioned at its '['.
func (p *Plan) jsonArray(dec *json.Decoder, data []byte, start int, lines *lineCounter, b *rowBuilder) error {
	if _, err := dec.Token(); err != nil {
		return p.jsonDecodeError(data, start, err)
	}
	for dec.More() {
		at := skipJSONSpace(data, int(dec.InputOffset()))
		var v any
		if err := dec.Decode(&v); err != nil {
			return p.jsonDecodeError(data, at, err)
		}
		rec, ok := v.(map[string]any)
		if !ok {
			return p.jsonError(data, at, "an array element is not a JSON object")
		}
		p.addRecord(b, rec, lines.at(at))
	}
	if _, err := dec.Token(); err != nil {
		return p.jsonDecodeError(data, start, err)
	}
	return nil
}

// skipJSONSpace returns the offset of the next byte at or after i that is not whitespace or the
// comma the decoder has not consumed yet.
func skipJSONSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n', ',':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonDecodeError reports a decoding error of the value that starts at start; a syntax error
// carries its own offset (from the start of the data, just past the offending byte).
func (p *Plan) jsonDecodeError(data []byte, start int, err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return p.jsonError(data, int(syntax.Offset)-1, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return p.jsonError(data, start, "the JSON value that starts here is not complete")
	}
	return p.jsonError(data, start, err.Error())
}

func (p *Plan) jsonError(data []byte, off int, msg string) error {
	line, col := position(data, off)
	return model.BadRequest(CodeInvalidBlob, "The %s payload is malformed at line %d, column %d: %s.", p.format, line, col, msg)
}

// position returns the 1-based line and column of offset off.
func position(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	return line, off - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// lineCounter turns increasing offsets into line numbers without rescanning.
type lineCounter struct {
	data []byte
	off  int
	line int // newlines before off
}

func (c *lineCounter) at(off int) int {
	if off < c.off {
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:off], []byte{'\n'})
	c.off = off
	return c.line + 1
}
