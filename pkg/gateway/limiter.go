package gateway

import (
	"math"
	"sync"
	"time"
)

// LimiterConfig configures the failed-auth limiter.
type LimiterConfig struct {
	MaxAttempts int           // failures inside Window that cause a lockout
	Window      time.Duration // failures older than this are forgotten
	Lockout     time.Duration // how long a client stays locked out
	MaxEntries  int           // bound on tracked clients; 0 means DefaultLimiterEntries
}

// DefaultLimiterEntries bounds the limiter's memory whatever the number of
// client addresses: about 100 bytes an entry.
const DefaultLimiterEntries = 65536

// Limiter counts failed authentications per client and locks out a client
// that fails too often. It is safe for concurrent use and bounded in memory.
type Limiter struct {
	cfg LimiterConfig
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*limEntry
}

type limEntry struct {
	windowStart time.Time
	failures    int
	lockedUntil time.Time
	last        time.Time
}

// NewLimiter returns a limiter; now is the clock (nil is time.Now).
func NewLimiter(cfg LimiterConfig, now func() time.Time) *Limiter {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultLimiterEntries
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{cfg: cfg, now: now, entries: map[string]*limEntry{}}
}

// Locked reports whether the client is locked out and for how long still,
// rounded up to whole seconds for Retry-After.
func (l *Limiter) Locked(client string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[client]
	if e == nil {
		return false, 0
	}
	now := l.now()
	if now.Before(e.lockedUntil) {
		return true, int(math.Ceil(e.lockedUntil.Sub(now).Seconds()))
	}
	return false, 0
}

// Fail records a failed authentication; it reports whether the client is
// now locked out.
func (l *Limiter) Fail(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entries[client]
	if e == nil {
		if len(l.entries) >= l.cfg.MaxEntries {
			l.evict(now)
		}
		e = &limEntry{windowStart: now}
		l.entries[client] = e
	}
	e.last = now
	if now.Before(e.lockedUntil) {
		return true
	}
	if now.Sub(e.windowStart) >= l.cfg.Window {
		e.windowStart, e.failures = now, 0
	}
	e.failures++
	if e.failures >= l.cfg.MaxAttempts {
		e.lockedUntil = now.Add(l.cfg.Lockout)
		e.failures = 0
		e.windowStart = now
		return true
	}
	return false
}

// Success forgets the client's failures.
func (l *Limiter) Success(client string) {
	l.mu.Lock()
	delete(l.entries, client)
	l.mu.Unlock()
}

// Len is the number of clients tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// evict makes room: first every entry that no longer matters (window over
// and not locked), then, if still full, a quarter of the entries, unlocked
// ones first so that flooding new addresses does not lift lockouts cheaply.
// Amortised O(1): it runs at most once per MaxEntries/4 new clients.
func (l *Limiter) evict(now time.Time) {
	for k, e := range l.entries {
		if !now.Before(e.lockedUntil) && now.Sub(e.windowStart) >= l.cfg.Window {
			delete(l.entries, k)
		}
	}
	if len(l.entries) < l.cfg.MaxEntries {
		return
	}
	target := len(l.entries) - l.cfg.MaxEntries*3/4
	for _, lockedToo := range []bool{false, true} {
		for k, e := range l.entries {
			if target <= 0 {
				return
			}
			if lockedToo || !now.Before(e.lockedUntil) {
				delete(l.entries, k)
				target--
			}
		}
	}
}
