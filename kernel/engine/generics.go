package engine

import (
	"strings"

	"github.com/traefik/yaegi/stdlib/generic"

	"github.com/goproc/goproc/kernel/stdsyms"
)

// yaegi v0.16.1 runs the generic halves of cmp, maps and slices from
// source (stdlib/generic), but its slices leaves out the sorting file (Sort,
// Min, Max, BinarySearch, …), its maps.Clone returns the map itself, and it
// cannot infer E through S ~[]E (or K, V through M ~map[K]V) in most calls:
// slices.Clone(xs) fails with "undefined type for E". The engine compiles the
// packages below instead: the Go 1.22 API written with []E and map[K]V
// parameters, which the interpreter infers. (A function of a named slice type
// gets back the unnamed one, which is assignable to it.)

// genericSlices is package slices (Go 1.22) for the interpreter.
const genericSlices = `package slices

import "sort"

// orderedElem is cmp.Ordered (the interpreter cannot infer a type parameter
// constrained by another source package's interface).
type orderedElem interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr |
		~float32 | ~float64 |
		~string
}

// lessOrdered is cmp.Less: a NaN is less than any other value.
func lessOrdered[E orderedElem](a, b E) bool {
	return (a != a && b == b) || a < b
}

// compareOrdered is cmp.Compare.
func compareOrdered[E orderedElem](a, b E) int {
	if lessOrdered(a, b) {
		return -1
	}
	if lessOrdered(b, a) {
		return 1
	}
	return 0
}

// Equal reports whether two slices have the same length and equal elements.
func Equal[E comparable](s1, s2 []E) bool {
	if len(s1) != len(s2) {
		return false
	}
	for i := range s1 {
		if s1[i] != s2[i] {
			return false
		}
	}
	return true
}

// EqualFunc is Equal with an equality function.
func EqualFunc[E1, E2 any](s1 []E1, s2 []E2, eq func(E1, E2) bool) bool {
	if len(s1) != len(s2) {
		return false
	}
	for i := range s1 {
		if !eq(s1[i], s2[i]) {
			return false
		}
	}
	return true
}

// Compare compares s1 and s2 element by element: -1, 0 or +1.
func Compare[E orderedElem](s1, s2 []E) int {
	for i := 0; i < len(s1) && i < len(s2); i++ {
		if c := compareOrdered(s1[i], s2[i]); c != 0 {
			return c
		}
	}
	if len(s1) < len(s2) {
		return -1
	}
	if len(s1) > len(s2) {
		return 1
	}
	return 0
}

// CompareFunc is Compare with a comparison function.
func CompareFunc[E1, E2 any](s1 []E1, s2 []E2, cmp func(E1, E2) int) int {
	for i := 0; i < len(s1) && i < len(s2); i++ {
		if c := cmp(s1[i], s2[i]); c != 0 {
			return c
		}
	}
	if len(s1) < len(s2) {
		return -1
	}
	if len(s1) > len(s2) {
		return 1
	}
	return 0
}

// Index returns the index of the first occurrence of v in s, or -1.
func Index[E comparable](s []E, v E) int {
	for i := range s {
		if v == s[i] {
			return i
		}
	}
	return -1
}

// IndexFunc returns the first index i satisfying f(s[i]), or -1.
func IndexFunc[E any](s []E, f func(E) bool) int {
	for i := range s {
		if f(s[i]) {
			return i
		}
	}
	return -1
}

// Contains reports whether v is present in s.
func Contains[E comparable](s []E, v E) bool { return Index(s, v) >= 0 }

// ContainsFunc reports whether at least one element e of s satisfies f(e).
func ContainsFunc[E any](s []E, f func(E) bool) bool { return IndexFunc(s, f) >= 0 }

// Insert inserts the values v... into s at index i and returns the result.
func Insert[E any](s []E, i int, v ...E) []E {
	if i < 0 || i > len(s) {
		panic("slices.Insert: index out of range")
	}
	out := make([]E, 0, len(s)+len(v))
	out = append(out, s[:i]...)
	out = append(out, v...)
	return append(out, s[i:]...)
}

// Delete removes the elements s[i:j] and returns the modified slice.
func Delete[E any](s []E, i, j int) []E {
	_ = s[i:j:len(s)] // bounds check
	if i == j {
		return s
	}
	oldlen := len(s)
	s = append(s[:i], s[j:]...)
	var zero E
	for k := len(s); k < oldlen; k++ {
		s[:oldlen][k] = zero
	}
	return s
}

// DeleteFunc removes the elements for which del returns true.
func DeleteFunc[E any](s []E, del func(E) bool) []E {
	out := s[:0]
	for _, v := range s {
		if !del(v) {
			out = append(out, v)
		}
	}
	var zero E
	for k := len(out); k < len(s); k++ {
		s[k] = zero
	}
	return out
}

// Replace replaces s[i:j] by the given v and returns the modified slice.
func Replace[E any](s []E, i, j int, v ...E) []E {
	_ = s[i:j] // bounds check
	tail := append([]E(nil), s[j:]...)
	out := append(s[:i], v...)
	out = append(out, tail...)
	var zero E
	for k := len(out); k < len(s); k++ {
		s[k] = zero
	}
	return out
}

// Clone returns a copy of the slice (nil stays nil).
func Clone[E any](s []E) []E {
	if s == nil {
		return nil
	}
	return append([]E{}, s...)
}

// Compact replaces consecutive runs of equal elements with a single copy.
func Compact[E comparable](s []E) []E {
	return CompactFunc(s, func(a, b E) bool { return a == b })
}

// CompactFunc is Compact with an equality function.
func CompactFunc[E any](s []E, eq func(E, E) bool) []E {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for k := 1; k < len(s); k++ {
		if !eq(s[k], s[k-1]) {
			out = append(out, s[k])
		}
	}
	var zero E
	for k := len(out); k < len(s); k++ {
		s[k] = zero
	}
	return out
}

// Grow increases the slice's capacity to fit n more elements.
func Grow[E any](s []E, n int) []E {
	if n < 0 {
		panic("cannot be negative")
	}
	if n -= cap(s) - len(s); n > 0 {
		s = append(s[:cap(s)], make([]E, n)...)[:len(s)]
	}
	return s
}

// Clip removes unused capacity from the slice.
func Clip[E any](s []E) []E { return s[:len(s):len(s)] }

// Reverse reverses the elements of the slice in place.
func Reverse[E any](s []E) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// Concat returns a new slice concatenating the passed in slices.
func Concat[E any](slices ...[]E) []E {
	n := 0
	for _, s := range slices {
		n += len(s)
	}
	out := make([]E, 0, n)
	for _, s := range slices {
		out = append(out, s...)
	}
	return out
}

// Sort sorts a slice of any ordered type in ascending order (NaNs first).
func Sort[E orderedElem](x []E) {
	sort.Slice(x, func(i, j int) bool { return lessOrdered(x[i], x[j]) })
}

// SortFunc sorts x in ascending order as determined by cmp.
func SortFunc[E any](x []E, cmp func(a, b E) int) {
	sort.Slice(x, func(i, j int) bool { return cmp(x[i], x[j]) < 0 })
}

// SortStableFunc sorts x like SortFunc, keeping the order of equal elements.
func SortStableFunc[E any](x []E, cmp func(a, b E) int) {
	sort.SliceStable(x, func(i, j int) bool { return cmp(x[i], x[j]) < 0 })
}

// IsSorted reports whether x is sorted in ascending order.
func IsSorted[E orderedElem](x []E) bool {
	for i := len(x) - 1; i > 0; i-- {
		if lessOrdered(x[i], x[i-1]) {
			return false
		}
	}
	return true
}

// IsSortedFunc reports whether x is sorted in ascending order by cmp.
func IsSortedFunc[E any](x []E, cmp func(a, b E) int) bool {
	for i := len(x) - 1; i > 0; i-- {
		if cmp(x[i], x[i-1]) < 0 {
			return false
		}
	}
	return true
}

// Min returns the minimal value in x. It panics if x is empty.
func Min[E orderedElem](x []E) E {
	if len(x) < 1 {
		panic("slices.Min: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if lessOrdered(x[i], m) {
			m = x[i]
		}
	}
	return m
}

// MinFunc returns the first minimal value in x by cmp. It panics if x is empty.
func MinFunc[E any](x []E, cmp func(a, b E) int) E {
	if len(x) < 1 {
		panic("slices.MinFunc: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if cmp(x[i], m) < 0 {
			m = x[i]
		}
	}
	return m
}

// Max returns the maximal value in x. It panics if x is empty.
func Max[E orderedElem](x []E) E {
	if len(x) < 1 {
		panic("slices.Max: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if lessOrdered(m, x[i]) {
			m = x[i]
		}
	}
	return m
}

// MaxFunc returns the first maximal value in x by cmp. It panics if x is empty.
func MaxFunc[E any](x []E, cmp func(a, b E) int) E {
	if len(x) < 1 {
		panic("slices.MaxFunc: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if cmp(x[i], m) > 0 {
			m = x[i]
		}
	}
	return m
}

// BinarySearch searches for target in the sorted slice x and returns where
// it is, or would be inserted, and whether it was found.
func BinarySearch[E orderedElem](x []E, target E) (int, bool) {
	lo, hi := 0, len(x)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if lessOrdered(x[mid], target) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(x) && compareOrdered(x[lo], target) == 0
}

// BinarySearchFunc is BinarySearch with a comparison function.
func BinarySearchFunc[E, T any](x []E, target T, cmp func(E, T) int) (int, bool) {
	lo, hi := 0, len(x)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if cmp(x[mid], target) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(x) && cmp(x[lo], target) == 0
}
`

