package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["http"] = cmdHTTP
	scriptCmds["freeport"] = cmdFreePort
	scriptCmds["waitready"] = cmdWaitReady
	scriptCmds["capture"] = cmdCapture
	scriptCmds["waitgrep"] = cmdWaitGrep
	scriptCmds["transcript"] = cmdTranscript
	scriptCmds["transcript_types"] = cmdTranscriptTypes
}

// cmdHTTP sends one request and prints the status line, the response
// headers (sorted, Date left out) and the body to stdout.
//
//	http [-H 'Name: value']... [-auth secret] [-body text | -bodyfile file]
//	     [-events n] [-timeout 10s] METHOD URL
//
// -events n hangs up after reading n SSE events (a client going away).
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	args = append([]string(nil), args...)
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-bodyfile" {
			args[i+1] = ts.MkAbs(args[i+1])
		}
	}
	status, out, err := doHTTP(args)
	if err != nil && status == 0 { // no response at all
		if neg {
			return
		}
		ts.Fatalf("http: %v", err)
	}
	if err != nil { // the body broke off: show what came, and why it stopped
		out += fmt.Sprintf("\n[read error: %v]\n", err)
	}
	ts.Stdout().Write([]byte(out))
	if neg {
		ts.Fatalf("http: request succeeded")
	}
}

// cmdFreePort sets an environment variable to a free loopback port.
//
//	freeport VAR
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// cmdWaitReady polls a URL until it answers 200 (20 s at most).
//
//	waitready URL
func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitready URL")
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(args[0])
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if neg {
					ts.Fatalf("%s is ready", args[0])
				}
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	if !neg {
		ts.Fatalf("%s not ready after 20s", args[0])
	}
}

// cmdCapture runs a program and stores its trimmed stdout in a variable.
//
//	capture VAR program args...
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: capture VAR program args...")
	}
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		ts.Fatalf("capture %s: %v\n%s", strings.Join(args[1:], " "), err, ts.ReadFile("stderr"))
	}
	out := ts.ReadFile("stdout")
	ts.Setenv(args[0], strings.TrimSpace(string(out)))
}

// cmdWaitGrep waits until a file contains a match of a regexp (20 s at most).
//
//	waitgrep REGEXP file
func cmdWaitGrep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitgrep REGEXP file")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(ts.MkAbs(args[1]))
		if re.Match(b) {
			if neg {
				ts.Fatalf("%s matches %s", args[1], args[0])
			}
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	if !neg {
		ts.Fatalf("%s did not match %q within 20s", args[1], args[0])
	}
}

// cmdTranscript checks the one transcript in a sessions dir: every line
// parses, and each user record is directly followed by the assistant record
// of the same run. It prints "turns N", "pairs ok" and the user texts in
// transcript order.
//
//	transcript sessionsDir
func cmdTranscript(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: transcript sessionsDir")
	}
	files, err := filepath.Glob(filepath.Join(ts.MkAbs(args[0]), "*.jsonl"))
	ts.Check(err)
	if len(files) != 1 {
		ts.Fatalf("want one transcript, found %d", len(files))
	}
	data, err := os.ReadFile(files[0])
	ts.Check(err)
	type rec struct {
		Type, RunID, Text string
	}
	var recs []rec
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			ts.Fatalf("line %d does not parse: %v", i+1, err)
		}
		recs = append(recs, r)
	}
	turns := 0
	var users []string
	for i := 0; i < len(recs); i += 2 {
		users = append(users, recs[i].Text)
		if i+1 >= len(recs) || recs[i].Type != "user" || recs[i+1].Type != "assistant" || recs[i].RunID != recs[i+1].RunID {
			ts.Fatalf("records %d and %d are not one run's user and assistant turns", i+1, i+2)
		}
		turns++
	}
	fmt.Fprintf(ts.Stdout(), "turns %d\npairs ok\nusers %s\n", turns, strings.Join(users, ","))
}

// cmdTranscriptTypes prints the record types of a transcript, comma
// separated, failing on a line that does not parse.
//
//	transcript_types file.jsonl
func cmdTranscriptTypes(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: transcript_types file.jsonl")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	var types []string
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var r struct{ Type string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			ts.Fatalf("line %d does not parse: %v", i+1, err)
		}
		types = append(types, r.Type)
	}
	fmt.Fprintln(ts.Stdout(), strings.Join(types, ","))
}
