package cell

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"

	"github.com/goproc/goproc/kernel/numcode"
)

func (r *rewriter) next() int { r.n++; return r.n }

// scopeVisitor walks a unit keeping block scopes, to rewrite range loops
// over integers and to record the calls of min, max and main that a local
// declaration shadows.
type scopeVisitor struct {
	r *rewriter
	u *unit
	s *scope
}

func (v scopeVisitor) inner() scopeVisitor { return scopeVisitor{v.r, v.u, newScope(v.s)} }

func (v scopeVisitor) Visit(n ast.Node) ast.Visitor {
	in := &v.r.ints
	switch n := n.(type) {
	case nil:
		return nil
	case *ast.CallExpr:
		// min(a, b) where a local min is in scope is that one; main()
		// where a local main is, too.
		if fn, ok := n.Fun.(*ast.Ident); ok && watched[fn.Name] {
			if _, found := v.s.lookup(fn.Name); found {
				v.r.shadowed[n] = true
			}
		}
	case *ast.FuncDecl:
		w := v.inner()
		in.declareFields(n.Recv, w.s)
		in.declareFields(n.Type.Params, w.s)
		in.declareFields(n.Type.Results, w.s)
		return w
	case *ast.FuncLit:
		w := v.inner()
		in.declareFields(n.Type.Params, w.s)
		in.declareFields(n.Type.Results, w.s)
		return w
	case *ast.BlockStmt, *ast.IfStmt, *ast.ForStmt, *ast.SwitchStmt, *ast.CaseClause, *ast.CommClause, *ast.SelectStmt:
		return v.inner()
	case *ast.TypeSwitchStmt:
		w := v.inner()
		if as, ok := n.Assign.(*ast.AssignStmt); ok {
			for _, e := range as.Lhs {
				w.s.declare(e.(*ast.Ident).Name, false)
			}
		}
		return w
	case *ast.RangeStmt:
		isInt := n.Value == nil && in.isInt(n.X, v.s)
		if isInt {
			v.r.rangeInt(v.u, n)
		}
		w := v.inner()
		if n.Tok == token.DEFINE {
			if id, ok := n.Key.(*ast.Ident); ok {
				w.s.declare(id.Name, isInt)
			}
			if id, ok := n.Value.(*ast.Ident); ok {
				w.s.declare(id.Name, false)
			}
		}
		return w
	case *ast.AssignStmt:
		if n.Tok == token.DEFINE {
			vals := make([]bool, len(n.Lhs))
			typs := make([]ast.Expr, len(n.Lhs))
			for i := range n.Lhs {
				if len(n.Rhs) == len(n.Lhs) {
					vals[i] = in.isInt(n.Rhs[i], v.s)
					typs[i] = literalType(n.Rhs[i])
				}
			}
			if call, ok := n.Rhs[0].(*ast.CallExpr); ok && len(n.Rhs) == 1 && len(n.Lhs) > 1 {
				// q, r := divmod(a, b): the function's declared results.
				if rt := in.resultTypes(call, v.s); len(rt) == len(n.Lhs) {
					for i, t := range rt {
						vals[i], typs[i] = in.isIntType(t), t
					}
				}
			}
			for i, e := range n.Lhs {
				if id, ok := e.(*ast.Ident); ok {
					v.s.declareTyped(id.Name, vals[i], typs[i])
				}
			}
		}
	case *ast.DeclStmt:
		if gd, ok := n.Decl.(*ast.GenDecl); ok {
			switch gd.Tok {
			case token.VAR, token.CONST:
				in.declareSpecs(gd, v.s, v.s.declare)
			case token.TYPE:
				for _, sp := range gd.Specs {
					ts := sp.(*ast.TypeSpec)
					in.types[ts.Name.Name] = ts.TypeParams == nil && in.isIntType(ts.Type)
				}
			}
		}
	}
	return v
}

func (r *rewriter) rangeInts(u *unit) {
	ast.Inspect(u.file, func(n ast.Node) bool {
		if ls, ok := n.(*ast.LabeledStmt); ok {
			r.label[ls.Stmt] = ls.Label
		}
		return true
	})
	ast.Walk(scopeVisitor{r, u, newScope(nil)}, u.file)
}

