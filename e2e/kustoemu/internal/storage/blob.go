package storage

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
)

// maxBlockIDBytes is Azure's limit on a decoded block id.
const maxBlockIDBytes = 64

type container struct {
	blobs map[string]*blob
	// staged holds uncommitted blocks per blob name, by block id.
	staged map[string]map[string][]byte
}

// blob is a committed block blob. Its data is never modified in place; a new upload replaces
// the whole value, so readers may keep the slice.
type blob struct {
	data         []byte
	blocks       []committedBlock
	contentType  string
	contentMD5   []byte // as the client set it (x-ms-blob-content-md5) or computed for put blob
	etag         string
	created      time.Time
	lastModified time.Time
}

type committedBlock struct {
	id         string
	start, end int
}

// ReadBlob returns the content of a blob. The returned slice must not be modified.
func (s *Server) ReadBlob(containerName, name string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.containers[containerName]
	if !ok {
		return nil, fmt.Errorf("container %q: %w", containerName, ErrNotFound)
	}
	b, ok := c.blobs[name]
	if !ok {
		return nil, fmt.Errorf("blob %q: %w", name, ErrNotFound)
	}
	return b.data, nil
}

// DeleteBlob removes a blob and its uncommitted blocks.
func (s *Server) DeleteBlob(containerName, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[containerName]
	if !ok {
		return fmt.Errorf("container %q: %w", containerName, ErrNotFound)
	}
	if _, ok := c.blobs[name]; !ok {
		return fmt.Errorf("blob %q: %w", name, ErrNotFound)
	}
	delete(c.blobs, name)
	delete(c.staged, name)
	return nil
}

// DeleteBlobsBefore removes the blobs of a container last modified before t and returns how many
// it removed (temporary storage retention).
func (s *Server) DeleteBlobsBefore(containerName string, t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[containerName]
	if !ok {
		return 0
	}
	n := 0
	for name, b := range c.blobs {
		if b.lastModified.Before(t) {
			delete(c.blobs, name)
			n++
		}
	}
	return n
}

// BlobCount returns the number of committed blobs in a container.
func (s *Server) BlobCount(containerName string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c, ok := s.containers[containerName]; ok {
		return len(c.blobs)
	}
	return 0
}

