package bench_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/bench"
	"github.com/openclaw/openclaw-go/pkg/cli"
)

// childEnv makes this test binary act as openclaw: the driver runs it as
// the gateway and as the one-shot agent.
const childEnv = "OPENCLAW_BENCH_TEST_OPENCLAW"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		bench.StartChildProfile()
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Main(ctx, os.Args[1:], cli.StdIO(), cli.BuildInfo{})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestRunSmall runs every phase with tiny counts, so the driver keeps
// working; the figures themselves are not checked, only that there are
// some.
func TestRunSmall(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	prof := filepath.Join(t.TempDir(), "prof")
	o := bench.Options{Binary: exe, Env: []string{childEnv + "=1"}, TempDir: t.TempDir(),
		Warmup: 2, Latency: 3, Stream: 3, Throughput: 8, Concurrency: 4, Starts: 1, OneShots: 1,
		ProfileDir: prof, Progress: &progress}
	rep, err := bench.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	if rep.Requests != 2+3+3+8 {
		t.Errorf("the gateway served %d requests, want %d", rep.Requests, 2+3+3+8)
	}
	for name, d := range map[string]int64{"direct p50": int64(rep.DirectP50), "gateway p99": int64(rep.GatewayP99),
		"gateway TTFT": int64(rep.GatewayTTFT50), "start to ready": int64(rep.StartToReady[0]), "one-shot": int64(rep.OneShot[0])} {
		if d <= 0 {
			t.Errorf("%s = %d, want a time", name, d)
		}
	}
	if rep.DirectRPS <= 0 || rep.GatewayRPS <= 0 {
		t.Errorf("throughput %v and %v, want both > 0", rep.DirectRPS, rep.GatewayRPS)
	}
	for _, f := range rep.Profiles {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", f, err)
		}
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, want := range []string{
		`(?m)^c=1 latency p50 \(3 requests\) +\S+ +\S+ +[-+]\S+ +[0-9.]+x +<= 2\.3x (ok|MISSED)`,
		`(?m)^c=4 throughput \(8 requests\) +[0-9]+/s +[0-9]+/s +[0-9]+% +>= 40% (ok|MISSED)`,
		`(?m)^stream first token p50 \(3\) `,
		`(?m)^start to /readyz 200 \(median of 1\) +\S+ +<= 150ms (ok|MISSED)`,
		`(?m)^openclaw agent -m hi, echo \(median of 1\) `,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("report lacks %s:\n%s", want, out.String())
		}
	}
}

// TestRunStopsOnAGatewayThatFails checks that a gateway that cannot start
// ends the run with its log, instead of a hang.
func TestRunStopsOnAGatewayThatFails(t *testing.T) {
	o := bench.Options{Binary: "/bin/false", Latency: 1, Starts: 1, TempDir: t.TempDir()}
	if _, err := os.Stat(o.Binary); err != nil {
		o.Binary = filepath.Join(t.TempDir(), "missing")
	}
	_, err := bench.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "gateway") {
		t.Fatalf("Run with a broken binary: %v, want an error about the gateway", err)
	}
}

func TestMock(t *testing.T) {
	m, err := bench.StartMock()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tests := []struct {
		body, want string
	}{
		{`{"messages":[]}`, `"content":"` + bench.MockReply + `"`},
		{`{"stream":true,"messages":[]}`, "data: [DONE]\n\n"},
	}
	for _, tt := range tests {
		resp, err := http.Post(m.URL+"/v1/chat/completions", "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s, want %q in it", tt.body, resp.StatusCode, b, tt.want)
		}
		if strings.Contains(tt.body, "stream") {
			var text strings.Builder
			for _, d := range regexp.MustCompile(`"content":"([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
				text.WriteString(d[1])
			}
			if text.String() != bench.MockReply {
				t.Errorf("streamed deltas join to %q, want %q", text.String(), bench.MockReply)
			}
		}
	}
	resp, err := http.Get(m.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /v1/models: %d, want 404", resp.StatusCode)
	}
}
