// Package ingest turns an ingestion payload into table rows as Kusto does: it knows the data
// formats (delimited text, JSON, Avro), the ingestion mappings that pick values out of records,
// and the compression Kusto detects in blobs and streams.
//
// Start with [ParseFormat] and a [Spec], resolve it against a table with [Prepare] (inside the
// cluster lock), then call [Plan.Rows] on the payload that [Decompress] returned (outside the
// lock). Every failure is a *model.Error carrying one of Kusto's ingestion error codes.
package ingest

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// Format is a data format by its canonical lower-case queued name.
type Format string

// The formats the emulator ingests.
const (
	CSV        Format = "csv"
	TSV        Format = "tsv"
	TSVE       Format = "tsve"
	PSV        Format = "psv"
	SCSV       Format = "scsv"
	SOHSV      Format = "sohsv"
	TXT        Format = "txt"
	Raw        Format = "raw"
	JSON       Format = "json"
	MultiJSON  Format = "multijson"
	SingleJSON Format = "singlejson"
	Avro       Format = "avro"
	ApacheAvro Format = "apacheavro"
)

// Formats lists every format the emulator ingests.
var Formats = []Format{CSV, TSV, TSVE, PSV, SCSV, SOHSV, TXT, Raw, JSON, MultiJSON, SingleJSON, Avro, ApacheAvro}

// The mapping kinds, as Format.MappingKind returns them and as mappings are stored.
const (
	KindCSV  = "csv"
	KindJSON = "json"
	KindAvro = "avro"
)

// Kusto's ingestion error codes, as the emulator reports them in *model.Error.Code.
const (
	CodeWrongNumberOfFields      = "Stream_WrongNumberOfFields"
	CodeClosingQuoteMissing      = "Stream_ClosingQuoteMissing"
	CodeInputStreamTooLarge      = "Stream_InputStreamTooLarge"
	CodeInvalidBlob              = "BadRequest_InvalidBlob"
	CodeInvalidArchive           = "BadRequest_InvalidArchive"
	CodeEmptyArchive             = "BadRequest_EmptyArchive"
	CodeNoRecords                = "BadRequest_NoRecordsOrWrongFormat"
	CodeFormatNotSupported       = "BadRequest_FormatNotSupported"
	CodeInvalidMapping           = "BadRequest_InvalidMapping"
	CodeInconsistentMapping      = "BadRequest_InconsistentMapping"
	CodeMappingReferenceNotFound = "BadRequest_MappingReferenceWasNotFound"
)

// unsupportedFormats are formats Kusto ingests and the emulator does not: asking for one is a
// clear 400 that says so, not an "unknown format".
var unsupportedFormats = map[string]bool{
	"parquet": true, "orc": true, "w3clogfile": true, "sstream": true, "azmonstream": true,
}

