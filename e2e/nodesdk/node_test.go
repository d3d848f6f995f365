package nodesdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// minNodeMajor is the oldest Node.js the pinned SDK supports (its package.json "engines").
const minNodeMajor = 20

// Files of this directory that the Node.js side needs.
const (
	checkScript = "check.mjs"
	packageJSON = "package.json"
	packageLock = "package-lock.json"
)

// installMarker is written into an install directory once `npm ci` succeeded in it.
const installMarker = ".kconnect-npm-ci-complete"

const (
	npmTimeout  = 5 * time.Minute
	nodeTimeout = 2 * time.Minute
)

// requireNode returns the path of node after checking that node and npm are installed and that
// node is new enough. Missing tools fail the test (CI installs them); with -short they skip it.
func requireNode(t *testing.T) string {
	t.Helper()
	node, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		msg := fmt.Sprintf("the Node.js SDK check needs node (>= %d) and npm on PATH (node: %v, npm: %v); install Node.js, e.g. `apt-get install nodejs npm`",
			minNodeMajor, errText(nodeErr), errText(npmErr))
		if testing.Short() {
			t.Skip(msg + " (skipped with -short)")
		}
		t.Fatal(msg)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("running %s --version: %v", node, err)
	}
	version := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil || major < minNodeMajor {
		t.Fatalf("node %s is too old: azure-kusto-data needs Node.js >= %d", version, minNodeMajor)
	}
	return node
}

func errText(err error) string {
	if err == nil {
		return "found"
	}
	return err.Error()
}

// installSDK installs the packages pinned in package-lock.json with `npm ci` and returns the
// node_modules directory. Installs are cached under the user cache directory, keyed by the
// content of package.json and package-lock.json, so only the first run (or a changed lock)
// reaches the registry. npm's own settings come from the environment (npm_config_cache, the
// registry, proxies).
func installSDK(t *testing.T) string {
	t.Helper()
	manifest := readFile(t, packageJSON)
	lock := readFile(t, packageLock)
	sum := sha256.Sum256(append(append([]byte{}, manifest...), lock...))
	key := hex.EncodeToString(sum[:8])

	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	root := filepath.Join(base, "kconnect", "nodesdk")
	dir := filepath.Join(root, key)
	if installed(dir) {
		return filepath.Join(dir, "node_modules")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatalf("creating the npm install directory: %v", err)
	}
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		t.Fatalf("creating the npm install directory: %v", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	writeFile(t, filepath.Join(tmp, packageJSON), manifest)
	writeFile(t, filepath.Join(tmp, packageLock), lock)

	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		t.Fatalf("npm ci (in %s) failed after %s: %v\n%s", tmp, time.Since(start).Round(time.Millisecond), err, output.String())
	}
	t.Logf("npm ci installed azure-kusto-data in %s", time.Since(start).Round(time.Millisecond))
	writeFile(t, filepath.Join(tmp, installMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"))
	if err := os.Rename(tmp, dir); err != nil {
		// Another test process finished the same install first; use it.
		if !installed(dir) {
			t.Fatalf("moving the npm install into place: %v", err)
		}
	}
	return filepath.Join(dir, "node_modules")
}

func installed(dir string) bool {
	_, markerErr := os.Stat(filepath.Join(dir, installMarker))
	_, sdkErr := os.Stat(filepath.Join(dir, "node_modules", "azure-kusto-data", "package.json"))
	return markerErr == nil && sdkErr == nil
}

// runCheck runs check.mjs against the engine with extra arguments and returns its report. The
// script runs from a fresh directory whose node_modules links to the cached install, as Node.js
// resolves ES module imports from the script's location.
func runCheck(t *testing.T, node, modules, engineURL, database string, args ...string) *report {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, checkScript), readFile(t, checkScript))
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatalf("linking node_modules: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{checkScript, engineURL, database}, args...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s failed: %v\nstderr:\n%s\nstdout:\n%s", checkScript, err, stderr.String(), stdout.String())
	}
	t.Logf("node %s %s ran in %s", checkScript, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	rep, err := parseReport(stdout.Bytes())
	if err != nil {
		t.Fatalf("reading the report of %s: %v\nstdout:\n%s\nstderr:\n%s", checkScript, err, stdout.String(), stderr.String())
	}
	return rep
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return data
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
}
