package multiprocessing_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The speed bars are measured from a notebook with 20 earlier cells, through
// the interpreter, as a notebook user would run them.

var benchSetup sync.Once

func setupBench(t testing.TB) {
	benchSetup.Do(func() {
		for i := range 20 {
			decl(t, fmt.Sprintf(`var benchCell%d = %d
func benchHelper%d(x int) int { return x + benchCell%d }`, i, i, i, i))
		}
		decl(t, `func noop() {}
func ident(x int) int { return x }
// The input slices live in a global JSON cannot carry (the chan field comes
// first, so encoding fails at once): every Start copies the JSON-encodable
// globals to the child, which would otherwise dominate the timing.
type benchData struct{ C chan int; xs10k, xs100k []int }
var data benchData
func fill(n int) []int { s := make([]int, n); for i := range s { s[i] = i }; return s }`)
		run(t, `data.xs10k = fill(10000); data.xs100k = fill(100000)`)
	})
}

const (
	cellStartJoin = `p := multiprocessing.NewProcess(noop); if err := p.Start(); err != nil { panic(err) }; p.Join(); if p.ExitCode() != 0 { panic(p.ExitCode()) }`
	cellPool10k   = `pool := multiprocessing.NewPool(2); r, err := pool.Map(ident, data.xs10k); if err != nil || len(r.([]int)) != 10000 { panic(err) }; pool.Close()`
	cellPool100k  = `pool := multiprocessing.NewPool(2); r, err := pool.Map(ident, data.xs100k); if err != nil || len(r.([]int)) != 100000 { panic(err) }; pool.Close()`
	// Many small round trips: 2000 chunks of one item (the case that
	// sending a chunk ahead to a busy worker is for).
	cellPoolChunk1 = `pool := multiprocessing.NewPool(2); r, err := pool.MapChunks(ident, data.xs10k[:2000], 1); if err != nil || len(r.([]int)) != 2000 { panic(err) }; pool.Close()`
)

func benchCell(b *testing.B, cell string) {
	setupBench(b)
	run(b, cell) // warm: spares, replay
	b.ResetTimer()
	for b.Loop() {
		if _, err := nb.Run(cell); err != nil {
			b.Fatal(err)
		}
	}
}

// sumSquaresSrc is the scenario's kernel: sum of i*i over [start, end),
// accumulated in uint64 blocks and added up exactly in a big.Int.
const sumSquaresSrc = `
func sumSquares(start, end int) *big.Int {
	total := new(big.Int)
	for lo := start; lo < end; lo += 1000 {
		hi := lo + 1000
		if hi > end {
			hi = end
		}
		var acc uint64
		i, n := uint64(lo), uint64(hi)
		for i < n {
			acc += i * i
			i++
		}
		total.Add(total, new(big.Int).SetUint64(acc))
	}
	return total
}`

func BenchmarkProcessStartJoin(b *testing.B) { benchCell(b, cellStartJoin) }
func BenchmarkPoolMap10k(b *testing.B)       { benchCell(b, cellPool10k) }
func BenchmarkPoolMap100k(b *testing.B)      { benchCell(b, cellPool100k) }
func BenchmarkPoolMapChunk1(b *testing.B)    { benchCell(b, cellPoolChunk1) }

type timing struct{ min, median, max float64 }

func measure(t *testing.T, cell string, runs int) timing {
	run(t, cell)
	var s []float64
	for range runs {
		start := time.Now()
		if _, err := nb.Run(cell); err != nil {
			t.Fatal(err)
		}
		s = append(s, time.Since(start).Seconds())
	}
	sort.Float64s(s)
	return timing{s[0], s[len(s)/2], s[len(s)-1]}
}

