package provider

import (
	"context"
	"errors"
	"testing"
)

func TestEcho(t *testing.T) {
	img := Image{MIME: "image/png", Data: []byte("x")}
	tests := []struct {
		name       string
		req        Request
		wantDeltas []string
		want       Response
	}{
		{
			name:       "one turn",
			req:        Request{Model: "echo", Messages: []Message{{Role: "user", Content: "hi there"}}},
			wantDeltas: []string{"Echo: ", "hi ", "there"},
			want:       Response{Text: "Echo: hi there", StopReason: StopEnd, Model: "echo", Usage: Usage{Input: 2, Output: 3}},
		},
		{
			name: "history and system count as input, the last user turn is echoed",
			req: Request{Model: "any-model", System: "you are echo", Messages: []Message{
				{Role: "user", Content: "first one"},
				{Role: "assistant", Content: "Echo: first one"},
				{Role: "user", Content: "second"},
			}},
			wantDeltas: []string{"Echo: ", "second"},
			want:       Response{Text: "Echo: second", StopReason: StopEnd, Model: "any-model", Usage: Usage{Input: 3 + 2 + 3 + 1, Output: 2}},
		},
		{
			name:       "image only",
			req:        Request{Messages: []Message{{Role: "user", Images: []Image{img, img}}}},
			wantDeltas: []string{"Echo: ", "[2 ", "image(s)]"},
			want:       Response{Text: "Echo: [2 image(s)]", StopReason: StopEnd, Model: "echo", Usage: Usage{Input: 0, Output: 3}},
		},
		{
			name: "tool result",
			req: Request{Model: "e", Messages: []Message{
				{Role: "user", Content: "list"},
				{Role: "assistant", ToolCalls: []ToolCall{{ID: "1", Name: "ls", Arguments: "{}"}}},
				{Role: "tool", ToolCallID: "1", ToolName: "ls", Content: "a.txt"},
			}},
			wantDeltas: []string{"Echo: ", "tool ", "ls ", "returned: ", "a.txt"},
			want:       Response{Text: "Echo: tool ls returned: a.txt", StopReason: StopEnd, Model: "e", Usage: Usage{Input: 2, Output: 5}},
		},
		{
			name:       "multi-line text keeps its newlines",
			req:        Request{Model: "e", Messages: []Message{{Role: "user", Content: "a\nb  c"}}},
			wantDeltas: []string{"Echo: ", "a\nb ", " ", "c"},
			want:       Response{Text: "Echo: a\nb  c", StopReason: StopEnd, Model: "e", Usage: Usage{Input: 3, Output: 4}},
		},
		{
			name:       "no user turn",
			req:        Request{Model: "e"},
			wantDeltas: []string{"Echo: "},
			want:       Response{Text: "Echo: ", StopReason: StopEnd, Model: "e", Usage: Usage{Output: 1}},
		},
	}
	p := mustNew(t, Config{API: APIEcho})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, deltas, err := run(p, context.Background(), &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "deltas", deltas, tt.wantDeltas)
			diff(t, "response", *resp, tt.want)
		})
	}
}

func TestEchoCanceled(t *testing.T) {
	p := mustNew(t, Config{ID: "echo", API: APIEcho})
	ctx, cancel := context.WithCancel(context.Background())
	var deltas []string
	_, err := p.Stream(ctx, &Request{Model: "echo", Messages: []Message{{Role: "user", Content: "one two three"}}}, func(s string) {
		deltas = append(deltas, s)
		cancel()
	})
	e, ok := AsError(err)
	if !ok || e.Kind != ErrCanceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want canceled", err)
	}
	diff(t, "deltas before the cancel", deltas, []string{"Echo: "})
}
