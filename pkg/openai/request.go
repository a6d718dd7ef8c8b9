package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Message roles.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
	RoleFunction  = "function" // the legacy name of tool
)

// Content part types after decoding ("input_text" becomes PartText).
const (
	PartText  = "text"
	PartImage = "image_url"
)

// ChatRequest is a decoded and validated POST /v1/chat/completions body.
// Optional parameters are nil when absent or null.
type ChatRequest struct {
	Model        string // "" when absent; see EchoModel
	Messages     []Message
	Stream       bool
	IncludeUsage bool // stream_options.include_usage
	User         string

	Temperature      *float64
	TopP             *float64
	MaxTokens        *int // max_completion_tokens, else max_tokens
	Stop             []string
	ResponseFormat   json.RawMessage // the object as sent
	Seed             *int64
	PresencePenalty  *float64
	FrequencyPenalty *float64

	Tools             []provider.ToolDef
	ToolChoice        json.RawMessage // "none" | "auto" | "required" | {"type":"function","function":{"name":..}}
	ParallelToolCalls *bool
}

// Message is one entry of `messages`.
type Message struct {
	Role       string
	Content    []Part // a string content is one text part; nil when null or absent
	Name       string
	ToolCallID string              // tool turns: the call answered
	ToolCalls  []provider.ToolCall // assistant turns (function_call included)
}

// Part is one content part.
type Part struct {
	Type     string // PartText | PartImage
	Text     string
	ImageURL string // the URL as sent: data:<mime>;base64,... or a remote URL
	Detail   string // image detail (auto, low, high) when sent
}

// Text is the message's text: its non-empty text parts joined with "\n",
// trimmed of surrounding space.
func (m *Message) Text() string {
	switch {
	case len(m.Content) == 1 && m.Content[0].Type == PartText:
		return strings.TrimSpace(m.Content[0].Text)
	case len(m.Content) == 0:
		return ""
	}
	var b strings.Builder
	for _, p := range m.Content {
		if p.Type != PartText || p.Text == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Text)
	}
	return strings.TrimSpace(b.String())
}

// ImageURLs are the URLs of the message's image parts, in order.
func (m *Message) ImageURLs() []string {
	var urls []string
	for _, p := range m.Content {
		if p.Type == PartImage {
			urls = append(urls, p.ImageURL)
		}
	}
	return urls
}

// EchoModel is the model the response echoes: the request's, or
// DefaultModel when it named none.
func (r *ChatRequest) EchoModel() string {
	if r.Model == "" {
		return DefaultModel
	}
	return r.Model
}

// Params are the generation parameters to pass to the model.
func (r *ChatRequest) Params() provider.Params {
	return provider.Params{
		Temperature:      r.Temperature,
		TopP:             r.TopP,
		MaxTokens:        r.MaxTokens,
		Stop:             r.Stop,
		ResponseFormat:   r.ResponseFormat,
		Seed:             r.Seed,
		PresencePenalty:  r.PresencePenalty,
		FrequencyPenalty: r.FrequencyPenalty,
	}
}

// ToolDefs are the client's tools, to offer to the model.
func (r *ChatRequest) ToolDefs() []provider.ToolDef { return r.Tools }

// JSON kinds as named in error messages.
const (
	kString  = "string"
	kNumber  = "number"
	kBoolean = "boolean"
	kArray   = "array"
	kObject  = "object"
	kNull    = "null"
)

