package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

var testNow = time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)

func newCluster(t testing.TB) *model.Cluster {
	t.Helper()
	old := now
	now = func() time.Time { return testNow }
	t.Cleanup(func() { now = old })
	return model.NewCluster("db", "other")
}

// run executes commands in order and returns the last result as "col:type,…" and JSON rows.
func run(t *testing.T, c *model.Cluster, cmds ...string) (string, []string) {
	t.Helper()
	var last model.Result
	for _, cmd := range cmds {
		res, err := Execute(context.Background(), c, "db", cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if len(res) != 1 {
			t.Fatalf("%s: %d results", cmd, len(res))
		}
		last = res[0]
	}
	return render(last)
}

func render(r model.Result) (string, []string) {
	cols := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		cols[i] = c.Name + ":" + string(c.Type)
	}
	rows := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = model.FormatJSON(r.Columns[j].Type, v)
		}
		b, _ := json.Marshal(vals)
		rows[i] = string(b)
	}
	return strings.Join(cols, ","), rows
}

// fail executes a command that must fail and returns its error.
func fail(t *testing.T, c *model.Cluster, cmd string) *model.Error {
	t.Helper()
	_, err := Execute(context.Background(), c, "db", cmd)
	var me *model.Error
	if !errors.As(err, &me) {
		t.Fatalf("%s: error %v (%T), want a *model.Error", cmd, err, err)
	}
	return me
}

