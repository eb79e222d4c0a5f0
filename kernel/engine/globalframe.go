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
// engine zeroes them once it ran; for a chunk that declares globals with
// :=, all but those globals' own slots. yaegi v0.16.1 exports neither the frame
// nor a way to release them; the frame is found by reflection, and if its
// layout is not the one expected nothing is cleared.
type globalFrame struct {
	mu   *sync.RWMutex    // the frame's own lock
	data *[]reflect.Value // the frame's values
	main reflect.Value    // the main package's scope (*scope), to find globals' slots
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
	g := globalFrame{
		mu:   (*sync.RWMutex)(unsafe.Pointer(mu.UnsafeAddr())),
		data: (*[]reflect.Value)(unsafe.Pointer(data.UnsafeAddr())),
	}
	if scopes := v.FieldByName("scopes"); scopes.IsValid() && scopes.Kind() == reflect.Map &&
		scopes.Type().Key().Kind() == reflect.String {
		g.main = scopes
	}
	return g
}

// slotOf returns the frame slot of the notebook's global name, or false.
func (g globalFrame) slotOf(name string) (int, bool) {
	if !g.main.IsValid() {
		return 0, false
	}
	sc := g.main.MapIndex(reflect.ValueOf("main"))
	if !sc.IsValid() || sc.Kind() != reflect.Pointer || sc.IsNil() {
		return 0, false
	}
	syms := sc.Elem().FieldByName("sym")
	if !syms.IsValid() || syms.Kind() != reflect.Map || syms.Type().Key().Kind() != reflect.String {
		return 0, false
	}
	sym := syms.MapIndex(reflect.ValueOf(name))
	if !sym.IsValid() || sym.Kind() != reflect.Pointer || sym.IsNil() {
		return 0, false
	}
	index, global := sym.Elem().FieldByName("index"), sym.Elem().FieldByName("global")
	if !index.IsValid() || index.Kind() != reflect.Int || !global.IsValid() || global.Kind() != reflect.Bool || !global.Bool() {
		return 0, false
	}
	return int(index.Int()), index.Int() >= 0
}

// clearFrom sets the slots from n on to zero values of their types, but
// for the slots of the globals named in keep; it clears nothing if the slot
// of one of them cannot be found.
func (g globalFrame) clearFrom(n int, keep []string) {
	kept := map[int]bool{}
	for _, name := range keep {
		i, ok := g.slotOf(name)
		if !ok {
			return
		}
		kept[i] = true
	}
	if g.data == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	data := *g.data
	for i := n; i < len(data); i++ {
		if data[i].IsValid() && !kept[i] {
			data[i] = reflect.New(data[i].Type()).Elem()
		}
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
