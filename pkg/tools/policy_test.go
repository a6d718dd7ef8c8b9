package tools

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/config"
)

func TestResolve(t *testing.T) {
	all := []string{"read", "write", "edit", "ls", "exec"}
	tests := []struct {
		name   string
		global config.Tools
		agent  config.ToolPolicy
		want   []string
	}{
		{"empty config is coding", config.Tools{}, config.ToolPolicy{}, all},
		{"coding", config.Tools{Profile: "coding"}, config.ToolPolicy{}, all},
		{"readonly", config.Tools{Profile: "readonly"}, config.ToolPolicy{}, []string{"read", "ls"}},
		{"minimal", config.Tools{Profile: "minimal"}, config.ToolPolicy{}, nil},
		{"unknown profile allows nothing", config.Tools{Profile: "everything"}, config.ToolPolicy{}, nil},
		{"profile case and spaces", config.Tools{Profile: " ReadOnly "}, config.ToolPolicy{}, []string{"read", "ls"}},

		{"allow adds to readonly", config.Tools{Profile: "readonly", Allow: []string{"exec"}}, config.ToolPolicy{}, []string{"read", "ls", "exec"}},
		{"allow adds to minimal", config.Tools{Profile: "minimal", Allow: []string{"read", "write"}}, config.ToolPolicy{}, []string{"read", "write"}},
		{"allow of a tool already there", config.Tools{Profile: "readonly", Allow: []string{"read"}}, config.ToolPolicy{}, []string{"read", "ls"}},
		{"deny removes from coding", config.Tools{Deny: []string{"exec", "write"}}, config.ToolPolicy{}, []string{"read", "edit", "ls"}},
		{"deny of a tool not there", config.Tools{Profile: "readonly", Deny: []string{"exec"}}, config.ToolPolicy{}, []string{"read", "ls"}},
		{"deny wins over allow", config.Tools{Profile: "minimal", Allow: []string{"exec", "read"}, Deny: []string{"exec"}}, config.ToolPolicy{}, []string{"read"}},
		{"allow star", config.Tools{Profile: "minimal", Allow: []string{"*"}}, config.ToolPolicy{}, all},
		{"deny star", config.Tools{Allow: []string{"exec"}, Deny: []string{"*"}}, config.ToolPolicy{}, nil},
		{"names case-insensitive", config.Tools{Profile: "minimal", Allow: []string{"READ", " Ls "}, Deny: []string{"Read"}}, config.ToolPolicy{}, []string{"ls"}},
		{"unknown names ignored", config.Tools{Profile: "minimal", Allow: []string{"browser", "read", ""}, Deny: []string{"nope"}}, config.ToolPolicy{}, []string{"read"}},

		{"agent profile overrides global", config.Tools{Profile: "coding"}, config.ToolPolicy{Profile: "minimal"}, nil},
		{"agent profile widens global", config.Tools{Profile: "minimal"}, config.ToolPolicy{Profile: "coding"}, all},
		{"agent profile empty keeps global", config.Tools{Profile: "readonly"}, config.ToolPolicy{Allow: []string{"edit"}}, []string{"read", "edit", "ls"}},
		{"agent profile unknown allows nothing", config.Tools{Profile: "coding"}, config.ToolPolicy{Profile: "root"}, nil},
		{"global allow applies under agent profile", config.Tools{Profile: "coding", Allow: []string{"write"}}, config.ToolPolicy{Profile: "readonly"}, []string{"read", "write", "ls"}},
		{"global deny applies under agent profile", config.Tools{Deny: []string{"ls"}}, config.ToolPolicy{Profile: "readonly"}, []string{"read"}},
		{"agent allow adds", config.Tools{Profile: "readonly"}, config.ToolPolicy{Allow: []string{"exec"}}, []string{"read", "ls", "exec"}},
		{"agent deny removes", config.Tools{}, config.ToolPolicy{Deny: []string{"exec"}}, []string{"read", "write", "edit", "ls"}},
		{"agent deny removes a global allow", config.Tools{Profile: "minimal", Allow: []string{"exec"}}, config.ToolPolicy{Deny: []string{"exec"}}, nil},
		{"agent allow cannot undo a global deny", config.Tools{Deny: []string{"exec"}}, config.ToolPolicy{Allow: []string{"exec"}}, []string{"read", "write", "edit", "ls"}},
		{"agent allow and deny of one tool", config.Tools{Profile: "minimal"}, config.ToolPolicy{Allow: []string{"write"}, Deny: []string{"write"}}, nil},
		{"both lists together", config.Tools{Profile: "readonly", Allow: []string{"write"}, Deny: []string{"read"}},
			config.ToolPolicy{Profile: "", Allow: []string{"edit", "exec"}, Deny: []string{"ls"}}, []string{"write", "edit", "exec"}},
		{"agent star deny", config.Tools{Profile: "coding"}, config.ToolPolicy{Deny: []string{"*"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Tools.Profile, cfg.Tools.Allow, cfg.Tools.Deny = tt.global.Profile, tt.global.Allow, tt.global.Deny
			agent := config.AgentEntry{ID: "a", Tools: tt.agent}
			p := Resolve(cfg, agent)
			if got := p.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("Names() = %q, want %q", got, tt.want)
			}
			var defs []string
			for _, d := range p.Defs() {
				defs = append(defs, d.Name)
			}
			if !slices.Equal(defs, tt.want) {
				t.Errorf("Defs() names = %q, want %q", defs, tt.want)
			}
			for _, n := range Names() {
				if got, want := p.Allowed(n), slices.Contains(tt.want, n); got != want {
					t.Errorf("Allowed(%q) = %v, want %v", n, got, want)
				}
			}
			if p.Allowed("browser") || p.Allowed("") || p.Allowed("READ") {
				t.Errorf("Allowed says yes to a name that is no tool")
			}
		})
	}
}

