package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/cli"
)

// regenerateDocs is the one command that brings man/ and completions/ up to
// date; failures of the tests below print it.
const regenerateDocs = "go run ./cmd/openclaw gen-docs --man-dir man --completions-dir completions"

// genDocs runs `openclaw gen-docs` in process, the same path as the
// regenerate command, into dir/man and dir/completions.
func genDocs(t *testing.T, dir string) {
	t.Helper()
	var out, errb bytes.Buffer
	io := cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb}
	args := []string{"gen-docs", "--man-dir", filepath.Join(dir, "man"), "--completions-dir", filepath.Join(dir, "completions")}
	if code := cli.Main(context.Background(), args, io, cli.BuildInfo{}); code != 0 {
		t.Fatalf("gen-docs exited %d: %s", code, errb.String())
	}
	if out.Len() != 0 || errb.Len() != 0 {
		t.Fatalf("gen-docs printed something: stdout %q, stderr %q", out.String(), errb.String())
	}
}

// readTree returns every regular file under dir by slash path relative to dir.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("read %s: %v", dir, err)
	}
	return files
}

// diffTrees lists, sorted, how the committed files differ from the wanted
// ones: missing, extra and changed files.
func diffTrees(committed, want map[string][]byte) []string {
	var diffs []string
	for name, w := range want {
		c, ok := committed[name]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+name)
		case !bytes.Equal(c, w):
			diffs = append(diffs, fmt.Sprintf("changed %s (line %d differs)", name, firstDiffLine(c, w)))
		}
	}
	for name := range committed {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, "extra "+name)
		}
	}
	sort.Strings(diffs)
	return diffs
}

func firstDiffLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// TestDocsUpToDate fails when the committed man pages or completion scripts
// differ from what gen-docs produces from the current command tree.
func TestDocsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	genDocs(t, tmp)
	repo := filepath.Join("..", "..")
	for _, sub := range []string{"man", "completions"} {
		want := readTree(t, filepath.Join(tmp, sub))
		if len(want) == 0 {
			t.Fatalf("gen-docs wrote nothing into %s", sub)
		}
		committed := readTree(t, filepath.Join(repo, sub))
		if diffs := diffTrees(committed, want); len(diffs) > 0 {
			t.Errorf("%s/ is stale:\n  %s\nregenerate it from the repository root with:\n  %s",
				sub, strings.Join(diffs, "\n  "), regenerateDocs)
		}
	}
}

// TestDocsDeterministic generates twice and wants identical bytes, so the
// staleness check above never fails for a reason other than a real change.
func TestDocsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	genDocs(t, a)
	genDocs(t, b)
	ta, tb := readTree(t, a), readTree(t, b)
	if len(ta) == 0 {
		t.Fatal("gen-docs wrote nothing")
	}
	if diffs := diffTrees(ta, tb); len(diffs) > 0 {
		t.Errorf("two gen-docs runs differ:\n  %s", strings.Join(diffs, "\n  "))
	}
	for name, body := range ta {
		if bytes.Contains(body, []byte("Auto generated")) {
			t.Errorf("%s contains an auto-gen tag: it must be disabled", name)
		}
		if strings.HasPrefix(name, "man/") && !bytes.Contains(body, []byte(`"Jan 2026" "openclaw" "openclaw manual"`)) {
			t.Errorf("%s lacks the fixed header date and source", name)
		}
	}
}

func TestDiffTrees(t *testing.T) {
	f := func(kv ...string) map[string][]byte {
		m := map[string][]byte{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = []byte(kv[i+1])
		}
		return m
	}
	tests := []struct {
		name            string
		committed, want map[string][]byte
		diffs           []string
	}{
		{"same", f("a.1", "x\ny"), f("a.1", "x\ny"), nil},
		{"changed", f("a.1", "x\ny"), f("a.1", "x\nz"), []string{"changed a.1 (line 2 differs)"}},
		{"appended", f("a.1", "x"), f("a.1", "x\ny"), []string{"changed a.1 (line 2 differs)"}},
		{"missing", f(), f("a.1", "x"), []string{"missing a.1"}},
		{"extra", f("a.1", "x", "b.1", "y"), f("a.1", "x"), []string{"extra b.1"}},
		{"several sorted", f("z.1", "x"), f("a.1", "x"), []string{"extra z.1", "missing a.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffTrees(tt.committed, tt.want)
			if strings.Join(got, "|") != strings.Join(tt.diffs, "|") {
				t.Errorf("diffTrees = %q, want %q", got, tt.diffs)
			}
		})
	}
}
