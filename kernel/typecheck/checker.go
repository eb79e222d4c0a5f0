// Package typecheck checks a notebook cell with go/types, against the
// declarations of the cells that ran before it, before the interpreter sees
// it: a mistake gets the Go compiler's message at the cell's line and column
// (`undefined: fmt.Prinln`, `missing return`, …), and a cell that fails the
// check never reaches the interpreter, so it changes nothing.
//
// A cell is checked as one file of package main: its imports and
// declarations at the package level, its top-level statements as the body of
// a function. The earlier cells make a second file: their imports, their
// declarations (the latest of each name; function bodies left out, they were
// checked when their cell ran) and a `var x T` for each global a top-level
// `:=` defined, with the type the check found.
//
// What a notebook needs is relaxed (see Check): unused variables and imports,
// a top-level expression whose value is not used, and, in a function the
// cell does not run, a name or method that a later cell may declare. Where
// the checker may know less than the interpreter, it lets the cell through:
// false rejections are worse than errors the interpreter reports itself.
package typecheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/goproc/goproc/kernel/cell"
)

// Options configures a Checker.
type Options struct {
	// Sources returns the Go source files of a package the interpreter
	// runs from source (the generic cmp, maps and slices), by import path;
	// nil or no files: the package's symbol table describes it.
	Sources func(path string) []string
	// Known reports whether the interpreter has a global of this name. The
	// checker does not report a name it finds undefined that the
	// interpreter knows: its record of the notebook missed a declaration.
	Known func(name string) bool
}

// Checker checks the cells of one notebook, in the order they run. Its
// methods are safe for concurrent use.
type Checker struct {
	mu       sync.Mutex
	opts     Options
	fset     *token.FileSet
	imp      *importer
	cells    []*record
	stdNames map[string]map[string]bool // GOROOT's top-level names by import path
}

// New returns a Checker for a new notebook.
func New(opts Options) *Checker {
	fset := token.NewFileSet()
	return &Checker{opts: opts, fset: fset, imp: newImporter(fset, opts.Sources), stdNames: map[string]map[string]bool{}}
}

// Error is a mistake the Go compiler would report, in cell coordinates:
// 1-based, Col counted in code points.
type Error struct {
	Line, Col int
	Msg       string
}

// Result is the outcome of checking a cell.
type Result struct {
	// Errors are the mistakes found, in the order of the cell; the cell
	// must not run if there is any.
	Errors []Error
	rec    *record // what the cell declares, for Commit
	// skipped says why the cell was not checked ("": it was).
	skipped string
}

// record is what a cell that ran left for the cells after it.
type record struct {
	imports []importRec
	decls   []namedDecl
}

type importRec struct{ name, path string } // name: the local name, or "."

// key identifies the import among a notebook's: by its name, a dot import
// by its path.
func (im importRec) key() string {
	if im.name == "." {
		return ". " + im.path
	}
	return im.name
}

type namedDecl struct {
	names []string // declared names; methods as "T.M"
	decl  ast.Decl
	refs  map[string]bool // identifiers it uses: which imports it needs
}

func newNamedDecl(d ast.Decl) namedDecl {
	return namedDecl{names: declNames(d), decl: d, refs: identsOf(d)}
}

// identsOf returns the names of the identifiers in n.
func identsOf(n ast.Node) map[string]bool {
	ids := map[string]bool{}
	if n == nil {
		return ids
	}
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			ids[id.Name] = true
		}
		return true
	})
	return ids
}

