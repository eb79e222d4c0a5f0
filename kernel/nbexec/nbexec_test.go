package nbexec

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/notebook"
)

// fakeEngine runs cells whose source names a script.
type fakeEngine struct {
	scripts map[string]func(ctx context.Context, out language.Output) language.ExecuteResult
	ran     []string
}

func (f *fakeEngine) Execute(ctx context.Context, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	f.ran = append(f.ran, req.Code)
	s, ok := f.scripts[req.Code]
	if !ok {
		return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "NoScript", Value: req.Code}}
	}
	return s(ctx, out)
}
func (f *fakeEngine) Complete(context.Context, string, int) (language.CompleteResult, error) {
	return language.CompleteResult{}, nil
}
func (f *fakeEngine) Inspect(context.Context, string, int, int) (language.InspectResult, error) {
	return language.InspectResult{}, nil
}
func (f *fakeEngine) IsComplete(context.Context, string) (language.IsCompleteResult, error) {
	return language.IsCompleteResult{}, nil
}
func (f *fakeEngine) Info() language.Info           { return language.GoInfo("go1.26") }
func (f *fakeEngine) Restart(context.Context) error { return nil }
func (f *fakeEngine) Close() error                  { return nil }

var ok = language.ExecuteResult{Status: "ok"}

func code(src string, tags ...string) *notebook.Cell {
	md := map[string]any{}
	if len(tags) > 0 {
		var t []any
		for _, s := range tags {
			t = append(t, s)
		}
		md["tags"] = t
	}
	return &notebook.Cell{CellType: "code", Source: notebook.MultiString(src), Metadata: md}
}

func nbOf(cells ...*notebook.Cell) *notebook.Notebook {
	return &notebook.Notebook{NBFormat: 4, NBFormatMinor: 5, Cells: cells, Metadata: map[string]any{}}
}

func text(o *notebook.Output) string { return string(*o.Text) }

func TestStreamsMergedAndOrdered(t *testing.T) {
	eng := &fakeEngine{scripts: map[string]func(context.Context, language.Output) language.ExecuteResult{
		"a": func(_ context.Context, out language.Output) language.ExecuteResult {
			out.Stream("stdout", "one\n")
			out.Stream("stdout", "two\n")
			out.Stream("stderr", "warn\n")
			out.Stream("stdout", "three")
			out.Display(language.Display{Data: language.MimeBundle{"text/plain": "D", "text/html": "<b>D</b>"}})
			out.Stream("stdout", "four\n")
			return language.ExecuteResult{Status: "ok", Result: language.MimeBundle{"text/plain": "42"}}
		},
	}}
	nb := nbOf(&notebook.Cell{CellType: "markdown", Source: "# t"}, code("a"), code("  \n"))
	var terminal strings.Builder
	var starts, dones int
	rep, err := Run(context.Background(), eng, nb, Options{
		OnCellStart: func(c CellInfo) {
			starts++
			if c.Name() != "cell 2" || c.Ordinal != 1 || c.Total != 1 {
				t.Errorf("start %+v", c)
			}
		},
		OnOutput:   func(_ CellInfo, ev Event) { terminal.WriteString(EventText(ev)) },
		OnCellDone: func(r CellReport) { dones++ },
	})
	if err != nil || rep.Executed != 1 || starts != 1 || dones != 1 {
		t.Fatalf("err=%v rep=%+v starts=%d dones=%d", err, rep, starts, dones)
	}
	c := nb.Cells[1]
	outs := c.Outputs
	if len(outs) != 6 || outs[5].OutputType != "execute_result" {
		t.Fatalf("got %d outputs: %+v", len(outs), outs)
	}
	if text(outs[0]) != "one\ntwo\n" || outs[1].Name != "stderr" || text(outs[2]) != "three" ||
		outs[3].OutputType != "display_data" || text(outs[4]) != "four\n" {
		t.Errorf("outputs: %q %q %q %s %q", text(outs[0]), text(outs[1]), text(outs[2]), outs[3].OutputType, text(outs[4]))
	}
	if *c.ExecutionCount != 1 {
		t.Errorf("execution_count = %d", *c.ExecutionCount)
	}
	_ = outs
	// The result comes last, with the count.
	var saved strings.Builder
	for _, o := range c.Outputs {
		saved.WriteString(PlainText(o))
	}
	if saved.String() != terminal.String() {
		t.Errorf("terminal %q != saved %q", terminal.String(), saved.String())
	}
	if nb.Cells[2].ExecutionCount != nil || len(eng.ran) != 1 {
		t.Errorf("blank cell was run: %v", eng.ran)
	}
	ex := c.Metadata["execution"].(map[string]any)
	for _, k := range []string{"iopub.status.busy", "iopub.execute_input", "shell.execute_reply", "iopub.status.idle"} {
		if s, _ := ex[k].(string); !strings.HasSuffix(s, "Z") || len(s) != len("2024-01-02T03:04:05.000000Z") {
			t.Errorf("metadata.execution[%s] = %v", k, ex[k])
		}
	}
	li := nb.Metadata["language_info"].(map[string]any)
	if li["name"] != "go" || li["version"] != "go1.26" {
		t.Errorf("language_info = %v", li)
	}
}

