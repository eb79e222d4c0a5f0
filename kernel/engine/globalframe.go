package engine

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/traefik/yaegi/interp"
)

// globalFrame reaches into yaegi's global frame, the slice of values where
// it keeps the notebook's globals and also, for good, every intermediate
// value a top-level statement computes: a cell that printed
// len(make([]byte, 1<<30)) would hold its gigabyte until the kernel
// restarts. Slots added while a statement chunk that declares nothing ran
// belong to that chunk alone (later chunks get slots of their own), so the
// engine zeroes them once it ran. yaegi v0.16.1 exports neither the frame
// nor a way to release them; the frame is found by reflection, and if its
// layout is not the one expected nothing is cleared.
type globalFrame struct {
	mu   *sync.RWMutex    // the frame's own lock
	data *[]reflect.Value // the frame's values
}

// newGlobalFrame finds yi's global frame.
func newGlobalFrame(yi *interp.Interpreter) globalFrame {
	v := reflect.ValueOf(yi).Elem()
	f := v.FieldByName("frame")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Type().Elem().Kind() != reflect.Struct {
		return globalFrame{}
	}
	fr := f.Elem()
	data, mu := fr.FieldByName("data"), fr.FieldByName("mutex")
	if !data.IsValid() || data.Type() != reflect.TypeFor[[]reflect.Value]() ||
		!mu.IsValid() || mu.Type() != reflect.TypeFor[sync.RWMutex]() {
		return globalFrame{}
	}
	return globalFrame{
		mu:   (*sync.RWMutex)(unsafe.Pointer(mu.UnsafeAddr())),
		data: (*[]reflect.Value)(unsafe.Pointer(data.UnsafeAddr())),
	}
}

// len is the number of slots now.
func (g globalFrame) len() int {
	if g.data == nil {
		return 0
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(*g.data)
}

// clearFrom sets the slots from n on to zero values of their types.
func (g globalFrame) clearFrom(n int) {
	if g.data == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	data := *g.data
	for i := n; i < len(data); i++ {
		if data[i].IsValid() {
			data[i] = reflect.New(data[i].Type()).Elem()
		}
	}
}
