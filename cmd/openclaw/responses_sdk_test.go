package main

// The gateway's POST /v1/responses as the official OpenAI Go SDK sees it:
// a create, a stream accumulated, a client function call round trip with
// previous_response_id, and the SDK's error types. The model is mockmodel,
// in process, and the gateway the real handler behind httptest.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/gateway"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// sdkGateway starts mockmodel with replies and a gateway with the responses
// endpoint on it; it returns an SDK client for the gateway and the file the
// mock records its requests in.
func sdkGateway(t *testing.T, replies ...mockReply) (openai.Client, string) {
	t.Helper()
	rec := filepath.Join(t.TempDir(), "requests.jsonl")
	f, err := os.Create(rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m := &mockServer{replies: replies, quit: make(chan struct{}), record: f}
	mock := httptest.NewServer(m)
	t.Cleanup(mock.Close)
	t.Cleanup(func() { close(m.quit) })

	cfg := config.Default()
	cfg.Gateway.Auth.Token = "t0k"
	cfg.Gateway.HTTP.Endpoints.Responses.Enabled = true
	cfg.Agents.Defaults.Model = config.ModelRef{Primary: "mock/gpt-test"}
	cfg.Models.Providers = map[string]config.Provider{"mock": {API: provider.APIOpenAI, BaseURL: mock.URL + "/v1", APIKey: "sk-test"}}
	cfg.Tools.Profile = "minimal"
	srv, err := gateway.New(gateway.Options{Runner: agent.New(agent.Options{StateDir: t.TempDir(), Config: cfg})})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(srv)
	t.Cleanup(gw.Close)
	return openai.NewClient(option.WithBaseURL(gw.URL+"/v1/"), option.WithAPIKey("t0k")), rec
}

// mockRequests reads the bodies the mock model received.
func mockRequests(t *testing.T, rec string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			Body map[string]any `json:"body"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Body)
	}
	return out
}

func TestSDKResponsesCreate(t *testing.T) {
	client, rec := sdkGateway(t, mockReply{Text: "Hello there, friend", Usage: &mockUsage{Prompt: 12, Completion: 3, Cached: 4}})
	resp, err := client.Responses.New(context.Background(), responses.ResponseNewParams{
		Model:           "openclaw",
		Instructions:    openai.String("Be brief."),
		Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")},
		MaxOutputTokens: openai.Int(50),
		Temperature:     openai.Float(0.5),
		User:            openai.String("ann"),
		Store:           openai.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.ID, "resp_") || resp.Status != responses.ResponseStatusCompleted || resp.Model != "openclaw" || resp.CreatedAt == 0 {
		t.Errorf("response %s %s %s %v", resp.ID, resp.Status, resp.Model, resp.CreatedAt)
	}
	if resp.OutputText() != "Hello there, friend" {
		t.Errorf("text %q", resp.OutputText())
	}
	if len(resp.Output) != 1 || resp.Output[0].Type != "message" || !strings.HasPrefix(resp.Output[0].ID, "msg_") || resp.Output[0].Role != "assistant" {
		t.Errorf("output %+v", resp.Output)
	}
	if u := resp.Usage; u.InputTokens != 12 || u.OutputTokens != 3 || u.TotalTokens != 15 {
		t.Errorf("usage %+v", u)
	}
	body := mockRequests(t, rec)[0]
	if body["max_tokens"] != 50.0 || body["temperature"] != 0.5 {
		t.Errorf("params %v", body)
	}
	if sys := body["messages"].([]any)[0].(map[string]any)["content"]; sys != "You are main, an OpenClaw agent.\n\nBe brief." {
		t.Errorf("system %q", sys)
	}
}

func TestSDKResponsesStreamAccumulated(t *testing.T) {
	client, _ := sdkGateway(t, mockReply{Deltas: []string{"Hello ", "Hello ", "world"}})
	stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
		Model: "openclaw/main",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Say hello twice.", responses.EasyInputMessageRoleUser),
		}},
	})
	defer stream.Close()
	var (
		types []string
		text  strings.Builder
		final responses.Response
		seq   int64 = -1
	)
	for stream.Next() {
		ev := stream.Current()
		if ev.SequenceNumber != seq+1 {
			t.Errorf("%s: sequence %d after %d", ev.Type, ev.SequenceNumber, seq)
		}
		seq = ev.SequenceNumber
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("events %q", types)
	}
	if text.String() != "Hello Hello world" || final.OutputText() != text.String() || final.Status != responses.ResponseStatusCompleted {
		t.Errorf("accumulated %q, final %q (%s)", text.String(), final.OutputText(), final.Status)
	}
}

func TestSDKResponsesFunctionCallRoundTrip(t *testing.T) {
	client, rec := sdkGateway(t,
		mockReply{ToolCalls: []mockToolCall{{ID: "call_1", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Oslo"}`)}}},
		mockReply{Text: "Sunny in Oslo."},
		mockReply{Text: "Checking.", ToolCalls: []mockToolCall{{ID: "call_2", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Bergen"}`)}}},
	)
	ctx := context.Background()
	weather := responses.ToolParamOfFunction("get_weather", map[string]any{
		"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"},
	}, true)
	first, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "openclaw",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Oslo?")},
		Tools: []responses.ToolUnionParam{weather},
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != responses.ResponseStatusIncomplete || len(first.Output) != 1 {
		t.Fatalf("first: %s %+v", first.Status, first.Output)
	}
	call := first.Output[0].AsFunctionCall()
	if call.Type != "function_call" || call.CallID != "call_1" || call.Name != "get_weather" || call.Arguments != `{"city":"Oslo"}` || !strings.HasPrefix(call.ID, "fc_") {
		t.Errorf("call %+v", call)
	}

	out := responses.ResponseInputItemParamOfFunctionCallOutput(`{"sky":"clear"}`)
	out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
	second, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model:              "openclaw",
		PreviousResponseID: openai.String(first.ID),
		Input:              responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{out}},
		Tools:              []responses.ToolUnionParam{weather},
	})
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != responses.ResponseStatusCompleted || second.OutputText() != "Sunny in Oslo." {
		t.Errorf("second: %s %q", second.Status, second.OutputText())
	}
	// The model got its call back with a real tool result.
	msgs := mockRequests(t, rec)[1]["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	prev := msgs[len(msgs)-2].(map[string]any)
	if last["role"] != "tool" || last["tool_call_id"] != "call_1" || last["content"] != `{"sky":"clear"}` || prev["role"] != "assistant" || prev["tool_calls"] == nil {
		t.Errorf("messages %v", msgs)
	}

	// Streamed: the call arrives as an item with its arguments.
	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model:              "openclaw",
		PreviousResponseID: openai.String(second.ID),
		Input:              responses.ResponseNewParamsInputUnion{OfString: openai.String("And Bergen?")},
		Tools:              []responses.ToolUnionParam{weather},
	})
	defer stream.Close()
	var args strings.Builder
	var final responses.Response
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.function_call_arguments.delta":
			args.WriteString(ev.Delta)
		case "response.incomplete":
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if args.String() != `{"city":"Bergen"}` || final.Status != responses.ResponseStatusIncomplete || len(final.Output) != 2 ||
		final.OutputText() != "Checking." || final.Output[1].AsFunctionCall().CallID != "call_2" {
		t.Errorf("streamed call: args %q, final %s %+v", args.String(), final.Status, final.Output)
	}
}

