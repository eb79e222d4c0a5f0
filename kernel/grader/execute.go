package grader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/nbexec"
	"github.com/goproc/goproc/kernel/notebook"
	"github.com/goproc/goproc/runtime/grade"
)

// Limits bound what one submission may do.
type Limits struct {
	// CellTimeout bounds each cell (nbgrader's default is 30 s). A cell that
	// runs longer is interrupted and ends in a CellTimeoutError.
	CellTimeout time.Duration
	// Grace is how long past its timeout a cell may take before the grader
	// gives up on its engine, kills it and runs the next cells in a fresh one.
	Grace time.Duration
	// OutputLimit caps what one cell may print, in bytes. A cell that prints
	// more is stopped and ends in an OutputLimitExceeded error.
	OutputLimit int
	// MemoryLimit caps the address space of the engine and each of its
	// child processes, in bytes (0: no cap).
	MemoryLimit uint64
	// MaxProcesses caps the child processes one submission may start.
	MaxProcesses int
}

// DefaultLimits are the limits goproc grade uses unless told otherwise.
var DefaultLimits = Limits{
	CellTimeout:  30 * time.Second,
	Grace:        10 * time.Second,
	OutputLimit:  1 << 20,
	MemoryLimit:  4 << 30,
	MaxProcesses: 64,
}

// Names of the errors the grader gives cells it had to stop.
const (
	ErrNameOutputLimit = "OutputLimitExceeded"
	ErrNameEngineStart = "EngineStartError"
	ErrNameEngineHung  = "EngineHung"
)

// Starter starts a fresh engine for one submission.
type Starter func(ctx context.Context) (language.Engine, error)

// execute runs the code cells of nb in order with nbexec, as nbgrader does
// (errors do not stop the run), filling in their outputs. After each cell
// with a grade_id it rewrites the record at recordPath for runtime/grade.
// It returns how writes were confined, as the engine reported it.
func execute(ctx context.Context, nb *notebook.Notebook, start Starter, lim Limits, recordPath string) (string, error) {
	rec, err := newRecorderAt(recordPath)
	if err != nil {
		return "", err
	}
	defer rec.Close()
	eng := &guardedEngine{start: start, lim: lim}
	defer eng.Close()
	_, err = nbexec.Run(ctx, eng, nb, nbexec.Options{
		Timeout:        lim.CellTimeout,
		AllowErrors:    true,
		MaxOutputBytes: lim.OutputLimit,
		OnCellDone: func(r nbexec.CellReport) {
			if r.Status == nbexec.StatusSkipped {
				return
			}
			flooded := eng.flooded()
			if flooded {
				markFlooded(r.Cell, lim.OutputLimit)
			}
			rec.Record(r.Cell, flooded || r.DroppedBytes > 0)
		},
	})
	if err != nil && !errors.Is(err, nbexec.ErrInterrupted) {
		return eng.confinement(), fmt.Errorf("running the notebook: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return eng.confinement(), err
	}
	return eng.confinement(), rec.Err()
}

// recordOf is what runtime/grade sees of an executed cell.
func recordOf(c *notebook.Cell, truncated bool) grade.Cell {
	gc := grade.Cell{Source: string(c.Source), Truncated: truncated}
	var text strings.Builder
	for _, o := range c.Outputs {
		switch o.OutputType {
		case "stream":
			if o.Text != nil {
				text.WriteString(string(*o.Text))
			}
		case "execute_result":
			gc.Result = plainText(o.Data)
		case "error":
			gc.Error = o.EName + ": " + o.EValue
		}
	}
	gc.Text = text.String()
	return gc
}

// markFlooded replaces the error of a cell stopped for printing too much
// (an interruption, as the engine saw it) by one that says so.
func markFlooded(c *notebook.Cell, limit int) {
	e := &notebook.Output{OutputType: "error", EName: ErrNameOutputLimit,
		EValue: fmt.Sprintf("the cell printed more than %s and was stopped", byteSize(limit))}
	e.Traceback = []string{e.EName + ": " + e.EValue}
	for i, o := range c.Outputs {
		if o.OutputType == "error" {
			c.Outputs[i] = e
			return
		}
	}
	c.Outputs = append(c.Outputs, e)
}

// guardedEngine wraps the engines of one submission. It starts an engine
// on first use; it stops a cell as soon as it has printed more than the
// output limit; and if an engine does not return from a cell well past the
// cell's timeout, it kills that engine and starts a fresh one for the next
// cell, so nothing a submission does can stall the grader.
type guardedEngine struct {
	start Starter
	lim   Limits

	mu       sync.Mutex
	eng      language.Engine
	confined string
	over     bool // the last cell exceeded the output limit
}

var _ language.Engine = (*guardedEngine)(nil)

func (g *guardedEngine) engine(ctx context.Context) (language.Engine, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.eng != nil {
		return g.eng, nil
	}
	e, err := g.start(ctx)
	if err != nil {
		return nil, err
	}
	g.eng = e
	if c, ok := e.(interface{ Confinement() string }); ok && g.confined == "" {
		g.confined = c.Confinement()
	}
	return e, nil
}

func (g *guardedEngine) confinement() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.confined
}

