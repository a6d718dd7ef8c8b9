package provider

import (
	"context"
	"strconv"
	"strings"
)

// echo is the offline model: it answers with the last turn, deterministically,
// in several deltas, with word counts as token usage. Demos and tests use it.
type echo struct{ id string }

// EchoReply is the text the echo model answers req with.
func EchoReply(req *Request) string {
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == "tool" {
		m := req.Messages[n-1]
		return "Echo: tool " + m.ToolName + " returned: " + m.Content
	}
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "user" {
			continue
		}
		if m.Content == "" && len(m.Images) > 0 {
			return "Echo: [" + strconv.Itoa(len(m.Images)) + " image(s)]"
		}
		return "Echo: " + m.Content
	}
	return "Echo: "
}

// splitAfterSpaces cuts s after every space: "Echo: hi there" is
// "Echo: ", "hi ", "there".
func splitAfterSpaces(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func countWords(s string) int { return len(strings.Fields(s)) }

// Stream implements Provider.
func (e *echo) Stream(ctx context.Context, req *Request, onDelta func(string)) (*Response, error) {
	model := req.Model
	if model == "" {
		model = "echo"
	}
	in := countWords(req.System)
	for _, m := range req.Messages {
		in += countWords(m.Content)
	}
	reply := EchoReply(req)
	for _, d := range splitAfterSpaces(reply) {
		if err := ctx.Err(); err != nil {
			return nil, &Error{Kind: ErrCanceled, Provider: e.id, Model: model, Message: "canceled: " + err.Error(), Err: err}
		}
		if onDelta != nil {
			onDelta(d)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Kind: ErrCanceled, Provider: e.id, Model: model, Message: "canceled: " + err.Error(), Err: err}
	}
	return &Response{
		Text:       reply,
		StopReason: StopEnd,
		Usage:      Usage{Input: in, Output: countWords(reply)},
		Model:      model,
	}, nil
}
