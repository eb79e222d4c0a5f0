// Package notebooktest runs a notebook in a real yaegi interpreter for the
// tests of runtime/multiprocessing, before and besides the real engine. A
// Notebook implements both multiprocessing.Host (in the test process) and
// multiprocessing.Rebuilder (in a worker process): it instruments function
// bodies with the identity probe the kernel inserts, records declaration
// chunks as the Program, and snapshots globals as JSON.
package notebooktest

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

	"github.com/goproc/goproc/kernel/symbols"
	"github.com/goproc/goproc/runtime/multiprocessing"
	"github.com/goproc/goproc/runtime/multiprocessing/typedjson"
)

// Notebook is one interpreter plus the declarations evaluated in it.
type Notebook struct {
	I *interp.Interpreter

	mu         sync.Mutex
	chunks     []string
	setProbing reflect.Value
	ctx        context.Context
	cancel     context.CancelCauseFunc
}

// New returns a notebook with the kernel's prelude evaluated.
func New() (*Notebook, error) {
	i := interp.New(interp.Options{Stdout: os.Stdout, Stderr: os.Stderr, Env: os.Environ(), Unrestricted: true})
	for _, syms := range []interp.Exports{stdlib.Symbols, unrestricted.Symbols, symbols.Symbols} {
		if err := i.Use(syms); err != nil {
			return nil, err
		}
	}
	for short, full := range symbols.Aliases {
		if err := i.Use(interp.Exports{short + "/" + full[strings.LastIndex(full, "/")+1:]: symbols.Symbols[full+"/"+full[strings.LastIndex(full, "/")+1:]]}); err != nil {
			return nil, err
		}
	}
	prelude := `import __mp "github.com/goproc/goproc/runtime/multiprocessing"
var __goprocProbing bool
func __goprocSetProbing(on bool) { __goprocProbing = on }`
	if _, err := i.Eval(prelude); err != nil {
		return nil, fmt.Errorf("prelude: %w", err)
	}
	set, err := i.Eval("__goprocSetProbing")
	if err != nil {
		return nil, err
	}
	n := &Notebook{I: i, setProbing: set}
	n.ctx, n.cancel = context.WithCancelCause(context.Background())
	return n, nil
}

// Decl instruments and evaluates a declaration chunk and records it.
func (n *Notebook) Decl(src string) error {
	inst, err := Instrument(src)
	if err != nil {
		return err
	}
	if _, err := n.I.Eval(inst); err != nil {
		return fmt.Errorf("eval: %w\n%s", err, inst)
	}
	n.mu.Lock()
	n.chunks = append(n.chunks, inst)
	n.mu.Unlock()
	return nil
}

// Run evaluates statements (a cell body) under the cell context.
func (n *Notebook) Run(src string) (res reflect.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic escaped Eval: %v", p)
		}
	}()
	inst, err := InstrumentStatements(src)
	if err != nil {
		return reflect.Value{}, err
	}
	n.mu.Lock()
	ctx := n.ctx
	n.mu.Unlock()
	return n.I.EvalWithContext(ctx, ";\n"+inst)
}

// Interrupt cancels the running cell's context as the engine does on an
// interrupt, and starts the next cell's.
func (n *Notebook) Interrupt() {
	n.mu.Lock()
	n.cancel(multiprocessing.ErrInterrupted)
	n.ctx, n.cancel = context.WithCancelCause(context.Background())
	n.mu.Unlock()
}

// EndCell ends the running cell normally: like the engine, it starts the
// next context and then cancels the old one (plain cancel).
func (n *Notebook) EndCell() {
	n.mu.Lock()
	old := n.cancel
	n.ctx, n.cancel = context.WithCancelCause(context.Background())
	n.mu.Unlock()
	old(nil)
}

// Program implements multiprocessing.Host.
func (n *Notebook) Program() multiprocessing.Program {
	n.mu.Lock()
	defer n.mu.Unlock()
	return multiprocessing.Program{Chunks: n.chunks[:len(n.chunks):len(n.chunks)]}
}

// Globals implements multiprocessing.Host.
func (n *Notebook) Globals() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for name, v := range n.I.Globals() {
		if strings.HasPrefix(name, "__") || !v.IsValid() || !v.CanInterface() {
			continue
		}
		switch v.Kind() {
		case reflect.Func, reflect.Chan, reflect.UnsafePointer:
			continue
		}
		b, err := typedjson.Marshal(v)
		if err != nil {
			continue
		}
		out[name] = b
	}
	return out
}

// GlobalValues shows the globals' values to multiprocessing, which
// reclaims the pools none of them reaches.
func (n *Notebook) GlobalValues() map[string]reflect.Value { return n.I.Globals() }

