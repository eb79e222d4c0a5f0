package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"reflect"
	"strings"

	"github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/language"
	"github.com/traefik/yaegi/interp"
)

// yaegi v0.16.1 cannot type a global declared at the top level of a cell
// from a generic function's result: `m := slices.Max(xs)` crashes its
// compiler ("nil reflect type") or reports a definition loop, while the
// same call works inside a function or assigned to a typed variable. When a
// statement chunk fails that way, the engine runs its statements one by
// one, and each `name := call(...)` that fails alone in two steps: the call
// inside a function literal, its result held by the engine, then `var name
// T` with T spelled from the result's type, and the result assigned.

// genericDefineFailure reports whether err is yaegi failing to compile a
// chunk in the way a top-level := from a generic result makes it fail.
// Nothing of the chunk ran.
func genericDefineFailure(err error) bool {
	var p interp.Panic
	if errors.As(err, &p) {
		return compilePhase(p.Stack)
	}
	var ie *internalError
	if errors.As(err, &ie) {
		return compilePhase(ie.stack)
	}
	return isCompileError(err) && strings.HasSuffix(err.Error(), "definition loop")
}

// runStatements runs a statement chunk that failed with
// genericDefineFailure statement by statement. ok is false when it cannot
// (the chunk does not split into statements); the caller then reports the
// first failure.
func (in *Interpreter) runStatements(ctx context.Context, code string, ch cell.Chunk, id int) (e *language.Error, ok bool) {
	return in.runStatementsFrom(ctx, code, ch, id, 0)
}

// runStatementsFrom is runStatements from the chunk's statement start on.
func (in *Interpreter) runStatementsFrom(ctx context.Context, code string, ch cell.Chunk, id, start int) (e *language.Error, ok bool) {
	src := ch.Src
	nl := strings.IndexByte(src, '\n')
	if nl < 0 {
		return nil, false
	}
	const head = "package p;func _(){"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", head+src+"\n}", parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return nil, false
	}
	fd, isFunc := f.Decls[0].(*ast.FuncDecl)
	if !isFunc || fd.Body == nil {
		return nil, false
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset - len(head) }
	var stmts []ast.Stmt
	for _, s := range fd.Body.List {
		if _, empty := s.(*ast.EmptyStmt); !empty {
			stmts = append(stmts, s)
		}
	}
	if len(stmts) <= start || off(stmts[0].Pos()) <= nl {
		return nil, false
	}
	// only keeps [from, to) of src and the prefix line, blanking the rest
	// so that positions stay where they are in the chunk.
	only := func(from, to int, insert map[int]string) string {
		var b strings.Builder
		b.WriteString(src[:nl+1])
		for i := nl + 1; i < len(src); i++ {
			if s, ok := insert[i]; ok {
				b.WriteString(s)
			}
			switch {
			case src[i] == '\n' || (i >= from && i < to):
				b.WriteByte(src[i])
			default:
				b.WriteByte(' ')
			}
		}
		if s, ok := insert[len(src)]; ok {
			b.WriteString(s)
		}
		return b.String()
	}
	for i, s := range stmts[start:] {
		if err := ctx.Err(); err != nil {
			return interruptedError(), true
		}
		from, to := off(s.Pos()), off(s.End())
		_, err := in.eval(ctx, cell.WithChunkID(only(from, to, nil), id))
		if err == nil {
			continue
		}
		if last := start+i == len(stmts)-1; last && ch.Display && isCompileError(err) {
			// The trailing expression has no value (slices.Sort(c)): run
			// it without the display, as runChunk does.
			return in.runStatementsFrom(ctx, code, ch.WithoutDisplay(), id, start+i)
		}
		name, rhs, isDefine := singleDefine(s)
		if !isDefine || !genericDefineFailure(err) {
			return in.describe(ctx, code, ch, id, err), true
		}
		// Step one: the call, inside a function literal, its result held.
		rf, rt := off(rhs.Pos()), off(rhs.End())
		held := only(rf, rt, map[int]string{rf: supportName + ".Hold(func() any { return ", rt: " }())"})
		in.mu.Lock()
		in.held = nil
		in.mu.Unlock()
		if _, err := in.eval(ctx, cell.WithChunkID(held, id)); err != nil {
			return in.describe(ctx, code, ch, id, err), true
		}
		in.mu.Lock()
		v := in.held
		in.held = nil
		in.mu.Unlock()
		// Step two: declare the variable with the result's type.
		if e := in.declareHeld(name, v); e != nil {
			return e, true
		}
	}
	in.declareStmtGlobals(ch.Declares, ch.NoDisplay)
	return nil, true
}

// singleDefine matches `name := expr` with one name and a call in expr
// (the generic call may be an operand: min(a, b) + max(a, b)). The
// expression is evaluated once, in step one.
func singleDefine(s ast.Stmt) (string, ast.Expr, bool) {
	as, ok := s.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return "", nil, false
	}
	id, ok := as.Lhs[0].(*ast.Ident)
	if !ok || id.Name == "_" {
		return "", nil, false
	}
	hasCall := false
	ast.Inspect(as.Rhs[0], func(n ast.Node) bool {
		if _, ok := n.(*ast.CallExpr); ok {
			hasCall = true
		}
		return !hasCall
	})
	if !hasCall {
		return "", nil, false
	}
	return id.Name, as.Rhs[0], true
}

// declareHeld declares the global name with v's type and assigns v.
func (in *Interpreter) declareHeld(name string, v any) *language.Error {
	fail := func(why string) *language.Error {
		tb := []string{
			fmt.Sprintf("InterpreterError: the Go interpreter (yaegi v0.16.1) cannot declare %s at the top level of a cell from a generic function's result (%s); the call itself ran.", name, why),
		}
		return &language.Error{Name: "InterpreterError", Value: tb[0][len("InterpreterError: "):], Traceback: append(tb, topLevelGenericHint...)}
	}
	if v == nil {
		return fail("it is nil")
	}
	t := reflect.TypeOf(v)
	spelled := typeSource(t)
	if spelled == "" {
		return fail("its type " + t.String() + " cannot be written in a cell")
	}
	if _, err := in.eval(context.Background(), "\nvar "+name+" "+spelled); err != nil {
		return fail(err.Error())
	}
	g, ok := in.safeGlobals()[name]
	rv := reflect.ValueOf(v)
	switch {
	case !ok || !g.CanSet():
		return fail("the variable could not be set")
	case rv.Type().AssignableTo(g.Type()):
		g.Set(rv)
	case rv.Type().ConvertibleTo(g.Type()):
		g.Set(rv.Convert(g.Type()))
	default:
		return fail("its type " + t.String() + " does not match " + spelled)
	}
	return nil
}

// yaegiLogFilter drops the line yaegi logs through the process's default
// logger just before it panics with "nil reflect type" (the panic is
// reported as the cell's error); everything else passes to w. Cells' own
// log calls go to their own logger, not this one.
type yaegiLogFilter struct{ w io.Writer }

func (f yaegiLogFilter) Write(p []byte) (int, error) {
	if bytes.HasSuffix(bytes.TrimRight(p, "\n"), []byte(" nil reflect type")) {
		return len(p), nil
	}
	return f.w.Write(p)
}

// quietYaegiLog installs yaegiLogFilter on the default logger; the engine
// and worker mains call it.
func quietYaegiLog() { log.SetOutput(yaegiLogFilter{w: os.Stderr}) }

// hold is __goproc.Hold: it keeps a value for runStatements.
func (in *Interpreter) hold(v any) {
	in.mu.Lock()
	in.held = v
	in.mu.Unlock()
}
