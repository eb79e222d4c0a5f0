// Package grader grades Go notebooks as nbgrader's autograder does, with
// goproc as the kernel: it restores the read-only and test cells of each
// submission from the instructor's source notebook, runs every submission
// in a fresh engine with limits (time per cell, output, memory, processes,
// writes confined to a working directory), scores the test cells, and writes
// a gradebook (CSV and JSON) and a feedback notebook per student. It also
// makes the student version of a source notebook (Release).
//
// Submissions are graded in parallel and independently: a submission that
// hangs, crashes its engine, forks without end or floods its output loses the
// points of the tests that depend on it and nothing else. Results are cached
// by a hash of the submission, the source, goproc's version and the limits,
// so grading again only runs what changed.
package grader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/modules"
	"github.com/goproc/goproc/kernel/notebook"
	"github.com/goproc/goproc/kernel/sandbox"
	"github.com/goproc/goproc/runtime/grade"
)

// Options configure a grading run.
type Options struct {
	// Source is the instructor's notebook, with solutions and hidden tests.
	Source string
	// Submissions are notebook files or directories searched for them.
	Submissions []string
	// OutDir receives gradebook.csv, gradebook.json, feedback/ and the
	// cache; the default is "graded".
	OutDir string
	// Jobs is how many submissions run at once; 0 means one per core.
	Jobs int
	// Limits bound each submission; zero fields take DefaultLimits.
	Limits Limits
	// ConfineWrites asks engines to refuse writes outside each submission's
	// working directory (Landlock).
	ConfineWrites bool
	// NoSandbox runs engines without a sandbox (kernel/sandbox): only
	// Landlock, rlimits and the engine's own caps then hold.
	NoSandbox bool
	// RequireSandbox refuses to grade unless every protection of the
	// sandbox is in force (namespaces, a cgroup, the process watcher).
	RequireSandbox bool
	// ShowHiddenTests keeps the hidden tests' source in feedback notebooks.
	ShowHiddenTests bool

	sandboxStatus string // what the sandbox enforces here, for the cache key
	// Shard grades only the submissions of one shard (zero: all).
	Shard Shard
	// Force regrades submissions whose cached result is still valid.
	Force bool
	// Version is goproc's version; it is part of the cache key.
	Version string
	// Binary is the goproc executable engines run (empty: this one, or
	// the engine Modules builds).
	Binary string
	// Modules builds, before grading, the engine with the module packages
	// the source notebook imports (pinned by the go.mod beside it); every
	// submission runs on it and can import those packages only. Nil: no
	// module can be imported.
	Modules *modules.Builder
	// NewEngine starts an engine; nil means engine.Start. Tests replace it.
	NewEngine func(ctx context.Context, opts engine.Options) (language.Engine, error)
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
}

// Shard selects the submissions of shard K of N: those whose student name
// hashes to K modulo N. The split is stable as submissions are added, so
// each machine of a cluster can run `goproc grade --shard K/N` on the same
// list.
type Shard struct{ K, N int }

// Has reports whether student belongs to the shard.
func (s Shard) Has(student string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(student))
	return int(h.Sum32()%uint32(s.N)) == s.K
}

// ParseShard parses "K/N" (0 <= K < N).
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.K, &sh.N); err != nil || sh.N < 1 || sh.K < 0 || sh.K >= sh.N {
		return Shard{}, fmt.Errorf("--shard %q: want K/N with 0 <= K < N, e.g. 0/4", s)
	}
	return sh, nil
}