// genericMaps is package maps (Go 1.22) for the interpreter. yaegi's own
// Clone returns its argument instead of a copy.
const genericMaps = `package maps

// Equal reports whether two maps contain the same key/value pairs.
func Equal[K, V comparable](m1, m2 map[K]V) bool {
	if len(m1) != len(m2) {
		return false
	}
	for k, v1 := range m1 {
		if v2, ok := m2[k]; !ok || v1 != v2 {
			return false
		}
	}
	return true
}

// EqualFunc is Equal with an equality function for the values.
func EqualFunc[K comparable, V1, V2 any](m1 map[K]V1, m2 map[K]V2, eq func(V1, V2) bool) bool {
	if len(m1) != len(m2) {
		return false
	}
	for k, v1 := range m1 {
		if v2, ok := m2[k]; !ok || !eq(v1, v2) {
			return false
		}
	}
	return true
}

// Clone returns a shallow copy of m (nil stays nil).
func Clone[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	r := make(map[K]V, len(m))
	for k, v := range m {
		r[k] = v
	}
	return r
}

// Copy copies all key/value pairs in src adding them to dst.
func Copy[K comparable, V any](dst, src map[K]V) {
	for k, v := range src {
		dst[k] = v
	}
}

// DeleteFunc deletes any key/value pairs from m for which del returns true.
func DeleteFunc[K comparable, V any](m map[K]V, del func(K, V) bool) {
	for k, v := range m {
		if del(k, v) {
			delete(m, k)
		}
	}
}
`

// genericSources are what the interpreter compiles for cmp, maps and
// slices: yaegi's cmp, and the packages above in place of yaegi's maps and
// slices.
func genericSources() []string {
	out := []string{}
	for _, s := range generic.Sources {
		if strings.HasPrefix(packageClause(s), "package cmp") {
			out = append(out, s)
		}
	}
	// Go 1.23's iterators (iter, and the iterator functions of maps and
	// slices), from kernel/stdsyms.
	return append(out, stdsyms.IterSource, genericMaps+stdsyms.MapsIterators, genericSlices+stdsyms.SlicesIterators)
}

// packageClause returns the line of src that starts with "package ".
func packageClause(src string) string {
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "package ") {
			return line
		}
	}
	return ""
}
