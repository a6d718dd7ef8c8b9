// Package agent is the agent runner: the only code that runs an agent turn.
// The CLI, the HTTP handlers and the WebSocket methods translate their input
// into a Request, call Runner.Run, and render the Events it emits.
package agent

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Request is one agent turn.
type Request struct {
	RunID      string // "" means a new random id
	AgentID    string // "" means the default agent
	SessionKey string // "" means agent:<id>:<session.mainKey>
	SessionID  string // the id to give a session this run creates
	// NewSession says SessionKey was just made by session.RandomKey for
	// this run alone (a stateless request): nobody else can know it, so
	// the session takes no lock file and its index entry is written once,
	// when the turn is appended (session.AcquireOptions.Fresh).
	NewSession bool
	Message    string
	Images     []provider.Image
	// ExtraSystemPrompt is appended to the agent's system prompt.
	ExtraSystemPrompt string
	// Model overrides the agent's model ("provider/model"); it must be in the
	// agent's allowlist.
	Model       string
	ClientTools []provider.ToolDef
	ToolChoice  json.RawMessage
	// ToolResults answer the client tool calls the session's last run ended
	// with (role tool, ToolCallID set). When they do, they are the turn, as
	// real tool results; otherwise Message is.
	ToolResults []provider.Message
	Params      provider.Params
	// Timeout bounds the whole run; 0 means none.
	Timeout time.Duration
	// OnEvent receives the run's events in order, from the goroutine that
	// called Run. It must not block for long: it is on the stream path.
	OnEvent func(Event)
}

// EventType names a run event.
type EventType string

// Event types, in the order a run emits them.
const (
	EventStart     EventType = "lifecycle.start" // the run was accepted: session and model resolved
	EventModel     EventType = "model"           // a model call begins (again on fallback)
	EventDelta     EventType = "assistant.delta" // a piece of the assistant's text
	EventToolStart EventType = "tool.start"
	EventToolEnd   EventType = "tool.end"
	EventUsage     EventType = "usage" // after each model call, with the running total
	EventEnd       EventType = "lifecycle.end"
	EventError     EventType = "lifecycle.error"
)

// Event is something that happened during a run.
type Event struct {
	Type       EventType
	RunID      string
	Text       string             // EventDelta
	Tool       *provider.ToolCall // EventToolStart/End
	ToolResult string             // EventToolEnd
	ToolError  bool               // EventToolEnd: the result is an error
	Usage      provider.Usage     // EventUsage: the sum so far
	Provider   string             // EventStart, EventModel
	Model      string             // EventStart, EventModel
	SessionKey string             // EventStart
	SessionID  string             // EventStart
	Err        error              // EventError
}

// Payload is one piece of a run's output.
type Payload struct {
	Text string `json:"text"`
}

// Result is a finished run.
type Result struct {
	RunID      string
	AgentID    string
	SessionKey string
	SessionID  string
	Provider   string
	Model      string
	Text       string
	Payloads   []Payload
	Usage      provider.Usage      // summed over every model call of the run
	StopReason string              // provider.StopEnd | StopLength | StopToolCalls
	ToolCalls  []provider.ToolCall // client tool calls the run ended with
	ToolRuns   []ToolRun           // the agent's own tool calls, in order
	Duration   time.Duration
	// ModelTime is the time spent waiting on model calls, so that callers
	// can tell their own overhead apart (metrics).
	ModelTime time.Duration
}

// ToolRun is one call of a built-in tool during a run.
type ToolRun struct {
	Call    provider.ToolCall
	Result  string
	IsError bool
}

// ErrorKind classifies a failed run for the caller's status codes.
type ErrorKind string

// Kinds of Error.
const (
	ErrUnknownAgent ErrorKind = "unknown_agent" // the agent id is not configured
	ErrUnknownModel ErrorKind = "unknown_model" // the model override is not allowed or not known
	ErrBadRequest   ErrorKind = "bad_request"   // e.g. an image for a text-only model
	ErrTimeout      ErrorKind = "timeout"       // Request.Timeout elapsed
	ErrCanceled     ErrorKind = "canceled"      // the caller's context ended
	ErrModel        ErrorKind = "model"         // every model failed; Err is the last *provider.Error
	ErrInternal     ErrorKind = "internal"      // storage and other local failures
)

// Error is a failed run. Its message is safe to show a user: it names the
// problem, never a secret.
type Error struct {
	Kind ErrorKind
	Msg  string
	Err  error
	// AgentIDs lists the configured agents (ErrUnknownAgent).
	AgentIDs []string
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return string(e.Kind)
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(kind ErrorKind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Err: err, Msg: fmt.Sprintf(format, args...)}
}

// SplitModelRef splits "provider/model" at the first slash.
func SplitModelRef(ref string) (providerID, model string, ok bool) {
	p, m, found := strings.Cut(ref, "/")
	if !found || p == "" || m == "" {
		return "", "", false
	}
	return p, m, true
}
