package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/titanous/json5"
)

// Note is a key of an imported config that was left out or changed, and
// why. Reasons never hold a secret's value.
type Note struct {
	Path   string // the key as the imported file names it (array indexes its own)
	Reason string
}

// Imported is an OpenClaw config mapped onto this schema.
type Imported struct {
	Tree     map[string]any // the keys carried over, as a config tree
	Skipped  []Note         // keys not carried over, in path order
	Adjusted []Note         // values carried over in this schema's terms
}

// Keys returns the paths of the keys carried over, in path order.
func (im *Imported) Keys() []string {
	var out []string
	for _, e := range entries(im.Tree, nil, nil) {
		out = append(out, e.Path)
	}
	return out
}

// ImportOptions tune ImportOpenClaw.
type ImportOptions struct {
	// Getenv, when set, expands ${VAR} references in strings, as OpenClaw
	// does at load time. Unset, keys holding one are skipped: the file
	// written here would hold the reference literally.
	Getenv func(string) (string, bool)
}

// valueMaps translate values of the original that mean one of ours.
var valueMaps = map[string]map[string]string{
	"tools.profile":               {"full": "coding"},
	"agents.list[].tools.profile": {"full": "coding"},
	"logging.level":               {"trace": "debug", "fatal": "error"},
}

// ImportOpenClaw reads an OpenClaw config (JSON5: comments, trailing
// commas, unquoted keys) and maps every key this schema supports; its keys
// have the same paths. Keys outside the schema, and values this schema
// cannot hold, are skipped and listed; the rest is checked as every edit is
// when it is merged. name is the file's name, for errors.
func ImportOpenClaw(name string, data []byte, opts ImportOptions) (*Imported, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var doc any
	if err := json5.Unmarshal(data, &doc); err != nil {
		return nil, json5Error(name, data, err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an object at the top level, got %s", name, describe(doc))
	}
	im := &importer{opts: opts}
	out, _ := im.table(root, top, nil)
	res := &Imported{Tree: map[string]any{}, Skipped: im.skipped, Adjusted: im.adjusted}
	if m, ok := out.(map[string]any); ok {
		res.Tree = m
	}
	return res, nil
}

// json5Error places a syntax error at its line and column.
func json5Error(name string, data []byte, err error) error {
	var se *json5.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: invalid JSON5: %v", name, err)
	}
	msg := se.Error()
	if msg == "unexpected end of JSON input" {
		msg = "unexpected end of the file: an object or array is not closed"
	}
	// Offset counts the bytes read, the offending one included; at the
	// end of the file it is the end.
	off := min(int(se.Offset), len(data))
	if msg == se.Error() && off > 0 {
		off--
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("%s:%d:%d: invalid JSON5: %s", name, line, col, msg)
}

type importer struct {
	opts     ImportOptions
	skipped  []Note
	adjusted []Note
}

func (im *importer) skip(p Path, format string, args ...any) {
	im.skipped = append(im.skipped, Note{Path: p.String(), Reason: fmt.Sprintf(format, args...)})
}

// value maps the value v at p, whose schema node is n. keep is false when
// nothing of it is carried over.
func (im *importer) value(n *node, v any, p Path) (out any, keep bool) {
	if v == nil {
		return nil, false // null sets nothing
	}
	switch n.key.Type {
	case TypeTable:
		return im.table(n, v, p)
	case TypeModel:
		if m, ok := v.(map[string]any); ok {
			out, keep := im.table(n, m, p)
			if keep {
				if _, ok := out.(map[string]any)["primary"]; !ok {
					im.skip(p, "a model table needs primary: \"provider/model\"")
					return nil, false
				}
			}
			return out, keep
		}
		return im.leaf(n, v, p)
	case TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return im.leaf(n, v, p)
		}
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			cp := p.Child(k)
			if n.key.entryKey != nil {
				if err := n.key.entryKey(k); err != nil {
					im.skip(cp, "%v", err)
					continue
				}
			}
			if n.pattern == "models.providers" && im.unsupportedAPI(m[k], cp) {
				continue
			}
			e, ok := im.value(n.elem, m[k], cp)
			if em, isMap := e.(map[string]any); ok || isMap && len(em) == 0 {
				// An entry stays even when empty: it exists
				// (an allowed model with no alias).
				out[k] = e
			}
		}
		return out, len(out) > 0
	case TypeArray:
		a, ok := v.([]any)
		if !ok {
			return im.leaf(n, v, p)
		}
		out := []any{}
		for i, e := range a {
			cp := p.Elem(i)
			if m, ok := e.(map[string]any); ok {
				if missing := requiredMissing(n.elem, m); missing != "" {
					im.skip(cp, "has no %s, which every entry of %s needs", missing, n.pattern)
					continue
				}
			}
			x, ok := im.value(n.elem, e, cp)
			if !ok {
				continue
			}
			if m, isMap := x.(map[string]any); isMap {
				if missing := requiredMissing(n.elem, m); missing != "" {
					im.skip(cp, "not imported without its %s", missing)
					continue
				}
			}
			out = append(out, x)
		}
		return out, len(out) > 0
	case TypeStringList:
		a, ok := v.([]any)
		if !ok {
			return im.leaf(n, v, p)
		}
		out := []any{}
		for i, e := range a {
			if x, ok := im.leaf(n.elem, e, p.Elem(i)); ok {
				out = append(out, x)
			}
		}
		if len(out) == 0 && len(a) > 0 {
			return nil, false // every element was skipped and listed
		}
		return out, true
	}
	return im.leaf(n, v, p)
}

