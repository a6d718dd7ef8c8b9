package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newCompletionCmd) }

// completionShells are the shells `openclaw completion` writes scripts for,
// in the order help and errors list them.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

type completionOptions struct {
	shell string
	out   io.Writer
	root  *cobra.Command
}

func newCompletionCmd(app *App) *cobra.Command {
	opts := &completionOptions{}
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell on standard output.

The script completes commands, flags and, where a command knows them, their
values (for example config key paths). Load it in the current shell, or
install it where your shell looks for completions:

    # bash
    source <(openclaw completion bash)
    openclaw completion bash > /etc/bash_completion.d/openclaw
    # zsh (needs "autoload -U compinit; compinit" in ~/.zshrc)
    openclaw completion zsh > "${fpath[1]}/_openclaw"
    # fish
    openclaw completion fish > ~/.config/fish/completions/openclaw.fish
    # powershell
    openclaw completion powershell | Out-String | Invoke-Expression

Release archives ship the same scripts in completions/.`,
		ValidArgs:             completionShells,
		DisableFlagsInUseLine: true,
		Args: func(_ *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
				return usageErr("missing shell: use one of %s", shellList())
			case 1:
				if !isCompletionShell(args[0]) {
					return usageErr("unsupported shell %q: use one of %s", args[0], shellList())
				}
				return nil
			default:
				return usageErr("too many arguments: give one shell, one of %s", shellList())
			}
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.shell = args[0]
			opts.out = app.IO.Out
			opts.root = cmd.Root()
			return runCompletion(opts)
		},
	}
	return cmd
}

func runCompletion(opts *completionOptions) error {
	return writeCompletion(opts.root, opts.shell, opts.out)
}

// writeCompletion writes root's completion script for shell to w. The
// scripts call back into `openclaw __complete`, so they stay correct as
// commands and flags change; gen-docs writes the same bytes to completions/.
func writeCompletion(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return usageErr("unsupported shell %q: use one of %s", shell, shellList())
}

func isCompletionShell(s string) bool {
	for _, sh := range completionShells {
		if s == sh {
			return true
		}
	}
	return false
}

func shellList() string {
	return strings.Join(completionShells[:len(completionShells)-1], ", ") + " or " + completionShells[len(completionShells)-1]
}
