package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// badRequest is one malformed request of the battery: what it sends and
// the 4xx it must get, with a word of the message (or param) that names
// the culprit: the field, the header or the body.
type badRequest struct {
	name   string
	method string // "" is POST
	body   string
	hdr    []string // extra header pairs; Authorization is set unless noAuth
	noAuth bool
	status int
	names  string
}

// user wraps one user message into a chat body with extra top-level
// members.
func userMsg(content string, extra ...string) string {
	b := `{"messages":[{"role":"user","content":` + content + `}]`
	for _, e := range extra {
		b += "," + e
	}
	return b + "}"
}

// partMsg is a chat body whose user content is the given parts.
func partMsg(parts string) string { return userMsg("[" + parts + "]") }

func imageMsg(url string) string {
	return partMsg(`{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"` + url + `"}}`)
}

var chatBattery = []badRequest{
	// The body as a whole.
	{name: "invalid JSON", body: `{`, status: 400, names: "invalid JSON body"},
	{name: "trailing garbage", body: `{"messages":[]} x`, status: 400, names: "invalid JSON body"},
	{name: "two objects", body: `{} {}`, status: 400, names: "invalid JSON body"},
	{name: "array body", body: `[]`, status: 400, names: "request body must be a JSON object"},
	{name: "string body", body: `"hi"`, status: 400, names: "request body must be a JSON object"},
	{name: "number body", body: `42`, status: 400, names: "request body must be a JSON object"},
	{name: "null body", body: `null`, status: 400, names: "request body must be a JSON object"},
	{name: "raw NUL byte in a string", body: userMsg("\"a\x00b\""), status: 400, names: "invalid JSON body"},
	{name: "raw control byte in a string", body: userMsg("\"a\x07b\""), status: 400, names: "invalid JSON body"},
	{name: "invalid UTF-8 in a string", body: userMsg("\"caf\xc3\x28\""), status: 400, names: "UTF-8"},
	{name: "invalid UTF-8 in an unknown field", body: userMsg(`"hi"`, "\"x\":\"\xff\xfe\""), status: 400, names: "UTF-8"},
	{name: "nesting past the JSON depth limit", body: userMsg(`"hi"`, `"x":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)), status: 400, names: "invalid JSON body"},
	{name: "unterminated string", body: `{"model":"openclaw`, status: 400, names: "invalid JSON body"},
	{name: "single quotes", body: `{'model':'openclaw'}`, status: 400, names: "invalid JSON body"},
	{name: "comment", body: `{/* c */"messages":[]}`, status: 400, names: "invalid JSON body"},
	{name: "NaN", body: userMsg(`"hi"`, `"temperature":NaN`), status: 400, names: "invalid JSON body"},
	{name: "body over the limit", body: userMsg(`"` + strings.Repeat("a", 1<<20) + `"`), status: 413, names: "Payload too large"},

	// model
	{name: "model number", body: `{"model":1}`, status: 400, names: "model"},
	{name: "model null", body: userMsg(`"hi"`, `"model":null`), status: 400, names: "model"},
	{name: "model object", body: `{"model":{"id":"openclaw"}}`, status: 400, names: "model"},
	{name: "model of another API", body: userMsg(`"hi"`, `"model":"gpt-4o"`), status: 400, names: "model"},
	{name: "model path traversal", body: userMsg(`"hi"`, `"model":"openclaw/../etc"`), status: 400, names: "model"},
	{name: "model huge", body: userMsg(`"hi"`, `"model":"`+strings.Repeat("m", 256<<10)+`"`), status: 400, names: "model"},
	{name: "model unknown agent", body: userMsg(`"hi"`, `"model":"openclaw/ghost"`), status: 400, names: "Unknown agent 'ghost'"},

	// messages and their members
	{name: "messages object", body: `{"messages":{}}`, status: 400, names: "messages"},
	{name: "messages string", body: `{"messages":"hi"}`, status: 400, names: "messages"},
	{name: "messages empty", body: `{"messages":[]}`, status: 400, names: "messages"},
	{name: "messages absent", body: `{}`, status: 400, names: "messages"},
	{name: "message number", body: `{"messages":[1]}`, status: 400, names: "messages[0]"},
	{name: "message null", body: `{"messages":[null]}`, status: 400, names: "messages[0]"},
	{name: "messages deeply nested", body: `{"messages":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, status: 400, names: "messages[0]"},
	{name: "role missing", body: `{"messages":[{"content":"hi"}]}`, status: 400, names: "messages[0].role"},
	{name: "role number", body: `{"messages":[{"role":1,"content":"hi"}]}`, status: 400, names: "messages[0].role"},
	{name: "role unknown", body: `{"messages":[{"role":"bot","content":"hi"}]}`, status: 400, names: "messages[0].role"},
	{name: "role empty", body: `{"messages":[{"role":"","content":"hi"}]}`, status: 400, names: "messages[0].role"},
	{name: "role of the second message", body: `{"messages":[{"role":"user","content":"a"},{"role":"wizard","content":"b"}]}`, status: 400, names: "messages[1].role"},
	{name: "content number", body: userMsg(`1`), status: 400, names: "messages[0].content"},
	{name: "content boolean", body: userMsg(`true`), status: 400, names: "messages[0].content"},
	{name: "content object", body: userMsg(`{"text":"hi"}`), status: 400, names: "messages[0].content"},
	{name: "content null only", body: userMsg(`null`), status: 400, names: "messages"},
	{name: "content empty string", body: userMsg(`""`), status: 400, names: "messages"},
	{name: "content blank", body: userMsg(`"  \n\t "`), status: 400, names: "messages"},
	{name: "content empty parts", body: userMsg(`[]`), status: 400, names: "messages"},
	{name: "only a system message", body: `{"messages":[{"role":"system","content":"be brief"}]}`, status: 400, names: "messages"},
	{name: "part number", body: partMsg(`1`), status: 400, names: "messages[0].content[0]"},
	{name: "part type missing", body: partMsg(`{"text":"hi"}`), status: 400, names: "messages[0].content[0].type"},
	{name: "part type number", body: partMsg(`{"type":1}`), status: 400, names: "messages[0].content[0].type"},
	{name: "part type unknown", body: partMsg(`{"type":"audio","audio":"x"}`), status: 400, names: "messages[0].content[0].type"},
	{name: "text part without text", body: partMsg(`{"type":"text"}`), status: 400, names: "messages[0].content[0].text"},
	{name: "text part text number", body: partMsg(`{"type":"text","text":5}`), status: 400, names: "messages[0].content[0].text"},
	{name: "image part without image_url", body: partMsg(`{"type":"image_url"}`), status: 400, names: "messages[0].content[0].image_url"},
	{name: "image_url number", body: partMsg(`{"type":"image_url","image_url":5}`), status: 400, names: "messages[0].content[0].image_url"},
	{name: "image_url.url number", body: partMsg(`{"type":"image_url","image_url":{"url":5}}`), status: 400, names: "messages[0].content[0].image_url.url"},
	{name: "image_url.detail number", body: partMsg(`{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":1}}`), status: 400, names: "messages[0].content[0].image_url.detail"},
	{name: "data URI broken base64", body: imageMsg("data:image/png;base64,!!!!"), status: 400, names: "image 1"},
	{name: "data URI without comma", body: imageMsg("data:image/png;base64"), status: 400, names: "image 1"},
	{name: "data URI not base64", body: imageMsg("data:image/png,AAAA"), status: 400, names: "image 1"},
	{name: "data URI empty", body: imageMsg("data:"), status: 400, names: "image 1"},
	{name: "data URI not an image", body: imageMsg("data:text/plain;base64,aGk="), status: 400, names: "image 1"},
	{name: "image file URL", body: imageMsg("file:///etc/passwd"), status: 400, names: "image 1"},
	{name: "image remote URL not allowed", body: imageMsg("http://127.0.0.1:1/x.png"), status: 400, names: "image 1"},
	{name: "too many images", body: partMsg(strings.Repeat(`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},`, 9) + `{"type":"text","text":"x"}`), status: 400, names: "image"},
	{name: "name number", body: `{"messages":[{"role":"user","name":5,"content":"hi"}]}`, status: 400, names: "messages[0].name"},
	{name: "tool_call_id number", body: `{"messages":[{"role":"tool","tool_call_id":5,"content":"x"}]}`, status: 400, names: "messages[0].tool_call_id"},
	{name: "tool_calls string", body: `{"messages":[{"role":"assistant","tool_calls":"x"},{"role":"user","content":"hi"}]}`, status: 400, names: "messages[0].tool_calls"},
	{name: "tool call id number", body: `{"messages":[{"role":"assistant","tool_calls":[{"id":1}]}]}`, status: 400, names: "messages[0].tool_calls[0].id"},

	// top-level parameters
	{name: "stream string", body: userMsg(`"hi"`, `"stream":"yes"`), status: 400, names: "stream"},
	{name: "stream number", body: userMsg(`"hi"`, `"stream":1`), status: 400, names: "stream"},
	{name: "stream duplicate key, last wins", body: userMsg(`"hi"`, `"stream":true`, `"stream":"x"`), status: 400, names: "stream"},
	{name: "messages duplicate key, last wins", body: `{"messages":[{"role":"user","content":"hi"}],"messages":5}`, status: 400, names: "messages"},
	{name: "stream_options number", body: userMsg(`"hi"`, `"stream_options":5`), status: 400, names: "stream_options"},
	{name: "include_usage string", body: userMsg(`"hi"`, `"stream_options":{"include_usage":"y"}`), status: 400, names: "stream_options.include_usage"},
	{name: "user number", body: userMsg(`"hi"`, `"user":5`), status: 400, names: "user"},
	{name: "temperature string", body: userMsg(`"hi"`, `"temperature":"hot"`), status: 400, names: "temperature"},
	{name: "temperature above 2", body: userMsg(`"hi"`, `"temperature":2.5`), status: 400, names: "temperature"},
	{name: "temperature negative", body: userMsg(`"hi"`, `"temperature":-1`), status: 400, names: "temperature"},
	{name: "temperature overflow", body: userMsg(`"hi"`, `"temperature":1e999`), status: 400, names: "temperature"},
	{name: "top_p above 1", body: userMsg(`"hi"`, `"top_p":2`), status: 400, names: "top_p"},
	{name: "max_tokens zero", body: userMsg(`"hi"`, `"max_tokens":0`), status: 400, names: "max_tokens"},
	{name: "max_tokens negative", body: userMsg(`"hi"`, `"max_tokens":-5`), status: 400, names: "max_tokens"},
	{name: "max_tokens fraction", body: userMsg(`"hi"`, `"max_tokens":1.5`), status: 400, names: "max_tokens"},
	{name: "max_tokens string", body: userMsg(`"hi"`, `"max_tokens":"10"`), status: 400, names: "max_tokens"},
	{name: "max_tokens huge", body: userMsg(`"hi"`, `"max_tokens":99999999999999999999999`), status: 400, names: "max_tokens"},
	{name: "max_completion_tokens zero", body: userMsg(`"hi"`, `"max_completion_tokens":0`), status: 400, names: "max_completion_tokens"},
	{name: "stop number", body: userMsg(`"hi"`, `"stop":5`), status: 400, names: "stop"},
	{name: "stop five", body: userMsg(`"hi"`, `"stop":["a","b","c","d","e"]`), status: 400, names: "stop"},
	{name: "stop item number", body: userMsg(`"hi"`, `"stop":[1]`), status: 400, names: "stop[0]"},
	{name: "response_format string", body: userMsg(`"hi"`, `"response_format":"json"`), status: 400, names: "response_format"},
	{name: "response_format type unknown", body: userMsg(`"hi"`, `"response_format":{"type":"xml"}`), status: 400, names: "response_format.type"},
	{name: "json_schema without schema", body: userMsg(`"hi"`, `"response_format":{"type":"json_schema"}`), status: 400, names: "response_format.json_schema"},
	{name: "seed fraction", body: userMsg(`"hi"`, `"seed":1.5`), status: 400, names: "seed"},
	{name: "seed string", body: userMsg(`"hi"`, `"seed":"1"`), status: 400, names: "seed"},
	{name: "presence_penalty above 2", body: userMsg(`"hi"`, `"presence_penalty":3`), status: 400, names: "presence_penalty"},
	{name: "frequency_penalty string", body: userMsg(`"hi"`, `"frequency_penalty":"x"`), status: 400, names: "frequency_penalty"},
	{name: "n two", body: userMsg(`"hi"`, `"n":2`), status: 400, names: "n"},
	{name: "n string", body: userMsg(`"hi"`, `"n":"1"`), status: 400, names: "n"},
	{name: "tools object", body: userMsg(`"hi"`, `"tools":{}`), status: 400, names: "tools"},
	{name: "tool without function", body: userMsg(`"hi"`, `"tools":[{"type":"function"}]`), status: 400, names: "tools[0].function"},
	{name: "tool name number", body: userMsg(`"hi"`, `"tools":[{"type":"function","function":{"name":5}}]`), status: 400, names: "tools[0].function.name"},
	{name: "tool name with spaces", body: userMsg(`"hi"`, `"tools":[{"type":"function","function":{"name":"rm -rf"}}]`), status: 400, names: "tools[0].function.name"},
	{name: "tool names duplicate", body: userMsg(`"hi"`, `"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]`), status: 400, names: "tools[1].function.name"},
	{name: "tool_choice number", body: userMsg(`"hi"`, `"tool_choice":5`), status: 400, names: "tool_choice"},
	{name: "tool_choice unknown", body: userMsg(`"hi"`, `"tool_choice":"sometimes"`), status: 400, names: "tool_choice"},
	{name: "tool_choice names no tool", body: userMsg(`"hi"`, `"tool_choice":{"type":"function","function":{"name":"f"}}`), status: 400, names: "tool_choice"},
	{name: "parallel_tool_calls string", body: userMsg(`"hi"`, `"parallel_tool_calls":"yes"`), status: 400, names: "parallel_tool_calls"},

	// headers, route and method
	{name: "agent header unknown", body: hiBody, hdr: []string{"x-openclaw-agent-id", "ghost"}, status: 400, names: "Unknown agent 'ghost'"},
	{name: "agent header traversal", body: hiBody, hdr: []string{"x-openclaw-agent-id", "../../etc"}, status: 400, names: "Unknown agent"},
	{name: "session key reserved", body: hiBody, hdr: []string{"x-openclaw-session-key", "cron:nightly"}, status: 400, names: "x-openclaw-session-key"},
	{name: "session key of another agent", body: hiBody, hdr: []string{"x-openclaw-session-key", "agent:ghost:x"}, status: 400, names: "x-openclaw-session-key"},
	{name: "model header unknown", body: hiBody, hdr: []string{"x-openclaw-model", "nowhere/model"}, status: 404, names: "Unknown model: nowhere/model"},
	{name: "model header without provider", body: hiBody, hdr: []string{"x-openclaw-model", "justamodel"}, status: 404, names: "Unknown model"},
	{name: "no credentials", body: hiBody, noAuth: true, status: 401, names: "Unauthorized"},
	{name: "wrong scheme", body: hiBody, noAuth: true, hdr: []string{"Authorization", "Basic dDBrOg=="}, status: 401, names: "Unauthorized"},
	{name: "wrong token", body: hiBody, noAuth: true, hdr: []string{"Authorization", "Bearer t0k\x00"}, status: 401, names: "Unauthorized"},
	{name: "GET", method: http.MethodGet, status: 405, names: "Method GET"},
	{name: "PUT", method: http.MethodPut, body: hiBody, status: 405, names: "Method PUT"},
}

// TestBadInputBattery sends every malformed request of the battery through
// the whole handler, plain and (for object bodies) with "stream":true:
// each gets its 4xx as a JSON error naming the culprit; none gets a 5xx,
// panics or hangs, and no run reaches the model.
func TestBadInputBattery(t *testing.T) {
	calls := 0
	model := replyWith("should not be asked")
	counted := fakeProvider{fn: func(ctx context.Context, req *provider.Request, d func(string)) (*provider.Response, error) {
		calls++
		return model.fn(ctx, req, d)
	}}
	s, logs := newTestServer(t, counted, func(c *config.Config) {
		c.Gateway.HTTP.Endpoints.ChatCompletions.MaxBodyBytes = 512 << 10
	})
	n := 0
	for _, tt := range chatBattery {
		bodies := []string{tt.body}
		if strings.HasPrefix(tt.body, "{") && !strings.Contains(tt.body, `"stream"`) && tt.status != 413 {
			bodies = append(bodies, `{"stream":true,`+strings.TrimPrefix(tt.body, "{"))
			if tt.body == "{}" {
				bodies[1] = `{"stream":true}`
			}
		}
		for i, body := range bodies {
			n++
			name := tt.name
			if i == 1 {
				name += " (stream)"
			}
			t.Run(name, func(t *testing.T) {
				checkBadRequest(t, s, "/v1/chat/completions", tt, body)
			})
		}
	}
	if len(chatBattery) < 50 {
		t.Errorf("only %d cases", len(chatBattery))
	}
	if calls != 0 {
		t.Errorf("%d malformed requests reached the model", calls)
	}
	if strings.Contains(logs.String(), "panic") || strings.Contains(logs.String(), "ERRO") {
		t.Errorf("log:\n%s", logs)
	}
	t.Logf("%d malformed chat requests (%d cases)", n, len(chatBattery))
}

// checkBadRequest sends one request and checks its error answer. A request
// the handler does not answer within a minute is a hang.
func checkBadRequest(t *testing.T, s http.Handler, path string, tt badRequest, body string) {
	t.Helper()
	method := tt.method
	if method == "" {
		method = http.MethodPost
	}
	hdr := tt.hdr
	if !tt.noAuth {
		hdr = append([]string{"Authorization", "Bearer t0k"}, hdr...)
	}
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				t.Errorf("panic: %v", v)
				done <- nil
			}
		}()
		done <- do(s, method, path, body, hdr...)
	}()
	var w *httptest.ResponseRecorder
	select {
	case w = <-done:
	case <-time.After(time.Minute):
		t.Fatalf("no answer after a minute")
	}
	if w == nil {
		return
	}
	if w.Code != tt.status {
		t.Errorf("status %d, want %d: %.300s", w.Code, tt.status, w.Body)
	}
	if w.Code >= 500 || w.Code < 400 {
		t.Errorf("not a 4xx: %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var e struct {
		Error struct {
			Message *string `json:"message"`
			Type    *string `json:"type"`
			Param   *string `json:"param"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Message == nil || e.Error.Type == nil || *e.Error.Message == "" {
		t.Fatalf("not an error object: %v %.300s", err, w.Body)
	}
	param := ""
	if e.Error.Param != nil {
		param = *e.Error.Param
	}
	if !strings.Contains(*e.Error.Message, tt.names) && !strings.Contains(param, tt.names) {
		t.Errorf("error does not name %q: message %q, param %q", tt.names, *e.Error.Message, param)
	}
	if len(w.Body.String()) > 4096 {
		t.Errorf("error of %d bytes echoes the input", w.Body.Len())
	}
}

// responsesBattery is the same for POST /v1/responses, whose decoder is
// its own.
var responsesBattery = []badRequest{
	{name: "invalid JSON", body: `{"model":`, status: 400, names: "invalid JSON body"},
	{name: "trailing garbage", body: `{"model":"openclaw","input":"hi"}]`, status: 400, names: "invalid JSON body"},
	{name: "array body", body: `[{"model":"openclaw"}]`, status: 400, names: "request body must be a JSON object"},
	{name: "invalid UTF-8", body: "{\"model\":\"openclaw\",\"input\":\"\xed\xa0\x80\"}", status: 400, names: "UTF-8"},
	{name: "raw NUL", body: "{\"model\":\"openclaw\",\"input\":\"\x00\"}", status: 400, names: "invalid JSON body"},
	{name: "model missing", body: `{"input":"hi"}`, status: 400, names: "model"},
	{name: "model number", body: `{"model":7,"input":"hi"}`, status: 400, names: "model"},
	{name: "model of another API", body: `{"model":"gpt-4.1","input":"hi"}`, status: 400, names: "model"},
	{name: "unknown parameter", body: `{"model":"openclaw","input":"hi","bogus":1}`, status: 400, names: "bogus"},
	{name: "input number", body: `{"model":"openclaw","input":5}`, status: 400, names: "input"},
	{name: "input empty", body: `{"model":"openclaw","input":[]}`, status: 400, names: "input"},
	{name: "input blank", body: `{"model":"openclaw","input":"   "}`, status: 400, names: "input"},
	{name: "item number", body: `{"model":"openclaw","input":[1]}`, status: 400, names: "input[0]"},
	{name: "item type unknown", body: `{"model":"openclaw","input":[{"type":"telepathy"}]}`, status: 400, names: "input[0].type"},
	{name: "item role unknown", body: `{"model":"openclaw","input":[{"type":"message","role":"bot","content":"hi"}]}`, status: 400, names: "input[0].role"},
	{name: "item content number", body: `{"model":"openclaw","input":[{"type":"message","role":"user","content":5}]}`, status: 400, names: "input[0].content"},
	{name: "deep nesting", body: `{"model":"openclaw","input":` + strings.Repeat("[", 3000) + strings.Repeat("]", 3000) + `}`, status: 400, names: "input[0]"},
	{name: "stream string", body: `{"model":"openclaw","input":"hi","stream":"true"}`, status: 400, names: "stream"},
	{name: "temperature above 2", body: `{"model":"openclaw","input":"hi","temperature":9}`, status: 400, names: "temperature"},
	{name: "max_output_tokens zero", body: `{"model":"openclaw","input":"hi","max_output_tokens":0}`, status: 400, names: "max_output_tokens"},
	{name: "previous_response_id blank", body: `{"model":"openclaw","input":"hi","previous_response_id":" "}`, status: 400, names: "previous_response_id"},
	{name: "previous_response_id unknown", body: `{"model":"openclaw","input":"hi","previous_response_id":"resp_nope"}`, status: 404, names: "previous_response_id"},
	{name: "tools object", body: `{"model":"openclaw","input":"hi","tools":{}}`, status: 400, names: "tools"},
	{name: "duplicate key, last wins", body: `{"model":"openclaw","input":"hi","input":false}`, status: 400, names: "input"},
}

// TestResponsesBadInputBattery is TestBadInputBattery for /v1/responses.
func TestResponsesBadInputBattery(t *testing.T) {
	calls := 0
	model := replyWith("should not be asked")
	counted := fakeProvider{fn: func(ctx context.Context, req *provider.Request, d func(string)) (*provider.Response, error) {
		calls++
		return model.fn(ctx, req, d)
	}}
	s, logs := rsServer(t, counted, nil)
	for _, tt := range responsesBattery {
		t.Run(tt.name, func(t *testing.T) { checkBadRequest(t, s, "/v1/responses", tt, tt.body) })
	}
	if calls != 0 {
		t.Errorf("%d malformed requests reached the model", calls)
	}
	if strings.Contains(logs.String(), "panic") || strings.Contains(logs.String(), "ERRO") {
		t.Errorf("log:\n%s", logs)
	}
}
