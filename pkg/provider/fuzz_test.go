package provider

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// fuzzKey is the API key of the fuzzed providers: no error may carry it.
const fuzzKey = "sk-FUZZ-7f3a9c"

// bodyTransport answers every request with one canned response, so a fuzz
// input goes through the provider's real HTTP path without a server.
type bodyTransport struct {
	status     int
	retryAfter string
	body       []byte
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{"Content-Type": {"text/event-stream"}}
	if b.retryAfter != "" {
		h.Set("Retry-After", b.retryAfter)
	}
	return &http.Response{StatusCode: b.status, Header: h, Body: io.NopCloser(bytes.NewReader(b.body)), Request: r}, nil
}

// fuzzStatuses are the statuses a fuzz input picks from (by its first
// argument), 200 most often.
var fuzzStatuses = []int{200, 200, 200, 200, 400, 401, 403, 404, 408, 429, 500, 503, 529, 302}

// fuzzStream runs one fuzz input through a provider of api and checks what
// must hold whatever the upstream sends: no panic; a response or an *Error,
// never both or neither; the deltas are the response text, in order, none
// empty; tool calls have arguments; the stop reason is one of ours; errors
// have a kind, are short and never carry the API key.
func fuzzStream(t *testing.T, api string, sel uint8, retryAfter string, body []byte) {
	tr := bodyTransport{status: fuzzStatuses[int(sel)%len(fuzzStatuses)], retryAfter: retryAfter, body: body}
	p, err := New(Config{ID: "fz", API: api, BaseURL: "http://upstream.invalid/v1", APIKey: fuzzKey, Client: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	var deltas strings.Builder
	resp, err := p.Stream(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}}, func(s string) {
		if s == "" {
			t.Error("empty delta")
		}
		deltas.WriteString(s)
	})
	if (resp == nil) == (err == nil) {
		t.Fatalf("response %v and error %v", resp, err)
	}
	if err != nil {
		pe, ok := AsError(err)
		if !ok {
			t.Fatalf("not an *Error: %T %v", err, err)
		}
		switch pe.Kind {
		case ErrAuth, ErrRateLimit, ErrOverloaded, ErrTimeout, ErrConnection, ErrBadRequest, ErrBadResponse, ErrCanceled:
		default:
			t.Fatalf("error kind %q", pe.Kind)
		}
		if msg := err.Error(); len(msg) > 1024 || strings.Contains(msg, fuzzKey) {
			t.Fatalf("error message of %d bytes (key in it: %v)", len(msg), strings.Contains(msg, fuzzKey))
		}
		if pe.RetryAfter < 0 {
			t.Fatalf("negative Retry-After %v from %q", pe.RetryAfter, retryAfter)
		}
		if tr.status != 200 && pe.Status != tr.status {
			t.Fatalf("status %d reported as %d", tr.status, pe.Status)
		}
		return
	}
	if tr.status != 200 {
		t.Fatalf("a %d answered %+v", tr.status, resp)
	}
	if resp.Text != deltas.String() {
		t.Fatalf("text %q, deltas %q", resp.Text, deltas.String())
	}
	switch resp.StopReason {
	case StopEnd, StopLength:
		if len(resp.ToolCalls) > 0 {
			t.Fatalf("tool calls with stop reason %q", resp.StopReason)
		}
	case StopToolCalls:
	default:
		t.Fatalf("stop reason %q", resp.StopReason)
	}
	for _, c := range resp.ToolCalls {
		if strings.TrimSpace(c.Arguments) == "" {
			t.Fatalf("tool call %+v without arguments", c)
		}
	}
}

