package multiprocessing

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
)

// Program is what a child process replays to rebuild the notebook: the
// declaration chunks the engine evaluated successfully, in order. It only
// grows, so a warm worker that replayed the first n chunks catches up by
// replaying Chunks[n:].
type Program struct {
	// Chunks are complete sources for one yaegi Eval each (imports, then
	// instrumented declarations), in the order the notebook evaluated them.
	Chunks []string `json:"chunks"`
}

// Host is implemented by the engine that runs notebook cells
// (kernel/engine). The engine registers itself with SetHost at start-up.
type Host interface {
	// Program returns the declarations evaluated so far.
	Program() Program
	// Globals returns the notebook's global variables that can be encoded
	// as JSON, by name. Variables that cannot be encoded are left out.
	Globals() map[string]json.RawMessage
	// SetProbing switches the guard that makes instrumented functions call
	// Probe and return at once instead of running their bodies.
	SetProbing(on bool)
	// CellContext is the context of the running cell; it is cancelled when
	// the cell is interrupted. Processes started by a cell are terminated
	// when it is.
	CellContext() context.Context
}

// Rebuilder is implemented by the engine inside a worker process: it
// rebuilds the notebook in a fresh interpreter and hands out its functions.
type Rebuilder interface {
	// Replay evaluates chunks that were not evaluated yet (p only grows).
	// Output produced while replaying is discarded.
	Replay(p Program) error
	// SetGlobals assigns the notebook's globals their values at Start().
	SetGlobals(globals map[string]json.RawMessage) error
	// Func returns the notebook's top-level function called name.
	Func(name string) (reflect.Value, error)
}

// globalsSelector is implemented by a Host that can tell which globals a
// function can reach: a Process gets only those, and a pool worker those of
// each function it runs, with its first chunk of it.
type globalsSelector interface {
	GlobalsFor(fn string) map[string]json.RawMessage
}

// globalsFor returns the globals a child running fn needs: none for a
// standard-library function.
func globalsFor(h Host, fn string) map[string]json.RawMessage {
	if strings.Contains(fn, ".") {
		return map[string]json.RawMessage{}
	}
	if s, ok := h.(globalsSelector); ok {
		return s.GlobalsFor(fn)
	}
	return h.Globals()
}

// hostContext returns the running cell's context, or Background.
func hostContext() context.Context {
	if h := currentHost(); h != nil {
		if ctx := h.CellContext(); ctx != nil {
			return ctx
		}
	}
	return context.Background()
}

// SetHost registers the engine running this notebook. It is called once, by
// the engine, before any cell runs.
func SetHost(h Host) {
	host.Store(&h)
	prewarmFromEnv()
}

func currentHost() Host {
	if p := host.Load(); p != nil {
		return *p
	}
	return nil
}

// ErrInterrupted is the cause the engine should give when it cancels a
// cell's context because the cell was interrupted
// (context.WithCancelCause … cancel(multiprocessing.ErrInterrupted)):
// processes and pools the cell started are then terminated. A context
// cancelled with another cause after the cell finished (the engine's
// cleanup) leaves them running, so a Pool created in one cell can be used in
// the next. With a plain cancel, the cancellation counts as an interrupt if
// the context is still the running cell's.
var ErrInterrupted = errors.New("the cell was interrupted")

// interrupted reports whether ctx ended because its cell was interrupted.
func interrupted(ctx context.Context) bool {
	if ctx.Err() == nil {
		return false
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrInterrupted) {
		return true
	}
	if cause != context.Canceled {
		return errors.Is(cause, context.DeadlineExceeded)
	}
	h := currentHost()
	return h != nil && h.CellContext() == ctx
}

// host is the engine running the notebook in this process (in a worker: the
// worker's own host, for nested processes; nil in plain Go programs).
var host atomic.Pointer[Host]