// Commit records the declarations of a checked cell that ran, for the
// cells after it, except those of the names in notDeclared: a cell that
// failed part way declared only what came before the failure (and a type
// the interpreter refused to redefine keeps its first declaration). A cell
// that failed before it changed anything must not be committed.
func (c *Checker) Commit(r *Result, notDeclared ...string) {
	if r == nil || r.rec == nil {
		return
	}
	rec := r.rec
	if len(notDeclared) > 0 {
		skip := map[string]bool{}
		for _, n := range notDeclared {
			skip[n] = true
		}
		rec = &record{imports: rec.imports}
		for _, d := range r.rec.decls {
			keep := true
			for _, n := range d.names {
				recv, _, method := strings.Cut(n, ".")
				if skip[n] || method && skip[recv] {
					keep = false
				}
			}
			if keep {
				rec.decls = append(rec.decls, d)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.compact(rec)
	c.cells = append(c.cells, rec)
}

// compact drops from the earlier records what rec declares again, and the
// records left empty: a cell run a thousand times must not make every check
// after it walk a thousand records.
func (c *Checker) compact(rec *record) {
	names, imports := map[string]bool{}, map[string]bool{}
	for _, d := range rec.decls {
		for _, n := range d.names {
			names[n] = true
		}
	}
	for _, im := range rec.imports {
		imports[im.key()] = true
	}
	kept := c.cells[:0]
	for _, r := range c.cells {
		var decls []namedDecl
		for _, d := range r.decls {
			shadowed := len(d.names) > 0
			for _, n := range d.names {
				if !names[n] {
					shadowed = false
				}
			}
			if !shadowed {
				decls = append(decls, d)
			}
		}
		var imps []importRec
		for _, im := range r.imports {
			if !imports[im.key()] {
				imps = append(imps, im)
			}
		}
		if len(decls) > 0 || len(imps) > 0 {
			kept = append(kept, &record{imports: imps, decls: decls})
		}
	}
	for i := len(kept); i < len(c.cells); i++ {
		c.cells[i] = nil
	}
	c.cells = kept
}

// cellFile is a cell parsed as Go.
type cellFile struct {
	code    string
	imports []*ast.GenDecl
	decls   []ast.Decl     // package-level declarations
	stmts   *ast.FuncDecl  // the top-level statements, in one function
	hdr     map[string]int // bytes each file has before the cell's text
	defined map[string]bool
	idents  map[string]bool // identifiers used in its declarations and statements
	exprs   []ast.Expr      // top-level expression statements
}

const stmtFunc = "__goproc_cell"

// parse splits the cell into segments (as kernel/cell does to run it) and
// parses the imports, the declarations and the statements, each in a file
// that keeps the cell's offsets after a header.
func (c *Checker) parse(code string) (*cellFile, error) {
	segs, err := cell.Segments(code)
	if err != nil {
		return nil, err
	}
	cf := &cellFile{code: code, hdr: map[string]int{}, defined: map[string]bool{}}
	keep := func(kind cell.SegmentKind) (string, bool) {
		b := []byte(code)
		for i := range b {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
		any := false
		for _, s := range segs {
			if s.Kind != kind {
				continue
			}
			any = true
			copy(b[s.Pos:s.End], code[s.Pos:s.End])
			if s.End < len(b) && b[s.End] != '\n' {
				b[s.End] = ';'
			}
		}
		return string(b), any
	}
	n := c.fset.Base()
	name := func(kind string) string { return "cell" + strconv.Itoa(n) + "." + kind }
	const pkgHdr = "package main\n"
	if text, ok := keep(cell.SegImport); ok {
		f, err := parser.ParseFile(c.fset, name("imports"), pkgHdr+text, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		cf.hdr[name("imports")] = len(pkgHdr)
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
				cf.imports = append(cf.imports, gd)
			}
		}
	}
	if text, ok := keep(cell.SegDecl); ok {
		f, err := parser.ParseFile(c.fset, name("decls"), pkgHdr+text, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		cf.hdr[name("decls")] = len(pkgHdr)
		cf.decls = f.Decls
	}
	if text, ok := keep(cell.SegStmt); ok {
		hdr := pkgHdr + "func " + stmtFunc + "() {\n"
		f, err := parser.ParseFile(c.fset, name("stmts"), hdr+text+"\n}\n", parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		cf.hdr[name("stmts")] = len(hdr)
		cf.stmts = f.Decls[0].(*ast.FuncDecl)
		for _, st := range cf.stmts.Body.List {
			switch st := st.(type) {
			case *ast.AssignStmt:
				if st.Tok == token.DEFINE {
					for _, l := range st.Lhs {
						if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
							cf.defined[id.Name] = true
						}
					}
				}
			case *ast.ExprStmt:
				cf.exprs = append(cf.exprs, st.X)
			}
		}
	}
	cf.idents = map[string]bool{}
	for _, d := range cf.decls {
		for n := range identsOf(d) {
			cf.idents[n] = true
		}
	}
	if cf.stmts != nil {
		for n := range identsOf(cf.stmts) {
			cf.idents[n] = true
		}
	}
	return cf, nil
}

// cellPos maps a position to the cell, if it is in the cell.
func (c *Checker) cellPos(cf *cellFile, p token.Pos) (line, col int, ok bool) {
	if !p.IsValid() {
		return 0, 0, false
	}
	pos := c.fset.Position(p)
	hdr, ok := cf.hdr[pos.Filename]
	if !ok {
		return 0, 0, false
	}
	off := pos.Offset - hdr
	if off < 0 || off > len(cf.code) {
		return 0, 0, false
	}
	line = 1 + strings.Count(cf.code[:off], "\n")
	start := strings.LastIndexByte(cf.code[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(cf.code[start:off]), true
}

// declNames returns the names a declaration declares (methods as "T.M").
func declNames(d ast.Decl) []string {
	var names []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv != nil && len(d.Recv.List) == 1 {
			return []string{recvName(d.Recv.List[0].Type) + "." + d.Name.Name}
		}
		return []string{d.Name.Name}
	case *ast.GenDecl:
		for _, sp := range d.Specs {
			switch sp := sp.(type) {
			case *ast.ValueSpec:
				for _, n := range sp.Names {
					if n.Name != "_" {
						names = append(names, n.Name)
					}
				}
			case *ast.TypeSpec:
				names = append(names, sp.Name.Name)
			}
		}
	}
	return names
}

func recvName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

// importsOf lists a cell's imports with their local names.
func importsOf(decls []*ast.GenDecl) []importRec {
	var out []importRec
	for _, d := range decls {
		for _, sp := range d.Specs {
			is := sp.(*ast.ImportSpec)
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				continue
			}
			name := ""
			if is.Name != nil {
				name = is.Name.Name
			} else if r := resolve(p); r.ok {
				name = r.name
			}
			if name == "" || name == "_" {
				continue
			}
			out = append(out, importRec{name: name, path: p})
		}
	}
	return out
}

func importDecl(imps []importRec) *ast.GenDecl {
	d := &ast.GenDecl{Tok: token.IMPORT}
	for _, im := range imps {
		d.Specs = append(d.Specs, &ast.ImportSpec{
			Name: ast.NewIdent(im.name),
			Path: &ast.BasicLit{Kind: token.STRING, Value: strconv.Quote(im.path)},
		})
	}
	return d
}

// env builds the file of the earlier cells' declarations that the names in
// need reach, leaving out the names in taken (the current cell's), and
// returns the imports the current cell inherits, by local name. Only what
// the cell uses, directly or through other declarations, is checked again
// (a type comes with its methods): the cost of a check follows the cell,
// not the notebook. Only the imports a declaration uses are in the file:
// go/types spends more on an unused import than on a used one.
func (c *Checker) env(taken, need map[string]bool) (*ast.File, map[string]importRec) {
	imports := map[string]importRec{}
	var order []importRec
	var visible []*namedDecl             // the latest declaration of each name, newest first
	byName := map[string]*namedDecl{}    // funcs, vars, consts, types
	methods := map[string][]*namedDecl{} // by receiver type
	seen := map[string]bool{}
	for n := range taken {
		seen[n] = true
	}
	aliases := map[string]bool{} // type names declared as aliases
	for i := len(c.cells) - 1; i >= 0; i-- {
		r := c.cells[i]
		for _, im := range r.imports {
			// Of an import and a global of the same name (strings :=
			// []string{…} after import "strings"), the later one wins.
			if _, ok := imports[im.key()]; !ok && (im.name == "." || !seen[im.name]) {
				imports[im.key()] = im
				order = append(order, im)
				if im.name != "." {
					seen[im.name] = true
				}
			}
		}
		for j := range r.decls {
			d := &r.decls[j]
			fresh := false
			for _, n := range d.names {
				if !seen[n] {
					fresh = true
				}
			}
			if !fresh {
				continue
			}
			visible = append(visible, d)
			if gd, ok := d.decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, sp := range gd.Specs {
					if ts := sp.(*ast.TypeSpec); ts.Assign.IsValid() {
						aliases[ts.Name.Name] = true
					}
				}
			}
			for _, n := range d.names {
				if seen[n] {
					continue
				}
				seen[n] = true
				if recv, _, ok := strings.Cut(n, "."); ok {
					methods[recv] = append(methods[recv], d)
				} else {
					byName[n] = d
				}
			}
		}
	}
	included := map[*namedDecl]bool{}
	used := map[string]bool{}
	var work []string
	for n := range need {
		work = append(work, n)
	}
	for n := range aliases {
		// A method declared on an alias is the aliased type's: keep it
		// with the alias.
		for _, m := range methods[n] {
			for r := range m.refs {
				work = append(work, r)
			}
		}
	}
	include := func(d *namedDecl) {
		if d == nil || included[d] {
			return
		}
		included[d] = true
		for n := range d.refs {
			if !used[n] {
				used[n] = true
				work = append(work, n)
			}
		}
	}
	for len(work) > 0 {
		n := work[len(work)-1]
		work = work[:len(work)-1]
		include(byName[n])
		for _, m := range methods[n] {
			include(m)
		}
	}
	f := &ast.File{Name: ast.NewIdent("main")}
	var imps []importRec
	for _, im := range order {
		if used[im.name] || im.name == "." {
			imps = append(imps, im)
		}
	}
	if len(imps) > 0 {
		f.Decls = append(f.Decls, importDecl(imps))
	}
	for _, d := range visible {
		if included[d] {
			f.Decls = append(f.Decls, d.decl)
		}
	}
	return f, imports
}

// Check checks a cell against the notebook's earlier cells. A cell that
// does not parse gives no errors: the engine reports its syntax error.
func (c *Checker) Check(code string) (res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			res = &Result{skipped: fmt.Sprint("panic: ", r)} // let the interpreter judge
		}
	}()
	cf, err := c.parse(code)
	if err != nil {
		return &Result{skipped: err.Error()}
	}
	if errs := c.importErrors(cf); len(errs) > 0 {
		return &Result{Errors: errs}
	}
	taken := map[string]bool{}
	for _, d := range cf.decls {
		for _, n := range declNames(d) {
			taken[n] = true
		}
	}
	errs, info, pkg := c.run(cf, taken, nil)
	if c.undefinedDefined(cf, errs) {
		// A function of the cell uses a global its statements define:
		// declare those at the package level, with the types found.
		extra, imps := c.renderVars(c.topDefined(cf, info, pkg), pkg)
		for n := range cf.defined {
			taken[n] = true
		}
		errs, info, pkg = c.run(cf, taken, &record{imports: imps, decls: extra})
	}
	res = &Result{Errors: c.report(cf, errs)}
	if len(res.Errors) == 0 {
		res.rec = c.recordOf(cf, info, pkg)
	}
	return res
}

// run type-checks the cell with the earlier cells, plus extra.
func (c *Checker) run(cf *cellFile, taken map[string]bool, extra *record) ([]types.Error, *types.Info, *types.Package) {
	t := map[string]bool{}
	for n := range taken {
		t[n] = true
	}
	need := cf.idents
	if extra != nil {
		need = map[string]bool{}
		for n := range cf.idents {
			need[n] = true
		}
		for _, d := range extra.decls {
			for n := range d.refs {
				need[n] = true
			}
		}
	}
	env, inherited := c.env(t, need)
	if extra != nil {
		var imps []importRec
		for _, im := range extra.imports {
			if _, ok := inherited[im.key()]; !ok {
				imps = append(imps, im)
			}
		}
		if len(imps) > 0 {
			env.Decls = append([]ast.Decl{importDecl(imps)}, env.Decls...)
		}
		for _, d := range extra.decls {
			env.Decls = append(env.Decls, d.decl)
		}
	}
	f := &ast.File{Name: ast.NewIdent("main")}
	own := map[string]bool{}
	for _, im := range importsOf(cf.imports) {
		own[im.key()] = true
	}
	for _, d := range cf.imports {
		f.Decls = append(f.Decls, d)
	}
	var inh []importRec
	for key, im := range inherited {
		if !own[key] && (im.name == "." || !taken[im.name] && cf.idents[im.name]) {
			inh = append(inh, im)
		}
	}
	sort.Slice(inh, func(i, j int) bool { return inh[i].name < inh[j].name })
	if len(inh) > 0 {
		f.Decls = append(f.Decls, importDecl(inh))
	}
	f.Decls = append(f.Decls, cf.decls...)
	if cf.stmts != nil {
		f.Decls = append(f.Decls, cf.stmts)
	}
	var errs []types.Error
	conf := types.Config{
		Importer: c.imp,
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				errs = append(errs, te)
			}
		},
	}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}}
	pkg, _ := conf.Check("main", c.fset, []*ast.File{f, env}, info)
	return errs, info, pkg
}

