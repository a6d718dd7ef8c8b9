package openai

import (
	"encoding/json"
	"testing"
)

// typicalBody is a usual client request: a system prompt, two earlier turns
// and the question, with a few parameters.
var typicalBody = []byte(`{
  "model": "openclaw/main",
  "stream": true,
  "stream_options": {"include_usage": true},
  "temperature": 0.7,
  "max_tokens": 1024,
  "user": "alice@example.com",
  "messages": [
    {"role": "system", "content": "You are a helpful assistant. Answer concisely and cite sources when you can."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris."},
    {"role": "user", "content": [{"type": "text", "text": "And how many people live there?"}, {"type": "text", "text": "Metro area, please."}]},
    {"role": "assistant", "content": "About 12 million people live in the Paris metropolitan area."}
  ]
}`)

func BenchmarkDecodeAndPrompt(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalBody)))
	for b.Loop() {
		r, err := DecodeChatRequest(typicalBody)
		if err != nil {
			b.Fatal(err)
		}
		p, perr := BuildPrompt(r.Messages)
		if perr != nil || p.Empty() {
			b.Fatal(perr)
		}
	}
}

// BenchmarkDecodeStdlib is the floor: encoding/json into a plain struct,
// with no validation at all.
func BenchmarkDecodeStdlib(b *testing.B) {
	type msg struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	type req struct {
		Model    string   `json:"model"`
		Stream   bool     `json:"stream"`
		Messages []msg    `json:"messages"`
		Temp     *float64 `json:"temperature"`
		Max      *int     `json:"max_tokens"`
		User     string   `json:"user"`
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalBody)))
	for b.Loop() {
		var r req
		if err := json.Unmarshal(typicalBody, &r); err != nil {
			b.Fatal(err)
		}
	}
}

const benchDelta = "Paris has about 2.1 million inhabitants; the metro area about 12 million."

func BenchmarkChunk(b *testing.B) {
	s := NewStream("chatcmpl-0123456789ABCDEFGHIJKLMNOP", "openclaw/main", 1700000000)
	b.Run("AppendDelta", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = s.AppendDelta(buf[:0], benchDelta)
		}
	})
	b.Run("AppendChunk", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			c := Chunk{ID: s.ID, Object: ObjectChunk, Created: s.Created, Model: s.Model,
				Choices: []ChunkChoice{{Delta: Delta{Content: benchDelta}}}}
			buf = AppendChunk(buf[:0], &c)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			c := Chunk{ID: s.ID, Object: ObjectChunk, Created: s.Created, Model: s.Model,
				Choices: []ChunkChoice{{Delta: Delta{Content: benchDelta}}}}
			j, err := json.Marshal(&c)
			if err != nil {
				b.Fatal(err)
			}
			buf = append(append(append(buf[:0], "data: "...), j...), "\n\n"...)
		}
	})
}

// BenchmarkDecodeLargeImage shows the cost of a 4 MB inline image: B/op
// stays near one copy of the data URL (its string) plus the decoded bytes.
func BenchmarkDecodeLargeImage(b *testing.B) {
	img := make([]byte, 3<<20)
	body := []byte(`{"messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"` +
		dataURL("image/png", img) + `"}}]}]}`)
	lim := ImageLimits{MaxParts: 8, MaxTotalBytes: 20 << 20}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r, err := DecodeChatRequest(body)
		if err != nil {
			b.Fatal(err)
		}
		p, _ := BuildPrompt(r.Messages)
		if _, err := DecodeImages(p.ImageParts, lim); err != nil {
			b.Fatal(err)
		}
	}
}
