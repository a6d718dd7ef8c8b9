package ws

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/provider"
	"github.com/openclaw/openclaw-go/pkg/session"
)

// Bounds of the listing methods.
const (
	defaultSessionsLimit = 100
	defaultHistoryLimit  = 200
	maxListLimit         = 1000
	maxHistoryBytes      = 4 << 20 // text of one chat.history answer
)

func (s *Server) health() any {
	ready := true
	if s.opts.Ready != nil {
		ready = s.opts.Ready()
	}
	return map[string]any{"ok": true, "status": "live", "ready": ready, "ts": time.Now().UnixMilli()}
}

func (s *Server) status() any {
	cfg := s.runner.Config()
	type agentInfo struct {
		ID      string `json:"id"`
		Name    string `json:"name,omitempty"`
		Model   string `json:"model"`
		Default bool   `json:"default"`
	}
	def := cfg.DefaultAgentID()
	var agents []agentInfo
	for _, id := range cfg.AgentIDs() {
		a, _ := cfg.Agent(id)
		m := cfg.AgentModel(id).Primary
		if m == "" {
			m = agent.DefaultModel
		}
		agents = append(agents, agentInfo{ID: id, Name: a.Name, Model: m, Default: id == def})
	}
	st := s.Stats()
	return map[string]any{
		"version":        s.opts.Version,
		"protocol":       ProtocolVersion,
		"uptimeMs":       time.Since(s.start).Milliseconds(),
		"connections":    st.Connections,
		"activeRuns":     st.ActiveRuns,
		"defaultAgentId": def,
		"agents":         agents,
	}
}

// SessionRow is one session in a sessions.list answer.
type SessionRow struct {
	Key          string `json:"key"`
	AgentID      string `json:"agentId"`
	SessionID    string `json:"sessionId"`
	CreatedAt    int64  `json:"createdAt"`
	UpdatedAt    int64  `json:"updatedAt"`
	Turns        int    `json:"turns"`
	InputTokens  int    `json:"inputTokens"`
	OutputTokens int    `json:"outputTokens"`
	Provider     string `json:"provider,omitempty"`
	Model        string `json:"model,omitempty"`
}

