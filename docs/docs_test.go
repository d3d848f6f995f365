package docs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/sink"
	"github.com/kconnect/kconnect/sink/kusto"
	"github.com/kconnect/kconnect/task"
	"github.com/kconnect/kconnect/task/kafkaprops"
)

// page is one Markdown file of the documentation.
type page struct {
	name  string
	lines []string
}

func loadPages(t *testing.T) []page {
	t.Helper()
	names, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no pages found")
	}
	var out []page
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page{name: n, lines: strings.Split(string(data), "\n")})
	}
	return out
}

// block is a fenced code block: its info string's first word and its text.
type block struct {
	lang string
	line int // 1-based line of the opening fence
	text string
}

// blocks returns the fenced code blocks of a page.
func (p page) blocks() []block {
	var out []block
	var cur *block
	var body []string
	for i, l := range p.lines {
		trimmed := strings.TrimSpace(l)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			lang, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "```"), " ")
			cur, body = &block{lang: lang, line: i + 1}, nil
		case cur != nil && trimmed == "```":
			cur.text = strings.Join(body, "\n")
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, l)
		}
	}
	return out
}

// prose returns the page's lines outside code blocks, with their 1-based numbers.
func (p page) prose() map[int]string {
	out := map[int]string{}
	inBlock := false
	for i, l := range p.lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			out[i+1] = l
		}
	}
	return out
}

// anchors returns the heading anchors of a page as GitHub computes them: lower case, everything
// but letters, digits, spaces, hyphens and underscores removed, spaces turned into hyphens, and
// "-1", "-2", … appended to repeats.
func (p page) anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	lines := p.prose()
	nums := make([]int, 0, len(lines))
	for n := range lines {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		l := lines[n]
		if !strings.HasPrefix(l, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(l, "#"))
		s := slug(text)
		if k := seen[s]; k > 0 {
			out[fmt.Sprintf("%s-%d", s, k)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

var linkPattern = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestLinks checks every relative link of every page: the file exists and, for a link into a
// page, the heading it names exists.
func TestLinks(t *testing.T) {
	pages := loadPages(t)
	anchors := map[string]map[string]bool{}
	for _, p := range pages {
		anchors[p.name] = p.anchors()
	}
	for _, p := range pages {
		for n, l := range p.prose() {
			for _, m := range linkPattern.FindAllStringSubmatch(l, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				if file == "" {
					file = p.name
				}
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s:%d: link %q: %v", p.name, n, target, err)
					continue
				}
				if anchor == "" {
					continue
				}
				a, ok := anchors[filepath.Clean(file)]
				if !ok {
					t.Errorf("%s:%d: link %q: anchors are only checked within docs/", p.name, n, target)
					continue
				}
				if !a[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", p.name, n, target, file, anchor)
				}
			}
		}
	}
}

// TestExamples checks that the configuration examples in the pages are accepted by the parsers a
// worker uses: every ```properties block (worker properties; a complete file when it sets
// group.id, else a fragment whose keys must all be known) and every ```json block that holds a
// connector configuration.
func TestExamples(t *testing.T) {
	checked := 0
	for _, p := range loadPages(t) {
		for _, b := range p.blocks() {
			where := fmt.Sprintf("%s:%d", p.name, b.line)
			switch b.lang {
			case "properties":
				checkWorkerExample(t, where, b.text)
				checked++
			case "json":
				if checkConnectorExample(t, where, b.text) {
					checked++
				}
			}
		}
	}
	if checked < 3 {
		t.Errorf("only %d examples found; the pages should hold worker and connector examples", checked)
	}
}

// workerPrefixes are prefixes of worker properties that are not Kafka client properties.
var workerPrefixes = []string{
	"admin.", "consumer.", "producer.", "config.storage.", "offset.storage.", "status.storage.",
	"key.converter.", "value.converter.", "header.converter.",
}

func checkWorkerExample(t *testing.T, where, text string) {
	t.Helper()
	props, err := cluster.ParseProperties([]byte(text))
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if _, full := props["group.id"]; full {
		if _, err := cluster.ParseWorkerConfig(props); err != nil {
			t.Errorf("%s: the worker refuses this example: %v", where, err)
		}
	}
	known := map[string]bool{}
	for _, g := range clientKeyGroups {
		for _, k := range g.keys {
			known[k] = true
		}
	}
	def := cluster.WorkerConfigDef()
	client := map[string]string{}
	for k, v := range props {
		_, declared := def.Key(k)
		prefixed := slices.ContainsFunc(workerPrefixes, func(p string) bool { return strings.HasPrefix(k, p) })
		switch {
		case known[k] || strings.HasPrefix(k, "sasl.") || strings.HasPrefix(k, "ssl."):
			client[k] = v
		case declared || prefixed:
		default:
			t.Errorf("%s: %s is neither a worker property nor a Kafka client property kconnect understands", where, k)
		}
	}
	if _, err := kafkaprops.ClientOpts(client); err != nil && !onlyMissingFiles(err) {
		t.Errorf("%s: the Kafka client settings are refused: %v", where, err)
	}
}

// onlyMissingFiles reports whether every error joined in err is a file that does not exist (the
// examples name trust stores and keys by path; the checks are about everything else).
func onlyMissingFiles(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyMissingFiles(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, fs.ErrNotExist)
}

// checkConnectorExample validates a connector configuration as the worker does before it stores
// one: the plugin exists, the framework keys parse, topics/topics.regex and the other sink
// cross-checks pass, and the Kusto sink accepts its keys. It reports whether the block held a
// connector configuration.
func checkConnectorExample(t *testing.T, where, text string) bool {
	t.Helper()
	var top map[string]any
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		t.Errorf("%s: invalid JSON: %v", where, err)
		return false
	}
	raw := top
	if c, ok := top["config"].(map[string]any); ok {
		raw = c
	}
	if _, ok := raw["connector.class"]; !ok {
		return false
	}
	config := map[string]string{}
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			config[k] = x
		case float64, bool:
			config[k] = fmt.Sprint(x) // the REST API coerces numbers and booleans to strings
		default:
			t.Errorf("%s: %s: a connector config value must be a string, number or boolean", where, k)
		}
	}
	if name, ok := top["name"].(string); ok {
		config["name"] = name
	}
	if _, ok := config["name"]; !ok {
		t.Errorf("%s: the connector has no name", where)
	}
	registry, err := sink.NewRegistry(kusto.Plugin())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := registry.Lookup(config["connector.class"]); !ok {
		t.Errorf("%s: unknown connector.class %q", where, config["connector.class"])
	}
	if _, err := cluster.ConnectorConfigDef().Parse(config); err != nil {
		t.Errorf("%s: framework keys refused: %v", where, err)
	}
	for _, v := range task.ValidateConfig(config, task.ConfigDef().Validate(config)) {
		for _, e := range v.Errors {
			t.Errorf("%s: %s: %s", where, v.Name, e)
		}
	}
	if _, err := kusto.ParseConfig(config); err != nil {
		t.Errorf("%s: the Kusto sink refuses this configuration: %v", where, err)
	}
	return true
}
