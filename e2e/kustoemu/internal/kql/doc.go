// Package kql runs the subset of the Kusto Query Language that the emulator answers: enough for
// tests and a user's smoke checks, with Kusto's result types and null rules, and a Kusto-style
// syntax or semantic error (a *model.Error) for everything outside it — never a wrong answer.
//
// The subset: statements `declare query_parameters(…)`, `let` (scalar or tabular) and `set`
// (harmless options only); sources: a table (T, ['T'], database("db").T), print, datatable and
// a parenthesised query; operators where/filter, take/limit, count, project, project-away,
// project-rename, extend, summarize (count, countif, dcount, sum, min, max, avg, make_set,
// make_list, take_any … by …), order/sort by (asc/desc, nulls first/last), top, distinct,
// evaluate bag_unpack and getschema; the comparison and string operators (==, =~, has, contains,
// startswith, endswith, in, between, matches regex and their negations and _cs forms), dynamic
// access (d.a.b, d['a'], d[0]), arithmetic on numbers, datetimes and timespans, and the scalar
// functions listed in functions.go.
//
// The pipeline: lexer.go turns text into tokens, parser.go builds the syntax tree of ast.go,
// eval.go binds expressions to the columns in scope (checking names and types, which is where
// semantic errors come from) and computes them; operators.go runs the tabular operators over
// materialized tables, query.go runs statements. Start with [Query].
package kql
