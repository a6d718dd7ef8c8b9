package gateway

import (
	"net/http"
	"strings"
)

// CORS is opt-in, for browser front ends that call the API directly:
// with gateway.http.cors.allowedOrigins empty (the default) no response
// carries a CORS header, as in the original. With origins listed, a
// preflight on an API route from a listed origin is answered here, before
// auth (browsers send preflights without credentials), and every response
// to a listed origin carries Access-Control-Allow-Origin. An origin not
// listed gets no CORS headers, so the browser refuses the call. The list
// applies live.
func init() { middlewareHooks = append(middlewareHooks, corsMiddleware) }

// CORS answers.
const (
	corsAllowHeaders  = "Authorization, Content-Type, X-OpenClaw-Agent-Id, X-OpenClaw-Agent, X-OpenClaw-Session-Key, X-OpenClaw-Model"
	corsExposeHeaders = "X-Request-Id, Retry-After, X-Should-Retry"
	corsMaxAge        = "600" // seconds a browser may cache a preflight
)

func corsMiddleware(s *Server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origins := s.state.Load().cfg.Gateway.HTTP.CORS.AllowedOrigins
		if len(origins) == 0 || !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		// The answer depends on the Origin (none, listed or not): caches
		// must keep them apart.
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" || !originAllowed(origins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if want := r.Header.Get("Access-Control-Request-Method"); r.Method == http.MethodOptions && want != "" {
			if methods := s.corsMethods(r.URL.Path); strings.Contains(", "+methods+", ", ", "+want+", ") {
				h.Set("Access-Control-Allow-Methods", methods)
				h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			// A method the route does not serve, or a disabled or unknown
			// endpoint: the router's 405 or 404, which fails the preflight.
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		next.ServeHTTP(w, r)
	})
}

// originAllowed reports whether origin is in the list ("*" allows any);
// scheme and host compare case-insensitively, a trailing slash in the
// list is ignored.
func originAllowed(list []string, origin string) bool {
	for _, o := range list {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// corsMethods lists the methods the enabled endpoint at path serves ("" for
// none: unknown or disabled).
func (s *Server) corsMethods(path string) string {
	m := metricsOf(s)
	if m == nil || s.endpointEnabled(path) != nil || path == responsesPath && s.responsesEnabled() != nil {
		return ""
	}
	get, _, _ := m.rt.Lookup(http.MethodGet, path)
	post, _, _ := m.rt.Lookup(http.MethodPost, path)
	switch {
	case get != nil && post != nil:
		return "GET, POST"
	case get != nil:
		return "GET"
	case post != nil:
		return "POST"
	}
	return ""
}
