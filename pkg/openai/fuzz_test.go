package openai

import (
	"strings"
	"testing"
)

// FuzzDecodeChatRequest decodes any body and flattens what decodes: neither
// may panic, a decoded request always yields a prompt, and errors are
// well-formed 400s.
func FuzzDecodeChatRequest(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"model":1}`, `{} x`,
		`{"model":"openclaw","messages":[{"role":"user","content":"hi"}]}`,
		`{"messages":[{"role":"system","content":"S"},{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"tool","name":"f","content":"c"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`,
		`{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
		`{"stream":true,"stream_options":{"include_usage":true},"temperature":2,"top_p":0,"max_tokens":1,"max_completion_tokens":9,"stop":["a"],"seed":-1,"n":1}`,
		`{"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}`,
		`{"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"temperature":1e999,"seed":1e19,"max_tokens":-0,"n":1.0}`,
		`{"messages":[{"role":"bot"},{"role":"user","content":[{"type":"x"}]}]}`,
		`{"messages":[{"role":"user","content":"\ud800 \u0000"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeChatRequest(body)
		if err != nil {
			if r != nil || err.Status != 400 || err.Type != TypeInvalidRequest || err.Message == "" {
				t.Fatalf("bad error %+v (request %v)", err, r)
			}
			if err.Param != "" && !strings.HasPrefix(err.Message, err.Param+":") {
				t.Fatalf("param %q not named first in %q", err.Param, err.Message)
			}
			return
		}
		p, perr := BuildPrompt(r.Messages)
		if perr != nil {
			t.Fatalf("BuildPrompt of a decoded request: %v", perr)
		}
		if p.Current >= len(r.Messages) || p.Current < -1 {
			t.Fatalf("Current %d of %d messages", p.Current, len(r.Messages))
		}
		if !p.Empty() && p.Current < 0 {
			t.Fatalf("text %q without a current message", p.Text)
		}
		if len(p.ImageParts) > 0 {
			_, _ = DecodeImages(p.ImageParts, ImageLimits{MaxParts: 4, MaxTotalBytes: 1 << 16})
		}
		_ = r.Params()
	})
}
