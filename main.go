// Command goproc is a Jupyter kernel for Go: the kernel itself, its
// kernelspec installer, a headless notebook runner and a grader.
//
//	goproc kernel CONNECTION_FILE   serve a Jupyter client
//	goproc install [flags]          install the kernelspec
//	goproc run NOTEBOOK [flags]     execute a notebook without Jupyter
//	goproc grade [flags] SUBMISSIONS...
//
// The engine and multiprocessing-worker modes are internal: goproc starts
// itself in them.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/front"
	"github.com/goproc/goproc/kernel/grader"
	"github.com/goproc/goproc/kernel/kernelspec"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/runner"
	"github.com/goproc/goproc/kernel/sandbox"
	"github.com/goproc/goproc/kernel/timerslack"
	"github.com/goproc/goproc/runtime/multiprocessing"
)

// Version is goproc's version.
const Version = "0.1.0"

//go:embed kernel.json
var kernelJSON []byte

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage() {
	fmt.Fprint(os.Stderr, `goproc: a Jupyter kernel for Go

usage:
  goproc kernel CONNECTION_FILE       run the kernel (Jupyter starts this)
  goproc install [--user|--sys-prefix|--prefix DIR] [--name NAME]
  goproc run NOTEBOOK.ipynb [--out FILE | --inplace] [--timeout D] [--allow-errors]
  goproc grade --source SOURCE.ipynb SUBMISSIONS... [--jobs N] [--timeout D] [--out DIR]
  goproc --version
`)
}

func run(args []string) int {
	if multiprocessing.IsWorker() {
		if err := engine.RunWorker(); err != nil {
			fmt.Fprintf(os.Stderr, "goproc: %v\n", err)
			return 1
		}
		return 0
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	if args[0] == sandbox.InitArg {
		// A grading box's init: before anything else, so that it starts
		// nothing the box has not been set up for.
		err := sandbox.RunInit()
		fmt.Fprintf(os.Stderr, "goproc: %v\n", err)
		return 1
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
	switch args[0] {
	case "--version", "version":
		fmt.Println("goproc", Version)
		return 0
	case "-h", "--help", "help":
		usage()
		return 0
	case "kernel":
		return front.Command(args[1:], func(ctx context.Context) (language.Engine, error) {
			c, err := engine.Start(ctx, engine.Options{})
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return c, nil
		}, Version, os.Stderr)
	case "install":
		return kernelspec.Command(args[1:], kernelJSON, os.Stdout, os.Stderr)
	case "grade":
		return grader.Main(context.Background(), args[1:], Version, os.Stdout, os.Stderr)
	case "run":
		return runner.Main(args[1:])
	case engine.EngineModeArg:
		if err := engine.ServeProcess(); err != nil {
			fmt.Fprintf(os.Stderr, "goproc engine: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "goproc: unknown command %q (see goproc --help)\n", args[0])
	return 2
}
