package cell

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"sort"
	"strconv"
	"strings"

	"github.com/goproc/goproc/kernel/numcode"
)

// unit is one chunk of the cell, parsed. Offsets of its AST map to the cell
// by off().
type unit struct {
	kind     segKind
	pos, end int // cell byte range
	file     *ast.File
	fset     *token.FileSet
	hdr      int        // parser offset minus cell offset
	stmts    []ast.Stmt // Stmt units: the top-level statements
	decls    []ast.Decl // Decl and import units
	imports  []Import   // import units: the imports kept
	declares []string   // see Chunk.Declares
	types    []TypeDecl // see Chunk.Types
	display  bool       // the display wrap was added
	dropped  bool       // an import unit whose imports were all made already
	mainName string     // a renamed main declared here
	mainPos  int        // offset of main's name
	lastExpr ast.Expr   // Stmt units: trailing expression statement
	wrap     []ast.Stmt // top-level statements to run in a func literal
}

func (u *unit) off(p token.Pos) int { return u.fset.Position(p).Offset - u.hdr }

// Parse splits a cell into chunks to evaluate in order. See the package
// documentation and Chunk. A cell that cannot be parsed gives a
// *SyntaxError in cell coordinates.
func Parse(cell string, opts Options) ([]Chunk, error) {
	toks, err := scanCell(cell)
	if err != nil {
		return nil, err
	}
	units, err := parseUnits(cell, splitSegments(toks))
	if err != nil {
		return nil, err
	}
	r := &rewriter{cell: cell, opts: opts, ed: &editor{cell: cell}}
	if err := r.run(units); err != nil {
		return nil, err
	}
	r.ed.sort()
	var chunks []Chunk
	var mainUnit *unit
	for _, u := range units {
		if u.dropped {
			continue
		}
		c := Chunk{Kind: Decl, Line: lineOf(cell, u.pos), Imports: u.imports, Declares: u.declares, Types: u.types, cell: cell}
		prefix := "\n"
		if u.kind == segStmt {
			c.Kind, prefix = Stmt, ";\n"
		}
		c.Src, c.srcMap = r.renderUnit(u, prefix, false)
		c.NoDisplay, c.plainMap = c.Src, c.srcMap
		if u.display {
			c.Display = true
			c.NoDisplay, c.plainMap = r.renderUnit(u, prefix, true)
		}
		chunks = append(chunks, c)
		if u.mainName != "" {
			mainUnit = u
		}
	}
	if u := mainUnit; u != nil && !r.callsMain {
		// Like go run: main runs once, after every declaration of the cell
		// (unless the cell calls it itself).
		call := ";\n" + u.mainName + "()\n"
		m := make([]int, len(call)+1)
		for i := range m {
			m[i] = u.mainPos
		}
		chunks = append(chunks, Chunk{Kind: Stmt, Src: call, NoDisplay: call, Line: lineOf(cell, u.mainPos), cell: cell, srcMap: m, plainMap: m})
	}
	return chunks, nil
}

// renderUnit renders a unit with its prefix line; the unit's first line is
// padded with spaces up to the unit's column.
func (r *rewriter) renderUnit(u *unit, prefix string, plain bool) (string, []int) {
	var o output
	o.text(prefix, u.pos)
	ls := strings.LastIndexByte(r.cell[:u.pos], '\n') + 1
	for p := ls; p < u.pos; p++ {
		o.buf = append(o.buf, ' ')
		o.m = append(o.m, p)
	}
	r.ed.render(&o, u.pos, u.end, true, plain)
	o.text("\n", u.end)
	o.m = append(o.m, u.end)
	return string(o.buf), o.m
}

func lineOf(s string, off int) int { return 1 + strings.Count(s[:off], "\n") }

