package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"sync"

	"github.com/goproc/goproc/runtime/multiprocessing"
)

// A multiprocessing worker rebuilds the notebook lazily. Replay only records
// the declaration chunks it is sent (imports are evaluated at once: they
// are cheap and everything needs them); Func evaluates the chunks the
// function needs — the latest declaration of every name it refers to, and
// theirs in turn, and every method of a type it uses — in notebook order.
// Evaluating a notebook's twenty cells took a worker about as long as
// starting, most of it for functions the target never calls; and a child
// that runs one function should not re-run the initialisers of globals it
// never reads (their values come from the parent anyway).

// replayState is the worker's record of the chunks it was sent.
type replayState struct {
	mu      sync.Mutex
	chunks  []*replayChunk
	globals map[string]json.RawMessage // the latest value of every global the parent sent
}

// replayChunk is one declaration chunk of the parent's program.
type replayChunk struct {
	src      string
	done     bool
	eager    bool            // evaluate on arrival, after all before it: init, or not parsable
	imports  bool            // only imports: evaluate on arrival, alone
	declares []string        // top-level names
	methodOf []string        // the receiver type of each method declared
	refs     map[string]bool // identifiers used anywhere in it
	// declRefs holds, for each name it declares, the identifiers its
	// declaration uses (for a type, its methods' too): GlobalsFor follows
	// these, finer than refs, to send a child only the globals it reaches.
	declRefs map[string]map[string]bool
}

// identsIn adds the identifiers in n to set.
func identsIn(n ast.Node, set map[string]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			set[id.Name] = true
		}
		return true
	})
}

// declRefsOf returns c.declRefs[name], creating it.
func (c *replayChunk) declRefsOf(name string) map[string]bool {
	if c.declRefs[name] == nil {
		c.declRefs[name] = map[string]bool{}
	}
	return c.declRefs[name]
}

func newReplayChunk(src string) *replayChunk {
	c := &replayChunk{src: src, refs: map[string]bool{}, declRefs: map[string]map[string]bool{}}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+src, parser.SkipObjectResolution)
	if err != nil {
		c.eager = true
		return c
	}
	if len(f.Imports) > 0 {
		// The kernel keeps imports in chunks of their own; any other mix
		// is evaluated with everything before it.
		c.imports = true
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); !ok || gd.Tok != token.IMPORT {
				c.imports, c.eager = false, true
			}
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			switch {
			case d.Recv != nil && len(d.Recv.List) == 1:
				t := receiverType(d.Recv.List[0].Type)
				c.methodOf = append(c.methodOf, t)
				identsIn(d, c.declRefsOf(t))
			case d.Name.Name == "init":
				c.eager = true
			default:
				c.declares = append(c.declares, d.Name.Name)
				identsIn(d, c.declRefsOf(d.Name.Name))
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						c.declares = append(c.declares, n.Name)
						identsIn(sp, c.declRefsOf(n.Name))
					}
				case *ast.TypeSpec:
					c.declares = append(c.declares, sp.Name.Name)
					identsIn(sp, c.declRefsOf(sp.Name.Name))
				}
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			c.refs[id.Name] = true
		}
		return true
	})
	return c
}

// receiverType is T for a receiver T, *T, T[K] or *T[K].
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// Replay implements multiprocessing.Rebuilder: it records the chunks it has
// not seen and evaluates the imports among them; Func evaluates the rest as
// needed.
func (in *Interpreter) Replay(p multiprocessing.Program) error {
	rs := &in.replay
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for i := len(rs.chunks); i < len(p.Chunks); i++ {
		c := newReplayChunk(p.Chunks[i])
		rs.chunks = append(rs.chunks, c)
		in.remember(p.Chunks[i])
		if c.imports {
			// Imports need nothing before them.
			if err := in.evalChunks(map[int]bool{i: true}); err != nil {
				return err
			}
			continue
		}
		if c.eager {
			// Whatever an init or an unparsable chunk needs, it has
			// before it: evaluate everything up to it, as in the notebook.
			all := map[int]bool{}
			for j := 0; j <= i; j++ {
				all[j] = true
			}
			if err := in.evalChunks(all); err != nil {
				return err
			}
		}
	}
	return nil
}