// undefinedDefined reports whether an error says a name that the cell's
// statements define is undefined in one of its declarations.
func (c *Checker) undefinedDefined(cf *cellFile, errs []types.Error) bool {
	for _, e := range errs {
		name, ok := strings.CutPrefix(e.Msg, "undefined: ")
		if ok && cf.defined[name] && !c.inStmts(cf, e.Pos) {
			return true
		}
	}
	return false
}

func (c *Checker) inStmts(cf *cellFile, p token.Pos) bool {
	return cf.stmts != nil && p >= cf.stmts.Pos() && p < cf.stmts.End()
}

// renderVars declares vars at the package level as source (`var x T`),
// naming the packages of their types by hidden imports.
func (c *Checker) renderVars(vars []*types.Var, pkg *types.Package) ([]namedDecl, []importRec) {
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name() < vars[j].Name() })
	seen := map[string]bool{}
	var imps []importRec
	qual := func(p *types.Package) string {
		if p == pkg || p.Path() == "main" {
			return ""
		}
		alias := "__goproc_tc_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, p.Path())
		if !seen[alias] {
			seen[alias] = true
			imps = append(imps, importRec{name: alias, path: p.Path()})
		}
		return alias
	}
	var src strings.Builder
	src.WriteString("package main\n")
	done := map[string]bool{}
	for _, v := range vars {
		if done[v.Name()] || !validType(v.Type()) {
			continue
		}
		done[v.Name()] = true
		src.WriteString("var " + v.Name() + " " + types.TypeString(v.Type(), qual) + "\n")
	}
	f, err := parser.ParseFile(c.fset, "vars", src.String(), parser.SkipObjectResolution)
	if err != nil {
		return nil, nil
	}
	var out []namedDecl
	for _, d := range f.Decls {
		out = append(out, newNamedDecl(d))
	}
	return out, imps
}

