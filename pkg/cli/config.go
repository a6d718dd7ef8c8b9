package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/config"
)

func init() { register(newConfigCmd) }

func newConfigCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and edit the configuration file",
		Long: `Read and edit openclaw's TOML configuration file.

The file is $OPENCLAW_CONFIG_PATH, else <state dir>/openclaw.toml, where the state
dir is $OPENCLAW_STATE_DIR, else ~/.openclaw. Keys are paths such as gateway.port
or agents.list[0].id; a numeric segment indexes an array and \. is a dot inside
a key. Every change is checked against the schema before the file is written,
the write is atomic, and the previous file is kept as openclaw.toml.bak
(older ones as .bak.1 to .bak.4). Comments in the file are not kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newConfigGetCmd(app),
		newConfigSetCmd(app),
		newConfigUnsetCmd(app),
		newConfigFileCmd(app),
		newConfigValidateCmd(app),
		newConfigListCmd(app),
	)
	for _, sub := range configSubcommands {
		cmd.AddCommand(sub(app))
	}
	return cmd
}

// configSubcommands are further `openclaw config` subcommands, added by
// their own files in init functions (import).
var configSubcommands []func(*App) *cobra.Command

// configErr turns an error of the config package into exit 1 (a problem
// with the config, not with how the command was called).
func configErr(err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: ExitFailure, Err: err}
}

// configFile is the config file in use.
func configFile() (string, error) {
	f, err := config.FilePath()
	if err != nil {
		return "", configErr(err)
	}
	return f, nil
}

// --- get

type configGetOptions struct {
	IO          IO
	Path        string
	JSON        bool
	ShowSecrets bool
}

func newConfigGetCmd(app *App) *cobra.Command {
	opts := &configGetOptions{}
	cmd := &cobra.Command{
		Use:   "get <path>",
		Short: "Print the value in effect at a path",
		Long: `Print the value in effect at a path: the file's, else the default.

Strings, numbers and booleans print raw; tables and arrays as JSON (--json:
always JSON). Secrets (token, password, apiKey, provider headers) print as
__OPENCLAW_REDACTED__ unless --show-secrets.`,
		Example: `  openclaw config get gateway.port
  openclaw config get gateway.auth.token --show-secrets
  openclaw config get agents.list --json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeConfigPath,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Path = app.IO, args[0]
			return runConfigGet(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the value as JSON")
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "print secrets instead of "+config.RedactedValue)
	return cmd
}

func runConfigGet(_ context.Context, opts *configGetOptions) error {
	file, err := configFile()
	if err != nil {
		return err
	}
	v, err := config.Get(file, opts.Path)
	if err != nil {
		return configErr(err)
	}
	if !opts.ShowSecrets {
		v = config.Redact(opts.Path, v)
	}
	if opts.JSON {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return configErr(err)
		}
		fmt.Fprintln(opts.IO.Out, string(b))
		return nil
	}
	fmt.Fprintln(opts.IO.Out, config.FormatRaw(v))
	return nil
}

// --- set

type configSetOptions struct {
	IO         IO
	Path       string
	Value      string
	StrictJSON bool
}