// NeedsDeclaring implements the multiprocessing worker's lazy rebuild: it
// reports whether Func(name) will evaluate chunks first (the worker then
// silences output and forbids starting processes meanwhile, as for Replay).
func (in *Interpreter) NeedsDeclaring(name string) bool {
	rs := &in.replay
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for i := range rs.closure(name) {
		if !rs.chunks[i].done {
			return true
		}
	}
	return false
}

// ensureDeclared evaluates the chunks name needs that are not evaluated yet.
func (in *Interpreter) ensureDeclared(name string) error {
	rs := &in.replay
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return in.evalChunks(rs.closure(name))
}

// closure returns the chunks name needs (see the top of this file). Call
// with mu held.
func (rs *replayState) closure(name string) map[int]bool { return closureOf(rs.chunks, name) }

// reachableNames returns the top-level names fn can reach, declaration by
// declaration: the latest declaration of each name it uses, every method of
// a type it uses, and theirs in turn.
func reachableNames(chunks []*replayChunk, fn string) map[string]bool {
	return walkDecls(chunks, fn, func(i int, n string) map[string]bool { return chunks[i].declRefs[n] })
}

// closureOf returns the indexes of the chunks name needs: whole chunks,
// since a chunk is evaluated whole.
func closureOf(chunks []*replayChunk, name string) map[int]bool {
	need := map[int]bool{}
	walkDecls(chunks, name, func(i int, _ string) map[string]bool {
		if need[i] {
			return nil
		}
		need[i] = true
		return chunks[i].refs
	})
	return need
}

// walkDecls walks the names reachable from name: for each, the latest chunk
// declaring it and every chunk declaring methods of it, following the names
// next returns for chunk i and name n. It returns the names seen.
func walkDecls(chunks []*replayChunk, name string, next func(i int, n string) map[string]bool) map[string]bool {
	// The latest chunk declaring each name, and every chunk declaring
	// methods of a type (they all count: a later one may add a method).
	latest := map[string]int{}
	methods := map[string][]int{}
	for i, c := range chunks {
		for _, n := range c.declares {
			latest[n] = i
		}
		for _, n := range c.methodOf {
			methods[n] = append(methods[n], i)
		}
	}
	seen := map[string]bool{}
	work := []string{name}
	for len(work) > 0 {
		n := work[len(work)-1]
		work = work[:len(work)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		idxs := methods[n]
		if i, ok := latest[n]; ok {
			idxs = append(idxs, i)
		}
		for _, i := range idxs {
			for r := range next(i, n) {
				if !seen[r] {
					work = append(work, r)
				}
			}
		}
	}
	return seen
}

// evalChunks evaluates the chunks in want that are not done, in notebook
// order. A chunk evaluated late must not undo a later redefinition that is
// already in effect, so every evaluated chunk after it that declares one of
// its names is evaluated again after it. Call with replay.mu held.
func (in *Interpreter) evalChunks(want map[int]bool) error {
	rs := &in.replay
	todo := map[int]bool{}
	for i := range want {
		if rs.chunks[i].done {
			continue
		}
		todo[i] = true
		names := map[string]bool{}
		for _, n := range rs.chunks[i].declares {
			names[n] = true
		}
		for k := i + 1; k < len(rs.chunks); k++ {
			if !rs.chunks[k].done {
				continue
			}
			for _, n := range rs.chunks[k].declares {
				if names[n] {
					todo[k] = true
					break
				}
			}
		}
	}
	order := make([]int, 0, len(todo))
	for i := range todo {
		order = append(order, i)
	}
	sort.Ints(order)
	declared := map[string]bool{}
	for _, i := range order {
		c := rs.chunks[i]
		if _, err := in.eval(context.Background(), c.src); err != nil {
			return fmt.Errorf("rebuild the notebook in the child (declaration %d of %d): %w", i+1, len(rs.chunks), err)
		}
		c.done = true
		for _, n := range c.declares {
			declared[n] = true
		}
	}
	// Globals declared just now take the values the parent sent.
	values := map[string]json.RawMessage{}
	for n := range declared {
		if v, ok := rs.globals[n]; ok {
			values[n] = v
		}
	}
	if len(values) > 0 {
		return in.setGlobals(values)
	}
	return nil
}
