// Package numcode compiles the numeric code of a notebook — whole
// functions of integers and floats, and loops over such variables in any
// function (Loops, CompileBlock) — into trees of Go closures, so that those
// loops run several times faster than yaegi runs them.
//
// The exercises goproc exists for time loops of arithmetic — a sum of
// squares over a range, a counter bumped a hundred thousand times, π by the
// midpoint rule — in the kernel and in child processes, and yaegi runs such
// a loop at ~70 ns an iteration. A top-level function whose parameters,
// result (one or none) and locals are of types int, int64, uint, uint64,
// float64 or bool, and whose body uses only those variables, numeric
// literals, conversions between those types, arithmetic, comparisons, && ||
// !, the math package's pure functions and constants (mathpkg.go), if, for
// (three-clause, condition only, or range over an integer), break,
// continue, return, and calls of itself (as fib(n-1) + fib(n-2) does) or of
// other such functions a Resolver gives (CompileWith)
//
//	func sumOfSquares(start, end int) int {
//		total := 0
//		for i := start; i < end; i++ {
//			total += i * i
//		}
//		return total
//	}
//
// cannot observe how it is run: it reads no global, calls nothing else and
// has no effect but its result and the time it takes. Compile turns such a
// declaration into a Proc, which computes with Go's own 64-bit arithmetic
// (it wraps, rounds and divides by zero as the interpreter's does). Where
// the compiled code would panic (integer division by zero, a negative shift
// count) Run stops and reports it, and the caller runs the interpreted
// function from the start, so the panic and its traceback are the
// interpreter's own; running such a function twice is unobservable.
// Anything outside that subset — a call, a global or constant, another type
// (a narrower integer wraps at its own width), a constant expression (exact
// in Go), a label, a switch — is refused and stays interpreted.
package numcode

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"strconv"
	"strings"
	"sync/atomic"
)

// Proc is a compiled numeric procedure.
type Proc struct {
	// Params is the number of parameters; HasResult whether it returns a
	// value. Both travel as ints (see kind); Types and Result name their
	// types.
	Params    int
	HasResult bool
	Types     []string
	Result    string
	run       func(done <-chan struct{}, args []int) (int, bool)
	// broken is set once a run of a recursive p fails other than by being
	// stopped: the interpreter runs p from then on. Its fallback calls p
	// again at every level of the recursion, and each of those runs would
	// fail the same way, after as many calls as the first.
	broken atomic.Bool
	// depthLimit bounds recursion (0: maxDepth).
	depthLimit int
}

// Run runs p with args (len(args) == p.Params). It returns the result (0 if
// p has none) and false if the interpreted function must run instead: where
// Go panics, where the body ends without a return, or once done is closed
// (nil: never), which a loop notices within a few thousand iterations.
func (p *Proc) Run(done <-chan struct{}, args []int) (int, bool) {
	if p.broken.Load() {
		return 0, false
	}
	return p.run(done, args)
}

// Compile compiles d if it is a numeric procedure. The statements the
// kernel inserts at the top of a body (see IsKernelCheck) are skipped.
func Compile(d *ast.FuncDecl) (*Proc, bool) { return CompileWith(d, nil) }

// Resolver returns the declaration of a function that compiled code may
// call by name, and false if there is none it may call (not declared, or
// declared more than once: which declaration a call reaches then depends
// on when its caller was compiled).
type Resolver func(name string) (*ast.FuncDecl, bool)

