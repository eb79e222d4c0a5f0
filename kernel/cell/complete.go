package cell

import (
	"go/ast"
	"go/parser"
	"go/printer"
	"go/scanner"
	"go/token"
	"strings"
	"unicode"
)

// IsComplete tells a front end whether code is ready to run (is_complete):
// "incomplete" while a bracket, brace or parenthesis is open, a raw string
// or a block comment is not terminated, or the code ends in a binary
// operator, a comma, a dot or an assignment; "invalid" on a scanner error
// (other than one of those) or an unmatched closing bracket; otherwise
// "complete". indent is the indentation for the next line of incomplete
// code: one tab per open bracket.
func IsComplete(code string) (status, indent string) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var s scanner.Scanner
	incomplete, invalid := false, false
	s.Init(file, []byte(code), func(p token.Position, msg string) {
		switch {
		case strings.Contains(msg, "raw string literal not terminated"),
			strings.Contains(msg, "comment not terminated"):
			incomplete = true
		default:
			invalid = true
		}
	}, 0)
	var stack []token.Token
	last := token.ILLEGAL
	for {
		_, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		if t == token.SEMICOLON && lit == "\n" {
			continue // automatic semicolon
		}
		switch t {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			stack = append(stack, t)
		case token.RPAREN, token.RBRACK, token.RBRACE:
			open := map[token.Token]token.Token{token.RPAREN: token.LPAREN, token.RBRACK: token.LBRACK, token.RBRACE: token.LBRACE}[t]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return "invalid", ""
			}
			stack = stack[:len(stack)-1]
		}
		last = t
	}
	switch {
	case invalid:
		return "invalid", ""
	case incomplete || len(stack) > 0:
		return "incomplete", strings.Repeat("\t", len(stack))
	case continues(last):
		return "incomplete", "\t"
	}
	return "complete", ""
}

// continues reports whether a line ending in t needs another line.
func continues(t token.Token) bool {
	switch t {
	case token.COMMA, token.PERIOD, token.COLON, token.ARROW, token.LAND, token.LOR, token.NOT:
		return true
	}
	return t.IsOperator() && t != token.INC && t != token.DEC && t != token.SEMICOLON &&
		t != token.RPAREN && t != token.RBRACK && t != token.RBRACE && t != token.ELLIPSIS
}

// Token finds the identifier at cursor for completion and inspection. cursor
// and the returned offsets count Unicode code points. [start, end) is the
// whole identifier around the cursor (start == end == cursor when there is
// none), prefix the part before the cursor, and qualifier the dotted
// identifiers before it when it follows a dot ("fmt" for "fmt.Pr|",
// "a.b" for "a.b.c|", "" otherwise).
func Token(code string, cursor int) (start, end int, qualifier, prefix string) {
	rs := []rune(code)
	if cursor < 0 {
		cursor = 0
	}
	if cursor > len(rs) {
		cursor = len(rs)
	}
	isID := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	start, end = cursor, cursor
	for start > 0 && isID(rs[start-1]) {
		start--
	}
	for end < len(rs) && isID(rs[end]) {
		end++
	}
	prefix = string(rs[start:cursor])
	// qualifier: identifiers joined by dots, right before start
	q := start
	for q > 0 && rs[q-1] == '.' {
		p := q - 1
		for p > 0 && isID(rs[p-1]) {
			p--
		}
		if p == q-1 {
			break
		}
		q = p
	}
	if q < start {
		qualifier = string(rs[q : start-1])
	}
	return start, end, qualifier, prefix
}

// Declaration describes a top-level declaration of a cell, for inspection.
type Declaration struct {
	Kind string // "func", "method", "type", "var", "const"
	Name string // for methods: "T.Name"
	// Signature is the declaration without body or doc comment: "func f(x
	// int) error", "type T struct{ ... }", "var x = 3", "x := f()".
	Signature string
	Doc       string // the doc comment, without comment markers
	Line      int    // 1-based line in the cell
}

