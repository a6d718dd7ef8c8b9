package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

func newTestStore(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	return NewStore(dir, opts), dir
}

func mustAcquire(t testing.TB, s *Store, agent, key string, opt AcquireOptions) *Session {
	t.Helper()
	ss, err := s.Acquire(context.Background(), agent, key, opt)
	if err != nil {
		t.Fatalf("Acquire(%q, %q): %v", agent, key, err)
	}
	return ss
}

// readLines returns the whole lines of a transcript, failing the test if any
// of them is not a valid record, and the bytes after the last newline.
func readLines(t *testing.T, path string) ([]line, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []line
	for n := 1; ; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return recs, data
		}
		var r line
		dec := json.NewDecoder(bytes.NewReader(data[:i]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s line %d does not parse (%v): %.200q", path, n, err, data[:i])
		}
		recs = append(recs, r)
		data = data[i+1:]
	}
}

func TestLayoutAndModes(t *testing.T) {
	s, state := newTestStore(t, Options{Fsync: true})
	key := MainKey("main", "main")
	ss := mustAcquire(t, s, "Main", key, AcquireOptions{})
	defer ss.Release()
	if !ss.Created || ss.AgentID != "main" || ss.Key != key || !ValidSessionID(ss.ID) {
		t.Fatalf("session = %+v, want a created session of agent main with a valid id", ss)
	}
	if err := ss.Append(Record{Type: TypeUser, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(state, "agents", "main", "sessions")
	if got := s.SessionsDir("MAIN"); got != dir {
		t.Errorf("SessionsDir = %q, want %q", got, dir)
	}
	want := map[string]fs.FileMode{
		filepath.Join(state, "agents"):           fs.ModeDir | 0o700,
		filepath.Join(state, "agents", "main"):   fs.ModeDir | 0o700,
		dir:                                      fs.ModeDir | 0o700,
		filepath.Join(dir, "sessions.json"):      0o600,
		filepath.Join(dir, "sessions.json.lock"): 0o600,
		filepath.Join(dir, ss.ID+".jsonl"):       0o600,
		filepath.Join(dir, keyLockName(key)):     0o600,
	}
	if runtime.GOOS == "windows" {
		t.Log("file modes are not checked on windows")
		want = nil
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	var idx map[string]map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatalf("sessions.json: %v\n%s", err, data)
	}
	e := idx[key]
	if e == nil || e["sessionId"] != ss.ID || e["turns"] != 1.0 {
		t.Fatalf("sessions.json = %s, want %q -> {sessionId: %q, turns: 1}", data, key, ss.ID)
	}
	for _, f := range []string{"createdAt", "updatedAt", "inputTokens", "outputTokens"} {
		if _, ok := e[f]; !ok {
			t.Errorf("sessions.json entry lacks %q: %s", f, data)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, indexTmpName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp index left behind: %v", err)
	}
}

func TestAppendHistoryAndIndex(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	s.now = func() time.Time { return t0 }
	key := MainKey("main", "")
	ss := mustAcquire(t, s, "main", key, AcquireOptions{})
	if h, err := ss.History(); err != nil || len(h) != 0 {
		t.Fatalf("History of a new session = %v, %v; want empty", h, err)
	}
	ts := time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	run1 := []Record{
		{Type: TypeUser, RunID: "r1", Text: "look <here> & there", Images: 2, TS: ts},
		{Type: TypeAssistant, RunID: "r1", ToolCalls: []provider.ToolCall{{ID: "c1", Name: "ls", Arguments: `{"path":"."}`}},
			Usage: &provider.Usage{Input: 10, Output: 5, CacheRead: 3, CacheWrite: 1}, Provider: "openai", Model: "gpt-x",
			StopReason: provider.StopToolCalls},
		{Type: TypeToolCall, RunID: "r1", ToolCallID: "c1", ToolName: "ls"},
		{Type: TypeToolResult, RunID: "r1", ToolCallID: "c1", ToolName: "ls", Text: "a\nb", IsError: true},
	}
	run2 := []Record{
		{Type: TypeUser, RunID: "r2", Text: "again"},
		{Type: TypeAssistant, RunID: "r2", Text: "done", Usage: &provider.Usage{Input: 20, Output: 7},
			Provider: "anthropic", Model: "claude", StopReason: provider.StopEnd},
		{Type: TypeError, RunID: "r3", Text: "upstream said no"},
	}
	if err := ss.Append(run1...); err != nil {
		t.Fatal(err)
	}
	if err := ss.Append(run2...); err != nil {
		t.Fatal(err)
	}
	if err := ss.Append(); err != nil {
		t.Fatalf("Append of nothing: %v", err)
	}
	want := append(append([]Record{}, run1...), run2...)
	for i := range want {
		if want[i].TS.IsZero() {
			want[i].TS = t0
		}
		want[i].TS = want[i].TS.UTC()
	}
	got, err := ss.History()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("History =\n%+v\nwant\n%+v", got, want)
	}
	ss.Release()

	fromDisk, err := s.Transcript("main", ss.ID)
	if err != nil || !reflect.DeepEqual(fromDisk, want) {
		t.Fatalf("Transcript = %+v, %v; want what was appended", fromDisk, err)
	}
	lines, tail := readLines(t, s.TranscriptPath("main", ss.ID))
	if len(lines) != len(want) || len(tail) != 0 {
		t.Fatalf("transcript has %d lines and tail %q, want %d lines", len(lines), tail, len(want))
	}
	raw, _ := os.ReadFile(s.TranscriptPath("main", ss.ID))
	first := string(raw[:bytes.IndexByte(raw, '\n')])
	if wantLine := `{"type":"user","ts":"2025-05-06T06:08:09.123456789Z","runId":"r1","text":"look <here> & there","images":2,"more":true}`; first != wantLine {
		t.Errorf("first line = %s\nwant         %s", first, wantLine)
	}

	e, ok, err := s.Get("main", key)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	wantEntry := Entry{Key: key, SessionID: ss.ID, CreatedAt: t0, UpdatedAt: t0, Turns: 2, InputTokens: 30,
		OutputTokens: 12, CacheReadTokens: 3, CacheWriteTokens: 1, Provider: "anthropic", Model: "claude"}
	if !reflect.DeepEqual(e, wantEntry) {
		t.Fatalf("Get =\n%+v\nwant\n%+v", e, wantEntry)
	}

	ss2 := mustAcquire(t, s, "main", key, AcquireOptions{})
	defer ss2.Release()
	if ss2.ID != ss.ID || ss2.Created {
		t.Fatalf("second Acquire = id %q created %v, want the same session %q", ss2.ID, ss2.Created, ss.ID)
	}
	if h, _ := ss2.History(); len(h) != len(want) {
		t.Fatalf("second Acquire sees %d records, want %d", len(h), len(want))
	}
}

func TestAppendRejectsUnknownType(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ss := mustAcquire(t, s, "main", MainKey("main", ""), AcquireOptions{})
	defer ss.Release()
	for _, typ := range []string{"", "system", "User"} {
		err := ss.Append(Record{Type: TypeUser, Text: "ok"}, Record{Type: typ})
		if err == nil || !strings.Contains(err.Error(), "record 1 has type") {
			t.Errorf("Append with type %q: err = %v, want a type error", typ, err)
		}
	}
	if h, _ := ss.History(); len(h) != 0 {
		t.Fatalf("a refused Append wrote %d records", len(h))
	}
}

func TestAcquireValidation(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	tests := []struct {
		name, agent, key string
		opt              AcquireOptions
		want             string
	}{
		{"bad agent id", "../x", "agent:../x:main", AcquireOptions{}, `invalid agent id "../x"`},
		{"empty agent id", "", "agent::main", AcquireOptions{}, `invalid agent id ""`},
		{"not a full key", "main", "main", AcquireOptions{}, `invalid session key "main"`},
		{"other agent's key", "main", "agent:ops:main", AcquireOptions{}, `belongs to agent "ops", not "main"`},
		{"unsafe session id", "main", "agent:main:x", AcquireOptions{SessionID: "../etc"}, `invalid session id "../etc"`},
		{"session id with slash", "main", "agent:main:x", AcquireOptions{SessionID: "a/b"}, `invalid session id "a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, err := s.Acquire(context.Background(), tt.agent, tt.key, tt.opt)
			if err == nil {
				ss.Release()
				t.Fatalf("Acquire succeeded, want error %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(s.stateDir, "agents")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refused Acquires created files: %v", err)
	}
}

func TestAcquireSessionIDOption(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	key := ExplicitKey("main", "abc")

	ss := mustAcquire(t, s, "main", key, AcquireOptions{SessionID: "abc"})
	if ss.ID != "abc" || !ss.Created {
		t.Fatalf("got id %q created %v, want abc created", ss.ID, ss.Created)
	}
	if err := ss.Append(Record{Type: TypeUser, Text: "one"}); err != nil {
		t.Fatal(err)
	}
	ss.Release()
	if _, err := os.Stat(filepath.Join(s.SessionsDir("main"), "abc.jsonl")); err != nil {
		t.Fatal(err)
	}

	// Another key may not take a transcript that has a key.
	other := MainKey("main", "")
	if ss, err := s.Acquire(ctx, "main", other, AcquireOptions{SessionID: "abc"}); !errors.Is(err, ErrSessionTaken) {
		if err == nil {
			ss.Release()
		}
		t.Fatalf("Acquire of another key on session abc: err = %v, want ErrSessionTaken", err)
	} else if !strings.Contains(err.Error(), key) {
		t.Errorf("error %q does not name the owning key %q", err, key)
	}

	// Rebinding a key to a new id keeps the old transcript and starts afresh.
	ss = mustAcquire(t, s, "main", key, AcquireOptions{SessionID: "def"})
	if ss.ID != "def" || !ss.Created {
		t.Fatalf("rebind: got id %q created %v, want def created", ss.ID, ss.Created)
	}
	if h, _ := ss.History(); len(h) != 0 {
		t.Fatalf("rebound session has history %v", h)
	}
	ss.Release()
	if e, _, _ := s.Get("main", key); e.SessionID != "def" || e.Turns != 0 {
		t.Fatalf("entry after rebind = %+v, want def with 0 turns", e)
	}
	if recs, err := s.Transcript("main", "abc"); err != nil || len(recs) != 1 {
		t.Fatalf("old transcript = %v, %v; want its one record", recs, err)
	}
	// Now abc is free again.
	ss = mustAcquire(t, s, "main", other, AcquireOptions{SessionID: "abc"})
	if h, _ := ss.History(); len(h) != 1 {
		t.Fatalf("adopted transcript has %d records, want 1", len(h))
	}
	ss.Release()
}

func TestReleaseIdempotent(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	key := MainKey("main", "")
	ss := mustAcquire(t, s, "main", key, AcquireOptions{})
	ss.Release()
	ss.Release()
	if err := ss.Append(Record{Type: TypeUser}); !errors.Is(err, ErrReleased) {
		t.Errorf("Append after Release: %v, want ErrReleased", err)
	}
	if _, err := ss.History(); !errors.Is(err, ErrReleased) {
		t.Errorf("History after Release: %v, want ErrReleased", err)
	}
	ss2 := mustAcquire(t, s, "main", key, AcquireOptions{})
	ss2.Release()
	if n := queueLen(filepath.Join(s.SessionsDir("main"), keyLockName(key))); n != -1 {
		t.Errorf("queue still exists with %d waiters after all releases", n)
	}
}

// queueLen is the number of waiters on a key, -1 when nobody holds it.
func queueLen(k string) int {
	queues.mu.Lock()
	defer queues.mu.Unlock()
	q := queues.m[k]
	if q == nil {
		return -1
	}
	return q.waiters.Len()
}

// waitQueued blocks until n callers wait for k. It polls without a deadline:
// the test's own timeout catches a hang.
func waitQueued(k string, n int) {
	for queueLen(k) != n {
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
	}
}

func TestFIFOOneKey(t *testing.T) {
	for _, twoStores := range []bool{false, true} {
		t.Run(fmt.Sprintf("twoStores=%v", twoStores), func(t *testing.T) {
			s, state := newTestStore(t, Options{})
			s2 := s
			if twoStores {
				s2 = NewStore(state, Options{}) // another Store on the same dir shares the queue
			}
			key := MainKey("main", "")
			qk := filepath.Join(s.SessionsDir("main"), keyLockName(key))
			first := mustAcquire(t, s, "main", key, AcquireOptions{})

			const n = 40
			const perRun = 3
			var (
				mu      sync.Mutex
				tickets []int
				wg      sync.WaitGroup
				errs    = make(chan error, n)
			)
			for i := range n {
				wg.Add(1)
				st := s
				if i%2 == 1 {
					st = s2
				}
				go func() {
					defer wg.Done()
					ss, err := st.Acquire(context.Background(), "main", key, AcquireOptions{})
					if err != nil {
						errs <- err
						return
					}
					defer ss.Release()
					mu.Lock()
					tickets = append(tickets, i)
					mu.Unlock()
					// Several appends per run: another run must not get between them.
					for j := range perRun {
						if err := ss.Append(Record{Type: TypeUser, RunID: fmt.Sprint(i), Text: fmt.Sprint(j)}); err != nil {
							errs <- err
							return
						}
					}
				}()
				waitQueued(qk, i+1) // fixes the arrival order: i queues before i+1 starts
			}
			first.Release()
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for i, tk := range tickets {
				if tk != i {
					t.Fatalf("runs entered in order %v, want 0..%d", tickets, n-1)
				}
			}
			recs, tail := readLines(t, s.TranscriptPath("main", first.ID))
			if len(recs) != n*perRun || len(tail) != 0 {
				t.Fatalf("%d records (tail %q), want %d", len(recs), tail, n*perRun)
			}
			for k, r := range recs {
				if r.RunID != fmt.Sprint(k/perRun) || r.Text != fmt.Sprint(k%perRun) {
					t.Fatalf("record %d is run %s part %s, want run %d part %d", k, r.RunID, r.Text, k/perRun, k%perRun)
				}
			}
			if e, _, _ := s.Get("main", key); e.Turns != n*perRun {
				t.Errorf("index turns = %d, want %d", e.Turns, n*perRun)
			}
		})
	}
}

func TestCancelWhileQueued(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	key := MainKey("main", "")
	qk := filepath.Join(s.SessionsDir("main"), keyLockName(key))
	holder := mustAcquire(t, s, "main", key, AcquireOptions{})

	type result struct {
		ss  *Session
		err error
	}
	acquire := func(ctx context.Context) chan result {
		ch := make(chan result, 1)
		go func() {
			ss, err := s.Acquire(ctx, "main", key, AcquireOptions{})
			ch <- result{ss, err}
		}()
		return ch
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	a := acquire(ctxA)
	waitQueued(qk, 1)
	b := acquire(context.Background())
	waitQueued(qk, 2)
	ctxC, cancelC := context.WithCancel(context.Background())
	c := acquire(ctxC)
	waitQueued(qk, 3)

	cancelA()
	if r := <-a; !errors.Is(r.err, context.Canceled) || r.ss != nil {
		t.Fatalf("canceled waiter got %v, %v; want context.Canceled", r.ss, r.err)
	}
	if n := queueLen(qk); n != 2 {
		t.Fatalf("%d waiters after a cancel, want 2", n)
	}
	holder.Release()
	var rb result
	select {
	case rb = <-b:
	case rc := <-c:
		t.Fatalf("the third waiter was served before the second: %v, %v", rc.ss, rc.err)
	}
	if rb.err != nil {
		t.Fatalf("next waiter: %v", rb.err)
	}
	// c is still queued behind b; canceling it now leaves b untouched.
	cancelC()
	if r := <-c; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("second canceled waiter got %v", r.err)
	}
	if err := rb.ss.Append(Record{Type: TypeUser, Text: "b"}); err != nil {
		t.Fatal(err)
	}
	rb.ss.Release()
	if n := queueLen(qk); n != -1 {
		t.Fatalf("queue has %d waiters after all released, want none", n)
	}

	// Already canceled: refused at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Acquire(ctx, "main", key, AcquireOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a canceled ctx: %v", err)
	}
}

func TestCancelWhileFileLocked(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	key := MainKey("main", "")
	if err := os.MkdirAll(s.SessionsDir("main"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Another process holds the key: a separate open file has its own flock.
	other := flock.New(filepath.Join(s.SessionsDir("main"), keyLockName(key)))
	if ok, err := other.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if ss, err := s.Acquire(ctx, "main", key, AcquireOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			ss.Release()
		}
		t.Fatalf("Acquire while another process holds the key: %v, want DeadlineExceeded", err)
	}
	if n := queueLen(filepath.Join(s.SessionsDir("main"), keyLockName(key))); n != -1 {
		t.Fatalf("a failed Acquire left the key queued (%d)", n)
	}
	done := make(chan error, 1)
	go func() {
		ss, err := s.Acquire(context.Background(), "main", key, AcquireOptions{})
		if err == nil {
			ss.Release()
		}
		done <- err
	}()
	other.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("Acquire after the other process let go: %v", err)
	}
}

func TestTornTail(t *testing.T) {
	good := `{"type":"user","ts":"2026-01-01T00:00:00Z","text":"one"}` + "\n" +
		`{"type":"assistant","ts":"2026-01-01T00:00:01Z","text":"two"}` + "\n"
	tests := []struct {
		name     string
		content  string
		history  []string // texts History sees
		repaired string   // the file before the new line after Append
	}{
		{"whole lines", good, []string{"one", "two"}, good},
		{"torn json", good + `{"type":"user","ts":"2026-01-0`, []string{"one", "two"}, good},
		{"torn after a full object", good + `{"type":"user","ts":"2026-01-01T00:00:02Z","text":"three"}`, []string{"one", "two"}, good},
		{"only a fragment", `{"type":"us`, nil, ""},
		{"nul bytes from a power loss", good + "\x00\x00\x00\x00", []string{"one", "two"}, good},
		{"garbage line with newline", good + "{garbage\n", []string{"one", "two"}, good + "{garbage\n"},
		{"garbage in the middle", `{"type":"user","ts":"2026-01-01T00:00:00Z","text":"one"}` + "\n" + "xx\n" +
			`{"type":"assistant","ts":"2026-01-01T00:00:01Z","text":"two"}` + "\n",
			[]string{"one", "two"}, `{"type":"user","ts":"2026-01-01T00:00:00Z","text":"one"}` + "\n" + "xx\n" +
				`{"type":"assistant","ts":"2026-01-01T00:00:01Z","text":"two"}` + "\n"},
		{"empty file", "", nil, ""},
		{"unfinished append, torn", good + `{"type":"user","ts":"2026-01-01T00:00:02Z","text":"three","more":true}` + "\n" +
			`{"type":"assistant","ts":"2026-01-01T00:00:02Z","te`, []string{"one", "two"}, good},
		{"unfinished append, whole lines", good + `{"type":"user","ts":"2026-01-01T00:00:02Z","text":"three","more":true}` + "\n" +
			`{"type":"tool_call","ts":"2026-01-01T00:00:02Z","text":"four","more":true}` + "\n", []string{"one", "two"}, good},
		{"unfinished append alone", `{"type":"user","ts":"2026-01-01T00:00:02Z","text":"three","more":true}` + "\n",
			nil, ""},
		{"finished append", good + `{"type":"user","ts":"2026-01-01T00:00:02Z","text":"three","more":true}` + "\n" +
			`{"type":"assistant","ts":"2026-01-01T00:00:02Z","text":"four"}` + "\n",
			[]string{"one", "two", "three", "four"}, good + `{"type":"user","ts":"2026-01-01T00:00:02Z","text":"three","more":true}` + "\n" +
				`{"type":"assistant","ts":"2026-01-01T00:00:02Z","text":"four"}` + "\n"},
		{"more inside a text is not a mark", good + `{"type":"user","ts":"2026-01-01T00:00:02Z","text":",\"more\":true}"}` + "\n",
			[]string{"one", "two", `,"more":true}`}, good + `{"type":"user","ts":"2026-01-01T00:00:02Z","text":",\"more\":true}"}` + "\n"},
		{"long torn line", good + `{"type":"user","text":"` + strings.Repeat("x", 200<<10), []string{"one", "two"}, good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{Fsync: true})
			key := ExplicitKey("main", "t")
			ss := mustAcquire(t, s, "main", key, AcquireOptions{SessionID: "t"})
			defer ss.Release()
			path := s.TranscriptPath("main", "t")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			texts := func(recs []Record) []string {
				var out []string
				for _, r := range recs {
					out = append(out, r.Text)
				}
				return out
			}
			h, err := ss.History()
			if err != nil || !reflect.DeepEqual(texts(h), tt.history) {
				t.Fatalf("History = %q, %v; want %q", texts(h), err, tt.history)
			}
			if recs, err := s.Transcript("main", "t"); err != nil || !reflect.DeepEqual(texts(recs), tt.history) {
				t.Fatalf("Transcript = %q, %v; want %q", texts(recs), err, tt.history)
			}
			if err := ss.Append(Record{Type: TypeUser, Text: "new"}); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(data), tt.repaired) {
				t.Fatalf("after Append the file is\n%q\nwant it to start with\n%q", data, tt.repaired)
			}
			rest := string(data[len(tt.repaired):])
			if !strings.HasPrefix(rest, `{"type":"user","ts":"`) || !strings.HasSuffix(rest, `","text":"new"}`+"\n") ||
				strings.Count(rest, "\n") != 1 {
				t.Fatalf("appended part = %q, want one new line", rest)
			}
			h, _ = ss.History()
			if want := append(append([]string{}, tt.history...), "new"); !reflect.DeepEqual(texts(h), want) {
				t.Fatalf("History after Append = %q, want %q", texts(h), want)
			}
		})
	}
}

func TestConcurrentKeysIndex(t *testing.T) {
	s, state := newTestStore(t, Options{})
	stores := []*Store{s, NewStore(state, Options{Fsync: true})}
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[i%2]
			ss, err := st.Acquire(context.Background(), "main", ExplicitKey("main", fmt.Sprint("s", i)), AcquireOptions{})
			if err != nil {
				errs <- err
				return
			}
			defer ss.Release()
			for j := 0; j <= i%3; j++ {
				if err := ss.Append(Record{Type: TypeUser, Text: "x"},
					Record{Type: TypeAssistant, Usage: &provider.Usage{Input: i, Output: 1}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	list, err := s.List("main")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("List has %d entries, want %d", len(list), n)
	}
	seen := map[string]bool{}
	for k, e := range list {
		if k > 0 && e.UpdatedAt.After(list[k-1].UpdatedAt) {
			t.Errorf("List not sorted newest first at %d", k)
		}
		var i int
		if _, err := fmt.Sscanf(e.Key, "agent:main:explicit:s%d", &i); err != nil {
			t.Fatalf("unexpected key %q", e.Key)
		}
		seen[e.Key] = true
		runs := i%3 + 1
		if e.Turns != runs || e.InputTokens != i*runs || e.OutputTokens != runs {
			t.Errorf("%s: %+v, want %d turns, %d input, %d output tokens", e.Key, e, runs, i*runs, runs)
		}
		if recs, err := s.Transcript("main", e.SessionID); err != nil || len(recs) != 2*runs {
			t.Errorf("%s: transcript %d records, %v; want %d", e.Key, len(recs), err, 2*runs)
		}
	}
	if len(seen) != n {
		t.Fatalf("keys not distinct: %v", seen)
	}
}

func TestReadersOfMissingState(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	if l, err := s.List("main"); err != nil || len(l) != 0 {
		t.Errorf("List with no state = %v, %v", l, err)
	}
	if _, ok, err := s.Get("main", MainKey("main", "")); ok || err != nil {
		t.Errorf("Get with no state = %v, %v", ok, err)
	}
	if _, err := s.Transcript("main", "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Transcript of a missing session: %v, want ErrNotExist", err)
	}
	if _, err := s.Transcript("main", "../x"); err == nil || !strings.Contains(err.Error(), "invalid session id") {
		t.Errorf("Transcript with an unsafe id: %v", err)
	}
	if _, err := s.List("a/b"); err == nil {
		t.Errorf("List of an unsafe agent id succeeded")
	}
	if _, _, err := s.Get("main", "agent:ops:x"); err == nil {
		t.Errorf("Get of another agent's key succeeded")
	}
}

func TestCorruptIndex(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	dir := s.SessionsDir("main")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, content, want string
	}{
		{"not json", "{", "is not valid JSON"},
		{"bad entry", `{"agent:main:main": 5}`, `entry "agent:main:main" is invalid`},
		{"unsafe session id", `{"agent:main:main": {"sessionId": "../../x"}}`, `invalid sessionId "../../x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "sessions.json"), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			ss, err := s.Acquire(context.Background(), "main", MainKey("main", ""), AcquireOptions{})
			if err == nil {
				ss.Release()
				t.Fatalf("Acquire succeeded on a corrupt index")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Other keys' entries, even unknown fields, survive an update untouched.
	keep := `{"sessionId":"k","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","turns":1,"inputTokens":0,"outputTokens":0,"label":"mine"}`
	if err := os.WriteFile(filepath.Join(dir, "sessions.json"), []byte(`{"agent:main:keep":`+keep+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ss := mustAcquire(t, s, "main", MainKey("main", ""), AcquireOptions{})
	ss.Release()
	var idx map[string]json.RawMessage
	data, _ := os.ReadFile(filepath.Join(dir, "sessions.json"))
	if err := json.Unmarshal(data, &idx); err != nil || len(idx) != 2 {
		t.Fatalf("index = %s, %v", data, err)
	}
	var a, b any
	json.Unmarshal(idx["agent:main:keep"], &a)
	json.Unmarshal([]byte(keep), &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("other entry changed: %s", idx["agent:main:keep"])
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			s, _ := newTestStore(b, Options{Fsync: fsync})
			ss := mustAcquire(b, s, "main", MainKey("main", ""), AcquireOptions{})
			defer ss.Release()
			recs := []Record{
				{Type: TypeUser, RunID: "r", Text: strings.Repeat("hello ", 40)},
				{Type: TypeAssistant, RunID: "r", Text: strings.Repeat("world ", 80), Usage: &provider.Usage{Input: 300, Output: 120},
					Provider: "echo", Model: "echo", StopReason: provider.StopEnd},
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := ss.Append(recs...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