// TestSpeedAgainstPython measures the speed bars and, in the same job,
// CPython's multiprocessing (fork) with shared/baseline/mp_bench.py, and
// prints the ratios. Run with GOPROC_BENCH=1 (optionally GOPROC_BASELINE
// pointing at mp_bench.py).
func TestSpeedAgainstPython(t *testing.T) {
	if os.Getenv("GOPROC_BENCH") == "" {
		t.Skip("set GOPROC_BENCH=1")
	}
	setupBench(t)
	ours := map[string]timing{
		"proc_start_join": measure(t, cellStartJoin, 30),
		"pool_map_10k":    measure(t, cellPool10k, 7),
		"pool_map_100k":   measure(t, cellPool100k, 7),
	}
	script := os.Getenv("GOPROC_BASELINE")
	if script == "" {
		script = "/work/shared/baseline/mp_bench.py"
	}
	python := map[string]timing{}
	cmd := exec.Command("/usr/bin/python3", script, "fork", "7", "proc_start_join,pool_map_10k,pool_map_100k")
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Logf("python baseline not run: %v", err)
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r struct {
			Bench            string
			Min, Median, Max float64
		}
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			python[r.Bench] = timing{r.Min, r.Median, r.Max}
		}
	}
	// The scenario: sum of i*i for 1 <= i < 1e8 (Python's range), in one process vs NewPool(2) over
	// two chunks, with the exact total; speed-ups are reported for both.
	sumsq := map[string]float64{}
	if os.Getenv("GOPROC_BENCH_SUMSQ") != "0" {
		decl(t, `import "math/big"`)
		decl(t, sumSquaresSrc)
		serial := measure(t, `if s := sumSquares(1, 100_000_000).String(); s != "333333328333333350000000" { panic(s) }`, 1)
		pool := measure(t, `pool := multiprocessing.NewPool(2)
parts, err := pool.StarMap(sumSquares, [][]any{{1, 50_000_000}, {50_000_000, 100_000_000}})
if err != nil { panic(err) }
total := new(big.Int)
for _, p := range parts.([]*big.Int) { total.Add(total, p) }
pool.Close()
if total.String() != "333333328333333350000000" { panic(total.String()) }`, 1)
		sumsq["goproc"] = serial.median / pool.median
		t.Logf("sum of squares 1..1e8: one process %.2f s, NewPool(2) %.2f s, speed-up %.2fx", serial.median, pool.median, sumsq["goproc"])
		py := exec.Command("/usr/bin/python3", script, "fork", "1", "sumsq_1e8")
		py.Env = append(os.Environ(), "PYTHONUNBUFFERED=")
		pyOut, err := py.Output()
		if err != nil {
			t.Logf("python sumsq baseline not run: %v", err)
		}
		pyT := map[string]float64{}
		for _, line := range strings.Split(string(pyOut), "\n") {
			var r struct {
				Bench  string
				Median float64
			}
			if json.Unmarshal([]byte(line), &r) == nil {
				pyT[r.Bench] = r.Median
			}
		}
		if pyT["sumsq_1e8_pool4"] > 0 {
			t.Logf("python fork, same job: one process %.2f s, Pool(4) %.2f s, speed-up %.2fx", pyT["sumsq_1e8_serial"], pyT["sumsq_1e8_pool4"], pyT["sumsq_1e8_serial"]/pyT["sumsq_1e8_pool4"])
		}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%-16s %28s %28s %8s\n", "bench", "goproc min/median/max ms", "python fork min/median/max", "ratio")
	for _, name := range []string{"proc_start_join", "pool_map_10k", "pool_map_100k"} {
		o, p := ours[name], python[name]
		ratio := "-"
		if p.median > 0 {
			ratio = fmt.Sprintf("%.2f", o.median/p.median)
		}
		fmt.Fprintf(&report, "%-16s %8.2f/%8.2f/%8.2f %8.2f/%8.2f/%8.2f %8s\n", name,
			o.min*1e3, o.median*1e3, o.max*1e3, p.min*1e3, p.median*1e3, p.max*1e3, ratio)
	}
	t.Log("\n" + report.String() + "(ratio = goproc median / python median; < 1 is faster)")
}