// rangeInt rewrites `for i := range N { body }` over an integer N, which
// yaegi v0.16.1 cannot run, to
//
//	{ __nK := N; for __iK := __nK - __nK; __iK < __nK; __iK++ { i := __iK; body }}
//
// N is evaluated once, __iK has N's type (int for an untyped constant), and i
// is a fresh variable each iteration that the body may change, as in Go.
func (r *rewriter) rangeInt(u *unit, rs *ast.RangeStmt) {
	k := r.next()
	n, i := fmt.Sprintf("__n%d", k), fmt.Sprintf("__i%d", k)
	start := rs.For
	label := ""
	if l := r.label[rs]; l != nil {
		start, label = l.Pos(), l.Name+": "
	}
	r.ed.replace(u.off(start), u.off(rs.X.Pos()), "{ "+n+" := ")
	head := fmt.Sprintf("; %sfor %s := %s - %s; %s < %s; %s++ {", label, i, n, n, i, n, i)
	pieces := []piece{txt(head)}
	if key, ok := rs.Key.(*ast.Ident); rs.Key != nil && !(ok && key.Name == "_") {
		if rs.Tok == token.DEFINE {
			pieces = append(pieces, txt(" "+key.Name+" := "+i+";"))
		} else {
			pieces = append(pieces, txt(" "), span(u.off(rs.Key.Pos()), u.off(rs.Key.End())), txt(" = "+i+";"))
		}
	}
	r.ed.add(u.off(rs.X.End()), u.off(rs.Body.Lbrace)+1, pieces...)
	r.ed.insert(u.off(rs.Body.Rbrace)+1, "}")
	r.loops[rs] = true
}

// inspect applies the rewrites that need no scopes: min/max/clear, loop
// variables and the identity probes.
func (r *rewriter) inspect(u *unit) {
	inVarInit := map[*ast.FuncLit]bool{}
	if u.kind == segDecl {
		for _, d := range u.decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				ast.Inspect(gd, func(n ast.Node) bool {
					if fl, ok := n.(*ast.FuncLit); ok {
						inVarInit[fl] = true
					}
					return true
				})
			}
		}
	}
	ast.Inspect(u.file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			r.builtin(u, n)
		case *ast.ForStmt:
			r.forLoopVars(u, n)
		case *ast.RangeStmt:
			r.rangeLoopVars(u, n)
		case *ast.FuncDecl:
			if n.Body != nil && r.opts.Instrument && !(u.kind == segStmt && n.Name.Name == "_") {
				r.probe(u, n.Body, r.funcName(n), n.Type, true)
				if !r.opts.Interpreted {
					r.compiled(u, n)
				}
			}
		case *ast.FuncLit:
			if r.opts.Instrument {
				r.probe(u, n.Body, fmt.Sprintf("func literal at line %d", lineOf(r.cell, u.off(n.Pos()))), n.Type, !inVarInit[n])
			}
		}
		return true
	})
}

// builtin rewrites min, max (to the Prelude's generic helpers) and clear (to
// __goproc.Clear), which yaegi v0.16.1 does not know.
func (r *rewriter) builtin(u *unit, call *ast.CallExpr) {
	fn, ok := call.Fun.(*ast.Ident)
	if !ok || r.done[call] || call.Ellipsis.IsValid() {
		return
	}
	switch fn.Name {
	case "clear":
		if !r.defined("clear") && len(call.Args) == 1 {
			r.ed.replace(u.off(fn.Pos()), u.off(fn.End()), "__goproc.Clear")
		}
		return
	case "min", "max":
		if !r.isMinMax(call) || len(call.Args) == 0 {
			return
		}
	default:
		return
	}
	r.done[call] = true
	pos, end := u.off(call.Pos()), u.off(call.End())
	if allConst(call.Args) {
		if i, float, ok := foldMinMax(call.Args, fn.Name == "max"); ok {
			a := call.Args[i]
			tail := ")"
			if float {
				tail = " + 0.0)"
			}
			r.ed.add(pos, end, txt("("), span(u.off(a.Pos()), u.off(a.End())), txt(tail))
			return
		}
	}
	args := r.orderArgs(u, call.Args)
	first := []piece{span(u.off(args[0].Pos()), u.off(args[0].End()))}
	if len(args) == 1 {
		r.ed.add(pos, end, append(append([]piece{txt("(")}, first...), txt(")"))...)
		return
	}
	r.ed.add(pos, end, r.nest(u, call, first, args[1:])...)
}

// isConstLit reports whether e is a constant made of literals only.
func isConstLit(e ast.Expr) bool { return numcode.ConstLiteral(e) }

func allConst(args []ast.Expr) bool {
	for _, a := range args {
		if !isConstLit(a) {
			return false
		}
	}
	return true
}

