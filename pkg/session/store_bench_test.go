package session

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// seedIndex gives agent main an index of n sessions, as n earlier
// stateless requests leave it (the transcripts are not needed).
func seedIndex(b *testing.B, s *Store, n int) {
	b.Helper()
	dir, err := s.mkdirs("main")
	if err != nil {
		b.Fatal(err)
	}
	idx := make(map[string]json.RawMessage, n)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		idx[RandomKey("main", "openai")] = encodeEntry(Entry{SessionID: id, CreatedAt: t0, UpdatedAt: t0, Turns: 1,
			InputTokens: 12, OutputTokens: 5, Provider: "mock", Model: "bench-model"})
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, indexName), append(data, '\n'), 0o600); err != nil {
		b.Fatal(err)
	}
}

// benchTurn is what a run appends: the user's turn and the model's reply.
var benchTurn = []Record{
	{Type: TypeUser, RunID: "r", Text: "Say hello."},
	{Type: TypeAssistant, RunID: "r", Text: "Hello from the mock model.", Usage: &provider.Usage{Input: 12, Output: 5},
		Provider: "mock", Model: "bench-model", StopReason: provider.StopEnd},
}

// benchRun is the session work of one agent run: acquire, read the
// history, append the turn, release.
func benchRun(b *testing.B, s *Store, key string, opt AcquireOptions) {
	ss, err := s.Acquire(context.Background(), "main", key, opt)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ss.History(); err != nil {
		b.Fatal(err)
	}
	if err := ss.Append(benchTurn...); err != nil {
		b.Fatal(err)
	}
	ss.Release()
}

// BenchmarkStatelessRun is the session work of a stateless gateway request
// (a new session each time) with an index that already holds some
// sessions: what every request without `user` costs the store. fresh is
// the key acquired as Fresh, as the runner does for such requests.
func BenchmarkStatelessRun(b *testing.B) {
	for _, fresh := range []bool{true, false} {
		for _, n := range []int{0, 1000, 10000} {
			b.Run(fmt.Sprintf("fresh=%v/index=%d", fresh, n), func(b *testing.B) {
				s, _ := newTestStore(b, Options{})
				seedIndex(b, s, n)
				b.ReportAllocs()
				for b.Loop() {
					benchRun(b, s, RandomKey("main", "openai"), AcquireOptions{Fresh: fresh})
				}
			})
		}
	}
}

// BenchmarkStatelessRunParallel is BenchmarkStatelessRun from many
// goroutines at once, as a loaded gateway runs them.
func BenchmarkStatelessRunParallel(b *testing.B) {
	s, _ := newTestStore(b, Options{})
	seedIndex(b, s, 1000)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchRun(b, s, RandomKey("main", "openai"), AcquireOptions{Fresh: true})
		}
	})
}

// BenchmarkContinuedRun is a run on a session that exists (a `user` or a
// session header), without reading its growing history.
func BenchmarkContinuedRun(b *testing.B) {
	s, _ := newTestStore(b, Options{})
	seedIndex(b, s, 1000)
	key := UserKey("main", "openai", "alice")
	b.ReportAllocs()
	for b.Loop() {
		ss, err := s.Acquire(context.Background(), "main", key, AcquireOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := ss.Append(benchTurn...); err != nil {
			b.Fatal(err)
		}
		ss.Release()
	}
}
