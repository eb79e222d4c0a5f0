// Package nbexec executes a Jupyter notebook through a language.Engine, cell
// by cell, the way nbclient does for `jupyter nbconvert --execute`: outputs
// are collected into nbformat outputs (consecutive stream text merged,
// display updates applied to earlier outputs, clear_output honoured),
// execution counts and metadata.execution timings are recorded, and
// execution stops at the first error unless errors are allowed.
//
// Callbacks report each cell's start, every output as it is kept, and each
// cell's end, so a terminal runner can show exactly what the saved notebook
// will hold (see PlainText).
package nbexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/notebook"
)

// Tags with a meaning to the executor, as in nbclient.
const (
	TagSkip            = "skip-execution"   // the cell is not run
	TagRaisesException = "raises-exception" // the cell's error does not stop the run
)

// Options control a run. The zero value runs every cell with no time limit,
// keeps all output and stops at the first error.
type Options struct {
	// Timeout limits each cell's run; when it expires the cell is
	// interrupted and fails with a timeout error. 0 means no limit.
	Timeout time.Duration
	// AllowErrors keeps running after a cell fails; the error is kept as the
	// cell's error output either way.
	AllowErrors bool
	// MaxOutputBytes keeps at most this many bytes of output per cell
	// (stream text, plus the JSON size of displays and results); the rest
	// is counted and replaced by a note "… N more bytes not kept". Error
	// outputs are always kept. 0 means no limit.
	MaxOutputBytes int
	// OnCellStart is called before a cell runs.
	OnCellStart func(c CellInfo)
	// OnOutput is called for every output as it is kept, in order.
	OnOutput func(c CellInfo, ev Event)
	// OnCellDone is called after each cell that was run or skipped by tag.
	OnCellDone func(r CellReport)
	// Input answers a cell's request for input; nil makes such requests
	// fail, as nbclient does.
	Input func(prompt string, password bool) (string, error)
	// Now returns the time; nil means time.Now. Tests set it.
	Now func() time.Time
}

// CellInfo identifies a cell of the run.
type CellInfo struct {
	// Index is the cell's position in the notebook (0-based).
	Index int
	// Ordinal is the cell's position among the cells that run (1-based),
	// and Total how many cells run; both are 0 for a skipped cell.
	Ordinal, Total int
	Cell           *notebook.Cell
}

// Name names the cell for people: "cell 4" is the notebook's fourth cell,
// counting Markdown cells, as it appears in the file and in JupyterLab.
func (c CellInfo) Name() string { return fmt.Sprintf("cell %d", c.Index+1) }

// EventKind says what an Event is.
type EventKind int

// Event kinds.
const (
	EventStream  EventKind = iota // text on stdout or stderr
	EventDisplay                  // a new display_data output
	EventUpdate                   // update_display_data: earlier outputs were replaced
	EventClear                    // clear_output (Wait: deferred until the next output)
	EventResult                   // execute_result
	EventError                    // error
)

// Event is one output of a running cell, as it was kept.
type Event struct {
	Kind EventKind
	// Name and Text of a stream event: the text appended to the cell's
	// outputs (after any truncation).
	Name, Text string
	// Output is the output added (display, result, error) or the new
	// content of the updated outputs (update).
	Output *notebook.Output
	// Wait of a clear event.
	Wait bool
}

// Status of a cell in a report.
const (
	StatusOK          = "ok"
	StatusError       = "error"
	StatusTimeout     = "timeout"
	StatusInterrupted = "interrupted"
	StatusSkipped     = "skipped"
)

// CellReport is the outcome of one cell.
type CellReport struct {
	CellInfo
	// Status is one of the Status constants.
	Status         string
	Duration       time.Duration
	ExecutionCount int
	// Error is the cell's error, for the error, timeout and interrupted
	// statuses.
	Error *language.Error
	// DroppedBytes counts output not kept because of MaxOutputBytes.
	DroppedBytes int64
	// EngineRestarted reports that the engine died in this cell; the
	// notebook's state was lost.
	EngineRestarted bool
}

// Report is the outcome of a run.
type Report struct {
	// Cells holds one report per cell that ran or was skipped by tag, in order.
	Cells []CellReport
	// Executed counts the cells that ran.
	Executed int
}

// CellError is returned when a cell fails and errors are not allowed, or when
// the run is interrupted.
type CellError struct {
	Report CellReport
}

