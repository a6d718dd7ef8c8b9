package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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

// fakeProvider answers model calls with fn.
type fakeProvider struct {
	fn func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error)
}

func (p fakeProvider) Stream(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	return p.fn(ctx, req, onDelta)
}

// replyWith is a provider that streams deltas and ends with usage.
func replyWith(deltas ...string) fakeProvider {
	return fakeProvider{fn: func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		for _, d := range deltas {
			onDelta(d)
		}
		return &provider.Response{Text: strings.Join(deltas, ""), StopReason: provider.StopEnd, Usage: provider.Usage{Input: 5, Output: len(deltas), CacheRead: 2}}, nil
	}}
}

func failWith(err error) fakeProvider {
	return fakeProvider{fn: func(context.Context, *provider.Request, func(string)) (*provider.Response, error) { return nil, err }}
}

// syncBuffer is a log sink the test can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testConfig has the chat endpoint on, token t0k, and the fake model.
func testConfig() *config.Config {
	cfg := config.Default()
	cfg.Gateway.Auth.Token = "t0k"
	cfg.Gateway.HTTP.Endpoints.ChatCompletions.Enabled = true
	cfg.Agents.Defaults.Model = config.ModelRef{Primary: "fake/m"}
	cfg.Models.Providers = map[string]config.Provider{"fake": {API: provider.APIOpenAI, BaseURL: "http://127.0.0.1:1/v1"}}
	cfg.Tools.Profile = "minimal"
	return cfg
}

func newTestServer(tb testing.TB, p provider.Provider, edit func(*config.Config)) (*Server, *syncBuffer) {
	tb.Helper()
	cfg := testConfig()
	if edit != nil {
		edit(cfg)
	}
	logs := &syncBuffer{}
	lg := log.New(logs)
	runner := agent.New(agent.Options{StateDir: tb.TempDir(), Config: cfg, Log: lg,
		NewProvider: func(provider.Config) (provider.Provider, error) { return p, nil }})
	s, err := New(Options{Runner: runner, Log: lg})
	if err != nil {
		tb.Fatal(err)
	}
	s.SetReady(true)
	return s, logs
}

const hiBody = `{"messages":[{"role":"user","content":"hi"}]}`
const hiStream = `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`