// Result is one student's grade.
type Result struct {
	Student string   `json:"student"`
	File    string   `json:"file"`
	Scores  []Score  `json:"scores"`
	Total   float64  `json:"total"`
	Max     float64  `json:"max"`
	Changes []Change `json:"changes,omitempty"`
	// Error says why the submission could not be graded at all.
	Error    string  `json:"error,omitempty"`
	Seconds  float64 `json:"seconds"`
	Key      string  `json:"key"`
	Cached   bool    `json:"cached,omitempty"`
	Feedback string  `json:"feedback_notebook,omitempty"`
	// Sandbox says which protections the submission ran under.
	Sandbox string `json:"sandbox,omitempty"`
	// Reserved lists names the submission declares that tests rely on:
	// those tests were not run and scored 0.
	Reserved []string `json:"reserved_names,omitempty"`
	// Confinement says why this submission's writes were not confined,
	// when they were asked to be and were not.
	Confinement string `json:"confinement,omitempty"`
}

// Gradebook is the result of a run.
type Gradebook struct {
	Assignment string    `json:"assignment"`
	Source     string    `json:"source"`
	Version    string    `json:"goproc_version"`
	Graded     time.Time `json:"graded"`
	// WriteConfinement says how submissions' writes were confined, or why
	// they were not.
	WriteConfinement string `json:"write_confinement"`
	// Sandbox says which protections of the sandbox were in force.
	Sandbox  string   `json:"sandbox"`
	Shard    string   `json:"shard,omitempty"`
	Students []Result `json:"students"`
}

// Grade grades the submissions and writes the gradebook into opts.OutDir.
func Grade(ctx context.Context, opts Options) (*Gradebook, error) {
	opts = withDefaults(opts)
	srcBytes, err := os.ReadFile(opts.Source)
	if err != nil {
		return nil, fmt.Errorf("reading the source notebook: %w", err)
	}
	source, err := notebook.Parse(srcBytes)
	if err != nil {
		return nil, fmt.Errorf("source notebook %s: %w", opts.Source, err)
	}
	if _, err := graded(source); err != nil {
		return nil, fmt.Errorf("source notebook %s: %w", opts.Source, err)
	}
	if missing := unstamped(source); len(missing) > 0 {
		// Without checksums an unchanged manual answer cannot be told
		// from a written one; compute them from the release form.
		if err := StampChecksums(source); err != nil {
			return nil, fmt.Errorf("source notebook %s: %w", opts.Source, err)
		}
	}
	rs, err := newRestorer(source)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Source, err)
	}
	plan := planTests(source)
	if opts.Modules != nil && opts.Binary == "" {
		var pkgs []string
		for _, c := range source.Cells {
			if c.CellType == "code" {
				pkgs = append(pkgs, modules.Imports(string(c.Source))...)
			}
		}
		if len(pkgs) > 0 {
			// Built here, outside any sandbox and before any submission
			// runs: the instructor's notebook decides what is built.
			eng, err := opts.Modules.Build(ctx, pkgs, opts.Progress)
			if err != nil {
				return nil, fmt.Errorf("source notebook %s: %w", opts.Source, err)
			}
			opts.Binary = eng.Binary
		}
	}
	status, err := sandboxStatus(opts)
	if err != nil {
		return nil, err
	}
	opts.sandboxStatus = status
	subs, err := findSubmissions(opts.Source, opts.Submissions, opts.OutDir)
	if err != nil {
		return nil, err
	}
	var mine []submission
	for _, s := range subs {
		if opts.Shard.Has(s.Student) {
			mine = append(mine, s)
		}
	}
	for _, d := range []string{"feedback", "cache", "work"} {
		if err := os.MkdirAll(filepath.Join(opts.OutDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("creating the output directory: %w", err)
		}
	}
	gb := &Gradebook{
		Assignment:       strings.TrimSuffix(filepath.Base(opts.Source), ".ipynb"),
		Source:           opts.Source,
		Version:          opts.Version,
		Graded:           time.Now().UTC().Truncate(time.Second),
		WriteConfinement: confinementStatus(opts.ConfineWrites, !strings.HasPrefix(status, "namespaces")),
		Sandbox:          status,
	}
	if opts.Shard.N > 1 {
		gb.Shard = fmt.Sprintf("%d/%d", opts.Shard.K, opts.Shard.N)
	}
	results := make([]Result, len(mine))
	bar := newProgress(opts.Progress, len(mine))
	// One goroutine readies submissions in order, starting each one's
	// engine, while opts.Jobs workers run them: the next submission's engine
	// boots while the current ones run, so a worker does not wait for it.
	// The channel is unbuffered, so at most one started engine waits.
	// The workers stop when it closes the channel, after it has discarded
	// a job readied after cancellation.
	ready := make(chan *job)
	go func() {
		defer close(ready)
		for i := range mine {
			j := prepare(ctx, opts, rs, plan, srcBytes, mine[i])
			j.index = i
			select {
			case ready <- j:
			case <-ctx.Done():
				j.discard()
				return
			}
		}
	}()
	var wg, cleanups sync.WaitGroup
	workRoot, err := filepath.Abs(filepath.Join(opts.OutDir, "work"))
	if err != nil {
		return nil, err
	}
	for w := 0; w < opts.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker keeps one verifier for the submissions it grades.
			v := newVerifierSlot(opts, workRoot, w)
			defer v.close()
			for j := range ready {
				results[j.index] = j.run(ctx, v)
				// Tearing a sandbox down waits for the kernel to empty
				// its cgroup: let the next submission start meanwhile.
				cleanups.Add(1)
				go func() {
					defer cleanups.Done()
					j.cleanup()
				}()
				bar.done(results[j.index])
			}
		}()
	}
	wg.Wait()
	cleanups.Wait()
	bar.finish()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("grading cancelled: %w", err)
	}
	gb.Students = results
	if err := writeGradebook(opts.OutDir, gb); err != nil {
		return nil, err
	}
	return gb, nil
}

