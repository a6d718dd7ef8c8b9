package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// recObserver writes down what it is told, one line per call.
type recObserver struct {
	mu    sync.Mutex
	lines []string
	stats []RunStats
	calls []ModelCall
}

func (o *recObserver) RunStarted(agentID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, "start "+agentID)
}

func (o *recObserver) ModelCallEnded(c ModelCall) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, c)
	o.lines = append(o.lines, fmt.Sprintf("call %s %s/%s in=%d out=%d failed=%v", c.AgentID, c.Provider, c.Model, c.Usage.Input, c.Usage.Output, c.Failed))
}

func (o *recObserver) RunEnded(s RunStats) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stats = append(o.stats, s)
	o.lines = append(o.lines, fmt.Sprintf("end %s %s/%s in=%d out=%d calls=%d outcome=%s", s.AgentID, s.Provider, s.Model, s.Usage.Input, s.Usage.Output, s.Calls, s.Outcome()))
}

// slowly makes a model answer take at least d, so that model time has a
// lower bound a test can check without a timed assertion.
func slowly(d time.Duration, next func(context.Context, *provider.Request, func(string)) (*provider.Response, error)) func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
	return func(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
		time.Sleep(d)
		return next(ctx, req, onDelta)
	}
}

func TestObserverSeesRuns(t *testing.T) {
	fail503 := func(context.Context, *provider.Request, func(string)) (*provider.Response, error) {
		return nil, &provider.Error{Kind: provider.ErrOverloaded, Status: 503}
	}
	for _, tc := range []struct {
		name   string
		model  config.ModelRef
		agent  string
		answer func(context.Context, *provider.Request, func(string)) (*provider.Response, error)
		want   []string
	}{
		{"one call", config.ModelRef{Primary: "fake/m1"}, "", reply("hello back"), []string{
			"start main",
			"call main fake/m1 in=3 out=2 failed=false",
			"end main fake/m1 in=3 out=2 calls=1 outcome=ok",
		}},
		{"fallback after a failed call", config.ModelRef{Primary: "fake/a", Fallbacks: []string{"fake/b"}}, "",
			func(ctx context.Context, req *provider.Request, d func(string)) (*provider.Response, error) {
				if req.Model == "a" {
					return fail503(ctx, req, d)
				}
				return reply("from b")(ctx, req, d)
			}, []string{
				"start main",
				"call main fake/a in=0 out=0 failed=true",
				"call main fake/b in=3 out=2 failed=false",
				"end main fake/b in=3 out=2 calls=2 outcome=ok",
			}},
		{"every model failed", config.ModelRef{Primary: "fake/a"}, "", fail503, []string{
			"start main",
			"call main fake/a in=0 out=0 failed=true",
			"end main fake/a in=0 out=0 calls=1 outcome=model",
		}},
		{"tool loop: each call its own usage", config.ModelRef{Primary: "fake/m"}, "", scripted(
			&provider.Response{ToolCalls: []provider.ToolCall{call("c1", "read", `{"path":"nope.txt"}`)}, Usage: provider.Usage{Input: 10, Output: 5}},
			&provider.Response{Text: "done", Usage: provider.Usage{Input: 20, Output: 7, CacheRead: 4}},
		), []string{
			"start main",
			"call main fake/m in=10 out=5 failed=false",
			"call main fake/m in=20 out=7 failed=false",
			"end main fake/m in=30 out=12 calls=2 outcome=ok",
		}},
		{"unknown agent: no run", config.ModelRef{Primary: "fake/m"}, "nobody", reply("x"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProvider{answer: tc.answer}
			r, _ := newTestRunner(t, mockConfig(tc.model), f)
			o := &recObserver{}
			r.Observe(o)
			var events []EventType
			r.Run(context.Background(), Request{AgentID: tc.agent, Message: "hi", OnEvent: func(ev Event) { events = append(events, ev.Type) }})
			if got, want := strings.Join(o.lines, "\n"), strings.Join(tc.want, "\n"); got != want {
				t.Fatalf("observed:\n%s\nwant:\n%s", got, want)
			}
			// The caller still gets every event.
			if tc.want != nil && (len(events) < 3 || events[0] != EventStart) {
				t.Fatalf("events = %v", events)
			}
		})
	}
}

