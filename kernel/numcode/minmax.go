package numcode

import (
	"go/ast"
	"go/token"
)

// The builtin min and max (Go 1.21), as the kernel's rewrite of a cell has
// the interpreter run them: helper(helper(a1, a2), a3)..., with the
// arguments that are not constant literals first, where
//
//	min(a, b) = a if a < b || a != a, else b
//	max(a, b) = a if a > b || a != a, else b
//
// (a NaN wins, as in Go). `hi := min(lo+1000, end)` as a loop's bound then
// keeps the loop compiled, as the same bound written with an if does.

// minMaxCall returns "min" or "max" if e calls the builtin: the name is not
// declared in the function (local) nor a procedure resolve finds, and the
// call is an ordinary one with arguments.
// The loop or procedure is compiled again, when it runs, from the
// interpreter's copy of the cell, where the rewrite has made each call one
// of the helpers __goprocMin and __goprocMax of two arguments.
func minMaxCall(e *ast.CallExpr, local func(string) bool, resolve Resolver) (string, bool) {
	id, ok := e.Fun.(*ast.Ident)
	if !ok || len(e.Args) == 0 || e.Ellipsis.IsValid() {
		return "", false
	}
	switch id.Name {
	case "__goprocMin":
		return "min", len(e.Args) == 2
	case "__goprocMax":
		return "max", len(e.Args) == 2
	case "min", "max":
	default:
		return "", false
	}
	if local(id.Name) {
		return "", false
	}
	if resolve != nil {
		if _, user := resolve(id.Name); user {
			return "", false
		}
	}
	return id.Name, true
}

// minMaxType is typeOf for a call of min or max: the type of its typed
// arguments, which must agree (an untyped constant takes it).
func (f *loopFinder) minMaxType(e *ast.CallExpr) (string, bool) {
	if _, ok := minMaxCall(e, func(n string) bool { _, d := f.declared(n); return d }, f.resolve); !ok {
		return "", false
	}
	typ, untypedF, constant := "", false, true
	for _, a := range e.Args {
		t, ok := f.typeOf(a)
		switch {
		case !ok || t == "bool":
			return "", false
		case t == untypedFloat:
			untypedF = true
		case t == "":
		case typ != "" && t != typ:
			return "", false
		default:
			typ = t
		}
		constant = constant && ConstLiteral(a)
	}
	switch {
	case constant:
		return "", false // folded by the rewrite; compiled code refuses constants
	case typ != "":
		return typ, true
	case untypedF:
		return untypedFloat, true
	}
	return "", true
}

// minMaxKind is typed for a call of min or max: the kind of its first
// typed argument.
func (c *compiler) minMaxKind(e *ast.CallExpr) (kind, bool) {
	if _, ok := c.minMaxBuiltin(e); !ok {
		return signed, false
	}
	for _, a := range e.Args {
		if k, ok := c.typed(a); ok {
			return k, true
		}
	}
	return signed, false
}

func (c *compiler) minMaxBuiltin(e *ast.CallExpr) (string, bool) {
	var resolve Resolver
	if c.sess != nil {
		resolve = c.sess.resolve
	}
	return minMaxCall(e, func(n string) bool {
		_, l := c.lookup(n)
		return l || c.self != nil && c.self.name == n
	}, resolve)
}

// minMax compiles a call of min or max in an expression of kind k, or
// reports false if e is no such call or does not compile.
func (c *compiler) minMax(e *ast.CallExpr, k kind) (intExpr, bool, bool) {
	name, ok := c.minMaxBuiltin(e)
	if !ok {
		return nil, false, false
	}
	if k == boolean {
		return nil, false, true
	}
	var vars, lits []ast.Expr
	for _, a := range e.Args {
		if ConstLiteral(a) {
			lits = append(lits, a)
		} else {
			vars = append(vars, a)
		}
	}
	if len(vars) == 0 {
		return nil, false, true // a constant: exact in Go
	}
	var args []intExpr
	for _, a := range append(vars, lits...) {
		if ak, typed := c.typed(a); typed && ak != k {
			return nil, false, true
		}
		x, ok := c.expr(a, k)
		if !ok {
			return nil, false, true
		}
		args = append(args, x)
	}
	pick := pickFor(name == "min", k)
	acc := args[0]
	for _, b := range args[1:] {
		a := acc
		acc = func(f *frame) int { return pick(a(f), b(f)) }
	}
	return acc, true, true
}

// pickFor returns the helper of min (less) or max over values of kind k.
func pickFor(less bool, k kind) func(a, b int) int {
	switch {
	case k == float && less:
		return func(a, b int) int {
			if x, y := floatOf(a), floatOf(b); x < y || x != x {
				return a
			}
			return b
		}
	case k == float:
		return func(a, b int) int {
			if x, y := floatOf(a), floatOf(b); x > y || x != x {
				return a
			}
			return b
		}
	case k == unsigned && less:
		return func(a, b int) int {
			if uint64(a) < uint64(b) {
				return a
			}
			return b
		}
	case k == unsigned:
		return func(a, b int) int {
			if uint64(a) > uint64(b) {
				return a
			}
			return b
		}
	case less:
		return func(a, b int) int {
			if a < b {
				return a
			}
			return b
		}
	}
	return func(a, b int) int {
		if a > b {
			return a
		}
		return b
	}
}

// constLiteral reports whether e is a constant made of literals, as the
// cell rewrite orders min's and max's arguments by.
func ConstLiteral(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind != token.IMAG
	case *ast.ParenExpr:
		return ConstLiteral(e.X)
	case *ast.UnaryExpr:
		return (e.Op == token.ADD || e.Op == token.SUB || e.Op == token.XOR) && ConstLiteral(e.X)
	case *ast.BinaryExpr:
		switch e.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR, token.AND_NOT, token.SHL, token.SHR:
			return ConstLiteral(e.X) && ConstLiteral(e.Y)
		}
	}
	return false
}
