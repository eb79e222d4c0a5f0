package multiprocessing_test

import (
	"strings"
	"testing"
)

// Values keep their types across processes (issue 16): an int inside a
// []any or a map[string]any is an int in the child and in the results, not
// a float64 — as arguments, results, pool items, globals and queue items.
func TestTypesKeptAcrossProcesses(t *testing.T) {
	decl(t, `var typesItems = []any{"A", 5}
var typesConfig = map[string]any{"n": 3, "ratio": 0.5}
func showTypes(items []any, m map[string]any, x any) {
	fmt.Printf("child: %T %T %T %T %T %T\n", items[0], items[1], m["n"], m["l"].([]any)[0], x, x.([]any)[0])
	fmt.Printf("globals: %T %T %T\n", typesItems[1], typesConfig["n"], typesConfig["ratio"])
}
func wrapAny(x int) []any { return []any{x, "s", map[string]any{"k": x}} }
func kindOf(v any) string { return fmt.Sprintf("%T", v) }
func sendNested(q *multiprocessing.Queue) { q.Put(map[string]any{"n": 7, "l": []any{int64(8)}}) }`)
	out, errs := capture(t, func() {
		run(t, `p := multiprocessing.NewProcess(showTypes, []any{"A", 5}, map[string]any{"n": 3, "l": []any{4}}, []any{uint8(9)})
if err := p.Start(); err != nil { panic(err) }
p.Join()
pool := multiprocessing.NewPool(2)
r, err := pool.Map(wrapAny, []int{1, 2})
if err != nil { panic(err) }
first := r.([][]any)[0]
fmt.Printf("results: %T %T %T\n", first[0], first[2].(map[string]any)["k"], r.([][]any)[1][0])
k, err := pool.Map(kindOf, [][]any{{1, 2.5}})
fmt.Println("items:", k, err)
pool.Close()
q := multiprocessing.NewQueue()
p2 := multiprocessing.NewProcess(sendNested, q)
p2.Start()
v, err := q.Get()
p2.Join()
m := v.(map[string]any)
fmt.Printf("queue: %T %T %v\n", m["n"], m["l"].([]any)[0], err)`)
	})
	want := `child: string int int int []interface {} uint8
globals: int int float64
results: int int int
items: [[]interface {}] <nil>
queue: int int64 <nil>
`
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", out, want, errs)
	}
	if strings.Contains(out, "float64 float64") {
		t.Fatal(out)
	}
}