// parseUnits merges neighbouring segments of the same kind and parses each
// group with go/parser. Package clauses are dropped.
func parseUnits(cell string, segs []segment) ([]*unit, error) {
	var units []*unit
	for _, s := range segs {
		if s.kind == segPackage {
			continue
		}
		if n := len(units); n > 0 && units[n-1].kind == s.kind {
			units[n-1].end = s.end
			continue
		}
		units = append(units, &unit{kind: s.kind, pos: s.pos, end: s.end})
	}
	var out []*unit
	for _, u := range units {
		if err := parseUnit(cell, u); err != nil {
			return nil, err
		}
		head, tail, err := splitAfterDefines(cell, u)
		if err != nil {
			return nil, err
		}
		out = append(out, head)
		if tail != nil {
			out = append(out, tail)
		}
	}
	return out, nil
}

// parseUnit parses only the unit's text; hdr makes AST offsets cell
// offsets.
func parseUnit(cell string, u *unit) error {
	text := cell[u.pos:u.end]
	var src string
	if u.kind == segStmt {
		src = "package p;func _(){" + text + "\n}"
		u.hdr = len("package p;func _(){") - u.pos
	} else {
		src = "package p;" + text
		u.hdr = len("package p;") - u.pos
	}
	u.fset = token.NewFileSet()
	f, err := parser.ParseFile(u.fset, "cell.go", src, parser.SkipObjectResolution)
	if err != nil {
		return syntaxError(cell, u, err)
	}
	u.file = f
	if u.kind == segStmt {
		u.stmts = f.Decls[0].(*ast.FuncDecl).Body.List
	} else {
		u.decls = f.Decls
	}
	return nil
}

// splitAfterDefines splits a statement unit after its last top-level :=
// when statements follow it: those then make a chunk that declares
// nothing, which the engine runs in a function literal so that what they
// compute is freed (a chunk with a := keeps its intermediate values in
// yaegi's global frame). A unit with labels stays whole, so that no goto
// or labelled break loses its target.
func splitAfterDefines(cell string, u *unit) (head, tail *unit, err error) {
	if u.kind != segStmt {
		return u, nil, nil
	}
	last := -1
	for i, st := range u.stmts {
		switch st := st.(type) {
		case *ast.LabeledStmt:
			return u, nil, nil
		case *ast.BranchStmt:
			if st.Label != nil {
				return u, nil, nil
			}
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				last = i
			}
		}
	}
	if last < 0 || last == len(u.stmts)-1 {
		return u, nil, nil
	}
	head = &unit{kind: segStmt, pos: u.pos, end: u.off(u.stmts[last].End())}
	tail = &unit{kind: segStmt, pos: u.off(u.stmts[last+1].Pos()), end: u.end}
	for _, p := range []*unit{head, tail} {
		if err := parseUnit(cell, p); err != nil {
			return nil, nil, err
		}
	}
	return head, tail, nil
}

func syntaxError(cell string, u *unit, err error) error {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return &SyntaxError{Line: lineOf(cell, u.pos), Col: 1, Msg: err.Error()}
	}
	e := list[0]
	off := e.Pos.Offset - u.hdr
	if off > len(cell) {
		off = len(cell)
	}
	l, c := lineCol(cell, off)
	msg := e.Msg
	if off >= u.end {
		msg += " (the cell ends early: is a bracket or brace left open?)"
	}
	return &SyntaxError{Line: l, Col: c, Msg: msg}
}

