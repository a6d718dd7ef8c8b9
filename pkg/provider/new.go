package provider

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Defaults used when a Config leaves a value zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultReadTimeout    = 120 * time.Second
	// DefaultMaxTokens is sent to Anthropic, which requires max_tokens,
	// when the request does not set one.
	DefaultMaxTokens = 4096
)

// Base URLs of the built-in providers.
const (
	OpenAIBaseURL    = "https://api.openai.com/v1"
	AnthropicBaseURL = "https://api.anthropic.com"
	OllamaBaseURL    = "http://127.0.0.1:11434/v1"
)

// BuiltinIDs are the providers that work without any config.
var BuiltinIDs = []string{"anthropic", "echo", "ollama", "openai"}

// Builtin returns the config of a provider built in without config, reading
// its key (and OPENAI_BASE_URL) from the environment at call time.
func Builtin(id string) (Config, bool) { return BuiltinEnv(id, os.Getenv) }

// BuiltinEnv is Builtin with the environment given as a lookup function.
// Empty variables count as unset.
func BuiltinEnv(id string, getenv func(string) string) (Config, bool) {
	switch id {
	case "openai":
		base := strings.TrimSpace(getenv("OPENAI_BASE_URL"))
		if base == "" {
			base = OpenAIBaseURL
		}
		return Config{ID: id, API: APIOpenAI, BaseURL: base, APIKey: getenv("OPENAI_API_KEY")}, true
	case "anthropic":
		return Config{ID: id, API: APIAnthropic, BaseURL: AnthropicBaseURL, APIKey: getenv("ANTHROPIC_API_KEY")}, true
	case "ollama":
		return Config{ID: id, API: APIOpenAI, BaseURL: OllamaBaseURL}, true
	case "echo":
		return Config{ID: id, API: APIEcho}, true
	}
	return Config{}, false
}

// New builds the provider cfg describes. Building is cheap and does no I/O;
// HTTP providers share one connection pool per connect timeout, so calling
// New for every run does not leak connections.
func New(cfg Config) (Provider, error) {
	if cfg.ID == "" {
		cfg.ID = cfg.API
	}
	switch cfg.API {
	case APIEcho:
		return &echo{id: cfg.ID}, nil
	case APIOpenAI, APIAnthropic:
	case "":
		return nil, fmt.Errorf("provider %q has no api; set models.providers.%s.api to %q or %q", cfg.ID, cfg.ID, APIOpenAI, APIAnthropic)
	default:
		return nil, fmt.Errorf("provider %q: unknown api %q; use %q or %q", cfg.ID, cfg.API, APIOpenAI, APIAnthropic)
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" && cfg.API == APIAnthropic {
		base = AnthropicBaseURL
	}
	if base == "" {
		return nil, fmt.Errorf("provider %q has no baseUrl; set models.providers.%s.baseUrl (e.g. http://127.0.0.1:8000/v1)", cfg.ID, cfg.ID)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("provider %q: baseUrl %q is not an http(s) URL; fix models.providers.%s.baseUrl", cfg.ID, redactURL(base), cfg.ID)
	}
	h := &httpBase{
		id:          cfg.ID,
		apiKey:      cfg.APIKey,
		headers:     cfg.Headers,
		client:      clientFor(cfg),
		readTimeout: cfg.ReadTimeout,
	}
	if h.readTimeout <= 0 {
		h.readTimeout = DefaultReadTimeout
	}
	if cfg.API == APIOpenAI {
		h.url = base + "/chat/completions"
		return &openAI{h}, nil
	}
	// The config says the base URL is without /v1, but forgive it.
	h.url = strings.TrimSuffix(base, "/v1") + "/v1/messages"
	return &anthropic{h}, nil
}

// redactURL drops user info from a URL for messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// clients holds one shared *http.Client per connect timeout.
var clients sync.Map // time.Duration -> *http.Client

func clientFor(cfg Config) *http.Client {
	if cfg.Client != nil {
		return cfg.Client
	}
	ct := cfg.ConnectTimeout
	if ct <= 0 {
		ct = DefaultConnectTimeout
	}
	if c, ok := clients.Load(ct); ok {
		return c.(*http.Client)
	}
	c, _ := clients.LoadOrStore(ct, newClient(ct))
	return c.(*http.Client)
}

// newClient builds a client tuned for many long streaming calls to a few
// hosts. It has no overall timeout (streams are long; the read watchdog of
// each call bounds stalls) and never follows redirects, so a key is never
// sent to another host.
func newClient(connect time.Duration) *http.Client {
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
