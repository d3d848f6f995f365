package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/kconnect/kconnect/storage"
)

// The Connect group protocol: what workers put in JoinGroup metadata and what the leader puts
// in SyncGroup assignments, in the byte layout of Apache Kafka Connect (ConnectProtocol for
// version 0, IncrementalCooperativeConnectProtocol for versions 1 and 2). All integers are
// big-endian; a STRING is an int16 length and UTF-8 bytes; NULLABLE_BYTES and arrays have an
// int32 length, -1 for null. kmsg's ConnectMemberAssignment is not used: it encodes task ids as
// int16 while Connect writes int32.

// Sub-protocol names offered in JoinGroup and their metadata versions.
const (
	subprotocolDefault    = "default"    // V0, eager
	subprotocolCompatible = "compatible" // V1, incremental cooperative
	subprotocolSessioned  = "sessioned"  // V2, incremental cooperative with signed requests

	connectProtocolType = "connect"

	// connectorTaskSentinel stands for the Connector instance in an assignment's task list.
	connectorTaskSentinel = -1
)

// Assignment error codes.
const (
	assignmentNoError        int16 = 0
	assignmentConfigMismatch int16 = 1
)

// protocolVersion returns the metadata and assignment version of a sub-protocol.
func protocolVersion(subprotocol string) int16 {
	switch subprotocol {
	case subprotocolSessioned:
		return 2
	case subprotocolCompatible:
		return 1
	default:
		return 0
	}
}

// memberMetadata is what a worker reports when it joins: Java's ExtendedWorkerState.
type memberMetadata struct {
	Version      int16
	URL          string
	ConfigOffset int64
	// Allocation is the worker's current assignment (V1+); nil when it owns nothing yet.
	Allocation *assignment
}

// assignment is the leader's answer to one worker: Java's ExtendedAssignment. In V0 it is
// complete; in V1/V2 Connectors and Tasks are newly assigned and Revoked* are to stop now.
type assignment struct {
	Version           int16
	Error             int16
	Leader            string // the leader's member id
	LeaderURL         string
	ConfigOffset      int64
	Connectors        []string
	Tasks             []storage.ConnectorTaskID
	RevokedConnectors []string
	RevokedTasks      []storage.ConnectorTaskID
	// Delay is a scheduled rebalance, in milliseconds (V1+): rejoin after it.
	Delay int32
}

func (a assignment) failed() bool { return a.Error != assignmentNoError }

type encoder struct{ b []byte }

func (e *encoder) int16(v int16) { e.b = binary.BigEndian.AppendUint16(e.b, uint16(v)) }
func (e *encoder) int32(v int32) { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }
func (e *encoder) int64(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }

