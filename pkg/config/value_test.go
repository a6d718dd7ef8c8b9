package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"true", true},
		{"false", false},
		{"19001", int64(19001)},
		{"-3", int64(-3)},
		{"1.5", 1.5},
		{`"x"`, "x"},
		{`'x'`, "x"},
		{`"19001"`, "19001"},
		{"hello", "hello"},
		{"openai/gpt-4o", "openai/gpt-4o"},
		{"10.0.0.1", "10.0.0.1"},
		{"", ""},
		{" ", " "},
		{`["a","b"]`, []any{"a", "b"}},
		{`['a', 'b']`, []any{"a", "b"}},
		{`[1, 2]`, []any{int64(1), int64(2)}},
		{`{"primary":"a/b","fallbacks":["c/d"]}`, map[string]any{"primary": "a/b", "fallbacks": []any{"c/d"}}},
		{`{primary = "a/b"}`, map[string]any{"primary": "a/b"}},
		{"0x10", int64(16)},
		{"1_000", int64(1000)},
		{"2024-01-01", "2024-01-01"},
		{"null", "null"},
		{"nan", "nan"},
		{"inf", "inf"},
		{"1e400", "1e400"},
		{"1 x", "1 x"},
		{"1\nw = 2", "1\nw = 2"},
		{"[1, 2", "[1, 2"},
		{"You are\nhelpful", "You are\nhelpful"},
		{`{"a": null}`, `{"a": null}`},
	}
	for _, tt := range tests {
		got, err := ParseValue(tt.in, false)
		if err != nil {
			t.Errorf("ParseValue(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseValue(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseValueStrict(t *testing.T) {
	if v, err := ParseValue(`{"a":[1,true,"x"]}`, true); err != nil || !reflect.DeepEqual(v, map[string]any{"a": []any{int64(1), true, "x"}}) {
		t.Errorf("strict JSON = %#v, %v", v, err)
	}
	for _, in := range []string{"hello", "'x'", "{a = 1}", "[1, 2", "", "null"} {
		_, err := ParseValue(in, true)
		if err == nil || !strings.HasPrefix(err.Error(), "value is not valid JSON (--strict-json): ") {
			t.Errorf("ParseValue(%q, strict) error = %v", in, err)
		}
	}
	if _, err := ParseValue("\xff", false); err == nil || err.Error() != "value is not valid UTF-8" {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestParseValueFor(t *testing.T) {
	tests := []struct {
		path, in string
		strict   bool
		want     any
	}{
		{"session.mainKey", "123", false, "123"},
		{"agents.list[0].name", "true", false, "true"},
		{"gateway.port", "123", false, int64(123)},
		{"session.mainKey", `"x"`, false, "x"},
		{"session.mainKey", "123", true, int64(123)},
		{"gateway.trustedProxies", `["10.0.0.1"]`, false, []any{"10.0.0.1"}},
		{"unknown.key", "1", false, int64(1)},
	}
	for _, tt := range tests {
		got, err := ParseValueFor(tt.path, tt.in, tt.strict)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseValueFor(%q, %q, %v) = %#v, %v; want %#v", tt.path, tt.in, tt.strict, got, err, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		v        any
		raw, lit string
	}{
		{"x", "x", `"x"`},
		{int64(5), "5", "5"},
		{true, "true", "true"},
		{2.0, "2.0", "2.0"},
		{[]any{"a"}, "[\n  \"a\"\n]", `["a"]`},
		{map[string]any{"b": int64(1), "a": "<&>"}, "{\n  \"a\": \"<&>\",\n  \"b\": 1\n}", `{"a":"<&>","b":1}`},
	}
	for _, tt := range tests {
		if got := FormatRaw(tt.v); got != tt.raw {
			t.Errorf("FormatRaw(%#v) = %q, want %q", tt.v, got, tt.raw)
		}
		if got := FormatValue(tt.v); got != tt.lit {
			t.Errorf("FormatValue(%#v) = %q, want %q", tt.v, got, tt.lit)
		}
	}
}

func TestNormalizeGoValues(t *testing.T) {
	type s struct {
		A int `json:"a"`
	}
	tests := []struct {
		in   any
		want any
	}{
		{7, int64(7)},
		{uint(7), int64(7)},
		{[]string{"a"}, []any{"a"}},
		{map[string]string{"k": "v"}, map[string]any{"k": "v"}},
		{s{A: 2}, map[string]any{"a": int64(2)}},
	}
	for _, tt := range tests {
		got, err := normalize(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalize(%#v) = %#v, %v", tt.in, got, err)
		}
	}
	for _, bad := range []any{nil, uint64(1 << 63), make(chan int)} {
		if _, err := normalize(bad); err == nil {
			t.Errorf("normalize(%#v): no error", bad)
		}
	}
}

// FuzzValue: the parser never panics, and a parsed value printed as a
// literal parses back to the same value (strictly, as JSON, too).
func FuzzValue(f *testing.F) {
	for _, s := range []string{
		"true", "19001", "-0", "1.5", "1e3", `"x"`, "'x'", "hello", "", "[1, 'a']", `{"a":{"b":[1]}}`,
		"{a = 1}", "0x1F", "2024-01-01", "nan", "-inf", "1e400", "99999999999999999999", "null", "\"\\u00e9\"",
		"[[1], [2.5]]", "a\nb", `"\ud800"`, "0.1", "1e21", "-1e-7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseValue(s, false)
		if err != nil {
			return // only invalid UTF-8 is refused
		}
		lit := FormatValue(v)
		back, err := ParseValue(lit, true)
		if err != nil {
			t.Fatalf("ParseValue(%q) = %#v printed as %q, which does not parse: %v", s, v, lit, err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("round trip of %q: %#v -> %q -> %#v", s, v, lit, back)
		}
		_ = FormatRaw(v)
		// Whatever a user can set must survive the TOML file too.
		tree := map[string]any{"k": v}
		b, err := encodeTree(tree)
		if err != nil {
			t.Fatalf("encode %#v: %v", v, err)
		}
		dec, err := decodeTree("f", b)
		if err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
		if !reflect.DeepEqual(dec, tree) {
			t.Fatalf("TOML round trip of %#v: %#v", tree, dec)
		}
	})
}
