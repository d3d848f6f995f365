package storage

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
)

// Queue limits as Azure Queue Storage sets them.
const (
	maxMessageBytes   = 64 << 10
	defaultMessageTTL = 7 * 24 * time.Hour
)

// Message is one queue message.
type Message struct {
	ID         string
	Text       string // as sent (the Kusto SDKs send base64 text)
	Inserted   time.Time
	Expires    time.Time
	PopReceipt string
}

// Queue is a storage queue. Messages put over HTTP are taken in process by the data-management
// loop; Ready signals that messages are waiting.
type Queue struct {
	name  string
	mu    sync.Mutex
	msgs  []Message
	ready chan struct{}
}

func newQueue(name string) *Queue {
	return &Queue{name: name, ready: make(chan struct{}, 1)}
}

// Name returns the queue name.
func (q *Queue) Name() string { return q.name }

// Put appends a message and signals Ready.
func (q *Queue) Put(m Message) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled (with one pending signal at most) when messages were put.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// TakeAll removes and returns the waiting messages that have not expired, oldest first.
func (q *Queue) TakeAll(now time.Time) []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Message, 0, len(q.msgs))
	for _, m := range q.msgs {
		if now.Before(m.Expires) {
			out = append(out, m)
		}
	}
	q.msgs = nil
	return out
}

// Len returns the number of waiting messages.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

func (q *Queue) peek(n int, now time.Time) []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Message
	for _, m := range q.msgs {
		if len(out) == n {
			break
		}
		if now.Before(m.Expires) {
			out = append(out, m)
		}
	}
	return out
}

type queueMessageBody struct {
	XMLName     xml.Name `xml:"QueueMessage"`
	MessageText string   `xml:"MessageText"`
}

type queueMessagesList struct {
	XMLName  xml.Name          `xml:"QueueMessagesList"`
	Messages []queueMessageXML `xml:"QueueMessage"`
}

type queueMessageXML struct {
	MessageID       string `xml:"MessageId"`
	InsertionTime   string `xml:"InsertionTime"`
	ExpirationTime  string `xml:"ExpirationTime"`
	PopReceipt      string `xml:"PopReceipt,omitempty"`
	TimeNextVisible string `xml:"TimeNextVisible,omitempty"`
	DequeueCount    *int   `xml:"DequeueCount,omitempty"`
	MessageText     string `xml:"MessageText,omitempty"`
}

func (s *Server) serveQueue(w http.ResponseWriter, r *http.Request, name string, q *Queue, sub string) {
	if sub != "messages" {
		writeXMLError(w, r, http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.",
			"Only the messages resource of a queue is supported.")
		return
	}
	switch {
	case r.Method == http.MethodPost:
		if s.authorize(w, r, sas.Request{Service: sas.Queue, Resource: name, Permission: 'a'}, false) {
			s.putMessage(w, r, q)
		}
	case r.Method == http.MethodGet && r.URL.Query().Get("peekonly") == "true":
		if s.authorize(w, r, sas.Request{Service: sas.Queue, Resource: name, Permission: 'r'}, false) {
			s.peekMessages(w, r, q)
		}
	default:
		writeXMLError(w, r, http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.",
			"Messages can be put and peeked; the emulator's data management service consumes this queue.")
	}
}

func (s *Server) putMessage(w http.ResponseWriter, r *http.Request, q *Queue) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2*maxMessageBytes))
	if err != nil {
		writeXMLError(w, r, http.StatusRequestEntityTooLarge, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible limit.", "")
		return
	}
	var m queueMessageBody
	if err := xml.Unmarshal(body, &m); err != nil {
		writeXMLError(w, r, http.StatusBadRequest, "InvalidXmlDocument", "XML specified is not syntactically valid.", err.Error())
		return
	}
	if len(m.MessageText) > maxMessageBytes {
		writeXMLError(w, r, http.StatusBadRequest, "MessageTooLarge", "The message exceeds the maximum allowed size.",
			fmt.Sprintf("The message text has %d bytes; at most %d are allowed.", len(m.MessageText), maxMessageBytes))
		return
	}
	now := s.now().UTC()
	ttl := defaultMessageTTL
	if v := r.URL.Query().Get("messagettl"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n == 0 || n < -1 {
			writeXMLError(w, r, http.StatusBadRequest, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid.", "messagettl")
			return
		}
		if n == -1 {
			ttl = 100 * 365 * 24 * time.Hour
		} else {
			ttl = time.Duration(n) * time.Second
		}
	}
	visible := now
	if v := r.URL.Query().Get("visibilitytimeout"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			visible = now.Add(time.Duration(n) * time.Second)
		}
	}
	msg := Message{ID: uuid.NewString(), Text: m.MessageText, Inserted: now, Expires: now.Add(ttl), PopReceipt: uuid.NewString()}
	q.Put(msg)
	out := queueMessagesList{Messages: []queueMessageXML{{
		MessageID: msg.ID, InsertionTime: httpTime(msg.Inserted), ExpirationTime: httpTime(msg.Expires),
		PopReceipt: msg.PopReceipt, TimeNextVisible: httpTime(visible),
	}}}
	writeXML(w, http.StatusCreated, out)
}

func (s *Server) peekMessages(w http.ResponseWriter, r *http.Request, q *Queue) {
	n := 1
	if v := r.URL.Query().Get("numofmessages"); v != "" {
		if x, err := strconv.Atoi(v); err == nil && x >= 1 && x <= 32 {
			n = x
		}
	}
	out := queueMessagesList{Messages: []queueMessageXML{}}
	zero := 0
	for _, m := range q.peek(n, s.now()) {
		out.Messages = append(out.Messages, queueMessageXML{MessageID: m.ID, InsertionTime: httpTime(m.Inserted),
			ExpirationTime: httpTime(m.Expires), DequeueCount: &zero, MessageText: m.Text})
	}
	writeXML(w, http.StatusOK, out)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}
