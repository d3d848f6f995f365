package mgmt

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/ingest"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// tagFilter is one `tags has|!has|contains|!contains 'x'` of .show table T extents where ….
type tagFilter struct {
	op, tag string
}

func (f tagFilter) match(tags []string) bool {
	found := false
	for _, t := range tags {
		switch f.op {
		case "has", "!has":
			found = found || t == f.tag
		default:
			found = found || strings.Contains(strings.ToLower(t), strings.ToLower(f.tag))
		}
	}
	return found != strings.HasPrefix(f.op, "!")
}

// showExtents runs .show table T extents [where tags has 'x' [and tags …]] (cursor past
// "extents").
func (x *command) showExtents(db, table string) (model.Result, error) {
	c := x.c
	var filters []tagFilter
	if ok, err := c.accept("where"); err != nil {
		return model.Result{}, err
	} else if ok {
		for {
			if err := c.expect("tags"); err != nil {
				return model.Result{}, err
			}
			op := strings.ToLower(c.tok.Text)
			switch op {
			case "has", "!has", "contains", "!contains":
			default:
				return model.Result{}, c.syntax("expected has, !has, contains or !contains")
			}
			if err := c.advance(); err != nil {
				return model.Result{}, err
			}
			tag, err := c.str()
			if err != nil {
				return model.Result{}, err
			}
			filters = append(filters, tagFilter{op, tag})
			if ok, err := c.accept("and"); err != nil {
				return model.Result{}, err
			} else if !ok {
				break
			}
		}
	}
	if err := x.end(true); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: extentsColumns}
	err := x.cluster.View(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
	extents:
		for _, e := range t.Extents {
			for _, f := range filters {
				if !f.match(e.Tags) {
					continue extents
				}
			}
			size := float64(extentSize(e))
			var tags any = model.DBNull
			if len(e.Tags) > 0 {
				tags = strings.Join(e.Tags, "\r\n")
			}
			res.Rows = append(res.Rows, []any{e.ID, db, t.Name, e.CreatedOn, size, size, size, 0.0,
				int64(1), int64(1), "", int64(len(e.Rows)), e.CreatedOn, tags, "StorageV3", int64(0)})
		}
		return nil
	})
	return res, err
}

// extentSize estimates an extent's original size in bytes: the length of its values as text.
func extentSize(e *model.Extent) int64 {
	var n int64
	for _, r := range e.Rows {
		for _, v := range r {
			n += int64(len(model.FormatText(v))) + 1
		}
	}
	return n
}

// showIngestionFailures runs .show ingestion failures [with (OperationId = guid)] (cursor
// past "failures").
func (x *command) showIngestionFailures() (model.Result, error) {
	props, err := x.parseWith()
	if err != nil {
		return model.Result{}, err
	}
	var only *uuid.UUID
	for k, v := range props {
		if k != "operationid" {
			return model.Result{}, model.BadRequest("BadRequest_InvalidArgument", "The property '%s' is not supported; use OperationId.", k)
		}
		id, err := uuid.Parse(v)
		if err != nil {
			return model.Result{}, model.BadRequest("BadRequest_InvalidArgument", "OperationId '%s' is not a guid.", v)
		}
		only = &id
	}
	if err := x.end(true); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: failuresColumns}
	err = x.cluster.View(func(s *model.State) error {
		for _, f := range s.Failures {
			if only != nil && f.OperationID != *only {
				continue
			}
			res.Rows = append(res.Rows, []any{f.OperationID, f.Database, f.Table, f.FailedOn, f.IngestionSourcePath,
				f.Details, f.FailureKind, f.OperationID, "DataIngestPull", false, f.ErrorCode, "", f.ShouldRetry, "", ""})
		}
		return nil
	})
	return res, err
}

// inlineProperties are the properties .ingest inline accepts, by lower-case name.
var inlineProperties = map[string]bool{
	"format": true, "ingestionmappingreference": true, "ingestionmapping": true, "ingestionmappingtype": true,
	"jsonmappingreference": true, "csvmappingreference": true, "avromappingreference": true,
	"tags": true, "ingestifnotexists": true, "ignorefirstrecord": true, "creationtime": true,
	"validationpolicy": true, "persistdetails": true,
}

