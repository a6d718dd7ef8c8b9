package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// rsTurn is one scripted model answer: deltas (joined, the text), client
// tool calls, a stop reason, or a failure.
type rsTurn struct {
	deltas []string
	calls  []provider.ToolCall
	stop   string
	err    error
}

// rsModel answers model calls with its turns in order (the last repeats)
// and keeps every request it got.
type rsModel struct {
	mu    sync.Mutex
	turns []rsTurn
	reqs  []provider.Request
}

func (m *rsModel) Stream(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	m.mu.Lock()
	r := *req
	r.Messages = append([]provider.Message(nil), req.Messages...)
	m.reqs = append(m.reqs, r)
	t := m.turns[min(len(m.reqs), len(m.turns))-1]
	m.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	for _, d := range t.deltas {
		onDelta(d)
	}
	stop := t.stop
	if stop == "" {
		stop = provider.StopEnd
		if len(t.calls) > 0 {
			stop = provider.StopToolCalls
		}
	}
	return &provider.Response{Text: strings.Join(t.deltas, ""), ToolCalls: t.calls, StopReason: stop, Usage: provider.Usage{Input: 7, Output: 2, CacheRead: 1}}, nil
}

func (m *rsModel) requests() []provider.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]provider.Request(nil), m.reqs...)
}

func rsServer(t *testing.T, m provider.Provider, edit func(*config.Config)) (*Server, *syncBuffer) {
	t.Helper()
	return newTestServer(t, m, func(c *config.Config) {
		c.Gateway.HTTP.Endpoints.Responses.Enabled = true
		if edit != nil {
			edit(c)
		}
	})
}

func rsPost(s http.Handler, body string, hdr ...string) *httptest.ResponseRecorder {
	return do(s, http.MethodPost, "/v1/responses", body, append([]string{"Authorization", "Bearer t0k"}, hdr...)...)
}

// rsDecode decodes a response body, failing the test on anything else.
func rsDecode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return v
}

func rsErr(status int, msg, param, code string) string {
	typ := "invalid_request_error"
	if status == 404 && code == "" {
		typ = "not_found_error"
	}
	orNull := func(v string) string {
		if v == "" {
			return "null"
		}
		return fmt.Sprintf("%q", v)
	}
	m, _ := json.Marshal(msg)
	return fmt.Sprintf(`{"error":{"message":%s,"type":%q,"param":%s,"code":%s}}`, m, typ, orNull(param), orNull(code))
}

