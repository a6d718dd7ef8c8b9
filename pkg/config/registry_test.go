package config

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update", false, "rewrite the README's config reference from the registry")

// schemaPaths lists the key patterns of a Go type by its JSON tags, the
// way the registry spells them.
func schemaPaths(t reflect.Type, prefix string, out map[string]bool) {
	join := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	if t == reflect.TypeOf(ModelRef{}) {
		out[join("primary")] = true
		out[join("fallbacks")] = true
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			p := join(name)
			out[p] = true
			schemaPaths(f.Type, p, out)
		}
	case reflect.Map:
		p := prefix + ".*"
		out[p] = true
		schemaPaths(t.Elem(), p, out)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			p := prefix + "[]"
			out[p] = true
			schemaPaths(t.Elem(), p, out)
		}
	}
}

// TestRegistryMatchesSchema keeps the registry and the Config struct in
// step: every field has a key and every key a field.
func TestRegistryMatchesSchema(t *testing.T) {
	fromType := map[string]bool{}
	schemaPaths(reflect.TypeOf(Config{}), "", fromType)
	fromKeys := map[string]bool{}
	for _, k := range Keys() {
		fromKeys[k.Path] = true
		if !fromType[k.Path] {
			t.Errorf("registry key %s has no field in Config", k.Path)
		}
		if k.Help == "" {
			t.Errorf("registry key %s has no help", k.Path)
		}
	}
	for p := range fromType {
		if !fromKeys[p] {
			t.Errorf("Config field %s has no registry key", p)
		}
	}
}

// TestRegistryDefaultsMatchDefault checks that the registry's defaults are
// what Default() holds, and that keys without one are zero there.
func TestRegistryDefaultsMatchDefault(t *testing.T) {
	b, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if strings.ContainsAny(k.Path, "*[") || k.Type == TypeTable {
			continue
		}
		got, _ := lookupJSON(def, strings.Split(k.Path, "."))
		if k.Default == nil {
			if !isZeroJSON(got) {
				t.Errorf("%s has no registry default but Default() has %v", k.Path, got)
			}
			continue
		}
		want := k.Default
		if reflect.DeepEqual(want, []any{}) && got == nil {
			continue // nil and empty lists mean the same
		}
		if !reflect.DeepEqual(jsonRoundTrip(t, want), got) {
			t.Errorf("%s: registry default %v, Default() has %v", k.Path, want, got)
		}
	}
	if in := byPath["models.providers.*.models[].input"].key.Default; !reflect.DeepEqual(in, []any{"text", "image"}) {
		t.Errorf("input default = %v", in)
	}
}

