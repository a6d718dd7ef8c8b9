package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["bodyfield"] = cmdBodyField
}

// cmdBodyField sets a variable to a top-level string field of the JSON body
// of the last http answer (stdout: status, headers, a blank line, the body),
// so that a scenario can send it back, e.g. a response id as
// previous_response_id.
//
//	bodyfield VAR field
func cmdBodyField(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: bodyfield VAR field")
	}
	_, body, ok := strings.Cut(ts.ReadFile("stdout"), "\n\n")
	if !ok {
		ts.Fatalf("bodyfield: stdout is not an http answer")
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		ts.Fatalf("bodyfield: %v", err)
	}
	s, ok := v[args[1]].(string)
	if !ok {
		ts.Fatalf("bodyfield: no string field %q in %s", args[1], body)
	}
	ts.Setenv(args[0], s)
	fmt.Fprintf(ts.Stdout(), "%s=%s\n", args[0], s)
}
