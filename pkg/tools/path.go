package tools

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// escapeSentinel is the error os.Root wraps when a path would leave the
// root. os does not export it, so it is fetched once by asking a Root for
// "..", which os.Root refuses before touching the file system.
var escapeSentinel = sync.OnceValue(func() error {
	r, err := os.OpenRoot(string(filepath.Separator))
	if err != nil {
		return nil
	}
	defer r.Close()
	_, err = r.Lstat("..")
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return nil
})

// isEscape reports whether err is os.Root refusing a path that leaves it
// (through "..", an absolute path or a symbolic link).
func isEscape(err error) bool {
	if err == nil {
		return false
	}
	if s := escapeSentinel(); s != nil && errors.Is(err, s) {
		return true
	}
	// Fallback should the sentinel be unobtainable: the message os uses.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "path escapes from parent" {
			return true
		}
	}
	return false
}

// checkPath refuses, before any file system access, a path that is empty
// or visibly outside the workspace. Symbolic links are left to os.Root,
// which refuses those that lead outside when the path is used. The lexical
// check may refuse a path that links would bring back inside
// ("link/../.."); that is the safe side.
func checkPath(p string) *Result {
	if p == "" {
		r := errorf("invalid arguments: %q must not be empty", "path")
		return &r
	}
	if strings.ContainsRune(p, 0) {
		r := errorf("invalid path %q: it contains a NUL byte", p)
		return &r
	}
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || filepath.VolumeName(p) != "" {
		r := escapeResult(p)
		return &r
	}
	// Lexically above the workspace ("a/../.."). os.Root would refuse it
	// too, but only after looking up (or creating) the names before the
	// "..", which could report a missing file instead.
	if c := filepath.ToSlash(filepath.Clean(p)); c == ".." || strings.HasPrefix(c, "../") {
		r := escapeResult(p)
		return &r
	}
	return nil
}

// escapeResult is the answer to a path that leaves the workspace.
func escapeResult(p string) Result {
	return errorf("path escapes the workspace: %s", p)
}

// fsResult turns an error of a file operation on path p into a Result for
// the model. It never shows the workspace's absolute location.
func fsResult(p string, err error) Result {
	switch {
	case isEscape(err):
		return escapeResult(p)
	case errors.Is(err, fs.ErrNotExist):
		return errorf("no such file or directory: %s", p)
	case errors.Is(err, fs.ErrPermission):
		return errorf("permission denied: %s", p)
	case errors.Is(err, syscall.ENOTDIR):
		return errorf("not a directory: a component of %s is a file", p)
	case errors.Is(err, syscall.EISDIR):
		return errorf("is a directory: %s", p)
	case errors.Is(err, syscall.ELOOP):
		return errorf("too many levels of symbolic links: %s", p)
	}
	// The remaining errors name p as given (os.Root reports relative
	// paths), so the message is safe to show.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errorf("%s: %s", p, pe.Err)
	}
	return errorf("%s: %v", p, err)
}
