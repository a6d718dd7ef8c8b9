package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// openAI speaks the OpenAI chat completions API, which most local and
// hosted servers copy (Ollama, vLLM, llama.cpp, LM Studio, OpenRouter).
type openAI struct{ *httpBase }

// Wire types of the request.
type (
	oaRequest struct {
		Model         string          `json:"model"`
		Messages      []oaMessage     `json:"messages"`
		Stream        bool            `json:"stream"`
		StreamOptions *oaStreamOpts   `json:"stream_options,omitempty"`
		Tools         []oaTool        `json:"tools,omitempty"`
		ToolChoice    json.RawMessage `json:"tool_choice,omitempty"`
		Params
	}
	oaStreamOpts struct {
		IncludeUsage bool `json:"include_usage"`
	}
	oaMessage struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCalls  []oaToolCall    `json:"tool_calls,omitempty"`
		ToolCallID string          `json:"tool_call_id,omitempty"`
	}
	oaPart struct {
		Type     string      `json:"type"`
		Text     string      `json:"text,omitempty"`
		ImageURL *oaImageURL `json:"image_url,omitempty"`
	}
	oaImageURL struct {
		URL string `json:"url"`
	}
	oaTool struct {
		Type     string `json:"type"`
		Function oaFunc `json:"function"`
	}
	oaFunc struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	}
	oaToolCall struct {
		Index    *int   `json:"index,omitempty"`
		ID       string `json:"id,omitempty"`
		Type     string `json:"type,omitempty"`
		Function struct {
			Name      string `json:"name,omitempty"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
)

// Wire types of the response: a stream chunk or a whole completion.
type (
	oaChunk struct {
		Model   string          `json:"model"`
		Choices []oaChoice      `json:"choices"`
		Usage   *oaUsage        `json:"usage"`
		Error   json.RawMessage `json:"error"`
	}
	oaChoice struct {
		Index        int      `json:"index"`
		Delta        *oaDelta `json:"delta"`
		Message      *oaDelta `json:"message"`
		FinishReason string   `json:"finish_reason"`
	}
	oaDelta struct {
		Content   *string      `json:"content"`
		ToolCalls []oaToolCall `json:"tool_calls"`
	}
	oaUsage struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		PromptTokensDetails *struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	}
)

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// body builds the request JSON.
func (p *openAI) body(req *Request) ([]byte, error) {
	r := oaRequest{
		Model:         req.Model,
		Stream:        true,
		StreamOptions: &oaStreamOpts{IncludeUsage: true},
		ToolChoice:    req.ToolChoice,
		Params:        req.Params,
		Messages:      make([]oaMessage, 0, len(req.Messages)+1),
	}
	if req.System != "" {
		r.Messages = append(r.Messages, oaMessage{Role: "system", Content: jsonString(req.System)})
	}
	for _, m := range req.Messages {
		om := oaMessage{Role: m.Role, Content: jsonString(m.Content)}
		switch m.Role {
		case "user":
			if len(m.Images) > 0 {
				parts := make([]oaPart, 0, len(m.Images)+1)
				if m.Content != "" {
					parts = append(parts, oaPart{Type: "text", Text: m.Content})
				}
				for _, im := range m.Images {
					parts = append(parts, oaPart{Type: "image_url", ImageURL: &oaImageURL{URL: dataURI(im)}})
				}
				b, err := json.Marshal(parts)
				if err != nil {
					return nil, err
				}
				om.Content = b
			}
		case "assistant":
			for _, tc := range m.ToolCalls {
				otc := oaToolCall{ID: tc.ID, Type: "function"}
				otc.Function.Name = tc.Name
				otc.Function.Arguments = tc.Arguments
				om.ToolCalls = append(om.ToolCalls, otc)
			}
			if m.Content == "" && len(m.ToolCalls) > 0 {
				om.Content = json.RawMessage("null")
			}
		case "tool":
			om.ToolCallID = m.ToolCallID
		}
		r.Messages = append(r.Messages, om)
	}
	for _, t := range req.Tools {
		r.Tools = append(r.Tools, oaTool{Type: "function", Function: oaFunc(t)})
	}
	return json.Marshal(r)
}

func dataURI(im Image) string {
	mime := im.MIME
	if mime == "" {
		mime = http.DetectContentType(im.Data)
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(im.Data)
}

// Stream implements Provider.
func (p *openAI) Stream(ctx context.Context, req *Request, onDelta func(string)) (*Response, error) {
	c := p.start(ctx, req.Model)
	defer c.end()
	body, err := p.body(req)
	if err != nil {
		return nil, c.fail(ErrBadRequest, 0, "cannot encode request: "+err.Error(), err)
	}
	resp, err := c.post(body, func(h http.Header) {
		if p.apiKey != "" {
			h.Set("Authorization", "Bearer "+p.apiKey)
		}
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if onDelta == nil {
		onDelta = func(string) {}
	}
	br := getBodyReader(resp.Body)
	defer putBodyReader(br)
	first, err := skipSpace(br)
	if err != nil {
		return nil, c.bodyErr(err)
	}
	st := &oaState{model: req.Model, onDelta: onDelta}
	if first == '{' {
		err = st.whole(c, br)
	} else {
		err = st.stream(c, br)
	}
	if err != nil {
		return nil, err
	}
	return st.response(), nil
}

// oaState assembles a response from chunks.
type oaState struct {
	model   string
	onDelta func(string)
	text    strings.Builder
	calls   []ToolCall
	index   []int // the wire index of each call
	finish  string
	usage   Usage
}

func (st *oaState) stream(c *call, br *bufio.Reader) error {
	sr := newSSEReader(br)
	done := false
	for !done {
		_, data, err := sr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c.bodyErr(err)
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			done = true
			break
		}
		var ch oaChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			return c.fail(ErrBadResponse, 0, "invalid JSON in stream: "+truncate(string(data), 100), err)
		}
		if e := st.chunk(c, &ch, false); e != nil {
			return e
		}
	}
	return c.endStream(br, done, st.finish != "")
}

// whole reads a plain JSON completion, from a server that does not stream.
func (st *oaState) whole(c *call, br *bufio.Reader) error {
	var ch oaChunk
	b, err := c.readWhole(br, &ch)
	if err != nil {
		return err
	}
	if e := st.chunk(c, &ch, true); e != nil {
		return e
	}
	if st.finish == "" && len(ch.Choices) == 0 {
		return c.fail(ErrBadResponse, 0, "response has no choices: "+truncate(string(b), 100), nil)
	}
	return nil
}

// chunk applies one chunk (or a whole completion).
func (st *oaState) chunk(c *call, ch *oaChunk, whole bool) *Error {
	if len(ch.Error) > 0 && string(ch.Error) != "null" {
		typ, msg := upstreamMessage(append(append([]byte(`{"error":`), ch.Error...), '}'))
		return c.streamErr(typ, msg)
	}
	if ch.Model != "" {
		st.model = ch.Model
	}
	if u := ch.Usage; u != nil {
		cached := 0
		if u.PromptTokensDetails != nil {
			cached = u.PromptTokensDetails.CachedTokens
		}
		st.usage = Usage{Input: max(u.PromptTokens-cached, 0), Output: u.CompletionTokens, CacheRead: cached}
	}
	for i := range ch.Choices {
		cc := &ch.Choices[i]
		if cc.Index != 0 {
			continue
		}
		d := cc.Delta
		if whole || d == nil {
			d = cc.Message
		}
		if d != nil {
			if d.Content != nil && *d.Content != "" {
				st.text.WriteString(*d.Content)
				st.onDelta(*d.Content)
			}
			for j, tc := range d.ToolCalls {
				idx := j
				if tc.Index != nil {
					idx = *tc.Index
				}
				st.toolDelta(idx, tc)
			}
		}
		if cc.FinishReason != "" {
			st.finish = cc.FinishReason
		}
	}
	return nil
}

// toolDelta merges one fragment of a tool call into the call at its index.
func (st *oaState) toolDelta(idx int, tc oaToolCall) {
	k := slices.Index(st.index, idx)
	if k < 0 {
		st.index = append(st.index, idx)
		st.calls = append(st.calls, ToolCall{})
		k = len(st.calls) - 1
	}
	call := &st.calls[k]
	if call.ID == "" {
		call.ID = tc.ID
	}
	if call.Name == "" {
		call.Name = tc.Function.Name
	}
	call.Arguments += tc.Function.Arguments
}

func (st *oaState) response() *Response {
	r := &Response{Text: st.text.String(), Usage: st.usage, Model: st.model}
	if len(st.calls) > 0 {
		// Calls in the order of their wire index.
		order := make([]int, len(st.calls))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return st.index[a] - st.index[b] })
		for _, i := range order {
			tc := st.calls[i]
			if tc.ID == "" {
				tc.ID = "call_" + strconv.Itoa(st.index[i])
			}
			if strings.TrimSpace(tc.Arguments) == "" {
				tc.Arguments = "{}"
			}
			r.ToolCalls = append(r.ToolCalls, tc)
		}
	}
	switch st.finish {
	case "length":
		r.StopReason = StopLength
	case "tool_calls", "function_call":
		r.StopReason = StopToolCalls
	default:
		r.StopReason = StopEnd
	}
	// Some servers (Ollama) say "stop" after calling tools.
	if len(r.ToolCalls) > 0 && r.StopReason == StopEnd {
		r.StopReason = StopToolCalls
	}
	return r
}
