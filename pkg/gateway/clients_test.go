package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// firehose is a model that streams 4 KiB deltas as fast as it may until its
// call ends, counting the bytes it produced. A session key of "calm-..."
// instead gets a short ordinary answer.
type firehose struct {
	produced atomic.Int64
	ended    chan error
}

func (f *firehose) Stream(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	if last := req.Messages[len(req.Messages)-1].Content; strings.HasPrefix(last, "calm") {
		onDelta("ok")
		return &provider.Response{Text: "ok", StopReason: provider.StopEnd}, nil
	}
	chunk := strings.Repeat("x", 4096)
	for ctx.Err() == nil {
		onDelta(chunk)
		f.produced.Add(int64(len(chunk)))
	}
	f.ended <- ctx.Err()
	return nil, ctx.Err()
}

// settle waits until v stops changing for a while (or a minute passed)
// and returns its value.
func settle(v *atomic.Int64) int64 {
	last, still := v.Load(), 0
	for i := 0; i < 600 && still < 10; i++ {
		time.Sleep(100 * time.Millisecond)
		if n := v.Load(); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	return last
}

// heapInuse is the heap in use after two collections (the second empties
// the sync.Pools' victim caches).
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestStalledReader: a client that stops reading its stream makes the
// gateway stop producing (the model call blocks on the socket) instead of
// buffering: memory stays bounded. A write that stays blocked for
// streamWriteTimeout ends the stalled run, its model call and its
// connection as if the client had gone; the run timeout cannot, as nothing
// unblocks a write. With one run slot, the other sessions' runs wait for
// the stalled one: they are served once it is cut, not never.
func TestStalledReader(t *testing.T) {
	defer func(d time.Duration) { streamWriteTimeout = d }(streamWriteTimeout)
	streamWriteTimeout = 2 * time.Second
	for _, ep := range []struct{ path, body string }{
		{"/v1/chat/completions", hiStream},
		{"/v1/responses", `{"model":"openclaw","stream":true,"input":"hi"}`},
	} {
		t.Run(ep.path, func(t *testing.T) { stalledReader(t, ep.path, ep.body) })
	}
}

func stalledReader(t *testing.T, path, body string) {
	model := &firehose{ended: make(chan error, 1)}
	s, logs := newTestServer(t, model, func(c *config.Config) {
		c.Agents.Defaults.MaxConcurrent = 1
		c.Gateway.HTTP.Endpoints.Responses.Enabled = true
	})
	closed := make(chan struct{})
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			close(closed) // the test opens one connection only
		}
	}
	srv.Start()
	defer srv.Close()
	before := heapInuse()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\nx-openclaw-session-key: stalled\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
	// Read the head of the stream, then stop reading.
	br := bufio.NewReaderSize(conn, 4096)
	if line, err := br.ReadString('\n'); err != nil || line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("status line %q %v", line, err)
	}

	stalled := settle(&model.produced)
	grown := int64(heapInuse()) - int64(before)
	t.Logf("stalled after %d KiB produced; heap grew by %d KiB", stalled>>10, grown>>10)
	if stalled > 64<<20 {
		t.Errorf("%d MiB produced for a client that reads nothing", stalled>>20)
	}
	if grown > 32<<20 {
		t.Errorf("heap grew by %d MiB", grown>>20)
	}

	// Other sessions wait for the one run slot, and get it.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := post(s, `{"messages":[{"role":"user","content":"calm"}]}`, "x-openclaw-session-key", fmt.Sprint("other-", i))
			if w.Code != 200 {
				t.Errorf("another session: %d %s", w.Code, w.Body)
			}
		}()
	}

	// The blocked write times out: the run, its model call and its
	// connection end as if the client had gone.
	select {
	case err := <-model.ended:
		if err != context.Canceled {
			t.Errorf("model call ended with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the stalled run still runs a minute later")
	}
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Error("the connection of the stalled run is still open a minute later")
	}
	wg.Wait()
	srv.Close() // waits for the handler
	if !strings.Contains(logs.String(), "client went away, run canceled") {
		t.Errorf("log:\n%s", logs)
	}
	recs := transcriptOf(t, s, "stalled")
	if got := recordTypes(recs); got != "user,error" {
		t.Errorf("transcript %s", got)
	}
}

// hangingModel sends one delta, then waits for its call to end.
type hangingModel struct{ started, ended atomic.Int64 }

