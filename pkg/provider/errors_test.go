package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// apis runs a test against both HTTP APIs.
var apis = []struct {
	api  string
	base func(url string) string
}{
	{APIOpenAI, func(u string) string { return u + "/v1" }},
	{APIAnthropic, func(u string) string { return u }},
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		hdr        map[string]string
		kind       ErrorKind
		retryAfter time.Duration
		msg        string // Error.Message contains
	}{
		{"401", 401, `{"error":{"message":"Incorrect API key provided: sk-secret","type":"invalid_request_error"}}`, nil, ErrAuth, 0, "Incorrect API key provided: [redacted]"},
		{"403", 403, `{"type":"error","error":{"type":"permission_error","message":"no access"}}`, nil, ErrAuth, 0, "no access"},
		{"429 seconds", 429, `{"error":{"message":"Rate limit reached","type":"requests"}}`, map[string]string{"Retry-After": "7"}, ErrRateLimit, 7 * time.Second, "Rate limit reached"},
		{"429 ms wins", 429, `{}`, map[string]string{"Retry-After": "7", "retry-after-ms": "1500"}, ErrRateLimit, 1500 * time.Millisecond, "Too Many Requests"},
		{"429 no header", 429, `rate limited`, nil, ErrRateLimit, 0, "rate limited"},
		{"500", 500, `{"error":{"message":"The server had an error","type":"server_error"}}`, nil, ErrOverloaded, 0, "The server had an error"},
		{"502 html", 502, `<html>bad gateway</html>`, nil, ErrOverloaded, 0, "<html>bad gateway</html>"},
		{"503 retry-after", 503, `{}`, map[string]string{"Retry-After": "2"}, ErrOverloaded, 2 * time.Second, "Service Unavailable"},
		{"529", 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, nil, ErrOverloaded, 0, "Overloaded"},
		{"400", 400, `{"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens"}}`, nil, ErrBadRequest, 0, "max_tokens is too large"},
		{"400 that says overloaded", 400, `{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`, nil, ErrOverloaded, 0, "busy"},
		{"404", 404, `{"error":{"message":"The model 'nope' does not exist","type":"invalid_request_error","code":"model_not_found"}}`, nil, ErrBadRequest, 0, "does not exist"},
		{"404 plain string error (ollama)", 404, `{"error":"model \"nope\" not found, try pulling it first"}`, nil, ErrBadRequest, 0, `model "nope" not found`},
		{"422 detail (vllm)", 422, `{"detail":"bad field"}`, nil, ErrBadRequest, 0, "bad field"},
		{"408", 408, ``, nil, ErrTimeout, 0, "Request Timeout"},
		{"long message truncated", 500, strings.Repeat("z", 5000), nil, ErrOverloaded, 0, strings.Repeat("z", maxErrMsg) + "..."},
		{"307 not followed", 307, ``, map[string]string{"Location": "https://user:pw@elsewhere.test/v1"}, ErrBadRequest, 0, "redirected to https://user:xxxxx@elsewhere.test/v1; fix the baseUrl"},
	}
	for _, a := range apis {
		for _, tt := range tests {
			t.Run(a.api+"/"+tt.name, func(t *testing.T) {
				f := newFake(t, jsonHandler(tt.status, tt.body, tt.hdr))
				p := mustNew(t, Config{ID: "up", API: a.api, BaseURL: a.base(f.URL), APIKey: "sk-secret"})
				_, err := p.Stream(context.Background(), &Request{Model: "m1"}, nil)
				e, ok := AsError(err)
				if !ok {
					t.Fatalf("got %T %v, want *Error", err, err)
				}
				if e.Kind != tt.kind || e.Status != tt.status || e.RetryAfter != tt.retryAfter {
					t.Errorf("kind %s status %d retryAfter %s; want %s %d %s", e.Kind, e.Status, e.RetryAfter, tt.kind, tt.status, tt.retryAfter)
				}
				if !strings.Contains(e.Message, tt.msg) {
					t.Errorf("message %q does not contain %q", e.Message, tt.msg)
				}
				if e.Provider != "up" || e.Model != "m1" {
					t.Errorf("provider/model %s/%s", e.Provider, e.Model)
				}
				if strings.Contains(e.Error(), "sk-secret") {
					t.Errorf("the key leaked: %s", e.Error())
				}
			})
		}
	}
}

