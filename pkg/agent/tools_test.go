package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// scripted answers the i-th model call with the i-th response.
func scripted(resps ...*provider.Response) func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
	i := 0
	return func(_ context.Context, _ *provider.Request, d func(string)) (*provider.Response, error) {
		r := resps[min(i, len(resps)-1)]
		i++
		if r.Text != "" {
			d(r.Text)
		}
		if r.StopReason == "" {
			r.StopReason = provider.StopEnd
			if len(r.ToolCalls) > 0 {
				r.StopReason = provider.StopToolCalls
			}
		}
		return r, nil
	}
}

func call(id, name, args string) provider.ToolCall {
	return provider.ToolCall{ID: id, Name: name, Arguments: args}
}

func TestToolLoopRunsBuiltinTools(t *testing.T) {
	f := &fakeProvider{answer: scripted(
		&provider.Response{Text: "Writing.", ToolCalls: []provider.ToolCall{call("c1", "write", `{"path":"notes/a.txt","content":"hello"}`)}, Usage: provider.Usage{Input: 10, Output: 5}},
		&provider.Response{ToolCalls: []provider.ToolCall{call("c2", "read", `{"path":"notes/a.txt"}`), call("c3", "read", `{"path":"../../etc/passwd"}`)}, Usage: provider.Usage{Input: 20, Output: 5}},
		&provider.Response{Text: "Done.", Usage: provider.Usage{Input: 30, Output: 2}},
	)}
	r, dir := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	var tools []string
	res, err := r.Run(context.Background(), Request{Message: "write a note", OnEvent: func(ev Event) {
		if ev.Type == EventToolEnd {
			tools = append(tools, ev.Tool.Name+":"+map[bool]string{true: "error", false: "ok"}[ev.ToolError])
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "workspace", "notes", "a.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("file in workspace: %q, %v", b, err)
	}
	if got := strings.Join(tools, ","); got != "write:ok,read:ok,read:error" {
		t.Fatalf("tool events %s", got)
	}
	if res.Text != "Writing.\n\nDone." || res.StopReason != provider.StopEnd {
		t.Fatalf("text %q stop %s", res.Text, res.StopReason)
	}
	if res.Usage.Input != 60 || res.Usage.Output != 12 {
		t.Fatalf("usage %+v not summed over the calls", res.Usage)
	}
	reqs := f.requests()
	last := reqs[2].Messages
	// user, assistant(write), tool, assistant(read x2), tool, tool
	if len(last) != 6 || last[2].Role != "tool" || last[2].ToolCallID != "c1" || last[4].Content != "hello" || !last[5].IsError {
		t.Fatalf("third call's messages: %+v", last)
	}
	if !strings.Contains(last[5].Content, "escapes the workspace") {
		t.Fatalf("escape result %q", last[5].Content)
	}
	// The next run's history replays the whole exchange, tools included.
	f.answer = reply("ok")
	if _, err := r.Run(context.Background(), Request{Message: "again"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()[3].Messages); n != 8 {
		t.Fatalf("history has %d messages, want 8", n)
	}
}

func TestToolPolicyIsEnforced(t *testing.T) {
	f := &fakeProvider{answer: scripted(
		&provider.Response{ToolCalls: []provider.ToolCall{call("c1", "exec", `{"command":"touch pwned"}`)}},
		&provider.Response{Text: "ok"},
	)}
	cfg := mockConfig(config.ModelRef{Primary: "fake/m"})
	cfg.Tools.Profile = "readonly"
	r, dir := newTestRunner(t, cfg, f)
	if _, err := r.Run(context.Background(), Request{Message: "x"}); err != nil {
		t.Fatal(err)
	}
	var offered []string
	for _, d := range f.requests()[0].Tools {
		offered = append(offered, d.Name)
	}
	if got := strings.Join(offered, ","); got != "read,ls" {
		t.Fatalf("offered %s, want read,ls", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "workspace", "pwned")); err == nil {
		t.Fatal("a tool outside the policy ran")
	}
	msgs := f.requests()[1].Messages
	if m := msgs[len(msgs)-1]; !m.IsError || !strings.Contains(m.Content, `tool "exec" is not allowed`) {
		t.Fatalf("result of the denied call: %+v", m)
	}
}

func TestToolIterationLimit(t *testing.T) {
	f := &fakeProvider{answer: scripted(&provider.Response{ToolCalls: []provider.ToolCall{call("c", "ls", `{}`)}})}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	res, err := r.Run(context.Background(), Request{Message: "loop forever"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != MaxToolIterations {
		t.Fatalf("%d model calls, want the limit %d", n, MaxToolIterations)
	}
	if res.StopReason != provider.StopLength || !strings.Contains(res.Text, "stopped after 16 tool iterations") {
		t.Fatalf("stop %s text %q", res.StopReason, res.Text)
	}
}

func TestClientToolsEndTheRunAndResultsContinueIt(t *testing.T) {
	weather := provider.ToolDef{Name: "get_weather", Parameters: []byte(`{"type":"object"}`)}
	f := &fakeProvider{answer: scripted(
		&provider.Response{ToolCalls: []provider.ToolCall{call("w1", "get_weather", `{"city":"Oslo"}`), call("w2", "get_weather", `{"city":"Rome"}`)}},
		&provider.Response{Text: "Oslo is cold, Rome is warm."},
	)}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	key := "agent:main:openai-user:bob"
	res, err := r.Run(context.Background(), Request{Message: "weather?", SessionKey: key, ClientTools: []provider.ToolDef{weather}})
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != provider.StopToolCalls || len(res.ToolCalls) != 2 || res.ToolCalls[1].ID != "w2" {
		t.Fatalf("result %+v", res)
	}
	if len(f.requests()) != 1 {
		t.Fatal("the runner ran a client tool itself")
	}
	res, err = r.Run(context.Background(), Request{
		Message: "Tool:get_weather: cold\nTool:get_weather: warm", SessionKey: key, ClientTools: []provider.ToolDef{weather},
		ToolResults: []provider.Message{{Role: "tool", ToolCallID: "w1", Content: "cold"}, {Role: "tool", ToolCallID: "w2", Content: "warm"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.requests()[1].Messages
	// user, assistant(2 calls), tool, tool: real results, not flattened text.
	if len(msgs) != 4 || msgs[1].Role != "assistant" || len(msgs[1].ToolCalls) != 2 ||
		msgs[2].Role != "tool" || msgs[2].ToolCallID != "w1" || msgs[2].ToolName != "get_weather" || msgs[3].Content != "warm" {
		t.Fatalf("messages after tool results: %+v", msgs)
	}
	if res.Text != "Oslo is cold, Rome is warm." {
		t.Fatalf("text %q", res.Text)
	}
}

func TestUnansweredClientCallsGetAResult(t *testing.T) {
	f := &fakeProvider{answer: scripted(
		&provider.Response{ToolCalls: []provider.ToolCall{call("w1", "get_weather", `{}`)}},
		&provider.Response{Text: "fine"},
	)}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	key := "agent:main:s"
	tool := []provider.ToolDef{{Name: "get_weather"}}
	if _, err := r.Run(context.Background(), Request{Message: "a", SessionKey: key, ClientTools: tool}); err != nil {
		t.Fatal(err)
	}
	// A new user message instead of the tool result: the open call is closed.
	if _, err := r.Run(context.Background(), Request{Message: "never mind", SessionKey: key}); err != nil {
		t.Fatal(err)
	}
	msgs := f.requests()[1].Messages
	if len(msgs) != 4 || msgs[2].Role != "tool" || !msgs[2].IsError || msgs[3].Content != "never mind" {
		t.Fatalf("messages: %+v", msgs)
	}
}
