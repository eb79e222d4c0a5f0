package grader

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path"
	"sort"
	"strconv"
	"strings"

	cellsyntax "github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/notebook"
)

// Where a test runs decides who can forge its verdict. A test cell that
// only reads what earlier cells printed (through package grade) runs in a
// verifier: an engine the grader starts for the submission, outside its
// sandbox, that never runs the student's code and reads the record the
// grader wrote from what it observed. Nothing a student writes can shadow
// its names, set its environment or write to its pipes. A test that calls
// the student's functions has to run where they are, in the student's
// engine; the names it relies on that the student is not asked to write
// are reserved, and a submission that declares one of them is reported and
// the test scores 0.

// testPlan says where each test cell of the source runs.
type testPlan struct {
	// tests are the grade_ids of the source's test cells: only their
	// restored copies ever run outside the student's sandbox, whatever
	// metadata a submission gives its own cells.
	tests map[string]bool
	// inProcess are the grade_ids of tests that call the notebook's code.
	inProcess map[string]bool
	// imports are the imports each verifier test needs from earlier cells,
	// by grade_id.
	imports map[string][]importSpec
	// reserved maps a name in-process tests rely on to the first test that
	// does.
	reserved map[string]string
}

type importSpec struct{ name, path string }

func (s importSpec) String() string {
	if s.name != "" && s.name != path.Base(s.path) {
		return s.name + " " + strconv.Quote(s.path)
	}
	return strconv.Quote(s.path)
}

// planTests classifies the source's test cells.
func planTests(source *notebook.Notebook) testPlan {
	p := testPlan{tests: map[string]bool{}, inProcess: map[string]bool{}, imports: map[string][]importSpec{}, reserved: map[string]string{}}
	verifierNames := map[string]bool{} // declared by tests run in the verifier
	solutionNames := map[string]bool{} // declared by the model answers
	notebookNames := map[string]bool{} // declared by any other cell
	seenImports := map[string]importSpec{}
	for _, c := range source.Cells {
		if c.CellType != "code" {
			continue
		}
		m, _ := MetaOf(c)
		a := analyseCell(string(c.Source))
		isTest := m.GradeID != "" && m.IsTest(c.CellType)
		if !isTest {
			for _, n := range a.declared {
				notebookNames[n] = true
				if m.Solution {
					solutionNames[n] = true
				}
			}
			for _, im := range a.imports {
				seenImports[im.name] = im
			}
			continue
		}
		p.tests[m.GradeID] = true
		own := map[string]bool{}
		for _, im := range a.imports {
			own[im.name] = true
		}
		var needs []importSpec
		inProcess := !a.parsed
		for _, n := range a.free {
			switch {
			case own[n] || verifierNames[n]:
			case seenImports[n].path != "" && !notebookNames[n]:
				needs = append(needs, seenImports[n])
			default:
				inProcess = true
			}
		}
		if inProcess {
			p.inProcess[m.GradeID] = true
			for _, n := range a.free {
				if !solutionNames[n] {
					if _, ok := p.reserved[n]; !ok {
						p.reserved[n] = m.GradeID
					}
				}
			}
			for _, im := range a.imports {
				if _, ok := p.reserved[im.name]; !ok {
					p.reserved[im.name] = m.GradeID
				}
			}
			continue
		}
		p.imports[m.GradeID] = needs
		for _, n := range a.declared {
			verifierNames[n] = true
		}
	}
	return p
}

// reservedDeclared returns the reserved names that the student's cells
// (those not restored from the source) declare, sorted.
func (p testPlan) reservedDeclared(nb *notebook.Notebook) []string {
	if len(p.reserved) == 0 {
		return nil
	}
	found := map[string]bool{}
	for _, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		if m, ok := MetaOf(c); ok && m.Restored() {
			continue
		}
		for _, n := range analyseCell(string(c.Source)).declared {
			if _, ok := p.reserved[n]; ok {
				found[n] = true
			}
		}
	}
	var out []string
	for n := range found {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// cellNames is what a cell imports, declares at its top level, and uses
// without declaring.
type cellNames struct {
	parsed   bool
	imports  []importSpec
	declared []string
	free     []string
}

// analyseCell parses a goproc cell (imports, then declarations and
// statements mixed) as Go: comments and strings are not code.
func analyseCell(src string) cellNames {
	var out cellNames
	segs, err := cellsyntax.Segments(src)
	if err != nil {
		return out
	}
	// Imports first, top-level functions apart, everything else as the
	// body of one function, as the cell runs.
	var imports, decls, body strings.Builder
	for _, sg := range segs {
		text := src[sg.Pos:sg.End] + "\n"
		switch {
		case sg.Kind == cellsyntax.SegImport:
			imports.WriteString(text)
		case sg.Kind == cellsyntax.SegDecl && strings.HasPrefix(text, "func"):
			decls.WriteString(text)
		case sg.Kind != cellsyntax.SegPackage:
			body.WriteString(text)
		}
	}
	text := "package p\n" + imports.String() + decls.String() + "func _() {\n" + body.String() + "\n}\n"
	f, err := parser.ParseFile(token.NewFileSet(), "cell.go", text, 0)
	if err != nil {
		return out
	}
	out.parsed = true
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		spec := importSpec{path: p, name: path.Base(p)}
		if im.Name != nil {
			spec.name = im.Name.Name
		}
		out.imports = append(out.imports, spec)
	}
	seen := map[string]bool{}
	for _, id := range f.Unresolved {
		if seen[id.Name] || types.Universe.Lookup(id.Name) != nil {
			continue
		}
		seen[id.Name] = true
		out.free = append(out.free, id.Name)
	}
	isOwnImport := map[string]bool{}
	for _, im := range out.imports {
		isOwnImport[im.name] = true
	}
	var free []string
	for _, n := range out.free {
		if !isOwnImport[n] {
			free = append(free, n)
		}
	}
	out.free = free
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.Name == "_" {
				for _, st := range d.Body.List {
					out.declared = append(out.declared, stmtNames(st)...)
				}
			} else if d.Recv == nil {
				out.declared = append(out.declared, d.Name.Name)
			}
		case *ast.GenDecl:
			out.declared = append(out.declared, specNames(d)...)
		}
	}
	return out
}

// stmtNames returns what a top-level statement of a cell declares.
func stmtNames(st ast.Stmt) []string {
	var out []string
	switch st := st.(type) {
	case *ast.AssignStmt:
		if st.Tok == token.DEFINE {
			for _, e := range st.Lhs {
				if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
					out = append(out, id.Name)
				}
			}
		}
	case *ast.DeclStmt:
		if g, ok := st.Decl.(*ast.GenDecl); ok {
			out = append(out, specNames(g)...)
		}
	}
	return out
}

func specNames(g *ast.GenDecl) []string {
	var out []string
	for _, s := range g.Specs {
		switch s := s.(type) {
		case *ast.ValueSpec:
			for _, n := range s.Names {
				if n.Name != "_" {
					out = append(out, n.Name)
				}
			}
		case *ast.TypeSpec:
			out = append(out, s.Name.Name)
		}
	}
	return out
}
