package openai

import (
	"strings"
	"testing"
)

func TestParseAgentModel(t *testing.T) {
	tests := []struct {
		model         string
		id            string
		isDefault, ok bool
	}{
		{"", "", true, true},
		{"   ", "", true, true},
		{"openclaw", "", true, true},
		{"OpenClaw", "", true, true},
		{" openclaw ", "", true, true},
		{"openclaw/default", "", true, true},
		{"openclaw:default", "", true, true},
		{"OPENCLAW/Default", "", true, true},
		{"openclaw/main", "main", false, true},
		{"openclaw:main", "main", false, true},
		{"agent:main", "main", false, true},
		{"Agent:Beta", "beta", false, true},
		{"OpenClaw/Research-2", "research-2", false, true},
		{"openclaw:my_agent", "my_agent", false, true},
		{"agent:" + strings.Repeat("a", 64), strings.Repeat("a", 64), false, true},
		{"openclaw/7", "7", false, true},

		{"gpt-4o", "", false, false},
		{"openai/gpt-4o", "", false, false},
		{"openclaw/", "", false, false},
		{"openclaw:", "", false, false},
		{"agent:", "", false, false},
		{"agent/main", "", false, false},
		{"openclawx", "", false, false},
		{"openclaw/main/extra", "", false, false},
		{"openclaw/-main", "", false, false},
		{"openclaw/_main", "", false, false},
		{"openclaw/ma in", "", false, false},
		{"openclaw/mäin", "", false, false},
		{"agent:" + strings.Repeat("a", 65), "", false, false},
		{"agent:main:extra", "", false, false},
	}
	for _, tt := range tests {
		id, def, ok := ParseAgentModel(tt.model)
		if id != tt.id || def != tt.isDefault || ok != tt.ok {
			t.Errorf("ParseAgentModel(%q) = %q, %v, %v; want %q, %v, %v", tt.model, id, def, ok, tt.id, tt.isDefault, tt.ok)
		}
	}
}
