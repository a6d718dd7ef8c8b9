// Package jsonview reads JSON that json.Valid has already accepted, as
// views of the body instead of copies: objects and arrays are split into
// slices of the input, so a 20 MB data URL is copied once (into its string)
// rather than once per nesting level, and a request decodes with a handful
// of allocations. Its functions assume valid input; callers validate the
// whole body first. The OpenAI-compatible decoders (chat completions,
// responses) share it.
package jsonview

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// IsSpace reports whether c is JSON white space.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// JSON kinds as named in error messages.
const (
	KindString  = "string"
	KindNumber  = "number"
	KindBoolean = "boolean"
	KindArray   = "array"
	KindObject  = "object"
	KindNull    = "null"
)

// KindOf names the JSON kind of a raw value (valid, without surrounding
// space); empty input is null.
func KindOf(raw []byte) string {
	if len(raw) == 0 {
		return KindNull
	}
	switch raw[0] {
	case '"':
		return KindString
	case '{':
		return KindObject
	case '[':
		return KindArray
	case 't', 'f':
		return KindBoolean
	case 'n':
		return KindNull
	}
	return KindNumber
}

// Member is one key and value of an object; Key is unescaped, Val is the
// raw value without surrounding space.
type Member struct {
	Key []byte
	Val []byte
}

// Object is a JSON object's members in order.
type Object []Member

// Get returns the value of key; with duplicate keys the last one wins, as
// in encoding/json.
func (o Object) Get(key string) ([]byte, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].Key) == key {
			return o[i].Val, true
		}
	}
	return nil, false
}

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// SkipValue returns the index just past the value starting at b[i].
func SkipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = SkipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// SkipString returns the index just past the string starting at b[i].
func SkipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// ParseObject splits the object raw (starting with '{').
func ParseObject(raw []byte) Object {
	var o Object
	i := SkipSpace(raw, 1)
	for i < len(raw) && raw[i] != '}' {
		end := SkipString(raw, i)
		key := raw[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			key = []byte(Unquote(raw[i:end]))
		}
		i = SkipSpace(raw, end)
		i = SkipSpace(raw, i+1) // past ':'
		end = SkipValue(raw, i)
		o = append(o, Member{Key: key, Val: raw[i:end]})
		i = SkipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = SkipSpace(raw, i+1)
		}
	}
	return o
}

// ParseArray splits the array raw (starting with '[').
func ParseArray(raw []byte) [][]byte {
	var items [][]byte
	i := SkipSpace(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		end := SkipValue(raw, i)
		items = append(items, raw[i:end])
		i = SkipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = SkipSpace(raw, i+1)
		}
	}
	return items
}

// Unquote decodes the string raw (with its quotes) as encoding/json does,
// invalid UTF-8 becoming U+FFFD.
func Unquote(raw []byte) string {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	var out string
	_ = json.Unmarshal(raw, &out)
	return out
}
