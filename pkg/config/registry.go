package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// Type is the kind of value a key holds.
type Type int

// The key types. Table is a fixed set of named keys; Map has entries of any
// name (models.providers.<id>); Array holds tables addressed by index
// (agents.list[0]); Model is "provider/model" or {primary, fallbacks}.
const (
	TypeString Type = iota + 1
	TypeInt
	TypeBool
	TypeEnum
	TypeStringList
	TypeModel
	TypeTable
	TypeMap
	TypeArray
)

// String names the type as the reference and messages show it.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeBool:
		return "bool"
	case TypeEnum:
		return "enum"
	case TypeStringList:
		return "[]string"
	case TypeModel:
		return "model"
	case TypeTable:
		return "table"
	case TypeMap:
		return "map"
	case TypeArray:
		return "array"
	}
	return "unknown"
}

// Key describes one key of the schema. Path is a pattern: `[]` stands for
// any element of an array (agents.list[].id) and `*` for any entry of a map
// (models.providers.*.baseUrl).
type Key struct {
	Path     string
	Type     Type
	Default  any      // nil: no default; else a tree value (string, int64, bool, []any)
	Enum     []string // allowed values of an enum, or of a []string's elements
	Min, Max *int64   // bounds of an int
	Secret   bool     // redacted by config get/list unless --show-secrets
	Live     bool     // a running gateway applies a change without a restart
	Required bool     // must be present in its table (ids of list entries)
	Help     string

	check    func(string) error // extra check of a string (or of each list element)
	entryKey func(string) error // check of an entry's name (maps)
}

// RedactedValue replaces secrets in output.
const RedactedValue = "__OPENCLAW_REDACTED__"

func i64(n int64) *int64 { return &n }

// AgentIDPattern is what an agent id must match (after lowercasing).
var AgentIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidAgentID reports whether id is a valid agent id; case does not matter.
func ValidAgentID(id string) bool { return AgentIDPattern.MatchString(strings.ToLower(id)) }

func checkAgentID(s string) error {
	if !ValidAgentID(s) {
		return fmt.Errorf("%q is not a valid agent id: use 1 to 64 letters, digits, _ or -, starting with a letter or digit", s)
	}
	return nil
}

func checkIPOrCIDR(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return nil
	}
	return fmt.Errorf("%q is not an IP address or CIDR range (such as 10.0.0.1 or 10.0.0.0/8)", s)
}

func checkNonEmpty(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

func checkModelKey(s string) error {
	i := strings.IndexByte(s, '/')
	if i <= 0 || i == len(s)-1 {
		return fmt.Errorf("entry %q must be named \"provider/model\"", s)
	}
	return nil
}

func checkOrigin(s string) error {
	if s == "*" {
		return nil
	}
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return fmt.Errorf("%q is not an origin: use scheme://host[:port] (such as https://app.example.com) or *", s)
	}
	return nil
}

var (
	profiles     = []string{"minimal", "readonly", "coding"}
	apis         = []string{"openai-completions", "anthropic-messages"}
	defaultInput = []any{"text", "image"}
)

