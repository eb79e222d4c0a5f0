package grader

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/modules"
	"github.com/goproc/goproc/kernel/notebook"
)

// Usage is the synopsis of goproc grade.
const Usage = `usage:
  goproc grade --source SOURCE.ipynb [flags] SUBMISSIONS...   grade submissions
  goproc grade --source SOURCE.ipynb --release OUT.ipynb       write the student version
  goproc grade --merge --out DIR SHARD_DIR...                  merge the gradebooks of shards

SUBMISSIONS are notebooks or directories holding them (searched recursively).
The student's name is the notebook's file name, or its directory when the file
is named like the source (nbgrader's submitted/STUDENT/ASSIGNMENT/ layout).
`

// Main runs `goproc grade` with args (after "grade") and returns the exit
// status: 0 when every submission was graded, 1 when some could not be, 2 for
// a usage error.
func Main(ctx context.Context, args []string, version string, newBuilder modules.NewBuilder, stdout, stderr io.Writer) int {
	// Ctrl-C stops the run cleanly: engines and their children are killed.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("goproc grade", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, Usage, "\nflags:\n")
		fs.PrintDefaults()
	}
	var (
		source     = fs.String("source", "", "the instructor's notebook (solutions and hidden tests); required")
		out        = fs.String("out", "graded", "directory for gradebook.csv, gradebook.json, feedback/ and the cache")
		jobs       = fs.Int("jobs", 0, "submissions graded at once (0: one per core)")
		timeout    = fs.Duration("timeout", DefaultLimits.CellTimeout, "time limit per cell")
		outLimit   = fs.Int("output-limit", DefaultLimits.OutputLimit, "bytes a cell may print before it is stopped")
		memory     = fs.Uint64("memory", DefaultLimits.MemoryLimit, "address-space limit per process, in bytes (0: none)")
		procs      = fs.Int("max-processes", DefaultLimits.MaxProcesses, "child processes a submission may start")
		confine    = fs.Bool("confine-writes", true, "let a submission write only in its working directory (Landlock, Linux)")
		box        = fs.Bool("sandbox", true, "run each submission in a sandbox of its own (namespaces, cgroup; Linux)")
		requireBox = fs.Bool("require-sandbox", false, "refuse to grade unless every protection of the sandbox is in force")
		budget     = fs.Duration("budget", DefaultLimits.Budget, "time limit for all of a submission's own cells together")
		showHidden = fs.Bool("show-hidden-tests", false, "keep the hidden tests' source in feedback notebooks")
		release    = fs.String("release", "", "write the student version of --source to this file")
		shard      = fs.String("shard", "", "grade only shard K/N of the submissions (0 <= K < N), e.g. 0/4")
		force      = fs.Bool("force", false, "regrade submissions whose cached grade is still valid")
		stamp      = fs.Bool("stamp", false, "write the checksums of the released cells into --source (nbgrader's checksum metadata) and exit")
		merge      = fs.Bool("merge", false, "merge the gradebook.json of each shard directory given into --out")
		quiet      = fs.Bool("quiet", false, "no progress bar")
		positional []string
	)
	// Flags may come after submissions: parse, take one argument, repeat.
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}

	if *merge {
		var paths []string
		for _, p := range positional {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				p = filepath.Join(p, "gradebook.json")
			}
			paths = append(paths, p)
		}
		gb, err := Merge(*out, paths)
		if err != nil {
			fmt.Fprintln(stderr, "goproc grade:", err)
			return 1
		}
		Summary(stdout, gb)
		fmt.Fprintf(stdout, "merged %d gradebooks into %s\n", len(paths), *out)
		return 0
	}
	if *source == "" {
		fmt.Fprintln(stderr, "goproc grade: --source SOURCE.ipynb is required (the instructor's notebook)")
		fs.Usage()
		return 2
	}
	if *stamp {
		if err := stampSource(*source); err != nil {
			fmt.Fprintln(stderr, "goproc grade:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote checksums into %s\n", *source)
		return 0
	}
	if *release != "" {
		if err := writeRelease(*source, *release); err != nil {
			fmt.Fprintln(stderr, "goproc grade:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote the student version of %s to %s\n", *source, *release)
		if len(positional) == 0 {
			return 0
		}
	}
	if len(positional) == 0 {
		fmt.Fprintln(stderr, "goproc grade: no submissions given")
		fs.Usage()
		return 2
	}
	opts := Options{
		Source:          *source,
		Submissions:     positional,
		OutDir:          *out,
		Jobs:            *jobs,
		Limits:          Limits{CellTimeout: *timeout, OutputLimit: *outLimit, MemoryLimit: *memory, MaxProcesses: *procs, Budget: *budget},
		ConfineWrites:   *confine,
		NoSandbox:       !*box,
		RequireSandbox:  *requireBox,
		ShowHiddenTests: *showHidden,
		Force:           *force,
		Version:         version,
	}
	if newBuilder != nil {
		dir, err := filepath.Abs(filepath.Dir(*source))
		if err != nil {
			fmt.Fprintln(stderr, "goproc grade:", err)
			return 2
		}
		opts.Modules = newBuilder(dir)
	}
	if *shard != "" {
		sh, err := ParseShard(*shard)
		if err != nil {
			fmt.Fprintln(stderr, "goproc grade:", err)
			return 2
		}
		opts.Shard = sh
	}
	if !*quiet {
		opts.Progress = stderr
	}
	t0 := time.Now()
	gb, err := Grade(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "goproc grade:", err)
		return 1
	}
	Summary(stdout, gb)
	n, cached, bad := 0, 0, 0
	for _, r := range gb.Students {
		n++
		if r.Cached {
			cached++
		}
		if r.Error != "" {
			bad++
		}
		if r.Confinement != "" {
			fmt.Fprintf(stdout, "%s: %s\n", termSafe(r.Student), termSafe(r.Confinement))
		}
	}
	el := time.Since(t0).Seconds()
	fmt.Fprintf(stdout, "graded %d submissions (%d from cache) in %.1fs, %.1f/s; gradebook in %s\n",
		n, cached, el, float64(n)/el, filepath.Join(*out, "gradebook.csv"))
	if bad > 0 {
		fmt.Fprintf(stderr, "goproc grade: %d submissions could not be graded (see above)\n", bad)
		return 1
	}
	return 0
}

// writeRelease writes the student version of the source notebook.
func writeRelease(source, out string) error {
	src, err := notebook.Read(source)
	if err != nil {
		return fmt.Errorf("reading %s: %w", source, err)
	}
	rel, err := Release(src)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if strings.TrimSpace(out) == "" {
		return fmt.Errorf("--release needs a file name")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", out, err)
	}
	if err := rel.WriteFile(out); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}

// stampSource writes checksums into the source notebook in place.
func stampSource(source string) error {
	src, err := notebook.Read(source)
	if err != nil {
		return fmt.Errorf("reading %s: %w", source, err)
	}
	if err := StampChecksums(src); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if err := src.WriteFile(source); err != nil {
		return fmt.Errorf("writing %s: %w", source, err)
	}
	return nil
}
