package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/openclaw/openclaw-go/pkg/jsonview"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// MaxUserBytes bounds `user`, which names a session key stored in the
// sessions index.
const MaxUserBytes = 256

// Message roles.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
	RoleFunction  = "function" // the legacy name of tool
)

// Content part types after decoding ("input_text" and "refusal" become
// PartText).
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
	if !json.Valid(body) {
		err := json.Unmarshal(body, new(json.RawMessage))
		return nil, invalidJSON(err)
	}
	if err := CheckUTF8(body); err != nil {
		return nil, err
	}
	if body[i] != '{' {
		return nil, InvalidRequest("request body must be a JSON object, received "+kindOf(body[i:]), "")
	}
	d := decoder{top: jsonview.ParseObject(body[i:])}
	r, err := d.request()
	if err != nil {
		return nil, err
	}
	if d.rangeErr != nil {
		return nil, d.rangeErr
	}
	return r, nil
}

// CheckUTF8 refuses a body that is not UTF-8, as RFC 8259 requires JSON to
// be. encoding/json accepts such bytes and turns them into U+FFFD, so the
// model and the transcript would get text the client never sent.
func CheckUTF8(body []byte) *Error {
	if utf8.Valid(body) {
		return nil
	}
	i := 0
	for i < len(body) {
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	return InvalidRequest(fmt.Sprintf("invalid JSON body: invalid UTF-8 (at byte %d); send the body as UTF-8", i), "")
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
//
// Paths are built only for an error: helpers take the path of the
// enclosing value (pre, "" at the top) and the key, joined by at().
type decoder struct {
	top      object
	rangeErr *Error
}

func at(pre, key string) string {
	if pre == "" {
		return key
	}
	return pre + "." + key
}

func index(pre string, i int) string { return pre + "[" + strconv.Itoa(i) + "]" }

func (d *decoder) outOfRange(path, format string, args ...any) {
	if d.rangeErr == nil {
		d.rangeErr = InvalidRequest(path+": "+fmt.Sprintf(format, args...), path)
	}
}

func typeErr(path, want string, raw []byte) *Error {
	return InvalidRequest(path+": expected "+want+", received "+kindOf(raw), path)
}

func required(path string) *Error {
	return InvalidRequest(path+": required", path)
}

// present returns obj's value of key unless it is absent or null.
func present(obj object, key string) ([]byte, bool) {
	raw, ok := obj.Get(key)
	if !ok || kindOf(raw) == kNull {
		return nil, false
	}
	return raw, true
}

// isObject returns raw's members, or a type error naming path.
func isObject(raw []byte, pre, key string) (object, *Error) {
	if kindOf(raw) != kObject {
		return nil, typeErr(at(pre, key), kObject, raw)
	}
	return jsonview.ParseObject(raw), nil
}

func str(raw []byte, pre, key string) (string, *Error) {
	if kindOf(raw) != kString {
		return "", typeErr(at(pre, key), kString, raw)
	}
	return jsonview.Unquote(raw), nil
}

// reqString decodes a required string.
func reqString(obj object, pre, key string) (string, *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return "", required(at(pre, key))
	}
	return str(raw, pre, key)
}

// optString decodes an optional (absent or null) string.
func optString(obj object, pre, key string) (string, *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return "", nil
	}
	return str(raw, pre, key)
}

func optBool(obj object, pre, key string) (*bool, *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return nil, nil
	}
	if kindOf(raw) != kBoolean {
		return nil, typeErr(at(pre, key), kBoolean, raw)
	}
	b := raw[0] == 't'
	return &b, nil
}

