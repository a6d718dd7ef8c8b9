package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// addSession runs one turn on key and returns its session id.
func addSession(t *testing.T, s *Store, agent, key string) string {
	t.Helper()
	ss := mustAcquire(t, s, agent, key, AcquireOptions{})
	defer ss.Release()
	if err := ss.Append(Record{Type: TypeUser, Text: "hi"}, Record{Type: TypeAssistant, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	return ss.ID
}

func keysOf(t *testing.T, s *Store, agent string) []string {
	t.Helper()
	list, err := s.List(agent)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, e := range list {
		keys = append(keys, e.Key)
	}
	return keys
}

func TestRemove(t *testing.T) {
	for _, fsync := range []bool{false, true} {
		t.Run(fmt.Sprint("fsync=", fsync), func(t *testing.T) {
			s, _ := newTestStore(t, Options{Fsync: fsync})
			main, other := MainKey("main", ""), ExplicitKey("main", "keep")
			id := addSession(t, s, "main", main)
			keepID := addSession(t, s, "main", other)

			// The agent id and the "agent" prefix are case-insensitive, as
			// everywhere else.
			e, err := s.Remove(context.Background(), "MAIN", "Agent:Main:main")
			if err != nil {
				t.Fatal(err)
			}
			if e.Key != main || e.SessionID != id || e.Turns != 1 {
				t.Errorf("Remove returned %+v, want key %s, session %s, 1 turn", e, main, id)
			}
			if got := keysOf(t, s, "main"); !reflect.DeepEqual(got, []string{other}) {
				t.Errorf("List after Remove = %v, want [%s]", got, other)
			}
			if _, err := os.Stat(s.TranscriptPath("main", id)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("transcript still there: %v", err)
			}
			if _, err := s.Transcript("main", keepID); err != nil {
				t.Errorf("the other session's transcript: %v", err)
			}

			// Removing it again: not found, wrapped with the key.
			_, err = s.Remove(context.Background(), "main", main)
			if !errors.Is(err, ErrNotFound) || err.Error() != "session not found: "+main {
				t.Errorf("second Remove = %v, want ErrNotFound naming the key", err)
			}

			// The next run on the key starts afresh, with a new id.
			ss := mustAcquire(t, s, "main", main, AcquireOptions{})
			defer ss.Release()
			if !ss.Created || ss.ID == id {
				t.Errorf("after Remove: Created=%v ID=%s (old %s), want a new session", ss.Created, ss.ID, id)
			}
			if h, err := ss.History(); err != nil || len(h) != 0 {
				t.Errorf("history of the new session = %v, %v; want none", h, err)
			}
		})
	}
}

func TestRemoveErrors(t *testing.T) {
	s, state := newTestStore(t, Options{})
	tests := []struct {
		agent, key, want string
		notFound         bool
	}{
		{"main", "agent:main:nope", "session not found: agent:main:nope", true},
		{"work", "agent:work:main", "session not found: agent:work:main", true},
		{"Bad Id", "agent:bad id:main", `invalid agent id "Bad Id": use 1-64 letters, digits, '-' or '_'`, false},
		{"main", "main", `invalid session key "main": want agent:<agentId>:<name>`, false},
		{"main", "agent:work:main", `session key "agent:work:main" belongs to agent "work", not "main"`, false},
	}
	for _, tt := range tests {
		_, err := s.Remove(context.Background(), tt.agent, tt.key)
		if err == nil || err.Error() != tt.want || errors.Is(err, ErrNotFound) != tt.notFound {
			t.Errorf("Remove(%q, %q) = %v, want %q (not found: %v)", tt.agent, tt.key, err, tt.want, tt.notFound)
		}
	}
	// Asking about a missing session creates nothing.
	if _, err := os.Stat(filepath.Join(state, "agents")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove of missing sessions created state: %v", err)
	}
	// A corrupt index is reported, not overwritten.
	dir := s.SessionsDir("main")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, indexName), []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(context.Background(), "main", "agent:main:main"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Remove with a corrupt index = %v, want an error about the index", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, indexName)); string(b) != "{nope" {
		t.Errorf("corrupt index rewritten: %q", b)
	}
}

// A run holding the key makes Remove wait: it removes nothing until the run
// releases the key, and records the run appends meanwhile go with it.
func TestRemoveWaitsForRun(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	key := MainKey("main", "")
	ss := mustAcquire(t, s, "main", key, AcquireOptions{})
	if err := ss.Append(Record{Type: TypeUser, Text: "one"}); err != nil {
		t.Fatal(err)
	}

	// Given up while waiting: nothing removed, nothing left queued.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err := s.Remove(ctx, "main", key)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Remove while a run holds the key = %v, want DeadlineExceeded", err)
	}
	if got := keysOf(t, s, "main"); len(got) != 1 {
		t.Fatalf("a Remove that gave up removed the session: %v", got)
	}

	done := make(chan error, 1)
	go func() {
		_, err := s.Remove(context.Background(), "main", key)
		done <- err
	}()
	// The run goes on while Remove waits (its queue position is behind it).
	if err := ss.Append(Record{Type: TypeAssistant, Text: "two"}); err != nil {
		t.Fatal(err)
	}
	id := ss.ID
	ss.Release()
	if err := <-done; err != nil {
		t.Fatalf("Remove after the run: %v", err)
	}
	if got := keysOf(t, s, "main"); len(got) != 0 {
		t.Errorf("List after Remove = %v", got)
	}
	if _, err := os.Stat(s.TranscriptPath("main", id)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("transcript still there: %v", err)
	}
	if n := queueLen(filepath.Join(s.SessionsDir("main"), keyLockName(key))); n != -1 {
		t.Errorf("Remove left the key queued (%d)", n)
	}
}

// Another process holding the key (its own flock) keeps Remove out too.
func TestRemoveWaitsForOtherProcess(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	key := MainKey("main", "")
	addSession(t, s, "main", key)
	other := flock.New(filepath.Join(s.SessionsDir("main"), keyLockName(key)))
	if ok, err := other.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err := s.Remove(ctx, "main", key)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Remove while another process holds the key = %v, want DeadlineExceeded", err)
	}
	if got := keysOf(t, s, "main"); len(got) != 1 {
		t.Fatalf("removed while locked elsewhere: %v", got)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Remove(context.Background(), "main", key)
		done <- err
	}()
	other.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("Remove after the other process let go: %v", err)
	}
}

