// Package runner is `goproc run`: it executes a Go notebook headless, with
// no Jupyter and no Python, showing each cell's output in the terminal as it
// comes, and optionally saves the executed notebook.
//
//	goproc run NOTEBOOK.ipynb [--out FILE | --inplace] [--timeout D] [--allow-errors]
//
// Cell output goes to stdout exactly as it is saved in the notebook (text,
// the text/plain form of displays and results, tracebacks); a progress line
// per cell goes to stderr. Nothing is written unless --out or --inplace asks
// for it. Exit status: 0 when every cell ran, 1 when a cell failed or timed
// out (the message names the cell), 2 for bad usage or input, 130 when
// interrupted with Ctrl-C (the running cell is interrupted first).
package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/grader"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/modules"
	"github.com/goproc/goproc/kernel/nbexec"
	"github.com/goproc/goproc/kernel/notebook"
)

// Exit statuses.
const (
	ExitOK          = 0
	ExitCellFailed  = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// Usage is the one-line synopsis of the command.
const Usage = "goproc run NOTEBOOK.ipynb [--out FILE | --inplace] [--timeout D] [--allow-errors]"

// Config is what Run needs from its surroundings.
type Config struct {
	Stdout, Stderr io.Writer
	// StartEngine starts an engine working in dir; nil uses engine.Start.
	StartEngine func(ctx context.Context, dir string) (language.Engine, error)
	// Modules makes the builder of engines with the modules cells import
	// (kernel/modules); nil: cells cannot import modules.
	Modules modules.NewBuilder
}

// Main runs `goproc run` with the process's stdio, interrupting the running
// cell on SIGINT or SIGTERM. A second Ctrl-C kills goproc at once.
func Main(args []string, newBuilder modules.NewBuilder) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default action for a second signal
	}()
	return Run(ctx, args, Config{Stdout: os.Stdout, Stderr: os.Stderr, Modules: newBuilder})
}

type options struct {
	path        string
	out         string
	inplace     bool
	timeout     time.Duration
	allowErrors bool
	maxOutput   int
}

// parse reads the arguments; flags may come before or after the notebook.
func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fset := flag.NewFlagSet("goproc run", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	fset.StringVar(&o.out, "out", "", "write the executed notebook to `FILE`")
	fset.BoolVar(&o.inplace, "inplace", false, "overwrite NOTEBOOK with the executed notebook")
	timeout := fset.String("timeout", "", "interrupt a cell that runs longer than `D` (e.g. 30s, 2m; a bare number is seconds)")
	fset.BoolVar(&o.allowErrors, "allow-errors", false, "keep running after a cell fails (exit status 0)")
	fset.IntVar(&o.maxOutput, "max-output", 0, "keep at most `N` bytes of output per cell (0: all)")
	var pos []string
	for {
		if err := fset.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stderr, "usage: "+Usage)
				fset.SetOutput(stderr)
				fset.PrintDefaults()
				return o, flag.ErrHelp
			}
			return o, err
		}
		args = fset.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	case len(pos) == 0:
		return o, errors.New("no notebook given")
	case len(pos) > 1:
		return o, fmt.Errorf("one notebook at a time (got %d: %s)", len(pos), strings.Join(pos, " "))
	case o.inplace && o.out != "":
		return o, errors.New("--out and --inplace are exclusive: choose one")
	case o.maxOutput < 0:
		return o, errors.New("--max-output must be 0 or more")
	}
	o.path = pos[0]
	if *timeout != "" {
		d, err := parseDuration(*timeout)
		if err != nil {
			return o, err
		}
		o.timeout = d
	}
	if o.inplace {
		o.out = o.path
	}
	return o, nil
}

func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--timeout %q is not a duration: write e.g. 30s, 2m or 90", s)
	}
	return d, nil
}

// load reads and checks the notebook, with a one-line error that says what
// is wrong.
func load(path string) (*notebook.Notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", path)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %v", path, pe.Err)
		}
		return nil, err
	}
	nb, err := notebook.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s is not a Jupyter notebook: %s", path, firstLine(strings.TrimPrefix(err.Error(), "not a Jupyter notebook: ")))
	}
	if lang := strings.ToLower(nb.Language()); lang != "" && lang != "go" && lang != "golang" {
		return nil, fmt.Errorf("%s is a %s notebook; goproc runs Go notebooks (use jupyter nbconvert --execute for others)", path, nb.Language())
	}
	return nb, nil
}

