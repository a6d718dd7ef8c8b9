// Package bench is the load driver behind the hidden `openclaw bench`
// command. In one run, on loopback only, it starts a zero-delay mock model
// server, calls it directly, then sends the same requests through a real
// gateway (the openclaw binary started as a child process with a state dir
// of its own), and reports the gateway's cost as ratios against the direct
// calls: latency at concurrency 1, throughput at concurrency 16, streaming
// time to first token, the gateway's memory idle and after the load, its
// time from start to ready, and the wall time of a one-shot
// `openclaw agent -m hi`. Every phase is bounded in count and time.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a run. Zero counts skip their phase.
type Options struct {
	// Binary is the openclaw executable run as the gateway and as the
	// one-shot agent.
	Binary string
	// Env is added to the environment of every child (tests use it).
	Env []string
	// TempDir is where the run's state dirs are made; empty is the system
	// temp dir. They are removed at the end unless Keep is set.
	TempDir string
	Keep    bool

	Warmup      int // untimed requests per target before the timed phases
	Latency     int // concurrency-1 non-streaming requests per target
	Stream      int // concurrency-1 streaming requests per target
	Throughput  int // requests per target at Concurrency
	Concurrency int
	Starts      int // gateway starts timed from exec to /readyz 200
	OneShots    int // `openclaw agent -m hi` runs timed

	// ProfileDir, when set, gets the gateway's CPU and allocation
	// profiles of the whole load (cpu.pprof, allocs.pprof, heap.pprof).
	ProfileDir string
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Progress gets a line per phase; nil is silent.
	Progress io.Writer
}

// DefaultOptions are the counts of a full run: 3,000 requests through the
// gateway, about a minute on a small machine.
func DefaultOptions() Options {
	return Options{Warmup: 100, Latency: 1000, Stream: 400, Throughput: 1500, Concurrency: 16,
		Starts: 5, OneShots: 5, Timeout: 10 * time.Minute}
}

// Report is what a run measured. Durations are per request.
type Report struct {
	Machine  string
	StateDir string // the gateway's state dir (removed after the run unless kept)
	StateFS  string // its file system
	Requests int    // requests the gateway served

	LatencyN                     int
	DirectP50, DirectP99         time.Duration
	GatewayP50, GatewayP99       time.Duration
	StreamN                      int
	DirectTTFTP50, GatewayTTFT50 time.Duration
	ThroughputN, Concurrency     int
	DirectRPS, GatewayRPS        float64

	RSSIdle, RSSAfter, RSSPeak int64 // bytes; 0 when not known
	StartToReady               []time.Duration
	OneShot                    []time.Duration
	Profiles                   []string
}

// Token is the bearer token of the gateway under test.
const Token = "bench-token"

// chatBody is every request, direct or through the gateway: a system
// prompt and one user turn. No `user`, so each gateway request is a new
// (stateless) session with its own transcript.
const chatBody = `{"model":"openclaw","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello."}],"max_tokens":64}`

var streamBody = strings.Replace(chatBody, `{"model"`, `{"stream":true,"model"`, 1)

// runner is one run's state.
type runner struct {
	o      Options
	mock   *Mock
	client *http.Client
	tmp    string
	env    []string
	served atomic.Int64
}

// Run performs a run and returns its report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Binary == "" {
		return nil, errors.New("no openclaw binary to run: set Options.Binary")
	}
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	tmp, err := os.MkdirTemp(o.TempDir, "openclaw-bench-")
	if err != nil {
		return nil, fmt.Errorf("make a temp dir: %w", err)
	}
	if o.Keep {
		fmt.Fprintf(o.Progress, "state dirs kept in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	mock, err := StartMock()
	if err != nil {
		return nil, err
	}
	defer mock.Close()
	r := &runner{o: o, mock: mock, tmp: tmp, env: childEnv(o.Env), client: &http.Client{Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute, DisableCompression: true,
	}}}
	defer r.client.CloseIdleConnections()
	rep := &Report{Machine: machine(), Concurrency: o.Concurrency}
	err = r.run(ctx, rep)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (the run is bounded by --timeout %s)", err, o.Timeout)
	}
	return rep, err
}