// validType reports whether t can be spelled: no invalid or untyped part.
func validType(t types.Type) bool {
	ok := true
	var walk func(types.Type, int)
	walk = func(t types.Type, depth int) {
		if !ok || depth > 20 {
			return
		}
		switch t := t.(type) {
		case *types.Basic:
			if t.Kind() == types.Invalid || t.Info()&types.IsUntyped != 0 {
				ok = false
			}
		case *types.Pointer:
			walk(t.Elem(), depth+1)
		case *types.Slice:
			walk(t.Elem(), depth+1)
		case *types.Array:
			walk(t.Elem(), depth+1)
		case *types.Map:
			walk(t.Key(), depth+1)
			walk(t.Elem(), depth+1)
		case *types.Chan:
			walk(t.Elem(), depth+1)
		case *types.Signature:
			for i := range t.Params().Len() {
				walk(t.Params().At(i).Type(), depth+1)
			}
			for i := range t.Results().Len() {
				walk(t.Results().At(i).Type(), depth+1)
			}
		case *types.Struct:
			for i := range t.NumFields() {
				walk(t.Field(i).Type(), depth+1)
			}
		case *types.Tuple:
			ok = false
		}
	}
	walk(t, 0)
	return ok
}

// recordOf keeps what a checked cell declares for the cells after it.
func (c *Checker) recordOf(cf *cellFile, info *types.Info, pkg *types.Package) *record {
	r := &record{imports: importsOf(cf.imports)}
	for _, d := range cf.decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			if fd.Recv == nil && fd.Name.Name == "init" {
				continue
			}
			cp := *fd
			cp.Body = nil // checked now; later cells need its signature
			d = &cp
		}
		r.decls = append(r.decls, newNamedDecl(d))
	}
	if len(cf.defined) > 0 && info != nil && pkg != nil {
		decls, imps := c.renderVars(c.topDefined(cf, info, pkg), pkg)
		r.decls = append(r.decls, decls...)
		r.imports = append(r.imports, imps...)
	}
	return r
}