func TestResponsesChecksInOrder(t *testing.T) {
	s, _ := rsServer(t, &rsModel{turns: []rsTurn{{deltas: []string{"ok"}}}}, func(c *config.Config) {
		c.Gateway.HTTP.Endpoints.Responses.MaxBodyBytes = 300
		c.Agents.Defaults.Models = map[string]config.ModelAlias{"fake/m": {}}
	})
	const hi = `{"model":"openclaw","input":"hi"}`
	tests := []struct {
		name   string
		method string
		body   string
		hdr    []string
		status int
		want   string // the error body, or "" for 200
	}{
		{"no auth", "POST", hi, []string{"Authorization", ""}, 401, `{"error":{"message":"Unauthorized","type":"unauthorized","param":null,"code":null}}`},
		{"wrong method before auth", "GET", "", []string{"Authorization", ""}, 405, `{"error":{"message":"Method GET is not allowed on /v1/responses. Allowed: POST.","type":"invalid_request_error","param":null,"code":null}}`},
		{"too large before JSON", "POST", `{"x":"` + strings.Repeat("a", 400) + `"}`, nil, 413, `{"error":{"message":"Payload too large","type":"invalid_request_error","param":null,"code":null}}`},
		{"invalid JSON", "POST", `{"model":`, nil, 400, rsErr(400, "invalid JSON body: unexpected end of JSON input (at byte 9)", "", "")},
		{"unknown field", "POST", `{"model":"nope","messages":[]}`, nil, 400, rsErr(400, "Unknown parameter: 'messages'.", "messages", "unknown_parameter")},
		{"wrong type before a bad model", "POST", `{"model":"nope","stream":1}`, nil, 400, rsErr(400, "stream: expected boolean, received number", "stream", "")},
		{"range before a bad model", "POST", `{"model":"nope","temperature":3}`, nil, 400, rsErr(400, "temperature: must be between 0 and 2, received 3", "temperature", "")},
		{"model required", "POST", `{"input":"hi"}`, nil, 400, rsErr(400, "model: required", "model", "")},
		{"invalid model", "POST", `{"model":"gpt-4o","input":"hi"}`, nil, 400, rsErr(400, "Invalid `model`. Use `openclaw` or `openclaw/<agentId>`.", "model", "")},
		{"unknown agent", "POST", `{"model":"openclaw/ghost","input":"hi"}`, nil, 400, rsErr(400, "Unknown agent 'ghost'.", "", "")},
		{"unknown agent by header", "POST", hi, []string{"x-openclaw-agent-id", "Ghost"}, 400, rsErr(400, "Unknown agent 'ghost'.", "", "")},
		{"unknown previous response", "POST", `{"model":"openclaw","input":"hi","previous_response_id":"resp_nope"}`, nil, 404, rsErr(404, "Previous response with id 'resp_nope' not found.", "previous_response_id", "previous_response_not_found")},
		{"reserved session key", "POST", hi, []string{"x-openclaw-session-key", "cron:x"}, 400, rsErr(400, `x-openclaw-session-key: session key namespace "cron:" is reserved; choose a key that does not start with it`, "", "")},
		{"model override outside the allowlist", "POST", hi, []string{"x-openclaw-model", "other/x"}, 404, `{"error":{"message":"Unknown model: other/x","type":"invalid_request_error","param":null,"code":"model_not_found"}}`},
		{"remote image", "POST", `{"model":"openclaw","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}`, nil, 400, rsErr(400, "image 1: remote image URLs are not allowed; send the image inline as data:<mime>;base64,<data>", "input", "")},
		{"no user message", "POST", `{"model":"openclaw","input":[{"role":"system","content":"be nice"}]}`, nil, 400, rsErr(400, "Missing user message in `input`.", "input", "")},
		{"no input", "POST", `{"model":"openclaw"}`, nil, 400, rsErr(400, "Missing user message in `input`.", "input", "")},
		{"ok", "POST", hi, nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(s, tt.method, "/v1/responses", tt.body, append([]string{"Authorization", "Bearer t0k"}, tt.hdr...)...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.want != "" && strings.TrimSpace(w.Body.String()) != tt.want {
				t.Errorf("body\n%s\nwant\n%s", w.Body, tt.want)
			}
			if tt.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow %q", w.Header().Get("Allow"))
			}
		})
	}
}

func TestResponsesDisabled(t *testing.T) {
	s, _ := newTestServer(t, &rsModel{turns: []rsTurn{{deltas: []string{"ok"}}}}, nil)
	want := `{"error":{"message":"The responses endpoint is disabled. Enable it with: openclaw config set gateway.http.endpoints.responses.enabled true","type":"not_found_error","param":null,"code":null}}` + "\n"
	for _, method := range []string{"POST", "GET", "DELETE"} {
		// No auth: a disabled endpoint answers 404 before anything else.
		w := do(s, method, "/v1/responses", `{"model":"openclaw","input":"hi"}`)
		if w.Code != 404 || w.Body.String() != want || w.Header().Get("Allow") != "" {
			t.Errorf("%s: %d Allow %q %s", method, w.Code, w.Header().Get("Allow"), w.Body)
		}
		checkCommonHeaders(t, w.Header())
	}
	// Applies live.
	cfg := testConfig()
	cfg.Gateway.HTTP.Endpoints.Responses.Enabled = true
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if w := rsPost(s, `{"model":"openclaw","input":"hi"}`); w.Code != 200 {
		t.Errorf("after enabling: %d %s", w.Code, w.Body)
	}
	if w := do(s, "POST", "/v1/responses/", `{}`, "Authorization", "Bearer t0k"); w.Code != 404 {
		t.Errorf("trailing slash: %d", w.Code)
	}
}

var rsIDs = regexp.MustCompile(`"(resp|msg|fc)_[A-Z2-7]{26}"`)

