package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ProtocolVersion is the one protocol version this server speaks.
const ProtocolVersion = 3

// Frame types.
const (
	TypeReq   = "req"
	TypeRes   = "res"
	TypeEvent = "event"
)

// Error codes of ErrorShape, as the original gateway names them.
const (
	CodeInvalidRequest = "INVALID_REQUEST"
	CodeUnavailable    = "UNAVAILABLE"
	CodeAgentTimeout   = "AGENT_TIMEOUT"
)

// Limits on the parts of a request frame.
const (
	maxIDLen     = 256
	maxMethodLen = 128
)

// Request is a client's request frame: {"type":"req","id","method","params"}.
type Request struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// Response answers a request: {"type":"res","id","ok","payload"|"error"}.
// The agent method answers twice with the same id.
type Response struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *ErrorShape     `json:"error,omitempty"`
}

// Event is a server push: {"type":"event","event","payload","seq"}. Seq
// grows by one with every event a connection is sent after its handshake;
// the challenge before it has none.
type Event struct {
	Type    string          `json:"type"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Seq     *int64          `json:"seq,omitempty"`
}

// ErrorShape is the error of a failed response.
type ErrorShape struct {
	Code         string          `json:"code"`
	Message      string          `json:"message"`
	Details      json.RawMessage `json:"details,omitempty"`
	Retryable    *bool           `json:"retryable,omitempty"`
	RetryAfterMs *int64          `json:"retryAfterMs,omitempty"`
}

func (e *ErrorShape) Error() string { return e.Code + ": " + e.Message }

// Frame is any frame, as decoded by a client: Type says which fields apply.
type Frame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	OK      bool            `json:"ok,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *ErrorShape     `json:"error,omitempty"`
	Event   string          `json:"event,omitempty"`
	Seq     *int64          `json:"seq,omitempty"`
}

// ConnectParams are the params of the first request, "connect".
type ConnectParams struct {
	MinProtocol int         `json:"minProtocol"`
	MaxProtocol int         `json:"maxProtocol"`
	Client      ClientInfo  `json:"client"`
	Auth        ConnectAuth `json:"auth"`
}

// ClientInfo says who connects.
type ClientInfo struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Version     string `json:"version"`
	Platform    string `json:"platform"`
	Mode        string `json:"mode"`
	InstanceID  string `json:"instanceId,omitempty"`
}

// ConnectAuth carries the shared secret of the gateway's auth mode.
type ConnectAuth struct {
	Token    string `json:"token,omitempty"`
	Password string `json:"password,omitempty"`
}

// HelloOK is the payload of a successful connect.
type HelloOK struct {
	Type     string     `json:"type"`
	Protocol int        `json:"protocol"`
	Server   ServerInfo `json:"server"`
	Features Features   `json:"features"`
	Policy   Policy     `json:"policy"`
}

// ServerInfo names the server and this connection.
type ServerInfo struct {
	Version string `json:"version"`
	ConnID  string `json:"connId"`
}

// Features lists what the server offers.
type Features struct {
	Methods []string `json:"methods"`
	Events  []string `json:"events"`
}

// Policy tells the client the connection's limits.
type Policy struct {
	MaxPayload       int64 `json:"maxPayload"`
	MaxBufferedBytes int64 `json:"maxBufferedBytes"`
	TickIntervalMs   int64 `json:"tickIntervalMs"`
}

