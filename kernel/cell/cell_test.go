package cell_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"

	"github.com/goproc/goproc/kernel/cell"
)

func parse(t *testing.T, src string, opts cell.Options) []cell.Chunk {
	t.Helper()
	cs, err := cell.Parse(src, opts)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return cs
}

type shape struct {
	kind     cell.Kind
	line     int
	declares []string
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []shape
	}{
		{"empty", "", nil},
		{"comments only", "// nothing\n/* here */\n", nil},
		// Statements after the last := make a chunk of their own.
		{"stmt", "x := 1\nx++", []shape{{cell.Stmt, 1, []string{"x"}}, {cell.Stmt, 2, nil}}},
		{"decl then stmt", "func f() int { return 1 }\nf()", []shape{{cell.Decl, 1, []string{"f"}}, {cell.Stmt, 2, nil}}},
		{"stmt then decl on one line", "x := 1; func g() {}", []shape{{cell.Stmt, 1, []string{"x"}}, {cell.Decl, 1, []string{"g"}}}},
		{"var then statement", "var m map[string]int\nm = map[string]int{}\nm[\"a\"] = 1", []shape{{cell.Decl, 1, []string{"m"}}, {cell.Stmt, 2, nil}}},
		{"imports separate", "import \"fmt\"\nconst c = 1\ntype T int\nvar v, w = 1, 2", []shape{{cell.Decl, 1, nil}, {cell.Decl, 2, []string{"c", "T", "v", "w"}}}},
		{"func literal statement", "func() { println(1) }()", []shape{{cell.Stmt, 1, nil}}},
		{"method", "type T struct{}\nfunc (t T) M() {}\nfunc (t *T) N(x int) (int, error) { return x, nil }", []shape{{cell.Decl, 1, []string{"T"}}}},
		{"literal with receiver-like params", "func (x int) int { return x }(3)", []shape{{cell.Stmt, 1, nil}}},
		{"package clause dropped", "package main\n\nimport \"fmt\"\n\nfunc hello() { fmt.Println() }", []shape{{cell.Decl, 3, nil}, {cell.Decl, 5, []string{"hello"}}}},
		{"multi-line statement", "x := []int{\n\t1,\n\t2,\n}\nfor _, v := range x {\n\tprintln(v)\n}", []shape{{cell.Stmt, 1, []string{"x"}}, {cell.Stmt, 5, nil}}},
		{"labels keep the unit whole", "x := 1\nL:\nfor {\n\tbreak L\n}", []shape{{cell.Stmt, 1, []string{"x"}}}},
		{"blank and underscore", "_ = 1\n_, b := 1, 2", []shape{{cell.Stmt, 1, []string{"b"}}}},
		{"generic func", "func Map[T, U any](xs []T, f func(T) U) []U { return nil }", []shape{{cell.Decl, 1, []string{"Map"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []shape
			for _, c := range parse(t, tc.src, cell.Options{}) {
				got = append(got, shape{c.Kind, c.Line, c.Declares})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestChunkPrefixes(t *testing.T) {
	cs := parse(t, "var a = 1\na++", cell.Options{})
	if cs[0].Src != "\nvar a = 1\n" || cs[1].Src != ";\na++\n" {
		t.Errorf("srcs %q %q", cs[0].Src, cs[1].Src)
	}
	// A chunk that starts mid-line is padded so columns stay.
	cs = parse(t, "x := 1; func g() {}", cell.Options{})
	if cs[1].Src != "\n        func g() {}\n" {
		t.Errorf("padded %q", cs[1].Src)
	}
}

func TestImports(t *testing.T) {
	seen := map[cell.Import]bool{{Path: "fmt"}: true}
	opts := cell.Options{SeenImport: func(im cell.Import) bool { return seen[im] }}
	cs := parse(t, "import (\n\t\"fmt\"\n\tstr \"strings\"\n)\nimport \"fmt\"", opts)
	if len(cs) != 1 || !reflect.DeepEqual(cs[0].Imports, []cell.Import{{Name: "str", Path: "strings"}}) {
		t.Fatalf("chunks %+v", cs)
	}
	if strings.Contains(cs[0].Src, "\"fmt\"") {
		t.Errorf("fmt kept: %q", cs[0].Src)
	}
	cs = parse(t, "import \"fmt\"\nfmt.Println()", opts)
	if len(cs) != 1 || cs[0].Kind != cell.Stmt {
		t.Errorf("import chunk not dropped: %+v", cs)
	}
	cs = parse(t, "import \"fmt\"", cell.Options{})
	if len(cs) != 1 || len(cs[0].Imports) != 1 {
		t.Errorf("nil SeenImport drops: %+v", cs)
	}
	// Dropping a spec on one line takes its semicolon with it.
	cs = parse(t, `import ("fmt"; "os"); import ("strings" ; "fmt")`, opts)
	if len(cs) != 1 || len(cs[0].Imports) != 2 {
		t.Fatalf("one-line imports: %+v", cs)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+cs[0].Src, parser.ImportsOnly); err != nil {
		t.Errorf("one-line imports rendered as %q: %v", cs[0].Src, err)
	}
}

func TestMain(t *testing.T) {
	cs := parse(t, "package main\nimport \"fmt\"\nfunc main() {\n\tfmt.Println(1)\n}\nfunc helper() {}", cell.Options{Seq: 4})
	last := cs[len(cs)-1]
	if last.Kind != cell.Stmt || last.Src != ";\n__goproc_main_4()\n" || last.Line != 3 {
		t.Errorf("main call chunk %+v", last)
	}
	if !strings.Contains(cs[1].Src, "func __goproc_main_4() {") || !reflect.DeepEqual(cs[1].Declares, []string{"__goproc_main_4", "helper"}) {
		t.Errorf("main chunk %q %v", cs[1].Src, cs[1].Declares)
	}
}

// A cell that declares main and calls it itself (the port of Python's
// `if __name__ == "__main__": main()`) runs it once: the cell's own call,
// not one goproc adds. A call inside a function leaves goproc's call.
func TestMainCalledByTheCell(t *testing.T) {
	count := func(src string) int {
		n := 0
		for _, c := range parse(t, src, cell.Options{Seq: 5}) {
			n += strings.Count(c.Src, "__goproc_main_5()")
		}
		return n - 1 // the declaration
	}
	for src, want := range map[string]int{
		"func main() { g() }\nmain()":                        1,
		"func main() { g() }\nif true {\n\tmain()\n}":        1,
		"func main() { g() }":                                1,
		"func main() { g() }\nfunc run() { main() }":         2, // run's call and goproc's
		"func main() { g() }\nfunc run() { main() }\nmain()": 2,
	} {
		if got := count(src); got != want {
			t.Errorf("%q: %d calls of main, want %d", src, got, want)
		}
	}
}

func TestTypes(t *testing.T) {
	a := parse(t, "type T struct {\n\tA int // a\n\tB   string\n}\ntype L[E any] []E\ntype A = int", cell.Options{})
	b := parse(t, "type T struct{ A int; B string }", cell.Options{})
	want := []cell.TypeDecl{{Name: "T", Src: "T struct{A int; B string}"}, {Name: "L", Src: "L[E any] []E"}, {Name: "A", Src: "A = int"}}
	if !reflect.DeepEqual(a[0].Types, want) {
		t.Errorf("types %+v", a[0].Types)
	}
	if a[0].Types[0] != b[0].Types[0] {
		t.Errorf("normalisation differs: %q %q", a[0].Types[0].Src, b[0].Types[0].Src)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"x := 1\nfunc broken( {\n}", 2, 14, "expected"},
		{"s := \"héllo 世界\"; y := )", 1, 23, "expected operand"},
		{"x := \"unterminated\ny := 2", 1, 6, "string literal not terminated"},
		{"if x {\n\treturn\n}", 2, 2, "return is not allowed at the top level"},
		{"func f() {\n\tfor {\n}", 3, 2, "left open?"},
	}
	for _, tc := range tests {
		_, err := cell.Parse(tc.src, cell.Options{})
		se, ok := err.(*cell.SyntaxError)
		if !ok {
			t.Errorf("%q: got %v, want a *SyntaxError", tc.src, err)
			continue
		}
		if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%q: got %d:%d %q, want %d:%d %q", tc.src, se.Line, se.Col, se.Msg, tc.line, tc.col, tc.msg)
		}
	}
}

// srcPos finds the line and byte column of the n-th occurrence of needle in
// a chunk's Src, as yaegi would report it.
func srcPos(src, needle string) (int, int) {
	i := strings.Index(src, needle)
	if i < 0 {
		return 0, 0
	}
	line := 1 + strings.Count(src[:i], "\n")
	return line, i - strings.LastIndexByte(src[:i], '\n')
}

func TestCellPos(t *testing.T) {
	tests := []struct {
		src, needle string
		line, col   int
	}{
		{"x := 1\ny := x + \"a\"", "x + ", 2, 6},
		{"s := \"héllo 世界\"; q := s + 1", "s + 1", 1, 23},
		{"for i := range 10 {\n\tprintln(i + \"a\")\n}", "i + \"a\"", 2, 10},
		{"for i := range 10 { println(i + \"a\") }", "i + \"a\"", 1, 29},
		{"n := 3\nfor i := range n { println(i, \"é\", undefinedX) }", "undefinedX", 2, 36},
		{"func f() int { return min(a, 世界, b) }", "b)", 1, 34},
		{"var fs []func()\nfor i := 0; i < 3; i++ { fs = append(fs, func() { println(i, bad) }) }", "bad", 2, 62},
		{"x := 1\nx + 世界", "世界", 2, 5},
	}
	for _, tc := range tests {
		cs := parse(t, tc.src, cell.Options{Instrument: true})
		found := false
		for _, c := range cs {
			l, col := srcPos(c.Src, tc.needle)
			if l == 0 {
				continue
			}
			found = true
			gl, gc := c.CellPos(l, col)
			if gl != tc.line || gc != tc.col {
				t.Errorf("%q: %q at Src %d:%d maps to %d:%d, want %d:%d\nSrc: %q", tc.src, tc.needle, l, col, gl, gc, tc.line, tc.col, c.Src)
			}
			if c.Display {
				p := c.WithoutDisplay()
				l, col = srcPos(p.Src, tc.needle)
				if gl, gc := p.CellPos(l, col); gl != tc.line || gc != tc.col {
					t.Errorf("%q: NoDisplay maps to %d:%d", tc.src, gl, gc)
				}
			}
			break
		}
		if !found {
			t.Errorf("%q: %q not in any chunk", tc.src, tc.needle)
		}
	}
}

func TestMapError(t *testing.T) {
	tests := []struct {
		msg       string
		line, col int
		rest      string
		ok        bool
	}{
		{"_.go:2:5: expected ')', found '{' (and 1 more errors)", 2, 5, "expected ')', found '{' (and 1 more errors)", true},
		{"3:14: cannot convert \"s\" to int", 3, 14, "cannot convert \"s\" to int", true},
		{"boom", 0, 0, "boom", false},
		{"12: x", 0, 0, "12: x", false},
	}
	for _, tc := range tests {
		l, c, rest, ok := cell.MapError(tc.msg)
		if l != tc.line || c != tc.col || rest != tc.rest || ok != tc.ok {
			t.Errorf("MapError(%q) = %d %d %q %v", tc.msg, l, c, rest, ok)
		}
	}
	cs := parse(t, "a := 1\nb := a + \"x\"", cell.Options{})
	l, c, rest, ok := cs[0].CellError("3:6: mismatched types")
	if !ok || l != 2 || c != 6 || rest != "mismatched types" {
		t.Errorf("CellError = %d %d %q %v", l, c, rest, ok)
	}
}

func TestRangeIntDecision(t *testing.T) {
	known := func(name string) bool { return name == "G" }
	tests := []struct {
		src     string
		rewrite bool
	}{
		{"for i := range 10 {}", true},
		{"for range 1 << 4 {}", true},
		{"for i := range 'z' - 'a' {}", true},
		{"for i := range len(s) {}", true},
		{"for i := range cap(s) - 1 {}", true},
		{"for i := range int64(x) {}", true},
		{"for i := range G {}", true},
		{"for i := range H {}", false},
		{"n := 5\nfor i := range n {}", true},
		{"n := 5.0\nfor i := range n {}", false},
		{"n := []int{}\nfor i := range n {}", false},
		{"var n uint8\nfor i := range n {}", true},
		{"const n = 3\nfor i := range n * 2 {}", true},
		{"const (\n\ta = iota\n\tb\n)\nfor i := range b {}", true},
		{"type ID int\nvar k ID\nfor i := range k {}", true},
		{"func f(n int) { for i := range n {} }", true},
		{"func f(n []int) { for i := range n {} }", false},
		{"func f(n int) { n := \"x\"; for i := range n {} }", false},
		{"n := 5\nfunc f(n string) { for range n {} }", false},
		{"for i, v := range 10 {}", false},
		{"for i := range f() {}", false},
		{"for i := range max(3, len(s)) {}", true},
		{"m := map[int]int{}\nfor k := range m {}", false},
		{"G := \"shadowed\"\nfor range G {}", false},
	}
	for _, tc := range tests {
		cs := parse(t, tc.src, cell.Options{KnownInts: known})
		var all strings.Builder
		for _, c := range cs {
			all.WriteString(c.Src)
		}
		if got := strings.Contains(all.String(), "__n1"); got != tc.rewrite {
			t.Errorf("%q: rewritten %v, want %v\n%s", tc.src, got, tc.rewrite, all.String())
		}
	}
}

func TestRewriteText(t *testing.T) {
	tests := []struct {
		name, src string
		opts      cell.Options
		want      []string // substrings of the joined chunk sources
		not       []string
	}{
		{"min literals folded", "a := min(3, 1, 2)\nb := max(1, 2.5)\nc := min(\"b\", \"a\")", cell.Options{}, []string{"a := (1)", "b := (2.5)", "c := (\"a\")"}, []string{"__goprocMin"}},
		{"min int promoted", "x := max(2.5, 3)", cell.Options{}, []string{"x := (3 + 0.0)"}, nil},
		{"min literal last", "f(min(0, x, y))", cell.Options{}, []string{"f(__goprocMin(__goprocMin(x, y), 0))"}, nil},
		{"global min split", "m := max(0, n)", cell.Options{}, []string{"m := n; m = __goprocMax(m, 0)"}, nil},
		{"one arg", "f(min(x))", cell.Options{}, []string{"f((x))"}, nil},
		{"user min", "func min(a, b int) int { return a }\nf(min(x, y))", cell.Options{}, []string{"f(min(x, y))"}, nil},
		{"local max", "func f(xs []int) int { max := xs[0]; return max }\ng(max(x, y))", cell.Options{}, []string{"g(__goprocMax(x, y))", "max := xs[0]; return max"}, nil},
		{"deferred recover", "defer func() { if r := recover(); r != nil { g(r, func() any { return recover() }) } }()\npanic(1)", cell.Options{}, []string{"__goproc.Defer(func() { if r := __goproc.Recover(); r != nil { g(r, func() any { return recover() }) } })"}, nil},
		{"main call in the cell", "func main() { g() }\nmain()", cell.Options{Seq: 7}, []string{"func __goproc_main_7() { g() }", "__goproc_main_7()"}, []string{"\nmain()"}},
		{"main call after an earlier main", "main()", cell.Options{Seq: 9, EarlierMain: "__goproc_main_4"}, []string{"__goproc_main_4()"}, nil},
		{"global user max", "f(max(x, y))", cell.Options{Defined: func(n string) bool { return n == "max" }}, []string{"f(max(x, y))"}, nil},
		{"clear", "clear(m)", cell.Options{}, []string{"__goproc.Clear(m)"}, nil},
		{"no closure no copy", "func f() { for i := 0; i < 3; i++ { g(i) } }", cell.Options{}, []string{"for i := 0; i < 3; i++ { g(i) }"}, []string{"__lv"}},
		{"go stmt", "func f() { for i := 0; i < 3; i++ { go func() { g(i) }() } }", cell.Options{}, []string{"for __lv1_i := 0; __lv1_i < 3; __lv1_i++ { i := __lv1_i; {", "}; __lv1_i = i; }"}, nil},
		{"range copy", "func f(xs []int) { for k, v := range xs { defer func() { g(k, v) }() } }", cell.Options{}, []string{"for __lv1_k, __lv1_v := range xs { k, v := __lv1_k, __lv1_v;"}, nil},
		{"top-level loop in a func", "s := 0\nfor i := 0; i < 3; i++ { s += i }", cell.Options{}, []string{"func() { for i := 0; i < 3; i++ { s += i } }()"}, nil},
		{"top-level type switch in a func", "switch v := x.(type) {\ncase int:\n\t_ = v\n}", cell.Options{}, []string{"func() { switch v := x.(type) {"}, nil},
		{"top-level if without decl", "if x > 0 { x = 0 }", cell.Options{}, []string{"\nif x > 0 { x = 0 }"}, []string{"func()"}},
		{"probe func", "func f(a int) (int, error) {\n\treturn a, nil\n}", cell.Options{Instrument: true}, []string{"func f(a int) (int, error) { if __goprocProbing && __mp.Probe(\"f\") { var __goprocZ0 int; var __goprocZ1 error; return __goprocZ0, __goprocZ1 }; \n"}, nil},
		{"top-level comma-ok lookup", "v, ok := m[k]\n_, has := m[\"a\"]\nd, _ := m[ks[i]]", cell.Options{}, []string{"v := m[k]; ok := false; v, ok = m[k]", "has := false; _, has = m[\"a\"]", "d := m[ks[i]]"}, []string{"__goproc.Zero"}},
		{"top-level comma-ok assertion", "n, ok := x.(int)\ns, _ := x.(string)", cell.Options{}, []string{"var n int; ok := false; n, ok = x.(int)", "var s string; s, _ = x.(string)"}, nil},
		{"top-level comma-ok receive into blank", "_, open := <-results", cell.Options{}, []string{"open := false; func() { _, open = <-results }()"}, nil},
		{"top-level comma-ok with a call stays", "v, ok := m[key()]", cell.Options{}, []string{"v, ok := m[key()]; if !ok { __goproc.Zero(&v) }"}, nil},
		{"top-level comma-ok redefining stays", "v := 1\nv, ok := m[k]", cell.Options{}, []string{"v, ok := m[k]; if !ok { __goproc.Zero(&v) }"}, nil},
		{"probe named results", "func f() (n int) { return }", cell.Options{Instrument: true}, []string{"__mp.Probe(\"f\") { return };"}, nil},
		{"probe struct result", "func f() struct{\n\tA int\n} { return struct{\n\tA int\n}{} }", cell.Options{Instrument: true}, []string{"var __goprocZ0 struct{A int}; return __goprocZ0"}, nil},
		{"probe method", "func (s *Stack[T]) Pop() (T, bool) { var z T; return z, false }", cell.Options{Instrument: true}, []string{"__mp.Probe(\"method (*Stack).Pop\") { var __goprocZ0 T; var __goprocZ1 bool; return __goprocZ0, __goprocZ1 }"}, nil},
		{"probe literal", "x := 1\nf := func() {\n}", cell.Options{Instrument: true}, []string{"__mp.Probe(\"func literal at line 2\") { return }"}, nil},
		{"no probes", "func f() {}", cell.Options{}, nil, []string{"Probe"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var all strings.Builder
			for _, c := range parse(t, tc.src, tc.opts) {
				all.WriteString(c.Src)
			}
			for _, w := range tc.want {
				if !strings.Contains(all.String(), w) {
					t.Errorf("missing %q in\n%s", w, all.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(all.String(), w) {
					t.Errorf("unexpected %q in\n%s", w, all.String())
				}
			}
		})
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct {
		src  string
		wrap bool
	}{
		{"x := 1\nx", true},
		{"x := 1\nx + 2 // comment", true},
		{"f(1)", true},
		{"strconv.Atoi(\"1\")", true},
		{"fmt.Println(1)", false},
		{"fmt.Printf(\"%d\", 1)", false},
		{"fmt.Fprintln(os.Stderr, 1)", false},
		{"fmt.Sprint(1)", true},
		{"println(1)", false},
		{"panic(1)", false},
		{"os.Exit(1)", false},
		{"log.Fatal(1)", false},
		{"<-done", false},
		{"x := 1", false},
		{"x++", false},
		{"func f() {}\nf()", false},
		{"func f() int { return 1 }\nf()", true},
		{"x\nfunc f() {}", false},
		{"for {}", false},
	}
	for _, tc := range tests {
		cs := parse(t, tc.src, cell.Options{})
		last := cs[len(cs)-1]
		if last.Display != tc.wrap {
			t.Errorf("%q: Display %v", tc.src, last.Display)
			continue
		}
		if tc.wrap {
			if !strings.Contains(last.Src, "__goproc.Display(") || strings.Contains(last.NoDisplay, "Display") {
				t.Errorf("%q: Src %q NoDisplay %q", tc.src, last.Src, last.NoDisplay)
			}
		} else if last.Src != last.NoDisplay {
			t.Errorf("%q: NoDisplay differs", tc.src)
		}
	}
	cs := parse(t, "x := 1\nx + 2 // two", cell.Options{})
	if len(cs) != 2 || cs[0].Src != ";\nx := 1\n" || cs[1].Src != ";\n__goproc.Display(x + 2)\n" {
		t.Errorf("wrap text %+v", cs)
	}
}

func TestIsComplete(t *testing.T) {
	tests := []struct{ code, status, indent string }{
		{"", "complete", ""},
		{"x := 1", "complete", ""},
		{"func f() {", "incomplete", "\t"},
		{"func f() {\n\tif x {", "incomplete", "\t\t"},
		{"func f() {\n}", "complete", ""},
		{"x := []int{1,", "incomplete", "\t"},
		{"fmt.Println(", "incomplete", "\t"},
		{"s := `raw\nstring", "incomplete", ""},
		{"/* open comment", "incomplete", ""},
		{"x := 1 +", "incomplete", "\t"},
		{"x := a.", "incomplete", "\t"},
		{"x := a &&", "incomplete", "\t"},
		{"x := ", "incomplete", "\t"},
		{"x++", "complete", ""},
		{"f(xs...)", "complete", ""},
		{"}", "invalid", ""},
		{"f(]", "invalid", ""},
		{"x := \"open", "invalid", ""},
		{"x := 'ab'", "invalid", ""},
		{"s := \"世界\" + `é", "incomplete", ""},
	}
	for _, tc := range tests {
		st, ind := cell.IsComplete(tc.code)
		if st != tc.status || ind != tc.indent {
			t.Errorf("IsComplete(%q) = %q %q, want %q %q", tc.code, st, ind, tc.status, tc.indent)
		}
	}
}

func TestToken(t *testing.T) {
	tests := []struct {
		code         string
		cursor       int
		start, end   int
		qual, prefix string
	}{
		{"fmt.Pr", 6, 4, 6, "fmt", "Pr"},
		{"fmt.", 4, 4, 4, "fmt", ""},
		{"x := strings.ToUp(s)", 17, 13, 17, "strings", "ToUp"},
		{"x := strings.ToUp(s)", 15, 13, 17, "strings", "To"},
		{"a.b.c", 5, 4, 5, "a.b", "c"},
		{"pri", 3, 0, 3, "", "pri"},
		{"s := \"héllo 世界\"; fm", 19, 17, 19, "", "fm"},
		{"世界 := 1; 世", 10, 9, 10, "", "世"},
		{"f( ", 3, 3, 3, "", ""},
		{"x", 99, 0, 1, "", "x"},
	}
	for _, tc := range tests {
		s, e, q, p := cell.Token(tc.code, tc.cursor)
		if s != tc.start || e != tc.end || q != tc.qual || p != tc.prefix {
			t.Errorf("Token(%q, %d) = %d %d %q %q, want %d %d %q %q", tc.code, tc.cursor, s, e, q, p, tc.start, tc.end, tc.qual, tc.prefix)
		}
	}
}

func TestDeclarations(t *testing.T) {
	src := `import "fmt"

// Point is a point.
type Point struct {
	X, Y int // coords
}

// Add adds
// two points.
func (p Point) Add(q Point) Point { return Point{p.X + q.X, p.Y + q.Y} }

// square squares.
func square(x int) int {
	return x * x
}

const Pi = 3.14 // pi

var (
	// counter counts.
	counter int
	a, b = 1, "s"
)
total := square(3) + 1
fmt.Println(total)
`
	got := cell.Declarations(src)
	var lines []string
	for _, d := range got {
		lines = append(lines, fmt.Sprintf("%s %s %d %q %q", d.Kind, d.Name, d.Line, d.Signature, d.Doc))
	}
	want := []string{
		`type Point 4 "type Point struct {\n    X, Y int // coords\n}" "Point is a point.\n"`,
		`method Point.Add 10 "func (p Point) Add(q Point) Point" "Add adds\ntwo points.\n"`,
		`func square 13 "func square(x int) int" "square squares.\n"`,
		`const Pi 17 "const Pi = 3.14" ""`,
		`var counter 21 "var counter int" "counter counts.\n"`,
		`var a 22 "var a, b = 1, \"s\"" ""`,
		`var b 22 "var a, b = 1, \"s\"" ""`,
		`var total 24 "total := square(3) + 1" ""`,
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestPanicMessage(t *testing.T) {
	for in, want := range map[string]string{
		"1700002:8: interface conversion: interface {} is string, not int": "interface conversion: interface {} is string, not int",
		"reflect: slice index out of range":                                "runtime error: index out of range",
		"reflect: string index out of range":                               "runtime error: index out of range",
		"reflect.Value.Slice: slice index out of bounds":                   "runtime error: slice bounds out of range",
		"reflect: call of reflect.Value.Field on zero Value":               "runtime error: invalid memory address or nil pointer dereference",
		"assignment to entry in nil map":                                   "assignment to entry in nil map",
		"boom":                                                             "boom",
	} {
		if got := cell.PanicMessage(in); got != want {
			t.Errorf("PanicMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
