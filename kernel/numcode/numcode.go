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
// continue, return and calls of itself (as fib(n-1) + fib(n-2) does)
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
	"go/ast"
	"go/token"
	"math"
	"strconv"
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

// flow is how a compiled statement ends.
type flow uint8

const (
	flowNext flow = iota
	flowBreak
	flowContinue
	flowReturn
)

// frame is one call's state.
type frame struct {
	v    []int // slot 0: the result; then the parameters; then the locals
	*run       // shared by the calls of one Run
}

// run is the state of one Run, shared by the recursive calls in it.
type run struct {
	done  <-chan struct{} // closed: stop (the cell was interrupted)
	ticks uint32          // loop iterations and calls, to look at done now and then
	depth int             // recursive calls in progress
	limit int             // the most depth may be
}

// stopped is the panic that ends a run whose done channel was closed.
type stopped struct{}

// tooDeep is the panic that ends a run whose recursion went deeper than
// maxDepth.
type tooDeep struct{}

// maxDepth bounds recursion in compiled code: deeper, the interpreter takes
// over. A compiled call takes less of the goroutine's stack than an
// interpreted one, so a recursion the interpreter could finish does not get
// here, and one it could not finish fails as it would have anyway (Go's
// stack limit).
const maxDepth = 1 << 20

// tick is called on every loop iteration and call; every 4096th it stops
// the run if done is closed, so that an interrupted cell is not left
// spinning.
func (r *run) tick() {
	r.ticks++
	if r.ticks&4095 == 0 && r.done != nil {
		select {
		case <-r.done:
			panic(stopped{})
		default:
		}
	}
}

type (
	intExpr  func(*frame) int
	boolExpr func(*frame) bool
	stmtFunc func(*frame) flow
)

// compiler compiles one function body.
type compiler struct {
	scopes    []map[string]int // innermost last: name → slot
	slots     int
	kinds     []kind // of each slot
	hasResult bool
	loops     int // enclosing for statements

	self *selfRef // the procedure being compiled, which may call itself

	// For a block (CompileBlock): slots 1..len(used) hold the variables
	// of the function around it, and it may not return.
	inBlock       bool
	used, written []bool
}

// Compile compiles d if it is a numeric procedure. The statements the
// kernel inserts at the top of a body (see IsKernelCheck) are skipped.
func Compile(d *ast.FuncDecl) (*Proc, bool) {
	if strconv.IntSize != 64 || d.Recv != nil || d.Body == nil || d.Type.TypeParams != nil {
		return nil, false
	}
	c := &compiler{slots: 1, kinds: []kind{signed}, scopes: []map[string]int{{}}, self: &selfRef{name: d.Name.Name}}
	result := ""
	if res := d.Type.Results; res != nil && len(res.List) > 0 {
		if len(res.List) != 1 || len(res.List[0].Names) > 0 {
			return nil, false // named results are left to the interpreter
		}
		k, ok := typeKind(res.List[0].Type)
		if !ok {
			return nil, false
		}
		c.hasResult, c.kinds[0] = true, k
		result = res.List[0].Type.(*ast.Ident).Name
	}
	params := 0
	var types []string
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
			c.self.kinds = append(c.self.kinds, k)
			types = append(types, field.Type.(*ast.Ident).Name)
			params++
		}
	}
	stmts := d.Body.List
	for len(stmts) > 0 && IsKernelCheck(stmts[0]) {
		stmts = stmts[1:]
	}
	c.self.params = params
	body, ok := c.block(stmts, false)
	if !ok {
		return nil, false
	}
	slots, hasResult := c.slots, c.hasResult
	c.self.body, c.self.slots = body, slots
	p := &Proc{Params: params, HasResult: hasResult, Types: types, Result: result}
	recursive := c.self.called
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

