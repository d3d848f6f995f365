package mgmt

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// maxNameLength is Kusto's limit on entity names.
const maxNameLength = 1024

// checkName applies Kusto's entity-name rule: letters, digits, '_', ' ', '.' and '-'.
func checkName(kind, name string) error {
	if name == "" || len(name) > maxNameLength || strings.TrimSpace(name) != name {
		return model.BadRequest("BadRequest_InvalidEntityName", "The %s name '%s' is not valid: names are 1 to %d characters without leading or trailing spaces.", kind, name, maxNameLength)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == ' ' || r == '.' || r == '-') {
			return model.BadRequest("BadRequest_InvalidEntityName", "The %s name '%s' is not valid: names hold letters, digits, '_', ' ', '.' and '-' only.", kind, name)
		}
	}
	return nil
}

func (x *command) showTables() (model.Result, error) {
	c := x.c
	if err := c.advance(); err != nil {
		return model.Result{}, err
	}
	var only []string
	if c.isOp("(") {
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
		for !c.isOp(")") {
			if len(only) > 0 {
				if err := c.expectOp(","); err != nil {
					return model.Result{}, err
				}
			}
			n, err := c.name()
			if err != nil {
				return model.Result{}, err
			}
			only = append(only, n)
		}
		if err := c.advance(); err != nil {
			return model.Result{}, err
		}
	}
	if err := x.end(true); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: tablesColumns}
	err := x.cluster.View(func(s *model.State) error {
		d, err := s.Database(x.db)
		if err != nil {
			return err
		}
		names := d.TableNames()
		if only != nil {
			for _, n := range only {
				if _, err := d.Table(n); err != nil {
					return err
				}
			}
			names = only
		}
		for _, n := range names {
			t := d.Tables[n]
			res.Rows = append(res.Rows, []any{t.Name, d.Name, t.Folder, t.DocString})
		}
		return nil
	})
	return res, err
}

func (x *command) showSchema(db, table string, asJSON bool) (model.Result, error) {
	var res model.Result
	err := x.cluster.View(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		res = schemaResult(db, t, asJSON)
		return nil
	})
	return res, err
}

// schemaResult is the one-row answer of .show table T schema as json / cslschema and of the
// table-creating commands.
func schemaResult(db string, t *model.Table, asJSON bool) model.Result {
	schema := cslSchema(t.Columns)
	if asJSON {
		schema = schemaJSON(t)
	}
	return model.Result{Columns: tableSchemaColumns, Rows: [][]any{{t.Name, schema, db, t.Folder, t.DocString}}}
}

type jsonColumn struct {
	Name    string
	Type    string
	CslType string
}

type jsonSchema struct {
	Name           string
	OrderedColumns []jsonColumn
}

// schemaJSON is Kusto's JSON table schema: {"Name":…,"OrderedColumns":[{"Name","Type","CslType"}]}.
func schemaJSON(t *model.Table) string {
	s := jsonSchema{Name: t.Name, OrderedColumns: make([]jsonColumn, len(t.Columns))}
	for i, c := range t.Columns {
		s.OrderedColumns[i] = jsonColumn{Name: c.Name, Type: c.Type.DotNetName(), CslType: string(c.Type)}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // strings only: cannot fail
	return strings.TrimRight(buf.String(), "\n")
}

// cslSchema is the schema as a create command takes it: a:string,b:long.
func cslSchema(cols []model.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = quoteName(c.Name) + ":" + string(c.Type)
	}
	return strings.Join(parts, ",")
}

// quoteName brackets a name that is not a plain identifier: ['my col'].
func quoteName(n string) string {
	plain := n != ""
	for i, r := range n {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')) {
			plain = false
			break
		}
	}
	if plain {
		return n
	}
	return "['" + strings.ReplaceAll(strings.ReplaceAll(n, `\`, `\\`), "'", `\'`) + "']"
}

// parseColumns parses a schema: (name:type, …).
func (x *command) parseColumns() ([]model.Column, error) {
	c := x.c
	if err := c.expectOp("("); err != nil {
		return nil, err
	}
	var cols []model.Column
	for !c.isOp(")") {
		if len(cols) > 0 {
			if err := c.expectOp(","); err != nil {
				return nil, err
			}
		}
		name, err := c.name()
		if err != nil {
			return nil, err
		}
		if err := c.expectOp(":"); err != nil {
			return nil, err
		}
		if c.tok.Kind != kql.Ident {
			return nil, c.syntax("expected a column type")
		}
		typ, ok := model.ParseType(c.tok.Text)
		if !ok {
			return nil, c.syntax("unknown column type '%s'", c.tok.Text)
		}
		if err := c.advance(); err != nil {
			return nil, err
		}
		if err := checkName("column", name); err != nil {
			return nil, err
		}
		for _, have := range cols {
			if have.Name == name {
				return nil, model.BadRequest("BadRequest_DuplicateColumnName", "The column '%s' is specified more than once.", name)
			}
		}
		cols = append(cols, model.Column{Name: name, Type: typ})
	}
	if len(cols) == 0 {
		return nil, c.syntax("a table needs at least one column")
	}
	return cols, c.advance()
}

