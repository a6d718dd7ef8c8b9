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

// line is a Record as stored. More marks every line of a multi-record
// Append but the last: a write cut short by a crash can leave some of an
// Append's lines whole, and those must count as not written, so that an
// Append is all or nothing. "more" is encoded last, which repairTail relies
// on.
type line struct {
	Record
	More bool `json:"more,omitempty"`
}

// moreSuffix ends (before the newline) every line with More set.
const moreSuffix = `,"more":true}`

// encodeRecords renders recs as JSONL, one line each, ready for a single
// write. Zero timestamps become now.
func encodeRecords(recs []Record, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // transcripts are read by people and tools, not browsers
	for i := range recs {
		l := line{Record: recs[i], More: i < len(recs)-1}
		if !validType(l.Type) {
			return nil, fmt.Errorf("record %d has type %q: use user, assistant, tool_call, tool_result or error", i, l.Type)
		}
		if l.TS.IsZero() {
			l.TS = now
		}
		l.TS = l.TS.UTC()
		if err := enc.Encode(&l); err != nil { // Encode ends each value with '\n'
			return nil, fmt.Errorf("encode record %d: %w", i, err)
		}
	}
	return buf.Bytes(), nil
}

// parseRecords reads a transcript. Only whole Appends count: a last line
// without its newline is a write in progress or torn by a crash, and lines
// marked "more" not followed by the rest of their Append are an Append whose
// last line is missing; both are ignored. A line that is not a JSON object
// (garbage left by a power loss) is skipped: losing one record of context is
// better than a session nobody can continue. Such a line also ends an
// Append in progress unfinished, since an Append's lines are one write: a
// later Append must not complete it.
//
// A line counts as marked only when it ends with moreSuffix, the test
// repairTail makes without decoding, so that the repair and the reader
// always agree on which records count.
func parseRecords(data []byte) []Record {
	var recs []Record
	pending := 0 // records at the end of recs whose Append is not complete yet
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // torn last line
		}
		text := data[:i]
		data = data[i+1:]
		var l line
		if len(bytes.TrimSpace(text)) == 0 || json.Unmarshal(text, &l) != nil {
			recs, pending = recs[:len(recs)-pending], 0
			continue
		}
		recs = append(recs, l.Record)
		if l.More && bytes.HasSuffix(text, []byte(moreSuffix)) {
			pending++
		} else {
			pending = 0
		}
	}
	return recs[:len(recs)-pending]
}
