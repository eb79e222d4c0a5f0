package engine

import (
	"fmt"
	"reflect"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/runtime/display"
)

// render builds the execute_result bundle of a value: rich for display
// values and images, text otherwise.
func render(v any) language.MimeBundle {
	data, _ := display.Render(v)
	return language.MimeBundle(data)
}

// plainText prints a value the way a Go programmer reads it: strings quoted,
// everything else as fmt's %v.
func plainText(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

// clearValue implements the built-in clear for maps and slices.
func clearValue(x any) {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		v.Clear()
	}
}

func minValue(a ...any) any { return extreme(a, -1) }
func maxValue(a ...any) any { return extreme(a, 1) }

func extreme(a []any, sign int) any {
	if len(a) == 0 {
		return nil
	}
	best := a[0]
	for _, x := range a[1:] {
		if compare(x, best)*sign > 0 {
			best = x
		}
	}
	return best
}

func compare(a, b any) int {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch va.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmpOrdered(va.Int(), vb.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return cmpOrdered(va.Uint(), vb.Uint())
	case reflect.Float32, reflect.Float64:
		return cmpOrdered(va.Float(), vb.Float())
	case reflect.String:
		return cmpOrdered(va.String(), vb.String())
	}
	return 0
}

func cmpOrdered[T int64 | uint64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
