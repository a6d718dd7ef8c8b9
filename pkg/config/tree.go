package config

import (
	"fmt"
	"strings"
)

// NotFoundError is a path with no value: neither set in the file nor
// given a default by the schema.
type NotFoundError struct{ Path string }

func (e *NotFoundError) Error() string { return "Config path not found: " + e.Path }

// NotSetError is an unset of a path the file does not set.
type NotSetError struct {
	Path       string
	HasDefault bool
}

func (e *NotSetError) Error() string {
	if e.HasDefault {
		return "Config path not set: " + e.Path + " (its default is in effect; nothing to remove)"
	}
	return "Config path not set: " + e.Path + " (nothing to remove)"
}

// withDefaults returns the tree in effect: the file's values over the
// schema's defaults, down into the entries of maps and arrays the file has.
func withDefaults(n *node, v any) any {
	switch n.key.Type {
	case TypeTable:
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return v
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = e
		}
		for _, name := range n.names {
			c := n.children[name]
			if e, ok := m[name]; ok {
				out[name] = withDefaults(c, e)
				continue
			}
			switch {
			case c.key.Default != nil:
				out[name] = clone(c.key.Default)
			case c.key.Type == TypeTable:
				if sub := withDefaults(c, nil).(map[string]any); len(sub) > 0 {
					out[name] = sub
				}
			}
		}
		return out
	case TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = withDefaults(n.elem, e)
		}
		return out
	case TypeArray:
		a, ok := v.([]any)
		if !ok {
			return v
		}
		out := make([]any, len(a))
		for i, e := range a {
			out[i] = withDefaults(n.elem, e)
		}
		return out
	}
	return v
}

// lookup finds the value at p in a tree. A numeric key indexes an array,
// and model.primary reads a model given as a plain string.
func lookup(tree map[string]any, p Path) (any, bool) {
	var cur any = tree
	n := root
	for _, s := range p {
		parent := n
		n = n.child(s)
		switch x := cur.(type) {
		case map[string]any:
			if s.IsIndex {
				return nil, false
			}
			v, ok := x[s.Key]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, ok := s.asIndex()
			if !ok || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		case string:
			// A model written as "provider/model" has that primary.
			if parent != nil && parent.key.Type == TypeModel && !s.IsIndex && s.Key == "primary" {
				continue
			}
			return nil, false
		default:
			return nil, false
		}
	}
	return cur, true
}

// setAt returns cur with the value at p[i:] set to v, creating missing
// tables and arrays as the schema says (n is cur's schema node, nil outside
// the schema).
func setAt(n *node, cur any, full Path, i int, v any) (any, error) {
	if i == len(full) {
		return v, nil
	}
	s := full[i]
	here := full[:i]
	if cur == nil {
		if n != nil && (n.key.Type == TypeArray || n.key.Type == TypeStringList) || n == nil && s.IsIndex {
			cur = []any{}
		} else {
			cur = map[string]any{}
		}
	}
	if str, ok := cur.(string); ok && n != nil && n.key.Type == TypeModel {
		// "provider/model" becomes {primary = "provider/model"} so that
		// fallbacks can be added to it.
		cur = map[string]any{"primary": str}
	}
	c := n.child(s)
	switch x := cur.(type) {
	case map[string]any:
		if s.IsIndex {
			return nil, fmt.Errorf("%s is a table, not an array: use %s.<key>", here, here)
		}
		nv, err := setAt(c, x[s.Key], full, i+1, v)
		if err != nil {
			return nil, err
		}
		x[s.Key] = nv
		return x, nil
	case []any:
		idx, ok := s.asIndex()
		if !ok {
			return nil, fmt.Errorf("%s is an array: use %s[<index>]", here, here)
		}
		if idx > len(x) {
			return nil, fmt.Errorf("%s: index out of range: %s has %d element(s); use index %d to append", full[:i+1], here, len(x), len(x))
		}
		if idx == len(x) {
			x = append(x, nil)
		}
		nv, err := setAt(c, x[idx], full, i+1, v)
		if err != nil {
			return nil, err
		}
		x[idx] = nv
		return x, nil
	}
	return nil, fmt.Errorf("%s is %s, not a table: unset it or set it to a table first", here, describe(cur))
}

