package multiprocessing_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNestedProcessesAndLimits(t *testing.T) {
	decl(t, `func leaf(tag string) { fmt.Println("leaf", tag, multiprocessing.CurrentProcess().Name, "parent", multiprocessing.ParentProcess().Name) }
func middle() {
	p := multiprocessing.NewProcess(leaf, "x")
	if err := p.Start(); err != nil { fmt.Println("middle:", err); return }
	p.Join()
	pool := multiprocessing.NewPool(2)
	r, err := pool.Map(strings.ToUpper, []string{"a", "b"})
	pool.Close()
	fmt.Println("middle pool:", r, err)
}`)
	out, errs := capture(t, func() {
		run(t, `m := multiprocessing.NewProcess(middle); m.Start(); m.Join(); fmt.Println("exit", m.ExitCode())`)
	})
	lines := strings.Split(out, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "leaf x Process-") || !strings.Contains(lines[0], ":1 parent Process-") ||
		lines[1] != "middle pool: [A B] <nil>" || lines[2] != "exit 0" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}

	// A global initialiser that starts a process: refused in the child,
	// not a fork bomb.
	decl(t, `func startFromInit() int {
	p := multiprocessing.NewProcess(leaf, "from init")
	if err := p.Start(); err != nil { fmt.Println("init:", err); return 0 }
	p.Join()
	return 1
}
var startedAtInit = startFromInit()
func reportInit() { fmt.Println("child sees startedAtInit =", startedAtInit) }`)
	out, errs = capture(t, func() {
		run(t, `r := multiprocessing.NewProcess(reportInit); r.Start(); r.Join()`)
	})
	// (The child's refusal is printed while it replays, which is silenced.)
	if out != "child sees startedAtInit = 1\n" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}

	// The process cap.
	out, _ = capture(t, func() {
		run(t, `multiprocessing.SetMaxProcesses(1)
err := multiprocessing.NewProcess(leaf, "capped").Start()
multiprocessing.SetMaxProcesses(0)
fmt.Println(err)`)
	})
	if !strings.Contains(out, "process limit reached") {
		t.Fatalf("stdout:\n%s", out)
	}
}

// TestNoOrphansWhenTheEngineDies starts this test binary as an "engine"
// (orphanEngine below) that starts a process and a pool, kills it with
// SIGKILL, and checks that every child is gone.
func TestNoOrphansWhenTheEngineDies(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GOPROC_TEST_ORPHAN_ENGINE=1")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := stdout.Read(buf)
	var pids []int
	for _, f := range strings.Fields(string(buf[:n])) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) < 3 {
		t.Fatalf("engine said %q", buf[:n])
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("child %d outlived the engine", pid)
		}
	}
	t.Logf("children %v died with the engine", pids)
}

// orphanEngine is the engine of TestNoOrphansWhenTheEngineDies.
func orphanEngine() {
	decl(nopTB{}, `func forever() { time.Sleep(time.Hour) }
func poolPid(x int) int { return os.Getpid() }`)
	nb.Run(`p := multiprocessing.NewProcess(forever); p.Start()
pool := multiprocessing.NewPool(2)
r, err := pool.Map(poolPid, []int{1, 2, 3, 4, 5, 6, 7, 8})
if err != nil { fmt.Fprintln(os.Stderr, err) }
fmt.Println(p.Pid(), r)`)
	select {}
}

type nopTB struct{ testing.TB }

func (nopTB) Helper()               {}
func (nopTB) Fatal(args ...any)     { fmt.Fprintln(os.Stderr, args...); os.Exit(2) }
func (nopTB) Fatalf(string, ...any) { os.Exit(2) }
