package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// agentEvents collects the agent events of a run up to its final response.
func (c *client) untilFinal(id string) ([]AgentEvent, []int64, Frame) {
	c.t.Helper()
	var evs []AgentEvent
	var seqs []int64
	for {
		f := c.recvNonTick()
		switch {
		case f.Type == TypeEvent && f.Event == "agent":
			evs = append(evs, decode[AgentEvent](c.t, f.Payload))
			seqs = append(seqs, *f.Seq)
		case f.Type == TypeRes && f.ID == id:
			return evs, seqs, f
		default:
			c.t.Fatalf("unexpected frame %+v", f)
		}
	}
}

func TestAgentRun(t *testing.T) {
	e := newEnv(t, Options{}, words("hello there friend"))
	c := e.connected()
	c.send(req("r1", "agent", map[string]any{"message": "hi", "sessionKey": "chat", "extraSystemPrompt": "Be brief.", "timeout": 30}))
	acc := c.recv()
	if acc.ID != "r1" || !acc.OK {
		t.Fatalf("first response %+v", acc)
	}
	a := decode[AgentAccepted](t, acc.Payload)
	if !uuidRe.MatchString(a.RunID) || a.Status != "accepted" || a.AcceptedAt <= 0 {
		t.Fatalf("accepted %+v", a)
	}
	evs, seqs, fin := c.untilFinal("r1")
	var got []string
	for i, ev := range evs {
		if ev.RunID != a.RunID || ev.Seq != int64(i+1) || ev.TS <= 0 {
			t.Fatalf("event %d: %+v", i, ev)
		}
		if i > 0 && seqs[i] != seqs[i-1]+1 {
			t.Fatalf("frame seqs %v do not grow by one", seqs)
		}
		switch ev.Stream {
		case "assistant":
			got = append(got, "assistant "+ev.Data["delta"].(string))
		case "lifecycle":
			got = append(got, "lifecycle "+ev.Data["phase"].(string))
		case "model":
			got = append(got, fmt.Sprintf("model %s/%s", ev.Data["provider"], ev.Data["model"]))
		case "usage":
			got = append(got, fmt.Sprintf("usage %v", ev.Data["total"]))
		default:
			got = append(got, ev.Stream)
		}
	}
	want := "lifecycle start|model fake/m|assistant hello |assistant there |assistant friend|usage 5|lifecycle end"
	if strings.Join(got, "|") != want {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if evs[0].Data["sessionKey"] != "agent:main:chat" {
		t.Fatalf("start %v", evs[0].Data)
	}
	if !fin.OK || fin.Error != nil {
		t.Fatalf("final %+v", fin)
	}
	f := decode[AgentFinal](t, fin.Payload)
	if f.RunID != a.RunID || f.Status != "ok" || f.Summary != "completed" || f.Result == nil {
		t.Fatalf("final %+v", f)
	}
	m := f.Result.Meta
	if len(f.Result.Payloads) != 1 || f.Result.Payloads[0].Text != "hello there friend" ||
		m.AgentID != "main" || m.SessionKey != "agent:main:chat" || m.AgentMeta.Provider != "fake" || m.AgentMeta.Model != "m" ||
		m.AgentMeta.Usage != (Usage{Input: 3, Output: 2, Total: 5}) || m.StopReason != "stop" || m.Tools == nil || !uuidRe.MatchString(m.AgentMeta.SessionID) {
		t.Fatalf("result %+v", f.Result)
	}

	// The run went through the runner: the transcript has it, and
	// chat.history and sessions.list show it.
	c.send(req("h", "chat.history", map[string]any{"sessionKey": "chat"}))
	h := decode[struct {
		SessionKey, SessionID string
		Messages              []HistoryMessage
	}](t, c.recvNonTick().Payload)
	if h.SessionKey != "agent:main:chat" || h.SessionID != m.AgentMeta.SessionID || len(h.Messages) != 2 ||
		h.Messages[0].Role != "user" || h.Messages[0].Text != "hi" || h.Messages[1].Role != "assistant" ||
		h.Messages[1].Text != "hello there friend" || h.Messages[1].Model != "m" || h.Messages[0].TS <= 0 {
		t.Fatalf("history %+v", h)
	}
	c.send(req("h2", "chat.history", map[string]any{"sessionKey": "agent:main:chat", "limit": 1}))
	h = decode[struct {
		SessionKey, SessionID string
		Messages              []HistoryMessage
	}](t, c.recvNonTick().Payload)
	if len(h.Messages) != 1 || h.Messages[0].Role != "assistant" {
		t.Fatalf("limited history %+v", h)
	}
	c.send(req("h3", "chat.history", map[string]any{"sessionKey": "never-used"}))
	if p := string(c.recvNonTick().Payload); p != `{"messages":[],"sessionId":"","sessionKey":"agent:main:never-used"}` {
		t.Fatalf("empty history %s", p)
	}
	c.send(req("l", "sessions.list", nil))
	l := decode[struct {
		Count    int
		Sessions []SessionRow
	}](t, c.recvNonTick().Payload)
	if l.Count != 1 || l.Sessions[0].Key != "agent:main:chat" || l.Sessions[0].AgentID != "main" || l.Sessions[0].Turns != 1 || l.Sessions[0].InputTokens != 3 {
		t.Fatalf("sessions %+v", l)
	}
}

func TestAgentRunErrors(t *testing.T) {
	e := newEnv(t, Options{}, func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
		return nil, &provider.Error{Kind: provider.ErrOverloaded, Status: 500, Message: "boom"}
	})
	c := e.connected()
	c.send(req("r", "agent", map[string]any{"message": "hi"}))
	c.recv() // accepted
	evs, _, fin := c.untilFinal("r")
	last := evs[len(evs)-1]
	if last.Stream != "lifecycle" || last.Data["phase"] != "error" || last.Data["kind"] != "model" {
		t.Fatalf("last event %+v", last)
	}
	if fin.OK || fin.Error.Code != CodeUnavailable || !strings.HasPrefix(fin.Error.Message, "model call failed: ") ||
		string(fin.Error.Details) != `{"kind":"model"}` {
		t.Fatalf("final %+v %+v", fin, fin.Error)
	}
	f := decode[AgentFinal](t, fin.Payload)
	if f.Status != "error" || f.Summary != fin.Error.Message || f.Result != nil {
		t.Fatalf("final payload %+v", f)
	}

	// A timeout is AGENT_TIMEOUT, kind timeout.
	started := make(chan struct{})
	e2 := newEnv(t, Options{}, hang(started))
	c2 := e2.connected()
	c2.send(req("t", "agent", map[string]any{"message": "hi", "timeout": 1}))
	c2.recv()
	_, _, fin = c2.untilFinal("t")
	if fin.OK || fin.Error.Code != CodeAgentTimeout || fin.Error.Message != "run timed out" || string(fin.Error.Details) != `{"kind":"timeout"}` {
		t.Fatalf("timeout final %+v", fin.Error)
	}
	// An unknown model override is refused before the run starts.
	c2.send(req("m", "agent", map[string]any{"message": "hi", "model": "nope"}))
	if f := c2.recvNonTick(); f.OK || f.Error.Code != CodeInvalidRequest || f.Error.Message != "Unknown model: nope" || string(f.Error.Details) != `{"kind":"unknown_model"}` {
		t.Fatalf("model %+v", f.Error)
	}
}

