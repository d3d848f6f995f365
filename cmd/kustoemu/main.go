// Command kustoemu runs the local Kusto emulator (engine, data management and HTTPS storage) as
// a process:
//
//	kustoemu --listen 127.0.0.1:8080 --storage-listen 127.0.0.1:10443 --ca-out ca.pem \
//	    --database db1 [--database db2] [--data-dir DIR] [--auth-client APPID:SECRET ...]
//
// When it listens it prints one line, "kustoemu ready ENGINE_URL STORAGE_URL" (and the token
// endpoint's URL with --auth-client), on standard output; logs go to standard error. SIGINT or
// SIGTERM stops it cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kustoemu:", err)
		os.Exit(2)
	}
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kustoemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		databases, clients listFlag
		listen             = fs.String("listen", "127.0.0.1:8080", "engine and data-management `address`")
		storageListen      = fs.String("storage-listen", "127.0.0.1:10443", "HTTPS storage (blob, queue, table) `address`")
		caOut              = fs.String("ca-out", "", "write the CA certificate (PEM) of the HTTPS listeners to this `file`")
		dataDir            = fs.String("data-dir", "", "keep state, CA and storage key in this `directory` across restarts (default: in memory)")
		account            = fs.String("storage-account", kustoemu.DefaultStorageAccount, "storage account `name`")
		// Kusto seals a batch after 5 minutes by default; a local emulator defaults to 10 s, the
		// shortest MaximumBatchingTimeSpan Kusto accepts, so queued ingestions show up while a
		// test or a person is still waiting. Tables' own policies apply as in Kusto.
		batchDelay = fs.Duration("batching-delay", 10*time.Second,
			"MaximumBatchingTimeSpan of queued ingestion into tables without a batching policy (Kusto's default is 5m)")
		tenant     = fs.String("auth-tenant", "", "tenant id of the embedded token endpoint (default kustoemu)")
		authListen = fs.String("auth-listen", "127.0.0.1:0", "HTTPS token endpoint `address` (with --auth-client)")
		logLevel   = fs.String("log-level", "info", "log level: debug, info, warn or error")
	)
	fs.Var(&databases, "database", "database to create (repeatable; default NetDefaultDB)")
	fs.Var(&clients, "auth-client", "require bearer tokens; `APPID:SECRET` of an application allowed to get them (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	opts := kustoemu.Options{
		Databases: databases, EngineAddr: *listen, StorageAddr: *storageListen, DataDir: *dataDir,
		Logger: logger, StorageAccount: *account, Batching: kustoemu.BatchingPolicy{MaxDelay: *batchDelay},
	}
	if len(clients) > 0 {
		opts.Auth = &kustoemu.Auth{Tenant: *tenant, TokenAddr: *authListen, Clients: map[string]string{}}
		for _, c := range clients {
			id, secret, ok := strings.Cut(c, ":")
			if !ok || id == "" || secret == "" {
				return errors.New("--auth-client must be APPID:SECRET")
			}
			opts.Auth.Clients[id] = secret
		}
	}
	e, err := kustoemu.Start(opts)
	if err != nil {
		return err
	}
	if *caOut != "" {
		if err := os.WriteFile(*caOut, e.CACertPEM(), 0o644); err != nil {
			_ = e.Close()
			return fmt.Errorf("writing --ca-out: %w", err)
		}
	}
	ready := "kustoemu ready " + e.EngineURL() + " " + e.StorageURL()
	if e.TokenURL() != "" {
		ready += " " + e.TokenURL()
	}
	fmt.Fprintln(stdout, ready)

	<-ctx.Done()
	logger.Info("stopping", "signal", context.Cause(ctx))
	done := make(chan error, 1)
	go func() { done <- e.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("stopping took longer than 30s")
	}
}
