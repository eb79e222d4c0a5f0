package stdsyms

// Go 1.23's iterators, in a form yaegi v0.16.1 compiles from source: the
// tables (extracted) cannot hold generic types and functions, and the
// interpreter runs no generic function of a compiled package.
//
// IterSource is package iter's Seq and Seq2 (Pull is left out). The
// iterator functions of maps and slices are declarations to append to the
// sources the interpreter compiles those packages from (kernel/engine's
// genericMaps and genericSlices: a second source file of a package
// miscompiles the first one's functions in yaegi v0.16.1). They take and
// return func(yield func(…) bool) rather than iter.Seq: yaegi crashes on a
// generic function whose result is an instance of a generic func type. An
// iter.Seq[K] is assignable to that type and back, so the signatures take
// what Go's do. The interpreter has no range-over-func: call an iterator
// with a yield function, or collect it (slices.Collect, slices.Sorted).

// IterSource is package iter, for the interpreter.
const IterSource = `package iter

// Seq is an iterator over sequences of individual values.
type Seq[V any] func(yield func(V) bool)

// Seq2 is an iterator over sequences of pairs of values.
type Seq2[K, V any] func(yield func(K, V) bool)
`

// MapsIterators are maps' iterator functions (Go 1.23).
const MapsIterators = `
// All returns an iterator over key-value pairs from m.
func All[K comparable, V any](m map[K]V) func(yield func(K, V) bool) {
	return func(yield func(K, V) bool) {
		for k, v := range m {
			if !yield(k, v) {
				return
			}
		}
	}
}

// Keys returns an iterator over keys in m.
func Keys[K comparable, V any](m map[K]V) func(yield func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Values returns an iterator over values in m.
func Values[K comparable, V any](m map[K]V) func(yield func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// Insert adds the key-value pairs from seq to m.
func Insert[K comparable, V any](m map[K]V, seq func(yield func(K, V) bool)) {
	seq(func(k K, v V) bool {
		m[k] = v
		return true
	})
}

// Collect collects key-value pairs from seq into a new map.
func Collect[K comparable, V any](seq func(yield func(K, V) bool)) map[K]V {
	m := map[K]V{}
	seq(func(k K, v V) bool {
		m[k] = v
		return true
	})
	return m
}
`

// SlicesIterators are slices' iterator functions (Go 1.23). Sorted uses
// Sort and SortFunc, and orderedElem, of the source they are appended to.
const SlicesIterators = `
// All returns an iterator over index-value pairs in the slice.
func All[E any](s []E) func(yield func(int, E) bool) {
	return func(yield func(int, E) bool) {
		for i, v := range s {
			if !yield(i, v) {
				return
			}
		}
	}
}

// Backward returns an iterator over index-value pairs, from the end.
func Backward[E any](s []E) func(yield func(int, E) bool) {
	return func(yield func(int, E) bool) {
		for i := len(s) - 1; i >= 0; i-- {
			if !yield(i, s[i]) {
				return
			}
		}
	}
}

// Values returns an iterator over the slice elements.
func Values[E any](s []E) func(yield func(E) bool) {
	return func(yield func(E) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

// AppendSeq appends the values from seq to the slice.
func AppendSeq[E any](s []E, seq func(yield func(E) bool)) []E {
	seq(func(v E) bool {
		s = append(s, v)
		return true
	})
	return s
}

// Collect collects values from seq into a new slice.
func Collect[E any](seq func(yield func(E) bool)) []E {
	var s []E
	seq(func(v E) bool {
		s = append(s, v)
		return true
	})
	return s
}

// Sorted collects values from seq into a new slice, sorts it and returns it.
func Sorted[E orderedElem](seq func(yield func(E) bool)) []E {
	s := Collect(seq)
	Sort(s)
	return s
}

// SortedFunc is Sorted with a comparison function.
func SortedFunc[E any](seq func(yield func(E) bool), cmp func(E, E) int) []E {
	s := Collect(seq)
	SortFunc(s, cmp)
	return s
}

// Chunk returns an iterator over consecutive sub-slices of up to n elements.
func Chunk[E any](s []E, n int) func(yield func([]E) bool) {
	if n < 1 {
		panic("cannot be less than 1")
	}
	return func(yield func([]E) bool) {
		for i := 0; i < len(s); i += n {
			end := min(n, len(s[i:]))
			if !yield(s[i : i+end : i+end]) {
				return
			}
		}
	}
}
`
