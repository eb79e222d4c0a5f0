package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/language"
)

// TestMultiprocessingThroughEngine runs the assignment's patterns in the real
// engine: children are real goproc workers rebuilding the notebook.
func TestMultiprocessingThroughEngine(t *testing.T) {
	c := startClient(t)
	mustRun := func(code string) (string, string) {
		t.Helper()
		res, r := run(t, c, code)
		if res.Status != "ok" {
			t.Fatalf("%q: %+v\nstderr: %s", code, res.Error, r.text("stderr"))
		}
		text, _ := res.Result["text/plain"].(string)
		return r.text("stdout"), text
	}
	mustRun("import (\"fmt\"; \"os\"; \"multiprocessing\")")
	mustRun("func greet(tag string) {\n\tp := multiprocessing.CurrentProcess()\n\tfmt.Printf(\"child %s pid=%d name=%s\\n\", tag, os.Getpid(), p.Name)\n}")
	out, _ := mustRun("p := &multiprocessing.Process{Target: greet, Args: []any{\"q3\"}}\np.Start()\np.Join()\nfmt.Println(\"parent done\", p.ExitCode())")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "child q3 pid=") || !strings.HasPrefix(lines[1], "parent done 0") {
		t.Fatalf("Q3 output:\n%s", out)
	}
	if strings.Contains(lines[0], fmt.Sprintf("pid=%d ", 0)) {
		t.Fatalf("bad pid: %s", lines[0])
	}

	mustRun("func square(x int) int { return x * x }")
	out, _ = mustRun("pool := multiprocessing.NewPool(2)\nsquares, err := pool.Map(square, []int{1, 2, 3, 4, 5})\npool.Close()\nfmt.Println(squares, err)")
	if out != "[1 4 9 16 25] <nil>\n" {
		t.Fatalf("Q5 output: %q", out)
	}

	mustRun("func show(n int) { fmt.Println(\"number\", n) }")
	out, _ = mustRun("var ps []*multiprocessing.Process\nfor i := 1; i <= 4; i++ {\n\tp := &multiprocessing.Process{Target: show, Args: []any{i}}\n\tp.Start()\n\tps = append(ps, p)\n}\nfor _, p := range ps { p.Join() }")
	got := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		got[l] = true
	}
	for i := 1; i <= 4; i++ {
		if !got[fmt.Sprintf("number %d", i)] || len(got) != 4 {
			t.Fatalf("Q6 output:\n%s", out)
		}
	}
	// A global changed after its declaration is seen by the child as at Start.
	mustRun("var scale = 1\nfunc scaled(x int) { fmt.Println(\"scaled\", x*scale) }")
	out, _ = mustRun("scale = 10\np2 := &multiprocessing.Process{Target: scaled, Args: []any{4}}\np2.Start()\np2.Join()")
	if out != "scaled 40\n" {
		t.Fatalf("globals at Start: %q", out)
	}
	// Redefining the target runs the new definition.
	mustRun("func scaled(x int) { fmt.Println(\"redefined\", x) }")
	out, _ = mustRun("p3 := &multiprocessing.Process{Target: scaled, Args: []any{4}}\np3.Start()\np3.Join()")
	if out != "redefined 4\n" {
		t.Fatalf("redefinition: %q", out)
	}
	// A closure gets a clear error.
	res, _ := run(t, c, "p4 := &multiprocessing.Process{Target: func() {}}\nerr := p4.Start()\nfmt.Println(err)")
	if res.Status != "ok" {
		t.Fatalf("closure cell: %+v", res.Error)
	}
}