// rewriter holds the state of the rewrites of one cell.
type rewriter struct {
	cell  string
	opts  Options
	ed    *editor
	ints  ints
	n     int                     // counter for generated names
	user  map[string]bool         // names the cell declares anywhere
	funcs map[string]bool         // top-level funcs of the cell: has results
	done  map[*ast.CallExpr]bool  // min/max calls already rewritten
	loops map[ast.Stmt]bool       // loops already rewritten
	label map[ast.Stmt]*ast.Ident // label of a labelled loop
	// otherMath: the cell imports a package named math that is not the
	// standard library's (compiled code calls the standard one).
	otherMath bool
	// cellFuncs resolves the functions the cell and earlier cells declare,
	// for compiled procedures that call them (kernel/numcode).
	cellFuncs numcode.Resolver
	// topNames are the names the cell declares at its top level
	// (topLevelNames); shadowed the calls of min, max and main that a
	// declaration in an enclosing block shadows (scopeVisitor).
	topNames map[string]bool
	shadowed map[*ast.CallExpr]bool
	// cellVars are the names the cell's var declarations declare at its
	// top level.
	cellVars map[string]bool
	// callsMain: a statement of the cell calls the main the cell declares
	// (the port of Python's `if __name__ == "__main__": main()`), so the
	// cell does not call it again.
	callsMain bool
}

func (r *rewriter) run(units []*unit) error {
	r.user = map[string]bool{}
	r.funcs = map[string]bool{}
	r.done = map[*ast.CallExpr]bool{}
	r.loops = map[ast.Stmt]bool{}
	r.label = map[ast.Stmt]*ast.Ident{}
	r.ints = ints{globals: map[string]bool{}, globalTypes: map[string]ast.Expr{}, types: map[string]bool{}, known: r.opts.KnownInts}
	var files []*ast.File
	for _, u := range units {
		r.collect(u)
		if u.kind == segImport {
			r.otherMath = r.otherMath || importsOtherMath(u.decls)
		}
		if u.kind == segDecl && u.file != nil {
			files = append(files, u.file)
		}
	}
	funcs := []numcode.Funcs{numcode.FuncsIn(files...)}
	if r.opts.EarlierFuncs != nil {
		funcs = append(funcs, r.opts.EarlierFuncs)
	}
	r.cellFuncs = numcode.Once(funcs...)
	r.ints.funcs = r.cellFuncs
	r.ints.structs = r.structTypes(units)
	r.ints.minmaxOK = !r.defined("min") && !r.defined("max")
	r.topLevelNames(units)
	for _, u := range units {
		r.collectDefines(u)
	}
	for _, u := range units {
		if u.kind == segStmt {
			if err := r.topLevel(u); err != nil {
				return err
			}
		}
	}
	cellMain := false
	for _, u := range units {
		cellMain = cellMain || (u.kind == segDecl && declaresMain(u))
	}
	for _, u := range units {
		switch u.kind {
		case segImport:
			r.imports(u)
		case segDecl:
			r.decls(u)
		}
		r.rangeInts(u) // also records the shadowed calls mainCalls and inspect skip
		r.mainCalls(u, cellMain)
		r.inspect(u)
		r.commaOK(u)
		r.parallelAssign(u)
	}
	for _, u := range units {
		// Last, so that the closing "}()" follows what other rewrites
		// inserted at the end of the statement.
		for _, s := range u.wrap {
			r.ed.insert(u.off(s.Pos()), "func() { ")
			r.ed.insert(u.off(s.End()), " }()")
		}
	}
	if n := len(units); n > 0 && units[n-1].kind == segStmt {
		r.display(units[n-1])
	}
	return nil
}

// defined reports whether the user declared name, in this cell or before.
func (r *rewriter) defined(name string) bool {
	return r.user[name] || (r.opts.Defined != nil && r.opts.Defined(name))
}

