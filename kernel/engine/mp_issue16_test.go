package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 16, through the real engine.

func TestPoolResultsTypedAtCallSite(t *testing.T) {
	c := startClient(t)
	mustRun := func(code string) string {
		t.Helper()
		res, r := run(t, c, code)
		if res.Status != "ok" {
			t.Fatalf("%q: %+v\nstderr: %s", code, res.Error, r.text("stderr"))
		}
		return r.text("stdout")
	}
	mustRun("import (\"fmt\"; \"multiprocessing\")")
	mustRun("func square(x int) int { return x * x }\nfunc add(a, b int) int { return a + b }\ntype pair struct{ A, B int }\nfunc mk(x int) pair { return pair{x, x * x} }")
	out := mustRun(`pool := multiprocessing.NewPool(2)
defer pool.Close()
var squares []int
err := pool.MapInto(&squares, square, []int{1, 2, 3, 4, 5})
total := 0
for _, s := range squares {
	total += s
}
fmt.Println(squares, total, err)
var sums []int
fmt.Println(pool.StarMapInto(&sums, add, [][]any{{1, 2}, {3, 4}}), sums)
var one int
fmt.Println(pool.ApplyInto(&one, add, 20, 22), one+0)
var pairs []pair
fmt.Println(pool.MapInto(&pairs, mk, []int{2, 3}), pairs[1].B)
plain, err := pool.Map(square, []int{1, 2, 3, 4, 5})
fmt.Println(plain, err)
var wrong []string
fmt.Println(pool.MapInto(&wrong, square, []int{1}))
fmt.Println(pool.MapInto(squares, square, []int{1}))`)
	want := `[1 4 9 16 25] 55 <nil>
<nil> [3 7]
<nil> 42
<nil> 9
[1 4 9 16 25] <nil>
result 0: pool: a result of type int cannot go into a variable of type string
pool: the results go into a variable: pass its address (&results), not a []int
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
}

// Re-running a cell that leaves its pool unclosed 20 times left 44 worker
// processes until the kernel stopped: the old pools are now terminated once
// the garbage collector finds nothing refers to them.
func TestUnclosedPoolsReclaimed(t *testing.T) {
	c := startClient(t)
	res, r := run(t, c, "import (\"fmt\"; \"os\"; \"runtime\"; \"time\"; \"multiprocessing\")\nfunc square(x int) int { return x * x }\nfmt.Println(os.Getpid())")
	if res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
	engine, _ := strconv.Atoi(strings.TrimSpace(r.text("stdout")))
	for i := 0; i < 20; i++ {
		res, r := run(t, c, "pool := multiprocessing.NewPool(2)\nsquares, err := pool.Map(square, []int{1, 2, 3, 4, 5})\nfmt.Println(squares, err)")
		if res.Status != "ok" || r.text("stdout") != "[1 4 9 16 25] <nil>\n" {
			t.Fatalf("run %d: %+v %q", i, res.Error, r.text("stdout"))
		}
	}
	var n int
	for deadline := time.Now().Add(10 * time.Second); ; {
		if res, _ := run(t, c, "runtime.GC()\ntime.Sleep(50 * time.Millisecond)"); res.Status != "ok" {
			t.Fatalf("%+v", res.Error)
		}
		n = childrenOf(engine)
		// The last pool's 2 workers, and the warm spares.
		if n <= 6 || time.Now().After(deadline) {
			break
		}
	}
	if n > 6 {
		t.Fatalf("%d processes left under the engine after 20 unclosed pools", n)
	}
	t.Logf("%d processes under the engine after 20 unclosed pools", n)
	// The pool the notebook still holds works.
	res, r = run(t, c, "fmt.Println(pool.Map(square, []int{3}))")
	if res.Status != "ok" || r.text("stdout") != "[9] <nil>\n" {
		t.Fatalf("the live pool: %+v %q", res.Error, r.text("stdout"))
	}
}

// childrenOf counts the live processes whose parent is pid.
func childrenOf(pid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		rest := s[strings.LastIndexByte(s, ')')+1:]
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[0] != "Z" && fields[1] == fmt.Sprint(pid) {
			n++
		}
	}
	return n
}