func (m *hangingModel) Stream(ctx context.Context, _ *provider.Request, onDelta func(string)) (*provider.Response, error) {
	m.started.Add(1)
	defer m.ended.Add(1)
	onDelta("first ")
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestThousandClientsHangUp: a thousand streaming clients on 100 session
// keys, with 32 run slots, hang up: half after their first delta, half at
// a random moment (many still queued for their session or a slot). Every
// model call is canceled, no goroutine and no memory is left behind, and
// every transcript holds only whole, failed turns (user then error).
func TestThousandClientsHangUp(t *testing.T) {
	const clients, keys = 1000, 100
	model := &hangingModel{}
	s, _ := newTestServer(t, model, func(c *config.Config) { c.Agents.Defaults.MaxConcurrent = 32 })
	srv := httptest.NewServer(s)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	runtime.GC()
	baseG := runtime.NumGoroutine()
	baseHeap := heapInuse()

	var wg sync.WaitGroup
	var firsts, errs atomic.Int64
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if i%2 == 1 {
				go func() {
					time.Sleep(time.Duration(rand.N(20)) * time.Millisecond)
					cancel()
				}()
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(hiStream))
			req.Header.Set("Authorization", "Bearer t0k")
			req.Header.Set("x-openclaw-session-key", fmt.Sprint("k", i%keys))
			resp, err := hc.Do(req)
			if err != nil {
				return // hung up before the answer
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if strings.Contains(line, `"content":"first "`) {
					firsts.Add(1)
					cancel()
				}
				if strings.Contains(line, `"error"`) || strings.Contains(line, "[DONE]") {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if ctxErrs := errs.Load(); ctxErrs != 0 {
		t.Errorf("%d clients got an error event or [DONE] instead of hanging up", ctxErrs)
	}
	if firsts.Load() < clients/2 {
		t.Errorf("only %d clients got their first delta", firsts.Load())
	}

	tr.CloseIdleConnections()
	deadline := time.Now().Add(20 * time.Second)
	for (runtime.NumGoroutine() > baseG || model.ended.Load() != model.started.Load()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseG {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines left over %d:\n%s", n, baseG, buf[:runtime.Stack(buf, true)])
	}
	if model.started.Load() != model.ended.Load() {
		t.Errorf("%d model calls started, %d ended", model.started.Load(), model.ended.Load())
	}
	grown := int64(heapInuse()) - int64(baseHeap)
	t.Logf("%d clients, %d got a delta, %d model calls; heap %+d KiB after", clients, firsts.Load(), model.started.Load(), grown>>10)
	if grown > 16<<20 {
		t.Errorf("heap grew by %d MiB", grown>>20)
	}

	turns := 0
	for k := range keys {
		st := s.runner.Store()
		e, ok, err := st.Get("main", fmt.Sprint("agent:main:k", k))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		recs, err := st.Transcript("main", e.SessionID)
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // runs canceled while waiting for a slot write nothing
			t.Fatal(err)
		}
		if got := recordTypes(recs); strings.Trim(strings.ReplaceAll(got, "user,error", ""), ",") != "" {
			t.Errorf("k%d: transcript %s", k, got)
		}
		turns += len(recs) / 2
	}
	if int64(turns) != model.started.Load() {
		t.Errorf("%d failed turns recorded for %d model calls", turns, model.started.Load())
	}
}

// TestSlowClientsCutByServerTimeouts runs the handler in the server
// NewHTTPServer builds, with its timeouts shortened: clients that trickle
// their headers (slowloris) are cut by ReadHeaderTimeout however long they
// keep trickling, an idle keep-alive connection by IdleTimeout, oversized
// headers by MaxHeaderBytes; an ordinary request is served meanwhile.
func TestSlowClientsCutByServerTimeouts(t *testing.T) {
	s, _ := newTestServer(t, replyWith("ok"), nil)
	srv := NewHTTPServer(s, nil)
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 60*time.Second || srv.IdleTimeout != 120*time.Second || srv.MaxHeaderBytes != 64<<10 || srv.WriteTimeout != 0 {
		t.Errorf("server timeouts %v %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes, srv.WriteTimeout)
	}
	srv.ReadHeaderTimeout = 500 * time.Millisecond
	srv.IdleTimeout = 500 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()

	// 50 slowloris clients: a header line every 50 ms, until cut.
	const slow = 50
	cut := make(chan time.Duration, slow)
	for range slow {
		go func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				cut <- -1
				return
			}
			defer c.Close()
			start := time.Now()
			io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
			go io.Copy(io.Discard, c)
			for i := 0; ; i++ {
				time.Sleep(50 * time.Millisecond)
				if _, err := fmt.Fprintf(c, "X-Slow-%d: y\r\n", i); err != nil {
					cut <- time.Since(start)
					return
				}
				if time.Since(start) > time.Minute {
					cut <- 0
					return
				}
			}
		}()
	}

	// Meanwhile an ordinary request is served.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/chat/completions", strings.NewReader(hiBody))
	req.Header.Set("Authorization", "Bearer t0k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("ordinary request: %d", resp.StatusCode)
	}

	var longest time.Duration
	for range slow {
		d := <-cut
		switch {
		case d < 0:
			t.Fatal("dial failed")
		case d == 0:
			t.Fatal("a slowloris client trickled headers for a minute")
		}
		longest = max(longest, d)
	}
	t.Logf("%d slowloris clients cut, the last after %v", slow, longest.Round(time.Millisecond))

	// An idle keep-alive connection is closed.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: %v, want EOF", err)
	}

	// Headers over MaxHeaderBytes: 431.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("b", 80<<10))
	resp, err = http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("big headers: %v %v", resp, err)
	}
}
