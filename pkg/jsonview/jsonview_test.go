package jsonview

import (
	"encoding/json"
	"testing"
)

// FuzzScan checks the body splitter against encoding/json on every valid
// object or array: same members (last duplicate wins), same raw values.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, ` { "a" : 1 , "b":[1, {"c":"}"}] } `, `{"a\"b":"x","\u0061":2,"a":3}`,
		`[1,"2",[3],{"4":5},null,true]`, `{"s":"\\\"","n":-1.5e-3}`, "{\"k\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		i := SkipSpace(b, 0)
		switch b[i] {
		case '{':
			var want map[string]json.RawMessage
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			o := ParseObject(b[i:])
			for k, v := range want {
				got, ok := o.Get(k)
				if !ok || string(got) != string(v) {
					t.Fatalf("member %q = %q, %v; want %q", k, got, ok, v)
				}
			}
			for _, m := range o {
				if _, ok := want[string(m.Key)]; !ok {
					t.Fatalf("extra member %q", m.Key)
				}
			}
		case '[':
			var want []json.RawMessage
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got := ParseArray(b[i:])
			if len(got) != len(want) {
				t.Fatalf("%d items, want %d", len(got), len(want))
			}
			for j := range want {
				if string(got[j]) != string(want[j]) {
					t.Fatalf("item %d = %q, want %q", j, got[j], want[j])
				}
			}
		case '"':
			var want string
			_ = json.Unmarshal(b[i:SkipValue(b, i)], &want)
			if got := Unquote(b[i:SkipValue(b, i)]); got != want {
				t.Fatalf("unquote = %q, want %q", got, want)
			}
		}
	})
}
