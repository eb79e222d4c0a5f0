package magic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/language"
)

// Host is what running a cell's parts needs from the engine.
type Host struct {
	// Go runs Go source as a cell (the engine's interpreter).
	Go func(ctx context.Context, src string) (language.MimeBundle, *language.Error)
	// Stdout and Stderr are the files the cell's output goes to, the ones
	// cell code writes to. Shell commands write to them directly, so their
	// output streams into the cell as it comes.
	Stdout, Stderr *os.File
	// Interrupted is the error of a cell the user interrupted.
	Interrupted func() *language.Error
	// GoGet is `%go get ARGS…`: it pins modules for the notebook's imports.
	// Nil until goproc imports modules; the magic then says so.
	GoGet func(ctx context.Context, args []string) *language.Error
	// EnvChanged, if not nil, is called after %env sets a variable (the
	// engine retires child processes started ahead with the old one).
	EnvChanged func()
}

// Run runs a parsed cell's parts in order and returns the result of the
// last one (a Go part's trailing expression, or %time's), as a cell's. The
// first error ends the cell; a shell command's failure is not an error.
func (h *Host) Run(ctx context.Context, c *Cell) (language.MimeBundle, *language.Error) {
	if c.CellMagic == "time" {
		var res language.MimeBundle
		err := h.timed(func() *language.Error {
			var err *language.Error
			res, err = h.run(ctx, c.Parts)
			return err
		})
		return res, err
	}
	return h.run(ctx, c.Parts)
}

