package multiprocessing

import (
	"go/ast"
	"strconv"
	"strings"
	"sync"

	"github.com/goproc/goproc/kernel/numcode"
)

// RunProc runs the compiled form of the notebook's numeric procedure name
// (kernel/numcode), declared in the cell with sequence number id, and
// reports false if the interpreted body must run instead. The kernel inserts
// the call at the top of such a function, after its probe:
//
//	if __r, __ok := __mp.RunProc("name", id, a, b); __ok { return __r.(T) };
//
// so the compiled code serves the kernel and every child process alike (a
// child replays the same declaration). Notebooks never call it.
func RunProc(name string, id int, args ...any) (any, bool) {
	proc := cached(&procs, procKey{name, id}, func() *numcode.Proc { return findProc(name, id) })
	if proc == nil {
		return nil, false
	}
	return proc.Call(hostContext().Done(), args)
}

// cached returns what m holds for key, or stores and returns what find
// returns (nil too: a declaration that does not compile is not looked for
// again).
func cached[T any](m *sync.Map, key any, find func() *T) *T {
	if v, ok := m.Load(key); ok {
		return v.(*T)
	}
	v := find()
	m.Store(key, v)
	return v
}

type procKey struct {
	name string
	id   int
}

// procs caches the compiled procedures by declaration (nil: none).
var procs sync.Map // procKey → *numcode.Proc

// findProc compiles the declaration of name whose RunProc call carries id,
// from the Program of this process (nil if there is none, or it does not
// compile).
func findProc(name string, id int) *numcode.Proc {
	f, chunks := markedChunk("__mp.RunProc(" + strconv.Quote(name) + ", " + strconv.Itoa(id))
	if f == nil {
		return nil
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name && fd.Recv == nil {
			if p, ok := numcode.CompileWith(fd, programResolver(chunks)); ok {
				return p
			}
			return nil
		}
	}
	return nil
}

// markedChunk parses the latest chunk of this process's Program that holds
// the call marker (the kernel's call up to its first argument after the
// ids), and returns it with the Program's chunks (nil if there is none).
func markedChunk(marker string) (*ast.File, []string) {
	h := currentHost()
	if h == nil {
		return nil, nil
	}
	chunks := h.Program().Chunks
	for i := len(chunks) - 1; i >= 0; i-- {
		src := chunks[i]
		if !strings.Contains(src, marker+",") && !strings.Contains(src, marker+")") {
			continue
		}
		f, err := numcode.ParseChunk(src)
		if err != nil {
			return nil, nil
		}
		return f, chunks
	}
	return nil, nil
}

// programResolver resolves the functions a compiled procedure calls in the
// Program's chunks: a function declared exactly once there. (yaegi binds a
// call when it compiles the caller, so after a redeclaration the old caller
// still calls the old function; which one that was is not worth working
// out, and such a call stays interpreted.)
func programResolver(chunks []string) numcode.Resolver {
	return numcode.Once(numcode.FuncsInChunks(chunks))
}

// RunLoop runs the compiled form of a loop of the notebook (kernel/numcode)
// on the values of the numeric variables it uses, and returns their values
// afterwards, or false if the interpreted loop must run instead. The kernel
// wraps such a loop, on its own lines, as
//
//	if __v, __ok := __mp.RunLoop(id, k, a, b); __ok { b = __v[1].(uint64) } else { LOOP }
//
// where id is the cell's sequence number and k numbers the loop in the
// cell. Notebooks never call it.
func RunLoop(id, k int, vals ...any) ([]any, bool) {
	types, ok := numcode.TypesOf(vals)
	if !ok {
		return nil, false
	}
	// A loop's variables have the same types every time: the first call's
	// compile serves the rest.
	block := cached(&loops, loopKey{id, k}, func() *numcode.Block { return findLoop(id, k, types) })
	if block == nil {
		return nil, false
	}
	return block.Call(hostContext().Done(), vals)
}

type loopKey struct{ id, k int }

// loops caches the compiled loops (nil: none).
var loops sync.Map // loopKey → *numcode.Block

// findLoop compiles the loop that the RunLoop call with id and k wraps, over
// variables of the types given, from the Program of this process (nil if
// there is none, or it does not compile).
func findLoop(id, k int, types []string) *numcode.Block {
	f, chunks := markedChunk("__mp.RunLoop(" + strconv.Itoa(id) + ", " + strconv.Itoa(k))
	if f == nil {
		return nil
	}
	b, _ := numcode.WrappedLoop(f, id, k, types, programResolver(chunks))
	return b
}
