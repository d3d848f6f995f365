package kustoemu_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-kusto-go/azkustoingest"
)

// emulatorProcess is cmd/kustoemu running as a child process.
type emulatorProcess struct {
	cmd              *exec.Cmd
	engine, storage  string
	stdout           *bufio.Scanner
	stdoutLinesAfter chan []string
}

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the kustoemu binary")
	}
	bin := filepath.Join(t.TempDir(), "kustoemu")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kconnect/kconnect/cmd/kustoemu").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess starts the binary and waits for its ready line.
func startProcess(t *testing.T, bin string, args ...string) *emulatorProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &testWriter{t: t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &emulatorProcess{cmd: cmd, stdout: bufio.NewScanner(stdout), stdoutLinesAfter: make(chan []string, 1)}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	ready := make(chan string, 1)
	go func() {
		var line string
		if p.stdout.Scan() {
			line = p.stdout.Text()
		}
		ready <- line
		var rest []string
		for p.stdout.Scan() {
			rest = append(rest, p.stdout.Text())
		}
		p.stdoutLinesAfter <- rest
	}()
	select {
	case line := <-ready:
		fields := strings.Fields(line)
		if len(fields) != 4 || fields[0] != "kustoemu" || fields[1] != "ready" {
			t.Fatalf("first stdout line = %q, want \"kustoemu ready ENGINE STORAGE\"", line)
		}
		p.engine, p.storage = fields[2], fields[3]
	case <-time.After(30 * time.Second):
		t.Fatal("no ready line within 30s")
	}
	return p
}

// stop sends sig and checks a clean exit with nothing more on stdout.
func (p *emulatorProcess) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after %v: %v", sig, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after %v", sig)
	}
	if rest := <-p.stdoutLinesAfter; len(rest) != 0 {
		t.Errorf("more stdout after the ready line: %q", rest)
	}
}

// clientTrusting is what a user of the binary builds from --ca-out.
func clientTrusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// The binary starts, prints one ready line, serves the SDKs (queued ingestion through its HTTPS
// storage, trusted via --ca-out), stops cleanly on SIGTERM and SIGINT, and keeps its state, CA
// and storage key in --data-dir across a restart.
func TestBinary(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	args := []string{"--listen", "127.0.0.1:0", "--storage-listen", "127.0.0.1:0", "--ca-out", caFile,
		"--database", testDB, "--database", "second", "--data-dir", filepath.Join(dir, "data"), "--batching-delay", "50ms"}

	p := startProcess(t, bin, args...)
	if !strings.HasPrefix(p.engine, "http://127.0.0.1:") || !strings.HasPrefix(p.storage, "https://127.0.0.1:") {
		t.Fatalf("ready line URLs = %s %s", p.engine, p.storage)
	}
	hc := clientTrusting(t, caFile)
	kcsb := azkustodata.NewConnectionStringBuilder(p.engine)
	c, err := azkustodata.New(kcsb, azkustodata.WithHttpClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Mgmt(ctx, testDB, kql.New(".create table B (a:long, s:string)")); err != nil {
		t.Fatal(err)
	}
	in, err := azkustoingest.New(kcsb, azkustoingest.WithDefaultDatabase(testDB), azkustoingest.WithDefaultTable("B"),
		azkustoingest.WithoutEndpointCorrection(), azkustoingest.WithHttpClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.FromReader(ctx, strings.NewReader("1,a\n2,b\n"), azkustoingest.FileFormat(azkustoingest.CSV), azkustoingest.ReportResultToTable())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-res.Wait(ctx, fastWait...); err != nil {
		t.Fatal(err)
	}
	_ = in.Close()
	dbs, err := c.Mgmt(ctx, testDB, kql.New(".show databases"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(dbs.Tables()[0].Rows()); got != 2 {
		t.Errorf(".show databases has %d rows, want 2", got)
	}
	ca1, _ := os.ReadFile(caFile)
	p.stop(t, syscall.SIGTERM)

	p = startProcess(t, bin, args...)
	c2, err := azkustodata.New(azkustodata.NewConnectionStringBuilder(p.engine), azkustodata.WithHttpClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ds, err := c2.Query(ctx, testDB, kql.New("B | order by a asc"))
	if err != nil {
		t.Fatal(err)
	}
	if rows := normRows(ds.Tables()[0].Rows()); len(rows) != 2 || rows[1][1] != "b" {
		t.Fatalf("rows after restart = %v", rows)
	}
	ca2, _ := os.ReadFile(caFile)
	if string(ca1) != string(ca2) {
		t.Error("the CA changed across the restart")
	}
	resp, err := hc.Get(p.engine + "/v1/rest/auth/metadata")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"AzureAD":null}` {
		t.Errorf("metadata = %s", body)
	}
	p.stop(t, syscall.SIGINT)
}

// Bad flags fail with a usage error and a non-zero exit.
func TestBinaryBadFlags(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	for _, args := range [][]string{{"--nope"}, {"--auth-client", "missing-secret"}, {"--listen", "not an address"}, {"extra"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		var ee *exec.ExitError
		if err == nil || !asExitError(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("%v: err = %v, output %s", args, err, out)
		}
		if strings.Contains(string(out), "kustoemu ready") {
			t.Errorf("%v: printed the ready line", args)
		}
	}
}

func asExitError(err error, target **exec.ExitError) bool {
	ee, ok := err.(*exec.ExitError)
	*target = ee
	return ok
}
