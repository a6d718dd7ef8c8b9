package agent

import (
	"context"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
	"github.com/openclaw/openclaw-go/pkg/session"
)

// instantModel answers at once with a fixed reply in a few deltas: the
// runner's own cost is what is left.
type instantModel struct{}

var instantDeltas = []string{"Hello", " from", " the", " mock", " model."}

func (instantModel) Stream(_ context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	for _, d := range instantDeltas {
		onDelta(d)
	}
	return &provider.Response{Text: "Hello from the mock model.", StopReason: provider.StopEnd,
		Usage: provider.Usage{Input: 12, Output: 5}, Model: req.Model}, nil
}

func benchRunner(b *testing.B) *Runner {
	cfg := config.Default()
	cfg.Models.Providers = map[string]config.Provider{"mock": {BaseURL: "http://127.0.0.1:1/v1", API: provider.APIOpenAI}}
	cfg.Agents.Defaults.Model = config.ModelRef{Primary: "mock/bench-model"}
	return New(Options{StateDir: b.TempDir(), Config: cfg,
		NewProvider: func(provider.Config) (provider.Provider, error) { return instantModel{}, nil }})
}

// BenchmarkRunStateless is one run of a stateless request (a new session
// each time, as the gateway runs a request without `user`): agent and
// model resolution, the session (lock, history, transcript append, index
// entry), the system prompt and tools, the model call and its events.
func BenchmarkRunStateless(b *testing.B) {
	r := benchRunner(b)
	events := 0
	req := Request{Message: "Say hello.", ExtraSystemPrompt: "Be brief.", NewSession: true,
		OnEvent: func(Event) { events++ }}
	b.ReportAllocs()
	for b.Loop() {
		req.SessionKey = session.RandomKey("main", "openai")
		if _, err := r.Run(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	if events == 0 {
		b.Fatal("no events")
	}
}

// BenchmarkRunStatelessParallel is BenchmarkRunStateless from many
// goroutines, as a loaded gateway runs requests.
func BenchmarkRunStatelessParallel(b *testing.B) {
	r := benchRunner(b)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := Request{Message: "Say hello.", SessionKey: session.RandomKey("main", "openai"), NewSession: true}
			if _, err := r.Run(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSystemPrompt builds the system prompt of an agent whose
// workspace was not made yet (no tool has run), as on a fresh gateway.
func BenchmarkSystemPrompt(b *testing.B) {
	r := benchRunner(b)
	cfg := r.Config()
	b.ReportAllocs()
	for b.Loop() {
		if p := r.systemPrompt(cfg, "main", "Be brief."); p == "" {
			b.Fatal("empty prompt")
		}
	}
}
