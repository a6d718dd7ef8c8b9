package tools

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lines is n lines "line 1\n" ... "line n\n".
func lines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

// hundred is a line of exactly 100 bytes with its newline.
var hundred = strings.Repeat("x", 99) + "\n"

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  string
		want  Result
	}{
		{"whole file", map[string]string{"a.txt": "one\ntwo\n"}, `{"path":"a.txt"}`, Result{Text: "one\ntwo\n"}},
		{"no final newline", map[string]string{"a.txt": "one\ntwo"}, `{"path":"a.txt"}`, Result{Text: "one\ntwo"}},
		{"offset", map[string]string{"a.txt": lines(5)}, `{"path":"a.txt","offset":4}`, Result{Text: "line 4\nline 5\n"}},
		{"offset and limit", map[string]string{"a.txt": lines(5)}, `{"path":"a.txt","offset":2,"limit":2}`,
			Result{Text: "line 2\nline 3\n[showing lines 2-3; more lines follow: continue with offset=4]"}},
		{"limit reaching the end exactly", map[string]string{"a.txt": lines(3)}, `{"path":"a.txt","offset":2,"limit":2}`, Result{Text: "line 2\nline 3\n"}},
		{"limit past the end", map[string]string{"a.txt": lines(3)}, `{"path":"a.txt","limit":10}`, Result{Text: lines(3)}},
		{"last line only", map[string]string{"a.txt": lines(3)}, `{"path":"a.txt","offset":3}`, Result{Text: "line 3\n"}},
		{"nested path", map[string]string{"d/e/f.txt": "deep\n"}, `{"path":"d/e/f.txt"}`, Result{Text: "deep\n"}},
		{"dot segments inside", map[string]string{"d/f.txt": "x\n"}, `{"path":"./d/../d/f.txt"}`, Result{Text: "x\n"}},
		{"default limit 2000 lines", map[string]string{"a.txt": lines(2500)}, `{"path":"a.txt"}`,
			Result{Text: strings.TrimSuffix(lines(2000), "\n") + "\n[showing lines 1-2000; more lines follow: continue with offset=2001]"}},
		{"byte cap stops at a whole line", map[string]string{"a.txt": strings.Repeat(hundred, 700)}, `{"path":"a.txt","offset":3}`,
			Result{Text: strings.Repeat(hundred, 655) + "[showing lines 3-657; output capped at 65536 bytes: continue with offset=658]"}},
		{"one line over the cap", map[string]string{"a.txt": "short\n" + strings.Repeat("y", 70000) + "\nnext\n"}, `{"path":"a.txt","offset":2}`,
			Result{Text: strings.Repeat("y", 65536) + "\n[line 2 is longer than 65536 bytes and was cut; continue with offset=3]"}},
		{"cut keeps whole runes", map[string]string{"a.txt": "a" + strings.Repeat("€", 30000)}, `{"path":"a.txt"}`,
			Result{Text: "a" + strings.Repeat("€", 21845) + "\n[line 1 is longer than 65536 bytes and was cut; continue with offset=2]"}},
		{"empty file", map[string]string{"a.txt": ""}, `{"path":"a.txt"}`, Result{Text: "(empty file)"}},
		{"empty file offset 2", map[string]string{"a.txt": ""}, `{"path":"a.txt","offset":2}`,
			Result{Text: "offset 2 is past the end of a.txt (0 lines)", IsError: true}},
		{"offset past the end", map[string]string{"a.txt": lines(3)}, `{"path":"a.txt","offset":4}`,
			Result{Text: "offset 4 is past the end of a.txt (3 lines)", IsError: true}},
		{"missing file", nil, `{"path":"nope.txt"}`, Result{Text: "no such file or directory: nope.txt", IsError: true}},
		{"missing dir", nil, `{"path":"no/such.txt"}`, Result{Text: "no such file or directory: no/such.txt", IsError: true}},
		{"file as a directory", map[string]string{"f": "x"}, `{"path":"f/x.txt"}`, Result{Text: "not a directory: a component of f/x.txt is a file", IsError: true}},
		{"directory", map[string]string{"d/x": ""}, `{"path":"d"}`, Result{Text: "is a directory: d (use ls to list it)", IsError: true}},
		{"workspace itself", nil, `{"path":"."}`, Result{Text: "is a directory: . (use ls to list it)", IsError: true}},
		{"binary", map[string]string{"b.bin": "ab\x00cd"}, `{"path":"b.bin"}`,
			Result{Text: "binary file: b.bin (read shows text files only; use exec to inspect it)", IsError: true}},
		{"missing path", nil, `{}`, Result{Text: `invalid arguments: missing required argument "path"`, IsError: true}},
		{"null path", nil, `{"path":null}`, Result{Text: `invalid arguments: missing required argument "path"`, IsError: true}},
		{"empty path", nil, `{"path":""}`, Result{Text: `invalid arguments: "path" must not be empty`, IsError: true}},
		{"path not a string", nil, `{"path":["a"]}`, Result{Text: `invalid arguments: "path" must be a string, got an array`, IsError: true}},
		{"offset zero", nil, `{"path":"a","offset":0}`, Result{Text: `invalid arguments: "offset" must be 1 or more, got 0`, IsError: true}},
		{"offset negative", nil, `{"path":"a","offset":-3}`, Result{Text: `invalid arguments: "offset" must be 1 or more, got -3`, IsError: true}},
		{"offset fraction", nil, `{"path":"a","offset":1.5}`, Result{Text: `invalid arguments: "offset" must be a whole number, got 1.5`, IsError: true}},
		{"offset string", nil, `{"path":"a","offset":"2"}`, Result{Text: `invalid arguments: "offset" must be a number, got a string`, IsError: true}},
		{"limit zero", nil, `{"path":"a","limit":0}`, Result{Text: `invalid arguments: "limit" must be 1 or more, got 0`, IsError: true}},
		{"limit bool", nil, `{"path":"a","limit":true}`, Result{Text: `invalid arguments: "limit" must be a number, got a boolean`, IsError: true}},
		{"unknown argument", nil, `{"path":"a","lines":3}`, Result{Text: `invalid arguments: unknown argument "lines"; the arguments are path, offset, limit`, IsError: true}},
		{"not JSON", nil, `{"path":`, Result{Text: `invalid arguments: not valid JSON (unexpected end of JSON input); send a JSON object such as {"path": ..., "offset": ..., "limit": ...}`, IsError: true}},
		{"array", nil, `["a.txt"]`, Result{Text: `invalid arguments: expected a JSON object, got an array`, IsError: true}},
		{"bare string", nil, `"a.txt"`, Result{Text: `invalid arguments: expected a JSON object, got a string`, IsError: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			for p, c := range tt.files {
				put(t, filepath.Join(fx.dir, p), c)
			}
			got := run(t, fx.ws, NameRead, tt.args)
			if got != tt.want {
				t.Errorf("read %s\n got %+.300v\nwant %+.300v", tt.args, got, tt.want)
			}
		})
	}
}

