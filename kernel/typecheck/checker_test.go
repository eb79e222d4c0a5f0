package typecheck

import (
	"fmt"
	"strings"
	"testing"
)

// runCells checks cells in order, committing those that pass, as the
// engine does with cells that run.
func runCells(t *testing.T, c *Checker, cells ...string) []Error {
	t.Helper()
	var last []Error
	for i, code := range cells {
		r := c.Check(code)
		if i < len(cells)-1 && len(r.Errors) > 0 {
			t.Fatalf("cell %d %q: %v", i+1, code, r.Errors)
		}
		c.Commit(r)
		last = r.Errors
	}
	return last
}

func TestMistakes(t *testing.T) {
	for _, tc := range []struct {
		cells []string
		want  string // "line:col: msg"
	}{
		{[]string{"y := undefinedThing + 1"}, "1:6: undefined: undefinedThing"},
		{[]string{`import "fmt"`, `fmt.Prinln("hi")`}, "1:5: undefined: fmt.Prinln"},
		{[]string{"import \"fmt\"\nfunc main() {\n\tfmt.Prinln(1)\n}"}, "3:6: undefined: fmt.Prinln"},
		{[]string{"type T struct{ A int }", "var t T\nt.Run()"}, "2:3: t.Run undefined (type T has no field or method Run)"},
		{[]string{"type T struct{ A int }\nfunc main() {\n\tt := T{}\n\tt.Run()\n}"}, "4:4: t.Run undefined (type T has no field or method Run)"},
		{[]string{`var n int = "five"`}, `1:13: cannot use "five" (untyped string constant) as int value in variable declaration`},
		{[]string{"func f(x int) int {\n\tif x > 0 {\n\t\treturn 1\n\t}\n}"}, "5:1: missing return"},
		{[]string{"func f() (int, error) {\n\treturn 1\n}"}, "2:9: not enough return values\n\thave (number)\n\twant (int, error)"},
		{[]string{`import "unsafe"`}, "1:8: package unsafe is not available in goproc: the Go interpreter cannot run it"},
		{[]string{`import "github.com/nobody/nothing"`}, "1:8: package github.com/nobody/nothing is not built into this engine: the goproc kernel and goproc run build the modules a cell imports; goproc grade offers only those the source notebook imports"},
		{[]string{"x := 1", `x = "s"`}, `1:5: cannot use "s" (untyped string constant) as int value in assignment`},
		{[]string{`import "strings"`, `n := strings.Count("a,b", ",")`, `var s string = n`}, "1:16: cannot use n (variable of type int) as string value in variable declaration"},
		{[]string{`import "multiprocessing"`, "p := multiprocessing.NewPool(2)\np.Mapp(nil, nil)"}, "2:3: p.Mapp undefined (type *multiprocessing.Pool has no field or method Mapp)"},
	} {
		got := runCells(t, New(Options{}), tc.cells...)
		if len(got) == 0 {
			t.Errorf("%q: no error, want %s", tc.cells, tc.want)
			continue
		}
		if s := fmt.Sprintf("%d:%d: %s", got[0].Line, got[0].Col, got[0].Msg); s != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.cells, s, tc.want)
		}
	}
}

func TestAccepted(t *testing.T) {
	for _, cells := range [][]string{
		{"x := 1\nx"}, // a trailing expression is shown
		{"import \"fmt\"\nimport \"strings\"\nfmt.Println(1)"}, // an unused import
		{"func f() { y := 2 }"},                                // an unused variable
		{"func f() int { return later() }"},                    // a later cell may declare later
		{"type T struct{}\nfunc f(t T) { t.Later() }"},         // or a method
		{"import \"fmt\"\ndata := []int{1, 2}\nfunc main() { fmt.Println(data) }\nmain()"},
		{"x := 1", "x := \"s\"", "var y string = x"}, // a later cell redefines x
		{"func f() int { return 1 }", "func f() string { return \"\" }", "var s string = f()"},
		{"import \"fmt\"", "type P struct{ X int }", "func (p P) String() string { return fmt.Sprint(p.X) }", "var s fmt.Stringer = P{}"},
		{"import \"time\"", "d := 2 * time.Second", "d.Seconds()"},
		{"import (\n\t\"bufio\"\n\t\"os\"\n)", "sc := bufio.NewScanner(os.Stdin)", "for sc.Scan() { _ = sc.Text() }"},
		{"import \"math\"", "x := math.Sqrt(2) * math.Pi", "var r rune = 'a'\nr = 'b'"},
		{"import \"sync\"", "var mu sync.Mutex\nvar wg sync.WaitGroup", "mu.Lock(); wg.Add(1); wg.Done(); mu.Unlock()"},
		{"import \"net/http\"", "resp, err := http.Get(\"http://x\")", "if err == nil { defer resp.Body.Close() }"},
		{"import \"fmt\"\nimport \"multiprocessing\"", "func square(x int) int { return x * x }\npool := multiprocessing.NewPool(2)\ndefer pool.Close()\nsquares, err := pool.Map(square, []int{1, 2, 3})\nfmt.Println(squares, err)"},
		{"import \"fmt\"\nfor i := range 3 { _ = i }\nfmt.Println(min(1, 2), max(3, 4))"},
		{"package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}"},
		{"import \"slices\"", "xs := []int{3, 1}\nslices.Sort(xs)\nm := slices.Max(xs)\n_ = m"},
		{"import . \"strings\"", "s := ToUpper(\"a\")\n_ = s"}, // a dot import lasts
		{"import \"sync\"", "var wg sync.WaitGroup\nwg.Go(func() {})"},
		{"import (\"fmt\"; \"strings\")", "strings := []string{\"a\"}", "fmt.Println(strings, len(strings))"}, // a global hides an import
		{"words := []string{\"a\"}", "import \"strings\"", "fmt := strings.Join(words, \",\")\n_ = fmt"},      // newer than the interpreter's tables
		{"import \"strings\"", "for l := range strings.Lines(\"a\\nb\") { _ = l }"},
		{"import \"os\"", "f, err := os.Open(\"x\")", "if err == nil { f.Close() }", "info, _ := os.Stat(\"x\")\n_ = info.Mode() & os.ModeDir"},
	} {
		c := New(Options{})
		for i, code := range cells {
			r := c.Check(code)
			if len(r.Errors) > 0 || r.skipped != "" {
				t.Errorf("%q cell %d: %v %s", cells, i+1, r.Errors, r.skipped)
				break
			}
			c.Commit(r)
		}
	}
}

func TestFailedCellChangesNothing(t *testing.T) {
	c := New(Options{})
	runCells(t, c, `import "fmt"`, "x := 1")
	if r := c.Check(`x := "s"` + "\n" + `y := undefinedThing`); len(r.Errors) == 0 {
		t.Fatal("no error")
	} else {
		c.Commit(r)
	}
	if r := c.Check("var n int = x\nfmt.Println(n)"); len(r.Errors) > 0 {
		t.Fatalf("x changed type after a failed cell: %v", r.Errors)
	}
	_ = strings.TrimSpace
}
