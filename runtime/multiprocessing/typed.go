package multiprocessing

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"time"
)

// Values cross process boundaries as JSON. Where the receiver knows the Go
// type (a parameter or result of type int, Point, []string …) plain JSON is
// decoded into it. Where it does not (a parameter of type any, a Queue item)
// the value travels with a description of its type, so that an int comes back
// an int and not a float64, and an interpreted struct comes back as a struct
// with the same fields.

// typedValue is a value with its type.
type typedValue struct {
	T *typeDesc       `json:"t,omitempty"`
	V json.RawMessage `json:"v"`
}

// typeDesc describes a type that can be rebuilt with reflect.
type typeDesc struct {
	Kind   string      `json:"k"`
	Known  string      `json:"known,omitempty"` // a registered named type
	Elem   *typeDesc   `json:"e,omitempty"`
	Key    *typeDesc   `json:"key,omitempty"`
	Len    int         `json:"n,omitempty"`
	Fields []fieldDesc `json:"f,omitempty"`
}

type fieldDesc struct {
	Name string    `json:"name"`
	Tag  string    `json:"tag,omitempty"`
	Type *typeDesc `json:"type"`
}

// knownTypes are named compiled types that can be rebuilt by name.
var knownTypes = map[string]reflect.Type{}

func registerKnown(samples ...any) {
	for _, s := range samples {
		t := reflect.TypeOf(s)
		knownTypes[t.String()] = t
	}
}

func init() {
	registerKnown(time.Time{}, time.Duration(0), big.Int{}, &big.Int{}, big.Float{}, &big.Float{}, big.Rat{}, &big.Rat{},
		&Queue{}, &Conn{}, &Lock{}, &Event{}, &Value{}, &Array{})
}

var basicKinds = map[string]reflect.Type{}

func init() {
	for _, v := range []any{false, int(0), int8(0), int16(0), int32(0), int64(0), uint(0), uint8(0), uint16(0),
		uint32(0), uint64(0), uintptr(0), float32(0), float64(0), complex64(0), complex128(0), ""} {
		t := reflect.TypeOf(v)
		basicKinds[t.Kind().String()] = t
	}
}

// describe returns a description of t, or nil if t cannot be rebuilt (the
// receiver then decodes into any).
func describe(t reflect.Type) *typeDesc {
	return describeDepth(t, 0)
}

func describeDepth(t reflect.Type, depth int) *typeDesc {
	if t == nil || depth > 20 {
		return nil
	}
	if t.Name() != "" && t.PkgPath() != "" || t.Kind() == reflect.Pointer && t.Elem().PkgPath() != "" {
		if _, ok := knownTypes[t.String()]; ok {
			return &typeDesc{Kind: t.Kind().String(), Known: t.String()}
		}
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Pointer:
		e := describeDepth(t.Elem(), depth+1)
		if e == nil {
			return nil
		}
		return &typeDesc{Kind: t.Kind().String(), Elem: e}
	case reflect.Array:
		e := describeDepth(t.Elem(), depth+1)
		if e == nil {
			return nil
		}
		return &typeDesc{Kind: "array", Elem: e, Len: t.Len()}
	case reflect.Map:
		k, e := describeDepth(t.Key(), depth+1), describeDepth(t.Elem(), depth+1)
		if k == nil || e == nil {
			return nil
		}
		return &typeDesc{Kind: "map", Key: k, Elem: e}
	case reflect.Struct:
		d := &typeDesc{Kind: "struct"}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			ft := describeDepth(f.Type, depth+1)
			if ft == nil {
				return nil
			}
			d.Fields = append(d.Fields, fieldDesc{Name: f.Name, Tag: string(f.Tag), Type: ft})
		}
		return d
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return &typeDesc{Kind: "interface"}
		}
		return nil
	}
	if _, ok := basicKinds[t.Kind().String()]; ok {
		return &typeDesc{Kind: t.Kind().String()}
	}
	return nil
}