func (h *Host) run(ctx context.Context, parts []Part) (res language.MimeBundle, err *language.Error) {
	for _, p := range parts {
		if ctx.Err() != nil {
			return nil, h.Interrupted()
		}
		res = nil
		switch p.Kind {
		case Go:
			res, err = h.Go(ctx, p.Src)
		case Shell:
			err = h.shell(ctx, p.Args)
		case Magic:
			res, err = h.magic(ctx, p)
		}
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (h *Host) magic(ctx context.Context, p Part) (res language.MimeBundle, err *language.Error) {
	switch p.Name {
	case "time":
		if p.Args == "" {
			return nil, h.timed(func() *language.Error { return nil })
		}
		err = h.timed(func() *language.Error {
			var err *language.Error
			res, err = h.Go(ctx, p.Src)
			return err
		})
		return res, err
	case "env":
		return nil, h.env(p.Args)
	case "go":
		return nil, h.goCommand(ctx, p.Args)
	case "help":
		fmt.Fprint(h.Stdout, Help())
		return nil, nil
	}
	return nil, usageError("Line magic function `%" + p.Name + "` not found.")
}

// timed runs f and, unless it fails, prints the CPU and wall time it took
// as IPython's %time does. CPU time is the engine process's, as IPython
// counts its own (a shell command's or a child process's is not in it).
func (h *Host) timed(f func() *language.Error) *language.Error {
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	if err := f(); err != nil {
		return err
	}
	wall := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	user := tvSeconds(after.Utime) - tvSeconds(before.Utime)
	sys := tvSeconds(after.Stime) - tvSeconds(before.Stime)
	fmt.Fprintf(h.Stdout, "CPU times: user %s, sys: %s, total: %s\nWall time: %s\n",
		FormatTime(user), FormatTime(sys), FormatTime(user+sys), FormatTime(wall.Seconds()))
	return nil
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// FormatTime formats a duration in seconds as IPython's _format_time does:
// three significant digits in s, ms, µs or ns, and from a minute on
// "1min 5s", "2h 3min 1s".
func FormatTime(s float64) string {
	if s >= 60 {
		var parts []string
		left := s
		for _, u := range []struct {
			suffix string
			length float64
		}{{"d", 86400}, {"h", 3600}, {"min", 60}, {"s", 1}} {
			if v := math.Floor(left / u.length); v > 0 {
				left = math.Mod(left, u.length)
				parts = append(parts, fmt.Sprintf("%d%s", int64(v), u.suffix))
			}
			if left < 1 {
				break
			}
		}
		return strings.Join(parts, " ")
	}
	units := []string{"s", "ms", "µs", "ns"}
	order := 3
	if s > 0 {
		order = min(-int(math.Floor(math.Floor(math.Log10(s))/3)), 3)
	}
	v := s * math.Pow(1000, float64(order))
	if r, _ := strconv.ParseFloat(fmt.Sprintf("%.3g", v), 64); r >= 1000 && order > 0 {
		// 999.9996 µs rounds to 1000: say 1 ms, not IPython's "1e+03 µs".
		order--
		v = s * math.Pow(1000, float64(order))
	}
	return fmt.Sprintf("%.3g %s", v, units[order])
}

// env is %env: with no argument it lists the environment (values of names
// that look like secrets hidden, as IPython does), with a name it shows
// one, with NAME=value or NAME value it sets it in the engine process, so
// that later cells, shell lines and child processes see it. $NAME in the
// value is expanded, as a shell would (%env PATH=$PATH:/opt/bin).
func (h *Host) env(args string) *language.Error {
	if args == "" {
		vars := os.Environ()
		sort.Strings(vars)
		var b strings.Builder
		for _, kv := range vars {
			name, value, _ := strings.Cut(kv, "=")
			low := strings.ToLower(name)
			for _, s := range []string{"key", "token", "secret", "password"} {
				if strings.Contains(low, s) {
					value = "<hidden>"
				}
			}
			fmt.Fprintf(&b, "%s=%s\n", name, value)
		}
		fmt.Fprint(h.Stdout, b.String())
		return nil
	}
	name, value, set := args, "", false
	if i := strings.IndexAny(args, "= \t"); i >= 0 {
		rest := strings.TrimSpace(args[i:])
		rest, _ = strings.CutPrefix(rest, "=")
		name, value, set = args[:i], strings.TrimSpace(rest), true
	}
	if !set {
		v, ok := os.LookupEnv(name)
		if !ok {
			return usageError("Environment does not have key: " + name)
		}
		fmt.Fprintln(h.Stdout, v)
		return nil
	}
	if name == "" || strings.ContainsAny(name, "=\x00") {
		return usageError("%env: usage: %env NAME=value, or %env NAME value")
	}
	value = os.ExpandEnv(value)
	if err := os.Setenv(name, value); err != nil {
		return usageError("%env: " + err.Error())
	}
	if h.EnvChanged != nil {
		h.EnvChanged()
	}
	fmt.Fprintf(h.Stdout, "env: %s=%s\n", name, value)
	return nil
}

// GoGetArgs returns the queries of a %go magic's arguments when they are
// `get QUERY…` (the only %go there is).
func GoGetArgs(args string) ([]string, bool) {
	f := strings.Fields(args)
	if len(f) < 2 || f[0] != "get" {
		return nil, false
	}
	return f[1:], true
}

// goCommand is %go: only `%go get module@version…` for now.
func (h *Host) goCommand(ctx context.Context, args string) *language.Error {
	queries, ok := GoGetArgs(args)
	if !ok {
		return usageError("usage: %go get module@version …")
	}
	if h.GoGet != nil {
		return h.GoGet(ctx, queries)
	}
	msg := "%go get runs in the kernel, which builds engines with modules; this engine was started without it (goproc grade offers only the modules the source notebook imports), so " + strings.Join(queries, " ") + " was not added."
	return &language.Error{Name: "NotImplementedError", Value: msg, Traceback: []string{"NotImplementedError: " + msg}}
}

// shell runs a command with /bin/sh -c in the working directory, its
// output going straight into the cell. Interrupting the cell ends it (and
// what it started): SIGTERM to its process group, then SIGKILL. SIGINT
// would not do: the engine ignores it, and so do the processes it starts.
// A non-zero exit is shown on stderr but does not fail the cell, as in
// IPython.
func (h *Host) shell(ctx context.Context, command string) *language.Error {
	if command == "" {
		return nil
	}
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stdout, cmd.Stderr = h.Stdout, h.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		msg := "!" + command + ": " + err.Error()
		return &language.Error{Name: "ShellError", Value: msg, Traceback: []string{"ShellError: " + msg}}
	}
	pgid := cmd.Process.Pid
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(500 * time.Millisecond):
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
	}()
	err := cmd.Wait()
	close(done)
	<-stopped
	if ctx.Err() != nil {
		return h.Interrupted()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(h.Stderr, "Command '%s' died with signal %d (%v).\n", command, int(ws.Signal()), ws.Signal())
		} else {
			fmt.Fprintf(h.Stderr, "Command '%s' returned non-zero exit status %d.\n", command, exit.ExitCode())
		}
	} else if err != nil {
		fmt.Fprintf(h.Stderr, "Command '%s': %v\n", command, err)
	}
	return nil
}
