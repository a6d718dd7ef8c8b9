package main

// mockmodel is a scripted model server for scenarios: it speaks the OpenAI
// chat completions API and the Anthropic messages API on loopback, answers
// each request with the next line of a replies file, and records every
// request to a file the script can grep.
//
//	exec mockmodel -addr $WORK/mock.addr -replies replies.jsonl -record $WORK/requests.jsonl &mock&
//	mockaddr MOCK mock.addr          # waits for the file, sets $MOCK to http://127.0.0.1:PORT
//
// A replies line is a JSON object (blank lines and lines starting with #
// are skipped; when the lines run out the last one repeats; with no file
// every reply is "mock: <the last user text>"):
//
//	text            the reply, streamed in deltas split after each space
//	deltas          the deltas, given explicitly (text is then ignored)
//	tool_calls      [{id, name, arguments}] (arguments: a JSON object or a string)
//	usage           {prompt, completion, cached}; else words are counted
//	finish          the finish reason (openai names; mapped for anthropic)
//	status, body    an HTTP answer as is (body: a JSON value, sent with a final
//	                newline, or a string, sent byte for byte);
//	                a status without a body gets the API's error JSON
//	retry_after     the Retry-After header value
//	delay_ms        wait before the response headers
//	delta_delay_ms  wait between deltas
//	hang            never answer; wait until the client goes away
//	cut             send half the deltas, then drop the connection
//
// Each request is recorded as {"n":N,"path":..,"headers":{..},"body":<JSON>}
// and, when the client went away before the reply was finished, as
// {"n":N,"event":"canceled"}.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

func init() {
	programs["mockmodel"] = func() { os.Exit(mockModelMain(os.Args[1:], os.Stderr)) }
	scriptCmds["mockpost"] = cmdMockPost
	scriptCmds["mockaddr"] = cmdMockAddr
	scriptCmds["mockwait"] = cmdMockWait
}

// mockReply is one line of the replies file.
type mockReply struct {
	Text         string          `json:"text"`
	Deltas       []string        `json:"deltas"`
	ToolCalls    []mockToolCall  `json:"tool_calls"`
	Usage        *mockUsage      `json:"usage"`
	Finish       string          `json:"finish"`
	Status       int             `json:"status"`
	Body         json.RawMessage `json:"body"`
	RetryAfter   json.RawMessage `json:"retry_after"`
	DelayMS      int             `json:"delay_ms"`
	DeltaDelayMS int             `json:"delta_delay_ms"`
	Hang         bool            `json:"hang"`
	Cut          bool            `json:"cut"`
}

type mockToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type mockUsage struct {
	Prompt     int `json:"prompt"`
	Completion int `json:"completion"`
	Cached     int `json:"cached"`
}

// mockModelMain runs the server until SIGINT or SIGTERM.
func mockModelMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("mockmodel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrFile := fs.String("addr", "", "write the base URL to this file")
	repliesFile := fs.String("replies", "", "JSON lines, one reply per request")
	recordFile := fs.String("record", "", "append every request to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *addrFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: mockmodel -addr file [-replies file] [-record file]")
		return 2
	}
	m := &mockServer{quit: make(chan struct{})}
	if *repliesFile != "" {
		rs, err := loadMockReplies(*repliesFile)
		if err != nil {
			fmt.Fprintln(stderr, "mockmodel:", err)
			return 2
		}
		m.replies = rs
	}
	if *recordFile != "" {
		f, err := os.OpenFile(*recordFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(stderr, "mockmodel:", err)
			return 1
		}
		defer f.Close()
		m.record = f
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, "mockmodel:", err)
		return 1
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// Written atomically, so a waiter never reads half an address.
	tmp := *addrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte("http://"+ln.Addr().String()+"\n"), 0o644); err != nil {
		fmt.Fprintln(stderr, "mockmodel:", err)
		return 1
	}
	if err := os.Rename(tmp, *addrFile); err != nil {
		fmt.Fprintln(stderr, "mockmodel:", err)
		return 1
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintln(stderr, "mockmodel:", err)
		return 1
	}
	close(m.quit) // hanging replies give up
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	return 0
}

