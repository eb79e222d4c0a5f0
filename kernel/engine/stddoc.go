package engine

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

var (
	docMu    sync.Mutex
	docCache = map[string]*doc.Package{}
)

// stdDoc returns the doc comment of a standard-library symbol, read from the
// Go sources when they are installed (GOROOT/src); "" otherwise.
func stdDoc(path, name string) string {
	docMu.Lock()
	defer docMu.Unlock()
	p, ok := docCache[path]
	if !ok {
		p = loadDoc(path)
		docCache[path] = p
	}
	if p == nil {
		return ""
	}
	for _, f := range p.Funcs {
		if f.Name == name {
			return strings.TrimSpace(f.Doc)
		}
	}
	for _, t := range p.Types {
		if t.Name == name {
			return strings.TrimSpace(t.Doc)
		}
		for _, f := range t.Funcs {
			if f.Name == name {
				return strings.TrimSpace(f.Doc)
			}
		}
	}
	for _, vs := range append(p.Vars, p.Consts...) {
		for _, n := range vs.Names {
			if n == name {
				return strings.TrimSpace(vs.Doc)
			}
		}
	}
	return ""
}

func loadDoc(path string) *doc.Package {
	root := runtime.GOROOT()
	if root == "" {
		root = "/usr/local/go"
	}
	dir := filepath.Join(root, "src", filepath.FromSlash(path))
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil && len(pkgs) == 0 {
		return nil
	}
	base := path[strings.LastIndex(path, "/")+1:]
	pkg, ok := pkgs[base]
	if !ok {
		for _, p := range pkgs {
			pkg = p
			break
		}
	}
	if pkg == nil {
		return nil
	}
	var files []*ast.File
	for _, f := range pkg.Files {
		files = append(files, f)
	}
	d, err := doc.NewFromFiles(fset, files, path)
	if err != nil {
		return nil
	}
	return d
}