// A crash after the index entry went but before the transcript did leaves
// a transcript no entry names: List ignores it, and it blocks nothing.
func TestDanglingTranscriptIgnored(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	key := MainKey("main", "")
	id := addSession(t, s, "main", key)
	// The state such a crash leaves: the entry gone, the transcript kept.
	err := s.updateIndex(s.SessionsDir("main"), func(idx map[string]json.RawMessage) (bool, error) {
		delete(idx, key)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, s, "main"); len(got) != 0 {
		t.Errorf("List shows %v with only a dangling transcript", got)
	}
	if _, err := s.Remove(context.Background(), "main", key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove of the key = %v, want ErrNotFound", err)
	}
	id2 := addSession(t, s, "main", key)
	if id2 == id {
		t.Fatalf("new session reused the dangling transcript's id")
	}
	if recs, err := s.Transcript("main", id2); err != nil || len(recs) != 2 {
		t.Errorf("new transcript = %d records, %v; want 2", len(recs), err)
	}
}

// A transcript another key also names (an index edited by hand) stays; an
// entry that does not decode can still be removed.
func TestRemoveOddEntries(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	a, b := ExplicitKey("main", "a"), ExplicitKey("main", "b")
	id := addSession(t, s, "main", a)
	dir := s.SessionsDir("main")
	index := `{"` + a + `":{"sessionId":"` + id + `"},"` + b + `":{"sessionId":"` + id + `"},"agent:main:broken":{"sessionId":42}}`
	if err := os.WriteFile(filepath.Join(dir, indexName), []byte(index), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(context.Background(), "main", a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transcript("main", id); err != nil {
		t.Errorf("a transcript still named by %s was removed: %v", b, err)
	}
	if _, err := s.Remove(context.Background(), "main", "agent:main:broken"); err != nil {
		t.Errorf("Remove of an entry that does not decode: %v", err)
	}
	if got := keysOf(t, s, "main"); !reflect.DeepEqual(got, []string{b}) {
		t.Errorf("List = %v, want [%s]", got, b)
	}
}

// Removes racing runs on the same key and on others: every call succeeds
// or finds nothing to remove, the index stays valid, and the sessions of
// untouched keys are intact.
func TestRemoveConcurrentWithRuns(t *testing.T) {
	s, state := newTestStore(t, Options{})
	stores := []*Store{s, NewStore(state, Options{})}
	hot, cold := MainKey("main", ""), ExplicitKey("main", "cold")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			ss, err := stores[i%2].Acquire(context.Background(), "main", hot, AcquireOptions{})
			if err != nil {
				errs <- err
				return
			}
			defer ss.Release()
			if err := ss.Append(Record{Type: TypeUser, Text: "x"}, Record{Type: TypeAssistant, Text: "y"}); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := stores[(i+1)%2].Remove(context.Background(), "main", hot); err != nil && !errors.Is(err, ErrNotFound) {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			ss, err := s.Acquire(context.Background(), "main", cold, AcquireOptions{})
			if err != nil {
				errs <- err
				return
			}
			defer ss.Release()
			if err := ss.Append(Record{Type: TypeUser, Text: "c"}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := s.List("main")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		recs, err := s.Transcript("main", e.SessionID)
		if err != nil {
			t.Fatalf("%s: listed but its transcript is gone: %v", e.Key, err)
		}
		if e.Key == cold && (e.Turns != n || len(recs) != n) {
			t.Errorf("%s: %d turns, %d records; want %d", cold, e.Turns, len(recs), n)
		}
		if e.Key == hot && (len(recs) != 2*e.Turns || e.Turns == 0) {
			t.Errorf("%s: %d turns but %d records", hot, e.Turns, len(recs))
		}
	}
	// Only the transcripts of listed sessions remain.
	files, _ := filepath.Glob(filepath.Join(s.SessionsDir("main"), "*"+transcriptExt))
	if len(files) != len(list) {
		t.Errorf("%d transcripts on disk for %d sessions: %v", len(files), len(list), files)
	}
}

func TestAgentIDs(t *testing.T) {
	s, state := newTestStore(t, Options{})
	if ids, err := s.AgentIDs(); err != nil || len(ids) != 0 {
		t.Fatalf("AgentIDs with no state = %v, %v", ids, err)
	}
	addSession(t, s, "work", MainKey("work", ""))
	addSession(t, s, "main", MainKey("main", ""))
	// Not agents: a file, a directory without sessions, an invalid name.
	for _, d := range []string{"empty", "Bad Name/sessions"} {
		if err := os.MkdirAll(filepath.Join(state, "agents", d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(state, "agents", "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ids, err := s.AgentIDs()
	if err != nil || !reflect.DeepEqual(ids, []string{"main", "work"}) {
		t.Errorf("AgentIDs = %v, %v; want [main work]", ids, err)
	}
}
