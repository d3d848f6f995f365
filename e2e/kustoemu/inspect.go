package kustoemu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// Table is one table of a command or query result.
type Table struct {
	Name    string
	Columns []Column
	// Rows hold one value per column: string, int32 (int), int64 (long), float64 (real), bool,
	// time.Time (datetime), time.Duration (timespan), uuid.UUID (guid), decimal.Decimal
	// (decimal), a JSON value (dynamic: map[string]any, []any, string, json.Number, bool), or nil.
	Rows [][]any
}

// Column is a result column and its Kusto type name (string, long, datetime …).
type Column struct {
	Name string
	Type string
}

// Error is a Kusto error as the emulator reports it.
type Error struct {
	Status    int    // HTTP status
	Code      string // e.g. BadRequest_SyntaxError
	Message   string
	Permanent bool
}

// Error returns the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// IngestionFailure is one entry of `.show ingestion failures`.
type IngestionFailure struct {
	OperationID uuid.UUID
	Database    string
	Table       string
	FailedOn    time.Time
	Source      string // the blob URL without its SAS
	Details     string
	Permanent   bool
	ErrorCode   string
}

// Mgmt runs a management command (as POST /v1/rest/mgmt does) against database db.
func (e *Emulator) Mgmt(ctx context.Context, db, csl string) ([]Table, error) {
	res, err := e.execMgmt(ctx, e.dbOrDefault(db), csl)
	if err != nil {
		return nil, publicError(err)
	}
	return publicTables(res), nil
}

// Query runs a query (as POST /v2/rest/query does) against database db.
func (e *Emulator) Query(ctx context.Context, db, csl string) ([]Table, error) {
	res, err := kql.Query(ctx, e.cluster, e.dbOrDefault(db), csl, nil)
	if err != nil {
		return nil, publicError(err)
	}
	return publicTables(res), nil
}

// Rows returns every row of a table as column name → value (types as in Table.Rows), in the
// order the rows were ingested.
func (e *Emulator) Rows(db, table string) ([]map[string]any, error) {
	var out []map[string]any
	err := e.cluster.View(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		for _, r := range t.Rows() {
			m := make(map[string]any, len(t.Columns))
			for i, c := range t.Columns {
				m[c.Name] = r[i]
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, publicError(err)
	}
	return out, nil
}

// Failures returns the recorded ingestion failures, oldest first.
func (e *Emulator) Failures() []IngestionFailure {
	var out []IngestionFailure
	_ = e.cluster.View(func(s *model.State) error {
		for _, f := range s.Failures {
			out = append(out, IngestionFailure{OperationID: f.OperationID, Database: f.Database, Table: f.Table, FailedOn: f.FailedOn,
				Source: f.IngestionSourcePath, Details: f.Details, Permanent: f.FailureKind == "Permanent", ErrorCode: f.ErrorCode})
		}
		return nil
	})
	return out
}

func (e *Emulator) dbOrDefault(db string) string {
	if db == "" {
		return e.opts.Databases[0]
	}
	return db
}

func publicTables(res []model.Result) []Table {
	out := make([]Table, len(res))
	for i, r := range res {
		t := Table{Name: r.Name, Columns: make([]Column, len(r.Columns)), Rows: make([][]any, len(r.Rows))}
		for j, c := range r.Columns {
			t.Columns[j] = Column{Name: c.Name, Type: string(c.Type)}
		}
		for j, row := range r.Rows {
			vals := make([]any, len(row))
			for k, v := range row {
				if v != model.DBNull {
					vals[k] = v
				}
			}
			t.Rows[j] = vals
		}
		out[i] = t
	}
	return out
}

func publicError(err error) error {
	var me *model.Error
	if errors.As(err, &me) {
		return &Error{Status: me.Status, Code: me.Code, Message: me.Detail, Permanent: me.Permanent}
	}
	return fmt.Errorf("kusto emulator: %w", err)
}
