package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestOpenAIResponses(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantDeltas []string
		want       Response
	}{
		{
			name: "text deltas, usage with cache",
			handler: sseHandler(oaSSE(
				`{"id":"c1","model":"gpt-x-2026","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
				`{"choices":[{"index":0,"delta":{"content":"Hel"}}]}`,
				`{"choices":[{"index":0,"delta":{"content":"lo"}}]}`,
				`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
				`{"choices":[],"usage":{"prompt_tokens":120,"completion_tokens":2,"total_tokens":122,"prompt_tokens_details":{"cached_tokens":100}}}`,
			)),
			wantDeltas: []string{"Hel", "lo"},
			want:       Response{Text: "Hello", StopReason: StopEnd, Model: "gpt-x-2026", Usage: Usage{Input: 20, Output: 2, CacheRead: 100}},
		},
		{
			name: "identical deltas are not merged",
			handler: sseHandler(oaSSE(
				`{"choices":[{"index":0,"delta":{"content":"ha"}}]}`,
				`{"choices":[{"index":0,"delta":{"content":"ha"}}]}`,
				`{"choices":[{"index":0,"delta":{"content":"ha"}}]}`,
				`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			)),
			wantDeltas: []string{"ha", "ha", "ha"},
			want:       Response{Text: "hahaha", StopReason: StopEnd, Model: "m"},
		},
		{
			name:       "crlf line ends and comments",
			handler:    sseHandler(": keep-alive\r\n\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"length\"}]}\r\n\r\ndata: [DONE]\r\n\r\n"),
			wantDeltas: []string{"ok"},
			want:       Response{Text: "ok", StopReason: StopLength, Model: "m"},
		},
		{
			name: "parallel tool calls in fragments",
			handler: sseHandler(oaSSE(
				`{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read","arguments":""}}]}}]}`,
				`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"ls","arguments":"{\"pa"}}]}}]}`,
				`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}}]}`,
				`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.txt\"}"}}]}}]}`,
				`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"th\":\".\"}"}}]}}]}`,
				`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
				`{"choices":[],"usage":{"prompt_tokens":50,"completion_tokens":30}}`,
			)),
			want: Response{StopReason: StopToolCalls, Model: "m", Usage: Usage{Input: 50, Output: 30}, ToolCalls: []ToolCall{
				{ID: "call_a", Name: "read", Arguments: `{"path":"a.txt"}`},
				{ID: "call_b", Name: "ls", Arguments: `{"path":"."}`},
			}},
		},
		{
			name: "tool call without id or arguments, finish stop (ollama)",
			handler: sseHandler(oaSSE(
				`{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"name":"ls"}}]}}]}`,
				`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			)),
			want: Response{StopReason: StopToolCalls, Model: "m", ToolCalls: []ToolCall{{ID: "call_0", Name: "ls", Arguments: "{}"}}},
		},
		{
			name: "no [DONE] after a finish is accepted",
			handler: sseHandler(
				"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\n"),
			wantDeltas: []string{"x"},
			want:       Response{Text: "x", StopReason: StopEnd, Model: "m"},
		},
		{
			name: "other choices are ignored",
			handler: sseHandler(oaSSE(
				`{"choices":[{"index":1,"delta":{"content":"no"}},{"index":0,"delta":{"content":"yes"}}]}`,
				`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			)),
			wantDeltas: []string{"yes"},
			want:       Response{Text: "yes", StopReason: StopEnd, Model: "m"},
		},
		{
			name: "a non-streaming JSON body",
			handler: jsonHandler(200, `{"id":"c","object":"chat.completion","model":"llama3",
				"choices":[{"index":0,"message":{"role":"assistant","content":"whole answer"},"finish_reason":"stop"}],
				"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`, nil),
			wantDeltas: []string{"whole answer"},
			want:       Response{Text: "whole answer", StopReason: StopEnd, Model: "llama3", Usage: Usage{Input: 9, Output: 2}},
		},
		{
			name: "a non-streaming JSON body with tool calls",
			handler: jsonHandler(200, `{"choices":[{"index":0,"message":{"role":"assistant","content":null,
				"tool_calls":[{"id":"t1","type":"function","function":{"name":"exec","arguments":"{\"command\":\"ls\"}"}}]},"finish_reason":"tool_calls"}]}`, nil),
			want: Response{StopReason: StopToolCalls, Model: "m", ToolCalls: []ToolCall{{ID: "t1", Name: "exec", Arguments: `{"command":"ls"}`}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handler)
			p := mustNew(t, Config{ID: "x", API: APIOpenAI, BaseURL: f.URL + "/v1"})
			resp, deltas, err := run(p, context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "deltas", deltas, tt.wantDeltas)
			diff(t, "response", *resp, tt.want)
		})
	}
}

func TestOpenAIRequest(t *testing.T) {
	f := newFake(t, sseHandler(oaSSE(`{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`)))
	p := mustNew(t, Config{
		ID: "x", API: APIOpenAI, BaseURL: f.URL + "/v1/", APIKey: "sk-secret",
		Headers: map[string]string{"X-Title": "openclaw-test", "HTTP-Referer": "https://example.test"},
	})
	req := &Request{
		Model:  "gpt-test",
		System: "be brief",
		Messages: []Message{
			{Role: "user", Content: "look", Images: []Image{{MIME: "image/png", Data: []byte("PNGDATA")}}},
			{Role: "assistant", ToolCalls: []ToolCall{{ID: "c1", Name: "read", Arguments: `{"path":"a"}`}}},
			{Role: "tool", ToolCallID: "c1", ToolName: "read", Content: "file text"},
			{Role: "user", Images: []Image{{Data: []byte("\x89PNG\r\n\x1a\n")}}},
		},
		Tools:      []ToolDef{{Name: "read", Description: "read a file", Parameters: json.RawMessage(`{"type":"object"}`)}},
		ToolChoice: json.RawMessage(`"auto"`),
		Params:     Params{MaxTokens: ptr(64), Temperature: ptr(0.5), Stop: []string{"END"}, Seed: ptr(int64(7))},
	}
	if _, err := p.Stream(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	got := f.last(t)
	if got.Path != "/v1/chat/completions" {
		t.Errorf("path %q", got.Path)
	}
	for k, want := range map[string]string{
		"Authorization": "Bearer sk-secret",
		"Content-Type":  "application/json",
		"X-Title":       "openclaw-test",
		"Http-Referer":  "https://example.test",
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	want := map[string]any{
		"model":                                      "gpt-test",
		"stream":                                     true,
		"stream_options.include_usage":               true,
		"messages.0.role":                            "system",
		"messages.0.content":                         "be brief",
		"messages.1.role":                            "user",
		"messages.1.content.0.type":                  "text",
		"messages.1.content.0.text":                  "look",
		"messages.1.content.1.type":                  "image_url",
		"messages.1.content.1.image_url.url":         "data:image/png;base64,UE5HREFUQQ==",
		"messages.2.role":                            "assistant",
		"messages.2.content":                         nil,
		"messages.2.tool_calls.0.id":                 "c1",
		"messages.2.tool_calls.0.type":               "function",
		"messages.2.tool_calls.0.function.name":      "read",
		"messages.2.tool_calls.0.function.arguments": `{"path":"a"}`,
		"messages.3.role":                            "tool",
		"messages.3.tool_call_id":                    "c1",
		"messages.3.content":                         "file text",
		"messages.4.content.0.type":                  "image_url",
		"messages.4.content.0.image_url.url":         "data:image/png;base64,iVBORw0KGgo=",
		"tools.0.type":                               "function",
		"tools.0.function.name":                      "read",
		"tools.0.function.description":               "read a file",
		"tools.0.function.parameters.type":           "object",
		"tool_choice":                                "auto",
		"max_tokens":                                 64.0,
		"temperature":                                0.5,
		"stop.0":                                     "END",
		"seed":                                       7.0,
	}
	for path, w := range want {
		diff(t, path, jsonPath(got.Body, path), w)
	}
	if _, ok := got.Body["top_p"]; ok {
		t.Error("unset top_p was sent")
	}
	if strings.Contains(string(got.Raw), `"images"`) {
		t.Error("wire-neutral fields leaked into the request")
	}
}

func TestOpenAINoKeyNoAuthorization(t *testing.T) {
	f := newFake(t, sseHandler(oaSSE(`{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`)))
	p := mustNew(t, Config{ID: "ollama", API: APIOpenAI, BaseURL: f.URL + "/v1"})
	if _, err := p.Stream(context.Background(), &Request{Model: "m"}, nil); err != nil {
		t.Fatal(err)
	}
	if v, ok := f.last(t).Header["Authorization"]; ok {
		t.Errorf("Authorization sent without a key: %q", v)
	}
}

func TestOpenAIReusesConnections(t *testing.T) {
	f := newFake(t, sseHandler(oaSSE(`{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`)))
	for range 5 {
		p := mustNew(t, Config{ID: "x", API: APIOpenAI, BaseURL: f.URL + "/v1"})
		if _, err := p.Stream(context.Background(), &Request{Model: "m"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.conns.Load(); n != 1 {
		t.Errorf("5 sequential calls opened %d connections, want 1 (keep-alive)", n)
	}
}
