package cell_test

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/numcode"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// notebook drives a real yaegi interpreter the way the engine does: prelude,
// then each cell's chunks in order, falling back to NoDisplay.
type notebook struct {
	t        *testing.T
	i        *interp.Interpreter
	out      *bytes.Buffer
	displays []string
	probed   string
	seen     map[cell.Import]bool
	srcs     []string // the chunks evaluated, for runLoop
	// loopCalls and procCalls count the calls of RunLoop and RunProc;
	// compiledLoops makes them run the compiled code as the engine does
	// (otherwise they report false and the interpreted code runs).
	loopCalls, procCalls int
	compiledLoops        bool
	interpreted          bool // Options.Interpreted
	n                    int
	mu                   sync.Mutex
}

func newNotebook(t *testing.T) *notebook {
	t.Helper()
	nb := &notebook{t: t, out: &bytes.Buffer{}, seen: map[cell.Import]bool{}}
	nb.i = interp.New(interp.Options{Stdout: nb.out, Stderr: nb.out})
	if err := nb.i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	display := func(vs ...any) {
		nb.mu.Lock()
		defer nb.mu.Unlock()
		nb.displays = append(nb.displays, strings.TrimSuffix(fmt.Sprintln(vs...), "\n"))
	}
	clear := func(x any) {
		v := reflect.ValueOf(x)
		if v.Kind() == reflect.Map || v.Kind() == reflect.Slice {
			v.Clear()
		}
	}
	zero := func(p any) {
		if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && !v.IsNil() {
			v.Elem().SetZero()
		}
	}
	probe := func(name string) bool { nb.probed = name; return true }
	// RunProc and RunLoop as the engine runs them, from the chunks evaluated
	// so far.
	runProc := func(name string, id int, args ...any) (any, bool) {
		nb.procCalls++
		if !nb.compiledLoops {
			return nil, false
		}
		var files []*ast.File
		for _, src := range nb.srcs {
			if f, err := numcode.ParseChunk(src); err == nil {
				files = append(files, f)
			}
		}
		for i := len(files) - 1; i >= 0; i-- {
			for _, d := range files[i].Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name {
					if p, ok := numcode.CompileWith(fd, numcode.Declarations(files...)); ok {
						return p.Call(nil, args)
					}
				}
			}
		}
		t.Errorf("RunProc(%q, %d): no such procedure in the chunks", name, id)
		return nil, false
	}
	runLoop := func(id, k int, vals ...any) ([]any, bool) {
		nb.loopCalls++
		if !nb.compiledLoops {
			return nil, false
		}
		types, _ := numcode.TypesOf(vals)
		var files []*ast.File
		for _, src := range nb.srcs {
			if f, err := numcode.ParseChunk(src); err == nil {
				files = append(files, f)
			}
		}
		for i := len(files) - 1; i >= 0; i-- {
			if b, ok := numcode.WrappedLoop(files[i], id, k, types, numcode.Declarations(files...)); ok {
				return b.Call(nil, vals)
			}
		}
		t.Errorf("RunLoop(%d, %d): no such loop in the chunks", id, k)
		return nil, false
	}
	err := nb.i.Use(interp.Exports{
		"goproctest/helpers/helpers": {"Display": reflect.ValueOf(display), "Clear": reflect.ValueOf(clear), "Zero": reflect.ValueOf(zero), "Zeroed": reflect.ValueOf(func(ok bool, p any) bool {
			if !ok {
				zero(p)
			}
			return true
		})},
		"goproctest/mp/mp": {"Probe": reflect.ValueOf(probe), "RunProc": reflect.ValueOf(runProc), "RunLoop": reflect.ValueOf(runLoop)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{`import __goproc "goproctest/helpers"`, `import __mp "goproctest/mp"`, cell.Prelude, cell.MinMaxPrelude} {
		if _, err := nb.i.Eval(src); err != nil {
			t.Fatalf("prelude: %v", err)
		}
	}
	return nb
}

// cellError is a failed cell, with the position mapped to the cell.
type cellError struct {
	Line, Col int
	Msg       string
}

func (e *cellError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

func (nb *notebook) opts() cell.Options {
	nb.n++
	g := nb.globals()
	return cell.Options{
		Instrument:   true,
		Interpreted:  nb.interpreted,
		EarlierFuncs: numcode.FuncsInChunks(nb.srcs),
		Seq:          nb.n,
		SeenImport:   func(im cell.Import) bool { return nb.seen[im] },
		KnownInts: func(name string) bool {
			v, ok := g[name]
			if !ok {
				return false
			}
			switch v.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				return true
			}
			return false
		},
	}
}

// globals is Globals() with a recover: yaegi v0.16.1 panics in Globals()
// after a failed cell left a global without a frame slot.
func (nb *notebook) globals() (g map[string]reflect.Value) {
	defer func() { recover() }()
	return nb.i.Globals()
}

// run evaluates a cell and returns what it printed and displayed.
func (nb *notebook) run(src string) (out string, display []string, err error) {
	nb.out.Reset()
	nb.displays = nil
	chunks, err := cell.Parse(src, nb.opts())
	if err != nil {
		return "", nil, err
	}
	for _, c := range chunks {
		if err := nb.eval(c); err != nil {
			if c.Display {
				if err2 := nb.eval(c.WithoutDisplay()); err2 == nil {
					continue
				}
			}
			line, col, rest, ok := c.CellError(err.Error())
			if !ok {
				return nb.out.String(), nb.displays, err
			}
			return nb.out.String(), nb.displays, &cellError{line, col, rest}
		}
		for _, im := range c.Imports {
			nb.seen[im] = true
		}
	}
	return nb.out.String(), nb.displays, nil
}

func (nb *notebook) eval(c cell.Chunk) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
	}()
	_, err = nb.i.EvalWithContext(context.Background(), c.Src)
	if err == nil {
		nb.srcs = append(nb.srcs, c.Src)
	}
	return err
}

