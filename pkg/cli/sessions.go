package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/session"
)

func init() { register(newSessionsCmd) }

func newSessionsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List, show and remove stored sessions",
		Long: `List, show and remove the sessions agents have stored under the state dir
(<state>/agents/<agentId>/sessions).

A session key is agent:<agentId>:<name>; a key without the agent:<agentId>:
prefix is taken as a name of the default agent's (or --agent's) sessions, as
openclaw agent --session-key does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSessionsListCmd(app), newSessionsShowCmd(app), newSessionsRmCmd(app))
	return cmd
}

// sessionsEnv is what the sessions commands work on: the config (for the
// agents) and the store under the state dir.
type sessionsEnv struct {
	cfg   *config.Config
	store *session.Store
}

func (a *App) sessionsEnv() (*sessionsEnv, error) {
	lc, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	st := session.NewStore(lc.stateDir, session.Options{Fsync: lc.cfg.Session.Fsync})
	return &sessionsEnv{cfg: lc.cfg, store: st}, nil
}

// agents returns the agents whose sessions can be listed: the configured
// ones, then those that only have sessions on disk (removed from the
// config since), sorted.
func (e *sessionsEnv) agents() ([]string, error) {
	ids := e.cfg.AgentIDs()
	disk, err := e.store.AgentIDs()
	if err != nil {
		return nil, configErr(err)
	}
	for _, id := range disk {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// agent checks an --agent value: a configured agent, or one with sessions
// on disk. Empty is the default agent.
func (e *sessionsEnv) agent(id string) (string, error) {
	if id == "" {
		return e.cfg.DefaultAgentID(), nil
	}
	all, err := e.agents()
	if err != nil {
		return "", err
	}
	if low := strings.ToLower(strings.TrimSpace(id)); slices.Contains(all, low) {
		return low, nil
	}
	return "", usageErr("Unknown agent id %q (configured: %s)", id, strings.Join(e.cfg.AgentIDs(), ", "))
}

// key turns a key as the user gives it into a full key and its agent: a
// full agent:<id>:<name> key names its agent; any other value is a name
// under agentFlag (default: the default agent). Keys in the namespaces runs
// may not choose (subagent:, cron:) can still be shown and removed.
func (e *sessionsEnv) key(agentFlag, raw string) (agentID, key string, err error) {
	if id, rest, ok := session.ParseKey(strings.TrimSpace(raw)); ok {
		return id, "agent:" + id + ":" + rest, nil
	}
	agentID, err = e.agent(agentFlag)
	if err != nil {
		return "", "", err
	}
	key, err = session.ScopedKey(agentID, raw)
	switch {
	case errors.Is(err, session.ErrReservedKey):
		key, err = "agent:"+agentID+":"+strings.TrimSpace(raw), nil
	case err != nil:
		return "", "", usageErr("%v", err)
	}
	return agentID, key, nil
}

// entry finds a session by key; a missing one is exit 1.
func (e *sessionsEnv) entry(agentID, key string) (session.Entry, error) {
	ent, ok, err := e.store.Get(agentID, key)
	if err != nil {
		return session.Entry{}, configErr(err)
	}
	if !ok {
		return session.Entry{}, exitErr(ExitFailure, "session not found: %s (list them with 'openclaw sessions list')", key)
	}
	return ent, nil
}

// completeSessionKeys completes the keys of the stored sessions.
func completeSessionKeys(app *App) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		stateDir, err := config.StateDir()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		st := session.NewStore(stateDir, session.Options{})
		ids, _ := st.AgentIDs()
		var keys []cobra.Completion
		for _, id := range ids {
			list, _ := st.List(id)
			for _, e := range list {
				if strings.HasPrefix(e.Key, toComplete) {
					keys = append(keys, e.Key)
				}
			}
		}
		return keys, cobra.ShellCompDirectiveNoFileComp
	}
}

// --- list

type sessionsListOptions struct {
	IO    IO
	Agent string
	JSON  bool
}

// sessionJSON is one session in `sessions list --json`.
type sessionJSON struct {
	AgentID          string    `json:"agentId"`
	Key              string    `json:"key"`
	SessionID        string    `json:"sessionId"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
	Turns            int       `json:"turns"`
	InputTokens      int       `json:"inputTokens"`
	OutputTokens     int       `json:"outputTokens"`
	CacheReadTokens  int       `json:"cacheReadTokens"`
	CacheWriteTokens int       `json:"cacheWriteTokens"`
	Provider         string    `json:"provider,omitempty"`
	Model            string    `json:"model,omitempty"`
}