// unsetAt returns cur without the value at full[i:], and whether there was
// one. Tables that only grouped keys are dropped when they become empty.
func unsetAt(n *node, cur any, full Path, i int) (any, bool) {
	s := full[i]
	last := i == len(full)-1
	c := n.child(s)
	switch x := cur.(type) {
	case map[string]any:
		if s.IsIndex {
			return cur, false
		}
		e, ok := x[s.Key]
		if !ok {
			return cur, false
		}
		if last {
			delete(x, s.Key)
			return x, true
		}
		nv, removed := unsetAt(c, e, full, i+1)
		if !removed {
			return cur, false
		}
		if m, ok := nv.(map[string]any); ok && len(m) == 0 && prunable(c) {
			delete(x, s.Key)
		} else {
			x[s.Key] = nv
		}
		return x, true
	case []any:
		idx, ok := s.asIndex()
		if !ok || idx >= len(x) {
			return cur, false
		}
		if last {
			return append(x[:idx:idx], x[idx+1:]...), true
		}
		nv, removed := unsetAt(c, x[idx], full, i+1)
		if !removed {
			return cur, false
		}
		x[idx] = nv
		return x, true
	}
	return cur, false
}

// prunable reports whether an empty table at n can go: it only grouped
// keys (or is outside the schema). Entries of maps and arrays stay, since
// an empty entry still exists.
func prunable(n *node) bool {
	if n == nil {
		return true
	}
	return !strings.HasSuffix(n.pattern, "*") && !strings.HasSuffix(n.pattern, "[]")
}

// isSecretName is the fallback for keys outside the schema: the names the
// spec calls secret.
func isSecretName(name string) bool {
	switch name {
	case "token", "password", "apiKey":
		return true
	}
	return false
}

// redact replaces every secret at or under a value with RedactedValue.
// n is the value's schema node (nil outside the schema), name its key.
func redact(n *node, name string, v any) any {
	secret := isSecretName(name) || n != nil && n.key.Secret
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redact(n.child(Segment{Key: k}), k, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(n.child(Segment{Index: i, IsIndex: true}), name, e)
		}
		return out
	case string:
		if secret && x != "" {
			return RedactedValue
		}
		return x
	}
	if secret {
		return RedactedValue
	}
	return v
}

// Redact returns v, the value at path, with its secrets (and the secrets of
// the tables and arrays in it) replaced by RedactedValue.
func Redact(path string, v any) any {
	p, err := ParsePath(path)
	if err != nil {
		return v
	}
	var n *node = root
	name := ""
	for _, s := range p {
		n = n.child(s)
		if !s.IsIndex {
			name = s.Key
		}
	}
	return redact(n, name, v)
}

// Entry is one key set in a config file.
type Entry struct {
	Path  string
	Value any
}

// entries flattens a tree into its set keys: scalars, lists of scalars and
// empty tables are leaves; tables and arrays of tables are walked.
func entries(v any, p Path, out []Entry) []Entry {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 && len(p) > 0 {
			return append(out, Entry{Path: p.String(), Value: x})
		}
		for _, k := range sortedKeys(x) {
			out = entries(x[k], p.Child(k), out)
		}
		return out
	case []any:
		tables := len(x) > 0
		for _, e := range x {
			if _, ok := e.(map[string]any); !ok {
				tables = false
			}
		}
		if !tables {
			return append(out, Entry{Path: p.String(), Value: x})
		}
		for i, e := range x {
			out = entries(e, p.Elem(i), out)
		}
		return out
	}
	return append(out, Entry{Path: p.String(), Value: v})
}
