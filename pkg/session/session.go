package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/uuid"
)

// ErrSessionTaken is returned (wrapped) by Acquire when AcquireOptions.SessionID
// names a transcript that another session key already uses: a transcript has
// exactly one key, whose lock is what keeps its writers apart.
var ErrSessionTaken = errors.New("session id in use by another session key")

// ErrReleased is returned by a Session's methods after Release.
var ErrReleased = errors.New("session already released")

// AcquireOptions tune Acquire.
type AcquireOptions struct {
	// SessionID is the transcript the key should use (the CLI's
	// --session-id). Empty: the key's current session, or a new random id
	// for a new key. Given: a key bound to another session is rebound to
	// this one (the old transcript stays on disk). It must be a
	// ValidSessionID not used by another key.
	SessionID string
	// Fresh says key was just made by RandomKey for this run (a stateless
	// request): no other process can know it, so Acquire makes no lock
	// file for it (runs on it in this process still queue), and its index
	// entry is written by the first Append, with the turn's counters, or
	// by Release: one index write instead of two, and the session is
	// listed from its first Append on. A key that turns out to have an
	// entry is acquired as usual. Ignored when SessionID is set.
	Fresh bool
}

// Session is one session key held exclusively by the caller, from Acquire
// to Release. Its methods are safe for concurrent use.
type Session struct {
	AgentID string // lowercased
	Key     string // the full key, agent id lowercased
	ID      string // the transcript's session id
	Created bool   // this Acquire created the key's index entry

	st      *Store
	dir     string
	qkey    string
	keyLock *flock.Flock

	mu       sync.Mutex
	released bool
	f        *os.File // the transcript, opened by the first Append
	tailOK   bool     // f ends with a whole line (checked since opened)
	// pending: a Fresh key whose entry is not written yet; the first
	// Append writes it with its counters, or Release does. createdAt is
	// the Acquire's time.
	pending   bool
	createdAt time.Time
	// unwritten: a Fresh session's transcript, not written yet.
	unwritten bool
}