func newSessionsListCmd(app *App) *cobra.Command {
	opts := &sessionsListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the stored sessions",
		Long: `List the stored sessions, most recently updated first: key, session id,
last update (local time), user turns and tokens (input, output and cache,
summed). Without --agent, the sessions of every agent: the configured ones and
any others that still have sessions on disk.`,
		Example: `  openclaw sessions list
  openclaw sessions list --agent work --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = app.IO
			return runSessionsList(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Agent, "agent", "", "only this agent's sessions")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the sessions as a JSON array")
	return cmd
}

func runSessionsList(_ context.Context, app *App, opts *sessionsListOptions) error {
	env, err := app.sessionsEnv()
	if err != nil {
		return err
	}
	agents, err := env.agents()
	if err != nil {
		return err
	}
	if opts.Agent != "" {
		id, err := env.agent(opts.Agent)
		if err != nil {
			return err
		}
		agents = []string{id}
	}
	rows := []sessionJSON{}
	for _, id := range agents {
		list, err := env.store.List(id)
		if err != nil {
			return configErr(err)
		}
		for _, e := range list {
			rows = append(rows, sessionJSON{AgentID: id, Key: e.Key, SessionID: e.SessionID, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
				Turns: e.Turns, InputTokens: e.InputTokens, OutputTokens: e.OutputTokens, CacheReadTokens: e.CacheReadTokens,
				CacheWriteTokens: e.CacheWriteTokens, Provider: e.Provider, Model: e.Model})
		}
	}
	slices.SortStableFunc(rows, func(a, b sessionJSON) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if opts.JSON {
		return writeJSONDoc(opts.IO.Out, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(opts.IO.Err, "No sessions.")
		return nil
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSESSION ID\tUPDATED\tTURNS\tTOKENS")
	for _, r := range rows {
		tokens := r.InputTokens + r.OutputTokens + r.CacheReadTokens + r.CacheWriteTokens
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", r.Key, r.SessionID, r.UpdatedAt.Local().Format(time.DateTime), r.Turns, tokens)
	}
	return tw.Flush()
}

// writeJSONDoc prints v as indented JSON, without HTML escaping (transcripts
// hold <, > and &).
func writeJSONDoc(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// --- show

type sessionsShowOptions struct {
	IO    IO
	Agent string
	Key   string
	JSON  bool
}

func newSessionsShowCmd(app *App) *cobra.Command {
	opts := &sessionsShowOptions{}
	cmd := &cobra.Command{
		Use:   "show <key>",
		Short: "Print a session's transcript",
		Long: `Print a session's transcript, oldest first: one line per record, its role
and its text (line breaks shown as \n; --json prints the records whole, with
timestamps, tool calls and usage).`,
		Example: `  openclaw sessions show main
  openclaw sessions show agent:work:explicit:demo --json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeSessionKeys(app),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Key = app.IO, args[0]
			return runSessionsShow(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Agent, "agent", "", "the agent of a key given without agent:<id>: (default: the default agent)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the records as a JSON array")
	return cmd
}

