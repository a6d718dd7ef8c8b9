package openresponses

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/openai"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		msg, param string
		code       string
	}{
		{"empty body lacks model", ``, 400, "model: required", "model", ""},
		{"invalid JSON", `{"model":`, 400, "invalid JSON body: unexpected end of JSON input (at byte 9)", "", ""},
		{"array body", `[1]`, 400, "request body must be a JSON object, received array", "", ""},
		{"string body", `"hi"`, 400, "request body must be a JSON object, received string", "", ""},
		{"unknown field", `{"model":"openclaw","input":"hi","foo":1}`, 400, "Unknown parameter: 'foo'.", "foo", "unknown_parameter"},
		{"unknown field before a type error", `{"stream":"yes","bar":1}`, 400, "Unknown parameter: 'bar'.", "bar", "unknown_parameter"},
		{"chat field is unknown here", `{"model":"openclaw","messages":[]}`, 400, "Unknown parameter: 'messages'.", "messages", "unknown_parameter"},
		{"model null", `{"model":null}`, 400, "model: required", "model", ""},
		{"model number", `{"model":1}`, 400, "model: expected string, received number", "model", ""},
		{"input number", `{"model":"m","input":1}`, 400, "input: expected string or array, received number", "input", ""},
		{"input item not object", `{"model":"m","input":["hi"]}`, 400, "input[0]: expected object, received string", "input[0]", ""},
		{"item type not string", `{"model":"m","input":[{"type":1}]}`, 400, "input[0].type: expected string, received number", "input[0].type", ""},
		{"message without role", `{"model":"m","input":[{"type":"message","content":"x"}]}`, 400, "input[0].role: required", "input[0].role", ""},
		{"message without content", `{"model":"m","input":[{"role":"user"}]}`, 400, "input[0].content: required", "input[0].content", ""},
		{"content number", `{"model":"m","input":[{"role":"user","content":3}]}`, 400, "input[0].content: expected string or array, received number", "input[0].content", ""},
		{"part text missing", `{"model":"m","input":[{"role":"user","content":[{"type":"input_text"}]}]}`, 400, "input[0].content[0].text: required", "input[0].content[0].text", ""},
		{"part text bool", `{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":true}]}]}`, 400, "input[0].content[0].text: expected string, received boolean", "input[0].content[0].text", ""},
		{"image url number", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":5}]}]}`, 400, "input[0].content[0].image_url: expected string, received number", "input[0].content[0].image_url", ""},
		{"image without source", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image"}]}]}`, 400, "input[0].content[0].image_url: required", "input[0].content[0].image_url", ""},
		{"function_call_output without call_id", `{"model":"m","input":[{"type":"function_call_output","output":"x"}]}`, 400, "input[0].call_id: required", "input[0].call_id", ""},
		{"function_call_output output number", `{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":2}]}`, 400, "input[0].output: expected string or array, received number", "input[0].output", ""},
		{"function_call without name", `{"model":"m","input":[{"type":"function_call","call_id":"c"}]}`, 400, "input[0].name: required", "input[0].name", ""},
		{"instructions number", `{"model":"m","instructions":1}`, 400, "instructions: expected string, received number", "instructions", ""},
		{"tools object", `{"model":"m","tools":{}}`, 400, "tools: expected array, received object", "tools", ""},
		{"tool without name", `{"model":"m","tools":[{"type":"function"}]}`, 400, "tools[0].name: required", "tools[0].name", ""},
		{"tool parameters string", `{"model":"m","tools":[{"type":"function","name":"f","parameters":"x"}]}`, 400, "tools[0].parameters: expected object, received string", "tools[0].parameters", ""},
		{"nested tool without name", `{"model":"m","tools":[{"type":"function","function":{}}]}`, 400, "tools[0].function.name: required", "tools[0].function.name", ""},
		{"tool_choice number", `{"model":"m","tool_choice":1}`, 400, "tool_choice: expected string or object, received number", "tool_choice", ""},
		{"stream string", `{"model":"m","stream":"yes"}`, 400, "stream: expected boolean, received string", "stream", ""},
		{"max_output_tokens float", `{"model":"m","max_output_tokens":1.5}`, 400, "max_output_tokens: expected integer, received number", "max_output_tokens", ""},
		{"temperature string", `{"model":"m","temperature":"hot"}`, 400, "temperature: expected number, received string", "temperature", ""},
		{"user number", `{"model":"m","user":7}`, 400, "user: expected string, received number", "user", ""},
		{"previous_response_id number", `{"model":"m","previous_response_id":7}`, 400, "previous_response_id: expected string, received number", "previous_response_id", ""},
		{"metadata string", `{"model":"m","metadata":"x"}`, 400, "metadata: expected object, received string", "metadata", ""},
		{"store string", `{"model":"m","store":"no"}`, 400, "store: expected boolean, received string", "store", ""},
		{"type error wins over range error", `{"model":"m","temperature":5,"user":1}`, 400, "user: expected string, received number", "user", ""},
		// Ranges and enumerations, after every type.
		{"temperature range", `{"model":"m","temperature":2.5}`, 400, "temperature: must be between 0 and 2, received 2.5", "temperature", ""},
		{"top_p range", `{"model":"m","top_p":-0.1}`, 400, "top_p: must be between 0 and 1, received -0.1", "top_p", ""},
		{"max_output_tokens zero", `{"model":"m","max_output_tokens":0}`, 400, "max_output_tokens: must be greater than 0, received 0", "max_output_tokens", ""},
		{"max_output_tokens huge", `{"model":"m","max_output_tokens":1e30}`, 400, "max_output_tokens: must be at most 2147483647, received 1e30", "max_output_tokens", ""},
		{"unknown role", `{"model":"m","input":[{"role":"tool","content":"x"}]}`, 400, `input[0].role: unknown role "tool"; use user, assistant, system or developer`, "input[0].role", ""},
		{"unknown item type", `{"model":"m","input":[{"type":"web_search_call"}]}`, 400, `input[0].type: unsupported item type "web_search_call"; use message, function_call, function_call_output, reasoning or item_reference`, "input[0].type", ""},
		{"unknown part type", `{"model":"m","input":[{"role":"user","content":[{"type":"input_audio"}]}]}`, 400, `input[0].content[0].type: unsupported content part type "input_audio"; use input_text, input_image, output_text or refusal`, "input[0].content[0].type", ""},
		{"input_file", `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}`, 400, "input[0].content[0].type: input_file is not supported; send the file's text as an input_text part", "input[0].content[0].type", ""},
		{"image file_id", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}`, 400, "input[0].content[0].file_id: uploaded files are not supported; send the image as image_url data:<mime>;base64,<data>", "input[0].content[0].file_id", ""},
		{"hosted tool", `{"model":"m","tools":[{"type":"web_search"}]}`, 400, `tools[0].type: unsupported tool type "web_search"; only function tools are supported`, "tools[0].type", ""},
		{"bad tool name", `{"model":"m","tools":[{"type":"function","name":"a b"}]}`, 400, `tools[0].name: must be 1-64 letters, digits, underscores or dashes, received "a b"`, "tools[0].name", ""},
		{"duplicate tool", `{"model":"m","tools":[{"type":"function","name":"f"},{"type":"function","name":"f"}]}`, 400, `tools[1].name: duplicate tool name "f"`, "tools[1].name", ""},
		{"tool_choice unknown string", `{"model":"m","tool_choice":"any"}`, 400, `tool_choice: must be "none", "auto", "required" or {"type":"function","name":...}, received "any"`, "tool_choice", ""},
		{"tool_choice required without tools", `{"model":"m","tool_choice":"required"}`, 400, `tool_choice: "required" needs at least one function tool in tools`, "tool_choice", ""},
		{"tool_choice names no tool", `{"model":"m","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}}`, 400, `tool_choice.name: no function tool named "g" in tools`, "tool_choice.name", ""},
		{"tool_choice hosted", `{"model":"m","tool_choice":{"type":"file_search"}}`, 400, `tool_choice.type: unsupported tool_choice type "file_search"; use function`, "tool_choice.type", ""},
		{"blank previous_response_id", `{"model":"m","previous_response_id":"  "}`, 400, "previous_response_id: must not be blank", "previous_response_id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRequest([]byte(tt.body))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Status != tt.status || err.Message != tt.msg || err.Param != tt.param || err.Code != tt.code || err.Type != openai.TypeInvalidRequest {
				t.Errorf("got %d %q param %q code %q type %q\nwant %d %q param %q code %q", err.Status, err.Message, err.Param, err.Code, err.Type, tt.status, tt.msg, tt.param, tt.code)
			}
		})
	}
}