func evalConst(e ast.Expr) constant.Value {
	switch e := e.(type) {
	case *ast.BasicLit:
		return constant.MakeFromLiteral(e.Value, e.Kind, 0)
	case *ast.ParenExpr:
		return evalConst(e.X)
	case *ast.UnaryExpr:
		x := evalConst(e.X)
		if x.Kind() == constant.Unknown || (e.Op == token.XOR && x.Kind() != constant.Int) {
			return constant.MakeUnknown()
		}
		return constant.UnaryOp(e.Op, x, 0)
	case *ast.BinaryExpr:
		x, y := evalConst(e.X), evalConst(e.Y)
		if x.Kind() == constant.Unknown || y.Kind() == constant.Unknown {
			return constant.MakeUnknown()
		}
		if e.Op == token.SHL || e.Op == token.SHR {
			s, ok := constant.Uint64Val(y)
			if !ok || x.Kind() != constant.Int || s > 1024 {
				return constant.MakeUnknown()
			}
			return constant.Shift(x, e.Op, uint(s))
		}
		if (x.Kind() == constant.String) != (y.Kind() == constant.String) {
			return constant.MakeUnknown()
		}
		op := e.Op
		if op == token.QUO && x.Kind() == constant.Int && y.Kind() == constant.Int {
			if constant.Sign(y) == 0 {
				return constant.MakeUnknown()
			}
			op = token.QUO_ASSIGN // integer division
		}
		if op == token.QUO && constant.Sign(y) == 0 {
			return constant.MakeUnknown()
		}
		return constant.BinaryOp(x, op, y)
	}
	return constant.MakeUnknown()
}

// foldMinMax picks the argument that min (or max) of constants selects. float
// reports that the result is a floating-point constant while the chosen
// argument is an integer one.
func foldMinMax(args []ast.Expr, isMax bool) (idx int, float, ok bool) {
	vals := make([]constant.Value, len(args))
	str, num, anyFloat := false, false, false
	for i, a := range args {
		v := evalConst(a)
		switch v.Kind() {
		case constant.String:
			str = true
		case constant.Int:
			num = true
		case constant.Float:
			num, anyFloat = true, true
		default:
			return 0, false, false
		}
		vals[i] = v
	}
	if str && num {
		return 0, false, false
	}
	op := token.LSS
	if isMax {
		op = token.GTR
	}
	for i := 1; i < len(vals); i++ {
		if constant.Compare(vals[i], op, vals[idx]) {
			idx = i
		}
	}
	return idx, anyFloat && vals[idx].Kind() == constant.Int, true
}

// captures reports whether body takes the address of one of names or has a
// func literal that mentions one of them: then the loop needs a fresh copy
// of its variables per iteration (Go 1.22 semantics).
func captures(body *ast.BlockStmt, names map[string]bool) bool {
	found := false
	mentions := func(n ast.Node) bool {
		m := false
		ast.Inspect(n, func(x ast.Node) bool {
			if id, ok := x.(*ast.Ident); ok && names[id.Name] {
				m = true
			}
			return !m
		})
		return m
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			if mentions(n.Body) {
				found = true
			}
			return false
		case *ast.UnaryExpr:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok && n.Op == token.AND && names[id.Name] {
				found = true
			}
		}
		return !found
	})
	return found
}

// forLoopVars gives a 3-clause loop whose body captures a loop variable one
// variable per iteration. yaegi v0.16.1 shares one (and hangs on `i := i` in
// the body), so the header's variables are renamed:
//
//	for __lvK_i := 0; __lvK_i < n; __lvK_i++ { i := __lvK_i; { body }; __lvK_next: __lvK_i = i }
//
// Writes to i in the body reach the loop; continue becomes goto __lvK_next.
func (r *rewriter) forLoopVars(u *unit, fs *ast.ForStmt) {
	init, ok := fs.Init.(*ast.AssignStmt)
	if !ok || init.Tok != token.DEFINE || r.loops[fs] {
		return
	}
	names := map[string]bool{}
	var olds []string
	for _, e := range init.Lhs {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			names[id.Name] = true
			olds = append(olds, id.Name)
		}
	}
	if len(olds) == 0 || !captures(fs.Body, names) {
		return
	}
	r.loops[fs] = true
	k := r.next()
	fresh := func(s string) string { return fmt.Sprintf("__lv%d_%s", k, s) }
	var news []string
	for _, o := range olds {
		news = append(news, fresh(o))
	}
	for _, e := range init.Lhs {
		if id := e.(*ast.Ident); names[id.Name] {
			r.ed.replace(u.off(id.Pos()), u.off(id.End()), fresh(id.Name))
		}
	}
	for _, part := range []ast.Node{fs.Cond, fs.Post} {
		if part == nil {
			continue
		}
		renameIdents(part, names, func(id *ast.Ident) {
			r.ed.replace(u.off(id.Pos()), u.off(id.End()), fresh(id.Name))
		})
	}
	r.ed.insert(u.off(fs.Body.Lbrace)+1, " "+strings.Join(olds, ", ")+" := "+strings.Join(news, ", ")+"; {")
	label := ""
	if l := r.label[fs]; l != nil {
		label = l.Name
	}
	conts := continuesOf(fs.Body, label)
	for _, c := range conts {
		r.ed.replace(u.off(c.Pos()), u.off(c.End()), "goto "+fresh("next"))
	}
	tail := "}; "
	if len(conts) > 0 {
		tail += fresh("next") + ": "
	}
	r.ed.insert(u.off(fs.Body.Rbrace), tail+strings.Join(news, ", ")+" = "+strings.Join(olds, ", ")+"; ")
}

