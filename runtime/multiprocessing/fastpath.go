package multiprocessing

import (
	"fmt"
	"reflect"
)

// Fast paths for pool chunks of common one-argument signatures: a typed
// call avoids reflect.Value.Call and per-item allocations (about a third
// of the cost of a trivial task; the interpreted call itself remains).

// A runner gets the items as a []In and, for a pure arithmetic function
// (purefn.go), its compiled evaluator (nil otherwise).
type chunkRunner func(fn reflect.Value, pure any, items reflect.Value) (reflect.Value, *taskFailure, error)

var fastChunks = map[reflect.Type]chunkRunner{}

func registerFast[In, Out any]() {
	fastChunks[reflect.TypeOf((func(In) Out)(nil))] = runTyped[In, Out]
}

func init() {
	registerFast[int, int]()
	registerFast[int, int64]()
	registerFast[int, float64]()
	registerFast[int, string]()
	registerFast[int, bool]()
	registerFast[int64, int64]()
	registerFast[float64, float64]()
	registerFast[float64, int]()
	registerFast[string, string]()
	registerFast[string, int]()
}

// runTyped runs fn over items (a []In) and returns the []Out.
func runTyped[In, Out any](fn reflect.Value, pure any, itemsv reflect.Value) (out reflect.Value, failed *taskFailure, err error) {
	f, ok := fn.Interface().(func(In) Out)
	if !ok {
		return reflect.Value{}, nil, fmt.Errorf("function is %s", fn.Type())
	}
	items, ok := itemsv.Interface().([]In)
	if !ok {
		return reflect.Value{}, nil, fmt.Errorf("items are %s", itemsv.Type())
	}
	results := make([]Out, len(items))
	i := 0
	func() {
		defer func() {
			if v := recover(); v != nil {
				p := &recovered{value: v}
				failed = &taskFailure{Index: i, Item: fmt.Sprintf("%#v", items[i]), Message: p.message(), Panic: true}
			}
		}()
		if g, ok := pure.(func(In) (Out, bool)); ok {
			for ; i < len(items); i++ {
				r, ok := g(items[i])
				if !ok {
					r = f(items[i]) // it panics as the interpreter does
				}
				results[i] = r
			}
			return
		}
		for ; i < len(items); i++ {
			results[i] = f(items[i])
		}
	}()
	if failed != nil {
		return reflect.Value{}, failed, nil
	}
	return reflect.ValueOf(results), nil, nil
}
