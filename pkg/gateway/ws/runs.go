package ws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/session"
)

var (
	errAborted    = errors.New("run aborted by agent.abort")
	errClientGone = errors.New("no client waits for the run any more")
)

const maxIdempotencyKey = 256

// run is one agent run started over the protocol. Its events go to every
// connection that waits for it (the one that started it and those that
// repeated its idempotency key); its final response to every request that
// asked for it.
type run struct {
	id       string
	key      string // idempotency key; "" for none
	cancel   context.CancelCauseFunc
	accepted int64 // ms

	mu         sync.Mutex
	seq        int64
	subs       map[*conn][]string // connection -> request ids awaiting the final response
	ended      bool               // a lifecycle end or error event went out
	done       bool
	status     string
	final      func(reqID string) []byte
	finishedAt time.Time
}

func (r *run) acceptedFrame(reqID string) []byte {
	return marshal(Response{Type: TypeRes, ID: reqID, OK: true,
		Payload: marshal(AgentAccepted{RunID: r.id, Status: "accepted", AcceptedAt: r.accepted})})
}

// emit sends one event of the run to every connection waiting for it.
func (r *run) emit(stream string, data map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if stream == "lifecycle" && (data["phase"] == "end" || data["phase"] == "error") {
		r.ended = true
	}
	r.seq++
	p := marshal(AgentEvent{RunID: r.id, Seq: r.seq, Stream: stream, TS: time.Now().UnixMilli(), Data: data})
	for c := range r.subs {
		c.sendEvent("agent", p, false)
	}
}

// join makes c wait for the run too (a repeated idempotency key): it is
// answered "accepted" now and the final response at the end, or the final
// response at once when the run is over.
func (r *run) join(c *conn, reqID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		c.sendRaw(r.final(reqID))
		return
	}
	c.sendRaw(r.acceptedFrame(reqID))
	r.subs[c] = append(r.subs[c], reqID)
	c.addRun(r)
}

// leave stops c waiting; the run is canceled when nobody waits any more.
func (r *run) leave(c *conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	delete(r.subs, c)
	if len(r.subs) == 0 {
		r.cancel(errClientGone)
	}
}

// finish sends the final response to every request waiting for it.
func (r *run) finish(status string, final func(reqID string) []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done, r.status, r.final, r.finishedAt = true, status, final, time.Now()
	for c, ids := range r.subs {
		for _, id := range ids {
			c.sendRaw(final(id))
		}
		c.removeRun(r)
	}
	r.subs = nil
}

func (c *conn) addRun(r *run) {
	c.mu.Lock()
	c.runs[r] = struct{}{}
	c.mu.Unlock()
}

func (c *conn) removeRun(r *run) {
	c.mu.Lock()
	delete(c.runs, r)
	c.mu.Unlock()
}

func (c *conn) activeRuns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.runs)
}

// lookupKey returns the run of an idempotency key, if it is still kept.
func (s *Server) lookupKey(key string) *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byKey[key]
	if r == nil {
		return nil
	}
	r.mu.Lock()
	stale := r.done && time.Since(r.finishedAt) > dedupeTTL
	r.mu.Unlock()
	if stale {
		delete(s.byKey, key)
		return nil
	}
	return r
}

// startAgent handles the agent method: it checks the params, answers
// "accepted" with the run id, and runs the turn through the runner in a
// goroutine of its own, which sends the events and the final response.
func (s *Server) startAgent(c *conn, req *Request) {
	var p AgentParams
	if err := DecodeParams(req.Params, &p); err != nil {
		c.respondErr(req.ID, invalid("invalid agent params: "+err.Error()))
		return
	}
	if strings.TrimSpace(p.Message) == "" {
		c.respondErr(req.ID, invalid("invalid agent params: message is required"))
		return
	}
	if len(p.IdempotencyKey) > maxIdempotencyKey {
		c.respondErr(req.ID, invalid(fmt.Sprintf("invalid agent params: idempotencyKey is longer than %d bytes", maxIdempotencyKey)))
		return
	}
	// A repeated key joins its run, whatever else the request says.
	if p.IdempotencyKey != "" {
		if r := s.lookupKey(p.IdempotencyKey); r != nil {
			r.join(c, req.ID)
			return
		}
	}
	areq, es := s.agentRequest(p)
	if es != nil {
		c.respondErr(req.ID, es)
		return
	}
	if c.activeRuns() >= s.opts.MaxRunsPerConn {
		yes := true
		c.respondErr(req.ID, &ErrorShape{Code: CodeUnavailable, Retryable: &yes,
			Message: fmt.Sprintf("too many agent runs in flight on this connection (at most %d): wait for one to finish", s.opts.MaxRunsPerConn)})
		return
	}

	ctx, cancel := context.WithCancelCause(s.ctx)
	r := &run{id: uuid.NewString(), key: p.IdempotencyKey, cancel: cancel, accepted: time.Now().UnixMilli(),
		subs: map[*conn][]string{c: {req.ID}}}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		cancel(nil)
		yes := true
		c.respondErr(req.ID, &ErrorShape{Code: CodeUnavailable, Message: "the gateway is shutting down", Retryable: &yes})
		return
	}
	if r.key != "" {
		if other := s.byKey[r.key]; other != nil { // a concurrent repeat won
			s.mu.Unlock()
			cancel(nil)
			other.join(c, req.ID)
			return
		}
		s.byKey[r.key] = r
	}
	s.runs[r.id] = r
	s.runWG.Add(1)
	s.mu.Unlock()
	areq.RunID = r.id // the protocol's runId is the transcript's

	c.addRun(r)
	c.sendRaw(r.acceptedFrame(req.ID))
	go s.execute(ctx, r, areq)
}