func TestReadCreatesWorkspace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "ws")
	got := run(t, Workspace{Dir: dir}, NameRead, `{"path":"a.txt"}`)
	if want := (Result{Text: "no such file or directory: a.txt", IsError: true}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("workspace mode %v, want a 0700 directory", fi.Mode())
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  string
		want  Result
		files map[string]string // expected content of paths in the workspace afterwards
		mode  map[string]os.FileMode
	}{
		{"new file", nil, `{"path":"a.txt","content":"hello\n"}`, Result{Text: "wrote 6 bytes to a.txt"},
			map[string]string{"a.txt": "hello\n"}, map[string]os.FileMode{"a.txt": 0o644}},
		{"creates parents", nil, `{"path":"x/y/z.txt","content":"deep"}`, Result{Text: "wrote 4 bytes to x/y/z.txt"},
			map[string]string{"x/y/z.txt": "deep"}, nil},
		{"empty content", nil, `{"path":"e.txt","content":""}`, Result{Text: "wrote 0 bytes to e.txt"},
			map[string]string{"e.txt": ""}, nil},
		{"replaces and keeps the mode", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, "a.sh"), "old")
			os.Chmod(filepath.Join(dir, "a.sh"), 0o750)
		}, `{"path":"a.sh","content":"new"}`, Result{Text: "wrote 3 bytes to a.sh"},
			map[string]string{"a.sh": "new"}, map[string]os.FileMode{"a.sh": 0o750}},
		{"unicode content counts bytes", nil, `{"path":"u.txt","content":"€"}`, Result{Text: "wrote 3 bytes to u.txt"},
			map[string]string{"u.txt": "€"}, nil},
		{"through a link inside", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, "real/t.txt"), "old")
			symlink(t, "real/t.txt", filepath.Join(dir, "link"))
		}, `{"path":"link","content":"new"}`, Result{Text: "wrote 3 bytes to link"},
			map[string]string{"real/t.txt": "new", "link": "new"}, nil},
		{"through a link in a subdirectory", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, "sub/real.txt"), "old")
			symlink(t, "real.txt", filepath.Join(dir, "sub/link"))
		}, `{"path":"sub/link","content":"new"}`, Result{Text: "wrote 3 bytes to sub/link"},
			map[string]string{"sub/real.txt": "new"}, nil},
		{"through a dangling link inside", func(t *testing.T, dir string) {
			symlink(t, "made.txt", filepath.Join(dir, "link"))
		}, `{"path":"link","content":"new"}`, Result{Text: "wrote 3 bytes to link"},
			map[string]string{"made.txt": "new"}, nil},
		{"through a directory link inside", func(t *testing.T, dir string) {
			mkdir(t, filepath.Join(dir, "real"))
			symlink(t, "real", filepath.Join(dir, "d"))
		}, `{"path":"d/n.txt","content":"x"}`, Result{Text: "wrote 1 bytes to d/n.txt"},
			map[string]string{"real/n.txt": "x"}, nil},
		{"a directory", func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "d")) },
			`{"path":"d","content":"x"}`, Result{Text: "is a directory: d", IsError: true}, nil, nil},
		{"trailing slash", nil, `{"path":"d/","content":"x"}`, Result{Text: "path must name a file, not a directory: d/", IsError: true}, nil, nil},
		{"the workspace", nil, `{"path":".","content":"x"}`, Result{Text: "path must name a file, not a directory: .", IsError: true}, nil, nil},
		{"parent is a file", func(t *testing.T, dir string) { put(t, filepath.Join(dir, "f"), "x") },
			`{"path":"f/g.txt","content":"x"}`, Result{Text: "not a directory: a component of f/g.txt is a file", IsError: true},
			map[string]string{"f": "x"}, nil},
		{"link loop", func(t *testing.T, dir string) {
			symlink(t, "b", filepath.Join(dir, "a"))
			symlink(t, "a", filepath.Join(dir, "b"))
		}, `{"path":"a","content":"x"}`, Result{Text: "too many levels of symbolic links: a", IsError: true}, nil, nil},
		{"missing content", nil, `{"path":"a.txt"}`, Result{Text: `invalid arguments: missing required argument "content"`, IsError: true}, nil, nil},
		{"content not a string", nil, `{"path":"a.txt","content":42}`, Result{Text: `invalid arguments: "content" must be a string, got a number`, IsError: true}, nil, nil},
		{"content object", nil, `{"path":"a.txt","content":{"x":1}}`, Result{Text: `invalid arguments: "content" must be a string, got an object`, IsError: true}, nil, nil},
		{"missing path", nil, `{"content":"x"}`, Result{Text: `invalid arguments: missing required argument "path"`, IsError: true}, nil, nil},
		{"unknown arguments", nil, `{"path":"a","content":"x","mode":1,"append":true}`,
			Result{Text: `invalid arguments: unknown argument "append", "mode"; the arguments are path, content`, IsError: true}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			if tt.setup != nil {
				tt.setup(t, fx.dir)
			}
			got := run(t, fx.ws, NameWrite, tt.args)
			if got != tt.want {
				t.Errorf("write %s\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
			for p, want := range tt.files {
				if c := readFile(t, filepath.Join(fx.dir, p)); c != want {
					t.Errorf("%s = %q, want %q", p, c, want)
				}
			}
			for p, want := range tt.mode {
				fi, err := os.Stat(filepath.Join(fx.dir, p))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != want {
					t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
				}
			}
			if strings.HasPrefix(tt.name, "through a link") {
				if fi, err := os.Lstat(filepath.Join(fx.dir, "link")); err == nil && fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the link was replaced by a file")
				}
			}
			noTemps(t, fx.dir)
		})
	}
}

