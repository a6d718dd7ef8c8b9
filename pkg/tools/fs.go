package tools

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Limits of the file tools.
const (
	readDefaultLimit = 2000     // lines read when no limit is given
	readMaxBytes     = 64 << 10 // bytes of file text in one read result
	binarySniffBytes = 8 << 10  // a NUL in this prefix means a binary file
	lsMaxEntries     = 1000     // entries in one ls result
	maxSymlinkHops   = 40       // final-element links followed by write
)

// --- read

type readTool struct{}

type readArgs struct {
	Path          string
	Offset, Limit int // 1-based first line; number of lines
}

func (readTool) Def() provider.ToolDef {
	return def(NameRead,
		"Read a text file in the workspace. Returns the file's lines from offset (1-based, default 1), at most limit lines (default 2000) and 64 KiB; a note at the end says where to continue when more remains.",
		`{"type":"object","properties":{"path":{"type":"string","description":"File path relative to the workspace."},"offset":{"type":"integer","minimum":1,"description":"Line number to start at (1-based)."},"limit":{"type":"integer","minimum":1,"description":"Maximum number of lines to return."}},"required":["path"],"additionalProperties":false}`)
}

func decodeRead(raw json.RawMessage) (readArgs, error) {
	a, err := parseArgs(raw, "path", "offset", "limit")
	if err != nil {
		return readArgs{}, err
	}
	var r readArgs
	if r.Path, err = a.requiredStr("path"); err != nil {
		return readArgs{}, err
	}
	var ok bool
	if r.Offset, ok, err = a.posInt("offset"); err != nil {
		return readArgs{}, err
	} else if !ok {
		r.Offset = 1
	}
	if r.Limit, ok, err = a.posInt("limit"); err != nil {
		return readArgs{}, err
	} else if !ok {
		r.Limit = readDefaultLimit
	}
	return r, nil
}

