package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/gateway/ws"
)

func newServer(t *testing.T) string {
	t.Helper()
	runner := agent.New(agent.Options{StateDir: t.TempDir()})
	s := ws.New(ws.Options{Runner: runner, Authorize: func(_ *http.Request, a ws.ConnectAuth) ws.AuthDecision {
		if a.Token == "t0k" {
			return ws.AuthDecision{OK: true}
		}
		if a.Token == "" {
			return ws.AuthDecision{Reason: "token_missing"}
		}
		return ws.AuthDecision{Reason: "token_mismatch"}
	}})
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		hs.Close()
	})
	return hs.URL
}

func TestDialErrors(t *testing.T) {
	gw := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()

	tests := []struct {
		name, url, token string
		refused          bool
		msg              string
	}{
		{"nothing listening", "ws://" + closedAddr, "t0k", false, "no gateway at ws://" + closedAddr + " (connection refused)"},
		{"not a WebSocket endpoint", plain.URL, "t0k", false, "no gateway at ws://" + strings.TrimPrefix(plain.URL, "http://") + " (not a WebSocket endpoint: HTTP 404)"},
		{"bad URL", "ftp://x", "", false, `no gateway at ftp://x (invalid gateway URL "ftp://x": the scheme must be ws or wss)`},
		{"wrong token", gw, "nope", true, "the gateway at ws://" + strings.TrimPrefix(gw, "http://") + " refused the connection: unauthorized: gateway token mismatch (provide gateway auth token)"},
		{"no token", gw, "", true, "the gateway at ws://" + strings.TrimPrefix(gw, "http://") + " refused the connection: unauthorized: gateway token missing (provide gateway auth token)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(context.Background(), Options{URL: tt.url, Token: tt.token})
			var de *DialError
			if !errors.As(err, &de) || de.Refused != tt.refused || err.Error() != tt.msg {
				t.Fatalf("error %v (refused %v), want %q", err, de != nil && de.Refused, tt.msg)
			}
		})
	}
}

func TestCallsAndEvents(t *testing.T) {
	gw := newServer(t)
	var mu sync.Mutex
	var deltas []string
	c, err := Dial(context.Background(), Options{URL: gw, Token: "t0k", OnEvent: func(f ws.Frame) {
		if f.Event != "agent" {
			return
		}
		var ev ws.AgentEvent
		json.Unmarshal(f.Payload, &ev)
		if ev.Stream == "assistant" {
			mu.Lock()
			deltas = append(deltas, ev.Data["delta"].(string))
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if h := c.Hello(); h.Protocol != 3 || h.Type != "hello-ok" {
		t.Fatalf("hello %+v", h)
	}
	ctx := context.Background()
	p, err := c.Call(ctx, "health", nil)
	if err != nil || !strings.Contains(string(p), `"ok":true`) {
		t.Fatalf("health %s %v", p, err)
	}
	_, err = c.Call(ctx, "nosuch", nil)
	var es *ws.ErrorShape
	if !errors.As(err, &es) || es.Message != "unknown method: nosuch" {
		t.Fatalf("unknown method: %v", err)
	}

	k, err := c.Start(ctx, "agent", ws.AgentParams{Message: "hello there"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	first, err := k.Next(ctx)
	if err != nil || !first.OK || !strings.Contains(string(first.Payload), `"status":"accepted"`) {
		t.Fatalf("first %+v %v", first, err)
	}
	final, err := k.Next(ctx)
	if err != nil || !final.OK {
		t.Fatalf("final %+v %v", final, err)
	}
	var fin ws.AgentFinal
	json.Unmarshal(final.Payload, &fin)
	mu.Lock()
	got := strings.Join(deltas, "")
	mu.Unlock()
	if fin.Result.Payloads[0].Text != "Echo: hello there" || got != fin.Result.Payloads[0].Text {
		t.Fatalf("final %s, deltas %q", final.Payload, got)
	}

	// After Close, Next reports the end instead of blocking.
	k2, err := c.Start(ctx, "agent", ws.AgentParams{Message: "x", Timeout: new(int64)})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for {
		if _, err := k2.Next(ctx); err != nil {
			break
		}
	}
	if c.Err() == nil {
		t.Fatal("no error after close")
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:1": "ws://127.0.0.1:1",
		"http://h:2/ws":    "ws://h:2/ws",
		"HTTPS://h":        "wss://h",
		" wss://h:3 ":      "wss://h:3",
		"127.0.0.1:18789":  "",
		"ftp://h":          "",
		"ws://":            "",
	} {
		got, err := NormalizeURL(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
}
