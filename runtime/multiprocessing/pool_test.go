package multiprocessing_test

import (
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