// collect records the names the cell declares (anywhere), the top-level
// integers and integer types, and the cell's functions.
func (r *rewriter) collect(u *unit) {
	ast.Inspect(u.file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Recv == nil && n.Name.Name != "_" {
				r.user[n.Name.Name] = true
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				r.user[id.Name] = true
			}
		case *ast.TypeSpec:
			r.user[n.Name.Name] = true
		case *ast.Field:
			for _, id := range n.Names {
				r.user[id.Name] = true
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, e := range n.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						r.user[id.Name] = true
					}
				}
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						r.user[id.Name] = true
					}
				}
			}
		}
		return true
	})
	r.user["_"] = false
	top := newScope(nil)
	decl := func(name string, isInt bool) {
		if name != "_" {
			r.ints.globals[name] = isInt
		}
	}
	for _, d := range u.decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			switch d.Tok {
			case token.TYPE:
				for _, sp := range d.Specs {
					ts := sp.(*ast.TypeSpec)
					r.ints.types[ts.Name.Name] = ts.TypeParams == nil && r.ints.isIntType(ts.Type)
				}
			case token.VAR, token.CONST:
				r.ints.declareSpecs(d, top, decl)
			}
		case *ast.FuncDecl:
			if d.Recv == nil {
				r.funcs[d.Name.Name] = d.Type.Results != nil && len(d.Type.Results.List) > 0
				decl(d.Name.Name, false)
			}
		}
	}
	r.collectDefines(u)
}

// collectDefines records which globals a unit's top-level := makes
// integers. It runs again once the rewriter knows whether min and max are
// the builtins, which an integer from max(n, 5) needs.
func (r *rewriter) collectDefines(u *unit) {
	top := newScope(nil)
	for _, s := range u.stmts {
		if as, ok := s.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			for i, e := range as.Lhs {
				if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
					r.ints.globals[id.Name] = len(as.Rhs) == len(as.Lhs) && r.ints.isInt(as.Rhs[i], top)
					if len(as.Rhs) == len(as.Lhs) {
						r.ints.globalTypes[id.Name] = literalType(as.Rhs[i])
					}
				}
			}
		}
	}
}

// topLevel checks and rewrites the top-level statements of a Stmt unit:
// return is refused, a type switch is wrapped in a block, a global defined
// from min/max is split, and the defined names are recorded.
func (r *rewriter) topLevel(u *unit) error {
	for _, s := range u.stmts {
		var bad ast.Node
		ast.Inspect(s, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				if bad == nil {
					bad = n
				}
			}
			return bad == nil
		})
		if bad != nil {
			l, c := lineCol(r.cell, u.off(bad.Pos()))
			return &SyntaxError{Line: l, Col: c, Msg: "return is not allowed at the top level of a cell: " +
				"move the code into a function and call it, or use if/else to skip the rest"}
		}
		if needsFunc(s) {
			u.wrap = append(u.wrap, s)
		}
		switch s := s.(type) {
		case *ast.AssignStmt:
			if s.Tok != token.DEFINE {
				continue
			}
			for _, e := range s.Lhs {
				if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
					u.declares = append(u.declares, id.Name)
				}
			}
			r.globalMinMax(u, s)
		}
	}
	if n := len(u.stmts); n > 0 {
		if es, ok := u.stmts[n-1].(*ast.ExprStmt); ok {
			u.lastExpr = es.X
		}
	}
	r.cellDefers(u)
	return nil
}

// cellDefers rewrites each defer of the cell's own code (not of a function
// it declares) into a call of __goproc.Defer, which the engine runs when the
// cell ends. yaegi v0.16.1 keeps a top-level defer on the notebook's global
// frame and runs it again at the end of every later cell: `defer
// pool.Close()` closed the pool anew in each. The function value and its
// arguments are evaluated at the defer, as Go does (`defer f(a, b)` becomes
// `__goproc.Defer(f, a, b)`); a builtin or a call with `...` is wrapped in a
// function literal instead, and its arguments are evaluated when it runs.
func (r *rewriter) cellDefers(u *unit) {
	for _, s := range u.stmts {
		ast.Inspect(s, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.DeferStmt:
				call := n.Call
				pos := u.off(n.Pos())
				if id, ok := call.Fun.(*ast.Ident); call.Ellipsis.IsValid() || (ok && isBuiltin(id.Name) && !r.defined(id.Name)) {
					r.ed.replace(pos, u.off(call.Pos()), "__goproc.Defer(func() { ")
					r.ed.insert(u.off(call.End()), " })")
					return true
				}
				if fl, ok := call.Fun.(*ast.FuncLit); ok && !r.defined("recover") {
					r.cellRecovers(u, fl.Body)
				}
				r.ed.replace(pos, u.off(call.Fun.Pos()), "__goproc.Defer(")
				sep := ""
				if len(call.Args) > 0 {
					sep = ", "
				}
				r.ed.replace(u.off(call.Lparen), u.off(call.Lparen)+1, sep)
			}
			return true
		})
	}
}

