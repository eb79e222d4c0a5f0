package numcode

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

// Var is a variable of the function around a loop: its name and its type,
// one of numTypes.
type Var struct{ Name, Type string }

// Block is a compiled statement list over integer variables of the function
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
// vars, variables of the enclosing function; it may call the numeric
// procedures resolve gives (nil: none). It refuses what Compile refuses,
// and a return.
func CompileBlock(list []ast.Stmt, vars []Var, resolve Resolver) (*Block, bool) {
	if strconv.IntSize != 64 {
		return nil, false
	}
	c := &compiler{slots: 1, kinds: []kind{signed}, scopes: []map[string]int{{}}, inBlock: true,
		used: make([]bool, len(vars)), written: make([]bool, len(vars))}
	if resolve != nil {
		c.sess = &session{resolve: resolve, procs: map[string]*selfRef{}}
	}
	for _, v := range vars {
		k, ok := numTypes[v.Type]
		if _, dup := c.scopes[0][v.Name]; dup || !ok || v.Name == "_" {
			return nil, false
		}
		c.declare(v.Name, k)
	}
	body, ok := c.block(list, true)
	if !ok || c.sess != nil && c.sess.failed {
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
		f := &frame{v: make([]int, slots), run: &run{done: done, limit: maxDepth}}
		copy(f.v[1:], vals)
		body(f)
		return f.v[1 : 1+n], true
	}}, true
}

// Loop is a loop of a function that CompileBlock compiles.
type Loop struct {
	Stmt ast.Stmt // a *ast.ForStmt or *ast.RangeStmt
	// Vars are the integer variables of the function the loop reads or
	// assigns; Written tells which of them it assigns.
	Vars    []Var
	Written []bool
}

// Loops returns the loops of d's body that compile as integer code over the
// function's integer variables in scope there, outermost first (a loop
// inside one it returns is not returned). It does not look inside function
// literals, nor at labeled loops. A variable counts when its type is one of
// int, int64, uint and uint64, as a parameter or result, declared `var x T`,
// or declared with := or var from an expression whose type the declaration
// shows (integer variables, integer literals, conversions to those types);
// anything else in scope with the same name hides it.
func Loops(d *ast.FuncDecl, resolve Resolver) []Loop {
	if d.Body == nil || strconv.IntSize != 64 {
		return nil
	}
	f := &loopFinder{resolve: resolve}
	f.push()
	for _, list := range []*ast.FieldList{d.Recv, d.Type.Params, d.Type.Results} {
		if list == nil {
			continue
		}
		for _, field := range list.List {
			for _, n := range field.Names {
				f.declare(n.Name, intTypeName(field.Type))
			}
		}
	}
	f.list(d.Body.List)
	return f.loops
}

// loopFinder walks a function body, keeping the names in scope and the type
// of each integer variable ("": some other name).
type loopFinder struct {
	scopes  []map[string]string
	loops   []Loop
	resolve Resolver // the procedures loops may call
}

func (f *loopFinder) push() { f.scopes = append(f.scopes, map[string]string{}) }
func (f *loopFinder) pop()  { f.scopes = f.scopes[:len(f.scopes)-1] }

func (f *loopFinder) declare(name, typ string) {
	if name != "_" {
		f.scopes[len(f.scopes)-1][name] = typ
	}
}

// vars returns the integer variables in scope, innermost declaration
// winning, by name.
func (f *loopFinder) vars() []Var {
	seen := map[string]bool{}
	var vars []Var
	for i := len(f.scopes) - 1; i >= 0; i-- {
		for name, typ := range f.scopes[i] {
			if seen[name] {
				continue
			}
			seen[name] = true
			if typ != "" {
				vars = append(vars, Var{name, typ})
			}
		}
	}
	// the kernel's rewrite of a cell must not vary
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}

// declared returns the type of the variable name ("": not one of
// numTypes), and false if nothing in the function declares name.
func (f *loopFinder) declared(name string) (string, bool) {
	for i := len(f.scopes) - 1; i >= 0; i-- {
		if typ, ok := f.scopes[i][name]; ok {
			return typ, true
		}
	}
	return "", false
}

// typeOf returns the type of e, one of numTypes, if the expression shows
// it ("" and true for an untyped integer constant, untypedFloat for a
// floating-point one).
func (f *loopFinder) typeOf(e ast.Expr) (string, bool) {
	if _, ok := intLiteral(e); ok {
		return "", true
	}
	if _, ok := floatLiteral(e); ok {
		return untypedFloat, true
	}
	switch e := e.(type) {
	case *ast.Ident:
		if typ, declared := f.declared(e.Name); declared {
			return typ, typ != ""
		}
		if _, ok := boolConstant(e); ok {
			return "bool", true
		}
	case *ast.ParenExpr:
		return f.typeOf(e.X)
	case *ast.UnaryExpr:
		switch e.Op {
		case token.ADD, token.SUB, token.XOR:
			return f.typeOf(e.X)
		case token.NOT:
			return "bool", true
		}
	case *ast.BinaryExpr:
		if _, ok := intComparisons[e.Op]; ok || e.Op == token.LAND || e.Op == token.LOR {
			return "bool", true
		}
		if e.Op == token.SHL || e.Op == token.SHR {
			return f.typeOf(e.X)
		}
		if _, arithmetic := intOps[e.Op]; !arithmetic {
			return "", false
		}
		tx, okx := f.typeOf(e.X)
		ty, oky := f.typeOf(e.Y)
		switch {
		case !okx || !oky:
			return "", false
		case tx != "" && tx != untypedFloat:
			return tx, true
		case ty != "" && ty != untypedFloat:
			return ty, true
		case tx == untypedFloat || ty == untypedFloat:
			return untypedFloat, true
		}
		return "", true
	case *ast.SelectorExpr:
		if name, ok := mathName(e); ok {
			if _, isFloat := mathFloatConsts[name]; isFloat {
				return untypedFloat, true
			}
			if _, isInt := mathIntConsts[name]; isInt {
				return "", true
			}
		}
	case *ast.CallExpr:
		if _, ok := conversion(e); ok {
			return e.Fun.(*ast.Ident).Name, true
		}
		if t, ok := f.minMaxType(e); ok {
			return t, true
		}
		if name, ok := mathName(e.Fun); ok {
			switch {
			case mathFloat1[name] != nil, mathFloat2[name] != nil:
				return "float64", true
			case mathBool1[name] != nil:
				return "bool", true
			}
		}
	}
	return "", false
}