// selfRef is a procedure as its recursive calls see it: its body and frame
// size are filled in once the body is compiled.
type selfRef struct {
	name   string
	params int
	kinds  []kind // of the parameters
	body   stmtFunc
	slots  int
	called bool // the body calls it
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

// kind is how compiled code treats a 64-bit value: as a signed integer
// (int, int64), an unsigned one (uint, uint64) or a float64. Values of all
// three are held in an int, a float64 as its bits: for integers + - * & | ^
// &^ << and == give the same bits either way, and the operations that
// differ (/ % >> < <= > >=) look at the kind.
type kind uint8

const (
	signed kind = iota
	unsigned
	float
	boolean // 0 or 1
)

// numTypes are the types compiled code computes with.
var numTypes = map[string]kind{"int": signed, "int64": signed, "uint": unsigned, "uint64": unsigned, "float64": float, "bool": boolean}

func bitsOf(f float64) int  { return int(math.Float64bits(f)) }
func floatOf(v int) float64 { return math.Float64frombits(uint64(v)) }

// constKind is the kind an untyped constant gets where the context gives
// none: float64 for a floating-point literal, int otherwise.
func constKind(e ast.Expr) kind {
	if lit, _, ok := literal(e); ok && lit.Kind == token.FLOAT {
		return float
	}
	if name, ok := mathName(e); ok {
		if _, isFloat := mathFloatConsts[name]; isFloat {
			return float
		}
	}
	return signed
}

// kindOf returns the kind of e's type, or the kind an untyped constant
// gets by default.
func (c *compiler) kindOf(e ast.Expr) kind {
	if k, ok := c.typed(e); ok {
		return k
	}
	return constKind(e)
}

// boolConstant returns the value of true or false (which a notebook's own
// declarations could hide, but not among the variables compiled code sees).
func boolConstant(e *ast.Ident) (bool, bool) {
	switch e.Name {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// floatLiteral returns the value of a numeric literal, possibly negated or
// in parentheses, as a float64 (a constant: never -0).
func floatLiteral(e ast.Expr) (float64, bool) {
	lit, neg, ok := literal(e)
	if !ok {
		return 0, false
	}
	var v float64
	switch lit.Kind {
	case token.INT:
		n, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil {
			return 0, false
		}
		v = float64(n)
	case token.FLOAT:
		f, err := strconv.ParseFloat(lit.Value, 64)
		if err != nil {
			return 0, false
		}
		v = f
	default:
		return 0, false
	}
	if neg && v != 0 {
		v = -v
	}
	return v, true
}

// literal returns the literal e is, in parentheses and under unary + and -
// (neg: an odd number of -).
func literal(e ast.Expr) (lit *ast.BasicLit, neg, ok bool) {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.UnaryExpr:
			if x.Op != token.SUB && x.Op != token.ADD {
				return nil, false, false
			}
			if x.Op == token.SUB {
				neg = !neg
			}
			e = x.X
		case *ast.BasicLit:
			return x, neg, true
		default:
			return nil, false, false
		}
	}
}

// typeKind returns the kind of the type e names, if it is one of numTypes.
func typeKind(e ast.Expr) (kind, bool) {
	id, ok := e.(*ast.Ident)
	if !ok {
		return 0, false
	}
	k, ok := numTypes[id.Name]
	return k, ok
}

// isIntType reports whether e is int, the type of a procedure's parameters
// and result.
func isIntType(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "int"
}

func (c *compiler) lookup(name string) (int, bool) {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if s, ok := c.scopes[i][name]; ok {
			if s >= 1 && s <= len(c.used) {
				c.used[s-1] = true
			}
			return s, true
		}
	}
	return 0, false
}

// write records an assignment to slot (for a block: which of the outer
// variables it changes).
func (c *compiler) write(slot int) {
	if slot >= 1 && slot <= len(c.written) {
		c.written[slot-1] = true
	}
}

func (c *compiler) declare(name string, k kind) int {
	s := c.slots
	c.slots++
	c.kinds = append(c.kinds, k)
	if name != "_" && name != "" {
		c.scopes[len(c.scopes)-1][name] = s
	}
	return s
}

func (c *compiler) push() { c.scopes = append(c.scopes, map[string]int{}) }
func (c *compiler) pop()  { c.scopes = c.scopes[:len(c.scopes)-1] }

// block compiles a statement list, in a scope of its own if scoped.
func (c *compiler) block(list []ast.Stmt, scoped bool) (stmtFunc, bool) {
	if scoped {
		c.push()
		defer c.pop()
	}
	stmts := make([]stmtFunc, 0, len(list))
	for _, s := range list {
		if _, empty := s.(*ast.EmptyStmt); empty {
			continue
		}
		cs, ok := c.stmt(s)
		if !ok {
			return nil, false
		}
		stmts = append(stmts, cs)
	}
	switch len(stmts) {
	case 0:
		return func(*frame) flow { return flowNext }, true
	case 1:
		return stmts[0], true
	}
	return func(f *frame) flow {
		for _, s := range stmts {
			if fl := s(f); fl != flowNext {
				return fl
			}
		}
		return flowNext
	}, true
}

func (c *compiler) stmt(s ast.Stmt) (stmtFunc, bool) {
	switch s := s.(type) {
	case *ast.BlockStmt:
		return c.block(s.List, true)
	case *ast.AssignStmt:
		return c.assign(s)
	case *ast.IncDecStmt:
		slot, ok := c.localSlot(s.X)
		if !ok {
			return nil, false
		}
		c.write(slot)
		step := 1
		if s.Tok == token.DEC {
			step = -1
		}
		if c.kinds[slot] == float {
			d := float64(step)
			return func(f *frame) flow { f.v[slot] = bitsOf(floatOf(f.v[slot]) + d); return flowNext }, true
		}
		return func(f *frame) flow { f.v[slot] += step; return flowNext }, true
	case *ast.DeclStmt:
		return c.varDecl(s)
	case *ast.IfStmt:
		return c.ifStmt(s)
	case *ast.ForStmt:
		return c.forStmt(s)
	case *ast.RangeStmt:
		return c.rangeStmt(s)
	case *ast.ReturnStmt:
		if c.inBlock {
			return nil, false // it would return from the function around the block
		}
		if !c.hasResult {
			if len(s.Results) != 0 {
				return nil, false
			}
			return func(*frame) flow { return flowReturn }, true
		}
		if len(s.Results) != 1 {
			return nil, false
		}
		e, ok := c.expr(s.Results[0], c.kinds[0])
		if !ok {
			return nil, false
		}
		return func(f *frame) flow { f.v[0] = e(f); return flowReturn }, true
	case *ast.BranchStmt:
		if s.Label != nil || c.loops == 0 {
			return nil, false
		}
		switch s.Tok {
		case token.BREAK:
			return func(*frame) flow { return flowBreak }, true
		case token.CONTINUE:
			return func(*frame) flow { return flowContinue }, true
		}
	}
	return nil, false
}

