package mgmt

import (
	"strings"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/ingest"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// mappingKinds are the mapping kinds Kusto knows, by their lower-case name, with the name
// Kusto shows in the Kind column.
var mappingKinds = map[string]string{
	"csv": "Csv", "json": "Json", "avro": "Avro", "parquet": "Parquet", "orc": "Orc", "w3clogfile": "W3CLogFile",
}

// mappingKind reads a mapping kind keyword.
func (x *command) mappingKind() (string, error) {
	c := x.c
	pos := c.tok.Pos
	kind, err := c.word()
	if err != nil {
		return "", err
	}
	if kind == "apacheavro" {
		kind = "avro"
	}
	if _, ok := mappingKinds[kind]; !ok {
		return "", kql.SyntaxErrorAt(c.src, pos, "unknown ingestion mapping kind '%s'; kinds are csv, json, avro, parquet, orc, w3clogfile", kind)
	}
	return kind, nil
}

func mappingRow(db, table string, m *model.Mapping) []any {
	return []any{m.Name, mappingKinds[m.Kind], m.Text, m.LastUpdated, db, table}
}

// createMapping runs .create / .create-or-alter / .alter table T ingestion <kind> mapping
// 'name' '<json>' (the cursor is past "ingestion").
func (x *command) createMapping(verb, db, table string) (model.Result, error) {
	c := x.c
	kind, err := x.mappingKind()
	if err != nil {
		return model.Result{}, err
	}
	if err := c.expect("mapping"); err != nil {
		return model.Result{}, err
	}
	name, err := c.literal()
	if err != nil {
		return model.Result{}, err
	}
	text, err := c.str()
	if err != nil {
		return model.Result{}, err
	}
	if _, err := x.parseWith(); err != nil {
		return model.Result{}, err
	}
	if err := x.end(false); err != nil {
		return model.Result{}, err
	}
	if err := checkName("mapping", name); err != nil {
		return model.Result{}, err
	}
	if err := ingest.ValidateMapping(kind, text); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: mappingColumns}
	err = x.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		m, exists := t.Mapping(kind, name)
		switch {
		case exists && verb == "create":
			return model.EntityAlreadyExists("Mapping", name, "table '%s' already has a %s mapping of that name; use .create-or-alter to replace it", table, kind)
		case !exists && verb == "alter":
			return model.EntityNotFound("Mapping", name)
		case !exists:
			m = &model.Mapping{Name: name, Kind: kind}
			t.Mappings = append(t.Mappings, m)
		}
		m.Text, m.LastUpdated = text, now()
		res.Rows = append(res.Rows, mappingRow(db, table, m))
		return nil
	})
	return res, err
}

// showMappings runs .show table T ingestion [<kind>] mappings and .show table T ingestion
// <kind> mapping 'name' (the cursor is past "ingestion").
func (x *command) showMappings(db, table string) (model.Result, error) {
	c := x.c
	kind := ""
	if !c.is("mappings", "mapping") {
		var err error
		if kind, err = x.mappingKind(); err != nil {
			return model.Result{}, err
		}
	}
	single := c.is("mapping")
	if !c.is("mappings", "mapping") {
		return model.Result{}, c.syntax("expected 'mappings' or 'mapping'")
	}
	if err := c.advance(); err != nil {
		return model.Result{}, err
	}
	name := ""
	if single && c.tok.Kind == kql.String {
		var err error
		if name, err = c.literal(); err != nil {
			return model.Result{}, err
		}
	}
	if err := x.end(true); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: mappingColumns}
	err := x.cluster.View(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		for _, m := range t.Mappings {
			if (kind == "" || m.Kind == kind) && (name == "" || m.Name == name) {
				res.Rows = append(res.Rows, mappingRow(db, table, m))
			}
		}
		if name != "" && len(res.Rows) == 0 {
			return model.EntityNotFound("Mapping", name)
		}
		return nil
	})
	return res, err
}

// dropMapping runs .drop table T ingestion <kind> mapping 'name' (the cursor is past
// "ingestion") and returns the table's remaining mappings.
func (x *command) dropMapping(db, table string) (model.Result, error) {
	c := x.c
	kind, err := x.mappingKind()
	if err != nil {
		return model.Result{}, err
	}
	if err := c.expect("mapping"); err != nil {
		return model.Result{}, err
	}
	name, err := c.literal()
	if err != nil {
		return model.Result{}, err
	}
	if err := x.end(false); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: mappingColumns}
	err = x.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		kept := t.Mappings[:0:0]
		found := false
		for _, m := range t.Mappings {
			if strings.EqualFold(m.Kind, kind) && m.Name == name {
				found = true
				continue
			}
			kept = append(kept, m)
		}
		if !found {
			return model.EntityNotFound("Mapping", name)
		}
		t.Mappings = kept
		for _, m := range kept {
			res.Rows = append(res.Rows, mappingRow(db, table, m))
		}
		return nil
	})
	return res, err
}
