package multiprocessing

import (
	"go/ast"
	"strconv"
	"strings"
	"sync"

	"github.com/goproc/goproc/kernel/intproc"
)

// RunInt runs the compiled form of the notebook's integer procedure name
// (kernel/intproc), declared in the cell with sequence number id, and
// reports false if the interpreted body must run instead. The kernel inserts
// the call at the top of such a function, after its probe:
//
//	if __r, __ok := __mp.RunInt("name", id, a, b); __ok { return __r };
//
// so the compiled code serves the kernel and every child process alike (a
// child replays the same declaration). Notebooks never call it.
func RunInt(name string, id int, args ...int) (int, bool) {
	key := procKey{name, id}
	p, ok := procs.Load(key)
	if !ok {
		p = findProc(name, id)
		procs.Store(key, p)
	}
	proc := p.(*intproc.Proc)
	if proc == nil || len(args) != proc.Params {
		return 0, false
	}
	return proc.Run(hostContext().Done(), args)
}

type procKey struct {
	name string
	id   int
}

// procs caches the compiled procedures by declaration (nil: none).
var procs sync.Map // procKey → *intproc.Proc

// findProc compiles the declaration of name whose RunInt call carries id,
// from the Program of this process (nil if there is none, or it does not
// compile).
func findProc(name string, id int) *intproc.Proc {
	h := currentHost()
	if h == nil {
		return nil
	}
	marker := "__mp.RunInt(" + strconv.Quote(name) + ", " + strconv.Itoa(id) + ","
	chunks := h.Program().Chunks
	for i := len(chunks) - 1; i >= 0; i-- {
		src := chunks[i]
		if !strings.Contains(src, marker) {
			continue
		}
		f, err := parseChunk(src)
		if err != nil {
			return nil
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name && fd.Recv == nil {
				if p, ok := intproc.Compile(fd); ok {
					return p
				}
				return nil
			}
		}
	}
	return nil
}
