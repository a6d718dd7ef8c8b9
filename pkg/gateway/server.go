// Package gateway is the daemon's HTTP server: routes, auth and the
// failed-auth limiter, and the OpenAI-compatible handlers. Handlers only
// translate requests into agent.Requests and run events into responses.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"
	"github.com/julienschmidt/httprouter"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/openai"
)

// Options configure a Server.
type Options struct {
	Runner *agent.Runner
	Log    *log.Logger
	// Auth overrides from flags or the environment, applied over every
	// config (re)load. Empty fields mean "from config".
	Auth AuthOverride
	// Now is the clock of the limiter; nil is time.Now.
	Now func() time.Time
	// Version is the build's version, reported to WebSocket clients.
	Version string
}

// AuthOverride holds auth settings that do not come from the config file.
type AuthOverride struct {
	Mode     string // flag --auth
	Token    string // flag --token (wins over config)
	Password string // flag --password / --password-file (wins over config)
	EnvToken string // OPENCLAW_GATEWAY_TOKEN (used when config has none)
	EnvPass  string // OPENCLAW_GATEWAY_PASSWORD (used when config has none)
}

// Server is the gateway's HTTP handler. Apply swaps its configuration live.
type Server struct {
	version string
	runner  *agent.Runner
	log     *log.Logger
	auth    AuthOverride
	now     func() time.Time

	// bodyTimeout bounds reading a request body: the constant of the same
	// name, shorter in tests.
	bodyTimeout time.Duration

	state   atomic.Pointer[serverState]
	ready   atomic.Bool
	handler http.Handler
}

// serverState is everything derived from one config.
type serverState struct {
	cfg     *config.Config
	mode    string
	secret  string
	trusted []netip.Prefix
	limiter *Limiter
	exempt  bool
}

// New returns a Server for the runner's current config.
func New(opts Options) (*Server, error) {
	s := &Server{version: opts.Version, runner: opts.Runner, log: opts.Log, auth: opts.Auth, now: opts.Now, bodyTimeout: bodyTimeout}
	if s.log == nil {
		s.log = log.New(nilWriter{})
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.Apply(opts.Runner.Config()); err != nil {
		return nil, err
	}
	h := s.routes()
	for _, wrap := range middlewareHooks {
		h = wrap(s, h)
	}
	s.handler = s.middleware(h)
	return s, nil
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// Effective auth mode and secret for cfg with the overrides applied:
// flags win over the config file, which wins over the environment.
func (s *Server) effectiveAuth(cfg *config.Config) (mode, secret string) {
	mode = cfg.Gateway.Auth.Mode
	if s.auth.Mode != "" {
		mode = s.auth.Mode
	}
	switch mode {
	case AuthToken:
		secret = firstNonEmpty(s.auth.Token, cfg.Gateway.Auth.Token, s.auth.EnvToken)
	case AuthPassword:
		secret = firstNonEmpty(s.auth.Password, cfg.Gateway.Auth.Password, s.auth.EnvPass)
	}
	return mode, secret
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Apply makes cfg the configuration in force, for the server and its
// runner. A config the server cannot use is refused and the old one stays.
func (s *Server) Apply(cfg *config.Config) error {
	mode, secret := s.effectiveAuth(cfg)
	switch mode {
	case AuthNone:
	case AuthToken, AuthPassword:
		if secret == "" {
			return fmt.Errorf("gateway.auth.mode is %q but no %s is set: set gateway.auth.%s or OPENCLAW_GATEWAY_%s", mode, mode, mode, map[string]string{AuthToken: "TOKEN", AuthPassword: "PASSWORD"}[mode])
		}
	default:
		return fmt.Errorf("gateway.auth.mode %q is not one of none, token, password", mode)
	}
	trusted, err := parsePrefixes(cfg.Gateway.TrustedProxies)
	if err != nil {
		return fmt.Errorf("gateway.trustedProxies: %v", err)
	}
	rl := cfg.Gateway.Auth.RateLimit
	lc := LimiterConfig{MaxAttempts: rl.MaxAttempts, Window: time.Duration(rl.WindowMs) * time.Millisecond, Lockout: time.Duration(rl.LockoutMs) * time.Millisecond}
	st := &serverState{cfg: cfg, mode: mode, secret: secret, trusted: trusted, exempt: rl.ExemptLoopback}
	if old := s.state.Load(); old != nil && old.limiter.cfg == (LimiterConfig{MaxAttempts: lc.MaxAttempts, Window: lc.Window, Lockout: lc.Lockout, MaxEntries: old.limiter.cfg.MaxEntries}) {
		st.limiter = old.limiter // keep counts and lockouts across unrelated reloads
	} else {
		st.limiter = NewLimiter(lc, s.now)
	}
	s.state.Store(st)
	if s.runner.Config() != cfg {
		s.runner.SetConfig(cfg)
	}
	return nil
}

// SetReady sets what /readyz answers.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routeHooks add the routes of features that live in their own files
// (each registers itself in an init function, so files do not collide).
var routeHooks []func(s *Server, rt *httprouter.Router)

// middlewareHooks wrap the router, inside the security-header and access-log
// middleware (CORS, metrics), in registration order.
var middlewareHooks []func(s *Server, next http.Handler) http.Handler

// handlerFunc is a handler that returns its error for the one writer.
type handlerFunc func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error

func (s *Server) handle(h handlerFunc) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		if err := h(w, r, ps); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) routes() http.Handler {
	rt := httprouter.New()
	rt.RedirectTrailingSlash = false
	rt.RedirectFixedPath = false
	rt.HandleMethodNotAllowed = true
	rt.HandleOPTIONS = false

	for _, m := range []string{http.MethodGet, http.MethodHead} {
		rt.Handle(m, "/healthz", s.handle(s.healthz))
		rt.Handle(m, "/readyz", s.handle(s.readyz))
	}
	rt.POST("/v1/chat/completions", s.handle(s.chatCompletions))
	rt.GET("/v1/models", s.handle(s.models))
	rt.GET("/v1/models/*id", s.handle(s.model))
	for _, add := range routeHooks {
		add(s, rt)
	}

	rt.NotFound = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, notFound(r))
	})
	rt.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A disabled endpoint does not exist, whatever the method: no
		// Allow header (httprouter has set one) to say otherwise.
		if err := s.endpointEnabled(r.URL.Path); err != nil {
			w.Header().Del("Allow")
			s.writeError(w, r, err)
			return
		}
		// httprouter lists OPTIONS too, which no route here serves.
		var allow []string
		for _, m := range strings.Split(w.Header().Get("Allow"), ", ") {
			if m != http.MethodOptions && m != "" {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, &openai.Error{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Message: fmt.Sprintf("Method %s is not allowed on %s. Allowed: %s.", r.Method, r.URL.Path, strings.Join(allow, ", "))})
	})
	rt.PanicHandler = func(w http.ResponseWriter, r *http.Request, v any) {
		s.log.Error("panic in handler", "path", r.URL.Path, "panic", v)
		s.writeError(w, r, errors.New("panic"))
	}
	return rt
}

