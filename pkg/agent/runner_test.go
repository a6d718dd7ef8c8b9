package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
	"github.com/openclaw/openclaw-go/pkg/session"
)

// fakeProvider answers with a script per model id and records requests.
type fakeProvider struct {
	mu       sync.Mutex
	reqs     []provider.Request
	answer   func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error)
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func (f *fakeProvider) Stream(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	cp := *req
	cp.Messages = append([]provider.Message(nil), req.Messages...)
	f.reqs = append(f.reqs, cp)
	f.mu.Unlock()
	return f.answer(ctx, req, onDelta)
}

func (f *fakeProvider) requests() []provider.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]provider.Request(nil), f.reqs...)
}

func reply(text string) func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
	return func(_ context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		for _, w := range strings.SplitAfter(text, " ") {
			onDelta(w)
		}
		return &provider.Response{Text: text, StopReason: provider.StopEnd, Usage: provider.Usage{Input: 3, Output: 2}, Model: req.Model}, nil
	}
}

func newTestRunner(t testing.TB, cfg *config.Config, f *fakeProvider) (*Runner, string) {
	t.Helper()
	dir := t.TempDir()
	r := New(Options{StateDir: dir, Config: cfg, NewProvider: func(c provider.Config) (provider.Provider, error) {
		if c.API == provider.APIEcho {
			return provider.New(c)
		}
		return f, nil
	}})
	return r, dir
}

func mockConfig(model config.ModelRef) *config.Config {
	cfg := config.Default()
	cfg.Models.Providers = map[string]config.Provider{"fake": {BaseURL: "http://127.0.0.1:1/v1", API: provider.APIOpenAI}}
	cfg.Agents.Defaults.Model = model
	return cfg
}