// renameIdents calls f for each identifier in n that names one of names
// (not selectors, not inside func literals).
func renameIdents(n ast.Node, names map[string]bool, f func(*ast.Ident)) {
	ast.Inspect(n, func(x ast.Node) bool {
		switch x := x.(type) {
		case *ast.FuncLit:
			return false
		case *ast.SelectorExpr:
			renameIdents(x.X, names, f)
			return false
		case *ast.Ident:
			if names[x.Name] {
				f(x)
			}
		}
		return true
	})
}

// continuesOf finds the continue statements in body that continue the loop
// of body (label is that loop's label, "" if none).
func continuesOf(body *ast.BlockStmt, label string) []*ast.BranchStmt {
	var out []*ast.BranchStmt
	var walk func(n ast.Node, nested bool)
	walk = func(n ast.Node, nested bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt:
				walk(m.Body, true)
				return false
			case *ast.RangeStmt:
				walk(m.Body, true)
				return false
			case *ast.BranchStmt:
				if m.Tok == token.CONTINUE && ((m.Label == nil && !nested) || (m.Label != nil && m.Label.Name == label)) {
					out = append(out, m)
				}
			}
			return true
		})
	}
	walk(body, false)
	return out
}

// rangeLoopVars gives a range loop whose body captures its variables fresh
// ones per iteration: for __lvK_k, __lvK_v := range x { k, v := __lvK_k, __lvK_v; body }.
func (r *rewriter) rangeLoopVars(u *unit, rs *ast.RangeStmt) {
	if rs.Tok != token.DEFINE || r.loops[rs] {
		return
	}
	names := map[string]bool{}
	var ids []*ast.Ident
	for _, e := range []ast.Expr{rs.Key, rs.Value} {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			names[id.Name] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || !captures(rs.Body, names) {
		return
	}
	r.loops[rs] = true
	k := r.next()
	var olds, news []string
	for _, id := range ids {
		nw := fmt.Sprintf("__lv%d_%s", k, id.Name)
		r.ed.replace(u.off(id.Pos()), u.off(id.End()), nw)
		olds, news = append(olds, id.Name), append(news, nw)
	}
	r.ed.insert(u.off(rs.Body.Lbrace)+1, " "+strings.Join(olds, ", ")+" := "+strings.Join(news, ", ")+";")
}

// funcName is the name a probe reports for a declared function.
func (r *rewriter) funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		if d.Name.Name == "main" && d.Type.TypeParams == nil {
			return fmt.Sprintf("__goproc_main_%d", r.opts.Seq)
		}
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	star := ""
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = "*", s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	return "method (" + star + types.ExprString(t) + ")." + d.Name.Name
}