func TestResponsesCompleted(t *testing.T) {
	m := &rsModel{turns: []rsTurn{{deltas: []string{"Hello ", "there"}}}}
	s, logs := rsServer(t, m, nil)
	body := `{"model":"OpenClaw/Main","instructions":"Be brief.","input":[{"role":"developer","content":"Use English."},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":[{"type":"output_text","text":"4"}]},{"role":"user","content":[{"type":"input_text","text":"And 3+3?"}]}],"max_output_tokens":50,"temperature":0.2,"top_p":0.9,"metadata":{"a":"b"},"store":true}`
	w := rsPost(s, body)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	checkCommonHeaders(t, w.Header())
	got := rsIDs.ReplaceAllString(w.Body.String(), `"${1}_X"`)
	got = regexp.MustCompile(`"created_at":\d+`).ReplaceAllString(got, `"created_at":T`)
	want := `{"id":"resp_X","object":"response","created_at":T,"status":"completed","model":"OpenClaw/Main","output":[{"type":"message","id":"msg_X","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hello there","annotations":[]}]}],"usage":{"input_tokens":8,"output_tokens":2,"total_tokens":10},"error":null,"incomplete_details":null}` + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	reqs := m.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d model calls", len(reqs))
	}
	r := reqs[0]
	if r.System != "You are main, an OpenClaw agent.\n\nBe brief.\n\nUse English." {
		t.Errorf("system %q", r.System)
	}
	wantMsg := "[Chat messages since your last reply - for context]\nUser: What is 2+2?\nAssistant: 4\n\n[Current message - respond to this]\nUser: And 3+3?"
	if len(r.Messages) != 1 || r.Messages[0].Content != wantMsg {
		t.Errorf("messages %+v", r.Messages)
	}
	if *r.Params.MaxTokens != 50 || *r.Params.Temperature != 0.2 || *r.Params.TopP != 0.9 {
		t.Errorf("params %+v", r.Params)
	}
	if strings.Contains(logs.String(), "2+2") {
		t.Error("the log holds the prompt")
	}
}

// sessionOf returns the session keys the runner has for agent main.
func sessionKeys(t *testing.T, s *Server) []string {
	t.Helper()
	entries, err := s.runner.Store().List("main")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Key)
	}
	return keys
}

func TestResponsesSessions(t *testing.T) {
	m := &rsModel{turns: []rsTurn{{deltas: []string{"ok"}}}}
	s, _ := rsServer(t, m, nil)
	w := rsPost(s, `{"model":"openclaw","input":"one","user":"Ann"}`)
	first := rsDecode(t, w)["id"].(string)
	rsPost(s, `{"model":"openclaw","input":"two","user":"ann"}`)
	rsPost(s, `{"model":"openclaw","input":"three"}`, "x-openclaw-session-key", "mine")
	// previous_response_id continues the user's session; the header still wins over it.
	w = rsPost(s, `{"model":"openclaw","input":"four","previous_response_id":"`+first+`"}`)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	fourth := rsDecode(t, w)["id"].(string)
	rsPost(s, `{"model":"openclaw","input":"five","previous_response_id":"`+fourth+`","user":"bob"}`)
	rsPost(s, `{"model":"openclaw","input":"six","previous_response_id":"`+fourth+`"}`, "x-openclaw-session-key", "agent:main:mine")
	rsPost(s, `{"model":"openclaw","input":"seven"}`)

	keys := sessionKeys(t, s)
	var random []string
	fixed := map[string]bool{}
	for _, k := range keys {
		if strings.HasPrefix(k, "agent:main:openresponses:") {
			random = append(random, k)
		} else {
			fixed[k] = true
		}
	}
	if !reflect.DeepEqual(fixed, map[string]bool{"agent:main:openresponses-user:ann": true, "agent:main:mine": true}) || len(random) != 1 {
		t.Errorf("keys %v", keys)
	}
	if !regexp.MustCompile(`^agent:main:openresponses:[0-9a-f-]{36}$`).MatchString(random[0]) {
		t.Errorf("random key %q", random[0])
	}
	// The model saw each session's history: Ann's session has one, two,
	// four and five; the header session three and six.
	var last []string
	for _, msg := range m.requests()[4].Messages {
		last = append(last, msg.Content)
	}
	if want := []string{"one", "ok", "two", "ok", "four", "ok", "five"}; !reflect.DeepEqual(last, want) {
		t.Errorf("history of five %q, want %q", last, want)
	}
	last = nil
	for _, msg := range m.requests()[5].Messages {
		last = append(last, msg.Content)
	}
	if want := []string{"three", "ok", "six"}; !reflect.DeepEqual(last, want) {
		t.Errorf("history of six %q, want %q", last, want)
	}
}