// TestInterruptTerminatesChildren interrupts a cell blocked in Join: the
// child is terminated, the notebook's state is kept, nothing is left behind.
func TestInterruptTerminatesChildren(t *testing.T) {
	c := startClient(t)
	if res, _ := run(t, c, "import (\"fmt\"; \"os\"; \"time\"; \"multiprocessing\")\nfunc sleeper() { fmt.Println(\"child pid\", os.Getpid()); time.Sleep(time.Minute) }\nkept := 7"); res.Status != "ok" {
		t.Fatalf("setup: %+v", res.Error)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{}
	done := make(chan language.ExecuteResult, 1)
	go func() {
		done <- c.Execute(ctx, language.ExecuteRequest{Code: "p := &multiprocessing.Process{Target: sleeper}\np.Start()\np.Join()"}, r)
	}()
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		fmt.Sscanf(r.text("stdout"), "child pid %d", &pid)
	}
	if pid == 0 {
		t.Fatalf("child never printed its pid: %q", r.text("stdout"))
	}
	cancel()
	res := <-done
	if res.Error == nil || res.EngineRestarted {
		t.Fatalf("want an interrupted cell with state kept, got %+v", res.Error)
	}
	for deadline := time.Now().Add(3 * time.Second); processAlive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still alive after the interrupt", pid)
		}
	}
	if res, _ := run(t, c, "kept"); res.Result["text/plain"] != "7" {
		t.Fatalf("state lost: %+v", res)
	}
}

func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// a zombie (state Z) has exited
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

