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

// authOutcome is what a request's credentials amount to.
type authOutcome int

const (
	authOK      authOutcome = iota
	authMissing             // no credentials at all: 401, not counted by the limiter
	authWrong               // wrong credentials: 401, counted
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

// checkAuth compares the request's bearer secret with the expected one in
// constant time (hashing first, so neither length nor content leaks).
func checkAuth(r *http.Request, mode, secret string) authOutcome {
	if mode == AuthNone {
		return authOK
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return authMissing
	}
	got, ok := bearer(h)
	if !ok {
		return authWrong
	}
	if secret == "" {
		return authWrong
	}
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
		return authOK
	}
	return authWrong
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
