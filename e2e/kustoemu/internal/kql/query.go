package kql

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// query is the state of one request: the cluster, the database in scope, the let variables and
// parameters bound so far, and the one now() every expression of the request sees.
type query struct {
	ctx      context.Context
	cluster  *model.Cluster
	db       string
	now      time.Time
	scalars  map[string]*Literal
	tabulars map[string]*Let
	depth    int
}

// table is a materialized intermediate result. Row slices may be shared with the cluster's
// extents and with other tables: operators never modify a row in place.
type table struct {
	cols []model.Column
	rows [][]any
}

// maxLetDepth bounds let expansion (let a = b; let b = a …).
const maxLetDepth = 64

// Query runs a query (the subset in the issue) against database db. params are the values of
// a leading `declare query_parameters(...)` statement as the SDK sends them (name → KQL literal
// text). Errors are *model.Error (syntax 400, semantic 400, unknown database 404). Every
// tabular statement of the query gives one result, named PrimaryResult.
func Query(ctx context.Context, c *model.Cluster, db, csl string, params map[string]string) ([]model.Result, error) {
	if err := c.View(func(s *model.State) error {
		_, err := s.Database(db)
		return err
	}); err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.TrimSpace(csl), ".") {
		return nil, model.SyntaxError("Control commands (starting with a dot '.') are not queries: send them to /v1/rest/mgmt")
	}
	stmts, err := Parse(csl)
	if err != nil {
		return nil, err
	}
	q := &query{
		ctx: ctx, cluster: c, db: db,
		now:      time.Now().UTC().Truncate(100 * time.Nanosecond),
		scalars:  map[string]*Literal{},
		tabulars: map[string]*Let{},
	}
	var results []model.Result
	for _, s := range stmts {
		switch st := s.(type) {
		case *DeclareParams:
			if err := q.declare(st, params); err != nil {
				return nil, err
			}
		case *Let:
			if err := q.let(st); err != nil {
				return nil, err
			}
		case *SetOption:
			if err := checkOption(st.Name); err != nil {
				return nil, err
			}
		case *TabularStatement:
			t, err := q.run(st.T)
			if err != nil {
				return nil, err
			}
			results = append(results, model.Result{Name: "PrimaryResult", Columns: t.cols, Rows: t.rows})
		}
	}
	if len(results) == 0 {
		return nil, model.SemanticError("the query has no tabular expression statement to return")
	}
	return results, nil
}

// Pipe runs query operators over a table, as Kusto does for a management command followed by
// a query (`.show tables | where …`). operators is the text from the first '|' on.
func Pipe(ctx context.Context, in model.Result, operators string) (model.Result, error) {
	ops, err := parseOperators(operators)
	if err != nil {
		return model.Result{}, err
	}
	q := newDetachedQuery(ctx)
	rows := make([][]any, len(in.Rows))
	for i, r := range in.Rows {
		row := make([]any, len(in.Columns))
		for j := range row {
			if j < len(r) && r[j] != model.DBNull {
				row[j] = r[j]
			}
		}
		rows[i] = row
	}
	t := &table{cols: in.Columns, rows: rows}
	for _, op := range ops {
		if t, err = q.apply(op, t); err != nil {
			return model.Result{}, err
		}
	}
	return model.Result{Name: in.Name, Columns: t.cols, Rows: t.rows}, nil
}

// newDetachedQuery is a query with no cluster: it can evaluate expressions but not read tables.
func newDetachedQuery(ctx context.Context) *query {
	return &query{ctx: ctx, now: time.Now().UTC().Truncate(100 * time.Nanosecond),
		scalars: map[string]*Literal{}, tabulars: map[string]*Let{}}
}

// harmlessOptions are request options that a `set` statement may name: none of them changes
// an answer of the emulator, which never truncates and has one consistency level.
var harmlessOptions = map[string]bool{
	"notruncation": true, "truncationmaxrecords": true, "truncationmaxsize": true, "norequesttimeout": true,
	"servertimeout": true, "query_datascope": true, "queryconsistency": true, "request_readonly": true,
	"query_results_cache_max_age": true, "maxmemoryconsumptionperiterator": true, "max_memory_consumption_per_query_per_node": true,
}

func checkOption(name string) error {
	if harmlessOptions[strings.ToLower(name)] {
		return nil
	}
	return model.SemanticError("the request option '%s' is not supported by the emulator", name)
}

// constant evaluates an expression that may refer only to let variables and parameters.
func (q *query) constant(e Expr, op string) (*Literal, error) {
	b := newBinder(q, nil, op)
	v, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	if !v.konst {
		return nil, b.semantic("the expression must be a constant")
	}
	return &Literal{Type: v.typ, Value: v.eval(nil)}, nil
}

func (q *query) declare(d *DeclareParams, params map[string]string) error {
	for _, p := range d.Params {
		var value *Literal
		if text, ok := params[p.Name]; ok && p.Type == model.String {
			value = stringParameter(text)
		} else if ok {
			x, err := parseLiteralText(text)
			if err != nil {
				return model.SemanticError("the value of query parameter '%s' is not a valid literal: %s", p.Name, text)
			}
			if value, err = q.constant(x, ""); err != nil {
				return err
			}
		} else if p.Default != nil {
			var err error
			if value, err = q.constant(p.Default, ""); err != nil {
				return err
			}
		} else {
			return model.SemanticError("the query parameter '%s' was declared but no value was given", p.Name)
		}
		converted := convertTo(p.Type, value.Type, value.Value)
		if converted == nil && value.Value != nil && p.Type != model.String {
			return model.SemanticError("the value of query parameter '%s' is not a valid %s", p.Name, p.Type)
		}
		q.scalars[p.Name] = &Literal{Type: p.Type, Value: converted}
	}
	return nil
}

