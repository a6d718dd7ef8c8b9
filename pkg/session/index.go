package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gofrs/flock"
)

// The index (sessions.json) of each sessions dir is kept in memory, in the
// form it has in the file: one indented block per entry, sorted by key. An
// update then costs a map lookup and the encoding of the entries it
// changes, instead of reading, decoding and re-encoding the whole file; the
// file is still replaced whole, by rename, so readers and crashes see the
// old or the new index and nothing in between.
//
// The copy is used only while the file is the one it was read from or
// written as (same file, size, modification and change times); any other
// writer (another process, a hand edit) replaces or rewrites the file, and
// the next use reads it again.
//
// Updates that arrive while one is being written are applied together and
// written once (group commit): each waits for the write that includes it,
// so an update has reached the file when updateIndex returns, as before,
// but a loaded gateway writes the index once per batch of runs, not once
// per run.

// indexCache is the in-memory index of one sessions dir, shared by every
// Store of the process.
type indexCache struct {
	dir, path string

	// mu is held by the writer of a batch: it serialises updates inside
	// the process, so that goroutines queue here instead of each blocking
	// a thread in flock.
	mu sync.Mutex

	qmu   sync.Mutex
	queue []*indexOp

	// The index as last read or written, guarded by rmu; changed only by
	// the holder of mu.
	rmu     sync.RWMutex
	valid   bool
	fi      os.FileInfo // of the file the entries are from; nil: no file
	byKey   map[string]*cachedEntry
	entries []*cachedEntry // sorted by key

	buf    []byte // the last file written, reused
	writes int    // files written, for tests
}

// cachedEntry is one entry as it stands in the file.
type cachedEntry struct {
	key   string
	block []byte // `  "key": {...}`, indented as in the file, no separator
	val   int    // where the value starts in block
}

// raw is the entry's value. Blocks are never changed once made (an update
// makes a new one), so it may be handed out; its capacity is clipped so an
// append copies.
func (e *cachedEntry) raw() json.RawMessage { return e.block[e.val:len(e.block):len(e.block)] }

// caches holds the indexCache of each index path.
var caches sync.Map // string -> *indexCache

func cacheFor(dir string) *indexCache {
	path := filepath.Join(dir, indexName)
	if c, ok := caches.Load(path); ok {
		return c.(*indexCache)
	}
	c, _ := caches.LoadOrStore(path, &indexCache{dir: dir, path: path})
	return c.(*indexCache)
}

// stat returns the index file's info, nil when there is none.
func (c *indexCache) stat() (os.FileInfo, error) {
	fi, err := os.Stat(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session index: %w", err)
	}
	return fi, nil
}

// freshFor reports whether the cached entries are those of the file fi
// describes. The caller holds rmu.
func (c *indexCache) freshFor(fi os.FileInfo) bool {
	if !c.valid {
		return false
	}
	if fi == nil || c.fi == nil {
		return fi == nil && c.fi == nil
	}
	return os.SameFile(fi, c.fi) && fi.Size() == c.fi.Size() && fi.ModTime().Equal(c.fi.ModTime()) &&
		changeTime(fi) == changeTime(c.fi)
}

