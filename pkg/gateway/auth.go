package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Auth modes.
const (
	AuthNone     = "none"
	AuthToken    = "token"
	AuthPassword = "password"
)

// bearer returns the secret of an "Authorization: Bearer <secret>" header;
// the scheme is case-insensitive.
func bearer(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

// secretMatches compares a client's secret with the expected one in
// constant time (hashing first, so neither length nor content leaks).
func secretMatches(got, secret string) bool {
	if secret == "" {
		return false
	}
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// admission is the outcome of one authentication attempt.
type admission struct {
	ok    bool
	retry int // > 0: the client is locked out for this many seconds
}

// admit runs one authentication attempt of any protocol through the limiter
// and the secret in force. present says whether the client sent credentials
// at all: an attempt without any is refused but not counted as a failure.
func (s *Server) admit(r *http.Request, got string, present bool) admission {
	st := s.state.Load()
	if st.mode == AuthNone {
		return admission{ok: true}
	}
	addr := clientAddr(r, st.trusted)
	client := addr.String()
	limited := !(st.exempt && addr.IsLoopback())
	if limited {
		if locked, retry := st.limiter.Locked(client); locked {
			return admission{retry: max(retry, 1)}
		}
	}
	if present && secretMatches(got, st.secret) {
		if limited {
			st.limiter.Success(client)
		}
		return admission{ok: true}
	}
	if present && limited && st.limiter.Fail(client) {
		s.log.Warn("client locked out after repeated auth failures", "client", client)
		s.countLockout()
	}
	s.countAuthFailure()
	return admission{}
}

// parsePrefixes parses IPs and CIDRs; single IPs become /32 or /128.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address of the client: the socket peer, unless the peer
// is a trusted proxy, in which case the right-most X-Forwarded-For address
// that is not itself a trusted proxy.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if len(trusted) == 0 || !inPrefixes(peer, trusted) {
		return peer
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer
			}
			a = a.Unmap()
			if !inPrefixes(a, trusted) {
				return a
			}
		}
	}
	return peer
}
