package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/agent"
	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/gateway/ws"
	"github.com/openclaw/openclaw-go/pkg/gateway/wsclient"
)

func init() { gatewaySubcommands = append(gatewaySubcommands, newGatewayCallCmd) }

type gatewayCallOptions struct {
	params   string
	url      string
	token    string
	password string
	timeout  int
}

func newGatewayCallCmd(app *App) *cobra.Command {
	opts := &gatewayCallOptions{}
	cmd := &cobra.Command{
		Use:   "call <method>",
		Short: "Call a method of a running gateway over its WebSocket protocol",
		Long: `Call a method of a running gateway over its WebSocket protocol and print the
answer's payload as JSON.

Methods: health, status, agent, agent.abort, sessions.list, chat.history. For
agent, the final answer is printed (the first one only says the run was
accepted). The gateway is ws://127.0.0.1:<gateway.port> unless --url says
otherwise; the secret comes from --token/--password, else gateway.auth.token or
gateway.auth.password, else OPENCLAW_GATEWAY_TOKEN or OPENCLAW_GATEWAY_PASSWORD.

Exit codes: 0 ok, 1 the call failed or no gateway answered, 2 usage error,
124 timed out.`,
		Example: `  openclaw gateway call health
  openclaw gateway call sessions.list --params '{"limit":5}'
  openclaw gateway call agent --params '{"message":"hi","idempotencyKey":"k1"}' --timeout 600`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGatewayCall(cmd.Context(), app, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.params, "params", "", "the method's params as a JSON object")
	f.StringVar(&opts.url, "url", "", "the gateway's WebSocket URL (default ws://127.0.0.1:<gateway.port>)")
	f.StringVar(&opts.token, "token", "", "the gateway token (default gateway.auth.token, then OPENCLAW_GATEWAY_TOKEN)")
	f.StringVar(&opts.password, "password", "", "the gateway password (default gateway.auth.password, then OPENCLAW_GATEWAY_PASSWORD)")
	f.IntVar(&opts.timeout, "timeout", 30, "seconds to wait for the answer; 0 = no limit")
	return cmd
}

func runGatewayCall(ctx context.Context, app *App, method string, opts *gatewayCallOptions) error {
	var params json.RawMessage
	if strings.TrimSpace(opts.params) != "" {
		if t := bytes.TrimSpace([]byte(opts.params)); t[0] != '{' || !json.Valid(t) {
			return usageErr("--params must be a JSON object, like '{\"limit\":5}'")
		}
		params = json.RawMessage(opts.params)
	}
	if opts.timeout < 0 {
		return usageErr("--timeout %d: give 0 (no limit) or more seconds", opts.timeout)
	}
	lc, err := app.loadConfig()
	if err != nil {
		return err
	}
	target, err := resolveGatewayTarget(lc.cfg, opts.url, opts.token, opts.password)
	if err != nil {
		return err
	}
	gw, err := dialGateway(ctx, app, target, nil, 0)
	if err != nil {
		return exitErr(ExitFailure, "%v", err)
	}
	defer gw.Close()

	callCtx := ctx
	if opts.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, time.Duration(opts.timeout)*time.Second)
		defer cancel()
	}
	k, err := gw.Start(callCtx, method, params)
	if err != nil {
		return exitErr(ExitFailure, "%v", err)
	}
	defer k.Close()
	for {
		f, err := k.Next(callCtx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return exitErr(ExitTimeout, "no answer to %s within %ds (raise --timeout)", method, opts.timeout)
			}
			return exitErr(ExitFailure, "%v", err)
		}
		// The agent method answers "accepted" first; the final answer follows.
		if f.OK && method == "agent" && isAccepted(f.Payload) {
			continue
		}
		if len(f.Payload) > 0 {
			if err := printJSON(app, f.Payload); err != nil {
				return err
			}
		}
		if !f.OK {
			if f.Error == nil {
				return exitErr(ExitFailure, "%s failed", method)
			}
			if method == "agent" && len(f.Error.Details) > 0 {
				return runError(gatewayRunError(f.Error))
			}
			return exitErr(ExitFailure, "%s (%s)", f.Error.Message, f.Error.Code)
		}
		return nil
	}
}

func isAccepted(payload json.RawMessage) bool {
	var p struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(payload, &p) == nil && p.Status == "accepted"
}

// printJSON prints a payload indented, like every --json output.
func printJSON(app *App, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return exitErr(ExitFailure, "the gateway sent invalid JSON: %v", err)
	}
	buf.WriteByte('\n')
	_, err := app.IO.Out.Write(buf.Bytes())
	return err
}

// gatewayTarget is where a running gateway is and the secret to give it.
type gatewayTarget struct {
	url      string
	token    string
	password string
}

// resolveGatewayTarget finds the local gateway: --url, else
// ws://127.0.0.1:<port> with the port from OPENCLAW_GATEWAY_PORT or
// gateway.port (the custom bind host when gateway.bind is custom). The
// secrets: flags, then the config, then the environment, as the daemon
// reads them.
func resolveGatewayTarget(cfg *config.Config, flagURL, flagToken, flagPassword string) (gatewayTarget, error) {
	t := gatewayTarget{
		token:    firstSet(flagToken, cfg.Gateway.Auth.Token, os.Getenv("OPENCLAW_GATEWAY_TOKEN")),
		password: firstSet(flagPassword, cfg.Gateway.Auth.Password, os.Getenv("OPENCLAW_GATEWAY_PASSWORD")),
	}
	if flagURL != "" {
		u, err := wsclient.NormalizeURL(flagURL)
		if err != nil {
			return t, usageErr("--url: %v", err)
		}
		t.url = u
		return t, nil
	}
	port := cfg.Gateway.Port
	if v := os.Getenv("OPENCLAW_GATEWAY_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return t, usageErr("OPENCLAW_GATEWAY_PORT=%q is not a port number (0-65535)", v)
		}
		port = p
	}
	host := "127.0.0.1"
	if h := cfg.Gateway.CustomBindHost; cfg.Gateway.Bind == "custom" && h != "" && h != "0.0.0.0" && h != "::" {
		host = h
	}
	t.url = "ws://" + net.JoinHostPort(host, strconv.Itoa(port))
	return t, nil
}

// dialGateway connects to the gateway as the CLI; onEvent receives the
// connection's events. A failure is a *wsclient.DialError.
func dialGateway(ctx context.Context, app *App, t gatewayTarget, onEvent func(ws.Frame), timeout time.Duration) (*wsclient.Client, error) {
	version := app.Build.Version
	if version == "" {
		version = "dev"
	}
	return wsclient.Dial(ctx, wsclient.Options{
		URL: t.url, Token: t.token, Password: t.password, OnEvent: onEvent, HandshakeTimeout: timeout,
		Client: ws.ClientInfo{ID: "cli", Mode: "cli", Version: version, Platform: runtime.GOOS},
	})
}

// gatewayRunError turns a failed run's error from the gateway into the
// runner's error, so that the exit code and message are the same as for a
// run in this process.
func gatewayRunError(es *ws.ErrorShape) error {
	var d ws.ErrorDetails
	_ = json.Unmarshal(es.Details, &d)
	kind := agent.ErrorKind(d.Kind)
	if kind == "" {
		kind = agent.ErrInternal
	}
	return &agent.Error{Kind: kind, Msg: es.Message}
}

// errGatewayLost is a connection that ended while a run was in flight.
func errGatewayLost(err error) error {
	return &agent.Error{Kind: agent.ErrInternal, Msg: fmt.Sprintf("lost the connection to the gateway: %v", err)}
}