// cellRecovers rewrites recover() in the body of a function literal the
// cell defers into __goproc.Recover(). The cell's defers run after its code
// (see cellDefers), when the interpreter's own recover finds no panic; the
// engine keeps the panic that ended the cell's code for them, so that, as
// in Go's main, a deferred recover stops it. A recover in a function the
// literal calls, or in a named function deferred, is left alone.
func (r *rewriter) cellRecovers(u *unit, body *ast.BlockStmt) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "recover" && len(n.Args) == 0 {
				r.ed.replace(u.off(id.Pos()), u.off(id.End()), "__goproc.Recover")
			}
		}
		return true
	})
}

// isBuiltin reports whether name is a predeclared function (not a value
// that __goproc.Defer could take).
func isBuiltin(name string) bool {
	switch name {
	case "append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len", "make",
		"max", "min", "new", "panic", "print", "println", "real", "recover":
		return true
	}
	return false
}

// globalMinMax rewrites `x := min(a, b)` at the top level. yaegi v0.16.1
// cannot type a global from a generic call ("nil reflect type"), so the
// global is defined from one argument first: `x := a; x = __goprocMin(x, b)`.
func (r *rewriter) globalMinMax(u *unit, s *ast.AssignStmt) {
	if len(s.Lhs) != 1 || len(s.Rhs) != 1 {
		return
	}
	id, ok := s.Lhs[0].(*ast.Ident)
	call, ok2 := s.Rhs[0].(*ast.CallExpr)
	if !ok || !ok2 || id.Name == "_" || !r.isMinMax(call) || len(call.Args) < 2 || call.Ellipsis.IsValid() {
		return
	}
	args := r.orderArgs(u, call.Args)
	if args == nil || allConst(call.Args) {
		return
	}
	direct, nested := false, false
	for _, a := range call.Args {
		if ai, ok := a.(*ast.Ident); ok && ai.Name == id.Name {
			direct = true
		} else if mentions(a, id.Name) {
			nested = true
		}
	}
	switch {
	case direct:
		// x := min(x, y) keeps x's type: assign (`x := x` would zero x).
		r.ed.add(u.off(s.TokPos), u.off(s.TokPos)+2, txt("="))
		first := []piece{span(u.off(args[0].Pos()), u.off(args[0].End()))}
		r.ed.add(u.off(call.Pos()), u.off(call.End()), r.nest(u, call, first, args[1:])...)
		r.done[call] = true
		return
	case nested:
		return // x := min(len(x), 3): not rewritten, yaegi may fail
	}
	seed := args[0]
	pieces := []piece{span(u.off(seed.Pos()), u.off(seed.End())), txt("; " + id.Name + " = ")}
	first := []piece{txt(id.Name)}
	pieces = append(pieces, r.nest(u, call, first, args[1:])...)
	r.ed.add(u.off(call.Pos()), u.off(call.End()), pieces...)
	r.done[call] = true
}

// needsFunc reports whether a top-level statement must run inside
// func() { ... }(). At the top level, yaegi v0.16.1 treats a variable that a
// block declares as the global of the same name if there is one (the global
// changes, closures in a loop share it), and it panics on a type switch that
// declares a variable. In a function both work. Every loop is wrapped, since
// the rewrites declare variables too; other compound statements when they
// declare something. return is refused before, so the wrap cannot change
// what a statement does, except that a defer in it runs when it ends.
func needsFunc(s ast.Stmt) bool {
	if l, ok := s.(*ast.LabeledStmt); ok {
		s = l.Stmt
	}
	switch s.(type) {
	case *ast.ForStmt, *ast.RangeStmt:
		return true
	case *ast.IfStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt, *ast.BlockStmt:
	default:
		return false
	}
	found := false
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			found = found || n.Tok == token.DEFINE
		case *ast.DeclStmt:
			found = true
		}
		return !found
	})
	return found
}

