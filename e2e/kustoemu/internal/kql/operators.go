package kql

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// apply runs one tabular operator.
func (q *query) apply(op Operator, in *table) (*table, error) {
	if err := q.cancelled(); err != nil {
		return nil, err
	}
	switch o := op.(type) {
	case *Where:
		return q.where(o, in)
	case *Take:
		n, err := q.count(o.N, "take")
		if err != nil {
			return nil, err
		}
		return &table{cols: in.cols, rows: in.rows[:min(n, len(in.rows))]}, nil
	case *Count:
		return &table{cols: []model.Column{{Name: "Count", Type: model.Long}}, rows: [][]any{{int64(len(in.rows))}}}, nil
	case *Project:
		return q.project(o.Items, in, "project", false)
	case *Extend:
		return q.project(o.Items, in, "extend", true)
	case *ProjectAway:
		return projectAway(o, in)
	case *ProjectRename:
		return projectRename(o, in)
	case *Summarize:
		return q.summarize(o, in)
	case *Sort:
		return q.sort(o.Keys, in, "order by")
	case *Top:
		n, err := q.count(o.N, "top")
		if err != nil {
			return nil, err
		}
		sorted, err := q.sort([]SortKey{o.Key}, in, "top")
		if err != nil {
			return nil, err
		}
		sorted.rows = sorted.rows[:min(n, len(sorted.rows))]
		return sorted, nil
	case *Distinct:
		return distinct(o, in)
	case *BagUnpack:
		return q.bagUnpack(o, in)
	case *GetSchema:
		out := &table{cols: []model.Column{
			{Name: "ColumnName", Type: model.String}, {Name: "ColumnOrdinal", Type: model.Int},
			{Name: "DataType", Type: model.String}, {Name: "ColumnType", Type: model.String},
		}}
		for i, c := range in.cols {
			out.rows = append(out.rows, []any{c.Name, int32(i), c.Type.DotNetName(), string(c.Type)})
		}
		return out, nil
	}
	return nil, model.SemanticError("unsupported operator")
}

// count evaluates the constant row count of take and top.
func (q *query) count(e Expr, op string) (int, error) {
	v, err := q.constant(e, op)
	if err != nil {
		return 0, err
	}
	if v.Type != model.Long && v.Type != model.Int {
		return 0, model.SemanticError("'%s' operator: the row count must be an integer, got %s", op, v.Type)
	}
	if v.Value == nil {
		return 0, nil
	}
	return int(max(min(toI64(v.Value), 1<<31), 0)), nil
}

func (q *query) where(w *Where, in *table) (*table, error) {
	b := newBinder(q, in.cols, "where")
	pred, err := b.bind(w.Pred)
	if err != nil {
		return nil, err
	}
	test, ok := asBool(pred)
	if !ok {
		return nil, b.semantic("the predicate must be of type bool, got %s", pred.typ)
	}
	out := &table{cols: in.cols}
	for i, r := range in.rows {
		if i&4095 == 4095 {
			if err := q.cancelled(); err != nil {
				return nil, err
			}
		}
		if test(r) == true {
			out.rows = append(out.rows, r)
		}
	}
	return out, nil
}

