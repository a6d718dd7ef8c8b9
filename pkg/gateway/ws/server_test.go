package ws

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestHandshakeSuccess(t *testing.T) {
	e := newEnv(t, Options{}, words("hi"))
	c := e.dial()
	ch := c.recv()
	if ch.Type != TypeEvent || ch.Event != "connect.challenge" || ch.Seq != nil {
		t.Fatalf("challenge frame %+v", ch)
	}
	p := decode[map[string]any](t, ch.Payload)
	if !uuidRe.MatchString(p["nonce"].(string)) || p["ts"].(float64) <= 0 || len(p) != 2 {
		t.Fatalf("challenge payload %v", p)
	}
	c.send(connectFrame("t0k", 1, 5))
	res := c.recv()
	if res.Type != TypeRes || res.ID != "c1" || !res.OK || res.Error != nil {
		t.Fatalf("connect response %+v", res)
	}
	h := decode[HelloOK](t, res.Payload)
	if h.Type != "hello-ok" || h.Protocol != 3 || h.Server.Version != "v-test" || !uuidRe.MatchString(h.Server.ConnID) {
		t.Fatalf("hello %+v", h)
	}
	if strings.Join(h.Features.Methods, ",") != "health,status,agent,agent.abort,sessions.list,chat.history" ||
		strings.Join(h.Features.Events, ",") != "connect.challenge,agent,tick,shutdown" {
		t.Fatalf("features %+v", h.Features)
	}
	if h.Policy != (Policy{MaxPayload: 512 << 10, MaxBufferedBytes: 3 << 19, TickIntervalMs: 30000}) {
		t.Fatalf("policy %+v", h.Policy)
	}
	// Connected: a request is answered.
	c.send(req("h1", "health", nil))
	if f := c.recv(); f.ID != "h1" || !f.OK {
		t.Fatalf("health %+v", f)
	}
}

func TestHandshakeFailures(t *testing.T) {
	// Exactly one byte over: the server then reads the whole frame and its
	// close frame is not lost to a reset of unread data.
	big := overSized(PreAuthMaxPayload + 1)
	tests := []struct {
		name      string
		frame     any
		wantRes   string // the error message of the response, "" for none
		wantCode  websocket.StatusCode
		wantClose string
	}{
		{"not JSON", "hello", "", 1008, "invalid request frame"},
		{"an event, not a request", `{"type":"event","event":"x"}`, "", 1008, "invalid request frame"},
		{"request without id", `{"type":"req","method":"connect"}`, "", 1008, "invalid request frame"},
		{"unknown field", `{"type":"req","id":"1","method":"connect","extra":1}`, "", 1008, "invalid request frame"},
		{"another method first", req("1", "health", nil),
			"invalid handshake: first request must be connect", 1008, "invalid handshake: first request must be connect"},
		{"connect without params", req("1", "connect", nil),
			"invalid connect params: params are required", 1008, "invalid connect params: params are required"},
		{"connect without client", req("1", "connect", map[string]any{"minProtocol": 3, "maxProtocol": 3}),
			"invalid connect params: client is required", 1008, "invalid connect params: client is required"},
		{"client without mode", req("1", "connect", map[string]any{"minProtocol": 3, "maxProtocol": 3,
			"client": map[string]any{"id": "a", "version": "1", "platform": "p"}}),
			"invalid connect params: client.mode is required", 1008, "invalid connect params: client.mode is required"},
		{"protocol too old", connectFrame("t0k", 1, 2), "protocol mismatch", 1002, "protocol mismatch"},
		{"protocol too new", connectFrame("t0k", 4, 9), "protocol mismatch", 1002, "protocol mismatch"},
		{"no token", connectFrame("", 3, 3),
			"unauthorized: gateway token missing (provide gateway auth token)", 1008, "unauthorized: gateway token missing (provide gateway auth token)"},
		{"wrong token", connectFrame("nope", 3, 3),
			"unauthorized: gateway token mismatch (provide gateway auth token)", 1008, "unauthorized: gateway token mismatch (provide gateway auth token)"},
		{"frame over 64 KiB before auth", big, "", 1009, "read limited at 65537 bytes"},
	}
	e := newEnv(t, Options{}, words("hi"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.recv() // challenge
			c.send(tt.frame)
			if tt.wantRes != "" {
				f := c.recv()
				if f.Type != TypeRes || f.OK || f.Error == nil || f.Error.Code != CodeInvalidRequest || f.Error.Message != tt.wantRes {
					t.Fatalf("response %+v %+v, want error %q", f, f.Error, tt.wantRes)
				}
			}
			ce := c.waitClose()
			if ce.Code != tt.wantCode || ce.Reason != tt.wantClose {
				t.Fatalf("closed %d %q, want %d %q", ce.Code, ce.Reason, tt.wantCode, tt.wantClose)
			}
		})
	}
	if n := e.srv.Stats().Connections; n != 0 {
		waitFor(t, "connections to end", func() bool { return e.srv.Stats().Connections == 0 })
	}
}