func (e *CellError) Error() string {
	r := e.Report
	switch r.Status {
	case StatusTimeout:
		return r.Error.Value
	case StatusInterrupted:
		return fmt.Sprintf("%s was interrupted", r.Name())
	}
	msg := fmt.Sprintf("%s failed", r.Name())
	if r.Error != nil {
		msg += ": " + firstLine(r.Error.Name+": "+r.Error.Value)
	}
	if r.EngineRestarted {
		msg += " (the Go engine crashed and was restarted)"
	}
	return msg
}

// ErrInterrupted is wrapped by the CellError of a run whose context was
// cancelled.
var ErrInterrupted = errors.New("interrupted")

func (e *CellError) Unwrap() error {
	if e.Report.Status == StatusInterrupted {
		return ErrInterrupted
	}
	return nil
}

// Run executes nb's code cells in order through eng, storing outputs,
// execution counts and timings in nb. Cells that do not run keep what they
// had, as with nbclient. It returns a *CellError for a failed cell (unless
// errors are allowed) and for an interrupted run; the report covers the
// cells run so far in every case.
func Run(ctx context.Context, eng language.Engine, nb *notebook.Notebook, opts Options) (*Report, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	setLanguageInfo(nb, eng.Info())

	total := 0
	for _, c := range nb.Cells {
		if runnable(c) && !c.HasTag(TagSkip) {
			total++
		}
	}
	rep := &Report{}
	x := &executor{opts: opts, now: now, displays: map[string][]*notebook.Output{}}
	count := 0
	for i, c := range nb.Cells {
		if !runnable(c) {
			continue
		}
		info := CellInfo{Index: i, Cell: c}
		if c.HasTag(TagSkip) {
			r := CellReport{CellInfo: info, Status: StatusSkipped}
			rep.Cells = append(rep.Cells, r)
			if opts.OnCellDone != nil {
				opts.OnCellDone(r)
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, &CellError{Report: CellReport{CellInfo: info, Status: StatusInterrupted,
				Error: &language.Error{Name: "Interrupted", Value: "the run was interrupted before this cell"}}}
		}
		count++
		info.Ordinal, info.Total = count, total
		r := x.runCell(ctx, eng, info, count)
		rep.Cells = append(rep.Cells, r)
		rep.Executed++
		if opts.OnCellDone != nil {
			opts.OnCellDone(r)
		}
		switch {
		case r.Status == StatusInterrupted:
			return rep, &CellError{Report: r}
		case r.Status != StatusOK && !opts.AllowErrors && !c.HasTag(TagRaisesException):
			return rep, &CellError{Report: r}
		}
	}
	return rep, nil
}

// runnable reports whether nbclient would send the cell to the kernel.
func runnable(c *notebook.Cell) bool {
	return c.CellType == "code" && strings.TrimSpace(string(c.Source)) != ""
}

func setLanguageInfo(nb *notebook.Notebook, info language.Info) {
	b, err := json.Marshal(info)
	if err != nil {
		return
	}
	var li map[string]any
	if json.Unmarshal(b, &li) != nil {
		return
	}
	for k, v := range li {
		if v == "" {
			delete(li, k)
		}
	}
	if nb.Metadata == nil {
		nb.Metadata = map[string]any{}
	}
	nb.Metadata["language_info"] = li
}

// executor holds state that spans cells: display ids may be updated from
// any later cell, as in nbclient.
type executor struct {
	opts     Options
	now      func() time.Time
	displays map[string][]*notebook.Output
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func (x *executor) runCell(ctx context.Context, eng language.Engine, info CellInfo, count int) CellReport {
	c := info.Cell
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	if x.opts.OnCellStart != nil {
		x.opts.OnCellStart(info)
	}
	start := x.now()
	// The keys nbclient records; there are no messages here, so busy and
	// execute_input are both the start.
	exec := map[string]any{
		"iopub.status.busy":   timestamp(start),
		"iopub.execute_input": timestamp(start),
	}
	c.Metadata["execution"] = exec
	n := count
	c.ExecutionCount = &n
	c.Outputs = nil

	col := &collector{x: x, info: info, cell: c, max: x.opts.MaxOutputBytes}
	cellCtx, cancel := ctx, context.CancelFunc(func() {})
	if x.opts.Timeout > 0 {
		cellCtx, cancel = context.WithTimeout(ctx, x.opts.Timeout)
	}
	res := eng.Execute(cellCtx, language.ExecuteRequest{
		Code:           string(c.Source),
		StoreHistory:   true,
		AllowStdin:     x.opts.Input != nil,
		ExecutionCount: count,
	}, col)
	timedOut := errors.Is(cellCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	end := x.now()
	exec["shell.execute_reply"] = timestamp(end)

	r := CellReport{CellInfo: info, Status: StatusOK, Duration: end.Sub(start), ExecutionCount: count,
		EngineRestarted: res.EngineRestarted}
	var errOut *language.Error
	switch {
	case res.Status == "ok":
	case timedOut:
		r.Status = StatusTimeout
		errOut = &language.Error{
			Name:  "CellTimeoutError",
			Value: fmt.Sprintf("%s did not finish within the %v limit per cell and was interrupted", info.Name(), x.opts.Timeout),
		}
		errOut.Traceback = []string{errOut.Name + ": " + errOut.Value}
	case ctx.Err() != nil:
		r.Status = StatusInterrupted
		errOut = res.Error
	default:
		r.Status = StatusError
		errOut = res.Error
	}
	if r.Status != StatusOK && errOut == nil {
		errOut = &language.Error{Name: "Error", Value: "the cell failed without saying why"}
	}
	r.Error = errOut
	col.finish(res, errOut)
	r.DroppedBytes = col.dropped
	exec["iopub.status.idle"] = timestamp(x.now())
	return r
}

// collector receives one cell's output from the engine and builds the cell's
// nbformat outputs.
type collector struct {
	x    *executor
	info CellInfo
	cell *notebook.Cell

	mu           sync.Mutex
	pendingClear bool
	max          int   // byte budget, 0: unlimited
	used         int   // bytes kept
	dropped      int64 // bytes not kept
	dropStream   string
	done         bool
}

var _ language.Output = (*collector)(nil)

func (c *collector) emit(ev Event) {
	if c.x.opts.OnOutput != nil {
		c.x.opts.OnOutput(c.info, ev)
	}
}

// applyClear performs a deferred clear_output before the next output.
func (c *collector) applyClear() {
	if c.pendingClear {
		c.pendingClear = false
		c.clearNow()
	}
}

func (c *collector) clearNow() {
	for _, o := range c.cell.Outputs {
		c.x.forget(o)
	}
	c.cell.Outputs = nil
}

// forget removes o from the display-id map (its cell was cleared).
func (x *executor) forget(o *notebook.Output) {
	for id, outs := range x.displays {
		kept := outs[:0]
		for _, p := range outs {
			if p != o {
				kept = append(kept, p)
			}
		}
		x.displays[id] = kept
	}
}

// admitText returns the part of text that fits the byte budget.
func (c *collector) admitText(name, text string) string {
	if c.max <= 0 {
		return text
	}
	if c.dropped > 0 {
		c.dropped += int64(len(text))
		return ""
	}
	room := c.max - c.used
	if len(text) <= room {
		c.used += len(text)
		return text
	}
	cut := room
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	if nl := strings.LastIndexByte(text[:cut], '\n'); nl >= 0 {
		cut = nl + 1
	}
	c.used += cut
	c.dropped += int64(len(text) - cut)
	c.dropStream = name
	return text[:cut]
}

// admitSize reports whether an output of size bytes fits the budget.
func (c *collector) admitSize(size int) bool {
	if c.max <= 0 {
		return true
	}
	if c.dropped == 0 && size <= c.max-c.used {
		c.used += size
		return true
	}
	c.dropped += int64(size)
	if c.dropStream == "" {
		c.dropStream = "stdout"
	}
	return false
}

func bundleSize(data map[string]any) int {
	b, err := json.Marshal(data)
	if err != nil {
		return 0
	}
	return len(b)
}

func (c *collector) Stream(name, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || text == "" {
		return
	}
	c.applyClear()
	if text = c.admitText(name, text); text == "" {
		return
	}
	c.appendStream(name, text)
}

// appendStream merges text into the last output when it is the same
// stream, as Jupyter front ends do.
func (c *collector) appendStream(name, text string) {
	outs := c.cell.Outputs
	if n := len(outs); n > 0 && outs[n-1].OutputType == "stream" && outs[n-1].Name == name && outs[n-1].Text != nil {
		*outs[n-1].Text += notebook.MultiString(text)
	} else {
		t := notebook.MultiString(text)
		c.cell.Outputs = append(outs, &notebook.Output{OutputType: "stream", Name: name, Text: &t})
	}
	c.emit(Event{Kind: EventStream, Name: name, Text: text})
}

func (c *collector) Display(d language.Display) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	data := map[string]any(d.Data)
	md := d.Metadata
	if md == nil {
		md = map[string]any{}
	}
	if d.DisplayID != "" {
		// Both display_data and update_display_data with an id replace
		// every earlier output shown with that id (nbclient's
		// _update_display_id).
		for _, o := range c.x.displays[d.DisplayID] {
			o.Data, o.Metadata = data, md
		}
	}
	if d.Update {
		if d.DisplayID != "" && len(c.x.displays[d.DisplayID]) > 0 {
			c.emit(Event{Kind: EventUpdate, Output: &notebook.Output{OutputType: "display_data", Data: data, Metadata: md}})
		}
		return
	}
	c.applyClear()
	if !c.admitSize(bundleSize(data)) {
		return
	}
	o := &notebook.Output{OutputType: "display_data", Data: data, Metadata: md}
	c.cell.Outputs = append(c.cell.Outputs, o)
	if d.DisplayID != "" {
		c.x.displays[d.DisplayID] = append(c.x.displays[d.DisplayID], o)
	}
	c.emit(Event{Kind: EventDisplay, Output: o})
}

func (c *collector) ClearOutput(wait bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	if wait {
		c.pendingClear = true
	} else {
		c.pendingClear = false
		c.clearNow()
	}
	c.emit(Event{Kind: EventClear, Wait: wait})
}

func (c *collector) Input(prompt string, password bool) (string, error) {
	if c.x.opts.Input == nil {
		return "", errors.New("this notebook asks for input, but it is being run without a front end: input is not available")
	}
	return c.x.opts.Input(prompt, password)
}

// finish adds the result, the truncation note and the error, in that order
// (the note before the result when the result itself was dropped).
func (c *collector) finish(res language.ExecuteResult, errOut *language.Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	var result *notebook.Output
	if len(res.Result) > 0 {
		n := *c.cell.ExecutionCount
		data := map[string]any(res.Result)
		if c.admitSize(bundleSize(data)) {
			result = &notebook.Output{OutputType: "execute_result", Data: data, Metadata: map[string]any{}, ExecutionCount: &n}
		}
	}
	if c.dropped > 0 {
		c.applyClear()
		note := fmt.Sprintf("… %d more bytes not kept\n", c.dropped)
		if outs := c.cell.Outputs; len(outs) > 0 {
			last := outs[len(outs)-1]
			if last.OutputType == "stream" && last.Name == c.dropStream && last.Text != nil && !strings.HasSuffix(string(*last.Text), "\n") {
				note = "\n" + note
			}
		}
		c.appendStream(c.dropStream, note)
	}
	if result != nil {
		c.applyClear()
		c.cell.Outputs = append(c.cell.Outputs, result)
		c.emit(Event{Kind: EventResult, Output: result})
	}
	if errOut != nil {
		c.applyClear()
		tb := errOut.Traceback
		if len(tb) == 0 {
			tb = []string{errOut.Name + ": " + errOut.Value}
		}
		o := &notebook.Output{OutputType: "error", EName: errOut.Name, EValue: errOut.Value, Traceback: tb}
		c.cell.Outputs = append(c.cell.Outputs, o)
		c.emit(Event{Kind: EventError, Output: o})
	}
}

// PlainText is how an output reads in a terminal: stream text as is, a
// display or result as its text/plain form (or a placeholder naming its
// types), an error as its traceback. The concatenated PlainText of a cell's
// saved outputs is what a runner that prints every Event shows for it.
func PlainText(o *notebook.Output) string {
	switch o.OutputType {
	case "stream":
		if o.Text == nil {
			return ""
		}
		return string(*o.Text)
	case "display_data", "execute_result":
		s, ok := o.Data["text/plain"].(string)
		if !ok {
			var types []string
			for k := range o.Data {
				types = append(types, k)
			}
			sort.Strings(types)
			s = fmt.Sprintf("<%s output>", strings.Join(types, ", "))
		}
		return withNewline(s)
	case "error":
		if len(o.Traceback) == 0 {
			return withNewline(o.EName + ": " + o.EValue)
		}
		return withNewline(strings.Join(o.Traceback, "\n"))
	}
	return ""
}

// EventText is how an event reads in a terminal; it agrees with PlainText.
// A clear prints nothing; an update prints the new content.
func EventText(ev Event) string {
	switch ev.Kind {
	case EventStream:
		return ev.Text
	case EventDisplay, EventUpdate, EventResult, EventError:
		return PlainText(ev.Output)
	}
	return ""
}

func withNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
