// Package config is openclaw's configuration: the typed schema, its
// defaults, where the file lives, and loading, validating and editing it.
//
// The file is TOML. Edits work on the generic tree decoded from the file (so
// a file that is invalid elsewhere can still be repaired), are validated
// against the key registry, and are written atomically.
package config

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Config is the whole configuration, with every key of the schema. The JSON
// tags are the key names: the TOML tree is converted through JSON so that
// keys with two shapes (ModelRef) can decode themselves.
type Config struct {
	Gateway Gateway `json:"gateway"`
	Agents  Agents  `json:"agents"`
	Models  Models  `json:"models"`
	Tools   Tools   `json:"tools"`
	Session Session `json:"session"`
	Logging Logging `json:"logging"`
}

// Gateway is the daemon's network, auth and HTTP settings.
type Gateway struct {
	Port           int         `json:"port"`
	Bind           string      `json:"bind"` // loopback | lan | custom
	CustomBindHost string      `json:"customBindHost"`
	Auth           GatewayAuth `json:"auth"`
	TrustedProxies []string    `json:"trustedProxies"`
	HTTP           GatewayHTTP `json:"http"`
}

// GatewayAuth is how callers authenticate to the gateway.
type GatewayAuth struct {
	Mode      string    `json:"mode"` // none | token | password
	Token     string    `json:"token"`
	Password  string    `json:"password"`
	RateLimit RateLimit `json:"rateLimit"`
}

// RateLimit configures the failed-auth limiter.
type RateLimit struct {
	MaxAttempts    int   `json:"maxAttempts"`
	WindowMs       int64 `json:"windowMs"`
	LockoutMs      int64 `json:"lockoutMs"`
	ExemptLoopback bool  `json:"exemptLoopback"`
}

// GatewayHTTP is the HTTP API's settings.
type GatewayHTTP struct {
	Endpoints Endpoints `json:"endpoints"`
	Metrics   Metrics   `json:"metrics"`
	CORS      CORS      `json:"cors"`
}

// Endpoints holds the optional OpenAI-compatible endpoints.
type Endpoints struct {
	ChatCompletions ChatCompletions `json:"chatCompletions"`
	Responses       Responses       `json:"responses"`
}

// ChatCompletions configures POST /v1/chat/completions.
type ChatCompletions struct {
	Enabled            bool   `json:"enabled"`
	MaxBodyBytes       int64  `json:"maxBodyBytes"`
	MaxImageParts      int    `json:"maxImageParts"`
	MaxTotalImageBytes int64  `json:"maxTotalImageBytes"`
	Images             Images `json:"images"`
}

// Images configures image input on the chat endpoint.
type Images struct {
	AllowURL bool `json:"allowUrl"`
}

// Responses configures POST /v1/responses.
type Responses struct {
	Enabled      bool  `json:"enabled"`
	MaxBodyBytes int64 `json:"maxBodyBytes"`
}

// Metrics configures GET /metrics.
type Metrics struct {
	Enabled bool `json:"enabled"`
	Public  bool `json:"public"`
}

// CORS configures opt-in CORS for browser front ends.
type CORS struct {
	AllowedOrigins []string `json:"allowedOrigins"`
}

// Agents holds the defaults every agent inherits and the agent list.
type Agents struct {
	Defaults AgentDefaults `json:"defaults"`
	List     []AgentEntry  `json:"list"`
}

// AgentDefaults apply to every agent unless the agent overrides them.
type AgentDefaults struct {
	Model          ModelRef              `json:"model"`
	Workspace      string                `json:"workspace"`
	TimeoutSeconds int                   `json:"timeoutSeconds"`
	MaxConcurrent  int                   `json:"maxConcurrent"`
	Models         map[string]ModelAlias `json:"models"`
}

// ModelAlias is an entry of agents.defaults.models.
type ModelAlias struct {
	Alias string `json:"alias"`
}

