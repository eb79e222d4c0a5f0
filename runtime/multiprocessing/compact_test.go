package multiprocessing

import (
	"math"
	"reflect"
	"testing"
)

func TestCompactRoundTrip(t *testing.T) {
	type myInt int16
	for _, v := range []any{
		[]int{0, 1, -1, math.MaxInt64, math.MinInt64},
		[]int8{-128, 127},
		[]myInt{-3, 300},
		[]float64{0, -0.5, math.Inf(1), math.MaxFloat64, math.SmallestNonzeroFloat64},
		[]float32{1.5, -2.25},
		[]string{"", "héllo", "\xff\xfe not utf-8", string(make([]byte, 300))},
		[]bool{true, false, true},
		[]int{},
	} {
		s := reflect.ValueOf(v)
		enc := compactEncoding(s.Type().Elem())
		if enc == encJSON {
			t.Fatalf("%T: no compact encoding", v)
		}
		got, err := decodeCompact(enc, encodeCompact(enc, s), s.Type().Elem())
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if !reflect.DeepEqual(got.Interface(), v) {
			t.Fatalf("%T: got %v, want %v", v, got, v)
		}
	}
	nan, err := decodeCompact(encFloat, encodeCompact(encFloat, reflect.ValueOf([]float64{math.NaN()})), reflect.TypeOf(0.0))
	if err != nil || !math.IsNaN(nan.Index(0).Float()) {
		t.Fatalf("NaN: %v %v", nan, err)
	}
	if _, err := decodeCompact(encInt, encodeCompact(encInt, reflect.ValueOf([]int{300})), reflect.TypeOf(int8(0))); err == nil {
		t.Fatal("300 decoded into an int8")
	}
	if _, err := decodeCompact(encString, []byte{5, 'a'}, reflect.TypeOf("")); err == nil {
		t.Fatal("truncated string payload accepted")
	}
	if err := decodeCompactInto(encInt, make([]byte, 16), reflect.ValueOf(make([]int, 3))); err == nil {
		t.Fatal("2 values stored into 3 places")
	}
	if err := decodeCompactInto(encInt, make([]byte, 8), reflect.ValueOf(make([]string, 1))); err == nil {
		t.Fatal("ints stored into strings")
	}
}
