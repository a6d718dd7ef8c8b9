package provider

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// TestNoGoroutineLeak: many calls, ok, failed and canceled, leave no
// goroutine behind once the pool's idle connections are closed.
func TestNoGoroutineLeak(t *testing.T) {
	ok := oaSSE(`{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`)
	var f *fakeServer
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Case") {
		case "hang":
			f.hangUntilGone(r)
		case "500":
			http.Error(w, "boom", 500)
		default:
			sseHandler(ok)(w, r)
		}
	})
	client := &http.Client{Transport: &http.Transport{}}
	base := runtime.NumGoroutine()
	for i := range 30 {
		c := []string{"ok", "500", "hang"}[i%3]
		p := mustNew(t, Config{ID: "x", API: APIOpenAI, BaseURL: f.URL + "/v1", Client: client, Headers: map[string]string{"X-Case": c}, ReadTimeout: 20 * time.Millisecond})
		_, _ = p.Stream(context.Background(), &Request{Model: "m"}, nil)
	}
	client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		client.CloseIdleConnections()
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left over %d:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