func TestResolveNilConfig(t *testing.T) {
	if got := Resolve(nil, config.AgentEntry{}).Names(); !slices.Equal(got, Names()) {
		t.Errorf("nil config: %q, want every tool", got)
	}
	if got := Resolve(nil, config.AgentEntry{Tools: config.ToolPolicy{Profile: "readonly"}}).String(); got != "read,ls" {
		t.Errorf("String() = %q", got)
	}
	if got := (Policy{}).String(); got != "(no tools)" {
		t.Errorf("zero policy String() = %q", got)
	}
	if (Policy{}).Allowed(NameRead) || len((Policy{}).Defs()) != 0 {
		t.Errorf("the zero Policy allows something")
	}
}

func TestProfiles(t *testing.T) {
	if got := Profiles(); !slices.Equal(got, []string{"coding", "minimal", "readonly"}) {
		t.Errorf("Profiles() = %q", got)
	}
	for prof, names := range profiles {
		for _, n := range names {
			if _, ok := Lookup(n); !ok {
				t.Errorf("profile %s names %q, which is no tool", prof, n)
			}
		}
	}
}

func TestPolicyCall(t *testing.T) {
	fx := newFixture(t)
	put(t, filepath.Join(fx.dir, "a.txt"), "hello\n")
	readonly := Resolve(nil, config.AgentEntry{Tools: config.ToolPolicy{Profile: "readonly"}})
	minimal := Resolve(nil, config.AgentEntry{Tools: config.ToolPolicy{Profile: "minimal"}})
	coding := Resolve(nil, config.AgentEntry{})
	tests := []struct {
		name string
		p    Policy
		tool string
		args string
		want Result
	}{
		{"allowed", readonly, "read", `{"path":"a.txt"}`, Result{Text: "hello\n"}},
		{"denied exec never runs", readonly, "exec", `{"command":"touch ran"}`, Result{Text: `tool "exec" is not allowed for this agent`, IsError: true}},
		{"denied write never runs", readonly, "write", `{"path":"ran","content":"x"}`, Result{Text: `tool "write" is not allowed for this agent`, IsError: true}},
		{"denied with bad arguments", minimal, "read", `garbage`, Result{Text: `tool "read" is not allowed for this agent`, IsError: true}},
		{"unknown tool", readonly, "browser", `{}`, Result{Text: `unknown tool "browser": the tools are read, ls`, IsError: true}},
		{"unknown tool, no tools", minimal, "bash", `{}`, Result{Text: `unknown tool "bash": this agent has no tools`, IsError: true}},
		{"names are exact", coding, "Read", `{"path":"a.txt"}`, Result{Text: `unknown tool "Read": the tools are read, write, edit, ls, exec`, IsError: true}},
		{"empty name", coding, "", `{}`, Result{Text: `unknown tool "": the tools are read, write, edit, ls, exec`, IsError: true}},
		{"bad arguments", coding, "read", `{"path":3}`, Result{Text: `invalid arguments: "path" must be a string, got a number`, IsError: true}},
		{"escape", coding, "ls", `{"path":"../outside"}`, Result{Text: `path escapes the workspace: ../outside`, IsError: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Call(context.Background(), fx.ws, tt.tool, json.RawMessage(tt.args))
			if got != tt.want {
				t.Errorf("Call(%s, %s)\n got %+v\nwant %+v", tt.tool, tt.args, got, tt.want)
			}
			if _, err := os.Stat(filepath.Join(fx.dir, "ran")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused tool ran (%v)", err)
			}
		})
	}
}

func TestPolicyCallGoErrors(t *testing.T) {
	p := Resolve(nil, config.AgentEntry{})

	// A workspace that cannot be created: a Go error, turned into a result.
	base := t.TempDir()
	put(t, filepath.Join(base, "file"), "")
	got := p.Call(context.Background(), Workspace{Dir: filepath.Join(base, "file", "ws")}, NameLs, nil)
	if !got.IsError || !strings.HasPrefix(got.Text, `tool "ls" failed: tools: create workspace: `) {
		t.Errorf("unusable workspace: %+v", got)
	}
	got = p.Call(context.Background(), Workspace{}, NameRead, json.RawMessage(`{"path":"a"}`))
	if want := (Result{Text: `tool "read" failed: tools: no workspace directory set`, IsError: true}); got != want {
		t.Errorf("no workspace: %+v, want %+v", got, want)
	}

	// A context already done.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fx := newFixture(t)
	for tool, args := range map[string]string{
		NameRead: `{"path":"a"}`, NameWrite: `{"path":"ran","content":"x"}`, NameEdit: `{"path":"a","old_string":"a","new_string":"b"}`,
		NameLs: `{}`, NameExec: `{"command":"touch ran"}`,
	} {
		got := p.Call(ctx, fx.ws, tool, json.RawMessage(args))
		if want := (Result{Text: `tool "` + tool + `" failed: context canceled`, IsError: true}); got != want {
			t.Errorf("%s with a canceled context: %+v, want %+v", tool, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "ran")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a tool ran under a canceled context (%v)", err)
	}
}