func TestResponsesPreviousResponseOfAnotherAgent(t *testing.T) {
	s, _ := rsServer(t, &rsModel{turns: []rsTurn{{deltas: []string{"ok"}}}}, func(c *config.Config) {
		c.Agents.List = []config.AgentEntry{{ID: "main"}, {ID: "beta"}}
	})
	id := rsDecode(t, rsPost(s, `{"model":"openclaw/beta","input":"hi"}`))["id"].(string)
	w := rsPost(s, `{"model":"openclaw","input":"hi","previous_response_id":"`+id+`"}`)
	want := rsErr(400, "previous_response_id: response '"+id+"' belongs to agent 'beta', not 'main'; send model openclaw/beta", "previous_response_id", "")
	if w.Code != 400 || strings.TrimSpace(w.Body.String()) != want {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

func TestResponsesFunctionCallRoundTrip(t *testing.T) {
	m := &rsModel{turns: []rsTurn{
		{calls: []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		{deltas: []string{"It is sunny."}},
	}}
	s, _ := rsServer(t, m, nil)
	tools := `"tools":[{"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]`
	w := rsPost(s, `{"model":"openclaw","input":"Weather in Oslo?",`+tools+`,"tool_choice":"auto"}`)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	resp := rsDecode(t, w)
	if resp["status"] != "incomplete" || resp["incomplete_details"] != nil {
		t.Errorf("status %v details %v", resp["status"], resp["incomplete_details"])
	}
	out := resp["output"].([]any)
	if len(out) != 1 {
		t.Fatalf("output %v", out)
	}
	fc := out[0].(map[string]any)
	if fc["type"] != "function_call" || fc["call_id"] != "call_1" || fc["name"] != "get_weather" || fc["arguments"] != `{"city":"Oslo"}` || !strings.HasPrefix(fc["id"].(string), "fc_") || fc["status"] != "completed" {
		t.Errorf("function call item %v", fc)
	}
	r0 := m.requests()[0]
	if len(r0.Tools) != 1 || r0.Tools[0].Name != "get_weather" || string(r0.ToolChoice) != `"auto"` {
		t.Errorf("tools offered %+v choice %s", r0.Tools, r0.ToolChoice)
	}

	w = rsPost(s, `{"model":"openclaw","previous_response_id":"`+resp["id"].(string)+`","input":[{"type":"function_call_output","call_id":"call_1","output":"{\"sky\":\"clear\"}"}],`+tools+`}`)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if r := rsDecode(t, w); r["status"] != "completed" || !strings.Contains(w.Body.String(), `"text":"It is sunny."`) {
		t.Errorf("second response %s", w.Body)
	}
	// The model got the call and a real tool result, not a user turn.
	msgs := m.requests()[1].Messages
	want := []provider.Message{
		{Role: "user", Content: "Weather in Oslo?"},
		{Role: "assistant", ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		{Role: "tool", Content: `{"sky":"clear"}`, ToolCallID: "call_1", ToolName: "get_weather"},
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("messages\n%+v\nwant\n%+v", msgs, want)
	}
}

func TestResponsesLengthStop(t *testing.T) {
	s, _ := rsServer(t, &rsModel{turns: []rsTurn{{deltas: []string{"trunc"}, stop: provider.StopLength}}}, nil)
	r := rsDecode(t, rsPost(s, `{"model":"openclaw","input":"hi","max_output_tokens":1}`))
	if r["status"] != "incomplete" || !reflect.DeepEqual(r["incomplete_details"], map[string]any{"reason": "max_output_tokens"}) {
		t.Errorf("%v", r)
	}
}

func TestResponsesFailed(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		code, msg  string
		retryAfter string
	}{
		{"upstream 5xx", &provider.Error{Kind: provider.ErrOverloaded, Status: 503, Message: "secret host down"}, "server_error", "upstream provider error", ""},
		{"upstream 429", &provider.Error{Kind: provider.ErrRateLimit, Status: 429, RetryAfter: 1500 * time.Millisecond}, "rate_limit_exceeded", "upstream provider rate limit reached; try again later", "2"},
		{"upstream timeout", &provider.Error{Kind: provider.ErrTimeout}, "server_error", "upstream provider timed out", ""},
		{"local failure", errors.New("disk on fire"), "server_error", "internal error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := rsServer(t, &rsModel{turns: []rsTurn{{err: tt.err}}}, nil)
			w := rsPost(s, `{"model":"openclaw/main","input":"hi"}`)
			if w.Code != 500 || w.Header().Get("x-should-retry") != "false" || w.Header().Get("Retry-After") != tt.retryAfter {
				t.Fatalf("%d x-should-retry %q Retry-After %q: %s", w.Code, w.Header().Get("x-should-retry"), w.Header().Get("Retry-After"), w.Body)
			}
			got := rsIDs.ReplaceAllString(w.Body.String(), `"${1}_X"`)
			got = regexp.MustCompile(`"created_at":\d+`).ReplaceAllString(got, `"created_at":T`)
			want := fmt.Sprintf(`{"id":"resp_X","object":"response","created_at":T,"status":"failed","model":"openclaw/main","output":[],"usage":null,"error":{"code":%q,"message":%q},"incomplete_details":null}`+"\n", tt.code, tt.msg)
			if got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if strings.Contains(w.Body.String(), "secret") || strings.Contains(w.Body.String(), "fire") {
				t.Error("the cause reached the client")
			}
			if !strings.Contains(logs.String(), "err=") {
				t.Errorf("cause not logged: %s", logs)
			}
		})
	}
	// A failed response cannot be continued.
	s, _ := rsServer(t, &rsModel{turns: []rsTurn{{err: errors.New("x")}}}, nil)
	id := rsDecode(t, rsPost(s, `{"model":"openclaw","input":"hi"}`))["id"].(string)
	if w := rsPost(s, `{"model":"openclaw","input":"hi","previous_response_id":"`+id+`"}`); w.Code != 404 {
		t.Errorf("continuing a failed response: %d", w.Code)
	}
}

// rsEvents splits a stream into its events: type and decoded data; [DONE]
// is the type "[DONE]".
func rsEvents(t *testing.T, body string) ([]string, []map[string]any) {
	t.Helper()
	var types []string
	var datas []map[string]any
	for _, ev := range strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n") {
		if ev == "data: [DONE]" {
			types = append(types, "[DONE]")
			datas = append(datas, nil)
			continue
		}
		lines := strings.Split(ev, "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
			t.Fatalf("malformed event %q", ev)
		}
		typ := strings.TrimPrefix(lines[0], "event: ")
		var d map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "data: ")), &d); err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		if d["type"] != typ {
			t.Errorf("event %s has type %v", typ, d["type"])
		}
		if d["sequence_number"] != float64(len(types)) {
			t.Errorf("event %d (%s) has sequence_number %v", len(types), typ, d["sequence_number"])
		}
		types = append(types, typ)
		datas = append(datas, d)
	}
	return types, datas
}

