package restclients

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// dev is the `kconnect dev` deployment every test drives: started once by TestMain, stopped
// after the last test.
var dev *devEnv

// demoRecords is how many storm events the dev demo produces into storm-events before the
// tests start.
const demoRecords = 300

// mainModule is the module the binary under test is built from.
const mainModule = "github.com/kconnect/kconnect"

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	binDir, err := os.MkdirTemp("", "kconnect-restclients-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating a work directory:", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	bin, err := buildKconnect(binDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	caFile := ""
	if devHasFlag(bin, "ca-file") {
		caFile = filepath.Join(binDir, "kusto-ca.pem")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	dev, err = startDev(ctx, bin, demoRecords, caFile)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting kconnect dev:", err)
		return 1
	}
	code := m.Run()
	if err := dev.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping kconnect dev:", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		dev.dumpLogs(os.Stderr)
	}
	return code
}

// buildKconnect builds the kconnect command of the enclosing working tree into dir. It builds
// inside the main module, so the binary has exactly the dependency versions of kconnect's own
// go.mod, untouched by the clients this module requires.
func buildKconnect(dir string) (string, error) {
	root, err := mainModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kconnect")
	build := exec.Command("go", "build", "-o", bin, mainModule+"/cmd/kconnect")
	build.Dir = root
	var out bytes.Buffer
	build.Stdout, build.Stderr = &out, &out
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building kconnect in %s: %w\n%s", root, err, out.String())
	}
	return bin, nil
}

// mainModuleRoot is the directory of kconnect's go.mod: two levels above this package.
func mainModuleRoot() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("finding kconnect's go.mod: %w", err)
	}
	if !bytes.HasPrefix(gomod, []byte("module "+mainModule+"\n")) {
		return "", errors.New("finding kconnect's go.mod: " + root + "/go.mod is not module " + mainModule)
	}
	return root, nil
}
