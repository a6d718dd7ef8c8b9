package cli

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclaw/openclaw-go/pkg/bench"
)

func init() {
	register(newBenchCmd)
	// A gateway started by `openclaw bench --profile-dir` profiles itself;
	// without the driver's variable this does nothing.
	bench.StartChildProfile()
}

// newBenchCmd is the load driver, hidden from help: a tool for working on
// the gateway's performance, not a user feature. It re-runs this very
// binary as the gateway and as the one-shot agent, so the figures are the
// ones of the binary in hand.
func newBenchCmd(app *App) *cobra.Command {
	opts := bench.DefaultOptions()
	cmd := &cobra.Command{
		Use:    "bench",
		Short:  "Measure the gateway against the model server it fronts",
		Hidden: true,
		Long: `Measure the gateway against the model server it fronts, in one run on loopback.

A zero-delay mock model server starts in this process and is called directly,
then the same requests go through a gateway (this binary's 'gateway serve' with
a temp state dir, chat completions on, token auth, the mock as the model, and
session transcripts on). Latencies are reported as ratios against the direct
calls of the same run. Also measured: the gateway's RSS idle and after the
load, its time from exec to /readyz 200, and 'openclaw agent -m hi' with the
echo model. Nothing leaves 127.0.0.1; the run stops by itself.`,
		Example: `  openclaw bench
  openclaw bench --latency 300 --stream 100 --throughput 400   # about 15 s
  openclaw bench --profile-dir prof && go tool pprof -top prof/cpu.pprof`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), app, opts) },
	}
	f := cmd.Flags()
	o := &opts
	f.StringVar(&o.Binary, "bin", "", "the openclaw binary to measure (default: this one)")
	f.IntVar(&o.Warmup, "warmup", o.Warmup, "untimed requests to each target first")
	f.IntVar(&o.Latency, "latency", o.Latency, "concurrency-1 requests to each target")
	f.IntVar(&o.Stream, "stream", o.Stream, "concurrency-1 streaming requests to each target")
	f.IntVar(&o.Throughput, "throughput", o.Throughput, "requests to each target at --concurrency")
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "clients at once in the throughput phase")
	f.IntVar(&o.Starts, "starts", o.Starts, "gateway starts timed to /readyz")
	f.IntVar(&o.OneShots, "oneshots", o.OneShots, "'openclaw agent -m hi' runs timed")
	f.StringVar(&o.TempDir, "tmp", "", "where to make the temp state dirs (default: the user cache dir, on the file system of the home dir where state lives by default)")
	f.BoolVar(&o.Keep, "keep", false, "keep the state dirs and the gateway log")
	f.StringVar(&o.ProfileDir, "profile-dir", "", "write the gateway's CPU, allocation and heap profiles of the load here")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long")
	return cmd
}

func runBench(ctx context.Context, app *App, o bench.Options) error {
	for name, n := range map[string]int{"--warmup": o.Warmup, "--latency": o.Latency, "--stream": o.Stream,
		"--throughput": o.Throughput, "--starts": o.Starts, "--oneshots": o.OneShots} {
		if n < 0 {
			return usageErr("%s %d: give a count of 0 or more", name, n)
		}
	}
	if o.Concurrency < 1 {
		return usageErr("--concurrency %d: give 1 or more", o.Concurrency)
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Hour
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return exitErr(ExitFailure, "find this binary to run it as the gateway: %v; pass --bin", err)
		}
		o.Binary = exe
	}
	if o.TempDir == "" {
		// Session files cost what the file system makes them cost: measure
		// where a state dir would be (under the home dir), not in a /tmp
		// that may be tmpfs or churned by everything else on the machine.
		if dir, err := os.UserCacheDir(); err == nil && os.MkdirAll(dir, 0o700) == nil {
			o.TempDir = dir
		}
	}
	o.Progress = app.IO.Err
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return exitErr(ExitFailure, "bench: %v", err)
	}
	rep.Print(app.IO.Out)
	return nil
}
