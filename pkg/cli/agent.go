package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/agent"
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
	f.BoolVar(&opts.local, "local", false, "run in this process (the default for now)")
	cmd.MarkFlagsMutuallyExclusive("message", "message-file")
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
		if req.SessionKey, err = session.ScopedKey(agentID, opts.sessionKey); err != nil {
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

	// Text mode streams each delta to stdout as it arrives.
	wrote, endsNL := false, false
	// Tool calls are progress, not the reply: stderr, one line each.
	req.OnEvent = func(ev agent.Event) {
		switch ev.Type {
		case agent.EventDelta:
			if !opts.json {
				io.WriteString(app.IO.Out, ev.Text)
				wrote, endsNL = true, strings.HasSuffix(ev.Text, "\n")
			}
		case agent.EventToolStart:
			fmt.Fprintf(app.IO.Err, "tool %s %s\n", ev.Tool.Name, oneLine(ev.Tool.Arguments, 200))
		case agent.EventToolEnd:
			status := "ok"
			if ev.ToolError {
				status = "error"
			}
			fmt.Fprintf(app.IO.Err, "tool %s %s: %s\n", ev.Tool.Name, status, oneLine(ev.ToolResult, 200))
		}
	}
	res, runErr := runner.Run(ctx, req)
	if !opts.json {
		if wrote && !endsNL {
			io.WriteString(app.IO.Out, "\n")
		}
		if runErr != nil {
			return runError(runErr)
		}
		if !wrote && res.Text != "" {
			fmt.Fprintln(app.IO.Out, res.Text)
		}
		return nil
	}

	doc := agentJSON{OK: runErr == nil, Status: "ok", Payloads: []agent.Payload{}, Tools: []toolJSON{}, AgentID: agentID, SessionKey: req.SessionKey}
	if res != nil {
		for _, t := range res.ToolRuns {
			doc.Tools = append(doc.Tools, toolJSON{Name: t.Call.Name, Arguments: t.Call.Arguments, Result: t.Result, IsError: t.IsError})
		}
		doc.Text, doc.Model, doc.Provider = res.Text, res.Model, res.Provider
		if res.Payloads != nil {
			doc.Payloads = res.Payloads
		}
		doc.SessionKey, doc.SessionID = res.SessionKey, res.SessionID
		doc.DurationMs = res.Duration.Milliseconds()
		u := res.Usage
		doc.Usage = usageJSON{u.Input, u.Output, u.CacheRead, u.CacheWrite, u.Total()}
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
	enc := json.NewEncoder(app.IO.Out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if runErr != nil {
		return runError(runErr)
	}
	return nil
}

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