// keys is the schema. Every table on the way to a key is a key too, so the
// tree built from this list has no holes (init checks it).
var keys = []Key{
	{Path: "gateway", Type: TypeTable, Help: "The gateway daemon: network, auth and HTTP API."},
	{Path: "gateway.port", Type: TypeInt, Default: int64(DefaultPort), Min: i64(0), Max: i64(65535), Help: "Port of the gateway (HTTP and WebSocket); --port and OPENCLAW_GATEWAY_PORT win over it; 0 picks a free port."},
	{Path: "gateway.bind", Type: TypeEnum, Default: "loopback", Enum: []string{"loopback", "lan", "custom"}, Help: "Where to listen: loopback (127.0.0.1), lan (0.0.0.0) or custom (gateway.customBindHost)."},
	{Path: "gateway.customBindHost", Type: TypeString, Help: "Address to listen on when gateway.bind is custom."},
	{Path: "gateway.auth", Type: TypeTable, Live: true, Help: "How callers authenticate to the gateway."},
	{Path: "gateway.auth.mode", Type: TypeEnum, Default: "token", Enum: []string{"none", "token", "password"}, Live: true, Help: "Auth of /v1 routes: a bearer token, a password, or none (loopback only)."},
	{Path: "gateway.auth.token", Type: TypeString, Secret: true, Live: true, Help: "Bearer token for token mode; generated on first start when unset. Env OPENCLAW_GATEWAY_TOKEN."},
	{Path: "gateway.auth.password", Type: TypeString, Secret: true, Live: true, Help: "Password for password mode. Env OPENCLAW_GATEWAY_PASSWORD."},
	{Path: "gateway.auth.rateLimit", Type: TypeTable, Live: true, Help: "Limiter of failed auth attempts, per client IP."},
	{Path: "gateway.auth.rateLimit.maxAttempts", Type: TypeInt, Default: int64(10), Min: i64(1), Live: true, Help: "Failed attempts allowed inside the window before a lockout."},
	{Path: "gateway.auth.rateLimit.windowMs", Type: TypeInt, Default: int64(60000), Min: i64(1), Live: true, Help: "Window in which failed attempts are counted, in milliseconds."},
	{Path: "gateway.auth.rateLimit.lockoutMs", Type: TypeInt, Default: int64(300000), Min: i64(0), Live: true, Help: "How long a client is locked out, in milliseconds."},
	{Path: "gateway.auth.rateLimit.exemptLoopback", Type: TypeBool, Default: true, Live: true, Help: "Do not limit clients on the loopback address."},
	{Path: "gateway.trustedProxies", Type: TypeStringList, Default: []any{}, Live: true, check: checkIPOrCIDR, Help: "Proxies (IPs or CIDRs) whose X-Forwarded-For is believed."},
	{Path: "gateway.http", Type: TypeTable, Live: true, Help: "The HTTP API."},
	{Path: "gateway.http.endpoints", Type: TypeTable, Live: true, Help: "Optional OpenAI-compatible endpoints."},
	{Path: "gateway.http.endpoints.chatCompletions", Type: TypeTable, Live: true, Help: "POST /v1/chat/completions."},
	{Path: "gateway.http.endpoints.chatCompletions.enabled", Type: TypeBool, Default: false, Live: true, Help: "Serve POST /v1/chat/completions (and GET /v1/models)."},
	{Path: "gateway.http.endpoints.chatCompletions.maxBodyBytes", Type: TypeInt, Default: int64(DefaultMaxBodyBytes), Min: i64(1), Live: true, Help: "Largest request body accepted, in bytes."},
	{Path: "gateway.http.endpoints.chatCompletions.maxImageParts", Type: TypeInt, Default: int64(8), Min: i64(0), Live: true, Help: "Most images in one request."},
	{Path: "gateway.http.endpoints.chatCompletions.maxTotalImageBytes", Type: TypeInt, Default: int64(20 << 20), Min: i64(0), Live: true, Help: "Most decoded image bytes in one request."},
	{Path: "gateway.http.endpoints.chatCompletions.images", Type: TypeTable, Live: true, Help: "Image input."},
	{Path: "gateway.http.endpoints.chatCompletions.images.allowUrl", Type: TypeBool, Default: false, Live: true, Help: "Accept remote image URLs (fetched by the gateway), not only data: URLs."},
	{Path: "gateway.http.endpoints.responses", Type: TypeTable, Live: true, Help: "POST /v1/responses."},
	{Path: "gateway.http.endpoints.responses.enabled", Type: TypeBool, Default: false, Live: true, Help: "Serve POST /v1/responses."},
	{Path: "gateway.http.endpoints.responses.maxBodyBytes", Type: TypeInt, Default: int64(DefaultMaxBodyBytes), Min: i64(1), Live: true, Help: "Largest request body accepted, in bytes."},
	{Path: "gateway.http.metrics", Type: TypeTable, Live: true, Help: "GET /metrics."},
	{Path: "gateway.http.metrics.enabled", Type: TypeBool, Default: false, Live: true, Help: "Serve Prometheus metrics on GET /metrics."},
	{Path: "gateway.http.metrics.public", Type: TypeBool, Default: false, Live: true, Help: "Serve /metrics without auth."},
	{Path: "gateway.http.cors", Type: TypeTable, Live: true, Help: "CORS for browser front ends."},
	{Path: "gateway.http.cors.allowedOrigins", Type: TypeStringList, Default: []any{}, Live: true, check: checkOrigin, Help: "Origins allowed to call the API from a browser (empty: no CORS)."},

	{Path: "agents", Type: TypeTable, Live: true, Help: "Agents and their defaults."},
	{Path: "agents.defaults", Type: TypeTable, Live: true, Help: "Settings every agent inherits."},
	{Path: "agents.defaults.model", Type: TypeModel, Live: true, Help: `Model: "provider/model" or {primary, fallbacks}; none set: echo/echo with a warning.`},
	{Path: "agents.defaults.model.primary", Type: TypeString, Live: true, check: checkNonEmpty, Help: `The model tried first, "provider/model".`},
	{Path: "agents.defaults.model.fallbacks", Type: TypeStringList, Live: true, check: checkNonEmpty, Help: "Models tried in order when the primary fails before any output."},
	{Path: "agents.defaults.workspace", Type: TypeString, Live: true, Help: "Workspace of the default agent (default <state>/workspace)."},
	{Path: "agents.defaults.timeoutSeconds", Type: TypeInt, Default: int64(DefaultTimeoutSeconds), Min: i64(0), Live: true, Help: "Time limit of one agent run, in seconds; 0 means none."},
	{Path: "agents.defaults.maxConcurrent", Type: TypeInt, Default: int64(DefaultMaxConcurrent), Min: i64(1), Live: true, Help: "Most agent runs at once across sessions; the rest wait."},
	{Path: "agents.defaults.models", Type: TypeMap, Live: true, entryKey: checkModelKey, Help: `Models a request may switch to, as "provider/model" = {alias}; empty: any.`},
	{Path: "agents.defaults.models.*", Type: TypeTable, Live: true, Help: "One allowed model."},
	{Path: "agents.defaults.models.*.alias", Type: TypeString, Live: true, Help: "Short name of the model."},
	{Path: "agents.list", Type: TypeArray, Live: true, Help: "The agents; with no list there is one agent, main."},
	{Path: "agents.list[]", Type: TypeTable, Live: true, Help: "One agent."},
	{Path: "agents.list[].id", Type: TypeString, Required: true, Live: true, check: checkAgentID, Help: "Agent id: 1-64 of a-z, 0-9, _ and -; case-insensitive, stored lowercase; unique."},
	{Path: "agents.list[].default", Type: TypeBool, Default: false, Live: true, Help: "This is the default agent (else the first of the list)."},
	{Path: "agents.list[].name", Type: TypeString, Live: true, Help: "Display name."},
	{Path: "agents.list[].model", Type: TypeModel, Live: true, Help: "Model of this agent, as agents.defaults.model; unset: the default."},
	{Path: "agents.list[].model.primary", Type: TypeString, Live: true, check: checkNonEmpty, Help: `The model tried first, "provider/model".`},
	{Path: "agents.list[].model.fallbacks", Type: TypeStringList, Live: true, check: checkNonEmpty, Help: "Models tried in order when the primary fails before any output."},
	{Path: "agents.list[].workspace", Type: TypeString, Live: true, Help: "Workspace of this agent (default <state>/workspace-<id>)."},
	{Path: "agents.list[].systemPrompt", Type: TypeString, Live: true, Help: "Extra system prompt of this agent."},
	{Path: "agents.list[].tools", Type: TypeTable, Live: true, Help: "Tool policy of this agent, over the global one."},
	{Path: "agents.list[].tools.profile", Type: TypeEnum, Enum: profiles, Live: true, Help: "Tool profile of this agent (default: tools.profile)."},
	{Path: "agents.list[].tools.allow", Type: TypeStringList, Live: true, Help: "Tools added to the profile."},
	{Path: "agents.list[].tools.deny", Type: TypeStringList, Live: true, Help: "Tools removed (deny wins over allow)."},

	{Path: "models", Type: TypeTable, Live: true, Help: "Model providers."},
	{Path: "models.providers", Type: TypeMap, Live: true, Help: "Providers by id, used as the provider part of \"provider/model\"."},
	{Path: "models.providers.*", Type: TypeTable, Live: true, Help: "One provider."},
	{Path: "models.providers.*.baseUrl", Type: TypeString, Live: true, Help: "Base URL: ends in /v1 for openai-completions; without /v1 for anthropic-messages."},
	{Path: "models.providers.*.apiKey", Type: TypeString, Secret: true, Live: true, Help: "API key sent to the provider."},
	{Path: "models.providers.*.api", Type: TypeEnum, Enum: apis, Live: true, Help: "Wire API of the provider."},
	{Path: "models.providers.*.headers", Type: TypeMap, Live: true, Help: "Extra HTTP headers sent to the provider."},
	{Path: "models.providers.*.headers.*", Type: TypeString, Secret: true, Live: true, Help: "One header's value (treated as a secret)."},
	{Path: "models.providers.*.models", Type: TypeArray, Live: true, Help: "Models of the provider."},
	{Path: "models.providers.*.models[]", Type: TypeTable, Live: true, Help: "One model."},
	{Path: "models.providers.*.models[].id", Type: TypeString, Required: true, Live: true, check: checkNonEmpty, Help: "Model id, as the provider names it."},
	{Path: "models.providers.*.models[].name", Type: TypeString, Live: true, Help: "Display name."},
	{Path: "models.providers.*.models[].input", Type: TypeStringList, Default: defaultInput, Enum: []string{"text", "image"}, Live: true, Help: "Input kinds the model takes; an image sent to a text-only model is refused (400)."},
	{Path: "models.providers.*.models[].contextWindow", Type: TypeInt, Min: i64(0), Live: true, Help: "Context window, in tokens."},
	{Path: "models.providers.*.models[].maxTokens", Type: TypeInt, Min: i64(0), Live: true, Help: "Most output tokens of one call."},

	{Path: "tools", Type: TypeTable, Live: true, Help: "Tool policy and limits."},
	{Path: "tools.profile", Type: TypeEnum, Default: "coding", Enum: profiles, Live: true, Help: "Tools offered: minimal (none), readonly (read, ls), coding (all)."},
	{Path: "tools.allow", Type: TypeStringList, Default: []any{}, Live: true, Help: "Tools added to the profile."},
	{Path: "tools.deny", Type: TypeStringList, Default: []any{}, Live: true, Help: "Tools removed (deny wins over allow)."},
	{Path: "tools.exec", Type: TypeTable, Live: true, Help: "Limits of the exec tool."},
	{Path: "tools.exec.timeoutSeconds", Type: TypeInt, Default: int64(60), Min: i64(1), Live: true, Help: "Time limit of one command, in seconds."},
	{Path: "tools.exec.maxOutputBytes", Type: TypeInt, Default: int64(64 << 10), Min: i64(1), Live: true, Help: "Most output bytes kept from one command."},

	{Path: "session", Type: TypeTable, Live: true, Help: "Session storage."},
	{Path: "session.mainKey", Type: TypeString, Default: DefaultMainKey, Live: true, check: checkNonEmpty, Help: "Session of one-shot runs: agent:<agentId>:<mainKey>."},
	{Path: "session.fsync", Type: TypeBool, Default: false, Live: true, Help: "Fsync each transcript record (survives power loss, not just a crash)."},

	{Path: "logging", Type: TypeTable, Live: true, Help: "Logs (on stderr)."},
	{Path: "logging.level", Type: TypeEnum, Default: "info", Enum: []string{"debug", "info", "warn", "error"}, Live: true, Help: "Log level; --log-level and OPENCLAW_LOG_LEVEL win over it."},
	{Path: "logging.format", Type: TypeEnum, Default: "text", Enum: []string{"text", "json", "logfmt"}, Live: true, Help: "Log format; --log-format wins over it."},
}