// project runs project (keep only the listed columns) and extend (add to or replace in the
// input's columns).
func (q *query) project(items []NamedExpr, in *table, op string, extend bool) (*table, error) {
	b := newBinder(q, in.cols, op)
	type outCol struct {
		src  int // input column to copy, or -1
		expr *bound
	}
	var cols []model.Column
	var plan []outCol
	if extend {
		cols = append(cols, in.cols...)
		for i := range in.cols {
			plan = append(plan, outCol{src: i})
		}
	}
	auto := 0
	for _, item := range items {
		v, err := b.bind(item.X)
		if err != nil {
			return nil, err
		}
		name := item.Name
		if name == "" {
			name = deriveName(item.X)
		}
		if name == "" {
			for {
				auto++
				name = "Column" + strconv.Itoa(auto)
				if !hasColumn(cols, name) && (extend || !hasColumn(in.cols, name)) {
					break
				}
			}
		}
		if i := columnIndex(cols, name); i >= 0 && extend {
			cols[i], plan[i] = model.Column{Name: name, Type: v.typ}, outCol{src: -1, expr: v}
			continue
		}
		if hasColumn(cols, name) {
			_, isColumn := item.X.(*Name)
			if item.Name != "" || isColumn {
				return nil, b.semantic("the column '%s' is specified more than once", name)
			}
			name = uniqueName(cols, name) // a derived name: number it, as Kusto does
		}
		col := model.Column{Name: name, Type: v.typ}
		cols = append(cols, col)
		plan = append(plan, outCol{src: -1, expr: v})
	}
	out := &table{cols: cols, rows: make([][]any, len(in.rows))}
	for i, r := range in.rows {
		if i&4095 == 4095 {
			if err := q.cancelled(); err != nil {
				return nil, err
			}
		}
		row := make([]any, len(plan))
		for j, p := range plan {
			if p.src >= 0 {
				row[j] = r[p.src]
			} else {
				row[j] = p.expr.eval(r)
			}
		}
		out.rows[i] = row
	}
	return out, nil
}

// deriveName is the column name Kusto gives an unnamed expression: a column's own name, a
// dynamic path joined with '_' (d.a.b → d_a_b), the argument's name for conversions and
// bin(); "" when there is none (the caller numbers it Column1, Column2 …).
func deriveName(e Expr) string {
	switch x := e.(type) {
	case *Name:
		return x.Name
	case *Member:
		if base := deriveName(x.X); base != "" {
			return base + "_" + x.Name
		}
	case *Index:
		base := deriveName(x.X)
		if lit, ok := x.Index.(*Literal); ok && base != "" {
			return base + "_" + model.FormatText(lit.Value)
		}
	case *Call:
		if namedAfterArgument[x.Fn] && len(x.Args) > 0 {
			return deriveName(x.Args[0])
		}
	}
	return ""
}

// namedAfterArgument are the functions whose result column is named after their first argument.
var namedAfterArgument = map[string]bool{
	"tostring": true, "toint": true, "tolong": true, "todouble": true, "toreal": true, "todecimal": true,
	"tobool": true, "toboolean": true, "todatetime": true, "totimespan": true, "totime": true, "toguid": true,
	"todynamic": true, "toobject": true, "parse_json": true, "bin": true, "floor": true,
}

func hasColumn(cols []model.Column, name string) bool { return columnIndex(cols, name) >= 0 }

