package typedjson

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

type holder struct {
	Name  string
	Any   any
	List  []any
	ByKey map[string]any
	Ptr   *[]any
	When  time.Time
	inner any
}

// Values keep their types across a round trip, at any depth: an int in a
// []any or a map[string]any comes back an int, not a float64.
func TestRoundTripKeepsTypes(t *testing.T) {
	when := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	list := []any{int8(-3), uint(7)}
	cases := []any{
		[]any{"A", 5, 2.5, true, nil, []int{1, 2}, []any{int64(9), "x"}},
		map[string]any{"n": 4, "f": 1.5, "nested": map[string]any{"i": 3}, "l": []any{1}},
		map[int]any{1: 2},
		[2]any{1, "b"},
		holder{Name: "h", Any: 42, List: []any{1, "two"}, ByKey: map[string]any{"k": 5}, Ptr: &list, When: when},
		[]holder{{Any: uint16(3)}},
		struct {
			X any `json:"x,omitempty"`
			Y int
		}{X: 12, Y: 3},
		[]int{1, 2, 3},
		map[string]int{"a": 1},
		[]any(nil),
		map[string]any(nil),
	}
	for _, c := range cases {
		want := fmt.Sprintf("%#v", c)
		// As a value of its own type.
		b, err := Marshal(reflect.ValueOf(c))
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		dst := reflect.New(reflect.TypeOf(c)).Elem()
		if err := Unmarshal(b, dst); err != nil {
			t.Fatalf("%s: unmarshal %s: %v", want, b, err)
		}
		if got := fmt.Sprintf("%#v", dst.Interface()); got != want && !reflect.DeepEqual(dst.Interface(), c) {
			t.Errorf("round trip of its type:\n got %s\nwant %s\nwire %s", got, want, b)
		}
		// As a value in an interface (a parameter of type any).
		tv, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeAny(tv)
		if err != nil {
			t.Fatal(err)
		}
		// Compiled named structs come back as unnamed ones with the same
		// fields, and a nil slice or map through any as nil.
		if i := fmt.Sprint(reflect.TypeOf(c)); !strings.Contains(i, "holder") && !reflect.ValueOf(c).IsZero() {
			if got := fmt.Sprintf("%#v", back); got != want {
				t.Errorf("round trip through any:\n got %s\nwant %s", got, want)
			}
		}
	}
}

// A type that holds no interface is plain JSON, as before.
func TestPlainTypesArePlainJSON(t *testing.T) {
	b, err := Marshal(reflect.ValueOf(map[string][]int{"a": {1}}))
	if err != nil || string(b) != `{"a":[1]}` {
		t.Fatalf("%s %v", b, err)
	}
	b, err = Marshal(reflect.ValueOf([]any{1}))
	if err != nil || string(b) != `[{"t":{"k":"int"},"v":1}]` {
		t.Fatalf("%s %v", b, err)
	}
}

// A value that contains itself is an error, as for encoding/json, not an
// endless recursion.
func TestSelfReferenceFails(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	l := []any{nil}
	l[0] = l
	for _, v := range []any{m, l} {
		if _, err := Marshal(reflect.ValueOf(v)); err == nil {
			t.Errorf("%T: no error", v)
		}
	}
}