// mustRun runs a cell that must succeed.
func (nb *notebook) mustRun(src string) (string, []string) {
	nb.t.Helper()
	out, d, err := nb.run(src)
	if err != nil {
		chunks, _ := cell.Parse(src, cell.Options{Instrument: true})
		var b strings.Builder
		for _, c := range chunks {
			b.WriteString(c.Src)
		}
		nb.t.Fatalf("cell failed: %v\ncell:\n%s\nchunks:\n%s\noutput:\n%s", err, src, b.String(), out)
	}
	return out, d
}

func TestYaegiBasics(t *testing.T) {
	nb := newNotebook(t)
	out, d := nb.mustRun("import \"fmt\"\nfmt.Println(\"hi\")")
	if out != "hi\n" || len(d) != 0 {
		t.Errorf("Println: out %q display %q", out, d)
	}
	out, d = nb.mustRun("import \"fmt\"\nx := 40\nfunc add(a, b int) int { return a + b }\nadd(x, 2)")
	if out != "" || fmt.Sprint(d) != "[42]" {
		t.Errorf("display: out %q display %q", out, d)
	}
	// A call of a function with no results: the wrapped chunk fails, NoDisplay runs.
	_, d = nb.mustRun("import \"sync\"\nvar wg sync.WaitGroup\nwg.Wait()")
	if len(d) != 0 {
		t.Errorf("no-result call displayed %q", d)
	}
	_, d = nb.mustRun("import \"strconv\"\nx\nstrconv.Atoi(\"12\")")
	if fmt.Sprint(d) != "[12 <nil>]" {
		t.Errorf("multi-value display %q", d)
	}
}

func TestYaegiMain(t *testing.T) {
	nb := newNotebook(t)
	out, _ := nb.mustRun("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"main ran\", helper())\n}\n\nfunc helper() int { return 7 }\n")
	if out != "main ran 7\n" {
		t.Errorf("main: %q", out)
	}
	out, _ = nb.mustRun("fmt.Println(\"next\")")
	if out != "next\n" {
		t.Errorf("main re-ran: %q", out)
	}
	// A second whole program (same name main) works too.
	out, _ = nb.mustRun("func main() { fmt.Println(\"second\") }")
	if out != "second\n" {
		t.Errorf("second main: %q", out)
	}
	out, _ = nb.mustRun("1")
	if out != "" {
		t.Errorf("a main re-ran: %q", out)
	}
}

