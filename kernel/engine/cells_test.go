package engine

import (
	"strings"
	"testing"
)

// TestCellsLikeGo runs cells a Go user writes through the real engine process.
func TestCellsLikeGo(t *testing.T) {
	c := startClient(t)
	cases := []struct {
		name, code, stdout, result, errName string
	}{
		{"mixed", "import \"fmt\"\nfunc double(x int) int { return 2 * x }\nfmt.Println(double(21))", "42\n", "", ""},
		{"program", "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"main ran\")\n}", "main ran\n", "", ""},
		{"main does not rerun", "1 + 1", "", "2", ""},
		// main() reaches the notebook's main, which goproc renames.
		{"calling main", "main()", "main ran\n", "", ""},
		{"range over int", "total := 0\nfor i := range 10 { total += i }\ntotal", "", "45", ""},
		{"min max", "min(3, 1, 2) + max(4, 9)", "", "10", ""},
		// Range over an integer the source shows through a struct field, a
		// function's result, a map or slice element, a channel receive.
		{"range over int fields and results", "type board struct{ size int }\nfunc (b *board) cells() int {\n\tn := 0\n\tfor range b.size {\n\t\tfor range b.size {\n\t\t\tn++\n\t\t}\n\t}\n\treturn n\n}\nfunc three() int { return 3 }\nfunc divmod(a, b int) (int, int) { return a / b, a % b }\nfunc fromMap(m map[string]int) (s int) {\n\tfor i := range m[\"k\"] {\n\t\ts += i\n\t}\n\treturn\n}\nfunc fromChan(ch chan int) (s int) {\n\tfor i := range <-ch {\n\t\ts += i\n\t}\n\treturn\n}\nq, _ := divmod(9, 2)\ncount := 0\nfor range q {\n\tcount++\n}\nfor i := range three() {\n\tcount += i\n}\nch := make(chan int, 1)\nch <- 3\nfmt.Println((&board{3}).cells(), count, fromMap(map[string]int{\"k\": 4}), fromChan(ch))", "9 7 6 3\n", "", ""},
		{"range over a field of a struct from an earlier cell", "b := board{2}\ntotal := 0\nfor i := range b.size {\n\ttotal += i + 1\n}\nfmt.Println(total)", "3\n", "", ""},
		{"min max in a top-level define", "lo, hi := 3, 7\nspread := max(lo, hi) - min(lo, hi)\ndoubled := 2 * max(lo, hi)\nfmt.Println(spread, doubled)", "4 14\n", "", ""},
		{"a local max leaves the builtin", "func largest(xs []int) int {\n\tmax := xs[0]\n\tfor _, v := range xs {\n\t\tif v > max {\n\t\t\tmax = v\n\t\t}\n\t}\n\treturn max\n}\nfunc plusOne(min int) int { return min + 1 }\nfmt.Println(largest([]int{3, 9, 2}), max(1, 2), plusOne(1), min(7, 6))", "9 2 2 6\n", "", ""},
		// A deferred recover at the top of a cell stops the cell's panic,
		// as in Go's main; without a panic it gives nil.
		{"deferred recover of a panic", "defer func() {\n\tif r := recover(); r != nil {\n\t\tfmt.Println(\"recovered:\", r)\n\t}\n}()\npanic(\"boom\")", "recovered: boom\n", "", ""},
		{"deferred recover of a runtime error", "defer func() { fmt.Println(\"recovered:\", recover()) }()\nvar nilMap map[string]int\nnilMap[\"a\"] = 1\nfmt.Println(\"not reached\")", "recovered: assignment to entry in nil map\n", "", ""},
		{"deferred recover without a panic", "defer func() { fmt.Println(\"recover gives\", recover()) }()\nfmt.Println(\"body\")", "body\nrecover gives <nil>\n", "", ""},
		// Only a panic of the cell's code is recovered: a compile error
		// is still reported, and (found by go/types) runs nothing.
		{"a deferred recover leaves a compile error", "import \"slices\"\ndefer func() { fmt.Println(\"recovered:\", recover()) }()\nxs := []int{3, 1, 2}\nm := slices.Max(xs)\nfmt.Println(m)\nfmt.Println(undefinedName)", "", "", "CompileError"},
		// A min, max or main the code declares in a block, a header or as
		// a receiver is that one, not the builtin or the notebook's main.
		{"min and max declared in blocks", "for _, max := range []func(int, int) int{func(a, b int) int { return a*100 + b }} {\n\tfmt.Println(max(1, 2))\n}\nif min := func(a, b int) int { return -1 }; true {\n\tfmt.Println(min(1, 2))\n}\ntype binop func(int, int) int\nfunc (max binop) apply() int { return max(1, 2) }\nfmt.Println(binop(func(a, b int) int { return a - b }).apply(), max(3, 4))", "102\n-1\n-1 4\n", "", ""},
		{"a local main", "call := func(main func()) { main() }\ncall(func() { fmt.Println(\"argument\") })\nfunc() {\n\tmain := func() { fmt.Println(\"local\") }\n\tmain()\n}()\nmain()", "argument\nlocal\nmain ran\n", "", ""},
		{"a defer without recover leaves the panic", "defer fmt.Println(\"deferred\")\npanic(\"left\")", "deferred\n", "", "panic"},
		// A deferred call's arguments are evaluated at the defer.
		{"defer evaluates its arguments", "count := 1\ndefer fmt.Println(\"deferred:\", count)\ncount = 2\nfmt.Println(\"now:\", count)", "now: 2\ndeferred: 1\n", "", ""},
		{"loop vars", "var fs []func() int\nfor i := 0; i < 3; i++ { fs = append(fs, func() int { return i }) }\nfmt.Println(fs[0](), fs[1](), fs[2]())", "0 1 2\n", "", ""},
		{"redefine func", "func double(x int) int { return 3 * x }\ndouble(2)", "", "6", ""},
		{"type", "type Point struct{ X, Y int }\nPoint{1, 2}", "", "{1 2}", ""},
		{"redefine type", "type Point struct{ A string }", "", "", "TypeRedefinition"},
		{"same type again", "type Point struct{ X, Y int }", "", "", ""},
		{"string result", `"héllo"`, "", `"héllo"`, ""},
		// A return at the top level ends the cell, as in main (the cell
		// runs as a function's body).
		{"top-level return", "fmt.Println(\"before\")\nif true {\n\treturn\n}\nfmt.Println(\"after\")", "before\n", "", ""},
		// A failed comma-ok lookup or assertion assigns the zero value (yaegi
		// alone keeps the old one), at the top level and in functions.
		{"comma-ok globals", "var cv, cok = 7, true\nvar cm = map[string]int{}\nvar cx any = \"s\"\ncv, cok = cm[\"missing\"]\nfmt.Println(cv, cok)\ncv = 7\ncv, cok = cx.(int)\nfmt.Println(cv, cok)", "0 false\n0 false\n", "", ""},
		{"comma-ok locals", "func lookup(m map[string]int) (int, bool) {\n\tv, ok := 7, true\n\tfor _, k := range []string{\"a\", \"missing\"} {\n\t\tv, ok = m[k]\n\t}\n\treturn v, ok\n}\nfmt.Println(lookup(map[string]int{\"a\": 1}))", "0 false\n", "", ""},
		{"comma-ok define in a loop", "func wordCount(words []string) map[string]int {\n\tcounts := map[string]int{}\n\tfor _, w := range words {\n\t\tc, _ := counts[w]\n\t\tcounts[w] = c + 1\n\t}\n\treturn counts\n}\nfmt.Println(wordCount([]string{\"a\", \"a\", \"b\", \"c\", \"a\"}))\nfor _, x := range []any{1, \"s\"} {\n\tn, ok := x.(int)\n\tfmt.Println(n, ok)\n}", "map[a:3 b:1 c:1]\n1 true\n0 false\n", "", ""},
		// At the top level yaegi cannot run a comma-ok define at all ("nil
		// type"); goproc defines each variable, then assigns.
		{"comma-ok define at the top level", "ages := map[string]int{\"ann\": 31}\nage, ok := ages[\"bob\"]\nfmt.Println(age, ok)\nage2, found := ages[\"ann\"]\nfmt.Println(age2, found)\n_, has := ages[\"ann\"]\nzero, _ := ages[\"zed\"]\nfmt.Println(has, zero)\nvar val any = 3\nn, isInt := val.(int)\ns, isStr := val.(string)\nfmt.Printf(\"%d %v %q %v\\n\", n, isInt, s, isStr)", "0 false\n31 true\ntrue 0\n3 true \"\" false\n", "", ""},
		{"top-level comma-ok variables are globals", "fmt.Println(age, ok, age2, found, n, isInt)", "0 false 31 true 3 true\n", "", ""},
		{"comma-ok receive at the top level", "results := make(chan string, 1)\nresults <- \"done\"\nfunc unrelated() {}\nmsg, open := <-results\nfmt.Println(msg, open)\nclose(results)\nlast, stillOpen := <-results\nfmt.Printf(\"%q %v\\n\", last, stillOpen)", "done true\n\"\" false\n", "", ""},
		{"comma-ok in an if header", "for _, k := range []string{\"a\", \"zz\"} {\n\tif n, _ := map[string]int{\"a\": 5}[k]; n == 0 {\n\t\tfmt.Println(k, \"missing\", n)\n\t} else {\n\t\tfmt.Println(k, n)\n\t}\n}", "a 5\nzz missing 0\n", "", ""},
	}
	for _, tc := range cases {
		res, r := run(t, c, tc.code)
		if tc.errName != "" {
			if res.Error == nil || res.Error.Name != tc.errName {
				t.Errorf("%s: want error %s, got %+v %+v", tc.name, tc.errName, res.Status, res.Error)
			}
			if got := r.text("stdout"); tc.stdout != "" && got != tc.stdout {
				t.Errorf("%s: stdout %q, want %q", tc.name, got, tc.stdout)
			}
			continue
		}
		if res.Status != "ok" {
			t.Errorf("%s: %+v", tc.name, res.Error)
			continue
		}
		if got := r.text("stdout"); got != tc.stdout {
			t.Errorf("%s: stdout %q, want %q", tc.name, got, tc.stdout)
		}
		got, _ := res.Result["text/plain"].(string)
		if got != tc.result {
			t.Errorf("%s: result %q, want %q", tc.name, got, tc.result)
		}
	}
}

func TestCompileErrorPointsAtCellLine(t *testing.T) {
	c := startClient(t)
	res, _ := run(t, c, "import \"fmt\"\n\nx := 1\nfmt.Println(x)\ny := nosuch + 1")
	if res.Error == nil {
		t.Fatal("want an error")
	}
	tb := strings.Join(res.Error.Traceback, "\n")
	if !strings.Contains(tb, "line 5") || !strings.Contains(tb, "y := nosuch + 1") || !strings.Contains(tb, "^") {
		t.Fatalf("traceback does not show line 5 with a caret:\n%s", tb)
	}
}