// CompileWith is Compile where the procedure may also call other numeric
// procedures, which resolve finds (nil: none); they are compiled with it,
// and a call reaches the declaration resolve gave.
func CompileWith(d *ast.FuncDecl, resolve Resolver) (*Proc, bool) {
	s := &session{resolve: resolve, procs: map[string]*selfRef{}}
	ref, ok := s.compile(d)
	if !ok || s.failed {
		return nil, false
	}
	p := &Proc{Params: ref.params, HasResult: ref.hasResult, Types: ref.types, Result: ref.result}
	// A run that fails leaves a procedure that calls itself, or others, to
	// the interpreter from then on (see broken).
	recursive := ref.called || s.calls
	body, slots, hasResult := ref.body, ref.slots, ref.hasResult
	p.run = func(done <-chan struct{}, args []int) (r int, ok bool) {
		defer func() {
			if rec := recover(); rec != nil {
				if _, interrupted := rec.(stopped); recursive && !interrupted {
					p.broken.Store(true)
				}
				r, ok = 0, false // the interpreter panics as Go does
			}
		}()
		limit := p.depthLimit
		if limit == 0 {
			limit = maxDepth
		}
		f := &frame{v: make([]int, slots), run: &run{done: done, limit: limit}}
		copy(f.v[1:], args)
		if body(f) != flowReturn && hasResult {
			p.broken.Store(recursive)
			return 0, false // no return: the interpreter decides
		}
		return f.v[0], true
	}
	return p, true
}

// session is one CompileWith: the procedures it compiled, by name.
type session struct {
	resolve Resolver
	procs   map[string]*selfRef // nil: refused
	calls   bool                // a procedure calls another
	// failed: a procedure did not compile after others had taken it for
	// a callee (mutual recursion); they cannot run.
	failed bool
}

// compile compiles d into a procedure as calls see it.
func (s *session) compile(d *ast.FuncDecl) (*selfRef, bool) {
	if strconv.IntSize != 64 || d.Recv != nil || d.Body == nil || d.Type.TypeParams != nil {
		return nil, false
	}
	ref := &selfRef{name: d.Name.Name}
	c := &compiler{slots: 1, kinds: []kind{signed}, scopes: []map[string]int{{}}, self: ref, sess: s}
	if res := d.Type.Results; res != nil && len(res.List) > 0 {
		if len(res.List) != 1 || len(res.List[0].Names) > 0 {
			return nil, false // named results are left to the interpreter
		}
		k, ok := typeKind(res.List[0].Type)
		if !ok {
			return nil, false
		}
		c.hasResult, c.kinds[0] = true, k
		ref.hasResult, ref.resultKind, ref.result = true, k, res.List[0].Type.(*ast.Ident).Name
	}
	for _, field := range d.Type.Params.List {
		k, ok := typeKind(field.Type)
		if !ok {
			return nil, false
		}
		names := len(field.Names)
		if names == 0 {
			c.declare("", k)
			names = 1
		}
		for _, n := range field.Names {
			c.declare(n.Name, k)
		}
		for range names {
			ref.kinds = append(ref.kinds, k)
			ref.types = append(ref.types, field.Type.(*ast.Ident).Name)
			ref.params++
		}
	}
	// Known before the body compiles, so that calls in it (its own, or
	// back from a procedure it calls) find it.
	s.procs[ref.name] = ref
	stmts := d.Body.List
	for len(stmts) > 0 && IsKernelCheck(stmts[0]) {
		stmts = stmts[1:]
	}
	body, ok := c.block(stmts, false)
	if !ok {
		s.procs[ref.name] = nil
		s.failed = s.failed || ref.called || s.calls
		return nil, false
	}
	ref.body, ref.slots = body, c.slots
	return ref, true
}

// proc returns the procedure named name that compiled code may call,
// compiling it on first use (nil if there is none).
func (s *session) proc(name string) *selfRef {
	if ref, seen := s.procs[name]; seen {
		return ref
	}
	if s.resolve == nil {
		return nil
	}
	d, ok := s.resolve(name)
	if !ok || d.Name.Name != name {
		s.procs[name] = nil
		return nil
	}
	ref, _ := s.compile(d)
	return ref
}

// Worthwhile reports whether d loops or calls itself: a function that does
// neither is cheaper to interpret than to call out of the interpreter for.
func Worthwhile(d *ast.FuncDecl) bool { return HasLoop(d) || callsItself(d) }

// callsItself reports whether d's body calls d by name.
func callsItself(d *ast.FuncDecl) bool {
	found := false
	ast.Inspect(d.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == d.Name.Name {
				found = true
			}
		}
		return !found
	})
	return found
}

