package engine

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/goproc/goproc/kernel/stdsyms"
)

// Late binding across cells. In a Go file a declaration may use one that
// comes after it, and Python looks a name up when the code runs; a notebook
// written a cell per declaration (the way notebook users port a program)
// has each cell use what later cells declare. yaegi compiles a declaration
// at once and rejects a name it does not know yet ("undefined: g",
// "variable definition loop", crashes such as "nil type").
//
// So a cell made only of declarations that uses a name no cell has declared
// is held: it runs nothing yet and succeeds. Once the cells after it have
// declared every name it waits for, it runs, in the order the cells were
// held, as if it had come just then; a held cell that others wait for
// releases them in turn. Until then, a cell that uses what a held cell
// declares is told which name that cell waits for.

// heldCell is a cell of declarations waiting for names.
type heldCell struct {
	code     string
	declares []string // its top-level names (not methods)
	missing  []string // the names it uses that no cell had declared
	// lastErr is why the cell did not compile when it was last released
	// (a method it needs may come in a later cell): it is tried again
	// after each cell that runs.
	lastErr string
}

// holdLate holds code if it is declarations only and uses names that
// neither the notebook nor the cell declares, and reports whether it did.
// A cell that redeclares a held cell's names replaces it.
func (in *Interpreter) holdLate(code string) bool {
	file := declarationsOnly(code)
	if file == nil {
		return false
	}
	declares := topLevelNames(file)
	// A cell run again, or a new version of a held declaration, replaces
	// the held one.
	in.late = slices.DeleteFunc(in.late, func(h *heldCell) bool {
		return h.code == code || overlap(h.declares, declares)
	})
	missing := in.missingNames(file)
	if len(missing) == 0 {
		return false
	}
	in.late = append(in.late, &heldCell{code: code, declares: declares, missing: missing})
	return true
}

// holdFailed holds a cell of declarations that go/types accepts but the
// interpreter does not compile for want of a method a later cell may
// declare (`func NewS() I { return &s{} }` before s's methods: the check
// lets a function the cell does not run use what a later cell may
// declare). Like a held cell it is tried again after each cell that runs,
// and using what it declares meanwhile shows the interpreter's error. It
// reports whether it held code.
func (in *Interpreter) holdFailed(code string, out CellOutcome) bool {
	if out.Err == nil || out.Err.Name != "CompileError" || !methodMissing(out.Err.Value) {
		return false
	}
	file := declarationsOnly(code)
	if file == nil {
		return false
	}
	if r := in.typeCheck(code); r == nil || len(r.Errors) > 0 {
		return false // the mistake is the cell's (or there is no check to tell)
	}
	in.late = append(in.late, &heldCell{code: code, declares: topLevelNames(file), lastErr: out.Err.Value})
	return true
}

// methodMissing reports whether an interpreter's compile error is one a
// method declared later would fix; other errors of code go/types accepts
// are the interpreter's limits, which the user must see at once.
func methodMissing(msg string) bool {
	return strings.Contains(msg, "undefined selector") || strings.Contains(msg, "missing method") ||
		strings.Contains(msg, "has no field or method") ||
		strings.Contains(msg, "cannot use") && strings.Contains(msg, "interface")
}

