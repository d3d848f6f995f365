package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// SnapshotVersion is the version of the persisted state format written by WriteSnapshot. Readers
// accept this version and refuse newer ones.
const SnapshotVersion = 1

// The snapshot is compact JSON, readable with any JSON tool; maps and lists are written in a fixed
// order so that the same state always gives the same bytes. Row values keep their exact
// types: each extent says, per column, how its values are encoded (valueKind), because JSON alone
// cannot tell a long from a real, a datetime from a string, or a guid from text.

type snapshot struct {
	Version   int            `json:"Version"`
	Databases []databaseSnap `json:"Databases"`
	Failures  []Failure      `json:"Failures,omitempty"`
}

type databaseSnap struct {
	Name            string           `json:"Name"`
	StreamingPolicy *StreamingPolicy `json:"StreamingPolicy,omitempty"`
	Tables          []tableSnap      `json:"Tables"`
}

type tableSnap struct {
	Name            string           `json:"Name"`
	Folder          string           `json:"Folder,omitempty"`
	DocString       string           `json:"DocString,omitempty"`
	Columns         []Column         `json:"Columns"`
	StreamingPolicy *StreamingPolicy `json:"StreamingPolicy,omitempty"`
	BatchingPolicy  *batchingSnap    `json:"BatchingPolicy,omitempty"`
	Mappings        []*Mapping       `json:"Mappings,omitempty"`
	Extents         []extentSnap     `json:"Extents"`
}

type batchingSnap struct {
	MaximumBatchingTimeSpan string `json:"MaximumBatchingTimeSpan"`
	MaximumNumberOfItems    int    `json:"MaximumNumberOfItems"`
	MaximumRawDataSizeMB    int    `json:"MaximumRawDataSizeMB"`
}

type extentSnap struct {
	ID        uuid.UUID `json:"ID"`
	CreatedOn time.Time `json:"CreatedOn"`
	Tags      []string  `json:"Tags,omitempty"`
	// Kinds says per column how Rows encode its values (see valueKind).
	Kinds []string `json:"Kinds"`
	Rows  [][]any  `json:"Rows"`
}

// Value kinds of the snapshot encoding. "json" covers every value whose JSON form decodes back to
// itself (strings, bools, dynamic values); "tagged" is used when one column of an extent holds
// values of different kinds, and then each value is written as [kind, value].
const (
	kindNull     = "null"
	kindJSON     = "json"
	kindInt      = "int"
	kindLong     = "long"
	kindReal     = "real"
	kindDateTime = "datetime"
	kindTimeSpan = "timespan"
	kindGUID     = "guid"
	kindDecimal  = "decimal"
	kindTagged   = "tagged"
)

func valueKind(v any) (string, error) {
	switch v.(type) {
	case nil, dbNull:
		return kindNull, nil
	case string, bool, json.Number, map[string]any, []any:
		return kindJSON, nil
	case int32:
		return kindInt, nil
	case int64, int:
		return kindLong, nil
	case float64:
		return kindReal, nil
	case time.Time:
		return kindDateTime, nil
	case time.Duration:
		return kindTimeSpan, nil
	case uuid.UUID:
		return kindGUID, nil
	case decimal.Decimal:
		return kindDecimal, nil
	}
	return "", fmt.Errorf("a value of type %T cannot be persisted", v)
}

func encodeValue(kind string, v any) any {
	switch x := v.(type) {
	case nil, dbNull:
		return nil
	case int:
		return int64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return FormatReal(x)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return int64(x)
	case uuid.UUID:
		return x.String()
	case decimal.Decimal:
		return x.String()
	}
	return v
}

func decodeValue(kind string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) { return nil, fmt.Errorf("%v is not a %s value", v, kind) }
	switch kind {
	case kindJSON:
		return v, nil
	case kindInt, kindLong, kindTimeSpan:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return bad()
		}
		switch kind {
		case kindInt:
			if i < math.MinInt32 || i > math.MaxInt32 {
				return bad()
			}
			return int32(i), nil
		case kindTimeSpan:
			return time.Duration(i), nil
		}
		return i, nil
	case kindReal:
		switch x := v.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return bad()
			}
			return f, nil
		case string:
			if f, ok := ParseReal(x); ok {
				return f, nil
			}
		}
		return bad()
	}
	s, ok := v.(string)
	if !ok {
		return bad()
	}
	switch kind {
	case kindDateTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return bad()
		}
		return t.UTC(), nil
	case kindGUID:
		u, err := uuid.Parse(s)
		if err != nil {
			return bad()
		}
		return u, nil
	case kindDecimal:
		d, err := decimal.NewFromString(s)
		if err != nil {
			return bad()
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown value kind %q", kind)
}