// HasLoop reports whether d's body has a loop that may run long: a call
// out of the interpreter costs ~2 µs, about what yaegi takes for a loop of
// ten iterations, so loops that count to a small constant (and have no
// longer loop inside) are not counted.
func HasLoop(d *ast.FuncDecl) bool {
	found := false
	ast.Inspect(d.Body, func(n ast.Node) bool {
		if s, ok := n.(ast.Stmt); ok && mayRunLong(s) {
			found = true
		}
		return !found
	})
	return found
}

// fewIterations is the most iterations a loop that counts to a constant
// may have and still be left to the interpreter.
const fewIterations = 64

// mayRunLong reports whether s is a loop that does not count between two
// constants at most fewIterations apart, or holds one.
func mayRunLong(s ast.Stmt) bool {
	var body *ast.BlockStmt
	switch s := s.(type) {
	case *ast.ForStmt:
		if !countsToConstant(s) {
			return true
		}
		body = s.Body
	case *ast.RangeStmt:
		n, ok := intLiteral(s.X)
		if !ok || n > fewIterations {
			return true
		}
		body = s.Body
	default:
		return false
	}
	long := false
	ast.Inspect(body, func(n ast.Node) bool {
		if inner, ok := n.(ast.Stmt); ok && inner != ast.Stmt(body) && mayRunLong(inner) {
			long = true
		}
		return !long
	})
	return long
}

// countsToConstant reports whether s is for i := A; i < B; i++ (or <=,
// or counting down with > and >=, --) with constants A and B at most
// fewIterations apart, and a body that does not assign i.
func countsToConstant(s *ast.ForStmt) bool {
	init, ok := s.Init.(*ast.AssignStmt)
	if !ok || init.Tok != token.DEFINE || len(init.Lhs) != 1 || len(init.Rhs) != 1 {
		return false
	}
	i, ok := init.Lhs[0].(*ast.Ident)
	if !ok {
		return false
	}
	from, ok := intLiteral(init.Rhs[0])
	if !ok {
		return false
	}
	cond, ok := s.Cond.(*ast.BinaryExpr)
	if !ok {
		return false
	}
	if x, ok := cond.X.(*ast.Ident); !ok || x.Name != i.Name {
		return false
	}
	to, ok := intLiteral(cond.Y)
	if !ok {
		return false
	}
	post, ok := s.Post.(*ast.IncDecStmt)
	if !ok {
		return false
	}
	if x, ok := post.X.(*ast.Ident); !ok || x.Name != i.Name {
		return false
	}
	var n int
	switch {
	case post.Tok == token.INC && cond.Op == token.LSS:
		n = to - from
	case post.Tok == token.INC && cond.Op == token.LEQ:
		n = to - from + 1
	case post.Tok == token.DEC && cond.Op == token.GTR:
		n = from - to
	case post.Tok == token.DEC && cond.Op == token.GEQ:
		n = from - to + 1
	default:
		return false
	}
	if n < 0 || n > fewIterations || assigns(s.Body, i.Name) {
		return false
	}
	return true
}

// assigns reports whether n assigns to, or takes the address of, name.
func assigns(n ast.Node, name string) bool {
	found := false
	is := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && id.Name == name
	}
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				found = found || is(l)
			}
		case *ast.IncDecStmt:
			found = found || is(n.X)
		case *ast.UnaryExpr:
			found = found || n.Op == token.AND && is(n.X)
		}
		return !found
	})
	return found
}

