package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func init() { register(newGenDocsCmd) }

// manDate is the date in every man page header. It is fixed so that
// regenerating the pages only changes them when the commands change.
var manDate = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// completionFiles maps each shell to the file gen-docs writes its script to.
var completionFiles = map[string]string{
	"bash":       "openclaw.bash",
	"zsh":        "openclaw.zsh",
	"fish":       "openclaw.fish",
	"powershell": "openclaw.ps1",
}

type genDocsOptions struct {
	manDir         string
	completionsDir string
}

func newGenDocsCmd(app *App) *cobra.Command {
	opts := &genDocsOptions{}
	cmd := &cobra.Command{
		Use:   "gen-docs",
		Short: "Write the man pages and shell completion scripts",
		Long: `Write one man page per command (openclaw.1, openclaw-config-get.1, ...) into
--man-dir and the completion scripts openclaw.{bash,zsh,fish,ps1} into
--completions-dir. Output is deterministic; stale openclaw*.1 pages in
--man-dir are removed. The repository's copies are regenerated with:

    go run ./cmd/openclaw gen-docs --man-dir man --completions-dir completions`,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.manDir == "" && opts.completionsDir == "" {
				return usageErr("nothing to write: give --man-dir, --completions-dir or both")
			}
			return runGenDocs(cmd.Root(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.manDir, "man-dir", "", "directory for the man pages (created if missing)")
	f.StringVar(&opts.completionsDir, "completions-dir", "", "directory for the completion scripts (created if missing)")
	return cmd
}

func runGenDocs(root *cobra.Command, opts *genDocsOptions) error {
	if opts.manDir != "" {
		pages, err := manPages(root)
		if err != nil {
			return err
		}
		if err := writeDir("man pages", opts.manDir, pages, func(name string) bool {
			return strings.HasPrefix(name, "openclaw") && strings.HasSuffix(name, ".1")
		}); err != nil {
			return err
		}
	}
	if opts.completionsDir != "" {
		files := map[string][]byte{}
		for _, sh := range completionShells {
			var b bytes.Buffer
			if err := writeCompletion(root, sh, &b); err != nil {
				return fmt.Errorf("generate %s completion: %w", sh, err)
			}
			files[completionFiles[sh]] = b.Bytes()
		}
		if err := writeDir("completion scripts", opts.completionsDir, files, nil); err != nil {
			return err
		}
	}
	return nil
}

// manPages renders a page for every visible command, keyed by file name
// (the command path joined with dashes, section 1).
func manPages(root *cobra.Command) (map[string][]byte, error) {
	pages := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		// Without this, pages of subcommands end in a HISTORY section
		// that names cobra.
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
				continue
			}
			if err := walk(sub); err != nil {
				return err
			}
		}
		date := manDate
		hdr := &doc.GenManHeader{Section: "1", Date: &date, Source: "openclaw", Manual: "openclaw manual"}
		var b bytes.Buffer
		long := c.Long
		c.Long = manText(long)
		err := doc.GenMan(c, hdr, &b)
		c.Long = long
		if err != nil {
			return fmt.Errorf("generate man page for %q: %w", c.CommandPath(), err)
		}
		pages[strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = b.Bytes()
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	return pages, nil
}

// writeDir writes files into dir, skipping those whose content is already
// right, and removes files matching stale that are not in files. what names
// the files in errors.
func writeDir(what, dir string, files map[string][]byte, stale func(name string) bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot write %s to %s: %w", what, dir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, files[n]) {
			continue
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return fmt.Errorf("cannot write %s: %w", what, err)
		}
	}
	if stale == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot list %s: %w", dir, err)
	}
	for _, e := range entries {
		if _, keep := files[e.Name()]; keep || e.IsDir() || !stale(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("cannot remove stale %s: %w", what, err)
		}
	}
	return nil
}

// mdEscaper backslash-escapes the characters the markdown reader treats
// specially anywhere in a line, so prose like agent:<id>:main or
// __OPENCLAW_REDACTED__ reaches the man page as written.
var mdEscaper = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_[]<>&~|" {
		pairs = append(pairs, string(c), "\\"+string(c))
	}
	return strings.NewReplacer(pairs...)
}()

// mdMarker and mdNumbered match what markdown reads as a heading, list,
// quote or definition when it opens a line.
var (
	mdMarker   = regexp.MustCompile(`^[#>:]|^[-+] `)
	mdNumbered = regexp.MustCompile(`^(\d+)([.)] )`)
)

// mdEscape escapes one line of prose for the markdown reader.
func mdEscape(l string) string {
	l = mdEscaper.Replace(l)
	if mdMarker.MatchString(l) {
		return "\\" + l
	}
	return mdNumbered.ReplaceAllString(l, `$1\$2`)
}

// manText prepares help text for the man page renderer, which reads it as
// markdown while the terminal shows help verbatim. Prose is escaped so that
// nothing in it is read as markup; indented lines (commands, key tables) are
// meant literally, so each run of them becomes a code block, dedented and
// set apart by blank lines, which keeps their layout.
func manText(s string) string {
	lines := strings.Split(s, "\n")
	indented := func(l string) bool {
		return strings.TrimSpace(l) != "" && (l[0] == ' ' || l[0] == '\t')
	}
	var out []string
	for i := 0; i < len(lines); {
		if !indented(lines[i]) {
			out = append(out, mdEscape(lines[i]))
			i++
			continue
		}
		j := i
		for j < len(lines) && indented(lines[j]) {
			j++
		}
		block := lines[i:j]
		cut := -1
		for k, l := range block {
			l = strings.ReplaceAll(l, "\t", "    ")
			block[k] = l
			if n := len(l) - len(strings.TrimLeft(l, " ")); cut < 0 || n < cut {
				cut = n
			}
		}
		if len(out) > 0 && out[len(out)-1] != "" {
			out = append(out, "")
		}
		for _, l := range block {
			out = append(out, "    "+strings.TrimRight(l[cut:], " "))
		}
		if j < len(lines) && lines[j] != "" {
			out = append(out, "")
		}
		i = j
	}
	return strings.Join(out, "\n")
}
