package sink

import (
	"reflect"
	"strings"
	"testing"
)

func testDef() *ConfigDef {
	return NewConfigDef().
		Define(ConfigKey{Name: "url", Type: TypeString, Required: true, Group: "Connection", Importance: High}).
		Define(ConfigKey{Name: "secret", Type: TypePassword, Group: "Connection"}).
		Define(ConfigKey{Name: "size", Type: TypeLong, Default: int64(1048576), Validator: AtLeast(100), Group: "Writes"}).
		Define(ConfigKey{Name: "enabled", Type: TypeBoolean, Default: false}).
		Define(ConfigKey{Name: "tasks", Type: TypeInt, Default: int32(1)}).
		Define(ConfigKey{Name: "topics", Type: TypeList, Default: []string{}}).
		Define(ConfigKey{Name: "mode", Type: TypeString, Default: "FAIL", Validator: OneOfIgnoringCase("FAIL", "LOG")})
}

func TestParseValues(t *testing.T) {
	c, err := testDef().Parse(map[string]string{
		"url": "  https://x  ", "secret": " s3cret ", "size": " 200 ", "enabled": "TRUE",
		"topics": "a, b ,c", "extra.key": "kept",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String("url"); got != "https://x" {
		t.Errorf("url = %q, want trimmed", got)
	}
	if got := c.Password("secret").Value(); got != " s3cret " {
		t.Errorf("password = %q, want untrimmed", got)
	}
	if got := c.Long("size"); got != 200 {
		t.Errorf("size = %d", got)
	}
	if !c.Bool("enabled") {
		t.Error("enabled should be true")
	}
	if got := c.Int("tasks"); got != 1 {
		t.Errorf("tasks default = %d", got)
	}
	if got := c.List("topics"); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("topics = %q", got)
	}
	if c.Originals()["extra.key"] != "kept" {
		t.Error("unknown keys must stay in the originals")
	}
	if c.IsNull("secret") {
		t.Error("secret should not be null")
	}
}

func TestParseErrorsUseJavaMessages(t *testing.T) {
	_, err := testDef().Parse(map[string]string{"size": "5", "enabled": "yes", "tasks": "x", "mode": "warn", "secret": "pw"})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{
		`Missing required configuration "url" which has no default value.`,
		"Invalid value 5 for configuration size: Value must be at least 100",
		"Invalid value yes for configuration enabled: Expected value to be either true or false",
		"Invalid value x for configuration tasks: Not a number of type INT",
		"Invalid value warn for configuration mode: String must be one of (case insensitive): FAIL, LOG",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestValidateHidesPasswordsAndReportsPerKey(t *testing.T) {
	vals := testDef().Validate(map[string]string{"url": "u", "secret": "hunter2", "size": "1"})
	byName := map[string]ConfigValue{}
	for _, v := range vals {
		byName[v.Name] = v
	}
	if len(vals) != 7 || vals[0].Name != "url" {
		t.Fatalf("want one value per key in definition order, got %+v", vals)
	}
	if v := byName["secret"].Value; v == nil || *v != "[hidden]" {
		t.Errorf("password value = %v, want [hidden]", v)
	}
	if errs := byName["size"].Errors; len(errs) != 1 || !strings.Contains(errs[0], "at least 100") {
		t.Errorf("size errors = %q", errs)
	}
	if errs := byName["url"].Errors; len(errs) != 0 {
		t.Errorf("url errors = %q", errs)
	}
	if v := byName["topics"].Value; v == nil || *v != "" {
		t.Errorf("empty list renders as empty string, got %v", v)
	}
}

func TestPasswordNeverPrints(t *testing.T) {
	p := NewPassword("hunter2")
	for _, s := range []string{p.String(), p.GoString()} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("password leaked: %s", s)
		}
	}
}

func TestDefineRejectsWrongDefaultType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("want a panic for an int default on a LONG key")
		}
	}()
	NewConfigDef().Define(ConfigKey{Name: "x", Type: TypeLong, Default: 5})
}

func TestExtendKeepsFirstDefinition(t *testing.T) {
	a := NewConfigDef().Define(ConfigKey{Name: "x", Type: TypeString, Default: "a"})
	b := NewConfigDef().Define(ConfigKey{Name: "x", Type: TypeString, Default: "b"}).Define(ConfigKey{Name: "y", Type: TypeString, Default: "y"})
	m := a.Extend(b)
	if len(m.Keys()) != 2 {
		t.Fatalf("keys = %v", m.Keys())
	}
	if k, _ := m.Key("x"); k.Default != "a" {
		t.Errorf("x default = %v, want the first definition's", k.Default)
	}
	if got := m.Groups(); len(got) != 0 {
		t.Errorf("groups = %v", got)
	}
}

func TestMarkdownListsEveryKey(t *testing.T) {
	md := testDef().Markdown()
	for _, want := range []string{"### Connection", "### Writes", "| `url` | STRING | *required* |", "| `size` | LONG | `1048576` |", "| `secret` | PASSWORD | null |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
