package grader

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/notebook"
	"github.com/goproc/goproc/runtime/grade"
)

// fakeEngine runs a tiny line language instead of Go:
//
//	print TEXT         prints TEXT and a newline
//	panic MSG          fails the cell
//	hang               blocks until interrupted
//	deaf               blocks and ignores interrupts
//	flood              prints until interrupted
//	crash              the engine dies (EngineRestarted)
//	expect ID TEXT     a test: fails unless cell ID printed TEXT (via the record)
//	result TEXT        the cell's value is TEXT
//	sleep DURATION     waits (until interrupted)
type fakeEngine struct {
	record string
	mu     sync.Mutex
	closed bool
}

func startFake(ctx context.Context, o engine.Options) (language.Engine, error) {
	f := &fakeEngine{}
	for _, kv := range o.Env {
		if v, ok := strings.CutPrefix(kv, grade.EnvOutputs+"="); ok {
			f.record = v
		}
	}
	return f, nil
}

func errRes(name, value string) language.ExecuteResult {
	return language.ExecuteResult{Status: "error", Error: &language.Error{Name: name, Value: value}}
}

func (f *fakeEngine) Execute(ctx context.Context, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	res := language.ExecuteResult{Status: "ok"}
	for _, line := range strings.Split(req.Code, "\n") {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "print":
			out.Stream("stdout", arg+"\n")
		case "panic":
			return errRes("panic", arg)
		case "hang":
			<-ctx.Done()
			return errRes("Interrupted", "interrupted")
		case "deaf":
			time.Sleep(time.Hour)
		case "flood":
			chunk := strings.Repeat("x", 4096) + "\n"
			for ctx.Err() == nil {
				out.Stream("stdout", chunk)
			}
			return errRes("Interrupted", "interrupted")
		case "crash":
			r := errRes("EngineCrashed", "fatal error: all goroutines are asleep")
			r.EngineRestarted = true
			return r
		case "expect":
			id, want, _ := strings.Cut(arg, " ")
			b, err := os.ReadFile(f.record)
			if err != nil {
				return errRes("GradeError", err.Error())
			}
			var rec grade.Record
			json.Unmarshal(b, &rec)
			c, ok := rec.Cells[id]
			switch {
			case !ok:
				return errRes("GradeError", id+" has not run")
			case c.Error != "" || c.Truncated:
				return errRes("GradeError", id+" failed")
			case !strings.Contains(c.Text, want):
				return errRes("GradeError", fmt.Sprintf("expected %q", want))
			}
			out.Stream("stdout", "ok\n")
		case "result":
			res.Result = language.MimeBundle{"text/plain": arg}
		case "sleep":
			d, _ := time.ParseDuration(arg)
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return errRes("Interrupted", "interrupted")
			}
		}
	}
	return res
}
func (f *fakeEngine) Complete(context.Context, string, int) (language.CompleteResult, error) {
	return language.CompleteResult{}, nil
}
func (f *fakeEngine) Inspect(context.Context, string, int, int) (language.InspectResult, error) {
	return language.InspectResult{}, nil
}
func (f *fakeEngine) IsComplete(context.Context, string) (language.IsCompleteResult, error) {
	return language.IsCompleteResult{Status: "complete"}, nil
}
func (f *fakeEngine) Info() language.Info               { return language.GoInfo("fake") }
func (f *fakeEngine) Restart(ctx context.Context) error { return nil }
func (f *fakeEngine) Close() error                      { f.mu.Lock(); f.closed = true; f.mu.Unlock(); return nil }

// cell builds a cell with nbgrader metadata (id "" for none).
func cell(typ, id string, m Meta, src string) *notebook.Cell {
	c := &notebook.Cell{CellType: typ, Metadata: map[string]any{}, Source: notebook.MultiString(src)}
	if id != "" {
		m.GradeID = id
		SetMeta(c, m)
	}
	return c
}

var (
	answer = Meta{Solution: true}
	test   = Meta{Grade: true, Locked: true}
	manual = Meta{Grade: true, Solution: true}
)

