package stdsyms

import (
	"reflect"
	"sort"
	"strings"
)

// InterfaceDeps returns the export keys of the packages that declare the
// interfaces (with methods) that values passed into the package of key can
// have, from the generated table in interface_deps.go. yaegi hands an
// interpreted value, or nil, to a function taking such an interface by
// wrapping it in a type from the table of the interface's package, so those
// tables must be loaded with the package's own: io with net/http, for
// http.NewRequest(…, nil).
func InterfaceDeps(key string) []string { return interfaceDeps[key] }

// InterfacePackages computes what InterfaceDeps returns, from a table: the
// import paths of the packages declaring the interfaces with methods among
// the types of its functions' and methods' parameters, its exported struct
// fields and variables, the results of the functions it takes as callbacks,
// and the results of its own interfaces' methods (which interpreted types
// implement). Values coming out of the package need no wrapper, so other
// results are not followed.
func InterfacePackages(t Table) []string {
	deps := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var in func(rt reflect.Type) // rt: the type of a value flowing into the package
	in = func(rt reflect.Type) {
		if seen[rt] {
			return
		}
		seen[rt] = true
		switch rt.Kind() {
		case reflect.Interface:
			if rt.NumMethod() > 0 && rt.PkgPath() != "" {
				deps[rt.PkgPath()] = true
			}
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			in(rt.Elem())
		case reflect.Map:
			in(rt.Key())
			in(rt.Elem())
		case reflect.Func: // a callback: its results flow in
			for i := range rt.NumOut() {
				in(rt.Out(i))
			}
		}
	}
	params := func(ft reflect.Type, skip int) {
		for i := skip; i < ft.NumIn(); i++ {
			in(ft.In(i))
		}
	}
	for name, v := range t {
		if strings.HasPrefix(name, "_") || !v.IsValid() {
			continue // yaegi's interface wrappers
		}
		switch {
		case v.Kind() == reflect.Pointer && v.IsNil(): // a type: (*T)(nil)
			typ := v.Type().Elem()
			if typ.Kind() == reflect.Interface {
				for i := range typ.NumMethod() {
					mt := typ.Method(i).Type
					for j := range mt.NumOut() {
						in(mt.Out(j))
					}
				}
				continue
			}
			if typ.Kind() == reflect.Struct {
				for i := range typ.NumField() {
					if f := typ.Field(i); f.IsExported() {
						in(f.Type)
					}
				}
			}
			for _, rt := range []reflect.Type{typ, reflect.PointerTo(typ)} {
				for i := range rt.NumMethod() {
					params(rt.Method(i).Type, 1)
				}
			}
		case v.Kind() == reflect.Func:
			params(v.Type(), 0)
		case v.CanSet(): // a variable
			in(v.Type())
		}
	}
	paths := make([]string, 0, len(deps))
	for p := range deps {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// ComputeInterfaceDeps computes the InterfaceDeps table for every package,
// keyed and valued by export keys, leaving out a package itself and
// packages the library lacks (internal ones). internal/gendeps writes it
// into interface_deps.go; a test checks that file is up to date.
func ComputeInterfaceDeps() map[string][]string {
	out := map[string][]string{}
	for _, p := range Paths() {
		key, ok := Key(p)
		if !ok {
			continue
		}
		var deps []string
		for _, dp := range InterfacePackages(Build(key)) {
			if dk, ok := Key(dp); ok && dk != key {
				deps = append(deps, dk)
			}
		}
		if len(deps) > 0 {
			out[key] = deps
		}
	}
	return out
}