// assign compiles =, := and the operator assignments to local ints.
func (c *compiler) assign(s *ast.AssignStmt) (stmtFunc, bool) {
	if s.Tok == token.ASSIGN || s.Tok == token.DEFINE {
		if len(s.Lhs) != len(s.Rhs) {
			return nil, false
		}
		targets := make([]int, len(s.Lhs))
		kinds := make([]kind, len(s.Lhs))
		for i, l := range s.Lhs {
			id, ok := l.(*ast.Ident)
			if !ok || id.Name == "_" {
				return nil, false
			}
			slot, found := c.scopes[len(c.scopes)-1][id.Name]
			if s.Tok == token.ASSIGN {
				slot, found = c.lookup(id.Name)
				if !found {
					return nil, false
				}
				c.write(slot)
			}
			if found {
				targets[i], kinds[i] = slot, c.kinds[slot]
			} else {
				// Declared below, after the values are compiled; of the
				// value's type, int for a constant.
				targets[i] = -1
				kinds[i] = c.kindOf(s.Rhs[i])
			}
		}
		values := make([]intExpr, len(s.Rhs))
		for i, r := range s.Rhs {
			e, ok := c.expr(r, kinds[i])
			if !ok {
				return nil, false
			}
			values[i] = e
		}
		for i, l := range s.Lhs {
			if targets[i] < 0 {
				targets[i] = c.declare(l.(*ast.Ident).Name, kinds[i])
			}
		}
		if len(values) == 1 {
			slot, e := targets[0], values[0]
			return func(f *frame) flow { f.v[slot] = e(f); return flowNext }, true
		}
		return func(f *frame) flow {
			var buf [8]int
			tmp := buf[:0]
			for _, e := range values {
				tmp = append(tmp, e(f))
			}
			for i, slot := range targets {
				f.v[slot] = tmp[i]
			}
			return flowNext
		}, true
	}
	if len(s.Lhs) != 1 || len(s.Rhs) != 1 {
		return nil, false
	}
	slot, ok := c.localSlot(s.Lhs[0])
	if !ok {
		return nil, false
	}
	c.write(slot)
	op, ok := assignOps[s.Tok]
	if !ok {
		return nil, false
	}
	k := c.kinds[slot]
	if k == float {
		apply, ok := floatOps[op]
		if !ok {
			return nil, false
		}
		e, ok := c.expr(s.Rhs[0], float)
		if !ok {
			return nil, false
		}
		return func(f *frame) flow { f.v[slot] = apply(f.v[slot], e(f)); return flowNext }, true
	}
	if op == token.ADD || op == token.SUB {
		if n, isLit := intLiteral(s.Rhs[0]); isLit {
			if op == token.SUB {
				n = -n // the same bits for either kind
			}
			return func(f *frame) flow { f.v[slot] += n; return flowNext }, true
		}
	}
	if op == token.SHL || op == token.SHR {
		count, ok := c.shiftCount(s.Rhs[0])
		if !ok {
			return nil, false
		}
		shift := shiftOp(op, k)
		return func(f *frame) flow { f.v[slot] = shift(f.v[slot], count(f)); return flowNext }, true
	}
	e, ok := c.expr(s.Rhs[0], k)
	if !ok {
		return nil, false
	}
	if op == token.ADD {
		return func(f *frame) flow { f.v[slot] += e(f); return flowNext }, true
	}
	apply, ok := opFor(op, k)
	if !ok {
		return nil, false
	}
	return func(f *frame) flow { f.v[slot] = apply(f.v[slot], e(f)); return flowNext }, true
}

var assignOps = map[token.Token]token.Token{
	token.ADD_ASSIGN: token.ADD, token.SUB_ASSIGN: token.SUB, token.MUL_ASSIGN: token.MUL,
	token.QUO_ASSIGN: token.QUO, token.REM_ASSIGN: token.REM, token.AND_ASSIGN: token.AND,
	token.OR_ASSIGN: token.OR, token.XOR_ASSIGN: token.XOR, token.SHL_ASSIGN: token.SHL,
	token.SHR_ASSIGN: token.SHR, token.AND_NOT_ASSIGN: token.AND_NOT,
}

