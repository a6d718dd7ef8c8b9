package openresponses

import (
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/openai"
)

// FuzzDecodeRequest decodes any body as a POST /v1/responses request and
// flattens what decodes: neither may panic, errors are well-formed 400s
// that name their field first (or the unknown parameter), and a decoded
// request always yields messages BuildPrompt accepts.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"model":"openclaw"}`, `{"model":"openclaw","input":"hi"} x`,
		`{"model":"openclaw","input":"hi","stream":true,"temperature":1,"top_p":0.5,"max_output_tokens":9,"user":"u","instructions":"be brief"}`,
		`{"model":"openclaw/main","input":[{"type":"message","role":"system","content":"S"},{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]}]}`,
		`{"model":"openclaw","input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"42"}]}`,
		`{"model":"openclaw","input":[{"type":"reasoning","summary":[]},{"type":"item_reference","id":"x"},{"role":"user","content":"no type"}]}`,
		`{"model":"openclaw","input":"hi","tools":[{"type":"function","name":"f","parameters":{}}],"tool_choice":{"type":"function","name":"f"}}`,
		`{"model":"openclaw","input":"hi","previous_response_id":"resp_1","bogus":1}`,
		`{"model":"openclaw","input":[{"type":"message","role":"bot","content":5}],"temperature":9,"max_output_tokens":0}`,
		`{"model":"openclaw","input":"\ud800 \u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRequest(body)
		if err != nil {
			if r != nil || err.Status != 400 || err.Type != openai.TypeInvalidRequest || err.Message == "" {
				t.Fatalf("bad error %+v (request %v)", err, r)
			}
			if err.Param != "" && err.Code != "unknown_parameter" && !strings.HasPrefix(err.Message, err.Param+":") {
				t.Fatalf("param %q not named first in %q", err.Param, err.Message)
			}
			return
		}
		msgs := r.Messages()
		if _, perr := openai.BuildPrompt(msgs); perr != nil { // only an unknown role, refused by the decoder
			t.Fatalf("BuildPrompt of a decoded request: %v", perr)
		}
		_ = r.ToolResults()
		_ = r.Params()
	})
}