// IsKernelCheck reports whether s is one of the statements the kernel
// inserts at the top of a function body: the identity probe
// (if __goprocProbing && ... {...}) or the call of the compiled procedure
// (if __r, __ok := __mp.RunProc(...); __ok {...}).
func IsKernelCheck(s ast.Stmt) bool {
	is, ok := s.(*ast.IfStmt)
	if !ok || is.Else != nil {
		return false
	}
	if cond, ok := is.Cond.(*ast.BinaryExpr); ok && cond.Op == token.LAND {
		if id, ok := cond.X.(*ast.Ident); ok && id.Name == "__goprocProbing" {
			return is.Init == nil
		}
	}
	init, ok := is.Init.(*ast.AssignStmt)
	if !ok || len(init.Rhs) != 1 {
		return false
	}
	call, ok := init.Rhs[0].(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "RunProc" {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "__mp"
}

// Call runs p on args of its parameters' types, and returns its result
// (nil if it has none), or false as Run does.
func (p *Proc) Call(done <-chan struct{}, args []any) (any, bool) {
	if len(args) != p.Params {
		return nil, false
	}
	in := make([]int, len(args))
	for i, a := range args {
		bits, typ, ok := Bits(a)
		if !ok || typ != p.Types[i] {
			return nil, false
		}
		in[i] = bits
	}
	r, ok := p.Run(done, in)
	if !ok || !p.HasResult {
		return nil, ok
	}
	return Value(r, p.Result), true
}

// Declarations returns a Resolver over files: a function declared once in
// them (not a method) resolves to that declaration.
func Declarations(files ...*ast.File) Resolver {
	return Once(FuncsIn(files...))
}

// Funcs finds the declarations of a function by name, in order.
type Funcs func(name string) []*ast.FuncDecl

// Once is the Resolver that resolves what the Funcs declare once, all of
// them together, or several times alike (a cell run again).
func Once(all ...Funcs) Resolver {
	return func(name string) (*ast.FuncDecl, bool) {
		var decls []*ast.FuncDecl
		for _, funcs := range all {
			decls = append(decls, funcs(name)...)
		}
		if len(decls) == 0 {
			return nil, false
		}
		first := canonical(decls[0])
		for _, d := range decls[1:] {
			if canonical(d) != first {
				return nil, false
			}
		}
		return decls[len(decls)-1], true
	}
}

// canonical renders d as compiled code sees it: without the statements the
// kernel inserts (whose sequence numbers differ from run to run).
func canonical(d *ast.FuncDecl) string {
	if d.Type == nil {
		return fmt.Sprintf("%p", d) // unlike any other
	}
	c := *d
	if d.Body != nil {
		body := *d.Body
		body.List = nil
		for _, s := range d.Body.List {
			if !IsKernelCheck(s) {
				body.List = append(body.List, s)
			}
		}
		c.Body = &body
	}
	c.Doc = nil
	var b strings.Builder
	if err := printer.Fprint(&b, token.NewFileSet(), &c); err != nil {
		return fmt.Sprintf("%p", d) // unlike any other
	}
	return b.String()
}

// FuncsIn finds the functions (not methods) files declare.
func FuncsIn(files ...*ast.File) Funcs {
	return func(name string) []*ast.FuncDecl {
		var found []*ast.FuncDecl
		for _, f := range files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == name {
					found = append(found, fd)
				}
			}
		}
		return found
	}
}

// FuncsInChunks finds the functions declared in a notebook's evaluated
// chunks, parsing only those that mention the name, each once.
func FuncsInChunks(chunks []string) Funcs {
	parsed := map[int]*ast.File{}
	return func(name string) []*ast.FuncDecl {
		var files []*ast.File
		for i, src := range chunks {
			if !strings.Contains(src, name) {
				continue
			}
			f, seen := parsed[i]
			if !seen {
				f, _ = ParseChunk(src)
				parsed[i] = f
			}
			if f == nil {
				// Cannot tell what it declares: as good as a declaration
				// unlike any other.
				return append(FuncsIn(files...)(name), &ast.FuncDecl{Name: ast.NewIdent(name)})
			}
			files = append(files, f)
		}
		return FuncsIn(files...)(name)
	}
}

// ParseChunk parses one evaluated chunk of a notebook: declarations without
// a package clause, or a whole program with one.
func ParseChunk(src string) (*ast.File, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package main\n"+src, parser.SkipObjectResolution)
	if err != nil {
		f, err = parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	}
	return f, err
}