func columnIndex(cols []model.Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// uniqueName returns name, or name with a number appended when a column already has it.
func uniqueName(cols []model.Column, name string) string {
	if !hasColumn(cols, name) {
		return name
	}
	for i := 1; ; i++ {
		n := name + strconv.Itoa(i)
		if !hasColumn(cols, n) {
			return n
		}
	}
}

func projectAway(p *ProjectAway, in *table) (*table, error) {
	drop := make([]bool, len(in.cols))
	for _, pattern := range p.Names {
		matched := false
		for i, c := range in.cols {
			if ok, _ := path.Match(pattern, c.Name); ok || c.Name == pattern {
				drop[i], matched = true, true
			}
		}
		if !matched && !strings.Contains(pattern, "*") {
			return nil, model.SemanticError("'project-away' operator: Failed to resolve column or scalar expression named '%s'", pattern)
		}
	}
	var keep []int
	out := &table{}
	for i, c := range in.cols {
		if !drop[i] {
			keep = append(keep, i)
			out.cols = append(out.cols, c)
		}
	}
	out.rows = make([][]any, len(in.rows))
	for i, r := range in.rows {
		row := make([]any, len(keep))
		for j, k := range keep {
			row[j] = r[k]
		}
		out.rows[i] = row
	}
	return out, nil
}

func projectRename(p *ProjectRename, in *table) (*table, error) {
	cols := append([]model.Column(nil), in.cols...)
	for _, pair := range p.Pairs {
		i := columnIndex(in.cols, pair[1])
		if i < 0 {
			return nil, model.SemanticError("'project-rename' operator: Failed to resolve column named '%s'", pair[1])
		}
		cols[i].Name = pair[0]
	}
	for i := range cols {
		for j := i + 1; j < len(cols); j++ {
			if cols[i].Name == cols[j].Name {
				return nil, model.SemanticError("'project-rename' operator: the column '%s' is specified more than once", cols[i].Name)
			}
		}
	}
	return &table{cols: cols, rows: in.rows}, nil
}

// group is one group of summarize: its key values and its aggregators.
type group struct {
	keys []any
	aggs []aggregator
}

func (q *query) summarize(s *Summarize, in *table) (*table, error) {
	b := newBinder(q, in.cols, "summarize")
	var out table
	keys := make([]*bound, len(s.By))
	for i, k := range s.By {
		v, err := b.bind(k.X)
		if err != nil {
			return nil, err
		}
		name := k.Name
		if name == "" {
			name = deriveName(k.X)
		}
		if name == "" {
			name = "Column" + strconv.Itoa(i+1)
		}
		if v.typ == model.Dynamic {
			return nil, b.semantic("Summarize group key '%s' is of a 'dynamic' type. Please use an explicit cast (for example, 'tostring(%s)')", name, name)
		}
		keys[i] = v
		out.cols = append(out.cols, model.Column{Name: uniqueName(out.cols, name), Type: v.typ})
	}
	makers := make([]func() aggregator, len(s.Aggs))
	for i, a := range s.Aggs {
		call, ok := a.X.(*Call)
		var fn aggFunc
		if ok {
			fn, ok = aggregateFuncs[call.Fn]
		}
		if !ok {
			if call != nil {
				return nil, b.semantic("'%s' is not an aggregation function the emulator supports (count, countif, dcount, sum, min, max, avg, make_set, make_list, take_any)", call.Fn)
			}
			return nil, b.semantic("each aggregation must be a call of an aggregation function such as count() or sum(); expressions over aggregations are not supported by the emulator")
		}
		if len(call.Args) < fn.min || len(call.Args) > fn.max {
			return nil, b.semantic("the function '%s' expects %s, got %d", call.Fn, arity(fn.min, fn.max), len(call.Args))
		}
		args := make([]*bound, len(call.Args))
		for j, arg := range call.Args {
			v, err := b.bind(arg)
			if err != nil {
				return nil, err
			}
			args[j] = v
		}
		typ, maker, err := fn.bind(b, args)
		if err != nil {
			return nil, err
		}
		name := a.Name
		if name == "" {
			name = fn.prefix + "_"
			if len(call.Args) > 0 && call.Fn != "countif" {
				name += deriveName(call.Args[0])
			}
		}
		makers[i] = maker
		out.cols = append(out.cols, model.Column{Name: uniqueName(out.cols, name), Type: typ})
	}

	newGroup := func(kv []any) *group {
		g := &group{keys: kv, aggs: make([]aggregator, len(makers))}
		for i, m := range makers {
			g.aggs[i] = m()
		}
		return g
	}
	var order []*group
	groups := map[string]*group{}
	var sb strings.Builder
	for i, r := range in.rows {
		if i&4095 == 4095 {
			if err := q.cancelled(); err != nil {
				return nil, err
			}
		}
		kv := make([]any, len(keys))
		sb.Reset()
		for j, k := range keys {
			kv[j] = k.eval(r)
			groupKey(&sb, k.typ, kv[j])
		}
		g, ok := groups[sb.String()]
		if !ok {
			g = newGroup(kv)
			groups[sb.String()] = g
			order = append(order, g)
		}
		for _, a := range g.aggs {
			a.add(r)
		}
	}
	if len(keys) == 0 && len(order) == 0 {
		// Without 'by', an empty input still gives one row (count() = 0).
		order = append(order, newGroup(nil))
	}
	for _, g := range order {
		row := append(make([]any, 0, len(out.cols)), g.keys...)
		for _, a := range g.aggs {
			row = append(row, a.result())
		}
		out.rows = append(out.rows, row)
	}
	return &out, nil
}

func (q *query) sort(keys []SortKey, in *table, op string) (*table, error) {
	b := newBinder(q, in.cols, op)
	bound := make([]*bound, len(keys))
	for i, k := range keys {
		v, err := b.bind(k.X)
		if err != nil {
			return nil, err
		}
		if v.typ == model.Dynamic {
			return nil, b.semantic("a sort key must be a scalar of a non-dynamic type; cast it first (for example, tostring(...))")
		}
		bound[i] = v
	}
	// Evaluate the keys once per row, then sort stably.
	type keyed struct {
		row  []any
		vals []any
	}
	rows := make([]keyed, len(in.rows))
	for i, r := range in.rows {
		vals := make([]any, len(bound))
		for j, k := range bound {
			vals[j] = k.eval(r)
		}
		rows[i] = keyed{r, vals}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for k, key := range keys {
			a, c := rows[i].vals[k], rows[j].vals[k]
			switch {
			case a == nil && c == nil:
				continue
			case a == nil:
				return key.NullsFirst
			case c == nil:
				return !key.NullsFirst
			}
			cmp := compareSame(bound[k].typ, a, c)
			if cmp == 0 {
				continue
			}
			return (cmp < 0) == key.Asc
		}
		return false
	})
	out := &table{cols: in.cols, rows: make([][]any, len(rows))}
	for i, r := range rows {
		out.rows[i] = r.row
	}
	return out, nil
}

