package tools

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestDefs checks each tool's schema against its decoder: the same
// argument names, the same required ones, nothing else accepted.
func TestDefs(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{"read", "write", "edit", "ls", "exec"}) {
		t.Fatalf("Names() = %q", got)
	}
	if len(All()) != 5 {
		t.Fatalf("All() has %d tools", len(All()))
	}
	for _, tool := range All() {
		d := tool.Def()
		t.Run(d.Name, func(t *testing.T) {
			if got, ok := Lookup(d.Name); !ok || got.Def().Name != d.Name {
				t.Errorf("Lookup(%q) fails", d.Name)
			}
			if d.Description == "" {
				t.Errorf("no description")
			}
			var schema struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
				Required   []string                   `json:"required"`
				Additional *bool                      `json:"additionalProperties"`
			}
			dec := json.NewDecoder(strings.NewReader(string(d.Parameters)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&schema); err != nil {
				t.Fatalf("schema: %v", err)
			}
			if schema.Type != "object" || schema.Additional == nil || *schema.Additional {
				t.Errorf("schema is not a closed object: %s", d.Parameters)
			}
			decode := decoders[d.Name]
			for name, prop := range schema.Properties {
				var p struct {
					Type        string `json:"type"`
					Description string `json:"description"`
				}
				if err := json.Unmarshal(prop, &p); err != nil || p.Type == "" || p.Description == "" {
					t.Errorf("property %s: %s (%v)", name, prop, err)
				}
				if err := decode(json.RawMessage(`{"` + name + `":null}`)); err != nil && strings.Contains(err.Error(), "unknown argument") {
					t.Errorf("the decoder does not know %q: %v", name, err)
				}
			}
			for _, r := range schema.Required {
				if _, ok := schema.Properties[r]; !ok {
					t.Errorf("required %q is not a property", r)
				}
			}
			// Everything required missing: the decoder names the first.
			err := decode(json.RawMessage(`{}`))
			if len(schema.Required) == 0 {
				if err != nil {
					t.Errorf("{} refused: %v", err)
				}
			} else if want := `invalid arguments: missing required argument "` + schema.Required[0] + `"`; err == nil || err.Error() != want {
				t.Errorf("{} -> %v, want %s", err, want)
			}
			if err := decode(json.RawMessage(`{"zzz":1}`)); err == nil || !strings.Contains(err.Error(), `unknown argument "zzz"`) {
				t.Errorf("an unknown argument was accepted: %v", err)
			}
		})
	}
}

// decoders maps each tool to its argument decoder, for the tests and the
// fuzz target.
var decoders = map[string]func(json.RawMessage) error{
	NameRead:  func(b json.RawMessage) error { _, err := decodeRead(b); return err },
	NameWrite: func(b json.RawMessage) error { _, err := decodeWrite(b); return err },
	NameEdit:  func(b json.RawMessage) error { _, err := decodeEdit(b); return err },
	NameLs:    func(b json.RawMessage) error { _, err := decodeLs(b); return err },
	NameExec:  func(b json.RawMessage) error { _, err := decodeExec(b); return err },
}
