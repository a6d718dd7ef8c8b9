package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Segment is one step of a config path: a key of a table, or an index into
// an array. A plain numeric key ("agents.list.0") stays a key here and is
// taken as an index when the value it applies to is an array.
type Segment struct {
	Key     string
	Index   int
	IsIndex bool // written as [n]
}

// Path is a parsed config path such as agents.list[0].id.
type Path []Segment

// maxIndex bounds array indexes in paths; no config array is near it.
const maxIndex = 1 << 20

// ParsePath parses a config path: dots separate keys, [n] indexes an array,
// and a backslash escapes the next character (`\.` is a dot inside a key, as
// in agents.defaults.models.anthropic/claude-3\.5.alias).
func ParsePath(s string) (Path, error) {
	if s == "" {
		return nil, fmt.Errorf("invalid path: empty")
	}
	bad := func(pos int, format string, args ...any) error {
		return fmt.Errorf("invalid path %q: %s at position %d", s, fmt.Sprintf(format, args...), pos+1)
	}
	var p Path
	var key strings.Builder
	inKey := false // a key segment has started (possibly empty so far)
	i := 0
	// expectKey is true at the start and right after a dot.
	expectKey := true
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return nil, bad(i, "dangling escape (use \\\\ for a backslash)")
			}
			key.WriteByte(s[i+1])
			inKey, expectKey = true, false
			i += 2
		case c == '.':
			if expectKey && !inKey {
				return nil, bad(i, "empty segment")
			}
			if inKey {
				p = append(p, Segment{Key: key.String()})
				key.Reset()
				inKey = false
			}
			expectKey = true
			i++
			if i == len(s) {
				return nil, bad(i-1, "empty segment after the last dot")
			}
		case c == '[':
			if inKey {
				p = append(p, Segment{Key: key.String()})
				key.Reset()
				inKey = false
			} else if expectKey {
				if len(p) == 0 {
					return nil, bad(i, "a path must start with a key, not an index")
				}
				return nil, bad(i, "empty segment before [")
			}
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, bad(i, "missing ]")
			}
			num := s[i+1 : i+end]
			if num == "" {
				return nil, bad(i, "empty index [] (write the element number, as in [0])")
			}
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || strings.HasPrefix(num, "+") {
				return nil, bad(i+1, "index %q is not a non-negative integer", num)
			}
			if n > maxIndex {
				return nil, bad(i+1, "index %d is too large", n)
			}
			p = append(p, Segment{Index: n, IsIndex: true})
			i += end + 1
			expectKey = false
			if i < len(s) && s[i] != '.' && s[i] != '[' {
				return nil, bad(i, "expected . or [ after ]")
			}
		case c == ']':
			return nil, bad(i, "unexpected ] (escape it as \\])")
		default:
			if !expectKey && !inKey {
				// unreachable: after ] only . or [ may follow (checked above)
				return nil, bad(i, "expected . or [")
			}
			key.WriteByte(c)
			inKey, expectKey = true, false
			i++
		}
	}
	if inKey {
		p = append(p, Segment{Key: key.String()})
	}
	return p, nil
}

// MustParsePath is ParsePath for paths known to be valid; it panics otherwise.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String prints the path so that ParsePath reads it back unchanged.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.IsIndex {
			fmt.Fprintf(&b, "[%d]", s.Index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(escapeKey(s.Key))
	}
	return b.String()
}

// escapeKey escapes the characters that have a meaning in a path.
func escapeKey(k string) string {
	if !strings.ContainsAny(k, `.[]\`) {
		return k
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '.', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(k[i])
	}
	return b.String()
}

// Child returns p extended by a key.
func (p Path) Child(key string) Path {
	q := make(Path, len(p), len(p)+1)
	copy(q, p)
	return append(q, Segment{Key: key})
}

// Elem returns p extended by an array index.
func (p Path) Elem(i int) Path {
	q := make(Path, len(p), len(p)+1)
	copy(q, p)
	return append(q, Segment{Index: i, IsIndex: true})
}

// Equal reports whether two paths are the same, segment by segment.
func (p Path) Equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// HasPrefix reports whether q is p or an ancestor of p.
func (p Path) HasPrefix(q Path) bool {
	return len(q) <= len(p) && p[:len(q)].Equal(q)
}

// asIndex returns the array index a segment denotes, if it can denote one.
func (s Segment) asIndex() (int, bool) {
	if s.IsIndex {
		return s.Index, true
	}
	if s.Key == "" || len(s.Key) > 7 {
		return 0, false
	}
	for i := 0; i < len(s.Key); i++ {
		if s.Key[i] < '0' || s.Key[i] > '9' {
			return 0, false
		}
	}
	n, _ := strconv.Atoi(s.Key)
	return n, true
}
