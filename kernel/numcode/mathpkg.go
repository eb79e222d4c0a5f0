package numcode

import (
	"go/ast"
	"math"
)

// Calls of the math package's pure functions compile too, as direct calls,
// so `for i := 2; i <= int(math.Sqrt(float64(n))); i++` runs compiled and
// gives what the interpreter's call of the same function gives. The name
// math must be the package: a function that declares its own math keeps its
// loops interpreted (Loops), and a procedure's variables are all numeric, so
// one named math hides the package from the compiler as it does in Go.

var mathFloat1 = map[string]func(float64) float64{
	"Abs": math.Abs, "Acos": math.Acos, "Acosh": math.Acosh, "Asin": math.Asin, "Asinh": math.Asinh,
	"Atan": math.Atan, "Atanh": math.Atanh, "Cbrt": math.Cbrt, "Ceil": math.Ceil, "Cos": math.Cos,
	"Cosh": math.Cosh, "Erf": math.Erf, "Erfc": math.Erfc, "Exp": math.Exp, "Exp2": math.Exp2,
	"Expm1": math.Expm1, "Floor": math.Floor, "Gamma": math.Gamma, "Log": math.Log, "Log10": math.Log10,
	"Log1p": math.Log1p, "Log2": math.Log2, "Round": math.Round, "RoundToEven": math.RoundToEven,
	"Sin": math.Sin, "Sinh": math.Sinh, "Sqrt": math.Sqrt, "Tan": math.Tan, "Tanh": math.Tanh,
	"Trunc": math.Trunc,
}

var mathFloat2 = map[string]func(float64, float64) float64{
	"Atan2": math.Atan2, "Copysign": math.Copysign, "Dim": math.Dim, "Hypot": math.Hypot,
	"Max": math.Max, "Min": math.Min, "Mod": math.Mod, "Pow": math.Pow, "Remainder": math.Remainder,
}

var mathBool1 = map[string]func(float64) bool{"IsNaN": math.IsNaN, "Signbit": math.Signbit}

// mathFloatConsts and mathIntConsts are the math package's constants, as
// the float64 or int a typed context makes of them.
var mathFloatConsts = map[string]float64{
	"E": math.E, "Pi": math.Pi, "Phi": math.Phi, "Sqrt2": math.Sqrt2, "SqrtE": math.SqrtE,
	"SqrtPi": math.SqrtPi, "SqrtPhi": math.SqrtPhi, "Ln2": math.Ln2, "Log2E": math.Log2E,
	"Ln10": math.Ln10, "Log10E": math.Log10E, "MaxFloat64": math.MaxFloat64,
	"SmallestNonzeroFloat64": math.SmallestNonzeroFloat64,
}

var mathIntConsts = map[string]int{
	"MaxInt": math.MaxInt, "MinInt": math.MinInt, "MaxInt64": math.MaxInt64, "MinInt64": math.MinInt64,
	"MaxInt32": math.MaxInt32, "MinInt32": math.MinInt32, "MaxInt16": math.MaxInt16,
	"MinInt16": math.MinInt16, "MaxInt8": math.MaxInt8, "MinInt8": math.MinInt8,
	"MaxUint32": math.MaxUint32, "MaxUint16": math.MaxUint16, "MaxUint8": math.MaxUint8,
}

// mathName returns the name e selects from the math package, if e is
// math.Name.
func mathName(e ast.Expr) (string, bool) {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok || x.Name != "math" {
		return "", false
	}
	return sel.Sel.Name, true
}

// isMathConst reports whether e is one of the math package's constants.
func isMathConst(e ast.Expr) bool {
	name, ok := mathName(e)
	if !ok {
		return false
	}
	_, isFloat := mathFloatConsts[name]
	_, isInt := mathIntConsts[name]
	return isFloat || isInt
}

// mathPackage reports whether the name math means the package here (no
// variable the compiler sees is called math).
func (c *compiler) mathPackage() bool {
	_, shadowed := c.lookup("math")
	return !shadowed
}

// mathCallKind returns the kind of a call of a math function that compiled
// code can make.
func (c *compiler) mathCallKind(e *ast.CallExpr) (kind, bool) {
	name, ok := mathName(e.Fun)
	if !ok || !c.mathPackage() || e.Ellipsis.IsValid() {
		return 0, false
	}
	switch {
	case mathFloat1[name] != nil && len(e.Args) == 1, mathFloat2[name] != nil && len(e.Args) == 2:
		return float, true
	case mathBool1[name] != nil && len(e.Args) == 1:
		return boolean, true
	}
	return 0, false
}

// mathCall compiles a call of a math function of float64s (its result's
// kind: mathCallKind).
func (c *compiler) mathCall(e *ast.CallExpr) (intExpr, bool) {
	name, _ := mathName(e.Fun)
	args := make([]intExpr, len(e.Args))
	for i, a := range e.Args {
		x, ok := c.expr(a, float)
		if !ok {
			return nil, false
		}
		args[i] = x
	}
	if f := mathFloat1[name]; f != nil && len(args) == 1 {
		x := args[0]
		return func(fr *frame) int { return bitsOf(f(floatOf(x(fr)))) }, true
	}
	if f := mathFloat2[name]; f != nil && len(args) == 2 {
		x, y := args[0], args[1]
		return func(fr *frame) int { return bitsOf(f(floatOf(x(fr)), floatOf(y(fr)))) }, true
	}
	if f := mathBool1[name]; f != nil && len(args) == 1 {
		x := args[0]
		return func(fr *frame) int {
			if f(floatOf(x(fr))) {
				return 1
			}
			return 0
		}, true
	}
	return nil, false
}

// mathConst compiles one of the math package's constants in a context of
// kind k.
func (c *compiler) mathConst(e ast.Expr, k kind) (intExpr, bool) {
	name, ok := mathName(e)
	if !ok || !c.mathPackage() {
		return nil, false
	}
	if n, ok := mathIntConsts[name]; ok && (k == signed || k == unsigned && n >= 0) {
		return func(*frame) int { return n }, true
	}
	if k != float {
		return nil, false
	}
	if v, ok := mathFloatConsts[name]; ok {
		bits := bitsOf(v)
		return func(*frame) int { return bits }, true
	}
	if n, ok := mathIntConsts[name]; ok {
		bits := bitsOf(float64(n))
		return func(*frame) int { return bits }, true
	}
	return nil, false
}
