package multiprocessing_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/runtime/multiprocessing"
)

func TestLinesWholeUnderConcurrency(t *testing.T) {
	decl(t, `func chatter(id int, n int) {
	pad := strings.Repeat(string(rune('a'+id)), 180)
	for i := 0; i < n; i++ {
		fmt.Printf("child %d line %04d %s\n", id, i, pad)
		if i%3 == 0 { fmt.Fprintf(os.Stderr, "child %d err %04d %s\n", id, i, pad) }
	}
}`)
	out, errs := capture(t, func() {
		run(t, `var ps []*multiprocessing.Process
for i := 0; i < 4; i++ { ps = append(ps, multiprocessing.NewProcess(chatter, i, 1000)) }
for _, p := range ps { if err := p.Start(); err != nil { panic(err) } }
for _, p := range ps { p.Join() }
fmt.Println("done")`)
	})
	check := func(stream, text, kind string, want int) {
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		count := map[int]int{}
		for _, l := range lines {
			if l == "done" {
				continue
			}
			var id, i int
			var pad string
			if _, err := fmt.Sscanf(l, "child %d "+kind+" %d %s", &id, &i, &pad); err != nil || pad != strings.Repeat(string(rune('a'+id)), 180) {
				t.Fatalf("%s: broken line %q", stream, l)
			}
			count[id]++
		}
		for id := 0; id < 4; id++ {
			if count[id] != want {
				t.Fatalf("%s: child %d has %d lines, want %d", stream, id, count[id], want)
			}
		}
	}
	if !strings.HasSuffix(out, "done\n") {
		t.Fatalf("parent's line is not last: ...%s", out[max(0, len(out)-300):])
	}
	check("stdout", out, "line", 1000)
	check("stderr", errs, "err", 334)
}

func TestPanicExitCodeAndTraceback(t *testing.T) {
	decl(t, `func explode(msg string) { panic("boom: " + msg) }`)
	out, errs := capture(t, func() {
		run(t, `p := multiprocessing.NewProcess(explode, "kaput")
p.Start(); p.Join()
fmt.Println("exitcode:", p.ExitCode())`)
	})
	if out != "exitcode: 1\n" || !strings.Contains(errs, "boom: kaput") {
		t.Fatalf("stdout %q stderr %q", out, errs)
	}
}

func TestOsExitCode(t *testing.T) {
	decl(t, `func quit(code int) { fmt.Println("bye"); os.Exit(code) }`)
	out, _ := capture(t, func() {
		run(t, `p := multiprocessing.NewProcess(quit, 7)
p.Start(); p.Join()
fmt.Println("exitcode:", p.ExitCode())`)
	})
	if out != "bye\nexitcode: 7\n" {
		t.Fatalf("stdout %q", out)
	}
}

func TestTerminateKillJoinTimeout(t *testing.T) {
	decl(t, `func sleeper(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) }`)
	out, errs := capture(t, func() {
		run(t, `p := multiprocessing.NewProcess(sleeper, 5000)
p.Start()
t0 := time.Now()
ok, err := p.JoinTimeout(200 * time.Millisecond)
fmt.Println("joined:", ok, err, "alive:", p.IsAlive(), "code:", p.ExitCode(), "waited ok:", time.Since(t0) < time.Second)
p.Terminate(); p.Join()
fmt.Println("terminated:", p.ExitCode(), p.IsAlive())
q := multiprocessing.NewProcess(sleeper, 5000)
q.Start(); q.Kill(); q.Join()
fmt.Println("killed:", q.ExitCode())
fmt.Println("twice:", q.Start() != nil)`)
	})
	want := "joined: false <nil> alive: true code: -1000 waited ok: true\nterminated: -15 false\nkilled: -9\ntwice: true\n"
	if out != want {
		t.Fatalf("stdout %q want %q; stderr %q", out, want, errs)
	}
}

func TestTargetsThatCannotCross(t *testing.T) {
	decl(t, `type Acc struct{ N int }
func (a Acc) Add(x int) { fmt.Println(a.N + x) }
func takesChan(c chan int) {}`)
	out, _ := capture(t, func() {
		run(t, `fmt.Println(multiprocessing.NewProcess(func() {}).Start())
a := Acc{1}
fmt.Println(multiprocessing.NewProcess(a.Add, 2).Start())
fmt.Println(multiprocessing.NewProcess(takesChan, make(chan int)).Start())
fmt.Println(multiprocessing.NewProcess(strings.ToUpper, "x").Start())`)
	})
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "func literal") || !strings.Contains(lines[0], "top-level function") ||
		!strings.Contains(lines[1], "method") || !strings.Contains(lines[2], "argument 1 (a chan int) cannot be sent") ||
		lines[3] != "<nil>" {
		t.Fatalf("%s", out)
	}
}

func TestGlobalsAtStartAndRedefinition(t *testing.T) {
	decl(t, `var counter = 1
func showCounter() { fmt.Println("counter", counter) }`)
	out, _ := capture(t, func() {
		run(t, `counter = 42
p := multiprocessing.NewProcess(showCounter); p.Start(); p.Join()`)
		decl(t, `func showCounter() { fmt.Println("new definition", counter) }`)
		run(t, `p := multiprocessing.NewProcess(showCounter); p.Start(); p.Join()`)
		decl(t, `func bump() { counter += 100; fmt.Println("bumped", counter) }`)
		run(t, `for i := 0; i < 3; i++ { p := multiprocessing.NewProcess(bump); p.Start(); p.Join() }`)
	})
	if out != "counter 42\nnew definition 42\nbumped 142\nbumped 142\nbumped 142\n" {
		t.Fatalf("%q", out)
	}
}

func TestNoFileDescriptorLeak(t *testing.T) {
	decl(t, `func nothing() {}`)
	// Every live worker holds 5 descriptors here (control socket, stdout,
	// stderr and crash-report pipes, pidfd); anything beyond that is a leak.
	fdsBeyondWorkers := func() int {
		time.Sleep(200 * time.Millisecond)
		entries, _ := os.ReadDir("/proc/self/fd")
		return len(entries) - 5*multiprocessing.LiveWorkers()
	}
	// Reused workers first (opt-in), to afford 1,000 processes in a test.
	t.Setenv("GOPROC_MP_REUSE", "1")
	run(t, `for i := 0; i < 20; i++ { p := multiprocessing.NewProcess(nothing); p.Start(); p.Join() }`)
	before := fdsBeyondWorkers()
	n := 1000
	if testing.Short() {
		n = 100
	}
	start := time.Now()
	run(t, `for i := 0; i < `+strconv.Itoa(n)+`; i++ {
	p := multiprocessing.NewProcess(nothing)
	if err := p.Start(); err != nil { panic(err) }
	p.Join()
	if p.ExitCode() != 0 { panic(p.ExitCode()) }
}`)
	t.Logf("%d processes (reused workers) in %v", n, time.Since(start))
	if after := fdsBeyondWorkers(); after > before {
		t.Fatalf("fds beyond workers: %d before, %d after %d processes", before, after, n)
	}
	// Fresh workers (the default) must not leak either.
	t.Setenv("GOPROC_MP_REUSE", "0")
	start = time.Now()
	run(t, `for i := 0; i < 100; i++ {
	p := multiprocessing.NewProcess(nothing)
	if err := p.Start(); err != nil { panic(err) }
	p.Join()
}`)
	t.Logf("100 processes (fresh workers) in %v", time.Since(start))
	if after := fdsBeyondWorkers(); after > before {
		t.Fatalf("fds beyond workers: %d before, %d after 100 fresh processes", before, after)
	}
}