// table maps an object onto the table node n.
func (im *importer) table(n *node, v any, p Path) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return im.leaf(n, v, p)
	}
	out := map[string]any{}
	for _, k := range sortedKeys(m) {
		cp := p.Child(k)
		c := n.children[k]
		switch {
		case c != nil:
			if x, ok := im.value(c, m[k], cp); ok {
				out[k] = x
			}
		case len(p) == 0 && k == "$schema":
			// editor metadata, not config
		case m[k] != nil:
			im.skip(cp, "not supported")
		}
	}
	return out, len(out) > 0
}

// requiredMissing names a required key an entry lacks.
func requiredMissing(n *node, m map[string]any) string {
	for _, name := range n.names {
		if c := n.children[name]; c.key.Required && m[name] == nil {
			return name
		}
	}
	return ""
}

// unsupportedAPI skips a provider whose wire API this build does not speak:
// carried over without it, the provider would be called the wrong way.
func (im *importer) unsupportedAPI(v any, p Path) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	api, ok := m["api"].(string)
	if !ok || slices.Contains(apis, api) {
		return false
	}
	im.skip(p, "api %q is not supported (use %s): provider not imported", api, strings.Join(apis, " or "))
	return true
}

var envRef = regexp.MustCompile(`\$\$?\{([A-Z_][A-Z0-9_]*)\}`)

// leaf converts a scalar (or a value of the wrong shape) to this schema's
// types and checks it as the validator does; a value that fails is skipped
// with the validator's message, which never shows a secret.
func (im *importer) leaf(n *node, v any, p Path) (any, bool) {
	switch x := v.(type) {
	case float64:
		// JSON has one number type; a whole one is an integer here.
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			v = int64(x)
		} else if n.key.Type == TypeInt {
			im.skip(p, "%v is not a whole number", describeSecret(n, x))
			return nil, false
		}
	case string:
		s, ok := im.expand(x, p)
		if !ok {
			return nil, false
		}
		if to, ok := valueMaps[n.pattern][s]; ok {
			im.adjusted = append(im.adjusted, Note{Path: p.String(), Reason: fmt.Sprintf("%q imported as %q", s, to)})
			s = to
		}
		v = s
	}
	var val validator
	val.value(n, v, p)
	if len(val.issues) > 0 {
		msg := val.issues[0].Message
		msg = strings.TrimPrefix(msg, p.String()+": ")
		im.skip(p, "%s", msg)
		return nil, false
	}
	return v, true
}

