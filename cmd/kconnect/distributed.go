package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/rest"
)

// shutdownTimeout bounds how long the REST API waits for in-flight requests on exit.
const shutdownTimeout = 30 * time.Second

func runDistributed(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("distributed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kconnect distributed [flags] [worker.properties]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errors.New("at most one worker.properties file may be given")
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	props := map[string]string{}
	if fs.NArg() == 1 {
		if props, err = cluster.LoadProperties(fs.Arg(0)); err != nil {
			return err
		}
	}
	env := envProperties(os.Environ(), "CONNECT_")
	for _, k := range sortedKeys(env) {
		if _, overrides := props[k]; overrides {
			log.Info("environment variable overrides worker property", "property", k)
		}
		props[k] = env[k]
	}
	if len(props) == 0 {
		fs.Usage()
		return errors.New("no worker configuration: give a worker.properties file or CONNECT_* environment variables")
	}
	cfg, err := cluster.ParseWorkerConfig(props)
	if err != nil {
		return err
	}
	return runWorker(ctx, cfg, log, nil)
}

// runWorker runs one worker (herder and REST API) until ctx is cancelled or the herder fails.
// ready, if not nil, is called once the worker completed its first rebalance.
func runWorker(ctx context.Context, cfg *cluster.WorkerConfig, log *slog.Logger, ready func()) error {
	registry, err := plugins()
	if err != nil {
		return err
	}
	h, err := cluster.New(cfg, registry, cluster.WithLogger(log), cluster.WithVersion(version, commit))
	if err != nil {
		return err
	}
	srv, err := rest.New(h, rest.Options{Listeners: cfg.Listeners(), Logger: log.With("logger", "rest")})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	log.Info("kconnect worker starting", "version", version, "worker_id", cfg.WorkerID(), "url", cfg.AdvertisedURL())

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	herderDone := make(chan error, 1)
	go func() { herderDone <- h.Run(runCtx) }()

	var runErr error
	select {
	case <-h.Ready():
		log.Info("kconnect worker ready", "worker_id", cfg.WorkerID())
		if ready != nil {
			ready()
		}
		runErr = <-herderDone
	case runErr = <-herderDone:
	}

	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("stopping the REST API", "error", err)
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	log.Info("kconnect worker stopped", "worker_id", cfg.WorkerID())
	return nil
}
