// Package metrics holds the gateway's Prometheus series and writes them in
// the Prometheus text format. It knows nothing of HTTP handlers or agent
// runs: callers report what happened (a request on a route, a model call, a
// reload) and the registry keeps counters, gauges and histograms for it.
//
// Label values are bounded: each family keeps at most a fixed number of
// label sets, and values past it are counted under one overflow series
// (every label "_other"), so a client cannot grow memory or a scraper's
// index by inventing routes or model names. Hot paths look series up by a
// struct key without building label strings; a label string is built once,
// when a series is created.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// Overflow is the label value of the series that counts label sets past a
// family's limit.
const Overflow = "_other"

// maxLabelLen bounds one label value; longer values are cut (a model name
// from a request header could be long).
const maxLabelLen = 128

// Bucket upper bounds, in seconds.
var (
	// durationBuckets suit whole requests and model calls: milliseconds for
	// health checks up to minutes for long agent runs.
	durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	// overheadBuckets suit the gateway's own share of a request: well
	// under a millisecond when all is well.
	overheadBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
)

// Limits on label sets per family.
const (
	maxRoutes        = 64   // route patterns (the router's, not raw paths)
	maxRouteStatuses = 512  // route x status
	maxModels        = 256  // provider x model
	maxTokenSeries   = 1024 // agent x model x direction
	maxRunSeries     = 512  // agent x outcome
)

// Registry is one process's series. It is safe for concurrent use.
type Registry struct {
	set *vm.Set

	requests      *family[*vm.Counter]             // route, status
	reqDuration   *family[*vm.PrometheusHistogram] // route
	overhead      *family[*vm.PrometheusHistogram] // route
	modelDuration *family[*vm.PrometheusHistogram] // provider, model
	modelFailures *family[*vm.Counter]             // provider, model
	tokens        *family[*vm.Counter]             // agent, model, direction
	runs          *family[*vm.Counter]             // agent, outcome

	runsInFlight    *vm.Gauge
	streamsInFlight *vm.Gauge
	authFailures    *vm.Counter
	authLockouts    *vm.Counter
	reloadsOK       *vm.Counter
	reloadsFailed   *vm.Counter

	process bool
}

// Options configure a Registry.
type Options struct {
	// NoProcessMetrics leaves out the go_* and process_* series (tests
	// compare whole outputs).
	NoProcessMetrics bool
}

// New returns a registry with the fixed series at zero, so that a scrape
// before any traffic already shows them.
func New(opts Options) *Registry {
	// TYPE lines let Prometheus tell counters, gauges and histograms apart.
	vm.ExposeMetadata(true)
	s := vm.NewSet()
	counter := func(name string) *vm.Counter { return s.NewCounter(name) }
	hist := func(b []float64) func(string) *vm.PrometheusHistogram {
		return func(name string) *vm.PrometheusHistogram { return s.NewPrometheusHistogramExt(name, b) }
	}
	r := &Registry{
		set: s,
		requests: newFamily("openclaw_http_requests_total", maxRouteStatuses, counter, func(b *strings.Builder, k key) {
			label(b, "route", k.a)
			label(b, "status", strconv.Itoa(k.n))
		}),
		reqDuration:   newFamily("openclaw_http_request_duration_seconds", maxRoutes, hist(durationBuckets), routeLabel),
		overhead:      newFamily("openclaw_gateway_overhead_seconds", maxRoutes, hist(overheadBuckets), routeLabel),
		modelDuration: newFamily("openclaw_model_call_duration_seconds", maxModels, hist(durationBuckets), modelLabels),
		modelFailures: newFamily("openclaw_model_call_failures_total", maxModels, counter, modelLabels),
		tokens: newFamily("openclaw_model_tokens_total", maxTokenSeries, counter, func(b *strings.Builder, k key) {
			label(b, "agent", k.a)
			model := k.b + "/" + k.c
			if k.b == Overflow {
				model = Overflow
			}
			label(b, "model", model)
			label(b, "direction", [...]string{"in", "out"}[k.n])
		}),
		runs: newFamily("openclaw_runs_total", maxRunSeries, counter, func(b *strings.Builder, k key) {
			label(b, "agent", k.a)
			label(b, "outcome", k.b)
		}),

		runsInFlight:    s.NewGauge("openclaw_runs_in_flight", nil),
		streamsInFlight: s.NewGauge(`openclaw_streams_in_flight{kind="sse"}`, nil),
		authFailures:    s.NewCounter("openclaw_auth_failures_total"),
		authLockouts:    s.NewCounter("openclaw_auth_lockouts_total"),
		reloadsOK:       s.NewCounter(`openclaw_config_reloads_total{result="ok"}`),
		reloadsFailed:   s.NewCounter(`openclaw_config_reloads_total{result="failed"}`),
		process:         !opts.NoProcessMetrics,
	}
	return r
}

