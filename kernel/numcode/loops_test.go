package numcode

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"math"
	"reflect"
	"strings"
	"testing"
)

// loopsOf returns the loops Loops finds in the function f declared in src,
// each as "line: vars (written)", a variable's type after it unless int.
func loopsOf(t *testing.T, src string) ([]Loop, []string) {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", "package p\n"+src, 0)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "f" {
			loops := Loops(fd, Declarations(file))
			var desc []string
			for _, l := range loops {
				var vars, written []string
				for i, v := range l.Vars {
					name := v.Name
					if v.Type != "int" {
						name += ":" + v.Type
					}
					vars = append(vars, name)
					if l.Written[i] {
						written = append(written, v.Name)
					}
				}
				desc = append(desc, fmt.Sprintf("%d: %s (%s)", fset.Position(l.Stmt.Pos()).Line-1,
					strings.Join(vars, " "), strings.Join(written, " ")))
			}
			return loops, desc
		}
	}
	t.Fatalf("no f in %s", src)
	return nil, nil
}

func TestLoopsFindsTheIntegerLoops(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []string // "line: vars (written)"
	}{
		{`func f(start, end int) {
	total := 0
	for i := start; i < end; i++ {
		total += i * i
	}
	fmt.Println(total)
}`, []string{"3: end start total (total)"}},
		// A named result, var, range over an int; not the loops over a
		// slice or of a float.
		{`func f(words []string, n int) (count int) {
	var skipped int
	for i := range n {
		if i%3 == 0 {
			skipped++
			continue
		}
		count += i
	}
	for _, w := range words {
		count += len(w)
	}
	x := 1.5
	for j := 0; j < 3; j++ {
		x *= 2
	}
	return
}`, []string{"3: count n skipped (count skipped)"}},
		// The inner loop of an outer one that prints, with the outer
		// loop's variable.
		{`func f(rows int) {
	for r := 1; r <= rows; r++ {
		s := 0
		for j := 1; j <= r; j++ {
			s += j
		}
		fmt.Println(s)
	}
}`, []string{"4: r s (s)"}},
		// A method; the receiver is not an int.
		{`func (c *T) f(n int) {
	sum := 0
	for i := range n {
		sum += i
	}
	c.sum = sum
}`, []string{"3: n sum (sum)"}},
		// Declared from ints: :=, var = and a redeclaration that keeps x an int.
		{`func f(a int, s string) {
	b := a*2 + 1
	var c = b
	x, err := 3, g()
	x, y := 4, s
	for b > 0 {
		b /= 2
		c++
		x--
	}
	fmt.Println(b, c, x, y, err)
}`, []string{"6: b c x (b c x)"}},
		// Inside a labeled loop: the loop that branches to the label is
		// refused, the other one compiles.
		{`func f(n int) {
	k := 0
outer:
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if j > i {
				continue outer
			}
		}
		for j := 0; j < i; j++ {
			k += j
		}
	}
	fmt.Println(k)
}`, []string{"10: i k (k)"}},
		// Scopes of if, switch and blocks.
		{`func f(v any, n int) {
	if m := n * 2; m > 0 {
		for m > 1 {
			m /= 2
		}
	}
	switch x := v.(type) {
	case int:
		for x > 0 {
			x--
		}
	}
	switch {
	case n > 0:
		t := 0
		for range n {
			t++
		}
	}
}`, []string{"3: m (m)", "16: n t (t)"}},
	} {
		_, got := loopsOf(t, c.src)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s\ngot loops %q, want %q", c.src, got, c.want)
		}
	}
}

