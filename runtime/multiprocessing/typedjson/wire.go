package typedjson

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// Marshal encodes v as JSON. Where v's type holds an empty interface (an
// element of a []any, a value of a map[string]any, a field of type any,
// at any depth) the interface's value is written as a Value, with its
// dynamic type; everything else is written as encoding/json writes it.
func Marshal(v reflect.Value) ([]byte, error) { return marshal(v, 0) }

// maxDepth bounds how deep values with interfaces nest: a value that
// contains itself (m["self"] = m) fails as encoding/json fails on it,
// instead of recursing until memory runs out.
const maxDepth = 1000

var errTooDeep = fmt.Errorf("json: unsupported value: nested more than %d levels (does it contain itself?)", maxDepth)

func marshal(v reflect.Value, depth int) ([]byte, error) {
	if !v.IsValid() || v.Kind() == reflect.Interface && v.IsNil() {
		return []byte("null"), nil
	}
	w := wireOf(v.Type())
	if w == nil {
		return json.Marshal(v.Interface())
	}
	wv, err := w.toWire(v, depth)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wv.Interface())
}

// Unmarshal decodes JSON written by Marshal into dst, which must be
// settable.
func Unmarshal(data []byte, dst reflect.Value) error {
	w := wireOf(dst.Type())
	if w == nil {
		return json.Unmarshal(data, dst.Addr().Interface())
	}
	wv := reflect.New(w.t)
	if err := json.Unmarshal(data, wv.Interface()); err != nil {
		return err
	}
	return w.fromWire(wv.Elem(), dst)
}

// wire is how a type that holds an empty interface travels: as the type t,
// in which every empty interface is a Value.
type wire struct {
	src    reflect.Type
	t      reflect.Type
	elem   *wire // slices, arrays, pointers, maps; nil: the element is plain
	fields []wireField
}

type wireField struct {
	src  int   // index in the source struct
	wire *wire // nil: plain
}

var (
	wires    sync.Map // reflect.Type → *wire (nil *wire: plain JSON)
	valueTyp = reflect.TypeOf(Value{})
	jsonM    = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	jsonU    = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textM    = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

// wireOf returns how t travels, nil if as plain JSON.
func wireOf(t reflect.Type) *wire {
	if w, ok := wires.Load(t); ok {
		return w.(*wire)
	}
	w := build(t, map[reflect.Type]bool{})
	wires.Store(t, w)
	return w
}

// build returns t's wire, nil when t has no empty interface in it (or is
// recursive, or encodes itself: such types stay plain JSON).
func build(t reflect.Type, visiting map[reflect.Type]bool) (w *wire) {
	if visiting[t] {
		return nil
	}
	for _, x := range []reflect.Type{t, reflect.PointerTo(t)} {
		if x.Implements(jsonM) || x.Implements(jsonU) || x.Implements(textM) {
			return nil
		}
	}
	visiting[t] = true
	defer delete(visiting, t)
	defer func() {
		if recover() != nil { // reflect.StructOf refused the type
			w = nil
		}
	}()
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return &wire{src: t, t: valueTyp}
		}
	case reflect.Slice:
		if e := build(t.Elem(), visiting); e != nil {
			return &wire{src: t, t: reflect.SliceOf(e.t), elem: e}
		}
	case reflect.Array:
		if e := build(t.Elem(), visiting); e != nil {
			return &wire{src: t, t: reflect.ArrayOf(t.Len(), e.t), elem: e}
		}
	case reflect.Pointer:
		if e := build(t.Elem(), visiting); e != nil {
			return &wire{src: t, t: reflect.PointerTo(e.t), elem: e}
		}
	case reflect.Map:
		if e := build(t.Elem(), visiting); e != nil {
			return &wire{src: t, t: reflect.MapOf(t.Key(), e.t), elem: e}
		}
	case reflect.Struct:
		var sfs []reflect.StructField
		var fields []wireField
		changed := false
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			e := build(f.Type, visiting)
			ft := f.Type
			if e != nil {
				ft, changed = e.t, true
			}
			sfs = append(sfs, reflect.StructField{Name: f.Name, Type: ft, Tag: f.Tag, Anonymous: f.Anonymous})
			fields = append(fields, wireField{src: i, wire: e})
		}
		if changed {
			return &wire{src: t, t: reflect.StructOf(sfs), fields: fields}
		}
	}
	return nil
}

