package openresponses

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// A minimal reader of JSON that json.Valid has already accepted, the same
// as pkg/openai's: objects and arrays are split into views of the body
// instead of copies, so a 20 MB data URL is copied once (into its string)
// rather than once per nesting level. Its functions assume valid input.

// member is one key and value of an object; key is unescaped, val is the
// raw value without surrounding space.
type member struct {
	key []byte
	val []byte
}

// object is a JSON object's members in order.
type object []member

// get returns the value of key; with duplicate keys the last one wins, as
// in encoding/json.
func (o object) get(key string) ([]byte, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].key) == key {
			return o[i].val, true
		}
	}
	return nil, false
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
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

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) int {
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

// parseObject splits the object raw (starting with '{').
func parseObject(raw []byte) object {
	var o object
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != '}' {
		end := skipString(raw, i)
		key := raw[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			key = []byte(unquote(raw[i:end]))
		}
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // past ':'
		end = skipValue(raw, i)
		o = append(o, member{key: key, val: raw[i:end]})
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return o
}

// parseArray splits the array raw (starting with '[').
func parseArray(raw []byte) [][]byte {
	var items [][]byte
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		end := skipValue(raw, i)
		items = append(items, raw[i:end])
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return items
}

// unquote decodes the string raw (with its quotes) as encoding/json does,
// invalid UTF-8 becoming U+FFFD.
func unquote(raw []byte) string {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	var out string
	_ = json.Unmarshal(raw, &out)
	return out
}

// JSON kinds as named in error messages.
const (
	kString  = "string"
	kNumber  = "number"
	kBoolean = "boolean"
	kArray   = "array"
	kObject  = "object"
	kNull    = "null"
)

// kindOf names the JSON kind of a raw value (valid, without surrounding
// space).
func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return kNull
	}
	switch raw[0] {
	case '"':
		return kString
	case '{':
		return kObject
	case '[':
		return kArray
	case 't', 'f':
		return kBoolean
	case 'n':
		return kNull
	}
	return kNumber
}