func TestResponsesStream(t *testing.T) {
	tests := []struct {
		name  string
		turns []rsTurn
		types []string
		text  string
		final string
	}{
		{"text", []rsTurn{{deltas: []string{"Hel", "lo", "lo"}}}, []string{
			"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
			"response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
			"response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed", "[DONE]",
		}, "Hellolo", "completed"},
		{"no text", []rsTurn{{}}, []string{
			"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
			"response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed", "[DONE]",
		}, "No response from OpenClaw.", "completed"},
		{"function call", []rsTurn{{calls: []provider.ToolCall{{ID: "c1", Name: "f", Arguments: `{"a":1}`}}}}, []string{
			"response.created", "response.in_progress",
			"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
			"response.incomplete", "[DONE]",
		}, "", "incomplete"},
		{"text then function call", []rsTurn{{deltas: []string{"Let me see."}, calls: []provider.ToolCall{{ID: "c1", Name: "f", Arguments: `{}`}}}}, []string{
			"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
			"response.output_text.done", "response.content_part.done", "response.output_item.done",
			"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
			"response.incomplete", "[DONE]",
		}, "Let me see.", "incomplete"},
		{"failure after start", []rsTurn{{err: &provider.Error{Kind: provider.ErrBadResponse}}}, []string{
			"response.created", "response.in_progress", "response.failed", "[DONE]",
		}, "", "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := rsServer(t, &rsModel{turns: tt.turns}, nil)
			w := rsPost(s, `{"model":"openclaw","stream":true,"input":"hi","tools":[{"type":"function","name":"f"}]}`)
			if w.Code != 200 || w.Header().Get("Content-Type") != "text/event-stream; charset=utf-8" || w.Header().Get("Cache-Control") != "no-cache" {
				t.Fatalf("%d %v", w.Code, w.Header())
			}
			types, datas := rsEvents(t, w.Body.String())
			if !reflect.DeepEqual(types, tt.types) {
				t.Fatalf("events\n%q\nwant\n%q", types, tt.types)
			}
			var deltas strings.Builder
			id := datas[0]["response"].(map[string]any)["id"]
			for i, d := range datas {
				switch types[i] {
				case "response.output_text.delta":
					deltas.WriteString(d["delta"].(string))
				case "response.created", "response.in_progress":
					r := d["response"].(map[string]any)
					if r["status"] != "in_progress" || r["id"] != id || r["usage"] != nil {
						t.Errorf("%s: %v", types[i], r)
					}
				}
			}
			if deltas.String() != tt.text {
				t.Errorf("deltas %q, want %q", deltas.String(), tt.text)
			}
			final := datas[len(datas)-2]["response"].(map[string]any)
			if final["status"] != tt.final || final["id"] != id {
				t.Errorf("final %v", final)
			}
			if tt.final == "failed" {
				if !reflect.DeepEqual(final["error"], map[string]any{"code": "server_error", "message": "upstream provider error"}) {
					t.Errorf("error %v", final["error"])
				}
				return
			}
			// The final response's output is what the item events said.
			var done []any
			for i, d := range datas {
				if types[i] == "response.output_item.done" {
					done = append(done, d["item"])
				}
			}
			if !reflect.DeepEqual(done, final["output"]) {
				t.Errorf("items done %v\noutput %v", done, final["output"])
			}
			if tt.text != "" && !strings.Contains(w.Body.String(), `"text":`+fmt.Sprintf("%q", tt.text)) {
				t.Errorf("final text is not the deltas'")
			}
		})
	}
}

