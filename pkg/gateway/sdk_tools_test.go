package gateway

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// toolModel calls get_weather for two cities when the last message is the
// user's, and answers from the tool results once they are there; it keeps
// every request so the test can check what the model saw.
type toolModel struct {
	mu   sync.Mutex
	reqs []provider.Request
}

func (m *toolModel) Stream(_ context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, *req)
	m.mu.Unlock()
	last := req.Messages[len(req.Messages)-1]
	if last.Role == "user" {
		return &provider.Response{StopReason: provider.StopToolCalls, ToolCalls: []provider.ToolCall{
			{ID: "call_oslo", Name: "get_weather", Arguments: `{"city":"Oslo"}`},
			{ID: "call_rome", Name: "get_weather", Arguments: `{"city":"Rome"}`},
		}}, nil
	}
	text := "Oslo: " + req.Messages[len(req.Messages)-2].Content + ", Rome: " + last.Content
	onDelta(text)
	return &provider.Response{Text: text, StopReason: provider.StopEnd}, nil
}

func weatherParams(user string, msgs ...openai.ChatCompletionMessageParamUnion) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "openclaw",
		User:     openai.String(user),
		Messages: msgs,
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        "get_weather",
			Description: openai.String("Weather of a city"),
			Parameters:  shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		})},
	}
}

// checkToolResults asserts the model's second request carried the calls and
// their results as real tool messages.
func (m *toolModel) checkToolResults(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.reqs) != 2 {
		t.Fatalf("%d model calls, want 2", len(m.reqs))
	}
	msgs := m.reqs[1].Messages
	if len(msgs) != 4 || msgs[1].Role != "assistant" || len(msgs[1].ToolCalls) != 2 ||
		msgs[2].Role != "tool" || msgs[2].ToolCallID != "call_oslo" || msgs[2].Content != "cold" || msgs[2].ToolName != "get_weather" ||
		msgs[3].ToolCallID != "call_rome" || msgs[3].Content != "warm" {
		t.Fatalf("second model call: %+v", msgs)
	}
	if len(m.reqs[0].Tools) != 1 || m.reqs[0].Tools[0].Name != "get_weather" {
		t.Fatalf("tools offered: %+v", m.reqs[0].Tools)
	}
}

// TestSDKToolRoundTrip: the SDK's function-calling flow, non-streaming.
func TestSDKToolRoundTrip(t *testing.T) {
	m := &toolModel{}
	s, _ := newTestServer(t, m, nil)
	srv, _ := sdkGateway(t, s)
	c := sdkClient(srv, "t0k")
	ctx := context.Background()

	params := weatherParams("sdk-tools", openai.UserMessage("Weather in Oslo and Rome?"))
	res, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	ch := res.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 2 {
		t.Fatalf("first answer: %+v", ch)
	}
	params.Messages = append(params.Messages, ch.Message.ToParam())
	for i, tc := range ch.Message.ToolCalls {
		if tc.Function.Name != "get_weather" || tc.Type != "function" {
			t.Fatalf("tool call %d: %+v", i, tc)
		}
		params.Messages = append(params.Messages, openai.ToolMessage([]string{"cold", "warm"}[i], tc.ID))
	}
	res, err = c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Choices[0].Message.Content; got != "Oslo: cold, Rome: warm" || res.Choices[0].FinishReason != "stop" {
		t.Fatalf("final answer %q (%s)", got, res.Choices[0].FinishReason)
	}
	m.checkToolResults(t)
}

// TestSDKToolRoundTripStreaming: the same flow streamed, accumulated with
// the SDK's helper, which must see the tool calls finish.
func TestSDKToolRoundTripStreaming(t *testing.T) {
	m := &toolModel{}
	s, _ := newTestServer(t, m, nil)
	srv, _ := sdkGateway(t, s)
	c := sdkClient(srv, "t0k")
	ctx := context.Background()

	params := weatherParams("sdk-tools-stream", openai.UserMessage("Weather in Oslo and Rome?"))
	stream := c.Chat.Completions.NewStreaming(ctx, params)
	acc := openai.ChatCompletionAccumulator{}
	var finishedCalls []openai.FinishedChatCompletionToolCall
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatalf("the accumulator refused %s", stream.Current().RawJSON())
		}
		if tc, ok := acc.JustFinishedToolCall(); ok {
			finishedCalls = append(finishedCalls, tc)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	msg := acc.Choices[0].Message
	if acc.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 2 || msg.ToolCalls[1].Function.Arguments != `{"city":"Rome"}` {
		t.Fatalf("accumulated: %+v", acc.Choices[0])
	}
	if len(finishedCalls) != 2 || finishedCalls[0].Name != "get_weather" {
		t.Fatalf("finished tool calls: %+v", finishedCalls)
	}
	params.Messages = append(params.Messages, msg.ToParam())
	for i, tc := range msg.ToolCalls {
		params.Messages = append(params.Messages, openai.ToolMessage([]string{"cold", "warm"}[i], tc.ID))
	}
	stream = c.Chat.Completions.NewStreaming(ctx, params)
	acc = openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "Oslo: cold, Rome: warm" {
		t.Fatalf("final streamed answer %q", got)
	}
	m.checkToolResults(t)
}

// TestEmptyReplyText: an empty reply reads "No response from OpenClaw."
// whether streamed or not.
func TestEmptyReplyText(t *testing.T) {
	s, _ := newTestServer(t, replyWith(), nil)
	if w := post(s, hiBody); !strings.Contains(w.Body.String(), `"content":"No response from OpenClaw."`) {
		t.Fatalf("plain: %s", w.Body.String())
	}
	w := post(s, hiStream)
	if !strings.Contains(w.Body.String(), `"delta":{"content":"No response from OpenClaw."}`) || !strings.HasSuffix(w.Body.String(), "data: [DONE]\n\n") {
		t.Fatalf("stream: %s", w.Body.String())
	}
}
