package multiprocessing

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"weak"
)

// Reclaiming pools the notebook no longer refers to.
//
// The garbage collector terminates a running pool whose handle nothing
// refers to (NewPool's cleanup), but yaegi keeps the old value of a
// variable a cell declares again (pool := NewPool(2) in a cell run twice):
// the first pool stays reachable from the interpreter, not from the
// notebook. So when a cell first uses multiprocessing, pools created by
// earlier cells that are idle and that no global of the notebook reaches
// are terminated too. A Host shows its globals' values by implementing
// valuesHost (the engine does). A pool reached only through a closure's
// captured variables is not seen, and is reclaimed if it is idle: keep it
// in a global, or close it when done.

// valuesHost is implemented by a Host that shows the values of the
// notebook's globals.
type valuesHost interface {
	GlobalValues() map[string]reflect.Value
}

// livePoolSet holds the running pools, with a weak pointer to each handle
// (a strong one would keep every handle alive) and the cell that made it.
var livePoolSet = struct {
	sync.Mutex
	m map[*pool]livePool
}{m: map[*pool]livePool{}}

type livePool struct {
	handle weak.Pointer[Pool]
	cell   context.Context
}

func registerPool(h *Pool, cell context.Context) {
	livePoolSet.Lock()
	livePoolSet.m[h.p] = livePool{handle: weak.Make(h), cell: cell}
	livePoolSet.Unlock()
}

func unregisterPool(p *pool) {
	livePoolSet.Lock()
	delete(livePoolSet.m, p)
	livePoolSet.Unlock()
}

// lastSweep is the cell whose first use of a pool swept.
var lastSweep atomic.Pointer[context.Context]

// sweepOncePerCell sweeps at the first pool call of each cell.
func sweepOncePerCell() {
	cell := hostContext()
	if p := lastSweep.Load(); p != nil && *p == cell {
		return
	}
	lastSweep.Store(&cell)
	sweepPools(cell)
}

// idle reports whether p is running with no call in flight.
func (p *pool) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == poolRunning && len(p.queue) == 0 && p.busy == 0
}

// sweepPools terminates the idle pools of cells before cell that no global
// reaches.
func sweepPools(cell context.Context) {
	vh, ok := currentHost().(valuesHost)
	if !ok {
		return
	}
	candidates := map[uintptr]*pool{}
	livePoolSet.Lock()
	for p, lp := range livePoolSet.m {
		h := lp.handle.Value()
		if h == nil || lp.cell == cell {
			continue
		}
		candidates[uintptr(reflect.ValueOf(h).Pointer())] = p
	}
	livePoolSet.Unlock()
	for k, p := range candidates {
		if !p.idle() {
			delete(candidates, k)
		}
	}
	if len(candidates) == 0 {
		return
	}
	w := &poolWalker{want: candidates, seen: map[[2]uintptr]bool{}, budget: 1 << 20}
	for _, v := range vh.GlobalValues() {
		w.walk(v)
		if w.unsure || len(w.want) == 0 {
			return
		}
	}
	for _, p := range w.want {
		if p.idle() {
			poolsAbandoned.Add(1)
			go p.Terminate()
		}
	}
}

// poolWalker looks for Pool handles in values; what it finds leaves want.
type poolWalker struct {
	want   map[uintptr]*pool
	seen   map[[2]uintptr]bool // pointers, maps and slices (with their length) walked
	budget int
	depth  int
	unsure bool // a value could not be looked into: terminate nothing
}

// first reports whether the value at p (of length n) is walked for the
// first time: values may refer to themselves.
func (w *poolWalker) first(p, n uintptr) bool {
	k := [2]uintptr{p, n}
	if w.seen[k] {
		return false
	}
	w.seen[k] = true
	return true
}

var (
	poolHandleType  = reflect.TypeOf((*Pool)(nil))
	asyncResultType = reflect.TypeOf((*AsyncResult)(nil))
	resultIterType  = reflect.TypeOf((*ResultIterator)(nil))
	reflectValueTyp = reflect.TypeOf(reflect.Value{})
	mayHoldCache    sync.Map // reflect.Type → bool
)

const yaegiInterp = "github.com/traefik/yaegi/interp"

// mayHold reports whether a value of type t can lead to a Pool handle.
func mayHold(t reflect.Type) bool {
	if v, ok := mayHoldCache.Load(t); ok {
		return v.(bool)
	}
	mayHoldCache.Store(t, true) // recursive types: assume so while deciding
	r := mayHoldUncached(t)
	mayHoldCache.Store(t, r)
	return r
}

func mayHoldUncached(t reflect.Type) bool {
	if t == poolHandleType || t == asyncResultType || t == resultIterType || t == reflectValueTyp {
		return true
	}
	if t.PkgPath() == yaegiInterp {
		// The interpreter's own values: only an interface value's
		// (valueInterface.value), never its syntax trees.
		return t.Kind() == reflect.Struct && t.Name() == "valueInterface"
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return mayHold(t.Elem())
	case reflect.Map:
		return mayHold(t.Key()) || mayHold(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if mayHold(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

func (w *poolWalker) walk(v reflect.Value) {
	if w.unsure || len(w.want) == 0 || !v.IsValid() || !mayHold(v.Type()) {
		return
	}
	if w.budget--; w.budget < 0 || w.depth > 10000 {
		w.unsure = true
		return
	}
	w.depth++
	defer func() { w.depth-- }()
	t := v.Type()
	switch t.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem())
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		ptr := v.Pointer()
		switch t {
		case poolHandleType:
			delete(w.want, ptr)
			return
		case asyncResultType, resultIterType:
			w.walk(v.Elem().FieldByName("keep"))
			return
		}
		if w.first(ptr, 0) {
			w.walk(v.Elem())
		}
	case reflect.Struct:
		if t == reflectValueTyp {
			if !v.CanAddr() {
				w.unsure = true
				return
			}
			w.walk(*(*reflect.Value)(v.Addr().UnsafePointer()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if t.PkgPath() == yaegiInterp && t.Field(i).Type != reflectValueTyp {
				continue
			}
			w.walk(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && (v.Len() == 0 || !w.first(v.Pointer(), uintptr(v.Len()))) {
			return
		}
		for i := 0; i < v.Len(); i++ {
			w.walk(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 || !w.first(v.Pointer(), 1<<63) {
			return
		}
		it := v.MapRange()
		for it.Next() {
			w.walk(it.Key())
			w.walk(it.Value())
		}
	}
}
