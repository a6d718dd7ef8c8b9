package main

// Commands for the WebSocket scenarios:
//
//	ws URL SCRIPT    run a scripted protocol client; what it receives goes to stdout
//
// SCRIPT is a file of lines ($VARS expanded; blank lines and # comments
// skipped):
//
//	send JSON          send a text frame as is; @RUN1@ (any normalized id
//	                   between @) is replaced by the real id it stands for
//	sendsize N         send a request frame of exactly N bytes
//	connect [TOKEN]    send the CLI's connect request (no auth when TOKEN is absent)
//	recv               print the next frame
//	recvn N            print the next N frames, sorted (for frames whose order races)
//	until ID           print frames up to and including the last response to request ID
//	                   (the agent method answers twice: "accepted", then the final one)
//	skip N             read N frames without printing them
//	waitclose          print the frames until the server closes, then "closed CODE REASON"
//	close              close the connection normally
//	waitgrep RE FILE   wait until FILE (in $WORK) matches RE (20 s at most)
//
// Frames are printed one per line as JSON with sorted keys. Values that
// change from run to run are replaced: times ("<ms>"), nonces and
// connection ids, and run and session ids (RUN1, RUN2, SESSION1, ... in the
// order they first appear). Tick events are never printed.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["ws"] = cmdWS
}

// wsRecvTimeout bounds the wait for one frame.
const wsRecvTimeout = 20 * time.Second

func cmdWS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: ws URL SCRIPT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, args[0], nil)
	ts.Check(err)
	defer c.CloseNow()
	c.SetReadLimit(32 << 20)
	n := &wsNorm{ids: map[string]string{}, count: map[string]int{}}
	out := ts.Stdout()

	// One goroutine reads; the script takes frames from it in order.
	type item struct {
		data []byte
		err  error
	}
	frames := make(chan item, 4096)
	go func() {
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				frames <- item{err: err}
				close(frames)
				return
			}
			var f struct{ Event string }
			if json.Unmarshal(data, &f) == nil && f.Event == "tick" {
				continue
			}
			frames <- item{data: data}
		}
	}()
	var ended error
	next := func() ([]byte, bool) {
		if ended != nil {
			return nil, false
		}
		select {
		case it, ok := <-frames:
			if !ok || it.err != nil {
				ended = it.err
				return nil, false
			}
			return it.data, true
		case <-time.After(wsRecvTimeout):
			ts.Fatalf("ws: no frame within %s", wsRecvTimeout)
		}
		return nil, false
	}
	mustNext := func(what string) []byte {
		b, ok := next()
		if !ok {
			ts.Fatalf("ws: %s: the connection ended: %v", what, ended)
		}
		return b
	}
	write := func(b []byte) {
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer wcancel()
		ts.Check(c.Write(wctx, websocket.MessageText, b))
	}

	script := ts.ReadFile(args[1])
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = os.Expand(line, ts.Getenv)
		cmd, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch cmd {
		case "send":
			write([]byte(n.real(rest)))
		case "sendsize":
			size, err := strconv.Atoi(rest)
			ts.Check(err)
			head, tail := `{"type":"req","id":"big","method":"health","params":{"pad":"`, `"}}`
			write([]byte(head + strings.Repeat("a", size-len(head)-len(tail)) + tail))
		case "connect":
			auth := map[string]string{}
			if rest != "" {
				auth["token"] = rest
			}
			b, _ := json.Marshal(map[string]any{"type": "req", "id": "connect", "method": "connect", "params": map[string]any{
				"minProtocol": 3, "maxProtocol": 3,
				"client": map[string]string{"id": "scenario", "version": "1", "platform": "test", "mode": "test"},
				"auth":   auth,
			}})
			write(b)
		case "recv":
			fmt.Fprintln(out, n.frame(mustNext("recv")))
		case "recvn":
			k, err := strconv.Atoi(rest)
			ts.Check(err)
			var lines []string
			for i := 0; i < k; i++ {
				lines = append(lines, n.frame(mustNext("recvn")))
			}
			sort.Strings(lines)
			fmt.Fprintln(out, strings.Join(lines, "\n"))
		case "skip":
			k, err := strconv.Atoi(rest)
			ts.Check(err)
			for i := 0; i < k; i++ {
				mustNext("skip")
			}
		case "until":
			for {
				b := mustNext("until " + rest)
				fmt.Fprintln(out, n.frame(b))
				var f struct {
					Type, ID string
					Payload  struct{ Status string }
				}
				json.Unmarshal(b, &f)
				if f.Type == "res" && f.ID == rest && f.Payload.Status != "accepted" {
					break
				}
			}
		case "waitclose":
			for {
				b, ok := next()
				if !ok {
					break
				}
				fmt.Fprintln(out, n.frame(b))
			}
			var ce websocket.CloseError
			if !errors.As(ended, &ce) {
				fmt.Fprintf(out, "ended without a close frame: %v\n", ended)
				continue
			}
			fmt.Fprintf(out, "closed %d %s\n", ce.Code, ce.Reason)
		case "close":
			ts.Check(c.Close(websocket.StatusNormalClosure, ""))
		case "waitgrep":
			re, file, ok := strings.Cut(rest, " ")
			if !ok {
				ts.Fatalf("ws: usage: waitgrep RE FILE")
			}
			cmdWaitGrep(ts, false, []string{re, strings.TrimSpace(file)})
		default:
			ts.Fatalf("ws: unknown script command %q", cmd)
		}
	}
}

// wsNorm makes frames comparable across runs.
type wsNorm struct {
	ids   map[string]string
	count map[string]int
}

var wsUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (n *wsNorm) frame(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "(not JSON) " + string(b)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(n.value("", v))
	return strings.TrimSuffix(buf.String(), "\n")
}

func (n *wsNorm) value(key string, v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = n.value(k, x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = n.value(key, x)
		}
		return t
	case float64:
		switch key {
		case "ts", "startedAt", "endedAt", "acceptedAt", "durationMs", "uptimeMs", "createdAt", "updatedAt", "retryAfterMs":
			return "<ms>"
		}
	case string:
		switch key {
		case "nonce", "connId":
			return "<" + key + ">"
		case "runId":
			return n.id("RUN", t)
		case "sessionId":
			if wsUUID.MatchString(t) {
				return n.id("SESSION", t)
			}
		}
	}
	return v
}

var wsPlaceholder = regexp.MustCompile(`@([A-Z]+[0-9]+)@`)

// real replaces @NAME@ placeholders with the ids they stand for.
func (n *wsNorm) real(s string) string {
	return wsPlaceholder.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "@")
		for v, id := range n.ids {
			if id == name {
				return v
			}
		}
		return m
	})
}

func (n *wsNorm) id(prefix, v string) string {
	if id, ok := n.ids[v]; ok {
		return id
	}
	n.count[prefix]++
	id := fmt.Sprintf("%s%d", prefix, n.count[prefix])
	n.ids[v] = id
	return id
}
