// Package mgmt runs the emulator's engine management commands: the text of a /v1/rest/mgmt
// request that starts with '.', such as `.show tables`, `.create-merge table`, mapping and
// policy commands and `.ingest inline`. [Execute] parses one command, applies it to the cluster
// (every change inside model.Cluster.Update) and returns its result table with the columns
// real Kusto returns. A `.show` command may be followed by query operators
// (`.show tables | where …`), which run through kql.Pipe.
//
// The data-management commands (`.get ingestion resources`, `.get kusto identity token`) are
// answered by the service, not here.
package mgmt

import (
	"context"
	"strings"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// now is the clock of LastUpdatedOn and extent creation times; tests replace it.
var now = func() time.Time { return time.Now().UTC() }

// command is one command being parsed and run.
type command struct {
	ctx     context.Context
	cluster *model.Cluster
	db      string
	c       *cursor
	pipe    string // query operators after a .show command, from the '|' on
}

// handler parses the rest of a command (the cursor is past its verb) and runs it.
type handler func(x *command) (model.Result, error)

var verbs map[string]handler

func init() {
	verbs = map[string]handler{
		"show":            show,
		"create":          create,
		"create-merge":    createMerge,
		"create-or-alter": createOrAlter,
		"alter":           alter,
		"alter-merge":     alterMerge,
		"drop":            drop,
		"delete":          deleteCommand,
		"clear":           clear,
		"ingest":          ingestCommand,
	}
}

// Execute runs one engine management command (text starting with '.'), except the
// data-management commands `.get ingestion resources`, `.show ingestion resources` and
// `.get kusto identity token`, which the service answers itself. Errors are *model.Error;
// unknown commands are a 400 syntax error, never a silent success.
func Execute(ctx context.Context, c *model.Cluster, db, csl string) ([]model.Result, error) {
	cur, err := newCursor(csl)
	if err != nil {
		return nil, err
	}
	if !cur.isOp(".") {
		return nil, cur.syntax("a management command starts with '.'")
	}
	if err := cur.advance(); err != nil {
		return nil, err
	}
	verb := strings.ToLower(cur.tok.Text)
	h, ok := verbs[verb]
	if cur.tok.Kind != kql.Ident || !ok {
		return nil, cur.unknownCommand()
	}
	if err := cur.advance(); err != nil {
		return nil, err
	}
	x := &command{ctx: ctx, cluster: c, db: db, c: cur}
	res, err := h(x)
	if err != nil {
		return nil, err
	}
	if x.pipe != "" {
		if res, err = kql.Pipe(ctx, res, x.pipe); err != nil {
			return nil, err
		}
	}
	return []model.Result{res}, nil
}

// end checks that the command text is complete. For .show commands (pipe true) it accepts
// trailing query operators, kept in x.pipe and run on the result.
func (x *command) end(pipe bool) error {
	if pipe && x.c.isOp("|") {
		x.pipe = x.c.rest()
		return nil
	}
	if x.c.tok.Kind != kql.EOF {
		return x.c.unexpected()
	}
	return nil
}

// tableRef parses a table name, optionally qualified by its database (db.T), and returns the
// database it lives in.
func (x *command) tableRef() (db, name string, err error) {
	first, err := x.c.name()
	if err != nil {
		return "", "", err
	}
	if x.c.isOp(".") {
		if err := x.c.advance(); err != nil {
			return "", "", err
		}
		second, err := x.c.name()
		if err != nil {
			return "", "", err
		}
		return first, second, nil
	}
	return x.db, first, nil
}
