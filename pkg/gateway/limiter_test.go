package gateway

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }
func testLimiter(c *fakeClock, max int) *Limiter {
	return NewLimiter(LimiterConfig{MaxAttempts: 3, Window: time.Minute, Lockout: 5 * time.Minute, MaxEntries: max}, c.now)
}

func TestLimiterLockoutAndExpiry(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 0)
	for i := 1; i <= 2; i++ {
		if l.Fail("a") {
			t.Fatalf("locked after %d failures, want 3", i)
		}
	}
	if locked, _ := l.Locked("a"); locked {
		t.Fatal("locked before the third failure")
	}
	if !l.Fail("a") {
		t.Fatal("third failure did not lock")
	}
	c.add(90*time.Second + 300*time.Millisecond)
	locked, retry := l.Locked("a")
	if !locked || retry != 210 {
		t.Fatalf("Locked = %v, %d; want true, 210 (ceil of 209.7s)", locked, retry)
	}
	if locked, _ := l.Locked("b"); locked {
		t.Fatal("another client is locked too")
	}
	c.add(210 * time.Second)
	if locked, _ := l.Locked("a"); locked {
		t.Fatal("still locked after the lockout")
	}
}

func TestLimiterWindowForgetsOldFailures(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 0)
	l.Fail("a")
	l.Fail("a")
	c.add(time.Minute)
	if l.Fail("a") {
		t.Fatal("failures from an old window counted")
	}
}

func TestLimiterSuccessResets(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 0)
	l.Fail("a")
	l.Fail("a")
	l.Success("a")
	if l.Fail("a") || l.Fail("a") {
		t.Fatal("success did not reset the count")
	}
	if !l.Fail("a") {
		t.Fatal("third failure after the reset did not lock")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 1000)
	// Lock one client, then flood with 100,000 distinct addresses.
	for i := 0; i < 3; i++ {
		l.Fail("victim")
	}
	for i := 0; i < 100_000; i++ {
		l.Fail(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255))
		if n := l.Len(); n > 1000 {
			t.Fatalf("%d entries tracked, bound is 1000", n)
		}
	}
}

func TestLimiterEvictsUnlockedFirst(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 8)
	for i := 0; i < 3; i++ {
		l.Fail("locked")
	}
	for i := 0; i < 7; i++ {
		l.Fail(fmt.Sprint("x", i))
	}
	if locked, _ := l.Locked("locked"); !locked {
		t.Fatal("a locked client was evicted while unlocked ones remained")
	}
}

func TestBearer(t *testing.T) {
	for _, tc := range []struct {
		h    string
		want string
		ok   bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"abc", "", false},
	} {
		got, ok := bearer(tc.h)
		if got != tc.want || ok != tc.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", tc.h, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSecretMatches(t *testing.T) {
	for _, tc := range []struct {
		got, secret string
		want        bool
	}{
		{"s3cret", "s3cret", true},
		{"s3cre", "s3cret", false},
		{"s3cretX", "s3cret", false},
		{"", "s3cret", false},
		{"", "", false}, // no secret configured never matches
		{"x", "", false},
	} {
		if got := secretMatches(tc.got, tc.secret); got != tc.want {
			t.Errorf("secretMatches(%q, %q) = %v, want %v", tc.got, tc.secret, got, tc.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := parsePrefixes([]string{"10.0.0.1", "192.168.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"127.0.0.1:5000", nil, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"1.2.3.4"}, "127.0.0.1"}, // untrusted peer: XFF ignored
		{"10.0.0.1:5000", []string{"1.2.3.4"}, "1.2.3.4"},
		{"10.0.0.1:5000", []string{"6.6.6.6, 1.2.3.4"}, "1.2.3.4"}, // right-most untrusted
		{"10.0.0.1:5000", []string{"1.2.3.4, 192.168.1.1"}, "1.2.3.4"},
		{"10.0.0.1:5000", []string{"garbage"}, "10.0.0.1"},
		{"10.0.0.1:5000", nil, "10.0.0.1"},
		{"[::1]:80", nil, "::1"},
		{"[::ffff:10.0.0.1]:80", []string{"5.5.5.5"}, "5.5.5.5"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, trusted); got != netip.MustParseAddr(tc.want) {
			t.Errorf("clientAddr(%s, %v) = %v, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
