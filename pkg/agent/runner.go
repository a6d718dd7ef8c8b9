package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"
	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
	"github.com/openclaw/openclaw-go/pkg/session"
	"github.com/openclaw/openclaw-go/pkg/tools"
)

// DefaultModel is used when no model is configured at all.
const DefaultModel = "echo/echo"

// Options configure a Runner.
type Options struct {
	StateDir string
	Config   *config.Config
	Log      *log.Logger
	// Getenv reads provider keys of the built-in providers; nil is os.Getenv.
	Getenv func(string) string
	// NewProvider builds a provider; nil is provider.New. Tests and
	// benchmarks swap in their own.
	NewProvider func(provider.Config) (provider.Provider, error)
}

// Runner runs agent turns. It is safe for concurrent use; one Runner serves
// a whole process so that its concurrency cap and session queues are shared.
type Runner struct {
	stateDir    string
	log         *log.Logger
	getenv      func(string) string
	newProvider func(provider.Config) (provider.Provider, error)

	state     atomic.Pointer[runnerState]
	observers atomic.Pointer[[]Observer] // see observe.go

	warnOnce sync.Once
}

// runnerState is everything derived from one config; it is swapped whole on
// reload, and a run keeps the state it started with.
type runnerState struct {
	cfg   *config.Config
	store *session.Store
	sem   *semaphore.Weighted

	mu        sync.Mutex
	providers map[string]provider.Provider
}