// intOps are Go's operators on signed integers (shifts aside: see
// shiftOp); / and % by zero panic, as in Go.
var intOps = map[token.Token]func(a, b int) int{
	token.ADD:     func(a, b int) int { return a + b },
	token.SUB:     func(a, b int) int { return a - b },
	token.MUL:     func(a, b int) int { return a * b },
	token.QUO:     func(a, b int) int { return a / b },
	token.REM:     func(a, b int) int { return a % b },
	token.AND:     func(a, b int) int { return a & b },
	token.OR:      func(a, b int) int { return a | b },
	token.XOR:     func(a, b int) int { return a ^ b },
	token.AND_NOT: func(a, b int) int { return a &^ b },
}

// floatOps are Go's float64 operators, on bits.
var floatOps = map[token.Token]func(a, b int) int{
	token.ADD: func(a, b int) int { return bitsOf(floatOf(a) + floatOf(b)) },
	token.SUB: func(a, b int) int { return bitsOf(floatOf(a) - floatOf(b)) },
	token.MUL: func(a, b int) int { return bitsOf(floatOf(a) * floatOf(b)) },
	token.QUO: func(a, b int) int { return bitsOf(floatOf(a) / floatOf(b)) },
}

// floatComparisons are Go's comparisons of float64s, on bits.
var floatComparisons = map[token.Token]func(a, b int) bool{
	token.EQL: func(a, b int) bool { return floatOf(a) == floatOf(b) },
	token.NEQ: func(a, b int) bool { return floatOf(a) != floatOf(b) },
	token.LSS: func(a, b int) bool { return floatOf(a) < floatOf(b) },
	token.LEQ: func(a, b int) bool { return floatOf(a) <= floatOf(b) },
	token.GTR: func(a, b int) bool { return floatOf(a) > floatOf(b) },
	token.GEQ: func(a, b int) bool { return floatOf(a) >= floatOf(b) },
}

// uintOps are the operators whose result differs for unsigned operands
// (held in an int, as all values are): the others give the same bits.
var uintOps = map[token.Token]func(a, b int) int{
	token.QUO: func(a, b int) int { return int(uint64(a) / uint64(b)) },
	token.REM: func(a, b int) int { return int(uint64(a) % uint64(b)) },
}

// opFor returns the operator op on operands of kind k (not a shift).
func opFor(op token.Token, k kind) (func(a, b int) int, bool) {
	if f, ok := uintOps[op]; ok && k == unsigned {
		return f, true
	}
	f, ok := intOps[op]
	return f, ok
}

// shiftOp returns << or >> on a value of kind k, by a count that
// shiftCount has made non-negative.
func shiftOp(op token.Token, k kind) func(a, n int) int {
	switch {
	case op == token.SHL:
		return func(a, n int) int { return a << n }
	case k == unsigned:
		return func(a, n int) int { return int(uint64(a) >> n) }
	}
	return func(a, n int) int { return a >> n }
}

// shiftCount compiles a shift count: a negative signed count panics, as in
// Go, and an unsigned one too large for an int shifts everything out.
func (c *compiler) shiftCount(e ast.Expr) (intExpr, bool) {
	k, _ := c.typed(e)
	if k == float {
		return nil, false
	}
	n, ok := c.expr(e, k)
	if !ok {
		return nil, false
	}
	if k == unsigned {
		return func(f *frame) int {
			if v := n(f); v >= 0 {
				return v
			}
			return 64
		}, true
	}
	return func(f *frame) int {
		v := n(f)
		if v < 0 {
			panic("negative shift amount")
		}
		return v
	}, true
}

// varDecl compiles var x T, var x = e and var x T = e, for the integer
// types of numTypes.
func (c *compiler) varDecl(s *ast.DeclStmt) (stmtFunc, bool) {
	g, ok := s.Decl.(*ast.GenDecl)
	if !ok || g.Tok != token.VAR {
		return nil, false
	}
	type init struct {
		slot  int
		value intExpr // nil: zero
	}
	var inits []init
	for _, spec := range g.Specs {
		v := spec.(*ast.ValueSpec)
		if v.Type == nil && len(v.Values) == 0 || len(v.Values) != 0 && len(v.Values) != len(v.Names) {
			return nil, false
		}
		var k kind
		if v.Type != nil {
			if k, ok = typeKind(v.Type); !ok {
				return nil, false
			}
		}
		values := make([]intExpr, len(v.Values))
		kinds := make([]kind, len(v.Names))
		for i := range v.Names {
			kinds[i] = k
			if len(v.Values) == 0 {
				continue
			}
			if v.Type == nil {
				kinds[i] = c.kindOf(v.Values[i])
			}
			if values[i], ok = c.expr(v.Values[i], kinds[i]); !ok {
				return nil, false
			}
		}
		for i, n := range v.Names {
			if n.Name == "_" {
				return nil, false
			}
			if _, dup := c.scopes[len(c.scopes)-1][n.Name]; dup {
				return nil, false
			}
			in := init{slot: c.declare(n.Name, kinds[i])}
			if len(values) > 0 {
				in.value = values[i]
			}
			inits = append(inits, in)
		}
	}
	return func(f *frame) flow {
		for _, in := range inits {
			if in.value != nil {
				f.v[in.slot] = in.value(f)
			} else {
				f.v[in.slot] = 0
			}
		}
		return flowNext
	}, true
}

