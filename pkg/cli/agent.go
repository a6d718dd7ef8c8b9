package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/gateway/ws"
	"github.com/openclaw/openclaw-go/pkg/gateway/wsclient"
	"github.com/openclaw/openclaw-go/pkg/session"
)

func init() { register(newAgentCmd) }

type agentOptions struct {
	message     string
	messageFile string
	agentID     string
	sessionKey  string
	sessionID   string
	model       string
	timeout     int
	json        bool
	local       bool
	url         string
}

func newAgentCmd(app *App) *cobra.Command {
	opts := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run one agent turn and print the reply",
		Long: `Run one agent turn and print the reply.

The message comes from -m/--message, --message-file, or standard input when it
is not a terminal. The reply streams to stdout as it arrives; logs go to stderr.
Consecutive runs continue the agent's main session (agent:<id>:main) unless
--session-key or --session-id choose another.

When a gateway answers on ws://127.0.0.1:<gateway.port> (or --url), the turn
runs there over its WebSocket protocol, with the secret from gateway.auth.token
or gateway.auth.password, else OPENCLAW_GATEWAY_TOKEN or
OPENCLAW_GATEWAY_PASSWORD. When none answers, a note on stderr says so and the
turn runs in this process; --local always runs it here. Output and exit codes
are the same either way.

Exit codes: 0 ok, 1 the run failed, 2 usage error, 124 timed out.`,
		Example: `  openclaw agent -m "hello"
  echo "summarise this" | openclaw agent --agent work --json
  openclaw agent --session-id demo --model openai/gpt-4o-mini -m hi`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("timeout") {
				opts.timeout = -1
			}
			return runAgent(cmd.Context(), app, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.message, "message", "m", "", "the message to send")
	f.StringVar(&opts.messageFile, "message-file", "", "read the message from this file")
	f.StringVar(&opts.agentID, "agent", "", "the agent id (default: the default agent)")
	f.StringVar(&opts.sessionKey, "session-key", "", "the session key (default agent:<id>:main)")
	f.StringVar(&opts.sessionID, "session-id", "", "use the session agent:<id>:explicit:<id>")
	f.StringVar(&opts.model, "model", "", "override the model (provider/model)")
	f.IntVar(&opts.timeout, "timeout", 0, "seconds before the run is abandoned (default agents.defaults.timeoutSeconds; 0 = none)")
	f.BoolVar(&opts.json, "json", false, "print one JSON document instead of text")
	f.BoolVar(&opts.local, "local", false, "run in this process, never through a gateway")
	f.StringVar(&opts.url, "url", "", "the gateway's WebSocket URL (default ws://127.0.0.1:<gateway.port>)")
	cmd.MarkFlagsMutuallyExclusive("message", "message-file")
	cmd.MarkFlagsMutuallyExclusive("local", "url")
	cmd.MarkFlagsMutuallyExclusive("session-key", "session-id")
	return cmd
}

func (o *agentOptions) readMessage(app *App) (string, error) {
	switch {
	case o.message != "":
		return o.message, nil
	case o.messageFile != "":
		b, err := os.ReadFile(o.messageFile)
		if err != nil {
			return "", usageErr("read --message-file: %v", err)
		}
		return string(b), nil
	case app.IO.In != nil && !app.IO.IsTerm():
		b, err := io.ReadAll(io.LimitReader(app.IO.In, 32<<20))
		if err != nil {
			return "", usageErr("read standard input: %v", err)
		}
		return string(b), nil
	}
	return "", nil
}

// agentJSON is the one document --json prints.
type agentJSON struct {
	OK         bool            `json:"ok"`
	Status     string          `json:"status"`
	Text       string          `json:"text"`
	Payloads   []agent.Payload `json:"payloads"`
	Usage      usageJSON       `json:"usage"`
	Model      string          `json:"model"`
	Provider   string          `json:"provider"`
	AgentID    string          `json:"agentId"`
	SessionKey string          `json:"sessionKey"`
	SessionID  string          `json:"sessionId"`
	DurationMs int64           `json:"durationMs"`
	Tools      []toolJSON      `json:"tools"`
	Error      *string         `json:"error"`
}

