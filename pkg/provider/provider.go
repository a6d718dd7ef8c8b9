// Package provider talks to model servers. Every provider (OpenAI-compatible
// chat completions, Anthropic messages, the offline echo model) sits behind
// the one Provider interface, so the agent runner never sees a wire format.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Provider streams one model call.
type Provider interface {
	// Stream sends req and calls onDelta with each text delta as it arrives
	// (in order, never merged), then returns the whole response. onDelta may
	// be nil. A failure is returned as *Error.
	Stream(ctx context.Context, req *Request, onDelta func(text string)) (*Response, error)
}

// Request is one model call.
type Request struct {
	Model      string          // the model id at the provider, without "provider/"
	System     string          // the system prompt; empty for none
	Messages   []Message       // the conversation, oldest first, ending with the new turn
	Tools      []ToolDef       // tools offered to the model
	ToolChoice json.RawMessage // OpenAI shape: "auto" | "none" | "required" | {"type":"function","function":{"name":..}}
	Params     Params
}

// Message is one turn of the conversation.
type Message struct {
	Role       string     `json:"role"` // user | assistant | tool
	Content    string     `json:"content,omitempty"`
	Images     []Image    `json:"images,omitempty"`     // user turns only
	ToolCalls  []ToolCall `json:"toolCalls,omitempty"`  // assistant turns that called tools
	ToolCallID string     `json:"toolCallId,omitempty"` // tool turns: the call answered
	ToolName   string     `json:"toolName,omitempty"`   // tool turns: the tool's name
	IsError    bool       `json:"isError,omitempty"`    // tool turns: the result is an error
}

// Image is an image input, already decoded.
type Image struct {
	MIME string `json:"mime"`
	Data []byte `json:"data"`
}

// ToolDef is a function the model may call.
type ToolDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"` // JSON schema
}

// ToolCall is the model calling a tool. Arguments is a JSON text.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Params are generation parameters; nil or empty means the provider default.
type Params struct {
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"top_p,omitempty"`
	MaxTokens        *int            `json:"max_tokens,omitempty"`
	Stop             []string        `json:"stop,omitempty"`
	ResponseFormat   json.RawMessage `json:"response_format,omitempty"`
	Seed             *int64          `json:"seed,omitempty"`
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
}

// Stop reasons of a Response.
const (
	StopEnd       = "stop"
	StopLength    = "length"
	StopToolCalls = "tool_calls"
)

// Response is the outcome of one model call.
type Response struct {
	Text       string
	ToolCalls  []ToolCall
	StopReason string // StopEnd | StopLength | StopToolCalls
	Usage      Usage
	Model      string // as the provider reported it, else the requested id
}

// Usage counts tokens of one or more model calls.
type Usage struct {
	Input      int `json:"input"`
	Output     int `json:"output"`
	CacheRead  int `json:"cacheRead"`
	CacheWrite int `json:"cacheWrite"`
}

// Total is every token counted.
func (u Usage) Total() int { return u.Input + u.Output + u.CacheRead + u.CacheWrite }

// Add sums two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{u.Input + o.Input, u.Output + o.Output, u.CacheRead + o.CacheRead, u.CacheWrite + o.CacheWrite}
}

// ErrorKind classifies a failed model call.
type ErrorKind string

// Kinds of Error.
const (
	ErrAuth        ErrorKind = "auth"         // the provider rejected our credentials (401/403)
	ErrRateLimit   ErrorKind = "rate_limit"   // 429
	ErrOverloaded  ErrorKind = "overloaded"   // 5xx, 529
	ErrTimeout     ErrorKind = "timeout"      // no answer in time
	ErrConnection  ErrorKind = "connection"   // refused, reset, DNS
	ErrBadRequest  ErrorKind = "bad_request"  // 400/404/422: our request was wrong
	ErrBadResponse ErrorKind = "bad_response" // garbage, a stream cut short
	ErrCanceled    ErrorKind = "canceled"     // the caller's context ended
)

// Error is a failed model call. Message keeps the upstream's words for the
// logs; it is never shown to an HTTP client.
type Error struct {
	Kind       ErrorKind
	Provider   string
	Model      string
	Status     int           // the upstream HTTP status, 0 when none
	RetryAfter time.Duration // from a 429's Retry-After, 0 when none
	Message    string
	Err        error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s/%s: %s", e.Provider, e.Model, e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	} else if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether another model may succeed where this one failed:
// connection errors, timeouts, 429 and 5xx.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case ErrConnection, ErrTimeout, ErrRateLimit, ErrOverloaded:
		return true
	}
	return false
}

// AsError returns err as *Error if it is one.
func AsError(err error) (*Error, bool) {
	var pe *Error
	ok := errors.As(err, &pe)
	return pe, ok
}

// APIs a provider speaks.
const (
	APIOpenAI    = "openai-completions"
	APIAnthropic = "anthropic-messages"
	APIEcho      = "echo"
)

// Config builds a Provider.
type Config struct {
	ID      string // the provider id, e.g. "openai"
	API     string // APIOpenAI | APIAnthropic | APIEcho
	BaseURL string
	APIKey  string
	Headers map[string]string
	// Client is the HTTP client to use; nil means a shared default with a
	// tuned transport (keep-alive, connect timeout).
	Client *http.Client
	// ConnectTimeout bounds dialing; ReadTimeout bounds the wait for response
	// headers and every gap between stream chunks. Zero means the defaults
	// (10 s, 120 s).
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
}