// untypedFloat is typeOf's name for an untyped floating-point constant.
const untypedFloat = "untyped float"

// declaredType is the type a variable declared from e without a type gets
// ("" if it is not one of numTypes): int or float64 for an untyped
// constant.
func (f *loopFinder) declaredType(e ast.Expr) string {
	typ, ok := f.typeOf(e)
	switch {
	case !ok:
		return ""
	case typ == "":
		return "int"
	case typ == untypedFloat:
		return "float64"
	}
	return typ
}

// intTypeName returns the name of e if it names one of numTypes, or "".
func intTypeName(e ast.Expr) string {
	if _, ok := typeKind(e); ok {
		return e.(*ast.Ident).Name
	}
	return ""
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
				f.declare(bound, "")
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
		types := make([]string, len(s.Lhs))
		for i := range s.Lhs {
			if len(s.Rhs) == len(s.Lhs) {
				types[i] = f.declaredType(s.Rhs[i])
			}
		}
		top := f.scopes[len(f.scopes)-1]
		for i, e := range s.Lhs {
			id, ok := e.(*ast.Ident)
			if !ok {
				continue
			}
			if _, redeclared := top[id.Name]; !redeclared {
				f.declare(id.Name, types[i])
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
					typ := ""
					switch {
					case g.Tok != token.VAR:
					case spec.Type != nil:
						typ = intTypeName(spec.Type)
					case len(spec.Values) == len(spec.Names):
						typ = f.declaredType(spec.Values[i])
					}
					f.declare(n.Name, typ)
				}
			case *ast.TypeSpec:
				f.declare(spec.Name.Name, "")
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
			key := f.declaredType(s.X) // range over an integer counts in its type
			for i, e := range []ast.Expr{s.Key, s.Value} {
				if id, ok := e.(*ast.Ident); ok {
					if i == 0 {
						f.declare(id.Name, key)
					} else {
						f.declare(id.Name, "")
					}
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
	if _, shadowed := f.declared("math"); shadowed && UsesMath(s) {
		return false // math is not the package here
	}
	if f.callsLocal(s) {
		return false // a call of a variable of the function, not a procedure
	}
	vars := f.vars()
	b, ok := CompileBlock([]ast.Stmt{s}, vars, f.resolve)
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
// kernel/cell), and compiles it over the variables the call passes, of the
// types given, calling the procedures resolve gives:
//
//	if __v, __ok := __mp.RunLoop(id, k, a, b); __ok { b = __v[1].(uint64) } else { LOOP }
//	if _, __ok := __mp.RunLoop(id, k, a); !__ok { LOOP }
func WrappedLoop(n ast.Node, id, k int, types []string, resolve Resolver) (*Block, bool) {
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
		if len(names) != len(types) {
			return false
		}
		vars := make([]Var, len(names))
		for i, name := range names {
			vars[i] = Var{name, types[i]}
		}
		loop := is.Body
		if e, ok := is.Else.(*ast.BlockStmt); ok {
			loop = e
		}
		found, _ = CompileBlock(loop.List, vars, resolve)
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

// TypesOf returns the types of vals, if each is of one of numTypes.
func TypesOf(vals []any) ([]string, bool) {
	types := make([]string, len(vals))
	for i, v := range vals {
		_, typ, ok := Bits(v)
		if !ok {
			return nil, false
		}
		types[i] = typ
	}
	return types, true
}

// Call runs b on vals, the values of its variables (of the types it was
// compiled for), and returns their values afterwards, or false as Run does.
func (b *Block) Call(done <-chan struct{}, vals []any) ([]any, bool) {
	in := make([]int, len(vals))
	types := make([]string, len(vals))
	for i, v := range vals {
		in[i], types[i], _ = Bits(v)
	}
	out, ok := b.Run(done, in)
	if !ok {
		return nil, false
	}
	res := make([]any, len(out))
	for i, bits := range out {
		res[i] = Value(bits, types[i])
	}
	return res, true
}

// callsLocal reports whether n calls a name the function declares.
func (f *loopFinder) callsLocal(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok {
				if _, declared := f.declared(id.Name); declared {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// UsesMath reports whether n selects anything from a name math (compiled
// code takes it for the standard library's package).
func UsesMath(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if e, ok := n.(ast.Expr); ok {
			if _, ok := mathName(e); ok {
				found = true
			}
		}
		return !found
	})
	return found
}
