// Package cli is the openclaw command tree. Commands only parse flags and
// arguments, call into the packages below, and render results; they never
// touch os.Stdout or call os.Exit themselves.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/spf13/cobra"
)

// Exit codes returned by Main.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	ExitConfig  = 78
	ExitTimeout = 124
)

// IO is the standard streams a command uses.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	IsTerm func() bool // whether In is a terminal
}

// StdIO returns the process's own streams.
func StdIO() IO {
	return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, IsTerm: func() bool { return isTerminal(os.Stdin) }}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}

// BuildInfo is what the release build stamps into the binary.
type BuildInfo struct {
	Version, Commit, Date string
}

// App is the state shared by every command of one invocation.
type App struct {
	IO    IO
	Build BuildInfo
	Log   *log.Logger

	logLevel  string
	logFormat string
}

// ExitError carries an exit code through cobra back to Main. Msg is printed
// once by Main, unless it is empty.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// exitErr wraps err with an exit code.
func exitErr(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// usageErr is an error in how the command was called: exit 2.
func usageErr(format string, args ...any) error { return exitErr(ExitUsage, format, args...) }

// Main runs the command line args and returns the process exit code.
func Main(ctx context.Context, args []string, stdio IO, build BuildInfo) int {
	if stdio.IsTerm == nil {
		stdio.IsTerm = func() bool { return false }
	}
	app := &App{IO: stdio, Build: build}
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	} else if isFlagError(err) {
		code = ExitUsage
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stdio.Err, "error: %s\n", msg)
		if code == ExitUsage && !errors.As(err, &ee) {
			fmt.Fprintf(stdio.Err, "run '%s --help' for usage\n", commandPathFor(root, args))
		}
	}
	return code
}

// isFlagError tells cobra's own argument and flag errors apart from the
// errors our commands return: cobra returns plain errors for those.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "bad flag syntax", "required flag", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func commandPathFor(root *cobra.Command, args []string) string {
	c, _, err := root.Find(args)
	if err != nil || c == nil {
		return root.Name()
	}
	return c.CommandPath()
}