func TestYaegiFuncLiteralStatement(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import \"fmt\"")
	out, _ := nb.mustRun("func() { fmt.Println(\"once\") }()")
	if out != "once\n" {
		t.Errorf("literal: %q", out)
	}
	out, _ = nb.mustRun("x := 1")
	if out != "" {
		t.Errorf("literal re-ran: %q", out)
	}
}

func TestYaegiRangeInt(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import \"fmt\"\nN := 3\nconst C = 2\nvar B byte = 2")
	tests := []struct{ cell, want string }{
		{"for i := range 3 { fmt.Print(i, \" \") }", "0 1 2 "},
		{"for range 2 { fmt.Print(\"x\") }", "xx"},
		{"for i := range N { fmt.Print(i) }", "012"},
		{"for i := range C * N { fmt.Print(i) }", "012345"},
		{"s := []int{1, 2}\nfor i := range len(s) { fmt.Print(i) }", "01"},
		{"for i := range B { fmt.Printf(\"%T \", i) }", "uint8 uint8 "},
		{"var k int64 = 2\nfor i := range k { fmt.Printf(\"%T%d \", i, i) }", "int640 int641 "},
		{"for i := range int64(2) { fmt.Printf(\"%T \", i) }", "int64 int64 "},
		// N is evaluated once.
		{"calls := 0\nf := func() int { calls++; return 3 }\nfor i := range int(f()) { _ = i }\nfmt.Print(calls)", "1"},
		// Changing i in the body does not change the iterations.
		{"for i := range 3 { fmt.Print(i); i += 10 }", "012"},
		{"i := 0\nfor i = range 3 { }\nfmt.Print(i)", "2"},
		{"func count(n int) int { c := 0; for range n { c++ }; return c }\nfmt.Print(count(4))", "4"},
		{"func sq(n int) (s []int) { for i := range n { s = append(s, i*i) }; return }\nfmt.Print(sq(4))", "[0 1 4 9]"},
		{"outer:\nfor i := range 3 { for j := range 3 { if j == 1 { continue outer }; if i == 2 { break outer }; fmt.Print(i, j, \" \") } }", "0 0 1 0 "},
		{"var fs []func() int\nfor i := range 3 { fs = append(fs, func() int { return i }) }\nfor _, f := range fs { fmt.Print(f()) }", "012"},
		{"m := max(N, 5)\nfor i := range m { fmt.Print(i) }", "01234"},
	}
	for _, tc := range tests {
		out, _ := nb.mustRun(tc.cell)
		if out != tc.want {
			t.Errorf("%s\n got %q want %q", tc.cell, out, tc.want)
		}
	}
}

