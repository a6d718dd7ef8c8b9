package agent

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/session"
)

// A stateless request's run (NewSession with a key from RandomKey) makes
// its session, transcript and index entry like any run, without a lock
// file; NewSession without a key is the main session, acquired as usual.
func TestNewSessionRun(t *testing.T) {
	f := &fakeProvider{answer: reply("hello back")}
	r, state := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m1"}), f)
	key := session.RandomKey("main", "openai")
	res, err := r.Run(context.Background(), Request{Message: "hi", SessionKey: key, NewSession: true})
	if err != nil {
		t.Fatal(err)
	}
	e, ok, err := r.Store().Get("main", key)
	if err != nil || !ok || e.SessionID != res.SessionID || e.Turns != 1 || e.OutputTokens != 2 {
		t.Fatalf("entry = %+v, %v, %v; want session %s with the turn counted", e, ok, err, res.SessionID)
	}
	if recs, err := r.Store().Transcript("main", res.SessionID); err != nil || len(recs) != 2 {
		t.Fatalf("transcript = %d records, %v; want 2", len(recs), err)
	}
	dir := filepath.Join(state, "agents", "main", "sessions")
	locks, _ := filepath.Glob(filepath.Join(dir, "*.lock"))
	for _, l := range locks {
		if filepath.Base(l) != "sessions.json.lock" {
			t.Errorf("a stateless run left a key lock file: %s", l)
		}
	}

	res, err = r.Run(context.Background(), Request{Message: "hi", NewSession: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.SessionKey != "agent:main:main" {
		t.Fatalf("NewSession without a key ran on %s, want the main session", res.SessionKey)
	}
	if locks, _ := filepath.Glob(filepath.Join(dir, "*.lock")); len(locks) != 2 {
		t.Errorf("lock files %v, want the index's and the main session's", locks)
	}
	if _, err := os.Stat(filepath.Join(dir, "sessions.json.tmp")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp index left behind: %v", err)
	}
}
