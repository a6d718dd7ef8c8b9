package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// The official OpenAI Go SDK against a live gateway (an httptest server
// around the real handler, with an in-process fake model): what clients
// actually run must work, errors included.

// sdkGateway serves s and counts the chat requests that reach it.
func sdkGateway(t *testing.T, s *Server) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/chat/completions" {
			n.Add(1)
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func sdkClient(srv *httptest.Server, key string, opts ...option.RequestOption) *openai.Client {
	c := openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(srv.URL + "/v1/"),
		option.WithAPIKey(key),
		option.WithRequestTimeout(20 * time.Second),
	}, opts...)...)
	return &c
}

func sdkParams(model, text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage(text)},
	}
}

func TestSDKCompletion(t *testing.T) {
	var got *provider.Request
	p := fakeProvider{fn: func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		got = req
		return replyWith("Hello ", "from ", "openclaw").Stream(ctx, req, onDelta)
	}}
	s, _ := newTestServer(t, p, nil)
	srv, _ := sdkGateway(t, s)
	c := sdkClient(srv, "t0k")

	params := sdkParams("openclaw/main", "hi there")
	params.Temperature = openai.Float(0.5)
	params.MaxCompletionTokens = openai.Int(64)
	params.User = openai.String("sdk-user")
	res, err := c.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ID, "chatcmpl-") || res.Object != "chat.completion" || res.Model != "openclaw/main" || res.Created == 0 {
		t.Errorf("completion %s %s %s %d", res.ID, res.Object, res.Model, res.Created)
	}
	if len(res.Choices) != 1 || res.Choices[0].Message.Content != "Hello from openclaw" || res.Choices[0].FinishReason != "stop" || res.Choices[0].Message.Role != "assistant" {
		t.Errorf("choices %+v", res.Choices)
	}
	// prompt = input + cache reads (5 + 2), completion = 3 deltas.
	if res.Usage.PromptTokens != 7 || res.Usage.CompletionTokens != 3 || res.Usage.TotalTokens != 10 {
		t.Errorf("usage %+v", res.Usage)
	}
	if got == nil || got.Params.Temperature == nil || *got.Params.Temperature != 0.5 || got.Params.MaxTokens == nil || *got.Params.MaxTokens != 64 {
		t.Errorf("parameters did not reach the model: %+v", got)
	}
	if !strings.HasSuffix(got.System, "\n\nBe brief.") || got.Messages[len(got.Messages)-1].Content != "hi there" {
		t.Errorf("prompt: system %q, messages %+v", got.System, got.Messages)
	}
}

