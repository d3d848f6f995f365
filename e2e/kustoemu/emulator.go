// Package kustoemu is a local Kusto (Azure Data Explorer) that the unmodified Kusto SDKs accept:
// the engine (queries, management commands, streaming ingestion), the data-management service
// (ingestion resources, queued ingestion with batching, status reporting) and the Azure Storage
// account queued ingestion goes through (blobs, queues, the status table, over HTTPS with
// checked SAS tokens), in one process.
//
// Start one with [Start]; point clients at [Emulator.EngineURL] with
// azkustoingest.WithoutEndpointCorrection() (engine and data management share the port) and
// trust [Emulator.CACertPEM] (or use [Emulator.HTTPClient]). [Emulator.Faults] injects failures
// per surface; [Emulator.Rows], [Emulator.Mgmt] and [Emulator.Query] inspect the state.
//
// The binary cmd/kustoemu runs the same emulator as a process.
package kustoemu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/auth"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/dm"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/faults"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/pki"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/storage"
)

// DefaultDatabase is the database created when Options.Databases is empty (Kusto's default).
const DefaultDatabase = "NetDefaultDB"

// DefaultStorageAccount is the storage account name in the storage URLs (Azurite's, so storage
// tools recognise it).
const DefaultStorageAccount = "devstoreaccount1"

// Storage resources the data-management service hands out.
const (
	tempContainer    = "tempstorage"
	readyQueue       = "readyforaggregation-secured"
	successQueue     = "successfulingestions"
	failureQueue     = "failedingestions"
	statusTable      = "ingestionsstatus"
	resourceLifetime = 24 * time.Hour
)

// Files inside Options.DataDir.
const (
	stateFile      = "state.json"
	accountKeyFile = "storage-account.key"
)

// Options configures an emulator. The zero value is usable.
type Options struct {
	// Databases are created at start if they do not exist (default: NetDefaultDB). The first is
	// the database of requests that name none.
	Databases []string
	// EngineAddr is the engine and data-management listener (default 127.0.0.1:0).
	EngineAddr string
	// StorageAddr is the HTTPS blob/queue/table listener (default 127.0.0.1:0).
	StorageAddr string
	// DataDir keeps the state (databases, tables, mappings, policies, rows, ingestion failures),
	// the CA and the storage key across restarts; "" keeps everything in memory.
	DataDir string
	// Auth requires bearer tokens from an embedded token endpoint; nil = no authentication
	// (plain http engine, like the official emulator).
	Auth *Auth
	// Logger receives the emulator's logs (default slog.Default()). Secrets, tokens and SAS
	// signatures are never logged.
	Logger *slog.Logger
	// Batching is the ingestion batching policy of tables that have none; zero fields take
	// Kusto's defaults (5 minutes, 500 items, 1024 MB). Tests set a short MaxDelay here or with
	// `.alter table T policy ingestionbatching`.
	Batching BatchingPolicy
	// StorageAccount names the storage account (default devstoreaccount1).
	StorageAccount string
	// IngestRetryDelay is how long the data-management service waits before retrying a
	// transiently failed ingestion (doubling per attempt, 3 attempts; default 1s).
	IngestRetryDelay time.Duration
	// PersistDelay is how long after a change the state is written to DataDir (default 200ms).
	PersistDelay time.Duration
}

// BatchingPolicy is an ingestion batching policy: a batch of queued ingestions into one table is
// ingested when the first limit is reached.
type BatchingPolicy struct {
	MaxDelay     time.Duration // MaximumBatchingTimeSpan
	MaxItems     int           // MaximumNumberOfItems
	MaxRawSizeMB int           // MaximumRawDataSizeMB
}