type toolJSON struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Result    string `json:"result"`
	IsError   bool   `json:"isError"`
}

type usageJSON struct {
	Input      int `json:"input"`
	Output     int `json:"output"`
	CacheRead  int `json:"cacheRead"`
	CacheWrite int `json:"cacheWrite"`
	Total      int `json:"total"`
}

func runAgent(ctx context.Context, app *App, opts *agentOptions) error {
	msg, err := opts.readMessage(app)
	if err != nil {
		return err
	}
	if strings.TrimSpace(msg) == "" {
		return usageErr("no message: pass -m \"text\", --message-file FILE, or pipe it on standard input")
	}
	lc, err := app.loadConfig()
	if err != nil {
		return err
	}
	runner := agent.New(agent.Options{StateDir: lc.stateDir, Config: lc.cfg, Log: app.Log.WithPrefix("agent")})

	agentID, err := runner.ResolveAgent(opts.agentID)
	if err != nil {
		var ae *agent.Error
		if errors.As(err, &ae) && ae.Kind == agent.ErrUnknownAgent {
			return usageErr("Unknown agent id %q (configured: %s)", opts.agentID, strings.Join(ae.AgentIDs, ", "))
		}
		return err
	}
	req := agent.Request{AgentID: agentID, Message: msg, Model: opts.model}
	switch {
	case opts.sessionKey != "":
		if req.SessionKey, err = session.KeyForAgent(agentID, opts.sessionKey); err != nil {
			return usageErr("--session-key: %v", err)
		}
	case opts.sessionID != "":
		req.SessionKey = session.ExplicitKey(agentID, opts.sessionID)
		req.SessionID = opts.sessionID
	}
	if opts.model != "" {
		if err := runner.CheckModel(agentID, opts.model); err != nil {
			return usageErr("--model: %v", err)
		}
	}
	timeout := opts.timeout
	if timeout < 0 {
		timeout = lc.cfg.Agents.Defaults.TimeoutSeconds
	}
	req.Timeout = time.Duration(timeout) * time.Second

	out := &agentOutput{app: app, json: opts.json}
	if !opts.local {
		target, err := resolveGatewayTarget(lc.cfg, opts.url, "", "")
		if err != nil {
			return err
		}
		gw, err := dialGateway(ctx, app, target, out.onFrame, agentDialTimeout)
		if err == nil {
			defer gw.Close()
			res, runErr := runAgentViaGateway(ctx, gw, req, timeout)
			return out.finish(res, runErr, agentID, req.SessionKey)
		}
		fmt.Fprintf(app.IO.Err, "note: %v; running the agent in this process\n", err)
	}

	req.OnEvent = out.onEvent
	res, runErr := runner.Run(ctx, req)
	var o *runOutcome
	if res != nil {
		o = outcomeOf(res)
	}
	return out.finish(o, runErr, agentID, req.SessionKey)
}

// agentDialTimeout bounds looking for a gateway before running in-process.
const agentDialTimeout = 5 * time.Second

// runOutcome is a finished run, from the runner or from a gateway.
type runOutcome struct {
	text       string
	payloads   []agent.Payload
	usage      usageJSON
	model      string
	provider   string
	sessionKey string
	sessionID  string
	durationMs int64
	tools      []toolJSON
}

func outcomeOf(res *agent.Result) *runOutcome {
	o := &runOutcome{text: res.Text, payloads: res.Payloads, model: res.Model, provider: res.Provider,
		sessionKey: res.SessionKey, sessionID: res.SessionID, durationMs: res.Duration.Milliseconds()}
	u := res.Usage
	o.usage = usageJSON{u.Input, u.Output, u.CacheRead, u.CacheWrite, u.Total()}
	for _, t := range res.ToolRuns {
		o.tools = append(o.tools, toolJSON{Name: t.Call.Name, Arguments: t.Call.Arguments, Result: t.Result, IsError: t.IsError})
	}
	return o
}