func TestAgentAbort(t *testing.T) {
	started := make(chan struct{})
	e := newEnv(t, Options{}, hang(started))
	c := e.connected()
	c.send(req("r", "agent", map[string]any{"message": "wait", "sessionId": "s1"}))
	runID := decode[AgentAccepted](t, c.recv().Payload).RunID
	<-started
	// Abort from another connection, by run id.
	c2 := e.connected()
	c2.send(req("x", "agent.abort", map[string]any{"runId": runID}))
	if p := decode[map[string]any](t, c2.recv().Payload); p["aborted"] != true || p["runId"] != runID {
		t.Fatalf("abort %v", p)
	}
	evs, _, fin := c.untilFinal("r")
	if fin.OK || fin.Error.Message != "run canceled" || string(fin.Error.Details) != `{"kind":"canceled"}` {
		t.Fatalf("final %+v", fin.Error)
	}
	last := evs[len(evs)-1]
	if last.Data["phase"] != "error" || last.Data["error"] != "run canceled" {
		t.Fatalf("last event %+v", last)
	}
	// Aborting a finished run says so.
	c2.send(req("y", "agent.abort", map[string]any{"runId": runID}))
	if p := decode[map[string]any](t, c2.recvNonTick().Payload); p["aborted"] != false || p["status"] != "error" {
		t.Fatalf("second abort %v", p)
	}
	// The transcript records the canceled turn.
	c.send(req("h", "chat.history", map[string]any{"sessionKey": "agent:main:explicit:s1"}))
	h := decode[struct{ Messages []HistoryMessage }](t, c.recvNonTick().Payload)
	if len(h.Messages) != 2 || h.Messages[1].Role != "error" || h.Messages[1].Text != "run canceled" {
		t.Fatalf("history %+v", h.Messages)
	}
}

