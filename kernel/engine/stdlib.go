package engine

import (
	"flag"
	"fmt"
	"go/constant"
	"go/parser"
	"go/token"
	"io"
	"log"
	"math/bits"
	"os"
	"path"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"

	"github.com/goproc/goproc/kernel/stdsyms"
)

// stdLoader gives one interpreter the standard library package by package,
// as cells import them (see kernel/stdsyms for why).
//
// yaegi's Use, handed the table of "fmt", also redirects fmt, log, flag and
// os to the interpreter's stdio and compiles the generic halves of cmp, maps
// and slices, several milliseconds that every engine and worker process paid
// at start. stdLoader does the redirection itself (the same replacements, in
// redirectStdio) and compiles the generic sources when a cell first imports
// one of those packages.
type stdLoader struct {
	yi *interp.Interpreter

	mu       sync.Mutex
	loaded   map[string]bool          // export keys handed to Use
	generics bool                     // generic sources compiled
	tables   map[string]stdsyms.Table // tables built for completion and Func
}

// corePackages are loaded with every interpreter: the ones whose symbols
// redirectStdio replaces.
var corePackages = []string{"fmt", "os", "log", "flag", "math/bits"}

// genericPackages have generic functions yaegi runs from source.
var genericPackages = map[string]bool{"cmp": true, "iter": true, "maps": true, "slices": true}

func newStdLoader(yi *interp.Interpreter, stdin io.Reader, stdout, stderr io.Writer, args []string) (*stdLoader, error) {
	l := &stdLoader{yi: yi, loaded: map[string]bool{}, tables: map[string]stdsyms.Table{}}
	exports := interp.Exports{}
	mapTypes := map[reflect.Value][]reflect.Type{}
	for k, v := range stdsyms.MapTypes {
		mapTypes[k] = v
	}
	var core []string
	for _, p := range corePackages {
		key, _ := stdsyms.Key(p)
		exports[quietKey(key)] = stdsyms.Std(key)
		l.loaded[key] = true
		core = append(core, key)
	}
	// The packages of the interfaces the core packages take (io for
	// fmt.Fprintln's io.Writer...), so an interpreted type can be passed.
	l.addInterfaceDeps(exports, core...)
	redirectStdio(exports, mapTypes, stdin, stdout, stderr, args)
	exports["."] = map[string]reflect.Value{"MapTypes": reflect.ValueOf(mapTypes)}
	if err := yi.Use(exports); err != nil {
		return nil, fmt.Errorf("load the standard library: %w", err)
	}
	// The unrestricted overlay goes on top of the redirection, as it does
	// when an interpreter Uses yaegi's stdlib and then its unrestricted
	// package: os.Exit and log.Fatal really exit.
	overlay := interp.Exports{}
	for _, p := range corePackages {
		key, _ := stdsyms.Key(p)
		if t := stdsyms.Unrestricted(key); t != nil {
			overlay[key] = t
		}
	}
	if err := yi.Use(overlay); err != nil {
		return nil, fmt.Errorf("load the standard library: %w", err)
	}
	return l, nil
}

// quietKey spells an export key so that yaegi's Use loads it like the key
// itself ("fmt/./fmt" is "fmt/fmt" once Use cleans the path) without
// noticing "fmt/fmt" and redoing the stdio redirection and compiling the
// generic sources.
func quietKey(key string) string { return path.Dir(key) + "/./" + path.Base(key) }

