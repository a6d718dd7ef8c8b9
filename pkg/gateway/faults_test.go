package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
	"github.com/openclaw/openclaw-go/pkg/session"
)

// upstream is a misbehaving model server on loopback speaking both APIs:
// its fault decides how it answers the next request; "" answers properly.
// It keeps every request body it got.
type upstream struct {
	*httptest.Server
	mu     sync.Mutex
	fault  string
	bodies []string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) set(fault string) {
	u.mu.Lock()
	u.fault = fault
	u.mu.Unlock()
}

func (u *upstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.bodies...)
}

// sse renders the events of a text reply in the request's API: the deltas,
// and the end of the message unless end is false.
func sse(anthropic bool, deltas []string, end bool) string {
	var b strings.Builder
	if anthropic {
		b.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":3}}}\n\n")
		for _, d := range deltas {
			fmt.Fprintf(&b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":%q}}\n\n", d)
		}
		if end {
			b.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
		}
		return b.String()
	}
	for _, d := range deltas {
		fmt.Fprintf(&b, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", d)
	}
	if end {
		b.WriteString("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n")
	}
	return b.String()
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.bodies = append(u.bodies, string(body))
	fault := u.fault
	u.mu.Unlock()
	anthropic := strings.HasSuffix(r.URL.Path, "/v1/messages")
	flush := func(s string) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, s)
		w.(http.Flusher).Flush()
	}
	switch fault {
	case "":
		flush(sse(anthropic, []string{"all ", "fine"}, true))
	case "reset": // a few deltas, then the connection is reset
		flush(sse(anthropic, []string{"half ", "an ", "answer "}, false))
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
		conn.Close()
	case "eof": // a few deltas, then a clean end of stream with no finish
		flush(sse(anthropic, []string{"half ", "an ", "answer "}, false))
	case "garbage":
		flush("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half \"}}]}\n\ndata: {\"type\":\x00\xff<html>\n\n")
	case "binary":
		flush("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xfe\xfd")
	case "stall": // headers and a delta, then silence until the client leaves
		flush(sse(anthropic, []string{"half "}, false))
		<-r.Context().Done()
	case "429":
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"message":"Rate limit reached for sk-upstream-secret","type":"rate_limit_error"}}`)
	case "500":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		io.WriteString(w, `{"error":{"message":"The server had an error at /internal/path","type":"server_error"}}`)
	default:
		panic("unknown fault " + fault)
	}
}

// faultServer is a gateway whose model is the real provider of api talking
// to baseURL (the OpenAI one ends in /v1).
func faultServer(t *testing.T, api, baseURL string, timeoutSeconds int) (*Server, *syncBuffer) {
	t.Helper()
	cfg := testConfig()
	cfg.Models.Providers = map[string]config.Provider{"up": {API: api, BaseURL: baseURL, APIKey: "sk-upstream-secret"}}
	cfg.Agents.Defaults.Model = config.ModelRef{Primary: "up/m"}
	cfg.Agents.Defaults.TimeoutSeconds = timeoutSeconds
	logs := &syncBuffer{}
	lg := log.New(logs)
	runner := agent.New(agent.Options{StateDir: t.TempDir(), Config: cfg, Log: lg})
	s, err := New(Options{Runner: runner, Log: lg})
	if err != nil {
		t.Fatal(err)
	}
	s.SetReady(true)
	return s, logs
}

// transcriptOf returns the records of a session key of agent main.
func transcriptOf(t *testing.T, s *Server, key string) []session.Record {
	t.Helper()
	st := s.runner.Store()
	e, ok, err := st.Get("main", "agent:main:"+key)
	if err != nil || !ok {
		t.Fatalf("session %s: %v %v", key, ok, err)
	}
	recs, err := st.Transcript("main", e.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func recordTypes(recs []session.Record) string {
	var ts []string
	for _, r := range recs {
		ts = append(ts, r.Type)
	}
	return strings.Join(ts, ",")
}

// streamErrorTail is how a stream that failed after it started must end.
func streamErrorTail(msg, typ string) string {
	return fmt.Sprintf("data: {\"error\":{\"message\":%q,\"type\":%q}}\n\ndata: [DONE]\n\n", msg, typ)
}

// TestUpstreamFaults sends turns, plain and streamed, through real
// providers of both APIs to a misbehaving upstream. Each fault gets its
// status and error (a stream its error event and [DONE], never a finish
// chunk), no cause or key reaches the client, the transcript keeps the
// user's turn with an error record and no half answer, and the session's
// next turn does not show the model that half answer as if it had been
// given.
func TestUpstreamFaults(t *testing.T) {
	const upstreamErr = "upstream provider error"
	for _, api := range []string{provider.APIOpenAI, provider.APIAnthropic} {
		up := newUpstream(t)
		base := up.URL
		if api == provider.APIOpenAI {
			base += "/v1"
		}
		s, logs := faultServer(t, api, base, 600)
		for _, tt := range []struct {
			fault    string
			status   int
			msg, typ string
			header   string // Retry-After
			cause    string // in the log
		}{
			{"reset", 502, upstreamErr, "api_error", "", "connection: connection reset during the response"},
			{"eof", 502, upstreamErr, "api_error", "", "bad_response: stream ended before the reply finished"},
			{"garbage", 502, upstreamErr, "api_error", "", "bad_response: invalid JSON in stream"},
			{"binary", 502, upstreamErr, "api_error", "", "bad_response: "},
			{"429", 429, "upstream provider rate limit reached; try again later", "rate_limit_error", "7", "rate_limit (HTTP 429): Rate limit reached for [redacted]"},
			{"500", 502, upstreamErr, "api_error", "", "overloaded (HTTP 500): The server had an error at /internal/path"},
		} {
			for _, stream := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/stream=%v", api, tt.fault, stream)
				t.Run(name, func(t *testing.T) {
					key := fmt.Sprintf("fault-%s-%v", tt.fault, stream)
					body := hiBody
					if stream {
						body = hiStream
					}
					up.set(tt.fault)
					logStart := len(logs.String())
					w := post(s, body, "x-openclaw-session-key", key)
					if cause := logs.String()[logStart:]; !strings.Contains(cause, tt.cause) {
						t.Errorf("log lacks %q:\n%s", tt.cause, cause)
					}
					if stream {
						got := w.Body.String()
						if w.Code != 200 || !strings.HasPrefix(got, "data: {") || !strings.HasSuffix(got, streamErrorTail(tt.msg, tt.typ)) {
							t.Errorf("got %d %q", w.Code, got)
						}
						if strings.Contains(got, `"finish_reason":"stop"`) {
							t.Errorf("a failed stream has a finish chunk: %q", got)
						}
					} else {
						if w.Code != tt.status || w.Body.String() != errBody(tt.status, tt.msg, tt.typ) {
							t.Errorf("got %d %s", w.Code, w.Body)
						}
						if got := w.Header().Get("Retry-After"); got != tt.header {
							t.Errorf("Retry-After %q, want %q", got, tt.header)
						}
					}
					if b := w.Body.String(); strings.Contains(b, "sk-upstream-secret") || strings.Contains(b, "/internal/path") {
						t.Errorf("the cause reached the client: %s", b)
					}
					if got := recordTypes(transcriptOf(t, s, key)); got != "user,error" {
						t.Errorf("transcript %s, want user,error", got)
					}

					// The next turn: the model sees no trace of the half answer.
					up.set("")
					w = post(s, `{"messages":[{"role":"user","content":"again"}]}`, "x-openclaw-session-key", key)
					if w.Code != 200 || !strings.Contains(w.Body.String(), `"content":"all fine"`) {
						t.Fatalf("next turn: %d %s", w.Code, w.Body)
					}
					reqs := up.requests()
					last := reqs[len(reqs)-1]
					if strings.Contains(last, "half") || !strings.Contains(last, "again") {
						t.Errorf("next model request carries the failed turn: %s", last)
					}
					if got := recordTypes(transcriptOf(t, s, key)); got != "user,error,user,assistant" {
						t.Errorf("transcript %s", got)
					}
				})
			}
		}
		if strings.Contains(logs.String(), "sk-upstream-secret") {
			t.Errorf("%s: the upstream key is logged:\n%s", api, logs)
		}
	}
}

// TestUpstreamConnectionRefused: nothing listens at the model's address.
func TestUpstreamConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, api := range []string{provider.APIOpenAI, provider.APIAnthropic} {
		s, logs := faultServer(t, api, "http://"+addr+"/v1", 600)
		w := post(s, hiBody, "x-openclaw-session-key", "refused")
		if w.Code != 502 || w.Body.String() != errBody(502, "upstream provider error", "api_error") {
			t.Errorf("%s: got %d %s", api, w.Code, w.Body)
		}
		w = post(s, hiStream, "x-openclaw-session-key", "refused")
		if !strings.HasSuffix(w.Body.String(), streamErrorTail("upstream provider error", "api_error")) {
			t.Errorf("%s stream: got %q", api, w.Body)
		}
		if got := recordTypes(transcriptOf(t, s, "refused")); got != "user,error,user,error" {
			t.Errorf("%s: transcript %s", api, got)
		}
		if !strings.Contains(logs.String(), "connection refused") {
			t.Errorf("%s: the cause is not logged:\n%s", api, logs)
		}
	}
}

// silentUpstream accepts connections and reads requests but never answers
// (headers=false) or answers the headers and then goes silent. It reports
// each connection's end on closed.
type silentUpstream struct {
	ln     net.Listener
	closed chan struct{}
}

func newSilentUpstream(t *testing.T, headers bool) *silentUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	su := &silentUpstream{ln: ln, closed: make(chan struct{}, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				// Read the request head, then answer (or not), then wait for
				// the client to hang up.
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						su.closed <- struct{}{}
						return
					}
					if line == "\r\n" {
						break
					}
				}
				if headers {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
				}
				io.Copy(io.Discard, br)
				su.closed <- struct{}{}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return su
}

// TestUpstreamNeverAnswers: a model that accepts the request and never
// answers, or answers the headers and then nothing, is ended by the run
// timeout (1 s here; the provider's own read timeout is 120 s): a 504, or
// an error event in a stream, and the upstream connection is closed. The
// transcript keeps the turn with an error record.
func TestUpstreamNeverAnswers(t *testing.T) {
	for _, headers := range []bool{false, true} {
		for _, api := range []string{provider.APIOpenAI, provider.APIAnthropic} {
			su := newSilentUpstream(t, headers)
			s, _ := faultServer(t, api, "http://"+su.ln.Addr().String()+"/v1", 1)
			for _, stream := range []bool{false, true} {
				name := fmt.Sprintf("headers=%v/%s/stream=%v", headers, api, stream)
				body := hiBody
				if stream {
					body = hiStream
				}
				start := time.Now()
				w := post(s, body, "x-openclaw-session-key", "silent")
				took := time.Since(start)
				if stream {
					if w.Code != 200 || !strings.HasSuffix(w.Body.String(), streamErrorTail("upstream provider timed out", "api_error")) {
						t.Errorf("%s: got %d %q", name, w.Code, w.Body)
					}
				} else if w.Code != 504 || w.Body.String() != errBody(504, "upstream provider timed out", "api_error") {
					t.Errorf("%s: got %d %s", name, w.Code, w.Body)
				}
				// Only a bound far above the 1 s run timeout and far below
				// the provider's 120 s: it tells which of the two ended it.
				if took > 60*time.Second {
					t.Errorf("%s: answered after %v", name, took)
				}
				select {
				case <-su.closed:
				case <-time.After(30 * time.Second):
					t.Errorf("%s: the upstream connection was left open", name)
				}
			}
			if got := recordTypes(transcriptOf(t, s, "silent")); got != "user,error,user,error" {
				t.Errorf("headers=%v/%s: transcript %s", headers, api, got)
			}
		}
	}
}

// TestUpstreamStallMidStream: a stream that stops after some deltas is
// ended by the run timeout like one that never started, and the deltas
// already sent are not kept as an answer.
func TestUpstreamStallMidStream(t *testing.T) {
	up := newUpstream(t)
	up.set("stall")
	s, _ := faultServer(t, provider.APIOpenAI, up.URL+"/v1", 1)
	w := post(s, hiStream, "x-openclaw-session-key", "stall")
	got := w.Body.String()
	if !strings.Contains(got, `"content":"half "`) || !strings.HasSuffix(got, streamErrorTail("upstream provider timed out", "api_error")) {
		t.Errorf("got %q", got)
	}
	recs := transcriptOf(t, s, "stall")
	if recordTypes(recs) != "user,error" {
		t.Errorf("transcript %s", recordTypes(recs))
	}
	for _, r := range recs {
		if strings.Contains(r.Text, "half") {
			t.Errorf("the half answer is in the transcript: %+v", r)
		}
	}
}