func TestDecodeRequest(t *testing.T) {
	body := `{
		"model": "openclaw/main",
		"instructions": "Be brief.",
		"input": [
			{"type": "message", "role": "developer", "content": "Use English."},
			{"role": "user", "content": [{"type": "input_text", "text": "What is 2+2?"}]},
			{"type": "reasoning", "id": "rs_1", "summary": []},
			{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "4", "annotations": []}]},
			{"type": "item_reference", "id": "msg_1"},
			{"role": "user", "content": [{"type": "input_text", "text": "Read a.txt"}, {"type": "input_image", "image_url": " data:image/png;base64,AAAA ", "detail": "low"},
				{"type": "input_image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lG"}}]},
			{"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "read", "arguments": "{\"path\":\"a.txt\"}"},
			{"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "line 1"}, {"type": "input_text", "text": "line 2"}]}
		],
		"tools": [
			{"type": "function", "name": "read", "description": "Read a file", "parameters": {"type": "object"}, "strict": true},
			{"type": "function", "function": {"name": "ls"}}
		],
		"tool_choice": {"type": "function", "name": "read"},
		"stream": true, "max_output_tokens": 100, "temperature": 0.5, "top_p": 1, "user": "Ann",
		"previous_response_id": "resp_1", "metadata": {"k": "v"}, "store": false,
		"parallel_tool_calls": true, "max_tool_calls": 3, "reasoning": {"effort": "low"}, "truncation": "auto"
	}`
	r, err := DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "openclaw/main" || r.Instructions != "Be brief." || !r.Stream || *r.MaxOutputTokens != 100 || *r.Temperature != 0.5 || *r.TopP != 1 || r.User != "Ann" || r.PreviousResponseID != "resp_1" {
		t.Errorf("scalars: %+v", r)
	}
	if len(r.Input) != 6 {
		t.Fatalf("reasoning and item references are dropped, got %d items", len(r.Input))
	}
	wantTools := []provider.ToolDef{{Name: "read", Description: "Read a file", Parameters: json.RawMessage(`{"type": "object"}`)}, {Name: "ls"}}
	if !reflect.DeepEqual(r.Tools, wantTools) {
		t.Errorf("tools %+v", r.Tools)
	}
	if string(r.ToolChoice) != `{"type":"function","function":{"name":"read"}}` {
		t.Errorf("tool_choice %s", r.ToolChoice)
	}
	if p := r.Params(); *p.MaxTokens != 100 || *p.Temperature != 0.5 || *p.TopP != 1 {
		t.Errorf("params %+v", p)
	}

	msgs := r.Messages()
	prompt, aerr := openai.BuildPrompt(msgs)
	if aerr != nil {
		t.Fatal(aerr)
	}
	wantText := "[Chat messages since your last reply - for context]\nUser: What is 2+2?\nAssistant: 4\nUser: Read a.txt\n\n[Current message - respond to this]\nTool:read: line 1\nline 2"
	if prompt.Text != wantText || prompt.ExtraSystem != "Use English." || len(prompt.ImageParts) != 0 {
		t.Errorf("prompt %q\nextra %q images %v", prompt.Text, prompt.ExtraSystem, prompt.ImageParts)
	}
	if got := msgs[3].ImageURLs(); !reflect.DeepEqual(got, []string{"data:image/png;base64,AAAA", "data:image/gif;base64,R0lG"}) {
		t.Errorf("image urls %q", got)
	}
	want := []provider.Message{{Role: "tool", ToolCallID: "c1", Content: "line 1\nline 2"}}
	if got := r.ToolResults(); !reflect.DeepEqual(got, want) {
		t.Errorf("tool results %+v", got)
	}
}

