package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gofrs/flock"
)

// Backups is how many previous versions of the file are kept:
// openclaw.toml.bak (the newest), then .bak.1 to .bak.4.
const Backups = 5

// lockFile takes the advisory lock that serialises read-modify-write of
// file between processes. The caller must call the returned unlock.
func lockFile(file string) (unlock func(), err error) {
	l := flock.New(file+".lock", flock.SetPermissions(0o600))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", file+".lock", err)
	}
	return func() { _ = l.Unlock() }, nil
}

// ensureDir creates the file's directory (mode 0700) when it is missing.
func ensureDir(file string) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	return nil
}

// realPath follows a symlinked config file, so that writing replaces the
// file it points to and not the link.
func realPath(file string) string {
	if r, err := filepath.EvalSymlinks(file); err == nil {
		return r
	}
	return file
}

// writeAtomic replaces file with data so that a crash at any moment leaves
// either the old or the new content, never a mix: a temp file in the same
// directory is written and synced, the old file is kept as a backup (by a
// hard link, so the file itself never disappears), the temp file is renamed
// over the file, and the directory is synced. The caller holds the lock.
func writeAtomic(file string, data []byte, backup bool) error {
	dir, base := filepath.Dir(file), filepath.Base(file)
	removeStaleTemps(dir, base)
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if backup {
		if err := rotateBackups(file); err != nil {
			return err
		}
	}
	if err := os.Rename(name, file); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	ok = true
	syncDir(dir)
	return nil
}

// rotateBackups shifts file.bak -> .bak.1 -> ... -> .bak.4 (the oldest is
// dropped) and keeps the current file as file.bak.
func rotateBackups(file string) error {
	name := func(i int) string {
		if i == 0 {
			return file + ".bak"
		}
		return fmt.Sprintf("%s.bak.%d", file, i)
	}
	for i := Backups - 2; i >= 0; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate config backups: %w", err)
		}
	}
	if err := os.Link(file, name(0)); err == nil {
		_ = os.Chmod(name(0), 0o600)
		return nil
	}
	// No hard links here: copy, atomically too.
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("back up config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("back up config: %w", err)
	}
	_ = tmp.Chmod(0o600)
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("back up config: %w", err)
	}
	if err := os.Rename(tmp.Name(), name(0)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("back up config: %w", err)
	}
	return nil
}

// removeStaleTemps deletes temp files a killed writer left behind; with the
// lock held no other writer can own one.
func removeStaleTemps(dir, base string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp-"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncDir makes a rename durable. Not every system can sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