func outcomeOfGateway(r *ws.AgentResult) *runOutcome {
	m := r.Meta
	o := &runOutcome{model: m.AgentMeta.Model, provider: m.AgentMeta.Provider, sessionKey: m.SessionKey,
		sessionID: m.AgentMeta.SessionID, durationMs: m.DurationMs}
	var text []string
	for _, p := range r.Payloads {
		o.payloads = append(o.payloads, agent.Payload{Text: p.Text})
		text = append(text, p.Text)
	}
	o.text = strings.Join(text, "\n\n")
	u := m.AgentMeta.Usage
	o.usage = usageJSON{u.Input, u.Output, u.CacheRead, u.CacheWrite, u.Total}
	for _, t := range m.Tools {
		o.tools = append(o.tools, toolJSON{Name: t.Name, Arguments: t.Arguments, Result: t.Result, IsError: t.IsError})
	}
	return o
}

// agentOutput renders a run the same way whether it runs here or on a
// gateway: deltas stream to stdout in text mode, tool calls are progress on
// stderr, and --json prints one document at the end. Gateway events arrive
// on the client's goroutine, hence the lock.
type agentOutput struct {
	app  *App
	json bool

	mu     sync.Mutex
	wrote  bool
	endsNL bool
}

func (o *agentOutput) delta(text string) {
	if o.json || text == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	io.WriteString(o.app.IO.Out, text)
	o.wrote, o.endsNL = true, strings.HasSuffix(text, "\n")
}

func (o *agentOutput) toolStart(name, args string) {
	fmt.Fprintf(o.app.IO.Err, "tool %s %s\n", name, oneLine(args, 200))
}

func (o *agentOutput) toolEnd(name string, isError bool, result string) {
	status := "ok"
	if isError {
		status = "error"
	}
	fmt.Fprintf(o.app.IO.Err, "tool %s %s: %s\n", name, status, oneLine(result, 200))
}

// onEvent renders the runner's events.
func (o *agentOutput) onEvent(ev agent.Event) {
	switch ev.Type {
	case agent.EventDelta:
		o.delta(ev.Text)
	case agent.EventToolStart:
		o.toolStart(ev.Tool.Name, ev.Tool.Arguments)
	case agent.EventToolEnd:
		o.toolEnd(ev.Tool.Name, ev.ToolError, ev.ToolResult)
	}
}

// onFrame renders a gateway's agent events.
func (o *agentOutput) onFrame(f ws.Frame) {
	if f.Event != "agent" {
		return
	}
	var ev ws.AgentEvent
	if json.Unmarshal(f.Payload, &ev) != nil {
		return
	}
	str := func(k string) string { s, _ := ev.Data[k].(string); return s }
	switch ev.Stream {
	case "assistant":
		o.delta(str("delta"))
	case "tool":
		switch str("phase") {
		case "start":
			o.toolStart(str("name"), str("args"))
		case "result":
			isErr, _ := ev.Data["isError"].(bool)
			o.toolEnd(str("name"), isErr, str("result"))
		}
	}
}

