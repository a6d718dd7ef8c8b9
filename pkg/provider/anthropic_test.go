package provider

import (
	"context"
	"encoding/json"
	"testing"
)

func TestAnthropicResponses(t *testing.T) {
	msgStart := `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-test-1","content":[],"stop_reason":null,"usage":{"input_tokens":12,"cache_read_input_tokens":100,"cache_creation_input_tokens":50,"output_tokens":1}}}`
	tests := []struct {
		name       string
		body       string
		json       bool
		wantDeltas []string
		want       Response
	}{
		{
			name: "text with cache usage",
			body: anSSE(
				"message_start", msgStart,
				"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
				"ping", `{"type":"ping"}`,
				"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`,
				"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`,
				"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}`,
				"content_block_stop", `{"type":"content_block_stop","index":0}`,
				"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}`,
				"message_stop", `{"type":"message_stop"}`,
			),
			wantDeltas: []string{"Hi", "Hi", " there"},
			want:       Response{Text: "HiHi there", StopReason: StopEnd, Model: "claude-test-1", Usage: Usage{Input: 12, Output: 3, CacheRead: 100, CacheWrite: 50}},
		},
		{
			name: "thinking is skipped, max_tokens is length",
			body: anSSE(
				"message_start", msgStart,
				"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`,
				"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`,
				"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`,
				"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"cut"}}`,
				"message_delta", `{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9}}`,
				"message_stop", `{"type":"message_stop"}`,
			),
			wantDeltas: []string{"cut"},
			want:       Response{Text: "cut", StopReason: StopLength, Model: "claude-test-1", Usage: Usage{Input: 12, Output: 9, CacheRead: 100, CacheWrite: 50}},
		},
		{
			name: "parallel tool use in fragments",
			body: anSSE(
				"message_start", `{"type":"message_start","message":{"model":"c","usage":{"input_tokens":5}}}`,
				"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
				"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me look."}}`,
				"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read","input":{}}}`,
				"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}`,
				"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}`,
				"content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_2","name":"ls","input":{}}}`,
				"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":".txt\"}"}}`,
				"content_block_stop", `{"type":"content_block_stop","index":1}`,
				"content_block_stop", `{"type":"content_block_stop","index":2}`,
				"message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40}}`,
				"message_stop", `{"type":"message_stop"}`,
			),
			wantDeltas: []string{"Let me look."},
			want: Response{Text: "Let me look.", StopReason: StopToolCalls, Model: "c", Usage: Usage{Input: 5, Output: 40}, ToolCalls: []ToolCall{
				{ID: "toolu_1", Name: "read", Arguments: `{"path": "a.txt"}`},
				{ID: "toolu_2", Name: "ls", Arguments: `{}`},
			}},
		},
		{
			name: "stop_reason without message_stop is accepted",
			body: anSSE(
				"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}`,
				"message_delta", `{"type":"message_delta","delta":{"stop_reason":"stop_sequence"},"usage":{"output_tokens":1}}`,
			),
			wantDeltas: []string{"ok"},
			want:       Response{Text: "ok", StopReason: StopEnd, Model: "m", Usage: Usage{Output: 1}},
		},
		{
			name:       "a non-streaming message",
			json:       true,
			body:       `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"whole"},{"type":"tool_use","id":"tu","name":"exec","input":{"command":"ls"}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":2}}`,
			wantDeltas: []string{"whole"},
			want:       Response{Text: "whole", StopReason: StopToolCalls, Model: "claude-x", Usage: Usage{Input: 3, Output: 4, CacheRead: 2}, ToolCalls: []ToolCall{{ID: "tu", Name: "exec", Arguments: `{"command":"ls"}`}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sseHandler(tt.body)
			if tt.json {
				h = jsonHandler(200, tt.body, nil)
			}
			f := newFake(t, h)
			p := mustNew(t, Config{ID: "anthropic", API: APIAnthropic, BaseURL: f.URL})
			resp, deltas, err := run(p, context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "deltas", deltas, tt.wantDeltas)
			diff(t, "response", *resp, tt.want)
		})
	}
}