// New returns a Runner for the given state dir and config.
func New(opts Options) *Runner {
	r := &Runner{stateDir: opts.StateDir, log: opts.Log, getenv: opts.Getenv, newProvider: opts.NewProvider}
	if r.log == nil {
		r.log = log.New(nilWriter{})
	}
	if r.getenv == nil {
		r.getenv = os.Getenv
	}
	if r.newProvider == nil {
		r.newProvider = provider.New
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = config.Default()
	}
	r.SetConfig(cfg)
	return r
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// SetConfig applies a new configuration to runs that start from now on.
func (r *Runner) SetConfig(cfg *config.Config) {
	n := int64(cfg.Agents.Defaults.MaxConcurrent)
	if n < 1 {
		n = config.DefaultMaxConcurrent
	}
	old := r.state.Load()
	st := &runnerState{cfg: cfg, providers: map[string]provider.Provider{}}
	if old != nil && old.cfg.Agents.Defaults.MaxConcurrent == cfg.Agents.Defaults.MaxConcurrent {
		st.sem = old.sem
	} else {
		st.sem = semaphore.NewWeighted(n)
	}
	if old != nil && old.cfg.Session.Fsync == cfg.Session.Fsync {
		st.store = old.store
	} else {
		st.store = session.NewStore(r.stateDir, session.Options{Fsync: cfg.Session.Fsync})
	}
	r.state.Store(st)
}

// StateDir returns the state dir the runner keeps sessions under.
func (r *Runner) StateDir() string { return r.stateDir }

// Config returns the configuration in force.
func (r *Runner) Config() *config.Config { return r.state.Load().cfg }

// Store returns the session store the runner writes.
func (r *Runner) Store() *session.Store { return r.state.Load().store }

// ResolveAgent returns the lowercased id of the agent a request names ("" is
// the default agent), or an *Error of kind ErrUnknownAgent.
func (r *Runner) ResolveAgent(id string) (string, error) {
	return resolveAgent(r.state.Load().cfg, id)
}

func resolveAgent(cfg *config.Config, id string) (string, error) {
	if id == "" {
		return cfg.DefaultAgentID(), nil
	}
	a, ok := cfg.Agent(id)
	if !ok {
		return "", &Error{Kind: ErrUnknownAgent, Msg: fmt.Sprintf("unknown agent id %q", id), AgentIDs: cfg.AgentIDs()}
	}
	return a.ID, nil
}

// CheckModel reports whether ref may be used as a model override for the
// agent: an *Error of kind ErrUnknownModel when not.
func (r *Runner) CheckModel(agentID, ref string) error {
	cfg := r.state.Load().cfg
	if _, err := modelChain(cfg, agentID, ref); err != nil {
		return err
	}
	// The provider must exist too, so the caller can refuse the override in
	// its order of checks rather than when the run starts.
	provID, _, _ := SplitModelRef(ref)
	if _, ok := cfg.Models.Providers[provID]; !ok {
		if _, ok := provider.BuiltinEnv(provID, r.getenv); !ok {
			return errorf(ErrUnknownModel, nil, "Unknown model: %s", ref)
		}
	}
	return nil
}

// modelChain is the list of models a run tries in order.
func modelChain(cfg *config.Config, agentID, override string) ([]string, error) {
	ref := cfg.AgentModel(agentID)
	if override != "" {
		if _, _, ok := SplitModelRef(override); !ok {
			return nil, errorf(ErrUnknownModel, nil, "Unknown model: %s", override)
		}
		if allowed := allowedModels(cfg, ref); len(allowed) > 0 && !allowed[override] {
			return nil, errorf(ErrUnknownModel, nil, "Unknown model: %s", override)
		}
		return []string{override}, nil
	}
	var chain []string
	if ref.Primary != "" {
		chain = append(chain, ref.Primary)
	}
	chain = append(chain, ref.Fallbacks...)
	return chain, nil
}

// allowedModels is the override allowlist: the keys of agents.defaults.models
// plus the agent's own models; empty means any model.
func allowedModels(cfg *config.Config, ref config.ModelRef) map[string]bool {
	if len(cfg.Agents.Defaults.Models) == 0 {
		return nil
	}
	m := map[string]bool{}
	for k := range cfg.Agents.Defaults.Models {
		m[k] = true
	}
	if ref.Primary != "" {
		m[ref.Primary] = true
	}
	for _, f := range ref.Fallbacks {
		m[f] = true
	}
	return m
}

// provider returns the provider with the given id, built once per config.
func (r *Runner) provider(st *runnerState, id string) (provider.Provider, config.Provider, error) {
	pc, configured := st.cfg.Models.Providers[id]
	st.mu.Lock()
	defer st.mu.Unlock()
	if p, ok := st.providers[id]; ok {
		return p, pc, nil
	}
	var c provider.Config
	if configured {
		c = provider.Config{ID: id, API: pc.API, BaseURL: pc.BaseURL, APIKey: pc.APIKey, Headers: pc.Headers}
		if b, ok := provider.BuiltinEnv(id, r.getenv); ok {
			if c.API == "" {
				c.API = b.API
			}
			if c.BaseURL == "" {
				c.BaseURL = b.BaseURL
			}
			if c.APIKey == "" {
				c.APIKey = b.APIKey
			}
		}
		if c.API == "" {
			c.API = provider.APIOpenAI
		}
	} else {
		b, ok := provider.BuiltinEnv(id, r.getenv)
		if !ok {
			return nil, pc, errorf(ErrUnknownModel, nil, "unknown model provider %q: configure models.providers.%s or use openai, anthropic, ollama or echo", id, id)
		}
		c = b
	}
	p, err := r.newProvider(c)
	if err != nil {
		return nil, pc, errorf(ErrBadRequest, err, "model provider %q: %v", id, err)
	}
	st.providers[id] = p
	return p, pc, nil
}

// Run runs one agent turn: it resolves the agent, model and session, waits
// its turn on the session (FIFO) and for a free slot, calls the model (with
// fallbacks), appends the turn to the transcript, and returns the result.
func (r *Runner) Run(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	st := r.state.Load()
	cfg := st.cfg
	emit := req.OnEvent
	if emit == nil {
		emit = func(Event) {}
	}

	agentID, err := resolveAgent(cfg, req.AgentID)
	if err != nil {
		return nil, err
	}
	defer r.observe(ctx, agentID, &emit)() // metrics: times the run from its events
	chain, err := modelChain(cfg, agentID, req.Model)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		r.warnOnce.Do(func() {
			r.log.Warn("no model configured, using the offline echo model; set one with: openclaw config set agents.defaults.model provider/model")
		})
		chain = []string{DefaultModel}
	}
	if len(req.Images) > 0 {
		if err := checkImageInput(cfg, chain[0]); err != nil {
			return nil, err
		}
	}
	key := req.SessionKey
	if key == "" {
		key = session.MainKey(agentID, cfg.Session.MainKey)
	}

	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, req.Timeout, errRunTimeout)
		defer cancel()
	}

	fresh := req.NewSession && req.SessionKey != "" // never the main session
	sess, err := st.store.Acquire(ctx, agentID, key, session.AcquireOptions{SessionID: req.SessionID, Fresh: fresh})
	if err != nil {
		return nil, r.ctxErr(ctx, err, "open session")
	}
	defer sess.Release()
	if err := st.sem.Acquire(ctx, 1); err != nil {
		return nil, r.ctxErr(ctx, err, "wait for a free run slot")
	}
	defer st.sem.Release(1)

	runID := req.RunID
	if runID == "" {
		runID = uuid.NewString()
	}
	res := &Result{RunID: runID, AgentID: agentID, SessionKey: key, SessionID: sess.ID}

	history, err := sess.History()
	if err != nil {
		return nil, errorf(ErrInternal, err, "read session transcript: %v", err)
	}
	msgs := historyMessages(history)
	// A client answering the tool calls the last run ended with continues
	// that exchange with real tool results; otherwise the turn is text.
	var turn []session.Record
	if results := pendingResults(msgs, req.ToolResults); results != nil {
		for _, m := range results {
			msgs = append(msgs, m)
			turn = append(turn, session.Record{Type: session.TypeToolResult, RunID: runID, Text: m.Content, ToolCallID: m.ToolCallID, ToolName: m.ToolName, IsError: m.IsError})
		}
		msgs = answerToolCalls(msgs)
	} else {
		msgs = answerToolCalls(msgs)
		msgs = append(msgs, provider.Message{Role: "user", Content: req.Message, Images: req.Images})
		turn = append(turn, session.Record{Type: session.TypeUser, RunID: runID, Text: req.Message, Images: len(req.Images)})
	}

	entry, _ := cfg.Agent(agentID)
	policy := tools.Resolve(cfg, entry)
	clientTools := map[string]bool{}
	for _, t := range req.ClientTools {
		clientTools[t.Name] = true
	}
	var offered []provider.ToolDef
	for _, d := range policy.Defs() {
		if !clientTools[d.Name] { // the caller's own tool of that name wins
			offered = append(offered, d)
		}
	}
	offered = append(offered, req.ClientTools...)
	preq := &provider.Request{
		System:     r.systemPrompt(cfg, agentID, req.ExtraSystemPrompt),
		Messages:   msgs,
		Tools:      offered,
		ToolChoice: req.ToolChoice,
		Params:     req.Params,
	}
	ws := tools.NewWorkspace(cfg.Workspace(r.stateDir, agentID), cfg)

	emit(Event{Type: EventStart, RunID: runID, SessionKey: key, SessionID: sess.ID})
	recs := turn
	var text strings.Builder
	var provID, model string
	// Text of successive model calls is kept apart by a blank line, the same
	// way in the stream and in the final text; it is sent with the first
	// delta of a call that has text.
	sepPending := false
	emitText := func(ev Event) {
		if ev.Type == EventDelta && sepPending {
			sepPending = false
			emit(Event{Type: EventDelta, RunID: runID, Text: "\n\n"})
			text.WriteString("\n\n")
		}
		emit(ev)
	}
	for iter := 0; ; iter++ {
		var resp *provider.Response
		callStart := time.Now()
		resp, provID, model, err = r.callModels(ctx, st, chain, preq, runID, iter > 0, emitText)
		res.ModelTime += time.Since(callStart)
		if err != nil {
			rerr := r.ctxErr(ctx, err, "model call")
			// The user's turn is kept, with the failure, so the transcript
			// tells what happened; history skips runs that have no answer.
			fail := append(turn, session.Record{Type: session.TypeError, RunID: runID, Text: rerr.Error(), Provider: provID, Model: model})
			if aerr := sess.Append(fail...); aerr != nil {
				r.log.Error("append transcript", "session", sess.ID, "err", aerr)
			}
			emit(Event{Type: EventError, RunID: runID, Err: rerr})
			return nil, rerr
		}
		res.Usage = res.Usage.Add(resp.Usage)
		emit(Event{Type: EventUsage, RunID: runID, Usage: res.Usage})
		if sepPending && resp.Text != "" { // text that came without deltas
			text.WriteString("\n\n")
		}
		text.WriteString(resp.Text)
		if resp.Text != "" {
			sepPending = true
		}
		u := resp.Usage
		arec := session.Record{Type: session.TypeAssistant, RunID: runID, Text: resp.Text, ToolCalls: resp.ToolCalls,
			Usage: &u, Provider: provID, Model: model, StopReason: resp.StopReason}
		recs = append(recs, arec)
		res.StopReason = resp.StopReason

		var clientCalls, ownCalls []provider.ToolCall
		for _, c := range resp.ToolCalls {
			if clientTools[c.Name] {
				clientCalls = append(clientCalls, c)
			} else {
				ownCalls = append(ownCalls, c)
			}
		}
		if len(resp.ToolCalls) == 0 {
			break
		}
		preq.Messages = append(preq.Messages, provider.Message{Role: "assistant", Content: resp.Text, ToolCalls: resp.ToolCalls})
		for _, c := range ownCalls {
			c := c
			emit(Event{Type: EventToolStart, RunID: runID, Tool: &c})
			out := policy.Call(ctx, ws, c.Name, json.RawMessage(c.Arguments))
			if ctx.Err() != nil {
				return nil, r.failRun(ctx, sess, turn, ctx.Err(), runID, emit)
			}
			emit(Event{Type: EventToolEnd, RunID: runID, Tool: &c, ToolResult: out.Text, ToolError: out.IsError})
			res.ToolRuns = append(res.ToolRuns, ToolRun{Call: c, Result: out.Text, IsError: out.IsError})
			preq.Messages = append(preq.Messages, provider.Message{Role: "tool", Content: out.Text, ToolCallID: c.ID, ToolName: c.Name, IsError: out.IsError})
			recs = append(recs, session.Record{Type: session.TypeToolResult, RunID: runID, Text: out.Text, ToolCallID: c.ID, ToolName: c.Name, IsError: out.IsError})
		}
		if len(clientCalls) > 0 {
			// The client runs its own tools: the run ends here and the next
			// request answers them.
			res.ToolCalls = clientCalls
			res.StopReason = provider.StopToolCalls
			break
		}
		if iter+1 >= MaxToolIterations {
			r.log.Warn("tool loop stopped at the iteration limit", "limit", MaxToolIterations, "session", sess.ID)
			note := fmt.Sprintf("[stopped after %d tool iterations]", MaxToolIterations)
			if text.Len() > 0 {
				note = "\n\n" + note
			}
			emit(Event{Type: EventDelta, RunID: runID, Text: note})
			text.WriteString(note)
			recs = append(recs, session.Record{Type: session.TypeAssistant, RunID: runID, Text: note, StopReason: provider.StopLength})
			res.StopReason = provider.StopLength
			break
		}
	}
	res.Provider, res.Model = provID, model
	res.Text = text.String()
	if res.Text != "" {
		res.Payloads = []Payload{{Text: res.Text}}
	}
	if err := sess.Append(recs...); err != nil {
		rerr := errorf(ErrInternal, err, "append session transcript: %v", err)
		emit(Event{Type: EventError, RunID: runID, Err: rerr})
		return nil, rerr
	}
	res.Duration = time.Since(start)
	emit(Event{Type: EventEnd, RunID: runID, Usage: res.Usage, Provider: provID, Model: model})
	return res, nil
}

