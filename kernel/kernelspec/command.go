package kernelspec

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Command is `goproc install`: it parses args, installs the kernelspec
// filled from template and returns the exit status.
func Command(args []string, template []byte, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("goproc install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts Options
	fs.BoolVar(&opts.User, "user", false, "install for the current user (~/.local/share/jupyter); the default unless root")
	fs.BoolVar(&opts.SysPrefix, "sys-prefix", false, "install into sys.prefix of the python that has jupyter (else /usr/local)")
	fs.StringVar(&opts.Prefix, "prefix", "", "install into `DIR`/share/jupyter")
	fs.StringVar(&opts.Name, "name", "goproc", "kernelspec `NAME` (directory name)")
	fs.StringVar(&opts.DisplayName, "display-name", "", "display name shown by Jupyter (default from kernel.json)")
	fs.StringVar(&opts.InterruptMode, "interrupt-mode", "", "`signal` (default) or message")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: goproc install [--user|--sys-prefix|--prefix DIR] [--name NAME] [--display-name NAME] [--interrupt-mode signal|message]

Installs the goproc kernelspec (kernel.json and logos) into DIR/kernels/NAME.
Without a location flag: --user, or /usr/local/share/jupyter when run as root.
kernel.json runs this binary by its absolute path.

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
	dir, err := Install(opts)
	if err != nil {
		fmt.Fprintf(stderr, "goproc install: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Installed kernelspec %s in %s\n", opts.Name, dir)
	return 0
}
