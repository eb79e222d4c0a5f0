package multiprocessing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
)

// Compact payloads. The items and results of a pool chunk of ints, floats,
// strings or bools travel as a packed binary array instead of JSON: encoding
// and decoding then cost a few nanoseconds an item instead of a JSON
// scanner's pass plus reflection per item, and nothing is validated twice.
// The message header names the encoding (message.Enc); "" is JSON, which
// every other type still uses.
const (
	encJSON   = ""
	encInt    = "i64"  // 8 bytes little-endian per item (any signed integer kind)
	encFloat  = "f64"  // IEEE 754 bits, 8 bytes little-endian per item (float32 and float64)
	encString = "str"  // uvarint length and bytes per item
	encBool   = "bool" // 1 byte per item
)

// Payload buffers are recycled: a chunk of 12,500 ints is 100 KB each way,
// and fresh memory costs a page fault per 4 KB (most of the parent's CPU in
// a Map of 100k ints before recycling).
var payloads sync.Pool // *[]byte

// getPayload returns a buffer of length n, recycled if one is free.
func getPayload(n int) []byte {
	if p, ok := payloads.Get().(*[]byte); ok {
		if cap(*p) >= n {
			return (*p)[:n]
		}
		payloads.Put(p)
	}
	return make([]byte, n)
}

// putPayload recycles a buffer from getPayload that nothing refers to any
// more.
func putPayload(b []byte) {
	if cap(b) >= 4<<10 && cap(b) <= 16<<20 {
		payloads.Put(&b)
	}
}

// compactEncoding returns the compact encoding for slices of t, or "".
func compactEncoding(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return encInt
	case reflect.Float32, reflect.Float64:
		return encFloat
	case reflect.String:
		return encString
	case reflect.Bool:
		return encBool
	}
	return encJSON
}

// encodeCompact packs the slice v with enc (compactEncoding of its element
// type).
func encodeCompact(enc string, v reflect.Value) []byte {
	n := v.Len()
	switch enc {
	case encInt:
		b := getPayload(8 * n)
		if s, ok := v.Interface().([]int); ok {
			for i, x := range s {
				binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
			}
			return b
		}
		for i := range n {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v.Index(i).Int()))
		}
		return b
	case encFloat:
		b := getPayload(8 * n)
		if s, ok := v.Interface().([]float64); ok {
			for i, x := range s {
				binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
			}
			return b
		}
		for i := range n {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v.Index(i).Float()))
		}
		return b
	case encString:
		size := 0
		for i := range n {
			size += v.Index(i).Len() + binary.MaxVarintLen64
		}
		b := getPayload(size)[:0]
		if s, ok := v.Interface().([]string); ok {
			for _, x := range s {
				b = binary.AppendUvarint(b, uint64(len(x)))
				b = append(b, x...)
			}
			return b
		}
		for i := range n {
			x := v.Index(i).String()
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		}
		return b
	case encBool:
		b := getPayload(n)
		for i := range n {
			b[i] = 0
			if v.Index(i).Bool() {
				b[i] = 1
			}
		}
		return b
	}
	panic("multiprocessing: unknown compact encoding " + enc)
}

var errCompactLength = errors.New("compact payload has the wrong length")

// compactLen returns the number of items in a compact payload.
func compactLen(enc string, b []byte) (int, error) {
	switch enc {
	case encInt, encFloat:
		if len(b)%8 != 0 {
			return 0, errCompactLength
		}
		return len(b) / 8, nil
	case encBool:
		return len(b), nil
	case encString:
		n := 0
		for len(b) > 0 {
			l, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < l {
				return 0, errCompactLength
			}
			b = b[k+int(l):]
			n++
		}
		return n, nil
	}
	return 0, fmt.Errorf("unknown payload encoding %q", enc)
}

// decodeCompact decodes a compact payload into a new slice of elem.
func decodeCompact(enc string, b []byte, elem reflect.Type) (reflect.Value, error) {
	n, err := compactLen(enc, b)
	if err != nil {
		return reflect.Value{}, err
	}
	s := reflect.MakeSlice(reflect.SliceOf(elem), n, n)
	return s, decodeCompactInto(enc, b, s)
}

// decodeCompactInto decodes a compact payload into dst, a slice of the same
// length whose element kind matches enc.
func decodeCompactInto(enc string, b []byte, dst reflect.Value) error {
	n, err := compactLen(enc, b)
	if err != nil {
		return err
	}
	if n != dst.Len() {
		return fmt.Errorf("%d values for %d places", n, dst.Len())
	}
	if compactEncoding(dst.Type().Elem()) != enc {
		return fmt.Errorf("%s payload for a slice of %s", enc, dst.Type().Elem())
	}
	switch enc {
	case encInt:
		if s, ok := dst.Interface().([]int); ok {
			for i := range s {
				s[i] = int(binary.LittleEndian.Uint64(b[8*i:]))
			}
			return nil
		}
		for i := range n {
			x := int64(binary.LittleEndian.Uint64(b[8*i:]))
			e := dst.Index(i)
			if e.OverflowInt(x) {
				return fmt.Errorf("value %d overflows %s", x, e.Type())
			}
			e.SetInt(x)
		}
	case encFloat:
		if s, ok := dst.Interface().([]float64); ok {
			for i := range s {
				s[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
			return nil
		}
		for i := range n {
			dst.Index(i).SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case encString:
		s, _ := dst.Interface().([]string)
		for i := 0; len(b) > 0; i++ {
			l, k := binary.Uvarint(b)
			x := string(b[k : k+int(l)])
			b = b[k+int(l):]
			if s != nil {
				s[i] = x
			} else {
				dst.Index(i).SetString(x)
			}
		}
	case encBool:
		for i := range n {
			dst.Index(i).SetBool(b[i] != 0)
		}
	}
	return nil
}