func notFound(r *http.Request) *openai.Error {
	return &openai.Error{Status: http.StatusNotFound, Type: "not_found_error", Message: fmt.Sprintf("Not found: %s %s", r.Method, r.URL.Path)}
}

// endpointEnabled answers 404 for a disabled optional endpoint.
func (s *Server) endpointEnabled(path string) error {
	cfg := s.state.Load().cfg
	switch {
	case path == "/v1/chat/completions" || path == "/v1/models" || len(path) > len("/v1/models/") && path[:len("/v1/models/")] == "/v1/models/":
		if !cfg.Gateway.HTTP.Endpoints.ChatCompletions.Enabled {
			return &openai.Error{Status: http.StatusNotFound, Type: "not_found_error",
				Message: "The chat completions endpoint is disabled. Enable it with: openclaw config set gateway.http.endpoints.chatCompletions.enabled true"}
		}
	}
	return nil
}

// writeError is the one error writer: an *openai.Error is sent as is, any
// other error is a 500 "internal error" whose cause is logged, not sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *openai.Error
	if !errors.As(err, &ae) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "request_id", w.Header().Get("X-Request-Id"), "err", err)
		ae = &openai.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "internal error"}
	}
	writeJSON(w, ae.Status, ae)
}

// writeJSON sends v as the JSON body. Like the stream encoder in package
// openai, it escapes HTML characters as encoding/json does, so a message
// reads the same in both modes.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"internal error","type":"api_error","param":null,"code":null}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "status": "live"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	w.Header().Set("Cache-Control", "no-store")
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"ready": true})
	return nil
}

// authorize checks the request's credentials against the limiter and the
// secret in force. It returns nil when the request may go on.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	h := r.Header.Get("Authorization")
	got, _ := bearer(h) // a header of another scheme is a wrong secret
	a := s.admit(r, got, h != "")
	switch {
	case a.ok:
		return nil
	case a.retry > 0:
		return lockedOut(w, a.retry)
	}
	return &openai.Error{Status: http.StatusUnauthorized, Type: "unauthorized", Message: "Unauthorized"}
}

func lockedOut(w http.ResponseWriter, retry int) error {
	if retry < 1 {
		retry = 1
	}
	w.Header().Set("Retry-After", fmt.Sprint(retry))
	w.Header().Set("x-should-retry", "false")
	return &openai.Error{Status: http.StatusTooManyRequests, Type: "rate_limited", Message: "Too many failed authentication attempts. Please try again later."}
}

// middleware wraps every response: security headers, a request id, and one
// access log line (never the Authorization header or a prompt).
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		id := newRequestID()
		h.Set("X-Request-Id", id)
		rw := &recorder{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		status := rw.status
		switch {
		case status == 0 && r.Context().Err() != nil:
			status = statusClientClosed // nothing was sent: the client left first
		case status == 0:
			status = http.StatusOK
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status, "bytes", rw.bytes, "dur", time.Since(start).Round(time.Microsecond), "id", id)
	})
}

// statusClientClosed is logged (never sent) for a request whose client went
// away before any response: nginx's 499.
const statusClientClosed = 499

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder remembers the status and size of a response. Unwrap lets
// http.ResponseController reach Flush and deadlines of the real writer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// FlushError flushes and reports a failed write (a client gone), which
// http.ResponseController.Flush returns to the stream loop.
func (r *recorder) FlushError() error {
	return http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// NewHTTPServer returns an http.Server with strict timeouts for h. There is
// no WriteTimeout: streams are long; the run timeout bounds them instead.
func NewHTTPServer(h http.Handler, errLog *log.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if errLog != nil {
		srv.ErrorLog = errLog.StandardLog(log.StandardLogOptions{ForceLevel: log.DebugLevel})
	}
	return srv
}

// Listen opens the listener for host:port.
func Listen(ctx context.Context, host string, port int) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", net.JoinHostPort(host, fmt.Sprint(port)))
}
