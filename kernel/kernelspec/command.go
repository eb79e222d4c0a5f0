package kernelspec

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Command is `goproc install`: it parses args, installs the kernelspec
// filled from template and returns the exit status.
func Command(args []string, template []byte, build BuildEngine, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("goproc install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts Options
	fs.BoolVar(&opts.User, "user", false, "install for the current user (~/.local/share/jupyter); the default unless root")
	fs.BoolVar(&opts.SysPrefix, "sys-prefix", false, "install into sys.prefix of the python that has jupyter (else /usr/local)")
	fs.StringVar(&opts.Prefix, "prefix", "", "install into `DIR`/share/jupyter")
	fs.StringVar(&opts.Name, "name", "goproc", "kernelspec `NAME` (directory name)")
	fs.StringVar(&opts.DisplayName, "display-name", "", "display name shown by Jupyter (default from kernel.json)")
	fs.StringVar(&opts.InterruptMode, "interrupt-mode", "", "`signal` (default) or message")
	var with multiFlag
	fs.Var(&with, "with", "build the kernel's engine with `PKG@VERSION` (a Go package, or PATH/... for all of a module's; repeatable)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: goproc install [--user|--sys-prefix|--prefix DIR] [--name NAME] [--display-name NAME] [--interrupt-mode signal|message] [--with PKG@VERSION]...

Installs the goproc kernelspec (kernel.json and logos) into DIR/kernels/NAME.
Without a location flag: --user, or /usr/local/share/jupyter when run as root.
kernel.json runs this binary by its absolute path. With --with, the kernel's
engine is built now with those packages (Go toolchain needed here, not where
the kernel runs) and copied into the kernelspec: a course kernel.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "goproc install: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	opts.Template = template
	if len(with) > 0 {
		if build == nil {
			fmt.Fprintln(stderr, "goproc install: --with is not available in this build")
			return 2
		}
		engine, err := build(context.Background(), with, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "goproc install: %v\n", err)
			return 1
		}
		opts.Engine = engine
	}
	dir, err := Install(opts)
	if err != nil {
		fmt.Fprintf(stderr, "goproc install: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Installed kernelspec %s in %s\n", opts.Name, dir)
	return 0
}

// BuildEngine builds an engine binary with the packages with built in
// (kernel/modules) and returns its path; progress goes to w.
type BuildEngine func(ctx context.Context, with []string, w io.Writer) (string, error)

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