func (r *runner) run(ctx context.Context, rep *Report) error {
	o := r.o
	gwState := filepath.Join(r.tmp, "gateway")
	if err := writeConfig(gwState, gatewayConfig(r.mock.URL)); err != nil {
		return err
	}
	rep.StateDir, rep.StateFS = gwState, fsName(gwState)

	for i := range o.Starts {
		fmt.Fprintf(r.o.Progress, "start to ready %d/%d\n", i+1, o.Starts)
		g, err := r.startGateway(ctx, gwState, nil)
		if err != nil {
			return err
		}
		rep.StartToReady = append(rep.StartToReady, g.ready)
		if err := g.stop(); err != nil {
			return err
		}
	}

	var extra []string
	if o.ProfileDir != "" {
		dir, err := filepath.Abs(o.ProfileDir)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
		for _, f := range []string{"cpu.pprof", "allocs.pprof", "heap.pprof", profileDone} {
			os.Remove(filepath.Join(dir, f))
		}
		extra = append(extra, ProfileEnv+"="+dir)
	}
	g, err := r.startGateway(ctx, gwState, extra)
	if err != nil {
		return err
	}
	defer g.kill()
	time.Sleep(100 * time.Millisecond) // let start-up garbage settle
	rep.RSSIdle, _ = readRSS(g.cmd.Process.Pid)

	direct := target{url: r.mock.URL + "/v1/chat/completions"}
	gw := target{url: g.url + "/v1/chat/completions", token: Token, gateway: true}

	if o.Warmup > 0 {
		fmt.Fprintf(r.o.Progress, "warm-up: %d requests each\n", o.Warmup)
		for _, t := range []target{direct, gw} {
			if _, _, err := r.load(ctx, t, o.Warmup, o.Concurrency, false); err != nil {
				return err
			}
		}
	}

	if o.Latency > 0 {
		fmt.Fprintf(r.o.Progress, "concurrency 1: %d requests each, interleaved\n", o.Latency)
		d, gl, err := r.interleaved(ctx, direct, gw, o.Latency, false)
		if err != nil {
			return err
		}
		rep.LatencyN = o.Latency
		rep.DirectP50, rep.DirectP99 = percentile(d, 50), percentile(d, 99)
		rep.GatewayP50, rep.GatewayP99 = percentile(gl, 50), percentile(gl, 99)
	}

	if o.Stream > 0 {
		fmt.Fprintf(r.o.Progress, "streaming, concurrency 1: %d requests each, interleaved\n", o.Stream)
		d, gl, err := r.interleaved(ctx, direct, gw, o.Stream, true)
		if err != nil {
			return err
		}
		rep.StreamN = o.Stream
		rep.DirectTTFTP50, rep.GatewayTTFT50 = percentile(d, 50), percentile(gl, 50)
	}

	if o.Throughput > 0 {
		// Two rounds each, alternating, so that both see the same machine.
		fmt.Fprintf(r.o.Progress, "concurrency %d: %d requests each\n", o.Concurrency, o.Throughput)
		var dWall, gWall time.Duration
		var dN, gN int
		for round := range 2 {
			n := o.Throughput / 2
			if round == 1 {
				n = o.Throughput - n
			}
			if n == 0 {
				continue
			}
			w, _, err := r.load(ctx, direct, n, o.Concurrency, false)
			if err != nil {
				return err
			}
			dWall, dN = dWall+w, dN+n
			if w, _, err = r.load(ctx, gw, n, o.Concurrency, false); err != nil {
				return err
			}
			gWall, gN = gWall+w, gN+n
		}
		rep.ThroughputN = o.Throughput
		rep.DirectRPS = float64(dN) / dWall.Seconds()
		rep.GatewayRPS = float64(gN) / gWall.Seconds()
	}

	rep.Requests = int(r.served.Load())
	r.client.CloseIdleConnections() // as a client would: the gateway's idle state
	time.Sleep(100 * time.Millisecond)
	rep.RSSAfter, rep.RSSPeak = readRSS(g.cmd.Process.Pid)

	if o.ProfileDir != "" {
		files, err := g.profile(ctx, o.ProfileDir)
		if err != nil {
			return err
		}
		rep.Profiles = files
	}
	if err := g.stop(); err != nil {
		return err
	}

	if o.OneShots > 0 {
		one := filepath.Join(r.tmp, "oneshot")
		port, err := freePort() // nothing listens there: the agent runs in process
		if err != nil {
			return err
		}
		if err := writeConfig(one, oneShotConfig(port)); err != nil {
			return err
		}
		for i := range o.OneShots {
			fmt.Fprintf(r.o.Progress, "openclaw agent -m hi %d/%d\n", i+1, o.OneShots)
			d, err := r.oneShot(ctx, one)
			if err != nil {
				return err
			}
			rep.OneShot = append(rep.OneShot, d)
		}
	}
	return nil
}