func (c *compiler) ifStmt(s *ast.IfStmt) (stmtFunc, bool) {
	c.push()
	defer c.pop()
	var init stmtFunc
	if s.Init != nil {
		var ok bool
		if init, ok = c.stmt(s.Init); !ok {
			return nil, false
		}
	}
	cond, ok := c.boolExpr(s.Cond)
	if !ok {
		return nil, false
	}
	then, ok := c.block(s.Body.List, true)
	if !ok {
		return nil, false
	}
	otherwise := stmtFunc(func(*frame) flow { return flowNext })
	if s.Else != nil {
		if otherwise, ok = c.stmt(s.Else); !ok {
			return nil, false
		}
	}
	return func(f *frame) flow {
		if init != nil {
			init(f)
		}
		if cond(f) {
			return then(f)
		}
		return otherwise(f)
	}, true
}

func (c *compiler) forStmt(s *ast.ForStmt) (stmtFunc, bool) {
	c.push()
	defer c.pop()
	var init, post stmtFunc
	cond := boolExpr(func(*frame) bool { return true })
	var ok bool
	if s.Init != nil {
		if init, ok = c.stmt(s.Init); !ok {
			return nil, false
		}
	}
	if s.Cond != nil {
		if cond, ok = c.boolExpr(s.Cond); !ok {
			return nil, false
		}
	}
	if s.Post != nil {
		if post, ok = c.stmt(s.Post); !ok {
			return nil, false
		}
	}
	c.loops++
	body, ok := c.block(s.Body.List, true)
	c.loops--
	if !ok {
		return nil, false
	}
	if post == nil {
		post = func(*frame) flow { return flowNext }
	}
	return func(f *frame) flow {
		if init != nil {
			init(f)
		}
		for cond(f) {
			f.tick()
			switch body(f) {
			case flowBreak:
				return flowNext
			case flowReturn:
				return flowReturn
			}
			post(f)
		}
		return flowNext
	}, true
}

// rangeStmt compiles for i := range n and for range n over an int: n is
// evaluated once, and i counts from 0 while it is below n.
func (c *compiler) rangeStmt(s *ast.RangeStmt) (stmtFunc, bool) {
	if s.Value != nil || s.Key != nil && s.Tok != token.DEFINE {
		return nil, false
	}
	k := c.kindOf(s.X)
	if k == float {
		return nil, false
	}
	n, ok := c.expr(s.X, k)
	if !ok {
		return nil, false
	}
	c.push()
	defer c.pop()
	counter := c.declare("", k) // the hidden counter, copied to i each time
	key := -1
	if s.Key != nil {
		id, ok := s.Key.(*ast.Ident)
		if !ok {
			return nil, false
		}
		key = c.declare(id.Name, k)
	}
	limit := c.declare("", k)
	below := func(a, b int) bool { return a < b }
	if k == unsigned {
		below = func(a, b int) bool { return uint64(a) < uint64(b) }
	}
	c.loops++
	body, ok := c.block(s.Body.List, true)
	c.loops--
	if !ok {
		return nil, false
	}
	return func(f *frame) flow {
		f.v[limit] = n(f)
		for f.v[counter] = 0; below(f.v[counter], f.v[limit]); f.v[counter]++ {
			f.tick()
			if key >= 0 {
				f.v[key] = f.v[counter]
			}
			switch body(f) {
			case flowBreak:
				return flowNext
			case flowReturn:
				return flowReturn
			}
		}
		return flowNext
	}, true
}

// IsConst reports whether e is a literal (possibly signed, in parentheses):
// arithmetic on constants is exact in Go, so compiled code leaves it alone.
func IsConst(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.SelectorExpr:
		return isMathConst(e)
	case *ast.ParenExpr:
		return IsConst(e.X)
	case *ast.UnaryExpr:
		return IsConst(e.X)
	}
	return false
}

// intLiteral returns the value of an int literal, possibly negated or in
// parentheses, that fits an int.
func intLiteral(e ast.Expr) (int, bool) {
	lit, neg, ok := literal(e)
	if !ok || lit.Kind != token.INT {
		return 0, false
	}
	v := lit.Value
	if neg {
		v = "-" + v
	}
	n, err := strconv.ParseInt(v, 0, 64)
	return int(n), err == nil
}

