//go:build unix

package tools

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExec(t *testing.T) {
	tests := []struct {
		name string
		args string
		want Result
	}{
		{"echo", `{"command":"echo hi"}`, Result{Text: "hi\n[exit code 0]"}},
		{"workspace is the working directory", `{"command":"cat f.txt; ls"}`, Result{Text: "in the workspace\nf.txt\n[exit code 0]"}},
		{"stdout and stderr interleaved", `{"command":"echo out; echo err >&2; echo out2"}`, Result{Text: "out\nerr\nout2\n[exit code 0]"}},
		{"no output", `{"command":"true"}`, Result{Text: "(no output)\n[exit code 0]"}},
		{"no final newline", `{"command":"printf abc"}`, Result{Text: "abc\n[exit code 0]"}},
		{"stdin is empty", `{"command":"cat"}`, Result{Text: "(no output)\n[exit code 0]"}},
		{"nonzero exit", `{"command":"echo bad; exit 3"}`, Result{Text: "bad\n[exit code 3]", IsError: true}},
		{"killed by a signal", `{"command":"echo x; kill -9 $$"}`, Result{Text: "x\n[killed by signal: killed]", IsError: true}},
		{"shell syntax", `{"command":"for i in 1 2 3; do printf $i; done | tr 123 abc"}`, Result{Text: "abc\n[exit code 0]"}},
		{"short timeout not reached", `{"command":"echo quick","timeoutSeconds":30}`, Result{Text: "quick\n[exit code 0]"}},
		{"missing command", `{}`, Result{Text: `invalid arguments: missing required argument "command"`, IsError: true}},
		{"blank command", `{"command":"  \n"}`, Result{Text: `invalid arguments: "command" must not be empty`, IsError: true}},
		{"command not a string", `{"command":["ls","-l"]}`, Result{Text: `invalid arguments: "command" must be a string, got an array`, IsError: true}},
		{"NUL in command", `{"command":"echo \u0000"}`, Result{Text: `invalid arguments: "command" must not contain a NUL byte`, IsError: true}},
		{"timeout zero", `{"command":"true","timeoutSeconds":0}`, Result{Text: `invalid arguments: "timeoutSeconds" must be more than 0, got 0`, IsError: true}},
		{"timeout negative", `{"command":"true","timeoutSeconds":-5}`, Result{Text: `invalid arguments: "timeoutSeconds" must be more than 0, got -5`, IsError: true}},
		{"timeout string", `{"command":"true","timeoutSeconds":"5"}`, Result{Text: `invalid arguments: "timeoutSeconds" must be a number, got a string`, IsError: true}},
		{"timeout huge", `{"command":"true","timeoutSeconds":1e400}`, Result{Text: `invalid arguments: "timeoutSeconds" is out of range`, IsError: true}},
		{"unknown argument", `{"command":"true","cwd":"/"}`, Result{Text: `invalid arguments: unknown argument "cwd"; the arguments are command, timeoutSeconds`, IsError: true}},
		{"snake case timeout", `{"command":"true","timeout_seconds":1}`, Result{Text: `invalid arguments: unknown argument "timeout_seconds"; the arguments are command, timeoutSeconds`, IsError: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			put(t, filepath.Join(fx.dir, "f.txt"), "in the workspace\n")
			if got := run(t, fx.ws, NameExec, tt.args); got != tt.want {
				t.Errorf("exec %s\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestExecCommandNotFound(t *testing.T) {
	fx := newFixture(t)
	got := run(t, fx.ws, NameExec, `{"command":"no-such-command-xyz"}`)
	if !got.IsError || !strings.Contains(got.Text, "no-such-command-xyz") || !strings.HasSuffix(got.Text, "\n[exit code 127]") {
		t.Errorf("got %+v, want the shell's complaint and exit code 127", got)
	}
}

func TestExecOutputCap(t *testing.T) {
	tests := []struct {
		name string
		max  int
		args string
		want Result
	}{
		{"configured cap", 100, `{"command":"head -c 1000 /dev/zero | tr '\\0' a"}`,
			Result{Text: strings.Repeat("a", 100) + "\n[output truncated: showing the first 100 of 1000 bytes]\n[exit code 0]"}},
		{"default cap 64 KiB", 0, `{"command":"head -c 100000 /dev/zero | tr '\\0' b"}`,
			Result{Text: strings.Repeat("b", 65536) + "\n[output truncated: showing the first 65536 of 100000 bytes]\n[exit code 0]"}},
		{"exactly the cap", 10, `{"command":"printf 0123456789"}`, Result{Text: "0123456789\n[exit code 0]"}},
		{"one over the cap", 10, `{"command":"printf 0123456789X"}`,
			Result{Text: "0123456789\n[output truncated: showing the first 10 of 11 bytes]\n[exit code 0]"}},
		{"cut between runes", 5, `{"command":"printf 'aaaa\\342\\202\\254'"}`,
			Result{Text: "aaaa\n[output truncated: showing the first 4 of 7 bytes]\n[exit code 0]"}},
		{"with a failure", 3, `{"command":"echo abcdef; exit 2"}`,
			Result{Text: "abc\n[output truncated: showing the first 3 of 7 bytes]\n[exit code 2]", IsError: true}},
		{"a lot of output still runs to the end", 8, `{"command":"head -c 5000000 /dev/zero; echo; echo finished >&2; exit 4"}`,
			Result{Text: "\x00\x00\x00\x00\x00\x00\x00\x00\n[output truncated: showing the first 8 of 5000010 bytes]\n[exit code 4]", IsError: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.ws.Exec.MaxOutputBytes = tt.max
			if got := run(t, fx.ws, NameExec, tt.args); got != tt.want {
				t.Errorf("exec %s\n got %+.200v\nwant %+.200v", tt.args, got, tt.want)
			}
		})
	}
}

func TestExecTimeoutOnlyLowers(t *testing.T) {
	tests := []struct {
		name    string
		config  int // tools.exec.timeoutSeconds
		args    string
		wantEnd string
	}{
		{"the argument cannot raise the limit", 1, `{"command":"exec sleep 30","timeoutSeconds":100}`, "[timed out after 1s: the command and its processes were killed]"},
		{"the argument lowers the limit", 60, `{"command":"exec sleep 30","timeoutSeconds":0.2}`, "[timed out after 0.2s: the command and its processes were killed]"},
		{"the configured limit", 1, `{"command":"exec sleep 30"}`, "[timed out after 1s: the command and its processes were killed]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			fx.ws.Exec.TimeoutSeconds = tt.config
			got := run(t, fx.ws, NameExec, tt.args)
			if want := (Result{Text: "(no output)\n" + tt.wantEnd, IsError: true}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestExecContextDoneBeforeStart(t *testing.T) {
	fx := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tool, _ := Lookup(NameExec)
	r, err := tool.Run(ctx, fx.ws, json.RawMessage(`{"command":"touch ran"}`))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if r != (Result{}) {
		t.Errorf("result %+v, want none", r)
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "ran")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the command ran: %v", err)
	}
}

func TestExecCreatesWorkspace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	got := run(t, Workspace{Dir: dir}, NameExec, `{"command":"ls -a | wc -l | tr -d ' '"}`)
	if want := (Result{Text: "2\n[exit code 0]"}); got != want {
		t.Errorf("got %+v, want %+v (an empty workspace: . and ..)", got, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("workspace: %v %v, want a 0700 directory", fi, err)
	}
}

func TestExecEnvWithoutSecrets(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-should-not-leak")
	t.Setenv("OPENCLAW_GATEWAY_TOKEN", "tok-should-not-leak")
	t.Setenv("MY_SERVICE_PASSWORD", "pw-should-not-leak")
	t.Setenv("OPENCLAW_TOOLS_TEST_PLAIN", "visible")
	fx := newFixture(t)
	got := run(t, fx.ws, NameExec, `{"command":"echo ${OPENAI_API_KEY:-unset} ${OPENCLAW_GATEWAY_TOKEN:-unset} ${MY_SERVICE_PASSWORD:-unset} $OPENCLAW_TOOLS_TEST_PLAIN; env | grep -c leak"}`)
	if want := (Result{Text: "unset unset unset visible\n0\n[exit code 1]", IsError: true}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"OPENAI_API_KEY": true, "ANTHROPIC_API_KEY": true, "OPENCLAW_GATEWAY_TOKEN": true,
		"OPENCLAW_GATEWAY_PASSWORD": true, "GITHUB_TOKEN": true, "aws_secret_access_key": true,
		"OPENCLAW_GATEWAY_PORT": true, "DB_PASSWD": true, "GOOGLE_APPLICATION_CREDENTIALS": true,
		"PATH": false, "HOME": false, "LANG": false, "OPENCLAW_STATE_DIR": false, "TERM": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
}
