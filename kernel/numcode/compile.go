package numcode

import (
	"go/ast"
	"go/token"
	"strconv"
)

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
	sess *session // and the others it may call (nil in a block)

	// For a block (CompileBlock): slots 1..len(used) hold the variables
	// of the function around it, and it may not return.
	inBlock       bool
	used, written []bool
}

// selfRef is a procedure as calls see it (its own, and those of other
// procedures): its body and frame size are filled in once the body is
// compiled.
type selfRef struct {
	name       string
	params     int
	kinds      []kind   // of the parameters
	types      []string // their types' names
	hasResult  bool
	resultKind kind
	result     string // the result type's name
	body       stmtFunc
	slots      int
	called     bool // the body calls it
}

// kindOf returns the kind of e's type, or the kind an untyped constant
// gets by default.
func (c *compiler) kindOf(e ast.Expr) kind {
	if k, ok := c.typed(e); ok {
		return k
	}
	return constKind(e)
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
	if op == token.ADD {
		if m, ok := s.Rhs[0].(*ast.BinaryExpr); ok && m.Op == token.MUL {
			a, aLocal := c.localSlot(m.X)
			b, bLocal := c.localSlot(m.Y)
			if aLocal && bLocal && c.kinds[a] == k && c.kinds[b] == k {
				// total += i * i, in one step
				return func(f *frame) flow { f.v[slot] += f.v[a] * f.v[b]; return flowNext }, true
			}
		}
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
	if i, n, limit, ok := c.countingLoop(s); ok {
		// for i := A; i < N; i++ with N a variable or a literal, the
		// shape of most loops, without a call for the test or the step.
		return func(f *frame) flow {
			if init != nil {
				init(f)
			}
			for {
				bound := limit
				if n >= 0 {
					bound = f.v[n]
				}
				if f.v[i] >= bound {
					return flowNext
				}
				f.tick()
				if out, done := leaving(body(f)); done {
					return out
				}
				f.v[i]++
			}
		}, true
	}
	return func(f *frame) flow {
		if init != nil {
			init(f)
		}
		for cond(f) {
			f.tick()
			if out, done := leaving(body(f)); done {
				return out
			}
			post(f)
		}
		return flowNext
	}, true
}

// leaving reports whether a loop whose body ended with fl ends, and how the
// loop statement itself then ends: a break ends the loop only, a return
// the function.
func leaving(fl flow) (flow, bool) {
	switch fl {
	case flowBreak:
		return flowNext, true
	case flowReturn:
		return flowReturn, true
	}
	return flowNext, false
}

// countingLoop reports whether s counts a signed integer variable up by one
// while it is below a variable or a literal (for i := A; i < n; i++), and
// returns their slots (n: -1 for a literal, whose value limit is).
func (c *compiler) countingLoop(s *ast.ForStmt) (i, n, limit int, ok bool) {
	cond, ok := s.Cond.(*ast.BinaryExpr)
	if !ok || cond.Op != token.LSS {
		return 0, 0, 0, false
	}
	post, ok := s.Post.(*ast.IncDecStmt)
	if !ok || post.Tok != token.INC {
		return 0, 0, 0, false
	}
	i, ok = c.localSlot(cond.X)
	if !ok || c.kinds[i] != signed {
		return 0, 0, 0, false
	}
	if p, ok := c.localSlot(post.X); !ok || p != i {
		return 0, 0, 0, false
	}
	if n, ok = c.localSlot(cond.Y); ok {
		return i, n, 0, c.kinds[n] == signed
	}
	if limit, ok = intLiteral(cond.Y); ok {
		return i, -1, limit, true
	}
	return 0, 0, 0, false
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
			if out, done := leaving(body(f)); done {
				return out
			}
		}
		return flowNext
	}, true
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
		if _, builtin := c.minMaxBuiltin(e); builtin {
			return c.minMaxKind(e)
		}
		if ref := c.callee(e); ref != nil && ref.hasResult {
			return ref.resultKind, true
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
		return c.call(e, k)
	}
	return nil, false
}

// call compiles a call in an expression of kind k: a conversion, a math
// function, or the procedure calling itself.
func (c *compiler) call(e *ast.CallExpr, k kind) (intExpr, bool) {
	if to, ok := conversion(e); ok {
		if to != k {
			return nil, false
		}
		return c.convert(e.Args[0], to)
	}
	if mk, ok := c.mathCallKind(e); ok {
		if mk != k {
			return nil, false
		}
		return c.mathCall(e)
	}
	if x, ok, builtin := c.minMax(e, k); builtin {
		return x, ok
	}
	ref := c.callee(e)
	if ref == nil || !ref.hasResult || ref.resultKind != k {
		return nil, false
	}
	return c.callProc(e, ref)
}

// callee returns the procedure a call calls by name: the one being
// compiled, or another its session may call (nil: neither).
func (c *compiler) callee(e *ast.CallExpr) *selfRef {
	id, ok := e.Fun.(*ast.Ident)
	if !ok || e.Ellipsis.IsValid() {
		return nil
	}
	if _, shadowed := c.lookup(id.Name); shadowed {
		return nil
	}
	if c.self != nil && id.Name == c.self.name {
		return c.self
	}
	if c.sess == nil {
		return nil
	}
	return c.sess.proc(id.Name)
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
		return c.call(e, float)
	}
	return nil, false
}

// callProc compiles a call of a compiled procedure: itself (as in
// fib(n-1) + fib(n-2)) or another. Each call gets a frame of its own, and
// calls nested deeper than maxDepth stop the run.
func (c *compiler) callProc(e *ast.CallExpr, ref *selfRef) (intExpr, bool) {
	if len(e.Args) != ref.params {
		return nil, false
	}
	args := make([]intExpr, len(e.Args))
	for i, a := range e.Args {
		x, ok := c.expr(a, ref.kinds[i])
		if !ok {
			return nil, false
		}
		args[i] = x
	}
	if ref == c.self {
		ref.called = true
	} else {
		c.sess.calls = true
	}
	return func(f *frame) int {
		callee := frame{v: make([]int, ref.slots), run: f.run}
		for i, a := range args {
			callee.v[1+i] = a(f)
		}
		f.tick()
		if f.depth++; f.depth > f.limit {
			panic(tooDeep{})
		}
		if ref.body(&callee) != flowReturn {
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
		call, ok := c.call(e, boolean)
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