func do(s http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func post(s http.Handler, body string, hdr ...string) *httptest.ResponseRecorder {
	return do(s, http.MethodPost, "/v1/chat/completions", body, append([]string{"Authorization", "Bearer t0k"}, hdr...)...)
}

func errBody(status int, msg, typ string) string {
	m, _ := json.Marshal(msg)
	return `{"error":{"message":` + string(m) + `,"type":"` + typ + `","param":null,"code":null}}` + "\n"
}

// TestModelFailureMapping sends every kind of provider failure through the
// handler, plain and streamed: the status, type and message the client
// gets, Retry-After for a rate limit, and the cause in the log only.
func TestModelFailureMapping(t *testing.T) {
	const credentials = "upstream provider rejected the gateway's credentials; check the provider's API key in the gateway's config"
	for _, tt := range []struct {
		kind       provider.ErrorKind
		retryAfter time.Duration
		status     int
		typ, msg   string
		header     string // Retry-After
	}{
		{provider.ErrAuth, 0, 502, "api_error", credentials, ""},
		{provider.ErrRateLimit, 1500 * time.Millisecond, 429, "rate_limit_error", "upstream provider rate limit reached; try again later", "2"},
		{provider.ErrRateLimit, 0, 429, "rate_limit_error", "upstream provider rate limit reached; try again later", ""},
		{provider.ErrOverloaded, 0, 502, "api_error", "upstream provider error", ""},
		{provider.ErrTimeout, 0, 504, "api_error", "upstream provider timed out", ""},
		{provider.ErrConnection, 0, 502, "api_error", "upstream provider error", ""},
		{provider.ErrBadRequest, 0, 502, "api_error", "upstream provider error", ""},
		{provider.ErrBadResponse, 0, 502, "api_error", "upstream provider error", ""},
		{provider.ErrCanceled, 0, 502, "api_error", "upstream provider error", ""},
	} {
		t.Run(fmt.Sprintf("%s/%s", tt.kind, tt.retryAfter), func(t *testing.T) {
			cause := &provider.Error{Kind: tt.kind, Provider: "fake", Model: "m", Status: 418, RetryAfter: tt.retryAfter, Message: "upstream said sk-LEAK"}
			s, logs := newTestServer(t, failWith(cause), nil)

			w := post(s, hiBody)
			if w.Code != tt.status || w.Body.String() != errBody(tt.status, tt.msg, tt.typ) {
				t.Errorf("got %d %s", w.Code, w.Body)
			}
			if got := w.Header().Get("Retry-After"); got != tt.header {
				t.Errorf("Retry-After %q, want %q", got, tt.header)
			}
			if w.Header().Get("x-should-retry") != "" {
				t.Error("an upstream failure must not tell SDKs to stop retrying")
			}

			w = post(s, hiStream)
			want := fmt.Sprintf("data: {\"error\":{\"message\":%q,\"type\":%q}}\n\ndata: [DONE]\n\n", tt.msg, tt.typ)
			if w.Code != 200 || !strings.HasSuffix(w.Body.String(), want) || !strings.Contains(w.Body.String(), `"delta":{"role":"assistant"}`) {
				t.Errorf("stream: got %d %q", w.Code, w.Body)
			}
			if w.Header().Get("Retry-After") != "" {
				t.Error("a stream's headers are sent before the model fails")
			}
			if !strings.Contains(logs.String(), "sk-LEAK") {
				t.Errorf("the cause is not logged:\n%s", logs)
			}
		})
	}
}

// TestRunFailureMapping covers the runner's own failure kinds.
func TestRunFailureMapping(t *testing.T) {
	s, logs := newTestServer(t, replyWith("x"), nil)
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	for _, tt := range []struct {
		name     string
		err      error
		override string
		want     string // errBody; "" means no answer (the client left)
		status   int
	}{
		{"unknown agent after a reload", &agent.Error{Kind: agent.ErrUnknownAgent, Msg: "unknown agent id \"gone\""}, "", errBody(400, "Unknown agent 'gone'.", "invalid_request_error"), 400},
		{"override refused", &agent.Error{Kind: agent.ErrUnknownModel, Msg: "unknown model provider \"x\""}, "x/y", `{"error":{"message":"Unknown model: x/y","type":"invalid_request_error","param":null,"code":"model_not_found"}}` + "\n", 404},
		{"configured model unusable", &agent.Error{Kind: agent.ErrUnknownModel, Msg: "unknown model provider \"x\""}, "", errBody(500, "internal error", "api_error"), 500},
		{"bad request", &agent.Error{Kind: agent.ErrBadRequest, Msg: "model fake/m does not accept image input"}, "", errBody(400, "model fake/m does not accept image input", "invalid_request_error"), 400},
		{"run timeout", &agent.Error{Kind: agent.ErrTimeout, Msg: "run timed out"}, "", errBody(504, "upstream provider timed out", "api_error"), 504},
		{"internal", &agent.Error{Kind: agent.ErrInternal, Msg: "append session transcript: disk full at /secret/path"}, "", errBody(500, "internal error", "api_error"), 500},
		{"not an agent error", errors.New("boom at /secret/path"), "", errBody(500, "internal error", "api_error"), 500},
		{"canceled", &agent.Error{Kind: agent.ErrCanceled, Msg: "run canceled"}, "", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			areq := &agent.Request{AgentID: "gone", Model: tt.override}
			err := s.runFailure(w, r, areq, tt.err)
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v for a client that left", err)
				}
				return
			}
			s.writeError(w, r, err)
			if w.Code != tt.status || w.Body.String() != tt.want {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tt.status, tt.want)
			}
		})
	}
	if !strings.Contains(logs.String(), "/secret/path") {
		t.Errorf("internal causes are not logged:\n%s", logs)
	}
}