// Auth configures authentication: clients obtain tokens with the client-secret flow
// (azkustodata's WithAadAppKey(appID, secret, Tenant)) from an HTTPS token endpoint, and the
// engine, now HTTPS too, requires them.
type Auth struct {
	// Tenant is the directory's tenant id (default "kustoemu").
	Tenant string
	// Clients maps application ids to their secrets; at least one is required.
	Clients map[string]string
	// TokenAddr is the token endpoint's HTTPS listener (default 127.0.0.1:0).
	TokenAddr string
	// TokenLifetime is how long tokens are valid (default 1h).
	TokenLifetime time.Duration
}

// Emulator is a running emulator. Close it when done.
type Emulator struct {
	opts      Options
	log       *slog.Logger
	cluster   *model.Cluster
	ca        *pki.CA
	account   sas.Account
	identity  string
	faults    *faults.Set
	storage   *storage.Server
	dm        *dm.Loop
	provider  *auth.Provider
	persister *persister
	client    *http.Client

	engineURL, storageURL, tokenURL string
	storageHost                     string
	servers                         []*http.Server
	serving                         sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Start starts an emulator: it loads or creates its state, CA and storage key, listens on the
// engine and storage addresses (and the token address with Auth) and starts the data-management
// service.
func Start(opts Options) (*Emulator, error) {
	if len(opts.Databases) == 0 {
		opts.Databases = []string{DefaultDatabase}
	}
	for _, db := range opts.Databases {
		if strings.TrimSpace(db) == "" {
			return nil, errors.New("starting emulator: a database name is empty")
		}
	}
	if opts.EngineAddr == "" {
		opts.EngineAddr = "127.0.0.1:0"
	}
	if opts.StorageAddr == "" {
		opts.StorageAddr = "127.0.0.1:0"
	}
	if opts.StorageAccount == "" {
		opts.StorageAccount = DefaultStorageAccount
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PersistDelay <= 0 {
		opts.PersistDelay = 200 * time.Millisecond
	}
	e := &Emulator{opts: opts, log: opts.Logger, faults: faults.NewSet()}
	if err := e.start(); err != nil {
		e.shutdown(false)
		return nil, err
	}
	return e, nil
}

func (e *Emulator) start() error {
	opts := e.opts
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return fmt.Errorf("starting emulator: creating data directory: %w", err)
		}
	}
	var err error
	if e.ca, err = pki.LoadOrCreate(opts.DataDir); err != nil {
		return fmt.Errorf("starting emulator: %w", err)
	}
	key, err := loadOrCreateKey(opts.DataDir)
	if err != nil {
		return fmt.Errorf("starting emulator: %w", err)
	}
	e.account = sas.Account{Name: opts.StorageAccount, Key: key}
	e.identity = derivedSecret(key, "kusto identity token")
	if e.cluster, err = loadCluster(opts.DataDir); err != nil {
		return fmt.Errorf("starting emulator: %w", err)
	}
	e.cluster.EnsureDatabases(opts.Databases...)

	// Listeners are served only at the end; until then an error closes them.
	var listeners []net.Listener
	listen := func(what, addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("starting emulator: %s listener: %w", what, err)
		}
		listeners = append(listeners, ln)
		return ln, nil
	}
	served := false
	defer func() {
		if !served {
			for _, ln := range listeners {
				_ = ln.Close()
			}
		}
	}()
	engineLn, err := listen("engine", opts.EngineAddr)
	if err != nil {
		return err
	}
	storageLn, err := listen("storage", opts.StorageAddr)
	if err != nil {
		return err
	}
	var tokenLn net.Listener
	if opts.Auth != nil {
		if tokenLn, err = listen("token", authAddr(opts.Auth)); err != nil {
			return err
		}
	}

	e.storageHost = urlHost(storageLn.Addr())
	e.storageURL = "https://" + e.storageHost
	e.storage = storage.New(storage.Config{Account: e.account, Faults: e.faults, Logger: e.log.With("component", "storage")})
	e.storage.CreateContainer(tempContainer)
	ready := e.storage.CreateQueue(readyQueue)
	e.storage.CreateQueue(successQueue)
	e.storage.CreateQueue(failureQueue)
	e.storage.CreateTable(statusTable)
	storageTLS, err := e.ca.ServerConfig(certHosts(storageLn.Addr())...)
	if err != nil {
		return fmt.Errorf("starting emulator: %w", err)
	}

	e.engineURL = "http://" + urlHost(engineLn.Addr())
	engineHandler := http.Handler(e.engineHandler())
	var tokenTLS, engineTLS *tls.Config
	if opts.Auth != nil {
		e.engineURL = "https://" + urlHost(engineLn.Addr())
		e.tokenURL = "https://" + urlHost(tokenLn.Addr())
		e.provider, err = auth.New(auth.Config{Tenant: opts.Auth.Tenant, Clients: opts.Auth.Clients, Audience: e.engineURL,
			TokenLifetime: opts.Auth.TokenLifetime, SigningKey: []byte(derivedSecret(e.account.Key, "token signing key")),
			Logger: e.log.With("component", "auth")})
		if err != nil {
			return fmt.Errorf("starting emulator: %w", err)
		}
		e.provider.SetBaseURL(e.tokenURL)
		if tokenTLS, err = e.ca.ServerConfig(append(certHosts(tokenLn.Addr()), auth.InstanceDiscoveryHost)...); err != nil {
			return fmt.Errorf("starting emulator: %w", err)
		}
		if engineTLS, err = e.ca.ServerConfig(certHosts(engineLn.Addr())...); err != nil {
			return fmt.Errorf("starting emulator: %w", err)
		}
		engineHandler = e.requireToken(engineHandler)
	}
	e.client = e.newHTTPClient(tokenLn)

	e.dm = dm.Start(dm.Config{
		Cluster: e.cluster, Storage: e.storage, StorageHost: e.storageHost, Queue: ready, TempContainer: tempContainer,
		AuthContext: e.identity, Faults: e.faults, DefaultBatching: opts.Batching.model(), RetryDelay: opts.IngestRetryDelay,
		Logger: e.log.With("component", "dm"),
	})
	if opts.DataDir != "" {
		e.persister = startPersister(e.cluster, filepath.Join(opts.DataDir, stateFile), opts.PersistDelay, e.log.With("component", "persistence"))
	}

	served = true
	e.serve(tls.NewListener(storageLn, storageTLS), e.storage)
	if tokenLn != nil {
		e.serve(tls.NewListener(tokenLn, tokenTLS), e.provider)
		engineLn = tls.NewListener(engineLn, engineTLS)
	}
	e.serve(engineLn, engineHandler)
	e.log.Info("kusto emulator started", "engine", e.engineURL, "storage", e.storageURL, "data_dir", opts.DataDir)
	return nil
}