// refresh makes the cache match the file, reading it if needed. The caller
// holds mu, and the index lock when locked says so; otherwise the file is
// read under the shared index lock, since writers reuse the inodes of old
// indexes (see replaceIndex).
func (c *indexCache) refresh(locked bool) error {
	fi, err := c.stat()
	if err != nil {
		return err
	}
	c.rmu.RLock()
	fresh := c.freshFor(fi)
	c.rmu.RUnlock()
	if fresh {
		return nil
	}
	var data []byte
	if fi != nil {
		if !locked {
			fl := flock.New(filepath.Join(c.dir, indexLockName), flock.SetPermissions(0o600))
			if err := fl.RLock(); err != nil {
				return fmt.Errorf("lock session index: %w", err)
			}
			defer fl.Unlock()
		}
		f, err := os.Open(c.path)
		if errors.Is(err, fs.ErrNotExist) {
			fi = nil
		} else if err != nil {
			return fmt.Errorf("read session index: %w", err)
		} else {
			// The info of the file actually read: it may have been
			// replaced since the stat.
			fi, err = f.Stat()
			if err == nil {
				data, err = readAll(f, fi.Size())
			}
			f.Close()
			if err != nil {
				return fmt.Errorf("read session index: %w", err)
			}
		}
	}
	idx, err := parseIndex(c.path, data)
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err != nil {
		c.valid = false
		return err
	}
	c.byKey = make(map[string]*cachedEntry, len(idx))
	c.entries = make([]*cachedEntry, 0, len(idx))
	for k, raw := range idx {
		e := newCachedEntry(k, raw)
		c.byKey[k] = e
		c.entries = append(c.entries, e)
	}
	slices.SortFunc(c.entries, func(a, b *cachedEntry) int { return strings.Compare(a.key, b.key) })
	c.fi, c.valid = fi, true
	return nil
}

func readAll(f *os.File, size int64) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(int(size) + 512)
	_, err := b.ReadFrom(f)
	return b.Bytes(), err
}

// parseIndex decodes the content of sessions.json; empty content (or no
// file) is an empty index.
func parseIndex(path string, data []byte) (map[string]json.RawMessage, error) {
	idx := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(data)) == 0 {
		return idx, nil
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("session index %s is not valid JSON (%v): fix it or move it away", path, err)
	}
	return idx, nil
}

// newCachedEntry renders one entry as json.MarshalIndent(idx, "", "  ")
// does inside the whole index.
func newCachedEntry(key string, raw json.RawMessage) *cachedEntry {
	k, _ := json.Marshal(key)
	v, err := json.Marshal(raw) // compact, HTML-escaped, as Marshal does
	if err != nil {
		v = []byte("null") // not reached: raw comes from a decoded file or json.Marshal
	}
	var b bytes.Buffer
	b.Grow(len(k) + 2*len(v))
	b.WriteString("  ")
	b.Write(k)
	b.WriteString(": ")
	val := b.Len()
	json.Indent(&b, v, "  ", "  ")
	return &cachedEntry{key: key, block: b.Bytes(), val: val}
}

// view calls fn with the current index, read again first if the file
// changed. fn must not keep the map's values.
func (c *indexCache) view(fn func(byKey map[string]*cachedEntry)) error {
	fi, err := c.stat()
	if err != nil {
		return err
	}
	c.rmu.RLock()
	if c.freshFor(fi) {
		fn(c.byKey)
		c.rmu.RUnlock()
		return nil
	}
	c.rmu.RUnlock()
	// Stale: read it again, one goroutine at a time (a batch being written
	// makes it fresh when done).
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refresh(false); err != nil {
		return err
	}
	c.rmu.RLock()
	defer c.rmu.RUnlock()
	fn(c.byKey)
	return nil
}

// lookupIndex returns key's entry in the index of dir, without locking: the
// file is only ever replaced by rename, so what is seen is one whole
// version.
func lookupIndex(dir, key string) (raw json.RawMessage, ok bool, err error) {
	err = cacheFor(dir).view(func(m map[string]*cachedEntry) {
		if e := m[key]; e != nil {
			raw, ok = e.raw(), true
		}
	})
	return raw, ok, err
}

// readIndex returns the whole index of dir (see lookupIndex). A missing
// file is an empty index. The values must not be modified.
func readIndex(dir string) (map[string]json.RawMessage, error) {
	var idx map[string]json.RawMessage
	err := cacheFor(dir).view(func(m map[string]*cachedEntry) {
		idx = make(map[string]json.RawMessage, len(m))
		for k, e := range m {
			idx[k] = e.raw()
		}
	})
	return idx, err
}

// indexTx is what an update sees: the index with the changes made so far
// in its batch. An update's own changes count only if it succeeds.
type indexTx struct {
	c       *indexCache
	parent  *indexTx
	changes map[string]json.RawMessage // a nil value is a deletion
}

