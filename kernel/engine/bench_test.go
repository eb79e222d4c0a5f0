package engine

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/language"
)

// BenchmarkExecuteTrivial is the engine's share of a trivial cell's round
// trip (the front's ZeroMQ handling comes on top).
func BenchmarkExecuteTrivial(b *testing.B) {
	before := childrenCPU(b)
	c, err := Start(context.Background(), Options{Binary: testBinary, NoSpare: true})
	if err != nil {
		b.Fatal(err)
	}
	r := &recorder{}
	n := 0
	for b.Loop() {
		if res := c.Execute(context.Background(), language.ExecuteRequest{Code: "1"}, r); res.Status != "ok" {
			b.Fatal(res.Error)
		}
		n++
	}
	b.StopTimer()
	c.Close()
	// CPU the engine spent per cell (start-up included, amortised): less
	// noisy than the round trip on a shared machine.
	b.ReportMetric(float64(childrenCPU(b)-before)/float64(n), "engine-cpu-ns/op")
}

// childrenCPU is the user and system CPU time of this process's waited-for
// children.
func childrenCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// BenchmarkRunTrivial is the interpreter's own share of a trivial cell.
func BenchmarkRunTrivial(b *testing.B) {
	in, err := NewInterpreter(Config{Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if o := in.Run(context.Background(), "1"); o.Err != nil {
			b.Fatal(o.Err)
		}
	}
}
