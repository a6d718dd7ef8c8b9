package openresponses

import (
	"crypto/rand"
	"encoding/json"
	"net/http"

	"github.com/openclaw/openclaw-go/pkg/openai"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// ObjectResponse is the object name of a response.
const ObjectResponse = "response"

// Statuses of a response and of its output items.
const (
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusIncomplete = "incomplete" // a client tool call to answer, or the output token limit
	StatusFailed     = "failed"
)

// Output item and content part types.
const (
	OutputMessage      = "message"
	OutputFunctionCall = "function_call"
	PartOutputText     = "output_text"
)

// NewResponseID returns a fresh "resp_<random>" id (130 random bits).
func NewResponseID() string { return "resp_" + rand.Text() }

// NewMessageID returns a fresh "msg_<random>" output item id.
func NewMessageID() string { return "msg_" + rand.Text() }

// NewFunctionCallID returns a fresh "fc_<random>" output item id.
func NewFunctionCallID() string { return "fc_" + rand.Text() }

// Response is the body of a response and the `response` of the lifecycle
// events. Usage is null while in progress and after a failure; Error is set
// only when failed; IncompleteDetails only when the output token limit cut
// the reply.
type Response struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	CreatedAt         int64              `json:"created_at"`
	Status            string             `json:"status"`
	Model             string             `json:"model"`
	Output            []OutputItem       `json:"output"`
	Usage             *Usage             `json:"usage"`
	Error             *ResponseError     `json:"error"`
	IncompleteDetails *IncompleteDetails `json:"incomplete_details"`
}

// Usage is the token count of a response.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// UsageFrom converts a provider usage (summed over every model call of a
// run): input tokens are input plus cache reads.
func UsageFrom(u provider.Usage) *Usage {
	in := u.Input + u.CacheRead
	return &Usage{InputTokens: in, OutputTokens: u.Output, TotalTokens: in + u.Output}
}

// ResponseError is why a response failed.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IncompleteDetails says why a response is incomplete.
type IncompleteDetails struct {
	Reason string `json:"reason"`
}

// OutputItem is an assistant message (Role, Content) or a function call
// (CallID, Name, Arguments); it marshals with the fields of its Type only.
type OutputItem struct {
	Type      string
	ID        string
	Status    string
	Role      string       // message
	Content   []OutputText // message
	CallID    string       // function_call
	Name      string       // function_call
	Arguments string       // function_call
}

// OutputText is the text content part of a message.
type OutputText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

// NewOutputText is the output_text part with text.
func NewOutputText(text string) OutputText {
	return OutputText{Type: PartOutputText, Text: text, Annotations: []any{}}
}

// MarshalJSON writes a message as {type, id, role, status, content} and a
// function call as {type, id, call_id, name, arguments, status}.
func (it OutputItem) MarshalJSON() ([]byte, error) {
	if it.Type == OutputFunctionCall {
		return json.Marshal(struct {
			Type      string `json:"type"`
			ID        string `json:"id"`
			CallID    string `json:"call_id"`
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
			Status    string `json:"status"`
		}{it.Type, it.ID, it.CallID, it.Name, it.Arguments, it.Status})
	}
	content := it.Content
	if content == nil {
		content = []OutputText{}
	}
	return json.Marshal(struct {
		Type    string       `json:"type"`
		ID      string       `json:"id"`
		Role    string       `json:"role"`
		Status  string       `json:"status"`
		Content []OutputText `json:"content"`
	}{it.Type, it.ID, it.Role, it.Status, content})
}

// MessageItem is an assistant message item; an in-progress one has no
// content yet.
func MessageItem(id, status, text string) OutputItem {
	it := OutputItem{Type: OutputMessage, ID: id, Status: status, Role: RoleAssistant}
	if status != StatusInProgress {
		it.Content = []OutputText{NewOutputText(text)}
	}
	return it
}

// Reply is the outcome of a run, in the terms the wire needs.
type Reply struct {
	Text       string
	ToolCalls  []provider.ToolCall
	StopReason string // provider.StopEnd | StopLength | StopToolCalls
	Usage      provider.Usage
}

// InProgress is the response of the response.created and
// response.in_progress events: no output, no usage yet.
func InProgress(id, model string, created int64) *Response {
	return &Response{ID: id, Object: ObjectResponse, CreatedAt: created, Status: StatusInProgress, Model: model, Output: []OutputItem{}}
}

// NewResponse builds the response of a finished run. The output is the
// message item msgID with the text (when there is text, or nothing at all:
// then openai.NoResponseText), then one function_call item per client tool
// call. Tool calls make it incomplete, and so does a length stop (reason
// max_output_tokens); else it is completed.
func NewResponse(id, model string, created int64, msgID string, r Reply) *Response {
	resp := &Response{ID: id, Object: ObjectResponse, CreatedAt: created, Status: StatusCompleted, Model: model,
		Output: []OutputItem{}, Usage: UsageFrom(r.Usage)}
	text := r.Text
	if text == "" && len(r.ToolCalls) == 0 {
		text = openai.NoResponseText
	}
	if text != "" {
		resp.Output = append(resp.Output, MessageItem(msgID, StatusCompleted, text))
	}
	for _, c := range r.ToolCalls {
		resp.Output = append(resp.Output, OutputItem{Type: OutputFunctionCall, ID: NewFunctionCallID(), Status: StatusCompleted,
			CallID: c.ID, Name: c.Name, Arguments: c.Arguments})
	}
	switch {
	case len(r.ToolCalls) > 0:
		resp.Status = StatusIncomplete
	case r.StopReason == provider.StopLength:
		resp.Status = StatusIncomplete
		resp.IncompleteDetails = &IncompleteDetails{Reason: "max_output_tokens"}
	}
	return resp
}

// Failed is the response of a run that failed after it started; e is the
// error the client is told (its cause is logged, never sent). The code is
// rate_limit_exceeded for an upstream 429, else server_error.
func Failed(id, model string, created int64, e *openai.Error) *Response {
	code := "server_error"
	if e.Status == http.StatusTooManyRequests {
		code = "rate_limit_exceeded"
	}
	return &Response{ID: id, Object: ObjectResponse, CreatedAt: created, Status: StatusFailed, Model: model,
		Output: []OutputItem{}, Error: &ResponseError{Code: code, Message: e.Message}}
}
