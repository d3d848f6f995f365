package mgmt

import (
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// The verbs: each reads the object of the command and hands over to the command's file.

func show(x *command) (model.Result, error) {
	c := x.c
	switch {
	case c.is("version"):
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		if err := x.end(true); err != nil {
			return model.Result{}, err
		}
		return versionResult(), nil
	case c.is("databases"):
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		if err := x.end(true); err != nil {
			return model.Result{}, err
		}
		return x.showDatabases("")
	case c.is("database"):
		return x.showDatabase()
	case c.is("tables"):
		return x.showTables()
	case c.is("table"):
		return x.showTable()
	case c.is("ingestion"):
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		if !c.is("failures") {
			return model.Result{}, c.unknownCommand()
		}
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		return x.showIngestionFailures()
	}
	return model.Result{}, c.unknownCommand()
}

func (x *command) showDatabase() (model.Result, error) {
	c := x.c
	if err := c.advance(); err != nil {
		return model.Result{}, err
	}
	if c.isOp("|") || c.tok.Kind == kql.EOF {
		// .show database: the database in scope.
		if err := x.end(true); err != nil {
			return model.Result{}, err
		}
		return x.showDatabases(x.db)
	}
	db, err := c.name()
	if err != nil {
		return model.Result{}, err
	}
	if !c.is("policy") {
		return model.Result{}, c.unknownCommand()
	}
	if err := c.advance(); err != nil {
		return model.Result{}, err
	}
	kind, err := c.word()
	if err != nil {
		return model.Result{}, err
	}
	if kind != streamingPolicyWord {
		return model.Result{}, c.unknownCommand()
	}
	if err := x.end(true); err != nil {
		return model.Result{}, err
	}
	return x.showDatabaseStreamingPolicy(db)
}

func (x *command) showTable() (model.Result, error) {
	c := x.c
	if err := c.advance(); err != nil {
		return model.Result{}, err
	}
	if c.isOp("*") {
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		if err := c.expect("policy"); err != nil {
			return model.Result{}, err
		}
		kind, err := c.word()
		if err != nil {
			return model.Result{}, err
		}
		if err := x.end(true); err != nil {
			return model.Result{}, err
		}
		return x.showTablePolicy(x.db, "*", kind)
	}
	db, table, err := x.tableRef()
	if err != nil {
		return model.Result{}, err
	}
	what, err := c.word()
	if err != nil {
		return model.Result{}, err
	}
	switch what {
	case "schema":
		if err := c.expect("as"); err != nil {
			return model.Result{}, err
		}
		if err := c.expect("json"); err != nil {
			return model.Result{}, err
		}
		if err := x.end(true); err != nil {
			return model.Result{}, err
		}
		return x.showSchema(db, table, true)
	case "cslschema":
		if err := x.end(true); err != nil {
			return model.Result{}, err
		}
		return x.showSchema(db, table, false)
	case "ingestion":
		return x.showMappings(db, table)
	case "policy":
		kind, err := c.word()
		if err != nil {
			return model.Result{}, err
		}
		if err := x.end(true); err != nil {
			return model.Result{}, err
		}
		return x.showTablePolicy(db, table, kind)
	case "extents":
		return x.showExtents(db, table)
	}
	return model.Result{}, c.unknownCommand()
}

// create handles .create table T (…) and .create table T ingestion … mapping.
func create(x *command) (model.Result, error) {
	return x.tableCommand("create")
}

func createMerge(x *command) (model.Result, error) {
	return x.tableCommand("create-merge")
}

func createOrAlter(x *command) (model.Result, error) {
	return x.tableCommand("create-or-alter")
}

func alterMerge(x *command) (model.Result, error) {
	if x.c.is("database") {
		return x.alterDatabasePolicy(true)
	}
	return x.tableCommand("alter-merge")
}

func alter(x *command) (model.Result, error) {
	if x.c.is("database") {
		return x.alterDatabasePolicy(false)
	}
	return x.tableCommand("alter")
}

// tableCommand reads "table T" and dispatches on what follows: a schema, an ingestion mapping
// or a policy.
func (x *command) tableCommand(verb string) (model.Result, error) {
	c := x.c
	db, table, err := x.tableKeywordRef()
	if err != nil {
		return model.Result{}, err
	}
	switch {
	case c.isOp("("):
		switch verb {
		case "create", "create-merge", "alter-merge":
			return x.createTable(verb, db, table)
		}
	case c.is("ingestion"):
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		switch verb {
		case "create", "create-or-alter", "alter":
			return x.createMapping(verb, db, table)
		}
	case c.is("policy"):
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		switch verb {
		case "alter", "alter-merge":
			return x.alterTablePolicy(db, table, verb == "alter-merge")
		}
	}
	return model.Result{}, c.unknownCommand()
}

func drop(x *command) (model.Result, error) {
	c := x.c
	db, table, err := x.tableKeywordRef()
	if err != nil {
		return model.Result{}, err
	}
	if c.is("ingestion") {
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		return x.dropMapping(db, table)
	}
	ifExists, err := c.accept("ifexists")
	if err != nil {
		return model.Result{}, err
	}
	if err := x.end(false); err != nil {
		return model.Result{}, err
	}
	return x.dropTable(db, table, ifExists)
}

func deleteCommand(x *command) (model.Result, error) {
	c := x.c
	switch {
	case c.is("table"):
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		db, table, err := x.tableRef()
		if err != nil {
			return model.Result{}, err
		}
		if err := c.expect("policy"); err != nil {
			return model.Result{}, err
		}
		kind, err := c.word()
		if err != nil {
			return model.Result{}, err
		}
		if err := x.end(false); err != nil {
			return model.Result{}, err
		}
		return x.deleteTablePolicy(db, table, kind)
	case c.is("database"):
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		db, err := c.name()
		if err != nil {
			return model.Result{}, err
		}
		if err := c.expect("policy"); err != nil {
			return model.Result{}, err
		}
		kind, err := c.word()
		if err != nil {
			return model.Result{}, err
		}
		if kind != streamingPolicyWord {
			return model.Result{}, c.unknownCommand()
		}
		if err := x.end(false); err != nil {
			return model.Result{}, err
		}
		return x.setDatabaseStreamingPolicy(db, nil)
	}
	return model.Result{}, c.unknownCommand()
}

func clear(x *command) (model.Result, error) {
	c := x.c
	db, table, err := x.tableKeywordRef()
	if err != nil {
		return model.Result{}, err
	}
	if err := c.expect("data"); err != nil {
		return model.Result{}, err
	}
	if err := x.end(false); err != nil {
		return model.Result{}, err
	}
	return x.clearTable(db, table)
}

// tableKeywordRef reads "table T" (T possibly database-qualified) after a verb; anything but the
// word table is an unknown command.
func (x *command) tableKeywordRef() (db, table string, err error) {
	if !x.c.is("table") {
		return "", "", x.c.unknownCommand()
	}
	if err := x.c.advance(); err != nil {
		return "", "", err
	}
	return x.tableRef()
}
