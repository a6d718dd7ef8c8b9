package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// AnthropicVersion is the API version sent in anthropic-version.
const AnthropicVersion = "2023-06-01"

// anthropic speaks the Anthropic Messages API.
type anthropic struct{ *httpBase }

// Wire types of the request.
type (
	anRequest struct {
		Model         string          `json:"model"`
		MaxTokens     int             `json:"max_tokens"`
		System        string          `json:"system,omitempty"`
		Messages      []anMessage     `json:"messages"`
		Tools         []anTool        `json:"tools,omitempty"`
		ToolChoice    json.RawMessage `json:"tool_choice,omitempty"`
		Stream        bool            `json:"stream"`
		Temperature   *float64        `json:"temperature,omitempty"`
		TopP          *float64        `json:"top_p,omitempty"`
		StopSequences []string        `json:"stop_sequences,omitempty"`
	}
	anMessage struct {
		Role    string    `json:"role"`
		Content []anBlock `json:"content"`
	}
	anBlock struct {
		Type      string          `json:"type"`
		Text      string          `json:"text,omitempty"`
		Source    *anSource       `json:"source,omitempty"`
		ID        string          `json:"id,omitempty"`
		Name      string          `json:"name,omitempty"`
		Input     json.RawMessage `json:"input,omitempty"`
		ToolUseID string          `json:"tool_use_id,omitempty"`
		Content   string          `json:"content,omitempty"`
		IsError   bool            `json:"is_error,omitempty"`
	}
	anSource struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
	}
	anTool struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		InputSchema json.RawMessage `json:"input_schema"`
	}
)

