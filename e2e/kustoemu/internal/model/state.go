package model

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Cluster holds every database. All access goes through View (shared) and Update (exclusive);
// values reachable from State must not be kept or touched outside those calls, except the row
// slices of extents, which are never modified once appended and may be read after View returns.
type Cluster struct {
	mu       sync.RWMutex
	state    State
	onChange []func()
}

// State is the cluster's content.
type State struct {
	Databases map[string]*Database
	// Failures are the ingestion failures `.show ingestion failures` lists, oldest first.
	Failures []Failure
}

// NewCluster returns a cluster with the named (empty) databases.
func NewCluster(databases ...string) *Cluster {
	c := &Cluster{state: State{Databases: map[string]*Database{}}}
	for _, name := range databases {
		c.state.Databases[name] = NewDatabase(name)
	}
	return c
}

// View runs fn with shared access to the state.
func (c *Cluster) View(fn func(s *State) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return fn(&c.state)
}

// Update runs fn with exclusive access to the state, then (when fn succeeded) the change hooks.
func (c *Cluster) Update(fn func(s *State) error) error {
	c.mu.Lock()
	err := fn(&c.state)
	hooks := c.onChange
	c.mu.Unlock()
	if err == nil {
		for _, h := range hooks {
			h()
		}
	}
	return err
}

// OnChange registers a hook run after every successful Update (outside the lock), e.g. to
// persist the state.
func (c *Cluster) OnChange(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onChange = append(c.onChange, fn)
}

// Database returns the named database or an EntityNotFound error.
func (s *State) Database(name string) (*Database, error) {
	if db, ok := s.Databases[name]; ok {
		return db, nil
	}
	return nil, EntityNotFound("Database", name)
}

// Table returns database db and its table name, or an EntityNotFound error for whichever is
// missing.
func (s *State) Table(db, name string) (*Database, *Table, error) {
	d, err := s.Database(db)
	if err != nil {
		return nil, nil, err
	}
	t, err := d.Table(name)
	if err != nil {
		return nil, nil, err
	}
	return d, t, nil
}

