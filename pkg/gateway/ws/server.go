// Package ws is the server side of the gateway's WebSocket protocol
// (version 3, JSON text frames), served on the gateway's one port.
//
// A connection starts with a connect.challenge event from the server; the
// client's first request must be "connect" with an overlapping protocol
// range and the gateway's secret, answered by hello-ok. After that the
// client sends requests ({"type":"req",id,method,params}), the server
// answers each with a response of the same id and pushes events (agent
// run streams, periodic ticks). Every agent run goes through the one agent
// runner.
//
// Each connection has two goroutines: the one that reads (the HTTP
// handler's) and one that writes, which owns every write, so that a
// response always leaves before the close frame that follows it. Both end
// when the connection closes. A run started over a connection is canceled
// when no connection is waiting for it any more.
package ws

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/openclaw/openclaw-go/pkg/agent"
)

// Defaults of Options.
const (
	DefaultMaxPayload       = 512 << 10        // bytes of one client frame after the handshake
	PreAuthMaxPayload       = 64 << 10         // bytes of one client frame before it
	DefaultMaxBuffered      = 3 << 19          // 1.5 MiB of frames queued for one client
	DefaultTickInterval     = 30 * time.Second // tick events
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxRunsPerConn   = 64 // agent runs in flight on one connection
	dedupeTTL               = 5 * time.Minute
	dedupeMax               = 1000 // finished runs kept for idempotency and abort
	writeTimeout            = 10 * time.Second
	closeGrace              = 5 * time.Second // for clients to answer the close frame at shutdown
)

// Close codes the server uses.
const (
	ClosePolicy         = websocket.StatusPolicyViolation // 1008: bad handshake, auth, slow consumer
	CloseProtocolError  = websocket.StatusProtocolError   // 1002: no overlapping protocol version
	CloseTooBig         = websocket.StatusMessageTooBig   // 1009: a frame over the limit
	CloseServiceRestart = websocket.StatusServiceRestart  // 1012: the gateway is stopping
)

// AuthDecision is the gateway's verdict on a connect's credentials.
type AuthDecision struct {
	OK bool
	// Reason says why not: token_missing, token_mismatch, password_missing,
	// password_mismatch or rate_limited.
	Reason     string
	RetryAfter time.Duration // rate_limited: how long the client stays locked out
}

// Options configure a Server.
type Options struct {
	Runner *agent.Runner
	Log    *log.Logger
	// Authorize checks a connect's credentials against the gateway's auth
	// mode, secret and failed-auth limiter, for the client of r. Nil
	// accepts every connect (auth mode none).
	Authorize func(r *http.Request, auth ConnectAuth) AuthDecision
	// Ready reports what the health method says about readiness; nil is
	// always ready.
	Ready func() bool
	// Version is the server version in hello-ok and status.
	Version string

	MaxPayload       int64         // 0 is DefaultMaxPayload
	MaxBuffered      int64         // 0 is DefaultMaxBuffered
	TickInterval     time.Duration // 0 is DefaultTickInterval
	HandshakeTimeout time.Duration // 0 is DefaultHandshakeTimeout
	MaxRunsPerConn   int           // 0 is DefaultMaxRunsPerConn
	// OriginPatterns are the browser origins allowed besides the gateway's
	// own host (see websocket.AcceptOptions).
	OriginPatterns []string
}

// Server serves the protocol. It is an http.Handler for the upgrade request.
type Server struct {
	opts   Options
	runner *agent.Runner
	log    *log.Logger
	start  time.Time

	ctx    context.Context // runs live in it; canceled by a hard shutdown
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	closing  bool
	conns    map[*conn]struct{}
	runs     map[string]*run // by run id: active and recently finished
	byKey    map[string]*run // by idempotency key
	finished []*run          // oldest first, for eviction

	connWG sync.WaitGroup // connection goroutines
	runWG  sync.WaitGroup // run goroutines
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.MaxBuffered <= 0 {
		opts.MaxBuffered = DefaultMaxBuffered
	}
	if opts.TickInterval <= 0 {
		opts.TickInterval = DefaultTickInterval
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.MaxRunsPerConn <= 0 {
		opts.MaxRunsPerConn = DefaultMaxRunsPerConn
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	lg := opts.Log
	if lg == nil {
		lg = log.New(nilWriter{})
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Server{
		opts: opts, runner: opts.Runner, log: lg, start: time.Now(),
		ctx: ctx, cancel: cancel,
		conns: map[*conn]struct{}{}, runs: map[string]*run{}, byKey: map[string]*run{},
	}
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// Methods are the request methods the server answers, as hello-ok lists them.
var Methods = []string{"health", "status", "agent", "agent.abort", "sessions.list", "chat.history"}

// Events are the events the server sends.
var Events = []string{"connect.challenge", "agent", "tick", "shutdown"}

// IsUpgrade reports whether r asks for a WebSocket.
func IsUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

// ServeHTTP upgrades the request and serves the connection until it closes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.connWG.Add(1)
	}
	s.mu.Unlock()
	if closing {
		http.Error(w, "the gateway is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.connWG.Done()
	// The HTTP server's read deadline (ReadTimeout) was set for the upgrade
	// request and stays on the connection after the hijack: clear it, or a
	// quiet connection would die after it.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	wsc, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:  s.opts.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		s.log.Debug("websocket upgrade refused", "err", err)
		return
	}
	c := newConn(s, wsc, r)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	c.serve()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Shutdown tells every client the gateway is stopping, refuses new
// connections and runs, lets the runs in flight finish until ctx ends (then
// cancels them), and closes every connection with 1012. It returns when
// every goroutine of the package has ended.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closing
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if first {
		for _, c := range conns {
			c.sendEvent("shutdown", marshal(map[string]any{"reason": "gateway stopping"}), false)
		}
	}
	if !waitCtx(ctx, &s.runWG) {
		s.cancel(errShutdown)
		s.runWG.Wait()
	}
	for _, c := range conns {
		c.closeWith(CloseServiceRestart, "service restart")
	}
	// Closing is bounded on its own: a client gets a moment to answer the
	// close frame even when the runs used up ctx.
	cctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	if !waitCtx(cctx, &s.connWG) {
		s.mu.Lock()
		for c := range s.conns {
			c.ws.CloseNow()
		}
		s.mu.Unlock()
		s.connWG.Wait()
	}
	return ctx.Err()
}

// waitCtx waits for wg until ctx ends; it reports whether wg finished.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// Stats are counts for status and tests.
type Stats struct {
	Connections int // open connections
	ActiveRuns  int // runs not finished
	KeptRuns    int // finished runs kept for idempotency
}

// Stats returns the server's counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Connections: len(s.conns), KeptRuns: len(s.finished)}
	st.ActiveRuns = len(s.runs) - len(s.finished)
	return st
}

func newConnID() string { return uuid.NewString() }