func TestEdit(t *testing.T) {
	const orig = "alpha\nbeta\ngamma beta\n"
	tests := []struct {
		name  string
		args  string
		want  Result
		after string // a.txt afterwards
	}{
		{"replace once", `{"path":"a.txt","old_string":"alpha","new_string":"ALPHA"}`,
			Result{Text: "edited a.txt: replaced 1 occurrence"}, "ALPHA\nbeta\ngamma beta\n"},
		{"multi-line", `{"path":"a.txt","old_string":"beta\ngamma","new_string":"b\ng"}`,
			Result{Text: "edited a.txt: replaced 1 occurrence"}, "alpha\nb\ng beta\n"},
		{"delete", `{"path":"a.txt","old_string":"alpha\n","new_string":""}`,
			Result{Text: "edited a.txt: replaced 1 occurrence"}, "beta\ngamma beta\n"},
		{"not found", `{"path":"a.txt","old_string":"delta","new_string":"x"}`,
			Result{Text: "old_string occurs 0 times in a.txt; it must occur exactly once: read the file and copy the text exactly, including whitespace", IsError: true}, orig},
		{"whitespace differs", `{"path":"a.txt","old_string":"alpha \n","new_string":"x"}`,
			Result{Text: "old_string occurs 0 times in a.txt; it must occur exactly once: read the file and copy the text exactly, including whitespace", IsError: true}, orig},
		{"twice", `{"path":"a.txt","old_string":"beta","new_string":"x"}`,
			Result{Text: "old_string occurs 2 times in a.txt; it must occur exactly once: include more surrounding text to make it unique", IsError: true}, orig},
		{"many", `{"path":"a.txt","old_string":"a","new_string":"x"}`,
			Result{Text: "old_string occurs 6 times in a.txt; it must occur exactly once: include more surrounding text to make it unique", IsError: true}, orig},
		{"empty old", `{"path":"a.txt","old_string":"","new_string":"x"}`,
			Result{Text: `invalid arguments: "old_string" must not be empty; to create or replace a whole file use write`, IsError: true}, orig},
		{"same strings", `{"path":"a.txt","old_string":"beta","new_string":"beta"}`,
			Result{Text: `invalid arguments: "old_string" and "new_string" are the same; nothing to change`, IsError: true}, orig},
		{"missing new", `{"path":"a.txt","old_string":"alpha"}`,
			Result{Text: `invalid arguments: missing required argument "new_string"`, IsError: true}, orig},
		{"missing old", `{"path":"a.txt","new_string":"alpha"}`,
			Result{Text: `invalid arguments: missing required argument "old_string"`, IsError: true}, orig},
		{"old not a string", `{"path":"a.txt","old_string":1,"new_string":"x"}`,
			Result{Text: `invalid arguments: "old_string" must be a string, got a number`, IsError: true}, orig},
		{"camelCase names", `{"path":"a.txt","oldString":"alpha","newString":"x"}`,
			Result{Text: `invalid arguments: unknown argument "newString", "oldString"; the arguments are path, old_string, new_string`, IsError: true}, orig},
		{"missing file", `{"path":"b.txt","old_string":"a","new_string":"b"}`,
			Result{Text: "no such file or directory: b.txt", IsError: true}, orig},
		{"directory", `{"path":"d","old_string":"a","new_string":"b"}`,
			Result{Text: "is a directory: d", IsError: true}, orig},
		{"through a link inside", `{"path":"link","old_string":"alpha","new_string":"A"}`,
			Result{Text: "edited link: replaced 1 occurrence"}, "A\nbeta\ngamma beta\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			put(t, filepath.Join(fx.dir, "a.txt"), orig)
			os.Chmod(filepath.Join(fx.dir, "a.txt"), 0o640)
			mkdir(t, filepath.Join(fx.dir, "d"))
			symlink(t, "a.txt", filepath.Join(fx.dir, "link"))
			got := run(t, fx.ws, NameEdit, tt.args)
			if got != tt.want {
				t.Errorf("edit %s\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
			if c := readFile(t, filepath.Join(fx.dir, "a.txt")); c != tt.after {
				t.Errorf("a.txt = %q, want %q", c, tt.after)
			}
			fi, err := os.Lstat(filepath.Join(fx.dir, "a.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("a.txt mode %v, want 0640 kept", fi.Mode().Perm())
			}
			if fi, err := os.Lstat(filepath.Join(fx.dir, "link")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("link is no longer a symbolic link (%v)", err)
			}
			noTemps(t, fx.dir)
		})
	}
}

func TestLs(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, fx fixture)
		args  string
		want  Result
	}{
		{"workspace sorted, dirs marked", func(t *testing.T, fx fixture) {
			put(t, filepath.Join(fx.dir, "b.txt"), "")
			put(t, filepath.Join(fx.dir, "a.txt"), "")
			put(t, filepath.Join(fx.dir, ".hidden"), "")
			mkdir(t, filepath.Join(fx.dir, "c"))
			mkdir(t, filepath.Join(fx.dir, "A"))
		}, `{}`, Result{Text: ".hidden\nA/\na.txt\nb.txt\nc/"}},
		{"null args", func(t *testing.T, fx fixture) { put(t, filepath.Join(fx.dir, "a"), "") }, `null`, Result{Text: "a"}},
		{"empty args", func(t *testing.T, fx fixture) { put(t, filepath.Join(fx.dir, "a"), "") }, ``, Result{Text: "a"}},
		{"empty path", func(t *testing.T, fx fixture) { put(t, filepath.Join(fx.dir, "a"), "") }, `{"path":""}`, Result{Text: "a"}},
		{"dot", func(t *testing.T, fx fixture) { put(t, filepath.Join(fx.dir, "a"), "") }, `{"path":"."}`, Result{Text: "a"}},
		{"subdirectory", func(t *testing.T, fx fixture) {
			put(t, filepath.Join(fx.dir, "s/z"), "")
			mkdir(t, filepath.Join(fx.dir, "s/y"))
		}, `{"path":"s"}`, Result{Text: "y/\nz"}},
		{"links", func(t *testing.T, fx fixture) {
			mkdir(t, filepath.Join(fx.dir, "real"))
			put(t, filepath.Join(fx.dir, "f"), "")
			symlink(t, "real", filepath.Join(fx.dir, "dirlink"))
			symlink(t, "f", filepath.Join(fx.dir, "filelink"))
			symlink(t, fx.outside, filepath.Join(fx.dir, "outlink"))
			symlink(t, "nowhere", filepath.Join(fx.dir, "dangling"))
		}, `{}`, Result{Text: "dangling\ndirlink/\nf\nfilelink\noutlink\nreal/"}},
		{"through a link inside", func(t *testing.T, fx fixture) {
			put(t, filepath.Join(fx.dir, "real/x"), "")
			symlink(t, "real", filepath.Join(fx.dir, "dirlink"))
		}, `{"path":"dirlink"}`, Result{Text: "x"}},
		{"empty workspace", nil, `{}`, Result{Text: "(empty directory)"}},
		{"many entries", func(t *testing.T, fx fixture) {
			for i := range 1003 {
				put(t, filepath.Join(fx.dir, fmt.Sprintf("f%04d", i)), "")
			}
		}, `{}`, Result{Text: func() string {
			var s []string
			for i := range 1000 {
				s = append(s, fmt.Sprintf("f%04d", i))
			}
			return strings.Join(s, "\n") + "\n[3 more entries not shown]"
		}()}},
		{"missing", nil, `{"path":"nope"}`, Result{Text: "no such file or directory: nope", IsError: true}},
		{"a file", func(t *testing.T, fx fixture) { put(t, filepath.Join(fx.dir, "f"), "") },
			`{"path":"f"}`, Result{Text: "not a directory: f (use read to see a file)", IsError: true}},
		{"path not a string", nil, `{"path":7}`, Result{Text: `invalid arguments: "path" must be a string, got a number`, IsError: true}},
		{"unknown argument", nil, `{"dir":"."}`, Result{Text: `invalid arguments: unknown argument "dir"; the arguments are path`, IsError: true}},
		{"not JSON", nil, `{path}`, Result{Text: `invalid arguments: not valid JSON (invalid character 'p' looking for beginning of object key string); send a JSON object such as {"path": ...}`, IsError: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			if tt.setup != nil {
				tt.setup(t, fx)
			}
			got := run(t, fx.ws, NameLs, tt.args)
			if got != tt.want {
				t.Errorf("ls %s\n got %+.300v\nwant %+.300v", tt.args, got, tt.want)
			}
		})
	}
}