func TestIdempotency(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, Options{}, func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		onDelta("one ")
		<-release
		onDelta("two")
		return &provider.Response{Text: "one two", StopReason: provider.StopEnd}, nil
	})
	a := e.connected()
	a.send(req("1", "agent", map[string]any{"message": "hi", "idempotencyKey": "k1"}))
	runID := decode[AgentAccepted](t, a.recv().Payload).RunID
	// While it runs, another connection repeats the key: the same run.
	b := e.connected()
	b.send(req("9", "agent", map[string]any{"message": "other text", "idempotencyKey": "k1"}))
	acc := b.recv()
	if acc.ID != "9" || decode[AgentAccepted](t, acc.Payload).RunID != runID {
		t.Fatalf("repeat while running %+v", acc)
	}
	// And the same connection once more.
	a.send(req("2", "agent", map[string]any{"message": "hi", "idempotencyKey": "k1"}))
	close(release)
	var finals []string
	for len(finals) < 2 {
		f := a.recvNonTick()
		if f.Type == TypeRes {
			finals = append(finals, f.ID+" "+decode[AgentFinal](t, f.Payload).Status)
			if f.ID == "2" && decode[AgentFinal](t, f.Payload).Status == "accepted" {
				finals = finals[:len(finals)-1]
			}
		}
	}
	sort.Strings(finals)
	if strings.Join(finals, ",") != "1 ok,2 ok" {
		t.Fatalf("finals on the first connection %v", finals)
	}
	evs, _, fin := b.untilFinal("9")
	if decode[AgentFinal](t, fin.Payload).RunID != runID || len(evs) == 0 || evs[len(evs)-1].Data["phase"] != "end" {
		t.Fatalf("second connection: %d events, final %s", len(evs), fin.Payload)
	}
	// After the run, a repeat gets the final response at once.
	b.send(req("10", "agent", map[string]any{"message": "hi", "idempotencyKey": "k1"}))
	f := b.recvNonTick()
	if p := decode[AgentFinal](t, f.Payload); f.ID != "10" || p.Status != "ok" || p.RunID != runID || p.Result.Payloads[0].Text != "one two" {
		t.Fatalf("repeat after the run %+v", f)
	}
	if n := e.model.calls.Load(); n != 1 {
		t.Fatalf("%d model calls, want 1", n)
	}
	// A new key is a new run.
	b.send(req("11", "agent", map[string]any{"message": "hi", "idempotencyKey": "k2"}))
	if p := decode[AgentAccepted](t, b.recvNonTick().Payload); p.RunID == runID {
		t.Fatal("a new key joined the old run")
	}
}

func TestRunCanceledWhenNobodyWaits(t *testing.T) {
	started := make(chan struct{})
	canceled := make(chan struct{})
	e := newEnv(t, Options{}, func(ctx context.Context, _ *provider.Request, _ func(string)) (*provider.Response, error) {
		close(started)
		<-ctx.Done()
		close(canceled)
		return nil, ctx.Err()
	})
	a := e.connected()
	a.send(req("1", "agent", map[string]any{"message": "hi", "idempotencyKey": "k"}))
	a.recv()
	b := e.connected()
	b.send(req("2", "agent", map[string]any{"message": "hi", "idempotencyKey": "k"}))
	b.recv()
	<-started
	a.c.CloseNow()
	// b still waits: the run goes on.
	select {
	case <-canceled:
		t.Fatal("run canceled while a client still waited")
	case <-time.After(100 * time.Millisecond):
	}
	b.c.CloseNow()
	select {
	case <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("run not canceled after every client left")
	}
}

