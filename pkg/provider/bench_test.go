package provider

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// longOpenAIStream is n text chunks, a finish and usage.
func longOpenAIStream(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word%d \"},\"finish_reason\":null}]}\n\n", i)
	}
	b.WriteString(oaSSE(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, `{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2000}}`))
	return b.Bytes()
}

func longAnthropicStream(n int) []byte {
	var b strings.Builder
	b.WriteString(anSSE("message_start", `{"type":"message_start","message":{"model":"c","usage":{"input_tokens":10}}}`,
		"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`))
	for i := range n {
		b.WriteString(anSSE("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word%d "}}`, i)))
	}
	b.WriteString(anSSE("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2000}}`, "message_stop", `{"type":"message_stop"}`))
	return []byte(b.String())
}

// BenchmarkSSEReader is the event splitting alone.
func BenchmarkSSEReader(b *testing.B) {
	data := longOpenAIStream(2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sr := newSSEReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			if _, _, err := sr.next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkOpenAIStreamParse parses a 2000-chunk stream into a response.
func BenchmarkOpenAIStreamParse(b *testing.B) {
	data := longOpenAIStream(2000)
	h := &httpBase{id: "x", readTimeout: DefaultReadTimeout}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := h.start(context.Background(), "m")
		st := &oaState{model: "m", onDelta: func(string) {}}
		if err := st.stream(c, bufio.NewReader(bytes.NewReader(data))); err != nil {
			b.Fatal(err)
		}
		c.end()
		if st.response().Usage.Output != 2000 {
			b.Fatal("bad parse")
		}
	}
}

// BenchmarkAnthropicStreamParse parses a 2000-delta stream into a response.
func BenchmarkAnthropicStreamParse(b *testing.B) {
	data := longAnthropicStream(2000)
	h := &httpBase{id: "x", readTimeout: DefaultReadTimeout}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := h.start(context.Background(), "m")
		st := &anState{model: "m", onDelta: func(string) {}, blocks: map[int]int{}}
		if err := st.stream(c, bufio.NewReader(bytes.NewReader(data))); err != nil {
			b.Fatal(err)
		}
		c.end()
		if st.response().Usage.Output != 2000 {
			b.Fatal("bad parse")
		}
	}
}

// BenchmarkEcho is one echo call.
func BenchmarkEcho(b *testing.B) {
	p, _ := New(Config{API: APIEcho})
	req := &Request{Model: "echo", System: "you are a test", Messages: []Message{{Role: "user", Content: "the quick brown fox jumps over the lazy dog"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Stream(context.Background(), req, func(string) {}); err != nil {
			b.Fatal(err)
		}
	}
}