func withDefaults(opts Options) Options {
	if opts.OutDir == "" {
		opts.OutDir = "graded"
	}
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.NumCPU()
	}
	d := DefaultLimits
	l := &opts.Limits
	if l.CellTimeout <= 0 {
		l.CellTimeout = d.CellTimeout
	}
	if l.Grace <= 0 {
		l.Grace = d.Grace
	}
	if l.OutputLimit <= 0 {
		l.OutputLimit = d.OutputLimit
	}
	if l.MemoryLimit == 0 {
		l.MemoryLimit = d.MemoryLimit
	}
	if l.MaxProcesses <= 0 {
		l.MaxProcesses = d.MaxProcesses
	}
	if l.Budget == 0 {
		l.Budget = d.Budget
	}
	if opts.NewEngine == nil {
		opts.NewEngine = func(ctx context.Context, o engine.Options) (language.Engine, error) {
			c, err := engine.Start(ctx, o)
			if err != nil {
				return nil, err
			}
			return c, nil
		}
	}
	return opts
}

func unstamped(nb *notebook.Notebook) []string {
	var ids []string
	for _, c := range nb.Cells {
		if m, ok := MetaOf(c); ok && m.Checksum == "" {
			ids = append(ids, m.GradeID)
		}
	}
	return ids
}

// cacheKey identifies a grading of one submission: same key, same grade.
func cacheKey(opts Options, srcBytes, subBytes []byte) string {
	h := sha256.New()
	// What the sandbox could enforce changes verdicts (an unwatched run
	// cannot check processes), and hidden tests change feedback.
	fmt.Fprintf(h, "goproc %s\x00limits %+v confine %v\x00sandbox %s\x00hidden %v\x00engine %s\x00", opts.Version, opts.Limits,
		opts.ConfineWrites, opts.sandboxStatus, opts.ShowHiddenTests, opts.Binary)
	h.Write(srcBytes)
	h.Write([]byte{0})
	h.Write(subBytes)
	return hex.EncodeToString(h.Sum(nil))
}