func (p BatchingPolicy) model() model.BatchingPolicy {
	return model.BatchingPolicy{MaximumBatchingTimeSpan: p.MaxDelay, MaximumNumberOfItems: p.MaxItems, MaximumRawDataSizeMB: p.MaxRawSizeMB}
}

func authAddr(a *Auth) string {
	if a.TokenAddr == "" {
		return "127.0.0.1:0"
	}
	return a.TokenAddr
}

// serve runs an HTTP server on ln until Close.
func (e *Emulator) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	e.servers = append(e.servers, srv)
	e.serving.Add(1)
	go func() {
		defer e.serving.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("listener stopped", "address", ln.Addr().String(), "error", err)
		}
	}()
}

// urlHost is the host:port clients use for a listener: an unspecified address (0.0.0.0, ::)
// becomes 127.0.0.1.
func urlHost(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// certHosts are the names a server certificate covers: loopback plus the listener's own address.
func certHosts(a net.Addr) []string {
	hosts := []string{"127.0.0.1", "localhost", "::1"}
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP != nil && !tcp.IP.IsUnspecified() && !tcp.IP.IsLoopback() {
		hosts = append(hosts, tcp.IP.String())
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	return hosts
}

// newHTTPClient returns a client that trusts the CA and, with auth, routes MSAL's instance
// discovery (sent to login.microsoftonline.com) to the token endpoint.
func (e *Emulator) newHTTPClient(tokenLn net.Listener) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: e.ca.Pool(), MinVersion: tls.VersionTLS12},
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	if tokenLn != nil {
		tokenAddr := urlHost(tokenLn.Addr())
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.EqualFold(addr, auth.InstanceDiscoveryHost+":443") {
				addr = tokenAddr
			}
			return dialer.DialContext(ctx, network, addr)
		}
	}
	return &http.Client{Transport: tr}
}

