package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func read(t *testing.T, f string) string {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSetCreatesAndWritesTOML(t *testing.T) {
	f := filepath.Join(t.TempDir(), "state", "openclaw.toml")
	steps := []struct {
		path string
		v    any
	}{
		{"gateway.port", 19001},
		{"gateway.http.endpoints.chatCompletions.enabled", true},
		{"agents.list[0].id", "Work"},
		{"agents.list.0.model", "openai/gpt-4o"},
		{"agents.list[0].model.fallbacks", []string{"anthropic/claude"}},
		{"agents.list[1]", map[string]any{"id": "two", "default": true}},
		{`agents.defaults.models.anthropic/claude-3\.5.alias`, "sonnet"},
		{"models.providers.local.models[0].id", "llama"},
		{"gateway.trustedProxies[0]", "10.0.0.1"},
		{"gateway.trustedProxies[1]", "10.0.0.0/8"},
	}
	for _, s := range steps {
		if err := Set(f, s.path, s.v); err != nil {
			t.Fatalf("Set(%s): %v", s.path, err)
		}
	}
	want := `[agents.defaults.models.'anthropic/claude-3.5']
alias = 'sonnet'

[[agents.list]]
id = 'work'

[agents.list.model]
fallbacks = ['anthropic/claude']
primary = 'openai/gpt-4o'

[[agents.list]]
default = true
id = 'two'

[gateway]
port = 19001
trustedProxies = ['10.0.0.1', '10.0.0.0/8']

[gateway.http.endpoints.chatCompletions]
enabled = true

[[models.providers.local.models]]
id = 'llama'
`
	if got := read(t, f); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultAgentID() != "two" || c.AgentModel("work").Fallbacks[0] != "anthropic/claude" {
		t.Errorf("loaded %+v", c.Agents)
	}
}

func TestSetErrorsLeaveFileUnchanged(t *testing.T) {
	f := writeFile(t, "[gateway]\nport = 1\n")
	tests := []struct {
		path string
		v    any
		want string
	}{
		{"gateway.prot", 1, "unknown config key gateway.prot; did you mean gateway.port?"},
		{"gateway.port", "x", `gateway.port: expected an integer, got string "x"`},
		{"gateway.port", 65536, "gateway.port: 65536 is out of range: use 0 to 65535"},
		{"gateway.bind", "wan", `gateway.bind: invalid value "wan": allowed values are loopback, lan, custom`},
		{"gateway.auth", map[string]any{"mode": "token", "tokn": "x"}, "unknown config key gateway.auth.tokn; did you mean gateway.auth.token?"},
		{"gateway", 5, "gateway: expected a table, got integer 5"},
		{"agents.list[1].id", "x", "agents.list[1]: index out of range: agents.list has 0 element(s); use index 0 to append"},
		{"agents.list[0].name", "x", "agents.list[0].id: missing: every entry of agents.list needs id"},
		{"agents.list[0].id", "a b", `agents.list[0].id: "a b" is not a valid agent id: use 1 to 64 letters, digits, _ or -, starting with a letter or digit`},
		{"agents.list", []any{map[string]any{"id": "a"}, map[string]any{"id": "A"}}, `agents.list[1].id: duplicate id "a" (also agents.list[0].id)`},
		{"gateway.port.x", 1, "unknown config key gateway.port.x; gateway.port is an integer, not a table"},
		{"a..b", 1, `invalid path "a..b": empty segment at position 3`},
		{"gateway.port", nil, "gateway.port: null is not a config value (use config unset to remove a key)"},
	}
	for _, tt := range tests {
		err := Set(f, tt.path, tt.v)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%s, %v)\n got %v\nwant %s", tt.path, tt.v, err, tt.want)
		}
	}
	if got := read(t, f); got != "[gateway]\nport = 1\n" {
		t.Errorf("file changed: %q", got)
	}
	if _, err := os.Stat(f + ".bak"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused edit made a backup: %v", err)
	}
}

func TestRepairBrokenFile(t *testing.T) {
	f := writeFile(t, "[gateway]\nprot = 1\nbind = \"wan\"\n")
	// A valid key elsewhere can be set although the file is invalid.
	if err := Set(f, "gateway.port", 19001); err != nil {
		t.Fatalf("set on a broken file: %v", err)
	}
	// A change that adds a problem is still refused.
	if err := Set(f, "logging.level", "loud"); err == nil || !strings.HasPrefix(err.Error(), "logging.level: invalid value") {
		t.Errorf("new problem: %v", err)
	}
	// Setting the broken key itself must make it valid.
	if err := Set(f, "gateway.bind", "wan"); err == nil {
		t.Error("setting an invalid value at a broken key was accepted")
	}
	if err := Set(f, "gateway.bind", "lan"); err != nil {
		t.Fatalf("fixing bind: %v", err)
	}
	if err := Unset(f, "gateway.prot"); err != nil {
		t.Fatalf("unset of the unknown key: %v", err)
	}
	if _, err := Load(f); err != nil {
		t.Fatalf("repaired file does not load: %v", err)
	}
	if got := read(t, f); got != "[gateway]\nbind = 'lan'\nport = 19001\n" {
		t.Errorf("file = %q", got)
	}
}

