package cell

import (
	"go/ast"
	"go/token"
)

// intTypeNames are the predeclared integer types.
var intTypeNames = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true, "byte": true, "rune": true,
}

// ints decides syntactically whether an expression is an integer. It knows
// literals, arithmetic, len/cap, conversions to integer types, min/max of
// integers, and names declared as integers in the enclosing scopes, at the
// top level of the cell, or (through Options.KnownInts) in earlier cells.
type ints struct {
	globals  map[string]bool // top-level names of the cell: true if integer
	types    map[string]bool // types of the cell whose underlying type is an integer
	known    func(string) bool
	minmaxOK bool // min/max are the builtins
}

// scope is a chain of block scopes: name -> holds an integer.
type scope struct {
	names  map[string]bool
	parent *scope
}

func (s *scope) lookup(name string) (isInt, found bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.names[name]; ok {
			return v, true
		}
	}
	return false, false
}

func (s *scope) declare(name string, isInt bool) {
	if name != "_" {
		s.names[name] = isInt
	}
}

func newScope(parent *scope) *scope { return &scope{names: map[string]bool{}, parent: parent} }

func (in *ints) isIntType(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && (intTypeNames[id.Name] || in.types[id.Name])
}

func (in *ints) isInt(e ast.Expr, s *scope) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.INT || e.Kind == token.CHAR
	case *ast.ParenExpr:
		return in.isInt(e.X, s)
	case *ast.UnaryExpr:
		return (e.Op == token.ADD || e.Op == token.SUB || e.Op == token.XOR) && in.isInt(e.X, s)
	case *ast.BinaryExpr:
		switch e.Op {
		case token.SHL, token.SHR:
			return in.isInt(e.X, s)
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR, token.AND_NOT:
			return in.isInt(e.X, s) && in.isInt(e.Y, s)
		}
	case *ast.CallExpr:
		fn, ok := e.Fun.(*ast.Ident)
		if !ok {
			return false
		}
		if _, found := s.lookup(fn.Name); found {
			return false // a local shadows the builtin or type
		}
		switch {
		case fn.Name == "len" || fn.Name == "cap":
			return true
		case (fn.Name == "min" || fn.Name == "max") && in.minmaxOK && len(e.Args) > 0:
			for _, a := range e.Args {
				if !in.isInt(a, s) {
					return false
				}
			}
			return true
		case len(e.Args) == 1 && in.isIntType(fn):
			return true
		}
	case *ast.Ident:
		if v, found := s.lookup(e.Name); found {
			return v
		}
		if v, found := in.globals[e.Name]; found {
			return v
		}
		if e.Name == "iota" {
			return true
		}
		return in.known != nil && in.known(e.Name)
	}
	return false
}

// declareFields declares parameters and named results.
func (in *ints) declareFields(fl *ast.FieldList, s *scope) {
	if fl == nil {
		return
	}
	for _, f := range fl.List {
		for _, n := range f.Names {
			s.declare(n.Name, in.isIntType(f.Type))
		}
	}
}

// declareSpecs declares the names of a var or const declaration. For consts,
// a spec without values repeats the previous one (iota).
func (in *ints) declareSpecs(d *ast.GenDecl, s *scope, declare func(string, bool)) {
	var prevType ast.Expr
	var prevVals []ast.Expr
	for _, sp := range d.Specs {
		vs, ok := sp.(*ast.ValueSpec)
		if !ok {
			continue
		}
		typ, vals := vs.Type, vs.Values
		if d.Tok == token.CONST && typ == nil && len(vals) == 0 {
			typ, vals = prevType, prevVals
		}
		prevType, prevVals = typ, vals
		for i, n := range vs.Names {
			switch {
			case typ != nil:
				declare(n.Name, in.isIntType(typ))
			case len(vals) == len(vs.Names):
				declare(n.Name, in.isInt(vals[i], s))
			default:
				declare(n.Name, false)
			}
		}
	}
}