// DatabaseNames returns the database names, sorted.
func (s *State) DatabaseNames() []string {
	out := make([]string, 0, len(s.Databases))
	for n := range s.Databases {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Database is one database: tables and database-level policies.
type Database struct {
	Name   string
	Tables map[string]*Table
	// StreamingPolicy is the database's streaming ingestion policy; nil when none is set.
	StreamingPolicy *StreamingPolicy
}

// NewDatabase returns an empty database.
func NewDatabase(name string) *Database {
	return &Database{Name: name, Tables: map[string]*Table{}}
}

// Table returns the named table or an EntityNotFound error.
func (d *Database) Table(name string) (*Table, error) {
	if t, ok := d.Tables[name]; ok {
		return t, nil
	}
	return nil, EntityNotFound("Table", name)
}

// TableNames returns the table names, sorted.
func (d *Database) TableNames() []string {
	out := make([]string, 0, len(d.Tables))
	for n := range d.Tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// StreamingEnabled reports whether streaming ingestion into the table is allowed: the table's
// policy when it has one, otherwise the database's.
func (d *Database) StreamingEnabled(t *Table) bool {
	if t.StreamingPolicy != nil {
		return t.StreamingPolicy.IsEnabled
	}
	return d.StreamingPolicy != nil && d.StreamingPolicy.IsEnabled
}

// Column is one column of a table schema.
type Column struct {
	Name string
	Type Type
}

// Table is one table: its schema, its data in extents, its mappings and policies.
type Table struct {
	Name      string
	Folder    string
	DocString string
	Columns   []Column
	Extents   []*Extent
	Mappings  []*Mapping
	// StreamingPolicy is the table's streaming ingestion policy; nil when none is set.
	StreamingPolicy *StreamingPolicy
	// BatchingPolicy is the table's ingestion batching policy; nil means the default.
	BatchingPolicy *BatchingPolicy
}

// ColumnIndex returns the position of the named column.
func (t *Table) ColumnIndex(name string) (int, bool) {
	for i, c := range t.Columns {
		if c.Name == name {
			return i, true
		}
	}
	return 0, false
}

// Append adds rows as one new extent with the given tags and returns it. Each row must have one
// value per column, converted to the column's type.
func (t *Table) Append(rows [][]any, tags []string, now time.Time) *Extent {
	e := &Extent{ID: uuid.New(), Rows: rows, Tags: append([]string(nil), tags...), CreatedOn: now.UTC()}
	t.Extents = append(t.Extents, e)
	return e
}

// HasTag reports whether any extent carries the tag (e.g. "ingest-by:x").
func (t *Table) HasTag(tag string) bool {
	for _, e := range t.Extents {
		for _, have := range e.Tags {
			if have == tag {
				return true
			}
		}
	}
	return false
}

// Rows returns every row, each padded with nulls to the current column count (columns added
// after an extent was written read as null there). The row slices are shared with the extents
// and must not be modified.
func (t *Table) Rows() [][]any {
	n := 0
	for _, e := range t.Extents {
		n += len(e.Rows)
	}
	out := make([][]any, 0, n)
	width := len(t.Columns)
	for _, e := range t.Extents {
		for _, r := range e.Rows {
			if len(r) < width {
				padded := make([]any, width)
				copy(padded, r)
				r = padded
			}
			out = append(out, r)
		}
	}
	return out
}

// RowCount returns the number of rows.
func (t *Table) RowCount() int {
	n := 0
	for _, e := range t.Extents {
		n += len(e.Rows)
	}
	return n
}

// Mapping returns the ingestion mapping of the kind ("csv", "json", "avro" …, any case) and name.
func (t *Table) Mapping(kind, name string) (*Mapping, bool) {
	for _, m := range t.Mappings {
		if strings.EqualFold(m.Kind, kind) && m.Name == name {
			return m, true
		}
	}
	return nil, false
}

// Extent is a batch of rows ingested together, with its tags.
type Extent struct {
	ID        uuid.UUID
	Rows      [][]any
	Tags      []string
	CreatedOn time.Time
}

// Mapping is a named ingestion mapping stored on a table.
type Mapping struct {
	Name string
	// Kind is the lower-case mapping kind: csv, json, avro, parquet, orc, w3clogfile.
	Kind string
	// Text is the mapping's JSON, as given.
	Text        string
	LastUpdated time.Time
}

// StreamingPolicy is a streaming ingestion policy.
type StreamingPolicy struct {
	IsEnabled bool
}

// BatchingPolicy is an ingestion batching policy: a batch of queued ingestions is sealed when
// the first of these limits is reached.
type BatchingPolicy struct {
	MaximumBatchingTimeSpan time.Duration
	MaximumNumberOfItems    int
	MaximumRawDataSizeMB    int
}

// DefaultBatchingPolicy is what Kusto applies when a table has none: 5 minutes, 500 items, 1 GB.
func DefaultBatchingPolicy() BatchingPolicy {
	return BatchingPolicy{MaximumBatchingTimeSpan: 5 * time.Minute, MaximumNumberOfItems: 500, MaximumRawDataSizeMB: 1024}
}

// Failure is one failed ingestion, as `.show ingestion failures` lists it.
type Failure struct {
	OperationID         uuid.UUID
	Database            string
	Table               string
	FailedOn            time.Time
	IngestionSourcePath string
	Details             string
	// FailureKind is "Permanent" or "Transient".
	FailureKind string
	ErrorCode   string
	ShouldRetry bool
}

// Result is one table of a command or query answer.
type Result struct {
	Name    string // e.g. "Table_0" for v1, "PrimaryResult" for v2
	Columns []Column
	Rows    [][]any // values as described in value.go, one per column
}
