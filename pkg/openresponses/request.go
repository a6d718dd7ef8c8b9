// Package openresponses is the wire format of the gateway's
// POST /v1/responses (the OpenAI Responses API, as OpenResponses
// describes it): request decoding and validation, the conversion of input
// items into the chat message list that pkg/openai flattens into one agent
// prompt, the response and output item types, and the server-sent event
// encoder. Errors are pkg/openai's *Error, so both endpoints send one error
// body. Like pkg/openai it is pure: no HTTP server code.
package openresponses

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/openclaw/openclaw-go/pkg/jsonview"
	"math"
	"strconv"
	"strings"

	"github.com/openclaw/openclaw-go/pkg/openai"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Item types of `input`.
const (
	ItemMessage            = "message"
	ItemFunctionCall       = "function_call"
	ItemFunctionCallOutput = "function_call_output"
	ItemReasoning          = "reasoning"      // accepted, left out of the prompt
	ItemReference          = "item_reference" // accepted, left out of the prompt
)

// Message roles of `input` message items.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleSystem    = "system"
	RoleDeveloper = "developer"
)

// MsgMissingUserMessage is the 400 of a request with nothing to answer.
const MsgMissingUserMessage = "Missing user message in `input`."

// MissingUserMessage is the 400 of a request whose input has no user text,
// image or function call output to answer.
func MissingUserMessage() *openai.Error {
	return openai.InvalidRequest(MsgMissingUserMessage, "input")
}

// PreviousResponseNotFound is the 404 of a previous_response_id the gateway
// does not know (never issued, or forgotten: the map is bounded).
func PreviousResponseNotFound(id string) *openai.Error {
	return &openai.Error{Status: 404, Type: openai.TypeInvalidRequest, Param: "previous_response_id", Code: "previous_response_not_found",
		Message: fmt.Sprintf("Previous response with id '%s' not found.", id)}
}

// Request is a decoded and validated POST /v1/responses body. Optional
// numbers are nil when absent or null.
type Request struct {
	Model        string // required
	Input        []Item // a string input is one user message; reasoning and item references are dropped
	Instructions string
	Tools        []provider.ToolDef
	// ToolChoice is in the chat completions shape the providers take:
	// "none" | "auto" | "required" | {"type":"function","function":{"name":..}}.
	ToolChoice         json.RawMessage
	Stream             bool
	MaxOutputTokens    *int
	Temperature        *float64
	TopP               *float64
	User               string
	PreviousResponseID string
}

// Item is one entry of `input`.
type Item struct {
	Type      string
	Role      string        // message
	Content   []openai.Part // message: text and image parts
	CallID    string        // function_call, function_call_output
	Name      string        // function_call
	Arguments string        // function_call
	Output    string        // function_call_output: the text, parts joined with "\n"
}

// Params are the generation parameters to pass to the model.
func (r *Request) Params() provider.Params {
	return provider.Params{Temperature: r.Temperature, TopP: r.TopP, MaxTokens: r.MaxOutputTokens}
}

// Messages converts the input into the chat message list openai.BuildPrompt
// flattens: message items keep their role and parts, function_call items
// are assistant tool calls, function_call_output items are tool turns
// (labelled with the function's name when a function_call item in the input
// gives it). The current turn is thereby the last user message or function
// call output.
func (r *Request) Messages() []openai.Message {
	names := map[string]string{}
	for _, it := range r.Input {
		if it.Type == ItemFunctionCall {
			names[it.CallID] = it.Name
		}
	}
	msgs := make([]openai.Message, 0, len(r.Input))
	for _, it := range r.Input {
		switch it.Type {
		case ItemMessage:
			msgs = append(msgs, openai.Message{Role: it.Role, Content: it.Content})
		case ItemFunctionCall:
			msgs = append(msgs, openai.Message{Role: openai.RoleAssistant,
				ToolCalls: []provider.ToolCall{{ID: it.CallID, Name: it.Name, Arguments: it.Arguments}}})
		case ItemFunctionCallOutput:
			msgs = append(msgs, openai.Message{Role: openai.RoleTool, Name: names[it.CallID], ToolCallID: it.CallID,
				Content: []openai.Part{{Type: openai.PartText, Text: it.Output}}})
		}
	}
	return msgs
}