// A loop that counts to a small constant costs the interpreter less than a
// call out of it; one that holds a longer loop, or changes its counter, does
// not count.
func TestLoopsLeavesShortLoopsAlone(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []string
	}{
		{`func f(xs []int) {
	s := 0
	for i := 0; i < 10; i++ {
		s += i
	}
	for range 5 {
		s++
	}
	for i := 10; i >= 0; i-- {
		s--
	}
	fmt.Println(s)
}`, nil},
		{`func f(xs []int, n int) {
	s := 0
	for i := 0; i < 3; i++ {
		for j := 0; j < n; j++ {
			s += j
		}
	}
	for i := 0; i < 10; i++ {
		i--
	}
	for i := 1000; i > 0; i-- {
		s++
	}
	for i := 0; i < 65; i++ {
		s++
	}
	fmt.Println(s)
}`, []string{"3: n s (s)", "8:  ()", "11: s (s)", "14: s (s)"}},
	} {
		_, got := loopsOf(t, c.src)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s\ngot loops %q, want %q", c.src, got, c.want)
		}
	}
	for src, want := range map[string]bool{
		`func f(n int) int { s := 0; for i := 0; i < 64; i++ { s += n }; return s }`:   false,
		`func f(n int) int { s := 0; for i := 64; i > 0; i-- { s += n }; return s }`:   false,
		`func f(n int) int { s := 0; for i := 0; i < n; i++ { s += n }; return s }`:    true,
		`func f(n int) int { s := 0; for i := 0; i <= 64; i++ { s += n }; return s }`:  true,
		`func f(n int) int { s := 0; for i := 0; i < 9; i += 1 { s += n }; return s }`: true,
		`func f(n int) int { for n > 1 { n /= 2 }; return n }`:                         true,
	} {
		file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := HasLoop(file.Decls[0].(*ast.FuncDecl)); got != want {
			t.Errorf("HasLoop(%s) = %v, want %v", src, got, want)
		}
	}
}

// A loop may call the numeric procedures the resolver gives, but not a
// variable of the function that has such a name.
func TestLoopsCallProcedures(t *testing.T) {
	const isPrime = `
func isPrime(n int) bool {
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return n > 1
}
`
	loops, got := loopsOf(t, isPrime+`
func f(lo, hi int) {
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	fmt.Println(c)
}`)
	if want := []string{"13: c hi lo (c)"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got loops %q, want %q", got, want)
	}
	file, _ := parser.ParseFile(token.NewFileSet(), "", "package p\n"+isPrime, 0)
	b, ok := CompileBlock([]ast.Stmt{loops[0].Stmt}, loops[0].Vars, Declarations(file))
	if !ok {
		t.Fatal("the loop does not compile")
	}
	if out, ok := b.Run(nil, []int{0, 10_000, 0}); !ok || out[0] != 1229 {
		t.Errorf("primes below 10,000: %v %v, want 1229", out, ok)
	}
	for _, src := range []string{
		isPrime + `
func f(lo, hi int) {
	isPrime := func(int) bool { return true }
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	fmt.Println(c)
}`,
		`func f(lo, hi int) {
	c := 0
	for n := lo; n < hi; n++ {
		if elsewhere(n) {
			c++
		}
	}
	fmt.Println(c)
}`,
	} {
		if _, got := loopsOf(t, src); len(got) != 0 {
			t.Errorf("%s\nfound %q, want none", src, got)
		}
	}
}

func TestLoopsLeavesTheRestToTheInterpreter(t *testing.T) {
	for _, src := range []string{
		`func f(n int) { for i := 0; i < n; i++ { fmt.Println(i) } }`,                          // a call
		`func f(n int) { for i := 0; i < n; i++ { total += i } }`,                              // a global
		`func f(n int) { for i := 0; i < n; i++ { if i > 3 { return } } }`,                     // a return
		`func f(xs []int) { n := len(xs); s := 0; for i := 0; i < n; i++ { s += i } }`,         // n's type is not known
		`func f(n int) { const k = 3; s := 0; for i := 0; i < n; i++ { s += k } }`,             // a constant
		`func f(n int) { var s int32; for i := 0; i < n; i++ { s += 1 } }`,                     // an int32
		`func f(n int) { s := 0; { s := "x"; for i := 0; i < n; i++ { s += "y" } } }`,          // a string hides the int
		`func f(n int) { var s float32; for i := 0; i < n; i++ { s += 1 } }`,                   // a float32
		`func f(n int) { s := 0.5; for i := 0; i < n; i++ { s = sqrt(s) } }`,                   // a call
		`func f(n int, math T) { s := 0.5; for i := 0; i < n; i++ { s = math.Sqrt(s) } }`,      // math is not the package
		`func f(n int) { s := uint8(0); for i := 0; i < n; i++ { s++ } }`,                      // a uint8
		`func f(n int) { g := func() { s := 0; for i := 0; i < n; i++ { s += i } }; g() }`,     // in a function literal
		`func f(n int) { s := 0; L: for i := 0; i < n; i++ { s += i; if s > 9 { break L } } }`, // a labeled loop
		`func f(xs []int) { s := 0; for _, x := range xs { s += x } }`,                         // range over a slice
		`func f(n int) { for i := 0; i < n; i++ { var s string; _ = s } }`,                     // another type
		`func f(xs []int) { c := 0; for i := range xs { c += i } }`,                            // range over a slice parameter
	} {
		if _, got := loopsOf(t, src); len(got) != 0 {
			t.Errorf("%s\nfound %q, want none", src, got)
		}
	}
}