// kindOf names the JSON kind of a raw value (as produced by encoding/json:
// valid, without surrounding space).
func kindOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return kNull
	}
	switch raw[0] {
	case '"':
		return kString
	case '{':
		return kObject
	case '[':
		return kArray
	case 't', 'f':
		return kBoolean
	case 'n':
		return kNull
	}
	return kNumber
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// DecodeChatRequest decodes and validates a request body in the contract's
// order: JSON, then the type of every known field, then parameter ranges
// and enumerations. The first type error wins over any range error; among
// equals the field order below (then message order) decides. An empty body
// is {}; unknown fields are ignored. Every error is a 400
// invalid_request_error whose message starts with the field's path, and
// whose param is that path.
func DecodeChatRequest(body []byte) (*ChatRequest, *Error) {
	i := 0
	for i < len(body) && isJSONSpace(body[i]) {
		i++
	}
	if i == len(body) {
		return &ChatRequest{}, nil
	}
	if body[i] != '{' {
		if err := json.Unmarshal(body, new(json.RawMessage)); err != nil {
			return nil, invalidJSON(err)
		}
		return nil, InvalidRequest("request body must be a JSON object, received "+kindOf(body[i:]), "")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, invalidJSON(err)
	}
	d := decoder{top: top}
	r, err := d.request()
	if err != nil {
		return nil, err
	}
	if d.rangeErr != nil {
		return nil, d.rangeErr
	}
	return r, nil
}

func invalidJSON(err error) *Error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return InvalidRequest(fmt.Sprintf("invalid JSON body: %s (at byte %d)", se.Error(), se.Offset), "")
	}
	return InvalidRequest("invalid JSON body: "+err.Error(), "")
}

// decoder returns type errors at once and keeps the first range error for
// after every type has been checked.
type decoder struct {
	top      map[string]json.RawMessage
	rangeErr *Error
}

func (d *decoder) outOfRange(path, format string, args ...any) {
	if d.rangeErr == nil {
		d.rangeErr = InvalidRequest(path+": "+fmt.Sprintf(format, args...), path)
	}
}

func typeErr(path, want string, raw json.RawMessage) *Error {
	return InvalidRequest(path+": expected "+want+", received "+kindOf(raw), path)
}

func required(path string) *Error {
	return InvalidRequest(path+": required", path)
}

// present reports whether obj has key with a non-null value.
func present(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := obj[key]
	if !ok || kindOf(raw) == kNull {
		return nil, false
	}
	return raw, true
}

func str(path string, raw json.RawMessage) (string, *Error) {
	if kindOf(raw) != kString {
		return "", typeErr(path, kString, raw)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", typeErr(path, kString, raw)
	}
	return s, nil
}

// optString decodes an optional (absent or null) string.
func optString(obj map[string]json.RawMessage, key, path string) (string, *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return "", nil
	}
	return str(path, raw)
}

func optBool(obj map[string]json.RawMessage, key, path string) (*bool, *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return nil, nil
	}
	if kindOf(raw) != kBoolean {
		return nil, typeErr(path, kBoolean, raw)
	}
	b := raw[0] == 't'
	return &b, nil
}

func optNumber(obj map[string]json.RawMessage, key string) (*float64, json.RawMessage, *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return nil, nil, nil
	}
	if kindOf(raw) != kNumber {
		return nil, raw, typeErr(key, kNumber, raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil { // out of float64 range
		f = math.Inf(1)
		if raw[0] == '-' {
			f = math.Inf(-1)
		}
	}
	return &f, raw, nil
}

// optInteger decodes an optional integer; an integral number such as 1.0 or
// 1e3 counts. big is set when it does not fit in an int64.
func optInteger(obj map[string]json.RawMessage, key string) (v int64, raw json.RawMessage, set, big bool, err *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return 0, nil, false, false, nil
	}
	if kindOf(raw) != kNumber {
		return 0, raw, false, false, typeErr(key, "integer", raw)
	}
	if n, perr := strconv.ParseInt(string(raw), 10, 64); perr == nil {
		return n, raw, true, false, nil
	}
	f, perr := strconv.ParseFloat(string(raw), 64)
	switch {
	case perr != nil: // beyond float64: ±Inf
		return 0, raw, true, true, nil
	case f != math.Trunc(f):
		return 0, raw, false, false, typeErr(key, "integer", raw)
	case f >= math.MaxInt64 || f < math.MinInt64:
		return 0, raw, true, true, nil
	}
	return int64(f), raw, true, false, nil
}

