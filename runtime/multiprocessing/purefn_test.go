package multiprocessing

import (
	"math"
	"reflect"
	"testing"
)

func TestCompilePure(t *testing.T) {
	intFn := reflect.TypeOf(func(int) int { return 0 })
	floatFn := reflect.TypeOf(func(float64) float64 { return 0 })
	probe := ` if __goprocProbing && __mp.Probe("f") { return *new(int) };`
	for _, c := range []struct {
		src  string
		ft   reflect.Type
		pure bool
		in   []int
		want []int
	}{
		{`func f(x int) int {` + probe + ` return x }`, intFn, true, []int{-1, 7}, []int{-1, 7}},
		{`func f(x int) int { return x*x - 3*x + 7 }`, intFn, true, []int{2, math.MaxInt64}, []int{5, wrapSq(math.MaxInt64)}},
		{`func f(v int) (r int) { return (v << 3) ^ (v >> 1) &^ 5 | -v % 7 }`, intFn, true, []int{-13, 99}, []int{(-13 << 3) ^ (-13>>1)&^5 | 13%7, (99 << 3) ^ (99>>1)&^5 | -99%7}},
		{`func f(x int) int { return x + 0x10 + 0b11 + 0o7 + 1_000 + 017 + -3 }`, intFn, true, []int{1}, []int{16 + 3 + 7 + 1000 + 15 - 3 + 1}},
		{`func f(x int) int { return 0x10 + 0b11 + x }`, intFn, false, nil, nil},
		{`func f(x int) int { return 42 }`, intFn, true, []int{1}, []int{42}},
		{`func f(x int) int { return x + 2*3 }`, intFn, false, nil, nil},   // constant arithmetic
		{`func f(x int) int { return x + g }`, intFn, false, nil, nil},     // a global
		{`func f(x int) int { return abs(x) }`, intFn, false, nil, nil},    // a call
		{`func f(x int) int { return int(x) }`, intFn, false, nil, nil},    // a conversion
		{`func f(x int) int { return 1 << x }`, intFn, false, nil, nil},    // variable shift
		{`func f(x int) int { return x << 64 }`, intFn, false, nil, nil},   // shift count out of 0..63
		{`func f(x int) int { y := x; return y }`, intFn, false, nil, nil}, // two statements
		{`func f(x int) int { return x * 1.5 }`, intFn, false, nil, nil},
		{`func f(x, y int) int { return x }`, reflect.TypeOf(func(int, int) int { return 0 }), false, nil, nil},
		{`func f(x int) int { return x }
var f = 3`, intFn, false, nil, nil}, // hidden by a later declaration
		{`func f(x int) int { return x }`, floatFn, true, nil, nil},
		{`func f(x float64) float64 { return x % 2 }`, floatFn, false, nil, nil},
	} {
		eval := compilePure([]string{`import "fmt"`, c.src}, "f", c.ft)
		if (eval != nil) != c.pure {
			t.Errorf("%s: pure %v, want %v", c.src, eval != nil, c.pure)
			continue
		}
		if g, ok := eval.(func(int) (int, bool)); ok {
			for i, x := range c.in {
				if got, ok := g(x); !ok || got != c.want[i] {
					t.Errorf("%s: f(%d) = %d %v, want %d", c.src, x, got, ok, c.want[i])
				}
			}
		}
	}
	div := compilePure([]string{`func f(x int) int { return 10 / x + 7 % (x - 1) }`}, "f", intFn).(func(int) (int, bool))
	if r, ok := div(3); !ok || r != 10/3+7%2 {
		t.Errorf("div(3) = %d %v", r, ok)
	}
	if _, ok := div(0); ok {
		t.Error("division by zero evaluated")
	}
	if _, ok := div(1); ok {
		t.Error("remainder by zero evaluated")
	}
	fl := compilePure([]string{`func f(x float64) float64 { return -x*0.1 + 1e300*x/3 - -2 }`}, "f", floatFn).(func(float64) (float64, bool))
	for _, x := range []float64{0, 1.5, -7, math.Inf(1), 1e10} {
		got, _ := fl(x)
		if want := -x*0.1 + 1e300*x/3 + 2; got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("fl(%v) = %v, want %v", x, got, want)
		}
	}
	negZero := compilePure([]string{`func f(x float64) float64 { return x * -0.0 }`}, "f", floatFn).(func(float64) (float64, bool))
	if r, _ := negZero(2); math.Signbit(r) {
		t.Errorf("x * -0.0 = %v for x = 2; the constant -0.0 is 0", r)
	}
	redef := compilePure([]string{`func f(x int) int { return x }`, `func f(x int) int { return x + 1 }`}, "f", intFn).(func(int) (int, bool))
	if r, _ := redef(1); r != 2 {
		t.Errorf("the later declaration was not used: %d", r)
	}
}

// wrapSq is x*x - 3*x + 7 in int arithmetic (wrapping).
func wrapSq(x int) int { return x*x - 3*x + 7 }
