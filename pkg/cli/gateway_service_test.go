package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/service"
)

// fakeServiceRunner stands in for launchctl and systemctl.
type fakeServiceRunner struct {
	ran []string
	out map[string]string // command line -> output (success)
}

func (r *fakeServiceRunner) Run(_ context.Context, name string, args ...string) (string, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	r.ran = append(r.ran, line)
	if out, ok := r.out[line]; ok {
		return out, nil
	}
	if strings.Contains(line, "bootout") || strings.Contains(line, "print") {
		return "", &service.CommandError{Command: line, Output: "Could not find service", Err: errors.New("exit status 113")}
	}
	return "", nil
}

// fakeServiceSystem makes the service commands manage goos in a temp home
// with r as the service manager.
func fakeServiceSystem(t *testing.T, goos string, r service.Runner) (home, state string) {
	t.Helper()
	home, state = t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("OPENCLAW_STATE_DIR", state)
	t.Setenv("OPENCLAW_CONFIG_PATH", "")
	t.Setenv("OPENCLAW_GATEWAY_PORT", "")
	t.Setenv("OPENCLAW_LOG_LEVEL", "")
	oldOS, oldRunner, oldProg := serviceGOOS, serviceRunner, serviceProgram
	serviceGOOS, serviceRunner = goos, r
	serviceProgram = func() (string, error) { return "/usr/local/bin/openclaw", nil }
	t.Cleanup(func() { serviceGOOS, serviceRunner, serviceProgram = oldOS, oldRunner, oldProg })
	return home, state
}

func TestGatewayServiceLaunchd(t *testing.T) {
	r := &fakeServiceRunner{out: map[string]string{}}
	home, state := fakeServiceSystem(t, "darwin", r)
	plist := filepath.Join(home, "Library", "LaunchAgents", "ai.openclaw.gateway.plist")
	uid := strconv.Itoa(os.Getuid())

	code, out, errOut := runMain(t, "gateway", "install", "--dry-run")
	if code != 0 || !strings.Contains(out, "<string>/usr/local/bin/openclaw</string>\n\t\t<string>gateway</string>\n\t\t<string>serve</string>") ||
		!strings.Contains(out, "<key>OPENCLAW_STATE_DIR</key>\n\t\t<string>"+state+"</string>") ||
		!strings.Contains(out, "<string>"+filepath.Join(state, "logs", "gateway.log")+"</string>") {
		t.Fatalf("install --dry-run = %d\n%s", code, out)
	}
	wantErr := "Dry run: would write " + plist + " and run: launchctl enable gui/" + uid + "/ai.openclaw.gateway; launchctl bootstrap gui/" + uid + " " + plist + "\n"
	if errOut != wantErr {
		t.Errorf("install --dry-run stderr = %q, want %q", errOut, wantErr)
	}
	if _, err := os.Stat(plist); !errors.Is(err, os.ErrNotExist) || len(r.ran) != 0 {
		t.Fatalf("--dry-run wrote or ran something: %v, %v", err, r.ran)
	}

	code, out, errOut = runMain(t, "gateway", "install")
	want := "Wrote " + plist + ".\n" +
		"Ran: launchctl bootout gui/" + uid + "/ai.openclaw.gateway\n" +
		"Ran: launchctl enable gui/" + uid + "/ai.openclaw.gateway\n" +
		"Ran: launchctl bootstrap gui/" + uid + " " + plist + "\n" +
		"Check it with: openclaw gateway status\n"
	if code != 0 || out != want || errOut != "" {
		t.Fatalf("install = %d\n%s\nstderr %s\nwant\n%s", code, out, errOut, want)
	}
	if st, err := os.Stat(filepath.Join(state, "logs")); err != nil || !st.IsDir() {
		t.Errorf("log dir not made: %v", err)
	}

	// status: the job's state from launchctl print; a port nothing listens on.
	r.out["launchctl print gui/"+uid+"/ai.openclaw.gateway"] = "gui/" + uid + "/ai.openclaw.gateway = {\n\tstate = running\n}\n"
	port := serviceTestPort(t)
	code, out, errOut = runMain(t, "gateway", "status", "--port", strconv.Itoa(port))
	want = "Service: installed, running (" + plist + ")\nGateway: not answering at http://127.0.0.1:" + strconv.Itoa(port) + "\n"
	if code != 1 || out != want || !strings.HasPrefix(errOut, "error: nothing listens on 127.0.0.1:"+strconv.Itoa(port)+" (connection refused)") {
		t.Errorf("status = %d\n%s\nstderr %s\nwant\n%s", code, out, errOut, want)
	}

	r.ran = nil
	code, out, errOut = runMain(t, "gateway", "uninstall")
	want = "Ran: launchctl bootout gui/" + uid + "/ai.openclaw.gateway\nRemoved " + plist + ".\n"
	if code != 0 || out != want || errOut != "" {
		t.Errorf("uninstall = %d\n%s\nstderr %s\nwant\n%s", code, out, errOut, want)
	}
	if _, err := os.Stat(plist); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plist still there: %v", err)
	}
}