// A job is a submission readied for grading: read, checked against the
// cache, restored, given a working directory, a sandbox and, when it has
// to run, a started engine.
type job struct {
	index  int
	opts   Options
	source *notebook.Notebook
	plan   testPlan
	res    Result
	// final reports that res is the result (cached, or failed early).
	final    bool
	restored *notebook.Notebook
	workDir  string
	mirror   string
	feedback string
	cache    string
	box      *sandbox.Sandbox
	start    Starter
	// engine is the engine started ahead, and engineErr why it failed to
	// start; execute takes it for the first cell.
	engine    language.Engine
	engineErr error
	// spent is the time spent readying the job, counted in its Seconds.
	spent time.Duration
	// readied is when its engine was started.
	readied time.Time
}

// prepare readies sub for grading. Unless the cache has its result or it
// cannot be graded, its sandbox is made and its engine started, to be used
// by run.
func prepare(ctx context.Context, opts Options, rs *restorer, plan testPlan, srcBytes []byte, sub submission) *job {
	t0 := time.Now()
	j := &job{opts: opts, source: rs.source, plan: plan, res: Result{Student: sub.Student, File: sub.Path}}
	defer func() { j.spent = time.Since(t0) }()
	fail := func(err error) *job {
		j.res, j.final = failed(j.source, j.res, err, t0), true
		return j
	}
	if sub.Problem != "" {
		return fail(errors.New(sub.Problem))
	}
	id := workName(sub.Student)
	j.feedback = filepath.Join(opts.OutDir, "feedback", sub.Student+".ipynb")
	j.cache = filepath.Join(opts.OutDir, "cache", id+".json")
	subBytes, err := readSubmission(sub.Path)
	if err != nil {
		return fail(err)
	}
	j.res.Key = cacheKey(opts, srcBytes, subBytes)
	if !opts.Force {
		if cached, ok := readCache(j.cache, j.res.Key); ok && cached.Student == sub.Student {
			if _, err := os.Stat(j.feedback); err == nil {
				cached.Cached = true
				cached.File = sub.Path
				j.res, j.final = cached, true
				return j
			}
		}
	}
	nb, err := notebook.Parse(subBytes)
	if err != nil {
		return fail(fmt.Errorf("the submission is not a notebook: %w", err))
	}
	restored, changes, err := rs.restore(nb)
	if err != nil {
		return fail(err)
	}
	j.restored, j.res.Changes = restored, changes

	workRoot, err := filepath.Abs(filepath.Join(opts.OutDir, "work"))
	if err != nil {
		return fail(err)
	}
	j.workDir = filepath.Join(workRoot, id)
	for _, d := range []string{j.workDir} {
		if err := removeWithin(workRoot, d); err != nil {
			return fail(fmt.Errorf("clearing the working directory: %w", err))
		}
		// A sandbox sees its directory read-only as its share, as another
		// user.
		if err := os.Mkdir(d, 0o755); err != nil {
			return fail(fmt.Errorf("creating the working directory: %w", err))
		}
	}
	if !opts.NoSandbox {
		box, err := sandbox.New(sandbox.Config{
			WorkDir:     j.workDir,
			Binary:      opts.Binary,
			MemoryBytes: opts.Limits.MemoryLimit,
			MaxTasks:    tasksFor(opts.Limits.MaxProcesses),
		})
		if err != nil {
			j.res.Confinement = "no sandbox: " + err.Error()
		} else {
			j.box = box
		}
	}
	env := engineEnv(j.box != nil, importsMultiprocessing(restored))
	if len(plan.inProcess) > 0 {
		// Tests that call the answer's code run in its engine and read
		// the record of its cells from its working directory.
		j.mirror = filepath.Join(j.workDir, ".grade-outputs.json")
		inBox := j.mirror
		if j.box != nil {
			inBox = sandbox.SharePath + "/.grade-outputs.json"
		}
		env = append(env, grade.EnvOutputs+"="+inBox)
	}
	binary := opts.Binary
	perProcess := opts.Limits.MemoryLimit
	if j.box != nil && j.box.Protections().Cgroup != "" && perProcess > 0 {
		// The cgroup caps all the submission's processes together; an
		// address-space cap per process as low as that would stop a Go
		// program from starting (it reserves address space up front).
		env = append(env, "GOMEMLIMIT="+strconv.FormatUint(perProcess/2, 10))
		perProcess = 0
	}
	// An engine started again after a crash starts no workers ahead: they
	// would start inside the next cell, where they would pass for its
	// processes. The first engine's are started while it waits.
	restartEnv := append(append([]string(nil), env...), "GOPROC_MP_PREWARM=0")
	first := true
	j.start = func(ctx context.Context) (language.Engine, error) {
		e := env
		if !first {
			e = restartEnv
		}
		first = false
		o := engine.Options{
			Binary:        binary,
			Dir:           j.workDir,
			Env:           e,
			MemoryLimit:   perProcess,
			MaxProcesses:  opts.Limits.MaxProcesses,
			ConfineWrites: opts.ConfineWrites,
			// Without a sandbox, Landlock is the boundary: all of it.
			ConfineAll:    opts.ConfineWrites && j.box == nil,
			NoSpare:       true,
			MaxFrameBytes: opts.Limits.OutputLimit,
			MaxEventBytes: maxEventBytes(opts.Limits.OutputLimit),
		}
		if j.box != nil {
			o.Launcher = j.box
		}
		return opts.NewEngine(ctx, o)
	}
	j.engine, j.engineErr = j.start(ctx)
	j.readied = time.Now()
	return j
}

