package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/charmbracelet/log"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// proxyPeer is the socket address of the test requests: the trusted proxy.
const proxyPeer = "192.0.2.1:1234"

// clockServer is a gateway whose limiter runs on clk, behind the trusted
// proxy 192.0.2.1, with maxAttempts 3 in a 60 s window and a 300 s lockout.
func clockServer(t *testing.T, clk *fakeClock) *Server {
	t.Helper()
	cfg := testConfig()
	cfg.Gateway.TrustedProxies = []string{"192.0.2.1"}
	cfg.Gateway.Auth.RateLimit = config.RateLimit{MaxAttempts: 3, WindowMs: 60_000, LockoutMs: 300_000, ExemptLoopback: true}
	p := replyWith("ok")
	runner := agent.New(agent.Options{StateDir: t.TempDir(), Config: cfg, Log: log.New(nilWriter{}),
		NewProvider: func(provider.Config) (provider.Provider, error) { return p, nil }})
	s, err := New(Options{Runner: runner, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// from sends GET /v1/models (auth and limiter, no run) through the proxy for client with token.
func from(s http.Handler, client, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
	r.RemoteAddr = proxyPeer
	r.Header.Set("X-Forwarded-For", client+", 192.0.2.1")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// TestLimiterUnderAttack: failures from 100,000 distinct addresses through
// the trusted proxy keep the limiter at its entry bound and the heap
// bounded; an attacker locked out before the flood is still locked out
// after it (flooding does not lift lockouts); an honest client behind the
// same proxy is served throughout.
func TestLimiterUnderAttack(t *testing.T) {
	clk := newClock()
	s := clockServer(t, clk)
	lim := s.state.Load().limiter

	for range 3 {
		from(s, "203.0.113.66", "wrong")
	}
	if w := from(s, "203.0.113.66", "t0k"); w.Code != 429 {
		t.Fatalf("attacker not locked out: %d", w.Code)
	}

	before := heapInuse()
	const flood = 100_000
	var peak int
	r := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
	r.RemoteAddr = proxyPeer
	r.Header.Set("Authorization", "Bearer wrong")
	for i := range flood {
		var addr string
		if i%2 == 0 {
			addr = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		} else {
			addr = fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff)
		}
		r.Header.Set("X-Forwarded-For", addr)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 401 {
			t.Fatalf("flood request %d from %s: %d %s", i, addr, w.Code, w.Body)
		}
		peak = max(peak, lim.Len())
		if i%10_000 == 0 {
			if w := from(s, "198.51.100.20", "t0k"); w.Code != 200 {
				t.Fatalf("honest client during the flood: %d %s", w.Code, w.Body)
			}
			clk.add(time.Second)
		}
	}
	grown := int64(heapInuse()) - int64(before)
	t.Logf("%d addresses: limiter peak %d entries (bound %d), heap %+d KiB", flood, peak, DefaultLimiterEntries, grown>>10)
	if peak > DefaultLimiterEntries {
		t.Errorf("limiter holds %d entries, bound %d", peak, DefaultLimiterEntries)
	}
	if grown > 64<<20 {
		t.Errorf("heap grew by %d MiB", grown>>20)
	}
	if w := from(s, "203.0.113.66", "t0k"); w.Code != 429 {
		t.Errorf("the flood lifted the attacker's lockout: %d", w.Code)
	}
}

// TestLimiterTimesThroughHandler walks the injectable clock through the
// window, the lockout and its expiry, through the whole handler: the 429's
// Retry-After counts down in whole seconds rounded up, the lockout ends to
// the millisecond, success forgets failures, and old failures leave the
// window.
func TestLimiterTimesThroughHandler(t *testing.T) {
	clk := newClock()
	s := clockServer(t, clk)
	const c = "203.0.113.7"
	expect := func(step string, w *httptest.ResponseRecorder, status int, retry string) {
		t.Helper()
		if w.Code != status || w.Header().Get("Retry-After") != retry {
			t.Errorf("%s: %d Retry-After %q, want %d %q: %s", step, w.Code, w.Header().Get("Retry-After"), status, retry, w.Body)
		}
		if status == 429 && (w.Header().Get("x-should-retry") != "false" || w.Body.String() != errBody(429, "Too many failed authentication attempts. Please try again later.", "rate_limited")) {
			t.Errorf("%s: 429 %v %s", step, w.Header(), w.Body)
		}
	}

	// Two failures, then the window passes: they are forgotten.
	expect("fail 1", from(s, c, "bad"), 401, "")
	expect("fail 2", from(s, c, "bad"), 401, "")
	clk.add(60 * time.Second)
	expect("fail 1 of a new window", from(s, c, "bad"), 401, "")
	expect("fail 2 of a new window", from(s, c, "bad"), 401, "")
	clk.add(59*time.Second + 999*time.Millisecond)
	expect("fail 3 inside the window locks", from(s, c, "bad"), 401, "")
	lockedAt := clk.t

	expect("right secret while locked", from(s, c, "t0k"), 429, "300")
	expect("no credentials while locked", from(s, c, ""), 429, "300")
	clk.add(100*time.Second + 200*time.Millisecond)
	expect("after 100.2 s", from(s, c, "t0k"), 429, "200")
	clk.t = lockedAt.Add(299*time.Second + 1*time.Millisecond)
	expect("1 ms before the end", from(s, c, "t0k"), 429, "1")
	clk.t = lockedAt.Add(300 * time.Second)
	expect("at the end", from(s, c, "t0k"), 200, "")

	// Success forgot everything: two more failures do not lock.
	expect("fail after success", from(s, c, "bad"), 401, "")
	expect("fail after success", from(s, c, "bad"), 401, "")
	expect("right secret", from(s, c, "t0k"), 200, "")

	// Failures while locked do not extend the lockout.
	for range 3 {
		from(s, c, "bad")
	}
	lockedAt = clk.t
	clk.add(200 * time.Second)
	expect("fail while locked", from(s, c, "bad"), 429, "100")
	clk.t = lockedAt.Add(300 * time.Second)
	expect("lockout not extended", from(s, c, "t0k"), 200, "")

	// Other clients behind the proxy were never affected; an untrusted
	// peer's X-Forwarded-For is ignored (it is counted as itself), and
	// loopback is exempt.
	expect("another client", from(s, "203.0.113.8", "t0k"), 200, "")
	for i := range 3 {
		r := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
		r.RemoteAddr = "198.51.100.9:999"
		r.Header.Set("X-Forwarded-For", fmt.Sprint("10.0.0.", i))
		r.Header.Set("Authorization", "Bearer bad")
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	r := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
	r.RemoteAddr = "198.51.100.9:999"
	r.Header.Set("X-Forwarded-For", "10.0.0.99")
	r.Header.Set("Authorization", "Bearer t0k")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	expect("untrusted peer with forged X-Forwarded-For", w, 429, "300")
	for range 20 {
		r := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
		r.RemoteAddr = "127.0.0.1:999"
		r.Header.Set("Authorization", "Bearer bad")
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	r = httptest.NewRequest(http.MethodGet, "/v1/models", nil)
	r.RemoteAddr = "127.0.0.1:999"
	r.Header.Set("Authorization", "Bearer t0k")
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	expect("loopback after 20 failures", w, 200, "")
}
