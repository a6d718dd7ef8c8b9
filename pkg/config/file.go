package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Load reads the config file at path: a missing file gives Default(); a
// present one is checked against the schema (unknown keys are reported with
// their line and a did-you-mean hint, as are wrong types and values) and
// laid over the defaults.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(path, data)
}

// Parse is Load for a document in memory; file names it in errors.
func Parse(file string, data []byte) (*Config, error) { return parse(file, data) }

func parse(file string, data []byte) (*Config, error) {
	tree, err := decodeTree(file, data)
	if err != nil {
		return nil, err
	}
	if issues := validateTree(tree); len(issues) > 0 {
		lines := keyLines(data)
		for i := range issues {
			issues[i].Line = lineOf(lines, issues[i].Path)
		}
		return nil, &ValidationError{File: file, Issues: issues}
	}
	cfg, err := fromTree(tree)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return cfg, nil
}

// fromTree lays a valid tree over Default(), through JSON so that keys of
// two shapes (ModelRef) decode themselves.
func fromTree(tree map[string]any) (*Config, error) {
	b, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	cfg := Default()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, err
	}
	cfg.normalize()
	return cfg, nil
}

// normalize fills the defaults inside list entries and lowercases agent ids.
func (c *Config) normalize() {
	for i := range c.Agents.List {
		c.Agents.List[i].ID = strings.ToLower(c.Agents.List[i].ID)
	}
	for id, p := range c.Models.Providers {
		for i := range p.Models {
			if p.Models[i].Input == nil {
				p.Models[i].Input = []string{"text", "image"}
			}
		}
		c.Models.Providers[id] = p
	}
}

// ReadTree reads the file as a generic tree without checking it against the
// schema (a missing file is an empty tree), for tools that must work on a
// broken file.
func ReadTree(file string) (map[string]any, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return decodeTree(file, data)
}

// encodeTree prints a tree as TOML.
func encodeTree(tree map[string]any) ([]byte, error) {
	if len(tree) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(false)
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return dropImpliedHeaders(buf.Bytes()), nil
}

// dropImpliedHeaders removes the [table] headers the encoder writes for
// tables that hold only tables ([agents] right before [agents.defaults]):
// the sub-table's header defines them already. Array headers ([[...]])
// stay, since each one adds an element. The encoder writes every key and
// header on a line of its own, strings with their newlines escaped.
func dropImpliedHeaders(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	header := func(l string) (string, bool) {
		if strings.HasPrefix(l, "[") && !strings.HasPrefix(l, "[[") && strings.HasSuffix(l, "]") {
			return l[1 : len(l)-1], true
		}
		return "", false
	}
	var out []string
	for i, l := range lines {
		if h, ok := header(l); ok {
			j := i + 1
			for j < len(lines) && lines[j] == "" {
				j++
			}
			if j < len(lines) {
				next := strings.TrimPrefix(strings.TrimPrefix(lines[j], "["), "[")
				if strings.HasPrefix(next, h+".") {
					continue
				}
			}
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}

// Update edits the file under its lock: fn changes the tree decoded from
// the file (empty when there is none), the result is checked against the
// schema, and written atomically with a backup. Problems the file already
// had elsewhere do not block the edit, so a broken file can be repaired;
// new ones do, and leave the file unchanged.
func Update(file string, fn func(tree map[string]any) error) error {
	return update(file, nil, fn)
}

// update is Update, where problems at or under touched always count (the
// key being set must end up valid even if it was invalid before).
func update(file string, touched Path, fn func(tree map[string]any) error) error {
	file = realPath(file)
	if err := ensureDir(file); err != nil {
		return err
	}
	unlock, err := lockFile(file)
	if err != nil {
		return err
	}
	defer unlock()

	data, err := os.ReadFile(file)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read config: %w", err)
	}
	old, err := decodeTree(file, data)
	if err != nil {
		return fmt.Errorf("%w (fix the syntax by hand; the last good version is in %s.bak)", err, file)
	}
	before := map[string]bool{}
	for _, is := range validateTree(old) {
		before[is.Path+"\x00"+is.Message] = true
	}
	tree := clone(old).(map[string]any)
	if err := fn(tree); err != nil {
		return err
	}
	lowerAgentIDs(tree)
	var fresh []Issue
	for _, is := range validateTree(tree) {
		ip, _ := ParsePath(is.Path)
		if !before[is.Path+"\x00"+is.Message] || (touched != nil && (ip.HasPrefix(touched) || touched.HasPrefix(ip))) {
			fresh = append(fresh, is)
		}
	}
	if len(fresh) > 0 {
		return &ValidationError{Issues: fresh}
	}
	out, err := encodeTree(tree)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if exists && bytes.Equal(out, data) {
		return nil
	}
	return writeAtomic(file, out, exists)
}

// lowerAgentIDs stores agent ids lowercase, as they are compared.
func lowerAgentIDs(tree map[string]any) {
	agents, _ := tree["agents"].(map[string]any)
	list, _ := agents["list"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				m["id"] = strings.ToLower(id)
			}
		}
	}
}