// typed returns the kind of e's type, and false for an untyped constant
// (whose kind is the context's; int where the context has none).
func (c *compiler) typed(e ast.Expr) (kind, bool) {
	switch e := e.(type) {
	case *ast.Ident:
		if slot, ok := c.lookup(e.Name); ok {
			return c.kinds[slot], true
		}
		if _, ok := boolConstant(e); ok {
			return boolean, true
		}
	case *ast.ParenExpr:
		return c.typed(e.X)
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return boolean, true
		}
		return c.typed(e.X)
	case *ast.BinaryExpr:
		if _, ok := intComparisons[e.Op]; ok || e.Op == token.LAND || e.Op == token.LOR {
			return boolean, true
		}
		if e.Op == token.SHL || e.Op == token.SHR {
			return c.typed(e.X)
		}
		if k, ok := c.typed(e.X); ok {
			return k, true
		}
		return c.typed(e.Y)
	case *ast.CallExpr:
		if k, ok := conversion(e); ok {
			return k, true
		}
		if k, ok := c.mathCallKind(e); ok {
			return k, true
		}
		if c.self != nil {
			if id, ok := e.Fun.(*ast.Ident); ok && id.Name == c.self.name {
				return c.kinds[0], true
			}
		}
	}
	return signed, false
}

// expr compiles e, an expression of kind k.
func (c *compiler) expr(e ast.Expr, k kind) (intExpr, bool) {
	if k == boolean {
		b, ok := c.boolExpr(e)
		if !ok {
			return nil, false
		}
		return func(f *frame) int {
			if b(f) {
				return 1
			}
			return 0
		}, true
	}
	if k == float {
		if v, ok := floatLiteral(e); ok {
			bits := bitsOf(v)
			return func(*frame) int { return bits }, true
		}
		return c.floatExpr(e)
	}
	if n, ok := intLiteral(e); ok {
		return func(*frame) int { return n }, true
	}
	if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.INT && k == unsigned {
		// A constant above the largest int (a hash's multiplier).
		if n, err := strconv.ParseUint(lit.Value, 0, 64); err == nil {
			return func(*frame) int { return int(n) }, true
		}
	}
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.expr(e.X, k)
	case *ast.Ident:
		slot, ok := c.lookup(e.Name)
		if !ok || c.kinds[slot] != k {
			return nil, false
		}
		return func(f *frame) int { return f.v[slot] }, true
	case *ast.UnaryExpr:
		if IsConst(e.X) {
			return nil, false // constant arithmetic is exact in Go
		}
		x, ok := c.expr(e.X, k)
		if !ok {
			return nil, false
		}
		switch e.Op {
		case token.ADD:
			return x, true
		case token.SUB:
			return func(f *frame) int { return -x(f) }, true
		case token.XOR:
			return func(f *frame) int { return ^x(f) }, true
		}
	case *ast.BinaryExpr:
		if IsConst(e.X) && IsConst(e.Y) {
			return nil, false
		}
		if e.Op == token.SHL || e.Op == token.SHR {
			x, ok := c.expr(e.X, k)
			if !ok {
				return nil, false
			}
			n, ok := c.shiftCount(e.Y)
			if !ok {
				return nil, false
			}
			shift := shiftOp(e.Op, k)
			return func(f *frame) int { return shift(x(f), n(f)) }, true
		}
		apply, ok := opFor(e.Op, k)
		if !ok {
			return nil, false
		}
		return c.binary(e, k, apply)
	case *ast.SelectorExpr:
		return c.mathConst(e, k)
	case *ast.CallExpr:
		if to, ok := conversion(e); ok && to == k {
			return c.convert(e.Args[0], to)
		}
		if mk, ok := c.mathCallKind(e); ok {
			if mk != k {
				return nil, false
			}
			return c.mathCall(e)
		}
		if k != c.kinds[0] {
			return nil, false
		}
		return c.selfCall(e)
	}
	return nil, false
}

// convert compiles the conversion of x to kind to.
func (c *compiler) convert(x ast.Expr, to kind) (intExpr, bool) {
	from, typed := c.typed(x)
	if !typed {
		from = to // a constant becomes a value of the type
	}
	v, ok := c.expr(x, from)
	if !ok {
		return nil, false
	}
	switch {
	case from == to || from != float && to != float:
		return v, true // between integers, the bits stay
	case from == signed:
		return func(f *frame) int { return bitsOf(float64(v(f))) }, true
	case from == unsigned:
		return func(f *frame) int { return bitsOf(float64(uint64(v(f)))) }, true
	case to == signed:
		return func(f *frame) int { return int(floatOf(v(f))) }, true
	}
	return func(f *frame) int { return int(uint64(floatOf(v(f)))) }, true
}

