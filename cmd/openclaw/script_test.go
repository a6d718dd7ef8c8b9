package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openclaw/openclaw-go/pkg/cli"
)

// programs are the executables a scenario can `exec`: openclaw itself and
// the helper programs other test files register (they can run in the
// background with &name&, which in-process commands cannot).
var programs = map[string]func(){
	"openclaw": func() {
		os.Exit(run(os.Args[1:], cli.BuildInfo{Version: "v0.0.0-test", Commit: "testcommit", Date: "2026-01-01"}))
	},
}

// scriptCmds are in-process commands for scenarios, registered by the
// cmds_*_test.go files.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"waitfile": cmdWaitFile,
	"exitcode": cmdExitCode,
}

func TestMain(m *testing.M) {
	testscript.Main(m, programs)
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "scripts"),
		Cmds:                scriptCmds,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("USERPROFILE", home)
			env.Setenv("NO_COLOR", "1")
			// Never reach a real model or a user's gateway from a test.
			for _, k := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PORT", "OPENCLAW_LOG_LEVEL"} {
				env.Setenv(k, "")
			}
			return nil
		},
	})
}

// cmdWaitFile waits up to 20 s for each named file to exist and be non-empty.
//
//	waitfile path...
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: waitfile path...")
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range args {
		p := ts.MkAbs(a)
		for {
			st, err := os.Stat(p)
			if err == nil && st.Size() > 0 {
				break
			}
			if time.Now().After(deadline) {
				if neg {
					return
				}
				ts.Fatalf("timed out waiting for %s", a)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if neg {
		ts.Fatalf("files exist: %v", args)
	}
}

// cmdExitCode runs a program like exec and checks its exit code; stdout and
// stderr are kept for the following stdout/stderr commands.
//
//	exitcode N program args...
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program args...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if (got == want) == neg {
		ts.Fatalf("exit code %d, want %s%d", got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}