// MaxToolIterations bounds the model -> tools -> model loop of one run.
const MaxToolIterations = 16

// failRun records a run that ended without an answer and returns its error.
func (r *Runner) failRun(ctx context.Context, sess *session.Session, turn []session.Record, err error, runID string, emit func(Event)) *Error {
	rerr := r.ctxErr(ctx, err, "run")
	fail := append(turn, session.Record{Type: session.TypeError, RunID: runID, Text: rerr.Error()})
	if aerr := sess.Append(fail...); aerr != nil {
		r.log.Error("append transcript", "session", sess.ID, "err", aerr)
	}
	emit(Event{Type: EventError, RunID: runID, Err: rerr})
	return rerr
}

// answerToolCalls gives every tool call in msgs a result: a call the client
// never answered gets an error result saying so, since model APIs refuse a
// conversation with a call left open.
func answerToolCalls(msgs []provider.Message) []provider.Message {
	var out []provider.Message
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		out = append(out, m)
		if m.Role != "assistant" || len(m.ToolCalls) == 0 {
			continue
		}
		answered := map[string]bool{}
		for i+1 < len(msgs) && msgs[i+1].Role == "tool" {
			i++
			answered[msgs[i].ToolCallID] = true
			out = append(out, msgs[i])
		}
		for _, c := range m.ToolCalls {
			if !answered[c.ID] {
				out = append(out, provider.Message{Role: "tool", ToolCallID: c.ID, ToolName: c.Name, IsError: true, Content: "no result: the tool call was not answered"})
			}
		}
	}
	return out
}