// floatExpr compiles e, a float64 expression that is not a literal.
func (c *compiler) floatExpr(e ast.Expr) (intExpr, bool) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.expr(e.X, float)
	case *ast.Ident:
		slot, ok := c.lookup(e.Name)
		if !ok || c.kinds[slot] != float {
			return nil, false
		}
		return func(f *frame) int { return f.v[slot] }, true
	case *ast.UnaryExpr:
		x, ok := c.expr(e.X, float)
		if !ok || IsConst(e.X) {
			return nil, false
		}
		switch e.Op {
		case token.ADD:
			return x, true
		case token.SUB:
			return func(f *frame) int { return bitsOf(-floatOf(x(f))) }, true
		}
	case *ast.BinaryExpr:
		apply, ok := floatOps[e.Op]
		if !ok || IsConst(e.X) && IsConst(e.Y) {
			return nil, false
		}
		x, ok := c.expr(e.X, float)
		if !ok {
			return nil, false
		}
		y, ok := c.expr(e.Y, float)
		if !ok {
			return nil, false
		}
		switch e.Op {
		case token.ADD:
			return func(f *frame) int { return bitsOf(floatOf(x(f)) + floatOf(y(f))) }, true
		case token.MUL:
			return func(f *frame) int { return bitsOf(floatOf(x(f)) * floatOf(y(f))) }, true
		}
		return func(f *frame) int { return apply(x(f), y(f)) }, true
	case *ast.SelectorExpr:
		return c.mathConst(e, float)
	case *ast.CallExpr:
		if to, ok := conversion(e); ok && to == float {
			return c.convert(e.Args[0], float)
		}
		if k, ok := c.mathCallKind(e); ok {
			if k != float {
				return nil, false
			}
			return c.mathCall(e)
		}
		if c.kinds[0] == float {
			return c.selfCall(e)
		}
	}
	return nil, false
}

// conversion reports whether e converts one value to a type of numTypes,
// and returns that type's kind.
func conversion(e *ast.CallExpr) (kind, bool) {
	if len(e.Args) != 1 || e.Ellipsis.IsValid() {
		return 0, false
	}
	return typeKind(e.Fun)
}

// selfCall compiles a call of the procedure being compiled by itself (as in
// fib(n-1) + fib(n-2)): each call gets a frame of its own, and recursion
// deeper than maxDepth stops the run.
func (c *compiler) selfCall(e *ast.CallExpr) (intExpr, bool) {
	id, ok := e.Fun.(*ast.Ident)
	if !ok || c.self == nil || !c.hasResult || id.Name != c.self.name || e.Ellipsis.IsValid() || len(e.Args) != c.self.params {
		return nil, false
	}
	if _, shadowed := c.lookup(id.Name); shadowed {
		return nil, false
	}
	args := make([]intExpr, len(e.Args))
	for i, a := range e.Args {
		x, ok := c.expr(a, c.self.kinds[i])
		if !ok {
			return nil, false
		}
		args[i] = x
	}
	self := c.self
	self.called = true
	return func(f *frame) int {
		callee := frame{v: make([]int, self.slots), run: f.run}
		for i, a := range args {
			callee.v[1+i] = a(f)
		}
		f.tick()
		if f.depth++; f.depth > f.limit {
			panic(tooDeep{})
		}
		if self.body(&callee) != flowReturn {
			panic(tooDeep{}) // no return: the interpreter decides
		}
		f.depth--
		return callee.v[0]
	}, true
}

// binary compiles an operation (not a shift) on operands of kind k, with
// the common shapes (a local and a local or a literal) in closures of their
// own.
func (c *compiler) binary(e *ast.BinaryExpr, k kind, apply func(a, b int) int) (intExpr, bool) {
	xs, xLocal := c.localSlot(e.X)
	ys, yLocal := c.localSlot(e.Y)
	xLocal = xLocal && c.kinds[xs] == k
	yLocal = yLocal && c.kinds[ys] == k
	n, yLit := intLiteral(e.Y)
	switch {
	case xLocal && yLocal && e.Op == token.MUL:
		return func(f *frame) int { return f.v[xs] * f.v[ys] }, true
	case xLocal && yLocal && e.Op == token.ADD:
		return func(f *frame) int { return f.v[xs] + f.v[ys] }, true
	case xLocal && yLit && e.Op == token.ADD:
		return func(f *frame) int { return f.v[xs] + n }, true
	case xLocal && yLit && e.Op == token.MUL:
		return func(f *frame) int { return f.v[xs] * n }, true
	case xLocal && yLit && e.Op == token.REM && n != 0 && k == signed:
		return func(f *frame) int { return f.v[xs] % n }, true
	}
	x, ok := c.expr(e.X, k)
	if !ok {
		return nil, false
	}
	y, ok := c.expr(e.Y, k)
	if !ok {
		return nil, false
	}
	switch e.Op {
	case token.ADD:
		return func(f *frame) int { return x(f) + y(f) }, true
	case token.SUB:
		return func(f *frame) int { return x(f) - y(f) }, true
	case token.MUL:
		return func(f *frame) int { return x(f) * y(f) }, true
	}
	return func(f *frame) int { return apply(x(f), y(f)) }, true
}

