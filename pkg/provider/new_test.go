package provider

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBuiltin(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		id   string
		want Config
	}{
		{"openai", Config{ID: "openai", API: APIOpenAI, BaseURL: "https://api.openai.com/v1", APIKey: "sk-o"}},
		{"anthropic", Config{ID: "anthropic", API: APIAnthropic, BaseURL: "https://api.anthropic.com", APIKey: "sk-a"}},
		{"ollama", Config{ID: "ollama", API: APIOpenAI, BaseURL: "http://127.0.0.1:11434/v1"}},
		{"echo", Config{ID: "echo", API: APIEcho}},
	}
	for _, tt := range tests {
		got, ok := BuiltinEnv(tt.id, getenv)
		if !ok {
			t.Errorf("%s is not built in", tt.id)
		}
		diff(t, tt.id, got, tt.want)
	}
	if _, ok := BuiltinEnv("nope", getenv); ok {
		t.Error("nope is built in")
	}
	env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
	if got, _ := BuiltinEnv("openai", getenv); got.BaseURL != "http://127.0.0.1:9/v1" {
		t.Errorf("OPENAI_BASE_URL ignored: %s", got.BaseURL)
	}
	if len(BuiltinIDs) != len(tests) {
		t.Errorf("BuiltinIDs %v", BuiltinIDs)
	}
}

func TestBuiltinReadsEnvAtCallTime(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-first")
	t.Setenv("OPENAI_BASE_URL", "")
	if c, _ := Builtin("openai"); c.APIKey != "sk-first" || c.BaseURL != OpenAIBaseURL {
		t.Errorf("got %+v", c)
	}
	t.Setenv("OPENAI_API_KEY", "sk-second")
	if c, _ := Builtin("openai"); c.APIKey != "sk-second" {
		t.Errorf("got %q", c.APIKey)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantURL string // the endpoint, or the error text
		wantErr bool
	}{
		{Config{ID: "o", API: APIOpenAI, BaseURL: "http://h:1/v1"}, "http://h:1/v1/chat/completions", false},
		{Config{ID: "o", API: APIOpenAI, BaseURL: " http://h:1/v1/ "}, "http://h:1/v1/chat/completions", false},
		{Config{ID: "a", API: APIAnthropic, BaseURL: "http://h:1"}, "http://h:1/v1/messages", false},
		{Config{ID: "a", API: APIAnthropic, BaseURL: "http://h:1/v1/"}, "http://h:1/v1/messages", false},
		{Config{ID: "a", API: APIAnthropic}, "https://api.anthropic.com/v1/messages", false},
		{Config{ID: "o", API: APIOpenAI}, `provider "o" has no baseUrl; set models.providers.o.baseUrl`, true},
		{Config{ID: "o", API: APIOpenAI, BaseURL: "h:1/v1"}, `provider "o": baseUrl "h:1/v1" is not an http(s) URL`, true},
		{Config{ID: "o", API: APIOpenAI, BaseURL: "ftp://u:pw@h/v1"}, `baseUrl "ftp://u:xxxxx@h/v1" is not`, true},
		{Config{ID: "x"}, `provider "x" has no api; set models.providers.x.api to "openai-completions" or "anthropic-messages"`, true},
		{Config{ID: "x", API: "gemini"}, `provider "x": unknown api "gemini"`, true},
	}
	for _, tt := range tests {
		p, err := New(tt.cfg)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), tt.wantURL) {
				t.Errorf("%+v: error %v, want %q", tt.cfg, err, tt.wantURL)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("password leaked: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tt.cfg, err)
			continue
		}
		var got string
		switch p := p.(type) {
		case *openAI:
			got = p.url
		case *anthropic:
			got = p.url
		}
		if got != tt.wantURL {
			t.Errorf("%+v: url %q, want %q", tt.cfg, got, tt.wantURL)
		}
	}
	if p, err := New(Config{API: APIEcho}); err != nil || p.(*echo).id != "echo" {
		t.Errorf("echo: %v %v", p, err)
	}
}

func TestClientsAreShared(t *testing.T) {
	a := clientFor(Config{})
	if b := clientFor(Config{ConnectTimeout: DefaultConnectTimeout}); a != b {
		t.Error("the default connect timeout got a second client")
	}
	c := clientFor(Config{ConnectTimeout: 3 * time.Second})
	if c == a || clientFor(Config{ConnectTimeout: 3 * time.Second}) != c {
		t.Error("clients are not one per connect timeout")
	}
	own := &http.Client{}
	if clientFor(Config{Client: own}) != own {
		t.Error("Config.Client ignored")
	}
	tr := a.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost != 64 || a.Timeout != 0 {
		t.Errorf("transport not tuned: %d idle per host, timeout %s", tr.MaxIdleConnsPerHost, a.Timeout)
	}
}
