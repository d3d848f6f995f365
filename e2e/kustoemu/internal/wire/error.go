package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// processName is the "@context.processName" of every error.
const processName = "kustoemu"

func defaultHostName() string {
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "localhost"
}

// oneAPIError is the OneApiError body; field order is the order Kusto writes.
type oneAPIError struct {
	Error oneAPIErrorDetail `json:"error"`
}

type oneAPIErrorDetail struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	Type      string       `json:"@type"`
	Detail    string       `json:"@message"`
	Context   errorContext `json:"@context"`
	Permanent bool         `json:"@permanent"`
}

type errorContext struct {
	Timestamp        string `json:"timestamp"`
	ServiceAlias     string `json:"serviceAlias"`
	MachineName      string `json:"machineName"`
	ProcessName      string `json:"processName"`
	ProcessID        int    `json:"processId"`
	ThreadID         int    `json:"threadId"`
	ClientRequestID  string `json:"clientRequestId"`
	ActivityID       string `json:"activityId"`
	SubActivityID    string `json:"subActivityId"`
	ActivityType     string `json:"activityType"`
	ParentActivityID string `json:"parentActivityId"`
	ActivityStack    string `json:"activityStack"`
}

// ErrorBody returns the OneApiError JSON of e, {"error":{code, message, @type, @message,
// @context{...}, @permanent}}, as HTTP error bodies and v2 OneApiErrors carry it. The context
// describes this process and a fresh activity; clientRequestID is echoed in it.
func ErrorBody(e *model.Error, clientRequestID string) []byte {
	activity, sub := newID().String(), newID().String()
	body := oneAPIError{Error: oneAPIErrorDetail{
		Code:    e.Code,
		Message: e.Message,
		Type:    e.Type,
		Detail:  e.Detail,
		Context: errorContext{
			Timestamp:        model.FormatDateTime(clock()),
			ServiceAlias:     "KUSTOEMU",
			MachineName:      hostName(),
			ProcessName:      processName,
			ProcessID:        processID(),
			ThreadID:         1,
			ClientRequestID:  clientRequestID,
			ActivityID:       activity,
			SubActivityID:    sub,
			ActivityType:     "GW.Http.CallContext",
			ParentActivityID: activity,
			ActivityStack:    fmt.Sprintf("(Activity stack: CRID=%s ARID=%s > GW.Http.CallContext/%s)", clientRequestID, activity, activity),
		},
		Permanent: e.Permanent,
	}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// The body holds only strings, ints and bools: encoding cannot fail.
	_ = enc.Encode(body)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

var processID = os.Getpid

// WriteError writes an HTTP error response: status e.Status, Content-Type application/json,
// body {"error":{code,message,@type,@message,@context{...},@permanent}}; clientRequestID goes
// into @context.clientRequestId. A zero status is sent as 500.
func WriteError(w http.ResponseWriter, e *model.Error, clientRequestID string) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	body := ErrorBody(e, clientRequestID)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// A failed write means the client went away; there is no one left to tell.
	_, _ = w.Write(body)
}
