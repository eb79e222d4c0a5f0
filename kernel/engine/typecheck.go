package engine

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/typecheck"
)

// The engine checks every cell with go/types (kernel/typecheck) before the
// interpreter sees it: a mistake gets the Go compiler's message, and a cell
// that fails the check changes nothing, since none of it ran.

// typeCheckEnv, set to 0, turns the check off (to compare, or to rule it
// out when it rejects a cell it should not).
const typeCheckEnv = "GOPROC_TYPECHECK"

// typeChecker holds an interpreter's checker, made at its first cell: a
// multiprocessing worker never needs one.
type typeChecker struct {
	once sync.Once
	c    *typecheck.Checker
}

func (in *Interpreter) checker() *typecheck.Checker {
	in.tc.once.Do(func() {
		if os.Getenv(typeCheckEnv) == "0" {
			return
		}
		in.tc.c = typecheck.New(typecheck.Options{
			Sources: genericSourcesOf,
			Known: func(name string) bool {
				if _, ok := in.safeGlobals()[name]; ok {
					return true
				}
				in.mu.Lock()
				defer in.mu.Unlock()
				_, ok := in.decls[name]
				return ok
			},
		})
	})
	return in.tc.c
}

// typeCheck checks a cell; nil when checking is off.
func (in *Interpreter) typeCheck(code string) *typecheck.Result {
	c := in.checker()
	if c == nil {
		return nil
	}
	return c.Check(code)
}

// commitCheck records a checked cell for the cells after it, without what
// the chunks that did not run would have declared. A cell none of whose
// chunks ran is not recorded: it changed nothing.
func (in *Interpreter) commitCheck(r *typecheck.Result, chunks []cell.Chunk, notRun int) {
	c := in.checker()
	if c == nil || r == nil || notRun == 0 && len(chunks) > 0 {
		return
	}
	var names []string
	for _, ch := range chunks[notRun:] {
		names = append(names, ch.Declares...)
		for _, t := range ch.Types {
			names = append(names, t.Name)
		}
	}
	c.Commit(r, names...)
}

// typeError reports the check's errors as the Go compiler lists them, the
// first with the cell's line and a caret.
func typeError(code string, errs []typecheck.Error) *language.Error {
	if inner, ok := strings.CutPrefix(code, returningHead); ok && strings.HasSuffix(inner, returningTail) {
		// A cell with a top-level return, which Run wraps in a function
		// literal (returningCell): say where in the cell as written.
		code = strings.TrimSuffix(inner, returningTail)
		errs = append([]typecheck.Error(nil), errs...)
		for i := range errs {
			if errs[i].Line == 1 {
				errs[i].Col = max(1, errs[i].Col-len(returningHead))
			}
		}
	}
	e := sourceError("CompileError", code, errs[0].Line, errs[0].Col, errs[0].Msg)
	const max = 10 // as the Go compiler
	for i, x := range errs[1:] {
		if i+1 >= max {
			e.Traceback = append(e.Traceback, "too many errors")
			break
		}
		e.Traceback = append(e.Traceback, fmt.Sprintf("line %d, column %d: %s", x.Line, x.Col, x.Msg))
	}
	return e
}

// How returningCell wraps a cell.
const returningHead, returningTail = "func() { ", "\n}()"

// genericSourcesOf returns the sources the interpreter runs a generic
// standard package from, by import path.
func genericSourcesOf(path string) []string {
	switch path {
	case "cmp", "iter", "maps", "slices":
	default:
		return nil
	}
	var out []string
	for _, s := range genericSources() {
		if strings.HasPrefix(packageClause(s), "package "+path) {
			out = append(out, s)
		}
	}
	return out
}