func pts(m Meta, p float64) Meta { m.Points = p; return m }

// sourceNotebook is a small assignment in the fake engine's language.
func sourceNotebook() *notebook.Notebook {
	return &notebook.Notebook{NBFormat: 4, NBFormatMinor: 5,
		Metadata: map[string]any{"kernelspec": map[string]any{"name": "goproc", "display_name": "Go (goproc)", "language": "go"}},
		Cells: []*notebook.Cell{
			cell("markdown", "intro", Meta{Locked: true}, "# Assignment"),
			cell("markdown", "q1", pts(manual, 2), "Processes are isolated.\n"),
			cell("code", "q2_answer", answer, "// BEGIN SOLUTION\nprint 42\n// END SOLUTION\n"),
			cell("code", "q2_test", pts(test, 2), "expect q2_answer 42\n// BEGIN HIDDEN TESTS\nexpect q2_answer 2\n// END HIDDEN TESTS\n"),
			cell("code", "q3_answer", answer, "// BEGIN SOLUTION\nprint done\n// END SOLUTION\n"),
			cell("code", "q3_test", pts(test, 3), "expect q3_answer done\n"),
		}}
}

func stamped(t *testing.T) *notebook.Notebook {
	t.Helper()
	src := sourceNotebook()
	if err := StampChecksums(src); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestRelease(t *testing.T) {
	src := stamped(t)
	src.Cells[2].Metadata["execution"] = map[string]any{"iopub.status.busy": "2026-01-01T00:00:00Z"}
	rel, err := Release(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rel.Cells[2].Metadata["execution"]; ok {
		t.Error("released cell keeps its execution timings")
	}
	got := func(i int) string { return string(rel.Cells[i].Source) }
	if got(1) != AnswerStub {
		t.Errorf("markdown answer released as %q", got(1))
	}
	if want := CodeStub + "\n"; got(2) != want {
		t.Errorf("code answer released as %q, want %q", got(2), want)
	}
	if got(3) != "expect q2_answer 42\n" {
		t.Errorf("test cell released as %q: hidden tests must go, visible ones stay", got(3))
	}
	if rel.Cells[3].Metadata["editable"] != false || rel.Cells[3].Metadata["deletable"] != false {
		t.Errorf("test cell not read-only: %v", rel.Cells[3].Metadata)
	}
	for i, c := range rel.Cells {
		m, _ := MetaOf(c)
		sm, _ := MetaOf(src.Cells[i])
		if m.Checksum == "" || m.Checksum != Checksum(c) || sm.Checksum != m.Checksum {
			t.Errorf("cell %d: checksum %q, recomputed %q, source %q", i, m.Checksum, Checksum(c), sm.Checksum)
		}
	}
	if src.Cells[2].Source == rel.Cells[2].Source {
		t.Error("Release modified the source")
	}
}

func TestReleaseIndentedRegion(t *testing.T) {
	c := cell("code", "f", answer, "func square(n int) int {\n\t// BEGIN SOLUTION\n\treturn n * n\n\t// END SOLUTION\n}\n")
	nb := &notebook.Notebook{NBFormat: 4, Cells: []*notebook.Cell{c}}
	rel, err := Release(nb)
	if err != nil {
		t.Fatal(err)
	}
	want := "func square(n int) int {\n\t// YOUR CODE HERE\n\tpanic(\"not implemented\")\n}\n"
	if got := string(rel.Cells[0].Source); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c.Source = "// BEGIN SOLUTION\nx := 1\n"
	if _, err := Release(nb); err == nil || !strings.Contains(err.Error(), "without") {
		t.Errorf("an unclosed region gave %v", err)
	}
}

func TestChecksum(t *testing.T) {
	c := cell("code", "t", pts(test, 2), "expect x 1\n")
	a := Checksum(c)
	c.Source += " "
	if Checksum(c) == a {
		t.Error("checksum ignores the source")
	}
	c.Source = "expect x 1\n"
	SetMeta(c, Meta{Grade: true, Locked: true, GradeID: "t", Points: 3})
	if Checksum(c) == a {
		t.Error("checksum ignores the points")
	}
	if pyFloat(2) != "2.0" || pyFloat(0.5) != "0.5" {
		t.Errorf("pyFloat: %s %s", pyFloat(2), pyFloat(0.5))
	}
}

func TestRestore(t *testing.T) {
	src := stamped(t)
	sub, _ := Release(src)
	sub.Metadata["kernelspec"] = map[string]any{"name": "python3"}
	sub.Cells[2].Source = "print 42\n"                                     // the answer
	sub.Cells[5].Source = "print ok\n"                                     // tampered test
	sub.Cells = append(sub.Cells[:3], sub.Cells[4:]...)                    // deleted q2_test
	sub.Cells = append(sub.Cells, cell("code", "", Meta{}, "print extra")) // an added cell
	got, changes, err := Restore(src, sub)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got.Cells {
		m, _ := MetaOf(c)
		ids = append(ids, m.GradeID)
	}
	if want := "intro q1 q2_answer q2_test q3_answer q3_test "; strings.Join(ids, " ") != want {
		t.Errorf("cells after restore: %q, want %q", strings.Join(ids, " "), want)
	}
	if s := string(got.Cells[3].Source); !strings.Contains(s, "HIDDEN TESTS") {
		t.Errorf("restored test lacks its hidden tests: %q", s)
	}
	if string(got.Cells[5].Source) != "expect q3_answer done\n" || string(got.Cells[2].Source) != "print 42\n" {
		t.Errorf("restore: test %q, answer %q", got.Cells[5].Source, got.Cells[2].Source)
	}
	if ks := got.Metadata["kernelspec"].(map[string]any); ks["name"] != "goproc" {
		t.Errorf("kernelspec not restored: %v", ks)
	}
	want := []Change{{"q2_test", "deleted", true}, {"q3_test", "modified", true}}
	if fmt.Sprint(changes) != fmt.Sprint(want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
}

func TestScore(t *testing.T) {
	src := stamped(t)
	rel, _ := Release(src)
	ex, _ := clone(rel)
	txt := func(s string) *notebook.MultiString { m := notebook.MultiString(s); return &m }
	ex.Cells[1].Source = "Something else."
	ex.Cells[3].Outputs = []*notebook.Output{{OutputType: "stream", Name: "stdout", Text: txt("ok\n")}, {OutputType: "error", EName: "GradeError", EValue: "expected \"42\"\nmore"}}
	ex.Cells[5].Outputs = []*notebook.Output{{OutputType: "execute_result", Data: map[string]any{"text/plain": "1.5"}}}
	s := score(src, ex)
	want := []Score{
		{GradeID: "q1", Kind: "manual", Max: 2, NeedsManualGrade: true, Feedback: "waits for manual grading"},
		{GradeID: "q2_test", Kind: "test", Max: 2, Feedback: `GradeError: expected "42"`},
		{GradeID: "q3_test", Kind: "test", Points: 1.5, Max: 3, Feedback: "partial credit: 1.5 of 3"},
	}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("score =\n%v\nwant\n%v", s, want)
	}
	// An unchanged manual answer scores 0 without waiting; a test that
	// could not see the answer scores 0; a silent test scores full.
	ex2, _ := clone(rel)
	ex2.Cells[3].Outputs = []*notebook.Output{{OutputType: "stream", Name: "stdout", Text: txt(grade.NotCheckedMarker + ": no grader\n")}}
	s = score(src, ex2)
	if s[0].NeedsManualGrade || s[0].Points != 0 || s[1].Points != 0 || s[2].Points != 3 {
		t.Errorf("score = %v", s)
	}
}

func writeNB(t *testing.T, path string, nb *notebook.Notebook) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

// TestGrade grades submissions that pass, hang, ignore interrupts, flood
// their output and crash, with the fake engine, and checks the gradebook,
// the feedback notebooks and the cache.
func TestGrade(t *testing.T) {
	dir := t.TempDir()
	src := sourceNotebook()
	srcPath := filepath.Join(dir, "assignment.ipynb")
	writeNB(t, srcPath, src)
	rel, err := Release(stamped(t))
	if err != nil {
		t.Fatal(err)
	}
	subs := map[string][2]string{ // q2 answer, q3 answer
		"good":  {"print 42", "print done"},
		"hang":  {"print 42\nhang", "print done"},
		"deaf":  {"print 42", "print done\ndeaf"},
		"flood": {"print 42\nflood", "print done"},
		"crash": {"crash", "print done"},
		"blank": {CodeStub, CodeStub},
	}
	for name, a := range subs {
		nb, _ := clone(rel)
		nb.Cells[2].Source = notebook.MultiString(a[0])
		nb.Cells[4].Source = notebook.MultiString(a[1])
		writeNB(t, filepath.Join(dir, "submitted", name+".ipynb"), nb)
	}
	var progress bytes.Buffer
	opts := Options{
		Source: srcPath, Submissions: []string{filepath.Join(dir, "submitted")},
		OutDir: filepath.Join(dir, "out"), Jobs: 3, Version: "test",
		Limits:    Limits{CellTimeout: 300 * time.Millisecond, Grace: 300 * time.Millisecond, OutputLimit: 64 << 10},
		NewEngine: startFake, Progress: &progress, NoSandbox: true,
	}
	t0 := time.Now()
	gb, err := Grade(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 10*time.Second {
		t.Errorf("grading took %v", el)
	}
	totals := map[string]float64{}
	for _, r := range gb.Students {
		totals[r.Student] = r.Total
		if r.Error != "" {
			t.Errorf("%s: %s", r.Student, r.Error)
		}
	}
	want := map[string]float64{"good": 5, "hang": 3, "deaf": 2, "flood": 3, "crash": 3, "blank": 0}
	if fmt.Sprint(totals) != fmt.Sprint(want) {
		t.Errorf("totals = %v, want %v", totals, want)
	}
	csv, err := os.ReadFile(filepath.Join(opts.OutDir, "gradebook.csv"))
	if err != nil || !strings.Contains(string(csv), "student,grade_id,kind,points,max") || !strings.Contains(string(csv), "good,q2_test,test,2,2,,passed") {
		t.Errorf("gradebook.csv: %v\n%s", err, csv)
	}
	fb, err := notebook.Read(filepath.Join(opts.OutDir, "feedback", "flood.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, c := range fb.Cells {
		all.WriteString(string(c.Source))
		for _, o := range c.Outputs {
			all.WriteString(o.EName + " ")
		}
	}
	for _, w := range []string{"Feedback for flood", ErrNameOutputLimit, "q2_test: 0 / 2"} {
		if !strings.Contains(all.String(), w) {
			t.Errorf("feedback notebook lacks %q", w)
		}
	}
	if !strings.Contains(progress.String(), "6/6") {
		t.Errorf("progress: %q", progress.String())
	}
	var sum bytes.Buffer
	Summary(&sum, gb)
	if !strings.Contains(sum.String(), "good") || !strings.Contains(sum.String(), "5/7") {
		t.Errorf("summary:\n%s", sum.String())
	}

	// Again: everything comes from the cache.
	gb2, err := Grade(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gb2.Students {
		if !r.Cached || r.Total != want[r.Student] {
			t.Errorf("second run: %s cached=%v total=%v", r.Student, r.Cached, r.Total)
		}
	}
}

func TestShardsPartition(t *testing.T) {
	seen := map[string]int{}
	for k := 0; k < 3; k++ {
		sh, err := ParseShard(fmt.Sprintf("%d/3", k))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			if s := fmt.Sprintf("student%03d", i); sh.Has(s) {
				seen[s]++
			}
		}
	}
	for i := 0; i < 100; i++ {
		if n := seen[fmt.Sprintf("student%03d", i)]; n != 1 {
			t.Fatalf("student%03d is in %d shards", i, n)
		}
	}
	for _, bad := range []string{"3/3", "-1/2", "x", "1/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
}

func TestMainReleaseAndMerge(t *testing.T) {
	dir := t.TempDir()
	srcPath := filepath.Join(dir, "a.ipynb")
	writeNB(t, srcPath, sourceNotebook())
	relPath := filepath.Join(dir, "release", "a.ipynb")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--source", srcPath, "--release", relPath}, "test", nil, &out, &errb); code != 0 {
		t.Fatalf("release: exit %d: %s", code, errb.String())
	}
	rel, err := notebook.Read(relPath)
	if err != nil || strings.Contains(string(rel.Cells[2].Source), "print 42") {
		t.Fatalf("released notebook: %v %q", err, rel.Cells[2].Source)
	}
	// Two shards graded separately, then merged.
	for _, n := range []string{"ann", "bob", "cy", "dee"} {
		writeNB(t, filepath.Join(dir, "subs", n+".ipynb"), rel)
	}
	for k := 0; k < 2; k++ {
		gb, err := Grade(context.Background(), Options{Source: srcPath, Submissions: []string{filepath.Join(dir, "subs")},
			OutDir: filepath.Join(dir, fmt.Sprintf("shard%d", k)), Shard: Shard{k, 2}, NewEngine: startFake, Version: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if gb.Shard != fmt.Sprintf("%d/2", k) {
			t.Errorf("shard %q", gb.Shard)
		}
	}
	out.Reset()
	args := []string{"--merge", "--out", filepath.Join(dir, "all"), filepath.Join(dir, "shard0"), filepath.Join(dir, "shard1")}
	if code := Main(context.Background(), args, "test", nil, &out, &errb); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errb.String())
	}
	gb, err := ReadGradebook(filepath.Join(dir, "all", "gradebook.json"))
	if err != nil || len(gb.Students) != 4 {
		t.Fatalf("merged gradebook: %v, %d students", err, len(gb.Students))
	}
}

func TestFlagsAfterSubmissions(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"missing.ipynb", "--source", "nope.ipynb", "--jobs", "1"}, "t", nil, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "reading the source notebook") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

// engineLog records the engines a grading run starts and closes.
type engineLog struct {
	mu      sync.Mutex
	live    int
	maxLive int
	events  []string // "start N" and "close N", in order
	n       int
}

type loggedEngine struct {
	language.Engine
	log  *engineLog
	id   int
	once sync.Once
}

func (l *engineLog) start(ctx context.Context, o engine.Options) (language.Engine, error) {
	e, err := startFake(ctx, o)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.live++
	l.maxLive = max(l.maxLive, l.live)
	l.events = append(l.events, fmt.Sprint("start ", l.n))
	return &loggedEngine{Engine: e, log: l, id: l.n}, nil
}

func (e *loggedEngine) Close() error {
	e.once.Do(func() {
		e.log.mu.Lock()
		e.log.live--
		e.log.events = append(e.log.events, fmt.Sprint("close ", e.id))
		e.log.mu.Unlock()
	})
	return e.Engine.Close()
}

// writeAssignment writes the source notebook into a new directory and
// returns the directory, the source's path and the student version.
func writeAssignment(t *testing.T) (dir, srcPath string, rel *notebook.Notebook) {
	t.Helper()
	dir = t.TempDir()
	srcPath = filepath.Join(dir, "assignment.ipynb")
	writeNB(t, srcPath, sourceNotebook())
	rel, err := Release(stamped(t))
	if err != nil {
		t.Fatal(err)
	}
	return dir, srcPath, rel
}

// TestGradeStartsNextEngineAhead checks that the next submission's engine
// is started while the current one runs, that no more than one engine
// waits beyond the running ones, and that every engine is closed, also
// when grading is cancelled.
func TestGradeStartsNextEngineAhead(t *testing.T) {
	dir, srcPath, rel := writeAssignment(t)
	for i := range 4 {
		nb, _ := clone(rel)
		nb.Cells[2].Source = notebook.MultiString("sleep 100ms\nprint 42")
		nb.Cells[4].Source = notebook.MultiString("print done")
		writeNB(t, filepath.Join(dir, "submitted", fmt.Sprintf("s%d.ipynb", i)), nb)
	}
	for _, jobs := range []int{1, 2} {
		var log engineLog
		opts := Options{Source: srcPath, Submissions: []string{filepath.Join(dir, "submitted")},
			OutDir: filepath.Join(dir, fmt.Sprint("out", jobs)), Jobs: jobs, Version: "test", NewEngine: log.start, NoSandbox: true}
		gb, err := Grade(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range gb.Students {
			if r.Total != 5 {
				t.Errorf("jobs %d: %s scored %v, want 5: %+v", jobs, r.Student, r.Total, r)
			}
		}
		if log.n != 4 || log.live != 0 {
			t.Errorf("jobs %d: %d engines started, %d left open; want 4 and 0: %v", jobs, log.n, log.live, log.events)
		}
		if log.maxLive > jobs+1 {
			t.Errorf("jobs %d: %d engines at once, want at most %d: %v", jobs, log.maxLive, jobs+1, log.events)
		}
		// With one job, each submission's engine starts before the one
		// before it is closed.
		if jobs == 1 {
			want := "start 1 start 2 close 1 start 3 close 2 start 4 close 3 close 4"
			if got := strings.Join(log.events, " "); got != want {
				t.Errorf("jobs 1: engines %q, want %q", got, want)
			}
		}
	}

	// Cancelled while the first submission runs: the engine started
	// ahead is closed too.
	var log engineLog
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := Grade(ctx, Options{Source: srcPath, Submissions: []string{filepath.Join(dir, "submitted")},
		OutDir: filepath.Join(dir, "cancelled"), Jobs: 1, Version: "test", NewEngine: log.start, NoSandbox: true})
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("cancelled run: err = %v", err)
	}
	if log.live != 0 {
		t.Errorf("cancelled run left %d engines open: %v", log.live, log.events)
	}
}

// TestGradePrewarmsWorkersForMultiprocessing: an engine is asked to start
// workers ahead only for a submission that imports multiprocessing.
func TestGradePrewarmsWorkersForMultiprocessing(t *testing.T) {
	if os.Getenv("GOPROC_MP_PREWARM") != "" {
		t.Skip("GOPROC_MP_PREWARM is set in the environment")
	}
	dir, srcPath, rel := writeAssignment(t)
	for name, answer := range map[string]string{"plain": "print 42", "mp": "import \"multiprocessing\"\nprint 42"} {
		nb, _ := clone(rel)
		nb.Cells[2].Source = notebook.MultiString(answer)
		writeNB(t, filepath.Join(dir, "submitted", name+".ipynb"), nb)
	}
	var mu sync.Mutex
	prewarm := map[string]string{} // working directory's base name → GOPROC_MP_PREWARM
	start := func(ctx context.Context, o engine.Options) (language.Engine, error) {
		mu.Lock()
		defer mu.Unlock()
		v := "unset"
		for _, kv := range o.Env {
			if s, ok := strings.CutPrefix(kv, "GOPROC_MP_PREWARM="); ok {
				v = s
			}
		}
		prewarm[filepath.Base(o.Dir)] = v
		return startFake(ctx, o)
	}
	_, err := Grade(context.Background(), Options{Source: srcPath, Submissions: []string{filepath.Join(dir, "submitted")},
		OutDir: filepath.Join(dir, "out"), Jobs: 1, Version: "test", NewEngine: start, NoSandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{workName("plain"): "unset", workName("mp"): "3"}; fmt.Sprint(prewarm) != fmt.Sprint(want) {
		t.Errorf("GOPROC_MP_PREWARM by submission = %v, want %v", prewarm, want)
	}
}
