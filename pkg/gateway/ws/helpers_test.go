package ws

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// fakeModel answers every model call with answer and counts calls.
type fakeModel struct {
	calls  atomic.Int32
	answer func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error)
}

func (f *fakeModel) Stream(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	f.calls.Add(1)
	return f.answer(ctx, req, onDelta)
}

// words streams text in deltas split after spaces.
func words(text string) func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
	return func(_ context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		for _, w := range strings.SplitAfter(text, " ") {
			onDelta(w)
		}
		return &provider.Response{Text: text, StopReason: provider.StopEnd, Usage: provider.Usage{Input: 3, Output: 2}, Model: req.Model}, nil
	}
}

// hang blocks until the call is canceled; started is closed at the start
// of the first call.
func hang(started chan struct{}) func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
	var once sync.Once
	return func(ctx context.Context, _ *provider.Request, onDelta func(string)) (*provider.Response, error) {
		onDelta("partial ")
		once.Do(func() { close(started) })
		<-ctx.Done()
		return nil, &provider.Error{Kind: provider.ErrCanceled, Message: "canceled", Err: ctx.Err()}
	}
}

type testEnv struct {
	t      *testing.T
	srv    *Server
	http   *httptest.Server
	url    string
	model  *fakeModel
	runner *agent.Runner
}

// newEnv starts a protocol server with a fake model "fake/m" on an
// httptest server; token "t0k" is the secret unless authorize is given.
func newEnv(t *testing.T, opts Options, answer func(context.Context, *provider.Request, func(string)) (*provider.Response, error)) *testEnv {
	t.Helper()
	cfg := config.Default()
	cfg.Models.Providers = map[string]config.Provider{"fake": {BaseURL: "http://127.0.0.1:1/v1", API: provider.APIOpenAI}}
	cfg.Agents.Defaults.Model = config.ModelRef{Primary: "fake/m"}
	cfg.Agents.List = []config.AgentEntry{{ID: "main"}, {ID: "work"}}
	fm := &fakeModel{answer: answer}
	runner := agent.New(agent.Options{StateDir: t.TempDir(), Config: cfg, NewProvider: func(provider.Config) (provider.Provider, error) { return fm, nil }})
	opts.Runner = runner
	if opts.Authorize == nil {
		opts.Authorize = tokenAuth("t0k")
	}
	if opts.Version == "" {
		opts.Version = "v-test"
	}
	s := New(opts)
	hs := httptest.NewServer(s)
	env := &testEnv{t: t, srv: s, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http"), model: fm, runner: runner}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		hs.Close()
	})
	return env
}

func tokenAuth(secret string) func(*http.Request, ConnectAuth) AuthDecision {
	return func(_ *http.Request, a ConnectAuth) AuthDecision {
		switch a.Token {
		case secret:
			return AuthDecision{OK: true}
		case "":
			return AuthDecision{Reason: "token_missing"}
		}
		return AuthDecision{Reason: "token_mismatch"}
	}
}

// client is a raw protocol client for tests.
type client struct {
	t  *testing.T
	c  *websocket.Conn
	ch chan Frame
	// closed receives the close error once the connection ended.
	closed chan error
}

func (e *testEnv) dial() *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.url, nil)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(32 << 20)
	cl := &client{t: e.t, c: c, ch: make(chan Frame, 1024), closed: make(chan error, 1)}
	go func() {
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				cl.closed <- err
				close(cl.ch)
				return
			}
			var f Frame
			if err := json.Unmarshal(data, &f); err != nil {
				cl.closed <- err
				close(cl.ch)
				return
			}
			cl.ch <- f
		}
	}()
	e.t.Cleanup(func() { c.CloseNow() })
	return cl
}

func (c *client) send(v any) {
	c.t.Helper()
	b, ok := v.([]byte)
	if !ok {
		if s, isStr := v.(string); isStr {
			b = []byte(s)
		} else {
			var err error
			if b, err = json.Marshal(v); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// recv returns the next frame, failing after 10 s.
func (c *client) recv() Frame {
	c.t.Helper()
	select {
	case f, ok := <-c.ch:
		if !ok {
			c.t.Fatalf("connection closed: %v", <-c.closedErr())
		}
		return f
	case <-time.After(10 * time.Second):
		c.t.Fatalf("no frame within 10s")
	}
	return Frame{}
}

func (c *client) closedErr() chan error { return c.closed }

// recvNonTick returns the next frame that is not a tick.
func (c *client) recvNonTick() Frame {
	c.t.Helper()
	for {
		if f := c.recv(); f.Event != "tick" {
			return f
		}
	}
}

// waitClose waits for the server to close and returns the close status.
func (c *client) waitClose() websocket.CloseError {
	c.t.Helper()
	for {
		select {
		case _, ok := <-c.ch:
			if ok {
				continue
			}
			err := <-c.closed
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("connection ended without a close frame: %v", err)
			}
			return ce
		case <-time.After(15 * time.Second):
			c.t.Fatalf("not closed within 15s")
		}
	}
}

func connectFrame(token string, min, max int) map[string]any {
	return map[string]any{"type": "req", "id": "c1", "method": "connect", "params": map[string]any{
		"minProtocol": min, "maxProtocol": max,
		"client": map[string]any{"id": "test", "version": "1", "platform": "linux", "mode": "test"},
		"auth":   map[string]any{"token": token},
	}}
}

// connected dials and completes the handshake.
func (e *testEnv) connected() *client {
	e.t.Helper()
	c := e.dial()
	if f := c.recv(); f.Event != "connect.challenge" {
		e.t.Fatalf("first frame %+v, want the challenge", f)
	}
	c.send(connectFrame("t0k", 3, 3))
	if f := c.recv(); !f.OK {
		e.t.Fatalf("connect failed: %+v", f.Error)
	}
	return c
}

func req(id, method string, params any) map[string]any {
	m := map[string]any{"type": "req", "id": id, "method": method}
	if params != nil {
		m["params"] = params
	}
	return m
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// waitFor polls cond until it holds (10 s at most).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// goroutines waits until the number of goroutines is back to at most n.
func goroutinesBackTo(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		got := runtime.NumGoroutine()
		if got <= n {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", got, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newReq() *http.Request { return httptest.NewRequest("GET", "/", nil) }