// TestRunTimeout: a model that never answers within
// agents.defaults.timeoutSeconds is a 504, and its call is canceled.
func TestRunTimeout(t *testing.T) {
	canceled := make(chan error, 1)
	hang := fakeProvider{fn: func(ctx context.Context, _ *provider.Request, _ func(string)) (*provider.Response, error) {
		<-ctx.Done()
		canceled <- ctx.Err()
		return nil, ctx.Err()
	}}
	s, _ := newTestServer(t, hang, func(c *config.Config) { c.Agents.Defaults.TimeoutSeconds = 1 })
	w := post(s, hiBody)
	if w.Code != 504 || w.Body.String() != errBody(504, "upstream provider timed out", "api_error") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
	if err := <-canceled; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("model call ended with %v", err)
	}
}

// readEvent reads one SSE event (up to the blank line).
func readEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var ev strings.Builder
	for {
		line, err := br.ReadString('\n')
		ev.WriteString(line)
		if line == "\n" {
			return ev.String()
		}
		if err != nil {
			t.Fatalf("stream ended: %v (read %q)", err, ev.String())
		}
	}
}

// TestStreamFlushesAtOnce: the role chunk reaches the client before the
// model answers, and each delta before the next one is produced.
func TestStreamFlushesAtOnce(t *testing.T) {
	step := make(chan struct{})
	p := fakeProvider{fn: func(ctx context.Context, _ *provider.Request, onDelta func(string)) (*provider.Response, error) {
		for _, d := range []string{"a ", "a ", "b"} {
			select {
			case <-step:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			onDelta(d)
		}
		return &provider.Response{Text: "a a b", StopReason: provider.StopEnd, Usage: provider.Usage{Input: 3, Output: 3}}, nil
	}}
	s, _ := newTestServer(t, p, nil)
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer t0k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("headers %v", resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	chunk := regexp.MustCompile(`^data: \{"id":"(chatcmpl-[0-9A-Z]+)","object":"chat.completion.chunk","created":(\d+),"model":"openclaw","choices":\[(.*)\]\}\n\n$`)
	var id, created string
	check := func(ev, choices string) {
		t.Helper()
		m := chunk.FindStringSubmatch(ev)
		if m == nil || m[3] != choices {
			t.Fatalf("event %q, want choices %s", ev, choices)
		}
		if id == "" {
			id, created = m[1], m[2]
		} else if m[1] != id || m[2] != created {
			t.Errorf("chunk id/created %s/%s, want %s/%s", m[1], m[2], id, created)
		}
	}
	// The model has produced nothing yet: the role chunk is already here.
	check(readEvent(t, br), `{"index":0,"delta":{"role":"assistant"},"finish_reason":null}`)
	for _, d := range []string{"a ", "a ", "b"} {
		step <- struct{}{}
		check(readEvent(t, br), `{"index":0,"delta":{"content":"`+d+`"},"finish_reason":null}`)
	}
	check(readEvent(t, br), `{"index":0,"delta":{},"finish_reason":"stop"}`)
	if ev := readEvent(t, br); !strings.Contains(ev, `"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}`) {
		t.Errorf("usage event %q", ev)
	}
	if ev := readEvent(t, br); ev != "data: [DONE]\n\n" {
		t.Errorf("last event %q", ev)
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Errorf("after [DONE]: %q", rest)
	}
}

// TestClientGoneCancelsModelCall: a client hanging up, before the answer
// or in the middle of a stream, cancels the model call, and the access log
// says 499 when nothing was sent.
func TestClientGoneCancelsModelCall(t *testing.T) {
	for _, body := range []string{hiBody, hiStream} {
		started, ended := make(chan struct{}), make(chan error, 1)
		p := fakeProvider{fn: func(ctx context.Context, _ *provider.Request, onDelta func(string)) (*provider.Response, error) {
			onDelta("partial ")
			close(started)
			<-ctx.Done()
			ended <- ctx.Err()
			return nil, ctx.Err()
		}}
		s, logs := newTestServer(t, p, nil)
		srv := httptest.NewServer(s)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t0k")
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		<-started
		cancel()
		if err := <-ended; !errors.Is(err, context.Canceled) {
			t.Errorf("%s: model call ended with %v", body, err)
		}
		<-done
		srv.Close() // waits for the handler
		want := "status=499"
		if body == hiStream {
			want = "status=200" // the stream had started
		}
		if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "client went away") {
			t.Errorf("%s: log lacks %s:\n%s", body, want, logs)
		}
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestBodyLimit: a body over maxBodyBytes is refused from Content-Length
// without reading any of it, and otherwise after reading at most the limit.
func TestBodyLimit(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), func(c *config.Config) { c.Gateway.HTTP.Endpoints.ChatCompletions.MaxBodyBytes = 1000 })
	big := `{"messages":[{"role":"user","content":"` + strings.Repeat("x", 1<<20) + `"}]}`
	for _, announced := range []bool{true, false} {
		body := &countingReader{r: strings.NewReader(big)}
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", body)
		r.Header.Set("Authorization", "Bearer t0k")
		r.ContentLength = int64(len(big))
		if !announced {
			r.ContentLength = -1
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 413 || w.Body.String() != errBody(413, "Payload too large", "invalid_request_error") {
			t.Errorf("announced=%v: got %d %s", announced, w.Code, w.Body)
		}
		if announced && body.n != 0 {
			t.Errorf("read %d bytes of a body refused from its Content-Length", body.n)
		}
		if !announced && body.n > 64<<10 {
			t.Errorf("read %d bytes of a body over a 1000-byte limit", body.n)
		}
	}
	// At the limit: read and answered.
	exact := `{"messages":[{"role":"user","content":"` + strings.Repeat("y", 1000-43) + `"}]}`
	if len(exact) != 1000 {
		t.Fatalf("len %d", len(exact))
	}
	if w := post(s, exact); w.Code != 200 {
		t.Errorf("a body at the limit: %d %s", w.Code, w.Body)
	}
}

// TestSlowBody: a body that does not arrive within the body timeout is a
// 408, on a real connection.
func TestSlowBody(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), nil)
	s.bodyTimeout = 200 * time.Millisecond
	srv := httptest.NewServer(s)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\nContent-Length: 100\r\n\r\n{\"messages\":")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 408 || string(b) != errBody(408, "Request body timeout", "invalid_request_error") {
		t.Errorf("got %d %s", resp.StatusCode, b)
	}
}