// ParseFormat accepts queued names (csv, multijson, avro …) and streaming CamelCase names
// (Csv, MultiJson, ApacheAvro …), case-insensitively. An empty name is CSV, Kusto's default.
// Unknown or unsupported formats are a *model.Error (400, BadRequest_FormatNotSupported).
func ParseFormat(name string) (Format, error) {
	lower := strings.ToLower(strings.TrimSpace(name))
	if lower == "" {
		return CSV, nil
	}
	for _, f := range Formats {
		if string(f) == lower {
			return f, nil
		}
	}
	if unsupportedFormats[lower] {
		return "", model.BadRequest(CodeFormatNotSupported,
			"The data format '%s' is not supported by this emulator; supported formats: %s.", name, formatList())
	}
	return "", model.BadRequest(CodeFormatNotSupported,
		"Unknown data format '%s'; supported formats: %s.", name, formatList())
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// MappingKind is the mapping kind a format uses: "csv" for delimited/text formats, "json" for
// json/multijson/singlejson, "avro" for avro/apacheavro.
func (f Format) MappingKind() string {
	switch f {
	case JSON, MultiJSON, SingleJSON:
		return KindJSON
	case Avro, ApacheAvro:
		return KindAvro
	default:
		return KindCSV
	}
}

func (f Format) known() bool {
	for _, k := range Formats {
		if k == f {
			return true
		}
	}
	return false
}

// Spec says how to ingest one payload.
type Spec struct {
	Format           Format
	MappingReference string // name of a mapping stored on the table; "" = none
	Mapping          string // inline mapping JSON; "" = none (wins over MappingReference)
	// MappingKind is the kind the client declared (queued "ingestionMappingType": Csv/Json/Avro,
	// any case); "" = not declared.
	MappingKind string
	// IgnoreFirstRecord skips the first record (a header) of delimited and txt payloads.
	IgnoreFirstRecord bool
	// SourceLocation names the payload (a blob URL, a stream); it is the value of the
	// SourceLocation mapping transform.
	SourceLocation string
}

// Plan is a spec resolved against a table: the table's columns as they were at Prepare and,
// per column, where its value comes from. A Plan is read-only; Rows may run concurrently.
type Plan struct {
	format      Format
	columns     []model.Column
	sources     []source
	ignoreFirst bool
	// maxExpansion bounds how far compressed Avro blocks of one payload may expand.
	maxExpansion int64
}

// Prepare resolves spec against the table (call it inside Cluster.View/Update: it reads t) and
// returns a plan that holds copies of what it needs, so parsing can run outside the lock.
// Unknown mapping reference, mapping kind not matching the format, invalid mapping → *model.Error.
func Prepare(t *model.Table, spec Spec) (*Plan, error) {
	f := spec.Format
	if f == "" {
		f = CSV
	}
	if !f.known() {
		return nil, model.BadRequest(CodeFormatNotSupported, "Unknown data format '%s'; supported formats: %s.", f, formatList())
	}
	kind := f.MappingKind()
	if declared := normalizeKind(spec.MappingKind); declared != "" && declared != kind {
		return nil, model.BadRequest(CodeInvalidMapping,
			"Ingestion mapping kind '%s' does not fit data format '%s', which needs a %s mapping.", spec.MappingKind, f, kindTitle(kind))
	}
	text := spec.Mapping
	if text == "" && spec.MappingReference != "" {
		m, ok := t.Mapping(kind, spec.MappingReference)
		if !ok && kind == KindAvro {
			m, ok = t.Mapping("apacheavro", spec.MappingReference)
		}
		if !ok {
			return nil, mappingNotFound(t, kind, spec.MappingReference)
		}
		text = m.Text
	}
	p := &Plan{
		format:       f,
		columns:      append([]model.Column(nil), t.Columns...),
		ignoreFirst:  spec.IgnoreFirstRecord,
		maxExpansion: MaxDecompressedSize,
	}
	var err error
	if text == "" {
		p.sources = identitySources(f, p.columns)
	} else {
		p.sources, err = mappedSources(f, t, text, spec.SourceLocation)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// normalizeKind maps a declared mapping kind to ours; ApacheAvro (the Java SDK's kind for the
// apacheavro format) is an Avro mapping.
func normalizeKind(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	if k == "apacheavro" {
		return KindAvro
	}
	return k
}

func kindTitle(kind string) string {
	switch kind {
	case KindJSON:
		return "Json"
	case KindAvro:
		return "Avro"
	default:
		return "Csv"
	}
}

func mappingNotFound(t *model.Table, kind, name string) *model.Error {
	for _, m := range t.Mappings {
		if m.Name == name {
			return model.BadRequest(CodeMappingReferenceNotFound,
				"Mapping reference '%s' of kind '%s' was not found on table '%s': a mapping of that name exists with kind '%s', which does not fit the data format.",
				name, kind, t.Name, m.Kind)
		}
	}
	return model.BadRequest(CodeMappingReferenceNotFound,
		"Mapping reference '%s' of kind '%s' was not found on table '%s'.", name, kind, t.Name)
}

// Columns returns the table's columns as they were at Prepare: Rows returns one value per column.
func (p *Plan) Columns() []model.Column { return append([]model.Column(nil), p.columns...) }

// Format returns the plan's data format.
func (p *Plan) Format() Format { return p.format }

// Rows parses a decompressed payload into rows: one value per column of the table (as it was at
// Prepare), converted with model.Convert. Malformed data fails the whole payload with a
// *model.Error (400, a Kusto code such as Stream_WrongNumberOfFields or BadRequest_InvalidBlob);
// a value that cannot be converted to its column type is null, not an error (Kusto's rule). As
// in Kusto, format json (JSON Lines) skips lines that are not a JSON object; a payload that
// yields no record at all is BadRequest_NoRecordsOrWrongFormat.
func (p *Plan) Rows(data []byte) ([][]any, error) {
	b := newRowBuilder(p)
	var err error
	switch p.format {
	case TXT:
		err = p.textRows(stripBOM(data), b)
	case Raw:
		err = p.rawRows(stripBOM(data), b)
	case JSON:
		err = p.jsonLineRows(stripBOM(data), b)
	case MultiJSON:
		err = p.multiJSONRows(stripBOM(data), b)
	case SingleJSON:
		err = p.singleJSONRows(stripBOM(data), b)
	case Avro, ApacheAvro:
		err = p.avroRows(data, b)
	default:
		err = p.delimitedRows(stripBOM(data), b)
	}
	if err != nil {
		return nil, err
	}
	if len(b.rows) == 0 {
		return nil, model.BadRequest(CodeNoRecords,
			"The %s payload (%d bytes) produced no records: it is empty or does not match the data format.", p.format, len(data))
	}
	return b.rows, nil
}

// stripBOM drops a leading UTF-8 byte order mark, as text editors on Windows write one.
func stripBOM(data []byte) []byte {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return data[3:]
	}
	return data
}

// rowsPerSlab is how many rows share one backing array: rows are never modified after they are
// appended to an extent, so sharing costs nothing and saves an allocation per row.
const rowsPerSlab = 256

// rowBuilder hands out rows of the plan's width.
type rowBuilder struct {
	width int
	slab  []any
	rows  [][]any
}

func newRowBuilder(p *Plan) *rowBuilder { return &rowBuilder{width: len(p.columns)} }

func (b *rowBuilder) next() []any {
	if len(b.slab) < b.width {
		b.slab = make([]any, b.width*rowsPerSlab)
	}
	r := b.slab[:b.width:b.width]
	b.slab = b.slab[b.width:]
	b.rows = append(b.rows, r)
	return r
}

// where describes a position in a payload for error messages.
func where(record, line int) string {
	return fmt.Sprintf("record %d (line %d)", record, line)
}

// addRecord adds the row of one JSON or Avro record.
func (p *Plan) addRecord(b *rowBuilder, rec any, line int) {
	row := b.next()
	for i := range p.sources {
		row[i] = p.sources[i].value(nil, rec, line)
	}
}
