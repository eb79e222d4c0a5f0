// Package typedjson carries Go values between goproc's processes as JSON
// without losing their types.
//
// Where the receiver knows the Go type (a parameter or result of type int,
// Point, []string …) plain JSON is decoded into it. Where it does not (a
// parameter of type any, a Queue item, an element of a []any or a
// map[string]any, a struct field of type any) the value travels with a
// description of its type, so that an int comes back an int and not a
// float64, and an interpreted struct comes back as a struct with the same
// fields. Types without an empty interface in them are plain JSON.
package typedjson

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"time"
)

// Value is a value with its type.
type Value struct {
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

// Register makes the named compiled types of samples rebuildable by name
// (call it from an init function).
func Register(samples ...any) {
	for _, s := range samples {
		t := reflect.TypeOf(s)
		knownTypes[t.String()] = t
	}
}

func init() {
	Register(time.Time{}, time.Duration(0), big.Int{}, &big.Int{}, big.Float{}, &big.Float{}, big.Rat{}, &big.Rat{})
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

// Encode encodes v with its type.
func Encode(v any) (Value, error) { return encode(v, 0) }

func encode(v any, depth int) (Value, error) {
	b, err := marshal(reflect.ValueOf(v), depth)
	if err != nil {
		return Value{}, err
	}
	return Value{T: describe(reflect.TypeOf(v)), V: b}, nil
}

// DecodeInto decodes tv into a value of type want (interfaces get the sent
// type where it can be rebuilt).
func DecodeInto(tv Value, want reflect.Type) (reflect.Value, error) {
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
	if target.Kind() == reflect.Interface {
		// The type could not be rebuilt: what JSON gives.
		if err := json.Unmarshal(tv.V, ptr.Interface()); err != nil {
			return reflect.Value{}, err
		}
	} else if err := Unmarshal(tv.V, ptr.Elem()); err != nil {
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

// DecodeAny decodes tv with the type it was sent with.
func DecodeAny(tv Value) (any, error) {
	v, err := DecodeInto(tv, reflect.TypeOf((*any)(nil)).Elem())
	if err != nil {
		return nil, err
	}
	return v.Interface(), nil
}
