package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "openclaw.toml")
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLoadMissingIsDefault(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load(missing) = %+v, want Default()", c)
	}
}

func TestLoadFull(t *testing.T) {
	f := writeFile(t, `
[gateway]
port = 19001
bind = "lan"
trustedProxies = ["10.0.0.0/8", "192.168.1.1"]

[gateway.auth]
token = "tok"

[gateway.auth.rateLimit]
maxAttempts = 3

[gateway.http.endpoints.chatCompletions]
enabled = true

[agents.defaults]
model = "openai/gpt-4o"
maxConcurrent = 2

[agents.defaults.models."openai/gpt-4o"]
alias = "4o"

[[agents.list]]
id = "Main"

[[agents.list]]
id = "work"
default = true
model = { primary = "anthropic/claude", fallbacks = ["openai/gpt-4o"] }
tools = { profile = "readonly", deny = ["ls"] }

[models.providers.local]
baseUrl = "http://127.0.0.1:8080/v1"
api = "openai-completions"
headers = { "X-Team" = "a" }

[[models.providers.local.models]]
id = "llama"
contextWindow = 8192

[[models.providers.local.models]]
id = "vision"
input = ["text", "image"]

[tools]
profile = "minimal"
exec = { timeoutSeconds = 5 }

[session]
fsync = true

[logging]
format = "json"
`)
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Gateway.Port = 19001
	want.Gateway.Bind = "lan"
	want.Gateway.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1"}
	want.Gateway.Auth.Token = "tok"
	want.Gateway.Auth.RateLimit.MaxAttempts = 3
	want.Gateway.HTTP.Endpoints.ChatCompletions.Enabled = true
	want.Agents.Defaults.Model = ModelRef{Primary: "openai/gpt-4o"}
	want.Agents.Defaults.MaxConcurrent = 2
	want.Agents.Defaults.Models = map[string]ModelAlias{"openai/gpt-4o": {Alias: "4o"}}
	want.Agents.List = []AgentEntry{
		{ID: "main"},
		{ID: "work", Default: true, Model: ModelRef{Primary: "anthropic/claude", Fallbacks: []string{"openai/gpt-4o"}}, Tools: ToolPolicy{Profile: "readonly", Deny: []string{"ls"}}},
	}
	want.Models.Providers = map[string]Provider{"local": {
		BaseURL: "http://127.0.0.1:8080/v1", API: "openai-completions", Headers: map[string]string{"X-Team": "a"},
		Models: []ModelDef{{ID: "llama", ContextWindow: 8192, Input: []string{"text", "image"}}, {ID: "vision", Input: []string{"text", "image"}}},
	}}
	want.Tools.Profile = "minimal"
	want.Tools.Exec.TimeoutSeconds = 5
	want.Session.Fsync = true
	want.Logging.Format = "json"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", c, want)
	}
	if got := c.AgentIDs(); !reflect.DeepEqual(got, []string{"main", "work"}) {
		t.Errorf("AgentIDs = %v", got)
	}
	if got := c.DefaultAgentID(); got != "work" {
		t.Errorf("DefaultAgentID = %q", got)
	}
	if got := c.AgentModel("MAIN"); got.Primary != "openai/gpt-4o" {
		t.Errorf("AgentModel(main) = %+v", got)
	}
	if got := c.AgentModel("work"); got.Primary != "anthropic/claude" || len(got.Fallbacks) != 1 {
		t.Errorf("AgentModel(work) = %+v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string // lines of the error, after the file name
	}{
		{"unknown key with line", "[gateway]\nport = 1\nprot = 2\n", []string{":3: unknown config key gateway.prot; did you mean gateway.port?"}},
		{"unknown top-level", "\n\nfoo = 1\n", []string{":3: unknown config key foo; top-level keys are agents, gateway, logging, models, session, tools"}},
		{"unknown in array table", "[[agents.list]]\nid = \"a\"\n\n[[agents.list]]\nid = \"b\"\nnmae = \"x\"\n", []string{":6: unknown config key agents.list[1].nmae; did you mean agents.list[1].name?"}},
		{"unknown in inline table", "[agents]\nlist = [{id = \"a\"},\n  {id = \"b\", modle = \"x\"}]\n", []string{":3: unknown config key agents.list[1].modle; did you mean agents.list[1].model?"}},
		{"unknown in sub-table of array", "[[agents.list]]\nid = \"a\"\n[agents.list.tools]\nprofil = \"x\"\n", []string{":4: unknown config key agents.list[0].tools.profil; did you mean agents.list[0].tools.profile?"}},
		{"dotted key", "gateway.auth.tokn = \"x\"\n", []string{":1: unknown config key gateway.auth.tokn; did you mean gateway.auth.token?"}},
		{"quoted key with dot", "[agents.defaults.models.\"a/b.c\"]\naliass = \"x\"\n", []string{`:2: unknown config key agents.defaults.models.a/b\.c.aliass; did you mean agents.defaults.models.a/b\.c.alias?`}},
		{"wrong type", "[gateway]\nport = \"x\"\n", []string{`:2: gateway.port: expected an integer, got string "x"`}},
		{"float for int", "[gateway]\nport = 1.5\n", []string{`:2: gateway.port: expected an integer, got number 1.5`}},
		{"bad enum", "[gateway]\nbind = \"wan\"\n", []string{`:2: gateway.bind: invalid value "wan": allowed values are loopback, lan, custom`}},
		{"enum of wrong type", "[logging]\nlevel = 3\n", []string{`:2: logging.level: invalid value integer 3: allowed values are debug, info, warn, error`}},
		{"out of range", "[gateway]\nport = 70000\n", []string{`:2: gateway.port: 70000 is out of range: use 0 to 65535`}},
		{"too small", "[agents.defaults]\nmaxConcurrent = 0\n", []string{`:2: agents.defaults.maxConcurrent: 0 is too small: use at least 1`}},
		{"bool", "[session]\nfsync = \"yes\"\n", []string{`:2: session.fsync: expected true or false, got string "yes"`}},
		{"list", "[gateway]\ntrustedProxies = \"10.0.0.1\"\n", []string{`:2: gateway.trustedProxies: expected a list of strings, got string "10.0.0.1"`}},
		{"list element", "[gateway]\ntrustedProxies = [\"10.0.0.1\", \"nope\"]\n", []string{`:2: gateway.trustedProxies[1]: "nope" is not an IP address or CIDR range (such as 10.0.0.1 or 10.0.0.0/8)`}},
		{"list enum", "[[models.providers.x.models]]\nid = \"m\"\ninput = [\"text\", \"audio\"]\n", []string{`:3: models.providers.x.models[0].input[1]: invalid value "audio": allowed values are text, image`}},
		{"table expected", "gateway = 5\n", []string{`:1: gateway: expected a table, got integer 5`}},
		{"model type", "[agents.defaults]\nmodel = 5\n", []string{`:2: agents.defaults.model: expected "provider/model" or a table {primary, fallbacks}, got integer 5`}},
		{"model table unknown", "[agents.defaults.model]\nprimary = \"a/b\"\nfallback = [\"c/d\"]\n", []string{`:3: unknown config key agents.defaults.model.fallback; did you mean agents.defaults.model.fallbacks?`}},
		{"model table without primary", "[agents.defaults.model]\nfallbacks = [\"c/d\"]\n", []string{`:1: agents.defaults.model: a model table needs primary = "provider/model"`}},
		{"bad agent id", "[[agents.list]]\nid = \"no spaces\"\n", []string{`:2: agents.list[0].id: "no spaces" is not a valid agent id: use 1 to 64 letters, digits, _ or -, starting with a letter or digit`}},
		{"agent id missing", "[[agents.list]]\nname = \"x\"\n", []string{`:1: agents.list[0].id: missing: every entry of agents.list needs id`}},
		{"duplicate agent ids", "[[agents.list]]\nid = \"a\"\n[[agents.list]]\nid = \"A\"\n", []string{`:4: agents.list[1].id: duplicate id "A" (also agents.list[0].id)`}},
		{"model alias key", "[agents.defaults.models.gpt4]\nalias = \"x\"\n", []string{`:1: agents.defaults.models: entry "gpt4" must be named "provider/model"`}},
		{"syntax", "[gateway\nport = 1\n", []string{`:1: invalid TOML: expected ']' to close table name`}},
		{"duplicate key", "a = 1\na = 2\n", []string{`:2: invalid TOML: key a is already defined`}},
		{"custom bind needs host", "[gateway]\nbind = \"custom\"\n", []string{`: gateway.customBindHost: must be set when gateway.bind is custom: openclaw config set gateway.customBindHost <address>`}},
		{"two problems", "[gateway]\nprot = 1\nbind = 1\n", []string{`:3: gateway.bind: invalid value integer 1: allowed values are loopback, lan, custom`, `:2: unknown config key gateway.prot; did you mean gateway.port?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFile(t, tt.file)
			_, err := Load(f)
			if err == nil {
				t.Fatal("no error")
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = f + w
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("error\n got %s\nwant %s", got, strings.Join(want, "\n"))
			}
		})
	}
}

func TestCheck(t *testing.T) {
	f := writeFile(t, "[gateway]\nprot = 1\nbind = 1\n\n[gateway.auth]\nmode = \"x\"\n")
	issues, err := Check(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, is := range issues {
		lines = append(lines, is.Line)
	}
	if !reflect.DeepEqual(lines, []int{2, 3, 6}) {
		t.Errorf("issue lines = %v (%+v)", lines, issues)
	}
	if is, _ := Check(writeFile(t, "[gateway]\nbind = \"custom\"\n")); len(is) != 1 || is[0].Line != 1 || is[0].Path != "gateway.customBindHost" {
		t.Errorf("semantic issue = %+v", is)
	}
	if is, _ := Check(writeFile(t, "[[agents.list]]\nid = \"ok\"\n")); is != nil {
		t.Errorf("valid file has issues %+v", is)
	}
	if is, err := Check(filepath.Join(t.TempDir(), "none")); is != nil || err != nil {
		t.Errorf("missing file: %v %v", is, err)
	}
	if is, _ := Check(writeFile(t, "x = [\n")); len(is) != 1 || !strings.HasPrefix(is[0].Message, "invalid TOML: ") {
		t.Errorf("syntax issue = %+v", is)
	}
}

func TestKeyLines(t *testing.T) {
	doc := `a = 1
[gateway]
port = 2
[gateway.auth.rateLimit]
maxAttempts = 3
[[agents.list]]
id = "x"
[[agents.list]]
id = "y"
model.primary = "p/m"
[agents.list.tools]
allow = ["a",
  "b"]
[[models.providers.'x.y'.models]]
id = "m"
`
	lines := keyLines([]byte(doc))
	want := map[string]int{
		"a": 1, "gateway": 2, "gateway.port": 3, "gateway.auth.rateLimit": 4, "gateway.auth.rateLimit.maxAttempts": 5,
		"agents.list[0]": 6, "agents.list[0].id": 7, "agents.list[1]": 8, "agents.list[1].id": 9,
		"agents.list[1].model": 10, "agents.list[1].model.primary": 10, "agents.list[1].tools": 11,
		"agents.list[1].tools.allow": 12, "agents.list[1].tools.allow[1]": 12,
		`models.providers.x\.y.models[0]`: 14, `models.providers.x\.y.models[0].id`: 15,
	}
	for k, l := range want {
		if lines[k] != l {
			t.Errorf("line of %s = %d, want %d", k, lines[k], l)
		}
	}
	if got := lineOf(lines, "agents.list[1].tools.allow[1].x"); got != 12 {
		t.Errorf("lineOf falls back to ancestors: %d", got)
	}
}

func TestValidateConfig(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
	c.Gateway.Port = 70000
	c.Agents.Defaults.MaxConcurrent = 0
	c.Gateway.Bind = "wan"
	c.Agents.List = []AgentEntry{{ID: "a"}, {ID: "A"}, {ID: "bad id"}}
	c.Models.Providers = map[string]Provider{"x": {API: "grpc"}}
	err := c.Validate()
	var se *SemanticError
	if !errors.As(err, &se) {
		t.Fatalf("Validate = %v", err)
	}
	want := []string{
		"gateway.port: 70000 is out of range: use 0 to 65535",
		"agents.defaults.maxConcurrent: 0 is too small: use at least 1",
		`gateway.bind: invalid value "wan": allowed values are loopback, lan, custom`,
		`agents.list[1].id: duplicate id "A" (also agents.list[0].id)`,
		`agents.list[2].id: "bad id" is not a valid agent id: use 1 to 64 letters, digits, _ or -, starting with a letter or digit`,
		`models.providers.x.api: invalid value "grpc": allowed values are openai-completions, anthropic-messages`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("Validate:\n got %s\nwant %s", got, strings.Join(want, "\n"))
	}
}

func TestAgents(t *testing.T) {
	c := Default()
	if got := c.AgentIDs(); !reflect.DeepEqual(got, []string{"main"}) {
		t.Errorf("AgentIDs with no list = %v", got)
	}
	if got := c.DefaultAgentID(); got != "main" {
		t.Errorf("DefaultAgentID with no list = %q", got)
	}
	if a, ok := c.Agent("MAIN"); !ok || a.ID != "main" {
		t.Errorf("Agent(MAIN) = %+v, %v", a, ok)
	}
	if _, ok := c.Agent("other"); ok {
		t.Error("Agent(other) exists with no list")
	}
	c.Agents.Defaults.Model = ModelRef{Primary: "d/m"}
	c.Agents.List = []AgentEntry{{ID: "a"}, {ID: "b", Model: ModelRef{Primary: "b/m"}}}
	if got := c.DefaultAgentID(); got != "a" {
		t.Errorf("DefaultAgentID = %q, want the first", got)
	}
	if _, ok := c.Agent("main"); ok {
		t.Error("main exists besides a list that lacks it")
	}
	if got := c.AgentModel("a").Primary; got != "d/m" {
		t.Errorf("AgentModel(a) = %q", got)
	}
	if got := c.AgentModel("B").Primary; got != "b/m" {
		t.Errorf("AgentModel(B) = %q", got)
	}
	if got := c.AgentModel("nobody").Primary; got != "d/m" {
		t.Errorf("AgentModel(nobody) = %q", got)
	}
}

func TestWorkspace(t *testing.T) {
	home, _ := os.UserHomeDir()
	st := filepath.FromSlash("/state")
	tests := []struct {
		name string
		cfg  func(c *Config)
		id   string
		want string
	}{
		{"no list, main", func(c *Config) {}, "main", filepath.Join(st, "workspace")},
		{"default agent", func(c *Config) { c.Agents.List = []AgentEntry{{ID: "a"}, {ID: "b"}} }, "a", filepath.Join(st, "workspace")},
		{"other agent", func(c *Config) { c.Agents.List = []AgentEntry{{ID: "a"}, {ID: "b"}} }, "B", filepath.Join(st, "workspace-b")},
		{"defaults.workspace for the default", func(c *Config) { c.Agents.Defaults.Workspace = "/w" }, "main", filepath.FromSlash("/w")},
		{"defaults.workspace not for others", func(c *Config) {
			c.Agents.Defaults.Workspace = "/w"
			c.Agents.List = []AgentEntry{{ID: "a"}, {ID: "b"}}
		}, "b", filepath.Join(st, "workspace-b")},
		{"agent's own", func(c *Config) { c.Agents.List = []AgentEntry{{ID: "a", Workspace: "/own"}} }, "a", filepath.FromSlash("/own")},
		{"relative to state", func(c *Config) { c.Agents.List = []AgentEntry{{ID: "a", Workspace: "ws/a"}} }, "a", filepath.Join(st, "ws", "a")},
		{"tilde", func(c *Config) { c.Agents.List = []AgentEntry{{ID: "a", Workspace: "~/ws"}} }, "a", filepath.Join(home, "ws")},
	}
	for _, tt := range tests {
		c := Default()
		tt.cfg(c)
		if got := c.Workspace(st, tt.id); got != tt.want {
			t.Errorf("%s: Workspace = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(EnvStateDir, "")
	t.Setenv(EnvConfigPath, "")
	check := func(wantState, wantFile string) {
		t.Helper()
		s, err := StateDir()
		if err != nil || s != wantState {
			t.Errorf("StateDir = %q, %v; want %q", s, err, wantState)
		}
		f, err := FilePath()
		if err != nil || f != wantFile {
			t.Errorf("FilePath = %q, %v; want %q", f, err, wantFile)
		}
	}
	check(filepath.Join(home, ".openclaw"), filepath.Join(home, ".openclaw", "openclaw.toml"))
	t.Setenv(EnvStateDir, "/s")
	check("/s", "/s/openclaw.toml")
	t.Setenv(EnvConfigPath, "/c/x.toml")
	check("/s", "/c/x.toml")
	t.Setenv(EnvStateDir, "~/st")
	t.Setenv(EnvConfigPath, "")
	check(filepath.Join(home, "st"), filepath.Join(home, "st", "openclaw.toml"))
	wd, _ := os.Getwd()
	t.Setenv(EnvConfigPath, "rel.toml")
	check(filepath.Join(home, "st"), filepath.Join(wd, "rel.toml"))
}

// FuzzParse: any document loads or fails with an error, never a panic, and
// the line index copes with it too.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "[gateway]\nport = 1\n", "[[agents.list]]\nid = \"a\"\n[agents.list.tools]\nallow = [\"x\"]\n",
		"a = {b = [{c = 1}]}\n", "[gateway\n", "gateway = 5\n", "[agents.defaults]\nmodel = {primary = \"a/b\"}\n",
		"[models.providers.'x.y'.headers]\nA = \"b\"\n", "agents.list = [1, {id = 2}]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("f.toml", []byte(s))
		if err == nil && c == nil {
			t.Fatal("no config and no error")
		}
		_ = keyLines([]byte(s))
	})
}