// SetProbing implements multiprocessing.Host.
func (n *Notebook) SetProbing(on bool) {
	n.setProbing.Call([]reflect.Value{reflect.ValueOf(on)})
}

// CellContext implements multiprocessing.Host.
func (n *Notebook) CellContext() context.Context {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ctx
}

// Replay implements multiprocessing.Rebuilder.
func (n *Notebook) Replay(p multiprocessing.Program) error {
	n.mu.Lock()
	done := len(n.chunks)
	n.mu.Unlock()
	for _, c := range p.Chunks[done:] {
		if _, err := n.I.Eval(c); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		n.mu.Lock()
		n.chunks = append(n.chunks, c)
		n.mu.Unlock()
	}
	return nil
}

// SetGlobals implements multiprocessing.Rebuilder.
func (n *Notebook) SetGlobals(globals map[string]json.RawMessage) error {
	names := make([]string, 0, len(globals))
	for name := range globals {
		names = append(names, name)
	}
	sort.Strings(names)
	current := n.I.Globals()
	for _, name := range names {
		v, ok := current[name]
		if !ok || !v.CanSet() {
			continue
		}
		ptr := reflect.New(v.Type())
		if err := typedjson.Unmarshal(globals[name], ptr.Elem()); err != nil {
			return fmt.Errorf("global %s: %w", name, err)
		}
		v.Set(ptr.Elem())
	}
	return nil
}

// Func implements multiprocessing.Rebuilder: a notebook function by name, or
// a standard-library function by its qualified name ("strings.ToUpper").
func (n *Notebook) Func(name string) (reflect.Value, error) {
	if i := strings.LastIndex(name, "."); i > 0 {
		pkg, fn := name[:i], name[i+1:]
		if syms, ok := stdlib.Symbols[pkg+"/"+pkg[strings.LastIndex(pkg, "/")+1:]]; ok {
			if v, ok := syms[fn]; ok && v.Kind() == reflect.Func {
				return v, nil
			}
		}
		return reflect.Value{}, fmt.Errorf("no standard-library function %s", name)
	}
	v, err := n.I.Eval(name)
	if err != nil {
		return reflect.Value{}, err
	}
	if v.Kind() != reflect.Func {
		return reflect.Value{}, fmt.Errorf("%s is a %s, not a function", name, v.Type())
	}
	return v, nil
}

// InstrumentStatements instruments the function literals in a statement
// chunk.
func InstrumentStatements(src string) (string, error) {
	const open, close = "func _() {\n", "\n}"
	inst, err := Instrument(open + src + close)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimPrefix(inst, open), close), nil
}

// Instrument inserts the identity probe at the top of every function body
// in a declaration chunk, on the same line, as the kernel does.
func Instrument(src string) (string, error) {
	const header = "package main\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "cell.go", header+src, 0)
	if err != nil {
		return "", err
	}
	full := header + src
	type insert struct {
		at   int
		text string
	}
	var inserts []insert
	text := func(n ast.Node) string {
		return full[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset]
	}
	probe := func(name string, ft *ast.FuncType, body *ast.BlockStmt) {
		if body == nil {
			return
		}
		ret := "return"
		if ft.Results != nil && len(ft.Results.List) > 0 && len(ft.Results.List[0].Names) == 0 {
			var zeros []string
			for _, r := range ft.Results.List {
				zeros = append(zeros, "*new("+text(r.Type)+")")
			}
			ret += " " + strings.Join(zeros, ", ")
		}
		inserts = append(inserts, insert{
			at:   fset.Position(body.Lbrace).Offset + 1,
			text: fmt.Sprintf(" if __goprocProbing && __mp.Probe(%q) { %s };", name, ret),
		})
	}
	ast.Inspect(f, func(node ast.Node) bool {
		switch d := node.(type) {
		case *ast.FuncDecl:
			name := d.Name.Name
			if name == "_" {
				return true
			}
			if d.Recv != nil && len(d.Recv.List) > 0 {
				name = fmt.Sprintf("method (%s).%s", text(d.Recv.List[0].Type), d.Name.Name)
			}
			probe(name, d.Type, d.Body)
		case *ast.FuncLit:
			probe(fmt.Sprintf("func literal at line %d", fset.Position(d.Pos()).Line-1), d.Type, d.Body)
		}
		return true
	})
	sort.Slice(inserts, func(a, b int) bool { return inserts[a].at > inserts[b].at })
	for _, in := range inserts {
		full = full[:in.at] + in.text + full[in.at:]
	}
	return full[len(header):], nil
}