func (g *guardedEngine) flooded() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.over
}

func (g *guardedEngine) Execute(ctx context.Context, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	g.mu.Lock()
	g.over = false
	g.mu.Unlock()
	eng, err := g.engine(ctx)
	if err != nil {
		return language.ExecuteResult{Status: "error", Error: &language.Error{Name: ErrNameEngineStart,
			Value: "the Go engine could not be started: " + err.Error(), Traceback: []string{err.Error()}}}
	}
	cellCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	flood := make(chan struct{})
	lo := &limitedOutput{Output: out, limit: g.lim.OutputLimit, exceeded: func() {
		g.mu.Lock()
		g.over = true
		g.mu.Unlock()
		cancel()
		close(flood)
	}}
	done := make(chan language.ExecuteResult, 1)
	go func() { done <- eng.Execute(cellCtx, req, lo) }()
	hard := time.NewTimer(g.lim.CellTimeout + g.lim.Grace)
	defer hard.Stop()
	var floodKill <-chan time.Time
	why := "the cell did not stop after its time ran out"
wait:
	for {
		select {
		case res := <-done:
			return res
		case <-flood:
			// Interrupted; what it already wrote may take long to drain,
			// so give it a moment, then kill it.
			flood = nil
			floodKill = time.After(floodGrace)
		case <-floodKill:
			why = "the cell printed more than its limit and did not stop"
			break wait
		case <-hard.C:
			break wait
		}
	}
	// The engine did not give up the cell: kill it.
	lo.close()
	g.mu.Lock()
	g.eng = nil
	g.mu.Unlock()
	eng.Close()
	e := &language.Error{Name: ErrNameEngineHung, Value: why + ", so its Go engine was killed: the notebook's state was reset"}
	e.Traceback = []string{e.Name + ": " + e.Value}
	return language.ExecuteResult{Status: "error", Error: e, EngineRestarted: true}
}

// floodGrace is how long a cell that exceeded its output limit may take to
// stop after the interrupt before its engine is killed.
const floodGrace = 500 * time.Millisecond

func (g *guardedEngine) current(ctx context.Context) (language.Engine, error) { return g.engine(ctx) }

func (g *guardedEngine) Complete(ctx context.Context, code string, pos int) (language.CompleteResult, error) {
	e, err := g.current(ctx)
	if err != nil {
		return language.CompleteResult{}, err
	}
	return e.Complete(ctx, code, pos)
}

func (g *guardedEngine) Inspect(ctx context.Context, code string, pos, level int) (language.InspectResult, error) {
	e, err := g.current(ctx)
	if err != nil {
		return language.InspectResult{}, err
	}
	return e.Inspect(ctx, code, pos, level)
}

func (g *guardedEngine) IsComplete(ctx context.Context, code string) (language.IsCompleteResult, error) {
	e, err := g.current(ctx)
	if err != nil {
		return language.IsCompleteResult{Status: "unknown"}, err
	}
	return e.IsComplete(ctx, code)
}

func (g *guardedEngine) Info() language.Info { return language.GoInfo("") }

func (g *guardedEngine) Restart(ctx context.Context) error {
	g.mu.Lock()
	e := g.eng
	g.mu.Unlock()
	if e == nil {
		return nil
	}
	return e.Restart(ctx)
}

func (g *guardedEngine) Close() error {
	g.mu.Lock()
	e := g.eng
	g.eng = nil
	g.mu.Unlock()
	if e == nil {
		return nil
	}
	return e.Close()
}

// limitedOutput counts what a cell prints and calls exceeded once, when it
// passes the limit; output after close is dropped.
type limitedOutput struct {
	language.Output
	limit    int
	exceeded func()

	mu     sync.Mutex
	n      int
	over   bool
	closed bool
}

func (l *limitedOutput) count(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.n += n
	if l.limit > 0 && l.n > l.limit && !l.over {
		l.over = true
		go l.exceeded()
	}
	return true
}

func (l *limitedOutput) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

func (l *limitedOutput) Stream(name, text string) {
	if l.count(len(text)) {
		l.Output.Stream(name, text)
	}
}

func (l *limitedOutput) Display(d language.Display) {
	b, _ := json.Marshal(d.Data)
	if l.count(len(b)) {
		l.Output.Display(d)
	}
}

// plainText returns the text/plain entry of a MIME bundle.
func plainText(data map[string]any) string {
	switch v := data["text/plain"].(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, p := range v {
			s, _ := p.(string)
			b.WriteString(s)
		}
		return b.String()
	}
	return ""
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