func describeSecret(n *node, v any) string {
	if n.key.Secret {
		return describeKind(v)
	}
	return describe(v)
}

// expand resolves ${VAR} references as OpenClaw does ($${VAR} is a literal
// ${VAR}). Without a Getenv the key is skipped: this file format has no
// references, and a secret's reference is not the secret.
func (im *importer) expand(s string, p Path) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var missing, refs []string
	out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
		if strings.HasPrefix(ref, "$$") {
			return ref[1:]
		}
		name := ref[2 : len(ref)-1]
		refs = append(refs, name)
		if im.opts.Getenv == nil {
			return ref
		}
		val, ok := im.opts.Getenv(name)
		if !ok {
			missing = append(missing, name)
		}
		return val
	})
	switch {
	case len(refs) > 0 && im.opts.Getenv == nil:
		im.skip(p, "refers to the environment variable %s, which this config does not expand: import with --expand-env, or set the value with 'openclaw config set %s'", refs[0], p)
		return "", false
	case len(missing) > 0:
		im.skip(p, "refers to the environment variable %s, which is not set", missing[0])
		return "", false
	}
	return out, true
}

// mergeTree lays src over dst: tables and maps merge key by key (per the
// schema node n; nil outside it), anything else from src replaces dst's.
func mergeTree(n *node, dst, src map[string]any) {
	for k, sv := range src {
		var c *node
		if n != nil {
			c = n.child(Segment{Key: k})
		}
		sm, sok := sv.(map[string]any)
		dm, dok := dst[k].(map[string]any)
		if sok && dok && (c == nil || c.key.Type == TypeTable || c.key.Type == TypeMap || c.key.Type == TypeModel) {
			mergeTree(c, dm, sm)
			continue
		}
		dst[k] = clone(sv)
	}
}

// semanticIssues are the problems Config.Validate finds in a tree that
// passes the schema (none when it does not: those are reported as such).
func semanticIssues(tree map[string]any) []Issue {
	if len(validateTree(tree)) > 0 {
		return nil
	}
	cfg, err := fromTree(tree)
	if err != nil {
		return []Issue{{Message: err.Error()}}
	}
	var se *SemanticError
	if err := cfg.Validate(); errors.As(err, &se) {
		return se.Issues
	} else if err != nil {
		return []Issue{{Message: err.Error()}}
	}
	return nil
}

// mergeChecked merges im into tree and refuses a result with problems the
// tree did not have before, as Update does.
func (im *Imported) mergeChecked(tree map[string]any) error {
	key := func(is Issue) string { return is.Path + "\x00" + is.Message }
	before := map[string]bool{}
	for _, is := range validateTree(tree) {
		before[key(is)] = true
	}
	for _, is := range semanticIssues(tree) {
		before[key(is)] = true
	}
	mergeTree(root, tree, im.Tree)
	lowerAgentIDs(tree)
	var fresh []Issue
	for _, is := range append(validateTree(tree), semanticIssues(tree)...) {
		if !before[key(is)] {
			fresh = append(fresh, is)
		}
	}
	if len(fresh) > 0 {
		return &ValidationError{Issues: fresh}
	}
	return nil
}

// Merge writes the import into file, merged over what the file has, under
// the file's lock, atomically and with a backup, as Update does. A result
// with new problems is refused and the file left as it was.
func (im *Imported) Merge(file string) error {
	return update(file, nil, im.mergeChecked)
}

// Preview returns file as Merge would write it, with secrets redacted;
// nothing is written.
func (im *Imported) Preview(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read config: %w", err)
	}
	tree, err := decodeTree(file, data)
	if err != nil {
		return nil, err
	}
	if err := im.mergeChecked(tree); err != nil {
		return nil, err
	}
	red, _ := redact(root, "", tree).(map[string]any)
	out, err := encodeTree(red)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return out, nil
}