// The loop of the sum of squares in uint64 blocks (notebooks/sum_of_squares)
// is found with its variables' types.
func TestLoopsFindsUnsignedLoops(t *testing.T) {
	_, got := loopsOf(t, `func f(start, end int) *big.Int {
	total := new(big.Int)
	for lo := start; lo < end; lo += 1000 {
		hi := lo + 1000
		if hi > end {
			hi = end
		}
		var acc uint64
		i, n := uint64(lo), uint64(hi)
		for i < n {
			acc += i * i
			i++
		}
		total.Add(total, new(big.Int).SetUint64(acc))
	}
	return total
}`)
	want := []string{"10: acc:uint64 i:uint64 n:uint64 (acc i)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got loops %q, want %q", got, want)
	}
}

// The compiled loops compute what the same loops compute in Go, on the
// values of the variables they use.
func TestCompiledLoopsComputeWhatGoComputes(t *testing.T) {
	for _, c := range []struct {
		src    string
		in     []int
		native func(in []int) []int
	}{
		{`func f(start, end int) {
	total := 0
	for i := start; i < end; i++ {
		total += i * i
	}
	fmt.Println(total)
}`, []int{1001, 1, 0}, func(v []int) []int {
			end, start, total := v[0], v[1], v[2]
			for i := start; i < end; i++ {
				total += i * i
			}
			return []int{end, start, total}
		}},
		{`func f(n int) (count int) {
	var skipped int
	for i := range n {
		if i%3 == 0 {
			skipped++
			continue
		}
		count += i
		n--
	}
	return
}`, []int{0, 10, 0}, func(v []int) []int {
			count, n, skipped := v[0], v[1], v[2]
			for i := range n {
				if i%3 == 0 {
					skipped++
					continue
				}
				count += i
				n--
			}
			return []int{count, n, skipped}
		}},
		{`func f(a, b int) {
	for a != b {
		if a > b {
			a -= b
		} else {
			b -= a
		}
	}
	fmt.Println(a)
}`, []int{1071, 462}, func(v []int) []int {
			a, b := v[0], v[1]
			for a != b {
				if a > b {
					a -= b
				} else {
					b -= a
				}
			}
			return []int{a, b}
		}},
	} {
		loops, _ := loopsOf(t, c.src)
		if len(loops) != 1 {
			t.Fatalf("%s: %d loops, want 1", c.src, len(loops))
		}
		b, ok := CompileBlock([]ast.Stmt{loops[0].Stmt}, loops[0].Vars, nil)
		if !ok {
			t.Fatalf("%s: the loop does not compile", c.src)
		}
		in := append([]int(nil), c.in...)
		got, ok := b.Run(nil, in)
		if want := c.native(c.in); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s\nran on %v: %v %v, want %v", c.src, c.in, got, ok, want)
		}
		if !reflect.DeepEqual(in, c.in) {
			t.Errorf("%s: Run changed its argument", c.src)
		}
	}
}

