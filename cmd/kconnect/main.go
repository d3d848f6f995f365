// Command kconnect is a Kafka Connect–compatible worker whose first-class plugin is the Kusto
// sink.
//
//	kconnect distributed [flags] [worker.properties]   run a worker of a distributed cluster
//	kconnect dev [flags]                               Kafka + a local Kusto + a worker, with a demo
//	kconnect version                                   print the version, commit and Go version
//
// cmd reads configuration, wires the packages together and turns signals into a cancelled
// context; everything else lives in the packages.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/kusto"
)

// version and commit are set at build time with -ldflags "-X main.version=… -X main.commit=…".
// Without them, the commit is read from the build information Go records in a git checkout.
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

// buildCommit returns commit, or else the revision Go recorded at build time ("-dirty" when the
// tree had changes), or "unknown".
func buildCommit() string {
	if commit != "unknown" && commit != "" {
		return commit
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// versionLine is what `kconnect version` prints.
func versionLine() string {
	return fmt.Sprintf("kconnect %s (commit %s, %s %s/%s)", version, buildCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

const usage = `kconnect — a Kafka Connect–compatible worker with a first-class Kusto sink

Usage:
  kconnect distributed [flags] [worker.properties]
      Run one worker of a distributed cluster from Apache Kafka Connect's
      connect-distributed.properties and CONNECT_* environment variables.
  kconnect dev [flags]
      Run a Kafka broker, a Kusto emulator and one worker in this process, with a demo
      that streams storm events into Kusto.
  kconnect version
      Print the version, the commit it was built from and the Go version.

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
		if len(args) > 1 {
			fmt.Fprintf(stderr, "kconnect version: unexpected arguments %q\n", args[1:])
			return 2
		}
		fmt.Fprintln(stdout, versionLine())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "kconnect: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue *usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2 // said already, with the usage
	case err != nil:
		fmt.Fprintf(stderr, "kconnect %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// usageError is a command line the command cannot run: the problem and the usage were printed
// already.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// command is the flag set of a subcommand with its usage text: a synopsis, a description, the
// flags.
func command(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: kconnect %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args. -h prints the usage on stdout and returns flag.ErrHelp; a bad flag
// prints the problem and the usage on stderr and returns a *usageError.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = out.WriteTo(stdout)
		return err
	case err != nil:
		_, _ = out.WriteTo(stderr)
		return &usageError{err}
	}
	return nil
}

// badUsage prints err and the usage of fs on fs's output (stderr after parseFlags) and
// returns err as a *usageError.
func badUsage(fs *flag.FlagSet, err error) error {
	fmt.Fprintf(fs.Output(), "kconnect %s: %v\n\n", fs.Name(), err)
	fs.Usage()
	return &usageError{err}
}

// plugins is the registry of compiled-in connectors.
func plugins() (*sink.Registry, error) {
	return sink.NewRegistry(kusto.Plugin())
}
