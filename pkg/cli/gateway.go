package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/log"
	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/gateway"
)

func init() { register(newGatewayCmd) }

type gatewayOptions struct {
	port         int
	bind         string
	auth         string
	token        string
	password     string
	passwordFile string
	verbose      bool
}

func newGatewayCmd(app *App) *cobra.Command {
	opts := &gatewayOptions{}
	serve := func(cmd *cobra.Command, _ []string) error {
		if !cmd.Flags().Changed("port") {
			opts.port = -1
		}
		return runGatewayServe(cmd.Context(), app, opts)
	}
	addFlags := func(c *cobra.Command) {
		f := c.Flags()
		f.IntVar(&opts.port, "port", config.DefaultPort, "port to listen on; 0 picks a free port (env OPENCLAW_GATEWAY_PORT)")
		f.StringVar(&opts.bind, "bind", "", "loopback, lan or custom (gateway.customBindHost)")
		f.StringVar(&opts.auth, "auth", "", "auth mode: none, token or password")
		f.StringVar(&opts.token, "token", "", "the bearer token clients must send (wins over config and env)")
		f.StringVar(&opts.password, "password", "", "the password clients must send as bearer secret")
		f.StringVar(&opts.passwordFile, "password-file", "", "read the password from this file")
		f.BoolVar(&opts.verbose, "verbose", false, "log at debug level")
		c.MarkFlagsMutuallyExclusive("password", "password-file")
	}
	long := `Run the gateway daemon: the OpenAI-compatible HTTP API on one port.

A fresh machine needs no config: it listens on 127.0.0.1:18789 with token auth,
generating a token on first start (read it with
'openclaw config get gateway.auth.token --show-secrets').
SIGINT/SIGTERM drain in-flight requests (up to 10 s) and exit 0; SIGHUP or a
change of the config file reloads the config live.`
	serveCmd := &cobra.Command{Use: "serve", Aliases: []string{"run"}, Short: "Run the gateway daemon", Long: long, Args: cobra.NoArgs, RunE: serve}
	addFlags(serveCmd)
	cmd := &cobra.Command{Use: "gateway", Short: "Run the gateway daemon (same as gateway serve)", Long: long, Args: cobra.NoArgs, RunE: serve}
	addFlags(cmd)
	cmd.AddCommand(serveCmd)
	for _, sub := range gatewaySubcommands {
		cmd.AddCommand(sub(app))
	}
	return cmd
}

// gatewaySubcommands are the other `openclaw gateway` subcommands, added by
// their own files in init functions (call, status, install, uninstall).
var gatewaySubcommands []func(*App) *cobra.Command

const drainTimeout = 10 * time.Second