// encodeExtent writes an extent's rows with one kind per column.
func encodeExtent(e *Extent) (extentSnap, error) {
	width := 0
	for _, r := range e.Rows {
		width = max(width, len(r))
	}
	kinds := make([]string, width)
	for _, r := range e.Rows {
		for i, v := range r {
			k, err := valueKind(v)
			if err != nil {
				return extentSnap{}, fmt.Errorf("extent %s column %d: %w", e.ID, i, err)
			}
			switch {
			case k == kindNull:
			case kinds[i] == "" || kinds[i] == kindNull:
				kinds[i] = k
			case kinds[i] != k:
				kinds[i] = kindTagged
			}
		}
	}
	for i := range kinds {
		if kinds[i] == "" {
			kinds[i] = kindNull
		}
	}
	rows := make([][]any, len(e.Rows))
	for ri, r := range e.Rows {
		out := make([]any, len(r))
		for i, v := range r {
			if kinds[i] == kindTagged {
				k, _ := valueKind(v)
				out[i] = []any{k, encodeValue(k, v)}
			} else {
				out[i] = encodeValue(kinds[i], v)
			}
		}
		rows[ri] = out
	}
	return extentSnap{ID: e.ID, CreatedOn: e.CreatedOn.UTC(), Tags: e.Tags, Kinds: kinds, Rows: rows}, nil
}

func decodeExtent(s extentSnap) (*Extent, error) {
	rows := make([][]any, len(s.Rows))
	for ri, r := range s.Rows {
		if len(r) > len(s.Kinds) {
			return nil, fmt.Errorf("extent %s row %d has %d values for %d kinds", s.ID, ri, len(r), len(s.Kinds))
		}
		out := make([]any, len(r))
		for i, v := range r {
			kind := s.Kinds[i]
			if kind == kindTagged && v != nil {
				pair, ok := v.([]any)
				if !ok || len(pair) != 2 {
					return nil, fmt.Errorf("extent %s row %d column %d: a tagged value must be [kind, value]", s.ID, ri, i)
				}
				k, _ := pair[0].(string)
				kind, v = k, pair[1]
			}
			if kind == kindNull {
				if v != nil {
					return nil, fmt.Errorf("extent %s row %d column %d: a value in a null column", s.ID, ri, i)
				}
				continue
			}
			x, err := decodeValue(kind, v)
			if err != nil {
				return nil, fmt.Errorf("extent %s row %d column %d: %w", s.ID, ri, i, err)
			}
			out[i] = x
		}
		rows[ri] = out
	}
	return &Extent{ID: s.ID, CreatedOn: s.CreatedOn.UTC(), Tags: s.Tags, Rows: rows}, nil
}