// pendingResults returns the client's tool results as the next messages
// when the history ends with an assistant turn whose tool calls they
// answer; nil when there is no such pending exchange.
func pendingResults(history []provider.Message, results []provider.Message) []provider.Message {
	if len(results) == 0 || len(history) == 0 {
		return nil
	}
	last := history[len(history)-1]
	if last.Role != "assistant" || len(last.ToolCalls) == 0 {
		return nil
	}
	names := map[string]string{}
	for _, c := range last.ToolCalls {
		names[c.ID] = c.Name
	}
	var out []provider.Message
	for _, m := range results {
		name, ok := names[m.ToolCallID]
		if !ok {
			return nil
		}
		m.Role = "tool"
		if m.ToolName == "" {
			m.ToolName = name
		}
		out = append(out, m)
	}
	return out
}

var errRunTimeout = errors.New("run timed out")

// ctxErr turns a failure into an *Error, telling a run timeout and a caller
// that went away apart from other failures.
func (r *Runner) ctxErr(ctx context.Context, err error, what string) *Error {
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), errRunTimeout) {
			return errorf(ErrTimeout, err, "run timed out")
		}
		return errorf(ErrCanceled, err, "run canceled")
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if pe, ok := provider.AsError(err); ok {
		if pe.Kind == provider.ErrTimeout {
			return &Error{Kind: ErrTimeout, Msg: "model timed out: " + pe.Error(), Err: pe}
		}
		return &Error{Kind: ErrModel, Msg: "model call failed: " + pe.Error(), Err: pe}
	}
	return errorf(ErrInternal, err, "%s: %v", what, err)
}