func (d *decoder) numberIn(key string, lo, hi float64) (*float64, *Error) {
	f, raw, err := optNumber(d.top, key)
	if err != nil || f == nil {
		return nil, err
	}
	if *f < lo || *f > hi {
		d.outOfRange(key, "must be between %s and %s, received %s", fmtNum(lo), fmtNum(hi), raw)
	}
	return f, nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (d *decoder) maxTokens(key string) (*int, *Error) {
	n, raw, set, big, err := optInteger(d.top, key)
	if err != nil || !set {
		return nil, err
	}
	switch {
	case !big && n <= 0:
		d.outOfRange(key, "must be greater than 0, received %s", raw)
		return nil, nil
	case big || n > math.MaxInt32:
		d.outOfRange(key, "must be at most %d, received %s", math.MaxInt32, raw)
		return nil, nil
	}
	v := int(n)
	return &v, nil
}

func (d *decoder) request() (*ChatRequest, *Error) {
	r := &ChatRequest{}
	var err *Error
	top := d.top

	if raw, ok := top["model"]; ok {
		if r.Model, err = str("model", raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := top["messages"]; ok {
		if r.Messages, err = d.messages(raw); err != nil {
			return nil, err
		}
	}
	stream, err := optBool(top, "stream", "stream")
	if err != nil {
		return nil, err
	}
	r.Stream = stream != nil && *stream
	if raw, ok := present(top, "stream_options"); ok {
		if kindOf(raw) != kObject {
			return nil, typeErr("stream_options", kObject, raw)
		}
		var so map[string]json.RawMessage
		_ = json.Unmarshal(raw, &so)
		iu, err := optBool(so, "include_usage", "stream_options.include_usage")
		if err != nil {
			return nil, err
		}
		r.IncludeUsage = iu != nil && *iu
	}
	if r.User, err = optString(top, "user", "user"); err != nil {
		return nil, err
	}
	if r.Temperature, err = d.numberIn("temperature", 0, 2); err != nil {
		return nil, err
	}
	if r.TopP, err = d.numberIn("top_p", 0, 1); err != nil {
		return nil, err
	}
	maxTok, err := d.maxTokens("max_tokens")
	if err != nil {
		return nil, err
	}
	maxCompl, err := d.maxTokens("max_completion_tokens")
	if err != nil {
		return nil, err
	}
	r.MaxTokens = maxTok
	if maxCompl != nil {
		r.MaxTokens = maxCompl
	}
	if r.Stop, err = d.stop(); err != nil {
		return nil, err
	}
	if r.ResponseFormat, err = d.responseFormat(); err != nil {
		return nil, err
	}
	seed, raw, set, big, err := optInteger(top, "seed")
	if err != nil {
		return nil, err
	}
	if big {
		d.outOfRange("seed", "must fit in a 64-bit integer, received %s", raw)
	} else if set {
		r.Seed = &seed
	}
	if r.PresencePenalty, err = d.numberIn("presence_penalty", -2, 2); err != nil {
		return nil, err
	}
	if r.FrequencyPenalty, err = d.numberIn("frequency_penalty", -2, 2); err != nil {
		return nil, err
	}
	n, raw, set, big, err := optInteger(top, "n")
	if err != nil {
		return nil, err
	}
	if set && (big || n != 1) {
		d.outOfRange("n", "only 1 choice is supported, received %s", raw)
	}
	if r.Tools, err = d.tools(); err != nil {
		return nil, err
	}
	if r.ToolChoice, err = d.toolChoice(r.Tools); err != nil {
		return nil, err
	}
	if r.ParallelToolCalls, err = optBool(top, "parallel_tool_calls", "parallel_tool_calls"); err != nil {
		return nil, err
	}
	return r, nil
}

func (d *decoder) stop() ([]string, *Error) {
	raw, ok := present(d.top, "stop")
	if !ok {
		return nil, nil
	}
	switch kindOf(raw) {
	case kString:
		s, err := str("stop", raw)
		return []string{s}, err
	case kArray:
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items)
		out := make([]string, 0, len(items))
		for i, it := range items {
			s, err := str(fmt.Sprintf("stop[%d]", i), it)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		if len(out) > 4 {
			d.outOfRange("stop", "at most 4 sequences are allowed, received %d", len(out))
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return nil, typeErr("stop", "string or array", raw)
}

func (d *decoder) responseFormat() (json.RawMessage, *Error) {
	raw, ok := present(d.top, "response_format")
	if !ok {
		return nil, nil
	}
	if kindOf(raw) != kObject {
		return nil, typeErr("response_format", kObject, raw)
	}
	var rf map[string]json.RawMessage
	_ = json.Unmarshal(raw, &rf)
	t, ok := present(rf, "type")
	if !ok {
		return nil, required("response_format.type")
	}
	typ, err := str("response_format.type", t)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "text", "json_object":
	case "json_schema":
		js, ok := present(rf, "json_schema")
		if !ok {
			return nil, InvalidRequest("response_format.json_schema: required when type is json_schema", "response_format.json_schema")
		}
		if kindOf(js) != kObject {
			return nil, typeErr("response_format.json_schema", kObject, js)
		}
	default:
		d.outOfRange("response_format.type", "must be text, json_object or json_schema, received %q", typ)
	}
	return raw, nil
}

func (d *decoder) messages(raw json.RawMessage) ([]Message, *Error) {
	if kindOf(raw) != kArray {
		return nil, typeErr("messages", kArray, raw)
	}
	var items []json.RawMessage
	_ = json.Unmarshal(raw, &items)
	msgs := make([]Message, len(items))
	for i, it := range items {
		if err := d.message(fmt.Sprintf("messages[%d]", i), it, &msgs[i]); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

func (d *decoder) message(path string, raw json.RawMessage, m *Message) *Error {
	if kindOf(raw) != kObject {
		return typeErr(path, kObject, raw)
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(raw, &obj)
	var err *Error

	rr, ok := obj["role"]
	if !ok {
		return InvalidRequest(path+".role: required (system, developer, user, assistant, tool or function)", path+".role")
	}
	if m.Role, err = str(path+".role", rr); err != nil {
		return err
	}
	switch m.Role {
	case RoleSystem, RoleDeveloper, RoleUser, RoleAssistant, RoleTool, RoleFunction:
	default:
		d.outOfRange(path+".role", "unknown role %q; use system, developer, user, assistant, tool or function", m.Role)
	}
	if m.Name, err = optString(obj, "name", path+".name"); err != nil {
		return err
	}
	if m.ToolCallID, err = optString(obj, "tool_call_id", path+".tool_call_id"); err != nil {
		return err
	}
	if m.ToolCalls, err = d.toolCalls(path, obj); err != nil {
		return err
	}

	cpath := path + ".content"
	craw, ok := present(obj, "content")
	if !ok {
		if m.Role == RoleAssistant && len(m.ToolCalls) > 0 {
			return nil
		}
		if _, sent := obj["content"]; !sent {
			return required(cpath)
		}
		return typeErr(cpath, "string or array", craw)
	}
	switch kindOf(craw) {
	case kString:
		s, err := str(cpath, craw)
		if err != nil {
			return err
		}
		m.Content = []Part{{Type: PartText, Text: s}}
		return nil
	case kArray:
		var items []json.RawMessage
		_ = json.Unmarshal(craw, &items)
		m.Content = make([]Part, 0, len(items))
		for i, it := range items {
			p, keep, err := d.part(fmt.Sprintf("%s[%d]", cpath, i), it)
			if err != nil {
				return err
			}
			if keep {
				m.Content = append(m.Content, p)
			}
		}
		return nil
	}
	return typeErr(cpath, "string or array", craw)
}

func (d *decoder) part(path string, raw json.RawMessage) (Part, bool, *Error) {
	if kindOf(raw) != kObject {
		return Part{}, false, typeErr(path, kObject, raw)
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(raw, &obj)
	t, ok := present(obj, "type")
	if !ok {
		return Part{}, false, required(path + ".type")
	}
	typ, err := str(path+".type", t)
	if err != nil {
		return Part{}, false, err
	}
	switch typ {
	case "text", "input_text":
		tr, ok := present(obj, "text")
		if !ok {
			return Part{}, false, required(path + ".text")
		}
		s, err := str(path+".text", tr)
		return Part{Type: PartText, Text: s}, true, err
	case "image_url":
		ip := path + ".image_url"
		ir, ok := present(obj, "image_url")
		if !ok {
			return Part{}, false, required(ip)
		}
		switch kindOf(ir) {
		case kString:
			u, err := str(ip, ir)
			return Part{Type: PartImage, ImageURL: strings.TrimSpace(u)}, true, err
		case kObject:
			var io map[string]json.RawMessage
			_ = json.Unmarshal(ir, &io)
			ur, ok := present(io, "url")
			if !ok {
				return Part{}, false, required(ip + ".url")
			}
			u, err := str(ip+".url", ur)
			if err != nil {
				return Part{}, false, err
			}
			det, err := optString(io, "detail", ip+".detail")
			return Part{Type: PartImage, ImageURL: strings.TrimSpace(u), Detail: det}, true, err
		}
		return Part{}, false, typeErr(ip, "string or object", ir)
	}
	d.outOfRange(path+".type", "unsupported content part type %q; use text, input_text or image_url", typ)
	return Part{}, false, nil
}

// toolCalls decodes an assistant message's tool_calls and its legacy
// function_call.
func (d *decoder) toolCalls(path string, obj map[string]json.RawMessage) ([]provider.ToolCall, *Error) {
	var calls []provider.ToolCall
	if raw, ok := present(obj, "tool_calls"); ok {
		tp := path + ".tool_calls"
		if kindOf(raw) != kArray {
			return nil, typeErr(tp, kArray, raw)
		}
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items)
		for i, it := range items {
			cp := fmt.Sprintf("%s[%d]", tp, i)
			if kindOf(it) != kObject {
				return nil, typeErr(cp, kObject, it)
			}
			var co map[string]json.RawMessage
			_ = json.Unmarshal(it, &co)
			id, err := optString(co, "id", cp+".id")
			if err != nil {
				return nil, err
			}
			typ, err := optString(co, "type", cp+".type")
			if err != nil {
				return nil, err
			}
			if typ != "" && typ != "function" {
				d.outOfRange(cp+".type", "unsupported tool call type %q; use function", typ)
			}
			fr, ok := present(co, "function")
			if !ok {
				return nil, required(cp + ".function")
			}
			c, err := functionCall(cp+".function", fr)
			if err != nil {
				return nil, err
			}
			c.ID = id
			calls = append(calls, c)
		}
	}
	if raw, ok := present(obj, "function_call"); ok {
		c, err := functionCall(path+".function_call", raw)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// functionCall decodes {name, arguments}; arguments sent as an object
// instead of a JSON text are kept as their JSON text.
func functionCall(path string, raw json.RawMessage) (provider.ToolCall, *Error) {
	if kindOf(raw) != kObject {
		return provider.ToolCall{}, typeErr(path, kObject, raw)
	}
	var fo map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fo)
	nr, ok := present(fo, "name")
	if !ok {
		return provider.ToolCall{}, required(path + ".name")
	}
	name, err := str(path+".name", nr)
	if err != nil {
		return provider.ToolCall{}, err
	}
	c := provider.ToolCall{Name: name}
	if ar, ok := present(fo, "arguments"); ok {
		switch kindOf(ar) {
		case kString:
			c.Arguments, err = str(path+".arguments", ar)
		case kObject:
			c.Arguments = string(ar)
		default:
			err = typeErr(path+".arguments", kString, ar)
		}
	}
	return c, err
}

func validToolName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (d *decoder) tools() ([]provider.ToolDef, *Error) {
	raw, ok := present(d.top, "tools")
	if !ok {
		return nil, nil
	}
	if kindOf(raw) != kArray {
		return nil, typeErr("tools", kArray, raw)
	}
	var items []json.RawMessage
	_ = json.Unmarshal(raw, &items)
	if len(items) == 0 {
		return nil, nil
	}
	defs := make([]provider.ToolDef, 0, len(items))
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		p := fmt.Sprintf("tools[%d]", i)
		if kindOf(it) != kObject {
			return nil, typeErr(p, kObject, it)
		}
		var to map[string]json.RawMessage
		_ = json.Unmarshal(it, &to)
		tr, ok := present(to, "type")
		if !ok {
			return nil, required(p + ".type")
		}
		typ, err := str(p+".type", tr)
		if err != nil {
			return nil, err
		}
		if typ != "function" {
			d.outOfRange(p+".type", "unsupported tool type %q; only function tools are supported", typ)
		}
		fr, ok := present(to, "function")
		if !ok {
			return nil, required(p + ".function")
		}
		fp := p + ".function"
		if kindOf(fr) != kObject {
			return nil, typeErr(fp, kObject, fr)
		}
		var fo map[string]json.RawMessage
		_ = json.Unmarshal(fr, &fo)
		nr, ok := present(fo, "name")
		if !ok {
			return nil, required(fp + ".name")
		}
		var def provider.ToolDef
		if def.Name, err = str(fp+".name", nr); err != nil {
			return nil, err
		}
		if def.Description, err = optString(fo, "description", fp+".description"); err != nil {
			return nil, err
		}
		if pr, ok := present(fo, "parameters"); ok {
			if kindOf(pr) != kObject {
				return nil, typeErr(fp+".parameters", kObject, pr)
			}
			def.Parameters = pr
		}
		if _, err := optBool(fo, "strict", fp+".strict"); err != nil {
			return nil, err
		}
		switch {
		case !validToolName(def.Name):
			d.outOfRange(fp+".name", "must be 1-64 letters, digits, underscores or dashes, received %q", def.Name)
		case seen[def.Name]:
			d.outOfRange(fp+".name", "duplicate tool name %q", def.Name)
		}
		seen[def.Name] = true
		defs = append(defs, def)
	}
	return defs, nil
}

func (d *decoder) toolChoice(tools []provider.ToolDef) (json.RawMessage, *Error) {
	raw, ok := present(d.top, "tool_choice")
	if !ok {
		return nil, nil
	}
	switch kindOf(raw) {
	case kString:
		s, err := str("tool_choice", raw)
		if err != nil {
			return nil, err
		}
		switch s {
		case "none", "auto":
		case "required":
			if len(tools) == 0 {
				d.outOfRange("tool_choice", `"required" needs at least one tool in tools`)
			}
		default:
			d.outOfRange("tool_choice", `must be "none", "auto", "required" or {"type":"function","function":{"name":...}}, received %q`, s)
		}
		return json.RawMessage(strconv.Quote(s)), nil
	case kObject:
		var co map[string]json.RawMessage
		_ = json.Unmarshal(raw, &co)
		tr, ok := present(co, "type")
		if !ok {
			return nil, required("tool_choice.type")
		}
		typ, err := str("tool_choice.type", tr)
		if err != nil {
			return nil, err
		}
		if typ != "function" {
			d.outOfRange("tool_choice.type", "unsupported tool_choice type %q; use function", typ)
		}
		fr, ok := present(co, "function")
		if !ok {
			return nil, required("tool_choice.function")
		}
		if kindOf(fr) != kObject {
			return nil, typeErr("tool_choice.function", kObject, fr)
		}
		var fo map[string]json.RawMessage
		_ = json.Unmarshal(fr, &fo)
		nr, ok := present(fo, "name")
		if !ok {
			return nil, required("tool_choice.function.name")
		}
		name, err := str("tool_choice.function.name", nr)
		if err != nil {
			return nil, err
		}
		found := false
		for _, t := range tools {
			found = found || t.Name == name
		}
		if !found {
			d.outOfRange("tool_choice.function.name", "no tool named %q in tools", name)
		}
		var b bytes.Buffer
		b.WriteString(`{"type":"function","function":{"name":`)
		b.Write(appendString(nil, name))
		b.WriteString(`}}`)
		return b.Bytes(), nil
	}
	return nil, typeErr("tool_choice", "string or object", raw)
}
