package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/magic"
	"github.com/goproc/goproc/kernel/modules"
	"github.com/goproc/goproc/runtime/multiprocessing"
)

// A cell that imports a module package the engine does not have makes the
// client build (or take from the cache) an engine binary that has it, with
// every module package the notebook imported before (kernel/modules), and
// move the notebook onto it: the new engine runs the old one's
// declarations, as a multiprocessing child does, and takes its globals'
// values. Then the cell runs there. Restarts, spares, children and pool
// workers use the new binary from then on.

// streamWriter writes to a cell's stream.
type streamWriter struct {
	out  language.Output
	name string
}

func (w streamWriter) Write(b []byte) (int, error) {
	if w.out != nil {
		w.out.Stream(w.name, string(b))
	}
	return len(b), nil
}

// modulesFor prepares the engine for a cell: it runs the cell's %go get
// lines (which the client owns, since they change the engine) and blanks
// them, and moves the notebook onto an engine with the module packages the
// cell imports. It returns the code to run, or a result that ends the cell.
func (c *Client) modulesFor(ctx context.Context, code string, out language.Output) (string, *language.ExecuteResult) {
	progress := streamWriter{out, "stderr"}
	parsed, perr := magic.Parse(code)
	if perr != nil {
		return code, nil // the engine reports it
	}
	if parsed != nil {
		lines := strings.Split(code, "\n")
		for _, p := range parsed.Parts {
			if p.Kind != magic.Magic || p.Name != "go" {
				continue
			}
			queries, ok := magic.GoGetArgs(p.Args)
			if !ok {
				continue // the engine's %go says how to use it
			}
			if err := c.goGet(ctx, queries, out); err != nil {
				return code, err
			}
			lines[p.Line-1] = ""
		}
		code = strings.Join(lines, "\n")
	}
	var want []string
	for _, p := range modules.Imports(code) { // magic and shell lines are not imports
		if !c.has(p) {
			want = append(want, p)
		}
	}
	if len(want) == 0 {
		return code, nil
	}
	var ahead []string
	for _, p := range c.opts.Imports {
		if !c.has(p) && !slices.Contains(want, p) {
			ahead = append(ahead, p)
		}
	}
	if len(ahead) > 0 {
		// The whole notebook's packages at once; if one of the later
		// cells' cannot be had, that cell will say so, not this one.
		if err := c.moveTo(ctx, append(append(c.packages(), want...), ahead...), progress, out); err == nil {
			return code, nil
		}
		c.opts.Imports = nil
	}
	if err := c.moveTo(ctx, append(c.packages(), want...), progress, out); err != nil {
		return code, err
	}
	return code, nil
}

// goGet runs %go get: it changes the notebook's pins, and when a module the
// engine has moved, moves the notebook onto an engine with the new
// versions.
func (c *Client) goGet(ctx context.Context, args []string, out language.Output) *language.ExecuteResult {
	changed, err := c.opts.Modules.Get(ctx, args, streamWriter{out, "stderr"})
	if err != nil {
		r := errorResult("ModuleError", "%go get "+strings.Join(args, " ")+": "+err.Error())
		return &r
	}
	if len(changed) == 0 {
		streamWriter{out, "stdout"}.Write([]byte("go get: the pins already say " + strings.Join(args, " ") + "\n"))
		return nil
	}
	streamWriter{out, "stdout"}.Write([]byte("go get: " + strings.Join(changed, ", ") + "\n"))
	moved := false
	for _, m := range changed {
		path, _, _ := strings.Cut(m, "@")
		for _, p := range c.packages() {
			if p == path || strings.HasPrefix(p, path+"/") {
				moved = true
			}
		}
	}
	if !moved {
		return nil
	}
	return c.moveTo(ctx, c.packages(), streamWriter{out, "stderr"}, out)
}

// has reports whether the engine has the module package p built in.
func (c *Client) has(p string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.modulePkgs, p)
}

func (c *Client) packages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.modulePkgs...)
}

