package multiprocessing_test

import (
	"regexp"
	"strings"
	"testing"
)

func TestQ5PoolMapSquares(t *testing.T) {
	decl(t, `func square(x int) int {
	fmt.Printf("worker %d squaring %d\n", os.Getpid(), x)
	return x * x
}`)
	out, errs := capture(t, func() {
		run(t, `pool := multiprocessing.NewPool(4)
results, err := pool.Map(square, []int{1, 2, 3, 4, 5})
if err != nil { panic(err) }
pool.Close()
fmt.Println("results:", results)
fmt.Println("first:", results.([]int)[0] + 1)`)
	})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 7 || lines[5] != "results: [1 4 9 16 25]" || lines[6] != "first: 2" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
	for _, l := range lines[:5] {
		if !strings.HasPrefix(l, "worker ") || !strings.Contains(l, " squaring ") {
			t.Fatalf("broken line %q in\n%s", l, out)
		}
	}
}

func TestPoolTaskPanicNamesItem(t *testing.T) {
	decl(t, `func fragile(x int) int {
	if x == 3 { panic(fmt.Sprintf("bad item %d", x)) }
	return x * 10
}
func withError(x int) (string, error) {
	if x == 2 { return "", errors.New("two is not allowed") }
	return fmt.Sprint(x), nil
}`)
	out, _ := capture(t, func() {
		run(t, `pool := multiprocessing.NewPool(2)
defer pool.Close()
_, err := pool.Map(fragile, []int{1, 2, 3, 4})
fmt.Println("err:", err)
strs, err := pool.Map(withError, []int{1, 3})
fmt.Println(strs, err)
_, err = pool.Map(withError, []int{1, 2})
fmt.Println("err2:", err)
again, err := pool.Map(fragile, []int{1, 2})
fmt.Println("again:", again, err)`)
	})
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "err: fragile(3) panicked in SpawnPoolWorker-") || !strings.Contains(lines[0], "(item 2): bad item 3") ||
		lines[1] != "[1 3] <nil>" || !strings.Contains(lines[2], "two is not allowed") || lines[3] != "again: [10 20] <nil>" {
		t.Fatalf("%s", out)
	}
}

func TestPoolWorkerDeathIsAnErrorNotAHang(t *testing.T) {
	decl(t, `func dieOn(x int) int {
	if x == 5 { os.Exit(4) }
	time.Sleep(time.Millisecond)
	return x
}
func killSelfOn(x int) int {
	if x == 2 { p, _ := os.FindProcess(os.Getpid()); p.Kill(); time.Sleep(time.Second) }
	return x
}`)
	out, errs := capture(t, func() {
		run(t, `pool := multiprocessing.NewPool(2)
defer pool.Close()
t0 := time.Now()
_, err := pool.Map(dieOn, []int{1, 2, 3, 4, 5, 6, 7, 8})
fmt.Println("exit:", err, time.Since(t0) < time.Second)
t0 = time.Now()
_, err = pool.Map(killSelfOn, []int{1, 2, 3})
fmt.Println("kill:", err, time.Since(t0) < 1500*time.Millisecond)
res, err := pool.Map(dieOn, []int{1, 2, 3})
fmt.Println("after:", res, err)`)
	})
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "exited with code 4") || !strings.HasSuffix(lines[0], "true") ||
		!strings.Contains(lines[1], "killed by signal") || !strings.HasSuffix(lines[1], "true") ||
		lines[2] != "after: [1 2 3] <nil>" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
}

func TestPoolAsyncImapStarMapApply(t *testing.T) {
	decl(t, `func slowDouble(x int) int { time.Sleep(time.Duration(x) * time.Millisecond); return 2 * x }
func add(a, b int) int { return a + b }
type Point struct{ X, Y int }
func norm1(p Point) int { return p.X + p.Y }
func describe(v any) string { return fmt.Sprintf("%T:%v", v, v) }
var base = 0
func initBase(b int) { base = b }
func plusBase(x int) int { return x + base }
func spawnInWorker(x int) string { return fmt.Sprint(multiprocessing.NewProcess(plusBase, 1).Start()) }`)
	out, errs := capture(t, func() {
		run(t, `pool := multiprocessing.NewPool(2)
r := pool.MapAsync(slowDouble, []int{1, 2, 3})
fmt.Println("ready early:", r.Ready())
v, err := r.Get()
fmt.Println("async:", v, err, r.Successful())
slow := pool.ApplyAsync(slowDouble, 300)
_, err = slow.GetTimeout(20 * time.Millisecond)
fmt.Println("timeout:", errors.Is(err, multiprocessing.ErrTimeout))
fmt.Println(slow.Get())
fmt.Println(pool.Apply(add, 2, 3))
fmt.Println(pool.StarMap(add, [][]int{{1, 2}, {3, 4}}))
fmt.Println(pool.Map(norm1, []Point{{1, 2}, {3, 4}}))
fmt.Println(pool.Map(describe, []any{1, "s", 2.5, []int{1}}))
it := pool.Imap(slowDouble, []int{30, 1, 2})
for it.Next() { fmt.Print(it.Value(), " ") }
fmt.Println(it.Err())
un := pool.ImapUnordered(slowDouble, []int{60, 1})
for un.Next() { fmt.Print(un.Value(), " ") }
fmt.Println(un.Err())
nested, err := pool.Map(spawnInWorker, []int{1})
fmt.Println("nested:", nested, err)
pool.Close()
_, err = pool.Map(slowDouble, []int{1})
fmt.Println("closed:", err)
p2 := multiprocessing.NewPool(2, multiprocessing.WithInitializer(initBase, 100), multiprocessing.WithMaxTasksPerChild(1))
fmt.Println(p2.MapChunks(plusBase, []int{1, 2, 3, 4}, 1))
p2.Terminate()`)
	})
	want := `ready early: false
async: [2 4 6] <nil> true
timeout: true
600 <nil>
5 <nil>
[3 7] <nil>
[3 7] <nil>
[int:1 string:s float64:2.5 []int:[1]] <nil>
60 2 4 <nil>
2 120 <nil>
nested: [start process: SpawnPoolWorker-N is daemonic (pool workers are): daemonic processes are not allowed to have children] <nil>
closed: pool: not running (it was closed or terminated)
[101 102 103 104] <nil>
`
	out = regexp.MustCompile(`SpawnPoolWorker-\d+`).ReplaceAllString(out, "SpawnPoolWorker-N")
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", out, want, errs)
	}
}