func TestResponsesStreamErrorBeforeStart(t *testing.T) {
	s, _ := rsServer(t, &rsModel{turns: []rsTurn{{deltas: []string{"x"}}}}, func(c *config.Config) {
		c.Models.Providers = map[string]config.Provider{"fake": {API: provider.APIOpenAI, BaseURL: "http://127.0.0.1:1/v1",
			Models: []config.ModelDef{{ID: "m", Input: []string{"text"}}}}}
	})
	w := rsPost(s, `{"model":"openclaw","stream":true,"input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]}]}`)
	want := rsErr(400, "model fake/m does not accept image input", "", "")
	if w.Code != 400 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || strings.TrimSpace(w.Body.String()) != want {
		t.Errorf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

func TestResponsesStreamPanic(t *testing.T) {
	p := fakeProvider{fn: func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		onDelta("half")
		panic("boom")
	}}
	s, logs := rsServer(t, p, nil)
	w := rsPost(s, `{"model":"openclaw","stream":true,"input":"hi"}`)
	types, datas := rsEvents(t, w.Body.String())
	want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.failed", "[DONE]"}
	if !reflect.DeepEqual(types, want) {
		t.Fatalf("events %q", types)
	}
	if e := datas[5]["response"].(map[string]any)["error"]; !reflect.DeepEqual(e, map[string]any{"code": "server_error", "message": "internal error"}) {
		t.Errorf("error %v", e)
	}
	if !strings.Contains(logs.String(), "panic in handler path=/v1/responses panic=boom") {
		t.Errorf("log: %s", logs)
	}
}

// TestResponsesStreamFlushesAndCancels reads a real stream: the first delta
// arrives while the model is still running, and hanging up cancels the
// model call.
func TestResponsesStreamFlushesAndCancels(t *testing.T) {
	sent, canceled := make(chan struct{}), make(chan struct{})
	p := fakeProvider{fn: func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		onDelta("first")
		close(sent)
		<-ctx.Done()
		close(canceled)
		return nil, ctx.Err()
	}}
	s, logs := rsServer(t, p, nil)
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/responses", strings.NewReader(`{"model":"openclaw","stream":true,"input":"hi"}`))
	req.Header.Set("Authorization", "Bearer t0k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var got []string
	for len(got) < 5 {
		ev := readEvent(t, br)
		got = append(got, strings.SplitN(ev, "\n", 2)[0])
	}
	<-sent
	if got[4] != "event: response.output_text.delta" {
		t.Fatalf("events %q", got)
	}
	cancel()
	select {
	case <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the model call was not canceled")
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "client went away, run canceled path=/v1/responses"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line: %s", logs)
		}
	}
}