// Loops over float64 variables, as a numerical integration has, compute
// what Go computes, bit for bit.
func TestCompiledFloatLoops(t *testing.T) {
	loops, desc := loopsOf(t, `func f(start, end, n int) {
	sum := 0.0
	h := 1.0 / float64(n)
	for i := start; i < end; i++ {
		x := (float64(i) + 0.5) * h
		sum += 4.0 / (1.0 + x*x)
		if x > 0.5 && -x < -0.75 {
			sum -= 1e-9 * x
		}
		y := 2 * x
		y /= 3
		y++
		sum += float64(int(y*1000)%7) - float64(uint64(x*10))
	}
	fmt.Println(sum * h)
}`)
	want := []string{"4: end h:float64 start sum:float64 (sum)"}
	if !reflect.DeepEqual(desc, want) {
		t.Fatalf("got loops %q, want %q", desc, want)
	}
	native := func(end int, h float64, start int, sum float64) float64 {
		for i := start; i < end; i++ {
			x := (float64(i) + 0.5) * h
			sum += 4.0 / (1.0 + x*x)
			if x > 0.5 && -x < -0.75 {
				sum -= 1e-9 * x
			}
			y := 2 * x
			y /= 3
			y++
			sum += float64(int(y*1000)%7) - float64(uint64(x*10))
		}
		return sum
	}
	b, ok := CompileBlock([]ast.Stmt{loops[0].Stmt}, loops[0].Vars, nil)
	if !ok {
		t.Fatal("the loop does not compile")
	}
	for _, n := range []int{1, 7, 1000, 100_000} {
		h := 1.0 / float64(n)
		got, ok := b.Run(nil, []int{n, int(math.Float64bits(h)), 0, 0})
		want := native(n, h, 0, 0)
		if !ok || math.Float64frombits(uint64(got[3])) != want {
			t.Errorf("n=%d: got %v %v, want %v", n, math.Float64frombits(uint64(got[3])), ok, want)
		}
	}
}

func TestCompiledLoopStopsWhereGoPanics(t *testing.T) {
	loops, _ := loopsOf(t, `func f(a, b int) {
	q := 0
	for i := 0; i < a; i++ {
		q += a / b
	}
	fmt.Println(q)
}`)
	b, ok := CompileBlock([]ast.Stmt{loops[0].Stmt}, loops[0].Vars, nil)
	if !ok {
		t.Fatal("the loop does not compile")
	}
	if _, ok := b.Run(nil, []int{1, 0, 0}); ok {
		t.Error("division by zero ran compiled; want the interpreter to run it")
	}
	if got, ok := b.Run(nil, []int{6, 2, 0}); !ok || got[2] != 18 {
		t.Errorf("6/2 six times: %v %v", got, ok)
	}
}