func runSessionsShow(_ context.Context, app *App, opts *sessionsShowOptions) error {
	env, err := app.sessionsEnv()
	if err != nil {
		return err
	}
	agentID, key, err := env.key(opts.Agent, opts.Key)
	if err != nil {
		return err
	}
	ent, err := env.entry(agentID, key)
	if err != nil {
		return err
	}
	recs, err := env.store.Transcript(agentID, ent.SessionID)
	if errors.Is(err, fs.ErrNotExist) {
		recs, err = nil, nil // acquired, but no turn written yet
	}
	if err != nil {
		return configErr(err)
	}
	if opts.JSON {
		if recs == nil {
			recs = []session.Record{}
		}
		return writeJSONDoc(opts.IO.Out, recs)
	}
	for _, r := range recs {
		fmt.Fprintln(opts.IO.Out, recordLine(r))
	}
	return nil
}

// recordLine renders a record as one line: its role, then its text.
func recordLine(r session.Record) string {
	var b strings.Builder
	switch r.Type {
	case session.TypeToolResult, session.TypeToolCall:
		b.WriteString(r.Type)
		if r.ToolName != "" {
			b.WriteString(" " + r.ToolName)
		}
		if r.IsError {
			b.WriteString(" (error)")
		}
	default:
		b.WriteString(r.Type)
	}
	b.WriteString(":")
	if r.Text != "" {
		b.WriteString(" " + escapeLines(r.Text))
	}
	if r.Images > 0 {
		fmt.Fprintf(&b, " [%d image(s)]", r.Images)
	}
	for _, c := range r.ToolCalls {
		fmt.Fprintf(&b, " [call %s %s]", c.Name, escapeLines(c.Arguments))
	}
	return b.String()
}

// escapeLines shows line breaks (and a backslash, so the two can be told
// apart) as escapes.
func escapeLines(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\r", `\r`, "\n", `\n`).Replace(s)
}

// --- rm

// rmNoticeAfter is how long rm waits for a session quietly before it says
// that a run holds it.
const rmNoticeAfter = 300 * time.Millisecond

type sessionsRmOptions struct {
	IO    IO
	Agent string
	Key   string
}

func newSessionsRmCmd(app *App) *cobra.Command {
	opts := &sessionsRmOptions{}
	cmd := &cobra.Command{
		Use:     "rm <key>",
		Aliases: []string{"remove"},
		Short:   "Remove a session and its transcript",
		Long: `Remove a session: its entry in the session index and its transcript.

It is safe while a gateway runs: a run on the session is let finish first
(Ctrl-C stops waiting), and the next run on the key starts a new session.`,
		Example: `  openclaw sessions rm main
  openclaw sessions rm agent:work:explicit:demo`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeSessionKeys(app),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Key = app.IO, args[0]
			return runSessionsRm(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Agent, "agent", "", "the agent of a key given without agent:<id>: (default: the default agent)")
	return cmd
}

func runSessionsRm(ctx context.Context, app *App, opts *sessionsRmOptions) error {
	env, err := app.sessionsEnv()
	if err != nil {
		return err
	}
	agentID, key, err := env.key(opts.Agent, opts.Key)
	if err != nil {
		return err
	}
	// A run on the session holds it until it ends: say why we wait.
	quick, cancel := context.WithTimeout(ctx, rmNoticeAfter)
	ent, err := env.store.Remove(quick, agentID, key)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		fmt.Fprintf(opts.IO.Err, "Waiting for the run on %s to finish (Ctrl-C to stop waiting)...\n", key)
		ent, err = env.store.Remove(ctx, agentID, key)
	}
	switch {
	case errors.Is(err, session.ErrNotFound):
		return exitErr(ExitFailure, "session not found: %s (list them with 'openclaw sessions list')", key)
	case errors.Is(err, context.Canceled):
		return exitErr(ExitFailure, "interrupted while waiting for a run on %s to finish; nothing removed", key)
	case err != nil:
		return configErr(err)
	}
	fmt.Fprintf(opts.IO.Out, "Removed session %s (%s).\n", key, ent.SessionID)
	return nil
}