// stringParameter is the value of a string query parameter. Clients send either a KQL string
// literal (the Go SDK: "\"x\"") or the plain text (the .NET, Python and Node.js SDKs, as Kusto's
// REST documentation specifies: only parameters of types other than string and long are given
// as KQL literals).
func stringParameter(text string) *Literal {
	if x, err := parseLiteralText(text); err == nil {
		if lit, ok := x.(*Literal); ok && lit.Type == model.String {
			return lit
		}
	}
	return &Literal{Type: model.String, Value: text}
}

// parseLiteralText parses the KQL literal text of a parameter value.
func parseLiteralText(text string) (Expr, error) {
	toks, err := Tokenize(text)
	if err != nil {
		return nil, err
	}
	p := &parser{src: text, toks: toks}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.peek().Kind != EOF {
		return nil, p.unexpected()
	}
	return x, nil
}

func (q *query) let(l *Let) error {
	if l.T == nil {
		if n, ok := l.X.(*Name); ok {
			if _, scalar := q.scalars[n.Name]; !scalar {
				// let t = SomeTable;
				q.tabulars[l.Name] = l
				delete(q.scalars, l.Name)
				return nil
			}
		}
		v, err := q.constant(l.X, "let")
		if err != nil {
			return err
		}
		q.scalars[l.Name] = v
		delete(q.tabulars, l.Name)
		return nil
	}
	q.tabulars[l.Name] = l
	delete(q.scalars, l.Name)
	return nil
}

// cancelled turns a done context into the error the client gets.
func (q *query) cancelled() error {
	if err := q.ctx.Err(); err != nil {
		return model.Internal("Query execution was cancelled: %v", err)
	}
	return nil
}

func (q *query) run(t *Tabular) (*table, error) {
	if err := q.cancelled(); err != nil {
		return nil, err
	}
	cur, err := q.source(t.Source)
	if err != nil {
		return nil, err
	}
	for _, op := range t.Ops {
		if cur, err = q.apply(op, cur); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

func (q *query) source(s Source) (*table, error) {
	switch src := s.(type) {
	case *TableRef:
		return q.tableRef(src)
	case *SubQuery:
		return q.run(src.T)
	case *PrintSource:
		return q.print(src)
	case *DataTableSource:
		return q.datatable(src)
	}
	return nil, model.SemanticError("unsupported tabular source")
}

func (q *query) tableRef(r *TableRef) (*table, error) {
	if r.Database == "" {
		if l, ok := q.tabulars[r.Name]; ok {
			q.depth++
			defer func() { q.depth-- }()
			if q.depth > maxLetDepth {
				return nil, model.SemanticError("the let statements refer to each other in a loop")
			}
			if l.T != nil {
				return q.run(l.T)
			}
			return q.tableRef(&TableRef{Name: l.X.(*Name).Name, At: r.At})
		}
		if _, ok := q.scalars[r.Name]; ok {
			return nil, model.SemanticError("'%s' is a scalar value, not a table", r.Name)
		}
	}
	if q.cluster == nil {
		return nil, model.SemanticError("Failed to resolve table or column expression named '%s'", r.Name)
	}
	dbName := r.Database
	if dbName == "" {
		dbName = q.db
	}
	var out *table
	err := q.cluster.View(func(s *model.State) error {
		db, ok := s.Databases[dbName]
		if !ok {
			return model.SemanticError("Failed to resolve database expression named '%s'", dbName)
		}
		t, ok := db.Tables[r.Name]
		if !ok {
			return model.SemanticError("Failed to resolve table or column expression named '%s'", r.Name)
		}
		out = &table{cols: append([]model.Column(nil), t.Columns...), rows: t.Rows()}
		return nil
	})
	return out, err
}

func (q *query) print(p *PrintSource) (*table, error) {
	b := newBinder(q, nil, "print")
	t := &table{rows: [][]any{make([]any, 0, len(p.Items))}}
	for i, item := range p.Items {
		v, err := b.bind(item.X)
		if err != nil {
			return nil, err
		}
		name := item.Name
		if name == "" {
			name = deriveName(item.X)
		}
		if name == "" {
			name = "print_" + strconv.Itoa(i)
		}
		t.cols = append(t.cols, model.Column{Name: uniqueName(t.cols, name), Type: v.typ})
		t.rows[0] = append(t.rows[0], v.eval(nil))
	}
	return t, nil
}

func (q *query) datatable(d *DataTableSource) (*table, error) {
	n := len(d.Columns)
	if n == 0 || len(d.Values)%n != 0 {
		return nil, model.SemanticError("datatable: the number of values (%d) is not a multiple of the number of columns (%d)", len(d.Values), n)
	}
	t := &table{cols: d.Columns}
	for i := 0; i < len(d.Values); i += n {
		row := make([]any, n)
		for j, col := range d.Columns {
			v, err := q.constant(d.Values[i+j], "datatable")
			if err != nil {
				return nil, err
			}
			converted := convertTo(col.Type, v.Type, v.Value)
			if converted == nil && v.Value != nil {
				return nil, model.SemanticError("datatable: the value for column '%s' is not a valid %s", col.Name, col.Type)
			}
			row[j] = converted
		}
		t.rows = append(t.rows, row)
	}
	return t, nil
}