func TestSyntaxErrorBlocksEdits(t *testing.T) {
	f := writeFile(t, "[gateway\n")
	err := Set(f, "gateway.port", 1)
	want := f + ":1: invalid TOML: expected ']' to close table name (fix the syntax by hand; the last good version is in " + f + ".bak)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestUnset(t *testing.T) {
	f := writeFile(t, `[gateway]
port = 1
[gateway.auth.rateLimit]
maxAttempts = 3
[[agents.list]]
id = "a"
[[agents.list]]
id = "b"
[[agents.list]]
id = "c"
[models.providers.x]
apiKey = "k"
`)
	for _, p := range []string{"gateway.auth.rateLimit.maxAttempts", "agents.list[1]", "models.providers.x.apiKey"} {
		if err := Unset(f, p); err != nil {
			t.Fatalf("Unset(%s): %v", p, err)
		}
	}
	want := `[[agents.list]]
id = 'a'

[[agents.list]]
id = 'c'

[gateway]
port = 1

[models.providers.x]
`
	if got := read(t, f); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	tests := []struct{ path, want string }{
		{"gateway.bind", "Config path not set: gateway.bind (its default is in effect; nothing to remove)"},
		{"agents.list[5]", "Config path not set: agents.list[5] (nothing to remove)"},
		{"nope.nope", "Config path not set: nope.nope (nothing to remove)"},
		{"a[", `invalid path "a[": missing ] at position 2`},
	}
	for _, tt := range tests {
		err := Unset(f, tt.path)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Unset(%s) = %v, want %s", tt.path, err, tt.want)
		}
	}
	// Removing an agent id would leave an entry without one: refused.
	if err := Unset(f, "agents.list[0].id"); err == nil || err.Error() != "agents.list[0].id: missing: every entry of agents.list needs id" {
		t.Errorf("Unset(id) = %v", err)
	}
}

func TestGet(t *testing.T) {
	f := writeFile(t, `[gateway]
port = 19001
[gateway.auth]
token = "secret-token"
[[agents.list]]
id = "a"
model = "p/m"
[models.providers.x]
apiKey = "k"
headers = { Authorization = "Bearer z" }
`)
	tests := []struct {
		path string
		want any
		err  string
	}{
		{"gateway.port", int64(19001), ""},
		{"gateway.bind", "loopback", ""},
		{"gateway.auth.token", "secret-token", ""},
		{"gateway.auth.password", nil, "Config path not found: gateway.auth.password"},
		{"gateway.auth.rateLimit.maxAttempts", int64(10), ""},
		{"agents.list[0].model.primary", "p/m", ""},
		{"agents.list[0].default", false, ""},
		{"agents.list.0.id", "a", ""},
		{"agents.list[3]", nil, "Config path not found: agents.list[3]"},
		{"models.providers.y", nil, "Config path not found: models.providers.y"},
		{"agents.defaults.model", nil, "Config path not found: agents.defaults.model"},
		{"tools.allow", []any{}, ""},
		{"gateway.prot", nil, "unknown config key gateway.prot; did you mean gateway.port?"},
	}
	for _, tt := range tests {
		v, err := Get(f, tt.path)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Get(%s) error = %v, want %s", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(v, tt.want) {
			t.Errorf("Get(%s) = %#v, %v; want %#v", tt.path, v, err, tt.want)
		}
	}
	v, _ := Get(f, "models.providers")
	want := map[string]any{"x": map[string]any{"apiKey": RedactedValue, "headers": map[string]any{"Authorization": RedactedValue}}}
	if got := Redact("models.providers", v); !reflect.DeepEqual(got, want) {
		t.Errorf("redacted providers = %#v", got)
	}
	v, _ = Get(f, "gateway")
	if got := Redact("gateway", v).(map[string]any)["auth"].(map[string]any)["token"]; got != RedactedValue {
		t.Errorf("token inside gateway not redacted: %v", got)
	}
	if got := Redact("gateway.auth.token", "t"); got != RedactedValue {
		t.Errorf("Redact(token) = %v", got)
	}
	if got := Redact("gateway.auth.token", ""); got != "" {
		t.Errorf("Redact(empty token) = %v", got)
	}
	if got := Redact("unknown.apiKey", "t"); got != RedactedValue {
		t.Errorf("Redact by name = %v", got)
	}
}

func TestEntries(t *testing.T) {
	f := writeFile(t, `[gateway]
port = 1
trustedProxies = ["10.0.0.1"]
[[agents.list]]
id = "a"
[models.providers.x]
`)
	es, err := Entries(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Path+" = "+FormatValue(e.Value))
	}
	want := []string{`agents.list[0].id = "a"`, "gateway.port = 1", `gateway.trustedProxies = ["10.0.0.1"]`, "models.providers.x = {}"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Entries = %q", got)
	}
}

