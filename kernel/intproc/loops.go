package intproc

import (
	"go/ast"
	"go/token"
	"sort"
	"strconv"
)

// A function that does more than integer arithmetic — it prints its total,
// takes a slice, calls a helper — often still spends its time in one loop
// that does nothing else:
//
//	func report(start, end int) {
//		total := 0
//		for i := start; i < end; i++ {
//			total += i * i
//		}
//		fmt.Println("total:", total)
//	}
//
// Loops finds such loops, with the int variables of the function that each
// one reads or assigns; CompileBlock compiles one, and Block.Run runs it on
// those variables' values and returns their new ones. The loop has no other
// effect (it calls nothing and cannot return from the function), so the
// caller assigns the new values back, or, when Run reports false (Go would
// panic, or the cell was interrupted), runs the interpreted loop from the
// values it had, as if the compiled run had never happened.

// Block is a compiled statement list over int variables of the function
// around it.
type Block struct {
	// Used and Written tell, for each variable given to CompileBlock,
	// whether the block reads or assigns it, and whether it assigns it.
	Used, Written []bool
	run           func(done <-chan struct{}, vals []int) ([]int, bool)
}

// Run runs b on the values of its variables (in the order CompileBlock was
// given them) and returns their values afterwards, or false if the
// interpreted statements must run instead (see Proc.Run).
func (b *Block) Run(done <-chan struct{}, vals []int) ([]int, bool) { return b.run(done, vals) }

// CompileBlock compiles list, in a scope of its own, as integer code over
// vars, int variables of the enclosing function. It refuses what Compile
// refuses, and a return.
func CompileBlock(list []ast.Stmt, vars []string) (*Block, bool) {
	if strconv.IntSize != 64 {
		return nil, false
	}
	c := &compiler{slots: 1, scopes: []map[string]int{{}}, inBlock: true,
		used: make([]bool, len(vars)), written: make([]bool, len(vars))}
	for _, v := range vars {
		if _, dup := c.scopes[0][v]; dup || v == "_" {
			return nil, false
		}
		c.declare(v)
	}
	body, ok := c.block(list, true)
	if !ok {
		return nil, false
	}
	n, slots := len(vars), c.slots
	return &Block{Used: c.used, Written: c.written, run: func(done <-chan struct{}, vals []int) (out []int, ok bool) {
		if len(vals) != n {
			return nil, false
		}
		defer func() {
			if recover() != nil {
				out, ok = nil, false // the interpreter panics as Go does
			}
		}()
		f := &frame{v: make([]int, slots), run: &run{done: done}}
		copy(f.v[1:], vals)
		body(f)
		return f.v[1 : 1+n], true
	}}, true
}

// Loop is a loop of a function that CompileBlock compiles.
type Loop struct {
	Stmt ast.Stmt // a *ast.ForStmt or *ast.RangeStmt
	// Vars are the int variables of the function the loop reads or
	// assigns; Written tells which of them it assigns.
	Vars    []string
	Written []bool
}

// Loops returns the loops of d's body that compile as integer code over the
// function's int variables in scope there, outermost first (a loop inside
// one it returns is not returned). It does not look inside function
// literals, nor at labeled loops. A variable counts as int when it is an int
// parameter or result, is declared `var x int`, or is declared with := or
// var from an expression of int variables and integer literals; anything
// else in scope with the same name hides it.
func Loops(d *ast.FuncDecl) []Loop {
	if d.Body == nil || strconv.IntSize != 64 {
		return nil
	}
	f := &loopFinder{}
	f.push()
	for _, list := range []*ast.FieldList{d.Recv, d.Type.Params, d.Type.Results} {
		if list == nil {
			continue
		}
		for _, field := range list.List {
			for _, n := range field.Names {
				f.declare(n.Name, isIntType(field.Type))
			}
		}
	}
	f.list(d.Body.List)
	return f.loops
}

// loopFinder walks a function body, keeping the names in scope and whether
// each is an int variable.
type loopFinder struct {
	scopes []map[string]bool
	loops  []Loop
}

func (f *loopFinder) push() { f.scopes = append(f.scopes, map[string]bool{}) }
func (f *loopFinder) pop()  { f.scopes = f.scopes[:len(f.scopes)-1] }

func (f *loopFinder) declare(name string, isInt bool) {
	if name != "_" {
		f.scopes[len(f.scopes)-1][name] = isInt
	}
}

