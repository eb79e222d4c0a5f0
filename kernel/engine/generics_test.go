package engine

import (
	"context"
	"strings"
	"testing"
)

// Go 1.22's slices, maps and cmp work in cells as the Go documentation
// describes them, including what yaegi's own generic sources lack.
func TestGenericStdlibPackages(t *testing.T) {
	in, out := newTestInterpreter(t)
	ctx := context.Background()
	in.Run(ctx, `import ("fmt"; "slices"; "maps"; "strings"; "cmp")`)
	if o := in.Run(ctx, "xs := []int{3, 1, 2}\nss := []string{\"b\", \"a\"}\nfs := []float64{2.5, -1}\nma := map[string]int{\"a\": 1, \"b\": 2}\ntype P struct{ N string; A int }\nps := []P{{\"x\", 3}, {\"y\", 1}, {\"z\", 3}}\ntype myInts []int"); o.Err != nil {
		t.Fatalf("setup: %s", o.Err.Value)
	}
	for _, c := range []struct{ code, want string }{
		{`fmt.Println(slices.Equal(xs, []int{3, 1, 2}), slices.Compare(xs, []int{3, 1}), slices.Index(ss, "a"), slices.Contains(xs, 9))`, "true 1 1 false"},
		{`fmt.Println(slices.IndexFunc(xs, func(v int) bool { return v < 2 }), slices.ContainsFunc(ss, func(s string) bool { return s == "b" }))`, "1 true"},
		{`fmt.Println(slices.Insert(xs, 1, 7, 8), slices.Delete(slices.Clone(xs), 0, 1), slices.Replace(slices.Clone(xs), 0, 1, 5, 6))`, "[3 7 8 1 2] [1 2] [5 6 1 2]"},
		{`fmt.Println(slices.Compact([]int{1, 1, 2, 2, 1}), slices.Clip(xs), cap(slices.Grow(xs, 10)) >= 13)`, "[1 2 1] [3 1 2] true"},
		{`fmt.Println(slices.Concat[int](xs, []int{4}), slices.DeleteFunc(slices.Clone(xs), func(v int) bool { return v == 1 }))`, "[3 1 2 4] [3 2]"},
		{`var rs []int; rs = slices.Clone(xs); slices.Reverse(rs); fmt.Println(rs, xs)`, "[2 1 3] [3 1 2]"},
		{`slices.Sort(xs); slices.Sort(ss); slices.Sort(fs); fmt.Println(xs, ss, fs, slices.IsSorted(xs))`, "[1 2 3] [a b] [-1 2.5] true"},
		{`fmt.Println(slices.Min(xs), slices.Max(ss), slices.Max(fs), slices.MinFunc(xs, func(a, b int) int { return b - a }))`, "1 b 2.5 3"},
		{`fmt.Println(slices.BinarySearch(xs, 2)); fmt.Println(slices.BinarySearch(xs, 5))`, "1 true\n3 false"},
		{`slices.SortFunc(ss, func(a, b string) int { return cmp.Compare(b, a) }); fmt.Println(ss)`, "[b a]"},
		{`slices.SortFunc(ss, strings.Compare); fmt.Println(ss)`, "[a b]"},
		{`slices.SortStableFunc(ps, func(a, b P) int { return a.A - b.A }); fmt.Println(ps)`, "[{y 1} {x 3} {z 3}]"},
		{`fmt.Println(slices.MaxFunc(ps, func(a, b P) int { return a.A - b.A }), slices.IsSortedFunc(ps, func(a, b P) int { return a.A - b.A }))`, "{x 3} true"},
		{`mi := myInts{5, 2}; slices.Sort(mi); fmt.Println(mi)`, "[2 5]"},
		{`mc := map[string]int{}; maps.Copy(mc, ma); fmt.Println(mc, maps.Equal(ma, mc))`, "map[a:1 b:2] true"},
		// yaegi's maps.Clone returned the map itself.
		{`var md map[string]int; md = maps.Clone(ma); md["z"] = 26; fmt.Println(len(ma), len(md))`, "2 3"},
		{`maps.DeleteFunc(md, func(k string, v int) bool { return v > 1 }); fmt.Println(md)`, "map[a:1]"},
		{`func sortedCopy(v []int) []int { c := slices.Clone(v); slices.Sort(c); return c }`, ""},
		{`fmt.Println(sortedCopy([]int{9, 8}), cmp.Compare(1, 2), min(3, 1), max(2.5, 1))`, "[8 9] -1 1 2.5"},
	} {
		o := in.Run(ctx, c.code)
		if o.Err != nil {
			t.Errorf("%s: %s: %s", c.code, o.Err.Name, o.Err.Value)
			out.take()
			continue
		}
		if got := strings.TrimSpace(out.take()); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.code, got, c.want)
		}
	}
}

