package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/spf13/cobra"
)

func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "openclaw",
		Short: "Run AI agent turns from a terminal and serve them over an OpenAI-compatible API",
		Long: `openclaw runs AI agent turns from a terminal (openclaw agent) and serves them to
any OpenAI-compatible client as a daemon (openclaw gateway serve).

Configuration lives in a TOML file (openclaw config file prints its path) and is
edited with openclaw config set/unset.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return app.setupLogger()
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&app.logLevel, "log-level", "", "log level: debug, info, warn, error (env OPENCLAW_LOG_LEVEL)")
	pf.StringVar(&app.logFormat, "log-format", "", "log format: text, json, logfmt")

	for _, add := range commands {
		root.AddCommand(add(app))
	}
	return root
}

// commands lists the constructors of the top-level commands; each command
// file adds its own in an init function so files do not collide.
var commands []func(*App) *cobra.Command

func register(f func(*App) *cobra.Command) { commands = append(commands, f) }

// setupLogger builds the one logger of this invocation, on stderr. Flags win
// over the environment, which wins over the config file's logging section
// (applied later by commands that load config, see applyLogConfig).
func (a *App) setupLogger() error {
	level := a.logLevel
	if level == "" {
		level = os.Getenv("OPENCLAW_LOG_LEVEL")
	}
	l := log.NewWithOptions(a.IO.Err, log.Options{ReportTimestamp: true})
	if level != "" {
		lv, err := log.ParseLevel(strings.ToLower(level))
		if err != nil {
			return usageErr("invalid log level %q: use debug, info, warn or error", level)
		}
		l.SetLevel(lv)
	}
	if a.logFormat != "" {
		f, err := parseLogFormat(a.logFormat)
		if err != nil {
			return err
		}
		l.SetFormatter(f)
	}
	a.Log = l
	return nil
}

func parseLogFormat(s string) (log.Formatter, error) {
	switch strings.ToLower(s) {
	case "text":
		return log.TextFormatter, nil
	case "json":
		return log.JSONFormatter, nil
	case "logfmt":
		return log.LogfmtFormatter, nil
	}
	return 0, usageErr("invalid log format %q: use text, json or logfmt", s)
}

// applyLogConfig applies the config file's logging.level and logging.format
// where no flag or environment variable already chose them.
func (a *App) applyLogConfig(level, format string) {
	if a.Log == nil {
		return
	}
	if a.logLevel == "" && os.Getenv("OPENCLAW_LOG_LEVEL") == "" && level != "" {
		if lv, err := log.ParseLevel(level); err == nil {
			a.Log.SetLevel(lv)
		}
	}
	if a.logFormat == "" && format != "" {
		if f, err := parseLogFormat(format); err == nil {
			a.Log.SetFormatter(f)
		}
	}
}
