package openai

import (
	"strconv"
	"unicode/utf8"
)

// The stream hot path writes one event per model delta; these appenders
// build the JSON by hand, byte for byte what encoding/json would produce
// (HTML-escaped strings included), without reflection or a buffer per event.

const hexDigits = "0123456789abcdef"

// safe reports the ASCII bytes encoding/json writes as is.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = true
	}
	for _, b := range `"\<>&` {
		t[b] = false
	}
	return t
}()

// appendString appends s as a JSON string, escaped like encoding/json:
// invalid UTF-8 becomes \ufffd, and <, >, &, U+2028, U+2029 are escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

// appendChunkJSON appends c as JSON with the field order and shape of the
// Chunk struct tags; nil Choices are written as [] (the usage chunk).
func appendChunkJSON(dst []byte, c *Chunk) []byte {
	obj := c.Object
	if obj == "" {
		obj = ObjectChunk
	}
	dst = appendChunkHead(dst, c.ID, obj, c.Created, c.Model)
	dst = append(dst, `,"choices":[`...)
	for i := range c.Choices {
		if i > 0 {
			dst = append(dst, ',')
		}
		ch := &c.Choices[i]
		dst = append(dst, `{"index":`...)
		dst = strconv.AppendInt(dst, int64(ch.Index), 10)
		dst = append(dst, `,"delta":`...)
		dst = appendDelta(dst, &ch.Delta)
		dst = append(dst, `,"finish_reason":`...)
		if ch.FinishReason == nil {
			dst = append(dst, "null"...)
		} else {
			dst = appendString(dst, *ch.FinishReason)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if c.Usage != nil {
		dst = append(dst, `,"usage":`...)
		dst = appendUsage(dst, *c.Usage)
	}
	return append(dst, '}')
}

// appendChunkHead appends the opening brace and the fields every chunk of a
// stream shares.
func appendChunkHead(dst []byte, id, object string, created int64, model string) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"object":`...)
	dst = appendString(dst, object)
	dst = append(dst, `,"created":`...)
	dst = strconv.AppendInt(dst, created, 10)
	dst = append(dst, `,"model":`...)
	return appendString(dst, model)
}

func appendDelta(dst []byte, d *Delta) []byte {
	dst = append(dst, '{')
	n := len(dst)
	if d.Role != "" {
		dst = append(dst, `"role":`...)
		dst = appendString(dst, d.Role)
	}
	if d.Content != "" {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, `"content":`...)
		dst = appendString(dst, d.Content)
	}
	if len(d.ToolCalls) > 0 {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, `"tool_calls":`...)
		dst = appendToolCalls(dst, d.ToolCalls)
	}
	return append(dst, '}')
}

func appendToolCalls(dst []byte, calls []ToolCall) []byte {
	dst = append(dst, '[')
	for i := range calls {
		if i > 0 {
			dst = append(dst, ',')
		}
		tc := &calls[i]
		dst = append(dst, '{')
		n := len(dst)
		if tc.Index != nil {
			dst = append(dst, `"index":`...)
			dst = strconv.AppendInt(dst, int64(*tc.Index), 10)
		}
		if tc.ID != "" {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = append(dst, `"id":`...)
			dst = appendString(dst, tc.ID)
		}
		if tc.Type != "" {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = append(dst, `"type":`...)
			dst = appendString(dst, tc.Type)
		}
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, `"function":{`...)
		if tc.Function.Name != "" {
			dst = append(dst, `"name":`...)
			dst = appendString(dst, tc.Function.Name)
			dst = append(dst, ',')
		}
		dst = append(dst, `"arguments":`...)
		dst = appendString(dst, tc.Function.Arguments)
		dst = append(dst, "}}"...)
	}
	return append(dst, ']')
}

func appendUsage(dst []byte, u Usage) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.PromptTokens), 10)
	dst = append(dst, `,"completion_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.CompletionTokens), 10)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.TotalTokens), 10)
	return append(dst, '}')
}
