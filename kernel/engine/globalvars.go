package engine

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"

	"github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/language"
)

// yaegi v0.16.1 rejects a package-level var whose initializer reads a
// global that an earlier Eval declared (`var z = a[0:2]`, `var b [3]int =
// a`: "variable definition loop"), since it orders the initializers of one
// Eval only among themselves, and then keeps a broken global. A program
// written a cell per declaration does that all the time. The same var
// declaration as a statement at the top level declares the same global.
// So such var declarations of a declaration chunk run as statements, after
// the chunk's other declarations; children get a declaration of each such
// global (as for x := ...) and its value.

// globalVars splits a declaration chunk's source into its declarations
// but the var declarations that read a global of an earlier chunk, and
// those var declarations as statements (";" first), both with the lines
// and columns of ch.Src. ok is false when there are no such var
// declarations, or moving them would change what the chunk means: another
// declaration of the chunk uses one of them, or one reads a var the chunk
// declares.
func (in *Interpreter) globalVars(ch cell.Chunk) (decls, stmts string, moved []*ast.ValueSpec, ok bool) {
	if ch.Kind != cell.Decl || len(ch.Imports) > 0 || !strings.HasPrefix(ch.Src, "\n") {
		return "", "", nil, false
	}
	const head = "package p;"
	f, err := parser.ParseFile(token.NewFileSet(), "", head+ch.Src, parser.SkipObjectResolution)
	if err != nil || len(f.Decls) == 0 {
		return "", "", nil, false
	}
	globals := in.safeGlobals()
	ownVars := map[string]bool{}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, sp := range gd.Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					ownVars[n.Name] = true
				}
			}
		}
	}
	var move []*ast.GenDecl
	movedNames := map[string]bool{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		refs := map[string]bool{}
		for _, sp := range gd.Specs {
			for _, v := range sp.(*ast.ValueSpec).Values {
				identsIn(v, refs)
			}
		}
		earlier := false
		for r := range refs {
			if ownVars[r] {
				return "", "", nil, false
			}
			if _, ok := globals[r]; ok && !strings.HasPrefix(r, "__") {
				earlier = true
			}
		}
		if !earlier {
			continue
		}
		move = append(move, gd)
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			moved = append(moved, vs)
			for _, n := range vs.Names {
				movedNames[n.Name] = true
			}
		}
	}
	if len(move) == 0 {
		return "", "", nil, false
	}
	// The declarations that stay must not use what moves.
	isMoved := map[ast.Decl]bool{}
	for _, gd := range move {
		isMoved[gd] = true
	}
	for _, d := range f.Decls {
		if isMoved[d] {
			continue
		}
		refs := map[string]bool{}
		identsIn(d, refs)
		for r := range refs {
			if movedNames[r] {
				return "", "", nil, false
			}
		}
	}
	// Blank out, keeping newlines, what each part leaves out.
	keep := make([]bool, len(ch.Src)) // true: the byte moves to the statements
	for _, gd := range move {
		for i := int(gd.Pos()) - 1 - len(head); i < int(gd.End())-1-len(head); i++ {
			keep[i] = true
		}
	}
	var db, sb strings.Builder
	for i := 0; i < len(ch.Src); i++ {
		c := ch.Src[i]
		blank := byte(' ')
		if c == '\n' || c == '\t' {
			blank = c
		}
		if keep[i] {
			db.WriteByte(blank)
			sb.WriteByte(c)
		} else {
			db.WriteByte(c)
			sb.WriteByte(blank)
		}
	}
	return db.String(), ";" + sb.String(), moved, true
}

// runGlobalVars runs a declaration chunk split by globalVars: its other
// declarations, then the moved var declarations as statements.
func (in *Interpreter) runGlobalVars(ctx context.Context, code string, ch cell.Chunk, id int, decls, stmts string, moved []*ast.ValueSpec) *language.Error {
	if strings.TrimSpace(decls) != "" {
		if _, err := in.eval(ctx, cell.WithChunkID(decls, id)); err != nil {
			return in.describe(ctx, code, ch, id, err)
		}
		in.remember(cell.WithChunkID(decls, id))
	}
	if _, err := in.eval(ctx, cell.WithChunkID(stmts, id)); err != nil {
		return in.describe(ctx, code, ch, id, err)
	}
	in.mu.Lock()
	for _, t := range ch.Types {
		in.types[t.Name] = t.Src
	}
	for _, name := range ch.Declares {
		if _, ok := in.decls[name]; !ok {
			in.decls[name] = declInfo{Kind: "decl"}
		}
	}
	in.mu.Unlock()
	var untyped []string
	for _, vs := range moved {
		for _, n := range vs.Names {
			if n.Name == "_" {
				continue
			}
			if vs.Type == nil {
				untyped = append(untyped, n.Name)
				continue
			}
			// The type as written: it may name the notebook's own types.
			from, to := int(vs.Type.Pos())-len("package p;")-1, int(vs.Type.End())-len("package p;")-1
			if from >= 0 && to <= len(ch.Src) && from < to {
				in.remember("\nvar " + n.Name + " " + ch.Src[from:to])
			}
		}
	}
	in.declareStmtGlobals(untyped, "")
	return nil
}
