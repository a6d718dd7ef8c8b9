package gateway

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/metrics"
	"github.com/openclaw/openclaw-go/pkg/openai"
)

// metricsPath serves the Prometheus series, when enabled.
const metricsPath = "/metrics"

// Every request is counted whether or not /metrics is enabled, so that
// enabling it live shows the traffic since the start.
func init() {
	routeHooks = append(routeHooks, mountMetrics)
	middlewareHooks = append(middlewareHooks, func(s *Server, next http.Handler) http.Handler {
		return metricsOf(s).middleware(next)
	})
}

// serverMetrics are one Server's series and what they need to label a
// request with its route pattern.
type serverMetrics struct {
	s   *Server
	reg *metrics.Registry
	rt  *httprouter.Router

	mu     sync.RWMutex
	routes map[string]string // interned route patterns
}

// maxRoutePatterns bounds the interned patterns; the router's are far
// fewer, so this only guards against a pattern built wrong from a path.
const maxRoutePatterns = 256

// routeUnmatched labels requests no route matches under any method.
const routeUnmatched = "unmatched"

// gatewayMetrics maps a Server to its metrics (the Server struct is not this
// file's to extend).
var gatewayMetrics sync.Map // *Server -> *serverMetrics

// metricsOf returns the server's metrics; a Server built by New always has
// them (mountMetrics runs in routes()).
func metricsOf(s *Server) *serverMetrics {
	if v, ok := gatewayMetrics.Load(s); ok {
		return v.(*serverMetrics)
	}
	return nil
}

func mountMetrics(s *Server, rt *httprouter.Router) {
	m := &serverMetrics{s: s, reg: metrics.New(metrics.Options{}), rt: rt, routes: map[string]string{}}
	m.reg.GaugeFunc(`openclaw_streams_in_flight{kind="websocket"}`, func() float64 { return float64(s.WebSocketStats().Connections) })
	gatewayMetrics.Store(s, m)
	s.runner.Observe(m)
	rt.GET(metricsPath, s.handle(m.serve))
}

// CountReload counts a config reload, applied (ok) or refused.
func (s *Server) CountReload(ok bool) {
	if m := metricsOf(s); m != nil {
		m.reg.ConfigReload(ok)
	}
}

// countAuthFailure counts a request refused for missing or wrong
// credentials (authorize).
func (s *Server) countAuthFailure() {
	if m := metricsOf(s); m != nil {
		m.reg.AuthFailure()
	}
}

// countLockout counts a client the failed-auth limiter locked out.
func (s *Server) countLockout() {
	if m := metricsOf(s); m != nil {
		m.reg.AuthLockout()
	}
}

func (m *serverMetrics) enabled() error {
	if !m.s.state.Load().cfg.Gateway.HTTP.Metrics.Enabled {
		return openai.NotFound("The metrics endpoint is disabled. Enable it with: openclaw config set gateway.http.metrics.enabled true")
	}
	return nil
}

// serve is GET /metrics: behind the API's auth and limiter unless
// gateway.http.metrics.public is set (a loopback scraper without the token).
func (m *serverMetrics) serve(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if err := m.enabled(); err != nil {
		return err
	}
	if !m.s.state.Load().cfg.Gateway.HTTP.Metrics.Public {
		if err := m.s.authorize(w, r); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	m.reg.WritePrometheus(&b)
	h := w.Header()
	h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}

// RunStarted, ModelCallEnded and RunEnded make serverMetrics the runner's
// agent.Observer: runs from every front end (HTTP and WebSocket) count.
func (m *serverMetrics) RunStarted(string) { m.reg.RunStarted() }

// ModelCallEnded records a model call's duration and tokens.
func (m *serverMetrics) ModelCallEnded(c agent.ModelCall) {
	m.reg.ObserveModelCall(c.Provider, c.Model, c.Duration, !c.Failed)
	m.reg.AddTokens(c.AgentID, c.Provider, c.Model, c.Usage.Input+c.Usage.CacheRead, c.Usage.Output)
}

// RunEnded ends a run in flight.
func (m *serverMetrics) RunEnded(st agent.RunStats) { m.reg.RunEnded(st.AgentID, st.Outcome()) }

// middleware counts each request by route pattern and status, times it,
// tracks event streams in flight, and for requests that ran the agent
// records the gateway's overhead: the request's time minus the time its
// runs waited on the model (a timer the runner adds to, in the context).
func (m *serverMetrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var timer *agent.ModelTimer
		if r.Method == http.MethodPost { // only POST routes run the agent
			var ctx context.Context
			ctx, timer = agent.WithModelTimer(r.Context())
			r = r.WithContext(ctx)
		}
		mw := &metricsWriter{ResponseWriter: w, reg: m.reg}
		defer m.observe(mw, r, start, timer)
		// A disabled endpoint does not exist, whatever the method: no 405
		// with an Allow header to say otherwise.
		if r.URL.Path == metricsPath && r.Method != http.MethodGet {
			if err := m.enabled(); err != nil {
				m.s.writeError(mw, r, err)
				return
			}
		}
		next.ServeHTTP(mw, r)
	})
}