func (readTool) Run(ctx context.Context, ws Workspace, raw json.RawMessage) (Result, error) {
	a, err := decodeRead(raw)
	if err != nil {
		return errorf("%v", err), nil
	}
	if r := checkPath(a.Path); r != nil {
		return *r, nil
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	root, err := ws.open()
	if err != nil {
		return Result{}, err
	}
	defer root.Close()
	// Stat before opening: opening a FIFO would block until a writer came.
	if fi, err := root.Stat(a.Path); err != nil {
		return fsResult(a.Path, err), nil
	} else if fi.IsDir() {
		return errorf("is a directory: %s (use ls to list it)", a.Path), nil
	} else if !fi.Mode().IsRegular() {
		return errorf("not a regular file: %s", a.Path), nil
	}
	f, err := root.Open(a.Path)
	if err != nil {
		return fsResult(a.Path, err), nil
	}
	defer f.Close()
	return readLines(ctx, f, a)
}

// readLines reads the lines [a.Offset, a.Offset+a.Limit) of f, stopping at
// readMaxBytes, without holding more than that in memory however long the
// file or its lines are.
func readLines(ctx context.Context, f io.Reader, a readArgs) (Result, error) {
	br := bufio.NewReaderSize(f, 32<<10)
	if head, _ := br.Peek(binarySniffBytes); bytes.IndexByte(head, 0) >= 0 {
		return errorf("binary file: %s (read shows text files only; use exec to inspect it)", a.Path), nil
	}
	var out bytes.Buffer
	line := 0 // lines consumed so far
	shown := 0
	for {
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		if line >= a.Offset-1 && shown == a.Limit {
			if _, err := br.Peek(1); err == nil {
				return Result{Text: fmt.Sprintf("%s\n[showing lines %d-%d; more lines follow: continue with offset=%d]", strings.TrimSuffix(out.String(), "\n"), a.Offset, line, line+1)}, nil
			}
			break
		}
		keep := line >= a.Offset-1
		budget, start := 0, out.Len()
		if keep {
			budget = readMaxBytes - start
		}
		n, complete, err := copyLine(&out, br, budget)
		if n == 0 && err != nil {
			if !errors.Is(err, io.EOF) {
				return errorf("read %s: %v", a.Path, err), nil
			}
			break
		}
		line++
		if keep {
			shown++
			if !complete && shown == 1 {
				text := trimPartialRune(out.Bytes())
				return Result{Text: fmt.Sprintf("%s\n[line %d is longer than %d bytes and was cut; continue with offset=%d]", text, line, readMaxBytes, line+1)}, nil
			}
			if !complete {
				// Show whole lines only: the cut line is where to go on.
				out.Truncate(start)
				return Result{Text: fmt.Sprintf("%s\n[showing lines %d-%d; output capped at %d bytes: continue with offset=%d]", strings.TrimSuffix(out.String(), "\n"), a.Offset, line-1, readMaxBytes, line)}, nil
			}
		}
		if err != nil { // the last line had no newline
			break
		}
	}
	if line < a.Offset {
		if line == 0 && a.Offset == 1 {
			return Result{Text: "(empty file)"}, nil
		}
		return errorf("offset %d is past the end of %s (%d lines)", a.Offset, a.Path, line), nil
	}
	return Result{Text: out.String()}, nil
}

// copyLine copies one line of br (with its newline) to out, keeping at
// most budget bytes and discarding the rest of the line. n counts the
// bytes consumed; complete is false when the line did not fit.
func copyLine(out *bytes.Buffer, br *bufio.Reader, budget int) (n int, complete bool, err error) {
	complete = true
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if len(chunk) > budget {
			if budget > 0 {
				out.Write(chunk[:budget])
			}
			budget = 0
			if len(chunk) > 0 {
				complete = false
			}
		} else {
			out.Write(chunk)
			budget -= len(chunk)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return n, complete, err
	}
}

// trimPartialRune drops an incomplete UTF-8 sequence a byte cap left at
// the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// --- write

type writeTool struct{}

type writeArgs struct{ Path, Content string }

func (writeTool) Def() provider.ToolDef {
	return def(NameWrite,
		"Write a file in the workspace, replacing it if it exists. Parent directories are created. The file is replaced atomically.",
		`{"type":"object","properties":{"path":{"type":"string","description":"File path relative to the workspace."},"content":{"type":"string","description":"The complete new content of the file."}},"required":["path","content"],"additionalProperties":false}`)
}

func decodeWrite(raw json.RawMessage) (writeArgs, error) {
	a, err := parseArgs(raw, "path", "content")
	if err != nil {
		return writeArgs{}, err
	}
	var w writeArgs
	if w.Path, err = a.requiredStr("path"); err != nil {
		return writeArgs{}, err
	}
	if w.Content, err = a.requiredStr("content"); err != nil {
		return writeArgs{}, err
	}
	return w, nil
}

func (writeTool) Run(ctx context.Context, ws Workspace, raw json.RawMessage) (Result, error) {
	a, err := decodeWrite(raw)
	if err != nil {
		return errorf("%v", err), nil
	}
	if r := checkPath(a.Path); r != nil {
		return *r, nil
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	root, err := ws.open()
	if err != nil {
		return Result{}, err
	}
	defer root.Close()
	if r := writeFile(root, a.Path, []byte(a.Content), true); r.IsError {
		return r, nil
	}
	return Result{Text: fmt.Sprintf("wrote %d bytes to %s", len(a.Content), a.Path)}, nil
}

// writeFile replaces the file p in root with data: a temporary file in the
// same directory, synced, renamed over p. A symbolic link at p is followed
// (when it stays inside root) so the link's target is replaced, not the
// link. mkdir creates missing parent directories.
func writeFile(root *os.Root, p string, data []byte, mkdir bool) Result {
	if strings.HasSuffix(p, "/") || isDot(p) {
		return errorf("path must name a file, not a directory: %s", p)
	}
	target, r := finalTarget(root, p)
	if r != nil {
		return *r
	}
	dir, _ := splitLast(target)
	if mkdir && dir != "" {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fsResult(p, err)
		}
	}
	mode := fs.FileMode(0o644)
	if fi, err := root.Stat(target); err == nil {
		if fi.IsDir() {
			return errorf("is a directory: %s", p)
		}
		if !fi.Mode().IsRegular() {
			return errorf("not a regular file: %s", p)
		}
		mode = fi.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fsResult(p, err)
	}
	tmp, f, err := createTemp(root, dir)
	if err != nil {
		return fsResult(p, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, target)
	}
	if err != nil {
		root.Remove(tmp)
		return fsResult(p, err)
	}
	return Result{}
}

// finalTarget follows symbolic links in the last element of name, so that a
// write replaces what a link points to. Each hop is checked by os.Root:
// a link out of the workspace (absolute, or .. above it) is refused.
func finalTarget(root *os.Root, name string) (string, *Result) {
	fail := func(err error) (string, *Result) {
		r := fsResult(name, err)
		return "", &r
	}
	p := name
	for range maxSymlinkHops {
		fi, err := root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return fail(err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		// Refuse a link that resolves outside, even a dangling one.
		if _, err := root.Stat(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail(err)
		}
		link, err := root.Readlink(p)
		if err != nil {
			return fail(err)
		}
		// Join without cleaning: os.Root resolves ".." after the links
		// before it, which lexical cleaning would not.
		if dir, _ := splitLast(p); dir != "" && !filepath.IsAbs(link) {
			link = dir + "/" + link
		}
		if checkPath(link) != nil {
			r := escapeResult(name)
			return "", &r
		}
		p = link
	}
	r := errorf("too many levels of symbolic links: %s", name)
	return "", &r
}

// createTemp creates a new hidden file in dir of root.
func createTemp(root *os.Root, dir string) (string, *os.File, error) {
	for {
		var b [8]byte
		rand.Read(b[:])
		name := ".openclaw-tmp-" + hex.EncodeToString(b[:])
		if dir != "" {
			name = dir + "/" + name
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
}

// splitLast splits p at its last slash, without cleaning it.
func splitLast(p string) (dir, name string) {
	i := strings.LastIndexAny(p, `/\`)
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// isDot reports whether p names the workspace itself or a parent (".",
// "a/..").
func isDot(p string) bool {
	_, last := splitLast(p)
	return last == "." || last == ".."
}

// --- edit

type editTool struct{}

type editArgs struct{ Path, Old, New string }

func (editTool) Def() provider.ToolDef {
	return def(NameEdit,
		"Edit a file in the workspace by replacing an exact string. old_string must occur exactly once in the file (include surrounding lines to make it unique); it is replaced by new_string.",
		`{"type":"object","properties":{"path":{"type":"string","description":"File path relative to the workspace."},"old_string":{"type":"string","description":"The exact text to replace; must occur exactly once."},"new_string":{"type":"string","description":"The replacement text."}},"required":["path","old_string","new_string"],"additionalProperties":false}`)
}

func decodeEdit(raw json.RawMessage) (editArgs, error) {
	a, err := parseArgs(raw, "path", "old_string", "new_string")
	if err != nil {
		return editArgs{}, err
	}
	var e editArgs
	if e.Path, err = a.requiredStr("path"); err != nil {
		return editArgs{}, err
	}
	if e.Old, err = a.requiredStr("old_string"); err != nil {
		return editArgs{}, err
	}
	if e.New, err = a.requiredStr("new_string"); err != nil {
		return editArgs{}, err
	}
	if e.Old == "" {
		return editArgs{}, argErrorf("%q must not be empty; to create or replace a whole file use write", "old_string")
	}
	if e.Old == e.New {
		return editArgs{}, argErrorf("%q and %q are the same; nothing to change", "old_string", "new_string")
	}
	return e, nil
}

func (editTool) Run(ctx context.Context, ws Workspace, raw json.RawMessage) (Result, error) {
	a, err := decodeEdit(raw)
	if err != nil {
		return errorf("%v", err), nil
	}
	if r := checkPath(a.Path); r != nil {
		return *r, nil
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	root, err := ws.open()
	if err != nil {
		return Result{}, err
	}
	defer root.Close()
	fi, err := root.Stat(a.Path)
	if err != nil {
		return fsResult(a.Path, err), nil
	}
	if fi.IsDir() {
		return errorf("is a directory: %s", a.Path), nil
	}
	if !fi.Mode().IsRegular() {
		return errorf("not a regular file: %s", a.Path), nil
	}
	data, err := root.ReadFile(a.Path)
	if err != nil {
		return fsResult(a.Path, err), nil
	}
	text := string(data)
	switch n := strings.Count(text, a.Old); n {
	case 1:
	case 0:
		return errorf("old_string occurs 0 times in %s; it must occur exactly once: read the file and copy the text exactly, including whitespace", a.Path), nil
	default:
		return errorf("old_string occurs %d times in %s; it must occur exactly once: include more surrounding text to make it unique", n, a.Path), nil
	}
	text = strings.Replace(text, a.Old, a.New, 1)
	if r := writeFile(root, a.Path, []byte(text), false); r.IsError {
		return r, nil
	}
	return Result{Text: fmt.Sprintf("edited %s: replaced 1 occurrence", a.Path)}, nil
}

// --- ls

type lsTool struct{}

func (lsTool) Def() provider.ToolDef {
	return def(NameLs,
		"List a directory in the workspace (default: the workspace itself). Entries are sorted; directories end with /.",
		`{"type":"object","properties":{"path":{"type":"string","description":"Directory path relative to the workspace; default \".\"."}},"additionalProperties":false}`)
}

func decodeLs(raw json.RawMessage) (string, error) {
	a, err := parseArgs(raw, "path")
	if err != nil {
		return "", err
	}
	p, ok, err := a.str("path")
	if err != nil {
		return "", err
	}
	if !ok || p == "" {
		p = "."
	}
	return p, nil
}

func (lsTool) Run(ctx context.Context, ws Workspace, raw json.RawMessage) (Result, error) {
	p, err := decodeLs(raw)
	if err != nil {
		return errorf("%v", err), nil
	}
	if r := checkPath(p); r != nil {
		return *r, nil
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	root, err := ws.open()
	if err != nil {
		return Result{}, err
	}
	defer root.Close()
	if fi, err := root.Stat(p); err != nil {
		return fsResult(p, err), nil
	} else if !fi.IsDir() {
		return errorf("not a directory: %s (use read to see a file)", p), nil
	}
	f, err := root.Open(p)
	if err != nil {
		return fsResult(p, err), nil
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return fsResult(p, err), nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && linksToDir(root, p, name)) {
			name += "/"
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return Result{Text: "(empty directory)"}, nil
	}
	more := ""
	if len(names) > lsMaxEntries {
		more = fmt.Sprintf("\n[%d more entries not shown]", len(names)-lsMaxEntries)
		names = names[:lsMaxEntries]
	}
	return Result{Text: strings.Join(names, "\n") + more}, nil
}

// linksToDir reports whether the link name in dir resolves, inside root,
// to a directory. A link out of the workspace is listed as a plain name.
func linksToDir(root *os.Root, dir, name string) bool {
	fi, err := root.Stat(dir + "/" + name)
	return err == nil && fi.IsDir()
}
