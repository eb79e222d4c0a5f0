package multiprocessing

import (
	"errors"
	"go/ast"
	"go/constant"
	"go/token"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goproc/goproc/kernel/numcode"
)

// Arithmetic pool functions. yaegi calls an interpreted function from Go
// through reflect.MakeFunc, allocating a frame, its locals, the arguments
// and the results: about 0.7 µs a call, nearly all of a trivial task's cost
// (Map of x*x over 100k ints spends 70 ms of CPU in the wrapper). A
// one-argument function of int, int64 or float64 whose body is a single
// return of an arithmetic expression of its parameter and literals
//
//	func square(x int) int { return x * x }
//
// cannot observe how it is called: it has no effects, reads no global and
// calls nothing. A worker compiles such a function from the declarations it
// replayed into a tree of Go closures with Go's arithmetic (wrapping
// integers, unfused IEEE floats) and evaluates it itself. Where the
// expression would panic (integer division by zero) the worker calls the
// interpreted function instead, so the panic is the interpreter's own.
// Anything else — another statement, a global, a call, a conversion, a
// constant sub-expression — keeps the interpreted call.

// pureExpr evaluates an expression in the parameter x; false: call the
// interpreter (integer division by zero).
type pureExpr[T int64 | float64] func(x T) (T, bool)

var errNotPure = errors.New("not a pure arithmetic function")

// findFunc returns the last top-level declaration of name in the program's
// chunks if it is a function declaration (nil if a later declaration of
// another kind hides it, or a chunk does not parse).
func findFunc(chunks []string, name string) *ast.FuncDecl {
	var found *ast.FuncDecl
	for _, src := range chunks {
		if !strings.Contains(src, name) {
			continue
		}
		f, err := numcode.ParseChunk(src)
		if err != nil {
			return nil
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == name {
					found = d
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					var names []*ast.Ident
					switch s := spec.(type) {
					case *ast.ValueSpec:
						names = s.Names
					case *ast.TypeSpec:
						names = []*ast.Ident{s.Name}
					case *ast.ImportSpec:
						if s.Name != nil {
							names = []*ast.Ident{s.Name}
						}
					}
					for _, n := range names {
						if n.Name == name {
							found = nil
						}
					}
				}
			}
		}
	}
	return found
}

// pureBody returns the parameter's name and the returned expression of a
// function of one parameter whose body is one return statement (after the
// kernel's identity probe).
func pureBody(d *ast.FuncDecl) (string, ast.Expr, error) {
	ft := d.Type
	if ft.TypeParams != nil || len(ft.Params.List) != 1 || len(ft.Params.List[0].Names) > 1 ||
		ft.Results == nil || len(ft.Results.List) != 1 || len(ft.Results.List[0].Names) > 1 || d.Body == nil {
		return "", nil, errNotPure
	}
	param := "_"
	if names := ft.Params.List[0].Names; len(names) == 1 {
		param = names[0].Name
	}
	stmts := d.Body.List
	if len(stmts) == 2 && numcode.IsKernelCheck(stmts[0]) {
		stmts = stmts[1:]
	}
	if len(stmts) != 1 {
		return "", nil, errNotPure
	}
	ret, ok := stmts[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return "", nil, errNotPure
	}
	return param, ret.Results[0], nil
}

// compile compiles an expression of T's kind in the parameter x.
func compile[T int64 | float64](e ast.Expr, x string) (pureExpr[T], error) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return compile[T](e.X, x)
	case *ast.Ident:
		if e.Name != x || x == "_" {
			return nil, errNotPure
		}
		return func(v T) (T, bool) { return v, true }, nil
	case *ast.BasicLit:
		return literal[T](e, false)
	case *ast.UnaryExpr:
		if lit, ok := e.X.(*ast.BasicLit); ok && e.Op == token.SUB {
			return literal[T](lit, true)
		}
		if numcode.IsConst(e.X) {
			return nil, errNotPure // constant arithmetic is exact in Go; leave it to the interpreter
		}
		a, err := compile[T](e.X, x)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case token.ADD:
			return a, nil
		case token.SUB:
			return func(v T) (T, bool) { r, ok := a(v); return -r, ok }, nil
		case token.XOR:
			if a, ok := any(a).(pureExpr[int64]); ok {
				return any(pureExpr[int64](func(v int64) (int64, bool) { r, ok := a(v); return ^r, ok })).(pureExpr[T]), nil
			}
		}
		return nil, errNotPure
	case *ast.BinaryExpr:
		if numcode.IsConst(e.X) && numcode.IsConst(e.Y) {
			return nil, errNotPure
		}
		a, err := compile[T](e.X, x)
		if err != nil {
			return nil, err
		}
		if e.Op == token.SHL || e.Op == token.SHR {
			lit, ok := e.Y.(*ast.BasicLit)
			ia, isInt := any(a).(pureExpr[int64])
			if !ok || !isInt || lit.Kind != token.INT {
				return nil, errNotPure
			}
			n, err := strconv.ParseUint(lit.Value, 0, 6) // a count of 0..63
			if err != nil {
				return nil, errNotPure
			}
			left := e.Op == token.SHL
			return any(pureExpr[int64](func(v int64) (int64, bool) {
				r, ok := ia(v)
				if left {
					return r << n, ok
				}
				return r >> n, ok
			})).(pureExpr[T]), nil
		}
		b, err := compile[T](e.Y, x)
		if err != nil {
			return nil, err
		}
		both := func(f func(p, q T) T) pureExpr[T] {
			return func(v T) (T, bool) {
				p, ok1 := a(v)
				q, ok2 := b(v)
				return f(p, q), ok1 && ok2
			}
		}
		switch e.Op {
		case token.ADD:
			return both(func(p, q T) T { return p + q }), nil
		case token.SUB:
			return both(func(p, q T) T { return p - q }), nil
		case token.MUL:
			return both(func(p, q T) T { return p * q }), nil
		}
		if fa, ok := any(a).(pureExpr[float64]); ok {
			if e.Op != token.QUO {
				return nil, errNotPure
			}
			fb := any(b).(pureExpr[float64])
			return any(pureExpr[float64](func(v float64) (float64, bool) {
				p, _ := fa(v)
				q, _ := fb(v)
				return p / q, true // IEEE: ±Inf or NaN, no panic
			})).(pureExpr[T]), nil
		}
		f, err := intOp(e.Op, any(a).(pureExpr[int64]), any(b).(pureExpr[int64]))
		if err != nil {
			return nil, err
		}
		return any(f).(pureExpr[T]), nil
	}
	return nil, errNotPure
}

