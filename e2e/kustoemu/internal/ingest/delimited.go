package ingest

import (
	"bytes"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// Delimited formats (csv, tsv, tsve, psv, scsv, sohsv) follow RFC 4180 as Kusto reads it:
// records end at \n or \r\n; a field in double quotes may hold delimiters, line breaks and
// doubled quotes; empty lines (a trailing one included) are skipped. tsve also reads backslash
// escapes (\t, \n, \r, \\, \0) in unquoted fields. All records of a payload must have the same
// number of fields: Kusto's default validation policy fails the payload otherwise
// (Stream_WrongNumberOfFields). A record shorter than the mapping needs yields nulls; fields
// beyond what the mapping uses are ignored.

func delimiter(f Format) byte {
	switch f {
	case TSV, TSVE:
		return '\t'
	case PSV:
		return '|'
	case SCSV:
		return ';'
	case SOHSV:
		return 0x01
	}
	return ','
}

func (p *Plan) delimitedRows(data []byte, b *rowBuilder) error {
	r := delimitedReader{data: data, line: 1, delim: delimiter(p.format), escapes: p.format == TSVE, format: p.format}
	want, skip := -1, p.ignoreFirst
	for {
		ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		if skip {
			skip = false
			continue
		}
		if want < 0 {
			want = len(r.fields)
		} else if len(r.fields) != want {
			return model.BadRequest(CodeWrongNumberOfFields,
				"The %s payload has an inconsistent number of fields per record: %s has %d fields, the first record has %d; the validation policy (ValidationOptions=ValidateCsvInputConstantColumns) fails the ingestion.",
				p.format, where(r.record, r.recordLine), len(r.fields), want)
		}
		row := b.next()
		for i := range p.sources {
			row[i] = p.sources[i].value(r.fields, nil, r.recordLine)
		}
	}
}

// fieldEnd says what ended a field.
type fieldEnd int

const (
	endDelimiter fieldEnd = iota
	endLine
	endData
)

// delimitedReader splits a delimited payload into records. Each record is copied into one
// string and its fields are substrings of it (one allocation per record, not per field); only
// fields that need rewriting (doubled quotes, escapes) get their own string. fields is reused
// between records.
type delimitedReader struct {
	data       []byte
	pos        int
	line       int // line of pos, from 1
	delim      byte
	escapes    bool
	format     Format
	record     int // number of the record last read, from 1
	recordLine int // line the record last read starts on
	fields     []string
	spans      []span
	buf        []byte
}

// span is a field: data[start:end], or text when the field had to be rewritten.
type span struct {
	start, end int
	text       string
	rewritten  bool
}

// next reads the next record into fields; false at the end of the data.
func (r *delimitedReader) next() (bool, error) {
	if !r.skipEmptyLines() {
		return false, nil
	}
	r.record++
	r.recordLine = r.line
	r.spans = r.spans[:0]
	begin := r.pos
	for {
		f, end, err := r.field()
		if err != nil {
			return false, err
		}
		r.spans = append(r.spans, f)
		if end != endDelimiter {
			break
		}
	}
	var rec string
	for _, f := range r.spans {
		if !f.rewritten {
			rec = string(r.data[begin:r.pos])
			break
		}
	}
	r.fields = r.fields[:0]
	for _, f := range r.spans {
		if f.rewritten {
			r.fields = append(r.fields, f.text)
		} else {
			r.fields = append(r.fields, rec[f.start-begin:f.end-begin])
		}
	}
	return true, nil
}

// skipEmptyLines moves past empty lines; false when no data is left.
func (r *delimitedReader) skipEmptyLines() bool {
	d := r.data
	for r.pos < len(d) {
		switch {
		case d[r.pos] == '\n':
			r.pos++
		case d[r.pos] == '\r' && r.pos+1 < len(d) && d[r.pos+1] == '\n':
			r.pos += 2
		default:
			return true
		}
		r.line++
	}
	return false
}

// field reads one field at pos and moves past its terminator.
func (r *delimitedReader) field() (span, fieldEnd, error) {
	d := r.data
	if r.pos < len(d) && d[r.pos] == '"' {
		return r.quotedField()
	}
	start, i, escaped := r.pos, r.pos, false
	for i < len(d) {
		c := d[i]
		if c == r.delim || c == '\n' {
			break
		}
		if c == '\\' && r.escapes && i+1 < len(d) {
			escaped = true
			if d[i+1] == '\n' {
				r.line++
			}
			i += 2
			continue
		}
		i++
	}
	end := r.terminate(i)
	stop := i
	if end != endDelimiter && stop > start && d[stop-1] == '\r' {
		stop--
	}
	if escaped {
		return span{text: unescapeTSVE(d[start:stop]), rewritten: true}, end, nil
	}
	return span{start: start, end: stop}, end, nil
}

// terminate moves past the terminator at i and says which it was.
func (r *delimitedReader) terminate(i int) fieldEnd {
	switch {
	case i >= len(r.data):
		r.pos = len(r.data)
		return endData
	case r.data[i] == r.delim:
		r.pos = i + 1
		return endDelimiter
	default:
		r.pos = i + 1
		r.line++
		return endLine
	}
}

// quotedField reads a field that starts with a double quote.
func (r *delimitedReader) quotedField() (span, fieldEnd, error) {
	d, openLine := r.data, r.line
	i := r.pos + 1
	first, doubled := i, false
	r.buf = r.buf[:0]
	for {
		j := bytes.IndexByte(d[i:], '"')
		if j < 0 {
			return span{}, 0, model.BadRequest(CodeClosingQuoteMissing,
				"Invalid %s format: the closing quote is missing for the quoted field that starts in %s.",
				r.format, where(r.record, openLine))
		}
		chunk := d[i : i+j]
		r.line += bytes.Count(chunk, []byte{'\n'})
		r.buf = append(r.buf, chunk...)
		i += j + 1
		if i < len(d) && d[i] == '"' {
			r.buf = append(r.buf, '"')
			i++
			doubled = true
			continue
		}
		break
	}
	closing := i - 1
	// Text between the closing quote and the delimiter is not RFC 4180; it is kept as is
	// rather than failing the payload.
	quoted := len(r.buf)
	for i < len(d) && d[i] != r.delim && d[i] != '\n' {
		r.buf = append(r.buf, d[i])
		i++
	}
	end := r.terminate(i)
	if end != endDelimiter && len(r.buf) > quoted && r.buf[len(r.buf)-1] == '\r' {
		r.buf = r.buf[:len(r.buf)-1]
	}
	if !doubled && len(r.buf) == quoted {
		return span{start: first, end: closing}, end, nil
	}
	return span{text: string(r.buf), rewritten: true}, end, nil
}

// unescapeTSVE resolves tsve's backslash escapes.
func unescapeTSVE(f []byte) string {
	out := make([]byte, 0, len(f))
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			out = append(out, c)
			continue
		}
		i++
		switch f[i] {
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case '0':
			out = append(out, 0)
		default:
			out = append(out, f[i])
		}
	}
	return string(out)
}

// textRows reads txt: each non-empty line is one record of one field.
func (p *Plan) textRows(data []byte, b *rowBuilder) error {
	fields := make([]string, 1)
	line, skip := 0, p.ignoreFirst
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(l) == 0 {
			continue
		}
		if skip {
			skip = false
			continue
		}
		fields[0] = string(l)
		row := b.next()
		for i := range p.sources {
			row[i] = p.sources[i].value(fields, nil, line)
		}
	}
	return nil
}

// rawRows reads raw: the whole payload is one record of one field.
func (p *Plan) rawRows(data []byte, b *rowBuilder) error {
	if len(data) == 0 {
		return nil
	}
	fields := []string{string(data)}
	row := b.next()
	for i := range p.sources {
		row[i] = p.sources[i].value(fields, nil, 1)
	}
	return nil
}