// WriteSnapshot writes the cluster's state (databases, tables, schemas, mappings, policies,
// extents with their tags and rows, ingestion failures) as a versioned JSON snapshot. It copies
// what it needs inside View and encodes outside the lock: extent rows are immutable once
// appended.
func (c *Cluster) WriteSnapshot(w io.Writer) error {
	type tableRef struct {
		t       Table
		columns []Column
		maps    []Mapping
		extents []*Extent
	}
	type dbRef struct {
		name      string
		streaming *StreamingPolicy
		tables    []tableRef
	}
	var dbs []dbRef
	var failures []Failure
	_ = c.View(func(s *State) error {
		for _, name := range s.DatabaseNames() {
			db := s.Databases[name]
			ref := dbRef{name: name, streaming: clonePolicy(db.StreamingPolicy)}
			for _, tn := range db.TableNames() {
				t := db.Tables[tn]
				tr := tableRef{t: *t, columns: append([]Column(nil), t.Columns...), extents: append([]*Extent(nil), t.Extents...)}
				tr.t.StreamingPolicy = clonePolicy(t.StreamingPolicy)
				if t.BatchingPolicy != nil {
					bp := *t.BatchingPolicy
					tr.t.BatchingPolicy = &bp
				}
				for _, m := range t.Mappings {
					tr.maps = append(tr.maps, *m)
				}
				ref.tables = append(ref.tables, tr)
			}
			dbs = append(dbs, ref)
		}
		failures = append([]Failure(nil), s.Failures...)
		return nil
	})

	snap := snapshot{Version: SnapshotVersion, Databases: []databaseSnap{}, Failures: failures}
	for _, db := range dbs {
		ds := databaseSnap{Name: db.name, StreamingPolicy: db.streaming, Tables: []tableSnap{}}
		for _, tr := range db.tables {
			ts := tableSnap{Name: tr.t.Name, Folder: tr.t.Folder, DocString: tr.t.DocString, Columns: tr.columns,
				StreamingPolicy: tr.t.StreamingPolicy, Extents: []extentSnap{}}
			if ts.Columns == nil {
				ts.Columns = []Column{}
			}
			if bp := tr.t.BatchingPolicy; bp != nil {
				ts.BatchingPolicy = &batchingSnap{MaximumBatchingTimeSpan: FormatTimeSpan(bp.MaximumBatchingTimeSpan),
					MaximumNumberOfItems: bp.MaximumNumberOfItems, MaximumRawDataSizeMB: bp.MaximumRawDataSizeMB}
			}
			for i := range tr.maps {
				m := tr.maps[i]
				m.LastUpdated = m.LastUpdated.UTC()
				ts.Mappings = append(ts.Mappings, &m)
			}
			for _, e := range tr.extents {
				es, err := encodeExtent(e)
				if err != nil {
					return fmt.Errorf("writing snapshot of table %s.%s: %w", db.name, tr.t.Name, err)
				}
				ts.Extents = append(ts.Extents, es)
			}
			ds.Tables = append(ds.Tables, ts)
		}
		snap.Databases = append(snap.Databases, ds)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(snap); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	return nil
}

func clonePolicy(p *StreamingPolicy) *StreamingPolicy {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// ReadSnapshot builds a cluster from a snapshot written by WriteSnapshot.
func ReadSnapshot(r io.Reader) (*Cluster, error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	var snap snapshot
	if err := d.Decode(&snap); err != nil {
		return nil, fmt.Errorf("reading snapshot: %w", err)
	}
	if snap.Version < 1 || snap.Version > SnapshotVersion {
		return nil, fmt.Errorf("reading snapshot: version %d is not supported (this emulator reads version %d)", snap.Version, SnapshotVersion)
	}
	c := NewCluster()
	for _, ds := range snap.Databases {
		if ds.Name == "" {
			return nil, errors.New("reading snapshot: a database has no name")
		}
		db := NewDatabase(ds.Name)
		db.StreamingPolicy = ds.StreamingPolicy
		for _, ts := range ds.Tables {
			t := &Table{Name: ts.Name, Folder: ts.Folder, DocString: ts.DocString, Columns: ts.Columns, StreamingPolicy: ts.StreamingPolicy, Mappings: ts.Mappings}
			for _, col := range t.Columns {
				if _, ok := ParseType(string(col.Type)); !ok {
					return nil, fmt.Errorf("reading snapshot: column %s.%s has unknown type %q", ts.Name, col.Name, col.Type)
				}
			}
			if bp := ts.BatchingPolicy; bp != nil {
				span, err := ParseTimeSpan(bp.MaximumBatchingTimeSpan)
				if err != nil {
					return nil, fmt.Errorf("reading snapshot: batching policy of %s: %w", ts.Name, err)
				}
				t.BatchingPolicy = &BatchingPolicy{MaximumBatchingTimeSpan: span, MaximumNumberOfItems: bp.MaximumNumberOfItems, MaximumRawDataSizeMB: bp.MaximumRawDataSizeMB}
			}
			for _, es := range ts.Extents {
				e, err := decodeExtent(es)
				if err != nil {
					return nil, fmt.Errorf("reading snapshot: table %s.%s: %w", ds.Name, ts.Name, err)
				}
				t.Extents = append(t.Extents, e)
			}
			db.Tables[t.Name] = t
		}
		c.state.Databases[db.Name] = db
	}
	c.state.Failures = snap.Failures
	return c, nil
}

// SaveFile writes a snapshot to path atomically: a temporary file in the same directory,
// synced, then renamed over path.
func (c *Cluster) SaveFile(path string) error {
	var buf bytes.Buffer
	if err := c.WriteSnapshot(&buf); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(buf.Bytes())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("saving snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("saving snapshot: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// LoadFile reads a snapshot file; a missing file is an error wrapping fs.ErrNotExist.
func LoadFile(path string) (*Cluster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading snapshot: %w", err)
	}
	defer f.Close()
	return ReadSnapshot(f)
}

// EnsureDatabases creates the named databases that do not exist yet.
func (c *Cluster) EnsureDatabases(names ...string) {
	_ = c.Update(func(s *State) error {
		for _, n := range names {
			if _, ok := s.Databases[n]; !ok {
				s.Databases[n] = NewDatabase(n)
			}
		}
		return nil
	})
}
