package wire

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	kerrors "github.com/Azure/azure-kusto-go/azkustodata/errors"
	kustokql "github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-kusto-go/azkustodata/query"
	v2 "github.com/Azure/azure-kusto-go/azkustodata/query/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/mgmt"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// sdkServer answers the engine endpoints the query SDK uses with this package's encodings, so
// that the unmodified azkustodata client parses them.
func sdkServer(t *testing.T, c *model.Cluster) *azkustodata.Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rest/auth/metadata", func(w http.ResponseWriter, _ *http.Request) {
		// As the Kusto emulator answers: no AAD. (A 404 must have an empty body for the SDK.)
		_, _ = w.Write([]byte(`{"AzureAD":null}`))
	})
	handle := func(run func(ctx context.Context, db, csl string, params map[string]string) ([]model.Result, error), v2 bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				DB         string `json:"db"`
				CSL        string `json:"csl"`
				Properties struct {
					Parameters map[string]string `json:"Parameters"`
				} `json:"properties"`
			}
			crid := r.Header.Get("x-ms-client-request-id")
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				WriteError(w, model.BadRequest("BadRequest_InvalidBody", "%v", err), crid)
				return
			}
			res, err := run(r.Context(), body.DB, body.CSL, body.Properties.Parameters)
			var me *model.Error
			if errors.As(err, &me) {
				WriteError(w, me, crid)
				return
			}
			if err != nil {
				WriteError(w, model.Internal("%v", err), crid)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			if v2 {
				err = WriteV2Request(w, res, crid)
			} else {
				err = WriteV1(w, res)
			}
			if err != nil {
				t.Errorf("writing response: %v", err)
			}
		}
	}
	mux.HandleFunc("POST /v1/rest/mgmt", handle(func(ctx context.Context, db, csl string, _ map[string]string) ([]model.Result, error) {
		return mgmt.Execute(ctx, c, db, csl)
	}, false))
	mux.HandleFunc("POST /v2/rest/query", handle(func(ctx context.Context, db, csl string, params map[string]string) ([]model.Result, error) {
		return kql.Query(ctx, c, db, csl, params)
	}, true))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, err := azkustodata.New(azkustodata.NewConnectionStringBuilder(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// checkEventsRow compares one decoded row with the row of eventsRows it came from.
func checkEventsRow(t *testing.T, r query.Row, want []any) {
	t.Helper()
	i32, err := r.IntByName("Int")
	if err != nil {
		t.Fatal(err)
	}
	if want[0] == nil {
		if i32 != nil {
			t.Errorf("Int = %v, want null", *i32)
		}
	} else if i32 == nil || *i32 != want[0].(int32) {
		t.Errorf("Int = %v, want %v", i32, want[0])
	}
	l, _ := r.LongByName("Long")
	if (want[1] == nil) != (l == nil) || (l != nil && *l != want[1].(int64)) {
		t.Errorf("Long = %v, want %v", l, want[1])
	}
	f, _ := r.RealByName("Real")
	if w := want[2].(float64); f == nil || !(*f == w || (math.IsNaN(w) && math.IsNaN(*f))) {
		t.Errorf("Real = %v, want %v", f, w)
	}
	d, _ := r.DecimalByName("Decimal")
	if (want[3] == nil) != (d == nil) || (d != nil && !d.Equal(want[3].(decimal.Decimal))) {
		t.Errorf("Decimal = %v, want %v", d, want[3])
	}
	s, _ := r.StringByName("String")
	if s != want[4].(string) {
		t.Errorf("String = %q, want %q", s, want[4])
	}
	b, _ := r.BoolByName("Bool")
	if (want[5] == nil) != (b == nil) || (b != nil && *b != want[5].(bool)) {
		t.Errorf("Bool = %v, want %v", b, want[5])
	}
	dt, _ := r.DateTimeByName("DateTime")
	if (want[6] == nil) != (dt == nil) || (dt != nil && !dt.Equal(want[6].(time.Time))) {
		t.Errorf("DateTime = %v, want %v", dt, want[6])
	}
	ts, _ := r.TimespanByName("TimeSpan")
	if (want[7] == nil) != (ts == nil) || (ts != nil && *ts != want[7].(time.Duration)) {
		t.Errorf("TimeSpan = %v, want %v", ts, want[7])
	}
	g, _ := r.GuidByName("Guid")
	if (want[8] == nil) != (g == nil) || (g != nil && *g != want[8].(uuid.UUID)) {
		t.Errorf("Guid = %v, want %v", g, want[8])
	}
	dyn, _ := r.DynamicByName("Dynamic")
	if m, ok := want[9].(map[string]any); ok {
		var got map[string]any
		if err := json.Unmarshal(dyn, &got); err != nil || got["k"] != m["k"] {
			t.Errorf("Dynamic = %s, want %v (%v)", dyn, m, err)
		}
	} else if want[9] == nil && dyn != nil {
		t.Errorf("Dynamic = %s, want null", dyn)
	}
}

func TestSDKQueryDecodesEveryType(t *testing.T) {
	c := goldenCluster(t)
	client := sdkServer(t, c)
	ctx := context.Background()
	want := eventsRows()

	ds, err := client.Query(ctx, "db1", kustokql.New("Events"))
	if err != nil {
		t.Fatal(err)
	}
	tables := ds.Tables()
	if len(tables) != 3 {
		t.Fatalf("got %d tables, want primary + @ExtendedProperties + QueryCompletionInformation", len(tables))
	}
	rows := tables[0].Rows()
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		checkEventsRow(t, r, want[i])
	}
	props, err := v2.AsQueryProperties(tables[1])
	if err != nil || len(props) != 1 || props[0].Key != "Visualization" || props[0].TableId != 1 {
		t.Fatalf("QueryProperties = %+v, %v", props, err)
	}
	info, err := v2.AsQueryCompletionInformation(tables[2])
	if err != nil || len(info) == 0 || info[0].EventTypeName != "QueryInfo" || !strings.HasPrefix(info[0].ClientRequestId, "KGC.execute;") {
		t.Fatalf("QueryCompletionInformation = %+v, %v", info, err)
	}

	it, err := client.IterativeQuery(ctx, "db1", kustokql.New("Events"))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	primaries := 0
	for tr := range it.Tables() {
		if tr.Err() != nil {
			t.Fatal(tr.Err())
		}
		tb := tr.Table()
		if !tb.IsPrimaryResult() {
			continue
		}
		primaries++
		i := 0
		for rr := range tb.Rows() {
			if rr.Err() != nil {
				t.Fatal(rr.Err())
			}
			checkEventsRow(t, rr.Row(), want[i])
			i++
		}
		if i != len(want) {
			t.Fatalf("iterative query gave %d rows, want %d", i, len(want))
		}
	}
	if primaries != 1 {
		t.Fatalf("iterative query gave %d primary tables", primaries)
	}
}

func TestSDKIterativeQueryReadsFragments(t *testing.T) {
	c := model.NewCluster("db1")
	rows := make([][]any, 2*fragmentRows+7)
	for i := range rows {
		rows[i] = []any{int64(i)}
	}
	_ = c.Update(func(s *model.State) error {
		tb := &model.Table{Name: "Big", Columns: []model.Column{{Name: "n", Type: model.Long}}}
		tb.Append(rows, nil, time.Now())
		s.Databases["db1"].Tables["Big"] = tb
		return nil
	})
	client := sdkServer(t, c)
	it, err := client.IterativeQuery(context.Background(), "db1", kustokql.New("Big | order by n asc"))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	ds, err := it.ToDataset()
	if err != nil {
		t.Fatal(err)
	}
	got := ds.Tables()[0].Rows()
	if len(got) != len(rows) {
		t.Fatalf("got %d rows, want %d", len(got), len(rows))
	}
	for i, r := range got {
		if n, _ := r.LongByIndex(0); n == nil || *n != int64(i) {
			t.Fatalf("row %d = %v", i, n)
		}
	}
}

func TestSDKMgmtAndParameters(t *testing.T) {
	c := model.NewCluster("db1")
	client := sdkServer(t, c)
	ctx := context.Background()
	for _, cmd := range []string{
		".create-merge table ['Logs'] (['Level']:string, Count:long, At:datetime, Props:dynamic)",
		".create-or-alter table Logs ingestion json mapping 'Logs_mapping' '[{\"column\":\"Level\",\"Properties\":{\"Path\":\"$.level\"}}]'",
		".alter table Logs policy streamingingestion enable",
		".ingest inline into table Logs <| info,1,2024-01-01T00:00:00Z,{\"a\":1}\nwarn,2,2024-01-02T00:00:00Z,{\"a\":2}",
	} {
		if _, err := client.Mgmt(ctx, "db1", kustokql.New("").AddUnsafe(cmd)); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	ds, err := client.Mgmt(ctx, "db1", kustokql.New(".show tables"))
	if err != nil {
		t.Fatal(err)
	}
	rows := ds.Tables()[0].Rows()
	if len(rows) != 1 {
		t.Fatalf(".show tables gave %d rows", len(rows))
	}
	if name, _ := rows[0].StringByName("TableName"); name != "Logs" {
		t.Fatalf("TableName = %q", name)
	}
	ds, err = client.Mgmt(ctx, "db1", kustokql.New(".show table Logs policy streamingingestion"))
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := ds.Tables()[0].Rows()[0].StringByName("Policy")
	if !strings.Contains(policy, `"IsEnabled": true`) {
		t.Fatalf("Policy = %q", policy)
	}

	params := kustokql.NewParameters().AddString("level", "warn").AddDateTime("since", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
	q, err := client.Query(ctx, "db1", kustokql.New("Logs | where Level == level and At > since | project Count, a = Props.a"),
		azkustodata.QueryParameters(params))
	if err != nil {
		t.Fatal(err)
	}
	got := q.Tables()[0].Rows()
	if len(got) != 1 {
		t.Fatalf("parameterised query gave %d rows", len(got))
	}
	if n, _ := got[0].LongByName("Count"); n == nil || *n != 2 {
		t.Fatalf("Count = %v", n)
	}
	if a, _ := got[0].DynamicByName("a"); string(a) != "2" {
		t.Fatalf("a = %s", a)
	}

	// Values inlined by the SDK's builder are KQL literals the parser must read back.
	b := kustokql.New("print d = ").AddDateTime(time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)).
		AddLiteral(", t = ").AddTimespan(90 * time.Minute).AddLiteral(", g = ").AddGUID(uuid.MustParse("6f9619ff-8b86-d011-b42d-00c04fc964ff")).
		AddLiteral(", s = ").AddString("it's \"quoted\"\n").AddLiteral(", r = ").AddReal(1.5).AddLiteral(", x = ").AddDecimal(decimal.RequireFromString("0.1"))
	q, err = client.Query(ctx, "db1", b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	r := q.Tables()[0].Rows()[0]
	if d, _ := r.DateTimeByName("d"); d == nil || !d.Equal(time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)) {
		t.Errorf("d = %v", d)
	}
	if ts, _ := r.TimespanByName("t"); ts == nil || *ts != 90*time.Minute {
		t.Errorf("t = %v", ts)
	}
	if s, _ := r.StringByName("s"); s != "it's \"quoted\"\n" {
		t.Errorf("s = %q", s)
	}
	if x, _ := r.DecimalByName("x"); x == nil || !x.Equal(decimal.RequireFromString("0.1")) {
		t.Errorf("x = %v", x)
	}
}

func TestSDKSeesErrors(t *testing.T) {
	c := goldenCluster(t)
	client := sdkServer(t, c)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		run    func() error
		status int
		code   string
	}{
		{"syntax", func() error { _, err := client.Query(ctx, "db1", kustokql.New("Events | wher x")); return err }, 400, "BadRequest_SyntaxError"},
		{"semantic", func() error { _, err := client.Query(ctx, "db1", kustokql.New("Nope | count")); return err }, 400, "General_BadRequest"},
		{"unknown database", func() error { _, err := client.Query(ctx, "nodb", kustokql.New("print 1")); return err }, 404, "BadRequest_EntityNotFound"},
		{"unknown command", func() error { _, err := client.Mgmt(ctx, "db1", kustokql.New(".show principal roles")); return err }, 400, "BadRequest_SyntaxError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var he *kerrors.HttpError
			if !errors.As(err, &he) {
				t.Fatalf("error %T %v, want *errors.HttpError", err, err)
			}
			if he.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", he.StatusCode, tc.status)
			}
			ke, ok := kerrors.GetKustoError(err)
			if !ok || kerrors.Retry(ke) {
				t.Fatalf("the SDK treats %v as retryable", err)
			}
			if !strings.Contains(err.Error(), tc.code) {
				t.Fatalf("error %q does not carry code %s", err, tc.code)
			}
		})
	}
}
