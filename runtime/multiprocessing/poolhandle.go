package multiprocessing

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
)

// Pool is a pool of worker processes, like Python's multiprocessing.Pool.
//
//	pool := multiprocessing.NewPool(4)
//	defer pool.Close()
//	var squares []int
//	err := pool.MapInto(&squares, square, []int{1, 2, 3, 4, 5}) // [1 4 9 16 25]
//
// MapInto, StarMapInto and ApplyInto store the results in a variable of
// their type. Map, StarMap and Apply return them as any: a slice of the
// function's result type, which fmt.Println prints as usual and
// squares.([]int) gives typed. A function may also return (T, error): a
// non-nil error fails the call like a panic does. A failing item makes the
// call return an error that names the item and carries the worker's
// message; other results are discarded. A worker that dies (os.Exit, a
// signal) fails the call at once and is replaced. Pool workers are
// daemonic: they may not start processes.
//
// A pool that nothing refers to any more (an unclosed pool of a cell that
// ran again, say) is terminated when the garbage collector finds it, as
// Python's is: its workers do not live until the kernel stops. Close it when
// done all the same.
type Pool struct {
	p *pool
}

// NewPool starts a pool of n worker processes (n ≤ 0: CPUCount()). It
// returns at once; errors (a bad initializer, the process limit) are
// returned by the pool's methods. Interrupting the cell that created the
// pool terminates it.
func NewPool(n int, opts ...PoolOption) *Pool {
	sweepPools(hostContext())
	h := &Pool{p: newPool(n, opts...)}
	runtime.AddCleanup(h, (*pool).abandoned, h.p)
	if h.p.err == nil {
		registerPool(h, h.p.ctx)
		go func(p *pool) {
			<-p.stopped
			unregisterPool(p)
		}(h.p)
	}
	return h
}

// abandoned terminates a running pool whose handle nobody holds: no call
// can be made on it, and no result of one collected.
func (p *pool) abandoned() {
	p.mu.Lock()
	running := p.state == poolRunning
	p.mu.Unlock()
	if running {
		poolsAbandoned.Add(1)
		go p.Terminate()
	}
}

// poolsAbandoned counts the pools abandoned() terminated.
var poolsAbandoned atomic.Int64

// The methods keep h alive until they return: a pool is not reclaimed
// while one of its calls runs. The results of the Async methods and of Imap
// hold h too.

// Map calls fn on every item in the pool's workers and returns the results
// in order, as a slice of fn's result type ([]int for func(int) int).
func (h *Pool) Map(fn any, items any) (any, error) {
	sweepOncePerCell()
	defer runtime.KeepAlive(h)
	return h.p.Map(fn, items)
}

// MapInto is Map storing the results in *dst, a slice of fn's result type
// (or of a type they convert to):
//
//	var squares []int
//	err := pool.MapInto(&squares, square, []int{1, 2, 3})
func (h *Pool) MapInto(dst any, fn any, items any) error {
	sweepOncePerCell()
	defer runtime.KeepAlive(h)
	if err := checkDst(dst, true); err != nil {
		return err
	}
	r, err := h.p.Map(fn, items)
	if err != nil {
		return err
	}
	return storeInto(dst, r, true)
}

// MapChunks is Map with an explicit chunk size.
func (h *Pool) MapChunks(fn any, items any, chunkSize int) (any, error) {
	sweepOncePerCell()
	defer runtime.KeepAlive(h)
	return h.p.MapChunks(fn, items, chunkSize)
}

// StarMap is Map for functions of several arguments: every item is a slice
// of arguments ([][]any{{1, 2}, {3, 4}} calls fn(1, 2) and fn(3, 4)).
func (h *Pool) StarMap(fn any, items any) (any, error) {
	sweepOncePerCell()
	defer runtime.KeepAlive(h)
	return h.p.StarMap(fn, items)
}

// StarMapInto is StarMap storing the results in *dst (see MapInto).
func (h *Pool) StarMapInto(dst any, fn any, items any) error {
	sweepOncePerCell()
	defer runtime.KeepAlive(h)
	if err := checkDst(dst, true); err != nil {
		return err
	}
	r, err := h.p.StarMap(fn, items)
	if err != nil {
		return err
	}
	return storeInto(dst, r, true)
}

// Apply calls fn(args...) in a worker and returns its result.
func (h *Pool) Apply(fn any, args ...any) (any, error) {
	sweepOncePerCell()
	defer runtime.KeepAlive(h)
	return h.p.Apply(fn, args...)
}

