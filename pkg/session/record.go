package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Record types.
const (
	TypeUser       = "user"        // the user's turn
	TypeAssistant  = "assistant"   // the model's reply (text and/or tool calls)
	TypeToolCall   = "tool_call"   // one tool call the runner is about to execute
	TypeToolResult = "tool_result" // the result of a tool call
	TypeError      = "error"       // a run that failed; Text says why
)

// Record is one line of a transcript.
type Record struct {
	Type       string              `json:"type"`
	TS         time.Time           `json:"ts"` // RFC3339Nano; Append fills a zero TS with the time now
	RunID      string              `json:"runId,omitempty"`
	Text       string              `json:"text,omitempty"`
	Images     int                 `json:"images,omitempty"` // how many images the turn carried (the data is not kept)
	ToolCalls  []provider.ToolCall `json:"toolCalls,omitempty"`
	ToolCallID string              `json:"toolCallId,omitempty"`
	ToolName   string              `json:"toolName,omitempty"`
	IsError    bool                `json:"isError,omitempty"`
	Usage      *provider.Usage     `json:"usage,omitempty"`
	Provider   string              `json:"provider,omitempty"`
	Model      string              `json:"model,omitempty"`
	StopReason string              `json:"stopReason,omitempty"`
}

func validType(t string) bool {
	switch t {
	case TypeUser, TypeAssistant, TypeToolCall, TypeToolResult, TypeError:
		return true
	}
	return false
}

// encodeRecords renders recs as JSONL, one line each, ready for a single
// write. Zero timestamps become now.
func encodeRecords(recs []Record, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // transcripts are read by people and tools, not browsers
	for i := range recs {
		r := recs[i]
		if !validType(r.Type) {
			return nil, fmt.Errorf("record %d has type %q: use user, assistant, tool_call, tool_result or error", i, r.Type)
		}
		if r.TS.IsZero() {
			r.TS = now
		}
		r.TS = r.TS.UTC()
		if err := enc.Encode(&r); err != nil { // Encode ends each value with '\n'
			return nil, fmt.Errorf("encode record %d: %w", i, err)
		}
	}
	return buf.Bytes(), nil
}

// parseRecords reads a transcript. Only whole lines count: a last line
// without its newline is a write in progress or torn by a crash and is
// ignored. A line that is not a JSON object (a torn line that a later append
// followed, garbage left by a power loss) is skipped too: losing one record
// of context is better than a session nobody can continue.
func parseRecords(data []byte) []Record {
	var recs []Record
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // torn last line
		}
		line := data[:i]
		data = data[i+1:]
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			continue
		}
		recs = append(recs, r)
	}
	return recs
}
