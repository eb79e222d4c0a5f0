package typecheck

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"path"
	"reflect"
	"strings"
	"sync"

	"github.com/goproc/goproc/kernel/stdsyms"
	"github.com/goproc/goproc/kernel/symbols"
)

// importer gives go/types the packages cells can import, built from the
// symbol tables the interpreter itself runs them from (kernel/stdsyms for
// the standard library, kernel/symbols for goproc's runtime packages): what
// the checker sees is what the interpreter has, with no Go toolchain or
// export data needed at run time. Reading a package's types through reflect
// costs about a millisecond for fmt's and its dependencies' (measured by
// BenchmarkImportFmt), once per process.
//
// reflect shows neither parameter names nor generic functions. The generic
// packages the interpreter runs from source (cmp, maps, slices) are checked
// from that same source (Options.Sources).
type importer struct {
	mu      sync.Mutex
	sources func(path string) []string
	fset    *token.FileSet
	pkgs    map[string]*types.Package // by path: imported, or holding a type another package refers to
	done    map[string]error          // packages imported (nil error: complete)
	named   map[reflect.Type]*types.Named
}

func newImporter(fset *token.FileSet, sources func(string) []string) *importer {
	return &importer{
		sources: sources,
		fset:    fset,
		pkgs:    map[string]*types.Package{},
		done:    map[string]error{},
		named:   map[reflect.Type]*types.Named{},
	}
}

// goprocRuntime is the path prefix of goproc's runtime packages.
const goprocRuntime = "github.com/goproc/goproc/runtime/"

// resolved is an import path resolved (see resolve).
type resolved struct {
	full, name, key string
	goproc, ok      bool
}

var resolvedPaths sync.Map // import path -> resolved

// resolve maps an import path as a cell writes it to the package's path,
// name and symbol table key; ok is false for a package the interpreter does
// not have.
func resolve(p string) resolved {
	if r, ok := resolvedPaths.Load(p); ok {
		return r.(resolved)
	}
	r := resolved{full: p}
	if f, isAlias := symbols.Aliases[p]; isAlias {
		r.full = f
	}
	if strings.HasPrefix(r.full, goprocRuntime) {
		r.name, r.goproc = path.Base(r.full), true
		r.key = r.full + "/" + r.name
		_, r.ok = symbols.Symbols[r.key]
	} else if key, found := stdsyms.Key(p); found {
		r.name, r.key, r.ok = path.Base(key), key, true
	} else if key, found := symbols.Keys()[p]; found {
		// A module package built into this engine (kernel/modules).
		r.name, r.key, r.goproc, r.ok = path.Base(key), key, true, true
	}
	resolvedPaths.Store(p, r)
	return r
}

// table builds the symbol table of a resolved package.
func (r resolved) table() map[string]reflect.Value {
	if r.goproc {
		return symbols.Symbols[r.key]
	}
	return stdsyms.Build(r.key)
}

// available reports whether a cell can import p.
func available(p string) bool { return resolve(p).ok }

// Import implements types.Importer.
func (im *importer) Import(p string) (*types.Package, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	r := resolve(p)
	if !r.ok {
		return nil, fmt.Errorf("package %s is not available in goproc", p)
	}
	if err, seen := im.done[r.full]; seen {
		return im.pkgs[r.full], err
	}
	var pkg *types.Package
	var err error
	if srcs := im.sourcesFor(r.full); len(srcs) > 0 {
		pkg, err = im.fromSource(r.full, srcs)
	} else {
		pkg = im.pkg(r.full, r.name)
		im.fill(pkg, r.table())
		pkg.MarkComplete()
	}
	im.done[r.full] = err
	return pkg, err
}

func (im *importer) sourcesFor(p string) []string {
	if im.sources == nil {
		return nil
	}
	return im.sources(p)
}

// fromSource type-checks a package the interpreter runs from source.
func (im *importer) fromSource(p string, srcs []string) (*types.Package, error) {
	var files []*ast.File
	for i, s := range srcs {
		f, err := parser.ParseFile(im.fset, fmt.Sprintf("%s/goproc_%d.go", p, i), s, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: lockedImporter{im}, Error: func(error) {}}
	pkg, err := conf.Check(p, im.fset, files, nil)
	if pkg != nil {
		im.pkgs[p] = pkg
		err = nil // a complete enough package: its functions are what matters
	}
	return pkg, err
}

// lockedImporter imports for a check that runs with im.mu held.
type lockedImporter struct{ im *importer }

func (l lockedImporter) Import(p string) (*types.Package, error) {
	l.im.mu.Unlock()
	defer l.im.mu.Lock()
	return l.im.Import(p)
}

// pkg returns the package object for a path, creating it.
func (im *importer) pkg(p, name string) *types.Package {
	if pkg, ok := im.pkgs[p]; ok {
		return pkg
	}
	if name == "" {
		name = path.Base(p)
		if len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" && path.Dir(p) != "." {
			name = path.Base(path.Dir(p)) // math/rand/v2
		}
	}
	pkg := types.NewPackage(p, name)
	im.pkgs[p] = pkg
	return pkg
}

