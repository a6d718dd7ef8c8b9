// Command openclaw is the OpenClaw agent gateway: one binary that runs agent
// turns from a terminal and serves them over an OpenAI-compatible HTTP API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/openclaw/openclaw-go/pkg/cli"
)

// Set by the release build through -ldflags "-X main.version=...".
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(run(os.Args[1:], cli.BuildInfo{Version: version, Commit: commit, Date: date}))
}

// run is main without the exit: SIGINT and SIGTERM cancel the context.
func run(args []string, b cli.BuildInfo) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Main(ctx, args, cli.StdIO(), b)
}
