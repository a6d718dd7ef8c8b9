package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func TestManText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain prose", "Print the path.", "Print the path."},
		{"angle brackets", "session agent:<id>:main", `session agent:\<id\>:main`},
		{"underscores and stars", "__REDACTED__ or *x*", `\_\_REDACTED\_\_ or \*x\*`},
		{"backslash and code", "a \\. is `dot`", "a \\\\. is \\`dot\\`"},
		{"brackets and pipes", "[a] | b & ~c", `\[a\] \| b \& \~c`},
		{"heading at line start", "# not a heading", `\# not a heading`},
		{"list at line start", "- not a list\n+ nor this", "\\- not a list\n\\+ nor this"},
		{"dash flag at line start", "--verbose is fine", "--verbose is fine"},
		{"numbered at line start", "1. one\n2) two", "1\\. one\n2\\) two"},
		{"quote and definition", "> q\n: d", "\\> q\n\\: d"},
		{"indented block becomes code", "Keys:\n\n  a.*.b  string\n  c      int\n\nEnd.",
			"Keys:\n\n    a.*.b  string\n    c      int\n\nEnd."},
		{"block gets blank lines around it", "Keys:\n  a\nEnd.", "Keys:\n\n    a\n\nEnd."},
		{"block dedented to its least indent", "x\n\n    a\n      b", "x\n\n    a\n      b"},
		{"tabs count as four spaces", "x\n\n\ta\n\t\tb", "x\n\n    a\n        b"},
		{"trailing spaces dropped", "x\n\n  a   ", "x\n\n    a"},
		{"two blocks", "x\n\n  a\n\n  b", "x\n\n    a\n\n    b"},
		{"block first", "  a\nx", "    a\n\nx"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := manText(tt.in); got != tt.want {
				t.Errorf("manText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestManTextRendered checks what a reader of the man page sees: prose as
// written, indented blocks as literal examples.
func TestManTextRendered(t *testing.T) {
	tests := []struct {
		name, long string
		want       []string
		notWant    []string
	}{
		{"placeholders survive", "Continues agent:<id>:main.", []string{"agent:<id>:main"}, nil},
		{"no bold from underscores", "Prints __OPENCLAW_REDACTED__.", []string{"__OPENCLAW_REDACTED__"}, []string{`\fB`}},
		{"no italics from stars", "Keys:\n\n  a.*.b\n  c.*.d", []string{".EX\na.*.b\nc.*.d\n.EE"}, []string{`\fI`}},
		{"escaped dot kept", `and \. is a dot`, []string{`and \\\&. is a dot`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cobra.Command{Use: "x", Short: "x", Long: manText(tt.long), DisableAutoGenTag: true}
			date := manDate
			var b bytes.Buffer
			if err := doc.GenMan(c, &doc.GenManHeader{Date: &date, Source: "openclaw"}, &b); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if i, j := strings.Index(page, ".SH DESCRIPTION"), strings.Index(page, ".SH OPTIONS"); i >= 0 && j > i {
				page = page[i:j]
			} else {
				t.Fatalf("no DESCRIPTION section:\n%s", page)
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q:\n%s", w, page)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(page, w) {
					t.Errorf("page has %q:\n%s", w, page)
				}
			}
		})
	}
}
