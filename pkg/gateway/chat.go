package gateway

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/openai"
	"github.com/openclaw/openclaw-go/pkg/provider"
	"github.com/openclaw/openclaw-go/pkg/session"
)

// bodyTimeout bounds how long a client may take to send its request body
// (408 after it).
const bodyTimeout = 30 * time.Second

// streamWriteTimeout bounds each write of a stream: a client that takes no
// byte for this long is gone, and its run is canceled. Nothing else ends a
// write to a client that stopped reading, not even the run timeout, so
// without it such a client would hold the model call, the session and a run
// slot forever. A variable so tests can shorten it.
var streamWriteTimeout = 30 * time.Second

// readBody reads the request body within the size limit and the body
// timeout. An oversized body is refused from Content-Length before any of it
// is read, and never read whole into memory otherwise.
func readBody(w http.ResponseWriter, r *http.Request, max int64, timeout time.Duration) ([]byte, error) {
	if r.ContentLength > max {
		return nil, openai.PayloadTooLarge()
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		// The rest of the body will not be read: close the connection after
		// the answer instead of letting the server wait for a stalled body
		// before it (which it does for small bodies, with no deadline once
		// cleared). A timed-out deadline stays in the past for the same
		// reason.
		w.Header().Set("Connection", "close")
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, openai.PayloadTooLarge()
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, openai.RequestTimeout()
		}
		return nil, openai.InvalidRequest("could not read the request body", "")
	}
	// The deadline was for the body only: it must not cut a long stream's
	// connection (and cancel its context) later. net/http clears it too
	// when the body hits EOF; this does not depend on that.
	_ = rc.SetReadDeadline(time.Time{})
	return body, nil
}

// chatCompletions serves POST /v1/chat/completions, in the order of checks
// the contract gives: enabled, auth, size, JSON, types, ranges, agent and
// session, model override, tools, images, no user message, run.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if err := s.endpointEnabled(r.URL.Path); err != nil {
		return err
	}
	if err := s.authorize(w, r); err != nil {
		return err
	}
	cfg := s.state.Load().cfg
	cc := cfg.Gateway.HTTP.Endpoints.ChatCompletions
	body, err := readBody(w, r, cc.MaxBodyBytes, s.bodyTimeout)
	if err != nil {
		return err
	}
	req, aerr := openai.DecodeChatRequest(body)
	if aerr != nil {
		return aerr
	}

	agentID, aerr := s.requestAgent(r, req.Model)
	if aerr != nil {
		return aerr
	}

	// Session: the header wins over user; else a new session per request.
	key, aerr := headerSessionKey(r, agentID)
	if aerr != nil {
		return aerr
	}
	stateless := false
	if key == "" {
		if u := strings.TrimSpace(req.User); u != "" {
			key = session.UserKey(agentID, "openai", u)
		} else {
			key, stateless = session.RandomKey(agentID, "openai"), true
		}
	}

	model := strings.TrimSpace(r.Header.Get("x-openclaw-model"))
	if model != "" {
		if err := s.runner.CheckModel(agentID, model); err != nil {
			return openai.UnknownModel(model)
		}
	}

	prompt, aerr := openai.BuildPrompt(req.Messages)
	if aerr != nil {
		return aerr
	}
	lim := openai.ImageLimits{MaxParts: cc.MaxImageParts, MaxTotalBytes: cc.MaxTotalImageBytes, AllowURL: cc.Images.AllowURL}
	urls, aerr := fetchImages(r.Context(), prompt.ImageParts, lim)
	if aerr != nil {
		return aerr
	}
	images, aerr := openai.DecodeImages(urls, lim)
	if aerr != nil {
		return aerr
	}
	if prompt.Empty() {
		return openai.MissingUserMessage()
	}

	areq := agent.Request{
		AgentID:           agentID,
		SessionKey:        key,
		NewSession:        stateless,
		Message:           prompt.Text,
		Images:            images,
		ExtraSystemPrompt: prompt.ExtraSystem,
		Model:             model,
		ClientTools:       req.ToolDefs(),
		ToolChoice:        req.ToolChoice,
		ToolResults:       toolResults(req.Messages),
		Params:            req.Params(),
		Timeout:           time.Duration(cfg.Agents.Defaults.TimeoutSeconds) * time.Second,
	}
	s.log.Debug("run", "agent", agentID, "session", key, "stream", req.Stream, "images", len(images))
	id, created, echo := openai.NewCompletionID(), time.Now().Unix(), req.EchoModel()
	if req.Stream {
		return s.streamCompletion(w, r, areq, openai.NewStream(id, echo, created), req.IncludeUsage)
	}
	res, err := s.runner.Run(r.Context(), areq)
	if err != nil {
		return s.runFailure(w, r, &areq, err)
	}
	writeJSON(w, http.StatusOK, openai.NewChatCompletion(id, echo, created, openai.Reply{
		Text: res.Text, ToolCalls: res.ToolCalls, FinishReason: res.StopReason, Usage: res.Usage,
	}))
	return nil
}

