package multiprocessing_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/goproc/goproc/runtime/multiprocessing"
)

// A pool nothing refers to any more is terminated (issue 16): a cell that
// leaves its pool unclosed, run 10 times, leaves one pool, not ten. (yaegi
// keeps the old values of a redeclared variable: the pools no global
// reaches are found by walking the globals, see poolsweep.go.)
func TestUnreferencedPoolTerminated(t *testing.T) {
	decl(t, `func gcSquare(x int) int { return x * x }`)
	before := multiprocessing.PoolsAbandoned()
	for range 10 {
		capture(t, func() {
			run(t, `gcPool := multiprocessing.NewPool(2)
gcSquares, err := gcPool.Map(gcSquare, []int{1, 2, 3})
fmt.Println(gcSquares, err)`)
		})
		nb.EndCell() // each run is a new cell, as in the engine
	}
	out, _ := capture(t, func() { run(t, `fmt.Println(gcPool.Map(gcSquare, []int{4}))`) })
	if out != "[16] <nil>\n" {
		t.Fatalf("the pool still referred to: %q", out)
	}
	var n int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		runtime.GC()
		if n = multiprocessing.PoolsAbandoned() - before; n >= 9 {
			break
		}
	}
	if n < 9 {
		t.Fatalf("%d of 9 unreferenced pools terminated", n)
	}
	run(t, `gcPool.Close()`)
}

// Pools the notebook still reaches, through a slice, a map, a struct or a
// pending AsyncResult, are kept.
func TestReferencedPoolsKept(t *testing.T) {
	decl(t, `type poolBox struct{ P *multiprocessing.Pool }
var keptPools []*multiprocessing.Pool
var keptByName = map[string]any{}
var keptBox poolBox
var keptResult *multiprocessing.AsyncResult`)
	run(t, `keptPools = append(keptPools, multiprocessing.NewPool(1))
keptByName["a"] = []any{multiprocessing.NewPool(1)}
keptBox.P = multiprocessing.NewPool(1)
keptResult = multiprocessing.NewPool(1).MapAsync(gcSquare, []int{5})`)
	nb.EndCell()
	run(t, `multiprocessing.NewPool(1).Close()`)
	nb.EndCell()
	out, errs := capture(t, func() {
		run(t, `fmt.Println(keptPools[0].Map(gcSquare, []int{2}))
fmt.Println(keptByName["a"].([]any)[0].(*multiprocessing.Pool).Map(gcSquare, []int{3}))
fmt.Println(keptBox.P.Map(gcSquare, []int{4}))
fmt.Println(keptResult.Get())`)
	})
	if out != "[4] <nil>\n[9] <nil>\n[16] <nil>\n[25] <nil>\n" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
	run(t, `keptPools[0].Close(); keptBox.P.Close(); keptByName["a"].([]any)[0].(*multiprocessing.Pool).Close()`)
}

// A global that refers to itself does not make the search loop.
func TestPoolSearchSelfReference(t *testing.T) {
	decl(t, `var selfMap = map[string]any{}
var selfList = []any{nil}`)
	run(t, `selfMap["me"] = selfMap
selfList[0] = selfList
selfPool := multiprocessing.NewPool(1)
selfMap["pool"] = selfPool`)
	nb.EndCell()
	out, _ := capture(t, func() {
		run(t, `fmt.Println(multiprocessing.NewPool(1).Map(gcSquare, []int{6}))
fmt.Println(selfMap["pool"].(*multiprocessing.Pool).Map(gcSquare, []int{7}))`)
	})
	if out != "[36] <nil>\n[49] <nil>\n" {
		t.Fatalf("%q", out)
	}
}
