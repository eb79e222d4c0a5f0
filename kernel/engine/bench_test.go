package engine

import (
	"context"
	"os"
	"testing"

	"github.com/goproc/goproc/kernel/language"
)

// BenchmarkExecuteTrivial is the engine's share of a trivial cell's round
// trip (the front's ZeroMQ handling comes on top).
func BenchmarkExecuteTrivial(b *testing.B) {
	c, err := Start(context.Background(), Options{Binary: testBinary, NoSpare: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := &recorder{}
	for b.Loop() {
		if res := c.Execute(context.Background(), language.ExecuteRequest{Code: "1"}, r); res.Status != "ok" {
			b.Fatal(res.Error)
		}
	}
}

// BenchmarkNewInterpreter is what every engine and worker process pays
// before its first cell.
func BenchmarkNewInterpreter(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := NewInterpreter(Config{Stdout: os.Stdout, Stderr: os.Stderr}); err != nil {
			b.Fatal(err)
		}
	}
}
