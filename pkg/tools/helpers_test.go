package tools

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixture is a workspace and, beside it, a directory outside it holding a
// secret that no tool may read or change.
type fixture struct {
	ws      Workspace
	dir     string // ws.Dir
	outside string
}

const secret = "top secret\n"

func newFixture(t *testing.T) fixture {
	t.Helper()
	base := t.TempDir()
	fx := fixture{dir: filepath.Join(base, "ws"), outside: filepath.Join(base, "outside")}
	fx.ws = Workspace{Dir: fx.dir}
	mkdir(t, fx.dir)
	mkdir(t, fx.outside)
	put(t, filepath.Join(fx.outside, "secret.txt"), secret)
	return fx
}

func mkdir(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func put(t testing.TB, path, content string) {
	t.Helper()
	mkdir(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, target, link string) {
	t.Helper()
	mkdir(t, filepath.Dir(link))
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run calls a built-in tool directly (no policy) and fails on a Go error.
func run(t testing.TB, ws Workspace, name, args string) Result {
	t.Helper()
	tool, ok := Lookup(name)
	if !ok {
		t.Fatalf("no tool %q", name)
	}
	r, err := tool.Run(context.Background(), ws, json.RawMessage(args))
	if err != nil {
		t.Fatalf("%s %s: unexpected Go error %v (result %+v)", name, args, err, r)
	}
	return r
}

// tree lists every path under dir (relative, sorted, dirs with /), and
// the content of the regular files, to see that nothing else changed.
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			m[rel] = "-> " + l
		case fi.IsDir():
			m[rel+"/"] = ""
		default:
			m[rel] = readFile(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// noTemps fails if a write left a temporary file anywhere in dir.
func noTemps(t testing.TB, dir string) {
	t.Helper()
	for _, p := range keys(tree(t, dir)) {
		if strings.Contains(p, ".openclaw-tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
	}
}