func TestAnthropicRequest(t *testing.T) {
	f := newFake(t, sseHandler(anSSE("message_stop", `{"type":"message_stop"}`)))
	p := mustNew(t, Config{ID: "anthropic", API: APIAnthropic, BaseURL: f.URL + "/v1", APIKey: "sk-ant-secret", Headers: map[string]string{"anthropic-beta": "x-2026"}})
	req := &Request{
		Model:  "claude-test",
		System: "be brief",
		Messages: []Message{
			{Role: "user", Content: "look", Images: []Image{{MIME: "image/jpeg", Data: []byte("JPG")}}},
			{Role: "assistant", Content: "reading", ToolCalls: []ToolCall{{ID: "tu1", Name: "read", Arguments: `{"path":"a"}`}, {ID: "tu2", Name: "ls", Arguments: ``}}},
			{Role: "tool", ToolCallID: "tu1", ToolName: "read", Content: "file text"},
			{Role: "tool", ToolCallID: "tu2", ToolName: "ls", Content: "no such dir", IsError: true},
			{Role: "user", Content: "and?"},
		},
		Tools:      []ToolDef{{Name: "read", Description: "read a file", Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`)}, {Name: "ls"}},
		ToolChoice: json.RawMessage(`"required"`),
		Params:     Params{Temperature: ptr(0.2), Stop: []string{"END"}, Seed: ptr(int64(1))},
	}
	if _, err := p.Stream(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	got := f.last(t)
	if got.Path != "/v1/messages" {
		t.Errorf("path %q", got.Path)
	}
	for k, want := range map[string]string{"X-Api-Key": "sk-ant-secret", "Anthropic-Version": "2023-06-01", "Anthropic-Beta": "x-2026", "Content-Type": "application/json", "Authorization": ""} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	want := map[string]any{
		"model":                                     "claude-test",
		"stream":                                    true,
		"max_tokens":                                4096.0,
		"system":                                    "be brief",
		"temperature":                               0.2,
		"stop_sequences.0":                          "END",
		"seed":                                      nil,
		"messages.0.role":                           "user",
		"messages.0.content.0.type":                 "image",
		"messages.0.content.0.source.type":          "base64",
		"messages.0.content.0.source.media_type":    "image/jpeg",
		"messages.0.content.0.source.data":          "SlBH",
		"messages.0.content.1.type":                 "text",
		"messages.0.content.1.text":                 "look",
		"messages.1.role":                           "assistant",
		"messages.1.content.0.text":                 "reading",
		"messages.1.content.1.type":                 "tool_use",
		"messages.1.content.1.id":                   "tu1",
		"messages.1.content.1.name":                 "read",
		"messages.1.content.1.input.path":           "a",
		"messages.1.content.2.input":                map[string]any{},
		"messages.2.role":                           "user",
		"messages.2.content.0.type":                 "tool_result",
		"messages.2.content.0.tool_use_id":          "tu1",
		"messages.2.content.0.content":              "file text",
		"messages.2.content.0.is_error":             nil,
		"messages.2.content.1.tool_use_id":          "tu2",
		"messages.2.content.1.is_error":             true,
		"messages.2.content.2.type":                 "text",
		"messages.2.content.2.text":                 "and?",
		"messages.3":                                nil,
		"tools.0.name":                              "read",
		"tools.0.description":                       "read a file",
		"tools.0.input_schema.properties.path.type": "string",
		"tools.1.input_schema.type":                 "object",
		"tool_choice.type":                          "any",
	}
	for path, w := range want {
		diff(t, path, jsonPath(got.Body, path), w)
	}
}

func TestAnthropicMaxTokensGiven(t *testing.T) {
	f := newFake(t, sseHandler(anSSE("message_stop", `{"type":"message_stop"}`)))
	p := mustNew(t, Config{ID: "anthropic", API: APIAnthropic, BaseURL: f.URL})
	if _, err := p.Stream(context.Background(), &Request{Model: "c", Params: Params{MaxTokens: ptr(100)}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := jsonPath(f.last(t).Body, "max_tokens"); got != 100.0 {
		t.Errorf("max_tokens %v", got)
	}
	if _, ok := f.last(t).Header["X-Api-Key"]; ok {
		t.Error("x-api-key sent without a key")
	}
}

func TestAnthropicToolChoice(t *testing.T) {
	tests := map[string]string{
		``:           ``,
		`"auto"`:     `{"type":"auto"}`,
		`"required"`: `{"type":"any"}`,
		`"none"`:     `{"type":"none"}`,
		`"bogus"`:    ``,
		`{"type":"function","function":{"name":"read"}}`: `{"name":"read","type":"tool"}`,
		`{"type":"tool","name":"ls"}`:                    `{"name":"ls","type":"tool"}`,
		`{"type":"function"}`:                            ``,
		`[1]`:                                            ``,
	}
	for in, want := range tests {
		if got := string(anToolChoice(json.RawMessage(in))); got != want {
			t.Errorf("anToolChoice(%s) = %s, want %s", in, got, want)
		}
	}
}
