package config

import (
	"sort"
	"strings"
)

// CompletePaths returns the shell completions of a partly typed key path:
// the keys of the schema, with the entries of maps and arrays that tree
// (the decoded file, may be nil) has, plus the next free index of arrays.
// Completion stops at the next . or [ so a table completes level by level.
func CompletePaths(tree map[string]any, prefix string) []string {
	var all []string
	expandPaths(root, tree, nil, &all)
	seen := map[string]bool{}
	var out []string
	for _, c := range all {
		if !strings.HasPrefix(c, prefix) {
			continue
		}
		rest := c[len(prefix):]
		// Skip a separator the prefix stops at, then cut after the next.
		skip := 0
		if strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "[") {
			skip = 1
		}
		if i := strings.IndexAny(rest[skip:], ".["); i > 0 {
			c = c[:len(prefix)+skip+i+1]
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// expandPaths lists the concrete paths under n for completion.
func expandPaths(n *node, v any, p Path, out *[]string) {
	if len(p) > 0 {
		*out = append(*out, p.String())
	}
	switch n.key.Type {
	case TypeTable, TypeModel:
		m, _ := v.(map[string]any)
		for _, name := range n.names {
			expandPaths(n.children[name], m[name], p.Child(name), out)
		}
	case TypeMap:
		m, _ := v.(map[string]any)
		for _, name := range sortedKeys(m) {
			expandPaths(n.elem, m[name], p.Child(name), out)
		}
	case TypeArray:
		a, _ := v.([]any)
		for i := 0; i <= len(a); i++ {
			var e any
			if i < len(a) {
				e = a[i]
			}
			expandPaths(n.elem, e, p.Elem(i), out)
		}
	}
}

// CheckPath reports whether path is well formed and inside the schema:
// a syntax error, an *UnknownKeyError (with a near-miss hint), or nil.
func CheckPath(path string) error {
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	_, err = resolve(p)
	return err
}
