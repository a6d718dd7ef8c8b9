package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// SyntaxError is a file that is not valid TOML.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: invalid TOML: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: invalid TOML: %s", e.File, e.Msg)
}

// decodeTree decodes a TOML document into a generic tree (file names the
// document in errors).
func decodeTree(file string, data []byte) (map[string]any, error) {
	tree := map[string]any{}
	if err := toml.Unmarshal(data, &tree); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, &SyntaxError{File: file, Line: line, Msg: strings.TrimPrefix(de.Error(), "toml: ")}
		}
		return nil, &SyntaxError{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	return tree, nil
}

// keyLines maps the concrete path of every key and table header in a TOML
// document (as Path.String prints it) to the line it is on. The document is
// assumed to decode; on a parse error the map holds what came before.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	arrays := map[string]int{} // element counts of arrays of tables so far
	var table Path             // the current [table] or [[array]] element

	// walkKey resolves a dotted key from base, stepping into the last
	// element of arrays of tables, and records each step's line.
	walkKey := func(base Path, it unstable.Iterator, arrayTable bool) Path {
		cur := append(Path(nil), base...)
		for it.Next() {
			k := it.Node()
			cur = cur.Child(string(k.Data))
			line := p.Shape(k.Raw).Start.Line
			last := it.IsLast()
			if last && arrayTable {
				s := cur.String()
				cur = cur.Elem(arrays[s])
				arrays[s]++
			} else if n, ok := arrays[cur.String()]; ok && n > 0 {
				cur = cur.Elem(n - 1)
			}
			if _, seen := lines[cur.String()]; !seen {
				lines[cur.String()] = line
			}
		}
		return cur
	}
	var value func(base Path, v *unstable.Node, line int)
	value = func(base Path, v *unstable.Node, line int) {
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				kv := it.Node()
				if kv.Kind != unstable.KeyValue {
					continue
				}
				k := walkKey(base, kv.Key(), false)
				value(k, kv.Value(), line)
			}
		case unstable.Array:
			it := v.Children()
			i := 0
			for it.Next() {
				e := it.Node()
				if e.Kind == unstable.Comment {
					continue
				}
				ep := base.Elem(i)
				if _, seen := lines[ep.String()]; !seen {
					lines[ep.String()] = line
				}
				value(ep, e, line)
				i++
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = walkKey(nil, e.Key(), false)
		case unstable.ArrayTable:
			table = walkKey(nil, e.Key(), true)
		case unstable.KeyValue:
			k := walkKey(table, e.Key(), false)
			value(k, e.Value(), lines[k.String()])
		}
	}
	return lines
}

// lineOf finds the line of a path, or of its closest ancestor in the file.
func lineOf(lines map[string]int, path string) int {
	p, err := ParsePath(path)
	if err != nil {
		return 0
	}
	for len(p) > 0 {
		if l, ok := lines[p.String()]; ok {
			return l
		}
		p = p[:len(p)-1]
	}
	return 0
}