// FuzzOpenAIStream feeds any upstream answer to the OpenAI-compatible
// parser: event streams, whole JSON completions, error bodies.
func FuzzOpenAIStream(f *testing.F) {
	for _, s := range []string{
		oaSSE(`{"choices":[{"index":0,"delta":{"role":"assistant"}}]}`, `{"choices":[{"index":0,"delta":{"content":"Hi"}}]}`, `{"choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3}}}`),
		oaSSE(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"read","arguments":""}}]}}]}`, `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":\"a\"}"}}]}}]}`, `{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`),
		oaSSE(`{"choices":[{"index":1,"delta":{"content":"other choice"}}]}`, `{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"length"}]}`),
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\r\n\r\n: comment\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\ndata: [DONE]\r\n\r\n",
		"data: {\"choices\":\ndata: [{\"index\":0,\"finish_reason\":\"stop\"}]}\n\n",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"cut",
		"data: {\"error\":{\"message\":\"overloaded sk-FUZZ-7f3a9c\",\"type\":\"server_error\"}}\n\n",
		"data: not json\n\n",
		"data: [DONE]\n\n",
		"event: ping\nid: 1\nretry: 5\n\n",
		"",
		`{"id":"x","model":"gpt","choices":[{"index":0,"message":{"role":"assistant","content":"whole","tool_calls":[{"id":"t","type":"function","function":{"name":"ls","arguments":""}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`,
		`{"error":{"message":"Incorrect API key provided: sk-FUZZ-7f3a9c","type":"invalid_request_error","code":"invalid_api_key"}}`,
		`{"choices":[]}`,
		`{"error":"plain"}`,
	} {
		f.Add(uint8(0), "", []byte(s))
	}
	f.Add(uint8(9), "7", []byte(`{"error":{"message":"slow down","type":"rate_limit_error"}}`))
	f.Add(uint8(9), "Wed, 21 Oct 2065 07:28:00 GMT", []byte(`{"error":{"message":"slow down"}}`))
	f.Add(uint8(9), "1e300", []byte(`{"error":{"message":"slow down"}}`))
	f.Add(uint8(9), "-5", []byte(`{"error":{"message":"slow down"}}`))
	f.Add(uint8(10), "", []byte("<html>502 Bad Gateway</html>"))
	f.Add(uint8(13), "", []byte(""))
	f.Fuzz(func(t *testing.T, sel uint8, retryAfter string, body []byte) {
		fuzzStream(t, APIOpenAI, sel, retryAfter, body)
	})
}

// FuzzAnthropicStream does the same for the Anthropic messages parser.
func FuzzAnthropicStream(f *testing.F) {
	for _, s := range []string{
		anSSE(
			"message_start", `{"type":"message_start","message":{"model":"claude","usage":{"input_tokens":12,"cache_read_input_tokens":100,"cache_creation_input_tokens":50}}}`,
			"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
			"ping", `{"type":"ping"}`,
			"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`,
			"content_block_stop", `{"type":"content_block_stop","index":0}`,
			"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}`,
			"message_stop", `{"type":"message_stop"}`,
		),
		anSSE(
			"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read","input":{}}}`,
			"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}`,
			"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":".txt\"}"}}`,
			"content_block_delta", `{"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"orphan"}}`,
			"message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40,"input_tokens":3}}`,
			"message_stop", `{"type":"message_stop"}`,
		),
		anSSE(
			"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`,
			"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`,
			"message_delta", `{"type":"message_delta","delta":{"stop_reason":"max_tokens"}}`,
		),
		anSSE("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
		anSSE("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"half"}}`),
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":nul",
		"data: {}\n\n",
		"data: [DONE]\n\n",
		`{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"whole"},{"type":"tool_use","id":"tu","name":"exec","input":{"command":"ls"}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}`,
		`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-FUZZ-7f3a9c"}}`,
		`{"type":"message","content":null}`,
		`{"type":"mystery"}`,
	} {
		f.Add(uint8(0), "", []byte(s))
	}
	f.Add(uint8(12), "30", []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	f.Add(uint8(4), "", []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}`))
	f.Fuzz(func(t *testing.T, sel uint8, retryAfter string, body []byte) {
		fuzzStream(t, APIAnthropic, sel, retryAfter, body)
	})
}
