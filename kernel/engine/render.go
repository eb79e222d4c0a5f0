package engine

import (
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

// plainText is the text/plain form of a value, as the cell's result shows it.
func plainText(v any) string {
	t, _ := render(v)["text/plain"].(string)
	return t
}

// zeroValue sets the variable p points to to its zero value (what a
// failed comma-ok lookup assigns; see cell's commaOK).
func zeroValue(p any) {
	if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
}

// zeroedValue zeroes what p points to unless ok, and reports true (the
// condition of an if whose header looked something up; see cell's
// commaOKIf).
func zeroedValue(ok bool, p any) bool {
	if !ok {
		zeroValue(p)
	}
	return true
}

// clearValue implements the built-in clear for maps and slices.
func clearValue(x any) {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		v.Clear()
	}
}
