package restclients

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// readmeSection is how the heading of the README's curl walkthrough begins.
const readmeSection = "## A walk through the REST API"

// readmeAddress matches the addresses of `make run` in the README's commands; the test puts
// its own in their place.
var readmeAddress = regexp.MustCompile(`\b(localhost|127\.0\.0\.1):(8083|9092|8080)\b`)

// TestReadmeWalkthrough runs the README's curl walkthrough, command by command in one shell as
// a user pastes it, against the dev deployment (its addresses and CA file rewritten to the
// test's). Every command must succeed: curl runs with --fail-with-body, so an HTTP error fails
// it. After each command the test also checks what the walkthrough implies without saying:
// a connector it creates starts with all its tasks RUNNING and moves every record already in
// its topics into its tables; records it produces reach the tables of the running connectors
// that read their topic; a connector it deletes is gone.
func TestReadmeWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		if testing.Short() {
			t.Skip("the README walkthrough produces with kcat, which is not installed")
		}
		t.Fatal("the README walkthrough produces with kcat, which is not installed (apt-get install kcat)")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	commands, err := walkthroughCommands(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	engine := strings.TrimPrefix(dev.engineURL, "http://")
	replace := map[string]string{"8083": dev.restAddr, "9092": dev.kafka, "8080": engine}
	// `make run` writes the emulator's CA here; the test's dev deployment wrote its own.
	defaultCA := filepath.Join(os.TempDir(), "kconnect-dev", "kusto-ca.pem")

	sh := startShell(t)
	for _, readmeCmd := range commands {
		cmd := readmeAddress.ReplaceAllStringFunc(readmeCmd, func(addr string) string {
			return replace[addr[strings.LastIndexByte(addr, ':')+1:]]
		})
		cmd = strings.ReplaceAll(cmd, defaultCA, dev.caFile)
		before := takeWalkState(t)
		out, code := sh.run(t, cmd)
		t.Logf("$ %s\n%s", readmeCmd, out)
		if code != 0 {
			t.Errorf("README command failed (exit %d):\n%s\noutput:\n%s", code, readmeCmd, out)
			continue
		}
		checkWalkStep(t, readmeCmd, before)
	}
}

// walkState is what a walkthrough command may change: the connectors, the records in the
// topics and the rows in the tables.
type walkState struct {
	connectors map[string]connectorView
	records    map[string]int64 // topic → records produced into it so far
	rows       map[string]int   // table → rows
}

// connectorView is a connector's config and state, from GET /connectors?expand=info&expand=status.
type connectorView struct {
	Info struct {
		Config map[string]string `json:"config"`
	} `json:"info"`
	Status struct {
		Connector struct {
			State string `json:"state"`
		} `json:"connector"`
		Tasks []struct {
			State string `json:"state"`
		} `json:"tasks"`
	} `json:"status"`
}

// running reports whether the connector and its tasks (at least one) are RUNNING.
func (c connectorView) running() bool {
	if c.Status.Connector.State != "RUNNING" || len(c.Status.Tasks) == 0 {
		return false
	}
	for _, task := range c.Status.Tasks {
		if task.State != "RUNNING" {
			return false
		}
	}
	return true
}

// inTransition reports whether the connector or a task is RESTARTING or UNASSIGNED.
func (c connectorView) inTransition() bool {
	states := []string{c.Status.Connector.State}
	for _, task := range c.Status.Tasks {
		states = append(states, task.State)
	}
	for _, st := range states {
		if st == "RESTARTING" || st == "UNASSIGNED" {
			return true
		}
	}
	return false
}