func (w *wire) toWire(v reflect.Value, depth int) (reflect.Value, error) {
	out := reflect.New(w.t).Elem()
	if depth++; depth > maxDepth {
		return out, errTooDeep
	}
	switch w.src.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			out.Set(reflect.ValueOf(Value{V: json.RawMessage("null")}))
			return out, nil
		}
		tv, err := encode(v.Elem().Interface(), depth)
		if err != nil {
			return out, err
		}
		out.Set(reflect.ValueOf(tv))
	case reflect.Slice:
		if v.IsNil() {
			return out, nil
		}
		out.Set(reflect.MakeSlice(w.t, v.Len(), v.Len()))
		fallthrough
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			e, err := w.elem.toWire(v.Index(i), depth)
			if err != nil {
				return out, err
			}
			out.Index(i).Set(e)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return out, nil
		}
		e, err := w.elem.toWire(v.Elem(), depth)
		if err != nil {
			return out, err
		}
		p := reflect.New(w.t.Elem())
		p.Elem().Set(e)
		out.Set(p)
	case reflect.Map:
		if v.IsNil() {
			return out, nil
		}
		out.Set(reflect.MakeMapWithSize(w.t, v.Len()))
		it := v.MapRange()
		for it.Next() {
			e, err := w.elem.toWire(it.Value(), depth)
			if err != nil {
				return out, err
			}
			out.SetMapIndex(it.Key(), e)
		}
	case reflect.Struct:
		for i, f := range w.fields {
			src := v.Field(f.src)
			if f.wire == nil {
				out.Field(i).Set(src)
				continue
			}
			e, err := f.wire.toWire(src, depth)
			if err != nil {
				return out, fmt.Errorf("field %s: %w", w.src.Field(f.src).Name, err)
			}
			out.Field(i).Set(e)
		}
	}
	return out, nil
}

func (w *wire) fromWire(v reflect.Value, dst reflect.Value) error {
	switch w.src.Kind() {
	case reflect.Interface:
		tv := v.Interface().(Value)
		if len(tv.V) == 0 || string(tv.V) == "null" {
			dst.Set(reflect.Zero(dst.Type()))
			return nil
		}
		x, err := DecodeInto(tv, dst.Type())
		if err != nil {
			return err
		}
		dst.Set(x)
	case reflect.Slice:
		if v.IsNil() {
			dst.Set(reflect.Zero(dst.Type()))
			return nil
		}
		dst.Set(reflect.MakeSlice(dst.Type(), v.Len(), v.Len()))
		fallthrough
	case reflect.Array:
		for i := 0; i < v.Len() && i < dst.Len(); i++ {
			if err := w.elem.fromWire(v.Index(i), dst.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			dst.Set(reflect.Zero(dst.Type()))
			return nil
		}
		p := reflect.New(dst.Type().Elem())
		if err := w.elem.fromWire(v.Elem(), p.Elem()); err != nil {
			return err
		}
		dst.Set(p)
	case reflect.Map:
		if v.IsNil() {
			dst.Set(reflect.Zero(dst.Type()))
			return nil
		}
		m := reflect.MakeMapWithSize(dst.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			e := reflect.New(dst.Type().Elem()).Elem()
			if err := w.elem.fromWire(it.Value(), e); err != nil {
				return err
			}
			m.SetMapIndex(it.Key(), e)
		}
		dst.Set(m)
	case reflect.Struct:
		for i, f := range w.fields {
			d := dst.Field(f.src)
			if f.wire == nil {
				d.Set(v.Field(i))
				continue
			}
			if err := f.wire.fromWire(v.Field(i), d); err != nil {
				return err
			}
		}
	}
	return nil
}
