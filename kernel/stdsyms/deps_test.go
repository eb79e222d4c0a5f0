package stdsyms

import (
	"reflect"
	"testing"
)

// The generated table must match the tables it is computed from.
func TestInterfaceDepsUpToDate(t *testing.T) {
	if got := ComputeInterfaceDeps(); !reflect.DeepEqual(got, interfaceDeps) {
		t.Fatal("interface_deps.go is out of date: run `go generate ./kernel/stdsyms`")
	}
}

func TestInterfacePackages(t *testing.T) {
	for _, c := range []struct {
		key  string
		want []string
	}{
		{"fmt/fmt", []string{"fmt", "io"}},  // Fprintln(io.Writer, …); Formatter.Format's State
		{"bufio/bufio", []string{"io"}},     // NewScanner(io.Reader)
		{"strings/strings", []string{"io"}}, // (*Reader).WriteTo(io.Writer)
		{"math/bits/bits", []string{}},      // numbers only
	} {
		got := InterfacePackages(Build(c.key))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("InterfacePackages(%s) = %q, want %q", c.key, got, c.want)
		}
	}
}
