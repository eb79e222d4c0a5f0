// Command generate writes kernel/stdsyms's standard-library symbol tables,
// turning every table from a map built in init into a function that builds
// it on demand.
//
// The tables are extracted with yaegi's extract package from the standard
// library of the Go this command runs with (the one goproc is built with),
// so cells see that Go's library, not the Go 1.22 one of yaegi's own
// tables; syscall's only for the platforms goproc supports. yaegi's
// hand-written helpers (restricted.go, its unrestricted overlay) are copied.
//
// yaegi's stdlib package fills one map per package in init: about 6,000
// reflect.Values built before main, in every goproc process, whether or not
// a cell ever imports the package. The copies register a builder instead, so
// starting a process costs a map insert per package and an interpreter pays
// only for the packages its cells import.
//
// Run it from kernel/stdsyms with `go generate` after changing the Go
// version or the yaegi version in go.mod.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/format"
	"go/parser"
	"go/token"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/traefik/yaegi/extract"
)

// verbatim lists yaegi stdlib files copied with only the package clause
// changed: helpers the tables refer to.
var verbatim = []string{"restricted.go", "maptypes.go", "wrapper-composed.go"}

// platforms are those goproc supports: syscall's tables are made for these
// only.
var platforms = [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}}

// newPackages are packages of Go 1.23 and later that yaegi's list (the
// packages of its own tables) does not have.
var newPackages = []string{
	"crypto/fips140", "crypto/hkdf", "crypto/hpke", "crypto/mlkem", "crypto/pbkdf2", "crypto/sha3",
	"iter", "structs", "testing/synctest", "unique", "weak",
}

// syscallUnrestricted are the syscall symbols only the unrestricted
// overlay has (as yaegi splits them: stdlib/syscall and
// stdlib/unrestricted).
const syscallUnrestricted = "^Exec,Exit,ForkExec,Kill,Ptrace,Reboot,Shutdown,StartProcess,Syscall"

func main() {
	log.SetFlags(0)
	log.SetPrefix("generate: ")
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/traefik/yaegi").Output()
	if err != nil {
		log.Fatalf("find the yaegi module (run from inside the goproc module): %v", err)
	}
	yaegi := strings.TrimSpace(string(out))
	if err := clean("."); err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "stdsyms")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	version := goVersion()
	pkgs, err := yaegiPackages(filepath.Join(yaegi, "stdlib"))
	if err != nil {
		log.Fatal(err)
	}
	pkgs = append(pkgs, newPackages...)
	sort.Strings(pkgs)
	build.Default.CgoEnabled = false // goproc is built without cgo
	n := 0
	for _, pkg := range pkgs {
		name := version + "_" + strings.ReplaceAll(pkg, "/", "_") + ".go"
		if err := extractTo(filepath.Join(tmp, name), pkg, extract.Extractor{Dest: "stdsyms"}); err != nil {
			log.Fatal(err)
		}
		if err := rewrite(filepath.Join(tmp, name), "std_"+name, "register"); err != nil {
			log.Fatal(err)
		}
		n++
	}
	host := [2]string{build.Default.GOOS, build.Default.GOARCH}
	for _, p := range platforms {
		build.Default.GOOS, build.Default.GOARCH = p[0], p[1]
		name := version + "_syscall_" + p[0] + "_" + p[1] + ".go"
		for _, t := range []struct {
			prefix, register string
			ext              extract.Extractor
		}{
			{"syscall_", "register", extract.Extractor{Dest: "stdsyms", Exclude: strings.Split(syscallUnrestricted, ",")}},
			{"unrestricted_", "registerUnrestricted", extract.Extractor{Dest: "stdsyms", Include: strings.Split(syscallUnrestricted, ",")}},
		} {
			if err := extractTo(filepath.Join(tmp, t.prefix+name), "syscall", t.ext); err != nil {
				log.Fatal(err)
			}
			if err := rewrite(filepath.Join(tmp, t.prefix+name), t.prefix+name, t.register); err != nil {
				log.Fatal(err)
			}
			n++
		}
	}
	build.Default.GOOS, build.Default.GOARCH = host[0], host[1]
	if err := rewrite(filepath.Join(yaegi, "stdlib", "unrestricted", "unrestricted.go"), "unrestricted_unrestricted.go", "registerUnrestricted"); err != nil {
		log.Fatal(err)
	}
	n++
	for _, name := range verbatim {
		if err := copyFile(filepath.Join(yaegi, "stdlib", name), "std_"+name); err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Printf("generate: %d files from %s's standard library and %s\n", n, runtime.Version(), yaegi)
}

// goVersion is "go1_N" for the Go running this command.
func goVersion() string {
	parts := strings.Split(runtime.Version(), ".")
	if len(parts) < 2 {
		log.Fatalf("cannot read the Go version %q", runtime.Version())
	}
	return parts[0] + "_" + extract.GetMinor(parts[1])
}

// yaegiPackages lists the packages of yaegi's own tables: the import paths
// their Symbols keys name.
func yaegiPackages(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "go1_22_*.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s := string(b)
		i := strings.Index(s, "Symbols[\"")
		if i < 0 {
			continue
		}
		key := s[i+len("Symbols[\""):]
		key = key[:strings.IndexByte(key, '"')]
		out = append(out, filepath.Dir(key))
	}
	return out, nil
}

