// Package stdsyms gives the yaegi interpreter the Go standard library one
// package at a time.
//
// yaegi's own stdlib package builds the symbol tables of all ~160 standard
// packages in init, about 6,000 reflect.Values, in every process that links
// it; an interpreter then copies all of them in Use. That was most of the
// start-up time of every goproc process: the kernel front, the engine and
// each worker process. The files here are yaegi's tables (see
// internal/generate), each turned into a builder that runs when a cell first
// imports the package.
//
// The tables are those of yaegi's stdlib package with the overlay of its
// unrestricted package applied on top (os.Exit exits, os/exec runs
// programs, log.Fatal exits), which is what an interpreter created with both,
// in that order, sees.
//
// Loading a package's table alone is not always enough: yaegi passes a
// notebook's value to a standard function that takes an interface by
// wrapping it in a type from the interface's package, so InterfaceDeps
// lists, for each package, the tables to load with it (interface_deps.go,
// written by internal/gendeps).
package stdsyms

import (
	"path"
	"reflect"
	"sort"
)

//go:generate go run ./internal/generate
//go:generate go run ./internal/gendeps

// Table is one package's symbols, as yaegi's interp.Exports holds them.
type Table = map[string]reflect.Value

// MapTypes lists the interface wrappers that standard functions taking an
// interface{} need for interpreted values (fmt.Stringer for fmt.Println...).
// yaegi reads it from the export key ".".
var MapTypes = map[reflect.Value][]reflect.Type{}

// The builders, filled by the generated files' init functions and never
// changed after: key "importpath/name" → builder.
var (
	builders             = map[string]func() Table{}
	unrestrictedBuilders = map[string]func() Table{}
)

func register(key string, build func() Table)             { builders[key] = build }
func registerUnrestricted(key string, build func() Table) { unrestrictedBuilders[key] = build }

// Key returns the export key ("importpath/name") of a standard-library
// import path, and whether the library has the package.
func Key(importPath string) (string, bool) {
	key := importPath + "/" + path.Base(importPath)
	if _, ok := builders[key]; ok {
		return key, true
	}
	if _, ok := unrestrictedBuilders[key]; ok {
		return key, true
	}
	// A few packages are named unlike their last element (math/rand/v2 is rand).
	for k := range builders {
		if path.Dir(k) == importPath {
			return k, true
		}
	}
	return "", false
}

// Build returns a fresh symbol table for an export key: the stdlib table
// with the unrestricted overlay applied. It returns nil for an unknown key.
func Build(key string) Table {
	t, over := Std(key), Unrestricted(key)
	if t == nil {
		return over
	}
	for name, v := range over {
		t[name] = v
	}
	return t
}

// Std returns a fresh copy of yaegi's stdlib table for key, without the
// unrestricted overlay, or nil.
func Std(key string) Table {
	if b, ok := builders[key]; ok {
		return b()
	}
	return nil
}

// Unrestricted returns a fresh copy of the unrestricted overlay for key, or
// nil: the symbols that may end the process.
func Unrestricted(key string) Table {
	if b, ok := unrestrictedBuilders[key]; ok {
		return b()
	}
	return nil
}

// Paths returns every standard-library import path the tables cover, sorted.
func Paths() []string {
	seen := map[string]bool{}
	for _, m := range []map[string]func() Table{builders, unrestrictedBuilders} {
		for k := range m {
			seen[path.Dir(k)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
