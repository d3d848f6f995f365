// Command kconnect is a Kafka Connect–compatible worker whose first-class plugin is the Kusto
// sink.
//
//	kconnect distributed [worker.properties]   run a worker of a distributed cluster
//	kconnect dev                               Kafka + a local Kusto + a worker, with a demo
//	kconnect version                           print the version
//
// cmd reads configuration, wires the packages together and turns signals into a cancelled
// context; everything else lives in the packages.
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

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/kusto"
)

// version and commit are set at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

const usage = `kconnect — a Kafka Connect–compatible worker with a first-class Kusto sink

Usage:
  kconnect distributed [flags] [worker.properties]
      Run one worker of a distributed cluster. The file is Apache Kafka Connect's
      connect-distributed.properties; CONNECT_* environment variables (as the
      cp-kafka-connect image takes them) are added on top: CONNECT_GROUP_ID → group.id.
  kconnect dev [flags]
      Run a Kafka broker, a Kusto emulator and one worker in this process, with a demo
      that streams storm events into Kusto. Ctrl-C stops everything.
  kconnect version
      Print the version.

Run "kconnect <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "distributed":
		err = runDistributed(ctx, args[1:], stdout, stderr)
	case "dev":
		err = runDev(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "kconnect %s (commit %s)\n", version, commit)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "kconnect: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kconnect %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// plugins is the registry of compiled-in connectors.
func plugins() (*sink.Registry, error) {
	return sink.NewRegistry(kusto.Plugin())
}

// newLogger returns a text logger on w at the named level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("invalid log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
