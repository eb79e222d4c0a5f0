package engine

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTypeCheckMistakes: the mistakes students make most get the Go
// compiler's message at the cell's line and column, not the interpreter's.
func TestTypeCheckMistakes(t *testing.T) {
	for _, tc := range []struct {
		cells []string // all but the last must run
		want  string   // the error's Value
	}{
		{[]string{"y := undefinedThing + 1"}, "line 1:6: undefined: undefinedThing"},
		{[]string{"import \"fmt\"\nfmt.Prinln(\"hello\")"}, "line 2:5: undefined: fmt.Prinln"},
		{[]string{"type T struct{ name string }", "func main() {\n\tt := T{}\n\tt.Run()\n}"}, "line 3:4: t.Run undefined (type T has no field or method Run)"},
		{[]string{`var n int = "five"`}, `line 1:13: cannot use "five" (untyped string constant) as int value in variable declaration`},
		{[]string{"func sign(x int) int {\n\tif x > 0 {\n\t\treturn 1\n\t} else if x < 0 {\n\t\treturn -1\n\t}\n}"}, "line 7:1: missing return"},
		{[]string{"import \"strconv\"\nfunc parse(s string) (int, error) {\n\tn, _ := strconv.Atoi(s)\n\treturn n\n}"}, "line 4:9: not enough return values\n\thave (int)\n\twant (int, error)"},
		{[]string{"import (\n\t\"fmt\"\n\t\"unsafe\"\n)"}, "line 3:2: package unsafe is not available in goproc: the Go interpreter cannot run it"},
		{[]string{"x := 1", "x = \"one\""}, `line 1:5: cannot use "one" (untyped string constant) as int value in assignment`},
	} {
		in, _ := newTestInterpreter(t)
		for _, c := range tc.cells[:len(tc.cells)-1] {
			mustRunCell(t, in, c)
		}
		o := in.Run(context.Background(), tc.cells[len(tc.cells)-1])
		if o.Err == nil || o.Err.Name != "CompileError" || o.Err.Value != tc.want {
			t.Errorf("%q: got %+v, want CompileError %q", tc.cells, o.Err, tc.want)
			continue
		}
		if tb := strings.Join(o.Err.Traceback, "\n"); !strings.Contains(tb, "^") {
			t.Errorf("%q: no caret in the traceback:\n%s", tc.cells, tb)
		}
	}
}

// TestFailedCellChangesNothing: after a cell that fails, the next cells
// run as if it had not been run.
func TestFailedCellChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cells  []string // the first fails; the others must run
		stdout string
	}{
		{"an undefined name", []string{"y := undefinedThing + 1", "import \"fmt\"\nundefinedThing := 2\nfmt.Println(undefinedThing)"}, "2\n"},
		{"a bad import", []string{"import (\n\t\"fmt\"\n\t\"unsafe\"\n)", "import \"fmt\"\nfmt.Println(\"ok\")"}, "ok\n"},
		{"a module not found", []string{"import (\n\t\"fmt\"\n\t\"github.com/nobody/nothing\"\n)\nfmt.Println(1)", "import \"fmt\"\nfmt.Println(\"ok\")"}, "ok\n"},
		{"a type error after a define", []string{"x := \"two\"\ny := x + 1", "import \"fmt\"\nx := 5\nfmt.Println(x + 1)"}, "6\n"},
		// The cell runs nothing, not even what comes before the mistake.
		{"statements before the mistake", []string{"import \"fmt\"\nfmt.Println(\"ran\")\nz := 1\nfmt.Println(z.Field)", "import \"fmt\"\nfmt.Println(\"next\")"}, "next\n"},
		// Locked cells of a graded notebook still work after a student's bad cell.
		{"locked cells after a bad cell", []string{"import (\n\t\"fmt\"\n\t\"unsafe\"\n\n\t\"multiprocessing\"\n)\nfunc square(n int) int { return n * n }", "import (\n\t\"fmt\"\n\n\t\"grade\"\n)\nfmt.Println(grade.Lines(\"a\\nb\"))"}, "[a b]\n"},
	} {
		in, out := newTestInterpreter(t)
		if o := in.Run(context.Background(), tc.cells[0]); o.Err == nil || o.Err.Name != "CompileError" {
			t.Errorf("%s: first cell: got %+v, want a CompileError", tc.name, o.Err)
			continue
		}
		for _, c := range tc.cells[1:] {
			if o := in.Run(context.Background(), c); o.Err != nil {
				t.Errorf("%s: %q: %s: %s", tc.name, c, o.Err.Name, o.Err.Value)
			}
		}
		if got := out.all(); got != tc.stdout {
			t.Errorf("%s: stdout %q, want %q", tc.name, got, tc.stdout)
		}
	}
}