// fill declares a table's symbols in pkg's scope.
func (im *importer) fill(pkg *types.Package, table map[string]reflect.Value) {
	scope := pkg.Scope()
	for name, v := range table {
		if strings.HasPrefix(name, "_") || !v.IsValid() {
			continue
		}
		var obj types.Object
		switch {
		case v.Kind() == reflect.Pointer && v.IsNil() && !v.CanAddr(): // a type: (*T)(nil)
			t := im.typ(v.Type().Elem())
			if n, ok := t.(*types.Named); ok && n.Obj().Pkg() == pkg && n.Obj().Name() == name {
				obj = n.Obj()
			} else {
				obj = types.NewTypeName(token.NoPos, pkg, name, t) // an alias
			}
		case v.CanAddr(): // a variable: reflect.ValueOf(&x).Elem()
			obj = types.NewVar(token.NoPos, pkg, name, im.typ(v.Type()))
		case v.Kind() == reflect.Func:
			obj = types.NewFunc(token.NoPos, pkg, name, im.signature(v.Type(), 0, nil))
		default:
			obj = im.constant(pkg, name, v)
		}
		if obj != nil {
			scope.Insert(obj)
		}
	}
}

// runeConstants are the untyped rune constants of the tables, which yaegi
// stores as integers.
var runeConstants = map[string]bool{
	"unicode.MaxRune": true, "unicode.ReplacementChar": true,
	"utf8.RuneError": true, "utf8.MaxRune": true,
}

// constant declares a constant: an untyped one is a constant.Value in the
// table, a typed one a value of its type.
func (im *importer) constant(pkg *types.Package, name string, v reflect.Value) types.Object {
	if v.CanInterface() {
		if c, ok := v.Interface().(constant.Value); ok {
			var t types.BasicKind
			switch c.Kind() {
			case constant.Bool:
				t = types.UntypedBool
			case constant.String:
				t = types.UntypedString
			case constant.Int:
				t = types.UntypedInt
				if runeConstants[pkg.Name()+"."+name] {
					t = types.UntypedRune
				}
			case constant.Float:
				t = types.UntypedFloat
			case constant.Complex:
				t = types.UntypedComplex
			default:
				return nil
			}
			return types.NewConst(token.NoPos, pkg, name, types.Typ[t], c)
		}
	}
	var c constant.Value
	switch v.Kind() {
	case reflect.Bool:
		c = constant.MakeBool(v.Bool())
	case reflect.String:
		c = constant.MakeString(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c = constant.MakeInt64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c = constant.MakeUint64(v.Uint())
	case reflect.Float32, reflect.Float64:
		c = constant.MakeFloat64(v.Float())
	case reflect.Complex64, reflect.Complex128:
		z := v.Complex()
		c = constant.BinaryOp(constant.MakeFloat64(real(z)), token.ADD, constant.MakeImag(constant.MakeFloat64(imag(z))))
	default:
		return types.NewVar(token.NoPos, pkg, name, im.typ(v.Type()))
	}
	return types.NewConst(token.NoPos, pkg, name, im.typ(v.Type()), c)
}

// typ converts a reflect type.
func (im *importer) typ(t reflect.Type) types.Type {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			if o, ok := types.Universe.Lookup(t.Name()).(*types.TypeName); ok {
				return o.Type()
			}
		} else {
			return im.namedType(t)
		}
	}
	return im.structural(t)
}

var basicKinds = map[reflect.Kind]types.BasicKind{
	reflect.Bool: types.Bool, reflect.Int: types.Int, reflect.Int8: types.Int8, reflect.Int16: types.Int16,
	reflect.Int32: types.Int32, reflect.Int64: types.Int64, reflect.Uint: types.Uint, reflect.Uint8: types.Uint8,
	reflect.Uint16: types.Uint16, reflect.Uint32: types.Uint32, reflect.Uint64: types.Uint64,
	reflect.Uintptr: types.Uintptr, reflect.Float32: types.Float32, reflect.Float64: types.Float64,
	reflect.Complex64: types.Complex64, reflect.Complex128: types.Complex128, reflect.String: types.String,
	reflect.UnsafePointer: types.UnsafePointer,
}