func TestRunsPerConnectionCap(t *testing.T) {
	started := make(chan struct{})
	e := newEnv(t, Options{MaxRunsPerConn: 1}, hang(started))
	c := e.connected()
	c.send(req("1", "agent", map[string]any{"message": "hi"}))
	c.recv()
	c.send(req("2", "agent", map[string]any{"message": "hi", "sessionKey": "other"}))
	f := c.recvNonTick()
	for f.Type == TypeEvent {
		f = c.recvNonTick()
	}
	if f.ID != "2" || f.OK || f.Error.Code != CodeUnavailable || f.Error.Retryable == nil || !*f.Error.Retryable {
		t.Fatalf("second run %+v %+v", f, f.Error)
	}
}

// The idempotency memory is bounded by count and age.
func TestDedupeBounded(t *testing.T) {
	s := New(Options{})
	for i := 0; i < dedupeMax+500; i++ {
		r := &run{id: fmt.Sprint("r", i), key: fmt.Sprint("k", i), done: true, finishedAt: time.Now()}
		s.mu.Lock()
		s.runs[r.id], s.byKey[r.key] = r, r
		s.mu.Unlock()
		s.retire(r)
	}
	if len(s.finished) != dedupeMax || len(s.runs) != dedupeMax || len(s.byKey) != dedupeMax {
		t.Fatalf("kept %d finished, %d runs, %d keys", len(s.finished), len(s.runs), len(s.byKey))
	}
	if s.lookupKey("k0") != nil || s.lookupKey(fmt.Sprint("k", dedupeMax+499)) == nil {
		t.Fatal("evicted the wrong end")
	}
	// An old run is forgotten on the next retire, and not found meanwhile.
	old := s.finished[len(s.finished)-1]
	old.finishedAt = time.Now().Add(-dedupeTTL - time.Second)
	if s.lookupKey(old.key) != nil {
		t.Fatal("a run older than the TTL deduplicated")
	}
	for _, r := range s.finished {
		r.finishedAt = time.Now().Add(-dedupeTTL - time.Second)
	}
	r := &run{id: "new", key: "new", done: true, finishedAt: time.Now()}
	s.runs[r.id], s.byKey[r.key] = r, r
	s.retire(r)
	if len(s.finished) != 1 || len(s.runs) != 1 {
		t.Fatalf("after expiry: %d finished, %d runs", len(s.finished), len(s.runs))
	}
}

// A client that lets frames pile up is closed as a slow consumer; ticks are
// dropped instead.
func TestSlowConsumer(t *testing.T) {
	s := New(Options{MaxBuffered: 100})
	c := &conn{s: s, log: s.log, wake: make(chan struct{}, 1), runs: map[*run]struct{}{}, req: nil}
	c.req = newReq()
	c.sendRaw(make([]byte, 150)) // one frame may exceed the limit
	c.sendEvent("tick", json.RawMessage(`{}`), true)
	if len(c.queue) != 1 || c.closing {
		t.Fatalf("queue %d closing %v", len(c.queue), c.closing)
	}
	c.sendEvent("agent", json.RawMessage(`{}`), false)
	if !c.closing || c.closeCode != ClosePolicy || c.closeReason != "slow consumer" || len(c.queue) != 0 {
		t.Fatalf("closing %v %d %q queue %d", c.closing, c.closeCode, c.closeReason, len(c.queue))
	}
}

func TestTruncateReason(t *testing.T) {
	long := strings.Repeat("é", 100)
	got := truncateReason(long)
	if len(got) > 123 || !strings.HasPrefix(long, got) || len(got) != 122 {
		t.Fatalf("len %d", len(got))
	}
	if truncateReason("short") != "short" {
		t.Fatal("short reason changed")
	}
}