// ObserveRequest counts a finished HTTP request. route must come from a
// bounded set (the router's pattern), never the raw path.
func (r *Registry) ObserveRequest(route string, status int, d time.Duration) {
	r.requests.get(key{a: route, n: status}).Inc()
	r.reqDuration.get(key{a: route}).Update(d.Seconds())
}

// ObserveOverhead records the gateway's own time of a request that ran the
// agent: the request's duration minus the time spent waiting on the model.
func (r *Registry) ObserveOverhead(route string, d time.Duration) {
	if d < 0 {
		d = 0
	}
	r.overhead.get(key{a: route}).Update(d.Seconds())
}

// StreamStarted and StreamEnded track event streams (SSE responses) in
// flight.
func (r *Registry) StreamStarted() { r.streamsInFlight.Inc() }

// StreamEnded is the end of a stream StreamStarted counted.
func (r *Registry) StreamEnded() { r.streamsInFlight.Dec() }

// RunStarted counts an agent run in flight.
func (r *Registry) RunStarted() { r.runsInFlight.Inc() }

// RunEnded ends a run RunStarted counted; outcome is "ok" or the kind of
// error (a small fixed set).
func (r *Registry) RunEnded(agent, outcome string) {
	r.runsInFlight.Dec()
	r.runs.get(key{a: agent, b: outcome}).Inc()
}

// ObserveModelCall records one model call, answered or failed.
func (r *Registry) ObserveModelCall(provider, model string, d time.Duration, ok bool) {
	k := key{a: provider, b: model}
	r.modelDuration.get(k).Update(d.Seconds())
	if !ok {
		r.modelFailures.get(k).Inc()
	}
}

// AddTokens counts the tokens of a model call: in is the prompt (input and
// cache reads, as the API's usage counts it), out the completion.
// The model label is "provider/model".
func (r *Registry) AddTokens(agent, provider, model string, in, out int) {
	if in > 0 {
		r.tokens.get(key{a: agent, b: provider, c: model, n: 0}).Add(in)
	}
	if out > 0 {
		r.tokens.get(key{a: agent, b: provider, c: model, n: 1}).Add(out)
	}
}

// AuthFailure counts a request refused for missing or wrong credentials.
func (r *Registry) AuthFailure() { r.authFailures.Inc() }

// AuthLockout counts a client locked out by the failed-auth limiter.
func (r *Registry) AuthLockout() { r.authLockouts.Inc() }

// ConfigReload counts a config reload, applied or refused.
func (r *Registry) ConfigReload(ok bool) {
	if ok {
		r.reloadsOK.Inc()
	} else {
		r.reloadsFailed.Inc()
	}
}

// GaugeFunc adds a gauge read from f at each scrape. name is a full series
// name with its labels, such as `openclaw_streams_in_flight{kind="websocket"}`.
func (r *Registry) GaugeFunc(name string, f func() float64) { r.set.NewGauge(name, f) }

// WritePrometheus writes every series in the Prometheus text format, then
// the Go runtime and process series unless they were left out.
func (r *Registry) WritePrometheus(w io.Writer) {
	var b bytes.Buffer
	r.set.WritePrometheus(&b)
	// The library writes "# HELP <name>" with no text: fill ours in.
	out := b.Bytes()
	for len(out) > 0 {
		line := out
		if i := bytes.IndexByte(out, '\n'); i >= 0 {
			line = out[:i+1]
		}
		out = out[len(line):]
		if name, ok := bytes.CutPrefix(bytes.TrimSuffix(line, []byte("\n")), []byte("# HELP ")); ok {
			if h, ok := help[string(name)]; ok {
				fmt.Fprintf(w, "# HELP %s %s\n", name, h)
				continue
			}
		}
		w.Write(line)
	}
	if r.process {
		vm.WriteProcessMetrics(w)
	}
}