func TestYaegiMinMaxClear(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import (\"fmt\"; \"math\")\na, b := 4, 9\nvar fl float64 = 2.5\ntype ID int\nvar id ID = 3")
	tests := []struct{ cell, want string }{
		{"fmt.Print(min(a, b), max(a, b))", "4 9"},
		{"fmt.Print(min(1, a), max(100, b, a))", "1 100"},
		{"fmt.Print(min(fl, 1), max(3, fl))", "1 3"},
		{"fmt.Printf(\"%v %T\", min(1, 2.5), max(1, 2.5))", "1 float64"},
		{"fmt.Print(min(\"b\", \"a\", \"c\"), max(\"b\", \"a\"))", "ab"},
		{"s1, s2 := \"x\", \"y\"\nfmt.Print(min(s2, s1))", "x"},
		{"fmt.Print(min(a), max(a, b, 7, 12, 3))", "4 12"},
		{"fmt.Printf(\"%T %v\", min(id, 1), min(id, 1))", "int 1"}, // yaegi prints interpreted named types as their underlying type
		{"fmt.Print(math.IsNaN(min(fl, math.NaN())), math.IsNaN(max(math.NaN(), fl)))", "true true"},
		{"x := min(a, b)\nfmt.Print(x + 1)", "5"},
		{"y := max(1, fl, 2)\nfmt.Printf(\"%v %T\", y, y)", "2.5 float64"},
		{"z := max(1, 2, 3)\nfmt.Printf(\"%v %T\", z, z)", "3 int"},
		{"w := min(3.5, 2)\nfmt.Printf(\"%v %T\", w, w)", "2 float64"},
		{"func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }\nfmt.Print(clamp(15, 0, 10), clamp(-3, 0, 10))", "10 0"},
		{"func f() { m := min(a, b); fmt.Print(m) }\nf()", "4"},
		{"m := map[string]int{\"a\": 1}\nclear(m)\nfmt.Print(len(m))", "0"},
		{"s := []int{1, 2, 3}\nclear(s)\nfmt.Print(s)", "[0 0 0]"},
	}
	for _, tc := range tests {
		out, _ := nb.mustRun(tc.cell)
		if out != tc.want {
			t.Errorf("%s\n got %q want %q", tc.cell, out, tc.want)
		}
	}
	_, d := nb.mustRun("min(a, b)")
	if fmt.Sprint(d) != "[4]" {
		t.Errorf("display min: %q", d)
	}
	// The user's own min is left alone.
	out, _ := nb.mustRun("func min(xs ...string) string { return \"mine\" }\nfmt.Print(min(\"a\", \"b\"))")
	if out != "mine" {
		t.Errorf("user min: %q", out)
	}
}

func TestYaegiLoopVars(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import (\"fmt\"; \"sync\"; \"sort\")")
	tests := []struct{ cell, want string }{
		{"var fs []func() int\nfor i := 0; i < 3; i++ { fs = append(fs, func() int { return i }) }\nfor _, f := range fs { fmt.Print(f()) }", "012"},
		// Writes to i in the body reach the loop; continue still runs the post statement.
		{"var fs []func() int\nfor i := 0; i < 10; i++ {\n\tif i%2 == 1 {\n\t\tcontinue\n\t}\n\tfs = append(fs, func() int { return i })\n\tif i == 4 {\n\t\ti += 3\n\t}\n}\nfor _, f := range fs { fmt.Print(f(), \" \") }", "0 2 7 8 "},
		{"var ps []*int\nfor i := 0; i < 3; i++ { ps = append(ps, &i) }\nfor _, p := range ps { fmt.Print(*p) }", "012"},
		{"var mu sync.Mutex\nvar wg sync.WaitGroup\nvar got []int\nfor i := 0; i < 4; i++ { wg.Add(1); go func() { defer wg.Done(); mu.Lock(); got = append(got, i); mu.Unlock() }() }\nwg.Wait()\nsort.Ints(got)\nfmt.Print(got)", "[0 1 2 3]"},
		{"var fs []func() string\nfor k, v := range []string{\"a\", \"b\"} { fs = append(fs, func() string { return fmt.Sprint(k, v) }) }\nfor _, f := range fs { fmt.Print(f()) }", "0a1b"},
		{"var fs []func() int\nfor i, j := 0, 10; i < j; i, j = i+1, j-4 { fs = append(fs, func() int { return i*100 + j }) }\nfor _, f := range fs { fmt.Print(f(), \" \") }", "10 106 "},
		{"var fs []func() int\nL:\nfor i := 0; i < 3; i++ {\n\tfor j := 0; j < 3; j++ {\n\t\tif j == 1 {\n\t\t\tcontinue L\n\t\t}\n\t\tfs = append(fs, func() int { return i })\n\t}\n}\nfor _, f := range fs { fmt.Print(f()) }", "012"},
		{"func mk() []func() int { var fs []func() int; for i := 0; i < 2; i++ { fs = append(fs, func() int { return i }) }; return fs }\nfor _, f := range mk() { fmt.Print(f()) }", "01"},
		// No capture: the loop is left as it is.
		{"s := 0\nfor i := 0; i < 5; i++ { s += i }\nfmt.Print(s)", "10"},
	}
	for _, tc := range tests {
		out, _ := nb.mustRun(tc.cell)
		if out != tc.want {
			t.Errorf("%s\n got %q want %q", tc.cell, out, tc.want)
		}
	}
}

