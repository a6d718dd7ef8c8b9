// Package service installs the gateway as a per-user background service: a
// systemd user unit on Linux, a launchd agent on macOS. It renders the
// service file, writes it atomically, and drives systemctl or launchctl
// through a Runner, so that tests can stand in for the service manager.
package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Names of the installed service.
const (
	UnitName = "openclaw-gateway.service" // the systemd user unit
	Label    = "ai.openclaw.gateway"      // the launchd job
)

// Kind is a service manager.
type Kind string

// The supported service managers.
const (
	Systemd Kind = "systemd"
	Launchd Kind = "launchd"
)

// ErrUnsupported is returned by New for a system without a supported
// service manager.
var ErrUnsupported = errors.New("no supported service manager")

// ErrNotInstalled is returned by Uninstall when there is no service file.
var ErrNotInstalled = errors.New("the gateway service is not installed")

// Spec is what the service runs.
type Spec struct {
	Program string   // absolute path of the binary
	Args    []string // its arguments (gateway serve)
	Env     []EnvVar // environment, in this order
	LogFile string   // launchd: where stdout and stderr go (systemd has the journal)
}

// EnvVar is one environment variable of the service.
type EnvVar struct{ Name, Value string }

// Runner runs a command of the service manager and returns what it printed
// (stdout and stderr together).
type Runner interface {
	Run(ctx context.Context, name string, args ...string) (string, error)
}

// CommandError is a service manager command that failed.
type CommandError struct {
	Command  string // the command line, as a user would type it
	Output   string // what it printed, trimmed
	NotFound bool   // the program is not on PATH
	Err      error
}

func (e *CommandError) Error() string {
	switch {
	case e.NotFound:
		return fmt.Sprintf("%s: %s not found on PATH", e.Command, strings.Fields(e.Command)[0])
	case e.Output != "":
		return fmt.Sprintf("%s: %v: %s", e.Command, e.Err, firstLine(e.Output))
	}
	return fmt.Sprintf("%s: %v", e.Command, e.Err)
}

func (e *CommandError) Unwrap() error { return e.Err }

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// ExecRunner runs commands found on PATH.
type ExecRunner struct{}

// Run runs name with args and returns its combined output; a failure is a
// *CommandError.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) (string, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	path, err := exec.LookPath(name)
	if err != nil {
		return "", &CommandError{Command: line, NotFound: true, Err: err}
	}
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return string(out), &CommandError{Command: line, Output: strings.TrimSpace(string(out)), Err: err}
	}
	return string(out), nil
}

// Manager installs, removes and inspects the gateway service of one user.
type Manager struct {
	Kind   Kind
	Dir    string // where the service file goes
	UID    int    // launchd: the user's gui/<uid> domain
	Runner Runner
}

// New returns the manager of the system goos: systemd user units under
// $XDG_CONFIG_HOME/systemd/user (default ~/.config) on Linux, launchd agents
// under ~/Library/LaunchAgents on macOS. getenv reads the environment.
func New(goos, home string, getenv func(string) string, uid int, r Runner) (*Manager, error) {
	if r == nil {
		r = ExecRunner{}
	}
	switch goos {
	case "linux":
		cfg := getenv("XDG_CONFIG_HOME")
		if !filepath.IsAbs(cfg) { // unset, or not usable as the spec says
			cfg = filepath.Join(home, ".config")
		}
		return &Manager{Kind: Systemd, Dir: filepath.Join(cfg, "systemd", "user"), UID: uid, Runner: r}, nil
	case "darwin":
		return &Manager{Kind: Launchd, Dir: filepath.Join(home, "Library", "LaunchAgents"), UID: uid, Runner: r}, nil
	}
	return nil, fmt.Errorf("%w on %s: install supports Linux (systemd) and macOS (launchd); run 'openclaw gateway serve' under your own service manager", ErrUnsupported, goos)
}

// Name is the service's name in its manager: the unit or the label.
func (m *Manager) Name() string {
	if m.Kind == Launchd {
		return Label
	}
	return UnitName
}

// Path is the service file.
func (m *Manager) Path() string {
	if m.Kind == Launchd {
		return filepath.Join(m.Dir, Label+".plist")
	}
	return filepath.Join(m.Dir, UnitName)
}

// Render returns the service file for spec.
func (m *Manager) Render(spec Spec) ([]byte, error) {
	if !filepath.IsAbs(spec.Program) {
		return nil, fmt.Errorf("service program %q is not an absolute path", spec.Program)
	}
	if m.Kind == Launchd {
		return renderPlist(spec)
	}
	return renderUnit(spec)
}

// Installed reports whether the service file exists.
func (m *Manager) Installed() (bool, error) {
	_, err := os.Stat(m.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check the service file: %w", err)
	}
	return true, nil
}

func (m *Manager) domain() string { return fmt.Sprintf("gui/%d", m.UID) }
func (m *Manager) target() string { return m.domain() + "/" + Label }