func (e *encoder) string(s string) {
	e.int16(int16(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) nullableBytes(b []byte) {
	if b == nil {
		e.int32(-1)
		return
	}
	e.int32(int32(len(b)))
	e.b = append(e.b, b...)
}

// connectorAssignments writes the {connector, tasks} array: one entry per connector in order
// of first appearance, connectors first (as the sentinel task), then tasks, as Java's
// ConnectAssignment.asMap builds it.
func (e *encoder) connectorAssignments(connectors []string, tasks []storage.ConnectorTaskID) {
	var names []string
	ids := map[string][]int32{}
	add := func(c string, id int32) {
		if _, ok := ids[c]; !ok {
			names = append(names, c)
		}
		ids[c] = append(ids[c], id)
	}
	seen := map[string]bool{}
	for _, c := range connectors {
		if !seen[c] { // Java de-duplicates connectors
			seen[c] = true
			add(c, connectorTaskSentinel)
		}
	}
	for _, t := range tasks {
		add(t.Connector, int32(t.Task))
	}
	e.int32(int32(len(names)))
	for _, c := range names {
		e.string(c)
		e.int32(int32(len(ids[c])))
		for _, id := range ids[c] {
			e.int32(id)
		}
	}
}

// encodeMetadata encodes a worker's JoinGroup metadata in md.Version's layout.
func encodeMetadata(md memberMetadata) []byte {
	e := &encoder{}
	e.int16(md.Version)
	e.string(md.URL)
	e.int64(md.ConfigOffset)
	if md.Version >= 1 {
		var alloc []byte
		if md.Allocation != nil {
			a := *md.Allocation
			a.Version = md.Version
			alloc = encodeAssignment(a)
		}
		e.nullableBytes(alloc)
	}
	return e.b
}

// encodeAssignment encodes an assignment in a.Version's layout.
func encodeAssignment(a assignment) []byte {
	e := &encoder{}
	e.int16(a.Version)
	e.int16(a.Error)
	e.string(a.Leader)
	e.string(a.LeaderURL)
	e.int64(a.ConfigOffset)
	e.connectorAssignments(a.Connectors, a.Tasks)
	if a.Version >= 1 {
		e.connectorAssignments(a.RevokedConnectors, a.RevokedTasks)
		e.int32(a.Delay)
	}
	return e.b
}

var errShortBuffer = errors.New("buffer too short")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.err = errShortBuffer
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) int16() int16 {
	if b := d.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (d *decoder) int32() int32 {
	if b := d.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (d *decoder) int64() int64 {
	if b := d.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (d *decoder) string() string {
	n := d.int16()
	if d.err == nil && n < 0 {
		d.err = fmt.Errorf("string length %d cannot be negative", n)
		return ""
	}
	return string(d.take(int(n)))
}

func (d *decoder) nullableBytes() []byte {
	n := d.int32()
	if d.err != nil || n == -1 {
		return nil
	}
	return d.take(int(n))
}

// connectorAssignments reads a nullable {connector, tasks} array; null reads as empty.
func (d *decoder) connectorAssignments() (connectors []string, tasks []storage.ConnectorTaskID) {
	n := d.int32()
	if d.err != nil || n == -1 {
		return nil, nil
	}
	if n < 0 || int(n) > len(d.b) {
		d.err = fmt.Errorf("invalid array length %d", n)
		return nil, nil
	}
	for i := int32(0); i < n && d.err == nil; i++ {
		c := d.string()
		m := d.int32()
		if d.err == nil && (m < 0 || int(m) > len(d.b)/4) {
			d.err = fmt.Errorf("invalid task array length %d", m)
		}
		for j := int32(0); j < m && d.err == nil; j++ {
			id := d.int32()
			if d.err != nil {
				break
			}
			if id == connectorTaskSentinel {
				connectors = append(connectors, c)
			} else {
				tasks = append(tasks, storage.ConnectorTaskID{Connector: c, Task: int(id)})
			}
		}
	}
	return connectors, tasks
}

// decodeMetadata decodes JoinGroup metadata of any version: versions above 2 are read in the
// newest known layout and missing trailing fields take their defaults, as Java's
// tolerant schemas do.
func decodeMetadata(b []byte) (memberMetadata, error) {
	d := &decoder{b: b}
	var md memberMetadata
	md.Version = d.int16()
	if d.err == nil && md.Version < 0 {
		return md, fmt.Errorf("decoding connect metadata: unsupported subscription version: %d", md.Version)
	}
	md.URL = d.string()
	md.ConfigOffset = d.int64()
	if md.Version >= 1 && d.more() {
		if alloc := d.nullableBytes(); alloc != nil && d.err == nil {
			a, err := decodeAssignment(alloc)
			if err != nil {
				return md, fmt.Errorf("decoding connect metadata allocation: %w", err)
			}
			md.Allocation = &a
		}
	}
	if d.err != nil {
		return md, fmt.Errorf("decoding connect metadata: %w", d.err)
	}
	return md, nil
}

// decodeAssignment decodes an assignment of any version with the V1 reader, as Java does: a
// V0 assignment reads with no revocations and no delay.
func decodeAssignment(b []byte) (assignment, error) {
	d := &decoder{b: b}
	var a assignment
	a.Version = d.int16()
	if d.err == nil && a.Version < 0 {
		return a, fmt.Errorf("decoding connect assignment: unsupported assignment version: %d", a.Version)
	}
	a.Error = d.int16()
	a.Leader = d.string()
	a.LeaderURL = d.string()
	a.ConfigOffset = d.int64()
	if d.more() {
		a.Connectors, a.Tasks = d.connectorAssignments()
	}
	if d.more() {
		a.RevokedConnectors, a.RevokedTasks = d.connectorAssignments()
	}
	if d.more() {
		a.Delay = d.int32()
	}
	if d.err != nil {
		return a, fmt.Errorf("decoding connect assignment: %w", d.err)
	}
	return a, nil
}

// workSet is a set of connectors and tasks: Java's ConnectorsAndTasks. Methods keep both lists
// sorted, so everything derived from a workSet is deterministic.
type workSet struct {
	Connectors []string
	Tasks      []storage.ConnectorTaskID
}

func taskLess(a, b storage.ConnectorTaskID) bool {
	if a.Connector != b.Connector {
		return a.Connector < b.Connector
	}
	return a.Task < b.Task
}

func sortTasks(ts []storage.ConnectorTaskID) {
	sort.Slice(ts, func(i, j int) bool { return taskLess(ts[i], ts[j]) })
}

// newWorkSet returns the sorted, de-duplicated set of connectors and tasks.
func newWorkSet(connectors []string, tasks []storage.ConnectorTaskID) workSet {
	cs := map[string]bool{}
	ts := map[storage.ConnectorTaskID]bool{}
	for _, c := range connectors {
		cs[c] = true
	}
	for _, t := range tasks {
		ts[t] = true
	}
	return workSetOf(cs, ts)
}

func workSetOf(cs map[string]bool, ts map[storage.ConnectorTaskID]bool) workSet {
	var w workSet
	for c := range cs {
		w.Connectors = append(w.Connectors, c)
	}
	for t := range ts {
		w.Tasks = append(w.Tasks, t)
	}
	sort.Strings(w.Connectors)
	sortTasks(w.Tasks)
	return w
}

func (w workSet) empty() bool { return len(w.Connectors) == 0 && len(w.Tasks) == 0 }

func (w workSet) hasConnector(c string) bool {
	i := sort.SearchStrings(w.Connectors, c)
	return i < len(w.Connectors) && w.Connectors[i] == c
}

func (w workSet) hasTask(t storage.ConnectorTaskID) bool {
	i := sort.Search(len(w.Tasks), func(i int) bool { return !taskLess(w.Tasks[i], t) })
	return i < len(w.Tasks) && w.Tasks[i] == t
}

// minus returns w without the items of the others.
func (w workSet) minus(others ...workSet) workSet {
	nonEmpty := others[:0:0]
	for _, o := range others {
		if !o.empty() {
			nonEmpty = append(nonEmpty, o)
		}
	}
	if len(nonEmpty) == 0 {
		return workSet{Connectors: append([]string(nil), w.Connectors...), Tasks: append([]storage.ConnectorTaskID(nil), w.Tasks...)}
	}
	others = nonEmpty
	var out workSet
	for _, c := range w.Connectors {
		keep := true
		for _, o := range others {
			if o.hasConnector(c) {
				keep = false
				break
			}
		}
		if keep {
			out.Connectors = append(out.Connectors, c)
		}
	}
	for _, t := range w.Tasks {
		keep := true
		for _, o := range others {
			if o.hasTask(t) {
				keep = false
				break
			}
		}
		if keep {
			out.Tasks = append(out.Tasks, t)
		}
	}
	return out
}

// union returns the items of all sets.
func union(sets ...workSet) workSet {
	var cs []string
	var ts []storage.ConnectorTaskID
	for _, s := range sets {
		cs = append(cs, s.Connectors...)
		ts = append(ts, s.Tasks...)
	}
	return newWorkSet(cs, ts)
}

// intersect returns the items of w that are also in o.
func (w workSet) intersect(o workSet) workSet {
	return w.minus(w.minus(o))
}
