package openresponses

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/openai"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// ids replaces the random part of generated ids so bodies compare.
var ids = regexp.MustCompile(`"(resp|msg|fc)_[A-Z2-7]{26}"`)

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return ids.ReplaceAllString(string(b), `"${1}_X"`)
}

func TestNewResponse(t *testing.T) {
	u := provider.Usage{Input: 10, Output: 3, CacheRead: 4, CacheWrite: 9}
	calls := []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}
	tests := []struct {
		name string
		r    Reply
		want string
	}{
		{"text", Reply{Text: "Hello <b>", StopReason: provider.StopEnd, Usage: u},
			`{"id":"resp_1","object":"response","created_at":7,"status":"completed","model":"openclaw","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hello \u003cb\u003e","annotations":[]}]}],"usage":{"input_tokens":14,"output_tokens":3,"total_tokens":17},"error":null,"incomplete_details":null}`},
		{"empty reply", Reply{},
			`{"id":"resp_1","object":"response","created_at":7,"status":"completed","model":"openclaw","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"No response from OpenClaw.","annotations":[]}]}],"usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0},"error":null,"incomplete_details":null}`},
		{"tool call", Reply{ToolCalls: calls, StopReason: provider.StopToolCalls},
			`{"id":"resp_1","object":"response","created_at":7,"status":"incomplete","model":"openclaw","output":[{"type":"function_call","id":"fc_X","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Oslo\"}","status":"completed"}],"usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0},"error":null,"incomplete_details":null}`},
		{"text and tool call", Reply{Text: "Let me look.", ToolCalls: calls, StopReason: provider.StopToolCalls},
			`{"id":"resp_1","object":"response","created_at":7,"status":"incomplete","model":"openclaw","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Let me look.","annotations":[]}]},{"type":"function_call","id":"fc_X","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Oslo\"}","status":"completed"}],"usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0},"error":null,"incomplete_details":null}`},
		{"length", Reply{Text: "trunc", StopReason: provider.StopLength},
			`{"id":"resp_1","object":"response","created_at":7,"status":"incomplete","model":"openclaw","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"trunc","annotations":[]}]}],"usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0},"error":null,"incomplete_details":{"reason":"max_output_tokens"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := marshal(t, NewResponse("resp_1", "openclaw", 7, "msg_1", tt.r)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestFailedAndInProgress(t *testing.T) {
	got := marshal(t, Failed("resp_1", "m", 7, openai.Upstream()))
	want := `{"id":"resp_1","object":"response","created_at":7,"status":"failed","model":"m","output":[],"usage":null,"error":{"code":"server_error","message":"upstream provider error"},"incomplete_details":null}`
	if got != want {
		t.Errorf("failed:\n%s\nwant\n%s", got, want)
	}
	if got := marshal(t, Failed("resp_1", "m", 7, openai.UpstreamRateLimited())); !strings.Contains(got, `"error":{"code":"rate_limit_exceeded","message":"upstream provider rate limit reached; try again later"}`) {
		t.Errorf("rate limited: %s", got)
	}
	got = marshal(t, InProgress("resp_1", "m", 7))
	want = `{"id":"resp_1","object":"response","created_at":7,"status":"in_progress","model":"m","output":[],"usage":null,"error":null,"incomplete_details":null}`
	if got != want {
		t.Errorf("in progress:\n%s\nwant\n%s", got, want)
	}
	if id := NewResponseID(); !ids.MatchString(`"`+id+`"`) || id == NewResponseID() {
		t.Errorf("response id %q", id)
	}
}

func TestStream(t *testing.T) {
	var st Stream
	resp := NewResponse("resp_1", "m", 7, "msg_1", Reply{Text: "Hi", ToolCalls: []provider.ToolCall{{ID: "c1", Name: "f", Arguments: "{}"}}})
	fc := resp.Output[1]
	added := fc
	added.Status, added.Arguments = StatusInProgress, ""
	var b []byte
	b = st.Created(b, InProgress("resp_1", "m", 7))
	b = st.InProgress(b, InProgress("resp_1", "m", 7))
	b = st.ItemAdded(b, 0, MessageItem("msg_1", StatusInProgress, ""))
	b = st.PartAdded(b, "msg_1", 0)
	b = st.TextDelta(b, "msg_1", 0, "H")
	b = st.TextDelta(b, "msg_1", 0, "i")
	b = st.TextDone(b, "msg_1", 0, "Hi")
	b = st.PartDone(b, "msg_1", 0, "Hi")
	b = st.ItemDone(b, 0, resp.Output[0])
	b = st.ItemAdded(b, 1, added)
	b = st.ArgumentsDelta(b, fc.ID, 1, "{}")
	b = st.ArgumentsDone(b, fc.ID, 1, "{}")
	b = st.ItemDone(b, 1, fc)
	b = st.Finished(b, resp)
	b = AppendDone(b)
	got := ids.ReplaceAllString(string(b), `"${1}_X"`)
	ip := `{"id":"resp_1","object":"response","created_at":7,"status":"in_progress","model":"m","output":[],"usage":null,"error":null,"incomplete_details":null}`
	msg := `{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi","annotations":[]}]}`
	want := `event: response.created
data: {"type":"response.created","sequence_number":0,"response":` + ip + `}

event: response.in_progress
data: {"type":"response.in_progress","sequence_number":1,"response":` + ip + `}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","status":"in_progress","content":[]}}

event: response.content_part.added
data: {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"H"}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"i"}

event: response.output_text.done
data: {"type":"response.output_text.done","sequence_number":6,"item_id":"msg_1","output_index":0,"content_index":0,"text":"Hi"}

event: response.content_part.done
data: {"type":"response.content_part.done","sequence_number":7,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi","annotations":[]}}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":` + msg + `}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":9,"output_index":1,"item":{"type":"function_call","id":"fc_X","call_id":"c1","name":"f","arguments":"","status":"in_progress"}}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","sequence_number":10,"item_id":"fc_X","output_index":1,"delta":"{}"}

event: response.function_call_arguments.done
data: {"type":"response.function_call_arguments.done","sequence_number":11,"item_id":"fc_X","output_index":1,"arguments":"{}"}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":12,"output_index":1,"item":{"type":"function_call","id":"fc_X","call_id":"c1","name":"f","arguments":"{}","status":"completed"}}

event: response.incomplete
data: {"type":"response.incomplete","sequence_number":13,"response":{"id":"resp_1","object":"response","created_at":7,"status":"incomplete","model":"m","output":[` + msg + `,{"type":"function_call","id":"fc_X","call_id":"c1","name":"f","arguments":"{}","status":"completed"}],"usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0},"error":null,"incomplete_details":null}}

data: [DONE]

`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestStreamFinishedNamesTheStatus(t *testing.T) {
	for _, tt := range []struct {
		resp *Response
		want string
	}{
		{NewResponse("r", "m", 1, "msg", Reply{Text: "ok"}), "event: response.completed\n"},
		{NewResponse("r", "m", 1, "msg", Reply{Text: "ok", StopReason: provider.StopLength}), "event: response.incomplete\n"},
		{Failed("r", "m", 1, openai.Internal()), "event: response.failed\n"},
	} {
		var st Stream
		got := string(st.Finished(nil, tt.resp))
		if !strings.HasPrefix(got, tt.want) || !strings.Contains(got, `"sequence_number":0,"response":{`) {
			t.Errorf("%s: %s", tt.resp.Status, got)
		}
	}
}
