package engine

import (
	"context"
	"errors"
	"io"

	"github.com/goproc/goproc/kernel/language"
)

// Options configure an engine process.
type Options struct {
	// Binary is the goproc executable to run in engine mode; empty means
	// os.Executable(). Tests point it at a freshly built binary.
	Binary string
	// Dir is the engine's working directory; empty means the caller's.
	Dir string
	// Env is the engine's environment; nil means the caller's.
	Env []string
	// MemoryLimit caps each process's address space in bytes (0: no cap).
	MemoryLimit uint64
	// MaxProcesses caps how many child processes the notebook may start
	// over the engine's life (0: no cap).
	MaxProcesses int
	// ConfineWrites asks the engine to refuse writes outside Dir where the
	// OS supports it (Landlock on Linux).
	ConfineWrites bool
	// Log receives the engine's own diagnostics (never cell output); nil
	// discards them.
	Log io.Writer
}

// Client drives an engine process. It implements language.Engine.
type Client struct {
	opts Options
}

var _ language.Engine = (*Client)(nil)

// Start starts an engine process and waits until it is ready.
func Start(ctx context.Context, opts Options) (*Client, error) {
	return nil, errors.New("engine: not implemented yet")
}

func (c *Client) Execute(ctx context.Context, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "NotImplemented", Value: "engine not implemented yet"}}
}
func (c *Client) Complete(ctx context.Context, code string, cursorPos int) (language.CompleteResult, error) {
	return language.CompleteResult{}, errors.New("not implemented")
}
func (c *Client) Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (language.InspectResult, error) {
	return language.InspectResult{}, errors.New("not implemented")
}
func (c *Client) IsComplete(ctx context.Context, code string) (language.IsCompleteResult, error) {
	return language.IsCompleteResult{Status: "unknown"}, nil
}
func (c *Client) Info() language.Info               { return language.GoInfo("go") }
func (c *Client) Restart(ctx context.Context) error { return errors.New("not implemented") }
func (c *Client) Close() error                      { return nil }