// probe inserts the identity probe right after the opening brace of a
// function body, on the same line:
//
//	if __goprocProbing && __mp.Probe("NAME") { var __goprocZ0 T1; …; return __goprocZ0, … };
//
// Without guard the probe calls __mp.Probe alone (slower): in a function
// literal of a package-level var's initializer, yaegi v0.16.1 takes the
// global __goprocProbing, declared by an earlier Eval, for a variable the
// initializer waits for ("variable definition loop").
func (r *rewriter) probe(u *unit, body *ast.BlockStmt, name string, ft *ast.FuncType, guard bool) {
	// yaegi v0.16.1 mislays the frame slots of a function whose parameters
	// have no names once its body uses another symbol (as the probe does):
	// calling func f(int) string panicked with "reflect.Set: value of type
	// int is not assignable". Named _, they work.
	if ft.Params != nil {
		for _, f := range ft.Params.List {
			if len(f.Names) == 0 {
				r.ed.insert(u.off(f.Type.Pos()), "_ ")
			}
		}
	}
	// Unnamed results get zero values from variables: yaegi v0.16.1
	// compiles return *new(T) for a named func type (type Op func(int)
	// int) into a function whose callers then crash.
	ret := "return"
	if res := ft.Results; res != nil && len(res.List) > 0 && len(res.List[0].Names) == 0 {
		var decls, zs []string
		for i, f := range res.List {
			z := "__goprocZ" + strconv.Itoa(i)
			decls = append(decls, "var "+z+" "+types.ExprString(f.Type)+"; ")
			zs = append(zs, z)
		}
		ret = strings.Join(decls, "") + ret + " " + strings.Join(zs, ", ")
	}
	cond := "__goprocProbing && "
	if !guard {
		cond = ""
	}
	r.ed.insert(u.off(body.Lbrace)+1, " if "+cond+"__mp.Probe("+strconv.Quote(name)+") { "+ret+" }; ")
}

// compiled makes numeric loops (kernel/numcode) run compiled. A whole
// numeric procedure that loops or calls itself gets, right after the
// probe, on the same line,
//
//	if __r, __ok := __mp.RunProc("NAME", SEQ, a, b); __ok { return __r.(T) };
//
// (if _, __ok := ...; __ok { return }; for a procedure without result).
// RunProc finds this declaration by its name and the cell's sequence number,
// in the kernel and in child processes alike, and reports false where the
// interpreted body must run. In any other function, each loop that computes
// only with the function's numeric variables is wrapped, on its own first
// and last lines, as
//
//	if __v, __ok := __mp.RunLoop(SEQ, K, a, b); __ok { b = __v[1].(uint64) } else { LOOP }
//
// RunLoop finds the loop by SEQ and K (unique in the cell), runs it compiled
// on the values of the variables it uses and returns their new values; on
// false the interpreted loop runs from the values they had.
func (r *rewriter) compiled(u *unit, d *ast.FuncDecl) {
	if r.otherMath && numcode.UsesMath(d) {
		return // compiled code would call the standard library's math
	}
	if r.compiledProc(u, d) || !numcode.HasLoop(d) {
		return
	}
	for _, l := range numcode.Loops(d, r.cellFuncs) {
		args := []string{strconv.Itoa(r.opts.Seq), strconv.Itoa(r.next())}
		var targets, values []string
		for i, v := range l.Vars {
			args = append(args, v.Name)
			if l.Written[i] {
				targets = append(targets, v.Name)
				values = append(values, "__v["+strconv.Itoa(i)+"].("+v.Type+")")
			}
		}
		call := "__mp.RunLoop(" + strings.Join(args, ", ") + ")"
		head := "if _, __ok := " + call + "; !__ok { "
		if len(targets) > 0 {
			head = "if __v, __ok := " + call + "; __ok { " + strings.Join(targets, ", ") + " = " + strings.Join(values, ", ") + " } else { "
		}
		r.ed.insert(u.off(l.Stmt.Pos()), head)
		r.ed.insert(u.off(l.Stmt.End()), " }")
	}
}

// compiledProc inserts the RunProc call into a whole numeric procedure, and
// reports whether d is one.
func (r *rewriter) compiledProc(u *unit, d *ast.FuncDecl) bool {
	if d.Recv != nil || !numcode.Worthwhile(d) {
		return false
	}
	if _, ok := numcode.CompileWith(d, r.cellFuncs); !ok {
		return false
	}
	args := []string{strconv.Quote(r.funcName(d)), strconv.Itoa(r.opts.Seq)}
	for _, f := range d.Type.Params.List {
		if len(f.Names) == 0 {
			return false
		}
		for _, n := range f.Names {
			if n.Name == "_" {
				return false
			}
			args = append(args, n.Name)
		}
	}
	result, ret := "_", "return"
	if res := d.Type.Results; res != nil && len(res.List) > 0 {
		result, ret = "__r", "return __r.("+types.ExprString(res.List[0].Type)+")"
	}
	r.ed.insert(u.off(d.Body.Lbrace)+1, "if "+result+", __ok := __mp.RunProc("+strings.Join(args, ", ")+"); __ok { "+ret+" }; ")
	return true
}

