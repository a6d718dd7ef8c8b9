package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// loadStreams is how many concurrent streams TestLoadConcurrentStreams
// runs: 500, or OPENCLAW_LOAD_STREAMS for a heavier soak.
func loadStreams(t *testing.T) int {
	n := 500
	if v := os.Getenv("OPENCLAW_LOAD_STREAMS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("OPENCLAW_LOAD_STREAMS=%q", v)
		}
	}
	return n
}

// barrierUpstream is an OpenAI-compatible model server that holds every
// stream after its first delta until n streams are open at once (or 30 s
// passed), then sends the rest: so the streams are concurrent for sure, and
// it counts how many were.
type barrierUpstream struct {
	n, deltas int
	open      atomic.Int64
	peak      atomic.Int64
	all       chan struct{}
	once      sync.Once
}

func (u *barrierUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/event-stream")
	delta := func(i int) {
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"}}]}\n\n", i)
		w.(http.Flusher).Flush()
	}
	delta(0)
	open := u.open.Add(1)
	defer u.open.Add(-1)
	for {
		p := u.peak.Load()
		if open <= p || u.peak.CompareAndSwap(p, open) {
			break
		}
	}
	if open == int64(u.n) {
		u.once.Do(func() { close(u.all) })
	}
	select {
	case <-u.all:
	case <-time.After(30 * time.Second):
	case <-r.Context().Done():
		return
	}
	for i := 1; i < u.deltas; i++ {
		delta(i)
	}
	io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":20}}\n\ndata: [DONE]\n\n")
}

// TestLoadConcurrentStreams: 500 clients stream at once through the gateway
// on loopback (the server NewHTTPServer builds), each run calling the real
// OpenAI provider against a model server on loopback that holds all 500
// model streams open together. Every client gets its whole stream, every
// transcript its whole turn, memory at peak stays bounded, and nothing is
// left running afterwards. OPENCLAW_LOAD_STREAMS=N runs N instead.
func TestLoadConcurrentStreams(t *testing.T) {
	n := loadStreams(t)
	const deltas = 20
	up := &barrierUpstream{n: n, deltas: deltas, all: make(chan struct{})}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()

	s, logs := faultServer(t, provider.APIOpenAI, upSrv.URL+"/v1", 120)
	cfg := *s.state.Load().cfg
	cfg.Agents.Defaults.MaxConcurrent = n
	if err := s.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(s, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/v1/chat/completions"
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	baseG := runtime.NumGoroutine()
	baseHeap := heapInuse()
	var peakHeap atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	var want strings.Builder
	for i := range deltas {
		fmt.Fprintf(&want, "tok%d ", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loadClient(ctx, hc, url, fmt.Sprint("load-", i), want.String()); err != nil {
				if failed.Add(1) <= 5 {
					t.Errorf("client %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(stopSampling)
	<-sampled
	peak := int64(peakHeap.Load()) - int64(baseHeap)
	t.Logf("%d streams (%d open at once upstream) in %v, %d failed; heap at peak +%d MiB (%d KiB a stream)",
		n, up.peak.Load(), took.Round(time.Millisecond), failed.Load(), peak>>20, peak/int64(n)>>10)
	if up.peak.Load() != int64(n) {
		t.Errorf("only %d model streams were open at once", up.peak.Load())
	}
	// The measured cost is about 100 KiB a stream; four times that is a
	// leak or a buffer gone unbounded.
	if peak > int64(n)*400<<10 {
		t.Errorf("heap at peak +%d MiB for %d streams", peak>>20, n)
	}
	if strings.Contains(logs.String(), "ERRO") {
		t.Errorf("errors logged:\n%.2000s", logs)
	}

	for i := 0; i < n; i += max(1, n/50) {
		if got := recordTypes(transcriptOf(t, s, fmt.Sprint("load-", i))); got != "user,assistant" {
			t.Errorf("load-%d: transcript %s", i, got)
		}
	}

	tr.CloseIdleConnections()
	srv.Close()
	upSrv.CloseClientConnections()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > baseG && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > baseG+2 { // the server's listener goroutines
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left over %d:\n%.8000s", g, baseG, buf[:runtime.Stack(buf, true)])
	}
}

// loadClient streams one turn and checks every event of it.
func loadClient(ctx context.Context, hc *http.Client, url, key, want string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"load"}]}`))
	req.Header.Set("Authorization", "Bearer t0k")
	req.Header.Set("x-openclaw-session-key", key)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	br := bufio.NewReader(resp.Body)
	var text strings.Builder
	var role, finish, done bool
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
		case line == "data: [DONE]":
			done = true
		case strings.Contains(line, `"error"`):
			return fmt.Errorf("error event %s", line)
		case strings.Contains(line, `"delta":{"role":"assistant"}`):
			role = true
		case strings.Contains(line, `"finish_reason":"stop"`):
			finish = true
		case strings.Contains(line, `"delta":{"content":`):
			i := strings.Index(line, `"content":"`) + len(`"content":"`)
			text.WriteString(line[i : i+strings.Index(line[i:], `"`)])
		default:
			return fmt.Errorf("unexpected line %q", line)
		}
	}
	if !role || !finish || !done || text.String() != want {
		return fmt.Errorf("stream role=%v finish=%v done=%v text %q", role, finish, done, text.String())
	}
	return nil
}
