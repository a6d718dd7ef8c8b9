package main

// More commands for the gateway scenarios:
//
//	exec openclawd NAME args... &gw&      openclaw with main's signal handling; pid in NAME.pid, stderr also in NAME.log
//	signal HUP|TERM|INT NAME              send a signal to the process of NAME.pid
//	httpwait CODE [http flags] METHOD URL  repeat a request until it answers CODE (20 s at most)
//	exec httpc [http flags] METHOD URL &c& the http command as a program, for a client in the background
//	norm REGEXP NAME                       rewrite stdout: each distinct match becomes NAME1, NAME2, ...
//	teebody FILE                           append the last http's status line and body to FILE

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openclaw/openclaw-go/pkg/cli"
)

func init() {
	programs["openclawd"] = openclawdMain
	programs["httpc"] = func() {
		_, out, err := doHTTP(os.Args[1:])
		os.Stdout.WriteString(out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpc:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	scriptCmds["signal"] = cmdSignal
	scriptCmds["httpwait"] = cmdHTTPWait
	scriptCmds["norm"] = cmdNorm
	scriptCmds["teebody"] = cmdTeeBody
}

// openclawdMain is openclaw as cmd/openclaw/main.go runs it (SIGINT and
// SIGTERM cancel the command's context), with its pid written to NAME.pid
// first so that a scenario can signal it, and its stderr copied to NAME.log
// as it is written so that a scenario can wait for a log line (waitgrep)
// while it runs.
//
//	openclawd NAME args...
func openclawdMain() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: openclawd NAME args...")
		os.Exit(2)
	}
	name := os.Args[1]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// SIGHUP is the gateway's to handle; until it listens, ignore it rather
	// than die.
	signal.Ignore(syscall.SIGHUP)
	logf, err := os.OpenFile(name+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "openclawd:", err)
		os.Exit(1)
	}
	defer logf.Close()
	if err := os.WriteFile(name+".pid.tmp", []byte(strconv.Itoa(os.Getpid())), 0o644); err == nil {
		err = os.Rename(name+".pid.tmp", name+".pid")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "openclawd:", err)
		os.Exit(1)
	}
	stdio := cli.StdIO()
	stdio.Err = io.MultiWriter(os.Stderr, logf)
	code := cli.Main(ctx, os.Args[2:], stdio, cli.BuildInfo{Version: "v0.0.0-test", Commit: "testcommit", Date: "2026-01-01"})
	stop()
	logf.Close()
	os.Exit(code)
}