// commaOK rewrites a two-value assignment from a map index or a type
// assertion, `v, ok = m[k]` or `v, ok = x.(T)`:
//
//	{ var __okK bool; v, __okK = m[k]; if !__okK { __goproc.Zero(&v) }; ok = __okK }
//
// and follows a define, `v, ok := m[k]`, with `if !ok { __goproc.Zero(&v) }`.
// yaegi v0.16.1 leaves v as it was when the key is missing or the
// assertion fails, where Go sets it to the zero value: a := in a loop keeps
// the last iteration's value (a word count that reads c, ok := counts[w]
// counts wrong). At the top level of a cell the block is a func() { ... }()
// (a block's variables there would be globals). Only assignments to plain
// names that stand alone in a statement list, or head an if, are
// rewritten, so that the order in which operands are evaluated cannot
// change.
func (r *rewriter) commaOK(u *unit) {
	if u.file == nil {
		return
	}
	statementLists(u, func(list []ast.Stmt, atTop bool) {
		declared := map[string]bool{} // at the top: names defined by earlier statements
		for _, s := range list {
			as, v, okv := commaOKAssign(s)
			switch {
			case as == nil:
				if ras, rv, rok := receiveAssign(s); atTop && ras != nil && ras.Tok == token.DEFINE {
					r.commaOKDefineAtTop(u, ras, rv, rok, declared)
				}
			case as.Tok == token.DEFINE && atTop && r.commaOKDefineAtTop(u, as, v, okv, declared):
			case as.Tok == token.DEFINE:
				// The variables stay where they are declared: zero v after.
				if v.Name != "_" {
					r.ed.insert(u.off(as.End()), "; if !"+r.namedOK(u, okv)+" { __goproc.Zero(&"+v.Name+") }")
				}
			default:
				tmp := fmt.Sprintf("__ok%d", r.next())
				open, closing := "{ ", " }"
				if atTop {
					open, closing = "func() { ", " }()"
				}
				tail := ""
				if v.Name != "_" {
					tail += "; if !" + tmp + " { __goproc.Zero(&" + v.Name + ") }"
				}
				if okv.Name != "_" {
					tail += "; " + okv.Name + " = " + tmp
				}
				r.ed.replace(u.off(okv.Pos()), u.off(okv.End()), tmp)
				r.ed.insert(u.off(as.Pos()), open+"var "+tmp+" bool; ")
				r.ed.insert(u.off(as.End()), tail+closing)
			}
			if atTop {
				definedBy(s, declared)
			}
		}
	})
	ast.Inspect(u.file, func(n ast.Node) bool {
		if n, ok := n.(*ast.IfStmt); ok {
			// if v, ok := m[k]; cond { becomes
			// if v, ok := m[k]; __goproc.Zeroed(ok, &v) && (cond) {
			as, v, okv := commaOKAssign(n.Init)
			if as != nil && as.Tok == token.DEFINE && v.Name != "_" && n.Cond != nil {
				r.ed.insert(u.off(n.Cond.Pos()), "__goproc.Zeroed("+r.namedOK(u, okv)+", &"+v.Name+") && (")
				r.ed.insert(u.off(n.Cond.End()), ")")
			}
		}
		return true
	})
}

// statementLists calls f with every statement list of a unit (blocks, case
// and select clauses), atTop set for the cell's top level.
func statementLists(u *unit, f func(list []ast.Stmt, atTop bool)) {
	var top *ast.BlockStmt
	if u.kind == segStmt && len(u.file.Decls) == 1 {
		if fd, ok := u.file.Decls[0].(*ast.FuncDecl); ok {
			top = fd.Body
		}
	}
	ast.Inspect(u.file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BlockStmt:
			f(n.List, n == top)
		case *ast.CaseClause:
			f(n.Body, false)
		case *ast.CommClause:
			f(n.Body, false)
		}
		return true
	})
}

