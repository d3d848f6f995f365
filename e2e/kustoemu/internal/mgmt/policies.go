package mgmt

import (
	"encoding/json"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// The policy kinds as commands name them, and as .show … policy reports them.
const (
	streamingPolicyWord = "streamingingestion"
	batchingPolicyWord  = "ingestionbatching"
	streamingPolicyName = "StreamingIngestionPolicy"
	batchingPolicyName  = "IngestionBatchingPolicy"
)

func invalidPolicy(format string, args ...any) *model.Error {
	return model.BadRequest("BadRequest_InvalidArgument", "The policy is not valid: "+format, args...)
}

// policyJSON renders a policy object as Kusto shows it: indented JSON.
func policyJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ") // plain structs: cannot fail
	return string(b)
}

type streamingPolicyDoc struct {
	IsEnabled         bool
	HintAllocatedRate *float64
}

type batchingPolicyDoc struct {
	MaximumBatchingTimeSpan string
	MaximumNumberOfItems    int
	MaximumRawDataSizeMB    int
}

func streamingPolicyValue(p *model.StreamingPolicy) any {
	if p == nil {
		return model.DBNull
	}
	return policyJSON(streamingPolicyDoc{IsEnabled: p.IsEnabled})
}

func batchingPolicyValue(p *model.BatchingPolicy) any {
	if p == nil {
		return model.DBNull
	}
	return policyJSON(batchingPolicyDoc{
		MaximumBatchingTimeSpan: model.FormatTimeSpan(p.MaximumBatchingTimeSpan),
		MaximumNumberOfItems:    p.MaximumNumberOfItems,
		MaximumRawDataSizeMB:    p.MaximumRawDataSizeMB,
	})
}

func tableEntity(db, table string) string { return "[" + db + "].[" + table + "]" }

func tablePolicyRow(db string, t *model.Table, kind string) []any {
	if kind == streamingPolicyWord {
		return []any{streamingPolicyName, tableEntity(db, t.Name), streamingPolicyValue(t.StreamingPolicy), "", "Table"}
	}
	return []any{batchingPolicyName, tableEntity(db, t.Name), batchingPolicyValue(t.BatchingPolicy), "", "Table"}
}

func databasePolicyRow(d *model.Database) []any {
	children, _ := json.Marshal(d.TableNames())
	return []any{streamingPolicyName, "[" + d.Name + "]", streamingPolicyValue(d.StreamingPolicy), string(children), "Database"}
}

func checkPolicyKind(c *cursor, kind string) error {
	if kind != streamingPolicyWord && kind != batchingPolicyWord {
		return kql.SyntaxErrorAt(c.src, c.tok.Pos, "the policy '%s' is not supported by the emulator; policies are streamingingestion and ingestionbatching", kind)
	}
	return nil
}

// showTablePolicy runs .show table T policy <kind>; table "*" shows every table's.
func (x *command) showTablePolicy(db, table, kind string) (model.Result, error) {
	if err := checkPolicyKind(x.c, kind); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: policyColumns}
	err := x.cluster.View(func(s *model.State) error {
		d, err := s.Database(db)
		if err != nil {
			return err
		}
		names := []string{table}
		if table == "*" {
			names = d.TableNames()
		}
		for _, n := range names {
			t, err := d.Table(n)
			if err != nil {
				return err
			}
			res.Rows = append(res.Rows, tablePolicyRow(db, t, kind))
		}
		return nil
	})
	return res, err
}

func (x *command) showDatabaseStreamingPolicy(db string) (model.Result, error) {
	res := model.Result{Columns: policyColumns}
	err := x.cluster.View(func(s *model.State) error {
		d, err := s.Database(db)
		if err != nil {
			return err
		}
		res.Rows = append(res.Rows, databasePolicyRow(d))
		return nil
	})
	return res, err
}

// streamingValue parses the new streaming policy: enable, disable or '{"IsEnabled": …}'.
func (x *command) streamingValue() (*model.StreamingPolicy, error) {
	c := x.c
	switch {
	case c.is("enable"), c.is("disable"):
		p := &model.StreamingPolicy{IsEnabled: c.is("enable")}
		return p, c.advance()
	case c.tok.Kind == kql.String:
		text, err := c.str()
		if err != nil {
			return nil, err
		}
		doc, err := policyObject(text)
		if err != nil {
			return nil, err
		}
		enabled, ok := doc["IsEnabled"].(bool)
		if !ok {
			return nil, invalidPolicy("IsEnabled must be given as true or false.")
		}
		return &model.StreamingPolicy{IsEnabled: enabled}, nil
	}
	return nil, c.syntax("expected enable, disable or a policy object")
}

