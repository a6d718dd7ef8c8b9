package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// MockDeltas are the pieces the mock model streams every reply in.
var MockDeltas = []string{"Hello", " from", " the", " mock", " model."}

// MockReply is MockDeltas joined.
var MockReply = strings.Join(MockDeltas, "")

// Mock is a zero-delay OpenAI-compatible model server on loopback. Every
// answer is encoded once, up front, so a request costs the mock only the
// HTTP exchange: what is measured is the client's side of it.
type Mock struct {
	URL string // http://127.0.0.1:<port>; the API is under /v1

	srv *http.Server
	ln  net.Listener

	whole  []byte // a chat.completion
	stream []byte // the SSE chunks of the same reply, and [DONE]
}

// StartMock starts the mock model server on a free loopback port.
func StartMock() (*Mock, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mock model: listen on loopback: %w", err)
	}
	m := &Mock{URL: "http://" + ln.Addr().String(), ln: ln}
	m.whole, m.stream = mockBodies()
	m.srv = &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go m.srv.Serve(ln)
	return m, nil
}

// Close stops the server.
func (m *Mock) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}

var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP answers POST /v1/chat/completions: a stream when the request
// says "stream":true (the gateway always does), else a whole completion.
func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"not found","type":"not_found_error"}}`, http.StatusNotFound)
		return
	}
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := io.Copy(buf, r.Body)
	stream := bytes.Contains(buf.Bytes(), []byte(`"stream":true`))
	bodyBufs.Put(buf)
	if err != nil {
		http.Error(w, `{"error":{"message":"bad body","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	h := w.Header()
	if stream {
		h["Content-Type"] = []string{"text/event-stream"}
		w.Write(m.stream)
		return
	}
	h["Content-Type"] = []string{"application/json"}
	w.Write(m.whole)
}

// mockBodies encodes the two answers.
func mockBodies() (whole, stream []byte) {
	type delta struct {
		Role    string `json:"role,omitempty"`
		Content string `json:"content"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Delta        *delta  `json:"delta,omitempty"`
		Message      *delta  `json:"message,omitempty"`
		FinishReason *string `json:"finish_reason"`
	}
	type usage struct {
		Prompt     int `json:"prompt_tokens"`
		Completion int `json:"completion_tokens"`
		Total      int `json:"total_tokens"`
	}
	type chunk struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   *usage   `json:"usage,omitempty"`
	}
	stop := "stop"
	u := &usage{Prompt: 12, Completion: len(MockDeltas), Total: 12 + len(MockDeltas)}
	whole, _ = json.Marshal(chunk{ID: "chatcmpl-mock", Object: "chat.completion", Created: 1, Model: "bench-model",
		Choices: []choice{{Message: &delta{Role: "assistant", Content: MockReply}, FinishReason: &stop}}, Usage: u})
	var b bytes.Buffer
	event := func(c chunk) {
		c.ID, c.Object, c.Created, c.Model = "chatcmpl-mock", "chat.completion.chunk", 1, "bench-model"
		j, _ := json.Marshal(c)
		b.WriteString("data: ")
		b.Write(j)
		b.WriteString("\n\n")
	}
	event(chunk{Choices: []choice{{Delta: &delta{Role: "assistant"}}}})
	for _, d := range MockDeltas {
		event(chunk{Choices: []choice{{Delta: &delta{Content: d}}}})
	}
	event(chunk{Choices: []choice{{Delta: &delta{}, FinishReason: &stop}}})
	event(chunk{Choices: []choice{}, Usage: u})
	b.WriteString("data: [DONE]\n\n")
	return whole, b.Bytes()
}
