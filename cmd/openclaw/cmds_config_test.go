package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["filemode"] = cmdFileMode
	scriptCmds["lsdir"] = cmdLsDir
}

// cmdLsDir prints the names in a directory, one a line, sorted, for the
// stdout command to check.
//
//	lsdir dir
func cmdLsDir(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: lsdir dir")
	}
	ents, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	for _, e := range ents {
		fmt.Fprintln(ts.Stdout(), e.Name())
	}
}

// cmdFileMode checks the permission bits of a file or directory.
//
//	filemode path 0600
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode path octal-mode")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	if err != nil {
		ts.Fatalf("filemode: bad mode %q", args[1])
	}
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := st.Mode().Perm()
	if (got == os.FileMode(want)) == neg {
		ts.Fatalf("mode of %s is %s, want %s%s", args[0], fmt.Sprintf("%04o", uint32(got)), map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}