// redirectStdio makes fmt, log, flag and os of the core tables use the
// interpreter's stdio, as yaegi's fixStdlib does.
func redirectStdio(ex interp.Exports, mapTypes map[reflect.Value][]reflect.Type, stdin io.Reader, stdout, stderr io.Writer, args []string) {
	table := func(p string) stdsyms.Table {
		key, _ := stdsyms.Key(p)
		return ex[quietKey(key)]
	}
	set := func(t stdsyms.Table, name string, v any, like any) {
		rv := reflect.ValueOf(v)
		t[name] = rv
		if like != nil {
			if mt, ok := mapTypes[reflect.ValueOf(like)]; ok {
				mapTypes[rv] = mt
			}
		}
	}
	f := table("fmt")
	set(f, "Print", func(a ...any) (int, error) { return fmt.Fprint(stdout, a...) }, fmt.Print)
	set(f, "Printf", func(s string, a ...any) (int, error) { return fmt.Fprintf(stdout, s, a...) }, fmt.Printf)
	set(f, "Println", func(a ...any) (int, error) { return fmt.Fprintln(stdout, a...) }, fmt.Println)
	set(f, "Scan", func(a ...any) (int, error) { return fmt.Fscan(stdin, a...) }, fmt.Scan)
	set(f, "Scanf", func(s string, a ...any) (int, error) { return fmt.Fscanf(stdin, s, a...) }, fmt.Scanf)
	set(f, "Scanln", func(a ...any) (int, error) { return fmt.Fscanln(stdin, a...) }, fmt.Scanln)

	// The notebook's os.Args, which flag.Parse parses.
	argsVar := append([]string(nil), args...)

	fl := flag.NewFlagSet(os.Args[0], flag.PanicOnError)
	fl.SetOutput(stderr)
	ft := table("flag")
	ft["CommandLine"] = reflect.ValueOf(&fl).Elem()
	// The package's functions act on the notebook's CommandLine and its
	// os.Args, not on the engine process's own (flag.Args() was
	// ["__engine"]): each function that is also a FlagSet method becomes
	// that method of fl, and Parse parses the notebook's arguments.
	fv := reflect.ValueOf(fl)
	for name, v := range ft {
		if m := fv.MethodByName(name); m.IsValid() && v.Kind() == reflect.Func && m.Type() == v.Type() {
			if like, ok := mapTypes[v]; ok {
				mapTypes[m] = like
			}
			ft[name] = m
		}
	}
	ft["Parse"] = reflect.ValueOf(func() {
		if len(argsVar) > 1 {
			fl.Parse(argsVar[1:])
		} else {
			fl.Parse(nil)
		}
	})

	lg := table("log")
	l := log.New(stderr, "", log.LstdFlags)
	set(lg, "Fatal", l.Panic, nil)
	set(lg, "Fatalf", l.Panicf, nil)
	set(lg, "Fatalln", l.Panicln, nil)
	set(lg, "Flags", l.Flags, nil)
	set(lg, "Output", l.Output, nil)
	set(lg, "Panic", l.Panic, log.Panic)
	set(lg, "Panicf", l.Panicf, log.Panicf)
	set(lg, "Panicln", l.Panicln, log.Panicln)
	set(lg, "Prefix", l.Prefix, nil)
	set(lg, "Print", l.Print, log.Print)
	set(lg, "Printf", l.Printf, log.Printf)
	set(lg, "Println", l.Println, log.Println)
	set(lg, "SetFlags", l.SetFlags, nil)
	set(lg, "SetOutput", l.SetOutput, nil)
	set(lg, "SetPrefix", l.SetPrefix, nil)
	set(lg, "Writer", l.Writer, nil)

	o := table("os")
	o["Args"] = reflect.ValueOf(&argsVar).Elem()
	for name, w := range map[string]any{"Stdin": stdin, "Stdout": stdout, "Stderr": stderr} {
		if file, ok := w.(*os.File); ok {
			o[name] = reflect.ValueOf(&file).Elem()
		}
	}

	table("math/bits")["UintSize"] = reflect.ValueOf(constant.MakeInt64(bits.UintSize))
}

// ensureImports loads the tables of the standard-library packages src
// imports, before src is evaluated. It is cheap for code without imports.
func (l *stdLoader) ensureImports(src string) error {
	if !strings.Contains(src, "import") {
		return nil
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+src, parser.ImportsOnly)
	if err != nil || len(f.Imports) == 0 {
		return nil // yaegi reports the syntax error
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	exports := interp.Exports{}
	needGenerics := false
	for _, is := range f.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		if genericPackages[p] && !l.generics {
			needGenerics = true
		}
		key, ok := stdsyms.Key(p)
		if !ok || l.loaded[key] {
			continue
		}
		exports[key] = stdsyms.Build(key)
		l.loaded[key] = true
	}
	if needGenerics {
		// The packages with generic sources, and sort, which
		// genericSlices uses.
		for _, p := range []string{"cmp", "iter", "maps", "slices", "sort"} {
			if key, ok := stdsyms.Key(p); ok && !l.loaded[key] {
				exports[key] = stdsyms.Build(key)
				l.loaded[key] = true
			}
		}
	}
	added := make([]string, 0, len(exports))
	for k := range exports {
		added = append(added, k)
	}
	l.addInterfaceDeps(exports, added...)
	if len(exports) > 0 {
		if err := l.yi.Use(exports); err != nil {
			return fmt.Errorf("load the standard library: %w", err)
		}
	}
	if needGenerics {
		l.generics = true
		for _, s := range genericSources() {
			if _, err := l.yi.Compile(s); err != nil {
				return fmt.Errorf("load the generic functions of cmp, maps and slices: %w", err)
			}
		}
	}
	return nil
}

// addInterfaceDeps adds to exports, and marks loaded, the packages that
// declare the interfaces the packages of keys take in their functions,
// methods and fields (stdsyms.InterfaceDeps), and theirs in turn. yaegi
// hands an interpreted value (or nil) to a standard function that takes an
// interface with methods by wrapping it in a type it looks up in the table
// of the interface's package: with that package not loaded — io for
// http.NewRequest(…, nil) or bufio.NewScanner of a notebook's own reader,
// when the cell did not import io — the call crashed the interpreter. Call
// with mu held.
func (l *stdLoader) addInterfaceDeps(exports interp.Exports, keys ...string) {
	for len(keys) > 0 {
		k := keys[len(keys)-1]
		keys = keys[:len(keys)-1]
		for _, dep := range stdsyms.InterfaceDeps(k) {
			if l.loaded[dep] {
				continue
			}
			exports[dep] = stdsyms.Build(dep)
			l.loaded[dep] = true
			keys = append(keys, dep)
		}
	}
}

// table returns the symbols of a standard-library package for completion
// and lookups, without loading it into the interpreter.
func (l *stdLoader) table(importPath string) (string, stdsyms.Table) {
	key, ok := stdsyms.Key(importPath)
	if !ok {
		return "", nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.tables[key]
	if !ok {
		t = stdsyms.Build(key)
		l.tables[key] = t
	}
	return key, t
}