func TestSDKStreaming(t *testing.T) {
	s, _ := newTestServer(t, replyWith("Hello ", "from ", "a ", "stream"), nil)
	srv, _ := sdkGateway(t, s)
	c := sdkClient(srv, "t0k")

	for _, usage := range []bool{false, true} {
		params := sdkParams("openclaw", "hi")
		if usage {
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		}
		stream := c.Chat.Completions.NewStreaming(context.Background(), params)
		acc := openai.ChatCompletionAccumulator{}
		var chunks, finished int
		var content string
		for stream.Next() {
			chunk := stream.Current()
			if !acc.AddChunk(chunk) {
				t.Fatalf("the accumulator refused chunk %d: %s", chunks, chunk.RawJSON())
			}
			chunks++
			if c, ok := acc.JustFinishedContent(); ok {
				finished++
				content = c
			}
			if chunk.ID != acc.ID || chunk.Model != "openclaw" {
				t.Errorf("chunk id %s model %s, first id %s", chunk.ID, chunk.Model, acc.ID)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		// role, 4 deltas, finish (and usage).
		want := 6
		if usage {
			want = 7
		}
		if chunks != want || finished != 1 || content != "Hello from a stream" {
			t.Errorf("usage=%v: %d chunks, content finished %d times: %q", usage, chunks, finished, content)
		}
		if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != "Hello from a stream" || acc.Choices[0].FinishReason != "stop" {
			t.Errorf("accumulated %+v", acc.Choices)
		}
		if wantTotal := int64(0); usage {
			wantTotal = 11
			if acc.Usage.TotalTokens != wantTotal || acc.Usage.PromptTokens != 7 || acc.Usage.CompletionTokens != 4 {
				t.Errorf("usage %+v", acc.Usage)
			}
		} else if acc.Usage.TotalTokens != 0 {
			t.Errorf("usage without include_usage: %+v", acc.Usage)
		}
	}
}

// TestSDKStreamError: a failure after the stream started reaches the SDK as
// its stream error, with the gateway's message.
func TestSDKStreamError(t *testing.T) {
	s, _ := newTestServer(t, fakeProvider{fn: func(_ context.Context, _ *provider.Request, onDelta func(string)) (*provider.Response, error) {
		onDelta("partial ")
		return nil, &provider.Error{Kind: provider.ErrBadResponse, Provider: "fake", Model: "m", Message: "stream cut"}
	}}, nil)
	srv, _ := sdkGateway(t, s)
	c := sdkClient(srv, "t0k")
	stream := c.Chat.Completions.NewStreaming(context.Background(), sdkParams("openclaw", "hi"))
	n := 0
	for stream.Next() {
		n++
	}
	var se *ssestream.StreamError
	if !errors.As(stream.Err(), &se) || !strings.Contains(se.Message, `"message":"upstream provider error"`) || n != 2 {
		t.Errorf("after %d chunks: %v", n, stream.Err())
	}
}

// sdkError asserts err is the SDK's API error with these fields.
func sdkError(t *testing.T, err error, status int, typ, msg, param string) *openai.Error {
	t.Helper()
	var ae *openai.Error
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an *openai.Error", err)
	}
	if ae.StatusCode != status || ae.Type != typ || ae.Message != msg || ae.Param != param {
		t.Errorf("got %d %q %q param %q, want %d %q %q param %q", ae.StatusCode, ae.Type, ae.Message, ae.Param, status, typ, msg, param)
	}
	return ae
}

func TestSDKErrors(t *testing.T) {
	s, _ := newTestServer(t, replyWith("x"), func(c *config.Config) {
		c.Gateway.Auth.RateLimit = config.RateLimit{MaxAttempts: 2, WindowMs: 60000, LockoutMs: 60000, ExemptLoopback: false}
	})
	srv, n := sdkGateway(t, s)
	ctx := context.Background()

	// 400: invalid model, a bad parameter.
	_, err := sdkClient(srv, "t0k").Chat.Completions.New(ctx, sdkParams("gpt-4o", "hi"))
	sdkError(t, err, 400, "invalid_request_error", "Invalid `model`. Use `openclaw` or `openclaw/<agentId>`.", "model")
	params := sdkParams("openclaw", "hi")
	params.Temperature = openai.Float(3)
	_, err = sdkClient(srv, "t0k").Chat.Completions.New(ctx, params)
	sdkError(t, err, 400, "invalid_request_error", "temperature: must be between 0 and 2, received 3", "temperature")

	// 401 twice (a 401 is not retried), which locks this client out.
	n.Store(0)
	for range 2 {
		_, err = sdkClient(srv, "wrong").Chat.Completions.New(ctx, sdkParams("openclaw", "hi"))
		sdkError(t, err, 401, "unauthorized", "Unauthorized", "")
	}
	if n.Load() != 2 {
		t.Errorf("%d requests for two 401s", n.Load())
	}

	// 429 while locked, even with the right key. The SDK retries 429s by
	// default (twice); x-should-retry: false makes it stop at once.
	n.Store(0)
	_, err = sdkClient(srv, "t0k").Chat.Completions.New(ctx, sdkParams("openclaw", "hi"))
	ae := sdkError(t, err, 429, "rate_limited", "Too many failed authentication attempts. Please try again later.", "")
	if ae.Response.Header.Get("Retry-After") != "60" || ae.Response.Header.Get("X-Should-Retry") != "false" {
		t.Errorf("lockout headers %v", ae.Response.Header)
	}
	if n.Load() != 1 {
		t.Errorf("the SDK sent %d requests for a lockout, want 1", n.Load())
	}
	// The same through the streaming call.
	n.Store(0)
	c := sdkClient(srv, "t0k")
	stream := c.Chat.Completions.NewStreaming(ctx, sdkParams("openclaw", "hi"))
	for stream.Next() {
	}
	sdkError(t, stream.Err(), 429, "rate_limited", "Too many failed authentication attempts. Please try again later.", "")
	if n.Load() != 1 {
		t.Errorf("the SDK sent %d streaming requests for a lockout, want 1", n.Load())
	}
}

// TestSDKUpstreamRateLimit: an upstream 429 is the SDK's rate-limit error;
// without x-should-retry the SDK may retry it (after Retry-After).
func TestSDKUpstreamRateLimit(t *testing.T) {
	s, _ := newTestServer(t, failWith(&provider.Error{Kind: provider.ErrRateLimit, Provider: "fake", Model: "m", Status: 429, RetryAfter: time.Second}), nil)
	srv, n := sdkGateway(t, s)
	_, err := sdkClient(srv, "t0k", option.WithMaxRetries(0)).Chat.Completions.New(context.Background(), sdkParams("openclaw", "hi"))
	ae := sdkError(t, err, 429, "rate_limit_error", "upstream provider rate limit reached; try again later", "")
	if ae.Response.Header.Get("Retry-After") != "1" || ae.Response.Header.Get("X-Should-Retry") != "" {
		t.Errorf("headers %v", ae.Response.Header)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests", n.Load())
	}
}