func (tx *indexTx) get(key string) (json.RawMessage, bool) {
	for t := tx; t != nil; t = t.parent {
		if raw, ok := t.changes[key]; ok {
			return raw, raw != nil
		}
	}
	if e := tx.c.byKey[key]; e != nil {
		return e.raw(), true
	}
	return nil, false
}

func (tx *indexTx) set(key string, raw json.RawMessage) { tx.changes[key] = raw }
func (tx *indexTx) del(key string)                      { tx.changes[key] = nil }

// all returns the whole index as a map, changes applied (for the rare
// updates that need to look at every entry).
func (tx *indexTx) all() map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(tx.c.byKey))
	for k, e := range tx.c.byKey {
		m[k] = e.raw()
	}
	var chain []*indexTx
	for t := tx; t != nil; t = t.parent {
		chain = append(chain, t)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for k, raw := range chain[i].changes {
			if raw == nil {
				delete(m, k)
			} else {
				m[k] = raw
			}
		}
	}
	return m
}

// indexOp is one caller's update, waiting for the batch that writes it.
type indexOp struct {
	fn    func(tx *indexTx) (changed bool, err error)
	fsync bool
	err   error
	done  chan struct{}
}

// updateIndex runs fn on the index of dir under the agent-wide lock and,
// when fn reports a change, replaces sessions.json atomically. fn may
// change the map it is given (not the values' bytes) and must not keep it.
// It sees the whole index, which costs a copy of it: the hot paths use
// applyIndex. Keep fn short: every session of the agent waits for it.
func (s *Store) updateIndex(dir string, fn func(idx map[string]json.RawMessage) (changed bool, err error)) error {
	return s.applyIndex(dir, func(tx *indexTx) (bool, error) {
		before := tx.all()
		after := make(map[string]json.RawMessage, len(before))
		for k, v := range before {
			after[k] = v
		}
		changed, err := fn(after)
		if err != nil || !changed {
			return changed, err
		}
		for k, v := range after {
			if old, ok := before[k]; !ok || !sameBytes(old, v) {
				tx.set(k, v)
			}
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				tx.del(k)
			}
		}
		return true, nil
	})
}

// sameBytes reports whether a and b are the same slice (not only equal):
// an entry fn left alone.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// applyIndex runs fn as one update of the index of dir. It returns once
// the file holds the update (or the update failed).
func (s *Store) applyIndex(dir string, fn func(tx *indexTx) (bool, error)) error {
	c := cacheFor(dir)
	op := &indexOp{fn: fn, fsync: s.opts.Fsync, done: make(chan struct{})}
	c.qmu.Lock()
	c.queue = append(c.queue, op)
	c.qmu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-op.done: // written by the batch before
		return op.err
	default:
	}
	c.qmu.Lock()
	batch := c.queue
	c.queue = nil
	c.qmu.Unlock()
	c.writeBatch(batch)
	return op.err
}

// writeBatch applies a batch of updates and writes the index once. The
// caller holds mu.
func (c *indexCache) writeBatch(batch []*indexOp) {
	err := c.applyBatch(batch)
	for _, op := range batch {
		if op.err == nil {
			op.err = err
		}
		close(op.done)
	}
}

