package numcode

import (
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// compile compiles the function f declared in src.
func compile(t testing.TB, src string) *Proc {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, 0)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "f" {
			p, _ := Compile(fd)
			return p
		}
	}
	t.Fatalf("no f in %s", src)
	return nil
}

// The numeric procedures below are written twice: as notebook source for
// compileProc and as Go, which is the reference for what the compiled
// closures must compute.
var procCases = []struct {
	src    string
	native any
	args   [][]int
}{
	{`func f(start, end int) int {
	total := 0
	for i := start; i < end; i++ {
		total += i * i
	}
	return total
}`, func(start, end int) int {
		total := 0
		for i := start; i < end; i++ {
			total += i * i
		}
		return total
	}, [][]int{{1, 1000}, {5, 5}, {10, 3}, {-50, 50}, {math.MaxInt64 - 3, math.MaxInt64}}},

	{`func f(n int) int {
	steps := 0
	for n != 1 {
		if n%2 == 0 {
			n /= 2
		} else {
			n = 3*n + 1
		}
		steps++
	}
	return steps
}`, func(n int) int {
		steps := 0
		for n != 1 {
			if n%2 == 0 {
				n /= 2
			} else {
				n = 3*n + 1
			}
			steps++
		}
		return steps
	}, [][]int{{1}, {27}, {97}, {871}}},

	{`func f(n int) int {
	a, b := 0, 1
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}`, func(n int) int {
		a, b := 0, 1
		for i := 0; i < n; i++ {
			a, b = b, a+b
		}
		return a
	}, [][]int{{0}, {1}, {10}, {92}, {100}}},

	{`func f(n int) int {
	count := 0
	for i := 2; i < n; i++ {
		prime := 1
		for j := 2; j*j <= i; j++ {
			if i%j == 0 {
				prime = 0
				break
			}
		}
		if prime == 0 {
			continue
		}
		count++
	}
	return count
}`, func(n int) int {
		count := 0
		for i := 2; i < n; i++ {
			prime := 1
			for j := 2; j*j <= i; j++ {
				if i%j == 0 {
					prime = 0
					break
				}
			}
			if prime == 0 {
				continue
			}
			count++
		}
		return count
	}, [][]int{{2}, {100}, {5000}}},

	// Scopes: an inner := shadows, var declarations, an if with an init,
	// every operator and operator assignment, wrapping, for without parts.
	{`func f(x, y int) int {
	r := x
	if x := y * 2; x > 10 {
		r += x
	} else if x < -10 {
		r -= x
	} else {
		var z int
		var w = 3
		var v int = -w
		r = r*w + z + v
	}
	{
		r := 1
		r++
	}
	r ^= y << 3
	r &^= 0x0f
	r |= y >> 1
	r %= 1000003
	r <<= 2
	r >>= 1
	r *= -7
	r /= 3
	r -= ^x
	r &= math_max
	n := 0
	for {
		n++
		if n >= 5 || r == 12345 && !(n < 0) {
			break
		}
	}
	for n > 0 {
		n--
		r--
	}
	return r + 0x10 + 0b11 + 0o7 + 1_000 + 017 - -3
}`, nil, [][]int{{1, 2}, {-7, 40}, {3, -40}, {math.MinInt64, -1}, {math.MaxInt64, math.MaxInt64}}},

	// Range over an int: evaluated once; the body's changes to i and n do
	// not change the iterations.
	{`func f(n int) int {
	s := 0
	for i := range n {
		s += i
		i += 100
		n--
	}
	for range 3 {
		s++
	}
	return s
}`, func(n int) int {
		s := 0
		for i := range n {
			s += i
			i += 100
			n--
		}
		for range 3 {
			s++
		}
		return s
	}, [][]int{{0}, {-3}, {10}}},

	// Recursion: each call has its own frame.
	{`func f(n int) int {
	if n < 2 {
		return n
	}
	return f(n-1) + f(n-2)
}`, fib, [][]int{{0}, {1}, {2}, {20}}},
	{`func f(a, b int) int {
	if b == 0 {
		return a
	}
	return f(b, a%b)
}`, func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}, [][]int{{1071, 462}, {17, 5}, {0, 9}, {-24, 18}}},

	// Unsigned and int64 locals: / % >> and comparisons as unsigned,
	// conversions keep the bits, shifts by an unsigned count.
	{`func f(a, b int) int {
	x := uint64(a)
	y := uint64(b)
	var q uint64 = x / y
	r := x % y
	s := x >> 3
	c := 0
	if x > y {
		c = 1
	}
	if x <= y || x > 9223372036854775807 {
		c += 2
	}
	for i := uint64(0); i < 5; i++ {
		s += i << 60
		s ^= i >> 1
	}
	for i := range uint64(3) {
		s += i
	}
	var k int64 = int64(a) >> 2
	k /= 3
	s <<= uint(b & 7)
	s >>= y & 7
	var u uint = 7
	u -= 9
	return int(q) + int(r)*3 + int(s) + c + int(k) + int(u) + int(x<<y)
}`, func(a, b int) int {
		x := uint64(a)
		y := uint64(b)
		var q uint64 = x / y
		r := x % y
		s := x >> 3
		c := 0
		if x > y {
			c = 1
		}
		if x <= y || x > 9223372036854775807 {
			c += 2
		}
		for i := uint64(0); i < 5; i++ {
			s += i << 60
			s ^= i >> 1
		}
		for i := range uint64(3) {
			s += i
		}
		var k int64 = int64(a) >> 2
		k /= 3
		s <<= uint(b & 7)
		s >>= y & 7
		var u uint = 7
		u -= 9
		return int(q) + int(r)*3 + int(s) + c + int(k) + int(u) + int(x<<y)
	}, [][]int{{-1, 7}, {math.MinInt64, 3}, {12, 5}, {5, 12}, {-8, -3}, {1 << 40, 65}}},

	// Parameters and result of other integer types (passed as ints).
	{`func f(n uint64, k int64) uint64 {
	if n < 2 {
		return n
	}
	if k > 0 {
		return f(n>>1, k-1) + f(n/3, k-1)
	}
	return n % 7
}`, func(n uint64, k int64) uint64 {
		var g func(n uint64, k int64) uint64
		g = func(n uint64, k int64) uint64 {
			if n < 2 {
				return n
			}
			if k > 0 {
				return g(n>>1, k-1) + g(n/3, k-1)
			}
			return n % 7
		}
		return g(n, k)
	}, [][]int{{100, 3}, {-1, 5}, {math.MinInt64, 4}, {1, 9}}},

	// A float64 result: the midpoint rule for π.
	{`func f(n int) float64 {
	sum := 0.0
	h := 1.0 / float64(n)
	for i := 0; i < n; i++ {
		x := (float64(i) + 0.5) * h
		sum += 4 / (1 + x*x)
	}
	return sum * h
}`, func(n int) float64 {
		sum := 0.0
		h := 1.0 / float64(n)
		for i := 0; i < n; i++ {
			x := (float64(i) + 0.5) * h
			sum += 4 / (1 + x*x)
		}
		return sum * h
	}, [][]int{{1}, {10}, {100_000}, {0}}},

	// Bools: a result, locals, && || ! and == on them.
	{`func f(n int) bool {
	if n < 2 {
		return false
	}
	for i := 2; i*i <= n; i++ {
		if n%i == 0 {
			return false
		}
	}
	return true
}`, func(n int) bool {
		if n < 2 {
			return false
		}
		for i := 2; i*i <= n; i++ {
			if n%i == 0 {
				return false
			}
		}
		return true
	}, [][]int{{0}, {1}, {2}, {97}, {91}, {1_000_003}, {-7}}},
	{`func f(n int) int {
	count := 0
	for k := 2; k < n; k++ {
		prime, seen := true, false
		for d := 2; d*d <= k && prime; d++ {
			prime = k%d != 0
		}
		var odd bool = k%2 == 1
		if prime && !(odd == false) || k == 2 {
			seen = true
		}
		if seen != false {
			count++
		}
	}
	return count
}`, func(n int) int {
		count := 0
		for k := 2; k < n; k++ {
			prime, seen := true, false
			for d := 2; d*d <= k && prime; d++ {
				prime = k%d != 0
			}
			var odd bool = k%2 == 1
			if prime && !(odd == false) || k == 2 {
				seen = true
			}
			if seen != false {
				count++
			}
		}
		return count
	}, [][]int{{2}, {100}, {10_000}}},

	// The math package's pure functions and constants.
	{`func f(n int) int {
	count := 0
	for k := 2; k < n; k++ {
		prime := true
		for d := 2; d <= int(math.Sqrt(float64(k))); d++ {
			if k%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			count++
		}
	}
	return count
}`, func(n int) int {
		count := 0
		for k := 2; k < n; k++ {
			prime := true
			for d := 2; d <= int(math.Sqrt(float64(k))); d++ {
				if k%d == 0 {
					prime = false
					break
				}
			}
			if prime {
				count++
			}
		}
		return count
	}, [][]int{{2}, {100}, {20_000}}},
	{`func f(n int) float64 {
	if n > math.MaxInt32 {
		return -1
	}
	s := 0.0
	for i := 1; i <= n; i++ {
		x := float64(i) * math.Pi / 7
		s += math.Sin(x)*math.Pow(x, 0.5) - math.Abs(math.Cos(x)) + math.Hypot(x, 1)
		s = math.Max(s, -1e9) + math.Floor(x)/100 - math.Mod(x, math.E)
		if math.IsNaN(s) || math.Signbit(s) {
			s = math.Sqrt2
		}
	}
	return s
}`, func(n int) float64 {
		if n > math.MaxInt32 {
			return -1
		}
		s := 0.0
		for i := 1; i <= n; i++ {
			x := float64(i) * math.Pi / 7
			s += math.Sin(x)*math.Pow(x, 0.5) - math.Abs(math.Cos(x)) + math.Hypot(x, 1)
			s = math.Max(s, -1e9) + math.Floor(x)/100 - math.Mod(x, math.E)
			if math.IsNaN(s) || math.Signbit(s) {
				s = math.Sqrt2
			}
		}
		return s
	}, [][]int{{0}, {1}, {1000}, {math.MaxInt32 + 1}}},

	// A multiplier above the largest int.
	{`func f(x uint64, rounds int) uint64 {
	for i := 0; i < rounds; i++ {
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
	}
	return x
}`, func(x uint64, rounds int) uint64 {
		for i := 0; i < rounds; i++ {
			x ^= x >> 33
			x *= 0xff51afd7ed558ccd
			x ^= x >> 33
		}
		return x
	}, [][]int{{12345, 1000}, {math.MinInt64, 3}, {-1, 1}}},

	// No result: runs to its end.
	{`func f(num int) {
	for i := 0; i < 1000; i++ {
		num++
	}
}`, func(num int) {
		for i := 0; i < 1000; i++ {
			num++
		}
	}, [][]int{{3}}},
}

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func shadowNative(x, y int) int {
	const mathMax = math.MaxInt64
	r := x
	if x := y * 2; x > 10 {
		r += x
	} else if x < -10 {
		r -= x
	} else {
		var z int
		var w = 3
		var v int = -w
		r = r*w + z + v
	}
	{
		r := 1
		r++
	}
	r ^= y << 3
	r &^= 0x0f
	r |= y >> 1
	r %= 1000003
	r <<= 2
	r >>= 1
	r *= -7
	r /= 3
	r -= ^x
	r &= mathMax
	n := 0
	for {
		n++
		if n >= 5 || r == 12345 && !(n < 0) {
			break
		}
	}
	for n > 0 {
		n--
		r--
	}
	return r + 0x10 + 0b11 + 0o7 + 1_000 + 017 - -3
}

