package openai

import (
	"reflect"
	"testing"
)

func TestBuildPrompt(t *testing.T) {
	tests := []struct {
		name    string
		body    string // a request body; its messages are flattened
		text    string // exact
		system  string
		images  []string
		current int
		empty   bool
	}{
		{name: "single turn",
			body: `{"messages":[{"role":"user","content":"hi"}]}`,
			text: "hi", current: 0},
		{name: "single turn trimmed",
			body: `{"messages":[{"role":"user","content":"  hi there \n"}]}`,
			text: "hi there", current: 0},
		{name: "multi-turn",
			body: `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"how are you?"}]}`,
			text: "[Chat messages since your last reply - for context]\n" +
				"User: hi\n" +
				"Assistant: hello\n" +
				"\n" +
				"[Current message - respond to this]\n" +
				"User: how are you?",
			current: 2},
		{name: "multi-line bodies kept",
			body:    `{"messages":[{"role":"user","content":"a\nb"},{"role":"user","content":"c\n\nd"}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: a\nb\n\n[Current message - respond to this]\nUser: c\n\nd",
			current: 1},
		{name: "tool turn with name",
			body:    `{"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","name":"get_weather","content":"sunny"}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: weather?\n\n[Current message - respond to this]\nTool:get_weather: sunny",
			current: 2},
		{name: "tool turn without name",
			body:    `{"messages":[{"role":"user","content":"weather?"},{"role":"tool","tool_call_id":"c1","content":"sunny"}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: weather?\n\n[Current message - respond to this]\nTool: sunny",
			current: 1},
		{name: "tool turn alone",
			body: `{"messages":[{"role":"tool","name":"f","content":"42"}]}`,
			text: "42", current: 0},
		{name: "function role is a tool",
			body:    `{"messages":[{"role":"user","content":"q"},{"role":"function","name":"calc","content":"4"}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: q\n\n[Current message - respond to this]\nTool:calc: 4",
			current: 1},
		{name: "tool in history",
			body:    `{"messages":[{"role":"user","content":"q"},{"role":"tool","name":"f","content":"r1"},{"role":"tool","content":"r2"},{"role":"assistant","content":"done"},{"role":"user","content":"thanks"}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: q\nTool:f: r1\nTool: r2\nAssistant: done\n\n[Current message - respond to this]\nUser: thanks",
			current: 4},
		{name: "assistant-only list",
			body: `{"messages":[{"role":"assistant","content":"I am here."}]}`,
			text: "I am here.", current: 0},
		{name: "assistant-only list with history",
			body:    `{"messages":[{"role":"assistant","content":"one"},{"role":"assistant","content":"two"}]}`,
			text:    "[Chat messages since your last reply - for context]\nAssistant: one\n\n[Current message - respond to this]\nAssistant: two",
			current: 1},
		{name: "messages after the last user dropped",
			body:    `{"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"reply"},{"role":"user","content":"second"},{"role":"assistant","content":"partial answer"},{"role":"assistant","content":"more"}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: first\nAssistant: reply\n\n[Current message - respond to this]\nUser: second",
			current: 2},
		{name: "system and developer joined",
			body:   `{"messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":"  Use metric units. "},{"role":"user","content":"hi"},{"role":"system","content":[{"type":"text","text":"Late"},{"type":"text","text":"rule"}]}]}`,
			text:   "hi",
			system: "Be brief.\n\nUse metric units.\n\nLate\nrule", current: 2},
		{name: "empty system skipped",
			body:   `{"messages":[{"role":"system","content":""},{"role":"system","content":"  "},{"role":"developer","content":"D"},{"role":"user","content":"hi"}]}`,
			text:   "hi",
			system: "D", current: 3},
		{name: "system between turns not in history",
			body:   `{"messages":[{"role":"user","content":"a"},{"role":"system","content":"S"},{"role":"user","content":"b"}]}`,
			text:   "[Chat messages since your last reply - for context]\nUser: a\n\n[Current message - respond to this]\nUser: b",
			system: "S", current: 2},
		{name: "parts joined",
			body:    `{"messages":[{"role":"user","content":[{"type":"text","text":"line one"},{"type":"input_text","text":"line two"},{"type":"text","text":""},{"type":"text","text":"line three"}]}]}`,
			text:    "line one\nline two\nline three",
			current: 0},
		{name: "parts joined in history",
			body:    `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"user","content":"c"}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: a\nb\n\n[Current message - respond to this]\nUser: c",
			current: 1},
		{name: "bare tool calls left out of history",
			body:    `{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","function":{"name":"f"}}]},{"role":"tool","name":"f","content":"r"}]}`,
			text:    "r",
			current: 1},
		{name: "empty history turns left out",
			body:    `{"messages":[{"role":"user","content":""},{"role":"assistant","content":"  "},{"role":"user","content":"hi"}]}`,
			text:    "hi",
			current: 2},
		{name: "image with text",
			body:    `{"messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`,
			text:    "what is this?",
			images:  []string{"data:image/png;base64,AAAA"},
			current: 0},
		{name: "image only",
			body:    `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:image/png;base64,AAAA"},{"type":"image_url","image_url":{"url":"data:image/gif;base64,BBBB"}}]}]}`,
			text:    "User sent image(s) with no text.",
			images:  []string{"data:image/png;base64,AAAA", "data:image/gif;base64,BBBB"},
			current: 0},
		{name: "image only with history",
			body:    `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":[{"type":"image_url","image_url":"data:image/png;base64,AAAA"}]}]}`,
			text:    "[Chat messages since your last reply - for context]\nUser: hi\nAssistant: hello\n\n[Current message - respond to this]\nUser: User sent image(s) with no text.",
			images:  []string{"data:image/png;base64,AAAA"},
			current: 2},
		{name: "images of earlier turns ignored",
			body:    `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:image/png;base64,OLD"}]},{"role":"user","content":"now"}]}`,
			text:    "now",
			current: 1},
		{name: "images of a tool turn ignored",
			body:    `{"messages":[{"role":"tool","content":[{"type":"text","text":"r"},{"type":"image_url","image_url":"data:image/png;base64,AAAA"}]}]}`,
			text:    "r",
			current: 0},
		{name: "no messages",
			body: `{}`, current: -1, empty: true},
		{name: "empty messages",
			body: `{"messages":[]}`, current: -1, empty: true},
		{name: "system only",
			body: `{"messages":[{"role":"system","content":"S"}]}`, system: "S", current: -1, empty: true},
		{name: "empty user turn",
			body: `{"messages":[{"role":"user","content":"  "}]}`, current: 0, empty: true},
		{name: "empty current turn does not fall back to an older one",
			body: `{"messages":[{"role":"user","content":"old"},{"role":"assistant","content":"a"},{"role":"user","content":[]}]}`, current: 2, empty: true},
		{name: "empty tool turn",
			body: `{"messages":[{"role":"user","content":"q"},{"role":"tool","content":""}]}`, current: 1, empty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, derr := DecodeChatRequest([]byte(tt.body))
			if derr != nil {
				t.Fatalf("DecodeChatRequest: %v", derr)
			}
			p, err := BuildPrompt(req.Messages)
			if err != nil {
				t.Fatalf("BuildPrompt: %v", err)
			}
			if p.Text != tt.text {
				t.Errorf("Text\n got %q\nwant %q", p.Text, tt.text)
			}
			if p.ExtraSystem != tt.system {
				t.Errorf("ExtraSystem = %q, want %q", p.ExtraSystem, tt.system)
			}
			if !reflect.DeepEqual(p.ImageParts, tt.images) {
				t.Errorf("ImageParts = %q, want %q", p.ImageParts, tt.images)
			}
			if p.Current != tt.current {
				t.Errorf("Current = %d, want %d", p.Current, tt.current)
			}
			if p.Empty() != tt.empty {
				t.Errorf("Empty() = %v, want %v", p.Empty(), tt.empty)
			}
		})
	}
}

func TestBuildPromptUnknownRole(t *testing.T) {
	_, err := BuildPrompt([]Message{{Role: "user", Content: []Part{{Type: PartText, Text: "a"}}}, {Role: "bot"}})
	if err == nil || err.Message != `messages[1].role: unknown role "bot"; use system, developer, user, assistant, tool or function` || err.Param != "messages[1].role" || err.Status != 400 {
		t.Fatalf("BuildPrompt = %+v", err)
	}
}

func TestMissingUserMessage(t *testing.T) {
	p, _ := BuildPrompt(nil)
	if !p.Empty() {
		t.Fatal("empty prompt not Empty")
	}
	b, _ := MissingUserMessage().MarshalJSON()
	if got, want := string(b), `{"error":{"message":"Missing user message in `+"`messages`"+`.","type":"invalid_request_error","param":"messages","code":null}}`; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}