// releaseLate runs the held cells whose names are all declared now, until
// none is left that can run. A held cell that fails now reports its error
// on stderr: the cell that released it succeeded.
//
// Held cells that wait for each other (mutually recursive types or
// functions, each in a cell of its own) run together, as one cell, once
// nothing else they wait for is missing.
//
// A released cell that does not compile (it may need a method a later cell
// declares) stays held and is tried again after the next cell that runs; a
// call of what it declares shows its error.
func (in *Interpreter) releaseLate(ctx context.Context) {
	failed := map[*heldCell]bool{} // tried in this call since the last success
	for len(in.late) > 0 {
		ready := func(h *heldCell) bool { return !failed[h] && len(in.stillMissing(h)) == 0 }
		// Methods first: a variable released with them may need its
		// type to implement an interface.
		i := slices.IndexFunc(in.late, func(h *heldCell) bool { return len(h.declares) == 0 && ready(h) })
		if i < 0 {
			i = slices.IndexFunc(in.late, ready)
		}
		var group []*heldCell
		if i >= 0 {
			group = []*heldCell{in.late[i]}
		} else if group = in.cycle(failed); group == nil {
			return
		}
		in.late = slices.DeleteFunc(in.late, func(h *heldCell) bool { return slices.Contains(group, h) })
		var codes, declares []string
		for _, h := range group {
			codes = append(codes, h.code)
			declares = append(declares, h.declares...)
		}
		out := in.run(ctx, strings.Join(codes, "\n"))
		switch {
		case out.Err == nil:
			clear(failed)
		case out.Err.Name == "CompileError" || out.Err.Name == "SyntaxError":
			for _, h := range group {
				h.lastErr = out.Err.Value
				failed[h] = true
			}
			in.late = append(in.late, group...)
		default: // it ran, and failed running
			fmt.Fprintf(in.stderr.w, "The cell that declares %s, held until the names it uses were declared, failed:\n%s\n",
				strings.Join(declares, ", "), strings.Join(out.Err.Traceback, "\n"))
		}
	}
}

// cycle returns the held cells that wait only for each other and for
// declared names, in the order they were held, or nil if there are none.
func (in *Interpreter) cycle(failed map[*heldCell]bool) []*heldCell {
	group := slices.DeleteFunc(slices.Clone(in.late), func(h *heldCell) bool { return failed[h] })
	for {
		offers := map[string]bool{}
		for _, h := range group {
			for _, n := range h.declares {
				offers[n] = true
			}
		}
		n := len(group)
		group = slices.DeleteFunc(group, func(h *heldCell) bool {
			for _, m := range in.stillMissing(h) {
				if !offers[m] {
					return true
				}
			}
			return false
		})
		if len(group) == n {
			break
		}
	}
	if len(group) < 2 {
		return nil
	}
	return group
}

// explainHeld adds to an "undefined: name" error, where a held cell
// declares name, what that cell waits for.
func (in *Interpreter) explainHeld(e *CellOutcome) {
	if e.Err == nil || len(in.late) == 0 {
		return
	}
	msg := e.Err.Value + "\n" + strings.Join(e.Err.Traceback, "\n")
	for _, h := range in.late {
		for _, n := range h.declares {
			if !strings.Contains(msg, "undefined: "+n) {
				continue
			}
			waits := in.stillMissing(h)
			var note string
			if len(waits) == 0 {
				note = fmt.Sprintf("%s is declared in an earlier cell that does not compile yet: %s", n, h.lastErr)
			} else {
				note = fmt.Sprintf("%s is declared in an earlier cell that waits for %s: no cell has declared %s yet.",
					n, quoteList(waits), pluralIt(waits))
			}
			e.Err.Value += " (" + note + ")"
			e.Err.Traceback = append(e.Err.Traceback, note)
			return
		}
	}
}

func quoteList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func pluralIt(names []string) string {
	if len(names) == 1 {
		return "it"
	}
	return "them"
}

// stillMissing returns the names h waits for that are still not declared.
func (in *Interpreter) stillMissing(h *heldCell) []string {
	var out []string
	globals := in.safeGlobals()
	for _, n := range h.missing {
		if !in.knownName(n, globals) {
			out = append(out, n)
		}
	}
	return out
}