func TestCompiledComputesWhatGoComputes(t *testing.T) {
	for _, c := range procCases {
		src, native := c.src, c.native
		if native == nil {
			// math_max stands for a parameter-free constant: the notebook
			// version takes it as a third parameter.
			src = `func f(x, y, math_max int) int {` + src[len(`func f(x, y int) int {`):]
			native = func(x, y, _ int) int { return shadowNative(x, y) }
			for i := range c.args {
				c.args[i] = append(c.args[i], math.MaxInt64)
			}
		}
		fv := reflect.ValueOf(native)
		probe := "\tif __goprocProbing && __mp.Probe(\"f\") {\n\t\treturn\n\t}\n" +
			"\tif __r, __ok := __mp.RunProc(\"f\", 3); __ok {\n\t\treturn __r\n\t}\n"
		i := strings.Index(src, "{")
		withProbe := src[:i+1] + "\n" + probe + src[i+1:]
		for _, s := range []string{src, withProbe} {
			proc := compile(t, s)
			if proc == nil {
				t.Fatalf("not compiled:\n%s", s)
			}
			for _, args := range c.args {
				in := make([]reflect.Value, len(args))
				for i, a := range args {
					in[i] = reflect.ValueOf(a).Convert(fv.Type().In(i))
				}
				want := 0
				if out := fv.Call(in); len(out) == 1 {
					switch out[0].Kind() {
					case reflect.Float64:
						want = int(math.Float64bits(out[0].Float())) // a float64 travels as its bits
					case reflect.Bool:
						if out[0].Bool() {
							want = 1
						}
					default:
						want = int(out[0].Convert(reflect.TypeOf(0)).Int())
					}
				}
				if got, ok := proc.Run(nil, args); !ok || got != want {
					t.Errorf("%s\nf%v = %d %v, want %d", s, args, got, ok, want)
				}
			}
		}
	}
}