// callModels tries each model of the chain until one answers. A model that
// fails with a retryable error before any text reached the caller hands over
// to the next one.
func (r *Runner) callModels(ctx context.Context, st *runnerState, chain []string, preq *provider.Request, runID string, alreadySent bool, emit func(Event)) (*provider.Response, string, string, error) {
	var lastErr error
	var provID, model string
	for i, ref := range chain {
		var ok bool
		provID, model, ok = SplitModelRef(ref)
		if !ok {
			return nil, ref, "", errorf(ErrUnknownModel, nil, "invalid model %q: use provider/model", ref)
		}
		p, _, err := r.provider(st, provID)
		if err != nil {
			lastErr = err
			if i < len(chain)-1 {
				r.log.Warn("model unavailable, trying the next", "model", ref, "err", err)
				continue
			}
			return nil, provID, model, err
		}
		preq.Model = model
		emit(Event{Type: EventModel, RunID: runID, Provider: provID, Model: model})
		sent := alreadySent
		resp, err := p.Stream(ctx, preq, func(text string) {
			if text == "" {
				return
			}
			sent = true
			emit(Event{Type: EventDelta, RunID: runID, Text: text})
		})
		if err == nil {
			return resp, provID, model, nil
		}
		lastErr = err
		pe, isPE := provider.AsError(err)
		if ctx.Err() != nil || sent || !isPE || !pe.Retryable() || i == len(chain)-1 {
			return nil, provID, model, err
		}
		r.log.Warn("model failed, trying the next", "model", ref, "next", chain[i+1], "err", err)
	}
	return nil, provID, model, lastErr
}

