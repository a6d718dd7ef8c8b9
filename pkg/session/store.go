package session

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

// File names inside an agent's sessions dir.
const (
	indexName     = "sessions.json"
	indexLockName = "sessions.json.lock"
	indexTmpName  = "sessions.json.tmp"
	// indexSpareName keeps the inode of the last index replaced, empty,
	// for the next write (see replaceIndex).
	indexSpareName = "sessions.json.spare"
	transcriptExt  = ".jsonl"
)

// Options tune a Store.
type Options struct {
	// Fsync makes every append and index replacement durable before it
	// returns (the file, and its directory after a create or rename). Off, a
	// power loss may lose the newest records, but files stay readable either
	// way.
	Fsync bool
}

// Store is the session store under one state dir. It is safe for concurrent
// use, and several processes may use the same state dir at once.
type Store struct {
	stateDir string
	opts     Options
	now      func() time.Time
}

// NewStore returns the store under stateDir (see the package doc for the
// layout). Nothing is created until a session is acquired.
func NewStore(stateDir string, opts Options) *Store {
	// Absolute, so that the in-process queues of two Stores on one dir meet.
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
	}
	return &Store{stateDir: stateDir, opts: opts, now: time.Now}
}

// Entry is one session key's line in sessions.json.
type Entry struct {
	Key              string    `json:"-"` // the map key in sessions.json
	SessionID        string    `json:"sessionId"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
	Turns            int       `json:"turns"` // user records appended
	InputTokens      int       `json:"inputTokens"`
	OutputTokens     int       `json:"outputTokens"`
	CacheReadTokens  int       `json:"cacheReadTokens,omitempty"`
	CacheWriteTokens int       `json:"cacheWriteTokens,omitempty"`
	Provider         string    `json:"provider,omitempty"` // of the latest record that named one
	Model            string    `json:"model,omitempty"`
}

// SessionsDir is where agentID's index and transcripts live.
func (s *Store) SessionsDir(agentID string) string {
	return filepath.Join(s.stateDir, "agents", normAgent(agentID), "sessions")
}

// TranscriptPath is the file of one session's transcript.
func (s *Store) TranscriptPath(agentID, sessionID string) string {
	return filepath.Join(s.SessionsDir(agentID), sessionID+transcriptExt)
}

func checkAgent(agentID string) (string, error) {
	id := normAgent(agentID)
	if !ValidAgentID(id) {
		return "", fmt.Errorf("invalid agent id %q: use 1-64 letters, digits, '-' or '_'", agentID)
	}
	return id, nil
}

// checkKey normalises key and makes sure it belongs to agentID.
func checkKey(agentID, key string) (string, error) {
	id, rest, ok := ParseKey(key)
	if !ok {
		return "", fmt.Errorf("invalid session key %q: want agent:<agentId>:<name>", key)
	}
	if id != agentID {
		return "", fmt.Errorf("session key %q belongs to agent %q, not %q", key, id, agentID)
	}
	return keyPrefix + id + ":" + rest, nil
}

// keyLockName is the lock file of one key. Keys are hashed because they may
// hold any character and be long.
func keyLockName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + ".lock"
}

// mkdirs creates the sessions dir (and its parents) private to the user.
func (s *Store) mkdirs(agentID string) (string, error) {
	dir := s.SessionsDir(agentID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create sessions dir: %w", err)
	}
	return dir, nil
}

// List returns agentID's sessions, most recently updated first.
func (s *Store) List(agentID string) ([]Entry, error) {
	id, err := checkAgent(agentID)
	if err != nil {
		return nil, err
	}
	idx, err := readIndex(s.SessionsDir(id))
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(idx))
	for k, raw := range idx {
		e, err := decodeEntry(k, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out, nil
}

// Get returns the entry of one session key; ok is false when there is none.
func (s *Store) Get(agentID, key string) (e Entry, ok bool, err error) {
	id, err := checkAgent(agentID)
	if err != nil {
		return Entry{}, false, err
	}
	if key, err = checkKey(id, key); err != nil {
		return Entry{}, false, err
	}
	raw, ok, err := lookupIndex(s.SessionsDir(id), key)
	if err != nil || !ok {
		return Entry{}, false, err
	}
	e, err = decodeEntry(key, raw)
	return e, err == nil, err
}

// Transcript reads one session's records, oldest first. A missing transcript
// is an error wrapping fs.ErrNotExist. It takes no lock: a run appending at
// the same time is seen up to its last whole line.
func (s *Store) Transcript(agentID, sessionID string) ([]Record, error) {
	id, err := checkAgent(agentID)
	if err != nil {
		return nil, err
	}
	if !ValidSessionID(sessionID) {
		return nil, fmt.Errorf("invalid session id %q: use letters, digits, '.', '-' or '_'", sessionID)
	}
	data, err := os.ReadFile(s.TranscriptPath(id, sessionID))
	if err != nil {
		return nil, fmt.Errorf("read transcript: %w", err)
	}
	return parseRecords(data), nil
}

func decodeEntry(key string, raw json.RawMessage) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Entry{}, fmt.Errorf("session index entry %q is invalid (%v): fix or remove it", key, err)
	}
	e.Key = key
	return e, nil
}

func encodeEntry(e Entry) json.RawMessage {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // Entry holds only strings, ints and times
	}
	return b
}

// syncDir makes a create or rename in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there; NTFS journals names
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// findSessionKey returns the key other than key that id is bound to.
func findSessionKey(idx map[string]json.RawMessage, key, id string) (string, bool) {
	for k, raw := range idx {
		if k == key || !bytes.Contains(raw, []byte(id)) {
			continue
		}
		var e Entry
		if json.Unmarshal(raw, &e) == nil && e.SessionID == id {
			return k, true
		}
	}
	return "", false
}
