package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/gateway/ws"
	"github.com/openclaw/openclaw-go/pkg/gateway/wsclient"
)

func wsGateway(t *testing.T, edit func(*config.Config), ov AuthOverride, now ...func() time.Time) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Gateway.Auth.Token = "t0k"
	if edit != nil {
		edit(cfg)
	}
	runner := agent.New(agent.Options{StateDir: t.TempDir(), Config: cfg})
	opts := Options{Runner: runner, Auth: ov}
	if len(now) > 0 {
		opts.Now = now[0]
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.SetReady(true)
	return s
}

func connectReq(remote string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = remote
	return r
}

func TestAuthorizeConnect(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		auth   ws.ConnectAuth
		ok     bool
		reason string
	}{
		{"token ok", AuthToken, ws.ConnectAuth{Token: "t0k"}, true, ""},
		{"token missing", AuthToken, ws.ConnectAuth{}, false, "token_missing"},
		{"password is no token", AuthToken, ws.ConnectAuth{Password: "t0k"}, false, "token_missing"},
		{"token wrong", AuthToken, ws.ConnectAuth{Token: "t0K"}, false, "token_mismatch"},
		{"password ok", AuthPassword, ws.ConnectAuth{Password: "pw", Token: "x"}, true, ""},
		{"password missing", AuthPassword, ws.ConnectAuth{Token: "pw"}, false, "password_missing"},
		{"password wrong", AuthPassword, ws.ConnectAuth{Password: "nope"}, false, "password_mismatch"},
		{"none accepts anything", AuthNone, ws.ConnectAuth{Token: "whatever"}, true, ""},
		{"none accepts nothing", AuthNone, ws.ConnectAuth{}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := wsGateway(t, nil, AuthOverride{Mode: tt.mode, Password: "pw"})
			d := s.AuthorizeConnect(connectReq("192.0.2.1:5000"), tt.auth)
			if d.OK != tt.ok || d.Reason != tt.reason {
				t.Fatalf("got %+v, want ok %v reason %q", d, tt.ok, tt.reason)
			}
		})
	}
}

// WebSocket connects share the HTTP API's limiter: wrong secrets count,
// missing ones do not, a success resets, and a locked-out client is refused
// with the right secret on both.
func TestAuthorizeConnectLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	s := wsGateway(t, func(c *config.Config) {
		c.Gateway.Auth.RateLimit = config.RateLimit{MaxAttempts: 2, WindowMs: 60000, LockoutMs: 30000, ExemptLoopback: true}
	}, AuthOverride{}, func() time.Time { return now })
	remote := connectReq("192.0.2.7:1")
	wrong, right, none := ws.ConnectAuth{Token: "bad"}, ws.ConnectAuth{Token: "t0k"}, ws.ConnectAuth{}
	steps := []struct {
		auth   ws.ConnectAuth
		reason string
	}{
		{wrong, "token_mismatch"}, {right, ""}, // success resets
		{wrong, "token_mismatch"}, {none, "token_missing"}, {none, "token_missing"}, {right, ""},
		{wrong, "token_mismatch"}, {wrong, "token_mismatch"}, // locked
		{right, "rate_limited"},
	}
	for i, st := range steps {
		d := s.AuthorizeConnect(remote, st.auth)
		if d.Reason != st.reason || d.OK != (st.reason == "") {
			t.Fatalf("step %d: %+v, want %q", i, d, st.reason)
		}
		if st.reason == "rate_limited" && d.RetryAfter != 30*time.Second {
			t.Fatalf("retry after %v", d.RetryAfter)
		}
	}
	// The HTTP API sees the lockout too.
	r := httptest.NewRequest("GET", "/v1/models", nil)
	r.RemoteAddr = "192.0.2.7:2"
	r.Header.Set("Authorization", "Bearer t0k")
	w := httptest.NewRecorder()
	if err := s.authorize(w, r); err == nil || !strings.Contains(err.Error(), "Too many failed") {
		t.Fatalf("HTTP auth while locked: %v", err)
	}
	// Loopback is exempt here: never locked.
	lo := connectReq("127.0.0.1:9")
	for i := 0; i < 5; i++ {
		s.AuthorizeConnect(lo, wrong)
	}
	if d := s.AuthorizeConnect(lo, right); !d.OK {
		t.Fatalf("loopback locked: %+v", d)
	}
	// After the lockout, the right secret works again.
	now = now.Add(31 * time.Second)
	if d := s.AuthorizeConnect(remote, right); !d.OK {
		t.Fatalf("after the lockout: %+v", d)
	}
}

// Through the whole gateway handler (middleware, router, the HTTP server's
// timeouts): the upgrade works on / and /ws, a plain GET there is the JSON
// 404, and CloseWebSockets closes clients with 1012.
func TestWebSocketRoute(t *testing.T) {
	s := wsGateway(t, nil, AuthOverride{})
	hs := httptest.NewUnstartedServer(s)
	hs.Config = NewHTTPServer(s, nil)
	hs.Start()
	defer hs.Close()

	for _, path := range []string{"/", "/ws"} {
		c, err := wsclient.Dial(context.Background(), wsclient.Options{URL: hs.URL + path, Token: "t0k"})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if _, err := c.Call(context.Background(), "health", nil); err != nil {
			t.Fatalf("%s health: %v", path, err)
		}
		c.Close()
	}
	for _, path := range []string{"/", "/ws"} {
		for _, m := range []string{"GET", "POST", "DELETE", "OPTIONS"} {
			req, _ := http.NewRequest(m, hs.URL+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || resp.Header.Get("Allow") != "" {
				t.Fatalf("%s %s: %d %s", m, path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	}

	c, err := wsclient.Dial(context.Background(), wsclient.Options{URL: hs.URL, Token: "t0k"})
	if err != nil {
		t.Fatal(err)
	}
	// The connections closed above leave the server's count as their
	// reader goroutines notice; wait for that rather than race it.
	deadline := time.Now().Add(5 * time.Second)
	for s.WebSocketStats().Connections != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.WebSocketStats().Connections; n != 1 {
		t.Fatalf("%d connections", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.CloseWebSockets(ctx); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "service restart (close 1012)") {
		t.Fatalf("client end: %v", err)
	}
}