func (c *indexCache) applyBatch(batch []*indexOp) error {
	fl := flock.New(filepath.Join(c.dir, indexLockName), flock.SetPermissions(0o600))
	if err := fl.Lock(); err != nil {
		return fmt.Errorf("lock session index: %w", err)
	}
	defer fl.Unlock()
	if err := c.refresh(true); err != nil {
		return err
	}
	tx := &indexTx{c: c, changes: map[string]json.RawMessage{}}
	fsync := false
	for _, op := range batch {
		sub := &indexTx{c: c, parent: tx, changes: map[string]json.RawMessage{}}
		changed, err := op.fn(sub)
		if err != nil {
			op.err = err
			continue
		}
		if changed {
			for k, raw := range sub.changes {
				tx.changes[k] = raw
			}
			fsync = fsync || op.fsync
		}
	}
	if len(tx.changes) == 0 {
		return nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	deleted := false
	for k, raw := range tx.changes {
		deleted = deleted || raw == nil
		i, found := slices.BinarySearchFunc(c.entries, k, func(e *cachedEntry, k string) int { return strings.Compare(e.key, k) })
		switch {
		case raw == nil && found:
			c.entries = slices.Delete(c.entries, i, i+1)
			delete(c.byKey, k)
		case raw == nil:
		case found:
			e := newCachedEntry(k, raw)
			c.entries[i] = e
			c.byKey[k] = e
		default:
			e := newCachedEntry(k, raw)
			c.entries = slices.Insert(c.entries, i, e)
			c.byKey[k] = e
		}
	}
	c.buf = c.encode(c.buf[:0])
	// The old file's inode is kept for the next write only if it has the
	// mode this package gives the index (not a hand-made file's).
	recycle := c.fi != nil && c.fi.Mode().Perm() == 0o600
	fi, err := replaceIndex(c.dir, c.buf, c.fi, fsync, recycle, deleted)
	if err != nil {
		c.valid = false // the file is as it was: read it again next time
		return err
	}
	c.fi = fi
	c.writes++
	if cap(c.buf) > 4*len(c.buf)+64<<10 {
		c.buf = nil // do not keep a buffer the index has shrunk away from
	}
	return nil
}

// encode appends the index file, byte for byte what
// json.MarshalIndent(idx, "", "  ") and a newline make of it.
func (c *indexCache) encode(b []byte) []byte {
	if len(c.entries) == 0 {
		return append(b, "{}\n"...)
	}
	n := 4
	for _, e := range c.entries {
		n += len(e.block) + 2
	}
	b = slices.Grow(b, n)
	b = append(b, "{\n"...)
	for i, e := range c.entries {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, e.block...)
	}
	return append(b, "\n}\n"...)
}

// replaceIndex writes data to the temp file and renames it over
// sessions.json, so the file is always one whole version, and returns the
// new file's info. The caller holds the index lock, which makes the temp
// and spare files its own.
//
// With recycle, the inode of the index being replaced is kept as the spare
// the next write fills in place, instead of making a file and freeing one
// per write: on ext4 making files is costly, and costlier the more inodes
// were freed lately, and rewriting pages in place spares freeing and
// allocating them again. The spare keeps the old content until then,
// unless scrub (an entry was deleted: nothing of it stays behind). A
// reader still reading an old index when its inode is reused would see
// another content: this package's readers hold the shared index lock while
// they read (refresh), and others may see a mix during a write.
func replaceIndex(dir string, data []byte, live os.FileInfo, fsync, recycle, scrub bool) (os.FileInfo, error) {
	path := filepath.Join(dir, indexName)
	tmpPath := filepath.Join(dir, indexTmpName)
	sparePath := filepath.Join(dir, indexSpareName)
	if st, err := os.Stat(sparePath); err == nil {
		switch {
		case live != nil && os.SameFile(st, live):
			// A writer died between linking the index aside and renaming
			// over it: the spare is the index itself. Writing into it
			// would change the index in place.
			os.Remove(sparePath)
		case recycle:
			_ = os.Rename(sparePath, tmpPath)
		}
	}
	// Over the old content, then cut to length: a spare's pages or blocks
	// are rewritten in place rather than freed and allocated again.
	f, err := os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write session index: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if err == nil && fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	// Where hard links do not work the old inode is simply freed.
	spare := err == nil && recycle && os.Link(path, sparePath) == nil
	if err == nil {
		err = os.Rename(tmpPath, path)
	}
	if err != nil {
		os.Remove(tmpPath)
		if spare {
			os.Remove(sparePath) // a second name of the index still in place
		}
		return nil, fmt.Errorf("write session index: %w", err)
	}
	if spare && scrub {
		_ = os.Truncate(sparePath, 0)
	}
	if fsync {
		if err := syncDir(dir); err != nil {
			return nil, err
		}
	}
	// After the rename, which changes the change time. Nobody else
	// replaces the file while the caller holds the index lock.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("write session index: %w", err)
	}
	return fi, nil
}
