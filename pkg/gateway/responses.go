package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/julienschmidt/httprouter"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/openai"
	"github.com/openclaw/openclaw-go/pkg/openresponses"
	"github.com/openclaw/openclaw-go/pkg/provider"
	"github.com/openclaw/openclaw-go/pkg/session"
)

// responsesPath is the OpenResponses endpoint.
const responsesPath = "/v1/responses"

// responseIDsFile keeps response id -> session key under the state dir, so
// previous_response_id survives a restart.
const responseIDsFile = "gateway/openresponses.jsonl"

// maxResponseIDs bounds the response ids remembered; the oldest are
// forgotten first (a previous_response_id older than that is a 404).
const maxResponseIDs = 10000

func init() {
	routeHooks = append(routeHooks, func(s *Server, rt *httprouter.Router) {
		h := &responsesHandler{s: s, ids: newResponseIDs(filepath.Join(s.runner.StateDir(), responseIDsFile), maxResponseIDs,
			func() bool { return s.state.Load().cfg.Session.Fsync }, s.log)}
		rt.POST(responsesPath, s.handle(h.serve))
	})
	// A disabled endpoint does not exist, whatever the method: server.go's
	// 405 handler knows only its own endpoints, so other methods on this
	// path get their 404 here, before the router answers 405.
	middlewareHooks = append(middlewareHooks, func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == responsesPath && r.Method != http.MethodPost {
				if err := s.responsesEnabled(); err != nil {
					s.writeError(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
}

func (s *Server) responsesEnabled() error {
	if !s.state.Load().cfg.Gateway.HTTP.Endpoints.Responses.Enabled {
		return openai.NotFound("The responses endpoint is disabled. Enable it with: openclaw config set gateway.http.endpoints.responses.enabled true")
	}
	return nil
}

type responsesHandler struct {
	s   *Server
	ids *responseIDs
}

// responseMeta is what every body of one response shares.
type responseMeta struct {
	id, msgID, model string
	created          int64
	key              string // the session key, remembered for previous_response_id
}

// serve handles POST /v1/responses in the order of checks of chat
// completions: enabled, auth, size, JSON, unknown fields, types, ranges,
// agent and session (previous_response_id), model override, images, no user
// message, run.
func (h *responsesHandler) serve(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	s := h.s
	if err := s.responsesEnabled(); err != nil {
		return err
	}
	if err := s.authorize(w, r); err != nil {
		return err
	}
	cfg := s.state.Load().cfg
	body, err := readBody(w, r, cfg.Gateway.HTTP.Endpoints.Responses.MaxBodyBytes, s.bodyTimeout)
	if err != nil {
		return err
	}
	req, aerr := openresponses.DecodeRequest(body)
	if aerr != nil {
		return aerr
	}

	agentID, aerr := s.requestAgent(r, req.Model)
	if aerr != nil {
		return aerr
	}

	key, fresh, aerr := h.sessionKey(r, agentID, req)
	if aerr != nil {
		return aerr
	}

	model := strings.TrimSpace(r.Header.Get("x-openclaw-model"))
	if model != "" {
		if err := s.runner.CheckModel(agentID, model); err != nil {
			return openai.UnknownModel(model)
		}
	}

	prompt, aerr := openai.BuildPrompt(req.Messages())
	if aerr != nil {
		return aerr
	}
	// Images take the chat completions limits: they are the same model's.
	cc := cfg.Gateway.HTTP.Endpoints.ChatCompletions
	images, aerr := openai.DecodeImages(prompt.ImageParts, openai.ImageLimits{
		MaxParts: cc.MaxImageParts, MaxTotalBytes: cc.MaxTotalImageBytes, AllowURL: cc.Images.AllowURL,
	})
	if aerr != nil {
		e := *aerr
		e.Param = "input"
		return &e
	}
	results := req.ToolResults()
	if prompt.Empty() && len(results) == 0 {
		return openresponses.MissingUserMessage()
	}

	extra := prompt.ExtraSystem
	if in := strings.TrimSpace(req.Instructions); in != "" {
		extra = strings.TrimSuffix(in+"\n\n"+extra, "\n\n")
	}
	areq := agent.Request{
		AgentID:           agentID,
		SessionKey:        key,
		NewSession:        fresh,
		Message:           prompt.Text,
		Images:            images,
		ExtraSystemPrompt: extra,
		Model:             model,
		ClientTools:       req.Tools,
		ToolChoice:        req.ToolChoice,
		ToolResults:       results,
		Params:            req.Params(),
		Timeout:           time.Duration(cfg.Agents.Defaults.TimeoutSeconds) * time.Second,
	}
	m := responseMeta{id: openresponses.NewResponseID(), msgID: openresponses.NewMessageID(), model: req.Model,
		created: time.Now().Unix(), key: key}
	if req.Stream {
		return h.stream(w, r, areq, m)
	}

	started := false
	areq.OnEvent = func(ev agent.Event) {
		if ev.Type == agent.EventStart {
			started = true
		}
	}
	res, err := s.runner.Run(r.Context(), areq)
	if err != nil {
		// Before the run started (agent, model, session, slot) the error is
		// the request's, as in chat completions; after, the response failed.
		if !started {
			return s.runFailure(w, r, &areq, err)
		}
		ae := s.failureError(r, &areq, err)
		if ae == nil {
			return nil
		}
		failedHeaders(w, ae, err)
		writeJSON(w, http.StatusInternalServerError, openresponses.Failed(m.id, m.model, m.created, ae))
		return nil
	}
	resp := openresponses.NewResponse(m.id, m.model, m.created, m.msgID, reply(res, ""))
	h.ids.put(m.id, m.key)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func reply(res *agent.Result, text string) openresponses.Reply {
	if text == "" {
		text = res.Text
	}
	return openresponses.Reply{Text: text, ToolCalls: res.ToolCalls, StopReason: res.StopReason, Usage: res.Usage}
}

// failedHeaders go with a failed response: an SDK must not retry a run that
// failed after the gateway already tried every fallback (and appended the
// turn), and an upstream rate limit passes its Retry-After on.
func failedHeaders(w http.ResponseWriter, ae *openai.Error, err error) {
	w.Header().Set("x-should-retry", "false")
	var pe *provider.Error
	if ae.Status == http.StatusTooManyRequests && errors.As(err, &pe) && pe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(pe.RetryAfter.Seconds()))))
	}
}

// sessionKey picks the run's session: the x-openclaw-session-key header
// (as in chat completions), else the session of previous_response_id, else
// the user's, else a new one. An unknown previous_response_id is a 404 even
// when the header decides.
func (h *responsesHandler) sessionKey(r *http.Request, agentID string, req *openresponses.Request) (key string, fresh bool, aerr *openai.Error) {
	var prevKey string
	if id := req.PreviousResponseID; id != "" {
		k, ok := h.ids.get(id)
		if !ok {
			return "", false, openresponses.PreviousResponseNotFound(id)
		}
		if owner, _, _ := session.ParseKey(k); owner != agentID {
			return "", false, openai.InvalidRequest(fmt.Sprintf("previous_response_id: response '%s' belongs to agent '%s', not '%s'; send model openclaw/%s", id, owner, agentID, owner), "previous_response_id")
		}
		prevKey = k
	}
	if k, aerr := headerSessionKey(r, agentID); aerr != nil || k != "" {
		return k, false, aerr
	}
	if prevKey != "" {
		return prevKey, false, nil
	}
	if u := strings.TrimSpace(req.User); u != "" {
		return session.UserKey(agentID, "openresponses", u), false, nil
	}
	return session.RandomKey(agentID, "openresponses"), true, nil
}

// stream runs the turn and writes it as events: response.created and
// response.in_progress as soon as the run is accepted; the message item
// opens at the first text delta and every model delta is sent and flushed
// as it comes; at the end the message closes, each client function call is
// an item with its arguments, and the status event (response.completed,
// response.incomplete or, after a failure, response.failed) precedes
// [DONE].
func (h *responsesHandler) stream(w http.ResponseWriter, r *http.Request, areq agent.Request, m responseMeta) error {
	s := h.s
	var (
		st      openresponses.Stream
		msgOpen bool
		text    strings.Builder
	)
	buf := make([]byte, 0, 1024)
	sse, ctx := newSSE(w, r)
	defer sse.close()
	send := sse.send
	openMessage := func(dst []byte) []byte {
		msgOpen = true
		dst = st.ItemAdded(dst, 0, openresponses.MessageItem(m.msgID, openresponses.StatusInProgress, ""))
		return st.PartAdded(dst, m.msgID, 0)
	}
	areq.OnEvent = func(ev agent.Event) {
		switch ev.Type {
		case agent.EventStart:
			sse.start()
			ip := openresponses.InProgress(m.id, m.model, m.created)
			buf = st.Created(buf[:0], ip)
			buf = st.InProgress(buf, ip)
			send(buf)
		case agent.EventDelta:
			buf = buf[:0]
			if !msgOpen {
				buf = openMessage(buf)
			}
			text.WriteString(ev.Text)
			buf = st.TextDelta(buf, m.msgID, 0, ev.Text)
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
			buf = st.Finished(buf[:0], openresponses.Failed(m.id, m.model, m.created, openai.Internal()))
			send(openresponses.AppendDone(buf))
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
		buf = st.Finished(buf[:0], openresponses.Failed(m.id, m.model, m.created, ae))
		send(openresponses.AppendDone(buf))
		return nil
	}
	resp := openresponses.NewResponse(m.id, m.model, m.created, m.msgID, reply(res, text.String()))
	h.ids.put(m.id, m.key)
	buf = buf[:0]
	for i, it := range resp.Output {
		switch it.Type {
		case openresponses.OutputMessage:
			txt := it.Content[0].Text
			if !msgOpen { // no deltas came: the text is sent whole
				buf = openMessage(buf)
				buf = st.TextDelta(buf, m.msgID, i, txt)
			}
			buf = st.TextDone(buf, m.msgID, i, txt)
			buf = st.PartDone(buf, m.msgID, i, txt)
			buf = st.ItemDone(buf, i, it)
		case openresponses.OutputFunctionCall:
			added := it
			added.Status, added.Arguments = openresponses.StatusInProgress, ""
			buf = st.ItemAdded(buf, i, added)
			buf = st.ArgumentsDelta(buf, it.ID, i, it.Arguments)
			buf = st.ArgumentsDone(buf, it.ID, i, it.Arguments)
			buf = st.ItemDone(buf, i, it)
		}
	}
	buf = st.Finished(buf, resp)
	send(openresponses.AppendDone(buf))
	return nil
}

// responseIDs remembers which session each response continues, for
// previous_response_id: in memory, bounded to the newest max ids, and in an
// append-only file of JSON lines so that it survives a restart. Each put
// appends one line in one write (a crash can cut only the last line short,
// and loading skips it); when the file holds twice the bound it is
// rewritten with the live entries through a temp file and a rename, so it
// stays small and is never seen half written.
type responseIDs struct {
	path  string
	max   int
	fsync func() bool
	log   *log.Logger

	mu     sync.Mutex
	loaded bool
	keys   map[string]string // response id -> session key
	order  []string          // ids, oldest first
	lines  int               // lines in the file
	f      *os.File          // append handle, opened on first put
}

type responseIDLine struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

func newResponseIDs(path string, max int, fsync func() bool, lg *log.Logger) *responseIDs {
	return &responseIDs{path: path, max: max, fsync: fsync, log: lg, keys: map[string]string{}}
}

// load reads the file once; a missing file is an empty map and a line
// that does not parse (a torn tail) is skipped.
func (m *responseIDs) load() {
	if m.loaded {
		return
	}
	m.loaded = true
	f, err := os.Open(m.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("cannot read response ids; previous_response_id will not find older responses", "path", m.path, "err", err)
		}
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		m.lines++
		var l responseIDLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.ID == "" || l.Key == "" {
			continue
		}
		m.add(l.ID, l.Key)
	}
	if err := sc.Err(); err != nil {
		m.log.Warn("cannot read all response ids", "path", m.path, "err", err)
	}
}

// add records id in memory, forgetting the oldest beyond the bound.
func (m *responseIDs) add(id, key string) {
	if _, ok := m.keys[id]; !ok {
		m.order = append(m.order, id)
	}
	m.keys[id] = key
	for len(m.order) > m.max {
		delete(m.keys, m.order[0])
		m.order[0] = ""
		m.order = m.order[1:]
	}
}

func (m *responseIDs) get(id string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.load()
	k, ok := m.keys[id]
	return k, ok
}

// put remembers id. A failure to write is logged, not returned: the id is
// remembered in memory all the same and the response is not at fault.
func (m *responseIDs) put(id, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.load()
	m.add(id, key)
	if err := m.append(id, key); err != nil {
		m.log.Error("cannot save response id; previous_response_id will not find it after a restart", "path", m.path, "err", err)
		m.closeFile()
	}
}

func (m *responseIDs) append(id, key string) error {
	if m.lines >= 2*m.max {
		return m.compact()
	}
	if m.f == nil {
		if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(m.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		m.f = f
		// A torn last line would swallow the next one: end it first.
		if st, err := f.Stat(); err == nil && st.Size() > 0 {
			last := make([]byte, 1)
			if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
				if _, err := f.Write([]byte{'\n'}); err != nil {
					return err
				}
				m.lines++
			}
		}
	}
	line, _ := json.Marshal(responseIDLine{ID: id, Key: key})
	if _, err := m.f.Write(append(line, '\n')); err != nil {
		return err
	}
	m.lines++
	if m.fsync() {
		return m.f.Sync()
	}
	return nil
}

// compact rewrites the file with the live entries, oldest first.
func (m *responseIDs) compact() error {
	m.closeFile()
	var b bytes.Buffer
	for _, id := range m.order {
		line, _ := json.Marshal(responseIDLine{ID: id, Key: m.keys[id]})
		b.Write(line)
		b.WriteByte('\n')
	}
	dir := filepath.Dir(m.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := m.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b.Bytes())
	if err == nil && m.fsync() {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, m.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	m.lines = len(m.order)
	return nil
}

func (m *responseIDs) closeFile() {
	if m.f != nil {
		m.f.Close()
		m.f = nil
	}
}
