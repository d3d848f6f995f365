// Package storage is the emulator's Azure Storage account over HTTPS: the block-blob subset the
// Kusto SDKs upload with (put blob, put block, put block list, get, properties, delete), the queue
// subset they enqueue ingestion messages with, and the table subset of ingestion status
// reporting. URLs are path-style (https://host:port/{account}/{container|queue|table}/...), and
// every request must carry a valid shared access signature issued for the account (package sas).
//
// The data-management loop reads the same state in process: [Server.ReadBlob], [Queue.TakeAll],
// [Server.MergeEntity].
package storage

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/faults"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
)

// MaxRequestBytes bounds one request body (one put blob or one block); Azure allows more, but
// the emulator keeps everything in memory.
const MaxRequestBytes = 256 << 20

// defaultVersion is the x-ms-version answered when the client sent none.
const defaultVersion = "2025-11-05"

// ErrNotFound is returned for a blob, queue, table or entity that does not exist.
var ErrNotFound = errors.New("storage: not found")

// Config configures a Server.
type Config struct {
	Account sas.Account
	Faults  *faults.Set // nil = no faults
	Logger  *slog.Logger
	Now     func() time.Time // nil = time.Now
}

// Server is the storage account. It is safe for concurrent use.
type Server struct {
	account sas.Account
	faults  *faults.Set
	log     *slog.Logger
	now     func() time.Time
	etagSeq atomic.Uint64

	mu         sync.RWMutex
	containers map[string]*container
	queues     map[string]*Queue
	tables     map[string]*table
}

// New returns an empty account.
func New(cfg Config) *Server {
	s := &Server{
		account:    cfg.Account,
		faults:     cfg.Faults,
		log:        cfg.Logger,
		now:        cfg.Now,
		containers: map[string]*container{},
		queues:     map[string]*Queue{},
		tables:     map[string]*table{},
	}
	if s.faults == nil {
		s.faults = faults.NewSet()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.etagSeq.Store(uint64(time.Now().UnixNano()))
	return s
}

// Account returns the account name.
func (s *Server) Account() string { return s.account.Name }

// CreateContainer creates a blob container (no-op if it exists).
func (s *Server) CreateContainer(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.containers[name]; !ok {
		s.containers[name] = &container{blobs: map[string]*blob{}, staged: map[string]map[string][]byte{}}
	}
}

// CreateQueue creates a queue (no-op if it exists) and returns it.
func (s *Server) CreateQueue(name string) *Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[name]
	if !ok {
		q = newQueue(name)
		s.queues[name] = q
	}
	return q
}

// CreateTable creates a table (no-op if it exists).
func (s *Server) CreateTable(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	if _, ok := s.tables[key]; !ok {
		s.tables[key] = &table{name: name, entities: map[entityKey]*entity{}}
	}
}

// Queue returns the named queue, or nil.
func (s *Server) Queue(name string) *Queue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.queues[name]
}

func (s *Server) newETag() string {
	return fmt.Sprintf("\"0x%X\"", s.etagSeq.Add(1))
}

// ServeHTTP routes a storage request to the blob, queue or table handler by the resource it
// names.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := uuid.NewString()
	h := w.Header()
	h.Set("x-ms-request-id", requestID)
	if v := r.Header.Get("x-ms-version"); v != "" {
		h.Set("x-ms-version", v)
	} else {
		h.Set("x-ms-version", defaultVersion)
	}
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		h.Set("x-ms-client-request-id", id)
	}
	h.Set("Server", "kustoemu-storage")

	account, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, sub, _ := strings.Cut(rest, "/")
	tableName, tableKeys, isEntityPath := strings.Cut(name, "(")

	s.mu.RLock()
	c, isContainer := s.containers[name]
	q, isQueue := s.queues[name]
	t, isTable := s.tables[strings.ToLower(tableName)]
	s.mu.RUnlock()

	rw := &statusRecorder{ResponseWriter: w}
	defer func() {
		s.log.Debug("storage request", "method", r.Method, "path", r.URL.Path, "status", rw.status)
	}()
	if account != s.account.Name {
		writeXMLError(rw, r, http.StatusBadRequest, "InvalidUri", "The requested URI does not represent any resource on the server.",
			fmt.Sprintf("Account %q is not served here; the account is %q.", account, s.account.Name))
		return
	}
	switch {
	case isContainer:
		if s.faults.Apply(faults.Blob, rw, r, writeFaultXML) {
			return
		}
		s.serveBlob(rw, r, name, c, sub)
	case isQueue:
		if s.faults.Apply(faults.Queue, rw, r, writeFaultXML) {
			return
		}
		s.serveQueue(rw, r, name, q, sub)
	case isTable && sub == "":
		if s.faults.Apply(faults.Table, rw, r, writeFaultTable) {
			return
		}
		keys := ""
		if isEntityPath {
			keys = strings.TrimSuffix(tableKeys, ")")
		}
		s.serveTable(rw, r, t, isEntityPath, keys)
	case name == "":
		writeXMLError(rw, r, http.StatusBadRequest, "InvalidUri", "The requested URI does not represent any resource on the server.",
			"Account-level operations are not supported; address a container, queue or table.")
	default:
		writeXMLError(rw, r, http.StatusNotFound, "ResourceNotFound", "The specified resource does not exist.",
			fmt.Sprintf("No container, queue or table is named %q.", name))
	}
}

