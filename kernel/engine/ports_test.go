package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/runtime/multiprocessing"
)

// A cell that declares main and then calls it, as a port of Python's
// `if __name__ == "__main__": main()` does, runs main once.
func TestMainCalledOnce(t *testing.T) {
	in, out := newTestInterpreter(t)
	mustRunCell(t, in, "import \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"main ran\")\n}\n\nmain()")
	if got := out.take(); got != "main ran\n" {
		t.Errorf("output %q, want main to run once", got)
	}
	// A later cell's main() still reaches it.
	mustRunCell(t, in, "main()")
	if got := out.take(); got != "main ran\n" {
		t.Errorf("later call: %q", got)
	}
}

// Globals a top-level := defines reach a child as `var x = ...` ones do,
// whatever their type: []any, map[string]any, the notebook's own types.
func TestChildSeesDefinedGlobals(t *testing.T) {
	c := startClient(t)
	mustRun := func(code string) string {
		t.Helper()
		res, r := run(t, c, code)
		if res.Status != "ok" {
			t.Fatalf("%q: %+v\nstderr: %s", code, res.Error, r.text("stderr"))
		}
		return r.text("stdout")
	}
	mustRun(`import ("fmt"; "multiprocessing")`)
	mustRun("type point struct{ X, Y int }\nitems := []any{\"A\", 5}\nconfig := map[string]any{\"name\": \"n\"}\norigin := point{1, 2}\nptr := &point{3, 4}\npts := []point{{5, 6}}\nvar direct = []any{\"B\"}")
	mustRun("func show(i int) string { return fmt.Sprint(items[i], \" \", config[\"name\"], \" \", origin.X+ptr.Y+pts[0].Y, \" \", direct[0]) }")
	out := mustRun("pool := multiprocessing.NewPool(2)\nr, err := pool.Map(show, []int{0, 1})\npool.Close()\nfmt.Println(r, err)")
	if out != "[A n 11 B 5 n 11 B] <nil>\n" {
		t.Errorf("got %q", out)
	}
}

// A declaration may use a function, type, variable or constant that a
// later cell declares, as in a Go file: it runs once they are all declared,
// and until then a call of it says which name it waits for.
func TestLateBinding(t *testing.T) {
	in, out := newTestInterpreter(t)
	ctx := context.Background()
	mustRunCell(t, in, "import \"fmt\"")
	mustRunCell(t, in, "// f uses what later cells declare.\nfunc f() {\n\tfmt.Println(g(), v, c, T{}.M(), len(table))\n}")
	o := in.Run(ctx, "f()")
	if o.Err == nil || !strings.Contains(o.Err.Value, "undefined: f") || !strings.Contains(strings.Join(o.Err.Traceback, "\n"), "f is declared in an earlier cell that waits for T, c, g, table and v") {
		t.Fatalf("calling f before its names: %+v", o.Err)
	}
	for _, code := range []string{
		"var v = later()",
		"const c = d * 2",
		"func (t T) M() int { return 4 }",
		"var table = map[string]T{\"a\": {}}",
		"type T struct{}",
		"func g() int { return 1 }",
		"func later() int { return 2 }",
	} {
		mustRunCell(t, in, code)
	}
	o = in.Run(ctx, "f()")
	if o.Err == nil || !strings.Contains(o.Err.Value, "waits for c: no cell has declared it yet") {
		t.Fatalf("calling f before d: %+v", o.Err)
	}
	mustRunCell(t, in, "const d = 3")
	mustRunCell(t, in, "f()")
	if got := out.take(); got != "1 2 6 4 1\n" {
		t.Errorf("f printed %q", got)
	}
	// A later version of a waiting declaration replaces it.
	mustRunCell(t, in, "func h() string { return k1 }")
	mustRunCell(t, in, "func h() string { return k2 }")
	mustRunCell(t, in, "const k1, k2 = \"old\", \"new\"")
	mustRunCell(t, in, "fmt.Println(h())")
	if got := out.take(); got != "new\n" {
		t.Errorf("h printed %q", got)
	}
}