// stripActiveContent drops the outputs a browser would run as code
// (JavaScript) from the feedback a student's cells produced.
func stripActiveContent(nb *notebook.Notebook) {
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			for k := range o.Data {
				if strings.Contains(k, "javascript") || strings.Contains(k, "ecmascript") {
					delete(o.Data, k)
				}
			}
		}
	}
}

// engineFailedToStart reports whether a cell of nb could not run because
// its engine did not start.
func engineFailedToStart(nb *notebook.Notebook) bool {
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "error" && o.EName == ErrNameEngineStart {
				return true
			}
		}
	}
	return false
}

// gradeIDs are the grade_ids of nb's cells.
func gradeIDs(nb *notebook.Notebook) map[string]bool {
	ids := map[string]bool{}
	for _, c := range nb.Cells {
		if m, ok := MetaOf(c); ok {
			ids[m.GradeID] = true
		}
	}
	return ids
}

// testIDs reports whether a grade_id is one of nb's test cells.
func testIDs(nb *notebook.Notebook) func(string) bool {
	ids := map[string]bool{}
	for _, c := range nb.Cells {
		if m, ok := MetaOf(c); ok && m.IsTest(c.CellType) {
			ids[m.GradeID] = true
		}
	}
	return func(id string) bool { return ids[id] }
}

// importsMultiprocessing reports whether a code cell of nb imports
// goproc's multiprocessing package.
func importsMultiprocessing(nb *notebook.Notebook) bool {
	for _, c := range nb.Cells {
		if c.CellType == "code" && strings.Contains(string(c.Source), `"multiprocessing"`) {
			return true
		}
	}
	return false
}

// discard releases what prepare started, for a job that will not run.
func (j *job) discard() {
	if j.engine != nil {
		j.engine.Close()
		j.engine = nil
	}
	j.cleanup()
}

// cleanup destroys the job's sandbox, with everything still running in
// it, and removes its working directories.
func (j *job) cleanup() {
	if j.box != nil {
		j.box.Destroy()
		j.box = nil
	}
	if j.workDir != "" {
		workRoot := filepath.Dir(j.workDir)
		removeWithin(workRoot, j.workDir)
	}
}

