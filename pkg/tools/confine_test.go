package tools

import (
	"fmt"
	"maps"
	"path/filepath"
	"testing"
)

// TestConfinement tries every way out of the workspace with every file
// tool. Each attempt must be refused with the escape message, and neither
// the outside directory nor the workspace may change.
func TestConfinement(t *testing.T) {
	// links set up in the workspace; %s is the outside directory.
	links := map[string]string{
		"reldir":      "../outside",              // a directory component, relative
		"absdir":      "%s",                      // a directory component, absolute
		"relfile":     "../outside/secret.txt",   // the final element, relative
		"absfile":     "%s/secret.txt",           // the final element, absolute
		"dangling":    "../outside/new.txt",      // final element to a file not there yet
		"sub/up":      "../../outside",           // a link deeper down
		"chain":       "reldir/secret.txt",       // a link to a path through a link out
		"inside/ok":   "../inside",               // a harmless link, used below to go out
		"deepdangle":  "../outside/made/new.txt", // dangling, with a missing directory
		"selfdotdot":  "..",                      // a link to the workspace's parent
		"inside/back": "../../outside/secret.txt",
	}
	paths := []string{
		"../outside/secret.txt",
		"..",
		"../",
		"a/../../outside/secret.txt",
		"inside/../../outside/secret.txt",
		"%s/secret.txt", // absolute path of the secret
		"/etc/passwd",
		"reldir/secret.txt",
		"absdir/secret.txt",
		"reldir",
		"absdir",
		"relfile",
		"absfile",
		"dangling",
		"deepdangle",
		"sub/up/secret.txt",
		"chain",
		"inside/ok/../../outside/secret.txt",
		"selfdotdot/outside/secret.txt",
		"selfdotdot",
		"inside/back",
		"reldir/new.txt",
		"reldir/newdir/new.txt",
	}
	calls := map[string]string{
		NameRead:  `{"path":%q}`,
		NameLs:    `{"path":%q}`,
		NameWrite: `{"path":%q,"content":"pwned\n"}`,
		NameEdit:  `{"path":%q,"old_string":"top","new_string":"pwned"}`,
	}
	for _, tool := range []string{NameRead, NameLs, NameWrite, NameEdit} {
		for _, p := range paths {
			t.Run(tool+"/"+p, func(t *testing.T) {
				fx := newFixture(t)
				mkdir(t, filepath.Join(fx.dir, "inside"))
				mkdir(t, filepath.Join(fx.dir, "sub"))
				for l, target := range links {
					if target == "%s" || target == "%s/secret.txt" {
						target = fmt.Sprintf(target, fx.outside)
					}
					symlink(t, target, filepath.Join(fx.dir, l))
				}
				if p == "%s/secret.txt" {
					p = fmt.Sprintf(p, fx.outside)
				}
				beforeOut, beforeWS := tree(t, fx.outside), tree(t, fx.dir)

				got := run(t, fx.ws, tool, fmt.Sprintf(calls[tool], p))
				want := Result{Text: "path escapes the workspace: " + p, IsError: true}
				if got != want {
					t.Errorf("%s %q\n got %+v\nwant %+v", tool, p, got, want)
				}
				if after := tree(t, fx.outside); !maps.Equal(after, beforeOut) {
					t.Errorf("the outside changed: %v, was %v", after, beforeOut)
				}
				if after := tree(t, fx.dir); !maps.Equal(after, beforeWS) {
					t.Errorf("the workspace changed: %v, was %v", keys(after), keys(beforeWS))
				}
			})
		}
	}
}

// TestInsideLinksAllowed checks that confinement does not refuse links and
// dot segments that stay in the workspace.
func TestInsideLinksAllowed(t *testing.T) {
	fx := newFixture(t)
	put(t, filepath.Join(fx.dir, "real/f.txt"), "inside\n")
	symlink(t, "real", filepath.Join(fx.dir, "dirlink"))
	symlink(t, "../real/f.txt", filepath.Join(fx.dir, "sub/filelink"))
	symlink(t, "sub/filelink", filepath.Join(fx.dir, "chain"))
	for _, p := range []string{"real/f.txt", "dirlink/f.txt", "sub/filelink", "chain", "sub/../real/f.txt", "dirlink/../real/f.txt"} {
		if got := run(t, fx.ws, NameRead, fmt.Sprintf(`{"path":%q}`, p)); got != (Result{Text: "inside\n"}) {
			t.Errorf("read %s = %+v", p, got)
		}
	}
	if got := run(t, fx.ws, NameWrite, `{"path":"chain","content":"via chain\n"}`); got.IsError {
		t.Fatalf("write chain: %+v", got)
	}
	if c := readFile(t, filepath.Join(fx.dir, "real/f.txt")); c != "via chain\n" {
		t.Errorf("real/f.txt = %q after writing through the chain", c)
	}
	if got := run(t, fx.ws, NameEdit, `{"path":"dirlink/f.txt","old_string":"chain","new_string":"link"}`); got.IsError {
		t.Fatalf("edit: %+v", got)
	}
	if c := readFile(t, filepath.Join(fx.dir, "real/f.txt")); c != "via link\n" {
		t.Errorf("real/f.txt = %q after the edit", c)
	}
	if got := run(t, fx.ws, NameLs, `{"path":"sub/.."}`); got != (Result{Text: "chain\ndirlink/\nreal/\nsub/"}) {
		t.Errorf("ls sub/.. = %+v", got)
	}
}
