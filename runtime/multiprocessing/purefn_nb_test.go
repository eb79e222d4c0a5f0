package multiprocessing_test

import (
	"strings"
	"testing"
)

// Pool functions that are pure arithmetic are evaluated by the worker
// without the interpreter (purefn.go); their results and panics must be
// the interpreter's.
func TestPoolPureArithmeticMatchesInterpreter(t *testing.T) {
	decl(t, `func pureSq(x int) int { return x*x - 3*x + 7 }
func pureBits(v int) (r int) { return (v << 3) ^ (v >> 1) &^ 5 | -v % 7 }
func pureDiv(x int) int { return 100 / (x - 3) }
func pureWide(x int64) int64 { return x * 6364136223846793005 + 1442695040888963407 }
func pureFloat(x float64) float64 { return -x*0.1 + 1e300*x/3 - 2.5 }
func pureNegZero(x float64) float64 { return x * -0.0 }
var pureOffset = 1
func notPure(x int) int { return x + pureOffset }`)
	out, errs := capture(t, func() {
		// The cell's variables become notebook globals: names of their own.
		run(t, `xs := []int{-9223372036854775808, 9223372036854775807, -13, -1, 0, 1, 2, 4, 99, 12345}
fs := []float64{0, -0, 1.5, -7, 1e10, 1e300}
pool := multiprocessing.NewPool(2)
check := func(name string, r any, e error, w any) {
	fmt.Println(name, e, fmt.Sprint(r) == fmt.Sprint(w))
}
var sq, bits, off []int
for _, x := range xs { sq = append(sq, pureSq(x)); bits = append(bits, pureBits(x)) }
pgot, perr := pool.Map(pureSq, xs)
check("sq", pgot, perr, sq)
pgot, perr = pool.Map(pureBits, xs)
check("bits", pgot, perr, bits)
var wide []int64
var ws []int64
for _, x := range xs { ws = append(ws, int64(x)); wide = append(wide, pureWide(int64(x))) }
pgot, perr = pool.Map(pureWide, ws)
check("wide", pgot, perr, wide)
var fl []float64
for _, x := range fs { fl = append(fl, pureFloat(x)) }
pgot, perr = pool.Map(pureFloat, fs)
check("float", pgot, perr, fl)
var nz []float64
for _, x := range fs { nz = append(nz, pureNegZero(x)) }
pgot, perr = pool.Map(pureNegZero, fs)
check("negzero", pgot, perr, nz)
pgot, perr = pool.Map(pureDiv, []int{1, 2, 4})
check("div", pgot, perr, []int{-50, -100, 100})
_, perr = pool.Map(pureDiv, []int{1, 2, 3, 4})
fmt.Println("div by zero:", perr)
for _, x := range xs[2:] { off = append(off, notPure(x)) }
pgot, perr = pool.Map(notPure, xs[2:])
check("global", pgot, perr, off)
pool.Close()
`)
	})
	lines := strings.Split(out, "\n")
	want := []string{"sq <nil> true", "bits <nil> true", "wide <nil> true", "float <nil> true", "negzero <nil> true", "div <nil> true"}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("line %d: want %q\nstdout:\n%s\nstderr:\n%s", i, w, out, errs)
		}
	}
	if len(lines) < 8 || !strings.HasPrefix(lines[6], "div by zero: pureDiv(3) panicked in SpawnPoolWorker-") ||
		!strings.Contains(lines[6], "(item 2): ") || !strings.Contains(lines[6], "divide by zero") || lines[7] != "global <nil> true" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
}
