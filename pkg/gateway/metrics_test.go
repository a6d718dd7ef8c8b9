package gateway

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

func enableMetrics(public bool) func(*config.Config) {
	return func(c *config.Config) {
		c.Gateway.HTTP.Metrics.Enabled = true
		c.Gateway.HTTP.Metrics.Public = public
	}
}

// scrapeMetrics GETs /metrics with the token and fails unless it is a 200.
func scrapeMetrics(t *testing.T, s http.Handler) string {
	t.Helper()
	w := do(s, http.MethodGet, "/metrics", "", "Authorization", "Bearer t0k")
	if w.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", w.Code, w.Body)
	}
	return w.Body.String()
}

// metricValue is the value of one series line ("name{labels}") in a
// scrape; -1 when the series is not there.
func metricValue(t *testing.T, out, series string) float64 {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	return -1
}

func TestMetricsEndpointAccess(t *testing.T) {
	const disabled = `{"error":{"message":"The metrics endpoint is disabled. Enable it with: openclaw config set gateway.http.metrics.enabled true","type":"not_found_error","param":null,"code":null}}` + "\n"
	for _, tt := range []struct {
		name   string
		edit   func(*config.Config)
		method string
		auth   string
		status int
		body   string // "" means a scrape
	}{
		{"disabled by default", nil, "GET", "t0k", 404, disabled},
		{"disabled: 404 for any method, not 405", nil, "POST", "", 404, disabled},
		{"disabled: HEAD too", nil, "HEAD", "", 404, disabled},
		{"enabled: needs auth", enableMetrics(false), "GET", "", 401, errBody(401, "Unauthorized", "unauthorized")},
		{"enabled: wrong token", enableMetrics(false), "GET", "nope", 401, errBody(401, "Unauthorized", "unauthorized")},
		{"enabled: token", enableMetrics(false), "GET", "t0k", 200, ""},
		{"public: no auth", enableMetrics(true), "GET", "", 200, ""},
		{"public: a wrong token does not matter", enableMetrics(true), "GET", "nope", 200, ""},
		{"auth none", func(c *config.Config) { enableMetrics(false)(c); c.Gateway.Auth.Mode = AuthNone }, "GET", "", 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, replyWith("x"), tt.edit)
			var hdr []string
			if tt.auth != "" {
				hdr = []string{"Authorization", "Bearer " + tt.auth}
			}
			w := do(s, tt.method, "/metrics", "", hdr...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.body != "" {
				if w.Body.String() != tt.body {
					t.Fatalf("body %s, want %s", w.Body, tt.body)
				}
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", w.Header())
			}
			for _, want := range []string{"# TYPE openclaw_auth_failures_total counter", "openclaw_runs_in_flight 0", "go_goroutines ", "process_resident_memory_bytes "} {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("no %q in the scrape", want)
				}
			}
		})
	}
}