// A panic in a child names the interpreted frames and where they are in the
// notebook: a function of an earlier cell by its line there, the running
// cell's by line and column.
func TestChildPanicTraceback(t *testing.T) {
	c := startClient(t)
	run(t, c, "import (\"fmt\"; \"multiprocessing\")")
	run(t, c, "// a helper\n\nfunc deeper(x int) int {\n\tif x == 3 {\n\t\tpanic(\"three\")\n\t}\n\treturn x\n}")
	res, r := run(t, c, "func boom(x int) int { return deeper(x) * 2 }\npool := multiprocessing.NewPool(2)\n_, err := pool.Map(boom, []int{1, 2, 3, 4})\npool.Close()\nfmt.Println(err)")
	if res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
	out := r.text("stdout")
	for _, want := range []string{"boom(3) panicked", "main.deeper(...)  (declared in an earlier cell, its line 3: func deeper(x int) int {)", "main.boom(...)  (line 1,"} {
		if !strings.Contains(out, want) {
			t.Errorf("pool error lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(r.text("stderr"), "panic: main.") {
		t.Errorf("raw frame lines reached stderr:\n%s", r.text("stderr"))
	}
	res, r = run(t, c, "func crash() {\n\tdeeper(3)\n}\np := multiprocessing.NewProcess(crash)\np.Start()\np.Join()\nfmt.Println(\"exit\", p.ExitCode())")
	if res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
	stderr := r.text("stderr")
	for _, want := range []string{"panic: three", "goroutine running the target", "main.deeper(...)  (declared in an earlier cell, its line 3", "main.crash(...)  (line 1,"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("process traceback lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(r.text("stdout"), "exit 1") {
		t.Errorf("exit code: %s", r.text("stdout"))
	}
}

// A child evaluates only the declarations its function needs, in notebook
// order: each function binds what it bound in the notebook (yaegi binds a
// call when it compiles it, so a() keeps the h of its time), a later
// definition is not undone when an older chunk is evaluated after it,
// methods of the types it uses come along, globals hold the parent's
// values, and initialisers are not run again.
func TestChildRebuildsWhatItNeeds(t *testing.T) {
	c := startClient(t)
	mustRun := func(code string) string {
		t.Helper()
		res, r := run(t, c, code)
		if res.Status != "ok" {
			t.Fatalf("%q: %+v\nstderr: %s", code, res.Error, r.text("stderr"))
		}
		return r.text("stdout")
	}
	mustRun(`import ("fmt"; "strings"; "multiprocessing")`)
	mustRun("func load() int { fmt.Println(\"loading\"); return 1 }\nvar loaded = load()")
	mustRun("type T struct{ N int }")
	mustRun("func (t T) String() string { return fmt.Sprintf(\"T(%d)\", t.N) }")
	mustRun("func h() string { return \"h1\" }\nvar x = 10")
	mustRun("func a() { fmt.Println(\"a:\", h(), x, loaded, T{3}) }")
	mustRun("func h() string { return \"h2\" }")
	mustRun("func onlyH(int) string { return h() }")
	mustRun("func withX(int) string { return fmt.Sprint(x, \" \", h()) }")
	mustRun("x = 20\nloaded = 5")
	parent := mustRun("a()")
	out := mustRun("p := multiprocessing.NewProcess(a)\np.Start()\np.Join()")
	if out != parent || !strings.HasSuffix(out, " 20 5 T(3)\n") || strings.Contains(out, "loading") {
		t.Errorf("child output %q; the notebook's own a() printed %q", out, parent)
	}
	// One worker: onlyH needs h's latest chunk; withX then needs the older
	// chunk that declared x and the first h, which must not undo h2.
	out = mustRun("pool := multiprocessing.NewPool(1)\nr1, err := pool.Map(onlyH, []int{1})\nif err != nil { panic(err) }\nr2, err := pool.Map(withX, []int{1})\nif err != nil { panic(err) }\npool.Close()\nfmt.Println(strings.Join(r1.([]string), \",\"), strings.Join(r2.([]string), \",\"))")
	if out != "h2 20 h2\n" {
		t.Errorf("pool output %q, want %q", out, "h2 20 h2\n")
	}
}

// A child that crashes (a stack overflow) is reported in one line, not with
// the Go runtime's hundreds of lines of the interpreter's stacks.
func TestChildCrashReportedInOneLine(t *testing.T) {
	c := startClient(t)
	run(t, c, "import (\"fmt\"; \"multiprocessing\")")
	run(t, c, "func rec(n int) int { return rec(n+1) + 1 }\nfunc deep() { rec(0) }\nfunc deepTask(int) int { return rec(0) }")
	res, r := run(t, c, "p := multiprocessing.NewProcess(deep)\np.Start()\np.Join()\nfmt.Println(\"exit\", p.ExitCode())")
	if res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
	stderr := r.text("stderr")
	if !strings.Contains(stderr, "crashed: fatal error: stack overflow") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("child crash report:\n%s", stderr)
	}
	if !strings.Contains(r.text("stdout"), "exit 2") {
		t.Errorf("exit code: %s", r.text("stdout"))
	}
	res, r = run(t, c, "pool := multiprocessing.NewPool(1)\n_, err := pool.Map(deepTask, []int{1})\npool.Terminate()\nfmt.Println(err)")
	if res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
	if out := r.text("stdout"); !strings.Contains(out, "fatal error: stack overflow") {
		t.Errorf("pool error: %s", out)
	}
	if strings.Contains(r.text("stderr"), "goroutine ") {
		t.Errorf("the runtime's stacks reached the cell:\n%s", r.text("stderr"))
	}
}

// A pool's workers get the globals a function reaches with its first chunk,
// as they were when the pool first ran it; a later pool sees later values.
func TestPoolGlobalsAsOfFirstUse(t *testing.T) {
	c := startClient(t)
	run(t, c, "import (\"fmt\"; \"multiprocessing\")")
	run(t, c, "var scale = 2\nvar unused = make([]int, 100000)\nfunc scaled(x int) int { return x * scale + len(unused)*0 }\nfunc plain(x int) int { return x + 1 }")
	res, r := run(t, c, "pool := multiprocessing.NewPool(1)\nr1, _ := pool.Map(scaled, []int{1})\nscale = 3\nr2, _ := pool.Map(scaled, []int{1})\nr3, _ := pool.Map(plain, []int{1})\npool.Close()\npool2 := multiprocessing.NewPool(1)\nr4, _ := pool2.Map(scaled, []int{1})\npool2.Close()\nfmt.Println(r1, r2, r3, r4)")
	if res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
	if out := r.text("stdout"); out != "[2] [2] [2] [3]\n" {
		t.Errorf("got %q, want %q", out, "[2] [2] [2] [3]\n")
	}
}

// A child does not re-run the initialisers of globals its function never
// reads, even when a later cell imports a package (imports are evaluated on
// arrival, alone).
func TestChildSkipsUnreadInitialisers(t *testing.T) {
	c := startClient(t)
	marks := filepath.Join(t.TempDir(), "inits")
	run(t, c, `import ("fmt"; "os"; "multiprocessing")`)
	run(t, c, fmt.Sprintf("func initOnce() int {\n\tf, _ := os.OpenFile(%q, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)\n\tfmt.Fprintln(f, os.Getpid())\n\tf.Close()\n\treturn 1\n}\nvar expensive = initOnce()", marks))
	run(t, c, "import \"strings\"\nfunc shout() { fmt.Println(strings.ToUpper(\"hi\")) }")
	res, r := run(t, c, "p := multiprocessing.NewProcess(shout)\np.Start()\np.Join()")
	if res.Status != "ok" || r.text("stdout") != "HI\n" {
		t.Fatalf("%+v %q", res.Error, r.text("stdout"))
	}
	b, err := os.ReadFile(marks)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 1 {
		t.Errorf("the initialiser ran %d times, want once (in the notebook):\n%s", n, b)
	}
}

// TestChildRuntimeSettings: a worker bootstraps with its own GOMAXPROCS and
// GOGC, but its target and pool tasks run with the notebook's, and commands
// they start see the notebook's environment.
func TestChildRuntimeSettings(t *testing.T) {
	for _, env := range [][]string{nil, {"GOMAXPROCS=3", "GOGC=50"}} {
		t.Run(strings.Join(env, ","), func(t *testing.T) {
			o := Options{Binary: testBinary, Log: os.Stderr, NoSpare: true}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GOMAXPROCS=") && !strings.HasPrefix(kv, "GOGC=") {
					o.Env = append(o.Env, kv)
				}
			}
			o.Env = append(o.Env, env...)
			c, err := Start(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			code := `import ("fmt"; "os"; "runtime"; "runtime/debug"; "multiprocessing")
func settings() string {
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	return fmt.Sprintf("procs=%d gogc=%d env=%q,%q", runtime.GOMAXPROCS(0), gc, os.Getenv("GOMAXPROCS"), os.Getenv("GOGC"))
}
func report() { fmt.Println("process", settings()) }
func task(int) string { return settings() }
fmt.Println("parent", settings())
p := &multiprocessing.Process{Target: report}
p.Start()
p.Join()
pool := multiprocessing.NewPool(2)
got, err := pool.Map(task, []int{1, 2})
pool.Close()
fmt.Println("pool", got.([]string)[0], err)`
			res, r := run(t, c, code)
			if res.Status != "ok" {
				t.Fatalf("%+v\n%s", res.Error, r.text("stderr"))
			}
			lines := strings.Split(strings.TrimSpace(r.text("stdout")), "\n")
			if len(lines) != 3 {
				t.Fatalf("output:\n%s", r.text("stdout"))
			}
			parent := strings.TrimPrefix(lines[0], "parent ")
			if env != nil && parent != `procs=3 gogc=50 env="3","50"` {
				t.Fatalf("parent: %s", lines[0])
			}
			if lines[1] != "process "+parent || lines[2] != "pool "+parent+" <nil>" {
				t.Fatalf("children do not run as the notebook does:\n%s", r.text("stdout"))
			}
		})
	}
}

// TestStartDoesNotWaitForTheChild: Start returns before a new child has
// rebuilt the notebook, so processes started in a row start up side by
// side; a child that cannot rebuild it reports why and exits with code 1.
func TestStartDoesNotWaitForTheChild(t *testing.T) {
	// No warm workers: every Start gets a worker spawned for it.
	c, err := Start(context.Background(), Options{Binary: testBinary, Log: os.Stderr, NoSpare: true,
		Env: append(os.Environ(), "GOPROC_MP_SPARES=0")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustRun := func(code string) *recorder {
		t.Helper()
		res, r := run(t, c, code)
		if res.Status != "ok" {
			t.Fatalf("%q: %+v\nstderr: %s", code, res.Error, r.text("stderr"))
		}
		return r
	}
	mustRun(`import ("fmt"; "multiprocessing")
func hello(i int) { fmt.Println("hello", i) }`)
	// Eight starts in a row: each returns before its child is up, and
	// every child runs.
	r := mustRun(`var ps []*multiprocessing.Process
for i := range 8 {
	p := &multiprocessing.Process{Target: hello, Args: []any{i}}
	if err := p.Start(); err != nil {
		panic(err)
	}
	ps = append(ps, p)
}
for _, p := range ps {
	p.Join()
}`)
	out := r.text("stdout")
	for i := range 8 {
		if !strings.Contains(out, fmt.Sprintf("hello %d\n", i)) {
			t.Fatalf("child %d missing:\n%s", i, out)
		}
	}

	mustRun(`func boom() int {
	if multiprocessing.CurrentProcess().Name != "MainProcess" {
		panic("refusing to initialise in a child")
	}
	return 1
}
var needed = boom()
func useNeeded() { fmt.Println("child sees", needed) }`)
	r = mustRun(`p := &multiprocessing.Process{Target: useNeeded}
fmt.Println("start:", p.Start())
p.Join()
fmt.Println("exit code", p.ExitCode())`)
	if got := r.text("stdout"); got != "start: <nil>\nexit code 1\n" {
		t.Fatalf("stdout: %q", got)
	}
	if e := r.text("stderr"); !strings.Contains(e, "could not start:") || !strings.Contains(e, "refusing to initialise in a child") {
		t.Fatalf("stderr: %q", e)
	}
	// Terminated while it starts up: the notebook asked for that, so no
	// "could not start".
	r = mustRun(`t := &multiprocessing.Process{Target: hello, Args: []any{1}}
t.Start()
t.Terminate()
t.Join()
fmt.Println("terminated", t.ExitCode() != 0 || true)`)
	if e := r.text("stderr"); strings.Contains(e, "could not start") {
		t.Fatalf("stderr after Terminate: %q", e)
	}
}

// TestChildMemoryLimit: under a memory cap the engine's children get the
// same soft memory limit as the engine, so they collect harder near the cap
// they inherit instead of running out of memory.
func TestChildMemoryLimit(t *testing.T) {
	// The grader's default cap (a Go engine reserves over 1 GiB of address
	// space, so a smaller cap stops it at random).
	c, err := Start(context.Background(), Options{Binary: testBinary, Log: os.Stderr, NoSpare: true, MemoryLimit: 4 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, r := run(t, c, `import ("fmt"; "runtime/debug"; "multiprocessing")
func limit() { fmt.Println("child", debug.SetMemoryLimit(-1)) }
fmt.Println("engine", debug.SetMemoryLimit(-1))
p := &multiprocessing.Process{Target: limit}
p.Start()
p.Join()`)
	if res.Status != "ok" {
		t.Fatalf("%+v\n%s", res.Error, r.text("stderr"))
	}
	if got, want := r.text("stdout"), fmt.Sprintf("engine %d\nchild %d\n", 2<<30, 2<<30); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestCompiledCodeInChildren runs numeric code that the kernel compiles
// (kernel/numcode) in child processes, which find it in the notebook they
// rebuild: a loop in a target that prints, a recursive function mapped by
// a pool, a float64 procedure, and one that calls another. The results are
// Go's.
func TestCompiledCodeInChildren(t *testing.T) {
	c := startClient(t)
	mustRun := func(code string) string {
		t.Helper()
		res, r := run(t, c, code)
		if res.Status != "ok" {
			t.Fatalf("%q: %+v\nstderr: %s", code, res.Error, r.text("stderr"))
		}
		return r.text("stdout")
	}
	mustRun(`import ("fmt"; "multiprocessing")

func report(start, end int) {
	var total uint64
	for i := uint64(start); i < uint64(end); i++ {
		total += i * i
	}
	fmt.Println("child", total)
}

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func piPart(start, end, n int) float64 {
	h := 1.0 / float64(n)
	sum := 0.0
	for i := start; i < end; i++ {
		x := (float64(i) + 0.5) * h
		sum += 4 / (1 + x*x)
	}
	return sum * h
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func countPrimes(lo, hi int) int {
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	return c
}`)
	out := mustRun("p := &multiprocessing.Process{Target: report, Args: []any{1, 1_000_000}}\np.Start()\np.Join()")
	if out != "child 333332833333500000\n" {
		t.Fatalf("a compiled loop in a child: %q", out)
	}
	out = mustRun(`pool := multiprocessing.NewPool(2)
fibs, err := pool.Map(fib, []int{10, 20, 25})
parts, err2 := pool.StarMap(piPart, [][]any{{0, 500, 1000}, {500, 1000, 1000}})
counts, err3 := pool.StarMap(countPrimes, [][]any{{0, 5000}, {5000, 10000}})
pool.Close()
sum := 0.0
for _, p := range parts.([]float64) {
	sum += p
}
fmt.Println(fibs, err, err2, counts, err3)
fmt.Printf("%.15f %.15f\n", sum, piPart(0, 1000, 1000))`)
	// What Go gives for the halves added up, and for the whole.
	if out != "[55 6765 75025] <nil> <nil> [669 560] <nil>\n3.141592736923127 3.141592736923123\n" {
		t.Fatalf("compiled functions in pool workers: %q", out)
	}
}

// TestPrewarmedWorkers: with GOPROC_MP_PREWARM=2 the engine starts two
// workers before any cell runs, and the first Process runs in one of them;
// without it, no worker starts until a cell asks for one.
func TestPrewarmedWorkers(t *testing.T) {
	const code = `import ("fmt"; "os"; "strings"; "time"; "multiprocessing")
func children() []string {
	var pids []string
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids
}
func whoami() { fmt.Println(os.Getpid()) }
deadline := time.Now().Add(10 * time.Second)
for len(children()) < WANT && time.Now().Before(deadline) {
	time.Sleep(5 * time.Millisecond)
}
time.Sleep(50 * time.Millisecond) // none beyond WANT
fmt.Println(strings.Join(children(), " "))
p := &multiprocessing.Process{Target: whoami}
p.Start()
p.Join()`
	for _, want := range []int{0, 2} {
		t.Run(fmt.Sprint("prewarm=", want), func(t *testing.T) {
			env := append(os.Environ(), "GOPROC_MP_SPARES=0", fmt.Sprint("GOPROC_MP_PREWARM=", want))
			c, err := Start(context.Background(), Options{Binary: testBinary, Log: os.Stderr, NoSpare: true, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			res, r := run(t, c, strings.ReplaceAll(code, "WANT", fmt.Sprint(want)))
			if res.Status != "ok" {
				t.Fatalf("%+v\nstderr: %s", res.Error, r.text("stderr"))
			}
			lines := strings.Split(strings.TrimRight(r.text("stdout"), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("output:\n%s", r.text("stdout"))
			}
			warm, child := strings.Fields(lines[0]), lines[1]
			if len(warm) != want {
				t.Fatalf("%d workers before the first Start, want %d: %q", len(warm), want, warm)
			}
			if want > 0 && !slices.Contains(warm, child) {
				t.Errorf("the Process ran in pid %s, not in a prewarmed worker %q", child, warm)
			}
		})
	}
}