// policyObject parses a policy's JSON object.
func policyObject(text string) (map[string]any, error) {
	v, err := model.DecodeJSON([]byte(text))
	if err != nil {
		return nil, invalidPolicy("%v.", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, invalidPolicy("expected a JSON object.")
	}
	return doc, nil
}

// batchingValue parses an ingestion batching policy object onto base.
func batchingValue(text string, base model.BatchingPolicy) (*model.BatchingPolicy, error) {
	doc, err := policyObject(text)
	if err != nil {
		return nil, err
	}
	p := base
	for k, v := range doc {
		switch k {
		case "MaximumBatchingTimeSpan":
			s, ok := v.(string)
			d, err := model.ParseTimeSpan(s)
			if !ok || err != nil || d <= 0 {
				return nil, invalidPolicy("MaximumBatchingTimeSpan must be a positive timespan such as \"00:00:30\", got %v.", v)
			}
			p.MaximumBatchingTimeSpan = d
		case "MaximumNumberOfItems", "MaximumRawDataSizeMB":
			n, ok := v.(json.Number)
			i, err := n.Int64()
			if !ok || err != nil || i <= 0 || i > 1<<31-1 {
				return nil, invalidPolicy("%s must be a positive integer, got %v.", k, v)
			}
			if k == "MaximumNumberOfItems" {
				p.MaximumNumberOfItems = int(i)
			} else {
				p.MaximumRawDataSizeMB = int(i)
			}
		}
	}
	return &p, nil
}

// alterTablePolicy runs .alter[-merge] table T policy <kind> <value> (cursor past "policy").
func (x *command) alterTablePolicy(db, table string, merge bool) (model.Result, error) {
	c := x.c
	kind, err := c.word()
	if err != nil {
		return model.Result{}, err
	}
	if err := checkPolicyKind(c, kind); err != nil {
		return model.Result{}, err
	}
	var streaming *model.StreamingPolicy
	var batchingText string
	if kind == streamingPolicyWord {
		if streaming, err = x.streamingValue(); err != nil {
			return model.Result{}, err
		}
	} else if batchingText, err = c.str(); err != nil {
		return model.Result{}, err
	}
	if err := x.end(false); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: policyColumns}
	err = x.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		if kind == streamingPolicyWord {
			t.StreamingPolicy = streaming
		} else {
			base := model.DefaultBatchingPolicy()
			if merge && t.BatchingPolicy != nil {
				base = *t.BatchingPolicy
			}
			p, err := batchingValue(batchingText, base)
			if err != nil {
				return err
			}
			t.BatchingPolicy = p
		}
		res.Rows = append(res.Rows, tablePolicyRow(db, t, kind))
		return nil
	})
	return res, err
}

// alterDatabasePolicy runs .alter[-merge] database D policy streamingingestion <value>.
func (x *command) alterDatabasePolicy(bool) (model.Result, error) {
	c := x.c
	if err := c.advance(); err != nil {
		return model.Result{}, err
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
		return model.Result{}, kql.SyntaxErrorAt(c.src, c.tok.Pos, "the database policy '%s' is not supported by the emulator; it supports streamingingestion", kind)
	}
	p, err := x.streamingValue()
	if err != nil {
		return model.Result{}, err
	}
	if err := x.end(false); err != nil {
		return model.Result{}, err
	}
	return x.setDatabaseStreamingPolicy(db, p)
}

func (x *command) setDatabaseStreamingPolicy(db string, p *model.StreamingPolicy) (model.Result, error) {
	res := model.Result{Columns: policyColumns}
	err := x.cluster.Update(func(s *model.State) error {
		d, err := s.Database(db)
		if err != nil {
			return err
		}
		d.StreamingPolicy = p
		res.Rows = append(res.Rows, databasePolicyRow(d))
		return nil
	})
	return res, err
}

// deleteTablePolicy runs .delete table T policy <kind>.
func (x *command) deleteTablePolicy(db, table, kind string) (model.Result, error) {
	if err := checkPolicyKind(x.c, kind); err != nil {
		return model.Result{}, err
	}
	res := model.Result{Columns: policyColumns}
	err := x.cluster.Update(func(s *model.State) error {
		_, t, err := s.Table(db, table)
		if err != nil {
			return err
		}
		if kind == streamingPolicyWord {
			t.StreamingPolicy = nil
		} else {
			t.BatchingPolicy = nil
		}
		res.Rows = append(res.Rows, tablePolicyRow(db, t, kind))
		return nil
	})
	return res, err
}
