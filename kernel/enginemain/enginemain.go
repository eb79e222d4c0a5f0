// Package enginemain is the entry point of the processes goproc starts
// itself as: engines, multiprocessing workers and grading boxes' inits. The
// goproc command calls it first; so does the main of every engine binary
// goproc builds with a notebook's modules (kernel/modules), which is why it
// is a package of its own: such a binary is an engine, not a kernel.
package enginemain

import (
	"fmt"
	"os"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/sandbox"
	"github.com/goproc/goproc/kernel/timerslack"
	"github.com/goproc/goproc/runtime/multiprocessing"
)

// Dispatch runs the process as what args (os.Args[1:]) say it is, if they
// name one of the internal modes, and returns its exit code with handled
// set. For any other args it applies the inherited timer slack and returns
// handled false: the caller goes on as a command.
func Dispatch(args []string) (code int, handled bool) {
	if multiprocessing.IsWorker() {
		if err := engine.RunWorker(); err != nil {
			fmt.Fprintf(os.Stderr, "goproc: %v\n", err)
			return 1, true
		}
		return 0, true
	}
	if len(args) > 0 && args[0] == sandbox.InitArg {
		// A grading box's init: before anything else, so that it starts
		// nothing the box has not been set up for.
		err := sandbox.RunInit()
		fmt.Fprintf(os.Stderr, "goproc: %v\n", err)
		return 1, true
	}
	// Engines and workers inherit the slack from the process that starts
	// them; for them this finds it set and does nothing.
	slack, err := timerslack.FromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "goproc: warning: %v\n", err)
	}
	if err := timerslack.Apply(slack); err != nil {
		fmt.Fprintf(os.Stderr, "goproc: warning: %v\n", err)
	}
	if len(args) > 0 && args[0] == engine.EngineModeArg {
		if err := engine.ServeProcess(); err != nil {
			fmt.Fprintf(os.Stderr, "goproc engine: %v\n", err)
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Main is the main of an engine binary: it serves the internal modes and
// refuses anything else.
func Main() int {
	if code, ok := Dispatch(os.Args[1:]); ok {
		return code
	}
	fmt.Fprintf(os.Stderr, "%s is a goproc engine with a notebook's modules built in; goproc starts it itself (run goproc, not this binary)\n", os.Args[0])
	return 2
}
