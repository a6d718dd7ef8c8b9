package tools

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Tool profiles: the base set a policy starts from.
const (
	ProfileMinimal  = "minimal"  // no tools
	ProfileReadonly = "readonly" // read, ls
	ProfileCoding   = "coding"   // every tool
)

// DefaultProfile is the profile when the config names none.
const DefaultProfile = ProfileCoding

// profiles maps each profile to its tools.
var profiles = map[string][]string{
	ProfileMinimal:  nil,
	ProfileReadonly: {NameRead, NameLs},
	ProfileCoding:   {NameRead, NameWrite, NameEdit, NameLs, NameExec},
}

// Profiles returns the profile names, sorted.
func Profiles() []string {
	names := make([]string, 0, len(profiles))
	for k := range profiles {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Policy is the set of built-in tools one agent may use. The zero Policy
// allows nothing.
type Policy struct {
	allowed map[string]bool
}

// Resolve computes an agent's policy from the config: the agent's
// tools.profile if set, else the global tools.profile, else coding; then
// the names in tools.allow and the agent's allow are added, and the names
// in tools.deny and the agent's deny are removed. Deny wins: an agent's
// allow cannot bring back a tool the global deny removed. "*" in a list
// means every tool. Names are case-insensitive; unknown names are
// ignored, and an unknown profile allows nothing (config validation
// reports it).
func Resolve(cfg *config.Config, agent config.AgentEntry) Policy {
	var global config.Tools
	if cfg != nil {
		global = cfg.Tools
	}
	profile := strings.ToLower(strings.TrimSpace(agent.Tools.Profile))
	if profile == "" {
		profile = strings.ToLower(strings.TrimSpace(global.Profile))
	}
	if profile == "" {
		profile = DefaultProfile
	}
	p := Policy{allowed: map[string]bool{}}
	for _, n := range profiles[profile] {
		p.allowed[n] = true
	}
	for _, list := range [][]string{global.Allow, agent.Tools.Allow} {
		for _, n := range expand(list) {
			p.allowed[n] = true
		}
	}
	for _, list := range [][]string{global.Deny, agent.Tools.Deny} {
		for _, n := range expand(list) {
			delete(p.allowed, n)
		}
	}
	return p
}

// expand normalizes a list of tool names, resolving "*" and dropping
// names of no built-in tool.
func expand(list []string) []string {
	var out []string
	for _, n := range list {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "*" {
			return Names()
		}
		if _, ok := Lookup(n); ok {
			out = append(out, n)
		}
	}
	return out
}

// Allowed reports whether the policy allows the tool called name.
func (p Policy) Allowed(name string) bool {
	return p.allowed[name]
}

// Names returns the allowed tools' names, in the order of All.
func (p Policy) Names() []string {
	var names []string
	for _, t := range builtins {
		if n := t.Def().Name; p.allowed[n] {
			names = append(names, n)
		}
	}
	return names
}

// Defs returns the definitions of the allowed tools, in the order of All:
// the tools to offer the model.
func (p Policy) Defs() []provider.ToolDef {
	var defs []provider.ToolDef
	for _, t := range builtins {
		if d := t.Def(); p.allowed[d.Name] {
			defs = append(defs, d)
		}
	}
	return defs
}

// Call runs the tool called name with the model's arguments if the policy
// allows it. Everything that goes wrong becomes an error Result for the
// model: an unknown tool, a tool not allowed (never run), bad arguments,
// a failure of the call itself, even a panic. The caller learns of a
// cancellation from its own ctx.
func (p Policy) Call(ctx context.Context, ws Workspace, name string, args json.RawMessage) (res Result) {
	t, ok := Lookup(name)
	if !ok {
		allowed := p.Names()
		if len(allowed) == 0 {
			return errorf("unknown tool %q: this agent has no tools", name)
		}
		return errorf("unknown tool %q: the tools are %s", name, strings.Join(allowed, ", "))
	}
	if !p.allowed[name] {
		return errorf("tool %q is not allowed for this agent", name)
	}
	defer func() {
		if v := recover(); v != nil {
			res = errorf("tool %q failed: internal error: %v", name, v)
		}
	}()
	r, err := t.Run(ctx, ws, args)
	if err != nil {
		if r.Text != "" {
			return Result{Text: r.Text + "\n" + err.Error(), IsError: true}
		}
		return errorf("tool %q failed: %v", name, err)
	}
	return r
}

// String describes the policy for logs: the allowed tools.
func (p Policy) String() string {
	names := p.Names()
	if len(names) == 0 {
		return "(no tools)"
	}
	return strings.Join(names, ",")
}