// mentions reports whether the identifier name occurs in n.
func mentions(n ast.Node, name string) bool {
	found := false
	ast.Inspect(n, func(x ast.Node) bool {
		if id, ok := x.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

func (r *rewriter) isMinMax(call *ast.CallExpr) bool {
	fn, ok := call.Fun.(*ast.Ident)
	if !ok || (fn.Name != "min" && fn.Name != "max") {
		return false
	}
	return !r.topNames[fn.Name] && !(r.opts.Defined != nil && r.opts.Defined(fn.Name)) && !r.shadowed[call]
}

// topLevelNames records the names the cell declares at its top level, and
// those of them its var declarations declare. A call of min, max or main
// that a declaration in an enclosing block shadows is recorded by the
// scope walk (scopeVisitor), which runs per unit before the rewrites that
// ask.
func (r *rewriter) topLevelNames(units []*unit) {
	r.topNames = map[string]bool{}
	r.shadowed = map[*ast.CallExpr]bool{}
	r.cellVars = map[string]bool{}
	for _, u := range units {
		if u.file == nil {
			continue
		}
		if top := topBody(u); top != nil {
			for _, s := range top.List {
				definedBy(s, r.topNames)
			}
			continue
		}
		for _, d := range u.file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					r.topNames[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.ValueSpec:
						for _, id := range sp.Names {
							r.topNames[id.Name] = true
							if d.Tok == token.VAR {
								r.cellVars[id.Name] = true
							}
						}
					case *ast.TypeSpec:
						r.topNames[sp.Name.Name] = true
					}
				}
			}
		}
	}
}

// watched are the names whose shadowed calls the scope walk records.
var watched = map[string]bool{"min": true, "max": true, "main": true}

// topBody returns the body of the function a statement unit is parsed in
// (its statements are the cell's top level), or nil.
func topBody(u *unit) *ast.BlockStmt {
	if u.kind == segStmt && u.file != nil && len(u.file.Decls) == 1 {
		if fd, ok := u.file.Decls[0].(*ast.FuncDecl); ok {
			return fd.Body
		}
	}
	return nil
}

// orderArgs puts the arguments that are not constant literals first: yaegi
// infers the type parameter of the helper from the first argument only.
// Literals have no side effects, so the order of evaluation is kept.
func (r *rewriter) orderArgs(u *unit, args []ast.Expr) []ast.Expr {
	var vars, lits []ast.Expr
	for _, a := range args {
		if isConstLit(a) {
			lits = append(lits, a)
		} else {
			vars = append(vars, a)
		}
	}
	return append(vars, lits...)
}

// nest renders helper(helper(first, a1), a2)... as pieces.
func (r *rewriter) nest(u *unit, call *ast.CallExpr, first []piece, rest []ast.Expr) []piece {
	helper := "__goprocMin("
	if call.Fun.(*ast.Ident).Name == "max" {
		helper = "__goprocMax("
	}
	var ps []piece
	for range rest {
		ps = append(ps, txt(helper))
	}
	ps = append(ps, first...)
	for _, a := range rest {
		ps = append(ps, txt(", "), span(u.off(a.Pos()), u.off(a.End())), txt(")"))
	}
	return ps
}

// importsOtherMath reports whether decls import a package named math
// other than the standard library's.
func importsOtherMath(decls []ast.Decl) bool {
	for _, d := range decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, sp := range gd.Specs {
			is, ok := sp.(*ast.ImportSpec)
			if !ok {
				continue
			}
			path, _ := strconv.Unquote(is.Path.Value)
			name := path[strings.LastIndex(path, "/")+1:]
			if is.Name != nil {
				name = is.Name.Name
			}
			if name == "math" && path != "math" {
				return true
			}
		}
	}
	return false
}

