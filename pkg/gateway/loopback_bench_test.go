package gateway

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/charmbracelet/log"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/bench"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// The loopback benchmarks send requests over real loopback HTTP through the
// whole stack: a client with kept-alive connections, the gateway's
// http.Server (middleware, access log, auth, decoding), the runner with its
// session store (a new session per request, as without `user`), the
// openai-completions provider with its shared client, and the zero-delay
// mock model of the load driver. The direct sub-benchmark sends the same
// request to the mock itself: the gateway's cost is the difference. Each
// request adds a session to the index, so compare runs of the same
// -benchtime (e.g. -benchtime=2000x).

const loopbackBody = `{"model":"openclaw","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello."}],"max_tokens":64}`

// loopbackGateway serves a gateway with the default config (tools, log
// level) but chat completions on, token auth and the mock as the model.
func loopbackGateway(b *testing.B, mockURL string) string {
	b.Helper()
	cfg := config.Default()
	cfg.Gateway.Auth.Token = "t0k"
	cfg.Gateway.HTTP.Endpoints.ChatCompletions.Enabled = true
	cfg.Agents.Defaults.Model = config.ModelRef{Primary: "mock/bench-model"}
	cfg.Models.Providers = map[string]config.Provider{"mock": {API: provider.APIOpenAI, BaseURL: mockURL + "/v1", APIKey: "sk-bench"}}
	lg := log.New(io.Discard) // formats every access log line, as on stderr
	runner := agent.New(agent.Options{StateDir: b.TempDir(), Config: cfg, Log: lg})
	s, err := New(Options{Runner: runner, Log: lg})
	if err != nil {
		b.Fatal(err)
	}
	s.SetReady(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := NewHTTPServer(s, nil)
	go hs.Serve(ln)
	b.Cleanup(func() { hs.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func loopbackTargets(b *testing.B) map[string]string {
	m, err := bench.StartMock()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return map[string]string{"direct": m.URL, "gateway": loopbackGateway(b, m.URL)}
}

// BenchmarkLoopbackChat is a non-streaming request, whole answer read.
func BenchmarkLoopbackChat(b *testing.B) {
	targets := loopbackTargets(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, name := range []string{"direct", "gateway"} {
		b.Run(name, func(b *testing.B) {
			url := targets[name] + "/v1/chat/completions"
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(loopbackBody))
				req.Header.Set("Authorization", "Bearer t0k")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Contains(body, []byte(bench.MockReply)) {
					b.Fatalf("%d %s", resp.StatusCode, body)
				}
			}
		})
	}
}

// BenchmarkLoopbackStreamFirstToken is a streaming request, timed to the
// first delta with text; the rest of the stream is read untimed.
func BenchmarkLoopbackStreamFirstToken(b *testing.B) {
	targets := loopbackTargets(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	body := strings.Replace(loopbackBody, `{"model"`, `{"stream":true,"model"`, 1)
	first := []byte(`"content":"` + bench.MockDeltas[0])
	for _, name := range []string{"direct", "gateway"} {
		b.Run(name, func(b *testing.B) {
			url := targets[name] + "/v1/chat/completions"
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer t0k")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				br := bufio.NewReader(resp.Body)
				for {
					line, err := br.ReadSlice('\n')
					if bytes.Contains(line, first) {
						break
					}
					if err != nil {
						b.Fatalf("no first delta: %v", err)
					}
				}
				b.StopTimer()
				io.Copy(io.Discard, br)
				resp.Body.Close()
				b.StartTimer()
			}
		})
	}
}
