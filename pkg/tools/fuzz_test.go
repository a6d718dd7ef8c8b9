package tools

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openclaw/openclaw-go/pkg/config"
)

// FuzzToolArgs feeds any bytes to every tool's argument decoder, and to
// the file tools themselves inside a workspace with a secret beside it:
// nothing may panic, every refusal must be a readable "invalid arguments"
// message, and nothing outside the workspace may change. exec only has its
// arguments decoded, never run.
func FuzzToolArgs(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `1`, `true`, `{`, `}`, `{"path":`, `{"path":"a"}{"path":"b"}`,
		`{"path":"a.txt"}`, `{"path":"a.txt","offset":2,"limit":1}`, `{"path":"a.txt","offset":0}`,
		`{"path":"a.txt","offset":-1}`, `{"path":"a.txt","offset":1.5}`, `{"path":"a.txt","offset":1e309}`,
		`{"path":"a.txt","limit":"3"}`, `{"path":null}`, `{"path":["a"]}`, `{"path":{"a":1}}`,
		`{"path":"../outside/secret.txt"}`, `{"path":"/etc/passwd"}`, `{"path":"out/secret.txt"}`,
		`{"path":"a/../../outside/secret.txt","content":"x"}`, `{"path":"out","content":"x"}`,
		`{"path":"new/dir/f.txt","content":"hello"}`, `{"path":"a.txt","content":""}`,
		`{"path":"a.txt","old_string":"hello","new_string":"bye"}`, `{"path":"a.txt","old_string":"","new_string":"x"}`,
		`{"path":"out/secret.txt","old_string":"top","new_string":"x"}`,
		`{"command":"echo hi"}`, `{"command":"true","timeoutSeconds":0.5}`, `{"command":"true","timeoutSeconds":-1}`,
		`{"command":""}`, `{"command":"\u0000"}`, `{"command":1}`, `{"path":"\ud800"}`, "{\"path\":\"\xff\"}",
		`{"path":"a","path":"b"}`, `{"path":"a","extra":1}`, `  {"path" : "a.txt" }  `, `{"path":"."}`, `{"path":"a/"}`,
	} {
		f.Add([]byte(s))
	}
	base := f.TempDir()
	ws := Workspace{Dir: filepath.Join(base, "ws")}
	outside := filepath.Join(base, "outside")
	put(f, filepath.Join(outside, "secret.txt"), secret)
	put(f, filepath.Join(ws.Dir, "a.txt"), "hello\nworld\n")
	symlink(f, "../outside", filepath.Join(ws.Dir, "out"))
	minimal := Resolve(&config.Config{Tools: config.Tools{Profile: "minimal"}}, config.AgentEntry{})

	f.Fuzz(func(t *testing.T, data []byte) {
		for name, decode := range decoders {
			err := decode(data)
			if err == nil {
				continue
			}
			var ae *argError
			if !errors.As(err, &ae) {
				t.Errorf("%s: %T is not an argument error: %v", name, err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "invalid arguments: ") || !utf8.ValidString(msg) {
				t.Errorf("%s: bad message %q", name, msg)
			}
		}
		// A policy with no tools answers anything, with any name, and runs nothing.
		if r := minimal.Call(context.Background(), ws, string(data), data); !r.IsError {
			t.Errorf("minimal policy ran %q: %+v", data, r)
		}
		before := tree(t, outside)
		for _, name := range []string{NameRead, NameLs, NameWrite, NameEdit} {
			tool, _ := Lookup(name)
			r, err := tool.Run(context.Background(), ws, data)
			if err != nil {
				t.Errorf("%s %q: Go error %v", name, data, err)
			}
			if r.IsError && r.Text == "" {
				t.Errorf("%s %q: an error result without text", name, data)
			}
		}
		if after := tree(t, outside); !maps.Equal(after, before) {
			t.Fatalf("%q changed the outside: %v", data, after)
		}
	})
}