// structural converts t ignoring its name.
func (im *importer) structural(t reflect.Type) types.Type {
	if b, ok := basicKinds[t.Kind()]; ok {
		return types.Typ[b]
	}
	switch t.Kind() {
	case reflect.Pointer:
		return types.NewPointer(im.typ(t.Elem()))
	case reflect.Slice:
		return types.NewSlice(im.typ(t.Elem()))
	case reflect.Array:
		return types.NewArray(im.typ(t.Elem()), int64(t.Len()))
	case reflect.Map:
		return types.NewMap(im.typ(t.Key()), im.typ(t.Elem()))
	case reflect.Chan:
		dir := types.SendRecv
		switch t.ChanDir() {
		case reflect.RecvDir:
			dir = types.RecvOnly
		case reflect.SendDir:
			dir = types.SendOnly
		}
		return types.NewChan(dir, im.typ(t.Elem()))
	case reflect.Func:
		return im.signature(t, 0, nil)
	case reflect.Interface:
		var methods []*types.Func
		for i := range t.NumMethod() {
			m := t.Method(i)
			if m.PkgPath != "" {
				// An unexported method (testing.TB's private,
				// ast.Expr's exprNode): reflect does not show the
				// concrete types' ones, so with it *testing.T would
				// not implement testing.TB.
				continue
			}
			var pkg *types.Package
			if t.PkgPath() != "" {
				pkg = im.pkg(t.PkgPath(), "")
			}
			methods = append(methods, types.NewFunc(token.NoPos, pkg, m.Name, im.signature(m.Type, 0, nil)))
		}
		return types.NewInterfaceType(methods, nil).Complete()
	case reflect.Struct:
		var fields []*types.Var
		var tags []string
		for i := range t.NumField() {
			f := t.Field(i)
			var pkg *types.Package
			if f.PkgPath != "" {
				pkg = im.pkg(f.PkgPath, "")
			} else if t.PkgPath() != "" {
				pkg = im.pkg(t.PkgPath(), "")
			}
			fields = append(fields, types.NewField(token.NoPos, pkg, f.Name, im.typ(f.Type), f.Anonymous))
			tags = append(tags, string(f.Tag))
		}
		return types.NewStruct(fields, tags)
	}
	return types.Typ[types.Invalid]
}

// signature converts a func type, dropping its first skip parameters (a
// method's receiver).
func (im *importer) signature(t reflect.Type, skip int, recv *types.Var) *types.Signature {
	var params, results []*types.Var
	for i := skip; i < t.NumIn(); i++ {
		params = append(params, types.NewParam(token.NoPos, nil, "", im.typ(t.In(i))))
	}
	for i := range t.NumOut() {
		results = append(results, types.NewParam(token.NoPos, nil, "", im.typ(t.Out(i))))
	}
	return types.NewSignatureType(recv, nil, nil, types.NewTuple(params...), types.NewTuple(results...), t.IsVariadic())
}

// namedType converts a named type with its methods. reflect lists promoted
// methods with the type's own; for type checking the difference does not
// matter.
func (im *importer) namedType(t reflect.Type) *types.Named {
	if n, ok := im.named[t]; ok {
		return n
	}
	pkg := im.pkg(t.PkgPath(), "")
	obj := types.NewTypeName(token.NoPos, pkg, t.Name(), nil)
	n := types.NewNamed(obj, nil, nil)
	im.named[t] = n
	if pkg.Scope().Lookup(t.Name()) == nil {
		pkg.Scope().Insert(obj)
	}
	n.SetUnderlying(im.structural(t))
	if t.Kind() == reflect.Interface {
		return n
	}
	pt := reflect.PointerTo(t)
	for i := range pt.NumMethod() {
		m := pt.Method(i)
		var rt types.Type = types.NewPointer(n)
		if _, byValue := t.MethodByName(m.Name); byValue {
			rt = n
		}
		recv := types.NewVar(token.NoPos, pkg, "", rt)
		n.AddMethod(types.NewFunc(token.NoPos, pkg, m.Name, im.signature(m.Type, 1, recv)))
	}
	return n
}
