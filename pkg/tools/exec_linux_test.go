package tools

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leftovers lists the live processes (not zombies) whose working directory
// is dir: whatever a command started in the workspace and left running.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || cwd != dir {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ...; comm may contain spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		if f := strings.Fields(rest); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		found = append(found, strconv.Itoa(pid)+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return found
}

func TestExecTimeoutKillsTheGroup(t *testing.T) {
	fx := newFixture(t)
	// A child in the background and one in the foreground, both outliving
	// the timeout; the marker proves the background one was started.
	got := run(t, fx.ws, NameExec, `{"command":"sleep 30 & echo started; sleep 30","timeoutSeconds":1}`)
	want := Result{Text: "started\n[timed out after 1s: the command and its processes were killed]", IsError: true}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if l := leftovers(t, fx.dir); len(l) > 0 {
		t.Errorf("processes left running: %q", l)
	}
}

func TestExecKillsWhatTheShellLeft(t *testing.T) {
	fx := newFixture(t)
	got := run(t, fx.ws, NameExec, `{"command":"sleep 30 & sleep 31 & echo done"}`)
	if want := (Result{Text: "done\n[exit code 0]"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if l := leftovers(t, fx.dir); len(l) > 0 {
		t.Errorf("processes left running: %q", l)
	}
}

func TestExecCancel(t *testing.T) {
	fx := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the command is running, with a child in the background.
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(fx.dir, "started")); err == nil {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	tool, _ := Lookup(NameExec)
	r, err := tool.Run(ctx, fx.ws, json.RawMessage(`{"command":"sleep 30 & echo started; touch started; sleep 30"}`))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if want := (Result{Text: "started\n[canceled: the command and its processes were killed]", IsError: true}); r != want {
		t.Errorf("result %+v, want %+v", r, want)
	}
	if l := leftovers(t, fx.dir); len(l) > 0 {
		t.Errorf("processes left running: %q", l)
	}
}

// The run's own deadline ending is the caller's business, not the tool's
// timeout: it comes back as the context's error.
func TestExecCallerDeadline(t *testing.T) {
	fx := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	tool, _ := Lookup(NameExec)
	r, err := tool.Run(ctx, fx.ws, json.RawMessage(`{"command":"sleep 30 & echo started; sleep 30"}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if want := (Result{Text: "started\n[canceled: the command and its processes were killed]", IsError: true}); r != want {
		t.Errorf("result %+v, want %+v", r, want)
	}
	if l := leftovers(t, fx.dir); len(l) > 0 {
		t.Errorf("processes left running: %q", l)
	}
}

// TestLeftoversFindsAProcess shows that leftovers would see a process the
// tests above expect to be gone.
func TestLeftoversFindsAProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sleep", "30")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if l := leftovers(t, dir); len(l) != 1 || !strings.HasSuffix(l[0], " sleep 30 ") {
		t.Errorf("leftovers = %q, want the sleep", l)
	}
}