func TestGatewayServiceUnsupported(t *testing.T) {
	r := &fakeServiceRunner{}
	fakeServiceSystem(t, "windows", r)
	msg := "error: no supported service manager on windows: install supports Linux (systemd) and macOS (launchd); run 'openclaw gateway serve' under your own service manager\n"
	for _, args := range [][]string{{"gateway", "install"}, {"gateway", "install", "--dry-run"}, {"gateway", "uninstall"}} {
		if code, out, errOut := runMain(t, args...); code != 1 || out != "" || errOut != msg {
			t.Errorf("%v = %d, %q, %q", args, code, out, errOut)
		}
	}
	// status still checks the gateway.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	code, out, errOut := runMain(t, "gateway", "status", "--port", port)
	want := "Service: not supported on windows\nGateway: ready at http://127.0.0.1:" + port + "\n"
	if code != 0 || out != want || errOut != "" {
		t.Errorf("status = %d\n%s\nstderr %s", code, out, errOut)
	}
	code, out, _ = runMain(t, "gateway", "status", "--port", port, "--json")
	if code != 0 || !strings.Contains(out, "\"service\": {\n    \"installed\": false\n  }") {
		t.Errorf("status --json = %d\n%s", code, out)
	}
	if len(r.ran) != 0 {
		t.Errorf("ran %v on a system without a service manager", r.ran)
	}
}

func TestProbeReady(t *testing.T) {
	status := http.StatusOK
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == 0 {
			<-block
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	defer close(block)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tt := range []struct {
		status int
		want   string
	}{
		{200, ""},
		{503, "the gateway on " + addr + " is not ready (503): it is starting or shutting down"},
		{404, addr + " answered /readyz with 404 Not Found: is something other than the gateway on that port?"},
		{0, addr + " did not answer /readyz within 50ms"},
	} {
		status = tt.status
		if got := probeReady(context.Background(), addr, 50*time.Millisecond); got != tt.want {
			t.Errorf("status %d: %q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestStatusAddr(t *testing.T) {
	t.Setenv("OPENCLAW_GATEWAY_PORT", "")
	cfg := func(bind, host string, port int) *config.Config {
		c := config.Default()
		c.Gateway.Bind, c.Gateway.CustomBindHost, c.Gateway.Port = bind, host, port
		return c
	}
	for _, tt := range []struct {
		cfg  *config.Config
		flag int
		env  string
		want string
		err  string
	}{
		{cfg("loopback", "", 18789), -1, "", "127.0.0.1:18789", ""},
		{cfg("lan", "", 18789), -1, "", "127.0.0.1:18789", ""},
		{cfg("custom", "10.1.2.3", 19000), -1, "", "10.1.2.3:19000", ""},
		{cfg("custom", "0.0.0.0", 19000), -1, "", "127.0.0.1:19000", ""},
		{cfg("loopback", "", 18789), -1, "19001", "127.0.0.1:19001", ""},
		{cfg("loopback", "", 18789), 19002, "19001", "127.0.0.1:19002", ""},
		{cfg("loopback", "", 0), -1, "", "", "the gateway port is 0 (a free port picked at start): give the port it listens on with --port"},
		{cfg("loopback", "", 1), 70000, "", "", "--port 70000 is not a port number (0-65535)"},
		{cfg("loopback", "", 1), -1, "x", "", `OPENCLAW_GATEWAY_PORT="x" is not a port number (0-65535)`},
	} {
		t.Setenv("OPENCLAW_GATEWAY_PORT", tt.env)
		host, port, err := statusAddr(tt.cfg, tt.flag)
		if tt.err != "" {
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != ExitUsage || err.Error() != tt.err {
				t.Errorf("statusAddr(%+v, %d, %q) error = %v, want %q", tt.cfg.Gateway, tt.flag, tt.env, err, tt.err)
			}
			continue
		}
		if got := net.JoinHostPort(host, strconv.Itoa(port)); err != nil || got != tt.want {
			t.Errorf("statusAddr(%+v, %d, %q) = %s, %v; want %s", tt.cfg.Gateway, tt.flag, tt.env, got, err, tt.want)
		}
	}
}

func serviceTestPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