// optNumber decodes an optional top-level number.
func optNumber(obj object, key string) (*float64, []byte, *Error) {
	raw, ok := present(obj, key)
	if !ok {
		return nil, nil, nil
	}
	if kindOf(raw) != kNumber {
		return nil, raw, typeErr(key, kNumber, raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil { // out of float64 range: ±Inf
		f = math.Inf(1)
		if raw[0] == '-' {
			f = math.Inf(-1)
		}
	}
	return &f, raw, nil
}

// optInteger decodes an optional top-level integer; an integral number
// such as 1.0 or 1e3 counts. big is set when it does not fit in an int64.
func optInteger(obj object, key string) (v int64, raw []byte, set, big bool, err *Error) {
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

	if raw, ok := top.Get("model"); ok {
		if r.Model, err = str(raw, "", "model"); err != nil {
			return nil, err
		}
	}
	if raw, ok := top.Get("messages"); ok {
		if r.Messages, err = d.messages(raw); err != nil {
			return nil, err
		}
	}
	stream, err := optBool(top, "", "stream")
	if err != nil {
		return nil, err
	}
	r.Stream = stream != nil && *stream
	if raw, ok := present(top, "stream_options"); ok {
		so, err := isObject(raw, "", "stream_options")
		if err != nil {
			return nil, err
		}
		iu, err := optBool(so, "stream_options", "include_usage")
		if err != nil {
			return nil, err
		}
		r.IncludeUsage = iu != nil && *iu
	}
	if r.User, err = optString(top, "", "user"); err != nil {
		return nil, err
	}
	if len(r.User) > MaxUserBytes {
		d.outOfRange("user", "must be at most %d bytes, received %d", MaxUserBytes, len(r.User))
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
	if r.ParallelToolCalls, err = optBool(top, "", "parallel_tool_calls"); err != nil {
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
		return []string{jsonview.Unquote(raw)}, nil
	case kArray:
		items := jsonview.ParseArray(raw)
		if len(items) == 0 {
			return nil, nil
		}
		out := make([]string, len(items))
		for i, it := range items {
			if kindOf(it) != kString {
				return nil, typeErr(index("stop", i), kString, it)
			}
			out[i] = jsonview.Unquote(it)
		}
		if len(out) > 4 {
			d.outOfRange("stop", "at most 4 sequences are allowed, received %d", len(out))
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
	rf, err := isObject(raw, "", "response_format")
	if err != nil {
		return nil, err
	}
	typ, err := reqString(rf, "response_format", "type")
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
		if _, err := isObject(js, "response_format", "json_schema"); err != nil {
			return nil, err
		}
	default:
		d.outOfRange("response_format.type", "must be text, json_object or json_schema, received %q", typ)
	}
	return bytes.Clone(raw), nil // a view of the body: the caller may reuse its buffer
}

func (d *decoder) messages(raw []byte) ([]Message, *Error) {
	if kindOf(raw) != kArray {
		return nil, typeErr("messages", kArray, raw)
	}
	items := jsonview.ParseArray(raw)
	msgs := make([]Message, len(items))
	for i, it := range items {
		if err := d.message(index("messages", i), it, &msgs[i]); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

func (d *decoder) message(pre string, raw []byte, m *Message) *Error {
	if kindOf(raw) != kObject {
		return typeErr(pre, kObject, raw)
	}
	obj := jsonview.ParseObject(raw)
	var err *Error

	rr, ok := obj.Get("role")
	if !ok {
		return InvalidRequest(pre+".role: required (system, developer, user, assistant, tool or function)", pre+".role")
	}
	if m.Role, err = str(rr, pre, "role"); err != nil {
		return err
	}
	switch m.Role {
	case RoleSystem, RoleDeveloper, RoleUser, RoleAssistant, RoleTool, RoleFunction:
	default:
		d.outOfRange(pre+".role", "unknown role %q; use system, developer, user, assistant, tool or function", m.Role)
	}
	if m.Name, err = optString(obj, pre, "name"); err != nil {
		return err
	}
	if m.ToolCallID, err = optString(obj, pre, "tool_call_id"); err != nil {
		return err
	}
	if m.ToolCalls, err = d.toolCalls(pre, obj); err != nil {
		return err
	}

	craw, ok := present(obj, "content")
	if !ok {
		if m.Role == RoleAssistant && len(m.ToolCalls) > 0 {
			return nil
		}
		if _, sent := obj.Get("content"); !sent {
			return required(pre + ".content")
		}
		return typeErr(pre+".content", "string or array", craw)
	}
	switch kindOf(craw) {
	case kString:
		m.Content = []Part{{Type: PartText, Text: jsonview.Unquote(craw)}}
		return nil
	case kArray:
		items := jsonview.ParseArray(craw)
		m.Content = make([]Part, 0, len(items))
		for i, it := range items {
			p, keep, err := d.part(pre, i, it)
			if err != nil {
				return err
			}
			if keep {
				m.Content = append(m.Content, p)
			}
		}
		return nil
	}
	return typeErr(pre+".content", "string or array", craw)
}

// part decodes content part i of the message at pre.
func (d *decoder) part(msg string, i int, raw []byte) (Part, bool, *Error) {
	if kindOf(raw) != kObject {
		return Part{}, false, typeErr(index(msg+".content", i), kObject, raw)
	}
	obj := jsonview.ParseObject(raw)
	tr, ok := present(obj, "type")
	if !ok {
		return Part{}, false, required(index(msg+".content", i) + ".type")
	}
	if kindOf(tr) != kString {
		return Part{}, false, typeErr(index(msg+".content", i)+".type", kString, tr)
	}
	switch typ := jsonview.Unquote(tr); typ {
	case "text", "input_text":
		tx, ok := present(obj, "text")
		switch {
		case !ok:
			return Part{}, false, required(index(msg+".content", i) + ".text")
		case kindOf(tx) != kString:
			return Part{}, false, typeErr(index(msg+".content", i)+".text", kString, tx)
		}
		return Part{Type: PartText, Text: jsonview.Unquote(tx)}, true, nil
	case "refusal": // an assistant's refusal replayed from an OpenAI response
		rf, ok := present(obj, "refusal")
		switch {
		case !ok:
			return Part{}, false, required(index(msg+".content", i) + ".refusal")
		case kindOf(rf) != kString:
			return Part{}, false, typeErr(index(msg+".content", i)+".refusal", kString, rf)
		}
		return Part{Type: PartText, Text: jsonview.Unquote(rf)}, true, nil
	case "image_url":
		ir, ok := present(obj, "image_url")
		if !ok {
			return Part{}, false, required(index(msg+".content", i) + ".image_url")
		}
		switch kindOf(ir) {
		case kString:
			return Part{Type: PartImage, ImageURL: strings.TrimSpace(jsonview.Unquote(ir))}, true, nil
		case kObject:
			pre := index(msg+".content", i) + ".image_url"
			io := jsonview.ParseObject(ir)
			u, err := reqString(io, pre, "url")
			if err != nil {
				return Part{}, false, err
			}
			det, err := optString(io, pre, "detail")
			return Part{Type: PartImage, ImageURL: strings.TrimSpace(u), Detail: det}, true, err
		}
		return Part{}, false, typeErr(index(msg+".content", i)+".image_url", "string or object", ir)
	default:
		d.outOfRange(index(msg+".content", i)+".type", "unsupported content part type %q; use text, input_text, image_url or refusal", typ)
		return Part{}, false, nil
	}
}

// toolCalls decodes the tool_calls of the message at pre, and its legacy
// function_call.
func (d *decoder) toolCalls(pre string, obj object) ([]provider.ToolCall, *Error) {
	var calls []provider.ToolCall
	if raw, ok := present(obj, "tool_calls"); ok {
		tp := pre + ".tool_calls"
		if kindOf(raw) != kArray {
			return nil, typeErr(tp, kArray, raw)
		}
		for i, it := range jsonview.ParseArray(raw) {
			cp := index(tp, i)
			if kindOf(it) != kObject {
				return nil, typeErr(cp, kObject, it)
			}
			co := jsonview.ParseObject(it)
			id, err := optString(co, cp, "id")
			if err != nil {
				return nil, err
			}
			typ, err := optString(co, cp, "type")
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
			c, err := functionCall(fr, cp, "function")
			if err != nil {
				return nil, err
			}
			c.ID = id
			calls = append(calls, c)
		}
	}
	if raw, ok := present(obj, "function_call"); ok {
		c, err := functionCall(raw, pre, "function_call")
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// functionCall decodes {name, arguments}; arguments sent as an object
// instead of a JSON text are kept as their JSON text.
func functionCall(raw []byte, pre, key string) (provider.ToolCall, *Error) {
	fo, err := isObject(raw, pre, key)
	if err != nil {
		return provider.ToolCall{}, err
	}
	p := at(pre, key)
	name, err := reqString(fo, p, "name")
	if err != nil {
		return provider.ToolCall{}, err
	}
	c := provider.ToolCall{Name: name}
	if ar, ok := present(fo, "arguments"); ok {
		switch kindOf(ar) {
		case kString:
			c.Arguments = jsonview.Unquote(ar)
		case kObject:
			c.Arguments = string(ar)
		default:
			return c, typeErr(p+".arguments", kString, ar)
		}
	}
	return c, nil
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
	items := jsonview.ParseArray(raw)
	if len(items) == 0 {
		return nil, nil
	}
	defs := make([]provider.ToolDef, 0, len(items))
	for i, it := range items {
		p := index("tools", i)
		if kindOf(it) != kObject {
			return nil, typeErr(p, kObject, it)
		}
		to := jsonview.ParseObject(it)
		typ, err := reqString(to, p, "type")
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
		fo, err := isObject(fr, p, "function")
		if err != nil {
			return nil, err
		}
		fp := p + ".function"
		var def provider.ToolDef
		if def.Name, err = reqString(fo, fp, "name"); err != nil {
			return nil, err
		}
		if def.Description, err = optString(fo, fp, "description"); err != nil {
			return nil, err
		}
		if pr, ok := present(fo, "parameters"); ok {
			if kindOf(pr) != kObject {
				return nil, typeErr(fp+".parameters", kObject, pr)
			}
			def.Parameters = bytes.Clone(pr) // a view of the body: the caller may reuse its buffer
		}
		if _, err := optBool(fo, fp, "strict"); err != nil {
			return nil, err
		}
		switch {
		case !validToolName(def.Name):
			d.outOfRange(fp+".name", "must be 1-64 letters, digits, underscores or dashes, received %q", def.Name)
		case hasTool(defs, def.Name):
			d.outOfRange(fp+".name", "duplicate tool name %q", def.Name)
		}
		defs = append(defs, def)
	}
	return defs, nil
}

func hasTool(defs []provider.ToolDef, name string) bool {
	for _, t := range defs {
		if t.Name == name {
			return true
		}
	}
	return false
}

func (d *decoder) toolChoice(tools []provider.ToolDef) (json.RawMessage, *Error) {
	raw, ok := present(d.top, "tool_choice")
	if !ok {
		return nil, nil
	}
	switch kindOf(raw) {
	case kString:
		s := jsonview.Unquote(raw)
		switch s {
		case "none", "auto":
		case "required":
			if len(tools) == 0 {
				d.outOfRange("tool_choice", `"required" needs at least one tool in tools`)
			}
		default:
			d.outOfRange("tool_choice", `must be "none", "auto", "required" or {"type":"function","function":{"name":...}}, received %q`, s)
		}
		return appendString(nil, s), nil
	case kObject:
		co := jsonview.ParseObject(raw)
		typ, err := reqString(co, "tool_choice", "type")
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
		fo, err := isObject(fr, "tool_choice", "function")
		if err != nil {
			return nil, err
		}
		name, err := reqString(fo, "tool_choice.function", "name")
		if err != nil {
			return nil, err
		}
		if !hasTool(tools, name) {
			d.outOfRange("tool_choice.function.name", "no tool named %q in tools", name)
		}
		b := append([]byte(`{"type":"function","function":{"name":`), appendString(nil, name)...)
		return append(b, "}}"...), nil
	}
	return nil, typeErr("tool_choice", "string or object", raw)
}