// feeds lists the (topic, table) pairs of the connector's Kusto topic mapping, for the topics
// it reads.
func (c connectorView) feeds() [][2]string {
	topics := map[string]bool{}
	for _, topic := range strings.Split(c.Info.Config["topics"], ",") {
		topics[strings.TrimSpace(topic)] = true
	}
	// The mapping is JSON written with single quotes, as the Java sink accepts it.
	var mapping []struct{ Topic, Table string }
	_ = json.Unmarshal([]byte(strings.ReplaceAll(c.Info.Config["kusto.tables.topics.mapping"], "'", `"`)), &mapping)
	var out [][2]string
	for _, m := range mapping {
		if topics[m.Topic] {
			out = append(out, [2]string{m.Topic, m.Table})
		}
	}
	return out
}

// takeWalkState reads the state once no connector or task is in transition (RESTARTING or
// UNASSIGNED, as right after a restart), so whether a connector runs is settled.
func takeWalkState(t *testing.T) walkState {
	t.Helper()
	s := walkState{records: map[string]int64{}, rows: map[string]int{}}
	ok, last := poll(settleTimeout, func() (bool, string) {
		s.connectors = map[string]connectorView{}
		status, body := restDo(t, http.MethodGet, "/connectors?expand=info&expand=status", nil)
		if status != http.StatusOK || json.Unmarshal(body, &s.connectors) != nil {
			t.Fatalf("GET /connectors?expand=info&expand=status = %d %s", status, body)
		}
		for _, c := range s.connectors {
			if c.inTransition() {
				return false, string(body)
			}
		}
		return true, ""
	})
	if !ok {
		t.Fatalf("connectors still in transition after %s: %s", settleTimeout, last)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := dev.admin.ListEndOffsets(ctx)
	if err != nil {
		t.Fatalf("listing the topics' end offsets: %v", err)
	}
	ends.Each(func(o kadm.ListedOffset) { s.records[o.Topic] += o.Offset })
	tables, err := kustoTables()
	if err != nil {
		t.Fatalf("listing the tables: %v", err)
	}
	for _, table := range tables {
		if s.rows[table], err = kustoCount(table); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
	}
	return s
}

// checkWalkStep checks the effects of one walkthrough command, given the state before it.
func checkWalkStep(t *testing.T, cmd string, before walkState) {
	t.Helper()
	// A new connector must start; wait for it before reading the state after the command.
	var names []string
	status, body := restDo(t, http.MethodGet, "/connectors", nil)
	if status != http.StatusOK || json.Unmarshal(body, &names) != nil {
		t.Fatalf("GET /connectors = %d %s", status, body)
	}
	for _, name := range names {
		if _, existed := before.connectors[name]; existed {
			continue
		}
		ok, last := poll(settleTimeout, func() (bool, string) {
			status, body := restDo(t, http.MethodGet, "/connectors/"+name+"/status", nil)
			var c connectorView
			return status == http.StatusOK && json.Unmarshal(body, &c.Status) == nil && c.running(), string(body)
		})
		if !ok {
			t.Errorf("the connector %s the README creates did not start with all its tasks RUNNING: %s", name, last)
		}
	}
	after := takeWalkState(t)
	for name := range before.connectors {
		if _, exists := after.connectors[name]; !exists {
			requireNotFound(t, "/connectors/"+name)
		}
	}

	// Rows to expect: a new connector reads its topics from the start (as a Java sink with a new
	// consumer group does); a running one reads what the command produced.
	grow := map[string]int{}
	for name, c := range after.connectors {
		prev, existed := before.connectors[name]
		for _, feed := range c.feeds() {
			topic, table := feed[0], feed[1]
			switch {
			case !existed:
				grow[table] += int(after.records[topic])
			case prev.running() && c.running():
				grow[table] += int(after.records[topic] - before.records[topic])
			}
		}
	}
	for table, n := range grow {
		if n == 0 {
			continue
		}
		want := before.rows[table] + n
		if ok, last := poll(20*time.Second, countIs(table, want)); !ok {
			t.Errorf("after the README command\n%s\n%s holds %s, want %d: the running connectors read %d new records into it", cmd, table, last, want, n)
		} else {
			t.Logf("%s: %d rows, then %d", table, before.rows[table], want)
		}
	}
}

// countIs is a poll condition: table holds want rows.
func countIs(table string, want int) func() (bool, string) {
	return func() (bool, string) {
		n, err := kustoCount(table)
		if err != nil {
			return false, err.Error()
		}
		return n == want, strconv.Itoa(n) + " rows"
	}
}

// walkthroughCommands returns the shell commands of the README's walkthrough: the first sh
// block after its heading, split into complete commands (a command spans lines while a quote
// or a backslash continues it), comments dropped.
func walkthroughCommands(readme string) ([]string, error) {
	_, section, ok := strings.Cut(readme, "\n"+readmeSection)
	if !ok {
		return nil, fmt.Errorf("the README has no %q section", readmeSection)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if ok {
		block, _, ok = strings.Cut(block, "\n```")
	}
	if !ok {
		return nil, fmt.Errorf("the README's %q section has no sh block", readmeSection)
	}
	var commands []string
	var pending []string
	for _, line := range strings.Split(block, "\n") {
		if len(pending) == 0 && (strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#")) {
			continue
		}
		pending = append(pending, line)
		text := strings.Join(pending, "\n")
		if strings.HasSuffix(line, `\`) || !completeShell(text) {
			continue
		}
		commands = append(commands, text)
		pending = nil
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("the README's walkthrough ends inside a command:\n%s", strings.Join(pending, "\n"))
	}
	return commands, nil
}

// completeShell reports whether bash parses text as complete commands.
func completeShell(text string) bool {
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(text + "\n")
	return cmd.Run() == nil
}

// shell is one bash process the walkthrough's commands run in one after the other, so shell
// state carries from one command to the next as in a user's terminal.
type shell struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // the shell's output, stdout and stderr, line by line
	n     int
}

func startShell(t *testing.T) *shell {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	sh := &shell{cmd: exec.Command("bash", "--noprofile", "--norc"), lines: make(chan string, 1024)}
	sh.cmd.Stdout, sh.cmd.Stderr = w, w
	sh.stdin, err = sh.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.cmd.Start(); err != nil {
		t.Fatalf("starting bash: %v", err)
	}
	w.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(sh.lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			sh.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		sh.stdin.Close() // bash exits at the end of its input
		exited := make(chan error, 1)
		go func() { exited <- sh.cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = sh.cmd.Process.Kill()
			<-exited
		}
		r.Close()
		<-done
	})
	// An HTTP error answer fails curl, with the body still printed.
	if _, err := io.WriteString(sh.stdin, "set -o pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n"); err != nil {
		t.Fatal(err)
	}
	return sh
}

// run runs one command (its input is /dev/null) and returns its output and exit status.
func (sh *shell) run(t *testing.T, command string) (string, int) {
	t.Helper()
	sh.n++
	sentinel := fmt.Sprintf("kconnect-readme-command-%d-exit", sh.n)
	script := fmt.Sprintf("{\n%s\n} </dev/null 2>&1\nprintf '\\n%s %%d\\n' \"$?\"\n", command, sentinel)
	if _, err := io.WriteString(sh.stdin, script); err != nil {
		t.Fatalf("writing to bash: %v", err)
	}
	var out bytes.Buffer
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-sh.lines:
			if !ok {
				t.Fatalf("bash exited while running:\n%s\noutput:\n%s", command, out.String())
			}
			if rest, found := strings.CutPrefix(line, sentinel+" "); found {
				code, err := strconv.Atoi(rest)
				if err != nil {
					t.Fatalf("reading the exit status of %q: %v", command, err)
				}
				return strings.TrimSuffix(out.String(), "\n"), code
			}
			out.WriteString(line)
			out.WriteByte('\n')
		case <-timeout:
			t.Fatalf("the command did not finish within 30s:\n%s\noutput so far:\n%s", command, out.String())
		}
	}
}