// authorize checks the request's SAS; on failure it writes Azure's 403 and returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, req sas.Request, jsonErrors bool) bool {
	req.Now = s.now()
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.RemoteIP = net.ParseIP(host)
	}
	err := s.account.Verify(r.URL.Query(), req)
	if err == nil {
		return true
	}
	var se *sas.Error
	if !errors.As(err, &se) {
		se = &sas.Error{Code: sas.CodeAuthenticationFailed, Message: "Server failed to authenticate the request.", Detail: err.Error()}
	}
	if jsonErrors {
		writeTableError(w, r, http.StatusForbidden, se.Code, se.Message+" "+se.Detail)
	} else {
		writeXMLError(w, r, http.StatusForbidden, se.Code, se.Message, se.Detail)
	}
	return false
}

// readBody reads a request body of at most MaxRequestBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeXMLError(w, r, http.StatusRequestEntityTooLarge, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible limit.",
				fmt.Sprintf("The emulator accepts at most %d bytes per request.", MaxRequestBytes))
			return nil, false
		}
		writeXMLError(w, r, http.StatusBadRequest, "InvalidInput", "One of the request inputs is not valid.", "Reading the request body: "+err.Error())
		return nil, false
	}
	return body, true
}

type xmlError struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
	Detail  string   `xml:"AuthenticationErrorDetail,omitempty"`
	Reason  string   `xml:"Reason,omitempty"`
}

// writeXMLError writes a blob or queue service error: status, x-ms-error-code and the XML body.
func writeXMLError(w http.ResponseWriter, r *http.Request, status int, code, message, detail string) {
	e := xmlError{Code: code, Message: fmt.Sprintf("%s\nRequestId:%s\nTime:%s", message, w.Header().Get("x-ms-request-id"), time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z"))}
	if code == sas.CodeAuthenticationFailed {
		e.Detail = detail
	} else {
		e.Reason = detail
	}
	body, _ := xml.Marshal(e)
	w.Header().Set("x-ms-error-code", code)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, xml.Header)
		_, _ = w.Write(body)
	}
}

// faultCodes are the storage error codes of injected faults, by HTTP status.
var faultCodes = map[int][2]string{
	http.StatusTooManyRequests:     {"ServerBusy", "The server is busy."},
	http.StatusInternalServerError: {"InternalError", "The server encountered an internal error. Please retry the request."},
	http.StatusServiceUnavailable:  {"ServerBusy", "The server is currently unable to receive requests. Please retry your request."},
	http.StatusBadRequest:          {"InvalidInput", "One of the request inputs is not valid."},
}

func writeFaultXML(w http.ResponseWriter, r *http.Request, status int, code string, _ bool) {
	def := faultCodes[status]
	if code == "" {
		code = def[0]
	}
	writeXMLError(w, r, status, code, def[1], "Injected fault.")
}

func writeFaultTable(w http.ResponseWriter, r *http.Request, status int, code string, _ bool) {
	def := faultCodes[status]
	if code == "" {
		code = def[0]
	}
	writeTableError(w, r, status, code, def[1])
}

// statusRecorder remembers the status for the request log and passes hijacking through.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for dropped-connection faults).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// httpTime formats a time as the RFC 1123 GMT form Azure Storage uses in headers and XML.
func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// ResolveBlob checks that u addresses a blob of this account whose SAS grants read access (as
// the data-management service reads an ingestion source) and returns its container and name. The
// caller checks the host.
func (s *Server) ResolveBlob(u *url.URL) (containerName, name string, err error) {
	account, rest, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	containerName, name, _ = strings.Cut(rest, "/")
	if account != s.account.Name || containerName == "" || name == "" {
		return "", "", fmt.Errorf("%s is not a blob of account %s: %w", u.Path, s.account.Name, ErrNotFound)
	}
	s.mu.RLock()
	_, ok := s.containers[containerName]
	s.mu.RUnlock()
	if !ok {
		return "", "", fmt.Errorf("container %q: %w", containerName, ErrNotFound)
	}
	if err := s.account.Verify(u.Query(), sas.Request{Service: sas.Blob, Resource: containerName, Blob: name, Permission: 'r', Now: s.now()}); err != nil {
		return "", "", err
	}
	return containerName, name, nil
}

// ResolveTable checks that u addresses a table of this account and returns the table name. A
// URL without a table path (the service URL with a table SAS, as the Node SDK reports its status
// table) names the table by the SAS's tn parameter.
func (s *Server) ResolveTable(u *url.URL) (string, error) {
	account, name, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if name == "" && (account == "" || account == s.account.Name) {
		account, name = s.account.Name, u.Query().Get("tn")
	}
	if account != s.account.Name || name == "" {
		return "", fmt.Errorf("%s is not a table of account %s: %w", u.Path, s.account.Name, ErrNotFound)
	}
	s.mu.RLock()
	t, ok := s.tables[strings.ToLower(name)]
	s.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("table %q: %w", name, ErrNotFound)
	}
	return t.name, nil
}
