package kustoemu

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/wire"
)

// fragmentedRequested reports whether a query asked for fragmented primary tables
// (results_v2_fragment_primary_tables), as the Go SDK's Query and IterativeQuery do. Other
// clients (Python, Java, Node, the Go SDK's RawV2) do not, and Kusto answers them with one
// DataTable frame per table.
func fragmentedRequested(options map[string]any) bool {
	switch v := options["results_v2_fragment_primary_tables"].(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// writeV2Unfragmented writes a v2 data set with every table as one DataTable frame:
// DataSetHeader (IsFragmented false), the QueryProperties table, each primary table, the
// QueryCompletionInformation table, DataSetCompletion. It re-frames wire's fragmented encoding
// (one frame per line, §2.6), so values are encoded exactly as in fragmented answers.
func writeV2Unfragmented(w io.Writer, tables []model.Result, clientRequestID string) error {
	var frag bytes.Buffer
	if err := wire.WriteV2Request(&frag, tables, clientRequestID); err != nil {
		return err
	}
	out := bufio.NewWriterSize(w, 64<<10)
	var open struct {
		header []byte // `{"FrameType":"DataTable","TableId":…,"Columns":[…]`
		rows   [][]byte
	}
	for _, line := range bytes.Split(frag.Bytes(), []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == ']' {
			continue
		}
		if line[0] == '[' || line[0] == ',' {
			line = line[1:]
		}
		var f struct {
			FrameType string
			TableID   json.RawMessage `json:"TableId"`
			TableKind json.RawMessage
			TableName json.RawMessage
			Columns   json.RawMessage
			Rows      json.RawMessage
		}
		if err := json.Unmarshal(line, &f); err != nil {
			return fmt.Errorf("re-framing the v2 answer: %w", err)
		}
		switch f.FrameType {
		case "DataSetHeader":
			_, _ = out.WriteString(`[{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0","IsFragmented":false,"ErrorReportingPlacement":"InData"}` + "\n")
		case "TableHeader":
			open.header = fmt.Appendf(nil, `{"FrameType":"DataTable","TableId":%s,"TableKind":%s,"TableName":%s,"Columns":%s`, f.TableID, f.TableKind, f.TableName, f.Columns)
			open.rows = open.rows[:0]
		case "TableFragment":
			if rows := bytes.TrimSpace(f.Rows); len(rows) > 2 {
				open.rows = append(open.rows, rows[1:len(rows)-1])
			}
		case "TableCompletion":
			_, _ = out.WriteString(",")
			_, _ = out.Write(open.header)
			_, _ = out.WriteString(`,"Rows":[`)
			_, _ = out.Write(bytes.Join(open.rows, []byte(",")))
			_, _ = out.WriteString("]}\n")
		default: // DataTable (QueryProperties, QueryCompletionInformation), DataSetCompletion
			_, _ = out.WriteString(",")
			_, _ = out.Write(line)
			_, _ = out.WriteString("\n")
		}
	}
	_, _ = out.WriteString("]\n")
	return out.Flush()
}