// tableProperties is the optional with (docstring = '…', folder = '…') of table commands.
type tableProperties struct {
	docString, folder *string
}

func (x *command) parseTableProperties() (tableProperties, error) {
	var p tableProperties
	props, err := x.parseWith()
	if err != nil {
		return p, err
	}
	for k, v := range props {
		v := v
		switch k {
		case "docstring":
			p.docString = &v
		case "folder":
			p.folder = &v
		default:
			return p, model.BadRequest("BadRequest_InvalidArgument", "The table property '%s' is not supported; use docstring or folder.", k)
		}
	}
	return p, nil
}

// parseWith parses an optional with (name = value, …); names are lower-cased.
func (x *command) parseWith() (map[string]string, error) {
	c := x.c
	props := map[string]string{}
	if ok, err := c.accept("with"); err != nil || !ok {
		return props, err
	}
	if err := c.expectOp("("); err != nil {
		return nil, err
	}
	for !c.isOp(")") {
		if len(props) > 0 {
			if err := c.expectOp(","); err != nil {
				return nil, err
			}
		}
		key, err := c.name()
		if err != nil {
			return nil, err
		}
		if err := c.expectOp("="); err != nil {
			return nil, err
		}
		var value string
		switch c.tok.Kind {
		case kql.String:
			if value, err = c.str(); err != nil {
				return nil, err
			}
		case kql.Ident, kql.Long, kql.Real:
			value = c.tok.Text
			if err := c.advance(); err != nil {
				return nil, err
			}
		default:
			return nil, c.syntax("expected a property value")
		}
		props[strings.ToLower(key)] = value
	}
	return props, c.advance()
}

func (x *command) createTable(verb, db, table string) (model.Result, error) {
	if err := checkName("table", table); err != nil {
		return model.Result{}, err
	}
	cols, err := x.parseColumns()
	if err != nil {
		return model.Result{}, err
	}
	props, err := x.parseTableProperties()
	if err != nil {
		return model.Result{}, err
	}
	if err := x.end(false); err != nil {
		return model.Result{}, err
	}
	var res model.Result
	err = x.cluster.Update(func(s *model.State) error {
		d, err := s.Database(db)
		if err != nil {
			return err
		}
		t, exists := d.Tables[table]
		switch {
		case !exists && verb == "alter-merge":
			return model.EntityNotFound("Table", table)
		case !exists:
			t = &model.Table{Name: table, Columns: cols}
			d.Tables[table] = t
		case verb == "create":
			// Kusto's .create is idempotent for the same schema only.
			if cslSchema(t.Columns) != cslSchema(cols) {
				return model.EntityAlreadyExists("Table", table, "its schema (%s) differs from the requested one (%s)", cslSchema(t.Columns), cslSchema(cols))
			}
		default:
			merged, err := mergeColumns(t, cols)
			if err != nil {
				return err
			}
			t.Columns = merged
		}
		if props.docString != nil {
			t.DocString = *props.docString
		}
		if props.folder != nil {
			t.Folder = *props.folder
		}
		res = schemaResult(db, t, true)
		return nil
	})
	return res, err
}

// mergeColumns adds the columns t lacks; a column that exists must keep its type.
func mergeColumns(t *model.Table, cols []model.Column) ([]model.Column, error) {
	merged := append([]model.Column(nil), t.Columns...)
	for _, c := range cols {
		i, ok := t.ColumnIndex(c.Name)
		if !ok {
			merged = append(merged, c)
			continue
		}
		if t.Columns[i].Type != c.Type {
			return nil, model.BadRequest("BadRequest_InvalidArgument",
				"The column '%s' of table '%s' has type %s and cannot be merged with type %s.", c.Name, t.Name, t.Columns[i].Type, c.Type)
		}
	}
	return merged, nil
}

func (x *command) dropTable(db, table string, ifExists bool) (model.Result, error) {
	res := model.Result{Columns: dropTableColumns}
	err := x.cluster.Update(func(s *model.State) error {
		d, err := s.Database(db)
		if err != nil {
			return err
		}
		if _, ok := d.Tables[table]; !ok && !ifExists {
			return model.EntityNotFound("Table", table)
		}
		delete(d.Tables, table)
		for _, n := range d.TableNames() {
			res.Rows = append(res.Rows, []any{n, d.Name})
		}
		return nil
	})
	return res, err
}

func (x *command) clearTable(db, table string) (model.Result, error) {
	err := x.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		t.Extents = nil
		return nil
	})
	if err != nil {
		return model.Result{}, err
	}
	return model.Result{Columns: clearTableColumns, Rows: [][]any{{"Success"}}}, nil
}