// The kernel's wrap of a loop (kernel/cell) is found by cell and loop
// number, and compiles with the variables its call passes.
func TestWrappedLoop(t *testing.T) {
	src := `package main
func f(start, end int) {
	total := 0
	if __v, __ok := __mp.RunLoop(7, 2, end, start, total); __ok { total = __v[2].(int) } else { for i := start; i < end; i++ {
		total += i
	} }
	if _, __ok := __mp.RunLoop(7, 3, end); !__ok { for i := 0; i < end; i++ {
	} }
	fmt.Println(total)
}`
	file, err := parser.ParseFile(token.NewFileSet(), "", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := WrappedLoop(file, 7, 2, []string{"int", "int", "int"}, nil)
	if !ok {
		t.Fatal("loop 2 of cell 7 not found")
	}
	if got, ok := b.Run(nil, []int{5, 1, 100}); !ok || !reflect.DeepEqual(got, []int{5, 1, 110}) {
		t.Errorf("got %v %v, want [5 1 110]", got, ok)
	}
	if _, ok := WrappedLoop(file, 7, 3, []string{"int"}, nil); !ok {
		t.Error("loop 3 of cell 7 (no variable written) not found")
	}
	for _, k := range [][2]int{{7, 4}, {8, 2}} {
		if _, ok := WrappedLoop(file, k[0], k[1], []string{"int", "int", "int"}, nil); ok {
			t.Errorf("found loop %d of cell %d, which is not there", k[1], k[0])
		}
	}
}

// A bound computed with min or max keeps the loop compiled, as the same
// bound written with an if does; the interpreter's copy of the cell calls
// the rewrite's helpers instead, and compiles alike.
func TestLoopsWithMinMax(t *testing.T) {
	for _, src := range []string{`
func f(start, end int) {
	total := 0
	for lo := start; lo < end; lo += 1000 {
		hi := min(lo+1000, end)
		for i := lo; i < hi; i++ {
			total += max(i*i, 0, i)
		}
	}
	fmt.Println("Total:", total)
}`, `
func f(start, end int) {
	total := 0
	for lo := start; lo < end; lo += 1000 {
		hi := __goprocMin(lo+1000, end)
		for i := lo; i < hi; i++ {
			total += __goprocMax(__goprocMax(i*i, i), 0)
		}
	}
	fmt.Println("Total:", total)
}`} {
		loops, got := loopsOf(t, src)
		if len(loops) != 1 || !strings.Contains(got[0], "end start total (total)") {
			t.Fatalf("got loops %q", got)
		}
		b, ok := CompileBlock([]ast.Stmt{loops[0].Stmt}, loops[0].Vars, nil)
		if !ok {
			t.Fatal("the loop does not compile")
		}
		// end, start, total
		if out, ok := b.Run(nil, []int{2500, 1, 0}); !ok || out[2] != 5205208750 {
			t.Errorf("sum of squares below 2500: %v %v", out, ok)
		}
	}
	// A min the function declares is not the builtin.
	loops, _ := loopsOf(t, `
func f(start, end int) {
	min := func(a, b int) int { return a }
	total := 0
	for lo := start; lo < end; lo += 1000 {
		hi := min(lo+1000, end)
		for i := lo; i < hi; i++ {
			total += i
		}
	}
	fmt.Println(total)
}`)
	for _, l := range loops {
		if strings.Contains(types.ExprString(l.Stmt.(*ast.ForStmt).Cond), "lo < end") {
			t.Errorf("the loop calling a local min compiled")
		}
	}
}

// min and max in a compiled procedure give what the interpreter's helpers
// give, NaN and signed zeros included.
func TestProcMinMax(t *testing.T) {
	for _, tc := range []struct {
		src  string
		args []int
		want int
	}{
		{"func f(a, b int) int {\n\ts := 0\n\tfor i := a; i < b; i++ {\n\t\ts += min(i, 3) + max(i, 3, -1)\n\t}\n\treturn s\n}", []int{0, 6}, 0 + 1 + 2 + 3 + 3 + 3 + 3 + 3 + 3 + 3 + 4 + 5},
		{"func f(a, b uint64) uint64 {\n\tfor i := 0; i < 100; i++ {\n\t\ta = min(a, b)\n\t}\n\treturn a\n}", []int{-1, 5}, 5},
	} {
		file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+tc.src, 0)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := Compile(file.Decls[0].(*ast.FuncDecl))
		if !ok {
			t.Fatalf("%s does not compile", tc.src)
		}
		if got, ok := p.Run(nil, tc.args); !ok || got != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.src, got, ok, tc.want)
		}
	}
	nan, negZero := math.NaN(), math.Copysign(0, -1)
	for _, tc := range []struct {
		fn   func(a, b int) int
		a, b float64
		want float64
	}{
		{pickFor(true, float), nan, 1, nan},
		{pickFor(true, float), 1, nan, nan},
		{pickFor(false, float), 1, nan, nan},
		{pickFor(true, float), negZero, 0, 0}, // the helper's, not Go's -0
		{pickFor(true, float), 0, negZero, negZero},
		{pickFor(true, float), 2, 1, 1},
		{pickFor(false, float), 2, 1, 2},
	} {
		got := floatOf(tc.fn(bitsOf(tc.a), bitsOf(tc.b)))
		if math.Float64bits(got) != math.Float64bits(tc.want) && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("pick(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