// localSlot returns the slot of a local or parameter.
func (c *compiler) localSlot(e ast.Expr) (int, bool) {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			break
		}
		e = p.X
	}
	id, ok := e.(*ast.Ident)
	if !ok {
		return 0, false
	}
	return c.lookup(id.Name)
}

// uintComparisons are the comparisons whose result differs for unsigned
// operands.
var uintComparisons = map[token.Token]func(a, b int) bool{
	token.LSS: func(a, b int) bool { return uint64(a) < uint64(b) },
	token.LEQ: func(a, b int) bool { return uint64(a) <= uint64(b) },
	token.GTR: func(a, b int) bool { return uint64(a) > uint64(b) },
	token.GEQ: func(a, b int) bool { return uint64(a) >= uint64(b) },
}

var intComparisons = map[token.Token]func(a, b int) bool{
	token.EQL: func(a, b int) bool { return a == b },
	token.NEQ: func(a, b int) bool { return a != b },
	token.LSS: func(a, b int) bool { return a < b },
	token.LEQ: func(a, b int) bool { return a <= b },
	token.GTR: func(a, b int) bool { return a > b },
	token.GEQ: func(a, b int) bool { return a >= b },
}

func (c *compiler) boolExpr(e ast.Expr) (boolExpr, bool) {
	switch e := e.(type) {
	case *ast.Ident:
		if slot, ok := c.lookup(e.Name); ok {
			if c.kinds[slot] != boolean {
				return nil, false
			}
			return func(f *frame) bool { return f.v[slot] != 0 }, true
		}
		if v, ok := boolConstant(e); ok {
			return func(*frame) bool { return v }, true
		}
		return nil, false
	case *ast.CallExpr:
		if k, ok := c.mathCallKind(e); ok {
			if k != boolean {
				return nil, false
			}
			call, _ := c.mathCall(e)
			return func(f *frame) bool { return call(f) != 0 }, call != nil
		}
		if c.kinds[0] != boolean {
			return nil, false
		}
		call, ok := c.selfCall(e)
		if !ok {
			return nil, false
		}
		return func(f *frame) bool { return call(f) != 0 }, true
	case *ast.ParenExpr:
		return c.boolExpr(e.X)
	case *ast.UnaryExpr:
		if e.Op != token.NOT {
			return nil, false
		}
		x, ok := c.boolExpr(e.X)
		if !ok {
			return nil, false
		}
		return func(f *frame) bool { return !x(f) }, true
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND, token.LOR:
			x, ok := c.boolExpr(e.X)
			if !ok {
				return nil, false
			}
			y, ok := c.boolExpr(e.Y)
			if !ok {
				return nil, false
			}
			if e.Op == token.LAND {
				return func(f *frame) bool { return x(f) && y(f) }, true
			}
			return func(f *frame) bool { return x(f) || y(f) }, true
		}
		cmp, ok := intComparisons[e.Op]
		if !ok || IsConst(e.X) && IsConst(e.Y) {
			return nil, false
		}
		k, typed := c.typed(e.X)
		if !typed {
			k, _ = c.typed(e.Y)
		}
		if k == boolean && e.Op != token.EQL && e.Op != token.NEQ {
			return nil, false
		}
		if k == float {
			cmp = floatComparisons[e.Op]
		} else if k == unsigned {
			if ucmp, differs := uintComparisons[e.Op]; differs {
				cmp = ucmp
			}
		} else {
			xs, xLocal := c.localSlot(e.X)
			ys, yLocal := c.localSlot(e.Y)
			if xLocal && yLocal && e.Op == token.LSS {
				return func(f *frame) bool { return f.v[xs] < f.v[ys] }, true
			}
			if n, yLit := intLiteral(e.Y); xLocal && yLit && e.Op == token.LSS {
				return func(f *frame) bool { return f.v[xs] < n }, true
			}
		}
		x, ok := c.expr(e.X, k)
		if !ok {
			return nil, false
		}
		y, ok := c.expr(e.Y, k)
		if !ok {
			return nil, false
		}
		return func(f *frame) bool { return cmp(x(f), y(f)) }, true
	}
	return nil, false
}

// Bits returns the value v, of one of the types of numTypes, as compiled
// code holds it, and the name of its type.
func Bits(v any) (int, string, bool) {
	switch v := v.(type) {
	case int:
		return v, "int", true
	case int64:
		return int(v), "int64", true
	case uint:
		return int(v), "uint", true
	case uint64:
		return int(v), "uint64", true
	case float64:
		return bitsOf(v), "float64", true
	case bool:
		if v {
			return 1, "bool", true
		}
		return 0, "bool", true
	}
	return 0, "", false
}

// Value returns the value of type typ (one of numTypes) that compiled code
// holds as bits.
func Value(bits int, typ string) any {
	switch typ {
	case "int64":
		return int64(bits)
	case "uint":
		return uint(bits)
	case "uint64":
		return uint64(bits)
	case "float64":
		return floatOf(bits)
	case "bool":
		return bits != 0
	}
	return bits
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