// ingestCommand runs .ingest [async] inline into table T [with (…)] <| data.
func ingestCommand(x *command) (model.Result, error) {
	c := x.c
	if _, err := c.accept("async"); err != nil {
		return model.Result{}, err
	}
	if !c.is("inline") {
		return model.Result{}, c.unknownCommand()
	}
	if err := c.advance(); err != nil {
		return model.Result{}, err
	}
	if err := c.expect("into"); err != nil {
		return model.Result{}, err
	}
	if err := c.expect("table"); err != nil {
		return model.Result{}, err
	}
	db, table, err := x.tableRef()
	if err != nil {
		return model.Result{}, err
	}
	props, err := x.parseWith()
	if err != nil {
		return model.Result{}, err
	}
	if !c.isOp("<|") {
		return model.Result{}, c.syntax("expected '<|' followed by the data")
	}
	data := strings.TrimLeft(c.after(), " \t\r\n")
	for k := range props {
		if !inlineProperties[k] {
			return model.Result{}, model.BadRequest("BadRequest_InvalidArgument", "The ingestion property '%s' is not supported by the emulator.", k)
		}
	}
	req, err := inlineRequest(props)
	if err != nil {
		return model.Result{}, err
	}
	return x.ingestInline(db, table, req, []byte(data))
}

// inlineIngestion is a parsed .ingest inline request.
type inlineIngestion struct {
	spec         ingest.Spec
	tags         []string
	ifNotExists  []string
	creationTime time.Time
}

func inlineRequest(props map[string]string) (inlineIngestion, error) {
	var req inlineIngestion
	f, err := ingest.ParseFormat(props["format"])
	if err != nil {
		return req, err
	}
	req.spec = ingest.Spec{
		Format:           f,
		Mapping:          props["ingestionmapping"],
		MappingKind:      props["ingestionmappingtype"],
		MappingReference: props["ingestionmappingreference"],
		SourceLocation:   "inline",
	}
	for _, k := range []string{"jsonmappingreference", "csvmappingreference", "avromappingreference"} {
		if req.spec.MappingReference == "" {
			req.spec.MappingReference = props[k]
		}
	}
	if v, ok := props["ignorefirstrecord"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return req, model.BadRequest("BadRequest_InvalidArgument", "ignoreFirstRecord must be true or false, got '%s'.", v)
		}
		req.spec.IgnoreFirstRecord = b
	}
	if req.tags, err = stringList("tags", props["tags"]); err != nil {
		return req, err
	}
	if req.ifNotExists, err = stringList("ingestIfNotExists", props["ingestifnotexists"]); err != nil {
		return req, err
	}
	if v, ok := props["creationtime"]; ok {
		t, err := model.ParseDateTime(v)
		if err != nil {
			return req, model.BadRequest("BadRequest_InvalidArgument", "creationTime '%s' is not a datetime.", v)
		}
		req.creationTime = t
	}
	return req, nil
}

// stringList parses a property holding a JSON array of strings: tags='["a","b"]'.
func stringList(name, text string) ([]string, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	v, err := model.DecodeJSON([]byte(text))
	arr, ok := v.([]any)
	if err != nil || !ok {
		return nil, model.BadRequest("BadRequest_InvalidArgument", "The property %s must be a JSON array of strings, got '%s'.", name, text)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, model.BadRequest("BadRequest_InvalidArgument", "The property %s must be a JSON array of strings, got '%s'.", name, text)
		}
		out[i] = s
	}
	return out, nil
}

func (x *command) ingestInline(db, table string, req inlineIngestion, data []byte) (model.Result, error) {
	res := model.Result{Columns: ingestInlineColumns}
	var ingestErr *model.Error
	err := x.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		for _, tag := range req.ifNotExists {
			if t.HasTag("ingest-by:" + tag) {
				return nil // already ingested: nothing to do, as in Kusto
			}
		}
		// Inline data is small: it is parsed under the lock, so the rows fit the schema they
		// are appended to.
		plan, err := ingest.Prepare(t, req.spec)
		var rows [][]any
		if err == nil {
			rows, err = plan.Rows(data)
		}
		if err != nil {
			if !errors.As(err, &ingestErr) {
				ingestErr = model.BadRequest(ingest.CodeInvalidBlob, "%v", err)
			}
			return ingestErr
		}
		created := req.creationTime
		if created.IsZero() {
			created = now()
		}
		e := t.Append(rows, req.tags, created)
		res.Rows = append(res.Rows, []any{e.ID})
		return nil
	})
	if ingestErr != nil {
		// A failed .ingest is listed by .show ingestion failures.
		_ = x.cluster.Update(func(s *model.State) error {
			s.Failures = append(s.Failures, model.Failure{
				OperationID: uuid.New(), Database: db, Table: table, FailedOn: now(),
				IngestionSourcePath: "inline", Details: ingestErr.Detail, FailureKind: "Permanent",
				ErrorCode: ingestErr.Code, ShouldRetry: false,
			})
			return nil
		})
	}
	return res, err
}