// topDefined returns the variables the cell's top-level statements define.
func (c *Checker) topDefined(cf *cellFile, info *types.Info, pkg *types.Package) []*types.Var {
	var vars []*types.Var
	for id, obj := range info.Defs {
		v, ok := obj.(*types.Var)
		if !ok || !cf.defined[id.Name] || !c.inStmts(cf, id.Pos()) {
			continue
		}
		// The statements' function scope, in the file scope, in the
		// package scope: not a block inside them.
		if s := v.Parent(); s != nil && s.Parent() != nil && s.Parent().Parent() == pkg.Scope() {
			vars = append(vars, v)
		}
	}
	return vars
}

// importErrors reports imports the interpreter does not have, as go build
// words a package it cannot find.
func (c *Checker) importErrors(cf *cellFile) []Error {
	var errs []Error
	for _, d := range cf.imports {
		for _, sp := range d.Specs {
			is := sp.(*ast.ImportSpec)
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil || available(p) {
				continue
			}
			line, col, _ := c.cellPos(cf, is.Path.Pos())
			var msg string
			switch {
			case p == "unsafe" || p == "C":
				msg = "package " + p + " is not available in goproc: the Go interpreter cannot run it"
			case strings.Contains(strings.SplitN(p, "/", 2)[0], "."):
				// The kernel and goproc run build a cell's modules before
				// it gets here; this engine has no builder (goproc grade).
				msg = "package " + p + " is not built into this engine: the goproc kernel and goproc run build the modules a cell imports; goproc grade offers only those the source notebook imports"
			default:
				msg = "package " + p + " is not in std"
				if c.stdDir(p) != "" {
					msg = "package " + p + " is not available in goproc's interpreter"
				}
			}
			errs = append(errs, Error{Line: line, Col: col, Msg: msg})
		}
	}
	return errs
}