// observe records a finished request (deferred, so that a panic that gets
// through still ends its stream).
func (m *serverMetrics) observe(mw *metricsWriter, r *http.Request, start time.Time, timer *agent.ModelTimer) {
	d := time.Since(start)
	if mw.stream {
		m.reg.StreamEnded()
	}
	status := mw.status
	switch {
	case status == 0 && r.Context().Err() != nil:
		status = statusClientClosed
	case status == 0:
		status = http.StatusOK
	}
	route := m.route(r)
	m.reg.ObserveRequest(route, status, d)
	if timer != nil && timer.Calls() > 0 {
		m.reg.ObserveOverhead(route, d-timer.Total())
	}
}

// route is the router's pattern for the request ("/v1/models/*id", never
// the raw path, so that the label set stays bounded), the pattern under
// another method for a 405 or a CORS preflight, or "unmatched".
func (m *serverMetrics) route(r *http.Request) string {
	path := r.URL.Path
	h, ps, _ := m.rt.Lookup(r.Method, path)
	if h == nil {
		h, ps, _ = m.rt.Lookup(http.MethodGet, path)
	}
	if h == nil {
		h, ps, _ = m.rt.Lookup(http.MethodPost, path)
	}
	if h == nil {
		return routeUnmatched
	}
	if len(ps) == 0 {
		// No parameters: the path is the pattern, one of the router's.
		return intern(m, path)
	}
	var buf [128]byte
	return intern(m, pattern(buf[:0], path, ps))
}

// intern returns the one copy of the pattern p; once p is known it
// allocates nothing (a map index with string(p) does not copy).
func intern[T string | []byte](m *serverMetrics, p T) string {
	m.mu.RLock()
	s, ok := m.routes[string(p)]
	n := len(m.routes)
	m.mu.RUnlock()
	if ok {
		return s
	}
	if n >= maxRoutePatterns {
		return metrics.Overflow
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.routes[string(p)]; ok {
		return s
	}
	s = strings.Clone(string(p)) // not the request's memory
	m.routes[s] = s
	return s
}

// pattern rebuilds a route pattern from a path and the parameters the
// router found in it: a catch-all parameter's value is the rest of the
// path (from a slash), a named one is a whole segment.
func pattern(dst []byte, path string, ps httprouter.Params) []byte {
	j := 0
	for i := 0; i < len(path); {
		if j < len(ps) && strings.HasPrefix(ps[j].Value, "/") && path[i:] == ps[j].Value {
			dst = append(dst, "/*"...)
			return append(dst, ps[j].Key...)
		}
		end := len(path)
		if k := strings.IndexByte(path[i+1:], '/'); k >= 0 {
			end = i + 1 + k
		}
		seg := path[i+1 : end]
		dst = append(dst, '/')
		if j < len(ps) && seg == ps[j].Value {
			dst = append(dst, ':')
			dst = append(dst, ps[j].Key...)
			j++
		} else {
			dst = append(dst, seg...)
		}
		i = end
	}
	return dst
}

// metricsWriter notes a response's status and whether it is an event
// stream. Unwrap lets http.ResponseController reach the writer below.
type metricsWriter struct {
	http.ResponseWriter
	reg    *metrics.Registry // nil: do not count streams
	status int
	stream bool
}

func (w *metricsWriter) WriteHeader(code int) {
	// 1xx other than 101 are interim: the status is still to come.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
		if code == http.StatusOK && w.reg != nil && strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
			w.stream = true
			w.reg.StreamStarted()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *metricsWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *metricsWriter) Flush() { w.FlushError() }

// FlushError flushes and reports a failed write (http.ResponseController
// prefers it to Flush).
func (w *metricsWriter) FlushError() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *metricsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
