package multiprocessing

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/goproc/goproc/runtime/multiprocessing/typedjson"
)

// Values cross process boundaries as JSON (package typedjson): where the
// receiver knows the Go type plain JSON is decoded into it; where it does
// not (a parameter of type any, a Queue item, an element of a []any) the
// value travels with a description of its type, so that an int comes back
// an int and not a float64.

// typedValue is a value with its type.
type typedValue = typedjson.Value

func init() {
	typedjson.Register(&Queue{}, &Conn{}, &Lock{}, &Event{}, &Value{}, &Array{})
}

// encodeTyped encodes v with its type.
func encodeTyped(v any) (typedValue, error) { return typedjson.Encode(v) }

// decodeInto decodes tv into a value of type want (interfaces get the sent
// type where it can be rebuilt).
func decodeInto(tv typedValue, want reflect.Type) (reflect.Value, error) {
	return typedjson.DecodeInto(tv, want)
}

// decodeAny decodes tv with the type it was sent with.
func decodeAny(tv typedValue) (any, error) { return typedjson.DecodeAny(tv) }

// marshalValue encodes v as JSON, with the types of the values in its
// interfaces (an int in a []any stays an int).
func marshalValue(v reflect.Value) ([]byte, error) { return typedjson.Marshal(v) }

// unmarshalValue decodes what marshalValue wrote into dst (settable).
func unmarshalValue(data []byte, dst reflect.Value) error { return typedjson.Unmarshal(data, dst) }

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
