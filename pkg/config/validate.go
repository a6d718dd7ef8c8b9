package config

import (
	"fmt"
	"slices"
	"strings"
)

// Issue is one problem of a config file.
type Issue struct {
	Path    string `json:"path"`           // the key, as agents.list[0].id
	Line    int    `json:"line,omitempty"` // line in the file, when known
	Message string `json:"message"`        // names the key and what is allowed
}

// ValidationError lists the problems of a config file or of an edit.
type ValidationError struct {
	File   string // empty for an edit that was refused
	Issues []Issue
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String(e.File)
	}
	return strings.Join(lines, "\n")
}

// String prints the issue as file:line: message (what is known of it).
func (is Issue) String(file string) string {
	switch {
	case file != "" && is.Line > 0:
		return fmt.Sprintf("%s:%d: %s", file, is.Line, is.Message)
	case file != "":
		return fmt.Sprintf("%s: %s", file, is.Message)
	}
	return is.Message
}

// validateTree checks a decoded file against the schema. Issues come in
// path order.
func validateTree(tree map[string]any) []Issue {
	var v validator
	v.value(root, tree, nil)
	return v.issues
}

type validator struct{ issues []Issue }

func (v *validator) add(p Path, format string, args ...any) {
	v.issues = append(v.issues, Issue{Path: p.String(), Message: fmt.Sprintf(format, args...)})
}

func (v *validator) value(n *node, val any, p Path) {
	k := n.key
	show, quote := describe, shortValue
	if k.Secret {
		// Never echo what may be a secret: name its type only.
		show, quote = describeKind, describeKind
	}
	switch k.Type {
	case TypeTable:
		m, ok := val.(map[string]any)
		if !ok {
			v.add(p, "%s: expected a table, got %s", p, show(val))
			return
		}
		v.table(n, m, p)
	case TypeModel:
		switch x := val.(type) {
		case string:
			if x == "" {
				v.add(p, "%s: must not be empty: use \"provider/model\"", p)
			}
		case map[string]any:
			v.table(n, x, p)
			if _, ok := x["primary"]; !ok {
				v.add(p, "%s: a model table needs primary = \"provider/model\"", p)
			}
		default:
			v.add(p, "%s: expected \"provider/model\" or a table {primary, fallbacks}, got %s", p, show(val))
		}
	case TypeMap:
		m, ok := val.(map[string]any)
		if !ok {
			v.add(p, "%s: expected a table, got %s", p, show(val))
			return
		}
		for _, name := range sortedKeys(m) {
			if k.entryKey != nil {
				if err := k.entryKey(name); err != nil {
					v.add(p.Child(name), "%s: %v", p, err)
					continue
				}
			}
			v.value(n.elem, m[name], p.Child(name))
		}
	case TypeArray:
		a, ok := val.([]any)
		if !ok {
			v.add(p, "%s: expected an array of tables, got %s", p, show(val))
			return
		}
		for i, e := range a {
			v.value(n.elem, e, p.Elem(i))
		}
		v.uniqueIDs(n, a, p)
	case TypeStringList:
		a, ok := val.([]any)
		if !ok {
			v.add(p, "%s: expected a list of strings, got %s", p, show(val))
			return
		}
		for i, e := range a {
			v.value(n.elem, e, p.Elem(i))
		}
	case TypeString:
		s, ok := val.(string)
		if !ok {
			v.add(p, "%s: expected a string, got %s", p, show(val))
			return
		}
		if k.check != nil {
			if err := k.check(s); err != nil {
				v.add(p, "%s: %v", p, err)
			}
		}
	case TypeEnum:
		s, ok := val.(string)
		if !ok || !slices.Contains(k.Enum, s) {
			v.add(p, "%s: invalid value %s: allowed values are %s", p, quote(val), strings.Join(k.Enum, ", "))
		}
	case TypeBool:
		if _, ok := val.(bool); !ok {
			v.add(p, "%s: expected true or false, got %s", p, show(val))
		}
	case TypeInt:
		i, ok := val.(int64)
		if !ok {
			v.add(p, "%s: expected an integer, got %s", p, show(val))
			return
		}
		if msg := rangeError(k, i); msg != "" {
			v.add(p, "%s: %s", p, msg)
		}
	}
}

// rangeError says how i is outside k's bounds, or "".
func rangeError(k *Key, i int64) string {
	switch {
	case k.Min != nil && k.Max != nil && (i < *k.Min || i > *k.Max):
		return fmt.Sprintf("%d is out of range: use %d to %d", i, *k.Min, *k.Max)
	case k.Min != nil && i < *k.Min:
		return fmt.Sprintf("%d is too small: use at least %d", i, *k.Min)
	case k.Max != nil && i > *k.Max:
		return fmt.Sprintf("%d is too large: use at most %d", i, *k.Max)
	}
	return ""
}

// describeKind names a value's type without showing it.
func describeKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64, int:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return describe(v)
}

// shortValue shows a value in a message: strings quoted, others described.
func shortValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return describe(v)
}

func (v *validator) table(n *node, m map[string]any, p Path) {
	for _, name := range sortedKeys(m) {
		c := n.children[name]
		if c == nil {
			cp := p.Child(name)
			v.add(cp, "%s", (&UnknownKeyError{Path: cp.String(), Hint: hint(n, p, Segment{Key: name}, nil)}).Error())
			continue
		}
		v.value(c, m[name], p.Child(name))
	}
	for _, name := range n.names {
		if c := n.children[name]; c.key.Required {
			if _, ok := m[name]; !ok {
				v.add(p.Child(name), "%s: missing: every entry of %s needs %s", p.Child(name), parentOf(p), name)
			}
		}
	}
}

// parentOf prints the array a path of an element belongs to.
func parentOf(p Path) string {
	if len(p) > 0 && p[len(p)-1].IsIndex {
		return p[:len(p)-1].String()
	}
	return p.String()
}

// uniqueIDs reports duplicate ids among the tables of an array (agent ids
// compare case-insensitively, model ids as the provider spells them).
func (v *validator) uniqueIDs(n *node, a []any, p Path) {
	if n.elem.children["id"] == nil {
		return
	}
	seen := map[string]int{}
	for i, e := range a {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		id, ok := m["id"].(string)
		if !ok {
			continue
		}
		norm := id
		if n.pattern == "agents.list" {
			norm = strings.ToLower(id)
		}
		if j, dup := seen[norm]; dup {
			v.add(p.Elem(i).Child("id"), "%s: duplicate id %q (also %s)", p.Elem(i).Child("id"), id, p.Elem(j).Child("id"))
			continue
		}
		seen[norm] = i
	}
}