func TestDecodeRequestInputs(t *testing.T) {
	tests := []struct {
		name, input string
		text        string // the flattened prompt
		images      int
		results     []string // call ids of the tool results
	}{
		{"string", `"hi"`, "hi", 0, nil},
		{"easy message with string content", `[{"role":"user","content":"hi"}]`, "hi", 0, nil},
		{"image only", `[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AA=="}]}]`, openai.ImageOnlyText, 1, nil},
		{"outputs answer calls", `[{"type":"function_call_output","call_id":"a","output":"1"},{"type":"function_call_output","call_id":"b","output":"2"}]`,
			"[Chat messages since your last reply - for context]\nTool: 1\n\n[Current message - respond to this]\nTool: 2", 0, []string{"a", "b"}},
		{"a user message after outputs is the turn", `[{"type":"function_call_output","call_id":"a","output":"1"},{"role":"user","content":"thanks"}]`,
			"[Chat messages since your last reply - for context]\nTool: 1\n\n[Current message - respond to this]\nUser: thanks", 0, nil},
		{"assistant only is answered", `[{"role":"assistant","content":"Go on?"}]`, "Go on?", 0, nil},
		{"no user text", `[{"role":"system","content":"sys"}]`, "", 0, nil},
		{"empty array", `[]`, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(`{"model":"openclaw","input":` + tt.input + `}`))
			if err != nil {
				t.Fatal(err)
			}
			p, aerr := openai.BuildPrompt(r.Messages())
			if aerr != nil {
				t.Fatal(aerr)
			}
			if p.Text != tt.text || len(p.ImageParts) != tt.images {
				t.Errorf("prompt %q with %d images, want %q with %d", p.Text, len(p.ImageParts), tt.text, tt.images)
			}
			var ids []string
			for _, m := range r.ToolResults() {
				ids = append(ids, m.ToolCallID)
			}
			if !reflect.DeepEqual(ids, tt.results) {
				t.Errorf("tool results %v, want %v", ids, tt.results)
			}
		})
	}
}

