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
	"github.com/goproc/goproc/kernel/sandbox"
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
	// Budget bounds the time all of a submission's own cells may take
	// together; the cells it does not reach are not run and their tests
	// score 0. 0 means none.
	Budget time.Duration
}

// DefaultLimits are the limits goproc grade uses unless told otherwise.
var DefaultLimits = Limits{
	CellTimeout:  30 * time.Second,
	Grace:        10 * time.Second,
	OutputLimit:  1 << 20,
	MemoryLimit:  4 << 30,
	MaxProcesses: 64,
	Budget:       5 * time.Minute,
}

// Names of the errors the grader gives cells it had to stop.
const (
	ErrNameOutputLimit = "OutputLimitExceeded"
	ErrNameEngineStart = "EngineStartError"
	ErrNameEngineHung  = "EngineHung"
)

// Starter starts a fresh engine for one submission.
type Starter func(ctx context.Context) (language.Engine, error)

// runSetup is how one submission's cells are run.
type runSetup struct {
	// student starts the engine that runs the submission's cells.
	student Starter
	// verifier starts the engine that runs test cells which only read
	// outputs; nil runs every test in the student's engine.
	verifier Starter
	// keepVerifier leaves the verifier running at the end, for the next
	// submission.
	keepVerifier bool
	plan         testPlan
	// reservedDeclared are reserved names the submission declares: the
	// in-process tests that rely on them are not run.
	reservedDeclared []string
	// box is the submission's sandbox, nil when it has none.
	box *sandbox.Sandbox
	// mirror is where the student's engine finds the record of its own
	// cells, for in-process tests ("" for none).
	mirror string
	// isTest reports whether a grade_id is a test cell's.
	isTest func(gradeID string) bool
	// known are the source's grade_ids: only their cells are recorded.
	known map[string]bool
	// budget bounds the time of the submission's own cells (0: none).
	budget time.Duration
}

// Names of errors the grader gives cells it would not run.
const (
	ErrNameBudget   = "BudgetExceeded"
	ErrNameReserved = "ReservedName"
)