func TestYaegiTypeSwitchAndReturn(t *testing.T) {
	nb := newNotebook(t)
	out, _ := nb.mustRun("import \"fmt\"\nvar e any = 3\nswitch v := e.(type) {\ncase int:\n\tfmt.Print(\"int \", v)\n}")
	if out != "int 3" {
		t.Errorf("type switch: %q", out)
	}
	out, _ = nb.mustRun("switch e.(type) {\ncase int:\n\tfmt.Print(\"int\")\n}")
	if out != "int" {
		t.Errorf("type switch without var: %q", out)
	}
	_, _, err := nb.run("x := 1\nif x > 0 {\n\treturn\n}")
	var se *cell.SyntaxError
	if !asSyntax(err, &se) || se.Line != 3 || se.Col != 2 || !strings.Contains(se.Msg, "return is not allowed") {
		t.Errorf("return: %v", err)
	}
	// return inside a func literal is fine.
	out, _ = nb.mustRun("f := func() int { return 5 }\nfmt.Print(f())")
	if out != "5" {
		t.Errorf("literal return: %q", out)
	}
}

func asSyntax(err error, se **cell.SyntaxError) bool {
	s, ok := err.(*cell.SyntaxError)
	*se = s
	return ok
}

func TestYaegiErrorPositions(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import \"fmt\"")
	tests := []struct {
		cell      string
		line, col int
	}{
		{"x := 1\ny := 2\nz := \"a\" + x", 3, 6},
		{"var v int = \"s\"", 1, 13},
		{"a := 1\n\nfunc f() {\n\tvar z int = \"s\"\n}", 4, 14},
		{"s := \"héllo 世界\"; t := s + 1", 1, 23},
		{"s := \"世界\"\n  q := s * 2.5", 2, 8},
		{"for i := range 3 {\n\tfmt.Print(i + \"x\")\n}", 2, 12},
		{"fs := []func(){}\nfor i := 0; i < 3; i++ {\n\tfs = append(fs, func() { fmt.Print(i + \"x\") })\n}", 3, 37},
		{"func g() int {\n\treturn undefinedThing\n}", 2, 9},
		{"m := min(1, 2)\nfmt.Print(m + \"x\")", 2, 11},
		{"1 + \"a\"", 1, 1},
	}
	for _, tc := range tests {
		_, _, err := nb.run(tc.cell)
		ce, ok := err.(*cellError)
		if !ok {
			t.Errorf("%q: want a positioned error, got %v", tc.cell, err)
			continue
		}
		if ce.Line != tc.line || ce.Col != tc.col {
			t.Errorf("%q: got %d:%d (%s), want %d:%d", tc.cell, ce.Line, ce.Col, ce.Msg, tc.line, tc.col)
		}
	}
}