func TestMetricsEnabledLive(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), nil)
	if w := do(s, "GET", "/metrics", "", "Authorization", "Bearer t0k"); w.Code != 404 {
		t.Fatalf("disabled: %d", w.Code)
	}
	cfg := *s.state.Load().cfg
	enableMetrics(false)(&cfg)
	if err := s.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	out := scrapeMetrics(t, s)
	// The 404 before was counted: requests count while disabled.
	if v := metricValue(t, out, `openclaw_http_requests_total{route="/metrics",status="404"}`); v != 1 {
		t.Errorf("the disabled scrape counted %v times, want 1", v)
	}
	if w := do(s, "POST", "/metrics", ""); w.Code != 405 || w.Header().Get("Allow") != "GET" {
		t.Errorf("enabled, POST: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
	cfg2 := cfg
	cfg2.Gateway.HTTP.Metrics.Public = true
	if err := s.Apply(&cfg2); err != nil {
		t.Fatal(err)
	}
	if w := do(s, "GET", "/metrics", ""); w.Code != 200 {
		t.Errorf("public live: %d", w.Code)
	}
}

func TestMetricsAfterTraffic(t *testing.T) {
	// The model takes at least 20ms a call: the gateway's overhead must not
	// contain that time.
	const modelDelay = 20 * time.Millisecond
	slow := fakeProvider{fn: func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		time.Sleep(modelDelay)
		return replyWith("Hello ", "there").fn(ctx, req, onDelta)
	}}
	s, _ := newTestServer(t, slow, enableMetrics(false))

	for _, body := range []string{hiBody, hiStream} {
		if w := post(s, body); w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	do(s, "POST", "/v1/chat/completions", hiBody)                                                                 // 401, no credentials
	do(s, "POST", "/v1/chat/completions", hiBody, "Authorization", "Bearer bad")                                  // 401
	do(s, "GET", "/v1/chat/completions", "")                                                                      // 405
	do(s, "GET", "/v1/models/openclaw%2Fdefault", "", "Authorization", "Bearer t0k")                              // a parameter
	do(s, "GET", "/v1/models/openclaw", "", "Authorization", "Bearer t0k")                                        // the same pattern
	do(s, "GET", "/v1/nothing/here", "")                                                                          // 404
	do(s, "POST", "/v1/chat/completions", `{"messages":[]}`, "Authorization", "Bearer t0k")                       // 400, no run
	do(s, "POST", "/v1/chat/completions", hiBody, "Authorization", "Bearer t0k", "x-openclaw-agent-id", "nobody") // 400

	out := scrapeMetrics(t, s)
	for series, want := range map[string]float64{
		`openclaw_http_requests_total{route="/v1/chat/completions",status="200"}`:    2,
		`openclaw_http_requests_total{route="/v1/chat/completions",status="401"}`:    2,
		`openclaw_http_requests_total{route="/v1/chat/completions",status="405"}`:    1,
		`openclaw_http_requests_total{route="/v1/chat/completions",status="400"}`:    2,
		`openclaw_http_requests_total{route="/v1/models/*id",status="200"}`:          2,
		`openclaw_http_requests_total{route="unmatched",status="404"}`:               1,
		`openclaw_http_request_duration_seconds_count{route="/v1/chat/completions"}`: 7,
		`openclaw_model_call_duration_seconds_count{provider="fake",model="m"}`:      2,
		`openclaw_model_tokens_total{agent="main",model="fake/m",direction="in"}`:    14, // (5 input + 2 cache reads) x 2
		`openclaw_model_tokens_total{agent="main",model="fake/m",direction="out"}`:   4,
		`openclaw_runs_total{agent="main",outcome="ok"}`:                             2,
		`openclaw_runs_in_flight`:                                                          0,
		`openclaw_streams_in_flight{kind="sse"}`:                                           0,
		`openclaw_streams_in_flight{kind="websocket"}`:                                     0,
		`openclaw_auth_failures_total`:                                                     2,
		`openclaw_auth_lockouts_total`:                                                     0,
		`openclaw_gateway_overhead_seconds_count{route="/v1/chat/completions"}`:            2, // runs only
		`openclaw_gateway_overhead_seconds_bucket{route="/v1/chat/completions",le="+Inf"}`: 2,
	} {
		if got := metricValue(t, out, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	// Overhead is request time minus model time: the two sums differ by at
	// least the model's delay per run.
	req := metricValue(t, out, `openclaw_http_request_duration_seconds_sum{route="/v1/chat/completions"}`)
	over := metricValue(t, out, `openclaw_gateway_overhead_seconds_sum{route="/v1/chat/completions"}`)
	if over < 0 || req-over < 2*modelDelay.Seconds() {
		t.Errorf("overhead sum %v, request sum %v: the model's %v a run is not taken out", over, req, modelDelay)
	}
	if strings.Contains(out, "openclaw%2Fdefault") || strings.Contains(out, "/v1/nothing") {
		t.Error("a raw path is a label")
	}
}

func TestMetricsInFlight(t *testing.T) {
	release := make(chan struct{})
	hold := fakeProvider{fn: func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		<-release
		return replyWith("done").fn(ctx, req, onDelta)
	}}
	s, _ := newTestServer(t, hold, enableMetrics(false))
	srv := httptest.NewServer(s)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(hiStream))
	req.Header.Set("Authorization", "Bearer t0k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, `"role":"assistant"`) {
		t.Fatalf("first event %q, %v", line, err)
	}
	// The stream is open; the run waits on the model, which the run has
	// reached once the stream started (its first event is sent at accept).
	out := scrapeMetrics(t, s)
	if v := metricValue(t, out, `openclaw_streams_in_flight{kind="sse"}`); v != 1 {
		t.Errorf("streams in flight %v, want 1", v)
	}
	if v := metricValue(t, out, `openclaw_runs_in_flight`); v != 1 {
		t.Errorf("runs in flight %v, want 1", v)
	}
	close(release)
	rest, _ := bufio.NewReader(br).ReadString(0)
	if !strings.HasSuffix(rest, "data: [DONE]\n\n") {
		t.Fatalf("stream ended with %q", rest)
	}
	resp.Body.Close()
	// The handler finishes after the client read [DONE]; the counts fall
	// back to zero once it has.
	for i := 0; ; i++ {
		out = scrapeMetrics(t, s)
		if metricValue(t, out, `openclaw_streams_in_flight{kind="sse"}`) == 0 && metricValue(t, out, `openclaw_runs_in_flight`) == 0 {
			break
		}
		if i == 1000 {
			t.Fatalf("still in flight:\n%s", out)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMetricsAuthLockoutsAndReloads(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), func(c *config.Config) {
		enableMetrics(true)(c)
		c.Gateway.Auth.RateLimit.MaxAttempts = 2
		c.Gateway.Auth.RateLimit.ExemptLoopback = false
	})
	do(s, "GET", "/v1/models", "") // no credentials: a failure, not counted by the limiter
	for i := 0; i < 3; i++ {       // the second locks out; the third is a 429, not a failure
		do(s, "GET", "/v1/models", "", "Authorization", "Bearer wrong")
	}
	s.CountReload(true)
	s.CountReload(false)
	s.CountReload(false)
	out := scrapeMetrics(t, s)
	for series, want := range map[string]float64{
		`openclaw_auth_failures_total`:                                  3,
		`openclaw_auth_lockouts_total`:                                  1,
		`openclaw_http_requests_total{route="/v1/models",status="429"}`: 1,
		`openclaw_config_reloads_total{result="ok"}`:                    1,
		`openclaw_config_reloads_total{result="failed"}`:                2,
	} {
		if got := metricValue(t, out, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

func TestRoutePattern(t *testing.T) {
	for _, tt := range []struct {
		path string
		ps   httprouter.Params
		want string
	}{
		{"/v1/models/openclaw/default", httprouter.Params{{Key: "id", Value: "/openclaw/default"}}, "/v1/models/*id"},
		{"/v1/models/", httprouter.Params{{Key: "id", Value: "/"}}, "/v1/models/*id"},
		{"/v1/sessions/abc/turns/7", httprouter.Params{{Key: "key", Value: "abc"}, {Key: "n", Value: "7"}}, "/v1/sessions/:key/turns/:n"},
		{"/files/v1/x", httprouter.Params{{Key: "dir", Value: "v1"}, {Key: "rest", Value: "/x"}}, "/files/:dir/*rest"},
		{"/a/b", nil, "/a/b"},
	} {
		if got := string(pattern(nil, tt.path, tt.ps)); got != tt.want {
			t.Errorf("pattern(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

// BenchmarkMetricsMiddleware is the cost the metrics add to a request: the
// middleware around a handler that does nothing, for a route without and
// with a parameter, and for a POST (which gets a model timer).
func BenchmarkMetricsMiddleware(b *testing.B) {
	s, _ := newTestServer(b, replyWith("x"), nil)
	m := metricsOf(s)
	h := m.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	for _, bc := range []struct{ name, method, path string }{
		{"GET /healthz", "GET", "/healthz"},
		{"GET /v1/models/*id", "GET", "/v1/models/openclaw%2Fdefault"},
		{"POST /v1/chat/completions", "POST", "/v1/chat/completions"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(bc.method, bc.path, nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkHealthz is a whole request through the server (access log,
// security headers, metrics, router) for comparison.
func BenchmarkHealthz(b *testing.B) {
	s, _ := newTestServer(b, replyWith("x"), nil)
	r := httptest.NewRequest("GET", "/healthz", nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w := &discardWriter{h: http.Header{}}
		s.ServeHTTP(w, r)
	}
}
