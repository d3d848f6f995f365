package kql

import "github.com/kconnect/kconnect/e2e/kustoemu/internal/model"

// The syntax tree the parser builds. Expressions are untyped here; binding (eval.go) checks
// names and types against the columns in scope.

// Expr is a scalar expression.
type Expr interface{ pos() int }

// Literal is a constant of a known type; Value is in the model's representation (nil is null).
type Literal struct {
	Type  model.Type
	Value any
	At    int
}

// Name refers to a column, a let variable or a query parameter.
type Name struct {
	Name string
	At   int
}

// Member is dynamic member access: X.Name.
type Member struct {
	X    Expr
	Name string
	At   int
}

// Index is dynamic element access: X[Index] (an array position or a property name).
type Index struct {
	X     Expr
	Index Expr
	At    int
}

// Call is a function call; aggregates are calls too.
type Call struct {
	Fn   string
	Args []Expr
	At   int
}

// Unary is a prefix operator: '-' or '+'.
type Unary struct {
	Op string
	X  Expr
	At int
}

// Binary is an infix operator: arithmetic, comparison, string predicates, and, or.
type Binary struct {
	Op   string
	L, R Expr
	At   int
}

// InList is X in (…), !in, in~, !in~.
type InList struct {
	Op   string
	X    Expr
	List []Expr
	At   int
}

// Between is X between (Lo .. Hi) and its negation.
type Between struct {
	Not       bool
	X, Lo, Hi Expr
	At        int
}

func (e *Literal) pos() int { return e.At }
func (e *Name) pos() int    { return e.At }
func (e *Member) pos() int  { return e.At }
func (e *Index) pos() int   { return e.At }
func (e *Call) pos() int    { return e.At }
func (e *Unary) pos() int   { return e.At }
func (e *Binary) pos() int  { return e.At }
func (e *InList) pos() int  { return e.At }
func (e *Between) pos() int { return e.At }

// NamedExpr is an expression with an optional output column name (Name = expr).
type NamedExpr struct {
	Name string // "" = derived from the expression
	X    Expr
}

// Tabular is a tabular expression: a source followed by piped operators.
type Tabular struct {
	Source Source
	Ops    []Operator
}

// Source produces the first table of a pipeline.
type Source interface{ sourceNode() }

// TableRef names a table, optionally in another database (database("db").T).
type TableRef struct {
	Database string
	Name     string
	At       int
}

// PrintSource is `print a = 1, …`.
type PrintSource struct{ Items []NamedExpr }

// DataTableSource is `datatable(a:long, …) [values…]`.
type DataTableSource struct {
	Columns []model.Column
	Values  []Expr
	At      int
}

// SubQuery is a parenthesised tabular expression.
type SubQuery struct{ T *Tabular }

func (*TableRef) sourceNode()        {}
func (*PrintSource) sourceNode()     {}
func (*DataTableSource) sourceNode() {}
func (*SubQuery) sourceNode()        {}

// Operator is one piped tabular operator.
type Operator interface{ opName() string }

// Where filters rows.
type Where struct{ Pred Expr }

// Take keeps the first N rows (take, limit).
type Take struct{ N Expr }

// Count replaces the table by its row count.
type Count struct{}

// Project keeps, renames and computes columns.
type Project struct{ Items []NamedExpr }

// ProjectAway removes columns; names may end in '*' or hold '*' wildcards.
type ProjectAway struct{ Names []string }

// ProjectRename renames columns: New = Old.
type ProjectRename struct{ Pairs [][2]string }

// Extend adds or replaces computed columns.
type Extend struct{ Items []NamedExpr }

// Summarize groups and aggregates.
type Summarize struct {
	Aggs []NamedExpr
	By   []NamedExpr
}

// SortKey is one key of order by / top.
type SortKey struct {
	X          Expr
	Asc        bool
	NullsFirst bool
}

// Sort orders rows (order by, sort by).
type Sort struct{ Keys []SortKey }

// Top keeps the first N rows by a key.
type Top struct {
	N   Expr
	Key SortKey
}

// Distinct keeps distinct combinations of columns; All means distinct *.
type Distinct struct {
	Columns []string
	All     bool
}

// BagUnpack is `evaluate bag_unpack(Column [, Prefix])`.
type BagUnpack struct {
	Column Expr
	Prefix string
}

// GetSchema replaces the table by its schema.
type GetSchema struct{}

func (*Where) opName() string         { return "where" }
func (*Take) opName() string          { return "take" }
func (*Count) opName() string         { return "count" }
func (*Project) opName() string       { return "project" }
func (*ProjectAway) opName() string   { return "project-away" }
func (*ProjectRename) opName() string { return "project-rename" }
func (*Extend) opName() string        { return "extend" }
func (*Summarize) opName() string     { return "summarize" }
func (*Sort) opName() string          { return "order by" }
func (*Top) opName() string           { return "top" }
func (*Distinct) opName() string      { return "distinct" }
func (*BagUnpack) opName() string     { return "evaluate bag_unpack" }
func (*GetSchema) opName() string     { return "getschema" }

// Statement is one statement of a query.
type Statement interface{ stmtNode() }

// ParamDecl is one parameter of `declare query_parameters(…)`.
type ParamDecl struct {
	Name    string
	Type    model.Type
	Default Expr // nil = none
}

// DeclareParams is `declare query_parameters(…)`.
type DeclareParams struct{ Params []ParamDecl }

// Let binds a name to a scalar expression (X) or a tabular expression (T).
type Let struct {
	Name string
	X    Expr
	T    *Tabular
}

// SetOption is `set name [= value]`.
type SetOption struct {
	Name  string
	Value Expr
}

// TabularStatement is a tabular expression whose result is returned.
type TabularStatement struct{ T *Tabular }

func (*DeclareParams) stmtNode()    {}
func (*Let) stmtNode()              {}
func (*SetOption) stmtNode()        {}
func (*TabularStatement) stmtNode() {}
