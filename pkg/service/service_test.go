package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// fakeRunner records commands and answers them from a table keyed by the
// command line; a missing entry succeeds with no output.
type fakeRunner struct {
	ran     []string
	answers map[string]fakeAnswer
}

type fakeAnswer struct {
	out      string
	fail     bool
	notFound bool
}

func (f *fakeRunner) Run(_ context.Context, name string, args ...string) (string, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	f.ran = append(f.ran, line)
	a, ok := f.answers[line]
	if !ok {
		return "", nil
	}
	switch {
	case a.notFound:
		return "", &CommandError{Command: line, NotFound: true, Err: exec.ErrNotFound}
	case a.fail:
		return a.out, &CommandError{Command: line, Output: strings.TrimSpace(a.out), Err: errors.New("exit status 1")}
	}
	return a.out, nil
}

var spec = Spec{
	Program: "/opt/open claw/bin/openclaw",
	Args:    []string{"gateway", "serve"},
	Env: []EnvVar{
		{"OPENCLAW_STATE_DIR", "/home/u/.openclaw"},
		{"OPENCLAW_CONFIG_PATH", `/home/u/100% "my" $conf\openclaw.toml`},
	},
	LogFile: "/home/u/.openclaw/logs/gateway.log",
}

const wantUnit = `# Written by 'openclaw gateway install'; remove it with 'openclaw gateway uninstall'.
[Unit]
Description=OpenClaw gateway
Documentation=man:openclaw-gateway-serve(1)

[Service]
Type=simple
ExecStart="/opt/open claw/bin/openclaw" gateway serve
Environment="OPENCLAW_STATE_DIR=/home/u/.openclaw"
Environment="OPENCLAW_CONFIG_PATH=/home/u/100%% \"my\" $conf\\openclaw.toml"
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=78
KillMode=mixed
TimeoutStopSec=15

[Install]
WantedBy=default.target
`

const wantPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by 'openclaw gateway install'; remove it with 'openclaw gateway uninstall'. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>ai.openclaw.gateway</string>
	<key>ProgramArguments</key>
	<array>
		<string>/opt/open claw/bin/openclaw</string>
		<string>gateway</string>
		<string>serve</string>
	</array>
	<key>EnvironmentVariables</key>
	<dict>
		<key>OPENCLAW_STATE_DIR</key>
		<string>/home/u/.openclaw</string>
		<key>OPENCLAW_CONFIG_PATH</key>
		<string>/home/u/100% &#34;my&#34; $conf\openclaw.toml</string>
	</dict>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>5</integer>
	<key>ExitTimeOut</key>
	<integer>15</integer>
	<key>StandardOutPath</key>
	<string>/home/u/.openclaw/logs/gateway.log</string>
	<key>StandardErrorPath</key>
	<string>/home/u/.openclaw/logs/gateway.log</string>