// agentRequest turns the params into a runner request, or the error that
// answers them: the agent (from agentId, else a full sessionKey's agent,
// else the default), the session, the model override and the timeout.
func (s *Server) agentRequest(p AgentParams) (agent.Request, *ErrorShape) {
	agentID := strings.TrimSpace(p.AgentID)
	if p.SessionKey != "" {
		if id, _, ok := session.ParseKey(strings.TrimSpace(p.SessionKey)); ok {
			if agentID == "" {
				agentID = id
			} else if !strings.EqualFold(agentID, id) {
				return agent.Request{}, invalid(fmt.Sprintf("sessionKey %q belongs to agent %q, not %q", p.SessionKey, id, strings.ToLower(agentID)))
			}
		}
	}
	id, err := s.runner.ResolveAgent(agentID)
	if err != nil {
		return agent.Request{}, runErrorShape(err)
	}
	req := agent.Request{AgentID: id, Message: p.Message, ExtraSystemPrompt: p.ExtraSystemPrompt, Model: p.Model, SessionID: p.SessionID}
	if p.SessionKey != "" {
		if req.SessionKey, err = session.KeyForAgent(id, p.SessionKey); err != nil {
			return agent.Request{}, invalid("invalid sessionKey: " + err.Error())
		}
	}
	if p.SessionID != "" {
		if !session.ValidSessionID(p.SessionID) {
			return agent.Request{}, invalid(fmt.Sprintf("invalid sessionId %q: use 1-128 letters, digits, '.', '_' or '-'", p.SessionID))
		}
		if req.SessionKey == "" {
			req.SessionKey = session.ExplicitKey(id, p.SessionID)
		}
	}
	if p.Model != "" {
		if err := s.runner.CheckModel(id, p.Model); err != nil {
			return agent.Request{}, runErrorShape(err)
		}
	}
	secs := int64(s.runner.Config().Agents.Defaults.TimeoutSeconds)
	if p.Timeout != nil {
		if *p.Timeout < 0 {
			return agent.Request{}, invalid("invalid agent params: timeout must be 0 (none) or more seconds")
		}
		secs = *p.Timeout
	}
	req.Timeout = time.Duration(secs) * time.Second
	return req, nil
}

// runErrorShape is the error of a failed run: the runner's message, a code
// by kind, and the kind in the details.
func runErrorShape(err error) *ErrorShape {
	kind, msg := string(agent.ErrInternal), err.Error()
	var ae *agent.Error
	if errors.As(err, &ae) {
		kind = string(ae.Kind)
		if ae.Kind == agent.ErrUnknownAgent && len(ae.AgentIDs) > 0 {
			msg = fmt.Sprintf("%s (configured: %s)", msg, strings.Join(ae.AgentIDs, ", "))
		}
	}
	code := CodeUnavailable
	switch agent.ErrorKind(kind) {
	case agent.ErrTimeout:
		code = CodeAgentTimeout
	case agent.ErrUnknownAgent, agent.ErrUnknownModel, agent.ErrBadRequest:
		code = CodeInvalidRequest
	}
	return &ErrorShape{Code: code, Message: msg, Details: marshal(ErrorDetails{Kind: kind})}
}

// execute runs the turn and answers every request waiting for it.
func (s *Server) execute(ctx context.Context, r *run, req agent.Request) {
	defer s.runWG.Done()
	req.OnEvent = func(ev agent.Event) { r.emit(eventStream(ev)) }
	res, err := s.runner.Run(ctx, req)
	r.cancel(nil)
	if err != nil {
		r.mu.Lock()
		ended := r.ended
		r.mu.Unlock()
		if !ended { // failed before the runner's own lifecycle events
			r.emit("lifecycle", map[string]any{"phase": "error", "error": err.Error(), "kind": runErrorKind(err), "endedAt": time.Now().UnixMilli()})
		}
		es := runErrorShape(err)
		payload := marshal(AgentFinal{RunID: r.id, Status: "error", Summary: es.Message})
		r.finish("error", func(id string) []byte {
			return marshal(Response{Type: TypeRes, ID: id, OK: false, Payload: payload, Error: es})
		})
		var ae *agent.Error
		if errors.As(err, &ae) && ae.Kind == agent.ErrCanceled {
			s.log.Info("agent run canceled", "run", r.id, "why", context.Cause(ctx))
		}
	} else {
		payload := marshal(AgentFinal{RunID: r.id, Status: "ok", Summary: "completed", Result: resultOf(res)})
		r.finish("ok", func(id string) []byte {
			return marshal(Response{Type: TypeRes, ID: id, OK: true, Payload: payload})
		})
	}
	s.retire(r)
}

