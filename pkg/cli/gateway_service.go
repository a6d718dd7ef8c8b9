package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/service"
)

func init() {
	gatewaySubcommands = append(gatewaySubcommands, newGatewayInstallCmd, newGatewayUninstallCmd, newGatewayStatusCmd)
}

// The system the service commands manage, and how they run its service
// manager; in-process tests replace them.
var (
	serviceGOOS                   = runtime.GOOS
	serviceRunner  service.Runner = service.ExecRunner{}
	serviceProgram                = currentProgram
)

func serviceManager() (*service.Manager, error) {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return nil, exitErr(ExitFailure, "cannot find the home directory: set HOME")
	}
	m, err := service.New(serviceGOOS, home, os.Getenv, os.Getuid(), serviceRunner)
	if err != nil {
		return nil, exitErr(ExitFailure, "%v", err)
	}
	return m, nil
}

// currentProgram is the binary the service should run: this one. The path
// it was started by wins over the resolved one when both are the same file,
// so that a symlink (a package manager's bin/openclaw) keeps pointing at
// the version installed later.
func currentProgram() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the openclaw binary: %w", err)
	}
	if p, err := exec.LookPath(os.Args[0]); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			a, errA := os.Stat(abs)
			b, errB := os.Stat(exe)
			if errA == nil && errB == nil && os.SameFile(a, b) {
				return abs, nil
			}
		}
	}
	return exe, nil
}

// serviceSpec is what the service runs: this binary's gateway serve, with
// the state dir and config file of this invocation.
func serviceSpec(lc *loadedConfig) (service.Spec, error) {
	prog, err := serviceProgram()
	if err != nil {
		return service.Spec{}, exitErr(ExitFailure, "%v", err)
	}
	return service.Spec{
		Program: prog,
		Args:    []string{"gateway", "serve"},
		Env: []service.EnvVar{
			{Name: config.EnvStateDir, Value: lc.stateDir},
			{Name: config.EnvConfigPath, Value: lc.path},
		},
		LogFile: filepath.Join(lc.stateDir, "logs", "gateway.log"),
	}, nil
}

func commandLine(args []string) string { return strings.Join(args, " ") }

// --- install

type gatewayInstallOptions struct {
	IO      IO
	NoStart bool
	DryRun  bool
}