func TestModelTimerAndRunStats(t *testing.T) {
	f := &fakeProvider{answer: slowly(5*time.Millisecond, reply("ok"))}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	o1, o2 := &recObserver{}, &recObserver{}
	r.Observe(o1)
	r.Observe(o2)
	ctx, timer := WithModelTimer(context.Background())
	for i := 0; i < 2; i++ {
		if _, err := r.Run(ctx, Request{Message: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if timer.Calls() != 2 || timer.Total() < 10*time.Millisecond {
		t.Fatalf("timer: %d calls, %v; want 2 calls, at least 10ms", timer.Calls(), timer.Total())
	}
	if len(o1.stats) != 2 || len(o2.stats) != 2 {
		t.Fatalf("observers saw %d and %d runs, want 2 each", len(o1.stats), len(o2.stats))
	}
	var sum time.Duration
	for i, s := range o1.stats {
		sum += s.ModelTime
		if s.ModelTime != o1.calls[i].Duration || s.Duration < s.ModelTime {
			t.Fatalf("run %d: model time %v, call %v, duration %v", i, s.ModelTime, o1.calls[i].Duration, s.Duration)
		}
	}
	if sum != timer.Total() {
		t.Fatalf("runs' model time %v != timer %v", sum, timer.Total())
	}

	// A timer alone, without observers, is fed too.
	r2, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	ctx, timer = WithModelTimer(context.Background())
	if _, err := r2.Run(ctx, Request{Message: "hi"}); err != nil {
		t.Fatal(err)
	}
	if timer.Calls() != 1 || timer.Total() < 5*time.Millisecond {
		t.Fatalf("timer without observers: %d calls, %v", timer.Calls(), timer.Total())
	}
}

func TestObserverCanceledRun(t *testing.T) {
	started := make(chan struct{})
	f := &fakeProvider{answer: func(ctx context.Context, _ *provider.Request, _ func(string)) (*provider.Response, error) {
		close(started)
		<-ctx.Done()
		return nil, &provider.Error{Kind: provider.ErrCanceled, Err: ctx.Err()}
	}}
	r, _ := newTestRunner(t, mockConfig(config.ModelRef{Primary: "fake/m"}), f)
	o := &recObserver{}
	r.Observe(o)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if _, err := r.Run(ctx, Request{Message: "hi"}); err == nil {
		t.Fatal("canceled run succeeded")
	}
	want := "start main\ncall main fake/m in=0 out=0 failed=true\nend main fake/m in=0 out=0 calls=1 outcome=canceled"
	if got := strings.Join(o.lines, "\n"); got != want {
		t.Fatalf("observed:\n%s\nwant:\n%s", got, want)
	}
}

func TestObserverClosesRunWithoutEndEvent(t *testing.T) {
	o := &recObserver{}
	r := &Runner{}
	r.Observe(o)
	var got []EventType
	emit := func(ev Event) { got = append(got, ev.Type) }
	func() {
		defer func() { recover() }()
		defer r.observe(context.Background(), "main", &emit)()
		emit(Event{Type: EventStart})
		emit(Event{Type: EventModel, Provider: "p", Model: "m"})
		panic("boom")
	}()
	want := "start main\ncall main p/m in=0 out=0 failed=true\nend main p/m in=0 out=0 calls=1 outcome=internal"
	if s := strings.Join(o.lines, "\n"); s != want {
		t.Fatalf("observed:\n%s\nwant:\n%s", s, want)
	}
	if len(got) != 2 {
		t.Fatalf("events passed on: %v", got)
	}
}