func TestResultAndCounts(t *testing.T) {
	eng := &fakeEngine{scripts: map[string]func(context.Context, language.Output) language.ExecuteResult{
		"r": func(_ context.Context, out language.Output) language.ExecuteResult {
			return language.ExecuteResult{Status: "ok", Result: language.MimeBundle{"text/plain": "42"}}
		},
		"s": func(context.Context, language.Output) language.ExecuteResult { return ok },
	}}
	nb := nbOf(code("s"), code("x", TagSkip), code("r"))
	nb.Cells[1].Outputs = []*notebook.Output{{OutputType: "stream", Name: "stdout", Text: new(notebook.MultiString)}}
	var statuses []string
	_, err := Run(context.Background(), eng, nb, Options{OnCellDone: func(r CellReport) { statuses = append(statuses, r.Status) }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(statuses, ",") != "ok,skipped,ok" {
		t.Errorf("statuses %v", statuses)
	}
	if len(nb.Cells[1].Outputs) != 1 {
		t.Error("a skipped cell lost its outputs")
	}
	r := nb.Cells[2].Outputs[0]
	if r.OutputType != "execute_result" || *r.ExecutionCount != 2 || *nb.Cells[2].ExecutionCount != 2 || r.Data["text/plain"] != "42" {
		t.Errorf("result %+v", r)
	}
}

func TestDisplayUpdateAndClear(t *testing.T) {
	eng := &fakeEngine{scripts: map[string]func(context.Context, language.Output) language.ExecuteResult{
		"show": func(_ context.Context, out language.Output) language.ExecuteResult {
			out.Display(language.Display{Data: language.MimeBundle{"text/plain": "v1"}, DisplayID: "h"})
			out.Stream("stdout", "after\n")
			return ok
		},
		"update": func(_ context.Context, out language.Output) language.ExecuteResult {
			out.Display(language.Display{Data: language.MimeBundle{"text/plain": "v2"}, DisplayID: "h", Update: true})
			out.Display(language.Display{Data: language.MimeBundle{"text/plain": "ghost"}, DisplayID: "nope", Update: true})
			out.Stream("stdout", "x\n")
			out.ClearOutput(true)
			out.Stream("stdout", "y\n") // clears "x" first
			out.ClearOutput(true)
			return language.ExecuteResult{Status: "ok", Result: language.MimeBundle{"text/plain": "r"}} // clears "y"
		},
		"clear": func(_ context.Context, out language.Output) language.ExecuteResult {
			out.Display(language.Display{Data: language.MimeBundle{"text/plain": "w1"}, DisplayID: "k"})
			out.ClearOutput(false)
			out.Display(language.Display{Data: language.MimeBundle{"text/plain": "w2"}, DisplayID: "k", Update: true})
			out.Stream("stdout", "z\n")
			return ok
		},
	}}
	nb := nbOf(code("show"), code("update"), code("clear"))
	if _, err := Run(context.Background(), eng, nb, Options{}); err != nil {
		t.Fatal(err)
	}
	if d := nb.Cells[0].Outputs[0]; d.Data["text/plain"] != "v2" {
		t.Errorf("display not updated from a later cell: %v", d.Data)
	}
	if o := nb.Cells[1].Outputs; len(o) != 1 || o[0].OutputType != "execute_result" {
		t.Errorf("clear_output(wait) outputs: %+v", o)
	}
	if o := nb.Cells[2].Outputs; len(o) != 1 || text(o[0]) != "z\n" {
		t.Errorf("clear_output outputs: %+v", o)
	}
}

func TestStopAtErrorAndAllowErrors(t *testing.T) {
	fail := func(_ context.Context, out language.Output) language.ExecuteResult {
		out.Stream("stdout", "before\n")
		return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "panic", Value: "boom", Traceback: []string{"panic: boom", "  at line 1"}}}
	}
	scripts := map[string]func(context.Context, language.Output) language.ExecuteResult{
		"fail": fail,
		"ok":   func(context.Context, language.Output) language.ExecuteResult { return ok },
	}
	eng := &fakeEngine{scripts: scripts}
	nb := nbOf(code("ok"), code("fail"), code("ok"))
	rep, err := Run(context.Background(), eng, nb, Options{})
	var ce *CellError
	if !errors.As(err, &ce) || ce.Report.Index != 1 || ce.Report.Status != StatusError {
		t.Fatalf("err = %v", err)
	}
	if err.Error() != "cell 2 failed: panic: boom" {
		t.Errorf("message %q", err.Error())
	}
	if rep.Executed != 2 || len(eng.ran) != 2 {
		t.Errorf("ran %v", eng.ran)
	}
	e := nb.Cells[1].Outputs[1]
	if e.OutputType != "error" || e.EName != "panic" || e.EValue != "boom" || len(e.Traceback) != 2 {
		t.Errorf("error output %+v", e)
	}

	for name, opts := range map[string]Options{"allow": {AllowErrors: true}, "tag": {}} {
		eng := &fakeEngine{scripts: scripts}
		nb := nbOf(code("fail", TagRaisesException), code("ok"))
		if name == "allow" {
			nb = nbOf(code("fail"), code("ok"))
		}
		rep, err := Run(context.Background(), eng, nb, opts)
		if err != nil || rep.Executed != 2 || rep.Cells[0].Status != StatusError {
			t.Errorf("%s: err=%v rep=%+v", name, err, rep)
		}
	}
}