// missingNames returns the names file uses that are not declared in it,
// not predeclared, not an imported package and not declared by the
// notebook, sorted.
func (in *Interpreter) missingNames(file *ast.File) []string {
	imported := map[string]bool{}
	for _, imp := range file.Imports {
		imported[importedName(imp)] = true
	}
	globals := in.safeGlobals()
	set := map[string]bool{}
	unresolved := slices.Clone(file.Unresolved)
	// go/parser leaves a composite literal's keys out: they may be a
	// struct's fields. A map's or an array's are expressions.
	ast.Inspect(file, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		switch cl.Type.(type) {
		case *ast.MapType, *ast.ArrayType:
			for _, e := range cl.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok && id.Obj == nil {
						unresolved = append(unresolved, id)
					}
				}
			}
		}
		return true
	})
	// A standard package's name before a selector (strings.ToUpper without
	// import "strings") is a forgotten import, for the type check to
	// report, not a name a later cell declares.
	selected := map[*ast.Ident]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && stdPackageNames()[id.Name] {
				selected[id] = true
			}
		}
		return true
	})
	for _, id := range unresolved {
		if selected[id] {
			continue
		}
		n := id.Name
		if n == "_" || imported[n] || types.Universe.Lookup(n) != nil || in.knownName(n, globals) {
			continue
		}
		set[n] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// stdPackageNames are the names the standard library's packages declare
// (the last element of their paths).
var stdPackageNames = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, p := range stdsyms.Paths() {
		names[p[strings.LastIndex(p, "/")+1:]] = true
	}
	return names
})

// knownName reports whether the notebook declares name: a global, a
// function or type of an earlier cell, an imported package.
func (in *Interpreter) knownName(name string, globals map[string]reflect.Value) bool {
	if _, ok := globals[name]; ok {
		return true
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.decls[name]; ok {
		return true
	}
	if _, ok := in.types[name]; ok {
		return true
	}
	for k := range in.imports {
		if strings.HasPrefix(k, name+" ") {
			return true
		}
	}
	return false
}

// importedName is the name an import spec binds.
func importedName(imp *ast.ImportSpec) string {
	if imp.Name != nil {
		return imp.Name.Name
	}
	p, err := strconv.Unquote(imp.Path.Value)
	if err != nil {
		return ""
	}
	return p[strings.LastIndex(p, "/")+1:]
}

// declarationsOnly parses code as a Go file (with "package main" in front
// unless it has a package clause) with identifiers resolved, or returns nil
// when it holds statements, declares main (a cell that declares main is
// one to run: a name missing there is a mistake to report), or does not
// parse. An init waits, as in a Go program it runs after every
// declaration.
func declarationsOnly(code string) *ast.File {
	src := code
	if !hasPackageClause(code) {
		src = "package main;" + code
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", src, 0)
	if err != nil || len(f.Decls) == 0 {
		return nil
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
			return nil
		}
	}
	return f
}

// hasPackageClause reports whether code's first token is "package".
func hasPackageClause(code string) bool {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	_, tok, _ := s.Scan()
	return tok == token.PACKAGE
}

// topLevelNames returns the names a file declares at the top level
// (functions, types, vars, consts; not methods).
func topLevelNames(f *ast.File) []string {
	var out []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				out = append(out, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						out = append(out, n.Name)
					}
				case *ast.TypeSpec:
					out = append(out, sp.Name.Name)
				}
			}
		}
	}
	return out
}

func overlap(a, b []string) bool {
	for _, n := range a {
		if slices.Contains(b, n) {
			return true
		}
	}
	return false
}

// A program's main body, pasted as a cell (the last cell of a program
// written a cell per declaration), may return early: in main, return ends
// the program. A cell of statements only with a return (or a goto) at its
// top level therefore runs as the body of a function literal, called at
// once: return ends the cell, and its variables are the literal's, not
// globals. The
// literal opens on the cell's first line, so that lines keep their numbers.
func returningCell(code string) (string, bool) {
	const head = "package p; func _() {\n"
	f, err := parser.ParseFile(token.NewFileSet(), "", head+code+"\n}", parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return code, false
	}
	fd, ok := f.Decls[0].(*ast.FuncDecl)
	if !ok || fd.Body == nil {
		return code, false
	}
	found := false
	for _, s := range fd.Body.List {
		ast.Inspect(s, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				found = true
			case *ast.BranchStmt:
				found = n.Tok == token.GOTO // the cell's chunks would part label and goto
			}
			return !found
		})
	}
	if !found {
		return code, false
	}
	return "func() { " + code + "\n}()", true
}