</dict>
</plist>
`

func newManager(t *testing.T, goos string, r Runner) *Manager {
	t.Helper()
	m, err := New(goos, t.TempDir(), func(string) string { return "" }, 501, r)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRender(t *testing.T) {
	for _, tt := range []struct {
		goos, want string
	}{{"linux", wantUnit}, {"darwin", wantPlist}} {
		m := newManager(t, tt.goos, nil)
		got, err := m.Render(spec)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s: Render =\n%s\nwant\n%s", tt.goos, got, tt.want)
		}
	}
}

func TestUnitWord(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/openclaw": "/usr/bin/openclaw",
		"a b":               `"a b"`,
		"100%":              "100%%",
		"$HOME":             "$$HOME",
		`it's`:              `"it's"`,
		`a\b`:               `"a\\b"`,
		`say "hi"`:          `"say \"hi\""`,
		"semi;colon":        `"semi;colon"`,
		"":                  `""`,
	} {
		if got := unitWord(in); got != want {
			t.Errorf("unitWord(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRenderRefuses(t *testing.T) {
	for _, goos := range []string{"linux", "darwin"} {
		m := newManager(t, goos, nil)
		for name, s := range map[string]Spec{
			"relative program": {Program: "openclaw"},
			"newline in arg":   {Program: "/bin/x", Args: []string{"a\nb"}},
			"newline in env":   {Program: "/bin/x", Env: []EnvVar{{"A", "1\r2"}}},
			"NUL in program":   {Program: "/bin/x\x00"},
		} {
			if _, err := m.Render(s); err == nil {
				t.Errorf("%s: Render with a %s succeeded", goos, name)
			}
		}
	}
}

func TestNew(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		goos string
		env  map[string]string
		path string
		err  string
	}{
		{"linux", nil, "/h/.config/systemd/user/openclaw-gateway.service", ""},
		{"linux", map[string]string{"XDG_CONFIG_HOME": "/xdg"}, "/xdg/systemd/user/openclaw-gateway.service", ""},
		// The XDG spec says a relative value is to be ignored.
		{"linux", map[string]string{"XDG_CONFIG_HOME": "rel"}, "/h/.config/systemd/user/openclaw-gateway.service", ""},
		{"darwin", nil, "/h/Library/LaunchAgents/ai.openclaw.gateway.plist", ""},
		{"windows", nil, "", "no supported service manager on windows: install supports Linux (systemd) and macOS (launchd); run 'openclaw gateway serve' under your own service manager"},
	}
	for _, tt := range tests {
		m, err := New(tt.goos, "/h", env(tt.env), 501, nil)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrUnsupported) {
				t.Errorf("New(%s) error = %v, want %q", tt.goos, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Path() != filepath.FromSlash(tt.path) {
			t.Errorf("New(%s, %v).Path() = %s, want %s", tt.goos, tt.env, m.Path(), tt.path)
		}
		if _, ok := m.Runner.(ExecRunner); !ok {
			t.Errorf("New with a nil runner: %T, want ExecRunner", m.Runner)
		}
	}
}

func TestInstallSystemd(t *testing.T) {
	r := &fakeRunner{}
	m := newManager(t, "linux", r)

	// --no-start: the file only.
	res, err := m.Install(context.Background(), spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Existed || !res.Changed || len(res.Ran) != 0 || len(r.ran) != 0 {
		t.Errorf("Install without start = %+v, ran %v", res, r.ran)
	}
	checkFile(t, m.Path(), wantUnit, 0o644)

	// Start: reload, enable --now. The file was there, unchanged: no restart.
	res, err = m.Install(context.Background(), spec, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"systemctl --user daemon-reload", "systemctl --user enable --now openclaw-gateway.service"}
	if !res.Existed || res.Changed || !reflect.DeepEqual(r.ran, want) || len(res.Ran) != 2 {
		t.Errorf("Install = %+v, ran %v, want %v", res, r.ran, want)
	}

	// A changed file restarts the running service.
	r.ran = nil
	s2 := spec
	s2.Args = []string{"gateway", "serve", "--verbose"}
	res, err = m.Install(context.Background(), s2, true)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, "systemctl --user restart openclaw-gateway.service")
	if !res.Changed || !reflect.DeepEqual(r.ran, want) {
		t.Errorf("reinstall = %+v, ran %v, want %v", res, r.ran, want)
	}
	if ok, err := m.Installed(); !ok || err != nil {
		t.Errorf("Installed = %v, %v", ok, err)
	}
	// No temp files left beside the unit.
	if ents, _ := os.ReadDir(m.Dir); len(ents) != 1 {
		t.Errorf("%s holds %d entries, want the unit alone", m.Dir, len(ents))
	}
}

func TestInstallSystemdFailure(t *testing.T) {
	r := &fakeRunner{answers: map[string]fakeAnswer{
		"systemctl --user daemon-reload": {out: "Failed to connect to bus: No medium found\n", fail: true},
	}}
	m := newManager(t, "linux", r)
	res, err := m.Install(context.Background(), spec, true)
	want := "systemctl --user daemon-reload: exit status 1: Failed to connect to bus: No medium found"
	if err == nil || err.Error() != want {
		t.Fatalf("Install error = %v, want %q", err, want)
	}
	if len(res.Ran) != 1 {
		t.Errorf("ran %v after a failure, want the failed command only", res.Ran)
	}
	// The file stays for the next attempt.
	checkFile(t, m.Path(), wantUnit, 0o644)

	r.answers = map[string]fakeAnswer{"systemctl --user daemon-reload": {notFound: true}}
	if _, err := m.Install(context.Background(), spec, true); err == nil || err.Error() != "systemctl --user daemon-reload: systemctl not found on PATH" {
		t.Errorf("Install without systemctl = %v", err)
	}
}

func TestInstallLaunchd(t *testing.T) {
	r := &fakeRunner{answers: map[string]fakeAnswer{
		"launchctl bootout gui/501/ai.openclaw.gateway": {out: "Boot-out failed: 3: No such process\n", fail: true},
	}}
	m := newManager(t, "darwin", r)
	s := spec
	s.LogFile = filepath.Join(t.TempDir(), "logs", "gateway.log")
	if _, err := m.Install(context.Background(), s, true); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"launchctl bootout gui/501/ai.openclaw.gateway",
		"launchctl enable gui/501/ai.openclaw.gateway",
		"launchctl bootstrap gui/501 " + m.Path(),
	}
	if !reflect.DeepEqual(r.ran, want) {
		t.Errorf("ran %v, want %v", r.ran, want)
	}
	if st, err := os.Stat(filepath.Dir(s.LogFile)); err != nil || !st.IsDir() {
		t.Errorf("log directory not created: %v", err)
	}
	// A bootout that fails for another reason stops the install.
	r.answers["launchctl bootout gui/501/ai.openclaw.gateway"] = fakeAnswer{out: "Operation not permitted", fail: true}
	r.ran = nil
	if _, err := m.Install(context.Background(), s, true); err == nil || len(r.ran) != 1 {
		t.Errorf("Install after a failed bootout = %v, ran %v", err, r.ran)
	}
}

func TestUninstall(t *testing.T) {
	for _, tt := range []struct {
		goos    string
		answers map[string]fakeAnswer
		ran     []string
		err     string
	}{
		{"linux", nil, []string{"systemctl --user disable --now openclaw-gateway.service", "systemctl --user daemon-reload"}, ""},
		{"linux", map[string]fakeAnswer{"systemctl --user disable --now openclaw-gateway.service": {notFound: true}},
			[]string{"systemctl --user disable --now openclaw-gateway.service"},
			"removed FILE, but the service may still run: systemctl --user disable --now openclaw-gateway.service: systemctl not found on PATH"},
		{"linux", map[string]fakeAnswer{"systemctl --user daemon-reload": {out: "oops", fail: true}},
			[]string{"systemctl --user disable --now openclaw-gateway.service", "systemctl --user daemon-reload"},
			"removed FILE, but systemctl --user daemon-reload: exit status 1: oops"},
		{"darwin", nil, []string{"launchctl bootout gui/501/ai.openclaw.gateway"}, ""},
		{"darwin", map[string]fakeAnswer{"launchctl bootout gui/501/ai.openclaw.gateway": {out: "Could not find service", fail: true}},
			[]string{"launchctl bootout gui/501/ai.openclaw.gateway"}, ""},
	} {
		t.Run(tt.goos+fmt.Sprint(len(tt.answers)), func(t *testing.T) {
			r := &fakeRunner{answers: tt.answers}
			m := newManager(t, tt.goos, r)
			_, err := m.Uninstall(context.Background())
			if !errors.Is(err, ErrNotInstalled) || err.Error() != "the gateway service is not installed (no "+m.Path()+")" {
				t.Errorf("Uninstall of nothing = %v", err)
			}
			if len(r.ran) != 0 {
				t.Errorf("Uninstall of nothing ran %v", r.ran)
			}
			if _, err := m.Install(context.Background(), spec, false); err != nil {
				t.Fatal(err)
			}
			ran, err := m.Uninstall(context.Background())
			want := strings.ReplaceAll(tt.err, "FILE", m.Path())
			if (err == nil) != (tt.err == "") || err != nil && err.Error() != want {
				t.Errorf("Uninstall error = %v, want %q", err, want)
			}
			if !reflect.DeepEqual(r.ran, tt.ran) || len(ran) != len(tt.ran) {
				t.Errorf("Uninstall ran %v (reported %v), want %v", r.ran, ran, tt.ran)
			}
			// The file goes whatever the service manager said.
			if _, err := os.Stat(m.Path()); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("service file still there: %v", err)
			}
		})
	}
}

