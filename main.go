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
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/enginemain"
	"github.com/goproc/goproc/kernel/front"
	"github.com/goproc/goproc/kernel/grader"
	"github.com/goproc/goproc/kernel/kernelspec"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/modules"
	"github.com/goproc/goproc/kernel/runner"
)

// Version is goproc's version.
const Version = "0.1.0"

//go:embed kernel.json
var kernelJSON []byte

// source is goproc's own module, from which kernel/modules builds engines
// with the modules a notebook imports (the tests in it are left out when
// it is written out).
//
//go:embed go.mod go.sum kernel runtime
var source embed.FS

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage() {
	fmt.Fprint(os.Stderr, `goproc: a Jupyter kernel for Go

usage:
  goproc kernel CONNECTION_FILE       run the kernel (Jupyter starts this)
  goproc install [--user|--sys-prefix|--prefix DIR] [--name NAME] [--with PKG@VERSION]...
  goproc run NOTEBOOK.ipynb [--out FILE | --inplace] [--timeout D] [--allow-errors]
  goproc grade --source SOURCE.ipynb SUBMISSIONS... [--jobs N] [--timeout D] [--out DIR]
  goproc --version
`)
}

func run(args []string) int {
	if code, handled := enginemain.Dispatch(args); handled {
		return code
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "--version", "version":
		fmt.Println("goproc", Version)
		return 0
	case "-h", "--help", "help":
		usage()
		return 0
	case "kernel":
		opts := engine.Options{Modules: newBuilder(""), Packages: modules.Builtin()}
		rest := args[1:]
		if len(rest) >= 2 && rest[0] == "--engine" {
			// A course kernel (goproc install --with): its engine has
			// modules built in.
			eng, err := modules.ReadEngine(rest[1])
			if err != nil {
				fmt.Fprintf(os.Stderr, "goproc kernel: %v\n", err)
				return 1
			}
			opts.Binary, opts.Packages, rest = eng.Binary, eng.Packages, rest[2:]
		}
		return front.Command(rest, func(ctx context.Context) (language.Engine, error) {
			c, err := engine.Start(ctx, opts)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return c, nil
		}, Version, os.Stderr)
	case "install":
		return kernelspec.Command(args[1:], kernelJSON, buildCourseEngine, os.Stdout, os.Stderr)
	case "grade":
		return grader.Main(context.Background(), args[1:], Version, newBuilder, os.Stdout, os.Stderr)
	case "run":
		return runner.Main(args[1:], newBuilder)
	case modules.ExtractArg:
		return modules.ExtractMain(args[1:])
	}
	fmt.Fprintf(os.Stderr, "goproc: unknown command %q (see goproc --help)\n", args[0])
	return 2
}

// buildCourseEngine builds the engine of goproc install --with: the
// packages with (PATH@VERSION, as go get takes them) built in, pinned in a
// scratch module whose go.mod is kept beside the engine.
func buildCourseEngine(ctx context.Context, with []string, progress io.Writer) (string, error) {
	dir, err := os.MkdirTemp("", "goproc-install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	eng, err := newBuilder(dir).Install(ctx, with, progress)
	if err != nil {
		return "", err
	}
	return eng.Binary, nil
}

// newBuilder makes the module builder for a notebook's directory (""
// means the working directory) from goproc's own source.
func newBuilder(dir string) *modules.Builder {
	return &modules.Builder{Source: source, SourceDir: builtFrom(), Dir: dir}
}

// builtFrom is the directory goproc was built in (its checkout), or "" for
// a -trimpath build.
func builtFrom() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	return filepath.Dir(file)
}
