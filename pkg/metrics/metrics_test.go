package metrics

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func scrape(r *Registry) string {
	var b bytes.Buffer
	r.WritePrometheus(&b)
	return b.String()
}

// lines returns the lines of out that start with prefix.
func lines(out, prefix string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			got = append(got, l)
		}
	}
	return got
}

func TestFixedSeriesAtZero(t *testing.T) {
	out := scrape(New(Options{NoProcessMetrics: true}))
	want := []string{
		"# TYPE openclaw_auth_failures_total counter",
		"openclaw_auth_failures_total 0",
		"openclaw_auth_lockouts_total 0",
		`openclaw_config_reloads_total{result="failed"} 0`,
		`openclaw_config_reloads_total{result="ok"} 0`,
		"# TYPE openclaw_runs_in_flight gauge",
		"openclaw_runs_in_flight 0",
		`openclaw_streams_in_flight{kind="sse"} 0`,
	}
	for _, w := range want {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
	if strings.Contains(out, "go_goroutines") {
		t.Error("process metrics written despite NoProcessMetrics")
	}
	if !strings.Contains(scrape(New(Options{})), "go_goroutines") {
		t.Error("no process metrics by default")
	}
}

func TestSeries(t *testing.T) {
	tests := []struct {
		name string
		do   func(r *Registry)
		want []string // lines that must appear
	}{
		{"requests by route and status", func(r *Registry) {
			r.ObserveRequest("/v1/chat/completions", 200, 30*time.Millisecond)
			r.ObserveRequest("/v1/chat/completions", 200, 3*time.Second)
			r.ObserveRequest("/v1/chat/completions", 401, time.Millisecond)
		}, []string{
			`openclaw_http_requests_total{route="/v1/chat/completions",status="200"} 2`,
			`openclaw_http_requests_total{route="/v1/chat/completions",status="401"} 1`,
			"# TYPE openclaw_http_request_duration_seconds histogram",
			`openclaw_http_request_duration_seconds_bucket{route="/v1/chat/completions",le="0.001"} 1`,
			`openclaw_http_request_duration_seconds_bucket{route="/v1/chat/completions",le="0.05"} 2`,
			`openclaw_http_request_duration_seconds_bucket{route="/v1/chat/completions",le="2.5"} 2`,
			`openclaw_http_request_duration_seconds_bucket{route="/v1/chat/completions",le="5"} 3`,
			`openclaw_http_request_duration_seconds_bucket{route="/v1/chat/completions",le="+Inf"} 3`,
			`openclaw_http_request_duration_seconds_count{route="/v1/chat/completions"} 3`,
		}},
		{"overhead, negative clamped", func(r *Registry) {
			r.ObserveOverhead("/v1/responses", 200*time.Microsecond)
			r.ObserveOverhead("/v1/responses", -time.Millisecond)
		}, []string{
			"# TYPE openclaw_gateway_overhead_seconds histogram",
			`openclaw_gateway_overhead_seconds_bucket{route="/v1/responses",le="0.0001"} 1`,
			`openclaw_gateway_overhead_seconds_bucket{route="/v1/responses",le="0.00025"} 2`,
			`openclaw_gateway_overhead_seconds_count{route="/v1/responses"} 2`,
			`openclaw_gateway_overhead_seconds_sum{route="/v1/responses"} 0.0002`,
		}},
		{"runs in flight and by outcome", func(r *Registry) {
			r.RunStarted()
			r.RunStarted()
			r.RunStarted()
			r.RunEnded("main", "ok")
			r.RunEnded("main", "timeout")
		}, []string{
			"openclaw_runs_in_flight 1",
			`openclaw_runs_total{agent="main",outcome="ok"} 1`,
			`openclaw_runs_total{agent="main",outcome="timeout"} 1`,
		}},
		{"streams in flight", func(r *Registry) {
			r.StreamStarted()
			r.StreamStarted()
			r.StreamEnded()
		}, []string{`openclaw_streams_in_flight{kind="sse"} 1`}},
		{"model calls and failures", func(r *Registry) {
			r.ObserveModelCall("openai", "gpt-x", 2*time.Second, true)
			r.ObserveModelCall("openai", "gpt-x", 20*time.Millisecond, false)
		}, []string{
			`openclaw_model_call_duration_seconds_count{provider="openai",model="gpt-x"} 2`,
			`openclaw_model_call_duration_seconds_bucket{provider="openai",model="gpt-x",le="0.025"} 1`,
			`openclaw_model_call_failures_total{provider="openai",model="gpt-x"} 1`,
		}},
		{"tokens in and out; zero counts make no series", func(r *Registry) {
			r.AddTokens("main", "openai", "gpt-x", 12, 3)
			r.AddTokens("main", "openai", "gpt-x", 8, 0)
			r.AddTokens("ops", "openai", "gpt-x", 0, 0)
		}, []string{
			`openclaw_model_tokens_total{agent="main",model="openai/gpt-x",direction="in"} 20`,
			`openclaw_model_tokens_total{agent="main",model="openai/gpt-x",direction="out"} 3`,
		}},
		{"auth and reloads", func(r *Registry) {
			r.AuthFailure()
			r.AuthFailure()
			r.AuthLockout()
			r.ConfigReload(true)
			r.ConfigReload(false)
			r.ConfigReload(false)
		}, []string{
			"openclaw_auth_failures_total 2",
			"openclaw_auth_lockouts_total 1",
			`openclaw_config_reloads_total{result="ok"} 1`,
			`openclaw_config_reloads_total{result="failed"} 2`,
		}},
		{"label values escaped", func(r *Registry) {
			r.AddTokens("main", "p", "a\"b\\c\nd", 1, 0)
		}, []string{`openclaw_model_tokens_total{agent="main",model="p/a\"b\\c\nd",direction="in"} 1`}},
		{"gauge func read at scrape", func(r *Registry) {
			n := 0
			r.GaugeFunc(`openclaw_streams_in_flight{kind="websocket"}`, func() float64 { n++; return float64(n) })
		}, []string{`openclaw_streams_in_flight{kind="websocket"} 1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{NoProcessMetrics: true})
			tt.do(r)
			out := scrape(r)
			for _, w := range tt.want {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
		})
	}
}

func TestLabelSetsBounded(t *testing.T) {
	r := New(Options{NoProcessMetrics: true})
	for i := 0; i < maxModels+50; i++ {
		r.ObserveModelCall("p", fmt.Sprintf("m%d", i), time.Millisecond, true)
	}
	out := scrape(r)
	if n := len(lines(out, "openclaw_model_call_duration_seconds_count{")); n != maxModels+1 {
		t.Errorf("%d series, want %d and the overflow one", n, maxModels)
	}
	if w := `openclaw_model_call_duration_seconds_count{provider="_other",model="_other"} 50`; !strings.Contains(out, w+"\n") {
		t.Errorf("missing %q", w)
	}
	// Known label sets still count under their own series.
	r.ObserveModelCall("p", "m0", time.Millisecond, true)
	if w := `openclaw_model_call_duration_seconds_count{provider="p",model="m0"} 2`; !strings.Contains(scrape(r), w+"\n") {
		t.Errorf("missing %q", w)
	}

	for i := 0; i < maxTokenSeries+1; i++ {
		r.AddTokens(fmt.Sprintf("a%d", i), "p", "m", 1, 0)
	}
	if w := `openclaw_model_tokens_total{agent="_other",model="_other",direction="in"} 1`; !strings.Contains(scrape(r), w+"\n") {
		t.Errorf("missing %q", w)
	}

	r = New(Options{NoProcessMetrics: true})
	for i := 0; i < maxRouteStatuses+1; i++ {
		r.ObserveRequest(fmt.Sprintf("/r%d", i), 200, time.Millisecond)
	}
	if w := `openclaw_http_requests_total{route="_other",status="200"} 1`; !strings.Contains(scrape(r), w+"\n") {
		t.Errorf("missing %q", w)
	}
}

func TestLongLabelCut(t *testing.T) {
	r := New(Options{NoProcessMetrics: true})
	long := strings.Repeat("é", 100) // 200 bytes
	r.AddTokens("main", "p", long, 1, 0)
	r.AddTokens("main", "p", long+"more", 1, 0)
	got := lines(scrape(r), "openclaw_model_tokens_total{")
	want := `openclaw_model_tokens_total{agent="main",model="p/` + strings.Repeat("é", 64) + `",direction="in"} 2`
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConcurrent(t *testing.T) {
	r := New(Options{NoProcessMetrics: true})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				r.ObserveRequest(fmt.Sprintf("/r%d", i%10), 200, time.Millisecond)
				r.AddTokens("main", "p", "m", 1, 1)
				if i%100 == 0 {
					scrape(r)
				}
			}
		}()
	}
	wg.Wait()
	out := scrape(r)
	if w := `openclaw_http_requests_total{route="/r3",status="200"} 400`; !strings.Contains(out, w+"\n") {
		t.Errorf("missing %q", w)
	}
	if w := `openclaw_model_tokens_total{agent="main",model="p/m",direction="out"} 4000`; !strings.Contains(out, w+"\n") {
		t.Errorf("missing %q", w)
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	r := New(Options{NoProcessMetrics: true})
	route := string([]byte("/v1/chat/completions")) // not a constant, as from a request
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.ObserveRequest(route, 200, time.Millisecond)
	}
}

func TestEveryFamilyHasHelp(t *testing.T) {
	r := New(Options{NoProcessMetrics: true})
	r.ObserveRequest("/r", 200, time.Millisecond)
	r.ObserveOverhead("/r", time.Millisecond)
	r.RunStarted()
	r.RunEnded("main", "ok")
	r.ObserveModelCall("p", "m", time.Millisecond, false)
	r.AddTokens("main", "p", "m", 1, 1)
	r.GaugeFunc(`openclaw_streams_in_flight{kind="websocket"}`, func() float64 { return 0 })
	out := scrape(r)
	types := lines(out, "# TYPE openclaw_")
	if len(types) != len(help) {
		t.Errorf("%d families written, %d with help text:\n%s", len(types), len(help), out)
	}
	for _, l := range lines(out, "# HELP ") {
		if name, text, _ := strings.Cut(strings.TrimPrefix(l, "# HELP "), " "); text == "" {
			t.Errorf("no help text for %s", name)
		}
	}
}