// node is the schema as a tree, built from keys.
type node struct {
	key      *Key
	pattern  string
	children map[string]*node // Table and Model
	names    []string         // children in schema order
	elem     *node            // Map entry, Array element, StringList element
}

var (
	root   *node
	byPath map[string]*node
)

func init() {
	root = &node{key: &Key{Type: TypeTable, Live: true}, children: map[string]*node{}}
	byPath = map[string]*node{"": root}
	for i := range keys {
		k := &keys[i]
		parent, last := splitPattern(k.Path)
		pn, ok := byPath[parent]
		if !ok {
			panic("config: key " + k.Path + " has no parent key " + parent)
		}
		n := &node{key: k, pattern: k.Path}
		if k.Type == TypeTable || k.Type == TypeModel {
			n.children = map[string]*node{}
		}
		if k.Type == TypeStringList {
			ek := &Key{Path: k.Path + "[]", Type: TypeString, Enum: k.Enum, Secret: k.Secret, Live: k.Live, check: k.check, Help: k.Help}
			if len(k.Enum) > 0 {
				ek.Type = TypeEnum
			}
			n.elem = &node{key: ek, pattern: ek.Path}
		}
		switch last {
		case "[]", "*":
			if pn.elem != nil {
				panic("config: two element keys for " + parent)
			}
			pn.elem = n
		default:
			if pn.children == nil {
				panic("config: key " + k.Path + " under a " + pn.key.Type.String())
			}
			pn.children[last] = n
			pn.names = append(pn.names, last)
		}
		byPath[k.Path] = n
	}
	for p, n := range byPath {
		if (n.key.Type == TypeMap || n.key.Type == TypeArray) && n.elem == nil {
			panic("config: " + p + " has no element key")
		}
	}
}