// Set sets the key at path to value in the file (creating missing tables
// and arrays) if the result is valid. value is a Go value: a string, bool,
// integer, float, []any/[]string or map[string]any.
func Set(file, path string, value any) error {
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	if _, err := resolve(p); err != nil {
		return err
	}
	v, err := normalize(value)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	p = canonical(p)
	return update(file, p, func(tree map[string]any) error {
		_, err := setAt(root, tree, p, 0, clone(v))
		return err
	})
}

// Unset removes the key at path from the file. A path outside the schema
// can be removed too (that is how an unknown key is repaired). Removing a
// path the file does not set is a *NotSetError.
func Unset(file, path string) error {
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	notSet := &NotSetError{Path: path}
	if n, err := resolve(p); err == nil && n.key.Default != nil {
		notSet.HasDefault = true
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return notSet // and no state dir made for nothing
	}
	return update(file, nil, func(tree map[string]any) error {
		if _, removed := unsetAt(root, tree, p, 0); !removed {
			return notSet
		}
		return nil
	})
}

// Get returns the value in effect at path in the file: the file's, else
// the schema's default. A path outside the schema is an *UnknownKeyError,
// one with no value a *NotFoundError. Secrets are not redacted (see Redact).
func Get(file, path string) (any, error) {
	p, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	if _, err := resolve(p); err != nil {
		return nil, err
	}
	tree, err := ReadTree(file)
	if err != nil {
		return nil, err
	}
	v, ok := lookup(withDefaults(root, tree).(map[string]any), p)
	if !ok {
		return nil, &NotFoundError{Path: path}
	}
	return v, nil
}

// Entries lists every key the file sets, in path order (values not
// redacted; see Redact).
func Entries(file string) ([]Entry, error) {
	tree, err := ReadTree(file)
	if err != nil {
		return nil, err
	}
	return entries(tree, nil, nil), nil
}

// Check reports every problem of the file: TOML syntax, keys and values
// against the schema (with lines), then how the values fit together. A
// missing file has none.
func Check(file string) ([]Issue, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	_, err = parse(file, data)
	if err == nil {
		return nil, nil
	}
	var ve *ValidationError
	var se *SyntaxError
	var sem *SemanticError
	switch {
	case errors.As(err, &ve):
		sort.SliceStable(ve.Issues, func(i, j int) bool { return ve.Issues[i].Line < ve.Issues[j].Line })
		return ve.Issues, nil
	case errors.As(err, &se):
		return []Issue{{Line: se.Line, Message: "invalid TOML: " + se.Msg}}, nil
	case errors.As(err, &sem):
		lines := keyLines(data)
		out := make([]Issue, len(sem.Issues))
		for i, is := range sem.Issues {
			is.Line = lineOf(lines, is.Path)
			out[i] = is
		}
		return out, nil
	}
	return []Issue{{Message: err.Error()}}, nil
}