func TestYaegiProbes(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun(`import "fmt"
type Acc struct{ N int }
func (a *Acc) Add(x int) int { a.N += x; return a.N }
func (a Acc) Get() (n int) { return a.N }
func worker(p, q int) (int, error) { fmt.Println("body ran"); return p + q, nil }
func noResults() { fmt.Println("body ran") }
func Sum[T int | float64](xs []T) T { var s T; for _, x := range xs { s += x }; return s }
lit := func(s string) string { fmt.Println("body ran"); return s }`)
	probe := func(expr, want string) {
		t.Helper()
		nb.probed = ""
		src := "__goprocProbing = true\n" + expr + "\n__goprocProbing = false"
		if _, err := nb.i.Eval(src); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if nb.probed != want {
			t.Errorf("%s: probed %q want %q", expr, nb.probed, want)
		}
		if strings.Contains(nb.out.String(), "body ran") {
			t.Errorf("%s: body ran while probing", expr)
		}
		nb.out.Reset()
	}
	probe("worker(1, 2)", "worker")
	probe("noResults()", "noResults")
	probe("a := &Acc{}; a.Add(1)", "method (*Acc).Add")
	probe("Acc{}.Get()", "method (Acc).Get")
	probe("Sum[int](nil)", "Sum")
	probe("lit(\"x\")", "func literal at line 8")
	out, _ := nb.mustRun("fmt.Println(worker(2, 3))\nfmt.Println(Sum([]float64{1.5, 2}))")
	if !strings.Contains(out, "5 <nil>") || !strings.Contains(out, "3.5") {
		t.Errorf("functions broken by probes: %q", out)
	}
}

func TestYaegiImportsDeduped(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import \"fmt\"\nfmt.Print(1)")
	out, _ := nb.mustRun("import (\n\t\"fmt\"\n\t\"strings\"\n)\nfmt.Print(strings.ToUpper(\"a\"))")
	if out != "A" {
		t.Errorf("re-import: %q", out)
	}
	out, _ = nb.mustRun("import \"fmt\"\nfmt.Print(2)")
	if out != "2" {
		t.Errorf("re-import only: %q", out)
	}
}

func TestYaegiTopLevelScopes(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import \"fmt\"\nk := 9\ni := 7\nvar fs []func() int")
	// A block-local named like a global must not change the global.
	out, _ := nb.mustRun("for j := 0; j < 3; j++ { k := j; fs = append(fs, func() int { return k }) }\nfor _, f := range fs { fmt.Print(f()) }\nfmt.Print(\" \", k)")
	if out != "012 9" {
		t.Errorf("shadowed global: %q", out)
	}
	out, _ = nb.mustRun("for i := range 2 { _ = i }\nif k := 1; k > 0 { fmt.Print(k) }\nfmt.Print(\" \", i, k)")
	if out != "1 7 9" {
		t.Errorf("loop/if var clobbered global: %q", out)
	}
	// Globals assigned in a top-level loop still change.
	out, _ = nb.mustRun("s := 0\nfor n := range 5 { s += n }\nfor i := 0; i < 3; i++ { k++ }\nfmt.Print(s, \" \", k)")
	if out != "10 12" {
		t.Errorf("loop writes: %q", out)
	}
	// Redefining a global from min of itself.
	out, _ = nb.mustRun("k := min(k, 3)\nfmt.Print(k)")
	if out != "3" {
		t.Errorf("k := min(k, 3): %q", out)
	}
}

func TestYaegiWholeProgram(t *testing.T) {
	nb := newNotebook(t)
	out, _ := nb.mustRun(`package main

import (
	"fmt"
	"sync"
)

func square(x int) int { return x * x }

func main() {
	var wg sync.WaitGroup
	res := make([]int, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = square(i)
		}()
	}
	wg.Wait()
	fmt.Println(res, min(res[1], res[4]), max(res[2], 3))
}
`)
	if out != "[0 1 4 9 16] 1 4\n" {
		t.Errorf("program: %q", out)
	}
}

func TestYaegiRuntimeErrorPosition(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import \"fmt\"")
	// An error in the code after a display wrap and a min rewrite on the same line.
	_, _, err := nb.run("a, b := 1, 2\nx := min(a, b); y := x + \"é\"")
	ce, ok := err.(*cellError)
	if !ok || ce.Line != 2 || ce.Col != 22 {
		t.Errorf("got %v, want 2:22", err)
	}
	_, _, err = nb.run("for i := range 3 {\n\tfmt.Println(i)\n\tvar s string = i\n}")
	ce, ok = err.(*cellError)
	if !ok || ce.Line != 3 || ce.Col != 17 {
		t.Errorf("got %v, want 3:17", err)
	}
}