// AgentParams are the params of the agent method. Model is ours (the CLI's
// --model); the rest are the original's.
type AgentParams struct {
	Message           string `json:"message"`
	AgentID           string `json:"agentId,omitempty"`
	SessionKey        string `json:"sessionKey,omitempty"`
	SessionID         string `json:"sessionId,omitempty"`
	Model             string `json:"model,omitempty"`
	ExtraSystemPrompt string `json:"extraSystemPrompt,omitempty"`
	// Timeout is in seconds; nil means agents.defaults.timeoutSeconds, 0 none.
	Timeout        *int64 `json:"timeout,omitempty"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// AgentAccepted is the first answer to the agent method.
type AgentAccepted struct {
	RunID      string `json:"runId"`
	Status     string `json:"status"` // "accepted"
	AcceptedAt int64  `json:"acceptedAt"`
}

// AgentFinal is the second answer: status "ok" with a result, or "error"
// with a summary (and the response's error).
type AgentFinal struct {
	RunID   string       `json:"runId"`
	Status  string       `json:"status"` // "ok" | "error"
	Summary string       `json:"summary"`
	Result  *AgentResult `json:"result,omitempty"`
}

// AgentResult is a finished run's output.
type AgentResult struct {
	Payloads []Payload `json:"payloads"`
	Meta     RunMeta   `json:"meta"`
}

// Payload is one piece of a run's output.
type Payload struct {
	Text string `json:"text"`
}

// RunMeta describes a finished run.
type RunMeta struct {
	DurationMs int64      `json:"durationMs"`
	AgentMeta  AgentMeta  `json:"agentMeta"`
	AgentID    string     `json:"agentId"`
	SessionKey string     `json:"sessionKey"`
	StopReason string     `json:"stopReason,omitempty"`
	Tools      []ToolMeta `json:"tools"`
}

// AgentMeta is the session and model of a run, as the original reports them.
type AgentMeta struct {
	SessionID string `json:"sessionId"`
	Provider  string `json:"provider"`
	Model     string `json:"model"`
	Usage     Usage  `json:"usage"`
}

// Usage is a run's token counts, summed over its model calls.
type Usage struct {
	Input      int `json:"input"`
	Output     int `json:"output"`
	CacheRead  int `json:"cacheRead"`
	CacheWrite int `json:"cacheWrite"`
	Total      int `json:"total"`
}

// ToolMeta is one built-in tool call of a run.
type ToolMeta struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Result    string `json:"result"`
	IsError   bool   `json:"isError"`
}

// AgentEvent is the payload of an "agent" event. Seq grows by one per
// event of the run, from 1.
type AgentEvent struct {
	RunID  string         `json:"runId"`
	Seq    int64          `json:"seq"`
	Stream string         `json:"stream"` // lifecycle | assistant | tool | model | usage
	TS     int64          `json:"ts"`
	Data   map[string]any `json:"data"`
}

// ErrorDetails are the details of a failed run's error: the runner's kind,
// so that a client can tell a timeout or a usage mistake from a failure.
type ErrorDetails struct {
	Kind string `json:"kind"`
}

// errFrame is why a frame is not a valid request.
type errFrame struct{ msg string }

func (e *errFrame) Error() string { return "invalid request frame: " + e.msg }

// DecodeRequest decodes a request frame strictly: a JSON object with type
// "req", a non-empty string id and method, optional params, and no other
// fields. When the frame is not a valid request, the returned Request still
// carries the id if one could be read, so that an error can answer it.
func DecodeRequest(data []byte) (*Request, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, &errFrame{"not a JSON object"}
	}
	if dec.More() {
		return nil, &errFrame{"trailing data after the JSON object"}
	}
	req := &Request{}
	if v, ok := raw["id"]; ok {
		_ = json.Unmarshal(v, &req.ID)
	}
	str := func(name string, max int) (string, error) {
		v, ok := raw[name]
		if !ok {
			return "", &errFrame{fmt.Sprintf("missing %q", name)}
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", &errFrame{fmt.Sprintf("%q must be a string", name)}
		}
		if s == "" {
			return "", &errFrame{fmt.Sprintf("%q must not be empty", name)}
		}
		if len(s) > max {
			return "", &errFrame{fmt.Sprintf("%q is longer than %d bytes", name, max)}
		}
		return s, nil
	}
	typ, err := str("type", 16)
	if err != nil {
		return req, err
	}
	if typ != TypeReq {
		return req, &errFrame{fmt.Sprintf("type must be %q, not %q", TypeReq, typ)}
	}
	if req.ID, err = str("id", maxIDLen); err != nil {
		req.ID = ""
		return req, err
	}
	if req.Method, err = str("method", maxMethodLen); err != nil {
		return req, err
	}
	req.Type = typ
	for k := range raw {
		switch k {
		case "type", "id", "method", "params":
		default:
			return req, &errFrame{fmt.Sprintf("unexpected field %q", k)}
		}
	}
	if p, ok := raw["params"]; ok && !isNull(p) {
		req.Params = p
	}
	return req, nil
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// DecodeParams decodes a request's params into v: they must be absent, null
// or a JSON object, and may not hold fields v does not know.
func DecodeParams(p json.RawMessage, v any) error {
	if len(p) == 0 {
		return nil
	}
	if t := bytes.TrimSpace(p); len(t) == 0 || t[0] != '{' {
		return errors.New("params must be an object")
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(paramsError(err))
	}
	return nil
}

// paramsError words a decoding error without Go type names.
func paramsError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := te.Type.Kind().String()
		switch want {
		case "int", "int64", "int32":
			want = "an integer"
		case "string":
			want = "a string"
		case "struct", "map":
			want = "an object"
		case "bool":
			want = "a boolean"
		case "ptr":
			want = "a number"
		}
		return fmt.Sprintf("%s must be %s", te.Field, want)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

// decodeConnect checks the params of a connect request: the protocol range
// and the client's id, version, platform and mode are required; other fields
// the original's clients send (role, scopes, caps, device, locale, ...) are
// accepted and ignored.
func decodeConnect(p json.RawMessage) (*ConnectParams, error) {
	if len(p) == 0 {
		return nil, errors.New("params are required")
	}
	var raw struct {
		MinProtocol *int            `json:"minProtocol"`
		MaxProtocol *int            `json:"maxProtocol"`
		Client      *ClientInfo     `json:"client"`
		Auth        json.RawMessage `json:"auth"`
	}
	if t := bytes.TrimSpace(p); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("params must be an object")
	}
	if err := json.Unmarshal(p, &raw); err != nil {
		return nil, errors.New(paramsError(err))
	}
	switch {
	case raw.MinProtocol == nil:
		return nil, errors.New("minProtocol is required")
	case raw.MaxProtocol == nil:
		return nil, errors.New("maxProtocol is required")
	case *raw.MinProtocol < 1 || *raw.MaxProtocol < 1:
		return nil, errors.New("minProtocol and maxProtocol must be at least 1")
	case raw.Client == nil:
		return nil, errors.New("client is required")
	}
	c := raw.Client
	for _, f := range []struct{ name, v string }{{"client.id", c.ID}, {"client.version", c.Version}, {"client.platform", c.Platform}, {"client.mode", c.Mode}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, fmt.Errorf("%s is required", f.name)
		}
	}
	cp := &ConnectParams{MinProtocol: *raw.MinProtocol, MaxProtocol: *raw.MaxProtocol, Client: *c}
	if len(raw.Auth) > 0 && !isNull(raw.Auth) {
		var a struct {
			Token       *string `json:"token"`
			Password    *string `json:"password"`
			DeviceToken *string `json:"deviceToken"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw.Auth))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return nil, errors.New("auth: " + paramsError(err))
		}
		if a.Token != nil {
			cp.Auth.Token = *a.Token
		}
		if a.Password != nil {
			cp.Auth.Password = *a.Password
		}
	}
	return cp, nil
}

// marshal encodes v; the types here always encode.
func marshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ws: encode %T: %v", v, err))
	}
	return b
}
