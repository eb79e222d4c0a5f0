package cell

import "strings"

// Prelude declares what rewritten cells use besides the compiled __goproc
// package: the probe switch. The engine evaluates it once, as a declaration
// chunk, after
//
//	import __goproc "<path of the compiled helper package>"
//	import __mp "<path of runtime/multiprocessing>"
//
// and before the first cell (also in a child process before the replay).
// __goprocProbing is set only by multiprocessing's probe (through Globals()).
const Prelude = `
var __goprocProbing bool
`

// MinMaxPrelude declares the generic helpers behind min and max. Compiling
// it costs more than the rest of an interpreter's set-up (~0.6 ms in a new
// process), so the engine evaluates it only before the first chunk that
// UsesMinMax.
//
// The helpers take two arguments of one type; Parse nests them for more
// arguments and puts constant arguments last, because yaegi v0.16.1 infers a
// type parameter from the first argument only. They follow Go's min and max:
// a NaN argument gives NaN.
const MinMaxPrelude = `
type __goprocOrdered interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr |
		~float32 | ~float64 | ~string
}

func __goprocMin[T __goprocOrdered](a, b T) T {
	if a < b || a != a {
		return a
	}
	return b
}

func __goprocMax[T __goprocOrdered](a, b T) T {
	if a > b || a != a {
		return a
	}
	return b
}
`

// UsesMinMax reports whether a chunk calls the helpers of MinMaxPrelude.
func UsesMinMax(src string) bool {
	return strings.Contains(src, "__goprocMin") || strings.Contains(src, "__goprocMax")
}