// Close stops the listeners, the data-management service (which, with a data directory, first
// ingests what is waiting) and the persistence, and waits for them. It is idempotent.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.shutdown(true) })
	return e.closeErr
}

func (e *Emulator) shutdown(started bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range e.servers {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	e.serving.Wait()
	if e.dm != nil {
		e.dm.Close(e.opts.DataDir != "")
	}
	if e.persister != nil {
		if err := e.persister.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	if started && e.engineURL != "" {
		e.log.Info("kusto emulator stopped", "engine", e.engineURL)
	}
	return errors.Join(errs...)
}

// EngineURL is the engine and data-management URL, e.g. http://127.0.0.1:8080 (https with Auth).
func (e *Emulator) EngineURL() string { return e.engineURL }

// StorageURL is the HTTPS storage URL, e.g. https://127.0.0.1:10443.
func (e *Emulator) StorageURL() string { return e.storageURL }

// TokenURL is the token endpoint's base URL (the LoginEndpoint); "" without Auth.
func (e *Emulator) TokenURL() string { return e.tokenURL }

// Tenant is the tenant id to authenticate against; "" without Auth.
func (e *Emulator) Tenant() string {
	if e.provider == nil {
		return ""
	}
	return e.provider.Tenant()
}

// CACertPEM returns the CA certificate of the HTTPS listeners in PEM form.
func (e *Emulator) CACertPEM() []byte { return e.ca.CertPEM() }

// HTTPClient returns a client that trusts CACertPEM (and, with Auth, reaches the token endpoint
// for MSAL's instance discovery). Pass it to azkustodata.WithHttpClient /
// azkustoingest.WithHttpClient.
func (e *Emulator) HTTPClient() *http.Client { return e.client }

// Flush makes the data-management service take every waiting ingestion message and ingest
// every open batch now, and returns when that is done.
func (e *Emulator) Flush(ctx context.Context) error { return e.dm.Flush(ctx) }

func loadOrCreateKey(dir string) ([]byte, error) {
	if dir == "" {
		return sas.NewKey()
	}
	path := filepath.Join(dir, accountKeyFile)
	text, err := os.ReadFile(path)
	if err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("reading storage account key %s: not a base64 key", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading storage account key: %w", err)
	}
	key, err := sas.NewKey()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing storage account key: %w", err)
	}
	return key, nil
}

// derivedSecret derives a secret for one purpose (the data-management identity token, the token
// signing key) from the storage key, so that what was issued stays valid across restarts with the
// same data directory.
func derivedSecret(key []byte, purpose string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func loadCluster(dir string) (*model.Cluster, error) {
	if dir == "" {
		return model.NewCluster(), nil
	}
	c, err := model.LoadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return model.NewCluster(), nil
	}
	return c, err
}

// storageResource is the SAS URL of a storage resource.
func (e *Emulator) storageResource(svc sas.Service, name, perms string) string {
	q := e.account.Sign(sas.Grant{Service: svc, Resource: name, Permissions: perms, Expiry: time.Now().Add(resourceLifetime)})
	u := url.URL{Scheme: "https", Host: e.storageHost, Path: "/" + e.account.Name + "/" + name, RawQuery: q.Encode()}
	return u.String()
}
