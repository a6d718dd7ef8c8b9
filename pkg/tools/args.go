package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// args is a tool call's arguments, decoded one field at a time so that every
// mistake gets a message naming the argument and what was expected: the
// model reads these messages and must be able to fix its call from them.
type args map[string]json.RawMessage

// argError is a mistake in a tool call's arguments.
type argError struct{ msg string }

func (e *argError) Error() string { return "invalid arguments: " + e.msg }

func argErrorf(format string, a ...any) error {
	return &argError{fmt.Sprintf(format, a...)}
}

// parseArgs decodes raw as a JSON object whose keys are all in known.
// Empty input and null mean no arguments.
func parseArgs(raw json.RawMessage, known ...string) (args, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return args{}, nil
	}
	if raw[0] != '{' {
		if !json.Valid(raw) {
			return nil, argErrorf("not valid JSON; send a JSON object such as {%s}", example(known))
		}
		return nil, argErrorf("expected a JSON object, got %s", kind(raw))
	}
	var a args
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, argErrorf("not valid JSON (%s); send a JSON object such as {%s}", jsonErr(err), example(known))
	}
	var unknown []string
	for k := range a {
		if !slices.Contains(known, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, argErrorf("unknown argument %s; the arguments are %s", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return a, nil
}

// jsonErr is err's message without the "json: " prefix of encoding/json.
func jsonErr(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// example is a JSON object skeleton with the keys in known.
func example(known []string) string {
	parts := make([]string, len(known))
	for i, k := range known {
		parts[i] = fmt.Sprintf("%q: ...", k)
	}
	return strings.Join(parts, ", ")
}

// kind names the JSON type of a valid JSON value.
func kind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// present reports whether name was given with a non-null value.
func (a args) present(name string) bool {
	v, ok := a[name]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

// str is the string argument name; ok is false when it is absent or null.
func (a args) str(name string) (s string, ok bool, err error) {
	if !a.present(name) {
		return "", false, nil
	}
	v := a[name]
	if bytes.TrimSpace(v)[0] != '"' {
		return "", false, argErrorf("%q must be a string, got %s", name, kind(v))
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, argErrorf("%q: %s", name, jsonErr(err))
	}
	return s, true, nil
}

// requiredStr is a string argument that must be present.
func (a args) requiredStr(name string) (string, error) {
	s, ok, err := a.str(name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", argErrorf("missing required argument %q", name)
	}
	return s, nil
}

// num is the number argument name; ok is false when it is absent or null.
func (a args) num(name string) (f float64, ok bool, err error) {
	if !a.present(name) {
		return 0, false, nil
	}
	v := a[name]
	if k := kind(v); k != "a number" {
		return 0, false, argErrorf("%q must be a number, got %s", name, k)
	}
	if err := json.Unmarshal(v, &f); err != nil {
		// Only a number too large for float64 gets here.
		return 0, false, argErrorf("%q is out of range", name)
	}
	return f, true, nil
}

// posInt is a positive whole-number argument; ok is false when absent.
func (a args) posInt(name string) (n int, ok bool, err error) {
	f, ok, err := a.num(name)
	if err != nil || !ok {
		return 0, false, err
	}
	if f != math.Trunc(f) {
		return 0, false, argErrorf("%q must be a whole number, got %v", name, f)
	}
	if f < 1 {
		return 0, false, argErrorf("%q must be 1 or more, got %v", name, f)
	}
	if f > math.MaxInt32 {
		return math.MaxInt32, true, nil
	}
	return int(f), true, nil
}
