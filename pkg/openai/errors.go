// Package openai is the OpenAI wire format of the gateway's
// POST /v1/chat/completions and GET /v1/models: request decoding and
// validation, the flattening of a message list into one agent prompt, image
// decoding, the response and stream chunk types, and the error body. It is
// pure: no HTTP server code, so the handlers and the tests share one
// definition of the contract (SPEC section 7).
package openai

import (
	"net/http"
)

// Error types of the error body.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeNotFound       = "not_found_error"
	TypeUnauthorized   = "unauthorized"
	TypeRateLimited    = "rate_limited"     // the gateway's failed-auth lockout
	TypeRateLimit      = "rate_limit_error" // the upstream provider's 429
	TypeAPI            = "api_error"
)

// Messages fixed by the contract.
const (
	MsgUnauthorized       = "Unauthorized"
	MsgAuthLocked         = "Too many failed authentication attempts. Please try again later."
	MsgPayloadTooLarge    = "Payload too large"
	MsgInvalidModel       = "Invalid `model`. Use `openclaw` or `openclaw/<agentId>`."
	MsgMissingUserMessage = "Missing user message in `messages`."
	MsgInternal           = "internal error"
	MsgUpstream           = "upstream provider error"
	// NoResponseText is the reply content when the agent produced no text.
	NoResponseText = "No response from OpenClaw."
	// ImageOnlyText is the text of a current user turn that has images and
	// no text.
	ImageOnlyText = "User sent image(s) with no text."
)

// Error is an API error: Status is the HTTP status, the rest is sent as
// {"error":{"message","type","param","code"}} with param and code null when
// empty. Handlers return it as an error; json.Marshal of an *Error gives the
// body.
type Error struct {
	Status  int
	Message string
	Type    string
	Param   string
	Code    string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Body is the value to marshal as the response body.
func (e *Error) Body() any {
	return errorBody{Error: errorInner{Message: e.Message, Type: e.Type, Param: strOrNil(e.Param), Code: strOrNil(e.Code)}}
}

// MarshalJSON encodes the error body, so an *Error can be passed to
// json.Marshal as is.
func (e *Error) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(e.Message))
	b = append(b, `{"error":{"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"param":`...)
	b = appendStringOrNull(b, e.Param)
	b = append(b, `,"code":`...)
	b = appendStringOrNull(b, e.Code)
	return append(b, "}}"...), nil
}

type errorBody struct {
	Error errorInner `json:"error"`
}

type errorInner struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// InvalidRequest is a 400 invalid_request_error; param names the offending
// parameter ("" for none).
func InvalidRequest(msg, param string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: msg, Type: TypeInvalidRequest, Param: param}
}

// NotFound is a 404 not_found_error.
func NotFound(msg string) *Error {
	return &Error{Status: http.StatusNotFound, Message: msg, Type: TypeNotFound}
}

// Unauthorized is the 401 of a missing or wrong secret.
func Unauthorized() *Error {
	return &Error{Status: http.StatusUnauthorized, Message: MsgUnauthorized, Type: TypeUnauthorized}
}

// AuthLocked is the 429 of a client locked out after repeated auth
// failures. The caller sets Retry-After and x-should-retry: false.
func AuthLocked() *Error {
	return &Error{Status: http.StatusTooManyRequests, Message: MsgAuthLocked, Type: TypeRateLimited}
}

// PayloadTooLarge is the 413 of a body over the configured maximum.
func PayloadTooLarge() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Message: MsgPayloadTooLarge, Type: TypeInvalidRequest}
}

// RequestTimeout is the 408 of a body that arrived too slowly.
func RequestTimeout() *Error {
	return &Error{Status: http.StatusRequestTimeout, Message: "Request body timeout", Type: TypeInvalidRequest}
}

// InvalidModel is the 400 of a `model` that names no agent.
func InvalidModel() *Error {
	return InvalidRequest(MsgInvalidModel, "model")
}

// UnknownAgent is the 400 of an agent id (from the model or a header) that
// is not configured.
func UnknownAgent(id string) *Error {
	return InvalidRequest("Unknown agent '"+id+"'.", "")
}

// UnknownModel is the 404 of an x-openclaw-model outside the agent's
// allowlist or catalog.
func UnknownModel(ref string) *Error {
	return &Error{Status: http.StatusNotFound, Message: "Unknown model: " + ref, Type: TypeInvalidRequest, Code: "model_not_found"}
}

// MissingUserMessage is the 400 of a request whose current turn has neither
// text nor images (see Prompt.Empty).
func MissingUserMessage() *Error {
	return InvalidRequest(MsgMissingUserMessage, "messages")
}

// Internal is the 500 sent to the client; the cause is logged, never sent.
func Internal() *Error {
	return &Error{Status: http.StatusInternalServerError, Message: MsgInternal, Type: TypeAPI}
}

// Upstream is the 502 of a model provider failing (5xx, garbage) after
// every fallback.
func Upstream() *Error {
	return &Error{Status: http.StatusBadGateway, Message: MsgUpstream, Type: TypeAPI}
}

// UpstreamAuth is the 502 of a model provider rejecting the gateway's own
// credentials: not a 401, which clients would take as their key being wrong.
func UpstreamAuth() *Error {
	return &Error{Status: http.StatusBadGateway, Type: TypeAPI,
		Message: "upstream provider rejected the gateway's credentials; check the provider's API key in the gateway's config"}
}

// UpstreamTimeout is the 504 of a model provider not answering in time.
func UpstreamTimeout() *Error {
	return &Error{Status: http.StatusGatewayTimeout, Message: "upstream provider timed out", Type: TypeAPI}
}

// UpstreamRateLimited is the 429 of a model provider's rate limit; the
// caller copies its Retry-After.
func UpstreamRateLimited() *Error {
	return &Error{Status: http.StatusTooManyRequests, Message: "upstream provider rate limit reached; try again later", Type: TypeRateLimit}
}