func TestState(t *testing.T) {
	const isActive = "systemctl --user is-active openclaw-gateway.service"
	const print = "launchctl print gui/501/ai.openclaw.gateway"
	for _, tt := range []struct {
		goos string
		ans  fakeAnswer
		want string
	}{
		{"linux", fakeAnswer{out: "active\n"}, "active"},
		{"linux", fakeAnswer{out: "inactive\n", fail: true}, "inactive"},
		{"linux", fakeAnswer{out: "failed\n", fail: true}, "failed"},
		{"linux", fakeAnswer{out: "Failed to connect to bus: No medium found\n", fail: true}, ""},
		{"linux", fakeAnswer{notFound: true}, ""},
		{"darwin", fakeAnswer{out: "gui/501/ai.openclaw.gateway = {\n\tactive count = 1\n\tstate = running\n}\n"}, "running"},
		{"darwin", fakeAnswer{out: "gui/501/ai.openclaw.gateway = {\n}\n"}, "loaded"},
		{"darwin", fakeAnswer{out: "Could not find service", fail: true}, "not loaded"},
		{"darwin", fakeAnswer{notFound: true}, ""},
	} {
		r := &fakeRunner{answers: map[string]fakeAnswer{isActive: tt.ans, print: tt.ans}}
		m := newManager(t, tt.goos, r)
		if got := m.State(context.Background()); got != tt.want {
			t.Errorf("%s State with %+v = %q, want %q", tt.goos, tt.ans, got, tt.want)
		}
	}
}

