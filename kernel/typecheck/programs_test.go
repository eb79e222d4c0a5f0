package typecheck

import (
	"go/ast"
	goimporter "go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoPrograms runs the checker over yaegi's own test programs (in the
// module cache): every program go/types accepts with Go's real standard
// library (the source importer) must pass as one cell, and as a cell per
// top-level declaration with main's body last, as notebook users write
// them. Slow (the source importer parses the standard library): set
// GOPROC_PROGRAMS=1.
func TestGoPrograms(t *testing.T) {
	if os.Getenv("GOPROC_PROGRAMS") != "1" {
		t.Skip("set GOPROC_PROGRAMS=1")
	}
	dir := filepath.Join(os.Getenv("HOME"), "go/pkg/mod/github.com/traefik/yaegi@v0.16.1/_test")
	if gm := os.Getenv("GOMODCACHE"); gm != "" {
		dir = filepath.Join(gm, "github.com/traefik/yaegi@v0.16.1/_test")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	if len(files) == 0 {
		t.Skip("yaegi's test programs not found in", dir)
	}
	fset := token.NewFileSet()
	oracle := goimporter.ForCompiler(fset, "source", nil)
	valid, cells := 0, 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil || f.Name.Name != "main" || usesUnavailable(f) {
			continue
		}
		ok := true
		conf := types.Config{Importer: oracle, Error: func(err error) {
			msg := err.(types.Error).Msg
			if !strings.Contains(msg, "declared and not used") && !strings.Contains(msg, "imported and not used") {
				ok = false
			}
		}}
		conf.Check("main", fset, []*ast.File{f}, nil)
		if !ok {
			continue // Go rejects it too
		}
		valid++
		name := filepath.Base(path)
		if knownMisses[name] != "" {
			continue
		}
		if r := New(Options{}).Check(string(src)); len(r.Errors) > 0 || r.skipped != "" {
			t.Errorf("%s as one cell: %v %s", name, r.Errors, r.skipped)
		}
		c := New(Options{})
		for i, cell := range perDeclaration(string(src), f, fset) {
			cells++
			r := c.Check(cell)
			if len(r.Errors) > 0 {
				t.Errorf("%s, cell %d %q: %v", name, i+1, cell, r.Errors)
				break
			}
			c.Commit(r)
		}
	}
	t.Logf("%d programs Go accepts, %d cells", valid, cells)
}

// knownMisses are programs the checker rejects as a cell per declaration,
// and why.
var knownMisses = map[string]string{
	"a44.go": "var a = [max]int{} before the cell that declares const max: max is the builtin until then",
}

// usesUnavailable reports whether a program imports what the interpreter
// does not have.
func usesUnavailable(f *ast.File) bool {
	for _, is := range f.Imports {
		if !available(strings.Trim(is.Path.Value, `"`)) {
			return true
		}
	}
	return false
}

// perDeclaration splits a program into notebook cells: its imports, each
// declaration but main, and main's body.
func perDeclaration(src string, f *ast.File, fset *token.FileSet) []string {
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var cells []string
	var body string
	for _, d := range f.Decls {
		text := src[off(d.Pos()):off(d.End())]
		if gd, ok := d.(*ast.GenDecl); ok && gd.Doc != nil {
			text = src[off(gd.Pos()):off(d.End())]
		}
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" && fd.Body != nil {
			body = src[off(fd.Body.Lbrace)+1 : off(fd.Body.Rbrace)]
			continue
		}
		cells = append(cells, text)
	}
	return append(cells, body)
}