// requestAgent is the agent a request runs: the x-openclaw-agent-id (else
// x-openclaw-agent) header wins over the model field.
func (s *Server) requestAgent(r *http.Request, model string) (string, *openai.Error) {
	agentID := strings.TrimSpace(r.Header.Get("x-openclaw-agent-id"))
	if agentID == "" {
		agentID = strings.TrimSpace(r.Header.Get("x-openclaw-agent"))
	}
	if agentID == "" {
		id, isDefault, ok := openai.ParseAgentModel(model)
		if !ok {
			return "", openai.InvalidModel()
		}
		if !isDefault {
			agentID = id
		}
	}
	resolved, err := s.runner.ResolveAgent(agentID)
	if err != nil {
		return "", openai.UnknownAgent(strings.ToLower(agentID))
	}
	return resolved, nil
}

// headerSessionKey is the session named by x-openclaw-session-key for a
// run of agentID ("" when the header is absent), or the 400 refusing it.
func headerSessionKey(r *http.Request, agentID string) (string, *openai.Error) {
	h := strings.TrimSpace(r.Header.Get("x-openclaw-session-key"))
	if h == "" {
		return "", nil
	}
	k, err := session.KeyForAgent(agentID, h)
	if err != nil {
		msg := err.Error()
		for _, e := range []error{session.ErrReservedKey, session.ErrOtherAgent} {
			if errors.Is(err, e) {
				msg = strings.TrimPrefix(msg, e.Error()+": ")
			}
		}
		return "", openai.InvalidRequest("x-openclaw-session-key: "+msg, "")
	}
	return k, nil
}

// toolResults are the tool messages that end the conversation, answering
// the assistant's tool calls just before them. The runner hands them to the
// model as real tool results when the session's last run ended with those
// calls; otherwise the flattened prompt is the turn.
func toolResults(msgs []openai.Message) []provider.Message {
	i := len(msgs)
	for i > 0 && msgs[i-1].Role == openai.RoleTool {
		i--
	}
	if i == len(msgs) || i == 0 || msgs[i-1].Role != openai.RoleAssistant || len(msgs[i-1].ToolCalls) == 0 {
		return nil
	}
	names := map[string]string{}
	for _, c := range msgs[i-1].ToolCalls {
		names[c.ID] = c.Name
	}
	out := make([]provider.Message, 0, len(msgs)-i)
	for _, m := range msgs[i:] {
		name := m.Name
		if name == "" {
			name = names[m.ToolCallID]
		}
		out = append(out, provider.Message{Role: "tool", Content: m.Text(), ToolCallID: m.ToolCallID, ToolName: name})
	}
	return out
}