func TestCompiledStopsWhereGoPanics(t *testing.T) {
	for _, c := range []struct {
		src  string
		args []int
	}{
		{`func f(a, b int) int { x := 0; for i := 0; i < 3; i++ { x += a / b }; return x }`, []int{-1, 0}},
		{`func f(a, b int) int { return a % b }`, []int{7, 0}},
		{`func f(a, b int) int { return a << b }`, []int{1, -1}},
		{`func f(a, b int) int { if a > 0 { return 1 } }`, []int{-1, 0}}, // no return on this path
	} {
		proc := compile(t, c.src)
		if proc == nil {
			t.Fatalf("not compiled: %s", c.src)
		}
		if _, ok := proc.Run(nil, c.args); ok {
			t.Errorf("%s: f%v ran compiled; want the interpreter to run it", c.src, c.args)
		}
		if _, ok := proc.Run(nil, []int{1, 1}); !ok {
			t.Errorf("%s: f(1, 1) did not run compiled", c.src)
		}
	}
}

func TestCompileLeavesTheRestToTheInterpreter(t *testing.T) {
	for _, src := range []string{
		`func f(x int) int { return x + g }`,                            // a global
		`func f(x int) int { return abs(x) }`,                           // a call
		`func f(x int) int { fmt.Println(x); return x }`,                // an effect
		`func f(x int) int { return int(float32(x)) }`,                  // a float32 conversion
		`func f(x int) int { return x + 2*3 }`,                          // constant arithmetic
		`func f(x float64) float64 { return x + math.Pi/3 }`,            // constant arithmetic
		`func f(x float64) float64 { return math.Float64frombits(1) }`,  // not a function of float64s
		`func f(x int) int { y := 'a'; return x + y }`,                  // a rune
		`func f(x int) int { y := float32(1.5); return x }`,             // a float32
		`func f(x int) int { y := 1.5; return x % y }`,                  // % of a float
		`func f(x int) int { var y int32; return x }`,                   // another type
		`func f(x int) int { y := uint8(x); return int(y) }`,            // a narrow type wraps early
		`func f(x int) int { var s []int; return x }`,                   // another type
		`func f(x int) int { y := "s"; return x + len(y) }`,             // a string local
		`func f(x int) (r int) { r = x; return }`,                       // a named result
		`func f(x int) int { L: for { break L }; return x }`,            // a label
		`func f(x int) int { switch x { case 1: return 2 }; return x }`, // a switch
		`func f(x int) int { defer func() {}(); return x }`,             // defer
		`func f(n int) { if n > 0 { f(n - 1) } }`,                       // a call as a statement
		`func f(n int) int { f := 3; return f(n) }`,                     // not the function any more
		`func f(x int) int { y := 9223372036854775808; return x }`,      // does not fit
		`func f(x int32) int32 { return x }`,
		`func f(x int) string { return "" }`,
		`func f(xs ...int) int { return 0 }`,
	} {
		if compile(t, src) != nil {
			t.Errorf("compiled, want the interpreter: %s", src)
		}
	}
}

