package provider

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// benchTools are tool definitions the size of the built-in ones a run
// offers by default.
var benchTools = func() []ToolDef {
	schema := json.RawMessage(`{"type":"object","properties":{"path":{"type":"string","description":"a path relative to the workspace"},"offset":{"type":"integer"},"limit":{"type":"integer"}},"required":["path"]}`)
	var defs []ToolDef
	for _, n := range []string{"read", "write", "edit", "ls", "exec"} {
		defs = append(defs, ToolDef{Name: n, Description: "Does " + n + " inside the agent's workspace; see the parameters.", Parameters: schema})
	}
	return defs
}()

var benchRequest = &Request{
	Model:    "bench-model",
	System:   "You are main, an OpenClaw agent.\n\nBe brief.",
	Messages: []Message{{Role: "user", Content: "Say hello."}},
	Tools:    benchTools,
}

// BenchmarkOpenAIBody is the encoding of a usual request: system prompt,
// one turn, the built-in tools.
func BenchmarkOpenAIBody(b *testing.B) {
	p := &openAI{&httpBase{id: "x"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.body(benchRequest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenAICall is one whole call to a zero-delay OpenAI-compatible
// server on loopback, through the shared client: encoding, the HTTP round
// trip on a kept-alive connection, and parsing the streamed reply. conns
// reports the connections opened (1 when keep-alive works).
func BenchmarkOpenAICall(b *testing.B) {
	stream := []byte(oaSSE(
		`{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
		`{"choices":[{"index":0,"delta":{"content":"Hello"}}]}`,
		`{"choices":[{"index":0,"delta":{"content":" from the mock model."}}]}`,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5}}`,
	))
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(stream)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	p, err := New(Config{ID: "mock", API: APIOpenAI, BaseURL: srv.URL + "/v1", APIKey: "sk-bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := p.Stream(ctx, benchRequest, func(string) {})
		if err != nil {
			b.Fatal(err)
		}
		if resp.Text != "Hello from the mock model." {
			b.Fatalf("text %q", resp.Text)
		}
	}
	b.ReportMetric(float64(conns.Load()), "conns")
}
