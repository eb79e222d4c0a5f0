package stdsyms

import (
	"os"
	"testing"

	"github.com/traefik/yaegi/interp"
)

// The iterator sources compile and run in the interpreter (appended to
// small stand-ins for the packages they complete).
func TestIteratorSources(t *testing.T) {
	i := interp.New(interp.Options{Stdout: os.Stdout})
	exports := interp.Exports{}
	for _, p := range []string{"fmt", "io", "sort"} {
		key, _ := Key(p)
		exports[key] = Build(key)
	}
	if err := i.Use(exports); err != nil {
		t.Fatal(err)
	}
	slicesBase := `package slices

import "sort"

type orderedElem interface{ ~int | ~string | ~float64 }

func Sort[E orderedElem](x []E) { sort.Slice(x, func(i, j int) bool { return x[i] < x[j] }) }

func SortFunc[E any](x []E, cmp func(a, b E) int) { sort.Slice(x, func(i, j int) bool { return cmp(x[i], x[j]) < 0 }) }
`
	for _, src := range []string{IterSource, "package maps\n" + MapsIterators, slicesBase + SlicesIterators} {
		if _, err := i.Compile(src); err != nil {
			t.Fatalf("compile: %v\n%s", err, src)
		}
	}
	for _, cell := range []string{
		`import ("fmt"; "iter"; "maps"; "slices")`,
		`var m = map[string]int{"b": 2, "a": 1, "c": 3}`,
		`var keys []string`,
		`keys = slices.Sorted(maps.Keys(m))`,
		`var got []int`,
		`got = slices.Collect(slices.Values([]int{3, 1, 2}))`,
		`var none iter.Seq[int]`,
		`var n = 0`,
		`func count() { maps.All(m)(func(k string, v int) bool { n += v; return true }) }`,
		`count()`,
		`var back map[string]int`,
		`back = maps.Collect(maps.All(m))`,
	} {
		if _, err := i.Eval(cell); err != nil {
			t.Fatalf("%s: %v", cell, err)
		}
	}
	for expr, want := range map[string]string{
		`fmt.Sprint(keys)`:        "[a b c]",
		`fmt.Sprint(got)`:         "[3 1 2]",
		`fmt.Sprint(n)`:           "6",
		`fmt.Sprint(len(back))`:   "3",
		`fmt.Sprint(none == nil)`: "true",
	} {
		v, err := i.Eval(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if v.String() != want {
			t.Errorf("%s = %s, want %s", expr, v.String(), want)
		}
	}
}