func distinct(d *Distinct, in *table) (*table, error) {
	idx := make([]int, 0, len(in.cols))
	out := &table{}
	if d.All {
		for i, c := range in.cols {
			idx = append(idx, i)
			out.cols = append(out.cols, c)
		}
	} else {
		for _, name := range d.Columns {
			i := columnIndex(in.cols, name)
			if i < 0 {
				return nil, model.SemanticError("'distinct' operator: Failed to resolve column named '%s'", name)
			}
			idx = append(idx, i)
			out.cols = append(out.cols, in.cols[i])
		}
	}
	seen := map[string]bool{}
	var sb strings.Builder
	for _, r := range in.rows {
		sb.Reset()
		row := make([]any, len(idx))
		for j, i := range idx {
			row[j] = r[i]
			groupKey(&sb, in.cols[i].Type, r[i])
		}
		if !seen[sb.String()] {
			seen[sb.String()] = true
			out.rows = append(out.rows, row)
		}
	}
	return out, nil
}

// bagUnpack expands a property-bag column into one dynamic column per property, named in
// sorted order after the column's other columns, as Kusto's bag_unpack plugin does.
func (q *query) bagUnpack(u *BagUnpack, in *table) (*table, error) {
	name, ok := u.Column.(*Name)
	if !ok {
		return nil, model.SemanticError("bag_unpack(): the first argument must be a column of type dynamic")
	}
	src := columnIndex(in.cols, name.Name)
	if src < 0 {
		return nil, model.SemanticError("bag_unpack(): Failed to resolve column named '%s'", name.Name)
	}
	if in.cols[src].Type != model.Dynamic {
		return nil, model.SemanticError("bag_unpack(): the column '%s' must be of type dynamic, got %s", name.Name, in.cols[src].Type)
	}
	keySet := map[string]bool{}
	for _, r := range in.rows {
		if bag, ok := r[src].(map[string]any); ok {
			for k := range bag {
				keySet[k] = true
			}
		}
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &table{}
	var keep []int
	for i, c := range in.cols {
		if i != src {
			keep = append(keep, i)
			out.cols = append(out.cols, c)
		}
	}
	for _, k := range keys {
		colName := u.Prefix + k
		if hasColumn(out.cols, colName) {
			return nil, model.SemanticError("bag_unpack(): the property '%s' collides with the existing column '%s'; give a column prefix", k, colName)
		}
		out.cols = append(out.cols, model.Column{Name: colName, Type: model.Dynamic})
	}
	out.rows = make([][]any, len(in.rows))
	for i, r := range in.rows {
		row := make([]any, 0, len(out.cols))
		for _, k := range keep {
			row = append(row, r[k])
		}
		bag, _ := r[src].(map[string]any)
		for _, k := range keys {
			row = append(row, bag[k])
		}
		out.rows[i] = row
	}
	return out, nil
}