// literal compiles an integer or float literal (negated: -lit) of T's kind.
// A literal T cannot represent exactly is left to the interpreter.
func literal[T int64 | float64](lit *ast.BasicLit, neg bool) (pureExpr[T], error) {
	sign := ""
	if neg {
		sign = "-"
	}
	var c T
	switch any(c).(type) {
	case int64:
		if lit.Kind != token.INT {
			return nil, errNotPure
		}
		n, err := strconv.ParseInt(sign+lit.Value, 0, 64)
		if err != nil {
			return nil, errNotPure
		}
		c = T(n)
	case float64:
		if lit.Kind != token.INT && lit.Kind != token.FLOAT {
			return nil, errNotPure
		}
		v := constant.MakeFromLiteral(lit.Value, lit.Kind, 0)
		if v.Kind() == constant.Unknown {
			return nil, errNotPure
		}
		if neg {
			v = constant.UnaryOp(token.SUB, v, 0) // exact: -0.0 is 0, as in Go
		}
		f, _ := constant.Float64Val(v)
		if math.IsInf(f, 0) {
			return nil, errNotPure
		}
		c = T(f)
	}
	return func(T) (T, bool) { return c, true }, nil
}

// intOp compiles the integer operators other than + - * and the shifts.
func intOp(op token.Token, a, b pureExpr[int64]) (pureExpr[int64], error) {
	both := func(f func(p, q int64) int64) pureExpr[int64] {
		return func(v int64) (int64, bool) {
			p, ok1 := a(v)
			q, ok2 := b(v)
			return f(p, q), ok1 && ok2
		}
	}
	switch op {
	case token.AND:
		return both(func(p, q int64) int64 { return p & q }), nil
	case token.OR:
		return both(func(p, q int64) int64 { return p | q }), nil
	case token.XOR:
		return both(func(p, q int64) int64 { return p ^ q }), nil
	case token.AND_NOT:
		return both(func(p, q int64) int64 { return p &^ q }), nil
	case token.QUO, token.REM:
		rem := op == token.REM
		return func(v int64) (int64, bool) {
			p, ok1 := a(v)
			q, ok2 := b(v)
			if !ok1 || !ok2 || q == 0 {
				return 0, false // the interpreter panics as Go does
			}
			if rem {
				return p % q, true
			}
			return p / q, true
		}, nil
	}
	return nil, errNotPure
}

var (
	intType     = reflect.TypeOf(0)
	int64Type   = reflect.TypeOf(int64(0))
	float64Type = reflect.TypeOf(0.0)
)

// compilePure returns an evaluator func(T) (T, bool) for the notebook
// function name of type func(T) T (T int, int64 or float64), or nil if it is
// not pure arithmetic. false: call the interpreted function instead.
func compilePure(chunks []string, name string, ft reflect.Type) any {
	if ft.NumIn() != 1 || ft.NumOut() != 1 || ft.IsVariadic() || ft.In(0) != ft.Out(0) {
		return nil
	}
	t := ft.In(0)
	if t != intType && t != int64Type && t != float64Type || t == intType && strconv.IntSize != 64 {
		return nil
	}
	d := findFunc(chunks, name)
	if d == nil {
		return nil
	}
	param, expr, err := pureBody(d)
	if err != nil {
		return nil
	}
	if t == float64Type {
		f, err := compile[float64](expr, param)
		if err != nil {
			return nil
		}
		return (func(float64) (float64, bool))(f)
	}
	f, err := compile[int64](expr, param)
	if err != nil {
		return nil
	}
	if t == int64Type {
		return (func(int64) (int64, bool))(f)
	}
	return func(v int) (int, bool) { r, ok := f(int64(v)); return int(r), ok }
}