// commaOKDefineAtTop rewrites a comma-ok define at the top level of a
// cell, which yaegi v0.16.1 cannot run there ("nil type"; inside a
// function it can), into a define of each variable and an assignment:
//
//	v, ok := m[k]   →  v := m[k]; ok := false; v, ok = m[k]
//	v, ok := x.(T)  →  var v T; ok := false; v, ok = x.(T)
//	v, ok := <-ch   →  var v T; ok := false; v, ok = <-ch  (ch := make(chan T…) at the top)
//	_, ok := <-ch   →  ok := false; func() { _, ok = <-ch }()  (any channel)
//
// The map and key are evaluated twice, so only a lookup whose operands
// have no side effects (names, literals, fields, indexes, operators) is
// rewritten, and only when neither name was defined earlier at the top of
// the cell (where := would redeclare it). It reports whether it rewrote.
func (r *rewriter) commaOKDefineAtTop(u *unit, as *ast.AssignStmt, v, okv *ast.Ident, declared map[string]bool) bool {
	if v.Name == "_" && okv.Name == "_" {
		return false
	}
	if (v.Name != "_" && declared[v.Name]) || (okv.Name != "_" && declared[okv.Name]) {
		return false
	}
	rhs := as.Rhs[0]
	// Not when the cell declares either name with var elsewhere (the define
	// would give it another type), nor when the right side uses them
	// (x, ok := x.(int) would assert on the new x).
	if (v.Name != "_" && r.cellVars[v.Name]) || (okv.Name != "_" && r.cellVars[okv.Name]) || (v.Name != "_" && mentions(rhs, v.Name)) || (okv.Name != "_" && mentions(rhs, okv.Name)) {
		return false
	}
	value := span(u.off(rhs.Pos()), u.off(rhs.End()))
	var pieces []piece
	switch e := rhs.(type) {
	case *ast.IndexExpr:
		if !sideEffectFree(e.X) || !sideEffectFree(e.Index) {
			return false
		}
		if v.Name != "_" {
			pieces = append(pieces, txt(v.Name+" := "), value, txt("; "))
		}
	case *ast.TypeAssertExpr:
		if e.Type == nil {
			return false
		}
		if v.Name != "_" {
			pieces = append(pieces, txt("var "+v.Name+" "), span(u.off(e.Type.Pos()), u.off(e.Type.End())), txt("; "))
		}
	case *ast.UnaryExpr: // a receive, from a channel the cell made with make(chan T…)
		if okv.Name == "_" {
			return false
		}
		if v.Name != "_" { // _, ok := <-ch needs no type
			ct, ok := r.ints.typeOf(e.X, nil).(*ast.ChanType)
			if !ok {
				return false
			}
			pieces = append(pieces, txt("var "+v.Name+" "+types.ExprString(ct.Value)+"; "))
		}
	default:
		return false
	}
	if _, isRecv := rhs.(*ast.UnaryExpr); isRecv && v.Name == "_" {
		// yaegi v0.16.1 assigns the value to ok in `_, ok = <-ch` at the
		// top level; in a function it receives right.
		r.ed.add(u.off(as.Pos()), u.off(as.End()), txt(okv.Name+" := false; func() { _, "+okv.Name+" = "), value, txt(" }()"))
		return true
	}
	if okv.Name == "_" {
		if _, isIndex := rhs.(*ast.IndexExpr); isIndex {
			r.ed.add(u.off(as.Pos()), u.off(as.End()), pieces[:len(pieces)-1]...) // v := m[k]
			return true
		}
		pieces = append(pieces, txt(v.Name+", _ = "), value)
	} else {
		pieces = append(pieces, txt(okv.Name+" := false; "+v.Name+", "+okv.Name+" = "), value)
	}
	r.ed.add(u.off(as.Pos()), u.off(as.End()), pieces...)
	return true
}

// sideEffectFree reports whether evaluating e twice is the same as once:
// names, literals, field selections, indexes, dereferences and operators
// on those; no calls or channel receives.
func sideEffectFree(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident, *ast.BasicLit:
		return true
	case *ast.ParenExpr:
		return sideEffectFree(e.X)
	case *ast.SelectorExpr:
		return sideEffectFree(e.X)
	case *ast.IndexExpr:
		return sideEffectFree(e.X) && sideEffectFree(e.Index)
	case *ast.StarExpr:
		return sideEffectFree(e.X)
	case *ast.UnaryExpr:
		return e.Op != token.ARROW && sideEffectFree(e.X)
	case *ast.BinaryExpr:
		return sideEffectFree(e.X) && sideEffectFree(e.Y)
	}
	return false
}

// definedBy adds the names a top-level statement defines to names.
func definedBy(s ast.Stmt, names map[string]bool) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE {
			for _, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					names[id.Name] = true
				}
			}
		}
	case *ast.DeclStmt:
		if g, ok := s.Decl.(*ast.GenDecl); ok {
			for _, sp := range g.Specs {
				if vs, ok := sp.(*ast.ValueSpec); ok {
					for _, id := range vs.Names {
						names[id.Name] = true
					}
				}
			}
		}
	}
}

// commaOKAssign matches `v, ok = e` or `v, ok := e` to plain names, e a
// map index or a type assertion; as is nil for anything else.
func commaOKAssign(s ast.Stmt) (as *ast.AssignStmt, v, ok *ast.Ident) {
	return twoNameAssign(s, func(e ast.Expr) bool {
		switch e.(type) {
		case *ast.IndexExpr, *ast.TypeAssertExpr:
			return true
		}
		return false
	})
}