func TestTimeoutInterruptsCell(t *testing.T) {
	eng := &fakeEngine{scripts: map[string]func(context.Context, language.Output) language.ExecuteResult{
		"sleep": func(ctx context.Context, out language.Output) language.ExecuteResult {
			out.Stream("stdout", "started\n")
			<-ctx.Done()
			return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "Interrupted", Value: "interrupted"}}
		},
	}}
	nb := nbOf(code("sleep"), code("sleep"))
	start := time.Now()
	rep, err := Run(context.Background(), eng, nb, Options{Timeout: 50 * time.Millisecond})
	if time.Since(start) > 10*time.Second { // generous: the machine may be busy; uninterrupted, it never ends
		t.Fatal("timeout did not interrupt")
	}
	var ce *CellError
	if !errors.As(err, &ce) || ce.Report.Status != StatusTimeout || rep.Executed != 1 {
		t.Fatalf("err = %v, rep %+v", err, rep)
	}
	want := "cell 1 did not finish within the 50ms limit per cell and was interrupted"
	if err.Error() != want {
		t.Errorf("message %q", err.Error())
	}
	outs := nb.Cells[0].Outputs
	if len(outs) != 2 || text(outs[0]) != "started\n" || outs[1].EName != "CellTimeoutError" || outs[1].EValue != want {
		t.Errorf("outputs %+v", outs)
	}
}

func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	eng := &fakeEngine{scripts: map[string]func(context.Context, language.Output) language.ExecuteResult{
		"sleep": func(c context.Context, out language.Output) language.ExecuteResult {
			cancel()
			<-c.Done()
			return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "Interrupted", Value: "interrupted by the user"}}
		},
	}}
	_, err := Run(ctx, eng, nbOf(code("sleep"), code("sleep")), Options{AllowErrors: true})
	if !errors.Is(err, ErrInterrupted) || len(eng.ran) != 1 {
		t.Fatalf("err=%v ran=%v", err, eng.ran)
	}
}

func TestOutputCap(t *testing.T) {
	eng := &fakeEngine{scripts: map[string]func(context.Context, language.Output) language.ExecuteResult{
		"big": func(_ context.Context, out language.Output) language.ExecuteResult {
			out.Stream("stdout", "0123456789\n")
			out.Stream("stdout", "abcdefghij\nklmn")
			out.Display(language.Display{Data: language.MimeBundle{"text/plain": "dropped"}})
			out.Stream("stdout", "more\n")
			return language.ExecuteResult{Status: "error", Result: language.MimeBundle{"text/plain": "gone"},
				Error: &language.Error{Name: "E", Value: "kept"}}
		},
	}}
	nb := nbOf(code("big"))
	var terminal strings.Builder
	rep, _ := Run(context.Background(), eng, nb, Options{MaxOutputBytes: 25, AllowErrors: true,
		OnOutput: func(_ CellInfo, ev Event) { terminal.WriteString(EventText(ev)) }})
	outs := nb.Cells[0].Outputs
	// 11 + 11 bytes fit (cut at the newline), the rest is counted.
	dropped := int64(4 + len(`{"text/plain":"dropped"}`) + 5 + len(`{"text/plain":"gone"}`))
	want := "0123456789\nabcdefghij\n… " + itoa(dropped) + " more bytes not kept\n"
	if len(outs) != 2 || text(outs[0]) != want || outs[1].EName != "E" {
		t.Fatalf("outputs %q (want %q) %+v", text(outs[0]), want, outs)
	}
	if rep.Cells[0].DroppedBytes != dropped {
		t.Errorf("dropped %d, want %d", rep.Cells[0].DroppedBytes, dropped)
	}
	var saved strings.Builder
	for _, o := range outs {
		saved.WriteString(PlainText(o))
	}
	if saved.String() != terminal.String() {
		t.Errorf("terminal %q != saved %q", terminal.String(), saved.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
func TestNotebookRoundTripAfterRun(t *testing.T) {
	eng := &fakeEngine{scripts: map[string]func(context.Context, language.Output) language.ExecuteResult{
		"p": func(_ context.Context, out language.Output) language.ExecuteResult {
			out.Stream("stdout", "<hi> & bye\n")
			return ok
		},
	}}
	nb := nbOf(code("p"))
	if _, err := Run(context.Background(), eng, nb, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"<hi> & bye\n"`) {
		t.Errorf("saved notebook:\n%s", b)
	}
}