// cmdSignal sends a signal to the process whose pid is in NAME.pid
// (waiting for the file up to 20 s).
//
//	signal HUP|TERM|INT NAME
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: signal HUP|TERM|INT NAME")
	}
	sig, ok := map[string]os.Signal{"HUP": syscall.SIGHUP, "TERM": syscall.SIGTERM, "INT": os.Interrupt}[args[0]]
	if !ok {
		ts.Fatalf("signal: unknown signal %s", args[0])
	}
	p := ts.MkAbs(args[1] + ".pid")
	deadline := time.Now().Add(20 * time.Second)
	var pid int
	for {
		b, err := os.ReadFile(p)
		if err == nil {
			pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
			ts.Check(err)
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("signal: no pid in %s.pid after 20s", args[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
	proc, err := os.FindProcess(pid)
	ts.Check(err)
	ts.Check(proc.Signal(sig))
}

// cmdHTTPWait sends a request again and again (every 25 ms, 20 s at most)
// until the status is CODE, then prints that response like http. It is the
// loop-free way to wait for a live config change to take effect.
//
//	httpwait CODE [http flags] METHOD URL
func cmdHTTPWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: httpwait CODE [http flags] METHOD URL")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	args = append([]string(nil), args...)
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "-bodyfile" {
			p := ts.MkAbs(args[i+1])
			_, err := os.Stat(p)
			ts.Check(err)
			args[i+1] = p
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	last := ""
	for {
		status, out, err := doHTTP(args[1:])
		if err == nil && status == want {
			ts.Stdout().Write([]byte(out))
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = out
		}
		if time.Now().After(deadline) {
			ts.Fatalf("httpwait: no %d after 20s; last answer:\n%s", want, last)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// doHTTP sends one request described by http's arguments and returns the
// status and the printed response (status line, sorted headers without
// Date, a blank line, the body). Besides http's flags it takes -chunked,
// which sends the body without a Content-Length.
func doHTTP(args []string) (int, string, error) {
	var hdrs []string
	var body []byte
	hasBody, chunked := false, false
	auth, events, timeout := "", -1, 30*time.Second
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-chunked" {
			chunked = true
			args = args[1:]
			continue
		}
		if len(args) < 2 {
			return 0, "", fmt.Errorf("%s needs a value", args[0])
		}
		switch args[0] {
		case "-H":
			hdrs = append(hdrs, args[1])
		case "-auth":
			auth = args[1]
		case "-body":
			body, hasBody = []byte(args[1]), true
		case "-bodyfile":
			b, err := os.ReadFile(args[1])
			if err != nil {
				return 0, "", err
			}
			body, hasBody = b, true
		case "-events":
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return 0, "", err
			}
			events = n
		case "-timeout":
			d, err := time.ParseDuration(args[1])
			if err != nil {
				return 0, "", err
			}
			timeout = d
		default:
			return 0, "", fmt.Errorf("unknown flag %s", args[0])
		}
		args = args[2:]
	}
	if len(args) != 2 {
		return 0, "", errors.New("want [flags] METHOD URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rd io.Reader
	switch {
	case chunked:
		// A reader the client cannot measure: sent chunked.
		rd = io.MultiReader(bytes.NewReader(body))
	case hasBody:
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, args[0], args[1], rd)
	if err != nil {
		return 0, "", err
	}
	for _, h := range hdrs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return 0, "", fmt.Errorf("bad header %q", h)
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var out strings.Builder
	fmt.Fprintf(&out, "HTTP %d\n", resp.StatusCode)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		if k != "Date" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&out, "%s: %s\n", k, v)
		}
	}
	out.WriteString("\n")
	if events >= 0 {
		br := bufio.NewReader(resp.Body)
		for n := 0; n < events; {
			line, err := br.ReadString('\n')
			out.WriteString(line)
			if line == "\n" {
				n++
			}
			if err != nil {
				break
			}
		}
		cancel()
		return resp.StatusCode, out.String(), nil
	}
	b, err := io.ReadAll(resp.Body)
	out.Write(b)
	if err != nil {
		return resp.StatusCode, out.String(), fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, out.String(), nil
}

// cmdNorm rewrites the last command's stdout so that values that vary from
// run to run (ids, timestamps) can be compared with cmp: the first distinct
// match of REGEXP becomes NAME1, the second NAME2, and so on. A value that
// must repeat (a stream's id in every chunk) therefore shows as one name.
// The regexp's first group, if it has one, is the part replaced.
//
//	norm REGEXP NAME
func cmdNorm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: norm REGEXP NAME")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	in := ts.ReadFile("stdout")
	seen := map[string]string{}
	var out strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(in, -1) {
		s, e := m[0], m[1]
		if len(m) >= 4 && m[2] >= 0 {
			s, e = m[2], m[3]
		}
		v := in[s:e]
		name, ok := seen[v]
		if !ok {
			name = args[1] + strconv.Itoa(len(seen)+1)
			seen[v] = name
		}
		out.WriteString(in[last:s])
		out.WriteString(name)
		last = e
	}
	out.WriteString(in[last:])
	ts.Stdout().Write([]byte(out.String()))
}

// cmdTeeBody appends the status line and the body of the last http
// command's output (its headers left out) to a file, so that a scenario can
// compare the answers to many requests with one cmp.
//
//	teebody FILE
func cmdTeeBody(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: teebody FILE")
	}
	out := ts.ReadFile("stdout")
	status, rest, ok := strings.Cut(out, "\n")
	_, body, ok2 := strings.Cut(rest, "\n\n")
	if !ok || !ok2 || !strings.HasPrefix(status, "HTTP ") {
		ts.Fatalf("teebody: stdout is not an http answer:\n%s", out)
	}
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	ts.Check(err)
	_, err = fmt.Fprintf(f, "%s\n%s", status, body)
	ts.Check(err)
	ts.Check(f.Close())
}