// rebuild returns the type d describes.
func (d *typeDesc) rebuild() (reflect.Type, error) {
	if d.Known != "" {
		t, ok := knownTypes[d.Known]
		if !ok {
			return nil, fmt.Errorf("unknown type %s", d.Known)
		}
		return t, nil
	}
	switch d.Kind {
	case "slice", "ptr", "array":
		e, err := d.Elem.rebuild()
		if err != nil {
			return nil, err
		}
		switch d.Kind {
		case "slice":
			return reflect.SliceOf(e), nil
		case "ptr":
			return reflect.PointerTo(e), nil
		}
		return reflect.ArrayOf(d.Len, e), nil
	case "map":
		k, err := d.Key.rebuild()
		if err != nil {
			return nil, err
		}
		e, err := d.Elem.rebuild()
		if err != nil {
			return nil, err
		}
		return reflect.MapOf(k, e), nil
	case "struct":
		fields := make([]reflect.StructField, 0, len(d.Fields))
		for _, f := range d.Fields {
			ft, err := f.Type.rebuild()
			if err != nil {
				return nil, err
			}
			fields = append(fields, reflect.StructField{Name: f.Name, Type: ft, Tag: reflect.StructTag(f.Tag)})
		}
		return reflect.StructOf(fields), nil
	case "interface":
		return reflect.TypeOf((*any)(nil)).Elem(), nil
	}
	if t, ok := basicKinds[d.Kind]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("cannot rebuild type kind %q", d.Kind)
}

// encodeTyped encodes v with its type.
func encodeTyped(v any) (typedValue, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return typedValue{}, err
	}
	return typedValue{T: describe(reflect.TypeOf(v)), V: b}, nil
}

// decodeInto decodes tv into a value of type want (interfaces get the sent
// type where it can be rebuilt).
func decodeInto(tv typedValue, want reflect.Type) (reflect.Value, error) {
	target := want
	if want.Kind() == reflect.Interface && tv.T != nil {
		if t, err := tv.T.rebuild(); err == nil && t.AssignableTo(want) {
			target = t
		} else if err == nil && reflect.PointerTo(t).AssignableTo(want) {
			target = reflect.PointerTo(t)
		}
	}
	if string(tv.V) == "null" {
		return reflect.Zero(want), nil
	}
	ptr := reflect.New(target)
	if err := json.Unmarshal(tv.V, ptr.Interface()); err != nil {
		return reflect.Value{}, err
	}
	v := ptr.Elem()
	if target != want {
		out := reflect.New(want).Elem()
		out.Set(v)
		return out, nil
	}
	return v, nil
}

// decodeAny decodes tv with the type it was sent with.
func decodeAny(tv typedValue) (any, error) {
	v, err := decodeInto(tv, reflect.TypeOf((*any)(nil)).Elem())
	if err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// encodeArgs encodes a target's arguments, naming the one that cannot cross.
func encodeArgs(args []any) (json.RawMessage, error) {
	tvs := make([]typedValue, len(args))
	for i, a := range args {
		tv, err := encodeTyped(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d (%s) cannot be sent to a child process: %w", i+1, describeValue(a), err)
		}
		tvs[i] = tv
	}
	return json.Marshal(tvs)
}

// describeValue says what kind of value v is, for error messages: "a chan int".
func describeValue(v any) string {
	if v == nil {
		return "nil"
	}
	return "a " + reflect.TypeOf(v).String()
}

// decodeArgs decodes arguments for fn, checking their number.
func decodeArgs(fn reflect.Value, raw json.RawMessage) ([]reflect.Value, error) {
	var tvs []typedValue
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &tvs); err != nil {
			return nil, fmt.Errorf("decode arguments: %w", err)
		}
	}
	return argsFor(fn.Type(), tvs)
}

func argsFor(ft reflect.Type, tvs []typedValue) ([]reflect.Value, error) {
	n := ft.NumIn()
	if ft.IsVariadic() {
		if len(tvs) < n-1 {
			return nil, fmt.Errorf("%s needs at least %d arguments, got %d", ft, n-1, len(tvs))
		}
	} else if len(tvs) != n {
		return nil, fmt.Errorf("%s needs %d arguments, got %d", ft, n, len(tvs))
	}
	vals := make([]reflect.Value, len(tvs))
	for i, tv := range tvs {
		var want reflect.Type
		if ft.IsVariadic() && i >= n-1 {
			want = ft.In(n - 1).Elem()
		} else {
			want = ft.In(i)
		}
		v, err := decodeInto(tv, want)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		vals[i] = v
	}
	return vals, nil
}
