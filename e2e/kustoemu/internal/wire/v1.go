package wire

import (
	"fmt"
	"io"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// tocColumns are the columns of the table of contents that closes a v1 response of several
// tables; the SDKs take the rows of kind QueryResult as the primary results.
var tocColumns = []model.Column{
	{Name: "Ordinal", Type: model.Long},
	{Name: "Kind", Type: model.String},
	{Name: "Name", Type: model.String},
	{Name: "Id", Type: model.String},
	{Name: "PrettyName", Type: model.String},
}

// WriteV1 writes a v1 response (management commands): {"Tables":[...]} — one table as is; with
// several tables, a table of contents last as §2.5 of the wire spec describes. Tables are named
// Table_0, Table_1 … as Kusto names them; every column carries DataType and ColumnType.
func WriteV1(w io.Writer, tables []model.Result) error {
	jw := newJSONWriter(w)
	jw.raw(`{"Tables":[`)
	for i, t := range tables {
		if i > 0 {
			jw.raw(",")
		}
		writeV1Table(jw, fmt.Sprintf("Table_%d", i), t.Columns, t.Rows)
	}
	if len(tables) > 1 {
		toc := make([][]any, len(tables))
		for i, t := range tables {
			name := t.Name
			if name == "" {
				name = "PrimaryResult"
			}
			toc[i] = []any{int64(i), "QueryResult", name, newID().String(), ""}
		}
		jw.raw(",")
		writeV1Table(jw, fmt.Sprintf("Table_%d", len(tables)), tocColumns, toc)
	}
	jw.raw("]}")
	if err := jw.flush(); err != nil {
		return fmt.Errorf("writing v1 response: %w", err)
	}
	return nil
}

func writeV1Table(jw *jsonWriter, name string, cols []model.Column, rows [][]any) {
	jw.raw(`{"TableName":`)
	jw.str(name)
	jw.raw(`,"Columns":`)
	jw.columns(cols, true)
	jw.raw(`,"Rows":`)
	jw.rows(cols, rows)
	jw.raw("}")
}