func loadMockReplies(path string) ([]mockReply, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []mockReply
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		d := json.NewDecoder(strings.NewReader(line))
		d.DisallowUnknownFields()
		var r mockReply
		if err := d.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%s: no replies", path)
	}
	return rs, nil
}

type mockServer struct {
	replies []mockReply
	quit    chan struct{}

	mu     sync.Mutex
	n      int
	record *os.File
}

// writeRecord appends one JSON line in one write.
func (m *mockServer) writeRecord(v any) {
	b, _ := json.Marshal(v)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.record != nil {
		_, _ = m.record.Write(append(b, '\n'))
	}
}

// mockRequest is what the handlers need from a request body.
type mockRequest struct {
	n       int
	api     string // "openai" | "anthropic"
	raw     map[string]any
	model   string
	stream  bool
	usage   bool // openai stream_options.include_usage
	words   int  // words in the system prompt and every message
	lastTxt string
}

func (m *mockServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	m.mu.Lock()
	m.n++
	n := m.n
	m.mu.Unlock()
	rec := struct {
		N       int               `json:"n"`
		Method  string            `json:"method,omitempty"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	}{N: n, Path: r.URL.Path, Headers: map[string]string{}}
	if r.Method != http.MethodPost {
		rec.Method = r.Method
	}
	for k, v := range r.Header {
		switch k = strings.ToLower(k); k {
		case "accept", "accept-encoding", "connection", "content-length", "user-agent":
		default:
			rec.Headers[k] = strings.Join(v, ", ")
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, body) == nil && buf.Len() > 0 {
		rec.Body = buf.Bytes()
	} else {
		rec.Body, _ = json.Marshal(string(body))
	}
	m.writeRecord(rec)

	req := &mockRequest{n: n}
	switch r.URL.Path {
	case "/v1/chat/completions":
		req.api = "openai"
	case "/v1/messages":
		req.api = "anthropic"
	default:
		mockJSON(w, 404, map[string]any{"error": map[string]any{"message": "mockmodel: no route " + r.URL.Path, "type": "not_found"}})
		return
	}
	if r.Method != http.MethodPost {
		mockJSON(w, 405, map[string]any{"error": map[string]any{"message": "mockmodel: use POST", "type": "invalid_request_error"}})
		return
	}
	if err := json.Unmarshal(body, &req.raw); err != nil {
		mockJSON(w, 400, mockErrBody(req.api, "invalid_request_error", "mockmodel: invalid JSON: "+err.Error()))
		return
	}
	req.parse()

	rep := mockReply{Text: "mock: " + req.lastTxt}
	if len(m.replies) > 0 {
		rep = m.replies[min(n, len(m.replies))-1]
	}
	m.reply(w, r, req, rep)
}

// parse fills the fields the replies need from the raw body.
func (q *mockRequest) parse() {
	q.model, _ = q.raw["model"].(string)
	q.stream, _ = q.raw["stream"].(bool)
	if so, ok := q.raw["stream_options"].(map[string]any); ok {
		q.usage, _ = so["include_usage"].(bool)
	}
	for _, s := range mockTexts(q.raw["system"]) {
		q.words += len(strings.Fields(s))
	}
	msgs, _ := q.raw["messages"].([]any)
	for _, mv := range msgs {
		msg, _ := mv.(map[string]any)
		texts := mockTexts(msg["content"])
		for _, s := range texts {
			q.words += len(strings.Fields(s))
		}
		if msg["role"] == "user" {
			q.lastTxt = strings.Join(mockUserTexts(msg["content"]), "\n")
		}
	}
}

// mockTexts collects the texts of a content value: a string, or parts and
// blocks with text or content.
func mockTexts(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, p := range v {
			pm, _ := p.(map[string]any)
			if s, ok := pm["text"].(string); ok {
				out = append(out, s)
			}
			out = append(out, mockTexts(pm["content"])...)
		}
		return out
	}
	return nil
}

// mockUserTexts is the text a user typed: text parts only, no tool results.
func mockUserTexts(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	parts, _ := v.([]any)
	for _, p := range parts {
		pm, _ := p.(map[string]any)
		if t, _ := pm["type"].(string); t == "text" || t == "input_text" {
			s, _ := pm["text"].(string)
			out = append(out, s)
		}
	}
	return out
}

func mockErrBody(api, typ, msg string) any {
	if api == "anthropic" {
		return map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}}
	}
	return map[string]any{"error": map[string]any{"message": msg, "type": typ}}
}

func mockJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// wait sleeps d, or until the client or the server goes away. It reports
// whether the reply should go on, and records a client that left.
func (m *mockServer) wait(r *http.Request, q *mockRequest, d time.Duration) bool {
	var t <-chan time.Time
	if d >= 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		t = timer.C
	}
	select {
	case <-t:
		return true
	case <-r.Context().Done():
		m.canceled(q)
		return false
	case <-m.quit:
		return false
	}
}

func (m *mockServer) canceled(q *mockRequest) {
	m.writeRecord(struct {
		N     int    `json:"n"`
		Event string `json:"event"`
	}{q.n, "canceled"})
}

// reply answers one request as rep says.
func (m *mockServer) reply(w http.ResponseWriter, r *http.Request, q *mockRequest, rep mockReply) {
	if rep.DelayMS > 0 && !m.wait(r, q, time.Duration(rep.DelayMS)*time.Millisecond) {
		return
	}
	if rep.Hang {
		m.wait(r, q, -1)
		return
	}
	if len(rep.RetryAfter) > 0 {
		var s string
		if json.Unmarshal(rep.RetryAfter, &s) != nil {
			s = string(rep.RetryAfter)
		}
		w.Header().Set("Retry-After", s)
	}
	if (rep.Status != 0 && rep.Status != 200) || len(rep.Body) > 0 {
		status := mockOr(rep.Status, 200)
		var s string
		switch {
		case len(rep.Body) == 0:
			b, _ := json.Marshal(mockErrBody(q.api, mockErrType(status), fmt.Sprintf("mockmodel: status %d", status)))
			s = string(b) + "\n"
			w.Header().Set("Content-Type", "application/json")
		case json.Unmarshal(rep.Body, &s) == nil:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		default:
			s = string(rep.Body) + "\n"
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, s)
		return
	}

	deltas := rep.Deltas
	if deltas == nil {
		deltas = mockSplit(rep.Text)
	}
	text := strings.Join(deltas, "")
	u := mockUsage{Prompt: q.words, Completion: len(strings.Fields(text))}
	if rep.Usage != nil {
		u = *rep.Usage
	}
	finish := rep.Finish
	if finish == "" {
		finish = "stop"
		if len(rep.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	calls := make([]mockCall, len(rep.ToolCalls))
	for i, tc := range rep.ToolCalls {
		calls[i] = mockCall{ID: tc.ID, Name: tc.Name, Args: mockArgs(tc.Arguments)}
		if calls[i].ID == "" {
			calls[i].ID = fmt.Sprintf("call_%d_%d", q.n, i)
		}
	}
	var events []string
	if q.api == "openai" {
		events = mockOpenAIEvents(q, deltas, text, calls, finish, u)
	} else {
		events = mockAnthropicEvents(q, deltas, text, calls, finish, u)
	}
	if !q.stream {
		// One JSON document; a cut sends half of it.
		w.Header().Set("Content-Type", "application/json")
		doc := events[0] + "\n"
		if rep.Cut {
			w.Header().Set("Content-Length", fmt.Sprint(len(doc)))
			_, _ = io.WriteString(w, doc[:len(doc)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		_, _ = io.WriteString(w, doc)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	// events: a head, one per delta, then the tail.
	cutAt := -1
	if rep.Cut {
		cutAt = 1 + (len(deltas)+1)/2
	}
	for i, ev := range events {
		if i == cutAt {
			panic(http.ErrAbortHandler) // drop the connection mid-stream
		}
		if i > 1 && i <= len(deltas) && rep.DeltaDelayMS > 0 {
			if !m.wait(r, q, time.Duration(rep.DeltaDelayMS)*time.Millisecond) {
				return
			}
		}
		if _, err := io.WriteString(w, ev); err != nil {
			m.canceled(q)
			return
		}
		w.(http.Flusher).Flush()
	}
}

func mockOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func mockErrType(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 403:
		return "permission_error"
	case status == 429:
		return "rate_limit_error"
	case status == 529:
		return "overloaded_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}

// mockSplit cuts s after every space, like the echo model.
func mockSplit(s string) []string {
	out := []string{}
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

type mockCall struct{ ID, Name, Args string }

// mockArgs turns arguments given as a JSON object or a string into text.
func mockArgs(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "{}"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// halves splits s in two at a rune boundary, so both stream as fragments.
func halves(s string) (string, string) {
	i := len(s) / 2
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], s[i:]
}

func mockData(v any) string {
	b, _ := json.Marshal(v)
	return "data: " + string(b) + "\n\n"
}

func mockEvent(name string, v any) string {
	b, _ := json.Marshal(v)
	return "event: " + name + "\ndata: " + string(b) + "\n\n"
}

// mockOpenAIEvents is the stream (head, one event per delta, tail) or, for
// a request without stream, the whole completion as the only element.
func mockOpenAIEvents(q *mockRequest, deltas []string, text string, calls []mockCall, finish string, u mockUsage) []string {
	id := fmt.Sprintf("chatcmpl-mock-%d", q.n)
	usage := map[string]any{
		"prompt_tokens": u.Prompt, "completion_tokens": u.Completion, "total_tokens": u.Prompt + u.Completion,
		"prompt_tokens_details": map[string]any{"cached_tokens": u.Cached},
	}
	if !q.stream {
		msg := map[string]any{"role": "assistant", "content": text}
		if len(calls) > 0 {
			var tcs []any
			for _, c := range calls {
				tcs = append(tcs, map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Args}})
			}
			msg["tool_calls"] = tcs
			if text == "" {
				msg["content"] = nil
			}
		}
		b, _ := json.Marshal(map[string]any{
			"id": id, "object": "chat.completion", "created": 1767225600, "model": q.model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   usage,
		})
		return []string{string(b)}
	}
	chunk := func(delta map[string]any, fin any) string {
		return mockData(map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": 1767225600, "model": q.model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": fin}},
		})
	}
	evs := []string{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	for _, d := range deltas {
		evs = append(evs, chunk(map[string]any{"content": d}, nil))
	}
	var tail strings.Builder
	for i, c := range calls {
		a, b := halves(c.Args)
		tail.WriteString(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": ""}}}}, nil))
		for _, frag := range []string{a, b} {
			tail.WriteString(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": frag}}}}, nil))
		}
	}
	tail.WriteString(chunk(map[string]any{}, finish))
	if q.usage {
		tail.WriteString(mockData(map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": 1767225600, "model": q.model,
			"choices": []any{}, "usage": usage,
		}))
	}
	tail.WriteString("data: [DONE]\n\n")
	return append(evs, tail.String())
}

// mockAnthropicEvents is like mockOpenAIEvents for the messages API.
func mockAnthropicEvents(q *mockRequest, deltas []string, text string, calls []mockCall, finish string, u mockUsage) []string {
	id := fmt.Sprintf("msg_mock_%d", q.n)
	stop := map[string]string{"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}[finish]
	if stop == "" {
		stop = finish
	}
	if !q.stream {
		content := []any{}
		if text != "" {
			content = append(content, map[string]any{"type": "text", "text": text})
		}
		for _, c := range calls {
			content = append(content, map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": json.RawMessage(c.Args)})
		}
		b, _ := json.Marshal(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": q.model, "content": content,
			"stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": u.Prompt - u.Cached, "cache_read_input_tokens": u.Cached, "cache_creation_input_tokens": 0, "output_tokens": u.Completion},
		})
		return []string{string(b)}
	}
	head := mockEvent("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": q.model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": u.Prompt - u.Cached, "cache_read_input_tokens": u.Cached, "cache_creation_input_tokens": 0, "output_tokens": 1},
	}}) +
		mockEvent("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}}) +
		mockEvent("ping", map[string]any{"type": "ping"})
	evs := []string{head}
	for _, d := range deltas {
		evs = append(evs, mockEvent("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": d}}))
	}
	var tail strings.Builder
	tail.WriteString(mockEvent("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}))
	for i, c := range calls {
		idx := i + 1
		tail.WriteString(mockEvent("content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": map[string]any{}}}))
		a, b := halves(c.Args)
		for _, frag := range []string{a, b} {
			tail.WriteString(mockEvent("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": frag}}))
		}
		tail.WriteString(mockEvent("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx}))
	}
	tail.WriteString(mockEvent("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": u.Completion}}))
	tail.WriteString(mockEvent("message_stop", map[string]any{"type": "message_stop"}))
	return append(evs, tail.String())
}

// cmdMockPost posts a JSON body and prints "HTTP <status>", the response
// headers (sorted, without Date and Content-Length), a blank line and the
// body to stdout. A transport failure or a body cut short fails the command
// (after printing what arrived) with the error on stderr.
//
//	mockpost [-H 'Name: value']... [-timeout 10s] URL BODY|@file
func cmdMockPost(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("mockpost", flag.ContinueOnError)
	var hdrs mockHeaders
	fs.Var(&hdrs, "H", "a request header, Name: value")
	timeout := fs.Duration("timeout", 10*time.Second, "give up (and hang up) after this long")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		ts.Fatalf("usage: mockpost [-H 'Name: value']... [-timeout 10s] URL BODY|@file")
	}
	body := fs.Arg(1)
	if f, ok := strings.CutPrefix(body, "@"); ok {
		body = ts.ReadFile(f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fs.Arg(0), strings.NewReader(body))
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	for _, h := range hdrs {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	err = func() error {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		fmt.Fprintf(ts.Stdout(), "HTTP %d\n", resp.StatusCode)
		var keys []string
		for k := range resp.Header {
			if k != "Date" && k != "Content-Length" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(ts.Stdout(), "%s: %s\n", k, strings.Join(resp.Header[k], ", "))
		}
		fmt.Fprintln(ts.Stdout())
		_, err = io.Copy(ts.Stdout(), resp.Body)
		return err
	}()
	if err != nil {
		fmt.Fprintf(ts.Stderr(), "mockpost: %v\n", err)
		if !neg {
			ts.Fatalf("mockpost: %v", err)
		}
		return
	}
	if neg {
		ts.Fatalf("mockpost: unexpected success")
	}
}

type mockHeaders []string

func (h *mockHeaders) String() string     { return strings.Join(*h, "; ") }
func (h *mockHeaders) Set(v string) error { *h = append(*h, v); return nil }

// cmdMockAddr waits (20 s at most) for a mockmodel address file and puts the
// base URL in an environment variable.
//
//	mockaddr VAR file
func cmdMockAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mockaddr VAR file")
	}
	p := ts.MkAbs(args[1])
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(p)
		if s := strings.TrimSpace(string(b)); err == nil && s != "" {
			ts.Setenv(args[0], s)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no address in %s after 20s", filepath.Base(p))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdMockWait waits (20 s at most) until a file has a match of a regexp;
// with ! it checks that it has none right now.
//
//	mockwait REGEXP file
func cmdMockWait(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mockwait REGEXP file")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	p := ts.MkAbs(args[1])
	if neg {
		if b, _ := os.ReadFile(p); re.Match(b) {
			ts.Fatalf("%s matches %q", args[1], args[0])
		}
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			ts.Fatalf("%v", err)
		}
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s has no match of %q after 20s", args[1], args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMockModelWithProviders checks that what mockmodel sends is what the
// real providers parse, for both APIs, so scenarios built on the mock test
// the product and not the mock.
func TestMockModelWithProviders(t *testing.T) {
	replies := []mockReply{
		{Text: "hello brave new world", Usage: &mockUsage{Prompt: 40, Completion: 4, Cached: 30}},
		{Text: "calling", ToolCalls: []mockToolCall{{ID: "c1", Name: "read", Arguments: json.RawMessage(`{"path":"é.txt"}`)}, {Name: "ls"}}},
		{Deltas: []string{"trunc", "ated"}, Finish: "length"},
		{Status: 429, RetryAfter: json.RawMessage(`"3"`)},
		{Text: "one two three", Cut: true},
		{Hang: true},
	}
	for _, api := range []string{provider.APIOpenAI, provider.APIAnthropic} {
		t.Run(api, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "rec.jsonl")
			f, err := os.Create(rec)
			if err != nil {
				t.Fatal(err)
			}
			m := &mockServer{replies: replies, quit: make(chan struct{}), record: f}
			srv := httptest.NewServer(m)
			defer srv.Close()
			defer close(m.quit)
			base := srv.URL
			if api == provider.APIOpenAI {
				base += "/v1"
			}
			cfg := provider.Config{ID: "mock", API: api, BaseURL: base, APIKey: "sk-mock"}
			p, err := provider.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ReadTimeout = 200 * time.Millisecond
			impatient, err := provider.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := &provider.Request{Model: "mock-1", System: "sys", Messages: []provider.Message{{Role: "user", Content: "hi"}}}
			call := func() (*provider.Response, []string, error) {
				var deltas []string
				resp, err := p.Stream(context.Background(), req, func(s string) { deltas = append(deltas, s) })
				return resp, deltas, err
			}

			resp, deltas, err := call()
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"hello ", "brave ", "new ", "world"}; !slices.Equal(deltas, want) {
				t.Errorf("deltas %q, want %q", deltas, want)
			}
			if want := (provider.Usage{Input: 10, Output: 4, CacheRead: 30}); resp.Text != "hello brave new world" || resp.Usage != want || resp.StopReason != provider.StopEnd || resp.Model != "mock-1" {
				t.Errorf("response %+v", resp)
			}

			resp, _, err = call()
			if err != nil {
				t.Fatal(err)
			}
			want := []provider.ToolCall{{ID: "c1", Name: "read", Arguments: `{"path":"é.txt"}`}, {ID: "call_2_1", Name: "ls", Arguments: "{}"}}
			if !slices.Equal(resp.ToolCalls, want) || resp.StopReason != provider.StopToolCalls || resp.Text != "calling" {
				t.Errorf("tool calls %+v, stop %s, text %q", resp.ToolCalls, resp.StopReason, resp.Text)
			}

			resp, deltas, err = call()
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != "truncated" || len(deltas) != 2 || resp.StopReason != provider.StopLength {
				t.Errorf("finish override: %+v in %q", resp, deltas)
			}

			for _, tt := range []struct {
				kind       provider.ErrorKind
				retryAfter time.Duration
				deltas     int
			}{{provider.ErrRateLimit, 3 * time.Second, 0}, {provider.ErrBadResponse, 0, 2}, {provider.ErrTimeout, 0, 0}} {
				if tt.kind == provider.ErrTimeout {
					p = impatient
				}
				_, deltas, err := call()
				e, ok := provider.AsError(err)
				if !ok || e.Kind != tt.kind || e.RetryAfter != tt.retryAfter || len(deltas) != tt.deltas {
					t.Errorf("got %v (%d deltas), want %s retry-after %s with %d deltas", err, len(deltas), tt.kind, tt.retryAfter, tt.deltas)
				}
			}
			// The hang was recorded as canceled once the provider gave up.
			deadline := time.Now().Add(10 * time.Second)
			for {
				b, _ := os.ReadFile(rec)
				if bytes.Contains(b, []byte(`{"n":6,"event":"canceled"}`)) {
					if !bytes.Contains(b, []byte(`sk-mock"`)) {
						t.Error("the record lacks the API key header")
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no canceled record:\n%s", b)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