// StartCommands are the commands Install runs to start the service, for
// messages (--no-start, --dry-run).
func (m *Manager) StartCommands() [][]string {
	if m.Kind == Launchd {
		return [][]string{
			{"launchctl", "enable", m.target()},
			{"launchctl", "bootstrap", m.domain(), m.Path()},
		}
	}
	return [][]string{
		{"systemctl", "--user", "daemon-reload"},
		{"systemctl", "--user", "enable", "--now", UnitName},
	}
}

// Result says what Install did.
type Result struct {
	Existed bool       // there was a service file before
	Changed bool       // the file's content changed (false: rewritten as it was)
	Ran     [][]string // the service manager commands that ran
}

// Install writes the service file and, when start is set, enables and
// starts the service (restarting it when a running one's file changed).
// A failed command leaves the file written: running install again, or the
// manager's own commands, finish the job.
func (m *Manager) Install(ctx context.Context, spec Spec, start bool) (Result, error) {
	data, err := m.Render(spec)
	if err != nil {
		return Result{}, err
	}
	var res Result
	old, err := os.ReadFile(m.Path())
	res.Existed = err == nil
	res.Changed = !res.Existed || !bytes.Equal(old, data)
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return res, fmt.Errorf("create %s: %w", m.Dir, err)
	}
	if m.Kind == Launchd && spec.LogFile != "" {
		// launchd opens the log but does not create its directory.
		if err := os.MkdirAll(filepath.Dir(spec.LogFile), 0o700); err != nil {
			return res, fmt.Errorf("create the log directory: %w", err)
		}
	}
	if err := writeFile(m.Path(), data); err != nil {
		return res, err
	}
	if !start {
		return res, nil
	}
	run := func(args ...string) error {
		res.Ran = append(res.Ran, args)
		_, err := m.Runner.Run(ctx, args[0], args[1:]...)
		return err
	}
	if m.Kind == Launchd {
		// bootstrap refuses a loaded job: unload the old one first.
		if err := run("launchctl", "bootout", m.target()); err != nil && !notLoaded(err) {
			return res, err
		}
		for _, c := range m.StartCommands() {
			if err := run(c...); err != nil {
				return res, err
			}
		}
		return res, nil
	}
	for _, c := range m.StartCommands() {
		if err := run(c...); err != nil {
			return res, err
		}
	}
	if res.Existed && res.Changed {
		// enable --now leaves a running service as it is.
		if err := run("systemctl", "--user", "restart", UnitName); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Uninstall stops and disables the service and removes its file. The file
// is removed even when stopping fails (the error says so), so that a
// machine whose service manager is gone can still be cleaned up.
func (m *Manager) Uninstall(ctx context.Context) (ran [][]string, err error) {
	ok, err := m.Installed()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w (no %s)", ErrNotInstalled, m.Path())
	}
	run := func(args ...string) error {
		ran = append(ran, args)
		_, err := m.Runner.Run(ctx, args[0], args[1:]...)
		return err
	}
	var stopErr error
	if m.Kind == Launchd {
		if err := run("launchctl", "bootout", m.target()); err != nil && !notLoaded(err) {
			stopErr = err
		}
	} else if err := run("systemctl", "--user", "disable", "--now", UnitName); err != nil {
		stopErr = err
	}
	if err := os.Remove(m.Path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ran, fmt.Errorf("remove %s: %w", m.Path(), err)
	}
	if m.Kind == Systemd && stopErr == nil {
		if err := run("systemctl", "--user", "daemon-reload"); err != nil {
			return ran, fmt.Errorf("removed %s, but %w", m.Path(), err)
		}
	}
	if stopErr != nil {
		return ran, fmt.Errorf("removed %s, but the service may still run: %w", m.Path(), stopErr)
	}
	return ran, nil
}

// State asks the service manager about the service: systemd's active state
// (active, inactive, failed, ...), or for launchd the job's state (running,
// ...) or "not loaded". It is "" when the manager cannot be asked.
func (m *Manager) State(ctx context.Context) string {
	if m.Kind == Launchd {
		out, err := m.Runner.Run(ctx, "launchctl", "print", m.target())
		if err != nil {
			var ce *CommandError
			if errors.As(err, &ce) && ce.NotFound {
				return ""
			}
			return "not loaded"
		}
		for _, l := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.TrimSpace(k) == "state" {
				return strings.TrimSpace(v)
			}
		}
		return "loaded"
	}
	// is-active exits non-zero for anything but active, and still prints
	// the state.
	out, err := m.Runner.Run(ctx, "systemctl", "--user", "is-active", UnitName)
	var ce *CommandError
	if err != nil && (!errors.As(err, &ce) || ce.NotFound) {
		return ""
	}
	st := firstLine(out)
	if strings.ContainsAny(st, " :") { // an error message, not a state
		return ""
	}
	return st
}

// notLoaded tells launchctl's "the job is not loaded" apart from real
// failures of bootout.
func notLoaded(err error) bool {
	var ce *CommandError
	if !errors.As(err, &ce) || ce.NotFound {
		return false
	}
	o := strings.ToLower(ce.Output)
	return strings.Contains(o, "no such process") || strings.Contains(o, "could not find") || strings.Contains(o, "not loaded")
}

// writeFile replaces path with data atomically (a temp file in the same
// directory, synced, renamed over it), mode 0644 as service managers
// expect.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(0o644)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