// run grades the job's submission; it never fails: what went wrong is in
// the result. The caller cleans up after it.
func (j *job) run(ctx context.Context, v *verifierSlot) Result {
	if j.final {
		return j.res
	}
	// The time spent in prepare counts; the time waiting for a worker does not.
	t0 := time.Now().Add(-j.spent)
	res, source, opts := j.res, j.source, j.opts
	// The engine started ahead serves the first cell; a restart after a
	// crash or hang starts a fresh one.
	first, firstErr := j.engine, j.engineErr
	j.engine = nil
	defer func() {
		if first != nil { // no cell ran
			first.Close()
		}
	}()
	start := func(ctx context.Context) (language.Engine, error) {
		if first != nil || firstErr != nil {
			e, err := first, firstErr
			first, firstErr = nil, nil
			return e, err
		}
		return j.start(ctx)
	}
	var verifier Starter
	if v != nil {
		verifier = v.engine
	}
	setup := runSetup{student: start, verifier: verifier, keepVerifier: true, plan: j.plan, box: j.box, budget: opts.Limits.Budget,
		mirror: j.mirror, isTest: testIDs(source), known: gradeIDs(source)}
	setup.reservedDeclared = j.plan.reservedDeclared(j.restored)
	record := ""
	if v != nil {
		record = v.record()
	} else {
		record = filepath.Join(filepath.Dir(j.workDir), filepath.Base(j.workDir)+".record.json")
	}
	if j.box != nil && time.Since(j.readied) < time.Second {
		// The engine came up moments ago: let the workers it starts ahead
		// start before the first cell, so that they are no cell's.
		j.box.Settle(15*time.Millisecond, time.Second)
	}
	confined, err := execute(ctx, j.restored, setup, opts.Limits, record)
	if err != nil {
		return failed(source, res, fmt.Errorf("running the submission: %w", err), t0)
	}
	if j.box != nil {
		res.Sandbox = j.box.Protections().String()
	}
	if opts.ConfineWrites && confined != "" && !strings.HasPrefix(confined, "writes confined") && res.Confinement == "" {
		res.Confinement = confined
	}
	if len(setup.reservedDeclared) > 0 {
		res.Reserved = setup.reservedDeclared
	}
	res.Scores = score(source, j.restored)
	for _, s := range res.Scores {
		res.Total += s.Points
		res.Max += s.Max
	}
	if !opts.ShowHiddenTests {
		hideHiddenTests(j.restored)
	}
	stripActiveContent(j.restored)
	annotate(j.restored, res)
	if err := j.restored.WriteFile(j.feedback); err != nil {
		return failed(source, res, fmt.Errorf("writing the feedback notebook: %w", err), t0)
	}
	res.Feedback = j.feedback
	res.Seconds = roundSeconds(time.Since(t0))
	if !engineFailedToStart(j.restored) {
		// A cell whose engine could not start says something about the
		// machine at that moment, not about the submission: grade it again.
		writeCache(j.cache, res)
	}
	return res
}

// failed is the result of a submission that could not be graded: every
// graded cell scores 0 and says why.
func failed(source *notebook.Notebook, res Result, err error, t0 time.Time) Result {
	res.Error = err.Error()
	res.Scores = nil
	res.Total, res.Max = 0, 0
	for _, c := range source.Cells {
		if m, ok := MetaOf(c); ok && (m.Grade || m.Task) {
			kind := "test"
			if m.IsManual(c.CellType) {
				kind = "manual"
			}
			res.Scores = append(res.Scores, Score{GradeID: m.GradeID, Kind: kind, Max: m.Points, Feedback: "not graded: " + err.Error()})
			res.Max += m.Points
		}
	}
	res.Seconds = roundSeconds(time.Since(t0))
	return res
}

func roundSeconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

func readCache(path, key string) (Result, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Result{}, false
	}
	var r Result
	if json.Unmarshal(b, &r) != nil || r.Key != key || r.Error != "" {
		return Result{}, false
	}
	return r, true
}

func writeCache(path string, r Result) {
	b, err := json.MarshalIndent(r, "", " ")
	if err == nil {
		os.WriteFile(path, b, 0o644)
	}
}
