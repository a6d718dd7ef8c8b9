package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer is an upstream model server on loopback that records what it
// received.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
	// gone is closed when a request's context ends before its handler
	// returned: the client really went away.
	gone chan struct{}
	once sync.Once
	// conns counts the connections clients opened.
	conns atomic.Int32
}

type recorded struct {
	Path   string
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// newFake starts a server whose handler h runs after the request was
// recorded.
func newFake(t *testing.T, h http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{gone: make(chan struct{})}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: raw})
		f.mu.Unlock()
		h(w, r)
	}))
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// waitGone blocks until the current request's context ended. The handler
// calls it; it records that the client went away.
func (f *fakeServer) hangUntilGone(r *http.Request) {
	<-r.Context().Done()
	f.once.Do(func() { close(f.gone) })
}

// sawGone waits for the server to observe the client leaving. The limit
// only keeps a broken build from hanging the test run.
func (f *fakeServer) sawGone(t *testing.T) {
	t.Helper()
	select {
	case <-f.gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the request end: the upstream call was not aborted")
	}
}

func (f *fakeServer) last(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the server got no request")
	}
	return f.reqs[len(f.reqs)-1]
}

// sseHandler writes body as an event stream, flushing after every blank
// line so each event is its own chunk.
func sseHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for ev := range strings.SplitAfterSeq(body, "\n\n") {
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	}
}

// jsonHandler answers status with body as JSON, plus headers.
func jsonHandler(status int, body string, hdr map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// mustNew builds a provider or fails the test.
func mustNew(t *testing.T, cfg Config) Provider {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run streams req and collects the deltas.
func run(p Provider, ctx context.Context, req *Request) (*Response, []string, error) {
	var deltas []string
	resp, err := p.Stream(ctx, req, func(s string) { deltas = append(deltas, s) })
	return resp, deltas, err
}

// oaSSE builds an OpenAI stream from chunk JSON texts, ending in [DONE].
func oaSSE(chunks ...string) string {
	var b strings.Builder
	for _, c := range chunks {
		fmt.Fprintf(&b, "data: %s\n\n", c)
	}
	b.WriteString("data: [DONE]\n\n")
	return b.String()
}

// anSSE builds an Anthropic stream from (event, data) pairs.
func anSSE(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", pairs[i], pairs[i+1])
	}
	return b.String()
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

// jsonPath digs into a decoded JSON value: "messages.0.content".
func jsonPath(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func ptr[T any](v T) *T { return &v }