func newGatewayInstallCmd(app *App) *cobra.Command {
	opts := &gatewayInstallOptions{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Run the gateway as a background service of your user",
		Long: `Install the gateway as a service of your user that starts at login and
restarts after a failure (not after a config error, exit 78):

  Linux  a systemd user unit, ~/.config/systemd/user/openclaw-gateway.service,
         then systemctl --user daemon-reload and enable --now
  macOS  a launchd agent, ~/Library/LaunchAgents/ai.openclaw.gateway.plist,
         then launchctl enable and bootstrap (logs in <state>/logs/gateway.log)

The service runs this binary's 'gateway serve' with OPENCLAW_STATE_DIR and
OPENCLAW_CONFIG_PATH set to the ones in use now, so it finds the same config.
Installing again rewrites the file and restarts a running service that
changed. --no-start only writes the file; --dry-run prints it and changes
nothing.`,
		Example: `  openclaw gateway install --dry-run
  openclaw gateway install
  openclaw gateway status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = app.IO
			return runGatewayInstall(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoStart, "no-start", false, "write the service file only; do not enable or start it")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the service file and what would run; change nothing")
	return cmd
}

func runGatewayInstall(ctx context.Context, app *App, opts *gatewayInstallOptions) error {
	lc, err := app.loadConfig()
	if err != nil {
		return err
	}
	m, err := serviceManager()
	if err != nil {
		return err
	}
	spec, err := serviceSpec(lc)
	if err != nil {
		return err
	}
	if strings.Contains(spec.Program, "go-build") {
		fmt.Fprintf(opts.IO.Err, "warning: %s looks like a temporary build of 'go run', which goes away; install a built binary instead\n", spec.Program)
	}
	if opts.DryRun {
		data, err := m.Render(spec)
		if err != nil {
			return exitErr(ExitFailure, "%v", err)
		}
		opts.IO.Out.Write(data)
		fmt.Fprintf(opts.IO.Err, "Dry run: would write %s", m.Path())
		if !opts.NoStart {
			var cmds []string
			for _, c := range m.StartCommands() {
				cmds = append(cmds, commandLine(c))
			}
			fmt.Fprintf(opts.IO.Err, " and run: %s", strings.Join(cmds, "; "))
		}
		fmt.Fprintln(opts.IO.Err)
		return nil
	}
	res, err := m.Install(ctx, spec, !opts.NoStart)
	if err != nil {
		if len(res.Ran) == 0 {
			return exitErr(ExitFailure, "%v", err)
		}
		return exitErr(ExitFailure, "wrote %s, but %v\nfix that and run 'openclaw gateway install' again, or use --no-start to only write the file", m.Path(), err)
	}
	fmt.Fprintf(opts.IO.Out, "Wrote %s.\n", m.Path())
	if opts.NoStart {
		var cmds []string
		for _, c := range m.StartCommands() {
			cmds = append(cmds, commandLine(c))
		}
		fmt.Fprintf(opts.IO.Out, "Not started (--no-start). Start it with: %s\n", strings.Join(cmds, " && "))
		return nil
	}
	for _, c := range res.Ran {
		fmt.Fprintf(opts.IO.Out, "Ran: %s\n", commandLine(c))
	}
	fmt.Fprintln(opts.IO.Out, "Check it with: openclaw gateway status")
	if m.Kind == service.Systemd {
		fmt.Fprintln(opts.IO.Out, "To keep it running after you log out: loginctl enable-linger")
	}
	return nil
}

// --- uninstall

type gatewayUninstallOptions struct{ IO IO }

func newGatewayUninstallCmd(app *App) *cobra.Command {
	opts := &gatewayUninstallOptions{}
	return &cobra.Command{
		Use:   "uninstall",
		Short: "Stop the gateway service and remove it",
		Long: `Stop and disable the gateway service 'openclaw gateway install' set up, and
remove its file. The file is removed even when the service manager fails to
stop it (exit 1 then says so). The config and the sessions stay.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = app.IO
			return runGatewayUninstall(cmd.Context(), opts)
		},
	}
}

func runGatewayUninstall(ctx context.Context, opts *gatewayUninstallOptions) error {
	m, err := serviceManager()
	if err != nil {
		return err
	}
	ran, err := m.Uninstall(ctx)
	for _, c := range ran {
		fmt.Fprintf(opts.IO.Out, "Ran: %s\n", commandLine(c))
	}
	if err != nil {
		return exitErr(ExitFailure, "%v", err)
	}
	fmt.Fprintf(opts.IO.Out, "Removed %s.\n", m.Path())
	return nil
}

// --- status

type gatewayStatusOptions struct {
	IO      IO
	Port    int
	JSON    bool
	Timeout time.Duration
}

// statusJSON is `gateway status --json`.
type statusJSON struct {
	Service struct {
		Manager   string `json:"manager,omitempty"` // systemd | launchd; empty: none here
		Path      string `json:"path,omitempty"`
		Installed bool   `json:"installed"`
		State     string `json:"state,omitempty"`
	} `json:"service"`
	Gateway struct {
		URL    string `json:"url"`
		Ready  bool   `json:"ready"`
		Reason string `json:"reason,omitempty"`
	} `json:"gateway"`
}

