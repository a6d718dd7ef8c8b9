package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// The file written from the in-memory index is byte for byte what
// json.MarshalIndent writes for the same map, whatever the keys and
// values hold.
func TestIndexEncodingMatchesMarshalIndent(t *testing.T) {
	keys := []string{"agent:main:main", "agent:main:<b>&", "agent:main:é\u2028", `agent:main:"q"\`, "agent:main:a", "agent:main:A", "agent:main:\x01"}
	values := []string{`{}`, `{"sessionId":"x","turns":1}`, `{"sessionId":"y","label":"<mine> & yours","n":[1,{"a":null}]}`, `5`, `"s"`, `[]`}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		idx := map[string]json.RawMessage{}
		for range rng.IntN(len(keys) + 1) {
			idx[keys[rng.IntN(len(keys))]] = json.RawMessage(values[rng.IntN(len(values))])
		}
		want, err := json.MarshalIndent(idx, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, indexName), want, 0o600); err != nil {
			t.Fatal(err)
		}
		c := &indexCache{dir: dir, path: filepath.Join(dir, indexName)}
		if err := c.refresh(false); err != nil {
			t.Fatal(err)
		}
		if got := c.encode(nil); string(got) != string(want) {
			t.Fatalf("round %d: encoded\n%s\nwant\n%s", round, got, want)
		}
	}
}

// writeIndexFile replaces sessions.json as another process would.
func writeIndexFile(t *testing.T, dir string, idx map[string]json.RawMessage) {
	t.Helper()
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "other.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, indexName)); err != nil {
		t.Fatal(err)
	}
}

// Another writer's index replaces what the process had in memory: an
// update is applied to the new file, and readers see it.
func TestIndexSeesOtherWriters(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	a, b := ExplicitKey("main", "a"), ExplicitKey("main", "b")
	idA := addSession(t, s, "main", a)
	dir := s.SessionsDir("main")
	idx, err := readIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx[b] = encodeEntry(Entry{SessionID: "other", Turns: 7})
	writeIndexFile(t, dir, idx)

	if e, ok, err := s.Get("main", b); err != nil || !ok || e.Turns != 7 {
		t.Fatalf("Get of the other writer's key = %+v, %v, %v", e, ok, err)
	}
	addSession(t, s, "main", a)
	if e, _, _ := s.Get("main", a); e.SessionID != idA || e.Turns != 2 {
		t.Fatalf("entry a = %+v, want session %s with 2 turns", e, idA)
	}
	if e, _, _ := s.Get("main", b); e.SessionID != "other" || e.Turns != 7 {
		t.Fatalf("the other writer's entry was lost: %+v", e)
	}

	// The file removed by hand: an empty index.
	if err := os.Remove(filepath.Join(dir, indexName)); err != nil {
		t.Fatal(err)
	}
	if l, err := s.List("main"); err != nil || len(l) != 0 {
		t.Fatalf("List after the index was removed = %v, %v", l, err)
	}
}

// The updates of one batch are applied in order and written once; one
// that fails leaves the others be.
func TestIndexBatch(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	dir, err := s.mkdirs("main")
	if err != nil {
		t.Fatal(err)
	}
	c := cacheFor(dir)
	set := func(k, v string) *indexOp {
		return &indexOp{done: make(chan struct{}), fn: func(tx *indexTx) (bool, error) {
			tx.set(k, json.RawMessage(v))
			return true, nil
		}}
	}
	boom := errors.New("boom")
	failing := &indexOp{done: make(chan struct{}), fn: func(tx *indexTx) (bool, error) {
		tx.set("agent:main:bad", json.RawMessage(`{}`))
		return true, boom
	}}
	var seen json.RawMessage
	reader := &indexOp{done: make(chan struct{}), fn: func(tx *indexTx) (bool, error) {
		seen, _ = tx.get("agent:main:x")
		tx.del("agent:main:y")
		return true, nil
	}}
	batch := []*indexOp{set("agent:main:x", `{"n":1}`), set("agent:main:y", `{"n":2}`), failing, set("agent:main:x", `{"n":3}`), reader}
	c.mu.Lock()
	c.writeBatch(batch)
	c.mu.Unlock()
	for i, op := range batch {
		<-op.done
		if op != failing && op.err != nil {
			t.Errorf("op %d: %v", i, op.err)
		}
	}
	if !errors.Is(failing.err, boom) {
		t.Errorf("failing op: %v, want its own error", failing.err)
	}
	if string(seen) != `{"n":3}` {
		t.Errorf("a later op saw %s, want the batch's earlier change", seen)
	}
	data, _ := os.ReadFile(filepath.Join(dir, indexName))
	if want := "{\n  \"agent:main:x\": {\n    \"n\": 3\n  }\n}\n"; string(data) != want {
		t.Errorf("index = %q, want %q", data, want)
	}
}

// A write that fails leaves the file as it was, and the next update starts
// from the file, not from the failed one's changes.
func TestIndexWriteFailure(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	a := ExplicitKey("main", "a")
	addSession(t, s, "main", a)
	dir := s.SessionsDir("main")
	// The temp file's name taken by a directory: the write fails.
	if err := os.Mkdir(filepath.Join(dir, indexTmpName), 0o700); err != nil {
		t.Fatal(err)
	}
	err := s.updateIndex(dir, func(idx map[string]json.RawMessage) (bool, error) {
		idx["agent:main:lost"] = json.RawMessage(`{"sessionId":"lost"}`)
		return true, nil
	})
	if err == nil || !strings.Contains(err.Error(), "write session index") {
		t.Fatalf("update with the temp name taken: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, indexTmpName)); err != nil {
		t.Fatal(err)
	}
	addSession(t, s, "main", ExplicitKey("main", "b"))
	if got := keysOf(t, s, "main"); strings.Join(got, " ") != "agent:main:explicit:b agent:main:explicit:a" &&
		strings.Join(got, " ") != "agent:main:explicit:a agent:main:explicit:b" {
		t.Fatalf("keys after a failed write = %v, want a and b only", got)
	}
}

// Runs on many keys at once from one Store and another on the same dir:
// the batches lose no update, and the file is the index of all of them.
func TestIndexConcurrentBatches(t *testing.T) {
	s, state := newTestStore(t, Options{})
	s2 := NewStore(state, Options{Fsync: true})
	const n = 64
	errs := make(chan error, n)
	for i := range n {
		go func() {
			st := s
			if i%2 == 1 {
				st = s2
			}
			ss, err := st.Acquire(t.Context(), "main", fmt.Sprintf("agent:main:k%d", i), AcquireOptions{})
			if err == nil {
				err = ss.Append(Record{Type: TypeUser, Text: "x"})
				ss.Release()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(s.SessionsDir("main"), indexName))
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]Entry
	if err := json.Unmarshal(data, &idx); err != nil || len(idx) != n {
		t.Fatalf("index has %d entries (%v), want %d", len(idx), err, n)
	}
	for k, e := range idx {
		if e.Turns != 1 {
			t.Errorf("%s: %d turns, want 1", k, e.Turns)
		}
	}
}

// A fresh key takes no lock file, and its entry is written once, by the
// run's Append, with the counters of the turn and the time of the Acquire;
// until then the key is not in the index. With no Append, Release writes
// it. A "fresh" key that has an entry is acquired as any other.
func TestFreshKey(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := t0
	s.now = func() time.Time { return clock }
	dir, err := s.mkdirs("main")
	if err != nil {
		t.Fatal(err)
	}
	c := cacheFor(dir)
	fresh := AcquireOptions{Fresh: true}
	key := RandomKey("main", "openai")
	ss := mustAcquire(t, s, "main", key, fresh)
	if !ss.Created || !ValidSessionID(ss.ID) {
		t.Fatalf("a fresh key's session = %+v, want a created one", ss)
	}
	if _, ok, err := s.Get("main", key); ok || err != nil {
		t.Fatalf("the entry exists before anything was appended (%v)", err)
	}
	clock = t0.Add(time.Second)
	if err := ss.Append(Record{Type: TypeUser, Text: "hi"}, Record{Type: TypeAssistant, Text: "yo", Usage: &provider.Usage{Input: 3, Output: 2}}); err != nil {
		t.Fatal(err)
	}
	ss.Release()
	if c.writes != 1 {
		t.Errorf("the index was written %d times for a fresh session's run, want once", c.writes)
	}
	want := Entry{Key: key, SessionID: ss.ID, CreatedAt: t0, UpdatedAt: t0.Add(time.Second), Turns: 1, InputTokens: 3, OutputTokens: 2}
	if e, ok, err := s.Get("main", key); !ok || err != nil || e != want {
		t.Fatalf("entry = %+v, %v, %v; want %+v", e, ok, err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, keyLockName(key))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a fresh key has a lock file (%v)", err)
	}
	if recs, err := s.Transcript("main", ss.ID); err != nil || len(recs) != 2 {
		t.Errorf("transcript = %d records, %v; want 2", len(recs), err)
	}

	// Acquired and released with nothing appended: an entry all the same.
	key2 := RandomKey("main", "openai")
	ss2 := mustAcquire(t, s, "main", key2, fresh)
	ss2.Release()
	if e, ok, _ := s.Get("main", key2); !ok || e.SessionID != ss2.ID || e.Turns != 0 || !e.CreatedAt.Equal(clock) {
		t.Fatalf("entry of a fresh session released empty = %+v, %v", e, ok)
	}
	if _, err := os.Stat(s.TranscriptPath("main", ss2.ID)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a session released empty has a transcript (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, indexTmpName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp index left behind (%v)", err)
	}
	if c.writes != 2 {
		t.Errorf("%d index writes in all, want 2", c.writes)
	}

	// Not fresh after all: the same session, under the key's lock.
	ss3 := mustAcquire(t, s, "main", key, fresh)
	defer ss3.Release()
	if ss3.ID != ss.ID || ss3.Created {
		t.Fatalf("a known key acquired as fresh = %+v, want session %s", ss3, ss.ID)
	}
	if _, err := os.Stat(filepath.Join(dir, keyLockName(key))); err != nil {
		t.Errorf("a known key is not locked: %v", err)
	}
	// Runs on a fresh key in this process still queue.
	got := make(chan *Session)
	go func() { got <- mustAcquire(t, s, "main", key2, fresh) }()
	ss4 := <-got
	done := make(chan *Session)
	go func() { done <- mustAcquire(t, s, "main", key2, fresh) }()
	waitQueued(filepath.Join(dir, keyLockName(key2)), 1)
	ss4.Release()
	(<-done).Release()
}

// Each write keeps the inode of the index it replaces as the spare the
// next write fills in place, so writes make and free no files; an index
// this package did not make (another mode) is not reused. A write that
// deletes an entry empties the spare, so nothing of a removed session
// stays behind.
func TestIndexInodeRecycled(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	dir, err := s.mkdirs("main")
	if err != nil {
		t.Fatal(err)
	}
	path, sparePath := filepath.Join(dir, indexName), filepath.Join(dir, indexSpareName)
	if err := os.WriteFile(path, []byte(`{"agent:main:a":{"sessionId":"a"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(k string) {
		t.Helper()
		err := s.updateIndex(dir, func(idx map[string]json.RawMessage) (bool, error) {
			idx[k] = json.RawMessage(`{"sessionId":"x"}`)
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	write("agent:main:b")
	if _, err := os.Stat(sparePath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a hand-made index was kept as the spare (%v)", err)
	}
	var seen []os.FileInfo
	for i := range 4 {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("write %d: index %v, %v; want a 0600 file", i, fi, err)
		}
		before, _ := os.ReadFile(path)
		seen = append(seen, fi)
		write(fmt.Sprint("agent:main:c", i))
		spare, err := os.Stat(sparePath)
		if err != nil || !os.SameFile(spare, fi) {
			t.Fatalf("write %d: spare = %v, %v; want the replaced index's inode", i, spare, err)
		}
		if got, _ := os.ReadFile(sparePath); string(got) != string(before) {
			t.Fatalf("write %d: spare holds %q, want the replaced index %q", i, got, before)
		}
		after, _ := os.ReadFile(path)
		var idx map[string]json.RawMessage
		if err := json.Unmarshal(after, &idx); err != nil || len(idx) != i+3 {
			t.Fatalf("write %d: index %s (%v), want %d entries", i, after, err, i+3)
		}
	}
	// Two inodes take turns.
	if !os.SameFile(seen[1], seen[3]) || !os.SameFile(seen[0], seen[2]) {
		t.Errorf("the index inodes did not alternate")
	}
	if _, err := os.Stat(filepath.Join(dir, indexTmpName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp index left behind (%v)", err)
	}

	key := ExplicitKey("main", "gone")
	addSession(t, s, "main", key)
	if _, err := s.Remove(context.Background(), "main", key); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(sparePath); err != nil || len(got) != 0 {
		t.Errorf("after a Remove the spare holds %q (%v), want nothing", got, err)
	}
	if got := keysOf(t, s, "main"); len(got) != 6 {
		t.Errorf("keys = %v, want 6", got)
	}
}

// A writer killed after linking the index aside as the spare but before
// its rename leaves the spare a second name of sessions.json, and its new
// index in the temp file. The next write must not fill the spare (the live
// index, in place): a reader holding the old file still reads it whole.
func TestIndexSpareThatIsTheIndex(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	addSession(t, s, "main", ExplicitKey("main", "a"))
	dir := s.SessionsDir("main")
	path, sparePath, tmpPath := filepath.Join(dir, indexName), filepath.Join(dir, indexSpareName), filepath.Join(dir, indexTmpName)
	os.Remove(sparePath)
	if err := os.Link(path, sparePath); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := os.WriteFile(tmpPath, []byte("{\n  \"half\": "), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(path) // a reader of the index as it was
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	err = s.updateIndex(dir, func(idx map[string]json.RawMessage) (bool, error) {
		idx["agent:main:b"] = json.RawMessage(`{"sessionId":"b"}`)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(old); string(got) != string(before) {
		t.Fatalf("the index was changed in place: a reader of the old one read %q, want %q", got, before)
	}
	if got := keysOf(t, s, "main"); len(got) != 2 {
		t.Fatalf("keys = %v, want a and b", got)
	}
	if _, err := os.Stat(tmpPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp index left behind (%v)", err)
	}
	var idx map[string]Entry
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &idx); err != nil || len(idx) != 2 {
		t.Fatalf("index %s (%v), want two entries", data, err)
	}
}
