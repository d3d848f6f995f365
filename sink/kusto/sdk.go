package kusto

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/Azure/azure-kusto-go/azkustoingest"
	"github.com/Azure/azure-kusto-go/azkustoingest/ingestoptions"
	"github.com/google/uuid"
)

// connectorName is sent to Kusto in the connector details: the SDK prefixes it with "Kusto.",
// giving the Java sink's "Kusto.Kafka.Sink".
const connectorName = "Kafka.Sink"

// sdkIngester ingests spool files with the Kusto SDK: one queued client per task, shared by all
// partitions and tables, and one managed (streaming with queued fallback) client when a mapping
// streams.
type sdkIngester struct {
	log     *slog.Logger
	queued  *azkustoingest.Ingestion
	managed *azkustoingest.Managed // nil when no mapping streams
	streams *streamWatch

	mu          sync.Mutex
	noStreaming map[string]bool // "db/table" whose streaming policy is missing: queued from now on
}

// newSDKIngester creates the task's Kusto clients. It does no network I/O: the SDK fetches the
// ingestion resources on first use.
func newSDKIngester(cfg *Config, log *slog.Logger) (ingester, error) {
	if err := trustInSDK(parseTrustedHosts(cfg.TrustedHosts)); err != nil {
		return nil, err
	}
	watch := &streamWatch{seen: map[string]string{}}
	client, err := httpClient(cfg, watch)
	if err != nil {
		return nil, err
	}
	ingestKCSB, err := connectionString(cfg, cfg.IngestionURL)
	if err != nil {
		return nil, err
	}
	s := &sdkIngester{log: log, streams: watch, noStreaming: map[string]bool{}}
	s.queued, err = azkustoingest.New(ingestKCSB, azkustoingest.WithoutEndpointCorrection(), azkustoingest.WithHttpClient(client))
	if err != nil {
		return nil, fmt.Errorf("creating the queued ingestion client: %w", err)
	}
	if cfg.routes.anyStreaming() {
		engineKCSB, err := connectionString(cfg, cfg.QueryURL)
		if err == nil {
			s.managed, err = azkustoingest.NewManaged(engineKCSB, azkustoingest.WithCustomIngestConnectionString(ingestKCSB),
				azkustoingest.WithHttpClient(client))
		}
		if err != nil {
			s.queued.Close()
			return nil, fmt.Errorf("creating the streaming ingestion client: %w", err)
		}
	}
	return s, nil
}

// connectionString builds the SDK connection string for one endpoint and the configured
// authentication. The SDK's builders panic on empty arguments; the configuration was checked
// before, and a panic that still happens becomes an error.
func connectionString(cfg *Config, endpoint string) (kcsb *azkustodata.ConnectionStringBuilder, err error) {
	defer func() {
		if r := recover(); r != nil {
			kcsb, err = nil, fmt.Errorf("building the Kusto connection string: %v", r)
		}
	}()
	// Built directly rather than parsed: the SDK's parser splits on ';' and '=' in URLs.
	kcsb = &azkustodata.ConnectionStringBuilder{DataSource: endpoint}
	switch cfg.Auth {
	case AuthApplication:
		kcsb.WithAadAppKey(cfg.AppID, cfg.AppKey.Value(), cfg.Authority)
	case AuthManagedIdentity:
		if cfg.AppID != "" {
			kcsb.WithUserAssignedIdentityClientId(cfg.AppID)
		} else {
			kcsb.WithSystemManagedIdentity()
		}
	case AuthWorkloadIdentity:
		// Empty values make azidentity read AZURE_CLIENT_ID, AZURE_TENANT_ID and
		// AZURE_FEDERATED_TOKEN_FILE, as the Java sink's WorkloadIdentityCredentialBuilder does.
		kcsb.WithKubernetesWorkloadIdentity(cfg.AppID, "", cfg.Authority)
	case AuthAzDevToken:
		kcsb.WithAadUserToken(strings.TrimSpace(cfg.AccessToken.Value()))
	case AuthNone:
		// No credential: the SDK sends no Authorization header, which it allows over http.
	default:
		return nil, fmt.Errorf("unknown authentication strategy %q", cfg.Auth)
	}
	kcsb.SetConnectorDetails(connectorName, Version, "", "", false, "",
		azkustodata.StringPair{Key: "AuthType", Value: strings.ToUpper(string(cfg.Auth))})
	return kcsb, nil
}

