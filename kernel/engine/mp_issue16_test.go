package engine

import (
	"testing"
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

