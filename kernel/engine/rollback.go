package engine

import (
	"reflect"
	"unsafe"

	"github.com/goproc/goproc/kernel/cell"
)

// A chunk that yaegi fails to compile can leave symbols behind in the
// notebook's global scope: the type of a declaration chunk that failed on a
// later declaration (a different redefinition of it was then silently
// ignored), the "incomplete type" of a name it found undefined (every later
// use crashed). go/types keeps most such cells away from the interpreter
// (typecheck.go); for the rest, the engine puts the scope back as it was
// before the chunk, so that the cell changes nothing.
//
// yaegi v0.16.1 has no API for this: scopeSnapshot reads and writes its
// package scope ("main" in Interpreter.scopes, a map of *symbol) through
// reflect. Where the fields are not as expected it does nothing.

// scopeSnapshot is the notebook's global symbols before a chunk ran.
type scopeSnapshot struct {
	syms  reflect.Value               // the scope's map[string]*symbol, settable
	saved map[string][2]reflect.Value // name -> the *symbol and a copy of the symbol
}

// unexportedField makes an unexported field of an addressable struct usable.
func unexportedField(v reflect.Value, name string) reflect.Value {
	f := v.FieldByName(name)
	if !f.IsValid() || !f.CanAddr() {
		return reflect.Value{}
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// snapshotScope records the global scope, for a chunk that may declare
// something (nil when the chunk cannot, or the scope cannot be read).
func (in *Interpreter) snapshotScope(ch cell.Chunk) (s *scopeSnapshot) {
	if ch.Kind != cell.Decl && len(ch.Declares) == 0 {
		return nil
	}
	defer func() {
		if recover() != nil {
			s = nil
		}
	}()
	scopes := unexportedField(reflect.ValueOf(in.yi).Elem(), "scopes")
	if !scopes.IsValid() || scopes.Kind() != reflect.Map {
		return nil
	}
	sc := scopes.MapIndex(reflect.ValueOf("main"))
	if !sc.IsValid() || sc.Kind() != reflect.Pointer || sc.IsNil() {
		return nil
	}
	syms := unexportedField(sc.Elem(), "sym")
	if !syms.IsValid() || syms.Kind() != reflect.Map || syms.Type().Elem().Kind() != reflect.Pointer {
		return nil
	}
	s = &scopeSnapshot{syms: syms, saved: make(map[string][2]reflect.Value, syms.Len())}
	iter := syms.MapRange()
	for iter.Next() {
		ptr := iter.Value()
		if ptr.IsNil() {
			s.saved[iter.Key().String()] = [2]reflect.Value{ptr, {}}
			continue
		}
		cp := reflect.New(ptr.Type().Elem()).Elem()
		cp.Set(reflect.NewAt(ptr.Type().Elem(), ptr.UnsafePointer()).Elem())
		s.saved[iter.Key().String()] = [2]reflect.Value{ptr, cp}
	}
	return s
}

// restore puts the scope back as the snapshot found it: symbols added since
// are removed, changed ones get their old value.
func (s *scopeSnapshot) restore() {
	if s == nil {
		return
	}
	defer func() { _ = recover() }()
	for _, k := range s.syms.MapKeys() {
		if _, ok := s.saved[k.String()]; !ok {
			s.syms.SetMapIndex(k, reflect.Value{})
		}
	}
	for name, v := range s.saved {
		ptr, cp := v[0], v[1]
		s.syms.SetMapIndex(reflect.ValueOf(name), ptr)
		if cp.IsValid() {
			reflect.NewAt(ptr.Type().Elem(), ptr.UnsafePointer()).Elem().Set(cp)
		}
	}
}