func lookupJSON(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, s := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[s]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func isZeroJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case map[string]any:
		for _, e := range x {
			if !isZeroJSON(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

func jsonRoundTrip(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLookupKey(t *testing.T) {
	tests := []struct {
		path string
		want string // pattern, "" for none
	}{
		{"gateway.port", "gateway.port"},
		{"agents.list[0].id", "agents.list[].id"},
		{"agents.list.3.model.primary", "agents.list[].model.primary"},
		{"agents.list[].id", "agents.list[].id"},
		{"models.providers.openai.baseUrl", "models.providers.*.baseUrl"},
		{"models.providers.*.headers.*", "models.providers.*.headers.*"},
		{"models.providers.x.headers.Authorization", "models.providers.*.headers.*"},
		{`agents.defaults.models.anthropic/claude-3\.5.alias`, "agents.defaults.models.*.alias"},
		{"gateway.trustedProxies[0]", "gateway.trustedProxies[]"},
		{"gateway.prot", ""},
		{"agents.list.id", ""},
		{"gateway.port.x", ""},
		{"gateway[0]", ""},
		{"", ""},
	}
	for _, tt := range tests {
		k, ok := LookupKey(tt.path)
		if tt.want == "" {
			if ok {
				t.Errorf("LookupKey(%q) = %s, want none", tt.path, k.Path)
			}
			continue
		}
		if !ok || k.Path != tt.want {
			t.Errorf("LookupKey(%q) = %q, %v; want %q", tt.path, k.Path, ok, tt.want)
		}
	}
}

func TestUnknownKeyHints(t *testing.T) {
	tests := []struct{ path, want string }{
		{"gateway.prot", "unknown config key gateway.prot; did you mean gateway.port?"},
		{"gateway.Port", "unknown config key gateway.Port; did you mean gateway.port?"},
		{"gateway.auth.ratelimit.maxattempt", "unknown config key gateway.auth.ratelimit.maxattempt; did you mean gateway.auth.rateLimit.maxAttempts?"},
		{"port", "unknown config key port; did you mean gateway.port?"},
		{"chatCompletions.enabled", "unknown config key chatCompletions.enabled; did you mean gateway.http.endpoints.chatCompletions.enabled?"},
		{"gateway.zzz", "unknown config key gateway.zzz; gateway has the keys auth, bind, customBindHost, http, port, trustedProxies"},
		{"zzz", "unknown config key zzz; top-level keys are agents, gateway, logging, models, session, tools"},
		{"agents.list.id", "unknown config key agents.list.id; agents.list is an array: use agents.list[<index>]"},
		{"gateway.port.x", "unknown config key gateway.port.x; gateway.port is an integer, not a table"},
		{"gateway[0]", "unknown config key gateway[0]; gateway is a table, not an array"},
		{"models.providers[0]", "unknown config key models.providers[0]; models.providers is a table of named entries: use models.providers.<name>"},
		{"agents.defaults.model[0]", "unknown config key agents.defaults.model[0]; agents.defaults.model is a model, not an array"},
	}
	for _, tt := range tests {
		err := CheckPath(tt.path)
		if err == nil || err.Error() != tt.want {
			t.Errorf("CheckPath(%q)\n got %v\nwant %s", tt.path, err, tt.want)
		}
	}
	if err := CheckPath("agents.list[2].tools.allow"); err != nil {
		t.Errorf("valid path: %v", err)
	}
}

func TestIsLive(t *testing.T) {
	tests := []struct {
		path        string
		live, known bool
	}{
		{"gateway.port", false, true},
		{"gateway.bind", false, true},
		{"gateway.customBindHost", false, true},
		{"gateway", false, true},
		{"gateway.auth.token", true, true},
		{"gateway.auth", true, true},
		{"gateway.http.endpoints.chatCompletions.enabled", true, true},
		{"agents.list[0].model", true, true},
		{"models.providers.x.apiKey", true, true},
		{"tools.exec.timeoutSeconds", true, true},
		{"session.fsync", true, true},
		{"logging.level", true, true},
		{"nope", false, false},
		{"agents.list[]", true, true},
		{"models.providers.*.headers.*", true, true},
	}
	for _, tt := range tests {
		live, known := IsLive(tt.path)
		if live != tt.live || known != tt.known {
			t.Errorf("IsLive(%q) = %v, %v; want %v, %v", tt.path, live, known, tt.live, tt.known)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		d    int
	}{{"prot", "port", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"same", "same", 0}}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

func TestReferenceMarkdown(t *testing.T) {
	md := ReferenceMarkdown()
	for _, want := range []string{
		"| `gateway.port` | int | `18789` | restart |",
		"| `gateway.bind` | `loopback` \\| `lan` \\| `custom` | `loopback` | restart |",
		"| `gateway.auth.token` | string | - | live |",
		"| `agents.list[].id` | string | - | live |",
		"| `models.providers.*.headers.*` | string | - | live |",
		"| `models.providers.*.models[].input` | []string of `text` \\| `image` | `[\"text\",\"image\"]` | live |",
		"| `agents.defaults.model` | string or {primary, fallbacks} | - | live |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
	if strings.Contains(md, "| `gateway.auth` |") {
		t.Error("reference lists a grouping table")
	}
}

const (
	refStart = "<!-- config-reference:start -->"
	refEnd   = "<!-- config-reference:end -->"
)

// TestReadmeReference fails when the README's config reference is not what
// the registry generates. Rewrite it with:
//
//	go test ./pkg/config -run TestReadmeReference -update
func TestReadmeReference(t *testing.T) {
	file := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	s := string(b)
	i, j := strings.Index(s, refStart), strings.Index(s, refEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %s and %s", refStart, refEnd)
	}
	want := "\n" + ReferenceMarkdown() + "\n"
	got := s[i+len(refStart) : j]
	if got == want {
		return
	}
	if *updateReadme || os.Getenv("OPENCLAW_UPDATE_README") == "1" {
		out := s[:i+len(refStart)] + want + s[j:]
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's config reference is stale: run go test ./pkg/config -run TestReadmeReference -update")
}

func TestKeysIsACopy(t *testing.T) {
	ks := Keys()
	ks[0].Path = "changed"
	if Keys()[0].Path == "changed" {
		t.Error("Keys returns the registry itself")
	}
	if !slices.ContainsFunc(Keys(), func(k Key) bool { return k.Path == "agents.list[].model.fallbacks" }) {
		t.Error("model fallbacks key missing")
	}
}