// `hi := min(lo+1000, end)` as a loop's bound keeps the loop compiled, as
// the bound written with an if does (it was 13x slower: interpreted).
func TestMinBoundLoopCompiled(t *testing.T) {
	in, out := newTestInterpreter(t)
	multiprocessing.SetHost(in)
	mustRunCell(t, in, "import \"fmt\"")
	mustRunCell(t, in, "func report(start, end int) {\n\ttotal := 0\n\tfor lo := start; lo < end; lo += 1000 {\n\t\thi := min(lo+1000, end)\n\t\tfor i := lo; i < hi; i++ {\n\t\t\ttotal += i * i\n\t\t}\n\t}\n\tfmt.Println(\"Total:\", total)\n}")
	if prog := strings.Join(in.Program().Chunks, "\n"); !strings.Contains(prog, "__mp.RunLoop(") {
		t.Fatalf("the loop is not compiled:\n%s", prog)
	}
	start := time.Now()
	mustRunCell(t, in, "report(1, 3_000_001)")
	t.Logf("3e6 iterations in %v", time.Since(start))
	if got := out.take(); got != "Total: 9000004500000500000\n" {
		t.Errorf("got %q", got)
	}
}

// A held declaration that does not compile once its names are declared
// (its type lacks a method a later cell declares) stays held until it does;
// an init waits too, as it runs after every declaration in Go; a main body
// with a return or a goto runs.
func TestLateBindingMethodsAndInit(t *testing.T) {
	in, out := newTestInterpreter(t)
	ctx := context.Background()
	mustRunCell(t, in, "import \"fmt\"")
	mustRunCell(t, in, "func init() { fmt.Println(\"init sees\", later0) }")
	mustRunCell(t, in, "var shown = []fmt.Stringer{pt{1}}")
	mustRunCell(t, in, "type pt struct{ x int }")
	o := in.Run(ctx, "fmt.Println(len(shown))")
	if o.Err == nil || !strings.Contains(o.Err.Value, "shown is declared in an earlier cell that does not compile yet") || !strings.Contains(o.Err.Value, "String") {
		t.Errorf("using shown before pt.String: %+v", o.Err)
	}
	mustRunCell(t, in, "func (p pt) String() string { return fmt.Sprint(\"pt\", p.x) }")
	mustRunCell(t, in, "fmt.Println(shown)")
	if got := out.take(); got != "[pt1]\n" {
		t.Errorf("got %q", got)
	}
	mustRunCell(t, in, "const later0 = 7")
	if got := out.take(); got != "init sees 7\n" {
		t.Errorf("init: %q", got)
	}
	// A function the type check lets use a method a later cell declares
	// (the interpreter cannot compile it yet) waits for it too.
	mustRunCell(t, in, "type speaker interface{ Speak() string }")
	mustRunCell(t, in, "type dog struct{}")
	mustRunCell(t, in, "func newSpeaker() speaker { return &dog{} }")
	mustRunCell(t, in, "func (d *dog) Speak() string { return \"woof\" }")
	mustRunCell(t, in, "fmt.Println(newSpeaker().Speak())")
	if got := out.take(); got != "woof\n" {
		t.Errorf("method declared after its use: %q", got)
	}
	mustRunCell(t, in, "n := 2\ngoto done\nfmt.Println(\"skipped\")\ndone:\nfor i := 0; i < n; i++ {\n\tif i == 1 {\n\t\treturn\n\t}\n\tfmt.Println(\"i\", i)\n}")
	if got := out.take(); got != "i 0\n" {
		t.Errorf("goto and return: %q", got)
	}
}

// A panic's traceback names the line that panicked and each calling line,
// in every frame of a recursive function and in the cell's own frame.
func TestTracebackNamesPanickingAndCallingLines(t *testing.T) {
	in, _ := newTestInterpreter(t)
	mustRunCell(t, in, "import \"fmt\"")
	o := in.Run(context.Background(), "func depth(n int) int {\n\tif n == 0 {\n\t\tvar m map[string]int\n\t\tm[\"k\"] = 1\n\t}\n\treturn depth(n-1) + 1\n}\nfmt.Println(\"start\")\ndepth(2)")
	if o.Err == nil {
		t.Fatal("no panic")
	}
	want := []string{
		"main.depth(...)  (line 4, column 3)",
		"main.depth(...)  (line 6, column 9)",
		"main.depth(...)  (line 6, column 9)",
		"main(...)  (line 9, column 1)",
	}
	var got []string
	for _, l := range o.Err.Traceback[3:] {
		got = append(got, strings.TrimSpace(l))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("frames\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A function that uses a standard package the notebook did not import is
// a mistake reported at once, not a declaration waiting for a later cell.
func TestForgottenImportNotHeld(t *testing.T) {
	in, _ := newTestInterpreter(t)
	o := in.Run(context.Background(), "func shout(s string) string { return strings.ToUpper(s) }")
	if o.Err == nil || !strings.Contains(o.Err.Value, "undefined: strings") {
		t.Fatalf("got %+v, want undefined: strings", o.Err)
	}
}