// ToolResults are the function call outputs after the last user message:
// the answers to the client tool calls a previous response ended with. The
// runner gives them to the model as real tool results when the session's
// last run ended with those calls; nil when the input ends with a user
// message.
func (r *Request) ToolResults() []provider.Message {
	var out []provider.Message
	for i := len(r.Input) - 1; i >= 0; i-- {
		it := &r.Input[i]
		if it.Type == ItemMessage && it.Role == RoleUser {
			break
		}
		if it.Type == ItemFunctionCallOutput {
			out = append(out, provider.Message{Role: "tool", ToolCallID: it.CallID, Content: it.Output})
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// fields are the top-level fields a request may have. Those after
// previous_response_id are accepted and ignored.
var fields = []string{
	"model", "input", "instructions", "tools", "tool_choice", "stream", "max_output_tokens",
	"temperature", "top_p", "user", "previous_response_id",
	"metadata", "store", "parallel_tool_calls", "max_tool_calls", "reasoning", "truncation",
}

// DecodeRequest decodes and validates a request body in the contract's
// order: JSON, then unknown top-level fields (in body order), then the type
// of every field, then ranges and enumerations. The first type error wins
// over any range error. An empty body is {}, which lacks `model`. Every
// error is a 400 invalid_request_error whose message starts with the
// field's path and whose param is that path; an unknown field reads
// "Unknown parameter: '<name>'." with code unknown_parameter, as OpenAI
// says it.
func DecodeRequest(body []byte) (*Request, *openai.Error) {
	i := jsonview.SkipSpace(body, 0)
	if i == len(body) {
		body, i = []byte("{}"), 0
	}
	if !json.Valid(body) {
		err := json.Unmarshal(body, new(json.RawMessage))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, openai.InvalidRequest(fmt.Sprintf("invalid JSON body: %s (at byte %d)", se.Error(), se.Offset), "")
		}
		return nil, openai.InvalidRequest("invalid JSON body: "+err.Error(), "")
	}
	if err := openai.CheckUTF8(body); err != nil {
		return nil, err
	}
	if body[i] != '{' {
		return nil, openai.InvalidRequest("request body must be a JSON object, received "+jsonview.KindOf(body[i:]), "")
	}
	top := jsonview.ParseObject(body[i:])
	for _, m := range top {
		if !known(string(m.Key)) {
			return nil, &openai.Error{Status: 400, Type: openai.TypeInvalidRequest, Param: string(m.Key), Code: "unknown_parameter",
				Message: fmt.Sprintf("Unknown parameter: '%s'.", m.Key)}
		}
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

func known(key string) bool {
	for _, f := range fields {
		if f == key {
			return true
		}
	}
	return false
}

// decoder returns type errors at once and keeps the first range error for
// after every type has been checked.
type decoder struct {
	top      object
	rangeErr *openai.Error
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
		d.rangeErr = openai.InvalidRequest(path+": "+fmt.Sprintf(format, args...), path)
	}
}

func typeErr(path, want string, raw []byte) *openai.Error {
	return openai.InvalidRequest(path+": expected "+want+", received "+jsonview.KindOf(raw), path)
}

func required(path string) *openai.Error {
	return openai.InvalidRequest(path+": required", path)
}

// present returns obj's value of key unless it is absent or null.
func present(obj object, key string) ([]byte, bool) {
	raw, ok := obj.Get(key)
	if !ok || jsonview.KindOf(raw) == jsonview.KindNull {
		return nil, false
	}
	return raw, true
}

func str(raw []byte, path string) (string, *openai.Error) {
	if jsonview.KindOf(raw) != jsonview.KindString {
		return "", typeErr(path, jsonview.KindString, raw)
	}
	return jsonview.Unquote(raw), nil
}

func reqString(obj object, pre, key string) (string, *openai.Error) {
	raw, ok := present(obj, key)
	if !ok {
		return "", required(at(pre, key))
	}
	return str(raw, at(pre, key))
}

func optString(obj object, pre, key string) (string, *openai.Error) {
	raw, ok := present(obj, key)
	if !ok {
		return "", nil
	}
	return str(raw, at(pre, key))
}

func optBool(obj object, pre, key string) (*bool, *openai.Error) {
	raw, ok := present(obj, key)
	if !ok {
		return nil, nil
	}
	if jsonview.KindOf(raw) != jsonview.KindBoolean {
		return nil, typeErr(at(pre, key), jsonview.KindBoolean, raw)
	}
	b := raw[0] == 't'
	return &b, nil
}

func optObject(obj object, pre, key string) (object, bool, *openai.Error) {
	raw, ok := present(obj, key)
	if !ok {
		return nil, false, nil
	}
	if jsonview.KindOf(raw) != jsonview.KindObject {
		return nil, false, typeErr(at(pre, key), jsonview.KindObject, raw)
	}
	return jsonview.ParseObject(raw), true, nil
}

func (d *decoder) numberIn(key string, lo, hi float64) (*float64, *openai.Error) {
	raw, ok := present(d.top, key)
	if !ok {
		return nil, nil
	}
	if jsonview.KindOf(raw) != jsonview.KindNumber {
		return nil, typeErr(key, jsonview.KindNumber, raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f < lo || f > hi { // a parse error is a number beyond float64
		d.outOfRange(key, "must be between %s and %s, received %s", fmtNum(lo), fmtNum(hi), raw)
		return nil, nil
	}
	return &f, nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// integer decodes an optional top-level integer (1.0 and 1e3 count); big
// is set when it does not fit in an int64.
func (d *decoder) integer(key string) (n int64, raw []byte, set, big bool, err *openai.Error) {
	raw, ok := present(d.top, key)
	if !ok {
		return 0, nil, false, false, nil
	}
	if jsonview.KindOf(raw) != jsonview.KindNumber {
		return 0, raw, false, false, typeErr(key, "integer", raw)
	}
	if n, perr := strconv.ParseInt(string(raw), 10, 64); perr == nil {
		return n, raw, true, false, nil
	}
	f, perr := strconv.ParseFloat(string(raw), 64)
	switch {
	case perr != nil:
		return 0, raw, true, true, nil
	case f != math.Trunc(f):
		return 0, raw, false, false, typeErr(key, "integer", raw)
	case f >= math.MaxInt64 || f < math.MinInt64:
		return 0, raw, true, true, nil
	}
	return int64(f), raw, true, false, nil
}

func (d *decoder) positive(key string) (*int, *openai.Error) {
	n, raw, set, big, err := d.integer(key)
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

func (d *decoder) request() (*Request, *openai.Error) {
	r := &Request{}
	top := d.top
	var err *openai.Error

	if r.Model, err = reqString(top, "", "model"); err != nil {
		return nil, err
	}
	if raw, ok := present(top, "input"); ok {
		if r.Input, err = d.input(raw); err != nil {
			return nil, err
		}
	}
	if r.Instructions, err = optString(top, "", "instructions"); err != nil {
		return nil, err
	}
	if r.Tools, err = d.tools(); err != nil {
		return nil, err
	}
	if r.ToolChoice, err = d.toolChoice(r.Tools); err != nil {
		return nil, err
	}
	stream, err := optBool(top, "", "stream")
	if err != nil {
		return nil, err
	}
	r.Stream = stream != nil && *stream
	if r.MaxOutputTokens, err = d.positive("max_output_tokens"); err != nil {
		return nil, err
	}
	if r.Temperature, err = d.numberIn("temperature", 0, 2); err != nil {
		return nil, err
	}
	if r.TopP, err = d.numberIn("top_p", 0, 1); err != nil {
		return nil, err
	}
	if r.User, err = optString(top, "", "user"); err != nil {
		return nil, err
	}
	if len(r.User) > openai.MaxUserBytes {
		d.outOfRange("user", "must be at most %d bytes, received %d", openai.MaxUserBytes, len(r.User))
	}
	if r.PreviousResponseID, err = optString(top, "", "previous_response_id"); err != nil {
		return nil, err
	}
	if r.PreviousResponseID != "" && strings.TrimSpace(r.PreviousResponseID) == "" {
		d.outOfRange("previous_response_id", "must not be blank")
	}

	// Accepted and ignored, but still of the right type.
	if _, _, err = optObject(top, "", "metadata"); err != nil {
		return nil, err
	}
	if _, err = optBool(top, "", "store"); err != nil {
		return nil, err
	}
	if _, err = optBool(top, "", "parallel_tool_calls"); err != nil {
		return nil, err
	}
	if _, err = d.positive("max_tool_calls"); err != nil {
		return nil, err
	}
	if _, _, err = optObject(top, "", "reasoning"); err != nil {
		return nil, err
	}
	if _, err = optString(top, "", "truncation"); err != nil {
		return nil, err
	}
	return r, nil
}

// input decodes `input`: a string (one user message) or an array of items.
func (d *decoder) input(raw []byte) ([]Item, *openai.Error) {
	switch jsonview.KindOf(raw) {
	case jsonview.KindString:
		return []Item{{Type: ItemMessage, Role: RoleUser, Content: []openai.Part{{Type: openai.PartText, Text: jsonview.Unquote(raw)}}}}, nil
	case jsonview.KindArray:
	default:
		return nil, typeErr("input", "string or array", raw)
	}
	elems := jsonview.ParseArray(raw)
	items := make([]Item, 0, len(elems))
	for i, el := range elems {
		p := index("input", i)
		if jsonview.KindOf(el) != jsonview.KindObject {
			return nil, typeErr(p, jsonview.KindObject, el)
		}
		obj := jsonview.ParseObject(el)
		typ, err := optString(obj, p, "type")
		if err != nil {
			return nil, err
		}
		if typ == "" { // an "easy" message: {role, content}
			typ = ItemMessage
		}
		it := Item{Type: typ}
		switch typ {
		case ItemMessage:
			err = d.message(p, obj, &it)
		case ItemFunctionCall:
			if it.CallID, err = reqString(obj, p, "call_id"); err != nil {
				return nil, err
			}
			if it.Name, err = reqString(obj, p, "name"); err != nil {
				return nil, err
			}
			if it.Arguments, err = optString(obj, p, "arguments"); err != nil {
				return nil, err
			}
			_, err = optString(obj, p, "id")
		case ItemFunctionCallOutput:
			if it.CallID, err = reqString(obj, p, "call_id"); err != nil {
				return nil, err
			}
			it.Output, err = d.output(p, obj)
		case ItemReasoning, ItemReference:
			continue
		default:
			d.outOfRange(p+".type", "unsupported item type %q; use message, function_call, function_call_output, reasoning or item_reference", typ)
			continue
		}
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func (d *decoder) message(pre string, obj object, it *Item) *openai.Error {
	var err *openai.Error
	if it.Role, err = reqString(obj, pre, "role"); err != nil {
		return err
	}
	switch it.Role {
	case RoleUser, RoleAssistant, RoleSystem, RoleDeveloper:
	default:
		d.outOfRange(pre+".role", "unknown role %q; use user, assistant, system or developer", it.Role)
	}
	craw, ok := present(obj, "content")
	if !ok {
		return required(pre + ".content")
	}
	switch jsonview.KindOf(craw) {
	case jsonview.KindString:
		it.Content = []openai.Part{{Type: openai.PartText, Text: jsonview.Unquote(craw)}}
		return nil
	case jsonview.KindArray:
	default:
		return typeErr(pre+".content", "string or array", craw)
	}
	parts := jsonview.ParseArray(craw)
	it.Content = make([]openai.Part, 0, len(parts))
	for j, praw := range parts {
		p, keep, err := d.part(index(pre+".content", j), praw)
		if err != nil {
			return err
		}
		if keep {
			it.Content = append(it.Content, p)
		}
	}
	return nil
}

// part decodes one content part of a message.
func (d *decoder) part(pre string, raw []byte) (openai.Part, bool, *openai.Error) {
	if jsonview.KindOf(raw) != jsonview.KindObject {
		return openai.Part{}, false, typeErr(pre, jsonview.KindObject, raw)
	}
	obj := jsonview.ParseObject(raw)
	typ, err := reqString(obj, pre, "type")
	if err != nil {
		return openai.Part{}, false, err
	}
	switch typ {
	case "input_text", "output_text", "text":
		t, err := reqString(obj, pre, "text")
		return openai.Part{Type: openai.PartText, Text: t}, err == nil, err
	case "refusal": // an assistant's refusal replayed from an earlier response
		t, err := reqString(obj, pre, "refusal")
		return openai.Part{Type: openai.PartText, Text: t}, err == nil, err
	case "input_image":
		return d.image(pre, obj)
	case "input_file":
		d.outOfRange(pre+".type", "input_file is not supported; send the file's text as an input_text part")
		return openai.Part{}, false, nil
	default:
		d.outOfRange(pre+".type", "unsupported content part type %q; use input_text, input_image, output_text or refusal", typ)
		return openai.Part{}, false, nil
	}
}

// image decodes an input_image part: the OpenAI shape {image_url, detail}
// or the OpenResponses shape {source: {type: base64, media_type, data} |
// {type: url, url}}. The URL is checked later, by openai.DecodeImages.
func (d *decoder) image(pre string, obj object) (openai.Part, bool, *openai.Error) {
	det, err := optString(obj, pre, "detail")
	if err != nil {
		return openai.Part{}, false, err
	}
	if raw, ok := present(obj, "image_url"); ok {
		u, err := str(raw, pre+".image_url")
		return openai.Part{Type: openai.PartImage, ImageURL: strings.TrimSpace(u), Detail: det}, err == nil, err
	}
	src, ok, err := optObject(obj, pre, "source")
	if err != nil {
		return openai.Part{}, false, err
	}
	if !ok {
		if _, ok := present(obj, "file_id"); ok {
			d.outOfRange(pre+".file_id", "uploaded files are not supported; send the image as image_url data:<mime>;base64,<data>")
			return openai.Part{}, false, nil
		}
		return openai.Part{}, false, required(pre + ".image_url")
	}
	sp := pre + ".source"
	typ, err := reqString(src, sp, "type")
	if err != nil {
		return openai.Part{}, false, err
	}
	switch typ {
	case "base64":
		mt, err := reqString(src, sp, "media_type")
		if err != nil {
			return openai.Part{}, false, err
		}
		data, err := reqString(src, sp, "data")
		if err != nil {
			return openai.Part{}, false, err
		}
		return openai.Part{Type: openai.PartImage, ImageURL: "data:" + mt + ";base64," + data, Detail: det}, true, nil
	case "url":
		u, err := reqString(src, sp, "url")
		return openai.Part{Type: openai.PartImage, ImageURL: strings.TrimSpace(u), Detail: det}, err == nil, err
	}
	d.outOfRange(sp+".type", "unsupported image source type %q; use base64 or url", typ)
	return openai.Part{}, false, nil
}

// output decodes a function_call_output's output: a string, or text parts
// joined with "\n".
func (d *decoder) output(pre string, obj object) (string, *openai.Error) {
	raw, ok := present(obj, "output")
	if !ok {
		return "", required(pre + ".output")
	}
	switch jsonview.KindOf(raw) {
	case jsonview.KindString:
		return jsonview.Unquote(raw), nil
	case jsonview.KindArray:
	default:
		return "", typeErr(pre+".output", "string or array", raw)
	}
	var texts []string
	for j, praw := range jsonview.ParseArray(raw) {
		p, keep, err := d.part(index(pre+".output", j), praw)
		if err != nil {
			return "", err
		}
		if !keep {
			continue
		}
		if p.Type != openai.PartText {
			d.outOfRange(index(pre+".output", j)+".type", "function call outputs take text parts only")
			continue
		}
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, "\n"), nil
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

func hasTool(defs []provider.ToolDef, name string) bool {
	for _, t := range defs {
		if t.Name == name {
			return true
		}
	}
	return false
}

// tools decodes function tools in the flat Responses shape {type, name,
// description, parameters, strict}; the chat completions shape with the
// fields under `function` is read too.
func (d *decoder) tools() ([]provider.ToolDef, *openai.Error) {
	raw, ok := present(d.top, "tools")
	if !ok {
		return nil, nil
	}
	if jsonview.KindOf(raw) != jsonview.KindArray {
		return nil, typeErr("tools", jsonview.KindArray, raw)
	}
	elems := jsonview.ParseArray(raw)
	if len(elems) == 0 {
		return nil, nil
	}
	defs := make([]provider.ToolDef, 0, len(elems))
	for i, el := range elems {
		p := index("tools", i)
		if jsonview.KindOf(el) != jsonview.KindObject {
			return nil, typeErr(p, jsonview.KindObject, el)
		}
		to := jsonview.ParseObject(el)
		typ, err := reqString(to, p, "type")
		if err != nil {
			return nil, err
		}
		if typ != "function" {
			d.outOfRange(p+".type", "unsupported tool type %q; only function tools are supported", typ)
			continue
		}
		fo, fp := to, p
		if nested, ok, err := optObject(to, p, "function"); err != nil {
			return nil, err
		} else if ok {
			fo, fp = nested, p+".function"
		}
		var def provider.ToolDef
		if def.Name, err = reqString(fo, fp, "name"); err != nil {
			return nil, err
		}
		if def.Description, err = optString(fo, fp, "description"); err != nil {
			return nil, err
		}
		if pr, ok := present(fo, "parameters"); ok {
			if jsonview.KindOf(pr) != jsonview.KindObject {
				return nil, typeErr(fp+".parameters", jsonview.KindObject, pr)
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

// toolChoice decodes "none" | "auto" | "required" | {"type":"function",
// "name":..} into the chat completions shape.
func (d *decoder) toolChoice(tools []provider.ToolDef) (json.RawMessage, *openai.Error) {
	raw, ok := present(d.top, "tool_choice")
	if !ok {
		return nil, nil
	}
	switch jsonview.KindOf(raw) {
	case jsonview.KindString:
		s := jsonview.Unquote(raw)
		switch s {
		case "none", "auto":
		case "required":
			if len(tools) == 0 {
				d.outOfRange("tool_choice", `"required" needs at least one function tool in tools`)
			}
		default:
			d.outOfRange("tool_choice", `must be "none", "auto", "required" or {"type":"function","name":...}, received %q`, s)
		}
		b, _ := json.Marshal(s)
		return b, nil
	case jsonview.KindObject:
		co := jsonview.ParseObject(raw)
		typ, err := reqString(co, "tool_choice", "type")
		if err != nil {
			return nil, err
		}
		if typ != "function" {
			d.outOfRange("tool_choice.type", "unsupported tool_choice type %q; use function", typ)
			return nil, nil
		}
		fo, fp := co, "tool_choice"
		if nested, ok, err := optObject(co, fp, "function"); err != nil {
			return nil, err
		} else if ok {
			fo, fp = nested, "tool_choice.function"
		}
		name, err := reqString(fo, fp, "name")
		if err != nil {
			return nil, err
		}
		if !hasTool(tools, name) {
			d.outOfRange(fp+".name", "no function tool named %q in tools", name)
		}
		var c struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		c.Type, c.Function.Name = "function", name
		b, _ := json.Marshal(c)
		return b, nil
	}
	return nil, typeErr("tool_choice", "string or object", raw)
}