// report keeps the errors to show, in cell coordinates and order.
func (c *Checker) report(cf *cellFile, errs []types.Error) []Error {
	if len(errs) == 0 {
		return nil
	}
	reach := c.reachable(cf)
	imports := map[string]string{}
	for _, im := range importsOf(cf.imports) {
		imports[im.name] = im.path
	}
	for i := len(c.cells) - 1; i >= 0; i-- {
		for _, im := range c.cells[i].imports {
			if _, ok := imports[im.name]; !ok {
				imports[im.name] = im.path
			}
		}
	}
	var out []Error
	seen := map[Error]bool{}
	for _, e := range errs {
		line, col, ok := c.cellPos(cf, e.Pos)
		if !ok || c.relaxed(cf, e, reach, imports) {
			continue
		}
		ce := Error{Line: line, Col: col, Msg: e.Msg}
		if !seen[ce] {
			seen[ce] = true
			out = append(out, ce)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Col < out[j].Col
	})
	return out
}

// relaxed reports whether an error is one a notebook may make, or one the
// checker cannot be sure of.
func (c *Checker) relaxed(cf *cellFile, e types.Error, reach map[*ast.FuncDecl]bool, imports map[string]string) bool {
	msg := e.Msg
	switch {
	case strings.HasPrefix(msg, "declared and not used"), strings.HasSuffix(msg, " declared and not used"),
		strings.Contains(msg, " imported and not used"), strings.Contains(msg, " and not used") && strings.Contains(msg, " imported as "):
		return true
	case strings.HasSuffix(msg, " is not used"):
		for _, x := range cf.exprs {
			if e.Pos >= x.Pos() && e.Pos < x.End() {
				return true // a top-level expression: shown, or harmless
			}
		}
	}
	// A name or method a later cell may declare: in a function the cell
	// does not run, or anywhere in a cell of declarations only (which
	// the engine may hold until the names exist).
	fn := c.funcAt(cf, e.Pos)
	forward := fn != nil && !reach[fn] || fn == nil && cf.stmts == nil
	if name, ok := strings.CutPrefix(msg, "undefined: "); ok {
		if pkgName, sym, sel := strings.Cut(name, "."); sel {
			p, imported := imports[pkgName]
			if !imported {
				return false
			}
			r := resolve(p)
			if r.goproc {
				return true // goproc may supply it from source
			}
			return c.stdDeclares(r.full, sym) // Go has it; the interpreter's tables may not
		}
		if c.opts.Known != nil && c.opts.Known(name) {
			return true
		}
		return forward // a later cell may declare it
	}
	if i := strings.Index(msg, " does not implement "); forward && i >= 0 && strings.Contains(msg, "(missing method ") {
		// A notebook type whose method a later cell may declare.
		t := msg[:i]
		t = strings.TrimPrefix(t[strings.LastIndex(t, ": ")+2:], "*")
		return !strings.Contains(t, ".")
	}
	if i := strings.Index(msg, " undefined (type "); i >= 0 && strings.Contains(msg, " has no field or method ") {
		t, rest, _ := strings.Cut(msg[i+len(" undefined (type "):], " has no field or method ")
		t = strings.TrimPrefix(t, "*")
		method, _, _ := strings.Cut(strings.TrimSuffix(rest, ")"), ",")
		pkgName, typeName, qualified := strings.Cut(t, ".")
		if !qualified {
			// A method of the notebook's own type, which a later cell
			// may declare.
			return forward
		}
		// A method newer than the interpreter's standard library.
		p, imported := imports[pkgName]
		if !imported {
			p = pkgName
		}
		if r := resolve(p); r.ok && !r.goproc {
			return c.stdDeclares(r.full, typeName+"."+method)
		}
	}
	return false
}

