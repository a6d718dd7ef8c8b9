package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// drainGrace bounds how long output is still read after the command's
// process group was killed. Only a process that left the group (setsid)
// can keep the output pipe open that long.
const drainGrace = 2 * time.Second

type execTool struct{}

type execArgs struct {
	Command string
	Timeout time.Duration // 0: the configured timeout
}

func (execTool) Def() provider.ToolDef {
	return def(NameExec,
		"Run a shell command (sh -c) with the workspace as working directory. Returns stdout and stderr combined (capped) and the exit code. The command and everything it starts are killed at the timeout.",
		`{"type":"object","properties":{"command":{"type":"string","description":"The shell command to run."},"timeoutSeconds":{"type":"number","exclusiveMinimum":0,"description":"Seconds before the command is killed; can only lower the configured limit."}},"required":["command"],"additionalProperties":false}`)
}

func decodeExec(raw json.RawMessage) (execArgs, error) {
	a, err := parseArgs(raw, "command", "timeoutSeconds")
	if err != nil {
		return execArgs{}, err
	}
	var e execArgs
	if e.Command, err = a.requiredStr("command"); err != nil {
		return execArgs{}, err
	}
	if strings.TrimSpace(e.Command) == "" {
		return execArgs{}, argErrorf("%q must not be empty", "command")
	}
	if strings.ContainsRune(e.Command, 0) {
		return execArgs{}, argErrorf("%q must not contain a NUL byte", "command")
	}
	secs, ok, err := a.num("timeoutSeconds")
	if err != nil {
		return execArgs{}, err
	}
	if ok {
		if !(secs > 0) {
			return execArgs{}, argErrorf("%q must be more than 0, got %v", "timeoutSeconds", secs)
		}
		// Anything above a day is the configured limit anyway; this keeps
		// the conversion below in range.
		e.Timeout = time.Duration(min(secs, 86400) * float64(time.Second))
		if e.Timeout <= 0 {
			e.Timeout = time.Nanosecond
		}
	}
	return e, nil
}

func (execTool) Run(ctx context.Context, ws Workspace, raw json.RawMessage) (Result, error) {
	a, err := decodeExec(raw)
	if err != nil {
		return errorf("%v", err), nil
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if err := ws.ensure(); err != nil {
		return Result{}, err
	}
	timeout := ws.execTimeout()
	if a.Timeout > 0 && a.Timeout < timeout {
		timeout = a.Timeout
	}
	return runShell(ctx, ws.Dir, a.Command, timeout, ws.maxOutput())
}

// runShell runs command in its own process group with dir as working
// directory. At the timeout or when ctx ends the whole group is killed;
// when the shell exits, whatever it left running in the group is killed
// too, so a tool call never leaves processes behind.
func runShell(ctx context.Context, dir, command string, timeout time.Duration, maxOut int) (Result, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	pr, pw, err := os.Pipe()
	if err != nil {
		return Result{}, fmt.Errorf("exec: %w", err)
	}
	cmd := exec.CommandContext(tctx, shell[0], append(shell[1:], command)...)
	cmd.Dir = dir
	cmd.Env = execEnv(os.Environ())
	// One pipe for both streams keeps their interleaving; being an
	// *os.File it goes to the child as is, so Wait returns when the shell
	// exits instead of waiting for every holder of the pipe.
	cmd.Stdout, cmd.Stderr = pw, pw
	setGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }

	out := &capWriter{max: maxOut}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(out, pr)
	}()

	err = cmd.Start()
	pw.Close() // the child has its copy; EOF comes when the last holder exits
	if err != nil {
		pr.Close()
		<-copied
		return Result{}, fmt.Errorf("exec: start %s: %w", shell[0], err)
	}
	waitErr := cmd.Wait()
	killGroup(cmd) // leftovers of a shell that exited on its own
	select {
	case <-copied:
	case <-time.After(drainGrace):
		pr.SetReadDeadline(time.Now())
		pr.Close()
		<-copied
	}
	pr.Close()

	text := out.String()
	var notes []string
	if out.total > int64(len(text)) {
		notes = append(notes, fmt.Sprintf("[output truncated: showing the first %d of %d bytes]", len(text), out.total))
	}
	if waitErr != nil && tctx.Err() != nil {
		// The caller's own end (cancel, the run's deadline) is not the
		// tool's timeout: it is returned as an error so the run stops.
		if err := ctx.Err(); err != nil {
			notes = append(notes, "[canceled: the command and its processes were killed]")
			return Result{Text: withNotes(text, notes), IsError: true}, err
		}
		notes = append(notes, fmt.Sprintf("[timed out after %ss: the command and its processes were killed]", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)))
		return Result{Text: withNotes(text, notes), IsError: true}, nil
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &ee):
		code = ee.ExitCode()
		if code < 0 { // killed by a signal it did not get from us
			notes = append(notes, "[killed by "+ee.String()+"]")
			return Result{Text: withNotes(text, notes), IsError: true}, nil
		}
	default:
		return Result{}, fmt.Errorf("exec: %w", waitErr)
	}
	notes = append(notes, "[exit code "+strconv.Itoa(code)+"]")
	return Result{Text: withNotes(text, notes), IsError: code != 0}, nil
}

// withNotes appends notes, each on its own line, to the output text.
func withNotes(text string, notes []string) string {
	if text == "" {
		text = "(no output)"
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + strings.Join(notes, "\n")
}

// capWriter keeps the first max bytes written and counts the rest, so a
// command with endless output still runs to its end without filling
// memory.
type capWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	max   int
	total int64
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total += int64(len(p))
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// String is the kept output, without a UTF-8 sequence cut by the cap.
func (w *capWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf.Bytes()
	if w.total > int64(len(b)) {
		b = trimPartialRune(b)
	}
	return string(b)
}

// execEnv is the environment of a command: the process's own, minus the
// credentials of the gateway and the model providers, which a model could
// otherwise print with `env`.
func execEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if secretName(name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// secretName reports whether an environment variable looks like a
// credential.
func secretName(name string) bool {
	n := strings.ToUpper(name)
	for _, s := range []string{"API_KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return strings.HasPrefix(n, "OPENCLAW_GATEWAY_")
}
