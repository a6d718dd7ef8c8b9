package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/gofrs/flock"
)

// ErrNotFound is returned (wrapped) by Remove for a key that has no
// session.
var ErrNotFound = errors.New("session not found")

// Remove deletes one session: its index entry, then its transcript, and
// returns the entry it removed. It takes the key's lock as a run does, so it
// waits for a run on the key to finish (or for ctx to end) and no run starts
// on the key while it works; the next run on the key starts a new session.
//
// The entry goes first, by the same atomic index replacement runs use: a
// crash between the two steps leaves a transcript that no entry names, which
// List never shows, and never an entry whose transcript is half gone. The
// key's lock file stays: deleting a lock file another process may be
// waiting on would let two holders in.
func (s *Store) Remove(ctx context.Context, agentID, key string) (Entry, error) {
	id, err := checkAgent(agentID)
	if err != nil {
		return Entry{}, err
	}
	if key, err = checkKey(id, key); err != nil {
		return Entry{}, err
	}
	dir := s.SessionsDir(id)
	// A key with no entry needs no lock (and no directories made for it).
	idx, err := readIndex(dir)
	if err != nil {
		return Entry{}, err
	}
	if _, ok := idx[key]; !ok {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}

	lockPath := filepath.Join(dir, keyLockName(key))
	if err := queues.acquire(ctx, lockPath); err != nil {
		return Entry{}, err
	}
	defer queues.release(lockPath)
	fl := flock.New(lockPath, flock.SetPermissions(0o600))
	if err := lockCtx(ctx, fl); err != nil {
		return Entry{}, err
	}
	defer fl.Unlock()

	var e Entry
	shared := false
	err = s.updateIndex(dir, func(idx map[string]json.RawMessage) (bool, error) {
		raw, ok := idx[key]
		if !ok {
			return false, fmt.Errorf("%w: %s", ErrNotFound, key) // removed while we waited
		}
		// A broken entry is removed too: that is how it gets repaired.
		e, _ = decodeEntry(key, raw)
		e.Key = key
		delete(idx, key)
		if e.SessionID != "" {
			_, shared = findSessionKey(idx, key, e.SessionID)
		}
		return true, nil
	})
	if err != nil {
		return Entry{}, err
	}
	if shared || !ValidSessionID(e.SessionID) {
		// Another key names the transcript (a hand-edited index): it stays.
		return e, nil
	}
	if err := os.Remove(s.TranscriptPath(id, e.SessionID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return e, fmt.Errorf("session entry removed, but not its transcript: %w", err)
	}
	if s.opts.Fsync {
		if err := syncDir(dir); err != nil {
			return e, err
		}
	}
	return e, nil
}

// AgentIDs returns the ids of the agents that have a sessions dir under the
// state dir, sorted. Agents no longer in the config are included: their
// sessions are still on disk.
func (s *Store) AgentIDs() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.stateDir, "agents"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if !e.IsDir() || !ValidAgentID(e.Name()) {
			continue
		}
		if st, err := os.Stat(s.SessionsDir(e.Name())); err == nil && st.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	return ids, nil
}
