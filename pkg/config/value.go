package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// Values in a config tree are what the TOML decoder produces, narrowed to
// what the schema can hold: string, int64, float64, bool, []any and
// map[string]any.

// ParseValue reads a value given on the command line. It is a JSON or TOML
// literal (true, 19001, "x", 'x', [1, 2], {"a": 1}, {a = 1}) when it parses
// as one, else the raw string. With strict, only JSON is accepted and
// anything else is an error.
func ParseValue(s string, strict bool) (any, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("value is not valid UTF-8")
	}
	if v, err := parseJSONValue(s); err == nil {
		return v, nil
	} else if strict {
		return nil, fmt.Errorf("value is not valid JSON (--strict-json): %v", err)
	}
	if v, ok := parseTOMLValue(s); ok {
		return v, nil
	}
	return s, nil
}

func parseJSONValue(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := s[dec.InputOffset():]; strings.Trim(rest, " \t\r\n") != "" {
		return nil, fmt.Errorf("unexpected data after the value")
	}
	return normalize(v)
}

// parseTOMLValue reads s as the value of a TOML key-value line. It refuses
// documents that define anything besides the one value, and dates (no key
// takes one; the raw string is what a user means).
func parseTOMLValue(s string) (any, bool) {
	var m map[string]any
	if err := toml.Unmarshal([]byte("v = "+s), &m); err != nil || len(m) != 1 {
		return nil, false
	}
	v, ok := m["v"]
	if !ok {
		return nil, false
	}
	n, err := normalize(v)
	if err != nil {
		return nil, false
	}
	return n, true
}

// normalize converts decoded JSON or TOML (or Go values given to Set) into
// the tree's value types. It fails on values a config cannot hold.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, fmt.Errorf("null is not a config value (use config unset to remove a key)")
	case string, bool, int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d is too large", x)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d is too large", x)
		}
		return int64(x), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("number %v is not finite", x)
		}
		return x, nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("number %s is out of range", x)
		}
		return f, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out, nil
	}
	// Anything else (structs, dates): through JSON, which also rejects
	// what a TOML file cannot hold.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("unsupported value of type %T", v)
	}
	if _, isDate := v.(interface{ MarshalText() ([]byte, error) }); isDate {
		return nil, fmt.Errorf("unsupported value of type %T", v)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, fmt.Errorf("unsupported value of type %T", v)
	}
	return normalize(g)
}

// FormatValue prints a tree value as a JSON literal that ParseValue reads
// back to the same value. Table keys are sorted.
func FormatValue(v any) string {
	b, err := marshalJSON(v, "")
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// marshalJSON encodes without escaping <, > and & (values are shown to
// people, not embedded in HTML), indented when indent is not empty.
func marshalJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(jsonable(v)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// jsonable makes floats that are whole numbers keep a decimal point, so a
// float stays a float through print and parse.
func jsonable(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e21 {
			return json.RawMessage(strconv.FormatFloat(x, 'f', 1, 64))
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	}
	return v
}

// FormatRaw prints a value as `config get` does: strings, numbers and
// booleans raw, tables and arrays as indented JSON.
func FormatRaw(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool, int64, int:
		return fmt.Sprint(x)
	}
	b, err := marshalJSON(v, "  ")
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// describe names a value's type (and the value, when short) for messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:37] + "..."
		}
		return fmt.Sprintf("string %q", x)
	case int64, int:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("a %T", v)
}

// sortedKeys returns a table's keys in order.
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// clone deep-copies a tree value.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

// ParseValueFor is ParseValue for the key at path: a number or boolean
// literal given to a string key is taken as the raw string, as the user
// meant (session.mainKey 123 is "123"). With strict, no such guess is made.
func ParseValueFor(path, s string, strict bool) (any, error) {
	v, err := ParseValue(s, strict)
	if err != nil || strict {
		return v, err
	}
	if k, ok := LookupKey(path); ok && (k.Type == TypeString || k.Type == TypeEnum) {
		switch v.(type) {
		case int64, float64, bool:
			return s, nil
		}
	}
	return v, nil
}
