package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
)

const maxEntityBytes = 1 << 20 // Azure Table's entity size limit

type entityKey struct{ partition, row string }

type entity struct {
	props     map[string]any // every property but Timestamp, including PartitionKey and RowKey
	timestamp time.Time
	etag      string
}

type table struct {
	name     string
	entities map[entityKey]*entity
}

// Entity returns a copy of an entity's properties (with Timestamp), or ErrNotFound.
func (s *Server) Entity(tableName, partitionKey, rowKey string) (map[string]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tables[strings.ToLower(tableName)]
	if !ok {
		return nil, fmt.Errorf("table %q: %w", tableName, ErrNotFound)
	}
	e, ok := t.entities[entityKey{partitionKey, rowKey}]
	if !ok {
		return nil, fmt.Errorf("entity (%q, %q): %w", partitionKey, rowKey, ErrNotFound)
	}
	out := make(map[string]any, len(e.props)+1)
	for k, v := range e.props {
		out[k] = v
	}
	out["Timestamp"] = formatTableTime(e.timestamp)
	return out, nil
}

// MergeEntity inserts an entity or merges props into the existing one (Azure's insert-or-merge).
func (s *Server) MergeEntity(tableName, partitionKey, rowKey string, props map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[strings.ToLower(tableName)]
	if !ok {
		return fmt.Errorf("table %q: %w", tableName, ErrNotFound)
	}
	k := entityKey{partitionKey, rowKey}
	e, ok := t.entities[k]
	if !ok {
		e = &entity{props: map[string]any{"PartitionKey": partitionKey, "RowKey": rowKey}}
		t.entities[k] = e
	}
	for name, v := range props {
		if name == "PartitionKey" || name == "RowKey" || name == "Timestamp" {
			continue
		}
		e.props[name] = v
	}
	s.touch(e)
	return nil
}

// touch sets the entity's timestamp and ETag; the caller holds s.mu.
func (s *Server) touch(e *entity) {
	e.timestamp = s.now().UTC()
	e.etag = fmt.Sprintf(`W/"datetime'%s'"`, url.QueryEscape(formatTableTime(e.timestamp)))
}

func formatTableTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

func (s *Server) serveTable(w http.ResponseWriter, r *http.Request, t *table, entityPath bool, keys string) {
	var k entityKey
	if entityPath && keys != "" {
		pk, rk, ok := parseEntityKeys(keys)
		if !ok {
			writeTableError(w, r, http.StatusBadRequest, "InvalidInput", "The entity address must be (PartitionKey='...',RowKey='...').")
			return
		}
		k = entityKey{pk, rk}
	}
	switch {
	case r.Method == http.MethodPost && !entityPath:
		if s.authorize(w, r, sas.Request{Service: sas.Table, Resource: t.name, Permission: 'a'}, true) {
			s.insertEntity(w, r, t)
		}
	case r.Method == http.MethodGet && entityPath && keys != "":
		if s.authorize(w, r, sas.Request{Service: sas.Table, Resource: t.name, Permission: 'r'}, true) {
			s.getEntity(w, r, t, k)
		}
	case (r.Method == http.MethodPut || r.Method == "MERGE" || r.Method == http.MethodPatch) && entityPath && keys != "":
		perm := byte('u')
		if r.Header.Get("If-Match") == "" {
			perm = 'a' // insert-or-replace / insert-or-merge may create the entity
		}
		if s.authorize(w, r, sas.Request{Service: sas.Table, Resource: t.name, Permission: perm}, true) {
			s.updateEntity(w, r, t, k, r.Method != http.MethodPut)
		}
	case r.Method == http.MethodDelete && entityPath && keys != "":
		if s.authorize(w, r, sas.Request{Service: sas.Table, Resource: t.name, Permission: 'd'}, true) {
			s.deleteEntity(w, r, t, k)
		}
	default:
		writeTableError(w, r, http.StatusNotImplemented, "NotImplemented",
			fmt.Sprintf("%s on %s is not supported; the emulator serves insert, get, update, merge and delete of single entities.", r.Method, r.URL.Path))
	}
}

// parseEntityKeys parses PartitionKey='a',RowKey='b' where a quote inside a key is doubled.
func parseEntityKeys(s string) (string, string, bool) {
	pk, rest, ok := parseQuoted(s, "PartitionKey=")
	if !ok || !strings.HasPrefix(rest, ",") {
		return "", "", false
	}
	rk, rest, ok := parseQuoted(rest[1:], "RowKey=")
	return pk, rk, ok && rest == ""
}

func parseQuoted(s, prefix string) (string, string, bool) {
	if !strings.HasPrefix(s, prefix+"'") {
		return "", "", false
	}
	s = s[len(prefix)+1:]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", "", false
}

func readEntity(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEntityBytes))
	if err != nil {
		writeTableError(w, r, http.StatusRequestEntityTooLarge, "EntityTooLarge", "The entity is larger than the maximum size permitted.")
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var props map[string]any
	if err := d.Decode(&props); err != nil || props == nil {
		writeTableError(w, r, http.StatusBadRequest, "InvalidInput", "The entity body must be a JSON object.")
		return nil, false
	}
	for k := range props {
		if strings.HasPrefix(k, "odata.") || k == "Timestamp" {
			delete(props, k)
		}
	}
	return props, true
}