// Acquire waits until the caller is the only run on key, then returns the
// session. Runs on one key are served in arrival order within the process
// and excluded across processes by a file lock. If ctx ends while waiting,
// Acquire returns ctx.Err() and the caller is no longer queued. A key with
// no index entry gets one, with a new session id (or opt.SessionID); see
// AcquireOptions.Fresh for keys made up for one run.
//
// The caller must Release the session.
func (s *Store) Acquire(ctx context.Context, agentID, key string, opt AcquireOptions) (*Session, error) {
	id, err := checkAgent(agentID)
	if err != nil {
		return nil, err
	}
	if key, err = checkKey(id, key); err != nil {
		return nil, err
	}
	if opt.SessionID != "" && !ValidSessionID(opt.SessionID) {
		return nil, fmt.Errorf("invalid session id %q: use 1-128 letters, digits, '.', '-' or '_', starting with a letter or digit", opt.SessionID)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir := s.SessionsDir(id)
	lockPath := filepath.Join(dir, keyLockName(key))
	if err := queues.acquire(ctx, lockPath); err != nil {
		return nil, err
	}
	ss := &Session{AgentID: id, Key: key, st: s, dir: dir, qkey: lockPath}
	ok := false
	defer func() {
		if !ok {
			ss.Release()
		}
	}()

	if _, err := s.mkdirs(id); err != nil {
		return nil, err
	}
	if opt.Fresh && opt.SessionID == "" {
		_, exists, err := lookupIndex(dir, key)
		if err != nil {
			return nil, err
		}
		if !exists {
			ss.ID, ss.Created = uuid.NewString(), true
			ss.pending, ss.createdAt = true, s.now().UTC()
			ss.tailOK, ss.unwritten = true, true // a new session id has no transcript yet
			ok = true
			return ss, nil
		}
	}
	ss.keyLock = flock.New(lockPath, flock.SetPermissions(0o600))
	if err := lockCtx(ctx, ss.keyLock); err != nil {
		return nil, err
	}
	e, created, err := s.resolve(dir, key, opt.SessionID)
	if err != nil {
		return nil, err
	}
	ss.ID, ss.Created = e.SessionID, created
	ok = true
	return ss, nil
}

// lockCtx takes an exclusive file lock, polling so that ctx can end the wait
// (a blocking flock cannot be interrupted). Polls start fast, for the usual
// short wait, and back off to a few per 100 ms.
func lockCtx(ctx context.Context, fl *flock.Flock) error {
	delay := time.Millisecond
	for {
		got, err := fl.TryLock()
		if err != nil {
			return fmt.Errorf("lock session: %w", err)
		}
		if got {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 25*time.Millisecond)
	}
}

// resolve finds key's entry, creating or rebinding it as asked. The caller
// holds the key's lock, so the key's binding cannot change under it.
func (s *Store) resolve(dir, key, want string) (e Entry, created bool, err error) {
	// Fast path without the agent-wide lock: the key exists and is bound as
	// asked.
	raw, ok, err := lookupIndex(dir, key)
	if err != nil {
		return Entry{}, false, err
	}
	if ok {
		if e, err = checkEntry(key, raw); err != nil {
			return Entry{}, false, err
		}
		if want == "" || want == e.SessionID {
			return e, false, nil
		}
	}

	if want == "" {
		err = s.applyIndex(dir, func(tx *indexTx) (bool, error) {
			if raw, ok := tx.get(key); ok { // not reached: the key is ours
				var err error
				e, err = checkEntry(key, raw)
				return false, err
			}
			now := s.now().UTC()
			e = Entry{Key: key, SessionID: uuid.NewString(), CreatedAt: now, UpdatedAt: now}
			tx.set(key, encodeEntry(e))
			created = true
			return true, nil
		})
		return e, created, err
	}

	// Rebind the key, or bind a new key to the wanted id: it must not be
	// another key's.
	err = s.updateIndex(dir, func(idx map[string]json.RawMessage) (bool, error) {
		if raw, ok := idx[key]; ok {
			var err error
			if e, err = checkEntry(key, raw); err != nil {
				return false, err
			}
			if want == e.SessionID {
				return false, nil
			}
		}
		if other, taken := findSessionKey(idx, key, want); taken {
			return false, fmt.Errorf("%w: session id %q belongs to session key %q; use that key", ErrSessionTaken, want, other)
		}
		now := s.now().UTC()
		e = Entry{Key: key, SessionID: want, CreatedAt: now, UpdatedAt: now}
		idx[key] = encodeEntry(e)
		created = true
		return true, nil
	})
	return e, created, err
}

// checkEntry decodes an entry and checks its session id, which names a
// file.
func checkEntry(key string, raw json.RawMessage) (Entry, error) {
	e, err := decodeEntry(key, raw)
	if err != nil {
		return Entry{}, err
	}
	if !ValidSessionID(e.SessionID) {
		return Entry{}, fmt.Errorf("session index entry %q has an invalid sessionId %q: fix or remove the entry", key, e.SessionID)
	}
	return e, nil
}

// History returns the transcript so far, oldest first (empty for a new
// session). A torn last line is ignored.
func (ss *Session) History() ([]Record, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.released {
		return nil, ErrReleased
	}
	if ss.unwritten {
		return nil, nil
	}
	data, err := os.ReadFile(ss.st.TranscriptPath(ss.AgentID, ss.ID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read transcript: %w", err)
	}
	return parseRecords(data), nil
}

// Append adds records to the transcript in one write, so a crash leaves all
// of them or a torn tail that readers ignore, then updates the key's index
// entry (updatedAt, turns, tokens, model). Records with a zero TS get the
// time now.
func (ss *Session) Append(recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.released {
		return ErrReleased
	}
	now := ss.st.now().UTC()
	buf, err := encodeRecords(recs, now)
	if err != nil {
		return err
	}
	if err := ss.writeTranscript(buf); err != nil {
		return err
	}
	err = ss.writeEntry(func(e *Entry) {
		e.UpdatedAt = now
		for _, r := range recs {
			if r.Type == TypeUser {
				e.Turns++
			}
			if u := r.Usage; u != nil {
				e.InputTokens += u.Input
				e.OutputTokens += u.Output
				e.CacheReadTokens += u.CacheRead
				e.CacheWriteTokens += u.CacheWrite
			}
			if r.Model != "" {
				e.Provider, e.Model = r.Provider, r.Model
			}
		}
	})
	if err != nil {
		return fmt.Errorf("records saved, but the session index was not updated: %w", err)
	}
	return nil
}

// writeEntry updates the key's index entry with fn, creating it if it is
// pending; with a nil fn it only creates a missing entry. The caller holds
// ss.mu.
func (ss *Session) writeEntry(fn func(e *Entry)) error {
	err := ss.st.applyIndex(ss.dir, func(tx *indexTx) (bool, error) {
		e := Entry{SessionID: ss.ID, CreatedAt: ss.createdAt, UpdatedAt: ss.createdAt}
		if raw, ok := tx.get(ss.Key); ok {
			if fn == nil {
				return false, nil
			}
			var err error
			if e, err = decodeEntry(ss.Key, raw); err != nil {
				return false, err
			}
			if e.SessionID != ss.ID {
				return false, nil // rebound behind our back by a tool: leave it be
			}
		} else if !ss.pending {
			// Removed behind our back: make it anew.
			e.CreatedAt = ss.st.now().UTC()
			e.UpdatedAt = e.CreatedAt
		}
		if fn != nil {
			fn(&e)
		}
		tx.set(ss.Key, encodeEntry(e))
		return true, nil
	})
	if err == nil {
		ss.pending = false
	}
	return err
}

// writeTranscript appends whole lines with one write.
func (ss *Session) writeTranscript(buf []byte) error {
	ss.unwritten = false
	if !ss.tailOK {
		if err := repairFile(ss.st.TranscriptPath(ss.AgentID, ss.ID)); err != nil {
			return fmt.Errorf("repair transcript: %w", err)
		}
		ss.tailOK = true
	}
	if ss.f == nil {
		if err := ss.openTranscript(); err != nil {
			return err
		}
	}
	if _, err := ss.f.Write(buf); err != nil {
		ss.tailOK = false // part of it may be there: look again next time
		return fmt.Errorf("append to transcript: %w", err)
	}
	if ss.st.opts.Fsync {
		if err := ss.f.Sync(); err != nil {
			return fmt.Errorf("sync transcript: %w", err)
		}
	}
	return nil
}

func (ss *Session) openTranscript() error {
	path := ss.st.TranscriptPath(ss.AgentID, ss.ID)
	// O_APPEND: every write lands at the end as one unit.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	}
	if err != nil {
		return fmt.Errorf("open transcript: %w", err)
	}
	if created && ss.st.opts.Fsync {
		if err := syncDir(ss.dir); err != nil {
			f.Close()
			return err
		}
	}
	ss.f = f
	return nil
}

// repairFile runs repairTail on the transcript at path, if there is one. It
// uses a handle of its own: one opened for appending may not truncate on
// every OS.
func repairFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = repairTail(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// repairTail cuts what a crash left of an unfinished Append, so the next
// record starts on a line of its own and no half Append stays between whole
// ones: a torn last line, and the whole lines marked "more" before it.
func repairTail(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	cut := size
	if size > 0 {
		last, err := readAt(f, size-1, 1)
		if err != nil {
			return err
		}
		if last[0] != '\n' {
			if cut, err = lastNewline(f, size); err != nil {
				return err
			}
		}
	}
	// Now the file up to cut is whole lines; drop those of an unfinished
	// Append. Only the line ends need reading.
	for cut > 0 {
		end := cut - 1 // the line's '\n'
		if end < int64(len(moreSuffix)) {
			break
		}
		tail, err := readAt(f, end-int64(len(moreSuffix)), len(moreSuffix))
		if err != nil {
			return err
		}
		if string(tail) != moreSuffix {
			break
		}
		if cut, err = lastNewline(f, end); err != nil {
			return err
		}
	}
	if cut == size {
		return nil
	}
	return f.Truncate(cut)
}

// lastNewline returns the offset just after the last '\n' before end, or 0
// when there is none.
func lastNewline(f *os.File, end int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end > 0 {
		start := max(0, end-chunk)
		n := int(end - start)
		if _, err := f.ReadAt(buf[:n], start); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

func readAt(f *os.File, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// Release ends the caller's hold on the key and lets the next run in. It
// may be called more than once.
func (ss *Session) Release() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.released {
		return
	}
	ss.released = true
	if ss.pending {
		// Nothing was appended: the key still gets its entry, as Acquire
		// promised. Best effort: without it the next run on the key just
		// starts a new session, and no record is lost.
		_ = ss.writeEntry(nil)
	}
	if ss.f != nil {
		ss.f.Close()
		ss.f = nil
	}
	if ss.keyLock != nil {
		ss.keyLock.Unlock() // closes the lock file too
	}
	queues.release(ss.qkey)
}
