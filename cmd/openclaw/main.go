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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.StdIO(), cli.BuildInfo{Version: version, Commit: commit, Date: date})
	stop()
	os.Exit(code)
}