// Wire types of the response: stream events and a whole message share
// fields.
type (
	anEvent struct {
		Type         string          `json:"type"`
		Message      *anWhole        `json:"message"`
		Index        int             `json:"index"`
		ContentBlock *anBlockOut     `json:"content_block"`
		Delta        *anDelta        `json:"delta"`
		Usage        *anUsage        `json:"usage"`
		Error        json.RawMessage `json:"error"`
	}
	anWhole struct {
		Type       string       `json:"type"`
		Model      string       `json:"model"`
		Content    []anBlockOut `json:"content"`
		StopReason string       `json:"stop_reason"`
		Usage      anUsage      `json:"usage"`
	}
	anBlockOut struct {
		Type  string          `json:"type"`
		Text  string          `json:"text"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}
	anDelta struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	}
	anUsage struct {
		InputTokens              int `json:"input_tokens"`
		OutputTokens             int `json:"output_tokens"`
		CacheReadInputTokens     int `json:"cache_read_input_tokens"`
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	}
)

// body builds the request JSON.
func (p *anthropic) body(req *Request) ([]byte, error) {
	r := anRequest{
		Model:         req.Model,
		MaxTokens:     DefaultMaxTokens,
		System:        req.System,
		Stream:        true,
		Temperature:   req.Params.Temperature,
		TopP:          req.Params.TopP,
		StopSequences: req.Params.Stop,
	}
	if req.Params.MaxTokens != nil && *req.Params.MaxTokens > 0 {
		r.MaxTokens = *req.Params.MaxTokens
	}
	for _, m := range req.Messages {
		role, blocks := anBlocks(m)
		if len(blocks) == 0 {
			continue
		}
		// The API wants roles to alternate: tool results and a following
		// user turn are one user message.
		if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == role {
			r.Messages[n-1].Content = append(r.Messages[n-1].Content, blocks...)
			continue
		}
		r.Messages = append(r.Messages, anMessage{Role: role, Content: blocks})
	}
	for _, t := range req.Tools {
		schema := t.Parameters
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		r.Tools = append(r.Tools, anTool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	if len(r.Tools) > 0 {
		r.ToolChoice = anToolChoice(req.ToolChoice)
	}
	return json.Marshal(r)
}

// anBlocks turns one message into content blocks and the role they go under.
func anBlocks(m Message) (string, []anBlock) {
	var bs []anBlock
	switch m.Role {
	case "tool":
		return "user", []anBlock{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: m.Content, IsError: m.IsError}}
	case "assistant":
		if m.Content != "" {
			bs = append(bs, anBlock{Type: "text", Text: m.Content})
		}
		for _, tc := range m.ToolCalls {
			in := json.RawMessage(tc.Arguments)
			if !json.Valid(in) || !bytes.HasPrefix(bytes.TrimSpace(in), []byte{'{'}) {
				in = json.RawMessage("{}")
			}
			bs = append(bs, anBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: in})
		}
		return "assistant", bs
	}
	// Images first: the API reads them better before the question.
	for _, im := range m.Images {
		mime := im.MIME
		if mime == "" {
			mime = http.DetectContentType(im.Data)
		}
		bs = append(bs, anBlock{Type: "image", Source: &anSource{Type: "base64", MediaType: mime, Data: base64.StdEncoding.EncodeToString(im.Data)}})
	}
	if m.Content != "" {
		bs = append(bs, anBlock{Type: "text", Text: m.Content})
	}
	return "user", bs
}

// anToolChoice maps the OpenAI tool_choice shape to Anthropic's.
func anToolChoice(tc json.RawMessage) json.RawMessage {
	if len(tc) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(tc, &s) == nil {
		switch s {
		case "auto":
			return json.RawMessage(`{"type":"auto"}`)
		case "required", "any":
			return json.RawMessage(`{"type":"any"}`)
		case "none":
			return json.RawMessage(`{"type":"none"}`)
		}
		return nil
	}
	var o struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(tc, &o) != nil {
		return nil
	}
	name := o.Function.Name
	if name == "" {
		name = o.Name
	}
	if name == "" {
		return nil
	}
	b, _ := json.Marshal(map[string]string{"type": "tool", "name": name})
	return b
}

// Stream implements Provider.
func (p *anthropic) Stream(ctx context.Context, req *Request, onDelta func(string)) (*Response, error) {
	c := p.start(ctx, req.Model)
	defer c.end()
	body, err := p.body(req)
	if err != nil {
		return nil, c.fail(ErrBadRequest, 0, "cannot encode request: "+err.Error(), err)
	}
	resp, err := c.post(body, func(h http.Header) {
		if p.apiKey != "" {
			h.Set("X-Api-Key", p.apiKey)
		}
		h.Set("Anthropic-Version", AnthropicVersion)
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
	st := &anState{model: req.Model, onDelta: onDelta, blocks: map[int]int{}}
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

// anState assembles a response from events.
type anState struct {
	model   string
	onDelta func(string)
	text    strings.Builder
	calls   []ToolCall
	blocks  map[int]int // block index -> position in calls, for tool_use blocks
	stop    string
	usage   Usage
}

func (st *anState) stream(c *call, br *bufio.Reader) error {
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
		var ev anEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return c.fail(ErrBadResponse, 0, "invalid JSON in stream: "+truncate(string(data), 100), err)
		}
		switch ev.Type {
		case "message_start":
			if m := ev.Message; m != nil {
				if m.Model != "" {
					st.model = m.Model
				}
				st.setUsage(m.Usage)
			}
		case "content_block_start":
			if b := ev.ContentBlock; b != nil && b.Type == "tool_use" {
				st.blocks[ev.Index] = len(st.calls)
				st.calls = append(st.calls, ToolCall{ID: b.ID, Name: b.Name})
			} else if b != nil && b.Type == "text" && b.Text != "" {
				st.addText(b.Text)
			}
		case "content_block_delta":
			if d := ev.Delta; d != nil {
				switch d.Type {
				case "text_delta":
					st.addText(d.Text)
				case "input_json_delta":
					if k, ok := st.blocks[ev.Index]; ok {
						st.calls[k].Arguments += d.PartialJSON
					}
				}
			}
		case "message_delta":
			if d := ev.Delta; d != nil && d.StopReason != "" {
				st.stop = d.StopReason
			}
			if u := ev.Usage; u != nil {
				st.usage.Output = u.OutputTokens
				// Newer servers repeat the input counts here.
				if u.InputTokens > 0 || u.CacheReadInputTokens > 0 || u.CacheCreationInputTokens > 0 {
					st.usage.Input = u.InputTokens
					st.usage.CacheRead = u.CacheReadInputTokens
					st.usage.CacheWrite = u.CacheCreationInputTokens
				}
			}
		case "message_stop":
			done = true
		case "error":
			typ, msg := upstreamMessage(data)
			return c.streamErr(typ, msg)
		}
	}
	return c.endStream(br, done, st.stop != "")
}

// whole reads a plain JSON message, from a server that does not stream.
func (st *anState) whole(c *call, br *bufio.Reader) error {
	var m anWhole
	b, err := c.readWhole(br, &m)
	if err != nil {
		return err
	}
	if m.Type == "error" {
		typ, msg := upstreamMessage(b)
		return c.streamErr(typ, msg)
	}
	if m.Type != "message" {
		return c.fail(ErrBadResponse, 0, "not a message: "+truncate(string(b), 100), nil)
	}
	if m.Model != "" {
		st.model = m.Model
	}
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			st.addText(b.Text)
		case "tool_use":
			st.calls = append(st.calls, ToolCall{ID: b.ID, Name: b.Name, Arguments: string(b.Input)})
		}
	}
	st.stop = m.StopReason
	st.setUsage(m.Usage)
	return nil
}

func (st *anState) addText(s string) {
	if s == "" {
		return
	}
	st.text.WriteString(s)
	st.onDelta(s)
}

func (st *anState) setUsage(u anUsage) {
	st.usage = Usage{Input: u.InputTokens, Output: u.OutputTokens, CacheRead: u.CacheReadInputTokens, CacheWrite: u.CacheCreationInputTokens}
}

func (st *anState) response() *Response {
	r := &Response{Text: st.text.String(), Usage: st.usage, Model: st.model}
	for _, tc := range st.calls {
		if strings.TrimSpace(tc.Arguments) == "" {
			tc.Arguments = "{}"
		}
		r.ToolCalls = append(r.ToolCalls, tc)
	}
	switch st.stop {
	case "max_tokens":
		r.StopReason = StopLength
	case "tool_use":
		r.StopReason = StopToolCalls
	default:
		r.StopReason = StopEnd
	}
	if len(r.ToolCalls) > 0 && r.StopReason == StopEnd {
		r.StopReason = StopToolCalls
	}
	return r
}