func TestDecodeRequestToolChoice(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"auto"`, `"auto"`},
		{`"none"`, `"none"`},
		{`"required"`, `"required"`},
		{`{"type":"function","name":"f"}`, `{"type":"function","function":{"name":"f"}}`},
		{`{"type":"function","function":{"name":"f"}}`, `{"type":"function","function":{"name":"f"}}`},
		{`null`, ``},
	} {
		r, err := DecodeRequest([]byte(`{"model":"m","tools":[{"type":"function","name":"f"}],"tool_choice":` + tt.in + `}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if string(r.ToolChoice) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.in, r.ToolChoice, tt.want)
		}
	}
}

func TestDecodeRequestKeepsNoViewOfTheBody(t *testing.T) {
	body := []byte(`{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}]}`)
	r, err := DecodeRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'x'
	}
	if string(r.Tools[0].Parameters) != `{"type":"object"}` || r.Model != "m" || !strings.Contains(r.Input[0].Content[0].Text, "hi") {
		t.Errorf("decoded values changed with the body: %+v", r)
	}
}

func TestUserLength(t *testing.T) {
	long := `{"model":"openclaw","input":"hi","user":"` + strings.Repeat("u", openai.MaxUserBytes+1) + `"}`
	_, err := DecodeRequest([]byte(long))
	if err == nil || err.Param != "user" || err.Message != "user: must be at most 256 bytes, received 257" {
		t.Fatalf("err = %+v", err)
	}
}
