package openai

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

const userHi = `"messages":[{"role":"user","content":"hi"}]`

func TestDecodeChatRequestErrors(t *testing.T) {
	tests := []struct {
		name, body string
		msg, param string // want; msg is exact
	}{
		// body shape and JSON
		{"array body", `[]`, "request body must be a JSON object, received array", ""},
		{"string body", `"hi"`, "request body must be a JSON object, received string", ""},
		{"number body", ` 42 `, "request body must be a JSON object, received number", ""},
		{"null body", `null`, "request body must be a JSON object, received null", ""},
		{"bool body", `true`, "request body must be a JSON object, received boolean", ""},
		{"truncated", `{"model":`, "invalid JSON body: unexpected end of JSON input (at byte 9)", ""},
		{"garbage", `{x}`, "invalid JSON body: invalid character 'x' looking for beginning of object key string (at byte 2)", ""},
		{"trailing garbage", `{} x`, "invalid JSON body: invalid character 'x' after top-level value (at byte 4)", ""},
		{"two objects", `{}{}`, "invalid JSON body: invalid character '{' after top-level value (at byte 3)", ""},
		{"invalid array body", `[1,`, "invalid JSON body: unexpected end of JSON input (at byte 3)", ""},
		{"bare word", `hello`, "invalid JSON body: invalid character 'h' looking for beginning of value (at byte 1)", ""},

		// top-level types
		{"model number", `{"model":5}`, "model: expected string, received number", "model"},
		{"model null", `{"model":null}`, "model: expected string, received null", "model"},
		{"model object", `{"model":{}}`, "model: expected string, received object", "model"},
		{"messages object", `{"messages":{}}`, "messages: expected array, received object", "messages"},
		{"messages string", `{"messages":"hi"}`, "messages: expected array, received string", "messages"},
		{"messages null", `{"messages":null}`, "messages: expected array, received null", "messages"},
		{"stream string", `{"stream":"yes"}`, "stream: expected boolean, received string", "stream"},
		{"stream number", `{"stream":1}`, "stream: expected boolean, received number", "stream"},
		{"stream_options array", `{"stream_options":[]}`, "stream_options: expected object, received array", "stream_options"},
		{"include_usage string", `{"stream_options":{"include_usage":"true"}}`, "stream_options.include_usage: expected boolean, received string", "stream_options.include_usage"},
		{"user number", `{"user":1}`, "user: expected string, received number", "user"},
		{"user object", `{"user":{}}`, "user: expected string, received object", "user"},
		{"temperature string", `{"temperature":"1"}`, "temperature: expected number, received string", "temperature"},
		{"temperature bool", `{"temperature":true}`, "temperature: expected number, received boolean", "temperature"},
		{"top_p array", `{"top_p":[1]}`, "top_p: expected number, received array", "top_p"},
		{"max_tokens string", `{"max_tokens":"10"}`, "max_tokens: expected integer, received string", "max_tokens"},
		{"max_tokens fraction", `{"max_tokens":1.5}`, "max_tokens: expected integer, received number", "max_tokens"},
		{"max_completion_tokens fraction", `{"max_completion_tokens":0.5}`, "max_completion_tokens: expected integer, received number", "max_completion_tokens"},
		{"stop number", `{"stop":1}`, "stop: expected string or array, received number", "stop"},
		{"stop object", `{"stop":{}}`, "stop: expected string or array, received object", "stop"},
		{"stop item number", `{"stop":["a",2]}`, "stop[1]: expected string, received number", "stop[1]"},
		{"response_format string", `{"response_format":"json"}`, "response_format: expected object, received string", "response_format"},
		{"response_format no type", `{"response_format":{}}`, "response_format.type: required", "response_format.type"},
		{"response_format type number", `{"response_format":{"type":1}}`, "response_format.type: expected string, received number", "response_format.type"},
		{"json_schema missing", `{"response_format":{"type":"json_schema"}}`, "response_format.json_schema: required when type is json_schema", "response_format.json_schema"},
		{"json_schema string", `{"response_format":{"type":"json_schema","json_schema":"x"}}`, "response_format.json_schema: expected object, received string", "response_format.json_schema"},
		{"seed string", `{"seed":"1"}`, "seed: expected integer, received string", "seed"},
		{"seed fraction", `{"seed":1.25}`, "seed: expected integer, received number", "seed"},
		{"presence_penalty string", `{"presence_penalty":"0"}`, "presence_penalty: expected number, received string", "presence_penalty"},
		{"frequency_penalty object", `{"frequency_penalty":{}}`, "frequency_penalty: expected number, received object", "frequency_penalty"},
		{"n string", `{"n":"1"}`, "n: expected integer, received string", "n"},
		{"n fraction", `{"n":1.5}`, "n: expected integer, received number", "n"},
		{"tools object", `{"tools":{}}`, "tools: expected array, received object", "tools"},
		{"tool not object", `{"tools":["f"]}`, "tools[0]: expected object, received string", "tools[0]"},
		{"tool no type", `{"tools":[{"function":{"name":"f"}}]}`, "tools[0].type: required", "tools[0].type"},
		{"tool no function", `{"tools":[{"type":"function"}]}`, "tools[0].function: required", "tools[0].function"},
		{"tool function string", `{"tools":[{"type":"function","function":"f"}]}`, "tools[0].function: expected object, received string", "tools[0].function"},
		{"tool no name", `{"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name: required", "tools[0].function.name"},
		{"tool name number", `{"tools":[{"type":"function","function":{"name":1}}]}`, "tools[0].function.name: expected string, received number", "tools[0].function.name"},
		{"tool description number", `{"tools":[{"type":"function","function":{"name":"f","description":1}}]}`, "tools[0].function.description: expected string, received number", "tools[0].function.description"},
		{"tool parameters array", `{"tools":[{"type":"function","function":{"name":"f","parameters":[]}}]}`, "tools[0].function.parameters: expected object, received array", "tools[0].function.parameters"},
		{"tool strict string", `{"tools":[{"type":"function","function":{"name":"f","strict":"yes"}}]}`, "tools[0].function.strict: expected boolean, received string", "tools[0].function.strict"},
		{"tool_choice number", `{"tool_choice":1}`, "tool_choice: expected string or object, received number", "tool_choice"},
		{"tool_choice no type", `{"tool_choice":{}}`, "tool_choice.type: required", "tool_choice.type"},
		{"tool_choice no function", `{"tool_choice":{"type":"function"}}`, "tool_choice.function: required", "tool_choice.function"},
		{"tool_choice function string", `{"tool_choice":{"type":"function","function":"f"}}`, "tool_choice.function: expected object, received string", "tool_choice.function"},
		{"tool_choice name missing", `{"tool_choice":{"type":"function","function":{}}}`, "tool_choice.function.name: required", "tool_choice.function.name"},
		{"parallel_tool_calls string", `{"parallel_tool_calls":"true"}`, "parallel_tool_calls: expected boolean, received string", "parallel_tool_calls"},

		// messages
		{"message string", `{"messages":["hi"]}`, "messages[0]: expected object, received string", "messages[0]"},
		{"message null", `{"messages":[null]}`, "messages[0]: expected object, received null", "messages[0]"},
		{"role missing", `{"messages":[{"content":"hi"}]}`, "messages[0].role: required (system, developer, user, assistant, tool or function)", "messages[0].role"},
		{"role number", `{"messages":[{"role":1,"content":"hi"}]}`, "messages[0].role: expected string, received number", "messages[0].role"},
		{"role null", `{"messages":[{"role":null,"content":"hi"}]}`, "messages[0].role: expected string, received null", "messages[0].role"},
		{"third role bad type", `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":true,"content":"c"}]}`, "messages[2].role: expected string, received boolean", "messages[2].role"},
		{"role unknown", `{"messages":[{"role":"bot","content":"hi"}]}`, `messages[0].role: unknown role "bot"; use system, developer, user, assistant, tool or function`, "messages[0].role"},
		{"role wrong case", `{"messages":[{"role":"User","content":"hi"}]}`, `messages[0].role: unknown role "User"; use system, developer, user, assistant, tool or function`, "messages[0].role"},
		{"content number", `{"messages":[{"role":"user","content":1}]}`, "messages[0].content: expected string or array, received number", "messages[0].content"},
		{"content object", `{"messages":[{"role":"user","content":{"text":"hi"}}]}`, "messages[0].content: expected string or array, received object", "messages[0].content"},
		{"content null user", `{"messages":[{"role":"user","content":null}]}`, "messages[0].content: expected string or array, received null", "messages[0].content"},
		{"content missing user", `{"messages":[{"role":"user"}]}`, "messages[0].content: required", "messages[0].content"},
		{"content null assistant no calls", `{"messages":[{"role":"assistant","content":null}]}`, "messages[0].content: expected string or array, received null", "messages[0].content"},
		{"part string", `{"messages":[{"role":"user","content":["hi"]}]}`, "messages[0].content[0]: expected object, received string", "messages[0].content[0]"},
		{"part no type", `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`, "messages[0].content[0].type: required", "messages[0].content[0].type"},
		{"part type number", `{"messages":[{"role":"user","content":[{"type":1}]}]}`, "messages[0].content[0].type: expected string, received number", "messages[0].content[0].type"},
		{"part unknown type", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, `messages[0].content[0].type: unsupported content part type "input_audio"; use text, input_text, image_url or refusal`, "messages[0].content[0].type"},
		{"text part no text", `{"messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text: required", "messages[0].content[0].text"},
		{"text part text number", `{"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`, "messages[0].content[0].text: expected string, received number", "messages[0].content[0].text"},
		{"input_text part text array", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"input_text","text":[]}]}]}`, "messages[0].content[1].text: expected string, received array", "messages[0].content[1].text"},
		{"image part no image_url", `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "messages[0].content[0].image_url: required", "messages[0].content[0].image_url"},
		{"image_url number", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":1}]}]}`, "messages[0].content[0].image_url: expected string or object, received number", "messages[0].content[0].image_url"},
		{"image_url no url", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, "messages[0].content[0].image_url.url: required", "messages[0].content[0].image_url.url"},
		{"image_url url number", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":1}}]}]}`, "messages[0].content[0].image_url.url: expected string, received number", "messages[0].content[0].image_url.url"},
		{"image_url detail number", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:x","detail":1}}]}]}`, "messages[0].content[0].image_url.detail: expected string, received number", "messages[0].content[0].image_url.detail"},
		{"refusal part no refusal", `{"messages":[{"role":"assistant","content":[{"type":"refusal"}]}]}`, "messages[0].content[0].refusal: required", "messages[0].content[0].refusal"},
		{"refusal part number", `{"messages":[{"role":"assistant","content":[{"type":"refusal","refusal":1}]}]}`, "messages[0].content[0].refusal: expected string, received number", "messages[0].content[0].refusal"},
		{"name number", `{"messages":[{"role":"tool","name":1,"content":"r"}]}`, "messages[0].name: expected string, received number", "messages[0].name"},
		{"tool_call_id number", `{"messages":[{"role":"tool","tool_call_id":1,"content":"r"}]}`, "messages[0].tool_call_id: expected string, received number", "messages[0].tool_call_id"},
		{"tool_calls object", `{"messages":[{"role":"assistant","tool_calls":{}}]}`, "messages[0].tool_calls: expected array, received object", "messages[0].tool_calls"},
		{"tool_call string", `{"messages":[{"role":"assistant","tool_calls":["x"]}]}`, "messages[0].tool_calls[0]: expected object, received string", "messages[0].tool_calls[0]"},
		{"tool_call no function", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function"}]}]}`, "messages[0].tool_calls[0].function: required", "messages[0].tool_calls[0].function"},
		{"tool_call id number", `{"messages":[{"role":"assistant","tool_calls":[{"id":1,"type":"function","function":{"name":"f"}}]}]}`, "messages[0].tool_calls[0].id: expected string, received number", "messages[0].tool_calls[0].id"},
		{"tool_call name missing", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{}}]}]}`, "messages[0].tool_calls[0].function.name: required", "messages[0].tool_calls[0].function.name"},
		{"tool_call arguments number", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":1}}]}]}`, "messages[0].tool_calls[0].function.arguments: expected string, received number", "messages[0].tool_calls[0].function.arguments"},
		{"function_call string", `{"messages":[{"role":"assistant","content":null,"function_call":"f"}]}`, "messages[0].function_call: expected object, received string", "messages[0].function_call"},

		// ranges, at and beyond the edges
		{"temperature above", `{"temperature":2.0001}`, "temperature: must be between 0 and 2, received 2.0001", "temperature"},
		{"temperature below", `{"temperature":-0.1}`, "temperature: must be between 0 and 2, received -0.1", "temperature"},
		{"temperature huge", `{"temperature":1e999}`, "temperature: must be between 0 and 2, received 1e999", "temperature"},
		{"top_p above", `{"top_p":1.01}`, "top_p: must be between 0 and 1, received 1.01", "top_p"},
		{"top_p below", `{"top_p":-1}`, "top_p: must be between 0 and 1, received -1", "top_p"},
		{"max_tokens zero", `{"max_tokens":0}`, "max_tokens: must be greater than 0, received 0", "max_tokens"},
		{"max_tokens negative", `{"max_tokens":-5}`, "max_tokens: must be greater than 0, received -5", "max_tokens"},
		{"max_tokens too big", `{"max_tokens":2147483648}`, "max_tokens: must be at most 2147483647, received 2147483648", "max_tokens"},
		{"max_tokens beyond int64", `{"max_tokens":1e30}`, "max_tokens: must be at most 2147483647, received 1e30", "max_tokens"},
		{"max_completion_tokens zero", `{"max_tokens":5,"max_completion_tokens":0}`, "max_completion_tokens: must be greater than 0, received 0", "max_completion_tokens"},
		{"stop five", `{"stop":["a","b","c","d","e"]}`, "stop: at most 4 sequences are allowed, received 5", "stop"},
		{"response_format unknown", `{"response_format":{"type":"xml"}}`, `response_format.type: must be text, json_object or json_schema, received "xml"`, "response_format.type"},
		{"seed beyond int64", `{"seed":9223372036854775808}`, "seed: must fit in a 64-bit integer, received 9223372036854775808", "seed"},
		{"presence_penalty above", `{"presence_penalty":2.5}`, "presence_penalty: must be between -2 and 2, received 2.5", "presence_penalty"},
		{"frequency_penalty below", `{"frequency_penalty":-2.01}`, "frequency_penalty: must be between -2 and 2, received -2.01", "frequency_penalty"},
		{"n two", `{"n":2}`, "n: only 1 choice is supported, received 2", "n"},
		{"n zero", `{"n":0}`, "n: only 1 choice is supported, received 0", "n"},
		{"n huge", `{"n":1e40}`, "n: only 1 choice is supported, received 1e40", "n"},
		{"tool type", `{"tools":[{"type":"web_search","function":{"name":"f"}}]}`, `tools[0].type: unsupported tool type "web_search"; only function tools are supported`, "tools[0].type"},
		{"tool name spaces", `{"tools":[{"type":"function","function":{"name":"my tool"}}]}`, `tools[0].function.name: must be 1-64 letters, digits, underscores or dashes, received "my tool"`, "tools[0].function.name"},
		{"tool name empty", `{"tools":[{"type":"function","function":{"name":""}}]}`, `tools[0].function.name: must be 1-64 letters, digits, underscores or dashes, received ""`, "tools[0].function.name"},
		{"tool name 65", `{"tools":[{"type":"function","function":{"name":"` + strings.Repeat("a", 65) + `"}}]}`, `tools[0].function.name: must be 1-64 letters, digits, underscores or dashes, received "` + strings.Repeat("a", 65) + `"`, "tools[0].function.name"},
		{"tool duplicate", `{"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]}`, `tools[1].function.name: duplicate tool name "f"`, "tools[1].function.name"},
		{"tool_choice unknown", `{"tool_choice":"any"}`, `tool_choice: must be "none", "auto", "required" or {"type":"function","function":{"name":...}}, received "any"`, "tool_choice"},
		{"tool_choice required no tools", `{"tool_choice":"required"}`, `tool_choice: "required" needs at least one tool in tools`, "tool_choice"},
		{"tool_choice unknown name", `{"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, `tool_choice.function.name: no tool named "g" in tools`, "tool_choice.function.name"},
		{"tool_choice type", `{"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"tool","function":{"name":"f"}}}`, `tool_choice.type: unsupported tool_choice type "tool"; use function`, "tool_choice.type"},
		{"tool_call type", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","function":{"name":"f"}}]}]}`, `messages[0].tool_calls[0].type: unsupported tool call type "custom"; use function`, "messages[0].tool_calls[0].type"},

		// order: every type check before any range check
		{"type after range", `{"temperature":5,"stream":"x"}`, "stream: expected boolean, received string", "stream"},
		{"message type after range", `{"messages":[{"role":"bot","content":"a"},{"role":"user","content":1}]}`, "messages[1].content: expected string or array, received number", "messages[1].content"},
		{"first range wins", `{"temperature":5,"top_p":5}`, "temperature: must be between 0 and 2, received 5", "temperature"},
		{"field order not body order", `{"stream":"x","model":1}`, "model: expected string, received number", "model"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if seen[tt.name] {
			t.Fatalf("duplicate case name %q", tt.name)
		}
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeChatRequest([]byte(tt.body))
			if err == nil {
				t.Fatalf("DecodeChatRequest(%s) = %+v, want error %q", tt.body, r, tt.msg)
			}
			if r != nil {
				t.Errorf("request %+v returned with an error", r)
			}
			if err.Status != 400 || err.Type != TypeInvalidRequest {
				t.Errorf("status, type = %d, %q; want 400, invalid_request_error", err.Status, err.Type)
			}
			if err.Message != tt.msg {
				t.Errorf("message\n got %s\nwant %s", err.Message, tt.msg)
			}
			if err.Param != tt.param {
				t.Errorf("param = %q, want %q", err.Param, tt.param)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeChatRequestOK(t *testing.T) {
	tests := []struct {
		name, body string
		want       ChatRequest
	}{
		{"empty body", ``, ChatRequest{}},
		{"whitespace body", " \n\t\r ", ChatRequest{}},
		{"empty object", `{}`, ChatRequest{}},
		{"surrounding space", " {} \n", ChatRequest{}},
		{"minimal", `{"model":"openclaw",` + userHi + `}`, ChatRequest{Model: "openclaw",
			Messages: []Message{{Role: "user", Content: []Part{{Type: PartText, Text: "hi"}}}}}},
		{"empty messages", `{"messages":[]}`, ChatRequest{Messages: []Message{}}},
		{"unknown fields ignored", `{"logprobs":true,"metadata":{"a":1},"store":false,"Stream":"x","messages":[{"role":"user","content":"x","weird":1}]}`,
			ChatRequest{Messages: []Message{{Role: "user", Content: []Part{{Type: PartText, Text: "x"}}}}}},
		{"nulls are absent", `{"stream":null,"stream_options":null,"user":null,"temperature":null,"top_p":null,"max_tokens":null,"max_completion_tokens":null,"stop":null,"response_format":null,"seed":null,"presence_penalty":null,"frequency_penalty":null,"n":null,"tools":null,"tool_choice":null,"parallel_tool_calls":null}`,
			ChatRequest{}},
		{"stream and usage", `{"stream":true,"stream_options":{"include_usage":true}}`, ChatRequest{Stream: true, IncludeUsage: true}},
		{"stream_options empty", `{"stream":false,"stream_options":{}}`, ChatRequest{}},
		{"user", `{"user":"Alice"}`, ChatRequest{User: "Alice"}},
		{"edges low", `{"temperature":0,"top_p":0,"presence_penalty":-2,"frequency_penalty":-2,"max_tokens":1}`,
			ChatRequest{Temperature: ptr(0.0), TopP: ptr(0.0), PresencePenalty: ptr(-2.0), FrequencyPenalty: ptr(-2.0), MaxTokens: ptr(1)}},
		{"edges high", `{"temperature":2,"top_p":1,"presence_penalty":2,"frequency_penalty":2.0,"max_tokens":2147483647}`,
			ChatRequest{Temperature: ptr(2.0), TopP: ptr(1.0), PresencePenalty: ptr(2.0), FrequencyPenalty: ptr(2.0), MaxTokens: ptr(2147483647)}},
		{"integral floats", `{"max_tokens":1e3,"seed":2.0,"n":1.0}`, ChatRequest{MaxTokens: ptr(1000), Seed: ptr(int64(2))}},
		{"max_completion_tokens wins", `{"max_tokens":10,"max_completion_tokens":20}`, ChatRequest{MaxTokens: ptr(20)}},
		{"max_tokens alone", `{"max_tokens":10}`, ChatRequest{MaxTokens: ptr(10)}},
		{"seed negative and large", `{"seed":-9223372036854775808}`, ChatRequest{Seed: ptr(int64(-9223372036854775808))}},
		{"stop string", `{"stop":"END"}`, ChatRequest{Stop: []string{"END"}}},
		{"stop four", `{"stop":["a","b","c","d"]}`, ChatRequest{Stop: []string{"a", "b", "c", "d"}}},
		{"stop empty array", `{"stop":[]}`, ChatRequest{}},
		{"n one", `{"n":1}`, ChatRequest{}},
		{"response_format text", `{"response_format":{"type":"text"}}`, ChatRequest{ResponseFormat: json.RawMessage(`{"type":"text"}`)}},
		{"response_format json_schema", `{"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}`,
			ChatRequest{ResponseFormat: json.RawMessage(`{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}`)}},
		{"tools and choice", `{"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather.","parameters":{"type":"object","properties":{"b":{},"a":{}}}}},{"type":"function","function":{"name":"f-2"}}],"tool_choice":{"type":"function","function":{"name":"f-2"},"extra":1},"parallel_tool_calls":false}`,
			ChatRequest{Tools: []provider.ToolDef{
				{Name: "get_weather", Description: "Weather.", Parameters: json.RawMessage(`{"type":"object","properties":{"b":{},"a":{}}}`)},
				{Name: "f-2"}},
				ToolChoice:        json.RawMessage(`{"type":"function","function":{"name":"f-2"}}`),
				ParallelToolCalls: ptr(false)}},
		{"tools empty", `{"tools":[]}`, ChatRequest{}},
		{"tool_choice auto without tools", `{"tool_choice":"auto"}`, ChatRequest{ToolChoice: json.RawMessage(`"auto"`)}},
		{"tool_choice none", `{"tool_choice":"none"}`, ChatRequest{ToolChoice: json.RawMessage(`"none"`)}},
		{"tool_choice required", `{"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}`,
			ChatRequest{Tools: []provider.ToolDef{{Name: "f"}}, ToolChoice: json.RawMessage(`"required"`)}},
		{"all roles and parts", `{"messages":[
			{"role":"system","content":"S"},
			{"role":"developer","content":[{"type":"text","text":"D"}]},
			{"role":"user","name":"bob","content":[{"type":"text","text":"a"},{"type":"input_text","text":"b"},{"type":"image_url","image_url":{"url":" data:image/png;base64,AA== ","detail":"low"}},{"type":"image_url","image_url":"data:image/gif;base64,R0"}]},
			{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},{"id":"call_2","function":{"name":"g","arguments":{"y":2}}}]},
			{"role":"tool","tool_call_id":"call_1","name":"f","content":"42"},
			{"role":"function","name":"g","content":[]},
			{"role":"assistant","function_call":{"name":"h","arguments":"{}"}}]}`,
			ChatRequest{Messages: []Message{
				{Role: "system", Content: []Part{{Type: PartText, Text: "S"}}},
				{Role: "developer", Content: []Part{{Type: PartText, Text: "D"}}},
				{Role: "user", Name: "bob", Content: []Part{{Type: PartText, Text: "a"}, {Type: PartText, Text: "b"},
					{Type: PartImage, ImageURL: "data:image/png;base64,AA==", Detail: "low"}, {Type: PartImage, ImageURL: "data:image/gif;base64,R0"}}},
				{Role: "assistant", ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "f", Arguments: `{"x":1}`}, {ID: "call_2", Name: "g", Arguments: `{"y":2}`}}},
				{Role: "tool", ToolCallID: "call_1", Name: "f", Content: []Part{{Type: PartText, Text: "42"}}},
				{Role: "function", Name: "g", Content: []Part{}},
				{Role: "assistant", ToolCalls: []provider.ToolCall{{Name: "h", Arguments: "{}"}}},
			}}},
		{"refusal part is text", `{"messages":[{"role":"assistant","content":[{"type":"refusal","refusal":"I can't."}]}]}`,
			ChatRequest{Messages: []Message{{Role: "assistant", Content: []Part{{Type: PartText, Text: "I can't."}}}}}},
		{"assistant tool_calls without content key", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f"}}]}]}`,
			ChatRequest{Messages: []Message{{Role: "assistant", ToolCalls: []provider.ToolCall{{ID: "c", Name: "f"}}}}}},
		{"escaped strings", `{"model":"openclaw\/x","messages":[{"role":"user","content":"line\nnext \u00e9 \ud83d\ude00"}]}`,
			ChatRequest{Model: "openclaw/x", Messages: []Message{{Role: "user", Content: []Part{{Type: PartText, Text: "line\nnext é 😀"}}}}}},
		{"duplicate key last wins", `{"model":"a","model":"b"}`, ChatRequest{Model: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeChatRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeChatRequest: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", *got, tt.want)
			}
		})
	}
}

func TestParams(t *testing.T) {
	r, err := DecodeChatRequest([]byte(`{"temperature":0.5,"top_p":0.9,"max_tokens":5,"max_completion_tokens":7,"stop":"x","response_format":{"type":"json_object"},"seed":3,"presence_penalty":0.1,"frequency_penalty":-0.1,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Params{Temperature: ptr(0.5), TopP: ptr(0.9), MaxTokens: ptr(7), Stop: []string{"x"},
		ResponseFormat: json.RawMessage(`{"type":"json_object"}`), Seed: ptr(int64(3)), PresencePenalty: ptr(0.1), FrequencyPenalty: ptr(-0.1)}
	if got := r.Params(); !reflect.DeepEqual(got, want) {
		t.Errorf("Params() = %#v\nwant %#v", got, want)
	}
	if got, want := r.ToolDefs(), []provider.ToolDef{{Name: "f", Parameters: json.RawMessage(`{"type":"object"}`)}}; !reflect.DeepEqual(got, want) {
		t.Errorf("ToolDefs() = %#v, want %#v", got, want)
	}
	if got := (&ChatRequest{}).Params(); !reflect.DeepEqual(got, provider.Params{}) {
		t.Errorf("empty Params() = %#v", got)
	}
}

func TestEchoModel(t *testing.T) {
	for model, want := range map[string]string{"": "openclaw", "openclaw/main": "openclaw/main", "OpenClaw:X": "OpenClaw:X"} {
		if got := (&ChatRequest{Model: model}).EchoModel(); got != want {
			t.Errorf("EchoModel(%q) = %q, want %q", model, got, want)
		}
	}
}

func TestMessageText(t *testing.T) {
	tests := []struct {
		name  string
		parts []Part
		want  string
	}{
		{"none", nil, ""},
		{"one", []Part{{Type: PartText, Text: " hi \n"}}, "hi"},
		{"joined", []Part{{Type: PartText, Text: "a"}, {Type: PartText, Text: "b"}}, "a\nb"},
		{"empty parts skipped", []Part{{Type: PartText, Text: "a"}, {Type: PartText}, {Type: PartText, Text: "c"}}, "a\nc"},
		{"images skipped", []Part{{Type: PartImage, ImageURL: "u"}, {Type: PartText, Text: "a"}, {Type: PartImage, ImageURL: "v"}, {Type: PartText, Text: "b"}}, "a\nb"},
		{"inner space kept", []Part{{Type: PartText, Text: "  a  "}, {Type: PartText, Text: "  b  "}}, "a  \n  b"},
		{"only image", []Part{{Type: PartImage, ImageURL: "u"}}, ""},
	}
	for _, tt := range tests {
		m := Message{Role: "user", Content: tt.parts}
		if got := m.Text(); got != tt.want {
			t.Errorf("%s: Text() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUserLength(t *testing.T) {
	ok := `{"user":"` + strings.Repeat("u", MaxUserBytes) + `","messages":[{"role":"user","content":"hi"}]}`
	if _, err := DecodeChatRequest([]byte(ok)); err != nil {
		t.Fatalf("a user of the maximum length: %v", err)
	}
	long := `{"user":"` + strings.Repeat("u", MaxUserBytes+1) + `","messages":[{"role":"user","content":"hi"}]}`
	_, err := DecodeChatRequest([]byte(long))
	if err == nil || err.Status != 400 || err.Param != "user" || err.Message != "user: must be at most 256 bytes, received 257" {
		t.Fatalf("err = %+v", err)
	}
}