// Run runs `goproc run` with args (after "run") and returns the exit status.
func Run(ctx context.Context, args []string, cfg Config) int {
	stdout, stderr := cfg.Stdout, cfg.Stderr
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "goproc run: %s (usage: %s)\n", firstLine(err.Error()), Usage)
		return ExitUsage
	}
	nb, err := load(o.path)
	if err != nil {
		fmt.Fprintf(stderr, "goproc run: %s\n", err)
		return ExitUsage
	}
	if o.out != "" {
		if err := checkWritable(o.out); err != nil {
			fmt.Fprintf(stderr, "goproc run: %s\n", err)
			return ExitUsage
		}
	}

	// Test cells (runtime/grade) check the outputs of earlier cells by
	// grade_id: record them, as goproc grade does.
	rec, err := grader.NewRecorder("")
	if err != nil {
		fmt.Fprintf(stderr, "goproc run: %v\n", err)
		return ExitUsage
	}
	defer rec.Close()
	var imports []string
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			imports = append(imports, modules.Imports(string(c.Source))...)
		}
	}
	start := cfg.StartEngine
	if start == nil {
		start = func(ctx context.Context, dir string) (language.Engine, error) {
			opts := engine.Options{Dir: dir, Env: append(os.Environ(), rec.Env()), NoSpare: true, Packages: modules.Builtin()}
			if cfg.Modules != nil {
				opts.Modules = cfg.Modules(dir)
				opts.Imports = imports
			}
			return engine.Start(ctx, opts)
		}
	}
	dir, err := filepath.Abs(filepath.Dir(o.path))
	if err != nil {
		fmt.Fprintf(stderr, "goproc run: %v\n", err)
		return ExitUsage
	}
	t0 := time.Now()
	eng, err := start(ctx, dir)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "goproc run: interrupted")
			return ExitInterrupted
		}
		fmt.Fprintf(stderr, "goproc run: cannot start the Go engine: %s\n", firstLine(err.Error()))
		return ExitCellFailed
	}
	defer eng.Close()

	p := &progress{stdout: stdout, stderr: stderr}
	rep, runErr := nbexec.Run(ctx, eng, nb, nbexec.Options{
		Timeout:        o.timeout,
		AllowErrors:    o.allowErrors,
		MaxOutputBytes: o.maxOutput,
		OnCellStart:    p.start,
		OnOutput:       p.output,
		OnCellDone: func(r nbexec.CellReport) {
			rec.CellDone(r)
			p.done(r)
		},
	})

	status := ExitOK
	var ce *nbexec.CellError
	switch {
	case errors.As(runErr, &ce) && ce.Report.Status == nbexec.StatusInterrupted:
		p.endLine()
		fmt.Fprintf(stderr, "goproc run: interrupted in %s\n", ce.Report.Name())
		status = ExitInterrupted
	case errors.As(runErr, &ce):
		fmt.Fprintf(stderr, "goproc run: %s: %s\n", o.path, ce.Error())
		status = ExitCellFailed
	case runErr != nil:
		fmt.Fprintf(stderr, "goproc run: %v\n", runErr)
		status = ExitCellFailed
	}
	if o.out != "" {
		nb.EnsureIDs()
		if err := nb.WriteFile(o.out); err != nil {
			fmt.Fprintf(stderr, "goproc run: %v\n", err)
			if status == ExitOK {
				status = ExitCellFailed
			}
		} else {
			fmt.Fprintf(stderr, "goproc run: wrote %s\n", o.out)
		}
	}
	if status == ExitOK {
		failed := 0
		for _, r := range rep.Cells {
			if r.Status == nbexec.StatusError || r.Status == nbexec.StatusTimeout {
				failed++
			}
		}
		msg := fmt.Sprintf("goproc run: %d cells ran in %s", rep.Executed, round(time.Since(t0)))
		if failed > 0 {
			msg += fmt.Sprintf(", %d failed (--allow-errors)", failed)
		}
		fmt.Fprintln(stderr, msg)
	}
	return status
}

// checkWritable fails early when the output cannot be written, before any
// cell runs.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("cannot write %s: directory %s does not exist", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("cannot write %s: it is a directory", path)
	}
	return nil
}

// progress prints cell output to stdout and a line per cell to stderr:
//
//	[3/12] cell 5 … ok 12ms
//
// When the cell prints, the line is completed after its output instead.
type progress struct {
	stdout, stderr io.Writer
	label          string
	open           bool // the "[i/n] cell k … " prefix is on the screen, unfinished
	printed        bool // the cell produced output
	lastNL         bool // the last output ended with a newline
}

func (p *progress) start(c nbexec.CellInfo) {
	p.label = fmt.Sprintf("[%d/%d] %s", c.Ordinal, c.Total, c.Name())
	fmt.Fprintf(p.stderr, "%s … ", p.label)
	p.open, p.printed, p.lastNL = true, false, true
}

func (p *progress) output(_ nbexec.CellInfo, ev nbexec.Event) {
	s := nbexec.EventText(ev)
	if s == "" {
		return
	}
	p.endLine()
	p.printed = true
	io.WriteString(p.stdout, s)
	p.lastNL = strings.HasSuffix(s, "\n")
}

// endLine finishes an open progress prefix so output starts on a new line.
func (p *progress) endLine() {
	if p.open {
		fmt.Fprintln(p.stderr)
		p.open = false
	}
}

func (p *progress) done(r nbexec.CellReport) {
	if r.Status == nbexec.StatusSkipped {
		p.endLine()
		fmt.Fprintf(p.stderr, "[-] %s skipped (tag %s)\n", r.Name(), nbexec.TagSkip)
		return
	}
	word := r.Status
	if r.EngineRestarted {
		word += " (the Go engine crashed and was restarted: the notebook's state is gone)"
	}
	if r.DroppedBytes > 0 {
		word += fmt.Sprintf(" (%d bytes of output not kept)", r.DroppedBytes)
	}
	if p.printed {
		if !p.lastNL {
			fmt.Fprintln(p.stderr)
		}
		fmt.Fprintf(p.stderr, "%s %s %s\n", p.label, word, round(r.Duration))
	} else {
		fmt.Fprintf(p.stderr, "%s %s\n", word, round(r.Duration))
	}
	p.open = false
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