// checkImageInput refuses images for a model declared without image input.
func checkImageInput(cfg *config.Config, ref string) error {
	provID, model, ok := SplitModelRef(ref)
	if !ok {
		return nil
	}
	for _, m := range cfg.Models.Providers[provID].Models {
		if m.ID != model || len(m.Input) == 0 {
			continue
		}
		for _, in := range m.Input {
			if in == "image" {
				return nil
			}
		}
		return errorf(ErrBadRequest, nil, "model %s does not accept image input", ref)
	}
	return nil
}

// workspaceFiles are read into the system prompt, in this order.
var workspaceFiles = []string{"AGENTS.md", "SOUL.md", "USER.md", "IDENTITY.md", "TOOLS.md"}

// maxWorkspaceFile caps each workspace file in the system prompt.
const maxWorkspaceFile = 32 << 10

// systemPrompt builds the agent's system prompt: identity, the configured
// prompt, the workspace's context files, then the request's extra prompt.
func (r *Runner) systemPrompt(cfg *config.Config, agentID, extra string) string {
	var b strings.Builder
	a, _ := cfg.Agent(agentID)
	name := a.Name
	if name == "" {
		name = agentID
	}
	fmt.Fprintf(&b, "You are %s, an OpenClaw agent.", name)
	if a.SystemPrompt != "" {
		b.WriteString("\n\n")
		b.WriteString(a.SystemPrompt)
	}
	ws := cfg.Workspace(r.stateDir, agentID)
	// The workspace is made by the first tool call: until then one stat
	// stands for five opens that would fail, on every run.
	if _, err := os.Stat(ws); err == nil {
		for _, f := range workspaceFiles {
			data, err := readCapped(filepath.Join(ws, f), maxWorkspaceFile)
			if err != nil || len(strings.TrimSpace(data)) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n\n## %s\n\n%s", f, data)
		}
	}
	if extra != "" {
		b.WriteString("\n\n")
		b.WriteString(extra)
	}
	return b.String()
}

func readCapped(path string, max int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// As much as the file holds (not max+1 bytes for every file), up to
	// one byte past the cap to tell a file that exceeds it.
	buf, _ := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if len(buf) > max {
		return string(buf[:max]) + "\n[truncated]", nil
	}
	return string(buf), nil
}

// historyMessages turns a transcript into the conversation sent before the
// new turn. Runs that ended without an answer are left out, so a failed or
// interrupted turn never reaches the model as if it had been answered.
func historyMessages(recs []session.Record) []provider.Message {
	answered := map[string]bool{}
	for _, rec := range recs {
		if rec.Type == "assistant" {
			answered[rec.RunID] = true
		}
	}
	var msgs []provider.Message
	for _, rec := range recs {
		if rec.RunID != "" && !answered[rec.RunID] {
			continue
		}
		switch rec.Type {
		case "user":
			text := rec.Text
			if rec.Images > 0 && text == "" {
				text = fmt.Sprintf("[%d image(s)]", rec.Images)
			}
			msgs = append(msgs, provider.Message{Role: "user", Content: text})
		case "assistant":
			msgs = append(msgs, provider.Message{Role: "assistant", Content: rec.Text, ToolCalls: rec.ToolCalls})
		case "tool_result":
			msgs = append(msgs, provider.Message{Role: "tool", Content: rec.Text, ToolCallID: rec.ToolCallID, ToolName: rec.ToolName, IsError: rec.IsError})
		}
	}
	return msgs
}