// AgentEntry is one configured agent.
type AgentEntry struct {
	ID           string     `json:"id"`
	Default      bool       `json:"default"`
	Name         string     `json:"name"`
	Model        ModelRef   `json:"model"`
	Workspace    string     `json:"workspace"`
	SystemPrompt string     `json:"systemPrompt"`
	Tools        ToolPolicy `json:"tools"`
}

// ModelRef is a model choice: "provider/model" or {primary, fallbacks}.
type ModelRef struct {
	Primary   string   `json:"primary"`
	Fallbacks []string `json:"fallbacks"`
}

// UnmarshalJSON accepts either a string or a {primary, fallbacks} object.
func (m *ModelRef) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = ModelRef{Primary: s}
		return nil
	}
	type plain ModelRef
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("model: expected \"provider/model\" or {primary, fallbacks}: %w", err)
	}
	*m = ModelRef(p)
	return nil
}

// IsZero reports whether no model was chosen.
func (m ModelRef) IsZero() bool { return m.Primary == "" && len(m.Fallbacks) == 0 }

// Models holds the model providers.
type Models struct {
	Providers map[string]Provider `json:"providers"`
}

// Provider is one model provider.
type Provider struct {
	BaseURL string            `json:"baseUrl"`
	APIKey  string            `json:"apiKey"`
	API     string            `json:"api"` // openai-completions | anthropic-messages
	Headers map[string]string `json:"headers"`
	Models  []ModelDef        `json:"models"`
}

// ModelDef describes one model of a provider.
type ModelDef struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Input         []string `json:"input"` // defaults to ["text","image"]
	ContextWindow int      `json:"contextWindow"`
	MaxTokens     int      `json:"maxTokens"`
}

// Tools is the global tool policy and tool limits.
type Tools struct {
	Profile string   `json:"profile"` // minimal | readonly | coding
	Allow   []string `json:"allow"`
	Deny    []string `json:"deny"`
	Exec    Exec     `json:"exec"`
}

// ToolPolicy is a per-agent override of the tool policy.
type ToolPolicy struct {
	Profile string   `json:"profile"`
	Allow   []string `json:"allow"`
	Deny    []string `json:"deny"`
}

// Exec limits the exec tool.
type Exec struct {
	TimeoutSeconds int `json:"timeoutSeconds"`
	MaxOutputBytes int `json:"maxOutputBytes"`
}

// Session configures session storage.
type Session struct {
	MainKey string `json:"mainKey"`
	Fsync   bool   `json:"fsync"`
}

// Logging configures the logger.
type Logging struct {
	Level  string `json:"level"`
	Format string `json:"format"`
}

// Defaults of the schema, named where other packages need them.
const (
	DefaultPort           = 18789
	DefaultMaxBodyBytes   = 20 << 20
	DefaultTimeoutSeconds = 600
	DefaultMaxConcurrent  = 4
	DefaultAgentID        = "main"
	DefaultMainKey        = "main"
)

// Default returns the configuration in effect with an empty file.
func Default() *Config {
	return &Config{
		Gateway: Gateway{
			Port: DefaultPort,
			Bind: "loopback",
			Auth: GatewayAuth{
				Mode:      "token",
				RateLimit: RateLimit{MaxAttempts: 10, WindowMs: 60000, LockoutMs: 300000, ExemptLoopback: true},
			},
			HTTP: GatewayHTTP{
				Endpoints: Endpoints{
					ChatCompletions: ChatCompletions{MaxBodyBytes: DefaultMaxBodyBytes, MaxImageParts: 8, MaxTotalImageBytes: 20 << 20},
					Responses:       Responses{MaxBodyBytes: DefaultMaxBodyBytes},
				},
			},
		},
		Agents:  Agents{Defaults: AgentDefaults{TimeoutSeconds: DefaultTimeoutSeconds, MaxConcurrent: DefaultMaxConcurrent}},
		Tools:   Tools{Profile: "coding", Exec: Exec{TimeoutSeconds: 60, MaxOutputBytes: 64 << 10}},
		Session: Session{MainKey: DefaultMainKey},
		Logging: Logging{Level: "info", Format: "text"},
	}
}