// httpClient is the client for Kusto and its storage: the system CAs plus kusto.tls.ca.file,
// the proxy if configured, redirects not followed (as the SDK's default client), a note of the
// causes of failed exchanges (causeTransport) and a watch on streaming-ingestion answers.
func httpClient(cfg *Config, watch *streamWatch) (*http.Client, error) {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("the default HTTP transport is not an *http.Transport")
	}
	tr := base.Clone()
	if cfg.CACerts != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.CACerts, MinVersion: tls.VersionTLS12}
	}
	if cfg.ProxyHost != "" && cfg.ProxyPort > -1 {
		proxy := &url.URL{Scheme: "http", Host: net.JoinHostPort(cfg.ProxyHost, strconv.Itoa(cfg.ProxyPort))}
		tr.Proxy = http.ProxyURL(proxy)
	}
	watch.next = tr
	return &http.Client{
		Transport:     &causeTransport{next: watch},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// Ingest sends one spool file. The file is already gzip-compressed, so the SDK is told not to
// compress it and is given its uncompressed size. It is passed as a reader, not a path: for
// local paths the queued client overwrites RawDataSize with the compressed file size.
//
// A failure carries the cause the SDK drops (the last transport error or failed storage answer
// of this attempt's requests, see causeTransport).
func (s *sdkIngester) Ingest(ctx context.Context, req *ingestRequest) error {
	f, err := os.Open(req.Path)
	if err != nil {
		return fmt.Errorf("opening the spool file %s: %w", req.Path, err)
	}
	ctx, attempt := withAttemptLog(ctx)
	defer f.Close()
	rt := req.Route
	opts := []azkustoingest.FileOption{
		azkustoingest.Database(rt.Database),
		azkustoingest.Table(rt.Table),
		azkustoingest.DontCompress(),
		azkustoingest.CompressionType(ingestoptions.GZIP),
		azkustoingest.RawDataSize(req.RawSize),
	}
	if rt.Mapping != "" {
		// Sets the format too, and the mapping kind it implies (Csv, Json).
		opts = append(opts, azkustoingest.IngestionMappingRef(rt.Mapping, rt.Format.sdk))
	} else {
		opts = append(opts, azkustoingest.FileFormat(rt.Format.sdk))
	}
	if rt.Streaming && s.managed != nil && !s.streamingOff(rt) {
		id := "KafkaSink.Stream;" + uuid.NewString()
		opts = append(opts, azkustoingest.ClientRequestId(id))
		_, err = s.managed.FromReader(ctx, f, opts...)
		if code := s.streams.take(id); code != "" {
			s.disableStreaming(rt, code)
		}
		if err != nil {
			return attempt.explain(fmt.Errorf("ingesting into %s.%s (streaming): %w", rt.Database, rt.Table, err))
		}
		return nil
	}
	if _, err = s.queued.FromReader(ctx, f, opts...); err != nil {
		return attempt.explain(fmt.Errorf("ingesting into %s.%s: %w", rt.Database, rt.Table, err))
	}
	return nil
}

func tableKey(rt *route) string { return rt.Database + "/" + rt.Table }

func (s *sdkIngester) streamingOff(rt *route) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.noStreaming[tableKey(rt)]
}

// disableStreaming switches a table to queued ingestion for the rest of the task's life: the
// managed client would otherwise pay three failed streaming calls before every fallback.
func (s *sdkIngester) disableStreaming(rt *route, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.noStreaming[tableKey(rt)] {
		s.noStreaming[tableKey(rt)] = true
		s.log.Warn("streaming ingestion is not enabled for the table; using queued ingestion for it",
			"database", rt.Database, "table", rt.Table, "code", code)
	}
}

// Close closes the SDK clients.
func (s *sdkIngester) Close() error {
	var errs []error
	if s.managed != nil {
		errs = append(errs, s.managed.Close())
	}
	errs = append(errs, s.queued.Close())
	return errors.Join(errs...)
}

// streamWatch is the HTTP transport of the SDK clients. It notes streaming-ingestion answers
// that say streaming is not enabled, by client request id: the managed client hides them behind
// its queued fallback (it treats every streaming error as transient, wire spec §4.3).
type streamWatch struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]string // client request id → Kusto error code
}

// streamingOffCodes are the Kusto error codes meaning a table or cluster cannot take streaming.
var streamingOffCodes = []string{"StreamingIngestionPolicyNotEnabled", "StreamingIngestionFunctionalityDisabled", "StreamingIngestionDisabledForCluster"}

func (w *streamWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || !strings.Contains(req.URL.Path, "/v1/rest/ingest/") {
		return resp, err
	}
	id := req.Header.Get("x-ms-client-request-id")
	if !strings.HasPrefix(id, "KafkaSink.Stream;") {
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	for _, code := range streamingOffCodes {
		if bytes.Contains(body, []byte(code)) {
			w.mu.Lock()
			w.seen[id] = code
			w.mu.Unlock()
			break
		}
	}
	return resp, nil
}

// take returns and forgets the streaming-off code noted for a request id ("" for none).
func (w *streamWatch) take(id string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	code := w.seen[id]
	delete(w.seen, id)
	return code
}