func newGatewayStatusCmd(app *App) *cobra.Command {
	opts := &gatewayStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the gateway service is installed and the gateway answers",
		Long: `Show whether the gateway service is installed (and what its service manager
says of it), and whether a gateway answers GET /readyz on the configured port
(--port, else OPENCLAW_GATEWAY_PORT, else gateway.port).

Exit 0 when the gateway answers ready, 1 otherwise, with the reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = app.IO
			if !cmd.Flags().Changed("port") {
				opts.Port = -1
			}
			return runGatewayStatus(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Port, "port", config.DefaultPort, "the port to check (env OPENCLAW_GATEWAY_PORT)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the status as JSON")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 3*time.Second, "how long to wait for /readyz")
	return cmd
}

func runGatewayStatus(ctx context.Context, app *App, opts *gatewayStatusOptions) error {
	lc, err := app.loadConfig()
	if err != nil {
		return err
	}
	var st statusJSON
	m, merr := serviceManager()
	if merr == nil {
		st.Service.Manager, st.Service.Path = string(m.Kind), m.Path()
		if st.Service.Installed, err = m.Installed(); err != nil {
			return exitErr(ExitFailure, "%v", err)
		}
		if st.Service.Installed {
			st.Service.State = m.State(ctx)
		}
	}

	host, port, err := statusAddr(lc.cfg, opts.Port)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	st.Gateway.URL = "http://" + addr
	st.Gateway.Reason = probeReady(ctx, addr, opts.Timeout)
	st.Gateway.Ready = st.Gateway.Reason == ""

	if opts.JSON {
		if err := writeJSONDoc(opts.IO.Out, st); err != nil {
			return err
		}
	} else {
		switch {
		case merr != nil:
			fmt.Fprintf(opts.IO.Out, "Service: not supported on %s\n", serviceGOOS)
		case !st.Service.Installed:
			fmt.Fprintf(opts.IO.Out, "Service: not installed (%s)\n", st.Service.Path)
		case st.Service.State != "":
			fmt.Fprintf(opts.IO.Out, "Service: installed, %s (%s)\n", st.Service.State, st.Service.Path)
		default:
			fmt.Fprintf(opts.IO.Out, "Service: installed (%s)\n", st.Service.Path)
		}
		if st.Gateway.Ready {
			fmt.Fprintf(opts.IO.Out, "Gateway: ready at %s\n", st.Gateway.URL)
		} else {
			fmt.Fprintf(opts.IO.Out, "Gateway: not answering at %s\n", st.Gateway.URL)
		}
	}
	if !st.Gateway.Ready {
		return exitErr(ExitFailure, "%s", st.Gateway.Reason)
	}
	return nil
}

// statusAddr is where a gateway of this config listens, as seen from here.
func statusAddr(cfg *config.Config, flagPort int) (string, int, error) {
	port := cfg.Gateway.Port
	if v := os.Getenv("OPENCLAW_GATEWAY_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return "", 0, usageErr("OPENCLAW_GATEWAY_PORT=%q is not a port number (0-65535)", v)
		}
		port = p
	}
	if flagPort >= 0 {
		if flagPort > 65535 {
			return "", 0, usageErr("--port %d is not a port number (0-65535)", flagPort)
		}
		port = flagPort
	}
	if port == 0 {
		return "", 0, usageErr("the gateway port is 0 (a free port picked at start): give the port it listens on with --port")
	}
	host := "127.0.0.1"
	if cfg.Gateway.Bind == "custom" && cfg.Gateway.CustomBindHost != "" {
		if ip := net.ParseIP(cfg.Gateway.CustomBindHost); ip == nil || !ip.IsUnspecified() {
			host = cfg.Gateway.CustomBindHost
		}
	}
	return host, port, nil
}

// probeReady asks addr's /readyz and returns why it is not ready, or "".
func probeReady(ctx context.Context, addr string, timeout time.Duration) string {
	url := "http://" + addr + "/readyz"
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return fmt.Sprintf("nothing listens on %s (connection refused): start the gateway with 'openclaw gateway serve' or 'openclaw gateway install'", addr)
		case errors.As(err, &ne) && ne.Timeout():
			return fmt.Sprintf("%s did not answer %s within %s", addr, "/readyz", timeout)
		}
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return fmt.Sprintf("cannot reach %s: %v", addr, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return ""
	case http.StatusServiceUnavailable:
		return fmt.Sprintf("the gateway on %s is not ready (503): it is starting or shutting down", addr)
	}
	return fmt.Sprintf("%s answered /readyz with %s: is something other than the gateway on that port?", addr, resp.Status)
}
