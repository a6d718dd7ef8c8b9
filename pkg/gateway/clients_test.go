package gateway

import (
	"bufio"
	"context"
	"fmt"
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

func heapInuse() uint64 {
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
