package engine

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

type chunkKind int

const (
	kindDecl chunkKind = iota
	kindStmt
)

type importSpec struct{ Name, Path string }

type typeDecl struct{ Name, Source string }

// chunk is one unit of evaluation of a cell.
type chunk struct {
	Kind      chunkKind
	Src       string
	Line      int // cell line where Src's second line starts (Src begins with a newline)
	Imports   []importSpec
	Declares  []string
	Types     []typeDecl
	Decls     map[string]declInfo
	Display   bool
	NoDisplay string
	// posMap maps a position reported for Src to the cell; nil means the
	// default (Src starts with one extra line).
	posMap func(line, col int) (int, int)
}

func (c chunk) cellPos(line, col int) (int, int) {
	if c.posMap != nil {
		return c.posMap(line, col)
	}
	return line - 2 + c.Line, col
}

type syntaxError struct {
	Line, Col int
	Msg       string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// cellPrelude is evaluated once in every interpreter after the support
// imports.
var cellPrelude []string

// split turns a cell into chunks. It is a stopgap until kernel/cell.
func (in *Interpreter) split(code string) ([]chunk, error) {
	fset := token.NewFileSet()
	src := code
	if !strings.HasPrefix(strings.TrimSpace(code), "package ") {
		src = "package main\n" + code
	} else {
		src = "\n" + code
	}
	// Line 2 of src is line 1 of the cell in both cases.
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err == nil {
		var chunks []chunk
		var imps []importSpec
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if is.Name != nil {
				name = is.Name.Name
			}
			imps = append(imps, importSpec{Name: name, Path: p})
		}
		if len(imps) > 0 {
			chunks = append(chunks, chunk{Kind: kindDecl, Imports: imps, Line: 1})
		}
		hasMain := false
		var b strings.Builder
		b.WriteString("\n")
		lines := strings.Split(src, "\n")
		first := 0
		decl := chunk{Kind: kindDecl, Decls: map[string]declInfo{}}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
				continue
			}
			start := fset.Position(d.Pos()).Line
			end := fset.Position(d.End()).Line
			if first == 0 {
				first = start
				decl.Line = start - 1
			}
			text := strings.Join(lines[start-1:end], "\n")
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				if fd.Name.Name == "main" {
					in.mainSeq++
					hasMain = true
					text = strings.Replace(text, "func main(", fmt.Sprintf("func __goproc_main_%d(", in.mainSeq), 1)
				}
				decl.Declares = append(decl.Declares, fd.Name.Name)
				decl.Decls[fd.Name.Name] = declInfo{Kind: "func", Source: text, Doc: fd.Doc.Text()}
			}
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					decl.Types = append(decl.Types, typeDecl{Name: ts.Name.Name, Source: strings.Join(strings.Fields(text), " ")})
				}
			}
			// keep line numbers: pad to the declaration's line
			for strings.Count(b.String(), "\n") < start-first+1 {
				b.WriteString("\n")
			}
			b.WriteString(text)
		}
		if first > 0 {
			decl.Src = b.String()
			chunks = append(chunks, decl)
		}
		if hasMain {
			chunks = append(chunks, chunk{Kind: kindStmt, Src: fmt.Sprintf(";\n__goproc_main_%d()", in.mainSeq), Line: 1})
		}
		return chunks, nil
	}
	// statements
	body := "package main\nfunc _() {\n" + code + "\n}"
	f, err2 := parser.ParseFile(fset, "", body, 0)
	if err2 != nil {
		if list, ok := err2.(interface{ Len() int }); ok && list.Len() > 0 {
			_ = list
		}
		if el, ok := err2.(interface{ Error() string }); ok {
			line, col, rest, ok := parsePos(strings.TrimPrefix(el.Error(), ""))
			if ok {
				return nil, &syntaxError{Line: line - 2, Col: col, Msg: strings.SplitN(rest, " (and", 2)[0]}
			}
		}
		return nil, err2
	}
	ch := chunk{Kind: kindStmt, Src: ";\n" + code, Line: 1}
	fn := f.Decls[0].(*ast.FuncDecl)
	for _, st := range fn.Body.List {
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			for _, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					ch.Declares = append(ch.Declares, id.Name)
				}
			}
		}
	}
	if n := len(fn.Body.List); n > 0 {
		if es, ok := fn.Body.List[n-1].(*ast.ExprStmt); ok && wantsDisplay(es.X) {
			startOff := fset.Position(es.Pos()).Offset - len("package main\nfunc _() {\n")
			endOff := fset.Position(es.End()).Offset - len("package main\nfunc _() {\n")
			ch.NoDisplay = ch.Src
			ch.Src = ";\n" + code[:startOff] + supportName + ".Display(" + code[startOff:endOff] + ")" + code[endOff:]
			ch.Display = true
		}
	}
	return []chunk{ch}, nil
}

func wantsDisplay(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.UnaryExpr:
		return x.Op != token.ARROW
	case *ast.CallExpr:
		switch fn := x.Fun.(type) {
		case *ast.Ident:
			switch fn.Name {
			case "print", "println", "panic", "close", "delete", "clear":
				return false
			}
		case *ast.SelectorExpr:
			if pkg, ok := fn.X.(*ast.Ident); ok {
				if pkg.Name == "fmt" && strings.HasPrefix(fn.Sel.Name, "Print") {
					return false
				}
				if pkg.Name == "fmt" && strings.HasPrefix(fn.Sel.Name, "Fprint") {
					return false
				}
				if pkg.Name == "os" && fn.Sel.Name == "Exit" {
					return false
				}
			}
		}
	}
	return true
}
