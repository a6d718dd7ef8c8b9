package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/config"
)

// config.go builds `openclaw config` with a fixed list of subcommands; add
// import to it as the tree is built. (This file's init runs after
// config.go's, which registered the constructor: Go runs a package's files
// in name order.)
func init() { configSubcommands = append(configSubcommands, newConfigImportCmd) }

type configImportOptions struct {
	IO        IO
	Source    string
	DryRun    bool
	ExpandEnv bool
}

func newConfigImportCmd(app *App) *cobra.Command {
	opts := &configImportOptions{}
	cmd := &cobra.Command{
		Use:   "import <openclaw.json>",
		Short: "Import the settings of an OpenClaw config (JSON5)",
		Long: `Import an existing OpenClaw config file (openclaw.json, JSON5: comments and
trailing commas are fine; - reads standard input) into this config.

Its keys have the same paths as here (gateway.port, gateway.auth.token,
agents.list, models.providers, ...). Every key this version supports is
carried over, secrets included; the others are listed on stderr with their
paths and why, and left out. The result is merged into the config file
(tables key by key, arrays and values replaced), checked like 'config set',
and written atomically with a backup; a result with problems is refused and
the file left as it was. --dry-run prints the file that would be written,
secrets redacted, and writes nothing. Secrets are never printed.

OpenClaw expands ${VAR} in strings; this file does not. Keys holding such
a reference are left out, unless --expand-env fills them in from the
environment now.`,
		Example: `  openclaw config import ~/.openclaw/openclaw.json --dry-run
  openclaw config import ~/.openclaw/openclaw.json --expand-env`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Source = app.IO, args[0]
			return runConfigImport(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the resulting config (secrets redacted) and write nothing")
	cmd.Flags().BoolVar(&opts.ExpandEnv, "expand-env", false, "fill in ${VAR} references from the environment")
	return cmd
}

func runConfigImport(_ context.Context, opts *configImportOptions) error {
	file, err := configFile()
	if err != nil {
		return err
	}
	var data []byte
	name := opts.Source
	if opts.Source == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(opts.IO.In)
	} else {
		data, err = os.ReadFile(opts.Source)
	}
	if err != nil {
		return exitErr(ExitFailure, "read %s: %v", name, unwrapPathError(err))
	}
	var iopts config.ImportOptions
	if opts.ExpandEnv {
		iopts.Getenv = os.LookupEnv
	}
	im, err := config.ImportOpenClaw(name, data, iopts)
	if err != nil {
		return configErr(err)
	}
	printNotes(opts.IO.Err, "Adjusted", im.Adjusted)
	printNotes(opts.IO.Err, "Not imported", im.Skipped)
	keys := im.Keys()
	if len(keys) == 0 {
		return exitErr(ExitFailure, "nothing in %s maps to a key of this config; %s is unchanged", name, file)
	}
	if opts.DryRun {
		out, err := im.Preview(file)
		if err != nil {
			return configErr(err)
		}
		opts.IO.Out.Write(out)
		fmt.Fprintf(opts.IO.Err, "Dry run: would import %s into %s.\n", countKeys(len(keys)), file)
		return nil
	}
	if err := im.Merge(file); err != nil {
		return configErr(err)
	}
	fmt.Fprintf(opts.IO.Out, "Imported %s from %s into %s.%s\n", countKeys(len(keys)), name, file, importApplyNote(keys))
	return nil
}

// printNotes lists notes of the import under a heading.
func printNotes(w io.Writer, heading string, notes []config.Note) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(w, "%s (%d):\n", heading, len(notes))
	for _, n := range notes {
		fmt.Fprintf(w, "  %s: %s\n", n.Path, n.Reason)
	}
}

// importApplyNote says whether a running gateway picks the import up by
// itself, naming the keys that need a restart.
func importApplyNote(keys []string) string {
	var restart []string
	for _, k := range keys {
		if live, known := config.IsLive(k); known && !live {
			restart = append(restart, k)
		}
	}
	if len(restart) == 0 {
		return " A running gateway applies it live."
	}
	return " Restart a running gateway to apply " + strings.Join(restart, ", ") + "."
}

func countKeys(n int) string { return fmt.Sprintf("%d key%s", n, plural(n)) }

// unwrapPathError drops the operation and path an *os.PathError repeats.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