func BenchmarkCompiledSumOfSquares(b *testing.B) {
	proc := compile(b, procCases[0].src)
	for b.Loop() {
		proc.Run(nil, []int{1, 1_000_000})
	}
}

// Recursion deeper than its limit (maxDepth) is left to the interpreter.
func TestDeepRecursionLeavesItToTheInterpreter(t *testing.T) {
	proc := compile(t, `func f(n int) int { if n == 0 { return 0 }; return f(n-1) + 1 }`)
	if proc == nil {
		t.Fatal("not compiled")
	}
	proc.depthLimit = 5000
	if got, ok := proc.Run(nil, []int{5000}); !ok || got != 5000 {
		t.Errorf("f(5000) = %d %v, want 5000", got, ok)
	}
	if _, ok := proc.Run(nil, []int{5001}); ok {
		t.Error("f(5001) ran compiled; want the interpreter to run it")
	}
	// The interpreter's fallback calls f(5000), f(4999), ...: each would
	// fail again after as many calls, so f is not run compiled again.
	if _, ok := proc.Run(nil, []int{1000}); ok {
		t.Error("f(1000) ran compiled after a run too deep")
	}
}

func TestRunStopsWhenDone(t *testing.T) {
	for _, src := range []string{
		`func f(n int) int { for { n++ } }`,
		`func f(n int) int { for i := range n { n += i } ; return n }`,
		`func f(n int) int { if n > 60 { n = 60 }; if n < 2 { return n }; return f(n-1) + f(n-2) }`, // fib(60): 2⁶⁰ calls, no loop
	} {
		proc := compile(t, src)
		done := make(chan struct{})
		result := make(chan bool)
		go func() {
			_, ok := proc.Run(done, []int{math.MaxInt64})
			result <- ok
		}()
		close(done)
		select {
		case ok := <-result:
			if ok {
				t.Errorf("%s: ran to the end after done", src)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still running 10 s after done was closed", src)
		}
	}
}

// compileWith compiles the function f declared in src, which may call the
// other functions src declares.
func compileWith(t *testing.T, src string) *Proc {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, 0)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "f" {
			p, _ := CompileWith(fd, Declarations(file))
			return p
		}
	}
	t.Fatalf("no f in %s", src)
	return nil
}