// receiveAssign matches `v, ok = <-ch` or `v, ok := <-ch` to plain names.
func receiveAssign(s ast.Stmt) (as *ast.AssignStmt, v, ok *ast.Ident) {
	return twoNameAssign(s, func(e ast.Expr) bool {
		u, ok := e.(*ast.UnaryExpr)
		return ok && u.Op == token.ARROW
	})
}

// twoNameAssign matches `v, ok = e` or `v, ok := e` to plain names, e one
// that rhs accepts.
func twoNameAssign(s ast.Stmt, rhs func(ast.Expr) bool) (as *ast.AssignStmt, v, ok *ast.Ident) {
	as, _ = s.(*ast.AssignStmt)
	if as == nil || (as.Tok != token.ASSIGN && as.Tok != token.DEFINE) || len(as.Lhs) != 2 || len(as.Rhs) != 1 || !rhs(as.Rhs[0]) {
		return nil, nil, nil
	}
	v, ok1 := as.Lhs[0].(*ast.Ident)
	ok, ok2 := as.Lhs[1].(*ast.Ident)
	if !ok1 || !ok2 {
		return nil, nil, nil
	}
	return as, v, ok
}

// namedOK returns the name of a define's ok variable, naming a blank one.
func (r *rewriter) namedOK(u *unit, ok *ast.Ident) string {
	if ok.Name != "_" {
		return ok.Name
	}
	name := fmt.Sprintf("__ok%d", r.next())
	r.ed.replace(u.off(ok.Pos()), u.off(ok.End()), name)
	return name
}

// parallelAssign rewrites an assignment of two or more values of which one
// is a call or a receive, which yaegi v0.16.1 gets wrong: it carries out
// only the call's part (x, y = f(), s leaves y as it was; s[i], n[i] =
// d.Seconds(), name too) or panics (x, y = <-ch, 1). Those values go to
// temporaries first, so the assignment itself has none:
//
//	x, y = f(), s   →   { __pa1 := f(); x, y = __pa1, s }
//
// (func() { ... }() at the top level of a cell, where a block's := would
// touch globals). The calls still run before anything is assigned, in
// order; only an index on the left that itself calls a function could see
// the difference, and such an assignment is left alone.
func (r *rewriter) parallelAssign(u *unit) {
	if u.file == nil {
		return
	}
	statementLists(u, func(list []ast.Stmt, atTop bool) {
		for _, s := range list {
			as, ok := s.(*ast.AssignStmt)
			if !ok || as.Tok != token.ASSIGN || len(as.Lhs) < 2 || len(as.Lhs) != len(as.Rhs) {
				continue
			}
			hoist := make([]bool, len(as.Rhs))
			hoisting := false
			for i, e := range as.Rhs {
				hoist[i] = callOrReceive(e)
				hoisting = hoisting || hoist[i]
			}
			if !hoisting || slices.ContainsFunc(as.Lhs, containsCall) {
				continue
			}
			// The hoisted values move as written: a statement whose values
			// another rewrite has touched is left alone.
			touched := false
			for k, e := range as.Rhs {
				if hoist[k] && r.ed.touches(u.off(e.Pos()), u.off(e.End())) {
					touched = true
				}
			}
			if touched {
				continue
			}
			open, closing := "{ ", " }"
			if atTop {
				open, closing = "func() { ", " }()"
			}
			head := open
			for k, e := range as.Rhs {
				if !hoist[k] {
					continue
				}
				tmp := fmt.Sprintf("__pa%d", r.next())
				from, to := u.off(e.Pos()), u.off(e.End())
				head += tmp + " := " + r.ed.cell[from:to] + "; "
				r.ed.replace(from, to, tmp)
			}
			r.ed.insert(u.off(as.Pos()), head)
			r.ed.insert(u.off(as.End()), closing)
		}
	})
}

// callOrReceive reports whether e is a call (not a builtin's of constants,
// which may be an untyped constant) or a receive.
func callOrReceive(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && constBuiltins[id.Name] && allConst(e.Args) {
			return false
		}
		return true
	case *ast.UnaryExpr:
		return e.Op == token.ARROW
	}
	return false
}

var constBuiltins = map[string]bool{"len": true, "cap": true, "complex": true, "real": true, "imag": true, "min": true, "max": true}

// containsCall reports whether e calls a function or receives anywhere.
func containsCall(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			found = true
		case *ast.UnaryExpr:
			found = found || n.Op == token.ARROW
		case *ast.FuncLit:
			return false
		}
		return !found
	})
	return found
}