// funcAt returns the cell's function declaration whose body holds p.
func (c *Checker) funcAt(cf *cellFile, p token.Pos) *ast.FuncDecl {
	for _, d := range cf.decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil && p >= fd.Body.Pos() && p < fd.Body.End() {
			return fd
		}
	}
	return nil
}

// reachable finds the cell's functions the cell may run now: those its
// statements, its package-level initialisers, its main and its init name,
// and those they name in turn.
func (c *Checker) reachable(cf *cellFile) map[*ast.FuncDecl]bool {
	names := map[string]bool{}
	add := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				names[id.Name] = true
			}
			return true
		})
	}
	var funcs []*ast.FuncDecl
	for _, d := range cf.decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "main" {
				names[d.Name.Name] = true // main runs at the end of its cell
			}
			funcs = append(funcs, d)
		case *ast.GenDecl:
			if d.Tok == token.VAR || d.Tok == token.CONST {
				add(d)
			}
		}
	}
	if cf.stmts != nil {
		add(cf.stmts.Body)
	}
	reach := map[*ast.FuncDecl]bool{}
	for changed := true; changed; {
		changed = false
		for _, fd := range funcs {
			if !reach[fd] && names[fd.Name.Name] && fd.Name.Name != "init" {
				reach[fd] = true
				changed = true
				add(fd)
			}
		}
	}
	return reach
}

// stdDir returns GOROOT's source directory of a standard package, or "".
func (c *Checker) stdDir(p string) string {
	root := runtime.GOROOT()
	if root == "" {
		return ""
	}
	dir := filepath.Join(root, "src", filepath.FromSlash(p))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

// stdDeclares reports whether the Go sources installed declare name at the
// top level of a standard package: the interpreter's tables are an older
// standard library's, and have no generic functions.
func (c *Checker) stdDeclares(p, name string) bool {
	names, ok := c.stdNames[p]
	if !ok {
		names = map[string]bool{}
		c.stdNames[p] = names
		dir := c.stdDir(p)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			n := e.Name()
			if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, n), nil, parser.SkipObjectResolution)
			if err != nil {
				continue
			}
			for _, d := range f.Decls {
				for _, dn := range declNames(d) {
					names[dn] = true
				}
			}
		}
	}
	return names[name]
}