func TestRunAppendsAndContinuesSession(t *testing.T) {
	f := &fakeProvider{answer: reply("hello back")}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m1"}), f)
	var deltas []string
	var types []EventType
	res, err := r.Run(context.Background(), Request{Message: "hi", OnEvent: func(ev Event) {
		types = append(types, ev.Type)
		if ev.Type == EventDelta {
			deltas = append(deltas, ev.Text)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "hello back" || res.SessionKey != "agent:main:main" || res.Provider != "fake" || res.Model != "m1" {
		t.Fatalf("result = %+v", res)
	}
	if strings.Join(deltas, "|") != "hello |back" {
		t.Fatalf("deltas = %q", deltas)
	}
	wantTypes := []EventType{EventStart, EventModel, EventDelta, EventDelta, EventUsage, EventEnd}
	if fmt.Sprint(types) != fmt.Sprint(wantTypes) {
		t.Fatalf("events = %v, want %v", types, wantTypes)
	}
	if _, err := r.Run(context.Background(), Request{Message: "again"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	msgs := reqs[1].Messages
	if len(msgs) != 3 || msgs[0].Content != "hi" || msgs[1].Content != "hello back" || msgs[2].Content != "again" {
		t.Fatalf("second request messages = %+v", msgs)
	}
}

func TestModelChainAndAllowlist(t *testing.T) {
	cfg := mockConfig(config.ModelRef{Primary: "fake/a", Fallbacks: []string{"fake/b"}})
	for _, tc := range []struct {
		name     string
		allow    []string
		override string
		want     string
		err      bool
	}{
		{"default chain", nil, "", "[fake/a fake/b]", false},
		{"any override with no allowlist", nil, "other/x", "[other/x]", false},
		{"override not provider/model", nil, "gpt4", "", true},
		{"allowlisted override", []string{"fake/c"}, "fake/c", "[fake/c]", false},
		{"fallback is allowed", []string{"fake/c"}, "fake/b", "[fake/b]", false},
		{"not in allowlist", []string{"fake/c"}, "fake/z", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *cfg
			c.Agents.Defaults.Models = map[string]config.ModelAlias{}
			for _, a := range tc.allow {
				c.Agents.Defaults.Models[a] = config.ModelAlias{}
			}
			got, err := modelChain(&c, "main", tc.override)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) || ae.Kind != ErrUnknownModel || ae.Error() != "Unknown model: "+tc.override {
					t.Fatalf("err = %#v", err)
				}
				return
			}
			if fmt.Sprint(got) != tc.want {
				t.Fatalf("chain = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestFallbackOnlyBeforeOutput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		first    func(context.Context, *provider.Request, func(string)) (*provider.Response, error)
		wantText string
		wantKind ErrorKind
		calls    int
	}{
		{"5xx falls back", func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
			return nil, &provider.Error{Kind: provider.ErrOverloaded, Status: 503}
		}, "from b", "", 2},
		{"429 falls back", func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
			return nil, &provider.Error{Kind: provider.ErrRateLimit, Status: 429}
		}, "from b", "", 2},
		{"auth does not fall back", func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
			return nil, &provider.Error{Kind: provider.ErrAuth, Status: 401}
		}, "", ErrModel, 1},
		{"failure after text does not fall back", func(_ context.Context, _ *provider.Request, d func(string)) (*provider.Response, error) {
			d("partial ")
			return nil, &provider.Error{Kind: provider.ErrBadResponse}
		}, "", ErrModel, 1},
		{"upstream timeout", func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
			return nil, &provider.Error{Kind: provider.ErrTimeout}
		}, "from b", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProvider{}
			f.answer = func(ctx context.Context, req *provider.Request, d func(string)) (*provider.Response, error) {
				if req.Model == "a" {
					return tc.first(ctx, req, d)
				}
				return reply("from b")(ctx, req, d)
			}
			r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/a", Fallbacks: []string{"fake/b"}}), f)
			res, err := r.Run(context.Background(), Request{Message: "x"})
			if got := len(f.requests()); got != tc.calls {
				t.Fatalf("%d model calls, want %d", got, tc.calls)
			}
			if tc.wantKind != "" {
				var ae *Error
				if !errors.As(err, &ae) || ae.Kind != tc.wantKind {
					t.Fatalf("err = %v, want kind %s", err, tc.wantKind)
				}
				return
			}
			if err != nil || res.Text != tc.wantText {
				t.Fatalf("res = %+v, err = %v", res, err)
			}
		})
	}
}

func TestTimeoutAndCancelKeepTranscriptConsistent(t *testing.T) {
	hang := func(ctx context.Context, _ *provider.Request, _ func(string)) (*provider.Response, error) {
		<-ctx.Done()
		return nil, &provider.Error{Kind: provider.ErrCanceled, Err: ctx.Err()}
	}
	f := &fakeProvider{answer: hang}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)

	_, err := r.Run(context.Background(), Request{Message: "slow", Timeout: 50 * time.Millisecond})
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != ErrTimeout {
		t.Fatalf("err = %v, want timeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(30 * time.Millisecond); cancel() }()
	_, err = r.Run(ctx, Request{Message: "canceled"})
	if !errors.As(err, &ae) || ae.Kind != ErrCanceled {
		t.Fatalf("err = %v, want canceled", err)
	}

	// The failed turns are in the transcript but not in the next history.
	f.answer = reply("ok")
	if _, err := r.Run(context.Background(), Request{Message: "third"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if msgs := reqs[len(reqs)-1].Messages; len(msgs) != 1 || msgs[0].Content != "third" {
		t.Fatalf("history after failures = %+v", msgs)
	}
	recs, err := r.Store().Transcript("main", mustEntry(t, r, "agent:main:main").SessionID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, rec := range recs {
		kinds = append(kinds, rec.Type)
	}
	if got := strings.Join(kinds, ","); got != "user,error,user,error,user,assistant" {
		t.Fatalf("transcript = %s", got)
	}
}

func mustEntry(t *testing.T, r *Runner, key string) session.Entry {
	t.Helper()
	e, ok, err := r.Store().Get("main", key)
	if err != nil || !ok {
		t.Fatalf("entry %s: %v %v", key, ok, err)
	}
	return e
}

func TestConcurrencyCapAndSessionFIFO(t *testing.T) {
	release := make(chan struct{})
	f := &fakeProvider{}
	f.answer = func(ctx context.Context, req *provider.Request, d func(string)) (*provider.Response, error) {
		<-release
		return reply("ok")(ctx, req, d)
	}
	cfg := mockConfig(config.ModelRef{Primary: "fake/m"})
	cfg.Agents.Defaults.MaxConcurrent = 2
	r, _ := newTestRunner(t, cfg, f)

	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := r.Run(context.Background(), Request{Message: fmt.Sprint(i), SessionKey: fmt.Sprintf("agent:main:s%d", i)}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	time.Sleep(100 * time.Millisecond) // let every run reach the cap
	if n := f.inFlight.Load(); n != 2 {
		t.Errorf("%d model calls in flight, want the cap of 2", n)
	}
	close(release)
	wg.Wait()
	if m := f.maxSeen.Load(); m != 2 {
		t.Fatalf("max in flight %d, want 2", m)
	}
}

func TestSessionRunsAreSerialisedInOrder(t *testing.T) {
	f := &fakeProvider{answer: reply("ok")}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	gate := make(chan struct{})
	first := f.answer
	f.answer = func(ctx context.Context, req *provider.Request, d func(string)) (*provider.Response, error) {
		if req.Messages[len(req.Messages)-1].Content == "0" {
			<-gate
		}
		return first(ctx, req, d)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(context.Background(), Request{Message: "0"}) }()
	time.Sleep(50 * time.Millisecond)
	for i := 1; i <= 4; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); r.Run(context.Background(), Request{Message: fmt.Sprint(i)}) }(i)
		time.Sleep(20 * time.Millisecond) // arrival order
	}
	close(gate)
	wg.Wait()
	var order []string
	for _, req := range f.requests() {
		order = append(order, req.Messages[len(req.Messages)-1].Content)
	}
	if got := strings.Join(order, ","); got != "0,1,2,3,4" {
		t.Fatalf("runs on one session ran in order %s, want arrival order", got)
	}
	// Each run saw all earlier turns.
	if n := len(f.requests()[4].Messages); n != 9 {
		t.Fatalf("fifth run saw %d messages, want 9", n)
	}
}

func TestSystemPrompt(t *testing.T) {
	cfg := config.Default()
	cfg.Agents.List = []config.AgentEntry{{ID: "main", Name: "Molty", SystemPrompt: "Be kind."}}
	r, dir := newTestRunner(t, cfg, &fakeProvider{})
	ws := filepath.Join(dir, "workspace")
	os.MkdirAll(ws, 0o700)
	os.WriteFile(filepath.Join(ws, "SOUL.md"), []byte("soul text"), 0o600)
	os.WriteFile(filepath.Join(ws, "AGENTS.md"), []byte("agents text"), 0o600)
	os.WriteFile(filepath.Join(ws, "USER.md"), []byte("   \n"), 0o600)
	os.WriteFile(filepath.Join(ws, "TOOLS.md"), []byte(strings.Repeat("x", maxWorkspaceFile+10)), 0o600)
	got := r.systemPrompt(cfg, "main", "extra bit")
	want := "You are Molty, an OpenClaw agent.\n\nBe kind.\n\n## AGENTS.md\n\nagents text\n\n## SOUL.md\n\nsoul text\n\n## TOOLS.md\n\n" + strings.Repeat("x", maxWorkspaceFile) + "\n[truncated]\n\nextra bit"
	if got != want {
		t.Fatalf("system prompt:\n%q\nwant\n%q", got[:200], want[:200])
	}
}

func TestImageForTextOnlyModel(t *testing.T) {
	cfg := mockConfig(config.ModelRef{Primary: "fake/txt"})
	p := cfg.Models.Providers["fake"]
	p.Models = []config.ModelDef{{ID: "txt", Input: []string{"text"}}}
	cfg.Models.Providers["fake"] = p
	r, _ := newTestRunner(t, cfg, &fakeProvider{answer: reply("x")})
	_, err := r.Run(context.Background(), Request{Message: "look", Images: []provider.Image{{MIME: "image/png", Data: []byte{1}}}})
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != ErrBadRequest || !strings.Contains(ae.Error(), "does not accept image input") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownAgent(t *testing.T) {
	r, _ := newTestRunner(t, config.Default(), &fakeProvider{})
	_, err := r.Run(context.Background(), Request{AgentID: "ghost", Message: "x"})
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != ErrUnknownAgent || fmt.Sprint(ae.AgentIDs) != "[main]" {
		t.Fatalf("err = %#v", err)
	}
}

// BenchmarkRunEcho is one whole run with the offline echo model: session
// lock, history read, model call, transcript append.
func BenchmarkRunEcho(b *testing.B) {
	r := New(Options{StateDir: b.TempDir(), Config: config.Default()})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		// A new session every 8 runs bounds both the history a run reads
		// and the index it rewrites, whatever b.N is.
		if _, err := r.Run(ctx, Request{Message: "hello there", SessionKey: fmt.Sprintf("agent:main:bench-%d", i/8)}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCheckModelNeedsAKnownProvider(t *testing.T) {
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/a"}), &fakeProvider{})
	for ref, ok := range map[string]bool{"fake/x": true, "echo/echo": true, "openai/gpt-4o": true, "nosuch/x": false, "gpt4": false} {
		if err := r.CheckModel("main", ref); (err == nil) != ok {
			t.Errorf("CheckModel(%q) = %v, want ok=%v", ref, err, ok)
		}
	}
}
