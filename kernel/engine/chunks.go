package engine

import (
	"errors"
	"go/ast"
	"reflect"
	"strings"

	"github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/numcode"
)

// cellPrelude is evaluated once in every interpreter after the support
// imports: the probe switch and the helpers behind min and max.
var cellPrelude = []string{cell.Prelude}

// lastMain is the name the latest cell's main was renamed to, or "".
func (in *Interpreter) lastMain() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	last, lastSeq := "", -1
	for name := range in.decls {
		if seq, ok := cell.MainSeq(name); ok && seq > lastSeq {
			last, lastSeq = name, seq
		}
	}
	return last
}

// split turns a cell into chunks with the kernel/cell pipeline.
func (in *Interpreter) split(code string) ([]cell.Chunk, error) {
	in.mu.Lock()
	in.mainSeq++
	seq := in.mainSeq
	in.mu.Unlock()
	globals := in.safeGlobals()
	var earlier numcode.Funcs // the earlier cells' functions, read when a call needs them
	chunks, err := cell.Parse(code, cell.Options{
		KnownInts: func(name string) bool {
			v, ok := globals[name]
			if !ok || !v.IsValid() {
				return false
			}
			switch v.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				return true
			}
			return false
		},
		Defined: func(name string) bool {
			if _, ok := globals[name]; ok {
				return true
			}
			in.mu.Lock()
			defer in.mu.Unlock()
			_, ok := in.decls[name]
			return ok
		},
		SeenImport: func(imp cell.Import) bool {
			in.mu.Lock()
			defer in.mu.Unlock()
			return in.imports[importKey(imp)]
		},
		Seq:         seq,
		EarlierMain: in.lastMain(),
		EarlierType: func(name string) string {
			in.mu.Lock()
			defer in.mu.Unlock()
			return in.types[name]
		},
		Instrument:  true,
		Interpreted: in.interpretOnly,
		EarlierFuncs: func(name string) []*ast.FuncDecl {
			if earlier == nil {
				earlier = numcode.FuncsInChunks(in.Program().Chunks)
			}
			return earlier(name)
		},
	})
	return chunks, err
}

func importKey(imp cell.Import) string {
	name := imp.Name
	if name == "" {
		name = imp.Path[strings.LastIndex(imp.Path, "/")+1:]
	}
	return name + " " + imp.Path
}

// safeGlobals returns yaegi's globals; Globals itself can panic in yaegi
// v0.16.1 (an index out of range in scope.go), which must not fail a cell.
func (in *Interpreter) safeGlobals() (g map[string]reflect.Value) {
	defer func() {
		if recover() != nil {
			g = map[string]reflect.Value{}
		}
	}()
	return in.yi.Globals()
}

func asSyntaxError(err error) (*cell.SyntaxError, bool) {
	var se *cell.SyntaxError
	ok := errors.As(err, &se)
	return se, ok
}
