package engine

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/goproc/goproc/runtime/multiprocessing"
)

// RunWorker is the main of a multiprocessing worker: a fresh interpreter that
// rebuilds the notebook as its parent asks and runs targets from it. Output
// goes to the worker's stdout and stderr, which its parent forwards into the
// cell.
func RunWorker() error {
	redirectCrashOutput(multiprocessing.WorkerCrashFD)
	debug.SetMaxStack(256 << 20) // as in the engine: a runaway recursion ends sooner
	quietYaegiLog()
	in, err := NewInterpreter(Config{Stdout: os.Stdout, Stderr: os.Stderr, Args: []string{"goproc-worker"}})
	if err != nil {
		return fmt.Errorf("multiprocessing worker: %w", err)
	}
	return multiprocessing.ServeWorker(context.Background(), in)
}
