package openai

import "testing"

// TestCheckUTF8: a body that is not UTF-8 is refused with the offset of the
// first bad byte, by both the check and the chat decoder.
func TestCheckUTF8(t *testing.T) {
	for _, tt := range []struct {
		body string
		want string // "" means accepted
	}{
		{`{"a":"café ✓ 🙂"}`, ""},
		{`{"a":"\ud800"}`, ""}, // an escaped lone surrogate is valid JSON text
		{"{\"a\":\"caf\xc3\x28\"}", "invalid JSON body: invalid UTF-8 (at byte 9); send the body as UTF-8"},
		{"{\"a\":\"\xed\xa0\x80\"}", "invalid JSON body: invalid UTF-8 (at byte 6); send the body as UTF-8"},
		{"\xff", "invalid JSON body: invalid UTF-8 (at byte 0); send the body as UTF-8"},
	} {
		err := CheckUTF8([]byte(tt.body))
		if got := ""; err != nil {
			got = err.Message
			if err.Status != 400 || err.Type != TypeInvalidRequest {
				t.Errorf("%q: %+v", tt.body, err)
			}
			if got != tt.want {
				t.Errorf("%q: %q, want %q", tt.body, got, tt.want)
			}
		} else if tt.want != "" {
			t.Errorf("%q accepted", tt.body)
		}
	}
	_, err := DecodeChatRequest([]byte("{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}"))
	if err == nil || err.Message != "invalid JSON body: invalid UTF-8 (at byte 39); send the body as UTF-8" {
		t.Errorf("DecodeChatRequest: %v", err)
	}
}