// TestPanicIsJSON: a panic anywhere under a handler is a 500 JSON error
// with the usual headers; the panic is logged.
func TestPanicIsJSON(t *testing.T) {
	p := fakeProvider{fn: func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
		panic("provider bug")
	}}
	s, logs := newTestServer(t, p, nil)
	w := post(s, hiBody)
	if w.Code != 500 || w.Body.String() != errBody(500, "internal error", "api_error") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
	checkCommonHeaders(t, w.Header())
	if !strings.Contains(logs.String(), "panic in handler") || !strings.Contains(logs.String(), "provider bug") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

// TestPanicMidStream: a panic after the stream started ends the stream
// with an error event and [DONE], not a JSON body inside it.
func TestPanicMidStream(t *testing.T) {
	p := fakeProvider{fn: func(_ context.Context, _ *provider.Request, onDelta func(string)) (*provider.Response, error) {
		onDelta("partial ")
		panic("provider bug")
	}}
	s, logs := newTestServer(t, p, nil)
	w := post(s, hiStream)
	want := "data: {\"error\":{\"message\":\"internal error\",\"type\":\"api_error\"}}\n\ndata: [DONE]\n\n"
	if w.Code != 200 || !strings.HasSuffix(w.Body.String(), want) || !strings.Contains(w.Body.String(), `"content":"partial "`) || strings.Contains(w.Body.String(), "param") {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "panic in handler") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

var requestID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func checkCommonHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Permissions-Policy":     "camera=(), microphone=(), geolocation=()",
	} {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
	if !requestID.MatchString(h.Get("X-Request-Id")) {
		t.Errorf("X-Request-Id %q", h.Get("X-Request-Id"))
	}
}