// streamCompletion runs the turn and writes it as server-sent events: the
// role chunk as soon as the run is accepted, one chunk per model delta,
// flushed at once, the finish chunk, the usage chunk when asked, [DONE].
func (s *Server) streamCompletion(w http.ResponseWriter, r *http.Request, areq agent.Request, st *openai.Stream, includeUsage bool) error {
	sse, ctx := newSSE(w, r)
	defer sse.close()
	send := sse.send
	buf := make([]byte, 0, 512)
	areq.OnEvent = func(ev agent.Event) {
		switch ev.Type {
		case agent.EventStart:
			sse.start()
			buf = st.AppendRole(buf[:0])
			send(buf)
		case agent.EventDelta:
			buf = st.AppendDelta(buf[:0], ev.Text)
			send(buf)
		}
	}
	defer func() {
		// A panic before the stream started is the router's: a JSON 500.
		// After it, a JSON body would corrupt the stream: end it properly.
		if v := recover(); v != nil {
			if !sse.started {
				panic(v)
			}
			s.log.Error("panic in handler", "path", r.URL.Path, "panic", v)
			send(openai.AppendDone(openai.AppendStreamError(buf[:0], openai.Internal())))
		}
	}()
	res, err := s.runner.Run(ctx, areq)
	if !sse.started {
		if err == nil {
			err = errors.New("run finished without starting")
		}
		return s.runFailure(w, r, &areq, err)
	}
	if err != nil {
		ae := s.failureError(r, &areq, err)
		if ae == nil { // the client went away: nobody to tell
			return nil
		}
		buf = openai.AppendStreamError(buf[:0], ae)
		buf = openai.AppendDone(buf)
		send(buf)
		return nil
	}
	buf = buf[:0]
	if len(res.ToolCalls) > 0 {
		buf = st.AppendToolCalls(buf, res.ToolCalls)
	} else if res.Text == "" {
		// The same words a non-streamed empty reply gets.
		buf = st.AppendDelta(buf, openai.NoResponseText)
	}
	buf = st.AppendFinish(buf, res.StopReason)
	if includeUsage {
		buf = st.AppendUsage(buf, res.Usage)
	}
	buf = openai.AppendDone(buf)
	send(buf)
	return nil
}

// runFailure answers a failed run that has not written anything yet.
func (s *Server) runFailure(w http.ResponseWriter, r *http.Request, areq *agent.Request, err error) error {
	ae := s.failureError(r, areq, err)
	if ae == nil {
		return nil
	}
	var pe *provider.Error
	if ae.Status == http.StatusTooManyRequests && errors.As(err, &pe) && pe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(pe.RetryAfter.Seconds()))))
	}
	return ae
}

// failureError maps a failed run to the client's error; nil when the client
// itself went away. The cause is logged here, never sent: provider messages
// can name hosts, accounts or keys.
func (s *Server) failureError(r *http.Request, areq *agent.Request, err error) *openai.Error {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) || isKind(err, agent.ErrCanceled) {
		s.log.Info("client went away, run canceled", "path", r.URL.Path)
		return nil
	}
	var ae *agent.Error
	if !errors.As(err, &ae) {
		s.log.Error("run failed", "err", err)
		return openai.Internal()
	}
	switch ae.Kind {
	case agent.ErrUnknownAgent:
		// Checked before the run; only a reload in between gets here.
		return openai.UnknownAgent(areq.AgentID)
	case agent.ErrUnknownModel:
		if areq.Model != "" {
			s.log.Warn("run failed", "err", err)
			return openai.UnknownModel(areq.Model)
		}
		// The agent's own model: the gateway's config is at fault, not
		// the client.
		s.log.Error("run failed: the configured model cannot be used", "err", err)
		return openai.Internal()
	case agent.ErrBadRequest:
		return openai.InvalidRequest(ae.Error(), "")
	case agent.ErrTimeout:
		s.log.Warn("run timed out", "err", err)
		return openai.UpstreamTimeout()
	case agent.ErrModel:
		s.log.Warn("model failed", "err", err)
		var pe *provider.Error
		if errors.As(err, &pe) {
			switch pe.Kind {
			case provider.ErrAuth:
				return openai.UpstreamAuth()
			case provider.ErrRateLimit:
				return openai.UpstreamRateLimited()
			case provider.ErrTimeout:
				return openai.UpstreamTimeout()
			}
		}
		return openai.Upstream()
	}
	s.log.Error("run failed", "err", err)
	return openai.Internal()
}

func isKind(err error, k agent.ErrorKind) bool {
	var ae *agent.Error
	return errors.As(err, &ae) && ae.Kind == k
}