// imports applies Options.SeenImport and records the imports kept.
func (r *rewriter) imports(u *unit) {
	for _, d := range u.decls {
		gd := d.(*ast.GenDecl)
		kept := 0
		for _, sp := range gd.Specs {
			is := sp.(*ast.ImportSpec)
			path, _ := strconv.Unquote(is.Path.Value)
			im := Import{Path: path}
			if is.Name != nil {
				im.Name = is.Name.Name
			}
			if r.opts.SeenImport != nil && r.opts.SeenImport(im) {
				// Take an explicit semicolon after the spec with it:
				// import ("fmt"; "os") would become import (; "os").
				end := u.off(is.End())
				rest := r.cell[end:]
				if t := strings.TrimLeft(rest, " \t"); strings.HasPrefix(t, ";") {
					end += len(rest) - len(t) + 1
				}
				r.ed.replace(u.off(is.Pos()), end, "")
				continue
			}
			kept++
			u.imports = append(u.imports, im)
		}
		if kept == 0 {
			r.ed.replace(u.off(gd.Pos()), u.off(gd.End()), "")
		}
	}
	u.dropped = len(u.imports) == 0
}

// structTypes finds the struct types of the cell and, through
// Options.EarlierType, of earlier cells, by name.
func (r *rewriter) structTypes(units []*unit) func(string) *ast.StructType {
	own := map[string]*ast.StructType{}
	for _, u := range units {
		for _, d := range u.decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, sp := range g.Specs {
					if ts, ok := sp.(*ast.TypeSpec); ok && ts.TypeParams == nil {
						if st, ok := ts.Type.(*ast.StructType); ok {
							own[ts.Name.Name] = st
						}
					}
				}
			}
		}
	}
	earlier := map[string]*ast.StructType{}
	return func(name string) *ast.StructType {
		if st, ok := own[name]; ok {
			return st
		}
		if st, ok := earlier[name]; ok {
			return st
		}
		var st *ast.StructType
		if r.opts.EarlierType != nil {
			if src := r.opts.EarlierType(name); src != "" {
				f, err := parser.ParseFile(token.NewFileSet(), "", "package p; type "+src, parser.SkipObjectResolution)
				if err == nil && len(f.Decls) == 1 {
					if g, ok := f.Decls[0].(*ast.GenDecl); ok && len(g.Specs) == 1 {
						if ts, ok := g.Specs[0].(*ast.TypeSpec); ok && ts.TypeParams == nil {
							st, _ = ts.Type.(*ast.StructType)
						}
					}
				}
			}
		}
		earlier[name] = st
		return st
	}
}

// mainName is the name this cell's main is renamed to.
func (r *rewriter) mainName() string { return fmt.Sprintf("%s%d", mainPrefix, r.opts.Seq) }

// mainCalls makes a call main() reach the notebook's main, which is
// renamed (see decls): this cell's if it declares one, else the latest
// earlier cell's. yaegi has a main of its own that a bare main() found.
func (r *rewriter) mainCalls(u *unit, cellMain bool) {
	target := r.opts.EarlierMain
	if cellMain {
		target = r.mainName()
	}
	if target == "" || u.file == nil {
		return
	}
	ast.Inspect(u.file, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && len(call.Args) == 0 && !r.shadowed[call] {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "main" {
				r.ed.replace(u.off(id.Pos()), u.off(id.End()), target)
				r.callsMain = r.callsMain || cellMain && u.kind == segStmt
			}
		}
		return true
	})
}

// declaresMain reports whether a unit declares the function main.
func declaresMain(u *unit) bool {
	for _, d := range u.decls {
		if fd, ok := d.(*ast.FuncDecl); ok && isMainDecl(fd) {
			return true
		}
	}
	return false
}