// TestEveryResponseHasHeaders checks the security headers and a fresh
// X-Request-Id on every kind of answer.
func TestEveryResponseHasHeaders(t *testing.T) {
	s, _ := newTestServer(t, replyWith("ok"), func(c *config.Config) {
		c.Gateway.Auth.RateLimit = config.RateLimit{MaxAttempts: 1, WindowMs: 60000, LockoutMs: 60000}
	})
	ids := map[string]bool{}
	for _, tt := range []struct {
		method, path, body string
		hdr                []string
		status             int
	}{
		{"GET", "/healthz", "", nil, 200},
		{"HEAD", "/readyz", "", nil, 200},
		{"GET", "/nope", "", nil, 404},
		{"GET", "/v1/chat/completions", "", nil, 405},
		{"POST", "/v1/chat/completions", hiBody, []string{"Authorization", "Bearer t0k"}, 200},
		{"POST", "/v1/chat/completions", hiStream, []string{"Authorization", "Bearer t0k"}, 200},
		{"POST", "/v1/chat/completions", "[]", []string{"Authorization", "Bearer t0k"}, 400},
		{"GET", "/v1/models", "", []string{"Authorization", "Bearer t0k"}, 200},
		{"GET", "/v1/models", "", nil, 401},
		{"GET", "/v1/models", "", []string{"Authorization", "Bearer wrong"}, 401},
		{"GET", "/v1/models", "", []string{"Authorization", "Bearer t0k"}, 429},
	} {
		r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		r.RemoteAddr = "192.0.2.1:1234" // not loopback: the limiter counts it
		for i := 0; i+1 < len(tt.hdr); i += 2 {
			r.Header.Set(tt.hdr[i], tt.hdr[i+1])
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s %s: %d, want %d: %s", tt.method, tt.path, w.Code, tt.status, w.Body)
		}
		checkCommonHeaders(t, w.Header())
		id := w.Header().Get("X-Request-Id")
		if ids[id] {
			t.Errorf("request id %s used twice", id)
		}
		ids[id] = true
	}
}

// TestAccessLog: one line per request with method, path and status; never
// the Authorization header, a secret or a prompt.
func TestAccessLog(t *testing.T) {
	s, logs := newTestServer(t, replyWith("ok"), nil)
	post(s, `{"messages":[{"role":"user","content":"PROMPT-TEXT"}]}`)
	do(s, "GET", "/v1/models?x=1", "", "Authorization", "Bearer not-the-token")
	out := logs.String()
	for _, want := range []string{
		`INFO request method=POST path=/v1/chat/completions status=200 bytes=`,
		`INFO request method=GET path=/v1/models status=401 bytes=84 `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"PROMPT-TEXT", "t0k", "not-the-token", "Bearer", "x=1"} {
		if strings.Contains(out, bad) {
			t.Errorf("log holds %q:\n%s", bad, out)
		}
	}
}

// TestReadyz: 503 while starting or draining, 200 when serving; never
// cached, never behind auth.
func TestReadyz(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), nil)
	for _, ready := range []bool{false, true} {
		s.SetReady(ready)
		for _, m := range []string{"GET", "HEAD"} {
			w := do(s, m, "/readyz", "")
			status, body := 503, `{"ready":false}`+"\n"
			if ready {
				status, body = 200, `{"ready":true}`+"\n"
			}
			if m == "HEAD" {
				body = w.Body.String() // the server drops it; the recorder keeps it
			}
			if w.Code != status || w.Body.String() != body || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s ready=%v: %d %q %v", m, ready, w.Code, w.Body, w.Header())
			}
		}
	}
}