// Where yaegi cannot do something with generics, the error says what to
// write instead.
func TestGenericLimitsExplained(t *testing.T) {
	in, _ := newTestInterpreter(t)
	ctx := context.Background()
	in.Run(ctx, "import (\"fmt\"; \"slices\")\nxs := []int{3, 1, 2}")
	in.Run(ctx, "func Map[T any](xs []T, f func(T) T) []T {\n\tout := []T{}\n\tfor _, x := range xs {\n\t\tout = append(out, f(x))\n\t}\n\treturn out\n}\nfunc double(x int) int { return 2 * x }")
	for _, c := range []struct{ code, want string }{
		{`fmt.Println(slices.Concat(xs, []int{4}))`, "slices.Concat[int](a, b)"},
		// yaegi's compiler crashes inferring Map's T when the notebook
		// also has a type named T; Map[int](...) runs.
		{"type T struct{ n int }\nfmt.Println(Map([]int{1, 2}, double))", "write them out, as in Map[int](...)"},
	} {
		o := in.Run(ctx, c.code)
		if o.Err == nil {
			t.Errorf("%s: ran; the test expects the interpreter's limit (update the test if yaegi learned it)", c.code)
			continue
		}
		if tb := strings.Join(o.Err.Traceback, "\n"); !strings.Contains(tb, c.want) {
			t.Errorf("%s: traceback does not suggest %q:\n%s", c.code, c.want, tb)
		}
	}
	if o := in.Run(ctx, "fmt.Println(xs)"); o.Err != nil {
		t.Fatalf("the notebook did not survive: %s", o.Err.Value)
	}
	if o := in.Run(ctx, "fmt.Println(Map[int]([]int{1, 2}, double))"); o.Err != nil {
		t.Fatalf("with its type argument written out: %s", o.Err.Value)
	}
}

// A variable declared at the top level of a cell from a generic result,
// which yaegi cannot compile, is declared with the result's type; the
// cell's other statements run once, in order.
func TestTopLevelDefineFromGenericResult(t *testing.T) {
	in, out := newTestInterpreter(t)
	ctx := context.Background()
	in.Run(ctx, `import ("fmt"; "slices"; "maps")`)
	for _, c := range []struct{ code, want string }{
		{"xs := []int{3, 1, 2}\nfmt.Println(\"before\")\nm := slices.Max(xs)\nc := slices.Clone(xs)\nslices.Sort(c)\nfmt.Println(m, c, xs)", "before\n3 [1 2 3] [3 1 2]"},
		{"mc := maps.Clone(map[string]int{\"a\": 1})\nmc[\"b\"] = 2\nfmt.Println(len(mc))", "2"},
		{"fmt.Println(m+1, len(c))", "4 3"},
		// The last statement, a call with no value, after a generic define.
		{"d := slices.Clone(xs)\nslices.Sort(d)", ""},
		{"fmt.Println(d)", "[1 2 3]"},
		{"func firsts[E any](s []E) []E { return s[:1] }", ""},
		{"f := firsts([]string{\"q\", \"r\"})\nfmt.Println(f)", "[q]"},
	} {
		o := in.Run(ctx, c.code)
		if o.Err != nil {
			t.Errorf("%s: %s: %s", c.code, o.Err.Name, strings.Join(o.Err.Traceback, "\n"))
			out.take()
			continue
		}
		if got := strings.TrimSpace(out.take()); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.code, got, c.want)
		}
	}
	if o := in.Run(ctx, "last := slices.Max(c)\nlast"); o.Err != nil || o.Result["text/plain"] != "3" {
		t.Errorf("trailing expression after the define: %+v %v", o.Result, o.Err)
	}
	// A type a cell cannot spell: the error says what to write.
	in.Run(ctx, "type P struct{ A int }")
	o := in.Run(ctx, "ps := firsts([]P{{1}, {2}})")
	if o.Err == nil || !strings.Contains(strings.Join(o.Err.Traceback, "\n"), "var m int") {
		t.Errorf("undeclarable result: %+v", o.Err)
	}
}
