package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/rest"
)

// shutdownTimeout bounds how long the REST API waits for in-flight requests on exit.
const shutdownTimeout = 30 * time.Second

const distributedDescription = `Run one worker of a distributed cluster. The file is Apache Kafka Connect's
connect-distributed.properties; CONNECT_* environment variables (as the cp-kafka-connect
image takes them) are added on top: CONNECT_GROUP_ID → group.id. Ctrl-C stops the worker.`

func runDistributed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := command("distributed", "[flags] [worker.properties]", distributedDescription)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return badUsage(fs, fmt.Errorf("at most one worker.properties file may be given, got %q", fs.Args()))
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return badUsage(fs, err)
	}
	log = log.With(loggerKey, "kconnect")
	props := map[string]string{}
	if fs.NArg() == 1 {
		if props, err = cluster.LoadProperties(fs.Arg(0)); err != nil {
			return err
		}
	}
	env := envProperties(os.Environ(), "CONNECT_")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if _, overrides := props[k]; overrides {
			log.Info("environment variable overrides worker property", "property", k)
		}
		props[k] = env[k]
	}
	if len(props) == 0 {
		return badUsage(fs, errors.New("no worker configuration: give a worker.properties file or CONNECT_* environment variables"))
	}
	cfg, err := cluster.ParseWorkerConfig(props)
	if err != nil {
		return err
	}
	return runWorker(ctx, cfg, log, nil)
}

// runWorker runs one worker (herder and REST API) until ctx is cancelled or the herder fails.
// ready, if not nil, is called once the worker completed its first rebalance. log is the
// program's logger (its lines are named "kconnect"); the packages name their own.
func runWorker(ctx context.Context, cfg *cluster.WorkerConfig, log *slog.Logger, ready func()) error {
	registry, err := plugins()
	if err != nil {
		return err
	}
	// Code without a logger of its own (connector plugins, Kafka client settings) logs
	// through the default logger, at the same level and in the same format.
	slog.SetDefault(log.With(loggerKey, "sink"))
	h, err := cluster.New(cfg, registry, cluster.WithLogger(log), cluster.WithVersion(version, buildCommit()))
	if err != nil {
		return err
	}
	origins, methods := cfg.CORS()
	srv, err := rest.New(h, rest.Options{
		Listeners:       cfg.Listeners(),
		TLS:             cfg.ListenerTLS(),
		ClientTLS:       cfg.ClientTLS(),
		CORS:            rest.CORS{AllowedOrigins: origins, AllowedMethods: methods},
		ResponseHeaders: cfg.ResponseHeaders(),
		Logger:          log.With(loggerKey, "rest"),
	})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	log.Info("kconnect worker starting", "version", version, "commit", buildCommit(), "worker_id", cfg.WorkerID(), "url", cfg.AdvertisedURL())

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
