package nodesdk

import (
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

// sdkVersion is the azure-kusto-data version pinned in package.json and package-lock.json.
const sdkVersion = "7.0.4"

const database = "NodeSdk"

// typesColumns are the columns of check.mjs's table, as the SDK must report them.
var typesColumns = []string{
	"s:string", "i:int", "l:long", "r:real", "b:bool", "dt:datetime", "ts:timespan", "g:guid", "d:decimal", "dyn:dynamic",
}

// ingestedRows are check.mjs's rows as the SDK must decode them, by the string column. Each
// value is what was ingested in the form Kusto sends it back: guids in lower case, timespans in
// .NET "c" format with 7 fractional digits, reals that are not finite as strings.
var ingestedRows = map[string][]want{
	"alpha": {
		wantString("alpha"), wantNumber("1"), wantNumber("9007199254740993"), wantNumber("0.5"), wantBool(true),
		wantDateTime("2024-01-02T03:04:05.1234567Z"), wantTimeSpan("1.02:03:04.5000000", false, 1, 2, 3, 4.5),
		wantString("0b8e3f4c-1d2a-4b5c-9e6f-7a8b9c0d1e2f"), wantString("2.00000000000001"),
		wantDynamic(`{"a":{"b":[1,2],"c":"x"}}`),
	},
	"beta": {
		wantString("beta"), wantNumber("-2147483648"), wantNumber("-9223372036854775808"), wantString("NaN"), wantBool(false),
		wantDateTime("1970-01-01T00:00:00Z"), wantTimeSpan("-00:00:01", true, 0, 0, 0, 1),
		wantString("6f9619ff-8b86-d011-b42d-00c04fc964ff"), wantString("-0.1"),
		wantDynamic(`[1,"two",null,{"k":true},2.5]`),
	},
	"gamma": {
		wantString("gamma"), wantNumber("2147483647"), wantNumber("9223372036854775807"), wantString("Infinity"), wantBool(true),
		wantDateTime("0001-01-01T00:00:00Z"), wantTimeSpan("00:00:00", false, 0, 0, 0, 0),
		wantString("00000000-0000-0000-0000-000000000000"), wantString("79228162514264337593543950335"),
		wantDynamic(`{"q":"he said \"hi\", twice","u":"é✓","n":-1.5e300,"z":null}`),
	},
	"delta": {
		wantString("delta"), wantNumber("0"), wantNumber("42"), wantString("-Infinity"), wantBool(false),
		wantDateTime("9999-12-31T23:59:59.9999999Z"), wantTimeSpan("100000.23:59:59.9999999", false, 100000, 23, 59, 59.9999999),
		wantString("ffffffff-ffff-ffff-ffff-ffffffffffff"), wantString("0"),
		wantDynamic(`{}`),
	},
	"epsilon": {
		wantString("epsilon"), wantNumber("7"), wantNumber("-1"), wantNumber("2.5e-10"), wantBool(true),
		wantDateTime("2000-02-29T12:00:00.5Z"), wantTimeSpan("-3.04:05:06.0070000", true, 3, 4, 5, 6.007),
		wantString("12345678-9abc-def0-1234-56789abcdef0"), wantString("123456789.123456789"),
		wantDynamic(`[]`),
	},
	"zeta": {
		wantString("zeta"), wantNumber("-7"), wantNumber("1"), wantNumber("1e300"), wantBool(false),
		wantDateTime("2024-06-30T23:59:59.999Z"), wantTimeSpan("00:00:00.0000001", false, 0, 0, 0, 1e-7),
		wantString("a0a0a0a0-b1b1-c2c2-d3d3-e4e4e4e4e4e4"), wantString("-123.45"),
		wantDynamic(`[[],{"x":[{"y":"z"}]}]`),
	},
	// Empty fields: null in every column but the string one, which is "" (never null in Kusto).
	"": {
		wantString(""), wantNull(), wantNull(), wantNull(), wantNull(), wantNull(), wantNull(), wantNull(), wantNull(), wantNull(),
	},
}

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestNodeSDK runs check.mjs with the Node.js SDK against the emulator and checks, step by step,
// what the SDK returned: result shapes, column types and every value, and for failing requests
// the error it threw with the Kusto error code. Every step of the report must be checked here.
func TestNodeSDK(t *testing.T) {
	node := requireNode(t)
	modules := installSDK(t)
	emu, err := kustoemu.Start(kustoemu.Options{
		Databases: []string{database},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("starting the emulator: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })

	rep := runCheck(t, node, modules, emu.EngineURL(), database)
	if rep.SDK.Version != sdkVersion {
		t.Errorf("check.mjs ran azure-kusto-data %q, want the pinned %s", rep.SDK.Version, sdkVersion)
	}
	t.Logf("node %s, azure-kusto-data %s", rep.Node, rep.SDK.Version)

	checks := map[string]func(t *testing.T, s stepReport){
		"drop":                    checkDrop,
		"create":                  checkCreate,
		"show-tables":             checkShowTables,
		"ingest":                  checkIngest,
		"show-cslschema":          checkCslSchema,
		"show-version":            checkShowVersion,
		"show-databases":          checkShowDatabases,
		"show-extents":            checkShowExtents,
		"show-schema-json":        checkSchemaJSON,
		"show-streaming-policy":   checkOneRow("PolicyName", "EntityName", "Policy", "ChildEntities", "EntityType"),
		"show-ingestion-failures": checkNoFailures,
		"take":                    checkTakeV2,
		"take-v1":                 checkTakeV1,
		"count":                   checkCount,
		"summarize":               checkSummarize,
		"project":                 checkProject,
		"where-dynamic":           checkNames("s", "alpha", "gamma"),
		"empty":                   checkEmpty,
		"param-long":              checkNames("s", "epsilon", "gamma"),
		"param-string":            checkParamString,
		"param-datetime":          checkNames("s", "alpha", "delta", "epsilon", "zeta"),
		"timespan-range":          checkTimeSpanRange,
		"multi-v2":                checkMulti,
		"multi-v1":                checkMulti,
		"syntax-error":            checkKustoError(400, "BadRequest_SyntaxError"),
		"unknown-table":           checkKustoError(400, "General_BadRequest"),
		"unknown-database":        checkKustoError(404, "BadRequest_EntityNotFound"),
		"mgmt-unknown-table":      checkKustoError(404, "BadRequest_EntityNotFound"),
		"mgmt-unknown-command":    checkKustoError(400, "BadRequest_SyntaxError"),
	}
	seen := map[string]bool{}
	for _, s := range rep.Steps {
		seen[s.Name] = true
		check, ok := checks[s.Name]
		if !ok {
			t.Errorf("step %s of check.mjs has no check here", s.Name)
			continue
		}
		t.Run(s.Name, func(t *testing.T) { check(t, s) })
	}
	for name := range checks {
		if !seen[name] {
			t.Errorf("check.mjs did not run step %s", name)
		}
	}

	// Throttling and transient failures, as the SDK surfaces them: a 429 becomes the SDK's
	// ThrottlingError, a 503 the HTTP error with @permanent false; the next request succeeds.
	t.Run("faults", func(t *testing.T) {
		for _, f := range []kustoemu.Fault{
			{Surface: kustoemu.SurfaceQuery, Kind: kustoemu.FaultThrottle, Count: 1},
			{Surface: kustoemu.SurfaceQuery, Kind: kustoemu.FaultUnavailable, Count: 1},
		} {
			if err := emu.Faults().Inject(f); err != nil {
				t.Fatalf("injecting %s: %v", f.Kind, err)
			}
		}
		rep := runCheck(t, node, modules, emu.EngineURL(), database, "--steps=count,count,count")
		if len(rep.Steps) != 3 {
			t.Fatalf("got %d steps, want 3", len(rep.Steps))
		}
		throttled, unavailable, after := rep.Steps[0], rep.Steps[1], rep.Steps[2]
		if throttled.OK || throttled.Error == nil || !throttled.Error.Throttling || throttled.Error.Name != "ThrottlingError" {
			t.Errorf("a 429 surfaced as %s, want the SDK's ThrottlingError", describe(throttled.Error))
		} else if throttled.Error.Status != 429 || throttled.Error.Code == "" || throttled.Error.Permanent == nil || *throttled.Error.Permanent {
			t.Errorf("the ThrottlingError's response is %s, want status 429 with a Kusto code and @permanent false", describe(throttled.Error))
		}
		checkKustoErrorStatus(t, unavailable, 503, false)
		checkCount(t, after)
	})
}

func checkDrop(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "TableName:string", "DatabaseName:string")
	if names := tb.strings(t, "TableName"); len(names) != 0 {
		t.Errorf("tables left after the drop: %v", names)
	}
}

func checkCreate(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "TableName:string", "Schema:string", "DatabaseName:string", "Folder:string", "DocString:string")
	if got := tb.strings(t, "TableName"); !reflect.DeepEqual(got, []string{"NodeSdkTypes"}) {
		t.Errorf("created %v, want [NodeSdkTypes]", got)
	}
	if got := tb.strings(t, "DatabaseName"); !reflect.DeepEqual(got, []string{database}) {
		t.Errorf("database %v, want [%s]", got, database)
	}
}

func checkShowTables(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "TableName:string", "DatabaseName:string", "Folder:string", "DocString:string")
	if got := tb.strings(t, "TableName"); !reflect.DeepEqual(got, []string{"NodeSdkTypes"}) {
		t.Errorf(".show tables listed %v, want [NodeSdkTypes]", got)
	}
}

func checkIngest(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "ExtentId:guid")
	ids := tb.strings(t, "ExtentId")
	if len(ids) != 1 || !guidPattern.MatchString(ids[0]) {
		t.Errorf(".ingest inline returned extent ids %q, want one guid", ids)
	}
}