// target is where requests go: the mock itself or the gateway.
type target struct {
	url     string
	token   string
	gateway bool
}

// interleaved sends n requests to each target one at a time, alternating
// which goes first, and returns each one's latencies (time to the whole
// response, or with stream to the first content delta).
func (r *runner) interleaved(ctx context.Context, a, b target, n int, stream bool) (la, lb []time.Duration, err error) {
	la, lb = make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := range n {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		d1, err := r.request(ctx, first, stream)
		if err != nil {
			return nil, nil, err
		}
		d2, err := r.request(ctx, second, stream)
		if err != nil {
			return nil, nil, err
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		la, lb = append(la, d1), append(lb, d2)
	}
	return la, lb, nil
}

// load sends n requests to t from c workers and returns the wall time.
func (r *runner) load(ctx context.Context, t target, n, c int, stream bool) (time.Duration, []time.Duration, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for range min(c, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				d, err := r.request(ctx, t, stream)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	return time.Since(start), lat, firstErr
}

// request sends one request and checks the answer carries the mock's
// reply. It returns the time to the whole response, or with stream to the
// first delta with text.
func (r *runner) request(ctx context.Context, t target, stream bool) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body := chatBody
	if stream {
		body = streamBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.name(), err)
	}
	defer resp.Body.Close()
	if t.gateway {
		r.served.Add(1)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return 0, fmt.Errorf("%s answered %s: %s", t.name(), resp.Status, bytes.TrimSpace(b))
	}
	if !stream {
		b, err := io.ReadAll(resp.Body)
		d := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%s: read the answer: %w", t.name(), err)
		}
		if !bytes.Contains(b, []byte(MockReply)) {
			return 0, fmt.Errorf("%s: the answer lacks the mock's reply: %.300s", t.name(), b)
		}
		return d, nil
	}
	var ttft time.Duration
	done := false
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadSlice('\n')
		if ttft == 0 && bytes.HasPrefix(line, []byte("data: ")) && bytes.Contains(line, []byte(`"content":"`+MockDeltas[0])) {
			ttft = time.Since(start)
		}
		if bytes.HasPrefix(line, []byte("data: [DONE]")) {
			done = true
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: read the stream: %w", t.name(), err)
		}
	}
	if ttft == 0 || !done {
		return 0, fmt.Errorf("%s: the stream lacks the first delta or [DONE]", t.name())
	}
	return ttft, nil
}

func (t target) name() string {
	if t.gateway {
		return "gateway"
	}
	return "mock model"
}

// percentile is the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := (len(s)*p + 99) / 100 // ceil(n*p/100)
	return s[max(k, 1)-1]
}

// gatewayConfig is the gateway under test: chat completions on, token
// auth, the mock as the default agent's model; everything else default
// (session transcripts included).
func gatewayConfig(mockURL string) string {
	return fmt.Sprintf(`[gateway.auth]
mode = "token"
token = %q

[gateway.http.endpoints.chatCompletions]
enabled = true

[agents.defaults]
model = "mock/bench-model"

[models.providers.mock]
api = "openai-completions"
baseUrl = %q
apiKey = "sk-bench"
`, Token, mockURL+"/v1")
}

// oneShotConfig uses the echo model, with the gateway port pointing where
// nothing listens so the agent runs in its own process.
func oneShotConfig(port int) string {
	return fmt.Sprintf(`[gateway]
port = %d

[agents.defaults]
model = "echo/echo"
`, port)
}

func writeConfig(stateDir, toml string) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("make a state dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "openclaw.toml"), []byte(toml), 0o600); err != nil {
		return fmt.Errorf("write the config: %w", err)
	}
	return nil
}