// TestHelperProcess is the program TestExecRunner runs: it prints its
// arguments' words to stdout and stderr and exits with the code asked.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("OPENCLAW_SERVICE_HELPER") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	code := 0
	for _, a := range args[1:] {
		switch {
		case strings.HasPrefix(a, "out="):
			fmt.Fprintln(os.Stdout, a[4:])
		case strings.HasPrefix(a, "err="):
			fmt.Fprintln(os.Stderr, a[4:])
		case strings.HasPrefix(a, "exit="):
			fmt.Sscan(a[5:], &code)
		}
	}
	os.Exit(code)
}

func TestExecRunner(t *testing.T) {
	t.Setenv("OPENCLAW_SERVICE_HELPER", "1")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var r ExecRunner
	out, err := r.Run(context.Background(), self, "-test.run=^TestHelperProcess$", "--", "out=active")
	if err != nil || out != "active\n" {
		t.Errorf("Run = %q, %v", out, err)
	}
	_, err = r.Run(context.Background(), self, "-test.run=^TestHelperProcess$", "--", "err=first", "err=second", "exit=3")
	var ce *CommandError
	want := self + " -test.run=^TestHelperProcess$ -- err=first err=second exit=3: exit status 3: first"
	if !errors.As(err, &ce) || ce.NotFound || ce.Output != "first\nsecond" || err.Error() != want {
		t.Errorf("failing command: %v, want %q", err, want)
	}
	_, err = r.Run(context.Background(), "openclaw-no-such-program", "x")
	if !errors.As(err, &ce) || !ce.NotFound || err.Error() != "openclaw-no-such-program x: openclaw-no-such-program not found on PATH" {
		t.Errorf("missing program: %v", err)
	}
}

func checkFile(t *testing.T, path, want string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s =\n%s\nwant\n%s", path, b, want)
	}
	if st, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && st.Mode().Perm() != mode {
		t.Errorf("%s mode %v, want %v", path, st.Mode().Perm(), mode)
	}
}
