package openai

import (
	"crypto/rand"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Object names of the wire.
const (
	ObjectCompletion = "chat.completion"
	ObjectChunk      = "chat.completion.chunk"
	ObjectModel      = "model"
	ObjectList       = "list"
	// DefaultModel is the model echoed when the request named none.
	DefaultModel = "openclaw"
)

// Finish reasons.
const (
	FinishStop      = "stop"
	FinishLength    = "length"
	FinishToolCalls = "tool_calls"
)

// NewCompletionID returns a fresh "chatcmpl-<random>" id (130 random bits).
func NewCompletionID() string {
	return "chatcmpl-" + rand.Text()
}

// Usage is the token count of a completion.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// UsageFrom converts a provider usage (summed over every model call of a
// run): prompt tokens are input plus cache reads.
func UsageFrom(u provider.Usage) Usage {
	p := u.Input + u.CacheRead
	return Usage{PromptTokens: p, CompletionTokens: u.Output, TotalTokens: p + u.Output}
}

// ToolCall is a tool call on the wire. Index is set in stream deltas only.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function called and its JSON arguments.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// WireToolCalls converts provider tool calls; indexed numbers them for a
// stream delta. It returns nil for none.
func WireToolCalls(calls []provider.ToolCall, indexed bool) []ToolCall {
	if len(calls) == 0 {
		return nil
	}
	out := make([]ToolCall, len(calls))
	idx := make([]int, len(calls))
	for i, c := range calls {
		out[i] = ToolCall{ID: c.ID, Type: "function", Function: FunctionCall{Name: c.Name, Arguments: c.Arguments}}
		if indexed {
			idx[i] = i
			out[i].Index = &idx[i]
		}
	}
	return out
}

// ChatCompletion is the response of a non-streaming request.
type ChatCompletion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   Usage    `json:"usage"`
}

// Choice is the one choice of a ChatCompletion.
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
}

// ResponseMessage is the assistant's reply. Content is null only when the
// reply is tool calls without text.
type ResponseMessage struct {
	Role      string     `json:"role"`
	Content   *string    `json:"content"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// Reply is the outcome of a run, in the terms the wire needs.
type Reply struct {
	Text      string
	ToolCalls []provider.ToolCall
	// FinishReason is stop, length or tool_calls; empty means tool_calls
	// when there are ToolCalls, else stop.
	FinishReason string
	Usage        provider.Usage
}

// NewChatCompletion builds the response body. An empty model echoes
// DefaultModel; an empty reply without tool calls gets NoResponseText.
func NewChatCompletion(id, model string, created int64, r Reply) *ChatCompletion {
	if model == "" {
		model = DefaultModel
	}
	msg := ResponseMessage{Role: "assistant", ToolCalls: WireToolCalls(r.ToolCalls, false)}
	text := r.Text
	if text == "" && len(r.ToolCalls) == 0 {
		text = NoResponseText
	}
	if text != "" {
		msg.Content = &text
	}
	return &ChatCompletion{
		ID: id, Object: ObjectCompletion, Created: created, Model: model,
		Choices: []Choice{{Index: 0, Message: msg, FinishReason: finishReason(r.FinishReason, len(r.ToolCalls) > 0)}},
		Usage:   UsageFrom(r.Usage),
	}
}

func finishReason(r string, calls bool) string {
	switch {
	case r != "":
		return r
	case calls:
		return FinishToolCalls
	}
	return FinishStop
}

// Chunk is one event of a stream. FinishReason is null until the finish
// chunk; Usage is set only on the usage chunk, whose Choices are empty.
type Chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *Usage        `json:"usage,omitempty"`
}

// ChunkChoice is the one choice of a Chunk.
type ChunkChoice struct {
	Index        int     `json:"index"`
	Delta        Delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

// Delta is what a chunk adds to the reply.
type Delta struct {
	Role      string     `json:"role,omitempty"`
	Content   string     `json:"content,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// AppendChunk appends c as one server-sent event, "data: <json>\n\n". The
// JSON is what json.Marshal(c) gives, except that nil Choices are written
// as [] and an empty Object as "chat.completion.chunk".
func AppendChunk(dst []byte, c *Chunk) []byte {
	dst = append(dst, "data: "...)
	dst = appendChunkJSON(dst, c)
	return append(dst, "\n\n"...)
}

// AppendDone appends the event that ends every stream.
func AppendDone(dst []byte) []byte {
	return append(dst, "data: [DONE]\n\n"...)
}

// AppendStreamError appends the event of a failure after the stream
// started: data: {"error":{"message","type"}}. [DONE] follows it.
func AppendStreamError(dst []byte, e *Error) []byte {
	dst = append(dst, `data: {"error":{"message":`...)
	dst = appendString(dst, e.Message)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, e.Type)
	return append(dst, "}}\n\n"...)
}

