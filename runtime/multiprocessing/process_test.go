package multiprocessing_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestQ3ChildPrintsBeforeParent(t *testing.T) {
	decl(t, `func q3worker() {
	fmt.Printf("Child process: pid=%d name=%s parent=%s\n", os.Getpid(), multiprocessing.CurrentProcess().Name, multiprocessing.ParentProcess().Name)
}`)
	out, errs := capture(t, func() {
		run(t, `p := &multiprocessing.Process{Target: q3worker}
if err := p.Start(); err != nil { panic(err) }
if err := p.Join(); err != nil { panic(err) }
fmt.Println("exitcode:", p.ExitCode())
fmt.Println("Main process is complete.")`)
	})
	want := regexp.MustCompile(`^Child process: pid=(\d+) name=Process-\d+ parent=MainProcess\nexitcode: 0\nMain process is complete.\n$`)
	m := want.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
	if m[1] == fmt.Sprint(os.Getpid()) {
		t.Fatalf("the child ran in the parent process")
	}
}

func TestQ6FourProcessesLinesWhole(t *testing.T) {
	decl(t, `func printNumber(n int) { fmt.Printf("Process %d prints %d\n", n, n) }`)
	for range 5 {
		out, errs := capture(t, func() {
			run(t, `var procs []*multiprocessing.Process
for i := 1; i <= 4; i++ {
	procs = append(procs, &multiprocessing.Process{Target: printNumber, Args: []any{i}})
}
for _, p := range procs { if err := p.Start(); err != nil { panic(err) } }
for _, p := range procs { p.Join() }
fmt.Println("exitcodes:", procs[0].ExitCode(), procs[1].ExitCode(), procs[2].ExitCode(), procs[3].ExitCode())`)
		})
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 5 || lines[4] != "exitcodes: 0 0 0 0" {
			t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
		}
		seen := map[string]bool{}
		for _, l := range lines[:4] {
			seen[l] = true
		}
		for i := 1; i <= 4; i++ {
			if !seen[fmt.Sprintf("Process %d prints %d", i, i)] {
				t.Fatalf("line of process %d missing or broken:\n%s", i, out)
			}
		}
	}
}

// A Process is named when it is created, as in Python (issue 16): NewProcess
// names it at once, a literal on its first use, and the child sees the name.
func TestProcessNamedAtCreation(t *testing.T) {
	decl(t, `func sayName() { fmt.Println("child:", multiprocessing.CurrentProcess().Name) }`)
	out, errs := capture(t, func() {
		run(t, `a := multiprocessing.NewProcess(sayName)
fmt.Println("a:", a.Name)
b := &multiprocessing.Process{Target: sayName}
fmt.Println("b:", b)
c := &multiprocessing.Process{Target: sayName, Name: "Mine"}
fmt.Println("c:", c.Name)
for _, p := range []*multiprocessing.Process{a, b, c} { p.Start(); p.Join() }
fmt.Println("after:", a.Name, b.Name, c.Name)`)
	})
	m := regexp.MustCompile(`^a: Process-(\d+)\nb: <Process name='Process-(\d+)' pid=0 initial>\nc: Mine\nchild: Process-(\d+)\nchild: Process-(\d+)\nchild: Mine\nafter: Process-(\d+) Process-(\d+) Mine\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
	var n [7]int
	for i := 1; i < 7; i++ {
		fmt.Sscan(m[i], &n[i])
	}
	if n[2] != n[1]+1 || n[3] != n[1] || n[4] != n[2] || n[5] != n[1] || n[6] != n[2] {
		t.Fatalf("numbers %v in\n%s", n[1:], out)
	}
}