func checkCslSchema(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "TableName:string", "Schema:string", "DatabaseName:string", "Folder:string", "DocString:string")
	want := strings.ReplaceAll(strings.Join(typesColumns, ","), " ", "")
	if got := tb.strings(t, "Schema"); !reflect.DeepEqual(got, []string{want}) {
		t.Errorf("cslschema %q, want %q", got, want)
	}
}

func checkShowVersion(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "BuildVersion:string", "BuildTime:datetime", "ServiceType:string", "ProductVersion:string")
	if len(tb.Rows) != 1 {
		t.Errorf("got %d rows, want 1", len(tb.Rows))
	}
}

func checkShowDatabases(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	if got := tb.strings(t, "DatabaseName"); !reflect.DeepEqual(got, []string{database}) {
		t.Errorf(".show databases listed %v, want [%s]", got, database)
	}
}

func checkShowExtents(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	if len(tb.Rows) != 1 {
		t.Fatalf("got %d extents, want the one .ingest inline made", len(tb.Rows))
	}
	wantNumber("7").check(t, "RowCount", tb.Rows[0][tb.column(t, "RowCount")])
	if c := tb.Rows[0][tb.column(t, "MaxCreatedOn")]; c.Kind != "date" {
		t.Errorf("MaxCreatedOn decoded as %s (%s), want a date", c.Kind, c.Raw)
	}
}