func (s *Server) insertEntity(w http.ResponseWriter, r *http.Request, t *table) {
	props, ok := readEntity(w, r)
	if !ok {
		return
	}
	pk, pkOK := props["PartitionKey"].(string)
	rk, rkOK := props["RowKey"].(string)
	if !pkOK || !rkOK {
		writeTableError(w, r, http.StatusBadRequest, "PropertiesNeedValue", "The values are not specified for all properties in the entity: PartitionKey and RowKey must be strings.")
		return
	}
	k := entityKey{pk, rk}
	s.mu.Lock()
	if _, exists := t.entities[k]; exists {
		s.mu.Unlock()
		writeTableError(w, r, http.StatusConflict, "EntityAlreadyExists", "The specified entity already exists.")
		return
	}
	e := &entity{props: props}
	s.touch(e)
	t.entities[k] = e
	body := s.entityJSON(r, t, e)
	etag := e.etag
	s.mu.Unlock()

	w.Header().Set("ETag", etag)
	if strings.Contains(r.Header.Get("Prefer"), "return-no-content") {
		w.Header().Set("Preference-Applied", "return-no-content")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if strings.Contains(r.Header.Get("Prefer"), "return-content") {
		w.Header().Set("Preference-Applied", "return-content")
	}
	writeTableJSON(w, r, http.StatusCreated, body)
}

func (s *Server) getEntity(w http.ResponseWriter, r *http.Request, t *table, k entityKey) {
	s.mu.RLock()
	e, ok := t.entities[k]
	var body []byte
	var etag string
	if ok {
		body = s.entityJSON(r, t, e)
		etag = e.etag
	}
	s.mu.RUnlock()
	if !ok {
		writeTableError(w, r, http.StatusNotFound, "ResourceNotFound", "The specified resource does not exist.")
		return
	}
	w.Header().Set("ETag", etag)
	writeTableJSON(w, r, http.StatusOK, body)
}

func (s *Server) updateEntity(w http.ResponseWriter, r *http.Request, t *table, k entityKey, merge bool) {
	props, ok := readEntity(w, r)
	if !ok {
		return
	}
	ifMatch := r.Header.Get("If-Match")
	s.mu.Lock()
	e, exists := t.entities[k]
	switch {
	case ifMatch != "" && !exists:
		s.mu.Unlock()
		writeTableError(w, r, http.StatusNotFound, "ResourceNotFound", "The specified resource does not exist.")
		return
	case ifMatch != "" && ifMatch != "*" && ifMatch != e.etag:
		s.mu.Unlock()
		writeTableError(w, r, http.StatusPreconditionFailed, "UpdateConditionNotSatisfied", "The update condition specified in the request was not satisfied.")
		return
	}
	if !exists || !merge {
		e = &entity{props: map[string]any{}}
		t.entities[k] = e
	}
	for name, v := range props {
		e.props[name] = v
	}
	e.props["PartitionKey"], e.props["RowKey"] = k.partition, k.row
	s.touch(e)
	etag := e.etag
	s.mu.Unlock()
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteEntity(w http.ResponseWriter, r *http.Request, t *table, k entityKey) {
	ifMatch := r.Header.Get("If-Match")
	s.mu.Lock()
	e, exists := t.entities[k]
	switch {
	case !exists:
		s.mu.Unlock()
		writeTableError(w, r, http.StatusNotFound, "ResourceNotFound", "The specified resource does not exist.")
		return
	case ifMatch != "" && ifMatch != "*" && ifMatch != e.etag:
		s.mu.Unlock()
		writeTableError(w, r, http.StatusPreconditionFailed, "UpdateConditionNotSatisfied", "The update condition specified in the request was not satisfied.")
		return
	}
	delete(t.entities, k)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// odataFormat returns the requested metadata level: nometadata, minimalmetadata or fullmetadata.
func odataFormat(r *http.Request) string {
	f := r.URL.Query().Get("$format")
	if f == "" {
		f = r.Header.Get("Accept")
	}
	for _, level := range []string{"nometadata", "fullmetadata", "minimalmetadata"} {
		if strings.Contains(f, "odata="+level) {
			return level
		}
	}
	return "minimalmetadata"
}

// entityJSON renders an entity at the requested metadata level; the caller holds s.mu.
func (s *Server) entityJSON(r *http.Request, t *table, e *entity) []byte {
	out := make(map[string]any, len(e.props)+6)
	for k, v := range e.props {
		out[k] = v
	}
	out["Timestamp"] = formatTableTime(e.timestamp)
	level := odataFormat(r)
	base := "https://" + r.Host + "/" + s.account.Name
	if level != "nometadata" {
		out["odata.metadata"] = base + "/$metadata#" + t.name + "/@Element"
		out["odata.etag"] = e.etag
	}
	if level == "fullmetadata" {
		pk, _ := e.props["PartitionKey"].(string)
		rk, _ := e.props["RowKey"].(string)
		link := fmt.Sprintf("%s(PartitionKey='%s',RowKey='%s')", t.name, strings.ReplaceAll(pk, "'", "''"), strings.ReplaceAll(rk, "'", "''"))
		out["odata.type"] = s.account.Name + "." + t.name
		out["odata.id"] = base + "/" + link
		out["odata.editLink"] = link
		out["Timestamp@odata.type"] = "Edm.DateTime"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func writeTableJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;odata="+odataFormat(r)+";streaming=true;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeTableError writes a table service error in its JSON (OData) form.
func writeTableError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	body, _ := json.Marshal(map[string]any{"odata.error": map[string]any{
		"code": code,
		"message": map[string]string{"lang": "en-US",
			"value": fmt.Sprintf("%s\nRequestId:%s\nTime:%s", message, w.Header().Get("x-ms-request-id"), time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z"))},
	}})
	w.Header().Set("x-ms-error-code", code)
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