// splitPattern splits a key pattern into its parent's pattern and its last
// step ("[]", "*" or a name).
func splitPattern(p string) (parent, last string) {
	if strings.HasSuffix(p, "[]") {
		return p[:len(p)-2], "[]"
	}
	i := strings.LastIndexByte(p, '.')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// Keys returns every key of the schema, tables included, in schema order.
func Keys() []Key {
	out := make([]Key, len(keys))
	copy(out, keys)
	return out
}

// LookupKey returns the key a path addresses: a concrete path
// (agents.list[0].id, models.providers.openai.baseUrl) or a pattern
// (agents.list[].id, models.providers.*.baseUrl).
func LookupKey(path string) (Key, bool) {
	if n, ok := byPath[path]; ok && path != "" {
		return *n.key, true
	}
	p, err := ParsePath(path)
	if err != nil {
		return Key{}, false
	}
	n, err := resolve(p)
	if err != nil {
		return Key{}, false
	}
	return *n.key, true
}

// child returns the schema node a path segment leads to from n, or nil.
func (n *node) child(s Segment) *node {
	if n == nil {
		return nil
	}
	switch n.key.Type {
	case TypeTable, TypeModel:
		if s.IsIndex {
			return nil
		}
		return n.children[s.Key]
	case TypeMap:
		if s.IsIndex {
			return nil
		}
		return n.elem
	case TypeArray, TypeStringList:
		if _, ok := s.asIndex(); ok {
			return n.elem
		}
	}
	return nil
}

// canonical writes the numeric keys of p that index arrays as [n], so that
// agents.list.0.id and agents.list[0].id compare equal.
func canonical(p Path) Path {
	out := make(Path, len(p))
	n := root
	for i, s := range p {
		if n != nil && (n.key.Type == TypeArray || n.key.Type == TypeStringList) {
			if idx, ok := s.asIndex(); ok {
				s = Segment{Index: idx, IsIndex: true}
			}
		}
		out[i] = s
		n = n.child(s)
	}
	return out
}

// UnknownKeyError is a path outside the schema.
type UnknownKeyError struct {
	Path string // the path as given
	Hint string // "did you mean ...?" or what exists there; may be empty
}

func (e *UnknownKeyError) Error() string {
	msg := "unknown config key " + e.Path
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// resolve finds the schema node of a concrete path.
func resolve(p Path) (*node, error) {
	n := root
	for i, s := range p {
		c := n.child(s)
		if c == nil {
			return nil, &UnknownKeyError{Path: p.String(), Hint: hint(n, p[:i], s, p[i+1:])}
		}
		n = c
	}
	return n, nil
}

// hint explains why segment s is not a key under n (reached by prefix):
// a near-miss suggestion, or what n is.
func hint(n *node, prefix Path, s Segment, rest Path) string {
	where := prefix.String()
	switch n.key.Type {
	case TypeTable, TypeModel:
		if s.IsIndex {
			if n.key.Type == TypeModel {
				return fmt.Sprintf("%s is a model, not an array", where)
			}
			if where == "" {
				return "a path starts with a key"
			}
			return fmt.Sprintf("%s is a table, not an array", where)
		}
		if sug := suggest(n, prefix, s.Key, rest); sug != "" {
			return "did you mean " + sug + "?"
		}
		if len(n.names) > 0 && len(n.names) <= 16 {
			names := append([]string(nil), n.names...)
			sort.Strings(names)
			if where == "" {
				return "top-level keys are " + strings.Join(names, ", ")
			}
			return fmt.Sprintf("%s has the keys %s", where, strings.Join(names, ", "))
		}
	case TypeMap:
		return fmt.Sprintf("%s is a table of named entries: use %s.<name>", where, where)
	case TypeArray, TypeStringList:
		return fmt.Sprintf("%s is an array: use %s[<index>]", where, where)
	default:
		return fmt.Sprintf("%s is %s, not a table", where, describeType(n.key))
	}
	return ""
}

// describeType names a key's type for messages.
func describeType(k *Key) string {
	switch k.Type {
	case TypeInt:
		return "an integer"
	case TypeBool:
		return "a boolean"
	case TypeEnum, TypeString:
		return "a string"
	case TypeStringList:
		return "a list of strings"
	}
	return "a " + k.Type.String()
}

// suggest finds a near miss of name among n's keys (then of the whole
// misplaced path among all keys) such that the corrected path is valid.
func suggest(n *node, prefix Path, name string, rest Path) string {
	best, bestD := "", 1<<30
	for _, c := range n.names {
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if strings.EqualFold(name, c) {
			d = 0
		}
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= maxDistance(name) {
		cand := append(prefix.Child(best), rest...)
		_, err := resolve(cand)
		if err == nil {
			return cand.String()
		}
		// The rest may hold a near miss too: take the fixed path's hint.
		var uk *UnknownKeyError
		if errors.As(err, &uk) && strings.HasPrefix(uk.Hint, "did you mean ") {
			return strings.TrimSuffix(strings.TrimPrefix(uk.Hint, "did you mean "), "?")
		}
	}
	// A key at the wrong level: port -> gateway.port.
	tail := append(Path{{Key: name}}, rest...).String()
	var found []string
	for _, k := range keys {
		if k.Path == tail || strings.HasSuffix(strings.ToLower(k.Path), "."+strings.ToLower(tail)) {
			found = append(found, k.Path)
		}
	}
	if len(found) > 0 && len(found) <= 3 && !strings.ContainsAny(strings.Join(found, ""), "*[") {
		return strings.Join(found, " or ")
	}
	return ""
}

func maxDistance(s string) int {
	switch {
	case len(s) <= 3:
		return 1
	case len(s) <= 8:
		return 2
	}
	return 3
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance,
// so a swap of two letters (prot/port) counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// IsLive reports whether a running gateway applies a change of path without
// a restart: false when the path is, or holds, a key that needs a restart
// (gateway.port, gateway.bind, gateway.customBindHost). known is false for a
// path outside the schema.
func IsLive(path string) (live, known bool) {
	if n, ok := byPath[path]; ok && path != "" {
		return allLive(n), true
	}
	p, err := ParsePath(path)
	if err != nil {
		return false, false
	}
	n, err := resolve(p)
	if err != nil {
		return false, false
	}
	return allLive(n), true
}

func allLive(n *node) bool {
	if !n.key.Live {
		return false
	}
	for _, c := range n.children {
		if !allLive(c) {
			return false
		}
	}
	if n.elem != nil && !allLive(n.elem) {
		return false
	}
	return true
}

// ReferenceMarkdown renders the key registry as a markdown table, as the
// README's config reference shows it. Plain tables that only group keys are
// left out; maps, arrays and their entries are in.
func ReferenceMarkdown() string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Applies | Description |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, k := range keys {
		if k.Type == TypeTable && !strings.HasSuffix(k.Path, "[]") && !strings.HasSuffix(k.Path, "*") {
			continue
		}
		typ := k.Type.String()
		switch {
		case k.Type == TypeEnum:
			typ = "`" + strings.Join(k.Enum, "` \\| `") + "`"
		case k.Type == TypeStringList && len(k.Enum) > 0:
			typ = "[]string of `" + strings.Join(k.Enum, "` \\| `") + "`"
		case k.Type == TypeModel:
			typ = "string or {primary, fallbacks}"
		}
		def := "-"
		if k.Default != nil {
			def = "`" + FormatValue(k.Default) + "`"
			if s, ok := k.Default.(string); ok {
				def = "`" + s + "`"
			}
		}
		applies := "live"
		if !allLive(byPath[k.Path]) {
			applies = "restart"
		}
		help := k.Help
		if k.Min != nil && k.Max != nil {
			help += fmt.Sprintf(" Range %d-%d.", *k.Min, *k.Max)
		} else if k.Min != nil && *k.Min > 0 {
			help += fmt.Sprintf(" At least %d.", *k.Min)
		}
		if k.Secret {
			help += " Secret: redacted unless --show-secrets."
		}
		help = strings.ReplaceAll(help, "|", "\\|")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Path, typ, def, applies, help)
	}
	return b.String()
}