func TestUpdate(t *testing.T) {
	f := filepath.Join(t.TempDir(), "openclaw.toml")
	err := Update(f, func(tree map[string]any) error {
		tree["gateway"] = map[string]any{"auth": map[string]any{"token": "generated"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(f)
	if err != nil || c.Gateway.Auth.Token != "generated" {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	boom := errors.New("boom")
	if err := Update(f, func(map[string]any) error { return boom }); err != boom {
		t.Errorf("Update error = %v", err)
	}
	// An unchanged tree does not rewrite the file (no backup churn).
	if err := Update(f, func(map[string]any) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f + ".bak"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a no-op update wrote a backup")
	}
}

func TestModesAndBackups(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	f := filepath.Join(dir, "openclaw.toml")
	for i := 1; i <= 7; i++ {
		if err := Set(f, "gateway.port", i); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, f: 0o600, f + ".bak": 0o600, f + ".bak.4": 0o600} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode() != want {
				t.Errorf("mode of %s = %v, want %v", p, st.Mode(), want)
			}
		}
	}
	want := map[string]string{"": "7", ".bak": "6", ".bak.1": "5", ".bak.2": "4", ".bak.3": "3", ".bak.4": "2"}
	for suffix, port := range want {
		if got := read(t, f+suffix); got != "[gateway]\nport = "+port+"\n" {
			t.Errorf("%s = %q, want port %s", suffix, got, port)
		}
	}
	if _, err := os.Stat(f + ".bak.5"); !errors.Is(err, os.ErrNotExist) {
		t.Error("more than 5 backups kept")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
}

func TestSymlinkedFileStaysALink(t *testing.T) {
	if runtime.GOOS == "windows" {
		return // symlinks need privileges there
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "real.toml")
	link := filepath.Join(dir, "openclaw.toml")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Set(link, "gateway.port", 5); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	if got := read(t, target); got != "[gateway]\nport = 5\n" {
		t.Errorf("target = %q", got)
	}
}

// TestConcurrentSetLosesNothing: many writers at once (each with its own
// lock handle, as separate processes have) all land.
func TestConcurrentSetLosesNothing(t *testing.T) {
	f := filepath.Join(t.TempDir(), "openclaw.toml")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Set(f, fmt.Sprintf("models.providers.p%d.baseUrl", i), fmt.Sprintf("http://h%d/v1", i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Models.Providers) != n {
		t.Errorf("%d providers landed, want %d", len(c.Models.Providers), n)
	}
}

func TestCompletePaths(t *testing.T) {
	tree := map[string]any{
		"agents":  map[string]any{"list": []any{map[string]any{"id": "a"}}},
		"models":  map[string]any{"providers": map[string]any{"openai": map[string]any{}}},
		"gateway": map[string]any{"port": int64(1)},
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"gateway.a", []string{"gateway.auth", "gateway.auth."}},
		{"gateway.auth.", []string{"gateway.auth.mode", "gateway.auth.password", "gateway.auth.rateLimit", "gateway.auth.rateLimit.", "gateway.auth.token"}},
		{"agents.list", []string{"agents.list", "agents.list[0]", "agents.list[0].", "agents.list[1]", "agents.list[1]."}},
		{"agents.list[", []string{"agents.list[0]", "agents.list[0].", "agents.list[1]", "agents.list[1]."}},
		{"models.providers.", []string{"models.providers.openai", "models.providers.openai."}},
		{"lo", []string{"logging", "logging."}},
	}
	for _, tt := range tests {
		if got := CompletePaths(tree, tt.prefix); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CompletePaths(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	if got := CompletePaths(nil, ""); len(got) != 12 {
		t.Errorf("top level completions = %q", got)
	}
}

func TestErrorsDoNotEchoSecrets(t *testing.T) {
	f := writeFile(t, "")
	for _, tt := range []struct {
		path string
		v    any
		want string
	}{
		{"gateway.auth.token", 123456, "gateway.auth.token: expected a string, got an integer"},
		{"models.providers.x.headers", map[string]any{"Authorization": 987654}, "models.providers.x.headers.Authorization: expected a string, got an integer"},
		{"models.providers.x.apiKey", true, "models.providers.x.apiKey: expected a string, got a boolean"},
	} {
		if err := Set(f, tt.path, tt.v); err == nil || err.Error() != tt.want {
			t.Errorf("Set(%s) = %v, want %s", tt.path, err, tt.want)
		}
	}
}

func TestSetNumericSegmentCountsAsTouched(t *testing.T) {
	f := writeFile(t, "[gateway]\ntrustedProxies = [\"bad\"]\n")
	// The element was already invalid; setting it to another bad value
	// through a numeric segment must still be refused.
	if err := Set(f, "gateway.trustedProxies.0", "worse"); err == nil {
		t.Fatal("bad value accepted at a broken element")
	}
	if err := Set(f, "gateway.trustedProxies.0", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, f); got != "[gateway]\ntrustedProxies = ['10.0.0.1']\n" {
		t.Errorf("file = %q", got)
	}
}

func TestUnsetOnMissingFileMakesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	err := Unset(filepath.Join(dir, "openclaw.toml"), "gateway.port")
	var ns *NotSetError
	if !errors.As(err, &ns) || !ns.HasDefault {
		t.Errorf("Unset = %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Unset made the state dir: %v", err)
	}
}