// A loop of ints in a function that does more (prints, takes a slice) runs
// compiled through RunLoop and gives what the interpreted loop gives; where
// RunLoop reports false, the interpreted loop runs from the same values.
func TestYaegiCompiledLoops(t *testing.T) {
	const src = `import ("fmt"; "math")

func report(start, end int) {
	total := 0
	for i := start; i < end; i++ {
		total += i * i
	}
	fmt.Println("total:", total)
}

func tally(words []string, n int) (count int) {
	var skipped int
	for i := range n {
		if i%3 == 0 {
			skipped++
			continue
		}
		count += i
	}
	for _, w := range words {
		fmt.Print(w, " ")
	}
	x := 1.5
	for j := 0; j < 3; j++ {
		x *= 2
	}
	fmt.Println(skipped, x)
	return
}

func triangle(rows int) {
	for r := 1; r <= rows; r++ {
		s := 0
		for j := 1; j <= r; j++ {
			s += j
		}
		fmt.Print(s, " ")
	}
	fmt.Println()
}

func idle(n int) {
	for i := 0; i < n; i++ {
	}
	fmt.Println("idle", n)
}

func squares(start, end int) uint64 {
	var acc uint64
	i, n := uint64(start), uint64(end)
	for i < n {
		acc += i * i
		i++
	}
	return acc - 1
}

func blockSquares(start, end int) {
	var acc uint64
	i, n := uint64(start), uint64(end)
	for i < n {
		acc += i * i
		i++
	}
	fmt.Println(acc - 1)
}

func pi(n int) float64 {
	sum := 0.0
	h := 1.0 / float64(n)
	for i := 0; i < n; i++ {
		x := (float64(i) + 0.5) * h
		sum += 4 / (1 + x*x)
	}
	return sum * h
}

func piReport(n int) {
	sum, h := 0.0, 1.0/float64(n)
	for i := 0; i < n; i++ {
		x := (float64(i) + 0.5) * h
		sum += 4 / (1 + x*x)
	}
	fmt.Printf("%.15f\n", sum*h)
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d <= int(math.Sqrt(float64(n))); d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func countPrimes(lo, hi int) int {
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	return c
}

func reportPrimes(lo, hi int) {
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	fmt.Println("primes:", c)
}

func halvings(n uint64, k int64) int64 {
	if n < 2 {
		return k
	}
	return halvings(n/2, k+1)
}

report(1, 1001)
fmt.Println(tally([]string{"a", "b"}, 10))
triangle(5)
idle(3)
fmt.Println(squares(1, 1001), squares(0, 0), halvings(1<<40, 3))
blockSquares(1, 1001)
fmt.Printf("%.15f\n", pi(1000))
piReport(1000)
fmt.Println(isPrime(1_000_003), isPrime(1_000_001), countPrimes(2, 50))
reportPrimes(0, 100)`
	const want = "total: 333833500\na b 4 12\n27\n1 3 6 10 15 \nidle 3\n333833499 18446744073709551615 43\n333833499\n3.141592736923123\n3.141592736923123\ntrue false 15\nprimes: 25\n"
	for _, compiled := range []bool{false, true} {
		nb := newNotebook(t)
		nb.compiledLoops = compiled
		out, _ := nb.mustRun(src)
		if out != want {
			t.Errorf("compiled %v: got %q, want %q", compiled, out, want)
		}
		// report, tally's first loop, triangle's inner loop (once a row),
		// idle, blockSquares, piReport, reportPrimes.
		if nb.loopCalls != 1+1+5+1+1+1+1 {
			t.Errorf("compiled %v: RunLoop called %d times, want 11", compiled, nb.loopCalls)
		}
		// squares twice, pi, isPrime twice, countPrimes (which calls
		// isPrime 48 times when interpreted), and halvings (once compiled,
		// at every level interpreted).
		// reportPrimes's loop calls isPrime 100 times when interpreted.
		if want := map[bool]int{true: 7, false: 6 + 48 + 41 + 100}[compiled]; nb.procCalls != want {
			t.Errorf("compiled %v: RunProc called %d times, want %d", compiled, nb.procCalls, want)
		}
	}
	// With Options.Interpreted (GOPROC_COMPILE=0) nothing is compiled, and
	// the output is the same.
	nb := newNotebook(t)
	nb.interpreted, nb.compiledLoops = true, true
	if out, _ := nb.mustRun(src); out != want || nb.loopCalls+nb.procCalls != 0 {
		t.Errorf("interpreted: %d RunLoop and %d RunProc calls, output %q", nb.loopCalls, nb.procCalls, out)
	}
}