// TestStreamFailures covers failures after a 200: cuts, garbage, errors in
// the stream. Each API gets its own stream text.
func TestStreamFailures(t *testing.T) {
	oaDelta := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"part\"}}]}\n\n"
	anStart := anSSE("message_start", `{"type":"message_start","message":{"model":"m","usage":{"input_tokens":1}}}`,
		"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"part"}}`)
	tests := []struct {
		name       string
		api        string
		handler    http.HandlerFunc
		kind       ErrorKind
		msg        string
		wantDeltas []string
	}{
		{"openai cut mid-stream", APIOpenAI, cutHandler(oaDelta), ErrBadResponse, "response cut short", []string{"part"}},
		{"anthropic cut mid-stream", APIAnthropic, cutHandler(anStart), ErrBadResponse, "response cut short", []string{"part"}},
		{"openai ends without finish", APIOpenAI, sseHandler(oaDelta), ErrBadResponse, "stream ended before the reply finished", []string{"part"}},
		{"anthropic ends without message_stop", APIAnthropic, sseHandler(anStart), ErrBadResponse, "stream ended before the reply finished", []string{"part"}},
		{"openai invalid JSON", APIOpenAI, sseHandler("data: {nope\n\n"), ErrBadResponse, "invalid JSON in stream: {nope", nil},
		{"anthropic invalid JSON", APIAnthropic, sseHandler("event: x\ndata: nope\n\n"), ErrBadResponse, "invalid JSON in stream: nope", nil},
		{"openai garbage body", APIOpenAI, jsonHandler(200, "hello world", nil), ErrBadResponse, "stream ended before", nil},
		{"openai empty body", APIOpenAI, jsonHandler(200, "", nil), ErrBadResponse, "stream ended before", nil},
		{"openai truncated JSON body", APIOpenAI, jsonHandler(200, `{"choices":[`, nil), ErrBadResponse, "invalid JSON response", nil},
		{"openai JSON without choices", APIOpenAI, jsonHandler(200, `{"object":"x"}`, nil), ErrBadResponse, "no choices", nil},
		{"anthropic JSON not a message", APIAnthropic, jsonHandler(200, `{"object":"x"}`, nil), ErrBadResponse, "not a message", nil},
		{"openai error in stream", APIOpenAI, sseHandler(oaDelta + "data: {\"error\":{\"message\":\"server overloaded\",\"type\":\"server_error\"}}\n\n"), ErrOverloaded, "server_error: server overloaded", []string{"part"}},
		{"openai error JSON with 200", APIOpenAI, jsonHandler(200, `{"error":{"message":"quota","type":"insufficient_quota"}}`, nil), ErrRateLimit, "quota", nil},
		{"anthropic error event", APIAnthropic, sseHandler(anStart + anSSE("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)), ErrOverloaded, "overloaded_error: Overloaded", []string{"part"}},
		{"anthropic error JSON with 200", APIAnthropic, jsonHandler(200, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`, nil), ErrRateLimit, "slow down", nil},
		{"openai connection closed before a response", APIOpenAI, hijackClose, ErrConnection, "connection closed before a response", nil},
		{"anthropic connection closed before a response", APIAnthropic, hijackClose, ErrConnection, "connection closed before a response", nil},
		{"openai not HTTP", APIOpenAI, hijackWrite("SSH-2.0-OpenSSH\r\n\r\n"), ErrBadResponse, "not an HTTP response", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handler)
			base := f.URL
			if tt.api == APIOpenAI {
				base += "/v1"
			}
			p := mustNew(t, Config{ID: "up", API: tt.api, BaseURL: base})
			_, deltas, err := run(p, context.Background(), &Request{Model: "m"})
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("got %v, want *Error", err)
			}
			if e.Kind != tt.kind || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("got %s %q; want %s containing %q", e.Kind, e.Message, tt.kind, tt.msg)
			}
			diff(t, "deltas before the failure", deltas, tt.wantDeltas)
		})
	}
}

// cutHandler sends body then drops the connection without ending the
// chunked response.
func cutHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
}

func hijackClose(w http.ResponseWriter, r *http.Request) {
	c, _, _ := w.(http.Hijacker).Hijack()
	_ = c.Close()
}

func hijackWrite(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		_, _ = io.WriteString(c, s)
		_ = c.Close()
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, a := range apis {
		p := mustNew(t, Config{ID: "up", API: a.api, BaseURL: a.base("http://" + addr)})
		_, err := p.Stream(context.Background(), &Request{Model: "m"}, nil)
		e, ok := AsError(err)
		if !ok || e.Kind != ErrConnection || !e.Retryable() {
			t.Errorf("%s: got %v, want a retryable connection error", a.api, err)
		}
	}
}

// TestTimeouts: a server that never answers, and one that stops in the
// middle, both end in a timeout and the server sees the request aborted.
func TestTimeouts(t *testing.T) {
	for _, a := range apis {
		for _, mid := range []bool{false, true} {
			name := a.api + "/no headers"
			if mid {
				name = a.api + "/stalled stream"
			}
			t.Run(name, func(t *testing.T) {
				var f *fakeServer
				f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
					if mid {
						w.Header().Set("Content-Type", "text/event-stream")
						_, _ = io.WriteString(w, ": started\n\n")
						w.(http.Flusher).Flush()
					}
					f.hangUntilGone(r)
				})
				p := mustNew(t, Config{ID: "up", API: a.api, BaseURL: a.base(f.URL), ReadTimeout: 200 * time.Millisecond})
				_, err := p.Stream(context.Background(), &Request{Model: "m"}, nil)
				e, ok := AsError(err)
				if !ok || e.Kind != ErrTimeout || !e.Retryable() {
					t.Fatalf("got %v, want a timeout", err)
				}
				want := "no response within 200ms"
				if mid {
					want = "stream stalled for more than 200ms"
				}
				if e.Message != want {
					t.Errorf("message %q, want %q", e.Message, want)
				}
				f.sawGone(t)
			})
		}
	}
}

// TestSlowButSteadyStreamIsNotATimeout: the read timeout bounds each gap,
// not the whole stream.
func TestSlowButSteadyStreamIsNotATimeout(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for range 4 {
			_, _ = io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(300 * time.Millisecond)
		}
		_, _ = io.WriteString(w, oaSSE(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`))
	})
	p := mustNew(t, Config{ID: "up", API: APIOpenAI, BaseURL: f.URL + "/v1", ReadTimeout: time.Second})
	resp, err := p.Stream(context.Background(), &Request{Model: "m"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "xxxx" {
		t.Errorf("text %q", resp.Text)
	}
}

// TestCancel: the caller's context ends mid-stream (and before headers);
// the call returns canceled and the server sees the request end.
func TestCancel(t *testing.T) {
	oaFirst := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"first\"}}]}\n\n"
	anFirst := anSSE("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"first"}}`)
	for _, a := range apis {
		for _, mid := range []bool{false, true} {
			name := a.api + "/before headers"
			if mid {
				name = a.api + "/mid-stream"
			}
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var f *fakeServer
				f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
					if mid {
						w.Header().Set("Content-Type", "text/event-stream")
						first := oaFirst
						if a.api == APIAnthropic {
							first = anFirst
						}
						_, _ = io.WriteString(w, first)
						w.(http.Flusher).Flush()
					} else {
						cancel()
					}
					f.hangUntilGone(r)
				})
				p := mustNew(t, Config{ID: "up", API: a.api, BaseURL: a.base(f.URL)})
				_, err := p.Stream(ctx, &Request{Model: "m"}, func(string) { cancel() })
				e, ok := AsError(err)
				if !ok || e.Kind != ErrCanceled || e.Retryable() || !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want canceled wrapping context.Canceled", err)
				}
				f.sawGone(t)
			})
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		hdr  map[string]string
		want time.Duration
	}{
		{nil, 0},
		{map[string]string{"Retry-After": "30"}, 30 * time.Second},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{map[string]string{"Retry-After": "0"}, 0},
		{map[string]string{"Retry-After": "-3"}, 0},
		{map[string]string{"Retry-After": "soon"}, 0},
		{map[string]string{"Retry-After": "Sun, 01 Mar 2026 12:01:30 GMT"}, 90 * time.Second},
		{map[string]string{"Retry-After": "Sun, 01 Mar 2026 11:00:00 GMT"}, 0},
		{map[string]string{"Retry-After-Ms": "250"}, 250 * time.Millisecond},
		{map[string]string{"Retry-After-Ms": "x", "Retry-After": "3"}, 3 * time.Second},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.hdr {
			h.Set(k, v)
		}
		if got := parseRetryAfter(h, now); got != tt.want {
			t.Errorf("%v: got %s, want %s", tt.hdr, got, tt.want)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Kind: ErrRateLimit, Provider: "openai", Model: "gpt", Status: 429, Message: "slow down"}
	if got, want := e.Error(), "openai/gpt: rate_limit (HTTP 429): slow down"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !e.Retryable() {
		t.Error("429 should be retryable")
	}
	if (&Error{Kind: ErrBadRequest}).Retryable() || (&Error{Kind: ErrAuth}).Retryable() || (&Error{Kind: ErrBadResponse}).Retryable() {
		t.Error("bad request, auth and bad response are not retryable")
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	s := strings.Repeat("é", 10) // 2 bytes each
	if got := truncate(s, 5); got != "éé..." {
		t.Errorf("got %q", got)
	}
	if got := truncate("short", 10); got != "short" {
		t.Errorf("got %q", got)
	}
}