// execute runs the code cells of nb in order with nbexec, as nbgrader does
// (errors do not stop the run), filling in their outputs. Test cells run
// where the setup's plan says. After each cell with a grade_id it rewrites
// the record at recordPath, which the verifier's runtime/grade reads. It
// returns how writes were confined, as the engine reported it.
func execute(ctx context.Context, nb *notebook.Notebook, setup runSetup, lim Limits, recordPath string) (string, error) {
	rec, err := newRecorderAt(recordPath)
	if err != nil {
		return "", err
	}
	defer rec.Close()
	rec.known, rec.maxSource = setup.known, lim.OutputLimit
	if setup.mirror != "" {
		if err := rec.mirrorTo(setup.mirror, setup.isTest); err != nil {
			return "", err
		}
	}
	eng := &guardedEngine{start: setup.student, lim: lim}
	defer eng.Close()
	r := &router{student: eng, setup: setup, imported: map[string]bool{}}
	if setup.verifier != nil {
		r.verifier = &guardedEngine{start: setup.verifier, lim: lim}
		if !setup.keepVerifier {
			defer r.verifier.Close()
		}
	}
	if setup.budget > 0 {
		r.deadline = time.Now().Add(setup.budget)
	}
	var mark sandbox.Mark
	// Processes that did something in an earlier cell, for the engine
	// whose programs (pids) are kernel: a process first put to work in a
	// cell (a worker started ahead, idle until then) is that cell's, one
	// that worked before (a child an earlier answer left running) is not.
	used := map[int]bool{}
	kernel := ""
	var gapFrom *sandbox.Mark
	_, err = nbexec.Run(ctx, r, nb, nbexec.Options{
		Timeout:        lim.CellTimeout,
		AllowErrors:    true,
		MaxOutputBytes: lim.OutputLimit,
		OnCellStart: func(c nbexec.CellInfo) {
			r.setCell(c.Cell)
			if setup.box != nil {
				if gapFrom == nil {
					mark = setup.box.Mark()
					return
				}
				// What ran between cells (tests in the verifier, the
				// grader's own work) belongs to no cell: it has worked.
				var gap sandbox.Span
				gap, mark = setup.box.Next(*gapFrom)
				for _, p := range append(gap.Processes, gap.Active...) {
					used[p] = true
				}
			}
		},
		OnCellDone: func(cr nbexec.CellReport) {
			if cr.Status == nbexec.StatusSkipped {
				return
			}
			flooded := r.flooded()
			if flooded {
				markFlooded(cr.Cell, lim.OutputLimit)
			}
			var procs *grade.Processes
			if setup.box != nil && !r.ranInVerifier() {
				sp, end := setup.box.Next(mark)
				if sp.Observed {
					if k := fmt.Sprint(sp.Programs); k != kernel {
						// A new engine, a new pid namespace.
						kernel, used = k, map[int]bool{}
					}
					procs = &grade.Processes{Started: sp.Processes, Active: sp.Active, Kernel: sp.Programs, Unidentified: sp.Unidentified}
					for _, p := range sp.Active {
						if !used[p] {
							procs.Fresh = append(procs.Fresh, p)
						}
					}
					for _, p := range append(sp.Processes, sp.Active...) {
						used[p] = true
					}
				}
				gapFrom = &end
			}
			rec.RecordProcesses(cr.Cell, flooded || cr.DroppedBytes > 0, procs)
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

// router sends each cell to the engine that must run it: the submission's
// cells and in-process tests to the student's engine, other tests to the
// verifier. nbexec runs one cell at a time, so the cell being run is the
// one OnCellStart named.
type router struct {
	student  *guardedEngine
	verifier *guardedEngine
	setup    runSetup
	deadline time.Time
	imported map[string]bool // imports already run in the verifier

	mu   sync.Mutex
	cell *notebook.Cell
	last *guardedEngine
}

var _ language.Engine = (*router)(nil)

func (r *router) setCell(c *notebook.Cell) {
	r.mu.Lock()
	r.cell = c
	r.mu.Unlock()
}

func (r *router) flooded() bool {
	r.mu.Lock()
	last := r.last
	r.mu.Unlock()
	return last != nil && last.flooded()
}

func (r *router) ranInVerifier() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last != nil && r.last == r.verifier
}

func errorResult(name, value string) language.ExecuteResult {
	e := &language.Error{Name: name, Value: value}
	e.Traceback = []string{name + ": " + value}
	return language.ExecuteResult{Status: "error", Error: e}
}

func (r *router) Execute(ctx context.Context, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	r.mu.Lock()
	c := r.cell
	r.mu.Unlock()
	// A test is a cell whose grade_id is one of the source's tests: the
	// restorer replaced it by the source's copy and dropped duplicates. A
	// cell a submission marked as a test itself is the submission's code.
	m, _ := MetaOf(c)
	isTest := c != nil && m.GradeID != "" && r.setup.plan.tests[m.GradeID]
	if isTest && !r.setup.plan.inProcess[m.GradeID] && r.verifier != nil {
		r.use(r.verifier)
		if needs := r.setup.plan.imports[m.GradeID]; len(needs) > 0 {
			var specs []string
			for _, im := range needs {
				if !r.imported[im.String()] {
					specs = append(specs, im.String())
					r.imported[im.String()] = true
				}
			}
			if len(specs) > 0 {
				r.verifier.Execute(ctx, language.ExecuteRequest{Code: "import (\n\t" + strings.Join(specs, "\n\t") + "\n)"}, discard{})
			}
		}
		return r.verifier.Execute(ctx, req, out)
	}
	r.use(r.student)
	if isTest && len(r.setup.reservedDeclared) > 0 {
		return errorResult(ErrNameReserved, fmt.Sprintf("the submission declares %s, which this test relies on and submissions may not declare; the test was not run",
			strings.Join(r.setup.reservedDeclared, ", ")))
	}
	if !r.deadline.IsZero() {
		if !time.Now().Before(r.deadline) {
			return errorResult(ErrNameBudget, fmt.Sprintf("the submission used up its time budget (%v) before this cell, which was not run", r.setup.budget))
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, r.deadline)
		defer cancel()
		res := r.student.Execute(ctx, req, out)
		if res.Status != "ok" && !time.Now().Before(r.deadline) {
			return errorResult(ErrNameBudget, fmt.Sprintf("the submission used up its time budget (%v) in this cell, which was stopped", r.setup.budget))
		}
		return res
	}
	return r.student.Execute(ctx, req, out)
}

func (r *router) use(g *guardedEngine) {
	r.mu.Lock()
	r.last = g
	r.mu.Unlock()
}

func (r *router) Complete(ctx context.Context, code string, pos int) (language.CompleteResult, error) {
	return r.student.Complete(ctx, code, pos)
}

func (r *router) Inspect(ctx context.Context, code string, pos, level int) (language.InspectResult, error) {
	return r.student.Inspect(ctx, code, pos, level)
}

func (r *router) IsComplete(ctx context.Context, code string) (language.IsCompleteResult, error) {
	return r.student.IsComplete(ctx, code)
}

func (r *router) Info() language.Info { return language.GoInfo("") }

func (r *router) Restart(ctx context.Context) error { return r.student.Restart(ctx) }

func (r *router) Close() error {
	err := r.student.Close()
	if r.verifier != nil && !r.setup.keepVerifier {
		err = errors.Join(err, r.verifier.Close())
	}
	return err
}

// discard is an Output that keeps nothing.
type discard struct{}

func (discard) Stream(string, string)              {}
func (discard) Display(language.Display)           {}
func (discard) ClearOutput(bool)                   {}
func (discard) Input(string, bool) (string, error) { return "", errors.New("no input") }

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
	go func() { done <- capResult(eng.Execute(cellCtx, req, lo), g.lim.OutputLimit) }()
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
	res := errorResult(ErrNameEngineHung, why+", so its Go engine was killed: the notebook's state was reset")
	res.EngineRestarted = true
	return res
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

// maxEventBytes caps one event from a submission's engine: a reply holds
// at most a capped result and a capped error, and a little JSON.
func maxEventBytes(outputLimit int) int { return 2*outputLimit + 1<<20 }

// capResult cuts what a cell's reply carries besides its output (the
// error's message and traceback, the result's representations) to the
// output limit, as printed output is: a panic with a 30 MB message costs
// the grader no more than 30 MB of prints would.
func capResult(res language.ExecuteResult, limit int) language.ExecuteResult {
	if limit <= 0 {
		return res
	}
	cut := func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return strings.ToValidUTF8(s[:n], "") + fmt.Sprintf("… (%d more bytes not kept)", len(s)-n)
	}
	if e := res.Error; e != nil {
		c := *e
		c.Value = cut(c.Value, limit/4)
		left := limit / 2
		var tb []string
		for _, l := range c.Traceback {
			if left <= 0 {
				tb = append(tb, fmt.Sprintf("… (%d more lines not kept)", len(c.Traceback)-len(tb)))
				break
			}
			l = cut(l, left)
			left -= len(l)
			tb = append(tb, l)
		}
		c.Traceback = tb
		res.Error = &c
	}
	if res.Result != nil {
		if b, _ := json.Marshal(res.Result); len(b) > limit {
			res.Result = language.MimeBundle{"text/plain": fmt.Sprintf("(the cell's value was %d bytes, more than the output limit; not kept)", len(b))}
		}
	}
	return res
}