func TestResponseIDsDurable(t *testing.T) {
	m := &rsModel{turns: []rsTurn{{deltas: []string{"ok"}}}}
	dir := t.TempDir()
	serve := func() *Server {
		cfg := testConfig()
		cfg.Gateway.HTTP.Endpoints.Responses.Enabled = true
		runner := agent.New(agent.Options{StateDir: dir, Config: cfg,
			NewProvider: func(provider.Config) (provider.Provider, error) { return m, nil }})
		s, err := New(Options{Runner: runner})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	id := rsDecode(t, rsPost(serve(), `{"model":"openclaw","input":"one"}`))["id"].(string)
	st, err := os.Stat(filepath.Join(dir, responseIDsFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	// A new server on the same state dir (a restart) continues it.
	if w := rsPost(serve(), `{"model":"openclaw","input":"two","previous_response_id":"`+id+`"}`); w.Code != 200 {
		t.Fatalf("after a restart: %d %s", w.Code, w.Body)
	}
	var texts []string
	for _, msg := range m.requests()[1].Messages {
		texts = append(texts, msg.Content)
	}
	if want := []string{"one", "ok", "two"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("history %q", texts)
	}
}

func TestResponseIDsBoundedAndCompacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway", "ids.jsonl")
	logs := &syncBuffer{}
	ids := newResponseIDs(path, 3, func() bool { return true }, log.New(logs))
	for i := range 7 {
		ids.put(fmt.Sprintf("r%d", i), fmt.Sprintf("k%d", i))
	}
	for i := range 7 {
		k, ok := ids.get(fmt.Sprintf("r%d", i))
		if want := i >= 4; ok != want || ok && k != fmt.Sprintf("k%d", i) {
			t.Errorf("r%d: %q %v", i, k, ok)
		}
	}
	// Six lines were appended, the seventh put compacted the file to the
	// three live ids.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"id\":\"r4\",\"key\":\"k4\"}\n{\"id\":\"r5\",\"key\":\"k5\"}\n{\"id\":\"r6\",\"key\":\"k6\"}\n"; string(b) != want {
		t.Errorf("file\n%s\nwant\n%s", b, want)
	}
	ids.put("r7", "k7")
	ids.closeFile()

	// A torn tail is skipped on load and ended before the next append.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"id":"r8","ke`)
	f.Close()
	again := newResponseIDs(path, 3, func() bool { return false }, log.New(logs))
	if _, ok := again.get("r8"); ok {
		t.Error("a torn line was loaded")
	}
	again.put("r9", "k9")
	again.closeFile()
	third := newResponseIDs(path, 3, func() bool { return false }, log.New(logs))
	for _, id := range []string{"r6", "r7", "r9"} {
		if _, ok := third.get(id); !ok {
			t.Errorf("%s lost", id)
		}
	}
	if _, ok := third.get("r5"); ok {
		t.Error("r5 is beyond the bound")
	}
	if logs.String() != "" {
		t.Errorf("logs: %s", logs)
	}
}

func TestResponseIDsWriteFailure(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "gateway")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil { // a file where the dir should be
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ids := newResponseIDs(filepath.Join(blocker, "ids.jsonl"), 3, func() bool { return false }, log.New(logs))
	ids.put("r1", "k1")
	if k, ok := ids.get("r1"); !ok || k != "k1" {
		t.Error("not kept in memory")
	}
	if !strings.Contains(logs.String(), "cannot save response id") {
		t.Errorf("logs: %s", logs)
	}
}