func TestSDKResponsesErrors(t *testing.T) {
	client, rec := sdkGateway(t, mockReply{Status: 500})
	ctx := context.Background()
	hi := responses.ResponseNewParams{Model: "openclaw", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}}
	tests := []struct {
		name   string
		opts   []option.RequestOption
		params responses.ResponseNewParams
		status int
		typ    string
		param  string
		code   string
	}{
		{"wrong key", []option.RequestOption{option.WithAPIKey("nope")}, hi, 401, "unauthorized", "", ""},
		{"unknown parameter", []option.RequestOption{option.WithJSONSet("text", map[string]any{"format": map[string]any{"type": "text"}})}, hi, 400, "invalid_request_error", "text", "unknown_parameter"},
		{"bad model", nil, responses.ResponseNewParams{Model: "gpt-4o", Input: hi.Input}, 400, "invalid_request_error", "model", ""},
		{"unknown previous response", nil, responses.ResponseNewParams{Model: "openclaw", Input: hi.Input, PreviousResponseID: openai.String("resp_gone")}, 404, "invalid_request_error", "previous_response_id", "previous_response_not_found"},
		{"nothing to answer", nil, responses.ResponseNewParams{Model: "openclaw"}, 400, "invalid_request_error", "input", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.Responses.New(ctx, tt.params, tt.opts...)
			var ae *openai.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T)", err, err)
			}
			if ae.StatusCode != tt.status || ae.Type != tt.typ || ae.Param != tt.param || ae.Code != tt.code || ae.Message == "" {
				t.Errorf("got %d type %q param %q code %q: %s", ae.StatusCode, ae.Type, ae.Param, ae.Code, ae.Message)
			}
		})
	}
	if n := len(mockRequests0(t, rec)); n != 0 {
		t.Fatalf("%d refused requests reached the model", n)
	}

	// A run that fails is a 500 the SDK does not retry (it would run the
	// turn again): one model request, not three.
	_, err := client.Responses.New(ctx, hi)
	var ae *openai.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusInternalServerError || ae.Message != "upstream provider error" || ae.Code != "server_error" {
		t.Fatalf("failed run: %v", err)
	}
	if n := len(mockRequests(t, rec)); n != 1 {
		t.Errorf("the model was asked %d times", n)
	}

	// Streamed, the failure is the response.failed event.
	stream := client.Responses.NewStreaming(ctx, hi)
	defer stream.Close()
	var last responses.ResponseStreamEventUnion
	for stream.Next() {
		last = stream.Current()
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if last.Type != "response.failed" || last.Response.Status != responses.ResponseStatusFailed || last.Response.Error.Message != "upstream provider error" {
		t.Errorf("last event %s %s %+v", last.Type, last.Response.Status, last.Response.Error)
	}
}

// mockRequests0 is mockRequests for a file that may be empty.
func mockRequests0(t *testing.T, rec string) []map[string]any {
	t.Helper()
	if b, _ := os.ReadFile(rec); len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return mockRequests(t, rec)
}
