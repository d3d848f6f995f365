package kustoemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/faults"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/kql"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/mgmt"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/wire"
)

// maxRequestBytes bounds a query or management request body (`.ingest inline` carries data).
const maxRequestBytes = 256 << 20

const clientRequestIDHeader = "x-ms-client-request-id"

// engineHandler is the engine's route table.
func (e *Emulator) engineHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rest/auth/metadata", e.authMetadata)
	mux.HandleFunc("POST /v1/rest/mgmt", e.mgmtEndpoint)
	mux.HandleFunc("POST /v2/rest/query", e.queryV2Endpoint)
	mux.HandleFunc("POST /v1/rest/query", e.queryV1Endpoint)
	mux.HandleFunc("POST /v1/rest/ingest/{db}/{table}", e.streamingEndpoint)
	mux.HandleFunc("/emulator/faults", e.faultsEndpoint)
	mux.HandleFunc("POST /emulator/flush", e.flushEndpoint)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &model.Error{Status: http.StatusNotFound, Code: "General_NotFound", Message: "The requested resource was not found.",
			Type: "Kusto.Common.Svc.Exceptions.NotFoundException", Detail: fmt.Sprintf("%s %s is not an endpoint of this service.", r.Method, r.URL.Path), Permanent: true})
	})
	return e.recoverPanics(mux)
}

// recoverPanics turns a panic in a handler into a 500 OneApiError (a dropped-connection fault
// aborts on purpose and passes through).
func (e *Emulator) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			e.log.Error("request crashed", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, r, model.Internal("The request failed with an internal error: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// authMetadata answers the SDKs' cloud-info discovery: AzureAD null without auth (as the
// official emulator), the token endpoint and resource with it.
func (e *Emulator) authMetadata(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if e.provider == nil {
		body = []byte(`{"AzureAD":null}`)
	} else {
		body, _ = json.Marshal(map[string]any{"AzureAD": map[string]any{
			"LoginEndpoint":          e.provider.BaseURL(),
			"LoginMfaRequired":       false,
			"KustoClientAppId":       "db662dc1-0cfe-4e1c-a843-19a68e65be58",
			"KustoClientRedirectUri": "https://microsoft/kustoclient",
			"KustoServiceResourceId": e.engineURL,
			"FirstPartyAuthorityUrl": e.provider.BaseURL() + "/" + e.provider.Tenant(),
		}})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

// requestBody is the JSON body of /v1/rest/mgmt and /v{1,2}/rest/query.
type requestBody struct {
	DB         string          `json:"db"`
	CSL        string          `json:"csl"`
	Properties json.RawMessage `json:"properties"`
}

type requestProperties struct {
	Options    map[string]any `json:"Options"`
	Parameters map[string]any `json:"Parameters"`
}

// request is a decoded query or command request.
type request struct {
	DB, CSL string
	Options map[string]any    // properties.Options
	Params  map[string]string // properties.Parameters: name → KQL literal text
}

// readRequest decodes a query or command request. Properties may be an object or, as older
// clients send them, a JSON string holding the object.
func (e *Emulator) readRequest(w http.ResponseWriter, r *http.Request) (request, *model.Error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return request{}, model.BadRequest("BadRequest_RequestTooLarge", "The request body could not be read (at most %d bytes are accepted): %v", maxRequestBytes, err)
	}
	var body requestBody
	if err := json.Unmarshal(data, &body); err != nil {
		return request{}, model.BadRequest("BadRequest_InvalidRequestBody",
			`The request body is not valid JSON (expected {"db": "...", "csl": "...", "properties": {...}}): %v`, err)
	}
	if strings.TrimSpace(body.CSL) == "" {
		return request{}, model.BadRequest("BadRequest_InvalidRequestBody", `The request body has no "csl" (the query or command text).`)
	}
	req := request{DB: body.DB, CSL: body.CSL, Params: map[string]string{}}
	if req.DB == "" {
		req.DB = e.opts.Databases[0]
	}
	var props requestProperties
	raw := bytes.TrimSpace(body.Properties)
	if len(raw) > 0 && raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err == nil {
			raw = []byte(text)
		}
	}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &props); err != nil {
			return request{}, model.BadRequest("BadRequest_InvalidRequestBody", `The request "properties" are not a valid object: %v`, err)
		}
	}
	req.Options = props.Options
	for k, v := range props.Parameters {
		switch x := v.(type) {
		case string:
			req.Params[k] = x
		case nil:
		default:
			b, _ := json.Marshal(x)
			req.Params[k] = string(b)
		}
	}
	return req, nil
}

func (e *Emulator) mgmtEndpoint(w http.ResponseWriter, r *http.Request) {
	if e.faults.Apply(faults.Mgmt, w, r, writeEngineFault) {
		return
	}
	req, merr := e.readRequest(w, r)
	if merr != nil {
		writeError(w, r, merr)
		return
	}
	results, err := e.execMgmt(r.Context(), req.DB, req.CSL)
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	writeResult(w, r, func(out io.Writer) error { return wire.WriteV1(out, results) })
}