// A procedure may call the other numeric procedures the resolver gives:
// each call gets a frame of its own, mutual recursion included.
func TestCompiledCallsOtherProcedures(t *testing.T) {
	const primes = `
func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func f(lo, hi int) int {
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	return c
}`
	p := compileWith(t, primes)
	if p == nil {
		t.Fatal("countPrimes calling isPrime: not compiled")
	}
	if got, ok := p.Run(nil, []int{0, 10_000}); !ok || got != 1229 {
		t.Errorf("primes below 10,000: %d %v, want 1229", got, ok)
	}
	p = compileWith(t, `
func isEven(n int) bool {
	if n == 0 {
		return true
	}
	return isOdd(n - 1)
}

func isOdd(n int) bool {
	if n == 0 {
		return false
	}
	return isEven(n - 1)
}

func f(n int) int {
	if isEven(n) {
		return 1
	}
	return 0
}`)
	if p == nil {
		t.Fatal("mutual recursion: not compiled")
	}
	for n, want := range map[int]int{0: 1, 7: 0, 1000: 1} {
		if got, ok := p.Run(nil, []int{n}); !ok || got != want {
			t.Errorf("isEven(%d): %d %v, want %d", n, got, ok, want)
		}
	}
	p = compileWith(t, `
func inverse(n int) int { return 100 / n }

func f(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += inverse(n - i - 1)
	}
	return s
}`)
	if p == nil {
		t.Fatal("a callee that may panic: not compiled")
	}
	if _, ok := p.Run(nil, []int{3}); ok {
		t.Error("division by zero in a callee ran compiled; want the interpreter to run it")
	}
	for _, src := range []string{
		// declared twice: which one a call reaches depends on when its
		// caller was compiled
		primes + "\nfunc isPrime(n int) bool { return n == 2 }",
		// not numeric
		`func name(n int) string { return "x" }
func f(n int) int { s := 0; for i := 0; i < n; i++ { s += len(name(i)) }; return s }`,
		// another number of arguments, and a result of another kind
		`func two(a, b int) int { return a + b }
func f(n int) int { s := 0; for i := 0; i < n; i++ { s += two(i) }; return s }`,
		`func half(n int) float64 { return float64(n) / 2 }
func f(n int) int { s := 0; for i := 0; i < n; i++ { s += half(i) }; return s }`,
		// a callee that does not compile poisons its mutual recursion
		`func a(n int) int { if n == 0 { return 0 }; return b(n - 1) }
func b(n int) int { var s string; _ = s; return a(n) }
func f(n int) int { s := 0; for i := 0; i < n; i++ { s += a(i) }; return s }`,
	} {
		if compileWith(t, src) != nil {
			t.Errorf("compiled, want the interpreter:\n%s", src)
		}
	}
}