// finish prints the end of a run and returns its error for the exit code.
func (o *agentOutput) finish(res *runOutcome, runErr error, agentID, sessionKey string) error {
	o.mu.Lock()
	wrote, endsNL := o.wrote, o.endsNL
	o.mu.Unlock()
	if !o.json {
		if wrote && !endsNL {
			io.WriteString(o.app.IO.Out, "\n")
		}
		if runErr != nil {
			return runError(runErr)
		}
		if !wrote && res.text != "" {
			fmt.Fprintln(o.app.IO.Out, res.text)
		}
		return nil
	}

	doc := agentJSON{OK: runErr == nil, Status: "ok", Payloads: []agent.Payload{}, Tools: []toolJSON{}, AgentID: agentID, SessionKey: sessionKey}
	if res != nil {
		if res.tools != nil {
			doc.Tools = res.tools
		}
		doc.Text, doc.Model, doc.Provider = res.text, res.model, res.provider
		if res.payloads != nil {
			doc.Payloads = res.payloads
		}
		doc.SessionKey, doc.SessionID = res.sessionKey, res.sessionID
		doc.DurationMs = res.durationMs
		doc.Usage = res.usage
	}
	if runErr != nil {
		doc.Status = "error"
		var ae *agent.Error
		if errors.As(runErr, &ae) && ae.Kind == agent.ErrTimeout {
			doc.Status = "timeout"
		}
		s := runErr.Error()
		doc.Error = &s
	}
	enc := json.NewEncoder(o.app.IO.Out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if runErr != nil {
		return runError(runErr)
	}
	return nil
}

// abortWait bounds how long an interrupted or timed-out run may take to
// report its end after agent.abort.
const abortWait = 5 * time.Second

// runAgentViaGateway runs the turn on a gateway: the agent method answers
// "accepted" and, after the streamed events, the final result. Ctrl-C aborts
// the run there (agent.abort) and waits briefly for its end. The gateway
// bounds the run with the timeout; the CLI waits a grace period longer
// before giving up on it.
func runAgentViaGateway(ctx context.Context, gw *wsclient.Client, req agent.Request, timeoutSecs int) (*runOutcome, error) {
	secs := int64(timeoutSecs)
	params := ws.AgentParams{Message: req.Message, AgentID: req.AgentID, SessionKey: req.SessionKey, SessionID: req.SessionID,
		Model: req.Model, Timeout: &secs, IdempotencyKey: uuid.NewString()}
	waitCtx := ctx
	if secs > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeoutCause(ctx, time.Duration(secs)*time.Second+30*time.Second, errGatewayGrace)
		defer cancel()
	}
	k, err := gw.Start(waitCtx, "agent", params)
	if err != nil {
		return nil, errGatewayLost(err)
	}
	defer k.Close()
	runID, stopping := "", ""
	abort := func() {
		if runID == "" {
			return // once "accepted" names the run
		}
		actx, cancel := context.WithTimeout(context.Background(), abortWait)
		defer cancel()
		gw.Call(actx, "agent.abort", map[string]string{"runId": runID})
	}
	for {
		f, err := k.Next(waitCtx)
		if err != nil {
			if stopping == "" && waitCtx.Err() != nil {
				stopping = "canceled"
				if errors.Is(context.Cause(waitCtx), errGatewayGrace) {
					stopping = "timeout"
				}
				abort()
				var cancel context.CancelFunc
				waitCtx, cancel = context.WithTimeout(context.Background(), abortWait)
				defer cancel()
				continue
			}
			switch stopping {
			case "canceled":
				return nil, &agent.Error{Kind: agent.ErrCanceled, Msg: "run canceled"}
			case "timeout":
				return nil, &agent.Error{Kind: agent.ErrTimeout, Msg: "run timed out"}
			}
			return nil, errGatewayLost(err)
		}
		var p ws.AgentFinal
		_ = json.Unmarshal(f.Payload, &p)
		if f.OK && p.Status == "accepted" {
			runID = p.RunID
			if stopping != "" {
				abort()
			}
			continue
		}
		if !f.OK {
			if f.Error == nil {
				return nil, &agent.Error{Kind: agent.ErrInternal, Msg: "the gateway refused the run"}
			}
			return nil, gatewayRunError(f.Error)
		}
		if p.Result == nil {
			return nil, &agent.Error{Kind: agent.ErrInternal, Msg: "the gateway sent no result"}
		}
		return outcomeOfGateway(p.Result), nil
	}
}

var errGatewayGrace = errors.New("the gateway did not end the run in time")

// runError maps a failed run to its exit code.
func runError(err error) error {
	var ae *agent.Error
	if errors.As(err, &ae) {
		switch ae.Kind {
		case agent.ErrTimeout:
			return &ExitError{Code: ExitTimeout, Err: err}
		case agent.ErrUnknownAgent, agent.ErrUnknownModel:
			return &ExitError{Code: ExitUsage, Err: err}
		}
	}
	return &ExitError{Code: ExitFailure, Err: err}
}

// oneLine shortens s to one line of at most n runes for progress output.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