func runErrorKind(err error) string {
	var ae *agent.Error
	if errors.As(err, &ae) {
		return string(ae.Kind)
	}
	return string(agent.ErrInternal)
}

// retire keeps a finished run for idempotency and abort answers, within
// dedupeMax runs and dedupeTTL.
func (s *Server) retire(r *run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = append(s.finished, r)
	now := time.Now()
	for len(s.finished) > 0 {
		old := s.finished[0]
		if len(s.finished) <= dedupeMax && now.Sub(old.finishedAt) <= dedupeTTL {
			break
		}
		delete(s.runs, old.id)
		if old.key != "" && s.byKey[old.key] == old {
			delete(s.byKey, old.key)
		}
		s.finished[0] = nil
		s.finished = s.finished[1:]
	}
}

// eventStream maps a runner event to an agent event's stream and data.
func eventStream(ev agent.Event) (string, map[string]any) {
	now := time.Now().UnixMilli()
	switch ev.Type {
	case agent.EventStart:
		return "lifecycle", map[string]any{"phase": "start", "startedAt": now, "sessionKey": ev.SessionKey, "sessionId": ev.SessionID}
	case agent.EventModel:
		return "model", map[string]any{"provider": ev.Provider, "model": ev.Model}
	case agent.EventDelta:
		return "assistant", map[string]any{"delta": ev.Text}
	case agent.EventToolStart:
		return "tool", map[string]any{"phase": "start", "name": ev.Tool.Name, "toolCallId": ev.Tool.ID, "args": ev.Tool.Arguments}
	case agent.EventToolEnd:
		return "tool", map[string]any{"phase": "result", "name": ev.Tool.Name, "toolCallId": ev.Tool.ID, "result": ev.ToolResult, "isError": ev.ToolError}
	case agent.EventUsage:
		return "usage", usageMap(ev)
	case agent.EventEnd:
		return "lifecycle", map[string]any{"phase": "end", "endedAt": now, "provider": ev.Provider, "model": ev.Model}
	case agent.EventError:
		msg, kind := "run failed", string(agent.ErrInternal)
		if ev.Err != nil {
			msg, kind = ev.Err.Error(), runErrorKind(ev.Err)
		}
		return "lifecycle", map[string]any{"phase": "error", "error": msg, "kind": kind, "endedAt": now}
	}
	return string(ev.Type), map[string]any{}
}

func usageMap(ev agent.Event) map[string]any {
	u := ev.Usage
	return map[string]any{"input": u.Input, "output": u.Output, "cacheRead": u.CacheRead, "cacheWrite": u.CacheWrite, "total": u.Total()}
}

// resultOf is a finished run as the final response carries it.
func resultOf(res *agent.Result) *AgentResult {
	out := &AgentResult{Payloads: []Payload{}, Meta: RunMeta{
		DurationMs: res.Duration.Milliseconds(),
		AgentMeta: AgentMeta{SessionID: res.SessionID, Provider: res.Provider, Model: res.Model,
			Usage: Usage{res.Usage.Input, res.Usage.Output, res.Usage.CacheRead, res.Usage.CacheWrite, res.Usage.Total()}},
		AgentID: res.AgentID, SessionKey: res.SessionKey, StopReason: res.StopReason, Tools: []ToolMeta{},
	}}
	for _, p := range res.Payloads {
		out.Payloads = append(out.Payloads, Payload{Text: p.Text})
	}
	for _, t := range res.ToolRuns {
		out.Meta.Tools = append(out.Meta.Tools, ToolMeta{Name: t.Call.Name, Arguments: t.Call.Arguments, Result: t.Result, IsError: t.IsError})
	}
	return out
}

// abort handles agent.abort: it cancels a run by id through its context.
func (s *Server) abort(c *conn, req *Request) {
	var p struct {
		RunID string `json:"runId"`
	}
	if err := DecodeParams(req.Params, &p); err != nil {
		c.respondErr(req.ID, invalid("invalid agent.abort params: "+err.Error()))
		return
	}
	if p.RunID == "" {
		c.respondErr(req.ID, invalid("invalid agent.abort params: runId is required"))
		return
	}
	s.mu.Lock()
	r := s.runs[p.RunID]
	s.mu.Unlock()
	if r == nil {
		c.respondErr(req.ID, invalid("unknown runId: "+p.RunID))
		return
	}
	r.mu.Lock()
	done, status := r.done, r.status
	if !done {
		r.cancel(errAborted)
	}
	r.mu.Unlock()
	if done {
		c.respond(req.ID, map[string]any{"runId": r.id, "aborted": false, "status": status})
		return
	}
	s.log.Info("agent run aborted", "run", r.id, "conn", c.id[:8])
	c.respond(req.ID, map[string]any{"runId": r.id, "aborted": true})
}
