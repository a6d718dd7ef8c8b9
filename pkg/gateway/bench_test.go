package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// discardWriter is a ResponseWriter that keeps nothing but the status, so
// a benchmark measures the handler and not a recorder's buffer.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *discardWriter) Flush()                      {}

// benchServe runs one request per iteration through the whole handler:
// middleware, auth, body, decoding, the runner (session store included:
// each request without `user` writes a new session) and the encoder. The
// model is an in-process fake that answers at once, so the figures are the
// gateway's own overhead. The session index is rewritten whole on every run
// and grows by one entry per stateless request, so the server (and its
// state dir) is replaced every sessionsPerStore requests, untimed: the
// figures are for a store of up to that many sessions.
func benchServe(b *testing.B, body string, want int) {
	const sessionsPerStore = 100
	p := replyWith("Hello ", "there, ", "friend. ", "How ", "can ", "I ", "help?")
	var s *Server
	req, _ := http.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	req.RemoteAddr = "127.0.0.1:1234"
	req.Header.Set("Authorization", "Bearer t0k")
	rd := strings.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%sessionsPerStore == 0 {
			b.StopTimer()
			s, _ = newTestServer(b, p, nil)
			b.StartTimer()
		}
		rd.Reset(body)
		r := *req
		r.Body = readCloser{rd}
		r.ContentLength = int64(len(body))
		w := &discardWriter{h: http.Header{}}
		s.ServeHTTP(w, &r)
		if w.status != want {
			b.Fatalf("status %d, want %d", w.status, want)
		}
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

const benchBody = `{"model":"openclaw","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"4"},{"role":"user","content":"And 3+3?"}],"temperature":0.2,"max_tokens":100}`

func BenchmarkChatCompletion(b *testing.B) { benchServe(b, benchBody, 200) }

func BenchmarkChatCompletionStream(b *testing.B) {
	benchServe(b, strings.Replace(benchBody, `{"model"`, `{"stream":true,"stream_options":{"include_usage":true},"model"`, 1), 200)
}

// BenchmarkChatCompletionInvalid is a request refused after decoding (no
// run): the cost of the checks alone.
func BenchmarkChatCompletionInvalid(b *testing.B) {
	benchServe(b, strings.Replace(benchBody, `"temperature":0.2`, `"temperature":3`, 1), 400)
}

// Make sure the fake satisfies the interface the runner expects.
var _ provider.Provider = fakeProvider{}