func newConfigSetCmd(app *App) *cobra.Command {
	opts := &configSetOptions{}
	cmd := &cobra.Command{
		Use:   "set <path> <value>",
		Short: "Set the value at a path",
		Long: `Set the value at a path, creating missing tables and arrays.

The value is read as a JSON or TOML literal (true, 19001, "x", [..], {..}) and,
when it is not one, taken as a raw string; a number or boolean given to a
string key is taken as a string. --strict-json makes a value that is not JSON
an error. The whole file is checked before it is written: a change that makes
it invalid is refused and the file is left as it was. Problems the file
already has elsewhere do not block the change, so a broken file can be
repaired.

Keys ([] is an array index, * any name; "restart": a running gateway applies
the change only after a restart):

` + keysHelp(),
		Example: `  openclaw config set gateway.port 19001
  openclaw config set gateway.http.endpoints.chatCompletions.enabled true
  openclaw config set agents.defaults.model '{"primary":"openai/gpt-4o","fallbacks":["anthropic/claude-sonnet-4"]}'
  openclaw config set agents.list[0].id work`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeConfigSet,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Path, opts.Value = app.IO, args[0], args[1]
			return runConfigSet(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.StrictJSON, "strict-json", false, "the value must be valid JSON")
	return cmd
}

func runConfigSet(_ context.Context, opts *configSetOptions) error {
	file, err := configFile()
	if err != nil {
		return err
	}
	if err := config.CheckPath(opts.Path); err != nil {
		return configErr(err)
	}
	v, err := config.ParseValueFor(opts.Path, opts.Value, opts.StrictJSON)
	if err != nil {
		return configErr(err)
	}
	if err := config.Set(file, opts.Path, v); err != nil {
		return configErr(err)
	}
	fmt.Fprintf(opts.IO.Out, "Updated %s.%s\n", opts.Path, applyNote(opts.Path))
	return nil
}

// applyNote says whether a running gateway picks a change up by itself.
func applyNote(path string) string {
	live, known := config.IsLive(path)
	switch {
	case !known:
		return ""
	case live:
		return " A running gateway applies it live."
	}
	return " Restart a running gateway to apply it."
}

// keysHelp lists the settable keys of the registry with their type and
// default, for the help of config set.
func keysHelp() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, k := range config.Keys() {
		if k.Type == config.TypeTable && !strings.HasSuffix(k.Path, "[]") && !strings.HasSuffix(k.Path, "*") {
			continue
		}
		typ := k.Type.String()
		if len(k.Enum) > 0 {
			typ = strings.Join(k.Enum, "|")
			if k.Type == config.TypeStringList {
				typ = "[]" + typ
			}
		}
		desc := typ
		if k.Default != nil {
			if s, ok := k.Default.(string); ok {
				desc += ", default " + s
			} else {
				desc += ", default " + config.FormatValue(k.Default)
			}
		}
		if live, _ := config.IsLive(k.Path); !live {
			desc += ", restart"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", k.Path, desc)
	}
	_ = tw.Flush()
	// tabwriter pads the last column too; drop trailing blanks.
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// --- unset

type configUnsetOptions struct {
	IO   IO
	Path string
}

func newConfigUnsetCmd(app *App) *cobra.Command {
	opts := &configUnsetOptions{}
	cmd := &cobra.Command{
		Use:   "unset <path>",
		Short: "Remove the value at a path",
		Long: `Remove the value at a path from the file, so that its default applies again.

Keys the schema does not know can be removed too: that is how a file with an
unknown key is repaired. Removing an array element shifts the ones after it.`,
		Example: `  openclaw config unset gateway.port
  openclaw config unset agents.list[1]`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeConfigPath,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Path = app.IO, args[0]
			return runConfigUnset(cmd.Context(), opts)
		},
	}
	return cmd
}

func runConfigUnset(_ context.Context, opts *configUnsetOptions) error {
	file, err := configFile()
	if err != nil {
		return err
	}
	if err := config.Unset(file, opts.Path); err != nil {
		return configErr(err)
	}
	fmt.Fprintf(opts.IO.Out, "Removed %s.%s\n", opts.Path, applyNote(opts.Path))
	return nil
}

// --- file

type configFileOptions struct{ IO IO }

func newConfigFileCmd(app *App) *cobra.Command {
	opts := &configFileOptions{}
	return &cobra.Command{
		Use:   "file",
		Short: "Print the path of the config file in use",
		Long: `Print the path of the config file in use: $OPENCLAW_CONFIG_PATH, else
<state dir>/openclaw.toml ($OPENCLAW_STATE_DIR, else ~/.openclaw). The file
need not exist.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = app.IO
			return runConfigFile(cmd.Context(), opts)
		},
	}
}

func runConfigFile(_ context.Context, opts *configFileOptions) error {
	file, err := configFile()
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, file)
	return nil
}

// --- validate

type configValidateOptions struct {
	IO   IO
	JSON bool
}

func newConfigValidateCmd(app *App) *cobra.Command {
	opts := &configValidateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the config file against the schema",
		Long: `Check the config file: TOML syntax, unknown keys (with their line and a
did-you-mean hint), types, allowed values and ranges, and settings that depend
on each other. Exits 1 when the file is invalid. A missing file is valid (the
defaults apply).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = app.IO
			return runConfigValidate(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON: {valid, path, issues}")
	return cmd
}

func runConfigValidate(_ context.Context, opts *configValidateOptions) error {
	file, err := configFile()
	if err != nil {
		return err
	}
	issues, err := config.Check(file)
	if err != nil {
		return configErr(err)
	}
	if opts.JSON {
		if issues == nil {
			issues = []config.Issue{}
		}
		b, err := json.MarshalIndent(struct {
			Valid  bool           `json:"valid"`
			Path   string         `json:"path"`
			Issues []config.Issue `json:"issues"`
		}{len(issues) == 0, file, issues}, "", "  ")
		if err != nil {
			return configErr(err)
		}
		fmt.Fprintln(opts.IO.Out, string(b))
		if len(issues) > 0 {
			return &ExitError{Code: ExitFailure}
		}
		return nil
	}
	if len(issues) == 0 {
		note := ""
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			note = " (no file; the defaults apply)"
		}
		fmt.Fprintf(opts.IO.Out, "Config valid: %s%s\n", file, note)
		return nil
	}
	for _, is := range issues {
		fmt.Fprintln(opts.IO.Out, is.String(file))
	}
	return exitErr(ExitFailure, "config invalid: %d problem%s in %s", len(issues), plural(len(issues)), file)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// --- list

type configListOptions struct {
	IO          IO
	JSON        bool
	ShowSecrets bool
}

func newConfigListCmd(app *App) *cobra.Command {
	opts := &configListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print every key the file sets",
		Long: `Print every key the config file sets, one path = value a line, values as
JSON literals. Secrets are redacted unless --show-secrets. Keys left at their
default are not listed (see openclaw config get).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = app.IO
			return runConfigList(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON object of path: value")
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "print secrets instead of "+config.RedactedValue)
	return cmd
}

func runConfigList(_ context.Context, opts *configListOptions) error {
	file, err := configFile()
	if err != nil {
		return err
	}
	ents, err := config.Entries(file)
	if err != nil {
		return configErr(err)
	}
	if !opts.ShowSecrets {
		for i := range ents {
			ents[i].Value = config.Redact(ents[i].Path, ents[i].Value)
		}
	}
	if opts.JSON {
		var b strings.Builder
		b.WriteString("{")
		for i, e := range ents {
			if i > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(e.Path)
			fmt.Fprintf(&b, "\n  %s: %s", k, config.FormatValue(e.Value))
		}
		if len(ents) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("}")
		fmt.Fprintln(opts.IO.Out, b.String())
		return nil
	}
	if len(ents) == 0 {
		fmt.Fprintf(opts.IO.Err, "No keys are set in %s; the defaults apply.\n", file)
		return nil
	}
	for _, e := range ents {
		fmt.Fprintf(opts.IO.Out, "%s = %s\n", e.Path, config.FormatValue(e.Value))
	}
	return nil
}

// --- completion

// completeConfigPath completes key paths from the registry, with the
// entries of maps and arrays the file has.
func completeConfigPath(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var tree map[string]any
	if file, err := config.FilePath(); err == nil {
		tree, _ = config.ReadTree(file)
	}
	return config.CompletePaths(tree, toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeConfigSet completes the path, then the allowed values of it.
func completeConfigSet(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return completeConfigPath(cmd, args, toComplete)
	case 1:
		k, ok := config.LookupKey(args[0])
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var vals []string
		switch k.Type {
		case config.TypeEnum:
			vals = k.Enum
		case config.TypeBool:
			vals = []string{"true", "false"}
		}
		var out []string
		for _, v := range vals {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}
