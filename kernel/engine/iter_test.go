package engine

import "testing"

// Go 1.23's iterators in a cell (issue 16): import iter, and the iterator
// functions of maps and slices (kernel/stdsyms/iterators.go), called or
// collected (the interpreter has no range-over-func).
func TestIteratorsInCells(t *testing.T) {
	c := startClient(t)
	for _, tc := range []struct{ code, want string }{
		{`import ("fmt"; "iter"; "maps"; "slices"; "strings")`, ""},
		{"m := map[string]int{\"b\": 2, \"a\": 1, \"c\": 3}\nkeys := slices.Sorted(maps.Keys(m))\nfmt.Println(keys)", "[a b c]\n"},
		{"var doubled []int\ndoubled = slices.Collect(slices.Values([]int{1, 2}))\nfmt.Println(doubled)", "[1 2]\n"},
		{"var none iter.Seq[int]\nfmt.Println(none == nil)", "true\n"},
		{"n := 0\nstrings.Lines(\"x\\ny\\n\")(func(string) bool { n++; return true })\nfmt.Println(n)", "2\n"},
		{"func sum(m map[string]int) int {\n\ttotal := 0\n\tmaps.All(m)(func(_ string, v int) bool { total += v; return true })\n\treturn total\n}\nfmt.Println(sum(m))", "6\n"},
	} {
		res, r := run(t, c, tc.code)
		if res.Status != "ok" || r.text("stdout") != tc.want {
			t.Errorf("%s\n=> %s %+v\nstdout %q, want %q\nstderr %s", tc.code, res.Status, res.Error, r.text("stdout"), tc.want, r.text("stderr"))
		}
	}
}
