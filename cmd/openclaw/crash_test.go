package main

// Crash safety of the real binary: the gateway and the CLI are SIGKILLed at
// random moments while they write sessions, restarted, and the files they
// leave checked.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/session"
)

// crashRounds is how many kills each crash test survives: 20, or
// OPENCLAW_CRASH_ROUNDS for a longer soak.
func crashRounds(t *testing.T) int {
	n := 20
	if v := os.Getenv("OPENCLAW_CRASH_ROUNDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("OPENCLAW_CRASH_ROUNDS=%q", v)
		}
	}
	return n
}

// reply is what slowModel answers to text: "re: <text>", and for a text
// that starts with "big:" 512 KiB more, so that writing the turn takes long
// enough for a kill to land in the middle of it.
func reply(text string) string {
	if strings.HasPrefix(text, "big:") {
		return "re: " + text + "\n" + strings.Repeat("0123456789abcdef", 32<<10)
	}
	return "re: " + text
}

// slowModel is an OpenAI-compatible model server that streams reply(the
// last user text) in five deltas, 10 ms apart. After each whole reply it
// calls answered (non-blocking), when set.
func slowModel(t *testing.T, answered chan<- struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request", 400)
			return
		}
		text, _ := req.Messages[len(req.Messages)-1].Content.(string)
		rep := reply(text)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{rep[:2], rep[2:4], rep[4 : 4+len(text)/2], rep[4+len(text)/2:], ""} {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			if d != "" {
				fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", d)
			}
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\ndata: [DONE]\n\n")
		w.(http.Flusher).Flush()
		if answered != nil {
			select {
			case answered <- struct{}{}:
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// crashEnv is a state dir with a config for the slow model, and the
// environment that points openclaw at it.
func crashEnv(t *testing.T, model string) (state string, env []string) {
	root := t.TempDir()
	state = filepath.Join(root, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(), "HOME="+root, "OPENCLAW_STATE_DIR="+state, "OPENCLAW_CONFIG_PATH="+filepath.Join(state, "openclaw.toml"),
		"OPENAI_API_KEY=", "ANTHROPIC_API_KEY=", "OPENCLAW_GATEWAY_TOKEN=", "OPENCLAW_GATEWAY_PORT=", "NO_COLOR=1")
	writeCrashConfig(t, state, model, false)
	return state, env
}

func writeCrashConfig(t *testing.T, state, model string, fsync bool) {
	cfg := fmt.Sprintf(`[gateway.auth]
token = 't0k'

[gateway.http.endpoints.chatCompletions]
enabled = true

[agents.defaults]
model = 'mock/m'
timeoutSeconds = 30
maxConcurrent = 8

[models.providers.mock]
api = 'openai-completions'
baseUrl = '%s/v1'

[session]
fsync = %v
`, model, fsync)
	if err := os.WriteFile(filepath.Join(state, "openclaw.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// gatewayProc is a running `openclaw gateway serve`.
type gatewayProc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	mu   sync.Mutex
	log  bytes.Buffer // stderr, guarded by mu
}

func (g *gatewayProc) logs() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.logs()
}

var listeningRe = regexp.MustCompile(`listening addr=(http://\S+)`)

// startGateway runs the binary under test (testscript installs it as
// openclaw in $PATH) and waits until it is ready.
func startGateway(t *testing.T, env []string) *gatewayProc {
	t.Helper()
	g := &gatewayProc{cmd: exec.Command("openclaw", "gateway", "serve", "--port", "0"), done: make(chan struct{})}
	g.cmd.Env = env
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		defer close(g.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listeningRe.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
			g.mu.Lock()
			g.log.WriteString(sc.Text() + "\n")
			g.mu.Unlock()
		}
	}()
	select {
	case g.url = <-addr:
	case <-g.done:
		g.cmd.Wait()
		t.Fatalf("gateway exited before listening:\n%s", g.logs())
	case <-time.After(30 * time.Second):
		g.kill()
		t.Fatalf("gateway not listening after 30 s:\n%s", g.logs())
	}
	for i := 0; ; i++ {
		resp, err := http.Get(g.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return g
			}
		}
		if i > 1000 {
			g.kill()
			t.Fatalf("gateway not ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (g *gatewayProc) kill() {
	g.cmd.Process.Kill()
	g.cmd.Wait()
	<-g.done
}

// chatTurn sends one turn and reports whether a complete answer came back:
// a 200 with the model's whole reply, streamed to its [DONE] or whole.
func chatTurn(ctx context.Context, url, key, msg string, stream bool) bool {
	body, _ := json.Marshal(map[string]any{"stream": stream, "messages": []map[string]string{{"role": "user", "content": msg}}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer t0k")
	req.Header.Set("x-openclaw-session-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return false
	}
	want := reply(msg)
	if !stream {
		var cc struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		return json.Unmarshal(b, &cc) == nil && len(cc.Choices) == 1 && cc.Choices[0].Message.Content == want
	}
	var text strings.Builder
	finished := false
	for _, ev := range strings.Split(string(b), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			return finished && text.String() == want
		}
		var ch struct {
			Choices []struct {
				Delta        struct{ Content string } `json:"delta"`
				FinishReason string                   `json:"finish_reason"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(data), &ch) != nil || len(ch.Choices) != 1 {
			return false
		}
		text.WriteString(ch.Choices[0].Delta.Content)
		finished = finished || ch.Choices[0].FinishReason == "stop"
	}
	return false
}

// TestGatewayCrashSafety SIGKILLs the gateway 20 times while 24 clients
// send turns, streamed and not, on 4 shared session keys and 3 keys of
// their own with 512 KiB answers (session.fsync on in every other round):
// in odd rounds at a random moment, in even ones just after the model
// finished an answer, when the gateway writes it. After each kill and at
// the end: sessions.json and every transcript parse (a torn last line, the
// only thing a kill may leave, aside), every turn that got a complete 200
// answer is in its transcript with its answer, every turn in a transcript
// is whole, and after a restart every session accepts a new turn.
func TestGatewayCrashSafety(t *testing.T) {
	answered := make(chan struct{}, 1)
	model := slowModel(t, answered)
	state, env := crashEnv(t, model.URL)
	rounds := crashRounds(t)
	const clients, keys = 24, 4
	var mu sync.Mutex
	completed := map[string]string{} // message -> session key
	attempts, torn := 0, 0
	for round := range rounds {
		writeCrashConfig(t, state, model.URL, round%2 == 1)
		var bigFiles []string
		for key, id := range sessionIDs(t, state) {
			if strings.Contains(key, ":crash-big-") {
				bigFiles = append(bigFiles, filepath.Join(state, "agents", "main", "sessions", id+".jsonl"))
			}
		}
		g := startGateway(t, env)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key, prefix := fmt.Sprint("crash-", c%keys), ""
				if c%8 == 7 {
					key, prefix = fmt.Sprint("crash-big-", c), "big:"
				}
				for seq := 0; ; seq++ {
					msg := fmt.Sprintf("%sr%d-c%d-%d", prefix, round, c, seq)
					ok := chatTurn(ctx, g.url, key, msg, (c+seq)%2 == 0)
					mu.Lock()
					attempts++
					if ok {
						completed[msg] = key
					}
					mu.Unlock()
					if !ok {
						return // the gateway is gone
					}
				}
			}()
		}
		switch {
		case round%2 == 1:
			time.Sleep(time.Duration(20+rand.N(400)) * time.Millisecond)
		case len(bigFiles) > 0:
			waitForWrite(bigFiles)
		default:
			killAtWrite(answered, 1+rand.N(8))
		}
		g.kill() // SIGKILL
		cancel()
		wg.Wait()
		torn += checkSessions(t, state, completed, fmt.Sprint("after kill ", round+1))
	}
	t.Logf("%d kills, %d turns sent, %d answered in full; %d checks found a transcript left mid-write (a torn line or an unfinished Append)", rounds, attempts, len(completed), torn)
	if len(completed) == 0 {
		t.Fatal("no turn was ever answered: the kills came too early to test anything")
	}

	// Restarted, every session takes a new turn.
	g := startGateway(t, env)
	defer g.kill()
	for i, key := range sessionKeys(t, state) {
		key = strings.TrimPrefix(key, "agent:main:")
		msg := fmt.Sprint("after-", key)
		if !chatTurn(context.Background(), g.url, key, msg, i%2 == 0) {
			t.Errorf("session %s refused a new turn:\n%s", key, g.logs())
		}
		completed[msg] = key
	}
	checkSessions(t, state, completed, "after the restart")
}

// killAtWrite waits for the model's n-th answer from now (5 s at most) and
// then a random moment up to 2 ms: when the answer is being written.
func killAtWrite(answered <-chan struct{}, n int) {
	select { // an answer from before this round
	case <-answered:
	default:
	}
	for range n {
		select {
		case <-answered:
		case <-time.After(5 * time.Second):
			return
		}
	}
	spin := time.Now().Add(time.Duration(rand.N(2000)) * time.Microsecond)
	for time.Now().Before(spin) {
	}
}

// waitForWrite returns as soon as one of the files grows (or after 5 s):
// a write of a turn has begun, and with 512 KiB to copy, a kill now is
// likely to land in the middle of it.
func waitForWrite(paths []string) {
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return -1
		}
		return fi.Size()
	}
	sizes := make([]int64, len(paths))
	for i, p := range paths {
		sizes[i] = size(p)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		for i, p := range paths {
			if size(p) > sizes[i] {
				return
			}
		}
	}
}

// sessionIDs maps the keys in agent main's sessions.json to their session
// ids (none before the first run).
func sessionIDs(t *testing.T, state string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "agents", "main", "sessions", "sessions.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]session.Entry
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for k, e := range idx {
		ids[k] = e.SessionID
	}
	return ids
}

// sessionKeys lists the keys in agent main's sessions.json.
func sessionKeys(t *testing.T, state string) []string {
	var keys []string
	for k := range sessionIDs(t, state) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkSessions checks the files of agent main: the index parses, every
// transcript's whole lines parse (only a last line may be torn), every
// turn in a transcript is whole (each run id has its user record first and
// ends with an assistant or error record), and every message in completed
// is in its key's transcript, answered.
//
// It returns how many transcripts end in a torn line or an unfinished
// Append: kills that landed in the middle of a write.
func checkSessions(t *testing.T, state string, completed map[string]string, when string) (torn int) {
	t.Helper()
	dir := filepath.Join(state, "agents", "main", "sessions")
	idx, err := os.ReadFile(filepath.Join(dir, "sessions.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var entries map[string]session.Entry
	if len(idx) > 0 {
		if err := json.Unmarshal(idx, &entries); err != nil {
			t.Fatalf("%s: sessions.json does not parse: %v\n%s", when, err, idx)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(data, []byte("\n"))
		if len(lines[len(lines)-1]) > 0 || len(lines) > 1 && bytes.HasSuffix(lines[len(lines)-2], []byte(`,"more":true}`)) {
			torn++
		}
		for i, l := range lines[:len(lines)-1] { // the part after the last newline may be torn
			if !json.Valid(l) || len(l) == 0 || l[0] != '{' {
				t.Errorf("%s: %s line %d does not parse: %.200q", when, filepath.Base(f), i+1, l)
			}
		}
	}
	st := session.NewStore(state, session.Options{})
	answered := map[string]map[string]bool{} // key -> user texts answered
	for key, e := range entries {
		recs, err := st.Transcript("main", e.SessionID)
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // a key whose runs were all killed early
			t.Errorf("%s: %s: %v", when, key, err)
			continue
		}
		answered[key] = map[string]bool{}
		byRun := map[string][]session.Record{}
		var order []string
		for _, r := range recs {
			if byRun[r.RunID] == nil {
				order = append(order, r.RunID)
			}
			byRun[r.RunID] = append(byRun[r.RunID], r)
		}
		for _, id := range order {
			rs := byRun[id]
			first, last := rs[0], rs[len(rs)-1]
			if first.Type != session.TypeUser || (last.Type != session.TypeAssistant && last.Type != session.TypeError) {
				t.Errorf("%s: %s: run %s is not a whole turn: %+v", when, key, id, rs)
				continue
			}
			if last.Type == session.TypeAssistant {
				if last.Text != reply(first.Text) {
					t.Errorf("%s: %s: run %s answered %q to %q", when, key, id, last.Text, first.Text)
				}
				answered[key][first.Text] = true
			}
		}
	}
	for msg, key := range completed {
		if !answered["agent:main:"+key][msg] {
			t.Errorf("%s: %q got a complete 200 answer but is not answered in %s's transcript", when, msg, key)
		}
	}
	return torn
}

// TestAgentCLICrashSafety runs `openclaw agent --local` 20 times on 4
// sessions, with 512 KiB answers, and SIGKILLs the runs: in odd rounds at a
// random moment (before, during or after the model's stream), in even ones
// as the run writes its turn; every fifth run is let finish. Each
// transcript stays whole, every run that exited 0 has its turn, and a final
// run on each session continues it.
func TestAgentCLICrashSafety(t *testing.T) {
	answered := make(chan struct{}, 1)
	model := slowModel(t, answered)
	state, env := crashEnv(t, model.URL)
	rounds := crashRounds(t)
	completed := map[string]string{}
	killed, torn := 0, 0
	run := func(key, msg string) *exec.Cmd {
		cmd := exec.Command("openclaw", "agent", "--local", "--session-key", key, "-m", msg)
		cmd.Env = env
		return cmd
	}
	for round := range rounds {
		writeCrashConfig(t, state, model.URL, round%2 == 1)
		key, msg := fmt.Sprint("cli-", round%4), fmt.Sprint("big:cli-", round)
		spare := round%5 == 4 // runs to its end, however slow the binary starts
		cmd := run(key, msg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited, exited2 := make(chan error, 1), make(chan struct{})
		go func() {
			err := cmd.Wait()
			close(exited2)
			exited <- err
		}()
		transcript := ""
		if id, ok := sessionIDs(t, state)["agent:main:"+key]; ok {
			transcript = filepath.Join(state, "agents", "main", "sessions", id+".jsonl")
		}
		wait := make(chan struct{})
		go func() {
			defer close(wait)
			switch {
			case spare:
				<-exited2
			case round%2 == 1:
				time.Sleep(time.Duration(rand.N(150)) * time.Millisecond)
			case transcript != "":
				waitForWrite([]string{transcript})
			default:
				killAtWrite(answered, 1)
			}
		}()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("run %d failed: %v\n%s", round, err, out.String())
			}
			completed[msg] = key
			<-wait
		case <-wait:
			cmd.Process.Kill()
			if err := <-exited; err == nil {
				completed[msg] = key // it finished first
			} else {
				killed++
			}
		}
		torn += checkSessions(t, state, completed, fmt.Sprint("after CLI run ", round+1))
	}
	for k := range min(rounds, 4) {
		key, msg := fmt.Sprint("cli-", k), fmt.Sprint("final-", k)
		cmd := run(key, msg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || string(out) != reply(msg)+"\n" {
			t.Fatalf("final run on %s: %v\n%s%s", key, err, out, stderr.String())
		}
		completed[msg] = key
	}
	checkSessions(t, state, completed, "after the final runs")
	t.Logf("%d CLI runs, %d killed, %d completed; %d checks found a transcript left mid-write (a torn line or an unfinished Append)", rounds, killed, rounds-killed, torn)
}
