package kql

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

const (
	guid1 = "11111111-1111-1111-1111-111111111111"
	guid2 = "22222222-2222-2222-2222-222222222222"
)

// fixture is database db with table T: one column of each type, a row of nulls (id 3).
func fixture(t testing.TB) *model.Cluster {
	t.Helper()
	dyn := func(s string) any {
		v, _ := model.Convert(model.Dynamic, s)
		return v
	}
	day := func(d, h int) time.Time { return time.Date(2024, 1, d, h, 0, 0, 0, time.UTC) }
	c := model.NewCluster("db")
	err := c.Update(func(s *model.State) error {
		tb := &model.Table{Name: "T", Columns: []model.Column{
			{Name: "id", Type: model.Long}, {Name: "name", Type: model.String}, {Name: "n", Type: model.Int},
			{Name: "r", Type: model.Real}, {Name: "ok", Type: model.Bool}, {Name: "ts", Type: model.DateTime},
			{Name: "dur", Type: model.TimeSpan}, {Name: "g", Type: model.GUID}, {Name: "d", Type: model.Dynamic},
			{Name: "dec", Type: model.Decimal},
		}}
		tb.Append([][]any{
			{int64(1), "Alpha beta", int32(10), 1.5, true, day(1, 0), time.Hour, uuid.MustParse(guid1),
				dyn(`{"a":{"b":1},"arr":[1,2,3],"s":"x","k":"v1"}`), decimal.RequireFromString("1.25")},
			{int64(2), "gamma-delta", int32(20), 2.5, false, day(1, 12), 30 * time.Minute, uuid.MustParse(guid2),
				dyn(`{"a":{"b":2},"arr":[],"s":"y"}`), decimal.RequireFromString("2.5")},
		}, nil, time.Now())
		// A second extent, with a row of nulls.
		tb.Append([][]any{
			{int64(3), "", nil, nil, nil, nil, nil, nil, nil, nil},
			{int64(4), "Alpha", int32(5), -1.0, true, day(2, 6), 48 * time.Hour, uuid.MustParse(guid1), dyn(`{"k":"v2"}`), decimal.Zero},
		}, nil, time.Now())
		s.Databases["db"].Tables["T"] = tb
		s.Databases["db"].Tables["Empty"] = &model.Table{Name: "Empty", Columns: []model.Column{{Name: "x", Type: model.Long}}}
		s.Databases["other"] = model.NewDatabase("other")
		s.Databases["other"].Tables["O"] = &model.Table{Name: "O", Columns: []model.Column{{Name: "x", Type: model.Long}}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// render turns a result into "name:type,…" and one JSON array per row.
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

func TestQuery(t *testing.T) {
	c := fixture(t)
	for _, tc := range []struct {
		name   string
		query  string
		params map[string]string
		cols   string // "" = not checked
		rows   []string
	}{
		{"count", "T | count", nil, "Count:long", []string{`[4]`}},
		{"take", "T | take 2 | project id", nil, "id:long", []string{`[1]`, `[2]`}},
		{"limit", "T | limit 1 | count", nil, "", []string{`[1]`}},
		{"comment and newline", "T // all of it\n| count", nil, "", []string{`[4]`}},
		{"bracketed names", "['T'] | project ['id'] | take 1", nil, "id:long", []string{`[1]`}},
		{"greater than", "T | where n > 5 | project id", nil, "", []string{`[1]`, `[2]`}},
		{"and", "T | where n >= 10 and r < 2 | project id", nil, "", []string{`[1]`}},
		{"or", "T | where n == 20 or id == 4 | project id", nil, "", []string{`[2]`, `[4]`}},
		{"equals", `T | where name == "Alpha" | project id`, nil, "", []string{`[4]`}},
		{"equals is case-sensitive", `T | where name == "alpha" | project id`, nil, "", nil},
		{"equals ignoring case", `T | where name =~ "ALPHA" | project id`, nil, "", []string{`[4]`}},
		{"not equals", `T | where name != "Alpha" | project id`, nil, "", []string{`[1]`, `[2]`, `[3]`}},
		{"not equals ignoring case", `T | where name !~ "alpha" | project id`, nil, "", []string{`[1]`, `[2]`, `[3]`}},
		{"<> is !=", `T | where id <> 1 | count`, nil, "", []string{`[3]`}},
		{"null compares as false", "T | where n < 100 | project id", nil, "", []string{`[1]`, `[2]`, `[4]`}},
		{"null is not equal to a value", "T | where n != 10 | project id", nil, "", []string{`[2]`, `[3]`, `[4]`}},
		{"null equality", "print int(null) == 1, int(null) != 1, int(null) == int(null), int(null) < 1, dynamic({}) == 1", nil, "",
			[]string{`[false,true,null,null,false]`}},
		{"has whole term", `T | where name has "BETA" | project id`, nil, "", []string{`[1]`}},
		{"has is not substring", `T | where name has "alp" | project id`, nil, "", nil},
		{"has splits on punctuation", `T | where name has "delta" | project id`, nil, "", []string{`[2]`}},
		{"not has", `T | where name !has "alpha" | project id`, nil, "", []string{`[2]`, `[3]`}},
		{"has_cs", `T | where name has_cs "alpha" | project id`, nil, "", nil},
		{"contains", `T | where name contains "LPH" | project id`, nil, "", []string{`[1]`, `[4]`}},
		{"not contains", `T | where name !contains "a" | project id`, nil, "", []string{`[3]`}},
		{"contains_cs", `T | where name contains_cs "lph" | project id`, nil, "", []string{`[1]`, `[4]`}},
		{"startswith", `T | where name startswith "alpha" | project id`, nil, "", []string{`[1]`, `[4]`}},
		{"endswith", `T | where name endswith "DELTA" | project id`, nil, "", []string{`[2]`}},
		{"matches regex", `T | where name matches regex "^Al.*a$" | project id`, nil, "", []string{`[1]`, `[4]`}},
		{"in", "T | where id in (1, 3) | project id", nil, "", []string{`[1]`, `[3]`}},
		{"not in", "T | where id !in (1, 3) | project id", nil, "", []string{`[2]`, `[4]`}},
		{"in is case-sensitive", `T | where name in ("alpha") | count`, nil, "", []string{`[0]`}},
		{"in~", `T | where name in~ ("alpha", "x") | project id`, nil, "", []string{`[4]`}},
		{"in dynamic array", `T | where id in (dynamic([2, 4])) | project id`, nil, "", []string{`[2]`, `[4]`}},
		{"between", "T | where id between (2 .. 3) | project id", nil, "", []string{`[2]`, `[3]`}},
		{"between datetime and length", "T | where ts between (datetime(2024-01-01) .. 13h) | project id", nil, "", []string{`[1]`, `[2]`}},
		{"isnull", "T | where isnull(n) | project id", nil, "", []string{`[3]`}},
		{"isnotnull", "T | where isnotnull(ts) | count", nil, "", []string{`[3]`}},
		{"strings are never null", "T | where isnull(name) | count", nil, "", []string{`[0]`}},
		{"isempty", "T | where isempty(name) | project id", nil, "", []string{`[3]`}},
		{"isnotempty", "T | where isnotempty(name) | count", nil, "", []string{`[3]`}},
		{"not", "T | where not(ok) | project id", nil, "", []string{`[2]`}},
		{"dynamic path", "T | where d.a.b == 1 | project id", nil, "", []string{`[1]`}},
		{"dynamic key", `T | where d['s'] == "y" | project id`, nil, "", []string{`[2]`}},
		{"dynamic index", "T | where d.arr[0] == 1 | project id", nil, "", []string{`[1]`}},
		{"dynamic negative index", "T | where d.arr[-1] == 3 | project id", nil, "", []string{`[1]`}},
		{"array_length", "T | where array_length(d.arr) == 0 | project id", nil, "", []string{`[2]`}},
		{"has on dynamic", `T | where d has "v1" | project id`, nil, "", []string{`[1]`}},
		{"project renames and computes", "T | where id == 1 | project id, nm = name, x = n * 2, d.a.b, tostring(d.s), strlen(name)",
			nil, "id:long,nm:string,x:long,d_a_b:dynamic,d_s:string,Column1:long", []string{`[1,"Alpha beta",20,1,"x",10]`}},
		{"project-away", "T | project-away d, dec, g, ts, dur, ok, r, n | take 1", nil, "id:long,name:string", []string{`[1,"Alpha beta"]`}},
		{"project-away wildcard", "T | project-away d*, n*, r, ok, ts, g | take 1", nil, "id:long", []string{`[1]`}},
		{"project-rename", "T | project-rename ident = id | project ident | take 1", nil, "ident:long", []string{`[1]`}},
		{"extend", "T | extend y = id + 1 | where id == 1 | project y", nil, "y:long", []string{`[2]`}},
		{"extend replaces in place", "T | extend n = toint(n + 1) | project-away d, dec, g, ts, dur, ok, r | where id == 1",
			nil, "id:long,name:string,n:int", []string{`[1,"Alpha beta",11]`}},
		{"summarize", "T | summarize count(), sum(n), avg(r), dcount(g), make_set(name), countif(n > 5), take_any(id) by ok | order by ok asc", nil,
			"ok:bool,count_:long,sum_n:long,avg_r:real,dcount_g:long,set_name:dynamic,countif_:long,any_id:long", []string{
				`[null,1,null,null,0,[""],0,3]`,
				`[false,1,20,2.5,1,["gamma-delta"],1,2]`,
				`[true,2,15,0.25,1,["Alpha beta","Alpha"],1,1]`}},
		{"summarize names and min max", "T | summarize lo = min(ts), hi = max(r), l = make_list(id) by k = tostring(ok) | where k == 'true'", nil,
			"k:string,lo:datetime,hi:real,l:dynamic", []string{`["true","2024-01-01T00:00:00Z",1.5,[1,4]]`}},
		{"summarize over nothing", "T | where id > 100 | summarize count(), sum(n)", nil, "count_:long,sum_n:long", []string{`[0,null]`}},
		{"summarize by nothing, grouped", "Empty | summarize count() by x", nil, "x:long,count_:long", nil},
		{"summarize by bin", "T | summarize count() by bin(ts, 1d) | order by ts asc", nil, "ts:datetime,count_:long",
			[]string{`[null,1]`, `["2024-01-01T00:00:00Z",2]`, `["2024-01-02T00:00:00Z",1]`}},
		{"summarize by only", "T | summarize by ok | count", nil, "", []string{`[3]`}},
		{"order by defaults to desc", "T | order by id | project id", nil, "", []string{`[4]`, `[3]`, `[2]`, `[1]`}},
		{"sort asc puts nulls first", "T | sort by n asc | project id", nil, "", []string{`[3]`, `[4]`, `[1]`, `[2]`}},
		{"sort asc nulls last", "T | sort by n asc nulls last | project id", nil, "", []string{`[4]`, `[1]`, `[2]`, `[3]`}},
		{"sort desc puts nulls last", "T | sort by n desc | project id", nil, "", []string{`[2]`, `[1]`, `[4]`, `[3]`}},
		{"sort by two keys", "T | sort by ok asc, id desc | project id", nil, "", []string{`[3]`, `[2]`, `[4]`, `[1]`}},
		{"top", "T | top 2 by r | project id", nil, "", []string{`[2]`, `[1]`}},
		{"top asc", "T | top 1 by ts asc nulls last | project id", nil, "", []string{`[1]`}},
		{"distinct", "T | distinct ok | order by ok asc", nil, "ok:bool", []string{`[null]`, `[false]`, `[true]`}},
		{"distinct star", "T | project ok, g | distinct * | count", nil, "", []string{`[3]`}},
		{"bag_unpack", "T | where id in (1, 4) | project id, d | evaluate bag_unpack(d)", nil,
			"id:long,a:dynamic,arr:dynamic,k:dynamic,s:dynamic", []string{`[1,{"b":1},[1,2,3],"v1","x"]`, `[4,null,null,"v2",null]`}},
		{"bag_unpack prefix", "T | where id == 4 | project d | evaluate bag_unpack(d, 'p_')", nil, "p_k:dynamic", []string{`["v2"]`}},
		{"getschema", "T | getschema | take 2", nil, "ColumnName:string,ColumnOrdinal:int,DataType:string,ColumnType:string",
			[]string{`["id",0,"System.Int64","long"]`, `["name",1,"System.String","string"]`}},
		{"print literals", `print a = 1, "s", 1.5, true, datetime(2024-01-01), 1d, int(3), dynamic({"x":[1, 'y']}), guid(` + guid1 + `), decimal(1.5), long(null), 0x10`, nil,
			"a:long,print_1:string,print_2:real,print_3:bool,print_4:datetime,print_5:timespan,print_6:int,print_7:dynamic,print_8:guid,print_9:decimal,print_10:long,print_11:long",
			[]string{`[1,"s",1.5,true,"2024-01-01T00:00:00Z","1.00:00:00",3,{"x":[1,"y"]},"` + guid1 + `","1.5",null,16]`}},
		{"string literals", `print 'a\'b', "c\"d", @'c:\path', @"x""y", 'tab\t|', h'hidden', 'con' 'cat', '\u00e9'`, nil, "",
			[]string{`["a'b","c\"d","c:\\path","x\"y","tab\t|","hidden","concat","é"]`}},
		{"conversions", `print toint("12"), tolong(2.9), todouble("1.5"), toreal(2), tobool("true"), todatetime("2024-01-01"), totimespan("01:00:00"), toguid("` + guid2 + `"), todecimal("0.5"), toint("x")`,
			nil, "print_0:int,print_1:long,print_2:real,print_3:real,print_4:bool,print_5:datetime,print_6:timespan,print_7:guid,print_8:decimal,print_9:int",
			[]string{`[12,2,1.5,2,true,"2024-01-01T00:00:00Z","01:00:00","` + guid2 + `","0.5",null]`}},
		{"tostring", `print tostring(1.5), tostring(datetime(2024-01-01)), tostring(1h), tostring(true), tostring(dynamic({"a":1})), tostring(int(null))`,
			nil, "", []string{`["1.5","2024-01-01T00:00:00Z","01:00:00","true","{\"a\":1}",""]`}},
		{"string functions", `print strlen("héllo"), tolower("AbC"), toupper("a"), strcat("a", 1, true), substring("hello", 1, 3), split("a,b", ","), replace_string("aXa", "X", "-")`,
			nil, "print_0:long,print_1:string,print_2:string,print_3:string,print_4:string,print_5:dynamic,print_6:string",
			[]string{`[5,"abc","A","a1true","ell",["a","b"],"a-a"]`}},
		{"parse_json", `print parse_json('{"a":{"b":[1]}}').a.b[0], todynamic("[1,2]")[1], parse_json("abc")`, nil, "", []string{`[1,2,"abc"]`}},
		{"iif and coalesce", `print iif(1 > 2, "y", "n"), iff(true, 1, 2.5), coalesce(int(null), 5), coalesce("", "b")`, nil,
			"print_0:string,print_1:real,print_2:long,print_3:string", []string{`["n",1,5,"b"]`}},
		{"bag_pack and pack_array", `print bag_pack("a", 1, "b", "x"), pack_array(1, "two")`, nil, "", []string{`[{"a":1,"b":"x"},[1,"two"]]`}},
		{"datetime arithmetic", "print datetime(2024-01-02) - datetime(2024-01-01), datetime(2024-01-01) + 1h, 1h * 2, 1d / 1h, -1h, 2 * 30m", nil,
			"print_0:timespan,print_1:datetime,print_2:timespan,print_3:real,print_4:timespan,print_5:timespan",
			[]string{`["1.00:00:00","2024-01-01T01:00:00Z","02:00:00",24,"-01:00:00","01:00:00"]`}},
		{"now and ago", "print now() > ago(1h), now() - ago(1h) == 1h, now(-1d) < now()", nil, "", []string{`[true,true,true]`}},
		{"null arithmetic", `print int(null) + 1, int(null) < 1, 1 / 0, 7 / 2, 7 % 3, 7.0 / 2, int(2) + int(3), abs(-2), round(2.567, 2)`, nil,
			"print_0:long,print_1:bool,print_2:long,print_3:long,print_4:long,print_5:real,print_6:int,print_7:long,print_8:real",
			[]string{`[null,null,null,3,1,3.5,5,2,2.57]`}},
		{"bin", "print bin(7, 5), bin(-1, 5), bin(7.5, 2.0), bin(datetime(2024-01-01 10:30), 1h), bin(90m, 1h)", nil, "",
			[]string{`[5,-5,6,"2024-01-01T10:00:00Z","01:00:00"]`}},
		{"scalar let", "let x = 5; T | where n > x | project id", nil, "", []string{`[1]`, `[2]`}},
		{"tabular let", "let t = T | where id < 3; t | count", nil, "", []string{`[2]`}},
		{"table alias let", "let t = T; t | count", nil, "", []string{`[4]`}},
		{"declared parameters", "declare query_parameters(p:string, q:long = 2);\nT | where name == p or id == q | project id",
			map[string]string{"p": `"Alpha"`}, "", []string{`[2]`, `[4]`}},
		// The .NET, Python and Node.js SDKs send string parameters as plain text, as Kusto's REST
		// documentation specifies; the Go SDK sends a KQL string literal. Both mean the same.
		{"plain-text string parameter", "declare query_parameters(p:string);\nT | where name == p | project id",
			map[string]string{"p": "Alpha"}, "", []string{`[4]`}},
		{"parameter literals", "declare query_parameters(i:int, dt:datetime, ts:timespan, d:dynamic, b:bool, x:decimal, g:guid, r:real);print i, dt, ts, d.a, b, x, g, r",
			map[string]string{"i": "int(5)", "dt": "datetime(2024-01-01T00:00:00Z)", "ts": "timespan(01:00:00.0000000)",
				"d": `dynamic({"a":1})`, "b": "bool(true)", "x": "decimal(1.5)", "g": "guid(" + guid1 + ")", "r": "real(0.5)"},
			"i:int,dt:datetime,ts:timespan,d_a:dynamic,b:bool,x:decimal,g:guid,r:real",
			[]string{`[5,"2024-01-01T00:00:00Z","01:00:00",1,true,"1.5","` + guid1 + `",0.5]`}},
		{"datatable", `datatable(a:long, b:string) [1, "x", 2, "y",] | where a > 1`, nil, "a:long,b:string", []string{`[2,"y"]`}},
		{"database function", `database("other").O | count`, nil, "", []string{`[0]`}},
		{"subquery", "(T | where id > 2) | count", nil, "", []string{`[2]`}},
		{"set option", "set notruncation; T | count", nil, "", []string{`[4]`}},
		{"typed comparison with dynamic", `T | where d.a.b > 1.5 | project id`, nil, "", []string{`[2]`}},
		{"guid equality", `T | where g == guid(` + guid1 + `) | count`, nil, "", []string{`[2]`}},
		{"decimal", "T | where dec > 1 | summarize sum(dec)", nil, "sum_dec:decimal", []string{`["3.75"]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Query(context.Background(), c, "db", tc.query, tc.params)
			if err != nil {
				t.Fatalf("%s: %v", tc.query, err)
			}
			if len(res) != 1 {
				t.Fatalf("got %d results", len(res))
			}
			cols, rows := render(res[0])
			if tc.cols != "" && cols != tc.cols {
				t.Errorf("columns = %s\n     want %s", cols, tc.cols)
			}
			if strings.Join(rows, "\n") != strings.Join(tc.rows, "\n") {
				t.Errorf("rows =\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(tc.rows, "\n"))
			}
		})
	}
}

func TestQueryStatements(t *testing.T) {
	res, err := Query(context.Background(), fixture(t), "db", "T | count; print x = 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Name != "PrimaryResult" || res[1].Columns[0].Name != "x" {
		t.Fatalf("results = %+v", res)
	}
}

func TestQueryErrors(t *testing.T) {
	c := fixture(t)
	const (
		syntax   = "BadRequest_SyntaxError"
		semantic = "General_BadRequest"
		notFound = "BadRequest_EntityNotFound"
	)
	for _, tc := range []struct {
		name, query string
		params      map[string]string
		code        string
		contains    string
	}{
		{"empty pipe", "T |", nil, syntax, "expected a query operator"},
		{"missing predicate", "T | where", nil, syntax, "unexpected end"},
		{"unclosed paren", "T | where (n > 1", nil, syntax, "expected ')'"},
		{"unterminated string", "print 'abc", nil, syntax, "unterminated string"},
		{"bad escape", `print 'a\q'`, nil, syntax, "invalid escape"},
		{"unknown operator", "T | frobnicate", nil, syntax, "unknown query operator"},
		{"trailing tokens", "T | take 1 extra", nil, syntax, "unexpected 'extra'"},
		{"bad datetime", "print datetime(2024-13-45)", nil, syntax, "invalid datetime literal"},
		{"bad timespan suffix", "print 1d2", nil, syntax, "invalid literal"},
		{"bad int literal", "print int(1.5)", nil, syntax, "invalid int literal"},
		{"number out of range", "print 99999999999999999999", nil, syntax, "out of range"},
		{"empty summarize", "T | summarize", nil, syntax, "unexpected end"},
		{"stray character", "T | where n > 1 $", nil, syntax, "unexpected character"},
		{"position in message", "T\n| where x ==", nil, syntax, "[line:position=2:"},
		{"unknown table", "Nope | count", nil, semantic, "Failed to resolve table or column expression named 'Nope'"},
		{"unknown column", "T | where nope == 1", nil, semantic, "'where' operator: Failed to resolve scalar expression named 'nope'"},
		{"unknown function", "print foo(1)", nil, semantic, "Unknown function: 'foo'"},
		{"wrong arity", "print strlen()", nil, semantic, "expects 1 argument"},
		{"string plus number", `print "a" + 1`, nil, semantic, "not defined for arguments of types string and long"},
		{"string compared to number", `print "a" == 1`, nil, semantic, "cannot compare values of types string and long"},
		{"dynamic group key", "T | summarize count() by d", nil, semantic, "is of a 'dynamic' type"},
		{"aggregate outside summarize", "T | extend count()", nil, semantic, "can only be used in summarize"},
		{"expression over aggregates", "T | summarize sum(n) / count()", nil, semantic, "expressions over aggregations are not supported"},
		{"unsupported aggregate", "T | summarize arg_max(ts, id)", nil, semantic, "'arg_max' is not an aggregation function the emulator supports"},
		{"command sent as query", " .show tables", nil, syntax, "Control commands"},
		{"unsupported operator", "T | join T on id", nil, semantic, "the 'join' operator is not supported"},
		{"unsupported source", "union T, T", nil, semantic, "'union' is not supported"},
		{"unsupported plugin", "T | evaluate python('x')", nil, semantic, "plugin is not supported"},
		{"non-bool predicate", "T | where name", nil, semantic, "predicate must be of type bool"},
		{"member of a string", `T | project name.a`, nil, semantic, "requires a value of type dynamic"},
		{"sort by dynamic", "T | order by d", nil, semantic, "non-dynamic type"},
		{"duplicate project", "T | project id, id", nil, semantic, "specified more than once"},
		{"project-away unknown", "T | project-away nope", nil, semantic, "named 'nope'"},
		{"sum of strings", "T | summarize sum(name)", nil, semantic, "sum() is not defined for string"},
		{"take non-integer", `T | take "x"`, nil, semantic, "row count must be an integer"},
		{"take column", `T | take id`, nil, semantic, "Failed to resolve scalar expression named 'id'"},
		{"missing parameter", "declare query_parameters(p:string); print p", nil, semantic, "no value was given"},
		{"bad parameter literal", "declare query_parameters(p:long); print p", map[string]string{"p": "long(x"}, semantic, "not a valid literal"},
		{"scalar let used as table", "let x = 1; x | count", nil, semantic, "is a scalar value, not a table"},
		{"unknown database function", `database("nope").T | count`, nil, semantic, "Failed to resolve database"},
		{"unsupported option", "set query_now = datetime(2020-01-01); print 1", nil, semantic, "not supported by the emulator"},
		{"no tabular statement", "let x = 1;", nil, semantic, "no tabular expression"},
		{"bag_unpack of a string", "T | evaluate bag_unpack(name)", nil, semantic, "must be of type dynamic"},
		{"iif mixed types", `print iif(true, "a", 1)`, nil, semantic, "same type"},
		{"unknown database", "print 1", nil, notFound, "Database 'nodb' was not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := "db"
			if tc.code == notFound {
				db = "nodb"
			}
			_, err := Query(context.Background(), c, db, tc.query, tc.params)
			var me *model.Error
			if !errors.As(err, &me) {
				t.Fatalf("%s: error %v (%T), want a *model.Error", tc.query, err, err)
			}
			if me.Code != tc.code || !strings.Contains(me.Detail, tc.contains) {
				t.Fatalf("%s:\n got %s: %s\nwant %s containing %q", tc.query, me.Code, me.Detail, tc.code, tc.contains)
			}
			if tc.code == notFound && me.Status != 404 || tc.code != notFound && me.Status != 400 {
				t.Fatalf("status %d", me.Status)
			}
		})
	}
}

func TestPipe(t *testing.T) {
	in := model.Result{Columns: []model.Column{{Name: "Name", Type: model.String}, {Name: "Policy", Type: model.String}},
		Rows: [][]any{{"a", model.DBNull}, {"b", "{}"}}}
	out, err := Pipe(context.Background(), in, "| where Name == 'b' | project Policy, l = strlen(Policy)")
	if err != nil {
		t.Fatal(err)
	}
	cols, rows := render(out)
	if cols != "Policy:string,l:long" || strings.Join(rows, ";") != `["{}",2]` {
		t.Fatalf("Pipe = %s %v", cols, rows)
	}
	if _, err := Pipe(context.Background(), in, "| where Nope == 1"); err == nil {
		t.Fatal("Pipe accepted an unknown column")
	}
	if _, err := Pipe(context.Background(), in, "| count extra"); err == nil {
		t.Fatal("Pipe accepted trailing text")
	}
}

func TestQueryCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Query(ctx, fixture(t), "db", "T | count", nil)
	var me *model.Error
	if !errors.As(err, &me) || me.Permanent {
		t.Fatalf("cancelled query: %v", err)
	}
}

func TestTokenize(t *testing.T) {
	toks, err := Tokenize(".create-or-alter table ['T'] ingestion json mapping 'm' '[{\"a\":1}]' <| data")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		got = append(got, tk.Text)
	}
	want := []string{".", "create-or-alter", "table", "[", "'T'", "]", "ingestion", "json", "mapping", "'m'", `'[{"a":1}]'`, "<|", "data", ""}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("tokens = %q", got)
	}
	// "a-b" stays a subtraction; only known keywords join across '-'.
	toks, _ = Tokenize("create-x project-away-y")
	if toks[0].Text != "create" || toks[1].Text != "-" || toks[3].Text != "project-away" {
		t.Fatalf("hyphen joining: %+v", toks)
	}
}

// FuzzQuery runs arbitrary text through the lexer, parser and evaluator: errors are fine,
// panics and non-model errors are not.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"T | where n > 1 | project id, x = d.a.b", "print 1d, datetime(2024-01-01), dynamic({\"a\":[1]})",
		"T | summarize count() by bin(ts, 1h) | order by ts asc nulls last", "let x = T; x | take 1",
		"declare query_parameters(p:string); T | where name has p", "T | evaluate bag_unpack(d) | top 2 by id",
		"print 'a\\'b', @'c', h\"d\", ```e```", "T | where id in (1, 2) and name !in~ ('x') or id between (1 .. 2)",
		"datatable(a:long)[1,2] | extend b = a * 2 | distinct b", "T | project-away d* | getschema",
	} {
		f.Add(s)
	}
	c := fixture(f)
	f.Fuzz(func(t *testing.T, q string) {
		_, err := Query(context.Background(), c, "db", q, map[string]string{"p": q})
		if err != nil {
			var me *model.Error
			if !errors.As(err, &me) {
				t.Fatalf("%q: error %T %v is not a *model.Error", q, err, err)
			}
		}
	})
}

func TestDeepNesting(t *testing.T) {
	c := fixture(t)
	for _, q := range []string{
		strings.Repeat("(", 100000) + "T" + strings.Repeat(")", 100000),
		"print " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		"print " + strings.Repeat("-", 100000) + "1",
		"print dynamic(" + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + ")",
		"print not(" + strings.Repeat("not(", 50000) + "true" + strings.Repeat(")", 50001),
		"print " + strings.Repeat("1+", 100000) + "1",
		"print dynamic({})" + strings.Repeat(".a", 100000),
	} {
		_, err := Query(context.Background(), c, "db", q, nil)
		var me *model.Error
		if !errors.As(err, &me) || me.Code != "BadRequest_SyntaxError" {
			t.Errorf("deep nesting %.20s…: %v", q, err)
		}
	}
	// Long but reasonable expressions still work.
	res, err := Query(context.Background(), c, "db", "print "+strings.Repeat("1+", 5000)+"1", nil)
	if err != nil || res[0].Rows[0][0] != int64(5001) {
		t.Fatalf("long sum: %v %v", res, err)
	}
}