// TestInterpreterFailureKeepsLaterCells: a cell go/types accepts but the
// interpreter cannot compile gets the interpreter's message, and the cells
// after it still run.
func TestInterpreterFailureKeepsLaterCells(t *testing.T) {
	in, out := newTestInterpreter(t)
	mustRunCell(t, in, "import (\n\t\"fmt\"\n\t\"sync\"\n)")
	mustRunCell(t, in, "func Sum[T int | float64](xs ...T) T {\n\tvar s T\n\tfor _, x := range xs {\n\t\ts += x\n\t}\n\treturn s\n}")
	for _, c := range []string{
		"total := Sum(1, 2, 3)",                           // yaegi cannot infer T
		"once := sync.OnceValue(func() int { return 1 })", // newer than the interpreter's library
		"var total = Sum(1, 2, 3)",
		"type R struct{ V int }\nvar r = R{Sum(1, 2)}\nfunc (x R) Get() int { return x.V }",
	} {
		if o := in.Run(context.Background(), c); o.Err == nil {
			t.Fatalf("%q ran; the test needs a cell the interpreter rejects", c)
		}
	}
	// The failed cells declared nothing, for the checker and the
	// interpreter alike.
	if o := in.Run(context.Background(), "fmt.Println(r)"); o.Err == nil || o.Err.Value != "line 1:13: undefined: r" {
		t.Fatalf("got %+v, want undefined: r", o.Err)
	}
	mustRunCell(t, in, "total := Sum[int](1, 2, 3)\nonce := 7\nfmt.Println(total, once)")
	mustRunCell(t, in, "type R struct{ W string }\nfmt.Println(R{\"w\"})")
	// A type the interpreter refused to redefine keeps its declaration for
	// the checker too.
	mustRunCell(t, in, "type Point struct{ X, Y int }")
	if o := in.Run(context.Background(), "import \"strings\"\ntype Point struct{ Name string }"); o.Err == nil || o.Err.Name != "TypeRedefinition" {
		t.Fatalf("got %+v, want TypeRedefinition", o.Err)
	}
	mustRunCell(t, in, "fmt.Println(Point{1, 2}, strings.ToUpper(\"ok\"))")
	if got, want := out.all(), "6 7\n{w}\n{1 2} OK\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// TestTypeCheckOff: GOPROC_TYPECHECK=0 leaves every cell to the
// interpreter.
func TestTypeCheckOff(t *testing.T) {
	t.Setenv(typeCheckEnv, "0")
	in, _ := newTestInterpreter(t)
	o := in.Run(context.Background(), "x := 1\nx = \"one\"")
	if o.Err == nil || strings.Contains(o.Err.Value, "untyped string constant") {
		t.Fatalf("got %+v, want the interpreter's error", o.Err)
	}
}

// BenchmarkRunTypeChecked is BenchmarkRunTrivial after the assignment
// notebook's declarations, with the check on and off
// (GOPROC_TYPECHECK=0): what the check adds to every cell.
func BenchmarkRunTypeChecked(b *testing.B) {
	for _, mode := range []string{"on", "off"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "off" {
				b.Setenv(typeCheckEnv, "0")
			}
			in, err := NewInterpreter(Config{Stdout: os.Stdout, Stderr: os.Stderr})
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range benchNotebook {
				if o := in.Run(context.Background(), c); o.Err != nil {
					b.Fatal(c, o.Err)
				}
			}
			before := selfCPU(b)
			n := 0
			for b.Loop() {
				if o := in.Run(context.Background(), "n := len(words) + square(3)\nn"); o.Err != nil {
					b.Fatal(o.Err)
				}
				n++
			}
			// CPU time is less noisy than wall time on a shared machine.
			b.ReportMetric(float64(selfCPU(b)-before)/float64(n), "cpu-ns/op")
		})
	}
}