// TestApply: a config the server cannot use is refused and the old one
// stays; the limiter survives unrelated reloads and restarts when its own
// settings change.
func TestApply(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), func(c *config.Config) {
		c.Gateway.Auth.RateLimit = config.RateLimit{MaxAttempts: 1, WindowMs: 60000, LockoutMs: 60000}
	})
	cfg := s.state.Load().cfg
	locked := func() bool {
		r := httptest.NewRequest("GET", "/v1/models", nil)
		r.RemoteAddr = "192.0.2.9:1"
		r.Header.Set("Authorization", "Bearer t0k")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code == 429
	}
	r := httptest.NewRequest("GET", "/v1/models", nil)
	r.RemoteAddr = "192.0.2.9:1"
	r.Header.Set("Authorization", "Bearer bad")
	s.ServeHTTP(httptest.NewRecorder(), r)
	if !locked() {
		t.Fatal("not locked after maxAttempts failures")
	}

	noToken := *cfg
	noToken.Gateway.Auth.Token = ""
	if err := s.Apply(&noToken); err == nil || !strings.Contains(err.Error(), "gateway.auth.token") {
		t.Errorf("token mode without a token: %v", err)
	}
	badProxy := *cfg
	badProxy.Gateway.TrustedProxies = []string{"10.0.0.0/33"}
	if err := s.Apply(&badProxy); err == nil || !strings.HasPrefix(err.Error(), "gateway.trustedProxies: ") {
		t.Errorf("bad trusted proxy: %v", err)
	}
	if s.state.Load().cfg != cfg {
		t.Error("a refused config replaced the one in force")
	}

	same := *cfg
	same.Gateway.HTTP.Endpoints.ChatCompletions.MaxBodyBytes = 5
	if err := s.Apply(&same); err != nil {
		t.Fatal(err)
	}
	if !locked() {
		t.Error("an unrelated reload lifted a lockout")
	}
	changed := same
	changed.Gateway.Auth.RateLimit.MaxAttempts = 2
	if err := s.Apply(&changed); err != nil {
		t.Fatal(err)
	}
	if locked() {
		t.Error("new limiter settings kept the old lockouts")
	}
}

// TestAuthPrecedence: flags win over the config file, which wins over the
// environment.
func TestAuthPrecedence(t *testing.T) {
	for _, tt := range []struct {
		ov         AuthOverride
		cfgMode    string
		cfgTok     string
		cfgPass    string
		mode, want string
	}{
		{AuthOverride{EnvToken: "env"}, "token", "", "", "token", "env"},
		{AuthOverride{EnvToken: "env"}, "token", "cfg", "", "token", "cfg"},
		{AuthOverride{EnvToken: "env", Token: "flag"}, "token", "cfg", "", "token", "flag"},
		{AuthOverride{EnvPass: "env"}, "password", "tok", "", "password", "env"},
		{AuthOverride{EnvPass: "env"}, "password", "", "cfg", "password", "cfg"},
		{AuthOverride{EnvPass: "env", Password: "flag"}, "password", "", "cfg", "password", "flag"},
		{AuthOverride{Mode: "password", Password: "flag"}, "token", "tok", "", "password", "flag"},
		{AuthOverride{Mode: "none", Token: "flag"}, "token", "tok", "", "none", ""},
	} {
		s := &Server{auth: tt.ov}
		cfg := config.Default()
		cfg.Gateway.Auth.Mode, cfg.Gateway.Auth.Token, cfg.Gateway.Auth.Password = tt.cfgMode, tt.cfgTok, tt.cfgPass
		mode, secret := s.effectiveAuth(cfg)
		if mode != tt.mode || secret != tt.want {
			t.Errorf("%+v with config %s/%q/%q: %s %q, want %s %q", tt.ov, tt.cfgMode, tt.cfgTok, tt.cfgPass, mode, secret, tt.mode, tt.want)
		}
	}
}

