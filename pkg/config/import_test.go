package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustImport(t *testing.T, src string, opts ImportOptions) *Imported {
	t.Helper()
	im, err := ImportOpenClaw("openclaw.json", []byte(src), opts)
	if err != nil {
		t.Fatalf("ImportOpenClaw: %v", err)
	}
	return im
}

func notes(ns []Note) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Path+": "+n.Reason)
	}
	return out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A realistic config of the original: every supported key comes over, the
// rest is listed with its path and why.
func TestImportRealistic(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "openclaw.json5"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := ImportOpenClaw("openclaw.json", data, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"agents":{"defaults":{"maxConcurrent":3,"model":{"fallbacks":["lmstudio/qwen3-coder"],"primary":"anthropic/claude-sonnet-4-5"},` +
		`"models":{"anthropic/claude-sonnet-4-5":{"alias":"sonnet"},"lmstudio/qwen3-coder":{}},"timeoutSeconds":900,"workspace":"~/.openclaw/workspace"},` +
		`"list":[{"default":true,"id":"Main","name":"Main"},{"id":"work","model":"lmstudio/qwen3-coder","tools":{"deny":["exec"],"profile":"coding"},"workspace":"~/work"}]},` +
		`"gateway":{"auth":{"mode":"token","rateLimit":{"exemptLoopback":true,"lockoutMs":300000,"maxAttempts":5,"windowMs":60000},"token":"s3cret-gateway-token"},` +
		`"bind":"lan","http":{"endpoints":{"chatCompletions":{"enabled":true,"images":{"allowUrl":false},"maxBodyBytes":1048576},"responses":{"enabled":true}}},` +
		`"port":19001,"trustedProxies":["10.0.0.1","192.168.0.0/16"]},"logging":{"level":"debug"},` +
		`"models":{"providers":{"anthropic":{"api":"anthropic-messages","baseUrl":"https://api.anthropic.com","models":[{"id":"claude-sonnet-4-5","name":"Claude Sonnet 4.5"}]},` +
		`"lmstudio":{"api":"openai-completions","apiKey":"lm-studio-key","baseUrl":"http://127.0.0.1:1234/v1","headers":{"X-Team":"core"},` +
		`"models":[{"contextWindow":131072,"id":"qwen3-coder","input":["text"],"maxTokens":8192,"name":"Qwen3 Coder"},{"id":"llava","input":["text","image"]}]}}},` +
		`"session":{"mainKey":"main"},"tools":{"allow":["read"],"exec":{"timeoutSeconds":30},"profile":"coding"}}`
	if got := jsonOf(t, im.Tree); got != want {
		t.Errorf("imported tree =\n%s\nwant\n%s", got, want)
	}
	wantSkipped := []string{
		"agents.defaults.heartbeat: not supported",
		"agents.defaults.models.anthropic/claude-sonnet-4-5.params: not supported",
		`agents.defaults.models.sonnet: entry "sonnet" must be named "provider/model"`,
		"agents.defaults.sandbox: not supported",
		"agents.list[0].identity: not supported",
		"agents.list[1].groupChat: not supported",
		"agents.list[1].tools.alsoAllow: not supported",
		"agents.list[2]: has no id, which every entry of agents.list needs",
		"channels: not supported",
		"gateway.auth.allowTailscale: not supported",
		"gateway.controlUi: not supported",
		"gateway.http.endpoints.chatCompletions.images.allowedMimes: not supported",
		"gateway.mode: not supported",
		"gateway.reload: not supported",
		`gateway.trustedProxies[2]: "not-an-ip" is not an IP address or CIDR range (such as 10.0.0.1 or 10.0.0.0/8)`,
		"logging.consoleStyle: not supported",
		"logging.file: not supported",
		"logging.redactSensitive: not supported",
		"meta: not supported",
		"models.mode: not supported",
		"models.providers.anthropic.apiKey: refers to the environment variable ANTHROPIC_API_KEY, which this config does not expand: import with --expand-env, or set the value with 'openclaw config set models.providers.anthropic.apiKey'",
		"models.providers.lmstudio.models[0].cost: not supported",
		"models.providers.lmstudio.models[0].reasoning: not supported",
		`models.providers.lmstudio.models[1].input[2]: invalid value "audio": allowed values are text, image`,
		"models.providers.lmstudio.models[1].maxTokens: number 4096.5 is not a whole number",
		`models.providers.openairesp: api "openai-responses" is not supported (use openai-completions or anthropic-messages): provider not imported`,
		"plugins: not supported",
		"session.reset: not supported",
		"session.scope: not supported",
		"skills: not supported",
		"tools.exec.backgroundMs: not supported",
		"tools.web: not supported",
	}
	if got := notes(im.Skipped); !reflect.DeepEqual(got, wantSkipped) {
		t.Errorf("skipped =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantSkipped, "\n"))
	}
	wantAdjusted := []string{
		`agents.list[1].tools.profile: "full" imported as "coding"`,
		`logging.level: "trace" imported as "debug"`,
	}
	if got := notes(im.Adjusted); !reflect.DeepEqual(got, wantAdjusted) {
		t.Errorf("adjusted = %q, want %q", got, wantAdjusted)
	}
	if n := len(im.Keys()); n != 48 {
		t.Errorf("%d keys imported, want 48: %v", n, im.Keys())
	}
	// No secret in any message.
	for _, s := range append(notes(im.Skipped), notes(im.Adjusted)...) {
		for _, secret := range []string{"s3cret", "lm-studio-key", "telegram-secret", "brave-key"} {
			if strings.Contains(s, secret) {
				t.Errorf("a note shows a secret: %s", s)
			}
		}
	}

	// The result is a valid config, merged into no file.
	file := filepath.Join(t.TempDir(), "openclaw.toml")
	if err := im.Merge(file); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Gateway.Port != 19001 || cfg.Gateway.Auth.Token != "s3cret-gateway-token" || cfg.DefaultAgentID() != "main" ||
		cfg.Models.Providers["lmstudio"].APIKey != "lm-studio-key" || cfg.Tools.Exec.MaxOutputBytes != 64<<10 {
		t.Errorf("loaded config: %+v", cfg)
	}
}

func TestImportSyntaxErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"{\n  gateway: {\n    port: 1,\n  }\n", "openclaw.json:5:1: invalid JSON5: unexpected end of the file: an object or array is not closed"},
		{"", "openclaw.json:1:1: invalid JSON5: unexpected end of the file: an object or array is not closed"},
		{"{\n  a: 'unterminated\n}", "openclaw.json:2:19: invalid JSON5: invalid character '\\n' in string literal"},
		{"{a: 1} {b: 2}", "openclaw.json:1:8: invalid JSON5: invalid character '{' after top-level value"},
		{"[1, 2]", "openclaw.json: expected an object at the top level, got an array"},
		{"null", "openclaw.json: expected an object at the top level, got nothing"},
	} {
		_, err := ImportOpenClaw("openclaw.json", []byte(tt.src), ImportOptions{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("ImportOpenClaw(%q) = %v, want %q", tt.src, err, tt.want)
		}
	}
	// A byte order mark is not an error.
	im := mustImport(t, "\ufeff{gateway: {port: 1}}", ImportOptions{})
	if jsonOf(t, im.Tree) != `{"gateway":{"port":1}}` {
		t.Errorf("with a BOM: %s", jsonOf(t, im.Tree))
	}
}

func TestImportValues(t *testing.T) {
	tests := []struct {
		name, src, tree string
		skipped         []string
	}{
		{"hex and exponent numbers", `{gateway: {port: 0x4A39}, tools: {exec: {maxOutputBytes: 6.4e4}}}`,
			`{"gateway":{"port":19001},"tools":{"exec":{"maxOutputBytes":64000}}}`, nil},
		{"out of range", `{gateway: {port: 70000, bind: "tailnet"}}`, `{}`,
			[]string{"gateway.bind: invalid value \"tailnet\": allowed values are loopback, lan, custom", "gateway.port: 70000 is out of range: use 0 to 65535"}},
		{"wrong types", `{gateway: {port: "19001", auth: "token"}, tools: {allow: "read"}}`, `{}`,
			[]string{`gateway.auth: expected a table, got string "token"`, `gateway.port: expected an integer, got string "19001"`, `tools.allow: expected a list of strings, got string "read"`}},
		{"a secret of the wrong type is not shown", `{gateway: {auth: {token: 123456, password: 1.5}}}`, `{}`,
			[]string{"gateway.auth.password: expected a string, got a number", "gateway.auth.token: expected a string, got an integer"}},
		{"not a whole number, secret", `{models: {providers: {p: {apiKey: 2.5}}}}`, `{"models":{"providers":{"p":{}}}}`,
			[]string{"models.providers.p.apiKey: expected a string, got a number"}},
		{"nulls set nothing", `{gateway: {port: null, bind: "lan"}, logging: null, skills: null}`, `{"gateway":{"bind":"lan"}}`, nil},
		{"infinity", `{gateway: {port: Infinity}}`, `{}`, []string{"gateway.port: number +Inf is not a whole number"}},
		{"model as a string, and a table without primary", `{agents: {defaults: {model: "openai/gpt-4o"}, list: [{id: "a", model: {fallbacks: ["x/y"]}}]}}`,
			`{"agents":{"defaults":{"model":"openai/gpt-4o"},"list":[{"id":"a"}]}}`,
			[]string{`agents.list[0].model: a model table needs primary: "provider/model"`}},
		{"list elements one by one", `{gateway: {http: {cors: {allowedOrigins: ["https://a.example", "ftp://x", 3]}}}}`,
			`{"gateway":{"http":{"cors":{"allowedOrigins":["https://a.example"]}}}}`,
			[]string{`gateway.http.cors.allowedOrigins[1]: "ftp://x" is not an origin: use scheme://host[:port] (such as https://app.example.com) or *`, "gateway.http.cors.allowedOrigins[2]: expected a string, got integer 3"}},
		{"an empty list is kept, an all-bad one is not", `{tools: {allow: [], deny: [1]}}`, `{"tools":{"allow":[]}}`,
			[]string{"tools.deny[0]: expected a string, got integer 1"}},
		{"dotted keys are escaped in paths", `{agents: {defaults: {models: {"openai/gpt-4.1": {alias: "g", extra: 1}}}}}`,
			`{"agents":{"defaults":{"models":{"openai/gpt-4.1":{"alias":"g"}}}}}`,
			[]string{`agents.defaults.models.openai/gpt-4\.1.extra: not supported`}},
		{"an entry whose id is refused is not imported", `{agents: {list: [{id: "not valid!", name: "x"}, {id: "ok"}]}}`, `{"agents":{"list":[{"id":"ok"}]}}`,
			[]string{`agents.list[0].id: "not valid!" is not a valid agent id: use 1 to 64 letters, digits, _ or -, starting with a letter or digit`, "agents.list[0]: not imported without its id"}},
		{"$schema is not config; $include is not followed", `{$schema: "x", $include: "./more.json5"}`, `{}`,
			[]string{"$include: not supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im := mustImport(t, tt.src, ImportOptions{})
			if got := jsonOf(t, im.Tree); got != tt.tree {
				t.Errorf("tree = %s, want %s", got, tt.tree)
			}
			want := tt.skipped
			if want == nil {
				want = []string{}
			}
			if got := notes(im.Skipped); !reflect.DeepEqual(got, want) {
				t.Errorf("skipped =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestImportEnvReferences(t *testing.T) {
	src := `{models: {providers: {a: {apiKey: "${A_KEY}", baseUrl: "http://${HOST}:${PORT}/v1", headers: {X: "$${LITERAL}"}}, b: {apiKey: "${MISSING}"}}}}`
	im := mustImport(t, src, ImportOptions{})
	if got := jsonOf(t, im.Tree); got != `{"models":{"providers":{"a":{"headers":{"X":"${LITERAL}"}},"b":{}}}}` {
		t.Errorf("without expansion: %s", got)
	}
	if len(im.Skipped) != 3 || im.Skipped[0].Path != "models.providers.a.apiKey" ||
		!strings.Contains(im.Skipped[0].Reason, "environment variable A_KEY, which this config does not expand: import with --expand-env") {
		t.Errorf("skipped without expansion: %q", notes(im.Skipped))
	}

	env := map[string]string{"A_KEY": "sk-secret", "HOST": "127.0.0.1", "PORT": "8000"}
	im = mustImport(t, src, ImportOptions{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if got := jsonOf(t, im.Tree); got != `{"models":{"providers":{"a":{"apiKey":"sk-secret","baseUrl":"http://127.0.0.1:8000/v1","headers":{"X":"${LITERAL}"}},"b":{}}}}` {
		t.Errorf("expanded: %s", got)
	}
	if got := notes(im.Skipped); !reflect.DeepEqual(got, []string{"models.providers.b.apiKey: refers to the environment variable MISSING, which is not set"}) {
		t.Errorf("skipped with expansion: %q", got)
	}
}

func TestImportMerge(t *testing.T) {
	file := writeFile(t, "[gateway]\nport = 1234\ncustomBindHost = '10.0.0.5'\n\n[gateway.auth]\ntoken = 'old'\n\n[models.providers.p]\napiKey = 'keep-me'\nbaseUrl = 'http://old/v1'\n\n[[agents.list]]\nid = 'old'\n")
	im := mustImport(t, `{
		gateway: {bind: "custom", auth: {mode: "password", password: "pw"}},
		models: {providers: {p: {baseUrl: "http://new/v1", api: "openai-completions"}}},
		agents: {list: [{id: "NEW"}]},
	}`, ImportOptions{})

	preview, err := im.Preview(file)
	if err != nil {
		t.Fatal(err)
	}
	wantPreview := "[[agents.list]]\nid = 'new'\n\n[gateway]\nbind = 'custom'\ncustomBindHost = '10.0.0.5'\nport = 1234\n\n[gateway.auth]\nmode = 'password'\npassword = '__OPENCLAW_REDACTED__'\ntoken = '__OPENCLAW_REDACTED__'\n\n" +
		"[models.providers.p]\napi = 'openai-completions'\napiKey = '__OPENCLAW_REDACTED__'\nbaseUrl = 'http://new/v1'\n"
	if string(preview) != wantPreview {
		t.Errorf("Preview =\n%s\nwant\n%s", preview, wantPreview)
	}
	if _, err := os.Stat(file + ".bak"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Preview wrote something: %v", err)
	}

	if err := im.Merge(file); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Models.Providers["p"]
	if cfg.Gateway.Port != 1234 || cfg.Gateway.Bind != "custom" || cfg.Gateway.Auth.Token != "old" || cfg.Gateway.Auth.Password != "pw" ||
		p.APIKey != "keep-me" || p.BaseURL != "http://new/v1" || len(cfg.Agents.List) != 1 || cfg.Agents.List[0].ID != "new" {
		t.Errorf("merged config: %+v", cfg)
	}
	if _, err := os.Stat(file + ".bak"); err != nil {
		t.Errorf("no backup of the file merged into: %v", err)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("merged file mode: %v, %v", st.Mode(), err)
	}
}

// A result with new problems is refused and the file left as it was; old
// problems elsewhere do not block an import.
func TestImportMergeRefused(t *testing.T) {
	const before = "[gateway]\nport = 1234\n"
	for _, tt := range []struct{ src, want string }{
		{`{gateway: {bind: "custom"}}`, "gateway.customBindHost: must be set when gateway.bind is custom: openclaw config set gateway.customBindHost <address>"},
		{`{agents: {list: [{id: "a"}, {id: "A"}]}}`, `agents.list[1].id: duplicate id "a" (also agents.list[0].id)`},
	} {
		file := writeFile(t, before)
		im := mustImport(t, tt.src, ImportOptions{})
		err := im.Merge(file)
		var ve *ValidationError
		if !errors.As(err, &ve) || err.Error() != tt.want {
			t.Errorf("Merge(%s) = %v, want %q", tt.src, err, tt.want)
		}
		if _, perr := im.Preview(file); perr == nil || perr.Error() != tt.want {
			t.Errorf("Preview(%s) = %v, want %q", tt.src, perr, tt.want)
		}
		if b, _ := os.ReadFile(file); string(b) != before {
			t.Errorf("file changed by a refused import: %q", b)
		}
	}

	// The file already has an unknown key: importing something else works
	// and keeps it (config unset repairs it).
	file := writeFile(t, "[gateway]\nprot = 1\n")
	if err := mustImport(t, `{logging: {level: "warn"}}`, ImportOptions{}).Merge(file); err != nil {
		t.Fatalf("import into a file with an old problem: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "[gateway]\nprot = 1\n\n[logging]\nlevel = 'warn'\n" {
		t.Errorf("file = %q", b)
	}
	// A file that is not TOML is not touched.
	file = writeFile(t, "[gateway\n")
	if err := mustImport(t, `{logging: {level: "warn"}}`, ImportOptions{}).Merge(file); err == nil {
		t.Error("import into a file that is not TOML succeeded")
	}
}