// Stream writes the events of one streamed completion; every chunk shares
// its id, created time and model, encoded once on first use (so set the
// fields before that). Its methods append to dst and return it, so the
// caller can reuse one buffer for the whole stream. A Stream is not safe for
// concurrent use.
type Stream struct {
	ID      string
	Created int64
	Model   string
	head    []byte // `data: {"id":..,"object":..,"created":..,"model":..`
}

// NewStream starts a stream; an empty model echoes DefaultModel.
func NewStream(id, model string, created int64) *Stream {
	if model == "" {
		model = DefaultModel
	}
	return &Stream{ID: id, Created: created, Model: model}
}

func (s *Stream) prefix(dst []byte) []byte {
	if s.head == nil {
		s.head = appendChunkHead([]byte("data: "), s.ID, ObjectChunk, s.Created, s.Model)
	}
	return append(dst, s.head...)
}

// AppendRole appends the first chunk, delta {"role":"assistant"}.
func (s *Stream) AppendRole(dst []byte) []byte {
	dst = s.prefix(dst)
	return append(dst, `,"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}`+"\n\n"...)
}

// AppendDelta appends the chunk of one text delta as it came from the model.
func (s *Stream) AppendDelta(dst []byte, text string) []byte {
	dst = s.prefix(dst)
	dst = append(dst, `,"choices":[{"index":0,"delta":{"content":`...)
	dst = appendString(dst, text)
	return append(dst, `},"finish_reason":null}]}`+"\n\n"...)
}

// AppendToolCalls appends the model's tool calls as OpenAI streams them,
// so SDK accumulators see each call open and finish: per call, a chunk that
// opens it (index, id, type, name, empty arguments), then one with its
// arguments.
func (s *Stream) AppendToolCalls(dst []byte, calls []provider.ToolCall) []byte {
	for i, c := range calls {
		idx := i
		open := []ToolCall{{Index: &idx, ID: c.ID, Type: "function", Function: FunctionCall{Name: c.Name}}}
		args := []ToolCall{{Index: &idx, Function: FunctionCall{Arguments: c.Arguments}}}
		for _, tc := range [][]ToolCall{open, args} {
			dst = s.prefix(dst)
			dst = append(dst, `,"choices":[{"index":0,"delta":{"tool_calls":`...)
			dst = appendToolCalls(dst, tc)
			dst = append(dst, `},"finish_reason":null}]}`+"\n\n"...)
		}
	}
	return dst
}

// AppendFinish appends the one chunk with an empty delta and the finish
// reason (stop, length or tool_calls; empty means stop).
func (s *Stream) AppendFinish(dst []byte, reason string) []byte {
	dst = s.prefix(dst)
	dst = append(dst, `,"choices":[{"index":0,"delta":{},"finish_reason":`...)
	dst = appendString(dst, finishReason(reason, false))
	return append(dst, "}]}\n\n"...)
}

// AppendUsage appends the usage chunk (only with
// stream_options.include_usage): no choices, the run's usage.
func (s *Stream) AppendUsage(dst []byte, u provider.Usage) []byte {
	dst = s.prefix(dst)
	dst = append(dst, `,"choices":[],"usage":`...)
	dst = appendUsage(dst, UsageFrom(u))
	return append(dst, "}\n\n"...)
}

// Model is one entry of GET /v1/models.
type Model struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Created    int64  `json:"created"`
	OwnedBy    string `json:"owned_by"`
	Permission []any  `json:"permission"`
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// NewModel is the entry for one model id.
func NewModel(id string) Model {
	return Model{ID: id, Object: ObjectModel, Created: 0, OwnedBy: "openclaw", Permission: []any{}}
}

// NewModelList lists "openclaw", "openclaw/default" and "openclaw/<id>" for
// each agent id, in that order, without duplicates.
func NewModelList(agentIDs []string) ModelList {
	l := ModelList{Object: ObjectList, Data: []Model{NewModel(DefaultModel), NewModel(DefaultModel + "/default")}}
	seen := map[string]bool{"openclaw": true, "openclaw/default": true}
	for _, a := range agentIDs {
		id := DefaultModel + "/" + a
		if a == "" || seen[id] {
			continue
		}
		seen[id] = true
		l.Data = append(l.Data, NewModel(id))
	}
	return l
}

// Find returns the entry with exactly this id (GET /v1/models/{id}).
func (l ModelList) Find(id string) (Model, bool) {
	for _, m := range l.Data {
		if m.ID == id {
			return m, true
		}
	}
	return Model{}, false
}
