package gateway

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/config"
)

// corsHeaders lists the response's CORS headers and Vary, sorted, as
// "Name: value" lines.
func corsHeaders(h http.Header) string {
	var out []string
	for k, vs := range h {
		if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
			for _, v := range vs {
				out = append(out, k+": "+v)
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestCORS(t *testing.T) {
	const app = "https://app.example"
	allow := func(origins ...string) func(*config.Config) {
		return func(c *config.Config) { c.Gateway.HTTP.CORS.AllowedOrigins = origins }
	}
	preflight := func(origin, method string) []string {
		return []string{"Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", "authorization,content-type,x-openclaw-session-key"}
	}
	ok204 := func(origin, methods string) string {
		return "Access-Control-Allow-Headers: Authorization, Content-Type, X-OpenClaw-Agent-Id, X-OpenClaw-Agent, X-OpenClaw-Session-Key, X-OpenClaw-Model\n" +
			"Access-Control-Allow-Methods: " + methods + "\n" +
			"Access-Control-Allow-Origin: " + origin + "\n" +
			"Access-Control-Max-Age: 600\n" +
			"Vary: Origin"
	}
	normal := func(origin string) string {
		return "Access-Control-Allow-Origin: " + origin + "\n" +
			"Access-Control-Expose-Headers: X-Request-Id, Retry-After, X-Should-Retry\n" +
			"Vary: Origin"
	}
	for _, tt := range []struct {
		name    string
		edit    func(*config.Config)
		method  string
		path    string
		body    string
		hdr     []string
		status  int
		headers string
	}{
		{"unconfigured: preflight is the router's 405, no CORS headers", nil, "OPTIONS", "/v1/chat/completions", "", preflight(app, "POST"), 405, ""},
		{"unconfigured: a normal response has none", nil, "POST", "/v1/chat/completions", hiBody, []string{"Origin", app, "Authorization", "Bearer t0k"}, 200, ""},

		{"preflight, listed origin, no auth needed", allow(app), "OPTIONS", "/v1/chat/completions", "", preflight(app, "POST"), 204, ok204(app, "POST")},
		{"preflight on a GET route", allow(app), "OPTIONS", "/v1/models", "", preflight(app, "GET"), 204, ok204(app, "GET")},
		{"preflight on a route with a parameter", allow(app), "OPTIONS", "/v1/models/openclaw", "", preflight(app, "GET"), 204, ok204(app, "GET")},
		{"preflight, origin case and a trailing slash in the list", allow("https://App.Example/"), "OPTIONS", "/v1/chat/completions", "", preflight(app, "POST"), 204, ok204(app, "POST")},
		{"preflight, * allows any origin", allow("*"), "OPTIONS", "/v1/chat/completions", "", preflight("http://localhost:5173", "POST"), 204, ok204("http://localhost:5173", "POST")},
		{"preflight, unlisted origin: no CORS headers", allow(app), "OPTIONS", "/v1/chat/completions", "", preflight("https://evil.example", "POST"), 405, "Vary: Origin"},
		{"preflight for a method the route does not serve", allow(app), "OPTIONS", "/v1/chat/completions", "", preflight(app, "DELETE"), 405, normal(app)},
		{"preflight on an unknown route", allow(app), "OPTIONS", "/v1/nothing", "", preflight(app, "POST"), 404, normal(app)},
		{"preflight on a disabled endpoint", func(c *config.Config) { allow(app)(c); c.Gateway.HTTP.Endpoints.ChatCompletions.Enabled = false }, "OPTIONS", "/v1/chat/completions", "", preflight(app, "POST"), 404, normal(app)},
		{"preflight on the disabled responses endpoint", allow(app), "OPTIONS", "/v1/responses", "", preflight(app, "POST"), 404, ""},
		{"preflight on the enabled responses endpoint", func(c *config.Config) { allow(app)(c); c.Gateway.HTTP.Endpoints.Responses.Enabled = true }, "OPTIONS", "/v1/responses", "", preflight(app, "POST"), 204, ok204(app, "POST")},
		{"OPTIONS without a request method is no preflight", allow(app), "OPTIONS", "/v1/chat/completions", "", []string{"Origin", app}, 405, normal(app)},

		{"normal response to a listed origin", allow(app), "POST", "/v1/chat/completions", hiBody, []string{"Origin", app, "Authorization", "Bearer t0k"}, 200, normal(app)},
		{"an error to a listed origin can be read too", allow(app), "POST", "/v1/chat/completions", hiBody, []string{"Origin", app}, 401, normal(app)},
		{"normal response to an unlisted origin", allow(app), "POST", "/v1/chat/completions", hiBody, []string{"Origin", "https://evil.example", "Authorization", "Bearer t0k"}, 200, "Vary: Origin"},
		{"no Origin: no CORS headers, but Vary", allow(app), "POST", "/v1/chat/completions", hiBody, []string{"Authorization", "Bearer t0k"}, 200, "Vary: Origin"},
		{"not an API route", allow(app), "GET", "/healthz", "", []string{"Origin", app}, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, replyWith("x"), tt.edit)
			w := do(s, tt.method, tt.path, tt.body, tt.hdr...)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if got := corsHeaders(w.Header()); got != tt.headers {
				t.Errorf("headers:\n%s\nwant:\n%s", got, tt.headers)
			}
			if tt.status == 204 && w.Body.Len() != 0 {
				t.Errorf("a preflight has a body: %q", w.Body)
			}
			if w.Header().Get("X-Request-Id") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("the security headers and request id are missing")
			}
		})
	}
}

func TestCORSLive(t *testing.T) {
	const app = "https://app.example"
	s, _ := newTestServer(t, replyWith("x"), nil)
	pre := func() int {
		return do(s, "OPTIONS", "/v1/chat/completions", "", "Origin", app, "Access-Control-Request-Method", "POST").Code
	}
	if got := pre(); got != 405 {
		t.Fatalf("before: %d", got)
	}
	cfg := *s.state.Load().cfg
	cfg.Gateway.HTTP.CORS.AllowedOrigins = []string{app}
	if err := s.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if got := pre(); got != 204 {
		t.Fatalf("after enabling: %d", got)
	}
	cfg2 := cfg
	cfg2.Gateway.HTTP.CORS.AllowedOrigins = nil
	if err := s.Apply(&cfg2); err != nil {
		t.Fatal(err)
	}
	if got := pre(); got != 405 {
		t.Fatalf("after emptying the list: %d", got)
	}
}

func TestCORSPreflightCounted(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), func(c *config.Config) {
		enableMetrics(false)(c)
		c.Gateway.HTTP.CORS.AllowedOrigins = []string{"*"}
	})
	do(s, "OPTIONS", "/v1/chat/completions", "", "Origin", "https://a.example", "Access-Control-Request-Method", "POST")
	if v := metricValue(t, scrapeMetrics(t, s), `openclaw_http_requests_total{route="/v1/chat/completions",status="204"}`); v != 1 {
		t.Errorf("preflights counted %v, want 1", v)
	}
}