// moveTo builds (or finds) the engine with pkgs and moves the notebook
// onto it.
func (c *Client) moveTo(ctx context.Context, pkgs []string, progress streamWriter, out language.Output) *language.ExecuteResult {
	eng, err := c.opts.Modules.Build(ctx, pkgs, progress)
	if err != nil {
		r := errorResult("ModuleError", err.Error())
		return &r
	}
	old := c.current()
	c.mu.Lock()
	oldBinary := c.opts.Binary
	c.opts.Binary = eng.Binary
	c.mu.Unlock()
	keepOld := func() {
		// The notebook stays where it was, on the binary it had.
		c.mu.Lock()
		c.opts.Binary = oldBinary
		c.mu.Unlock()
	}
	next, err := c.startProcess(ctx)
	if err != nil {
		keepOld()
		r := errorResult("ModuleError", "start the engine with "+strings.Join(pkgs, ", ")+": "+err.Error())
		return &r
	}
	note, err := c.carryOver(ctx, old, next)
	if err != nil {
		next.discard()
		keepOld()
		r := errorResult("ModuleError", "move the notebook onto the engine with "+strings.Join(pkgs, ", ")+": "+err.Error())
		return &r
	}
	c.mu.Lock()
	c.proc = next
	c.modulePkgs = eng.Packages
	c.mu.Unlock()
	if old != nil {
		old.discard()
	}
	// The spare runs the old binary: replace it.
	select {
	case p := <-c.spare:
		p.discard()
	default:
	}
	if !c.opts.NoSpare {
		go c.refillSpare()
	}
	if note != "" {
		progress.Write([]byte(note + "\n"))
	}
	return nil
}

// exported is the state an engine hands over when the notebook moves.
type exported struct {
	Chunks  []string                   `json:"chunks"`
	Globals map[string]json.RawMessage `json:"globals"`
	// Lost are globals JSON cannot carry (functions, channels, pools…):
	// they start again from their declarations.
	Lost []string `json:"lost,omitempty"`
	// Checked is what the type checker knows of the notebook, as Go
	// source (typecheck.Checker.Source).
	Checked string `json:"checked,omitempty"`
}

// carryOver runs old's declarations in next, silently, and gives next
// old's globals' values. It returns a note for the user about what did not
// come across.
func (c *Client) carryOver(ctx context.Context, old, next *process) (string, error) {
	if old == nil || !old.alive() {
		return "", nil
	}
	ev, err := old.call(ctx, request{Op: "export"})
	if err != nil {
		return "", fmt.Errorf("read the notebook's state: %w", err)
	}
	if ev.Error != "" || ev.Export == nil {
		return "", fmt.Errorf("read the notebook's state: %s", ev.Error)
	}
	aev, err := next.call(ctx, request{Op: "adopt", Export: ev.Export})
	if err != nil {
		return "", fmt.Errorf("rebuild the notebook: %w", err)
	}
	var notes []string
	if len(ev.Export.Lost) > 0 {
		sort.Strings(ev.Export.Lost)
		notes = append(notes, "goproc: moved the notebook onto the engine with the new packages; "+
			strings.Join(ev.Export.Lost, ", ")+" could not be carried over (functions, channels and running processes cannot) and start again from their declarations")
	}
	if aev.Error != "" {
		notes = append(notes, "goproc: moving the notebook, some of it did not rebuild: "+aev.Error)
	}
	return strings.Join(notes, "\n"), nil
}

// export is the notebook's state for another engine: its declarations, in
// order, and its globals' values.
func (in *Interpreter) export() *exported {
	e := &exported{Chunks: in.Program().Chunks, Globals: in.Globals()}
	if c := in.checker(); c != nil {
		e.Checked = c.Source()
	}
	for name, v := range in.safeGlobals() {
		if strings.HasPrefix(name, "__") || !v.IsValid() || v.Kind() == reflect.Func {
			continue
		}
		if _, ok := e.Globals[name]; !ok {
			e.Lost = append(e.Lost, name)
		}
	}
	return e
}

// adopt rebuilds another engine's notebook here, as a multiprocessing
// child does (its declarations, then its globals' values), and gives the
// type checker what the other one knew.
func (in *Interpreter) adopt(e *exported) error {
	if err := in.Replay(multiprocessing.Program{Chunks: e.Chunks}); err != nil {
		return err
	}
	in.replay.mu.Lock()
	all := map[int]bool{}
	for i := range in.replay.chunks {
		all[i] = true
	}
	err := in.evalChunks(all)
	in.replay.mu.Unlock()
	if err != nil {
		return err
	}
	if c := in.checker(); c != nil {
		c.Restore(e.Checked)
	}
	return in.setGlobals(e.Globals)
}