// TestTrustedProxyLimiter: behind a trusted proxy the limiter keys on the
// X-Forwarded-For client, so one client's lockout does not lock out
// another; without trust the header is ignored.
func TestTrustedProxyLimiter(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), func(c *config.Config) {
		c.Gateway.TrustedProxies = []string{"127.0.0.1"}
		c.Gateway.Auth.RateLimit = config.RateLimit{MaxAttempts: 2, WindowMs: 60000, LockoutMs: 60000, ExemptLoopback: true}
	})
	get := func(xff, secret string) int {
		r := httptest.NewRequest("GET", "/v1/models", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		r.Header.Set("Authorization", "Bearer "+secret)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	get("203.0.113.5", "bad")
	get("203.0.113.5", "bad")
	if c := get("203.0.113.5", "t0k"); c != 429 {
		t.Errorf("the failing client: %d, want 429", c)
	}
	if c := get("198.51.100.7, 203.0.113.6", "t0k"); c != 200 {
		t.Errorf("another client: %d, want 200", c)
	}
	// The proxy itself is loopback and exempt.
	for range 3 {
		get("", "bad")
	}
	if c := get("", "t0k"); c != 200 {
		t.Errorf("loopback exempt: %d, want 200", c)
	}
}

// TestRemoteImages: with images.allowUrl the gateway fetches http(s) image
// URLs and hands the model the bytes, within the same limits; without it
// they are refused.
func TestRemoteImages(t *testing.T) {
	png, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cat.png":
			w.Header().Set("Content-Type", "application/octet-stream") // sniffed instead
			w.Write(png)
		case "/big.png":
			w.Write(bytes.Repeat(png, 10))
		default:
			http.NotFound(w, r)
		}
	}))
	defer img.Close()
	var got []provider.Image
	p := fakeProvider{fn: func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		got = req.Messages[len(req.Messages)-1].Images
		return replyWith("a cat").Stream(ctx, req, onDelta)
	}}
	body := func(urls ...string) string {
		var parts []string
		for _, u := range urls {
			parts = append(parts, `{"type":"image_url","image_url":{"url":"`+u+`"}}`)
		}
		return `{"messages":[{"role":"user","content":[{"type":"text","text":"what is it?"},` + strings.Join(parts, ",") + `]}]}`
	}

	s, _ := newTestServer(t, p, nil)
	if w := post(s, body(img.URL+"/cat.png")); w.Code != 400 || !strings.Contains(w.Body.String(), "image 1: remote image URLs are not allowed") {
		t.Errorf("allowUrl off: %d %s", w.Code, w.Body)
	}

	s, _ = newTestServer(t, p, func(c *config.Config) {
		c.Gateway.HTTP.Endpoints.ChatCompletions.Images.AllowURL = true
		c.Gateway.HTTP.Endpoints.ChatCompletions.MaxTotalImageBytes = 5 * int64(len(png))
	})
	dataURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	if w := post(s, body(dataURL, img.URL+"/cat.png")); w.Code != 200 {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	if len(got) != 2 || got[1].MIME != "image/png" || !bytes.Equal(got[1].Data, png) || !bytes.Equal(got[0].Data, png) {
		t.Errorf("the model got %d images: %+v", len(got), got)
	}
	for _, tt := range []struct{ url, want string }{
		{img.URL + "/missing.png", "image 1: fetching the image URL failed: HTTP 404"},
		{img.URL + "/big.png", "images too large: image 1 takes them over the limit of 350 bytes in total (gateway.http.endpoints.chatCompletions.maxTotalImageBytes)"},
		{"http://127.0.0.1:1/x.png", "image 1: could not fetch the image URL"},
	} {
		if w := post(s, body(tt.url)); w.Code != 400 || w.Body.String() != `{"error":{"message":"`+tt.want+`","type":"invalid_request_error","param":"messages","code":null}}`+"\n" {
			t.Errorf("%s: %d %s", tt.url, w.Code, w.Body)
		}
	}
}

// TestLongStreamOutlivesReadTimeout: the server's ReadTimeout (60 s in
// NewHTTPServer) and the body timeout bound reading a request, not the
// stream after it: once the body is in, no read deadline may cut the
// connection and with it the run.
func TestLongStreamOutlivesReadTimeout(t *testing.T) {
	p := fakeProvider{fn: func(ctx context.Context, _ *provider.Request, onDelta func(string)) (*provider.Response, error) {
		for _, d := range []string{"slow ", "but ", "sure"} {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			onDelta(d)
		}
		return &provider.Response{Text: "slow but sure", StopReason: provider.StopEnd}, nil
	}}
	s, _ := newTestServer(t, p, nil)
	s.bodyTimeout = 200 * time.Millisecond
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(hiStream))
	req.Header.Set("Authorization", "Bearer t0k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(b), `"content":"sure"`) || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		t.Errorf("stream cut: %v\n%s", err, b)
	}
}