// ApplyInto is Apply storing the result in *dst, a variable of fn's result
// type:
//
//	var total int
//	err := pool.ApplyInto(&total, sum, 1, 100)
func (h *Pool) ApplyInto(dst any, fn any, args ...any) error {
	sweepOncePerCell()
	defer runtime.KeepAlive(h)
	if err := checkDst(dst, false); err != nil {
		return err
	}
	r, err := h.p.Apply(fn, args...)
	if err != nil {
		return err
	}
	return storeInto(dst, r, false)
}

// ApplyAsync is Apply without waiting.
func (h *Pool) ApplyAsync(fn any, args ...any) *AsyncResult {
	sweepOncePerCell()
	r := h.p.ApplyAsync(fn, args...)
	r.keep = h
	return r
}

// MapAsync is Map without waiting.
func (h *Pool) MapAsync(fn any, items any) *AsyncResult {
	sweepOncePerCell()
	r := h.p.MapAsync(fn, items)
	r.keep = h
	return r
}

// StarMapAsync is StarMap without waiting.
func (h *Pool) StarMapAsync(fn any, items any) *AsyncResult {
	sweepOncePerCell()
	r := h.p.StarMapAsync(fn, items)
	r.keep = h
	return r
}

// Imap is a lazy Map: the iterator yields results in order as they arrive.
//
//	it := pool.Imap(square, xs)
//	for it.Next() { fmt.Println(it.Value()) }
//	if err := it.Err(); err != nil { ... }
func (h *Pool) Imap(fn any, items any) *ResultIterator {
	sweepOncePerCell()
	it := h.p.Imap(fn, items)
	it.keep = h
	return it
}

// ImapUnordered is Imap yielding results in the order they complete.
func (h *Pool) ImapUnordered(fn any, items any) *ResultIterator {
	sweepOncePerCell()
	it := h.p.ImapUnordered(fn, items)
	it.keep = h
	return it
}

// Close stops accepting work, waits for the work already submitted, and
// stops the workers (idle workers are kept warm for later use). Use it with
// defer. Python's close+join.
func (h *Pool) Close() error {
	defer runtime.KeepAlive(h)
	return h.p.Close()
}

// Join waits until the workers of a closed or terminated pool have stopped.
func (h *Pool) Join() error {
	defer runtime.KeepAlive(h)
	return h.p.Join()
}

// Terminate stops the workers at once; outstanding calls fail.
func (h *Pool) Terminate() error {
	defer runtime.KeepAlive(h)
	return h.p.Terminate()
}

// GetInto is Get storing the result in *dst: a slice variable for MapAsync
// and StarMapAsync, a variable of the function's result type for
// ApplyAsync.
//
//	var squares []int
//	err := pool.MapAsync(square, xs).GetInto(&squares)
func (r *AsyncResult) GetInto(dst any) error {
	if err := checkDst(dst, false); err != nil {
		return err
	}
	v, err := r.Get()
	if err != nil {
		return err
	}
	return storeInto(dst, v, reflect.ValueOf(v).Kind() == reflect.Slice && reflect.ValueOf(dst).Elem().Kind() == reflect.Slice)
}

// checkDst says why dst cannot take results, before any work is done.
func checkDst(dst any, slice bool) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("pool: the results go into a variable: pass its address (&results), not %s", describeValue(dst))
	}
	if slice && v.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("pool: the results go into a slice variable (var results []T), not into %s", v.Elem().Type())
	}
	return nil
}

// storeInto stores results (a slice, or one value) in *dst, converting each
// value to dst's element type if it must.
func storeInto(dst any, results any, slice bool) error {
	d := reflect.ValueOf(dst).Elem()
	r := reflect.ValueOf(results)
	if !slice {
		return assignResult(d, r)
	}
	if r.Type().AssignableTo(d.Type()) {
		d.Set(r)
		return nil
	}
	out := reflect.MakeSlice(d.Type(), r.Len(), r.Len())
	for i := 0; i < r.Len(); i++ {
		if err := assignResult(out.Index(i), r.Index(i)); err != nil {
			return fmt.Errorf("result %d: %w", i, err)
		}
	}
	d.Set(out)
	return nil
}

func assignResult(d, v reflect.Value) error {
	for v.IsValid() && v.Kind() == reflect.Interface && d.Kind() != reflect.Interface {
		v = v.Elem()
	}
	switch {
	case !v.IsValid():
		d.Set(reflect.Zero(d.Type()))
	case v.Type().AssignableTo(d.Type()):
		d.Set(v)
	case v.Type().ConvertibleTo(d.Type()) && v.Kind() != reflect.String && d.Kind() != reflect.String:
		d.Set(v.Convert(d.Type()))
	default:
		return errors.New("pool: a result of type " + v.Type().String() + " cannot go into a variable of type " + d.Type().String())
	}
	return nil
}
