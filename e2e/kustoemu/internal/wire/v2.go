package wire

import (
	"fmt"
	"io"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// fragmentRows is the most rows one TableFragment frame carries.
const fragmentRows = 1000

// visualization is the Value of the "Visualization" row of the @ExtendedProperties table: the
// render properties of a primary result, all unset since the emulator has no render operator.
// Kusto sends it as a JSON-encoded string in the dynamic Value column.
const visualization = `{"Visualization":null,"Title":null,"XColumn":null,"Series":null,"YColumns":null,` +
	`"AnomalyColumns":null,"XTitle":null,"YTitle":null,"XAxis":null,"YAxis":null,"Legend":null,` +
	`"YSplit":null,"Accumulate":false,"IsQuerySorted":false,"Kind":null,"Ymin":"NaN","Ymax":"NaN",` +
	`"Xmin":null,"Xmax":null}`

var queryPropertiesColumns = []model.Column{
	{Name: "TableId", Type: model.Int},
	{Name: "Key", Type: model.String},
	{Name: "Value", Type: model.Dynamic},
}

// completionColumns are the columns of Kusto's QueryCompletionInformation table.
var completionColumns = []model.Column{
	{Name: "Timestamp", Type: model.DateTime},
	{Name: "ClientRequestId", Type: model.String},
	{Name: "ActivityId", Type: model.GUID},
	{Name: "SubActivityId", Type: model.GUID},
	{Name: "ParentActivityId", Type: model.GUID},
	{Name: "Level", Type: model.Int},
	{Name: "LevelName", Type: model.String},
	{Name: "StatusCode", Type: model.Int},
	{Name: "StatusCodeName", Type: model.String},
	{Name: "EventType", Type: model.Int},
	{Name: "EventTypeName", Type: model.String},
	{Name: "Payload", Type: model.String},
}

// WriteV2 writes the fragmented v2 frame sequence of §2.6 (DataSetHeader, QueryProperties
// DataTable, per table TableHeader/TableFragment(s)/TableCompletion, QueryCompletionInformation,
// DataSetCompletion), one frame per line, exact property order. The completion information
// carries no client request id; [WriteV2Request] fills it in.
func WriteV2(w io.Writer, tables []model.Result) error {
	return WriteV2Request(w, tables, "")
}

// WriteV2Request is [WriteV2] for a request with the given client request id, which Kusto echoes
// in the ClientRequestId column of the QueryCompletionInformation table.
func WriteV2Request(w io.Writer, tables []model.Result, clientRequestID string) error {
	return writeV2(w, tables, clientRequestID, true)
}

// WriteV2Unfragmented writes the v2 data set Kusto sends to a query that did not ask for
// fragmented primary tables (results_v2_fragment_primary_tables), as the Python, Java and
// Node.js SDKs and the Go SDK's RawV2 do: every table, primary ones included, is one DataTable
// frame, and the header says IsFragmented false with errors reported in the data.
func WriteV2Unfragmented(w io.Writer, tables []model.Result, clientRequestID string) error {
	return writeV2(w, tables, clientRequestID, false)
}

func writeV2(w io.Writer, tables []model.Result, clientRequestID string, fragmented bool) error {
	jw := newJSONWriter(w)
	if fragmented {
		jw.raw(`[{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0","IsFragmented":true,"ErrorReportingPlacement":"EndOfTable"}` + "\n")
	} else {
		jw.raw(`[{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0","IsFragmented":false,"ErrorReportingPlacement":"InData"}` + "\n")
	}

	props := make([][]any, len(tables))
	for i := range tables {
		props[i] = []any{int32(i + 1), "Visualization", visualization}
	}
	writeDataTable(jw, 0, "QueryProperties", "@ExtendedProperties", queryPropertiesColumns, props)

	for i, t := range tables {
		id := int64(i + 1)
		name := t.Name
		if name == "" {
			name = "PrimaryResult"
		}
		if !fragmented {
			writeDataTable(jw, id, "PrimaryResult", name, t.Columns, t.Rows)
			continue
		}
		jw.raw(`,{"FrameType":"TableHeader","TableId":`)
		jw.int(id)
		jw.raw(`,"TableKind":"PrimaryResult","TableName":`)
		jw.str(name)
		jw.raw(`,"Columns":`)
		jw.columns(t.Columns, false)
		jw.raw("}\n")
		for start := 0; start < len(t.Rows); start += fragmentRows {
			end := min(start+fragmentRows, len(t.Rows))
			jw.raw(`,{"FrameType":"TableFragment","TableFragmentType":"DataAppend","TableId":`)
			jw.int(id)
			jw.raw(`,"Rows":`)
			jw.rows(t.Columns, t.Rows[start:end])
			jw.raw("}\n")
		}
		jw.raw(`,{"FrameType":"TableCompletion","TableId":`)
		jw.int(id)
		jw.raw(`,"RowCount":`)
		jw.int(int64(len(t.Rows)))
		jw.raw("}\n")
	}

	now := clock().UTC()
	activity, sub := newID(), newID()
	info := func(eventType int32, eventName, payload string) []any {
		return []any{now, clientRequestID, activity, sub, activity, int32(4), "Info", int32(0), "S_OK (0)", eventType, eventName, payload}
	}
	completion := [][]any{
		info(4, "QueryInfo", `{"Count":1,"Text":"Query completed successfully"}`),
		info(5, "WorkloadGroup", `{"Count":1,"Text":"default"}`),
	}
	writeDataTable(jw, int64(len(tables)+1), "QueryCompletionInformation", "QueryCompletionInformation", completionColumns, completion)

	jw.raw(`,{"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false}` + "\n]\n")
	if err := jw.flush(); err != nil {
		return fmt.Errorf("writing v2 response: %w", err)
	}
	return nil
}

// writeDataTable writes a non-fragmented secondary table frame (not the first frame).
func writeDataTable(jw *jsonWriter, id int64, kind, name string, cols []model.Column, rows [][]any) {
	jw.raw(`,{"FrameType":"DataTable","TableId":`)
	jw.int(id)
	jw.raw(`,"TableKind":`)
	jw.str(kind)
	jw.raw(`,"TableName":`)
	jw.str(name)
	jw.raw(`,"Columns":`)
	jw.columns(cols, false)
	jw.raw(`,"Rows":`)
	jw.rows(cols, rows)
	jw.raw("}\n")
}
