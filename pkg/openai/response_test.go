package openai

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

func TestErrorJSON(t *testing.T) {
	tests := []struct {
		name   string
		err    *Error
		status int
		want   string
	}{
		{"invalid request", InvalidRequest("stream: expected boolean, received string", "stream"), 400,
			`{"error":{"message":"stream: expected boolean, received string","type":"invalid_request_error","param":"stream","code":null}}`},
		{"no param", InvalidRequest("bad", ""), 400,
			`{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`},
		{"not found", NotFound("Not found: GET /x"), 404,
			`{"error":{"message":"Not found: GET /x","type":"not_found_error","param":null,"code":null}}`},
		{"unauthorized", Unauthorized(), 401,
			`{"error":{"message":"Unauthorized","type":"unauthorized","param":null,"code":null}}`},
		{"auth locked", AuthLocked(), 429,
			`{"error":{"message":"Too many failed authentication attempts. Please try again later.","type":"rate_limited","param":null,"code":null}}`},
		{"payload too large", PayloadTooLarge(), 413,
			`{"error":{"message":"Payload too large","type":"invalid_request_error","param":null,"code":null}}`},
		{"request timeout", RequestTimeout(), 408,
			`{"error":{"message":"Request body timeout","type":"invalid_request_error","param":null,"code":null}}`},
		{"invalid model", InvalidModel(), 400,
			"{\"error\":{\"message\":\"Invalid `model`. Use `openclaw` or `openclaw/\\u003cagentId\\u003e`.\",\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":null}}"},
		{"unknown agent", UnknownAgent("beta"), 400,
			`{"error":{"message":"Unknown agent 'beta'.","type":"invalid_request_error","param":null,"code":null}}`},
		{"unknown model", UnknownModel("openai/gpt-9"), 404,
			`{"error":{"message":"Unknown model: openai/gpt-9","type":"invalid_request_error","param":null,"code":"model_not_found"}}`},
		{"missing user message", MissingUserMessage(), 400,
			"{\"error\":{\"message\":\"Missing user message in `messages`.\",\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":null}}"},
		{"internal", Internal(), 500,
			`{"error":{"message":"internal error","type":"api_error","param":null,"code":null}}`},
		{"upstream", Upstream(), 502,
			`{"error":{"message":"upstream provider error","type":"api_error","param":null,"code":null}}`},
		{"upstream auth", UpstreamAuth(), 502,
			`{"error":{"message":"upstream provider rejected the gateway's credentials; check the provider's API key in the gateway's config","type":"api_error","param":null,"code":null}}`},
		{"upstream timeout", UpstreamTimeout(), 504,
			`{"error":{"message":"upstream provider timed out","type":"api_error","param":null,"code":null}}`},
		{"upstream rate limited", UpstreamRateLimited(), 429,
			`{"error":{"message":"upstream provider rate limit reached; try again later","type":"rate_limit_error","param":null,"code":null}}`},
		{"escaping", &Error{Status: 400, Message: "a \"quoted\" <tag>\n", Type: "t"}, 400,
			`{"error":{"message":"a \"quoted\" \u003ctag\u003e\n","type":"t","param":null,"code":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err.Status != tt.status {
				t.Errorf("Status = %d, want %d", tt.err.Status, tt.status)
			}
			if tt.err.Error() != tt.err.Message {
				t.Errorf("Error() = %q", tt.err.Error())
			}
			got, err := json.Marshal(tt.err)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("json.Marshal\n got %s\nwant %s", got, tt.want)
			}
			body, _ := json.Marshal(tt.err.Body())
			if string(body) != tt.want {
				t.Errorf("Body()\n got %s\nwant %s", body, tt.want)
			}
		})
	}
}

func TestNewCompletionID(t *testing.T) {
	re := regexp.MustCompile(`^chatcmpl-[A-Z2-7]{26}$`)
	a, b := NewCompletionID(), NewCompletionID()
	if !re.MatchString(a) || !re.MatchString(b) || a == b {
		t.Errorf("ids %q, %q", a, b)
	}
}

func TestUsageFrom(t *testing.T) {
	got := UsageFrom(provider.Usage{Input: 10, Output: 5, CacheRead: 100, CacheWrite: 7})
	if want := (Usage{PromptTokens: 110, CompletionTokens: 5, TotalTokens: 115}); got != want {
		t.Errorf("UsageFrom = %+v, want %+v", got, want)
	}
}

func TestNewChatCompletion(t *testing.T) {
	u := provider.Usage{Input: 3, Output: 2}
	tests := []struct {
		name  string
		model string
		r     Reply
		want  string
	}{
		{"text", "openclaw/main", Reply{Text: "Hello!", Usage: u},
			`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"openclaw/main","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`},
		{"default model and empty reply", "", Reply{},
			`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"openclaw","choices":[{"index":0,"message":{"role":"assistant","content":"No response from OpenClaw."},"finish_reason":"stop"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`},
		{"length", "m", Reply{Text: "cut", FinishReason: FinishLength},
			`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"cut"},"finish_reason":"length"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`},
		{"tool calls without text", "m", Reply{ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
			`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`},
		{"tool calls with text", "m", Reply{Text: "Let me check.", ToolCalls: []provider.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}},
			`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Let me check.","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(NewChatCompletion("chatcmpl-1", tt.model, 1700000000, tt.r))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("\n got %s\nwant %s", b, tt.want)
			}
		})
	}
}

// TestStreamSequence checks every event of a stream byte for byte.
func TestStreamSequence(t *testing.T) {
	s := NewStream("chatcmpl-1", "", 1700000000)
	var b []byte
	b = s.AppendRole(b)
	b = s.AppendDelta(b, "Hel")
	b = s.AppendDelta(b, "lo <b>\n")
	b = s.AppendToolCalls(b, []provider.ToolCall{{ID: "c1", Name: "f", Arguments: `{"a":1}`}, {ID: "c2", Name: "g", Arguments: ""}})
	b = s.AppendFinish(b, "")
	b = s.AppendUsage(b, provider.Usage{Input: 4, Output: 2, CacheRead: 1})
	b = AppendStreamError(b, Upstream())
	b = AppendDone(b)
	head := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"openclaw",`
	want := head + `"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}` + "\n\n" +
		head + `"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}` + "\n\n" +
		head + `"choices":[{"index":0,"delta":{"content":"lo \u003cb\u003e\n"},"finish_reason":null}]}` + "\n\n" +
		head + `"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}` + "\n\n" +
		head + `"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]},"finish_reason":null}]}` + "\n\n" +
		head + `"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"g","arguments":""}}]},"finish_reason":null}]}` + "\n\n" +
		head + `"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":""}}]},"finish_reason":null}]}` + "\n\n" +
		head + `"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
		head + `"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}` + "\n\n" +
		`data: {"error":{"message":"upstream provider error","type":"api_error"}}` + "\n\n" +
		"data: [DONE]\n\n"
	if string(b) != want {
		t.Errorf("stream\n got %s\nwant %s", b, want)
	}
	for _, ev := range strings.Split(strings.TrimSuffix(string(b), "\n\n"), "\n\n") {
		ev = strings.TrimPrefix(ev, "data: ")
		if ev != "[DONE]" && !json.Valid([]byte(ev)) {
			t.Errorf("invalid JSON event %s", ev)
		}
	}
	lit := &Stream{ID: "x", Created: 2, Model: "m"} // built without NewStream
	if got, want := string(lit.AppendRole(nil)), `data: {"id":"x","object":"chat.completion.chunk","created":2,"model":"m","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}`+"\n\n"; got != want {
		t.Errorf("literal stream\n got %s\nwant %s", got, want)
	}
	if got := string(s.AppendFinish(nil, FinishToolCalls)); !strings.Contains(got, `"finish_reason":"tool_calls"}`) {
		t.Errorf("finish tool_calls: %s", got)
	}
}

// marshalEvent is the reference AppendChunk must match: the event built
// with encoding/json.
func marshalEvent(t testing.TB, c *Chunk) string {
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return "data: " + string(b) + "\n\n"
}

func TestAppendChunkMatchesMarshal(t *testing.T) {
	stop := "stop"
	idx := 0
	chunks := []*Chunk{
		{ID: "a", Object: ObjectChunk, Created: 1, Model: "m", Choices: []ChunkChoice{{Delta: Delta{Role: "assistant"}}}},
		{ID: "a", Object: ObjectChunk, Created: 1, Model: "m", Choices: []ChunkChoice{{Delta: Delta{Content: "x\u2028y\x00\xff&"}}}},
		{ID: "a", Object: ObjectChunk, Created: 1, Model: "m", Choices: []ChunkChoice{{Delta: Delta{Role: "assistant", Content: "both"}}}},
		{ID: "a", Object: ObjectChunk, Created: -1, Model: "m", Choices: []ChunkChoice{{Index: 2, Delta: Delta{}, FinishReason: &stop}}},
		{ID: "a", Object: ObjectChunk, Created: 1, Model: "m", Choices: []ChunkChoice{}, Usage: &Usage{1, 2, 3}},
		{ID: "a", Object: ObjectChunk, Created: 1, Model: "m", Choices: []ChunkChoice{{Delta: Delta{ToolCalls: []ToolCall{
			{Index: &idx, ID: "c", Type: "function", Function: FunctionCall{Name: "f", Arguments: "{}"}},
			{Function: FunctionCall{Arguments: "more"}},
		}}}}},
		{ID: "a", Object: ObjectChunk, Created: 1, Model: "m", Choices: []ChunkChoice{{Delta: Delta{Role: "assistant"}}, {Index: 1, Delta: Delta{Content: "c"}}}},
	}
	for i, c := range chunks {
		if got, want := string(AppendChunk(nil, c)), marshalEvent(t, c); got != want {
			t.Errorf("chunk %d\n got %s\nwant %s", i, got, want)
		}
	}
	// nil choices and an empty object still give a valid usage chunk.
	got := string(AppendChunk(nil, &Chunk{ID: "a", Created: 1, Model: "m", Usage: &Usage{}}))
	if want := `data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}` + "\n\n"; got != want {
		t.Errorf("nil choices\n got %s\nwant %s", got, want)
	}
}

func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, s := range []string{"", "plain", `"\`, "\b\f\n\r\t\x01\x1f\x7f", "<>&", "é😀", "\u2028\u2029", "\xff\xfe", "a\xc3", "\xed\xa0\x80"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\u2028", "\xff", "\x00\n", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestModelList(t *testing.T) {
	l := NewModelList([]string{"main", "beta", "default", "main", ""})
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	m := func(id string) string {
		return `{"id":"` + id + `","object":"model","created":0,"owned_by":"openclaw","permission":[]}`
	}
	want := `{"object":"list","data":[` + m("openclaw") + "," + m("openclaw/default") + "," + m("openclaw/main") + "," + m("openclaw/beta") + `]}`
	if string(b) != want {
		t.Errorf("\n got %s\nwant %s", b, want)
	}
	if got, ok := l.Find("openclaw/beta"); !ok || got.ID != "openclaw/beta" {
		t.Errorf("Find(openclaw/beta) = %+v, %v", got, ok)
	}
	if _, ok := l.Find("openclaw/nope"); ok {
		t.Error("Find(openclaw/nope) found")
	}
	b, _ = json.Marshal(NewModelList(nil))
	if want := `{"object":"list","data":[` + m("openclaw") + "," + m("openclaw/default") + `]}`; string(b) != want {
		t.Errorf("no agents\n got %s\nwant %s", b, want)
	}
}