func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, containerName string, c *container, name string) {
	if name == "" {
		writeXMLError(w, r, http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.",
			"Container-level operations are not supported; address a blob.")
		return
	}
	q := r.URL.Query()
	comp := q.Get("comp")
	switch {
	case r.Method == http.MethodPut && comp == "block":
		if s.authorize(w, r, sas.Request{Service: sas.Blob, Resource: containerName, Blob: name, Permission: 'w'}, false) {
			s.putBlock(w, r, c, name, q.Get("blockid"))
		}
	case r.Method == http.MethodPut && comp == "blocklist":
		if s.authorizeWrite(w, r, containerName, c, name) {
			s.putBlockList(w, r, c, name)
		}
	case r.Method == http.MethodPut && comp == "":
		if s.authorizeWrite(w, r, containerName, c, name) {
			s.putBlob(w, r, c, name)
		}
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && comp == "":
		if s.authorize(w, r, sas.Request{Service: sas.Blob, Resource: containerName, Blob: name, Permission: 'r'}, false) {
			s.getBlob(w, r, c, name)
		}
	case r.Method == http.MethodDelete && comp == "":
		if s.authorize(w, r, sas.Request{Service: sas.Blob, Resource: containerName, Blob: name, Permission: 'd'}, false) {
			if err := s.DeleteBlob(containerName, name); err != nil {
				writeXMLError(w, r, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.", "")
				return
			}
			w.Header().Set("x-ms-delete-type-permanent", "true")
			w.WriteHeader(http.StatusAccepted)
		}
	default:
		writeXMLError(w, r, http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.",
			fmt.Sprintf("%s with comp=%q is not supported on a blob.", r.Method, comp))
	}
}

// authorizeWrite accepts w, or c when the blob does not exist yet (Azure's create permission).
func (s *Server) authorizeWrite(w http.ResponseWriter, r *http.Request, containerName string, c *container, name string) bool {
	s.mu.RLock()
	_, exists := c.blobs[name]
	s.mu.RUnlock()
	perm := byte('w')
	if !exists && bytes.ContainsRune([]byte(r.URL.Query().Get("sp")), 'c') {
		perm = 'c'
	}
	return s.authorize(w, r, sas.Request{Service: sas.Blob, Resource: containerName, Blob: name, Permission: perm}, false)
}

// checkContentMD5 verifies a transactional Content-MD5 header against the body.
func checkContentMD5(w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
	sum := md5.Sum(body)
	if h := r.Header.Get("Content-MD5"); h != "" {
		want, err := base64.StdEncoding.DecodeString(h)
		if err != nil || !bytes.Equal(want, sum[:]) {
			writeXMLError(w, r, http.StatusBadRequest, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
				"Content-MD5 does not match the body.")
			return nil, false
		}
	}
	return sum[:], true
}

func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, c *container, name string) {
	if bt := r.Header.Get("x-ms-blob-type"); bt != "BlockBlob" {
		writeXMLError(w, r, http.StatusBadRequest, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.",
			fmt.Sprintf("x-ms-blob-type is %q; only BlockBlob is supported.", bt))
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	sum, ok := checkContentMD5(w, r, body)
	if !ok {
		return
	}
	contentMD5 := sum
	if h := r.Header.Get("x-ms-blob-content-md5"); h != "" {
		if v, err := base64.StdEncoding.DecodeString(h); err == nil {
			contentMD5 = v
		}
	}
	b := &blob{data: body, contentType: contentType(r), contentMD5: contentMD5}
	if !s.commit(w, r, c, name, b) {
		return
	}
	w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	w.WriteHeader(http.StatusCreated)
}

func contentType(r *http.Request) string {
	if v := r.Header.Get("x-ms-blob-content-type"); v != "" {
		return v
	}
	if v := r.Header.Get("Content-Type"); v != "" {
		return v
	}
	return "application/octet-stream"
}

// commit stores b as the blob, honouring If-None-Match: * and If-Match, and writes the common
// success headers (the caller writes the status).
func (s *Server) commit(w http.ResponseWriter, r *http.Request, c *container, name string, b *blob) bool {
	now := s.now().UTC()
	s.mu.Lock()
	old, exists := c.blobs[name]
	if r.Header.Get("If-None-Match") == "*" && exists {
		s.mu.Unlock()
		writeXMLError(w, r, http.StatusConflict, "BlobAlreadyExists", "The specified blob already exists.", "")
		return false
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && (!exists || old.etag != m) {
		s.mu.Unlock()
		writeXMLError(w, r, http.StatusPreconditionFailed, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.", "")
		return false
	}
	b.created = now
	if exists {
		b.created = old.created
	}
	b.lastModified = now
	b.etag = s.newETag()
	c.blobs[name] = b
	delete(c.staged, name)
	s.mu.Unlock()

	h := w.Header()
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", httpTime(now))
	h.Set("x-ms-request-server-encrypted", "true")
	return true
}

func (s *Server) putBlock(w http.ResponseWriter, r *http.Request, c *container, name, blockID string) {
	raw, err := base64.StdEncoding.DecodeString(blockID)
	if blockID == "" || err != nil || len(raw) > maxBlockIDBytes {
		writeXMLError(w, r, http.StatusBadRequest, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid.",
			"blockid must be a base64 string of at most 64 bytes.")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	sum, ok := checkContentMD5(w, r, body)
	if !ok {
		return
	}
	s.mu.Lock()
	blocks := c.staged[name]
	if blocks == nil {
		blocks = map[string][]byte{}
		c.staged[name] = blocks
	}
	blocks[blockID] = body
	s.mu.Unlock()
	w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	w.Header().Set("x-ms-request-server-encrypted", "true")
	w.WriteHeader(http.StatusCreated)
}

// blockList is the Put Block List body: block ids in order, each saying where to look for it.
type blockList struct {
	Entries []blockListEntry `xml:",any"`
}

type blockListEntry struct {
	XMLName xml.Name
	ID      string `xml:",chardata"`
}

func (s *Server) putBlockList(w http.ResponseWriter, r *http.Request, c *container, name string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var list blockList
	if err := xml.Unmarshal(body, &list); err != nil {
		writeXMLError(w, r, http.StatusBadRequest, "InvalidXmlDocument", "XML specified is not syntactically valid.", err.Error())
		return
	}
	s.mu.RLock()
	staged := c.staged[name]
	old := c.blobs[name]
	var data []byte
	var blocks []committedBlock
	var missing string
	for _, e := range list.Entries {
		var part []byte
		found := false
		fromStaged := func() {
			if b, ok := staged[e.ID]; ok {
				part, found = b, true
			}
		}
		fromCommitted := func() {
			if old == nil {
				return
			}
			for _, cb := range old.blocks {
				if cb.id == e.ID {
					part, found = old.data[cb.start:cb.end], true
					return
				}
			}
		}
		switch e.XMLName.Local {
		case "Latest":
			fromStaged()
			if !found {
				fromCommitted()
			}
		case "Uncommitted":
			fromStaged()
		case "Committed":
			fromCommitted()
		}
		if !found {
			missing = e.ID
			break
		}
		blocks = append(blocks, committedBlock{id: e.ID, start: len(data), end: len(data) + len(part)})
		data = append(data, part...)
	}
	s.mu.RUnlock()
	if missing != "" {
		writeXMLError(w, r, http.StatusBadRequest, "InvalidBlockList", "The specified block list is invalid.",
			fmt.Sprintf("Block %q is not staged or committed.", missing))
		return
	}
	if data == nil {
		data = []byte{}
	}
	b := &blob{data: data, blocks: blocks, contentType: contentType(r)}
	if h := r.Header.Get("x-ms-blob-content-md5"); h != "" {
		if v, err := base64.StdEncoding.DecodeString(h); err == nil {
			b.contentMD5 = v
		}
	}
	if !s.commit(w, r, c, name, b) {
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, c *container, name string) {
	s.mu.RLock()
	b, ok := c.blobs[name]
	s.mu.RUnlock()
	if !ok {
		writeXMLError(w, r, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.", "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", b.contentType)
	h.Set("ETag", b.etag)
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("x-ms-creation-time", httpTime(b.created))
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-server-encrypted", "true")
	if len(b.contentMD5) > 0 {
		h.Set("Content-MD5", base64.StdEncoding.EncodeToString(b.contentMD5))
	}
	if xr := r.Header.Get("x-ms-range"); xr != "" {
		r.Header.Set("Range", xr)
	}
	if r.Header.Get("Range") == "" {
		h.Set("Content-Length", strconv.Itoa(len(b.data)))
	}
	http.ServeContent(w, r, "", b.lastModified, bytes.NewReader(b.data))
}