// help is the HELP text of each family.
var help = map[string]string{
	"openclaw_http_requests_total":           "HTTP requests by route pattern and status.",
	"openclaw_http_request_duration_seconds": "HTTP request duration by route pattern, until the response ended.",
	"openclaw_gateway_overhead_seconds":      "The gateway's own time in requests that ran the agent: request duration minus time waiting on the model.",
	"openclaw_streams_in_flight":             "Open event streams (SSE responses) and WebSocket connections.",
	"openclaw_runs_in_flight":                "Agent runs started and not yet finished.",
	"openclaw_runs_total":                    "Finished agent runs by agent and outcome (ok or the error kind).",
	"openclaw_model_call_duration_seconds":   "Model call duration by provider and model, answered or failed.",
	"openclaw_model_call_failures_total":     "Failed model calls by provider and model.",
	"openclaw_model_tokens_total":            "Model tokens by agent, model (provider/model) and direction (in: prompt incl. cache reads, out: completion).",
	"openclaw_auth_failures_total":           "Requests refused for missing or wrong credentials.",
	"openclaw_auth_lockouts_total":           "Clients locked out by the failed-auth limiter.",
	"openclaw_config_reloads_total":          "Config reloads by result (ok: applied, failed: refused, the old config kept).",
}

// key identifies a series of a family: up to three label values and a
// number (an HTTP status, a direction). A struct key hashes without
// building a string.
type key struct {
	a, b, c string
	n       int
}

// overflow is the key label sets past a family's limit share: the
// strings become Overflow, the number (a status, a direction: a small set)
// stays.
func overflow(k key) key { return key{a: Overflow, b: Overflow, c: Overflow, n: k.n} }

// family is the series of one metric name, created on first use.
type family[M any] struct {
	name   string
	max    int
	create func(name string) M
	labels func(b *strings.Builder, k key) // writes the labels of k

	mu     sync.RWMutex
	series map[key]M
}

func newFamily[M any](name string, max int, create func(string) M, labels func(*strings.Builder, key)) *family[M] {
	return &family[M]{name: name, max: max, create: create, labels: labels, series: map[key]M{}}
}

func (f *family[M]) get(k key) M {
	k.a, k.b, k.c = cut(k.a), cut(k.b), cut(k.c)
	f.mu.RLock()
	m, ok := f.series[k]
	if !ok && len(f.series) >= f.max {
		m, ok = f.series[overflow(k)]
	}
	f.mu.RUnlock()
	if ok {
		return m
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.series[k]; ok {
		return m
	}
	if len(f.series) >= f.max {
		k = overflow(k)
		if m, ok := f.series[k]; ok {
			return m
		}
	}
	// The key's strings may point into a request: keep copies.
	k.a, k.b, k.c = strings.Clone(k.a), strings.Clone(k.b), strings.Clone(k.c)
	var b strings.Builder
	b.WriteString(f.name)
	b.WriteByte('{')
	f.labels(&b, k)
	b.WriteByte('}')
	m = f.create(b.String())
	f.series[k] = m
	return m
}

// label writes name="value", after a comma unless it is the first.
func label(b *strings.Builder, name, value string) {
	if s := b.String(); s[len(s)-1] != '{' {
		b.WriteByte(',')
	}
	b.WriteString(name)
	b.WriteString(`="`)
	writeEscaped(b, value)
	b.WriteByte('"')
}

func routeLabel(b *strings.Builder, k key) { label(b, "route", k.a) }

func modelLabels(b *strings.Builder, k key) {
	label(b, "provider", k.a)
	label(b, "model", k.b)
}

// writeEscaped writes a label value escaped as the text format wants.
func writeEscaped(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
}

// cut bounds a label value, on a UTF-8 boundary.
func cut(s string) string {
	if len(s) <= maxLabelLen {
		return s
	}
	i := maxLabelLen
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