func TestHandshakeRateLimited(t *testing.T) {
	auth := func(*http.Request, ConnectAuth) AuthDecision {
		return AuthDecision{Reason: "rate_limited", RetryAfter: 42 * time.Second}
	}
	e := newEnv(t, Options{Authorize: auth}, words("hi"))
	c := e.dial()
	c.recv()
	c.send(connectFrame("t0k", 3, 3))
	f := c.recv()
	if f.OK || f.Error.Message != "unauthorized: too many failed authentication attempts (retry later)" ||
		f.Error.RetryAfterMs == nil || *f.Error.RetryAfterMs != 42000 || f.Error.Retryable == nil || *f.Error.Retryable {
		t.Fatalf("response %+v", f.Error)
	}
	if ce := c.waitClose(); ce.Code != 1008 {
		t.Fatalf("close %v", ce)
	}
}

func TestAuthModeNoneAcceptsAnyConnect(t *testing.T) {
	e := newEnv(t, Options{Authorize: func(*http.Request, ConnectAuth) AuthDecision { return AuthDecision{OK: true} }}, words("hi"))
	c := e.dial()
	c.recv()
	c.send(connectFrame("", 3, 3))
	if f := c.recv(); !f.OK {
		t.Fatalf("connect %+v", f.Error)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	e := newEnv(t, Options{HandshakeTimeout: 50 * time.Millisecond}, words("hi"))
	c := e.dial()
	c.recv()
	ce := c.waitClose()
	if ce.Code != 1008 || ce.Reason != "handshake timeout" {
		t.Fatalf("closed %d %q", ce.Code, ce.Reason)
	}
	// A connected client is not affected by the timer.
	c2 := e.connected()
	time.Sleep(100 * time.Millisecond)
	c2.send(req("h", "health", nil))
	if f := c2.recvNonTick(); !f.OK {
		t.Fatalf("health after the handshake timeout passed: %+v", f)
	}
}

func TestFrameLimitRaisedAfterAuth(t *testing.T) {
	e := newEnv(t, Options{MaxPayload: 200 << 10}, words("hi"))
	c := e.connected()
	// 100 KiB is over the pre-auth limit but within the configured one.
	c.send(req("big", "health", map[string]any{"padding": strings.Repeat("k", 100<<10)}))
	if f := c.recv(); f.ID != "big" || !f.OK {
		t.Fatalf("big request: %s %+v", f.ID, f.Error)
	}
	c.send(overSized(200<<10 + 1))
	if ce := c.waitClose(); ce.Code != 1009 {
		t.Fatalf("close %v", ce)
	}
}

func TestRequestErrorsAfterHandshake(t *testing.T) {
	e := newEnv(t, Options{}, words("hi"))
	c := e.connected()
	tests := []struct {
		frame  any
		id     string
		errMsg string
	}{
		{"garbage", "invalid", "invalid request frame: not a JSON object"},
		{`{"type":"req","id":"7","method":""}`, "7", `invalid request frame: "method" must not be empty`},
		{`{"type":"res","id":"8","ok":true}`, "8", `invalid request frame: type must be "req", not "res"`},
		{req("9", "nosuch", nil), "9", "unknown method: nosuch"},
		{req("10", "connect", nil), "10", "already connected"},
		{req("11", "agent", map[string]any{"message": ""}), "11", "invalid agent params: message is required"},
		{req("12", "agent", map[string]any{"message": "x", "bogus": 1}), "12", `invalid agent params: unknown field "bogus"`},
		{req("13", "agent", map[string]any{"message": "x", "timeout": "soon"}), "13", "invalid agent params: timeout must be an integer"},
		{req("14", "agent", map[string]any{"message": "x", "agentId": "nope"}), "14", `unknown agent id "nope" (configured: main, work)`},
		{req("15", "agent", map[string]any{"message": "x", "sessionKey": "cron:x"}), "15", `invalid sessionKey: reserved session key namespace: session key namespace "cron:" is reserved; choose a key that does not start with it`},
		{req("16", "agent", map[string]any{"message": "x", "agentId": "work", "sessionKey": "agent:main:x"}), "16", `sessionKey "agent:main:x" belongs to agent "main", not "work"`},
		{req("17", "agent", map[string]any{"message": "x", "timeout": -1}), "17", "invalid agent params: timeout must be 0 (none) or more seconds"},
		{req("18", "agent", "text"), "18", "invalid agent params: params must be an object"},
		{req("19", "agent.abort", map[string]any{}), "19", "invalid agent.abort params: runId is required"},
		{req("20", "agent.abort", map[string]any{"runId": "r"}), "20", "unknown runId: r"},
		{req("21", "chat.history", map[string]any{}), "21", "invalid chat.history params: sessionKey is required"},
		{req("22", "sessions.list", map[string]any{"limit": 0}), "22", "invalid sessions.list params: limit must be between 1 and 1000"},
		{req("23", "agent", map[string]any{"message": "x", "sessionId": "../x"}), "23", `invalid sessionId "../x": use 1-128 letters, digits, '.', '_' or '-'`},
	}
	for _, tt := range tests {
		c.send(tt.frame)
		f := c.recvNonTick()
		if f.Type != TypeRes || f.ID != tt.id || f.OK || f.Error == nil || f.Error.Code != CodeInvalidRequest || f.Error.Message != tt.errMsg {
			t.Errorf("%v: got %+v %+v, want id %s error %q", tt.frame, f, f.Error, tt.id, tt.errMsg)
		}
	}
	// The connection is still usable.
	c.send(req("ok", "health", nil))
	if f := c.recvNonTick(); !f.OK {
		t.Fatalf("health %+v", f.Error)
	}
}

func TestHealthAndStatus(t *testing.T) {
	ready := false
	e := newEnv(t, Options{Ready: func() bool { return ready }}, words("hi"))
	c := e.connected()
	c.send(req("h", "health", nil))
	h := decode[map[string]any](t, c.recv().Payload)
	if h["ok"] != true || h["status"] != "live" || h["ready"] != false {
		t.Fatalf("health %v", h)
	}
	c.send(req("s", "status", nil))
	s := decode[map[string]any](t, c.recv().Payload)
	if s["version"] != "v-test" || s["protocol"].(float64) != 3 || s["connections"].(float64) != 1 || s["defaultAgentId"] != "main" {
		t.Fatalf("status %v", s)
	}
	agents, _ := json.Marshal(s["agents"])
	if string(agents) != `[{"default":true,"id":"main","model":"fake/m"},{"default":false,"id":"work","model":"fake/m"}]` {
		t.Fatalf("agents %s", agents)
	}
}

func TestTicks(t *testing.T) {
	e := newEnv(t, Options{TickInterval: 10 * time.Millisecond}, words("hi"))
	c := e.connected()
	var last int64
	for i := 0; i < 3; i++ {
		f := c.recv()
		if f.Event != "tick" || f.Seq == nil || *f.Seq <= last {
			t.Fatalf("frame %+v (seq after %d)", f, last)
		}
		last = *f.Seq
		if p := decode[map[string]int64](t, f.Payload); p["ts"] <= 0 || len(p) != 1 {
			t.Fatalf("tick payload %v", p)
		}
	}
}

// The HTTP server's ReadTimeout must not cut a quiet connection.
func TestReadDeadlineCleared(t *testing.T) {
	e := newEnv(t, Options{}, words("hi"))
	hs := httptest.NewUnstartedServer(e.srv)
	hs.Config.ReadTimeout = 50 * time.Millisecond
	hs.Start()
	defer hs.Close()
	e.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	c := e.connected()
	time.Sleep(200 * time.Millisecond)
	c.send(req("h", "health", nil))
	if f := c.recvNonTick(); !f.OK {
		t.Fatalf("health %+v", f.Error)
	}
}

func TestPlainRequestIsNotUpgraded(t *testing.T) {
	e := newEnv(t, Options{}, words("hi"))
	resp, err := http.Get(e.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := httptest.NewRequest("GET", "/", nil)
	if IsUpgrade(r) {
		t.Fatal("plain GET taken as upgrade")
	}
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Upgrade", "WebSocket")
	if !IsUpgrade(r) {
		t.Fatal("upgrade not recognised")
	}
}

func TestShutdown(t *testing.T) {
	started := make(chan struct{})
	e := newEnv(t, Options{}, hang(started))
	c := e.connected()
	c.send(req("a", "agent", map[string]any{"message": "wait"}))
	if f := c.recv(); !f.OK {
		t.Fatalf("accepted %+v", f.Error)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	e.srv.Shutdown(ctx)
	var sawShutdown, sawFinal bool
	for {
		f, ok := <-c.ch
		if !ok {
			break
		}
		if f.Event == "shutdown" {
			sawShutdown = true
		}
		if f.Type == TypeRes && f.ID == "a" {
			sawFinal = true
			if f.OK || f.Error.Message != "run canceled" {
				t.Fatalf("final %+v %+v", f, f.Error)
			}
		}
	}
	ce := c.waitClose()
	if !sawShutdown || !sawFinal || ce.Code != 1012 || ce.Reason != "service restart" {
		t.Fatalf("shutdown %v final %v close %v", sawShutdown, sawFinal, ce)
	}
	// New connections are refused.
	resp, err := http.Get(e.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after shutdown: %d", resp.StatusCode)
	}
}

// Every goroutine of a connection ends when it closes: after clean closes,
// failed handshakes, a client vanishing mid-run, and server-side closes.
func TestConnectionGoroutinesEnd(t *testing.T) {
	started := make(chan struct{})
	e := newEnv(t, Options{HandshakeTimeout: 100 * time.Millisecond}, hang(started))
	runtime.GC()
	base := runtime.NumGoroutine()

	// A clean close by the client.
	c := e.connected()
	c.c.Close(websocket.StatusNormalClosure, "")
	// A failed handshake.
	c = e.dial()
	c.recv()
	c.send(connectFrame("bad", 3, 3))
	c.waitClose()
	// A handshake that times out.
	c = e.dial()
	c.waitClose()
	// A client that vanishes mid-run: the run is canceled.
	c = e.connected()
	c.send(req("a", "agent", map[string]any{"message": "wait"}))
	c.recv()
	<-started
	c.c.CloseNow()

	waitFor(t, "connections and runs to end", func() bool {
		st := e.srv.Stats()
		return st.Connections == 0 && st.ActiveRuns == 0
	})
	// The httptest server keeps idle HTTP conns; those are not ours.
	e.http.CloseClientConnections()
	goroutinesBackTo(t, base)
}

// overSized is a request frame of exactly n bytes.
func overSized(n int) string {
	head, tail := `{"type":"req","id":"x","method":"connect","params":{"pad":"`, `"}}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}
