// Package tools is the agent's own tools (read, write, edit, ls, exec) and
// the policy that decides which of them an agent may use.
//
// Every tool acts inside one workspace directory. A tool never returns a Go
// error for something the model did wrong (bad arguments, a missing file, a
// path out of the workspace, a command that failed): those are Results with
// IsError set, written for the model to read and correct. A Go error means
// the call could not be carried out at all (the workspace cannot be created,
// the context ended).
package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/openclaw/openclaw-go/pkg/config"
	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Names of the built-in tools.
const (
	NameRead  = "read"
	NameWrite = "write"
	NameEdit  = "edit"
	NameLs    = "ls"
	NameExec  = "exec"
)

// Defaults of the exec limits, used when the Workspace leaves them zero.
const (
	DefaultExecTimeout    = 60 * time.Second
	DefaultMaxOutputBytes = 64 << 10
)

// Result is what a tool call gives back to the model.
type Result struct {
	Text    string
	IsError bool
}

// errorf is an error Result for the model.
func errorf(format string, a ...any) Result {
	return Result{Text: fmt.Sprintf(format, a...), IsError: true}
}

// Workspace is the directory a tool acts in, with the exec tool's limits.
// The zero limits mean the defaults (tools.exec in the config).
type Workspace struct {
	Dir  string
	Exec config.Exec
}

// NewWorkspace is the workspace at dir with the exec limits of cfg.
func NewWorkspace(dir string, cfg *config.Config) Workspace {
	ws := Workspace{Dir: dir}
	if cfg != nil {
		ws.Exec = cfg.Tools.Exec
	}
	return ws
}

// ensure creates the workspace directory (0700) if it is missing.
func (ws Workspace) ensure() error {
	if ws.Dir == "" {
		return errors.New("tools: no workspace directory set")
	}
	if err := os.MkdirAll(ws.Dir, 0o700); err != nil {
		return fmt.Errorf("tools: create workspace: %w", err)
	}
	return nil
}

// open creates the workspace if needed and opens it as an os.Root, the
// handle through which every file tool works so that no path can leave it.
func (ws Workspace) open() (*os.Root, error) {
	if err := ws.ensure(); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(ws.Dir)
	if err != nil {
		return nil, fmt.Errorf("tools: open workspace: %w", err)
	}
	return r, nil
}

// execTimeout is the configured exec timeout.
func (ws Workspace) execTimeout() time.Duration {
	if ws.Exec.TimeoutSeconds > 0 {
		return time.Duration(ws.Exec.TimeoutSeconds) * time.Second
	}
	return DefaultExecTimeout
}

// maxOutput is the configured cap of exec output.
func (ws Workspace) maxOutput() int {
	if ws.Exec.MaxOutputBytes > 0 {
		return ws.Exec.MaxOutputBytes
	}
	return DefaultMaxOutputBytes
}

// Tool is one built-in tool.
type Tool interface {
	// Def is the tool as offered to the model: name, description and the
	// JSON schema of its arguments.
	Def() provider.ToolDef
	// Run calls the tool with the model's arguments (a JSON object).
	// Mistakes of the model are error Results; the error is for failures
	// of the call itself (workspace unusable, ctx done).
	Run(ctx context.Context, ws Workspace, args json.RawMessage) (Result, error)
}

// builtins is every tool, in the order they are offered.
var builtins = []Tool{readTool{}, writeTool{}, editTool{}, lsTool{}, execTool{}}

// All returns every built-in tool, in a stable order (read, write, edit,
// ls, exec).
func All() []Tool {
	return append([]Tool(nil), builtins...)
}

// Lookup returns the built-in tool called name.
func Lookup(name string) (Tool, bool) {
	for _, t := range builtins {
		if t.Def().Name == name {
			return t, true
		}
	}
	return nil, false
}

// Names returns the names of every built-in tool, in the order of All.
func Names() []string {
	names := make([]string, len(builtins))
	for i, t := range builtins {
		names[i] = t.Def().Name
	}
	return names
}

// def builds a ToolDef; the schema is a JSON literal checked by the tests.
func def(name, desc, schema string) provider.ToolDef {
	return provider.ToolDef{Name: name, Description: desc, Parameters: json.RawMessage(schema)}
}