// childEnv is this process's environment without anything that would point
// a child at a user's own state, gateway or model keys.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OPENCLAW_") || strings.HasPrefix(k, "OPENAI_") || strings.HasPrefix(k, "ANTHROPIC_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "NO_COLOR=1")
	return append(env, extra...)
}

// gateway is a running gateway child.
type gateway struct {
	cmd   *exec.Cmd
	url   string
	log   string
	ready time.Duration
	done  chan struct{}
	err   error // the exit, once done is closed
}

// startGateway starts `openclaw gateway serve` on a free port and waits
// for /readyz to answer 200.
func (r *runner) startGateway(ctx context.Context, stateDir string, extra []string) (*gateway, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(r.tmp, "gateway.log")
	lf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	cmd := exec.Command(r.o.Binary, "gateway", "serve", "--port", strconv.Itoa(port))
	cmd.Env = append(append(slices.Clone(r.env), "OPENCLAW_STATE_DIR="+stateDir), extra...)
	cmd.Stdout, cmd.Stderr = lf, lf
	g := &gateway{cmd: cmd, url: "http://127.0.0.1:" + strconv.Itoa(port), log: logPath, done: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the gateway (%s): %w", r.o.Binary, err)
	}
	go func() { g.err = cmd.Wait(); close(g.done) }()

	// Poll /readyz on a fresh connection each time, as an orchestrator
	// would, until it answers 200.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := probe.Get(g.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				g.ready = time.Since(start)
				return g, nil
			}
		}
		select {
		case <-g.done:
			return nil, fmt.Errorf("the gateway exited before it was ready (%v); its log: %s", g.err, tail(logPath))
		case <-ctx.Done():
			g.kill()
			return nil, ctx.Err()
		case <-time.After(200 * time.Microsecond):
		}
		if time.Now().After(deadline) {
			g.kill()
			return nil, fmt.Errorf("the gateway was not ready within 10s; its log: %s", tail(logPath))
		}
	}
}

// stop ends the gateway as a service manager would (SIGTERM, drain) and
// checks that it exited cleanly.
func (g *gateway) stop() error {
	if err := terminate(g.cmd.Process); err != nil {
		g.kill()
		return err
	}
	select {
	case <-g.done:
	case <-time.After(15 * time.Second):
		g.kill()
		return fmt.Errorf("the gateway did not exit within 15s of SIGTERM; its log: %s", tail(g.log))
	}
	if g.err != nil {
		return fmt.Errorf("the gateway exited with %v; its log: %s", g.err, tail(g.log))
	}
	return nil
}

// kill ends the gateway at once, if it still runs.
func (g *gateway) kill() {
	select {
	case <-g.done:
	default:
		g.cmd.Process.Kill()
		<-g.done
	}
}

// oneShot times `openclaw agent -m hi` from exec to exit.
func (r *runner) oneShot(ctx context.Context, stateDir string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.o.Binary, "agent", "-m", "hi")
	cmd.Env = append(slices.Clone(r.env), "OPENCLAW_STATE_DIR="+stateDir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("openclaw agent -m hi: %v: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	if !strings.Contains(out.String(), "Echo: hi") {
		return 0, fmt.Errorf("openclaw agent -m hi printed %q, want the echo model's reply", out.String())
	}
	return d, nil
}

// freePort returns a loopback port nothing listens on just now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail is the end of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(none)"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n" + string(bytes.TrimSpace(b))
}

// readRSS returns a process's resident set and its peak, in bytes, from
// /proc/<pid>/status; zeros where that is not available.
func readRSS(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	field := func(name string) int64 {
		i := bytes.Index(b, []byte("\n"+name+":"))
		if i < 0 {
			return 0
		}
		rest := b[i+len(name)+2:]
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			rest = rest[:j]
		}
		f := strings.Fields(string(rest)) // "12345 kB"
		if len(f) == 0 {
			return 0
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		return kb << 10
	}
	return field("VmRSS"), field("VmHWM")
}

// machine describes where the run happens.
func machine() string {
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = " (" + strings.TrimSpace(v) + ")"
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs%s, %s/%s, %s", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