// extractTo writes yaegi's table of pkg, from the standard library of the
// running Go for build.Default's platform, to path.
func extractTo(path, pkg string, e extract.Extractor) error {
	var buf bytes.Buffer
	if _, err := e.Extract(pkg, "", &buf); err != nil {
		return fmt.Errorf("extract %s: %w", pkg, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// clean removes the files an earlier run generated.
func clean(dir string) error {
	for _, pattern := range []string{"std_*.go", "unrestricted_*.go", "syscall_*.go"} {
		old, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return err
		}
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

const header = "// Code generated by kernel/stdsyms/internal/generate from %s. DO NOT EDIT.\n\n"

// rewrite copies one table file, replacing each statement
//
//	Symbols["path/name"] = map[string]reflect.Value{...}
//
// in its init by
//
//	register("path/name", func() map[string]reflect.Value { return map[string]reflect.Value{...} })
func rewrite(path, outName, register string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	f.Name.Name = "stdsyms"
	found := 0
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "init" || fn.Recv != nil {
			continue
		}
		for i, st := range fn.Body.List {
			as, ok := st.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
				continue
			}
			ix, ok := as.Lhs[0].(*ast.IndexExpr)
			if !ok {
				continue
			}
			if id, ok := ix.X.(*ast.Ident); !ok || id.Name != "Symbols" {
				continue
			}
			if key, ok := ix.Index.(*ast.BasicLit); ok && strings.HasPrefix(key.Value, `"github.com/traefik/yaegi/`) {
				// yaegi's table of its own Symbols variable: meaningless here.
				fn.Body.List[i] = &ast.EmptyStmt{Semicolon: as.Pos(), Implicit: true}
				found++
				continue
			}
			lit, ok := as.Rhs[0].(*ast.CompositeLit)
			if !ok {
				return fmt.Errorf("%s: Symbols[...] is not assigned a map literal", path)
			}
			builder := &ast.FuncLit{
				Type: &ast.FuncType{
					Func:    lit.Pos(),
					Params:  &ast.FieldList{},
					Results: &ast.FieldList{List: []*ast.Field{{Type: lit.Type}}},
				},
				Body: &ast.BlockStmt{
					Lbrace: lit.Pos(),
					List:   []ast.Stmt{&ast.ReturnStmt{Return: lit.Pos(), Results: []ast.Expr{lit}}},
					Rbrace: lit.End(),
				},
			}
			fn.Body.List[i] = &ast.ExprStmt{X: &ast.CallExpr{
				Fun:    &ast.Ident{Name: register, NamePos: as.Pos()},
				Lparen: as.Pos(),
				Args:   []ast.Expr{ix.Index, builder},
				Rparen: lit.End(),
			}}
			found++
		}
	}
	if found == 0 {
		return fmt.Errorf("%s: no Symbols[...] = ... statement in init", path)
	}
	// Drop yaegi's Symbols variable: register replaces it.
	var dropped []ast.Node
	decls := f.Decls[:0]
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR && len(g.Specs) == 1 {
			if vs := g.Specs[0].(*ast.ValueSpec); len(vs.Names) == 1 && vs.Names[0].Name == "Symbols" {
				dropped = append(dropped, g)
				if g.Doc != nil {
					dropped = append(dropped, g.Doc)
				}
				continue
			}
		}
		decls = append(decls, d)
	}
	f.Decls = decls
	// Drop the comments inside the rewritten init bodies: the new nodes have
	// no positions of their own, so the printer would misplace them.
	var keep []*ast.CommentGroup
	for _, c := range f.Comments {
		inside := false
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "init" && c.Pos() > fn.Body.Lbrace && c.End() < fn.Body.Rbrace {
				inside = true
			}
		}
		for _, n := range dropped {
			if c.Pos() >= n.Pos() && c.End() <= n.End() {
				inside = true
			}
		}
		// go:generate lines would run yaegi's extractor from here.
		if strings.Contains(c.Text(), "go:generate") || strings.HasPrefix(c.List[0].Text, "//go:generate") {
			inside = true
		}
		if !inside {
			keep = append(keep, c)
		}
	}
	f.Comments = keep
	var buf bytes.Buffer
	fmt.Fprintf(&buf, header, relName(path))
	if err := format.Node(&buf, fset, f); err != nil {
		return fmt.Errorf("print %s: %w", path, err)
	}
	return writeFormatted(outName, buf.Bytes())
}

// copyFile copies a helper file, renaming its package.
func copyFile(path, outName string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := strings.Replace(string(b), "\npackage stdlib\n", "\npackage stdsyms\n", 1)
	if strings.HasPrefix(s, "package stdlib\n") {
		s = "package stdsyms\n" + strings.TrimPrefix(s, "package stdlib\n")
	}
	return writeFormatted(outName, []byte(fmt.Sprintf(header, relName(path))+s))
}

// writeFormatted gofmts src (the printed tree keeps yaegi's own "Code
// generated" line, now a second one) and writes it.
func writeFormatted(name string, src []byte) error {
	src = bytes.Replace(src, []byte("// Code generated by 'yaegi extract"), []byte("// Originally generated by 'yaegi extract"), 1)
	out, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("format %s: %w", name, err)
	}
	return os.WriteFile(name, out, 0o644)
}

// relName says where a table came from: a yaegi file, or the extraction
// of the running Go's library.
func relName(path string) string {
	if strings.HasPrefix(path, os.TempDir()) {
		return runtime.Version() + "'s standard library (yaegi extract)"
	}
	dir := filepath.Base(filepath.Dir(path))
	return "yaegi's " + dir + "/" + filepath.Base(path)
}
