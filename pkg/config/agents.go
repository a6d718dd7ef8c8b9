package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// AgentIDs returns the ids of the configured agents in list order; with no
// list, the one agent "main".
func (c *Config) AgentIDs() []string {
	if len(c.Agents.List) == 0 {
		return []string{DefaultAgentID}
	}
	ids := make([]string, len(c.Agents.List))
	for i, a := range c.Agents.List {
		ids[i] = strings.ToLower(a.ID)
	}
	return ids
}

// DefaultAgentID returns the agent used when a caller names none: the list
// entry with default = true, else the first, else "main".
func (c *Config) DefaultAgentID() string {
	for _, a := range c.Agents.List {
		if a.Default {
			return strings.ToLower(a.ID)
		}
	}
	if len(c.Agents.List) > 0 {
		return strings.ToLower(c.Agents.List[0].ID)
	}
	return DefaultAgentID
}

// Agent returns the agent with the given id (compared case-insensitively).
// With no list, only "main" exists, with every setting inherited.
func (c *Config) Agent(id string) (AgentEntry, bool) {
	id = strings.ToLower(id)
	if len(c.Agents.List) == 0 {
		if id == DefaultAgentID {
			return AgentEntry{ID: DefaultAgentID, Default: true}, true
		}
		return AgentEntry{}, false
	}
	for _, a := range c.Agents.List {
		if strings.ToLower(a.ID) == id {
			a.ID = id
			return a, true
		}
	}
	return AgentEntry{}, false
}

// AgentModel returns the model of an agent: its own, else
// agents.defaults.model (zero when neither is set).
func (c *Config) AgentModel(id string) ModelRef {
	if a, ok := c.Agent(id); ok && !a.Model.IsZero() {
		return a.Model
	}
	return c.Agents.Defaults.Model
}

// Workspace returns an agent's workspace directory: agents.list[].workspace,
// else for the default agent agents.defaults.workspace, else
// <stateDir>/workspace for the default agent and <stateDir>/workspace-<id>
// for the others. A leading ~ is the home directory and a relative path is
// taken from the state dir.
func (c *Config) Workspace(stateDir, id string) string {
	id = strings.ToLower(id)
	dir := ""
	if a, ok := c.Agent(id); ok && a.Workspace != "" {
		dir = a.Workspace
	} else if id == c.DefaultAgentID() && c.Agents.Defaults.Workspace != "" {
		dir = c.Agents.Defaults.Workspace
	}
	if dir == "" {
		if id == c.DefaultAgentID() {
			return filepath.Join(stateDir, "workspace")
		}
		return filepath.Join(stateDir, "workspace-"+id)
	}
	if dir == "~" || strings.HasPrefix(dir, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, dir[1:])
		}
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(stateDir, dir)
	}
	return filepath.Clean(dir)
}

// SemanticError lists values that are each valid but do not fit together
// or fall outside their range.
type SemanticError struct{ Issues []Issue }

func (e *SemanticError) Error() string {
	msgs := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		msgs[i] = is.Message
	}
	return strings.Join(msgs, "\n")
}

// Validate checks the values of a Config: ranges, allowed values, agent
// ids (valid and unique), and settings that depend on each other. Load
// calls it; code that builds a Config by hand should too.
func (c *Config) Validate() error {
	var issues []Issue
	add := func(path, format string, args ...any) {
		issues = append(issues, Issue{Path: path, Message: path + ": " + fmt.Sprintf(format, args...)})
	}
	ints := []struct {
		path string
		v    int64
	}{
		{"gateway.port", int64(c.Gateway.Port)},
		{"gateway.auth.rateLimit.maxAttempts", int64(c.Gateway.Auth.RateLimit.MaxAttempts)},
		{"gateway.auth.rateLimit.windowMs", c.Gateway.Auth.RateLimit.WindowMs},
		{"gateway.auth.rateLimit.lockoutMs", c.Gateway.Auth.RateLimit.LockoutMs},
		{"gateway.http.endpoints.chatCompletions.maxBodyBytes", c.Gateway.HTTP.Endpoints.ChatCompletions.MaxBodyBytes},
		{"gateway.http.endpoints.chatCompletions.maxImageParts", int64(c.Gateway.HTTP.Endpoints.ChatCompletions.MaxImageParts)},
		{"gateway.http.endpoints.chatCompletions.maxTotalImageBytes", c.Gateway.HTTP.Endpoints.ChatCompletions.MaxTotalImageBytes},
		{"gateway.http.endpoints.responses.maxBodyBytes", c.Gateway.HTTP.Endpoints.Responses.MaxBodyBytes},
		{"agents.defaults.timeoutSeconds", int64(c.Agents.Defaults.TimeoutSeconds)},
		{"agents.defaults.maxConcurrent", int64(c.Agents.Defaults.MaxConcurrent)},
		{"tools.exec.timeoutSeconds", int64(c.Tools.Exec.TimeoutSeconds)},
		{"tools.exec.maxOutputBytes", int64(c.Tools.Exec.MaxOutputBytes)},
	}
	for _, x := range ints {
		if msg := rangeError(byPath[x.path].key, x.v); msg != "" {
			add(x.path, "%s", msg)
		}
	}
	enums := []struct{ path, v string }{
		{"gateway.bind", c.Gateway.Bind},
		{"gateway.auth.mode", c.Gateway.Auth.Mode},
		{"tools.profile", c.Tools.Profile},
		{"logging.level", c.Logging.Level},
		{"logging.format", c.Logging.Format},
	}
	for _, x := range enums {
		if allowed := byPath[x.path].key.Enum; !slices.Contains(allowed, x.v) {
			add(x.path, "invalid value %q: allowed values are %s", x.v, strings.Join(allowed, ", "))
		}
	}
	if c.Gateway.Bind == "custom" && c.Gateway.CustomBindHost == "" {
		add("gateway.customBindHost", "must be set when gateway.bind is custom: openclaw config set gateway.customBindHost <address>")
	}
	if c.Session.MainKey == "" {
		add("session.mainKey", "must not be empty")
	}
	seen := map[string]int{}
	for i, a := range c.Agents.List {
		p := fmt.Sprintf("agents.list[%d]", i)
		if !ValidAgentID(a.ID) {
			add(p+".id", "%v", checkAgentID(a.ID))
		} else if j, dup := seen[strings.ToLower(a.ID)]; dup {
			add(p+".id", "duplicate id %q (also agents.list[%d].id)", a.ID, j)
		} else {
			seen[strings.ToLower(a.ID)] = i
		}
		if a.Tools.Profile != "" && !slices.Contains(profiles, a.Tools.Profile) {
			add(p+".tools.profile", "invalid value %q: allowed values are %s", a.Tools.Profile, strings.Join(profiles, ", "))
		}
	}
	for _, id := range sortedProviderIDs(c.Models.Providers) {
		pr := c.Models.Providers[id]
		p := "models.providers." + escapeKey(id)
		if pr.API != "" && !slices.Contains(apis, pr.API) {
			add(p+".api", "invalid value %q: allowed values are %s", pr.API, strings.Join(apis, ", "))
		}
	}
	if len(issues) > 0 {
		return &SemanticError{Issues: issues}
	}
	return nil
}

func sortedProviderIDs(m map[string]Provider) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
