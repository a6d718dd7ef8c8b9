package session

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestMainKey(t *testing.T) {
	tests := []struct {
		agent, main, want string
	}{
		{"main", "main", "agent:main:main"},
		{"Ops", "main", "agent:ops:main"},
		{"ops", "", "agent:ops:main"},
		{"ops", "home", "agent:ops:home"},
	}
	for _, tt := range tests {
		if got := MainKey(tt.agent, tt.main); got != tt.want {
			t.Errorf("MainKey(%q, %q) = %q, want %q", tt.agent, tt.main, got, tt.want)
		}
	}
}

func TestExplicitKey(t *testing.T) {
	tests := []struct {
		agent, id, want string
	}{
		{"main", "abc", "agent:main:explicit:abc"},
		{"OPS", "Run-1", "agent:ops:explicit:Run-1"},
	}
	for _, tt := range tests {
		if got := ExplicitKey(tt.agent, tt.id); got != tt.want {
			t.Errorf("ExplicitKey(%q, %q) = %q, want %q", tt.agent, tt.id, got, tt.want)
		}
	}
}

func TestScopedKey(t *testing.T) {
	tests := []struct {
		name, agent, raw string
		want             string
		err              error
	}{
		{"plain value scoped", "main", "my-chat", "agent:main:my-chat", nil},
		{"value with colons scoped", "main", "a:b:c", "agent:main:a:b:c", nil},
		{"agent id lowercased when scoping", "Ops", "x", "agent:ops:x", nil},
		{"value trimmed", "main", "  x  ", "agent:main:x", nil},
		{"full key kept", "main", "agent:ops:thread-1", "agent:ops:thread-1", nil},
		{"full key id lowercased", "main", "agent:OPS:Thread", "agent:ops:Thread", nil},
		{"full key prefix case", "main", "AGENT:ops:x", "agent:ops:x", nil},
		{"full key other agent kept", "main", "agent:other:main", "agent:other:main", nil},
		{"agent prefix without rest is a value", "main", "agent:ops", "agent:main:agent:ops", nil},
		{"agent prefix with empty id is a value", "main", "agent::x", "agent:main:agent::x", nil},
		{"empty", "main", "", "", ErrEmptyKey},
		{"blank", "main", "   ", "", ErrEmptyKey},
		{"subagent value", "main", "subagent:x", "", ErrReservedKey},
		{"cron value", "main", "cron:nightly", "", ErrReservedKey},
		{"cron value any case", "main", "CRON:nightly", "", ErrReservedKey},
		{"subagent in full key", "main", "agent:main:subagent:x", "", ErrReservedKey},
		{"cron in full key", "main", "agent:ops:cron:x", "", ErrReservedKey},
		{"cron word not prefix", "main", "my-cron:x", "agent:main:my-cron:x", nil},
		{"cron without colon", "main", "cronjob", "agent:main:cronjob", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ScopedKey(tt.agent, tt.raw)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ScopedKey(%q, %q) = %q, %v; want error %v", tt.agent, tt.raw, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ScopedKey(%q, %q) = %q, %v; want %q", tt.agent, tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestUserKey(t *testing.T) {
	tests := []struct {
		agent, ns, user, want string
	}{
		{"main", "openai", "Alice", "agent:main:openai-user:alice"},
		{"Ops", "openai", "bob@example.com", "agent:ops:openai-user:bob@example.com"},
		{"main", "ws", "ÄRGER", "agent:main:ws-user:ärger"},
	}
	for _, tt := range tests {
		if got := UserKey(tt.agent, tt.ns, tt.user); got != tt.want {
			t.Errorf("UserKey(%q, %q, %q) = %q, want %q", tt.agent, tt.ns, tt.user, got, tt.want)
		}
	}
}

func TestRandomKey(t *testing.T) {
	re := regexp.MustCompile(`^agent:ops:openai:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := RandomKey("OPS", "openai"), RandomKey("ops", "openai")
	for _, k := range []string{a, b} {
		if !re.MatchString(k) {
			t.Errorf("RandomKey = %q, want agent:ops:openai:<uuid v4>", k)
		}
	}
	if a == b {
		t.Errorf("two RandomKeys are equal: %q", a)
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		key      string
		id, rest string
		ok       bool
	}{
		{"agent:main:main", "main", "main", true},
		{"agent:Ops:explicit:x", "ops", "explicit:x", true},
		{"Agent:ops:x", "ops", "x", true},
		{"agent:ops:a:b:c", "ops", "a:b:c", true},
		{"agent:ops:", "", "", false},
		{"agent:ops", "", "", false},
		{"agent::x", "", "", false},
		{"agent:", "", "", false},
		{"agen", "", "", false},
		{"main", "", "", false},
		{"", "", "", false},
		{"session:ops:x", "", "", false},
	}
	for _, tt := range tests {
		id, rest, ok := ParseKey(tt.key)
		if id != tt.id || rest != tt.rest || ok != tt.ok {
			t.Errorf("ParseKey(%q) = %q, %q, %v; want %q, %q, %v", tt.key, id, rest, ok, tt.id, tt.rest, tt.ok)
		}
	}
}

func TestValidIDs(t *testing.T) {
	agents := []struct {
		id string
		ok bool
	}{
		{"main", true}, {"a", true}, {"ops-2_x", true}, {"0day", true},
		{"", false}, {"Main", false}, {"-x", false}, {"a/b", false}, {"..", false}, {"a.b", false},
		{"a234567890123456789012345678901234567890123456789012345678901234", true},
		{"a2345678901234567890123456789012345678901234567890123456789012345", false},
	}
	for _, tt := range agents {
		if got := ValidAgentID(tt.id); got != tt.ok {
			t.Errorf("ValidAgentID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
	sessions := []struct {
		id string
		ok bool
	}{
		{"0b6f3f9e-3c1a-4c52-9d0e-6f8a3b2c1d4e", true}, {"My.Session_2", true}, {"x", true},
		{"", false}, {".hidden", false}, {"..", false}, {"a/b", false}, {`a\b`, false},
		{"a b", false}, {"-rf", false}, {"a\x00", false},
	}
	for _, tt := range sessions {
		if got := ValidSessionID(tt.id); got != tt.ok {
			t.Errorf("ValidSessionID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}

func TestKeyForAgent(t *testing.T) {
	for _, tc := range []struct{ agent, raw, want, err string }{
		{"main", "x", "agent:main:x", ""},
		{"main", "agent:main:x", "agent:main:x", ""},
		{"Main", "AGENT:MAIN:x", "agent:main:x", ""},
		{"main", "agent:work:x", "", `"agent:work:x" is a session of agent "work", not "main"`},
		{"main", "cron:x", "", "reserved"},
	} {
		got, err := KeyForAgent(tc.agent, tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("KeyForAgent(%q, %q) err = %v, want %q", tc.agent, tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("KeyForAgent(%q, %q) = %q, %v; want %q", tc.agent, tc.raw, got, err, tc.want)
		}
	}
}

func TestScopedKeyLength(t *testing.T) {
	if _, err := ScopedKey("main", strings.Repeat("k", MaxKeyBytes)); err != nil {
		t.Fatalf("a key of the maximum length: %v", err)
	}
	_, err := ScopedKey("main", strings.Repeat("k", MaxKeyBytes+1))
	if err == nil || err.Error() != "session key too long: at most 512 bytes, received 513" {
		t.Fatalf("err = %v", err)
	}
}
