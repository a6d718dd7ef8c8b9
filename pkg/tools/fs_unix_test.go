//go:build unix

package tools

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestFIFO: a named pipe in the workspace must be refused, not opened
// (opening one blocks until a writer comes, which would hang the run).
func TestFIFO(t *testing.T) {
	fx := newFixture(t)
	if err := syscall.Mkfifo(filepath.Join(fx.dir, "p"), 0o644); err != nil {
		t.Fatal(err)
	}
	for tool, want := range map[string]Result{
		NameRead:  {Text: "not a regular file: p", IsError: true},
		NameEdit:  {Text: "not a regular file: p", IsError: true},
		NameWrite: {Text: "not a regular file: p", IsError: true},
		NameLs:    {Text: "not a directory: p (use read to see a file)", IsError: true},
	} {
		got := run(t, fx.ws, tool, argsFor(tool))
		if got != want {
			t.Errorf("%s p: %+v, want %+v", tool, got, want)
		}
	}
}

func argsFor(tool string) string {
	switch tool {
	case NameWrite:
		return `{"path":"p","content":"x"}`
	case NameEdit:
		return `{"path":"p","old_string":"a","new_string":"b"}`
	}
	return `{"path":"p"}`
}