// checkSchemaJSON checks `.show table T schema as json`: its Schema column is JSON text naming
// every column with its CSL type.
func checkSchemaJSON(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	schemas := tb.strings(t, "Schema")
	if len(schemas) != 1 {
		t.Fatalf("got %d schemas, want 1", len(schemas))
	}
	var schema struct {
		Name           string
		OrderedColumns []struct{ Name, CslType string }
	}
	if err := json.Unmarshal([]byte(schemas[0]), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v: %s", err, schemas[0])
	}
	var got []string
	for _, c := range schema.OrderedColumns {
		got = append(got, c.Name+":"+c.CslType)
	}
	if schema.Name != "NodeSdkTypes" || !reflect.DeepEqual(got, typesColumns) {
		t.Errorf("schema of %s: %v, want NodeSdkTypes: %v", schema.Name, got, typesColumns)
	}
}

// checkOneRow checks a single-row command result by its column names.
func checkOneRow(columns ...string) func(t *testing.T, s stepReport) {
	return func(t *testing.T, s stepReport) {
		tb := s.succeeded(t).onlyTable(t)
		var got []string
		for _, c := range tb.Columns {
			got = append(got, c.Name)
		}
		if !reflect.DeepEqual(got, columns) {
			t.Errorf("columns %v, want %v", got, columns)
		}
		if len(tb.Rows) != 1 {
			t.Errorf("got %d rows, want 1", len(tb.Rows))
		}
	}
}

func checkNoFailures(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	for _, name := range []string{"OperationId", "FailedOn", "Details", "ErrorCode"} {
		tb.column(t, name)
	}
	if len(tb.Rows) != 0 {
		t.Errorf("%d ingestion failures recorded, want none", len(tb.Rows))
	}
}