// execMgmt runs a management command: the data-management commands here, the rest in mgmt.
func (e *Emulator) execMgmt(ctx context.Context, db, csl string) ([]model.Result, error) {
	if res, ok := e.dataManagementCommand(csl); ok {
		return res, nil
	}
	return mgmt.Execute(ctx, e.cluster, db, csl)
}

func (e *Emulator) queryV2Endpoint(w http.ResponseWriter, r *http.Request) {
	if e.faults.Apply(faults.Query, w, r, writeEngineFault) {
		return
	}
	req, merr := e.readRequest(w, r)
	if merr != nil {
		writeError(w, r, merr)
		return
	}
	results, err := kql.Query(r.Context(), e.cluster, req.DB, req.CSL, req.Params)
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	crid := r.Header.Get(clientRequestIDHeader)
	if fragmentedRequested(req.Options) {
		writeResult(w, r, func(out io.Writer) error { return wire.WriteV2Request(out, results, crid) })
		return
	}
	writeResult(w, r, func(out io.Writer) error { return wire.WriteV2Unfragmented(out, results, crid) })
}

// queryV1Endpoint answers the v1 query endpoint; a command sent there runs as a command.
func (e *Emulator) queryV1Endpoint(w http.ResponseWriter, r *http.Request) {
	if e.faults.Apply(faults.Query, w, r, writeEngineFault) {
		return
	}
	req, merr := e.readRequest(w, r)
	if merr != nil {
		writeError(w, r, merr)
		return
	}
	var results []model.Result
	var err error
	if strings.HasPrefix(strings.TrimSpace(req.CSL), ".") {
		results, err = e.execMgmt(r.Context(), req.DB, req.CSL)
	} else {
		results, err = kql.Query(r.Context(), e.cluster, req.DB, req.CSL, req.Params)
	}
	if err != nil {
		writeError(w, r, asModelError(err))
		return
	}
	writeResult(w, r, func(out io.Writer) error { return wire.WriteV1(out, results) })
}

// asModelError keeps a *model.Error and turns anything else into a 500.
func asModelError(err error) *model.Error {
	var me *model.Error
	if errors.As(err, &me) {
		return me
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &model.Error{Status: http.StatusRequestTimeout, Code: "General_RequestCanceled", Message: "The request was canceled.",
			Type: "Kusto.Common.Svc.Exceptions.RequestCanceledException", Detail: err.Error(), Permanent: false}
	}
	return model.Internal("%v", err)
}

func writeError(w http.ResponseWriter, r *http.Request, e *model.Error) {
	wire.WriteError(w, e, r.Header.Get(clientRequestIDHeader))
}

// writeEngineFault answers an injected engine fault as Kusto would: 429 throttling, 500/503
// transient errors, or a permanent 400 with the fault's code.
func writeEngineFault(w http.ResponseWriter, r *http.Request, status int, code string, permanent bool) {
	var e *model.Error
	switch status {
	case http.StatusTooManyRequests:
		e = model.Throttled("The request was denied due to throttling (injected fault).")
	case http.StatusServiceUnavailable:
		e = model.Unavailable("The service is temporarily unavailable (injected fault).")
	case http.StatusInternalServerError:
		e = model.Internal("An internal error occurred (injected fault).")
	default:
		if code == "" {
			code = "General_BadRequest"
		}
		e = model.BadRequest(code, "The request failed permanently (injected fault).")
	}
	if code != "" && !permanent {
		e.Code = code
	}
	writeError(w, r, e)
}

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// writeResult writes a 200 JSON response, gzip-compressed when the client accepts it.
func writeResult(w http.ResponseWriter, r *http.Request, write func(io.Writer) error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if !acceptsGzip(r) {
		_ = write(w)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Add("Vary", "Accept-Encoding")
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w)
	_ = write(zw)
	_ = zw.Close()
	gzipWriters.Put(zw)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// requireToken refuses requests without a valid bearer token, except the auth metadata (which
// clients read before they have one) and the emulator's control endpoints.
func (e *Emulator) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/rest/auth/metadata" || strings.HasPrefix(r.URL.Path, "/emulator/") {
			next.ServeHTTP(w, r)
			return
		}
		if err := e.provider.Validate(r.Header.Get("Authorization")); err != nil {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/%s", resource="%s"`, e.provider.BaseURL(), e.provider.Tenant(), e.engineURL))
			writeError(w, r, &model.Error{Status: http.StatusUnauthorized, Code: "Unauthorized", Message: "The caller is not authenticated.",
				Type: "Kusto.Common.Svc.Exceptions.UnauthorizedOperationException", Detail: err.Error(), Permanent: true})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fragmentedRequested reports whether a query asked for fragmented primary tables
// (results_v2_fragment_primary_tables), as the Go SDK's Query and IterativeQuery do. Other
// clients (Python, Java, Node, the Go SDK's RawV2) do not, and Kusto answers them with one
// DataTable frame per table.
func fragmentedRequested(options map[string]any) bool {
	switch v := options["results_v2_fragment_primary_tables"].(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}
