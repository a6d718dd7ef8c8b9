package config

import (
	"reflect"
	"testing"
)

func TestParsePath(t *testing.T) {
	k := func(s string) Segment { return Segment{Key: s} }
	ix := func(i int) Segment { return Segment{Index: i, IsIndex: true} }
	tests := []struct {
		in   string
		want Path
	}{
		{"gateway.port", Path{k("gateway"), k("port")}},
		{"agents.list[0].id", Path{k("agents"), k("list"), ix(0), k("id")}},
		{"agents.list.0.id", Path{k("agents"), k("list"), k("0"), k("id")}},
		{"a[1][2]", Path{k("a"), ix(1), ix(2)}},
		{"a[12]", Path{k("a"), ix(12)}},
		{`agents.defaults.models.anthropic/claude-3\.5.alias`, Path{k("agents"), k("defaults"), k("models"), k("anthropic/claude-3.5"), k("alias")}},
		{`a\\b`, Path{k(`a\b`)}},
		{`a\[0\]`, Path{k("a[0]")}},
		{"x", Path{k("x")}},
		{"with space.k", Path{k("with space"), k("k")}},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePath(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if back, err := ParsePath(got.String()); err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("ParsePath(%q).String() = %q does not parse back: %v", tt.in, got.String(), err)
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `invalid path: empty`},
		{"a..b", `invalid path "a..b": empty segment at position 3`},
		{".a", `invalid path ".a": empty segment at position 1`},
		{"a.", `invalid path "a.": empty segment after the last dot at position 2`},
		{"a[]", `invalid path "a[]": empty index [] (write the element number, as in [0]) at position 2`},
		{"a[0", `invalid path "a[0": missing ] at position 2`},
		{"a[x]", `invalid path "a[x]": index "x" is not a non-negative integer at position 3`},
		{"a[-1]", `invalid path "a[-1]": index "-1" is not a non-negative integer at position 3`},
		{"a[+1]", `invalid path "a[+1]": index "+1" is not a non-negative integer at position 3`},
		{"a[0]b", `invalid path "a[0]b": expected . or [ after ] at position 5`},
		{"a]", `invalid path "a]": unexpected ] (escape it as \]) at position 2`},
		{"[0]", `invalid path "[0]": a path must start with a key, not an index at position 1`},
		{"a.[0]", `invalid path "a.[0]": empty segment before [ at position 3`},
		{`a\`, `invalid path "a\\": dangling escape (use \\ for a backslash) at position 2`},
		{"a[99999999999]", `invalid path "a[99999999999]": index 99999999999 is too large at position 3`},
	}
	for _, tt := range tests {
		_, err := ParsePath(tt.in)
		if err == nil {
			t.Errorf("ParsePath(%q): no error, want %q", tt.in, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParsePath(%q) error\n got %q\nwant %q", tt.in, err.Error(), tt.want)
		}
	}
}

func TestPathHelpers(t *testing.T) {
	p := MustParsePath("agents.list")
	if got := p.Elem(2).Child("id").String(); got != "agents.list[2].id" {
		t.Errorf("Elem/Child = %q", got)
	}
	if !MustParsePath("agents.list[0].id").HasPrefix(p) || p.HasPrefix(MustParsePath("agents.list[0]")) {
		t.Error("HasPrefix is wrong")
	}
	if i, ok := (Segment{Key: "12"}).asIndex(); !ok || i != 12 {
		t.Errorf("asIndex(12) = %d, %v", i, ok)
	}
	if _, ok := (Segment{Key: "x1"}).asIndex(); ok {
		t.Error("asIndex(x1) is an index")
	}
}

// FuzzPath: the parser never panics, and whatever it accepts prints to a
// path that parses back to the same segments (and prints the same again).
func FuzzPath(f *testing.F) {
	for _, s := range []string{
		"gateway.port", "agents.list[0].id", "agents.list.0.id", `a\.b`, `a\\`, "a[", "a[]", "a]",
		"a..b", ".", "[0]", "a[0][1].b", `models.providers.x\[1\].baseUrl`, "a[007]", "é.ü[3]", "a[0]b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		if len(p) == 0 {
			t.Fatalf("ParsePath(%q) accepted an empty path", s)
		}
		printed := p.String()
		q, err := ParsePath(printed)
		if err != nil {
			t.Fatalf("ParsePath(%q) = %q, which does not parse: %v", s, printed, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip of %q: %#v != %#v", s, p, q)
		}
		if q.String() != printed {
			t.Fatalf("print is not stable: %q then %q", printed, q.String())
		}
		// Resolving any path against the schema never panics either.
		_, _ = resolve(p)
		_, _ = LookupKey(s)
	})
}