// checkTypesTable checks a result of `NodeSdkTypes | take 100`: the column types and every row.
func checkTypesTable(t *testing.T, tb tableReport) {
	t.Helper()
	tb.hasColumns(t, typesColumns...)
	if len(tb.Rows) != len(ingestedRows) {
		t.Errorf("got %d rows, want %d", len(tb.Rows), len(ingestedRows))
	}
	seen := map[string]bool{}
	for i, row := range tb.Rows {
		var key string
		if len(row) != len(typesColumns) || !decodeString(row[0], &key) {
			t.Errorf("row %d: %d cells, first %s %s", i, len(row), row[0].Kind, row[0].Value)
			continue
		}
		wantRow, ok := ingestedRows[key]
		if !ok || seen[key] {
			t.Errorf("row %d: unexpected or repeated row %q", i, key)
			continue
		}
		seen[key] = true
		for j, w := range wantRow {
			w.check(t, "row "+quote(key)+" column "+tb.Columns[j].Name, row[j])
		}
	}
}

// decodeString reads a cell the SDK decoded as a string.
func decodeString(c cellReport, out *string) bool {
	return c.Kind == "string" && json.Unmarshal(c.Value, out) == nil
}

func quote(s string) string { return `"` + s + `"` }

func checkTakeV2(t *testing.T, s stepReport) {
	res := s.succeeded(t)
	if res.Version != "2.0" {
		t.Errorf("the SDK read a v%s response, want v2.0", res.Version)
	}
	header := res.DataSetHeader
	if header == nil || header["Version"] != "v2.0" || header["IsProgressive"] != false {
		t.Errorf("DataSetHeader as the SDK read it: %v", header)
	}
	if c := res.DataSetCompletion; c == nil || c["HasErrors"] != false || c["Cancelled"] != false {
		t.Errorf("DataSetCompletion as the SDK read it: %v", c)
	}
	var kinds []string
	for _, tr := range res.Tables {
		kinds = append(kinds, tr.Kind)
	}
	if want := []string{"QueryProperties", "PrimaryResult", "QueryCompletionInformation"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("table kinds %v, want %v", kinds, want)
	}
	if res.StatusTable == nil || len(res.StatusTable.Rows) == 0 {
		t.Errorf("the SDK found no QueryCompletionInformation rows")
	}
	if res.ErrorsCount.Warnings != 0 || len(res.Warnings) != 0 {
		t.Errorf("the SDK counts warnings: %+v %q", res.ErrorsCount, res.Warnings)
	}
	checkTypesTable(t, res.onlyTable(t))
}

func checkTakeV1(t *testing.T, s stepReport) {
	res := s.succeeded(t)
	if res.Version != "1.0" {
		t.Errorf("the SDK read a v%s response, want v1.0", res.Version)
	}
	checkTypesTable(t, res.onlyTable(t))
}

func checkCount(t *testing.T, s stepReport) {
	t.Helper()
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "Count:long")
	if len(tb.Rows) != 1 {
		t.Fatalf("count returned %d rows", len(tb.Rows))
	}
	wantNumber("7").check(t, "Count", tb.Rows[0][0])
}

func checkSummarize(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "b:bool", "n:long", "latest:datetime")
	want := map[string][]want{
		"true":  {wantBool(true), wantNumber("3"), wantDateTime("2024-01-02T03:04:05.1234567Z")},
		"false": {wantBool(false), wantNumber("3"), wantDateTime("9999-12-31T23:59:59.9999999Z")},
		"null":  {wantNull(), wantNumber("1"), wantNull()},
	}
	if len(tb.Rows) != len(want) {
		t.Errorf("got %d groups, want %d", len(tb.Rows), len(want))
	}
	for _, row := range tb.Rows {
		key := string(row[0].Raw)
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected group b=%s", key)
			continue
		}
		delete(want, key)
		for j := range w {
			w[j].check(t, "group b="+key+" column "+tb.Columns[j].Name, row[j])
		}
	}
}

func checkProject(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "s:string", "l:long", "dyn:dynamic")
	if len(tb.Rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(tb.Rows))
	}
	alpha := ingestedRows["alpha"]
	for j, w := range []want{alpha[0], alpha[2], alpha[9]} {
		w.check(t, "column "+tb.Columns[j].Name, tb.Rows[0][j])
	}
}

func checkEmpty(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, typesColumns...)
	if len(tb.Rows) != 0 {
		t.Errorf("got %d rows, want none", len(tb.Rows))
	}
}

// checkNames checks a single-table result by the sorted values of a string column.
func checkNames(column string, want ...string) func(t *testing.T, s stepReport) {
	return func(t *testing.T, s stepReport) {
		tb := s.succeeded(t).onlyTable(t)
		if got := tb.strings(t, column); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %q, want %q", column, got, want)
		}
	}
}