// sessionsList answers sessions.list {agentId?, limit?}: the sessions of
// one agent, or of every configured agent, most recently updated first.
func (s *Server) sessionsList(params []byte) (any, *ErrorShape) {
	var p struct {
		AgentID string `json:"agentId"`
		Limit   *int   `json:"limit"`
	}
	if err := DecodeParams(params, &p); err != nil {
		return nil, invalid("invalid sessions.list params: " + err.Error())
	}
	limit, es := listLimit(p.Limit, defaultSessionsLimit, "sessions.list")
	if es != nil {
		return nil, es
	}
	ids := s.runner.Config().AgentIDs()
	if p.AgentID != "" {
		id, err := s.runner.ResolveAgent(p.AgentID)
		if err != nil {
			return nil, runErrorShape(err)
		}
		ids = []string{id}
	}
	rows := []SessionRow{}
	for _, id := range ids {
		entries, err := s.runner.Store().List(id)
		if err != nil {
			s.log.Error("list sessions", "agent", id, "err", err)
			return nil, &ErrorShape{Code: CodeUnavailable, Message: "could not read the sessions of agent " + id}
		}
		for _, e := range entries {
			rows = append(rows, SessionRow{Key: e.Key, AgentID: id, SessionID: e.SessionID,
				CreatedAt: e.CreatedAt.UnixMilli(), UpdatedAt: e.UpdatedAt.UnixMilli(), Turns: e.Turns,
				InputTokens: e.InputTokens, OutputTokens: e.OutputTokens, Provider: e.Provider, Model: e.Model})
		}
	}
	slices.SortStableFunc(rows, func(a, b SessionRow) int {
		if c := cmp.Compare(b.UpdatedAt, a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	total := len(rows)
	if len(rows) > limit {
		rows = rows[:limit]
	}
	return map[string]any{"count": len(rows), "total": total, "sessions": rows}, nil
}

func listLimit(v *int, def int, method string) (int, *ErrorShape) {
	if v == nil {
		return def, nil
	}
	if *v < 1 || *v > maxListLimit {
		return 0, invalid(fmt.Sprintf("invalid %s params: limit must be between 1 and %d", method, maxListLimit))
	}
	return *v, nil
}

// HistoryMessage is one transcript record in a chat.history answer.
type HistoryMessage struct {
	Role       string              `json:"role"` // user | assistant | toolCall | toolResult | error
	Text       string              `json:"text"`
	TS         int64               `json:"ts"`
	RunID      string              `json:"runId,omitempty"`
	Images     int                 `json:"images,omitempty"`
	ToolCalls  []provider.ToolCall `json:"toolCalls,omitempty"`
	ToolCallID string              `json:"toolCallId,omitempty"`
	ToolName   string              `json:"toolName,omitempty"`
	IsError    bool                `json:"isError,omitempty"`
	Usage      *provider.Usage     `json:"usage,omitempty"`
	Provider   string              `json:"provider,omitempty"`
	Model      string              `json:"model,omitempty"`
	StopReason string              `json:"stopReason,omitempty"`
}

var roles = map[string]string{
	session.TypeUser: "user", session.TypeAssistant: "assistant", session.TypeToolCall: "toolCall",
	session.TypeToolResult: "toolResult", session.TypeError: "error",
}

// chatHistory answers chat.history {sessionKey, limit?}: the last records
// of the session's transcript, oldest first. A key with no session yet has
// an empty history.
func (s *Server) chatHistory(params []byte) (any, *ErrorShape) {
	var p struct {
		SessionKey string `json:"sessionKey"`
		Limit      *int   `json:"limit"`
	}
	if err := DecodeParams(params, &p); err != nil {
		return nil, invalid("invalid chat.history params: " + err.Error())
	}
	if strings.TrimSpace(p.SessionKey) == "" {
		return nil, invalid("invalid chat.history params: sessionKey is required")
	}
	limit, es := listLimit(p.Limit, defaultHistoryLimit, "chat.history")
	if es != nil {
		return nil, es
	}
	cfg := s.runner.Config()
	key, err := session.ScopedKey(cfg.DefaultAgentID(), p.SessionKey)
	if err != nil {
		return nil, invalid("invalid sessionKey: " + err.Error())
	}
	agentID, _, _ := session.ParseKey(key)
	if _, err := s.runner.ResolveAgent(agentID); err != nil {
		return nil, runErrorShape(err)
	}
	out := map[string]any{"sessionKey": key, "sessionId": "", "messages": []HistoryMessage{}}
	e, ok, err := s.runner.Store().Get(agentID, key)
	if err != nil {
		s.log.Error("read session index", "key", key, "err", err)
		return nil, &ErrorShape{Code: CodeUnavailable, Message: "could not read the session index"}
	}
	if !ok {
		return out, nil
	}
	out["sessionId"] = e.SessionID
	recs, err := s.runner.Store().Transcript(agentID, e.SessionID)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		s.log.Error("read transcript", "key", key, "err", err)
		return nil, &ErrorShape{Code: CodeUnavailable, Message: "could not read the session transcript"}
	}
	if len(recs) > limit {
		recs = recs[len(recs)-limit:]
	}
	msgs := make([]HistoryMessage, 0, len(recs))
	size := 0
	for i := len(recs) - 1; i >= 0; i-- { // newest first, to keep the newest within the byte cap
		r := recs[i]
		size += len(r.Text)
		for _, tc := range r.ToolCalls {
			size += len(tc.Arguments)
		}
		if size > maxHistoryBytes && len(msgs) > 0 {
			break
		}
		msgs = append(msgs, HistoryMessage{Role: roles[r.Type], Text: r.Text, TS: r.TS.UnixMilli(), RunID: r.RunID,
			Images: r.Images, ToolCalls: r.ToolCalls, ToolCallID: r.ToolCallID, ToolName: r.ToolName, IsError: r.IsError,
			Usage: r.Usage, Provider: r.Provider, Model: r.Model, StopReason: r.StopReason})
	}
	slices.Reverse(msgs)
	out["messages"] = msgs
	return out, nil
}