// A compiled procedure calls a function an earlier cell declared, as long
// as the notebook declares it once.
func TestYaegiCompiledCallsAcrossCells(t *testing.T) {
	nb := newNotebook(t)
	nb.compiledLoops = true
	const isPrime = `func isPrime(n int) bool {
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return n > 1
}`
	nb.mustRun("import \"fmt\"\n\n" + isPrime)
	counter := func(name string) string {
		return "func " + name + `(lo, hi int) int {
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	return c
}`
	}
	nb.mustRun(counter("countPrimes"))
	out, _ := nb.mustRun(`fmt.Println(countPrimes(0, 100))`)
	if out != "25\n" || nb.procCalls != 1 {
		t.Errorf("got %q with %d RunProc calls, want 25 with one (countPrimes compiled, calling isPrime)", out, nb.procCalls)
	}
	// The cell declaring isPrime run again, the same: nothing changes.
	nb.mustRun(isPrime)
	nb.mustRun(counter("countPrimes3"))
	nb.procCalls = 0
	out, _ = nb.mustRun(`fmt.Println(countPrimes3(0, 100))`)
	if out != "25\n" || nb.procCalls != 1 {
		t.Errorf("after the same declaration again: got %q with %d RunProc calls, want 25 with one", out, nb.procCalls)
	}
	// Declared again, isPrime is called as the interpreter calls it.
	nb.mustRun(`func isPrime(n int) bool { return n == 2 }`)
	nb.mustRun(counter("countPrimes2"))
	nb.procCalls = 0
	out, _ = nb.mustRun(`fmt.Println(countPrimes2(0, 100))`)
	if out != "1\n" || nb.procCalls != 0 {
		t.Errorf("after a redeclaration: got %q with %d RunProc calls, want 1 with none", out, nb.procCalls)
	}
}

// yaegi v0.16.1 carries out only the call's part of an assignment of
// several values one of which is a call (x, y = f(), s leaves y), and
// panics on a receive among them; the rewrite makes every part land, at
// the top level and in functions, with the calls run once, in order.
func TestYaegiParallelAssignWithCalls(t *testing.T) {
	nb := newNotebook(t)
	nb.mustRun("import (\n\t\"fmt\"\n\t\"strings\"\n\t\"time\"\n)\ntype row struct {\n\tname string\n\td    time.Duration\n}\n" +
		"calls := []string{}\nfunc f(s string) int { calls = append(calls, s); return len(s) }")
	body := "r := row{\"a\", 2 * time.Second}\ns := make([]float64, 1)\nn := make([]string, 1)\nvar x int\nvar y string\n" +
		"s[0], n[0] = r.d.Seconds(), r.name\n" +
		"x, y = f(\"one\"), r.name\n" +
		"ch := make(chan int, 1)\nch <- 9\nvar z int\nz, y = <-ch, y+\"!\"\n" +
		"i := 0\nv := []int{0, 0}\ni, v[i] = f(\"two\"), 5\n" +
		"y, n[0] = strings.ToUpper(y), y\n" +
		"fmt.Println(s, n, x, y, z, i, v, calls)\n"
	want := "[2] [a!] 3 A! 9 3 [5 0] [one two]\n"
	if out, _ := nb.mustRun(body); out != want {
		t.Errorf("top level: %q, want %q", out, want)
	}
	nb.mustRun("calls = nil")
	if out, _ := nb.mustRun("func inside() {\n" + body + "}\ninside()"); out != want {
		t.Errorf("in a function: %q, want %q", out, want)
	}
}