// checkParamString: a string query parameter given as its plain text, as the Node.js, .NET and
// Python SDKs send it and as Kusto's REST documentation specifies (only parameters of types
// other than string and long are KQL literals).
func checkParamString(t *testing.T, s stepReport) {
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "s:string", "i:int")
	if len(tb.Rows) != 1 {
		t.Fatalf("got %d rows, want the beta row", len(tb.Rows))
	}
	beta := ingestedRows["beta"]
	beta[0].check(t, "s", tb.Rows[0][0])
	beta[1].check(t, "i", tb.Rows[0][1])
}

// checkTimeSpanRange: Kusto's timespan holds 100 ns ticks in 64 bits, up to
// 10675199.02:48:05.4775807. Timespans that large must come back as Kusto sends them or, where
// the emulator leaves them out, as a Kusto error; never as a frame the SDK cannot decode or as
// another value.
func checkTimeSpanRange(t *testing.T, s stepReport) {
	if !s.OK && !s.ReadFailed && s.Error != nil && s.Error.HTTP && s.Error.Status == 400 {
		checkKustoErrorStatus(t, s, 400, true)
		t.Logf("the emulator refuses timespans beyond its range: %s: %s", s.Error.Code, s.Error.KustoMessage)
		return
	}
	tb := s.succeeded(t).onlyTable(t)
	tb.hasColumns(t, "big:timespan", "neg:timespan", "max:timespan")
	if len(tb.Rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(tb.Rows))
	}
	for j, w := range []want{
		wantTimeSpan("300000.00:00:00", false, 300000, 0, 0, 0),
		wantTimeSpan("-300000.00:00:00", true, 300000, 0, 0, 0),
		wantTimeSpan("10675199.02:48:05.4775807", false, 10675199, 2, 48, 5.4775807),
	} {
		w.check(t, "column "+tb.Columns[j].Name, tb.Rows[0][j])
	}
}

func checkMulti(t *testing.T, s stepReport) {
	res := s.succeeded(t)
	if len(res.Primary) != 2 {
		t.Fatalf("got %d primary results, want 2", len(res.Primary))
	}
	count, alpha := res.Primary[0], res.Primary[1]
	count.hasColumns(t, "Count:long")
	if len(count.Rows) != 1 {
		t.Fatalf("count returned %d rows", len(count.Rows))
	}
	wantNumber("7").check(t, "Count", count.Rows[0][0])
	alpha.hasColumns(t, "s:string", "i:int")
	if len(alpha.Rows) != 1 {
		t.Fatalf("second result has %d rows, want 1", len(alpha.Rows))
	}
	wantString("alpha").check(t, "s", alpha.Rows[0][0])
	wantNumber("1").check(t, "i", alpha.Rows[0][1])
}

// checkKustoError checks that the SDK threw its HTTP error for the request, carrying the status
// and the parsed OneApiError body with the Kusto error code.
func checkKustoError(status int, code string) func(t *testing.T, s stepReport) {
	return func(t *testing.T, s stepReport) {
		checkKustoErrorStatus(t, s, status, true)
		if s.Error != nil && s.Error.Code != code {
			t.Errorf("error code %q, want %q (%s)", s.Error.Code, code, s.Error.KustoMessage)
		}
	}
}

func checkKustoErrorStatus(t *testing.T, s stepReport, status int, permanent bool) {
	t.Helper()
	e := s.Error
	switch {
	case s.OK:
		t.Fatalf("step %s succeeded, want an error", s.Name)
	case s.ReadFailed:
		t.Fatalf("step %s: the SDK threw while reading a successful response: %s", s.Name, describe(e))
	case e == nil || !e.HTTP:
		t.Fatalf("step %s: the SDK threw a non-HTTP error: %s", s.Name, describe(e))
	}
	if e.Status != status {
		t.Errorf("HTTP status %d, want %d", e.Status, status)
	}
	if e.BodyKind != "object" || e.Code == "" || e.KustoMessage == "" {
		t.Errorf("the SDK did not parse a OneApiError body: %s", describe(e))
	}
	if e.Permanent == nil || *e.Permanent != permanent {
		t.Errorf("@permanent = %v, want %v", e.Permanent, permanent)
	}
	if !strings.HasPrefix(e.ClientRequestID, "KNC.execute;") {
		t.Errorf("@context.clientRequestId = %q, want the SDK's request id (KNC.execute;…)", e.ClientRequestID)
	}
}
