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
	globals map[string]bool // top-level names of the cell: true if integer
	// globalTypes holds the type a top-level := of the cell shows (x :=
	// T{…}, m := map[string]int{…}), or nil.
	globalTypes map[string]ast.Expr
	types       map[string]bool // types of the cell whose underlying type is an integer
	known       func(string) bool
	minmaxOK    bool // min/max are the builtins
	// funcs finds the notebook's functions (this cell's and earlier ones),
	// whose declared results tell a call's type; structs its struct types,
	// whose fields tell a selector's.
	funcs   func(name string) (*ast.FuncDecl, bool)
	structs func(name string) *ast.StructType
}

// scope is a chain of block scopes: name -> holds an integer, and the type
// it was declared with where the source shows it.
type scope struct {
	names  map[string]bool
	vtypes map[string]ast.Expr
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

// lookupType returns the type the nearest declaration of name shows, or
// nil.
func (s *scope) lookupType(name string) ast.Expr {
	for ; s != nil; s = s.parent {
		if _, ok := s.names[name]; ok {
			return s.vtypes[name]
		}
	}
	return nil
}

func (s *scope) declare(name string, isInt bool) { s.declareTyped(name, isInt, nil) }

func (s *scope) declareTyped(name string, isInt bool, typ ast.Expr) {
	if name != "_" {
		s.names[name] = isInt
		s.vtypes[name] = typ
	}
}

func newScope(parent *scope) *scope {
	return &scope{names: map[string]bool{}, vtypes: map[string]ast.Expr{}, parent: parent}
}

// typeOf returns the type the source shows for a variable: declared with
// it in an enclosing scope, or defined at the top of the cell from a
// composite literal. nil if it does not show one.
func (in *ints) typeOf(e ast.Expr, s *scope) ast.Expr {
	id, ok := e.(*ast.Ident)
	if !ok {
		return nil
	}
	if _, found := s.lookup(id.Name); found {
		return s.lookupType(id.Name)
	}
	return in.globalTypes[id.Name]
}

// resultTypes returns the result types of the notebook function a call
// names, one per value, or nil.
func (in *ints) resultTypes(call *ast.CallExpr, s *scope) []ast.Expr {
	fn, ok := call.Fun.(*ast.Ident)
	if !ok || in.funcs == nil {
		return nil
	}
	if _, found := s.lookup(fn.Name); found {
		return nil // a local
	}
	fd, ok := in.funcs(fn.Name)
	if !ok || fd.Recv != nil || fd.Type.TypeParams != nil || fd.Type.Results == nil {
		return nil
	}
	var out []ast.Expr
	for _, f := range fd.Type.Results.List {
		for range max(len(f.Names), 1) {
			out = append(out, f.Type)
		}
	}
	return out
}

// fieldType returns the declared type of field sel of the notebook struct
// a variable of type typ (T or *T) holds, or nil.
func (in *ints) fieldType(typ ast.Expr, sel string) ast.Expr {
	if st, ok := typ.(*ast.StarExpr); ok {
		typ = st.X
	}
	id, ok := typ.(*ast.Ident)
	if !ok || in.structs == nil {
		return nil
	}
	st := in.structs(id.Name)
	if st == nil || st.Fields == nil {
		return nil
	}
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if n.Name == sel {
				return f.Type
			}
		}
	}
	return nil
}

// literalType returns the type a composite literal T{…} or &T{…}, or a
// make(T, …), shows.
func literalType(e ast.Expr) ast.Expr {
	if call, ok := e.(*ast.CallExpr); ok && len(call.Args) > 0 {
		if fn, ok := call.Fun.(*ast.Ident); ok && fn.Name == "make" {
			return call.Args[0]
		}
	}
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		if cl, ok := u.X.(*ast.CompositeLit); ok && cl.Type != nil {
			return &ast.StarExpr{X: cl.Type}
		}
	}
	if cl, ok := e.(*ast.CompositeLit); ok {
		return cl.Type
	}
	return nil
}

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
		if e.Op == token.ARROW { // a receive from a channel of integers
			if t, ok := in.typeOf(e.X, s).(*ast.ChanType); ok {
				return in.isIntType(t.Value)
			}
			return false
		}
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
		// A notebook function with one integer result.
		if rt := in.resultTypes(e, s); len(rt) == 1 {
			return in.isIntType(rt[0])
		}
	case *ast.SelectorExpr:
		// A field of a notebook struct, through a variable declared with
		// that type (a receiver, a parameter, x := T{…}).
		if ft := in.fieldType(in.typeOf(e.X, s), e.Sel.Name); ft != nil {
			return in.isIntType(ft)
		}
	case *ast.IndexExpr:
		// An element of a slice, array or map of integers.
		switch t := in.typeOf(e.X, s).(type) {
		case *ast.ArrayType:
			return in.isIntType(t.Elt)
		case *ast.MapType:
			return in.isIntType(t.Value)
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
			s.declareTyped(n.Name, in.isIntType(f.Type), f.Type)
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
