package engine

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"

	"github.com/goproc/goproc/kernel/cell"
)

// yaegi v0.16.1 prints, for each interpreted frame a panic unwinds, the
// position where the function's body starts (runCfg loses the instruction
// it was running), so every frame of a recursive function named its opening
// brace and the cell's frame the first statement of its chunk. placeFrames
// moves each frame to the line that panicked or called, where the source
// leaves one choice:
//
//   - a frame that called the next inner one by name: the one call of that
//     name in its body (rec(k - 1) in rec), or for a literal the one
//     literal called where it is written (func() { ... }());
//   - the innermost frame: its one panic(...) call, or, for a runtime
//     error, its one operation that can fail that way (a division for
//     "integer divide by zero", an index for "index out of range", a type
//     assertion for "interface conversion", a map assignment for "entry in
//     nil map").
//
// Where the body holds several candidates (or none: a call through a
// variable, a library calling back), the frame stays where yaegi put it.

// placeFrames returns frames (yaegi's "LINE:COL: panic: main.f(...)",
// innermost first) with the positions placed as above. ch and id are the
// running chunk's; msg is the panic's message.
func (in *Interpreter) placeFrames(frames []string, ch cell.Chunk, id int, msg string) []string {
	out := make([]string, len(frames))
	copy(out, frames)
	for i, f := range frames {
		chunk, line, col, rest, ok := cell.MapFrame(f)
		if !ok || line <= 1 {
			continue // line 1 is a chunk's prefix line: the call of a wrapping literal
		}
		src := ch.Src
		if chunk != 0 && chunk != id {
			in.mu.Lock()
			ref, known := in.chunks[chunk]
			in.mu.Unlock()
			if !known {
				continue
			}
			src = ref.ch.Src
		}
		body, _, fset := enclosingBody(src, line, col)
		if body == nil {
			continue
		}
		var match func(ast.Node) bool
		if i == 0 {
			match = panicSite(msg)
		} else {
			name := frameFunc(frames[i-1])
			if name == "" {
				continue
			}
			match = func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return false
				}
				if name == "func" { // a literal: the one called where it is written
					_, lit := call.Fun.(*ast.FuncLit)
					return lit
				}
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					return fn.Name == name
				case *ast.SelectorExpr:
					return fn.Sel.Name == name
				case *ast.IndexExpr: // a generic function with type arguments
					id, ok := fn.X.(*ast.Ident)
					return ok && id.Name == name
				}
				return false
			}
		}
		if match == nil {
			continue
		}
		var found []ast.Node
		ast.Inspect(body, func(n ast.Node) bool {
			if _, lit := n.(*ast.FuncLit); lit {
				return false // another function's frame
			}
			if n != nil && match(n) {
				found = append(found, n)
			}
			return true
		})
		if len(found) != 1 {
			continue
		}
		p := fset.Position(found[0].Pos())
		if chunk != 0 {
			p.Line += chunk * 100_000
		}
		out[i] = fmt.Sprintf("%d:%d: %s", p.Line, p.Column, rest)
	}
	return out
}

// frameFunc is the function a frame names: "rec" for "main.rec(...)",
// "func" for a literal.
func frameFunc(frame string) string {
	_, _, _, rest, ok := cell.MapFrame(frame)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(rest, "panic: "), "(")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// enclosingBody parses a chunk's source (a declaration chunk, "\n" first,
// or statements, ";\n" first) keeping its lines and columns, and returns
// the body of the innermost function whose body holds line:col (the
// statements themselves for a statement chunk's top level), and whether
// that function is a literal.
func enclosingBody(src string, line, col int) (*ast.BlockStmt, bool, *token.FileSet) {
	text := "package p;" + src
	if rest, ok := strings.CutPrefix(src, ";"); ok {
		text = "package p; func _() {" + rest + "\n}"
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", text, parser.SkipObjectResolution)
	if err != nil {
		return nil, false, nil
	}
	tf := fset.File(f.Pos())
	if line < 1 || line > tf.LineCount() || col < 1 {
		return nil, false, nil
	}
	pos := tf.LineStart(line) + token.Pos(col-1)
	var body *ast.BlockStmt
	lit := false
	ast.Inspect(f, func(n ast.Node) bool {
		var b *ast.BlockStmt
		switch n := n.(type) {
		case *ast.FuncDecl:
			b = n.Body
		case *ast.FuncLit:
			b = n.Body
		}
		if b != nil && b.Lbrace <= pos && pos <= b.Rbrace {
			_, lit = n.(*ast.FuncLit)
			body = b
		}
		return true
	})
	return body, lit, fset
}

// panicSite returns what can have raised a panic with message msg, or nil.
func panicSite(msg string) func(ast.Node) bool {
	switch {
	case strings.Contains(msg, "integer divide by zero"):
		return func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				return n.Op == token.QUO || n.Op == token.REM
			case *ast.AssignStmt:
				return n.Tok == token.QUO_ASSIGN || n.Tok == token.REM_ASSIGN
			}
			return false
		}
	case strings.Contains(msg, "index out of range"), strings.Contains(msg, "slice bounds out of range"):
		return func(n ast.Node) bool {
			switch n.(type) {
			case *ast.IndexExpr, *ast.SliceExpr:
				return true
			}
			return false
		}
	case strings.Contains(msg, "assignment to entry in nil map"):
		return func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok {
				return false
			}
			for _, l := range as.Lhs {
				if _, ok := l.(*ast.IndexExpr); ok {
					return true
				}
			}
			return false
		}
	case strings.HasPrefix(msg, "interface conversion"):
		return func(n ast.Node) bool {
			ta, ok := n.(*ast.TypeAssertExpr)
			return ok && ta.Type != nil
		}
	case strings.HasPrefix(msg, "runtime error"), strings.HasPrefix(msg, "reflect"):
		return nil // nil dereferences and the like: too many candidates
	}
	return func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return false
		}
		id, ok := call.Fun.(*ast.Ident)
		return ok && id.Name == "panic"
	}
}