// isMainDecl reports whether fd declares the program's main, which decls
// renames.
func isMainDecl(fd *ast.FuncDecl) bool {
	return fd.Recv == nil && fd.Name.Name == "main" && fd.Type.TypeParams == nil && fd.Body != nil
}

// decls records declared names and types and renames main.
func (r *rewriter) decls(u *unit) {
	for _, d := range u.decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				continue
			}
			name := d.Name.Name
			if isMainDecl(d) {
				// yaegi re-runs a declared main on every later Eval: rename it
				// and call it once, like go run.
				name = r.mainName()
				r.ed.replace(u.off(d.Name.Pos()), u.off(d.Name.End()), name)
				u.mainName, u.mainPos = name, u.off(d.Name.Pos())
			}
			if name != "_" && name != "init" {
				u.declares = append(u.declares, name)
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						if id.Name != "_" {
							u.declares = append(u.declares, id.Name)
						}
					}
				case *ast.TypeSpec:
					if sp.Name.Name == "_" {
						continue
					}
					u.declares = append(u.declares, sp.Name.Name)
					u.types = append(u.types, TypeDecl{Name: sp.Name.Name, Src: typeSrc(sp)})
				}
			}
		}
	}
}

// typeSrc renders a type spec in a normalised form (no comments, single
// line, canonical spacing).
func typeSrc(ts *ast.TypeSpec) string {
	var b strings.Builder
	b.WriteString(ts.Name.Name)
	if ts.TypeParams != nil {
		b.WriteString("[")
		for i, f := range ts.TypeParams.List {
			if i > 0 {
				b.WriteString(", ")
			}
			for j, n := range f.Names {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(n.Name)
			}
			b.WriteString(" " + types.ExprString(f.Type))
		}
		b.WriteString("]")
	}
	if ts.Assign.IsValid() {
		b.WriteString(" =")
	}
	b.WriteString(" " + types.ExprString(ts.Type))
	return b.String()
}

// display wraps the trailing expression statement of the last unit.
func (r *rewriter) display(u *unit) {
	x := u.lastExpr
	if x == nil || !displayable(x, r.funcs) {
		return
	}
	r.ed.edits = append(r.ed.edits,
		edit{pos: u.off(x.Pos()), end: u.off(x.Pos()), pieces: []piece{txt("__goproc.Display(")}, seq: len(r.ed.edits), display: true},
		edit{pos: u.off(x.End()), end: u.off(x.End()), pieces: []piece{txt(")")}, seq: len(r.ed.edits) + 1, display: true})
	u.display = true
}

// displayable reports whether the value of a trailing expression should be
// shown: not for printing, panic, exit, a receive used to wait, nor a call of
// a function of the cell that has no results.
func displayable(x ast.Expr, funcs map[string]bool) bool {
	x = ast.Unparen(x)
	if u, ok := x.(*ast.UnaryExpr); ok && u.Op == token.ARROW {
		return false
	}
	call, ok := x.(*ast.CallExpr)
	if !ok {
		return true
	}
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		switch fn.Name {
		case "print", "println", "panic", "clear", "close", "delete", "copy":
			return false
		}
		if res, ok := funcs[fn.Name]; ok && !res {
			return false
		}
	case *ast.SelectorExpr:
		pkg, ok := fn.X.(*ast.Ident)
		if !ok {
			return true
		}
		name := fn.Sel.Name
		switch pkg.Name {
		case "fmt":
			return !strings.HasPrefix(name, "Print") && !strings.HasPrefix(name, "Fprint")
		case "log":
			return !strings.HasPrefix(name, "Print") && !strings.HasPrefix(name, "Fatal") && !strings.HasPrefix(name, "Panic")
		case "os":
			return name != "Exit"
		}
	}
	return true
}

// sortedKeys is used by tests and Declarations.
func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