// selfCPU is the user and system CPU time of this process.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchNotebook is a notebook's worth of declarations.
var benchNotebook = []string{
	"import (\n\t\"fmt\"\n\t\"strings\"\n\t\"sort\"\n\t\"os\"\n\n\t\"multiprocessing\"\n)",
	"type Point struct{ X, Y int }\nfunc (p Point) String() string { return fmt.Sprintf(\"(%d, %d)\", p.X, p.Y) }\nfunc (p Point) Add(q Point) Point { return Point{p.X + q.X, p.Y + q.Y} }",
	"func square(n int) int { return n * n }\nfunc isPrime(n int) bool {\n\tif n < 2 {\n\t\treturn false\n\t}\n\tfor d := 2; d*d <= n; d++ {\n\t\tif n%d == 0 {\n\t\t\treturn false\n\t\t}\n\t}\n\treturn true\n}",
	"words := strings.Fields(\"the quick brown fox jumps over the lazy dog\")\ncounts := map[string]int{}\nfor _, w := range words {\n\tcounts[w]++\n}\nkeys := make([]string, 0, len(counts))\nfor k := range counts {\n\tkeys = append(keys, k)\n}\nsort.Strings(keys)",
	"func describe() {\n\tme := multiprocessing.CurrentProcess()\n\tfmt.Fprintf(os.Stderr, \"%s %d\\n\", me.Name, os.Getpid())\n}\nvar origin = Point{0, 0}\nconst limit = 100",
}

// TestRollbackWithoutTypeCheck: a chunk the interpreter fails to compile
// leaves nothing in its scope, even with the check off (what go/types lets
// through relies on it).
func TestRollbackWithoutTypeCheck(t *testing.T) {
	t.Setenv(typeCheckEnv, "0")
	in, out := newTestInterpreter(t)
	mustRunCell(t, in, "import \"fmt\"")
	if o := in.Run(context.Background(), "y := undefinedThing + 1"); o.Err == nil {
		t.Fatal("the cell ran")
	}
	if o := in.Run(context.Background(), "fmt.Println(undefinedThing)"); o.Err == nil || o.Err.Name != "CompileError" {
		t.Fatalf("got %+v, want the interpreter's compile error", o.Err)
	}
	mustRunCell(t, in, "func Sum[T int | float64](xs ...T) T {\n\tvar s T\n\tfor _, x := range xs {\n\t\ts += x\n\t}\n\treturn s\n}")
	if o := in.Run(context.Background(), "type R struct{ V int }\nvar r = R{Sum(1, 2)}"); o.Err == nil {
		t.Fatal("the cell ran") // yaegi cannot infer T
	}
	mustRunCell(t, in, "undefinedThing := 2\ntype R struct{ W string }\nfmt.Println(undefinedThing, R{\"w\"})")
	if got, want := out.all(), "2 {w}\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// TestTypeErrorInReturningCell: a cell with a top-level return, which Run
// wraps in a function literal, gets its error at the line and column of
// the cell as written.
func TestTypeErrorInReturningCell(t *testing.T) {
	if w, ok := returningCell("return"); !ok || w != returningHead+"return"+returningTail {
		t.Fatalf("returningCell wraps as %q; typeError expects %q", w, returningHead+"return"+returningTail)
	}
	in, _ := newTestInterpreter(t)
	o := in.Run(context.Background(), "import \"fmt\"\nfmt.Println(undefinedX)\nreturn")
	if o.Err == nil || o.Err.Value != "line 2:13: undefined: undefinedX" {
		t.Fatalf("got %+v", o.Err)
	}
	o = in.Run(context.Background(), "x := undefinedY\nif x > 0 {\n\treturn\n}")
	if o.Err == nil || o.Err.Value != "line 1:6: undefined: undefinedY" {
		t.Fatalf("got %+v", o.Err)
	}
	if tb := strings.Join(o.Err.Traceback, "\n"); !strings.Contains(tb, "   1 | x := undefinedY\n     |      ^") {
		t.Fatalf("traceback:\n%s", tb)
	}
}