func expectRows(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestResultSchemas(t *testing.T) {
	for _, cols := range [][]model.Column{versionColumns, databasesColumns, tablesColumns, tableSchemaColumns, dropTableColumns,
		clearTableColumns, mappingColumns, policyColumns, failuresColumns, extentsColumns, ingestInlineColumns} {
		for _, c := range cols {
			if _, ok := model.ParseType(string(c.Type)); !ok || c.Name == "" {
				t.Errorf("bad result column %+v", c)
			}
		}
	}
}

func TestShowVersionAndDatabases(t *testing.T) {
	c := newCluster(t)
	cols, rows := run(t, c, ".show version")
	if cols != "BuildVersion:string,BuildTime:datetime,ServiceType:string,ProductVersion:string" || len(rows) != 1 {
		t.Fatalf("%s %v", cols, rows)
	}
	cols, rows = run(t, c, ".show databases")
	if cols != "DatabaseName:string,PersistentStorage:string,Version:string,IsCurrent:bool,DatabaseAccessMode:string,PrettyName:string,ReservedSlot1:bool,DatabaseId:guid,InTransitionTo:string" {
		t.Fatalf("columns %s", cols)
	}
	id := databaseID("db").String()
	expectRows(t, rows,
		`["db","","v1.0",true,"ReadWrite",null,null,"`+id+`",null]`,
		`["other","","v1.0",false,"ReadWrite",null,null,"`+databaseID("other").String()+`",null]`)
	_, rows = run(t, c, ".show database")
	expectRows(t, rows, `["db","","v1.0",true,"ReadWrite",null,null,"`+id+`",null]`)
}

func TestTableLifecycle(t *testing.T) {
	c := newCluster(t)
	schemaJSON := `{"Name":"T","OrderedColumns":[{"Name":"a","Type":"System.String","CslType":"string"},{"Name":"b","Type":"System.Int64","CslType":"long"}]}`
	cols, rows := run(t, c, ".create table T (a:string, b:long) with (docstring = 'the doc', folder = 'f')")
	if cols != "TableName:string,Schema:string,DatabaseName:string,Folder:string,DocString:string" {
		t.Fatalf("columns %s", cols)
	}
	wantRow, _ := json.Marshal([]any{"T", schemaJSON, "db", "f", "the doc"})
	expectRows(t, rows, string(wantRow))

	// .create is idempotent for the same schema, an error for another.
	run(t, c, ".create table T (a:string, b:long)")
	if e := fail(t, c, ".create table T (a:string)"); e.Code != "BadRequest_EntityAlreadyExists" {
		t.Fatalf("create with another schema: %v", e)
	}

	_, rows = run(t, c, ".create-merge table T (b:long, c:dynamic)", ".show table T cslschema")
	expectRows(t, rows, `["T","a:string,b:long,c:dynamic","db","f","the doc"]`)
	if e := fail(t, c, ".create-merge table T (b:string)"); e.Status != 400 || !strings.Contains(e.Detail, "cannot be merged") {
		t.Fatalf("type change: %v", e)
	}
	_, rows = run(t, c, ".alter-merge table T (['d e']:bool) with (folder='g')", ".show table T cslschema")
	expectRows(t, rows, `["T","a:string,b:long,c:dynamic,['d e']:bool","db","g","the doc"]`)
	if e := fail(t, c, ".alter-merge table Nope (a:string)"); e.Status != 404 {
		t.Fatalf("alter-merge of a missing table: %v", e)
	}

	// Bracketed and quoted names as the Java sink and Telegraf write them.
	_, rows = run(t, c, `.create-merge table ['Tele graf'] (['fields']:dynamic, ["name"]:string)`, `.show table ["Tele graf"] schema as json`)
	if !strings.Contains(rows[0], `Tele graf`) || !strings.Contains(rows[0], `fields`) {
		t.Fatalf("schema = %v", rows)
	}
	_, rows = run(t, c, ".show table db.T cslschema")
	if !strings.Contains(rows[0], `"a:string`) {
		t.Fatalf("db-qualified: %v", rows)
	}
	_, rows = run(t, c, ".show tables")
	expectRows(t, rows, `["T","db","g","the doc"]`, `["Tele graf","db","",""]`)
	_, rows = run(t, c, ".show tables (T)")
	expectRows(t, rows, `["T","db","g","the doc"]`)

	_, rows = run(t, c, ".ingest inline into table T <| x,1,,true", ".clear table T data")
	expectRows(t, rows, `["Success"]`)
	if err := c.View(func(s *model.State) error {
		if n := s.Databases["db"].Tables["T"].RowCount(); n != 0 {
			t.Errorf("rows after clear: %d", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	cols, rows = run(t, c, ".drop table T")
	if cols != "TableName:string,DatabaseName:string" {
		t.Fatalf("columns %s", cols)
	}
	expectRows(t, rows, `["Tele graf","db"]`)
	if e := fail(t, c, ".drop table T"); e.Status != 404 {
		t.Fatalf("dropping a missing table: %v", e)
	}
	run(t, c, ".drop table T ifexists")
}

func TestTableCommandErrors(t *testing.T) {
	c := newCluster(t)
	run(t, c, ".create table T (a:string)")
	for cmd, code := range map[string]string{
		".create table X (a:strin)":                   "BadRequest_SyntaxError",
		".create table X ()":                          "BadRequest_SyntaxError",
		".create table X (a:string, a:long)":          "BadRequest_DuplicateColumnName",
		".create table ['a/b'] (a:string)":            "BadRequest_InvalidEntityName",
		".create table X (a:string) with (owner='x')": "BadRequest_InvalidArgument",
		".show table Nope cslschema":                  "BadRequest_EntityNotFound",
		".drop table T extra":                         "BadRequest_SyntaxError",
		".create table":                               "BadRequest_SyntaxError",
	} {
		if e := fail(t, c, cmd); e.Code != code {
			t.Errorf("%s: got %s (%s), want %s", cmd, e.Code, e.Detail, code)
		}
	}
}

func TestUnknownCommands(t *testing.T) {
	c := newCluster(t)
	for _, cmd := range []string{".show principal roles", ".foo", "show tables", ".show table", ".alter table T docstring 'x'",
		".get ingestion resources", ".show tables extra", ".create tables A (a:string)", ".ingest into table T (h'x')"} {
		e := fail(t, c, cmd)
		if e.Code != "BadRequest_SyntaxError" || e.Status != 400 {
			t.Errorf("%s: %s %d %s", cmd, e.Code, e.Status, e.Detail)
		}
	}
}

func TestMappings(t *testing.T) {
	c := newCluster(t)
	run(t, c, ".create table T (a:string, b:long)")
	mapping := `[{"column":"a","Properties":{"Path":"$.a"}}]`
	cols, rows := run(t, c, ".create table T ingestion json mapping 'm1' '"+mapping+"'")
	if cols != "Name:string,Kind:string,Mapping:string,LastUpdatedOn:datetime,Database:string,Table:string" {
		t.Fatalf("columns %s", cols)
	}
	row, _ := json.Marshal([]any{"m1", "Json", mapping, "2024-02-03T04:05:06Z", "db", "T"})
	expectRows(t, rows, string(row))
	if e := fail(t, c, ".create table T ingestion json mapping 'm1' '"+mapping+"'"); e.Code != "BadRequest_EntityAlreadyExists" {
		t.Fatalf("duplicate create: %v", e)
	}
	// The documentation's form: the mapping written as several string literals; and the
	// Telegraf form with \' inside a single-quoted string.
	run(t, c, `.create-or-alter table T ingestion json mapping 'm1'
'['
'  {"column":"b","Properties":{"Path":"$[\'b\']"}}'
']'`)
	run(t, c, ".create table T ingestion csv mapping \"c1\" '[{\"column\":\"a\",\"Properties\":{\"Ordinal\":\"0\"}}]'")
	_, rows = run(t, c, ".show table T ingestion mappings")
	if len(rows) != 2 || !strings.Contains(rows[0], `$['b']`) || !strings.Contains(rows[1], `"Csv"`) {
		t.Fatalf("mappings = %v", rows)
	}
	_, rows = run(t, c, ".show table T ingestion csv mappings")
	if len(rows) != 1 {
		t.Fatalf("csv mappings = %v", rows)
	}
	_, rows = run(t, c, ".show table T ingestion json mapping 'm1'")
	if len(rows) != 1 {
		t.Fatalf("one mapping = %v", rows)
	}
	if e := fail(t, c, ".show table T ingestion json mapping 'nope'"); e.Status != 404 {
		t.Fatalf("missing mapping: %v", e)
	}
	if e := fail(t, c, ".alter table T ingestion json mapping 'nope' '"+mapping+"'"); e.Status != 404 {
		t.Fatalf("alter of a missing mapping: %v", e)
	}
	if e := fail(t, c, ".create table T ingestion json mapping 'bad' '[{\"column\":\"a\"'"); e.Code != "BadRequest_InvalidMapping" {
		t.Fatalf("invalid mapping JSON: %v", e)
	}
	if e := fail(t, c, ".create table T ingestion xml mapping 'x' '[]'"); e.Code != "BadRequest_SyntaxError" {
		t.Fatalf("unknown kind: %v", e)
	}
	_, rows = run(t, c, ".drop table T ingestion json mapping 'm1'")
	if len(rows) != 1 || !strings.Contains(rows[0], `"c1"`) {
		t.Fatalf("after drop = %v", rows)
	}
	if e := fail(t, c, ".drop table T ingestion json mapping 'm1'"); e.Status != 404 {
		t.Fatalf("second drop: %v", e)
	}
}

func TestPolicies(t *testing.T) {
	c := newCluster(t)
	run(t, c, ".create table T (a:string)", ".create table U (a:string)")
	cols, rows := run(t, c, ".show table T policy streamingingestion")
	if cols != "PolicyName:string,EntityName:string,Policy:string,ChildEntities:string,EntityType:string" {
		t.Fatalf("columns %s", cols)
	}
	// An unset policy is null, not an empty string (the Java sink tests for null).
	expectRows(t, rows, `["StreamingIngestionPolicy","[db].[T]",null,"","Table"]`)

	enabled := "{\n  \"IsEnabled\": true,\n  \"HintAllocatedRate\": null\n}"
	row, _ := json.Marshal([]any{"StreamingIngestionPolicy", "[db].[T]", enabled, "", "Table"})
	_, rows = run(t, c, ".alter table T policy streamingingestion enable")
	expectRows(t, rows, string(row))
	_, rows = run(t, c, ".alter table T policy streamingingestion disable", `.alter table T policy streamingingestion '{"IsEnabled": true}'`, ".show table T policy streamingingestion")
	expectRows(t, rows, string(row))
	if e := fail(t, c, `.alter table T policy streamingingestion '{"HintAllocatedRate": 1}'`); e.Code != "BadRequest_InvalidArgument" {
		t.Fatalf("policy without IsEnabled: %v", e)
	}

	_, rows = run(t, c, ".alter database db policy streamingingestion enable", ".show database db policy streamingingestion")
	dbRow, _ := json.Marshal([]any{"StreamingIngestionPolicy", "[db]", enabled, `["T","U"]`, "Database"})
	expectRows(t, rows, string(dbRow))
	if err := c.View(func(s *model.State) error {
		d := s.Databases["db"]
		if !d.StreamingEnabled(d.Tables["U"]) {
			t.Error("database policy does not enable streaming on U")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if e := fail(t, c, ".alter database nope policy streamingingestion enable"); e.Status != 404 {
		t.Fatalf("unknown database: %v", e)
	}

	_, rows = run(t, c, `.alter table T policy ingestionbatching '{"MaximumBatchingTimeSpan":"00:00:10", "MaximumNumberOfItems": 20}'`)
	batching := "{\n  \"MaximumBatchingTimeSpan\": \"00:00:10\",\n  \"MaximumNumberOfItems\": 20,\n  \"MaximumRawDataSizeMB\": 1024\n}"
	row, _ = json.Marshal([]any{"IngestionBatchingPolicy", "[db].[T]", batching, "", "Table"})
	expectRows(t, rows, string(row))
	_, rows = run(t, c, `.alter-merge table T policy ingestionbatching @'{"MaximumRawDataSizeMB": 300}'`, ".show table T policy ingestionbatching")
	if !strings.Contains(rows[0], `\"MaximumNumberOfItems\": 20`) || !strings.Contains(rows[0], `\"MaximumRawDataSizeMB\": 300`) {
		t.Fatalf("merged batching policy = %v", rows)
	}
	if err := c.View(func(s *model.State) error {
		p := s.Databases["db"].Tables["T"].BatchingPolicy
		if p == nil || p.MaximumBatchingTimeSpan != 10*time.Second || p.MaximumNumberOfItems != 20 || p.MaximumRawDataSizeMB != 300 {
			t.Errorf("stored batching policy %+v", p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`'{"MaximumBatchingTimeSpan":"soon"}'`, `'{"MaximumNumberOfItems": -1}'`, `'[1]'`, `'{'`} {
		if e := fail(t, c, ".alter table T policy ingestionbatching "+bad); e.Code != "BadRequest_InvalidArgument" {
			t.Errorf("%s: %v", bad, e)
		}
	}

	_, rows = run(t, c, ".show table * policy ingestionbatching")
	if len(rows) != 2 || !strings.Contains(rows[1], `"[db].[U]",null`) {
		t.Fatalf("all tables = %v", rows)
	}
	_, rows = run(t, c, ".delete table T policy streamingingestion")
	expectRows(t, rows, `["StreamingIngestionPolicy","[db].[T]",null,"","Table"]`)
	if e := fail(t, c, ".alter table T policy retention '{}'"); e.Code != "BadRequest_SyntaxError" {
		t.Fatalf("unsupported policy: %v", e)
	}
}

func TestIngestInline(t *testing.T) {
	c := newCluster(t)
	run(t, c, ".create table T (a:string, b:long, c:datetime)",
		`.create table T ingestion json mapping 'jm' '[{"column":"a","Properties":{"Path":"$.x"}},{"column":"b","Properties":{"Path":"$.y"}}]'`)

	cols, rows := run(t, c, ".ingest inline into table T with (format='csv', tags='[\"drop-by:one\",\"ingest-by:batch1\"]', creationTime='2023-01-01') <|\nfoo,1,2024-01-01T00:00:00Z\n\"bar, baz\",2,")
	if cols != "ExtentId:guid" || len(rows) != 1 {
		t.Fatalf("%s %v", cols, rows)
	}
	run(t, c, `.ingest inline into table T with (format=json, ingestionMappingReference='jm') <| {"x":"j1","y":7}
{"x":"j2"}`)
	// A repeated ingest-by tag is skipped, as in Kusto.
	_, rows = run(t, c, `.ingest inline into table T with (ingestIfNotExists='["batch1"]') <| skipped,9,`)
	if len(rows) != 0 {
		t.Fatalf("ingestIfNotExists ingested: %v", rows)
	}

	var got []string
	if err := c.View(func(s *model.State) error {
		tb := s.Databases["db"].Tables["T"]
		for _, r := range tb.Rows() {
			b, _ := json.Marshal([]any{model.FormatJSON(model.String, r[0]), model.FormatJSON(model.Long, r[1]), model.FormatJSON(model.DateTime, r[2])})
			got = append(got, string(b))
		}
		if len(tb.Extents) != 2 || !tb.HasTag("ingest-by:batch1") || !tb.Extents[0].CreatedOn.Equal(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("extents %+v", tb.Extents)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	expectRows(t, got, `["foo",1,"2024-01-01T00:00:00Z"]`, `["bar, baz",2,null]`, `["j1",7,null]`, `["j2",null,null]`)

	cols, rows = run(t, c, ".show table T extents")
	if !strings.HasPrefix(cols, "ExtentId:guid,DatabaseName:string,TableName:string,MaxCreatedOn:datetime,OriginalSize:real") || len(rows) != 2 {
		t.Fatalf("%s %v", cols, rows)
	}
	if !strings.Contains(rows[0], `"drop-by:one\r\ningest-by:batch1"`) || !strings.Contains(rows[0], `,2,"2023-01-01T00:00:00Z"`) {
		t.Fatalf("extent row = %s", rows[0])
	}
	_, rows = run(t, c, ".show table T extents where tags has 'ingest-by:batch1'")
	if len(rows) != 1 {
		t.Fatalf("tag filter: %v", rows)
	}
	_, rows = run(t, c, ".show table T extents where tags !contains 'DROP'")
	if len(rows) != 1 || !strings.Contains(rows[0], `,2,"2024-02-03T04:05:06Z",null,"StorageV3"`) {
		t.Fatalf("negated tag filter: %v", rows)
	}

	// Bad data fails the command and is listed by .show ingestion failures.
	e := fail(t, c, ".ingest inline into table T with (format=json) <| [not json")
	if e.Status != 400 {
		t.Fatalf("bad data: %v", e)
	}
	_, rows = run(t, c, ".show ingestion failures")
	if len(rows) != 1 || !strings.Contains(rows[0], `"db","T","2024-02-03T04:05:06Z","inline"`) || !strings.Contains(rows[0], e.Code) {
		t.Fatalf("failures = %v", rows)
	}
	for cmd, code := range map[string]string{
		".ingest inline into table T with (format='parquet') <| x":                               "BadRequest_FormatNotSupported",
		".ingest inline into table T with (ingestionMappingReference='nope', format=json) <| {}": "BadRequest_MappingReferenceWasNotFound",
		".ingest inline into table T with (bogus=1) <| x":                                        "BadRequest_InvalidArgument",
		".ingest inline into table T with (tags='a') <| x":                                       "BadRequest_InvalidArgument",
		".ingest inline into table Nope <| x":                                                    "BadRequest_EntityNotFound",
		".ingest inline into table T x":                                                          "BadRequest_SyntaxError",
	} {
		if e := fail(t, c, cmd); e.Code != code {
			t.Errorf("%s: %s %s, want %s", cmd, e.Code, e.Detail, code)
		}
	}
}

func TestShowIngestionFailures(t *testing.T) {
	c := newCluster(t)
	id := uuid.MustParse("5f3d1b2a-0000-4000-8000-000000000001")
	_ = c.Update(func(s *model.State) error {
		s.Failures = append(s.Failures,
			model.Failure{OperationID: id, Database: "db", Table: "T", FailedOn: testNow, IngestionSourcePath: "https://blob/x.csv.gz",
				Details: "bad", FailureKind: "Permanent", ErrorCode: "Stream_WrongNumberOfFields"},
			model.Failure{OperationID: uuid.New(), Database: "db", Table: "U", FailedOn: testNow, FailureKind: "Transient", ShouldRetry: true})
		return nil
	})
	cols, rows := run(t, c, ".show ingestion failures with (OperationId = '"+id.String()+"')")
	if cols != "OperationId:guid,Database:string,Table:string,FailedOn:datetime,IngestionSourcePath:string,Details:string,FailureKind:string,"+
		"RootActivityId:guid,OperationKind:string,OriginatesFromUpdatePolicy:bool,ErrorCode:string,Principal:string,ShouldRetry:bool,User:string,IngestionProperties:string" {
		t.Fatalf("columns %s", cols)
	}
	expectRows(t, rows, `["`+id.String()+`","db","T","2024-02-03T04:05:06Z","https://blob/x.csv.gz","bad","Permanent","`+id.String()+`","DataIngestPull",false,"Stream_WrongNumberOfFields","",false,"",""]`)
	_, rows = run(t, c, ".show ingestion failures | where ShouldRetry | project Table")
	expectRows(t, rows, `["U"]`)
}

func TestAdminThenQuery(t *testing.T) {
	c := newCluster(t)
	_, rows := run(t, c, ".create table A (x:long)", ".create table B (x:long)", ".show tables | where TableName != 'A' | project TableName")
	expectRows(t, rows, `["B"]`)
	_, rows = run(t, c, ".show table A policy streamingingestion | where isempty(Policy) | count")
	expectRows(t, rows, `[1]`)
	if e := fail(t, c, ".create table C (x:long) | count"); e.Code != "BadRequest_SyntaxError" {
		t.Fatalf("pipe after a change: %v", e)
	}
	if e := fail(t, c, ".show tables | where Nope == 1"); e.Code != "General_BadRequest" {
		t.Fatalf("bad pipe: %v", e)
	}
	// The failed command with a pipe must not have run.
	if e := fail(t, c, ".show table C cslschema"); e.Status != 404 {
		t.Fatalf("table C exists: %v", e)
	}
}

// FuzzExecute runs arbitrary command text: errors are fine, panics and non-model errors not.
func FuzzExecute(f *testing.F) {
	for _, s := range []string{
		".create-merge table ['T'] (['a']:string, b:long)", ".show table T ingestion json mappings",
		".create-or-alter table T ingestion json mapping 'm' '[{\"column\":\"a\",\"Properties\":{\"Path\":\"$.a\"}}]'",
		".alter table T policy ingestionbatching '{\"MaximumBatchingTimeSpan\":\"00:00:10\"}'",
		".ingest inline into table T with (format=csv, tags='[\"a\"]') <| x,1", ".show tables | where TableName has 'T'",
		".show table T extents where tags has 'a' and tags !contains 'b'", ".alter database db policy streamingingestion enable",
		".drop table T ifexists", ".show ingestion failures with (OperationId='00000000-0000-0000-0000-000000000000')",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		c := model.NewCluster("db")
		_, _ = Execute(context.Background(), c, "db", ".create table T (a:string, b:long)")
		_, err := Execute(context.Background(), c, "db", cmd)
		if err != nil {
			var me *model.Error
			if !errors.As(err, &me) {
				t.Fatalf("%q: error %T %v is not a *model.Error", cmd, err, err)
			}
		}
	})
}