// Declarations lists the top-level declarations of a cell, including the
// globals that top-level `:=` statements define. A cell that does not parse
// gives the declarations of the chunks that do.
func Declarations(cell string) []Declaration {
	toks, err := scanCell(cell)
	if err != nil {
		return nil
	}
	var out []Declaration
	for _, s := range splitSegments(toks) {
		if s.kind != segDecl && s.kind != segStmt {
			continue
		}
		// Keep the comment just before the segment: it is its doc.
		from := docStart(cell, s.pos)
		hdr := "package p;\n"
		if s.kind == segStmt {
			hdr = "package p;\nfunc _(){"
		}
		src := hdr + cell[from:s.end]
		if s.kind == segStmt {
			src += "\n}"
		}
		shift := len(hdr) - from
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "cell.go", src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		line := func(p token.Pos) int { return lineOf(cell, fset.Position(p).Offset-shift) }
		text := func(from, to token.Pos) string {
			a, z := fset.Position(from).Offset-shift, fset.Position(to).Offset-shift
			return cell[a:z]
		}
		if s.kind == segStmt {
			for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
				as, ok := st.(*ast.AssignStmt)
				if !ok || as.Tok != token.DEFINE {
					continue
				}
				for _, e := range as.Lhs {
					if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
						out = append(out, Declaration{Kind: "var", Name: id.Name, Signature: oneLine(text(as.Pos(), as.End())), Line: line(as.Pos())})
					}
				}
			}
			continue
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				dd := Declaration{Kind: "func", Name: d.Name.Name, Doc: d.Doc.Text(), Line: line(d.Pos())}
				end := d.Type.End()
				dd.Signature = oneLine(text(d.Type.Pos(), end))
				if d.Recv != nil && len(d.Recv.List) > 0 {
					dd.Kind = "method"
					t := d.Recv.List[0].Type
					if st, ok := t.(*ast.StarExpr); ok {
						t = st.X
					}
					switch x := t.(type) {
					case *ast.IndexExpr:
						t = x.X
					case *ast.IndexListExpr:
						t = x.X
					}
					if id, ok := t.(*ast.Ident); ok {
						dd.Name = id.Name + "." + d.Name.Name
					}
				}
				out = append(out, dd)
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					doc := d.Doc
					var names []*ast.Ident
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if sp.Doc != nil {
							doc = sp.Doc
						}
						names = []*ast.Ident{sp.Name}
					case *ast.ValueSpec:
						if sp.Doc != nil {
							doc = sp.Doc
						}
						names = sp.Names
					}
					sig := d.Tok.String() + " " + render(fset, sp)
					for _, id := range names {
						if id.Name == "_" {
							continue
						}
						out = append(out, Declaration{Kind: d.Tok.String(), Name: id.Name, Signature: sig, Doc: doc.Text(), Line: line(sp.Pos())})
					}
				}
			}
		}
	}
	return out
}

// docStart returns where the comment lines directly above pos begin (pos if
// there are none).
func docStart(cell string, pos int) int {
	start := strings.LastIndexByte(cell[:pos], '\n') + 1
	if strings.TrimSpace(cell[start:pos]) != "" {
		return pos
	}
	for start > 0 {
		prev := strings.LastIndexByte(cell[:start-1], '\n') + 1
		l := strings.TrimSpace(cell[prev : start-1])
		if !strings.HasPrefix(l, "//") {
			break
		}
		start = prev
	}
	return start
}

// render prints a spec without its comments.
func render(fset *token.FileSet, n ast.Node) string {
	switch sp := n.(type) {
	case *ast.TypeSpec:
		c := *sp
		c.Doc, c.Comment = nil, nil
		n = &c
	case *ast.ValueSpec:
		c := *sp
		c.Doc, c.Comment = nil, nil
		n = &c
	}
	var b strings.Builder
	_ = (&printer.Config{Mode: printer.UseSpaces, Tabwidth: 4}).Fprint(&b, fset, n)
	return b.String()
}

// oneLine collapses runs of white space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