func runGatewayServe(ctx context.Context, app *App, opts *gatewayOptions) error {
	lc, err := app.loadConfig()
	if err != nil {
		return err
	}
	cfg := lc.cfg
	// After loadConfig, which applies logging.level: --verbose wins over
	// it. The component loggers are derived after that, since charm log
	// copies the level and format into each derived logger.
	if opts.verbose {
		app.Log.SetLevel(log.DebugLevel)
	}
	lg := app.Log.WithPrefix("gateway")
	agentLog := app.Log.WithPrefix("agent")

	port := cfg.Gateway.Port
	if v := os.Getenv("OPENCLAW_GATEWAY_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return usageErr("OPENCLAW_GATEWAY_PORT=%q is not a port number (0-65535)", v)
		}
		port = p
	}
	if opts.port >= 0 {
		if opts.port > 65535 {
			return usageErr("--port %d is not a port number (0-65535)", opts.port)
		}
		port = opts.port
	}
	bind := cfg.Gateway.Bind
	if opts.bind != "" {
		bind = opts.bind
	}
	var host string
	switch bind {
	case "loopback", "":
		host = "127.0.0.1"
	case "lan":
		host = "0.0.0.0"
	case "custom":
		host = cfg.Gateway.CustomBindHost
		if host == "" {
			return exitErr(ExitConfig, "gateway.bind is custom but gateway.customBindHost is empty: set it with 'openclaw config set gateway.customBindHost <ip>'")
		}
	default:
		return usageErr("--bind %q: use loopback, lan or custom", bind)
	}
	ov := gateway.AuthOverride{Mode: opts.auth, Token: opts.token, Password: opts.password,
		EnvToken: os.Getenv("OPENCLAW_GATEWAY_TOKEN"), EnvPass: os.Getenv("OPENCLAW_GATEWAY_PASSWORD")}
	switch ov.Mode {
	case "", gateway.AuthNone, gateway.AuthToken, gateway.AuthPassword:
	default:
		return usageErr("--auth %q: use none, token or password", ov.Mode)
	}
	if opts.passwordFile != "" {
		b, err := os.ReadFile(opts.passwordFile)
		if err != nil {
			return usageErr("--password-file: %v", err)
		}
		ov.Password = strings.TrimRight(string(b), "\r\n")
	}
	mode := cfg.Gateway.Auth.Mode
	if ov.Mode != "" {
		mode = ov.Mode
	}
	if mode == gateway.AuthNone && !isLoopbackHost(host) {
		return exitErr(ExitConfig, "refusing to listen on %s with auth mode none: anyone on the network could run agents; set a token (openclaw config set gateway.auth.mode token) or bind to loopback", host)
	}
	if mode == gateway.AuthToken && firstSet(ov.Token, cfg.Gateway.Auth.Token, ov.EnvToken) == "" {
		tok, err := generateToken()
		if err != nil {
			return err
		}
		if err := config.Set(lc.path, "gateway.auth.token", tok); err != nil {
			return exitErr(ExitConfig, "save the generated gateway token: %v", err)
		}
		cfg.Gateway.Auth.Token = tok
		lg.Info("generated a gateway token and saved it to the config; read it with: openclaw config get gateway.auth.token --show-secrets", "file", lc.path)
	}
	if mode == gateway.AuthPassword && firstSet(ov.Password, cfg.Gateway.Auth.Password, ov.EnvPass) == "" {
		return exitErr(ExitConfig, "auth mode password needs a password: --password-file FILE, OPENCLAW_GATEWAY_PASSWORD, or openclaw config set gateway.auth.password")
	}

	runner := agent.New(agent.Options{StateDir: lc.stateDir, Config: cfg, Log: agentLog})
	srv, err := gateway.New(gateway.Options{Runner: runner, Log: lg, Auth: ov, Version: app.Build.resolved().Version})
	if err != nil {
		return exitErr(ExitConfig, "%v", err)
	}
	ln, err := gateway.Listen(ctx, host, port)
	if err != nil {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		if errors.Is(err, syscall.EADDRINUSE) {
			return exitErr(ExitFailure, "listen on %s: the address is already in use (another gateway?); stop it or choose another port with --port", addr)
		}
		return exitErr(ExitFailure, "listen on %s: %v", addr, err)
	}
	hs := gateway.NewHTTPServer(srv, lg)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	srv.SetReady(true)
	lg.Info("listening", "addr", "http://"+ln.Addr().String(), "auth", mode, "chatCompletions", cfg.Gateway.HTTP.Endpoints.ChatCompletions.Enabled)

	reloads := make(chan os.Signal, 1)
	signal.Notify(reloads, syscall.SIGHUP)
	defer signal.Stop(reloads)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	changed := watchFile(watchCtx, lc.path, 500*time.Millisecond)

	reload := func(why string) {
		ok := false
		defer func() { srv.CountReload(ok) }() // metrics: reloads ok/failed
		next, err := config.Load(lc.path)
		if err != nil {
			lg.Error("config reload failed, keeping the old config", "why", why, "err", err)
			return
		}
		old := runner.Config()
		// The listener stays where it is: a reload must not turn auth off
		// on a network address any more than a start may.
		if m := firstSet(ov.Mode, next.Gateway.Auth.Mode); m == gateway.AuthNone && !isLoopbackHost(host) {
			lg.Error("config reload refused, keeping the old config", "why", why, "err", fmt.Sprintf("auth mode none on %s would let anyone on the network run agents", host))
			return
		}
		if err := srv.Apply(next); err != nil {
			lg.Error("config reload refused, keeping the old config", "why", why, "err", err)
			return
		}
		if next.Gateway.Port != old.Gateway.Port || next.Gateway.Bind != old.Gateway.Bind || next.Gateway.CustomBindHost != old.Gateway.CustomBindHost {
			lg.Warn("gateway.port and gateway.bind apply on restart")
		}
		app.applyLogConfig(next.Logging.Level, next.Logging.Format)
		if opts.verbose {
			app.Log.SetLevel(log.DebugLevel)
		}
		// The derived loggers follow: logging.level and logging.format
		// apply live (flags and OPENCLAW_LOG_LEVEL still win, as in
		// applyLogConfig, which left app.Log alone then).
		for _, l := range []*log.Logger{lg, agentLog} {
			l.SetLevel(app.Log.GetLevel())
			if app.logFormat == "" {
				if f, err := parseLogFormat(next.Logging.Format); err == nil {
					l.SetFormatter(f)
				}
			}
		}
		lg.Info("config reloaded", "why", why, "chatCompletions", next.Gateway.HTTP.Endpoints.ChatCompletions.Enabled)
		ok = true
	}

	for {
		select {
		case err := <-serveErr:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return exitErr(ExitFailure, "serve: %v", err)
		case <-reloads:
			reload("SIGHUP")
		case <-changed:
			reload("file changed")
		case <-ctx.Done():
			srv.SetReady(false)
			lg.Info("shutting down, draining in-flight requests", "timeout", drainTimeout)
			sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			err := hs.Shutdown(sctx)
			// Shutdown does not wait for hijacked (WebSocket) connections:
			// their runs get the rest of the same drain time.
			if werr := srv.CloseWebSockets(sctx); err == nil {
				err = werr
			}
			cancel()
			if err != nil {
				lg.Warn("drain timed out, closing the rest", "err", err)
				hs.Close()
			}
			lg.Info("stopped")
			return nil
		}
	}
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func generateToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// watchFile reports changes of the file at path by polling: the config is
// replaced by rename, so the identity (inode), size and mtime are compared.
// Polling is portable and cheap at this interval.
func watchFile(ctx context.Context, path string, every time.Duration) <-chan struct{} {
	ch := make(chan struct{}, 1)
	sig := func() string {
		st, err := os.Stat(path)
		if err != nil {
			return "missing"
		}
		return fmt.Sprintf("%d/%d/%v", st.Size(), st.ModTime().UnixNano(), fileID(st))
	}
	last := sig()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if cur := sig(); cur != last {
					last = cur
					select {
					case ch <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	return ch
}
