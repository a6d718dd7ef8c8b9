package gateway

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/openclaw/openclaw-go/pkg/gateway/ws"
)

// The WebSocket protocol shares the gateway's port: an upgrade request on
// "/" (where the original's clients connect) or "/ws" is the protocol; a
// plain GET there is the usual 404.
func init() { routeHooks = append(routeHooks, mountWebSocket) }

// wsServers maps a gateway Server to its WebSocket server (the Server
// struct is not this file's to extend).
var wsServers sync.Map // *Server -> *ws.Server

func mountWebSocket(s *Server, rt *httprouter.Router) {
	wss := ws.New(ws.Options{
		Runner:    s.runner,
		Log:       s.log,
		Authorize: s.AuthorizeConnect,
		Ready:     s.ready.Load,
		Version:   firstNonEmpty(s.version, buildVersion()),
	})
	wsServers.Store(s, wss)
	var hookOnce sync.Once
	h := func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
		if !ws.IsUpgrade(r) {
			s.writeError(w, r, notFound(r))
			return
		}
		// Shutdown of the HTTP server does not see hijacked connections:
		// hook it once to tell WebSocket clients and close them.
		if hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
			hookOnce.Do(func() {
				hs.RegisterOnShutdown(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					wss.Shutdown(ctx)
				})
			})
		}
		wss.ServeHTTP(w, r)
	}
	// Only GET upgrades; every other method gets the 404 these paths had
	// before, not a 405 that would advertise GET for plain requests.
	nf := func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) { s.writeError(w, r, notFound(r)) }
	for _, p := range []string{"/", "/ws"} {
		rt.GET(p, h)
		for _, m := range []string{http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			rt.Handle(m, p, nf)
		}
	}
}

// buildVersion is the module version stamped into the binary, else "dev".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// CloseWebSockets tells WebSocket clients the gateway is stopping, lets
// their agent runs finish until ctx ends, and closes their connections. The
// daemon calls it after http.Server.Shutdown, which does not wait for
// hijacked connections.
func (s *Server) CloseWebSockets(ctx context.Context) error {
	v, ok := wsServers.Load(s)
	if !ok {
		return nil
	}
	return v.(*ws.Server).Shutdown(ctx)
}

// WebSocketStats returns the counts of the WebSocket server (tests, status).
func (s *Server) WebSocketStats() ws.Stats {
	v, ok := wsServers.Load(s)
	if !ok {
		return ws.Stats{}
	}
	return v.(*ws.Server).Stats()
}

// AuthorizeConnect checks the secret of a WebSocket connect against the
// auth state in force and the failed-auth limiter, for r's client address:
// the same rules as the HTTP API's bearer auth. Mode none accepts any
// connect; no secret for the mode is "missing" and not counted; a wrong one
// is counted; a locked-out client is refused even with the right secret.
func (s *Server) AuthorizeConnect(r *http.Request, auth ws.ConnectAuth) ws.AuthDecision {
	mode := s.state.Load().mode
	got := auth.Token
	if mode == AuthPassword {
		got = auth.Password
	}
	a := s.admit(r, got, got != "")
	switch {
	case a.ok:
		return ws.AuthDecision{OK: true}
	case a.retry > 0:
		return ws.AuthDecision{Reason: "rate_limited", RetryAfter: time.Duration(a.retry) * time.Second}
	case got == "":
		return ws.AuthDecision{Reason: mode + "_missing"}
	}
	return ws.AuthDecision{Reason: mode + "_mismatch"}
}
