package kustoemu

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/dm"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/faults"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/ingest"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/wire"
)

// maxStreamingBytes bounds a streaming request body. Kusto documents 4 MB per request; the
// emulator is more lenient but still bounded, since it holds the payload in memory.
const maxStreamingBytes = 64 << 20

// streamingEndpoint is POST /v1/rest/ingest/{db}/{table}?streamFormat=&mappingName=[&sourceKind=uri]:
// the body (gzip detected from its magic bytes, whatever Content-Encoding says) is parsed with
// the table's mapping and appended at once.
func (e *Emulator) streamingEndpoint(w http.ResponseWriter, r *http.Request) {
	if e.faults.Apply(faults.Streaming, w, r, writeEngineFault) {
		return
	}
	db, table := r.PathValue("db"), r.PathValue("table")
	q := r.URL.Query()
	format, err := ingest.ParseFormat(q.Get("streamFormat"))
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStreamingBytes))
	if err != nil {
		writeError(w, r, model.BadRequest(ingest.CodeInputStreamTooLarge, "The streaming request body could not be read (at most %d bytes are accepted): %v", maxStreamingBytes, err))
		return
	}
	source := "stream"
	if strings.EqualFold(q.Get("sourceKind"), "uri") {
		var src struct {
			SourceURI string `json:"sourceUri"`
		}
		if err := json.Unmarshal(body, &src); err != nil || src.SourceURI == "" {
			writeError(w, r, model.BadRequest("BadRequest_InvalidRequestBody", `With sourceKind=uri the body must be {"sourceUri": "<blob URL>"}.`))
			return
		}
		if body, err = e.readOwnBlob(src.SourceURI); err != nil {
			writeError(w, r, asModelError(err))
			return
		}
		source = redact(src.SourceURI)
	}
	payload, err := ingest.Decompress(body)
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	spec := ingest.Spec{Format: format, MappingReference: q.Get("mappingName"), SourceLocation: source}
	var plan *ingest.Plan
	err = e.cluster.View(func(s *model.State) error {
		d, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		if !d.StreamingEnabled(t) {
			return model.BadRequest("BadRequest_StreamingIngestionPolicyNotEnabled",
				"Streaming ingestion policy is not enabled for the table '%s' in database '%s'; enable it with .alter table %s policy streamingingestion enable.", table, db, table)
		}
		plan, err = ingest.Prepare(t, spec)
		return err
	})
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	rows, err := plan.Rows(payload)
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	err = e.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		if len(plan.Columns()) > len(t.Columns) {
			return model.Unavailable("The schema of table '%s' changed during the ingestion; retry.", table)
		}
		if len(rows) > 0 {
			t.Append(rows, nil, time.Now())
		}
		return nil
	})
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	result := model.Result{
		Name: "Table_0",
		Columns: []model.Column{{Name: "ConsumedRecordsCount", Type: model.Long}, {Name: "UpdatePolicyStatus", Type: model.String},
			{Name: "UpdatePolicyFailureCode", Type: model.String}, {Name: "UpdatePolicyFailureReason", Type: model.String}},
		Rows: [][]any{{int64(len(rows)), "Inactive", "Unknown", model.DBNull}},
	}
	writeResult(w, r, func(out io.Writer) error { return wire.WriteV1(out, []model.Result{result}) })
}

// readOwnBlob reads a blob of the emulator's storage by its SAS URL (streaming from a blob).
func (e *Emulator) readOwnBlob(raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || !dm.SameHost(u.Host, e.storageHost) {
		return nil, model.BadRequest("Download_SourceNotFound", "The source %s is not a blob of the emulator's storage (%s).", redact(raw), e.storageHost)
	}
	c, name, err := e.storage.ResolveBlob(u)
	if err != nil {
		var se *sas.Error
		if errors.As(err, &se) {
			return nil, model.BadRequest("Download_Forbidden", "Reading %s was refused: %s", redact(raw), se.Detail)
		}
		return nil, model.BadRequest("Download_SourceNotFound", "The blob %s was not found.", redact(raw))
	}
	data, err := e.storage.ReadBlob(c, name)
	if err != nil {
		return nil, model.BadRequest("Download_SourceNotFound", "The blob %s was not found.", redact(raw))
	}
	return data, nil
}

// redact drops a URL's query (its SAS) for messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