// ints returns the int variables in scope, innermost declaration winning.
func (f *loopFinder) ints() []string {
	seen := map[string]bool{}
	var names []string
	for i := len(f.scopes) - 1; i >= 0; i-- {
		for name, isInt := range f.scopes[i] {
			if seen[name] {
				continue
			}
			seen[name] = true
			if isInt {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names) // the kernel's rewrite of a cell must not vary
	return names
}

// isInt reports whether e is an int expression of the int variables in
// scope.
func (f *loopFinder) isInt(e ast.Expr) bool {
	c := &compiler{slots: 1, scopes: []map[string]int{{}}}
	for _, name := range f.ints() {
		c.declare(name)
	}
	_, ok := c.intExpr(e)
	return ok
}

func (f *loopFinder) list(list []ast.Stmt) {
	for _, s := range list {
		f.stmt(s)
	}
}

func (f *loopFinder) block(list []ast.Stmt) {
	f.push()
	f.list(list)
	f.pop()
}

func (f *loopFinder) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.ForStmt, *ast.RangeStmt:
		if !f.try(s) {
			f.loop(s)
		}
	case *ast.LabeledStmt:
		// A labeled loop may be the target of a branch from inside: the
		// loops in it may still compile.
		switch l := s.Stmt.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			f.loop(l)
		default:
			f.stmt(l)
		}
	case *ast.BlockStmt:
		f.block(s.List)
	case *ast.IfStmt:
		f.push()
		if s.Init != nil {
			f.stmt(s.Init)
		}
		f.block(s.Body.List)
		if s.Else != nil {
			f.stmt(s.Else)
		}
		f.pop()
	case *ast.SwitchStmt:
		f.push()
		if s.Init != nil {
			f.stmt(s.Init)
		}
		for _, cc := range s.Body.List {
			f.block(cc.(*ast.CaseClause).Body)
		}
		f.pop()
	case *ast.TypeSwitchStmt:
		f.push()
		if s.Init != nil {
			f.stmt(s.Init)
		}
		var bound string
		if a, ok := s.Assign.(*ast.AssignStmt); ok && len(a.Lhs) == 1 {
			if id, ok := a.Lhs[0].(*ast.Ident); ok {
				bound = id.Name
			}
		}
		for _, cc := range s.Body.List {
			f.push()
			if bound != "" {
				f.declare(bound, false)
			}
			f.list(cc.(*ast.CaseClause).Body)
			f.pop()
		}
		f.pop()
	case *ast.SelectStmt:
		for _, cc := range s.Body.List {
			comm := cc.(*ast.CommClause)
			f.push()
			if comm.Comm != nil {
				f.stmt(comm.Comm)
			}
			f.list(comm.Body)
			f.pop()
		}
	case *ast.AssignStmt:
		if s.Tok != token.DEFINE {
			return
		}
		ints := make([]bool, len(s.Lhs))
		for i := range s.Lhs {
			ints[i] = len(s.Rhs) == len(s.Lhs) && f.isInt(s.Rhs[i])
		}
		top := f.scopes[len(f.scopes)-1]
		for i, e := range s.Lhs {
			id, ok := e.(*ast.Ident)
			if !ok {
				continue
			}
			if _, redeclared := top[id.Name]; !redeclared {
				f.declare(id.Name, ints[i])
			}
		}
	case *ast.DeclStmt:
		g, ok := s.Decl.(*ast.GenDecl)
		if !ok || g.Tok == token.IMPORT {
			return
		}
		for _, spec := range g.Specs {
			switch spec := spec.(type) {
			case *ast.ValueSpec:
				for i, n := range spec.Names {
					isInt := g.Tok == token.VAR && (spec.Type != nil && isIntType(spec.Type) ||
						spec.Type == nil && len(spec.Values) == len(spec.Names) && f.isInt(spec.Values[i]))
					f.declare(n.Name, isInt)
				}
			case *ast.TypeSpec:
				f.declare(spec.Name.Name, false)
			}
		}
	}
}

// loop looks for loops inside a loop that does not compile.
func (f *loopFinder) loop(s ast.Stmt) {
	f.push()
	defer f.pop()
	switch s := s.(type) {
	case *ast.ForStmt:
		if s.Init != nil {
			f.stmt(s.Init)
		}
		f.block(s.Body.List)
	case *ast.RangeStmt:
		if s.Tok == token.DEFINE {
			keyInt := f.isInt(s.X) // range over an int counts in ints
			for i, e := range []ast.Expr{s.Key, s.Value} {
				if id, ok := e.(*ast.Ident); ok {
					f.declare(id.Name, i == 0 && keyInt)
				}
			}
		}
		f.block(s.Body.List)
	}
}

// try records s if it compiles and may run long, and reports whether it
// did.
func (f *loopFinder) try(s ast.Stmt) bool {
	if !mayRunLong(s) {
		return false
	}
	vars := f.ints()
	b, ok := CompileBlock([]ast.Stmt{s}, vars)
	if !ok {
		return false
	}
	loop := Loop{Stmt: s}
	for i, v := range vars {
		if b.Used[i] {
			loop.Vars = append(loop.Vars, v)
			loop.Written = append(loop.Written, b.Written[i])
		}
	}
	f.loops = append(f.loops, loop)
	return true
}

// WrappedLoop finds, in n, the loop that the kernel wrapped with the
// RunLoop call for loop k of the cell with sequence number id (see
// kernel/cell), and compiles it:
//
//	if __v, __ok := __mp.RunLoop(id, k, a, b); __ok { b = __v[1] } else { LOOP }
//	if _, __ok := __mp.RunLoop(id, k, a, b); !__ok { LOOP }
func WrappedLoop(n ast.Node, id, k int) (*Block, bool) {
	var found *Block
	ast.Inspect(n, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		is, ok := n.(*ast.IfStmt)
		if !ok {
			return true
		}
		names, ok := loopCall(is, id, k)
		if !ok {
			return true
		}
		loop := is.Body
		if e, ok := is.Else.(*ast.BlockStmt); ok {
			loop = e
		}
		found, _ = CompileBlock(loop.List, names)
		return false
	})
	return found, found != nil
}

// loopCall reports whether is is the wrap of loop k of cell id, and
// returns the names of the variables its RunLoop call passes.
func loopCall(is *ast.IfStmt, id, k int) ([]string, bool) {
	init, ok := is.Init.(*ast.AssignStmt)
	if !ok || len(init.Rhs) != 1 {
		return nil, false
	}
	call, ok := init.Rhs[0].(*ast.CallExpr)
	if !ok || len(call.Args) < 2 {
		return nil, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "RunLoop" {
		return nil, false
	}
	if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "__mp" {
		return nil, false
	}
	for i, want := range []int{id, k} {
		lit, ok := call.Args[i].(*ast.BasicLit)
		if !ok || lit.Value != strconv.Itoa(want) {
			return nil, false
		}
	}
	var names []string
	for _, a := range call.Args[2:] {
		id, ok := a.(*ast.Ident)
		if !ok {
			return nil, false
		}
		names = append(names, id.Name)
	}
	return names, true
}
