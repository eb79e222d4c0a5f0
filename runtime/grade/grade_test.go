package grade

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRecord(t *testing.T, r Record) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outputs.json")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvOutputs, path)
}

func TestOutputOutsideGrader(t *testing.T) {
	t.Setenv(EnvOutputs, "")
	if _, err := Output("q1"); !errors.Is(err, ErrNotGrading) {
		t.Fatalf("Output without %s: got %v, want ErrNotGrading", EnvOutputs, err)
	}
	// Check must not panic outside the grader.
	Test("q1", func(string) error { return errors.New("never called") })
}

func TestOutputStates(t *testing.T) {
	writeRecord(t, Record{Cells: map[string]Cell{
		"ok":    {Text: "a\nb\n"},
		"err":   {Text: "a\n", Error: "panic: boom\ngoroutine 1"},
		"flood": {Text: "xxxx", Truncated: true},
	}})
	if out, err := Output("ok"); err != nil || out != "a\nb\n" {
		t.Fatalf("Output(ok) = %q, %v", out, err)
	}
	if _, err := Output("err"); err == nil || !strings.Contains(err.Error(), "panic: boom") || strings.Contains(err.Error(), "goroutine") {
		t.Fatalf("Output(err) error = %v, want the first line of the cell's error", err)
	}
	if _, err := Output("flood"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Output(flood) error = %v", err)
	}
	if _, err := Output("missing"); err == nil || !strings.Contains(err.Error(), "has not run") {
		t.Fatalf("Output(missing) error = %v", err)
	}
}

func TestContainsLines(t *testing.T) {
	out := "Process 2: 2\nProcess 1: 1\n  Process 4: 4  \nProcess 3: 3\n"
	if err := ContainsLines(out, "Process 1: 1", "Process 2: 2", "Process 3: 3", "Process 4: 4"); err != nil {
		t.Fatal(err)
	}
	err := ContainsLines(out, "Process 1: 1", "Process 1: 1", "Process 5: 5")
	if err == nil || !strings.Contains(err.Error(), `"Process 1: 1", "Process 5: 5"`) {
		t.Fatalf("got %v, want both the duplicate and the absent line reported", err)
	}
}

func TestBefore(t *testing.T) {
	out := "child says hi\nparent done\n"
	if err := Before(out, "child", "parent"); err != nil {
		t.Fatal(err)
	}
	if err := Before(out, "parent", "child"); err == nil || !strings.Contains(err.Error(), "came after") {
		t.Fatalf("got %v", err)
	}
	if err := Before(out, "nobody", "parent"); err == nil || !strings.Contains(err.Error(), "found none") {
		t.Fatalf("got %v", err)
	}
}

func TestPrintsValue(t *testing.T) {
	if err := PrintsValue("Squares: [1 4 9 16 25]\n", []int{1, 4, 9, 16, 25}); err != nil {
		t.Fatal(err)
	}
	if err := PrintsValue("Results: [4 16 36 64 100]\n", []int{1, 4, 9, 16, 25}); err == nil {
		t.Fatal("wrong squares accepted")
	}
}

func TestChildLine(t *testing.T) {
	me := os.Getpid()
	out := fmt.Sprintf("Process ID: %d, Process Name: MyProcess\nparent pid %d done\n", me+1, me)
	line, err := ChildLine(out)
	if err != nil || !strings.Contains(line, "MyProcess") {
		t.Fatalf("ChildLine = %q, %v", line, err)
	}
	if _, err := ChildLine(fmt.Sprintf("pid %d\n", me)); err == nil || !strings.Contains(err.Error(), "kernel's own") {
		t.Fatalf("kernel pid accepted: %v", err)
	}
	if _, err := ChildLine("Square: 100\nDone!\n"); err == nil {
		t.Fatal("a line without a pid accepted")
	}
	for line, want := range map[string]int{"pid 42": 42, "PID: 42": 42, "process id = 42": 42, "id=7 name=x": 7, "valid 3": 0} {
		if got := PID(line); got != want {
			t.Errorf("PID(%q) = %d, want %d", line, got, want)
		}
	}
}

func TestDistinctNumbers(t *testing.T) {
	if err := DistinctNumbers("3\n2\n1\n7\nfinished main\n", 4); err != nil {
		t.Fatal(err)
	}
	if err := DistinctNumbers("Process 1: 1\nProcess 1: 1\nProcess 2: 2\n", 4); err == nil {
		t.Fatal("repeated numbers accepted")
	}
}

func TestTestPanicsWithFailure(t *testing.T) {
	writeRecord(t, Record{Cells: map[string]Cell{"q5": {Text: "[4 16]\n"}}})
	defer func() {
		var f *Failure
		if err, _ := recover().(error); !errors.As(err, &f) || !strings.HasPrefix(f.Error(), "test failed: ") {
			t.Fatalf("recovered %v, want a *Failure", err)
		}
	}()
	Test("q5", func(out string) error { return PrintsValue(out, []int{1, 4}) })
	t.Fatal("Test did not panic")
}

func TestUses(t *testing.T) {
	if err := Uses("p := &multiprocessing.Process{}", "NewPool", "multiprocessing.Process"); err != nil {
		t.Fatal(err)
	}
	if err := Uses("fmt.Println(1)", "NewPool"); err == nil {
		t.Fatal("missing use accepted")
	}
}

func TestStartsProcessesCountsUnidentified(t *testing.T) {
	writeRecord(t, Record{KernelPID: 5, Cells: map[string]Cell{
		"seen":    {Processes: &Processes{Started: []int{10, 11}, Active: []int{7}, Kernel: []int{5}}},
		"partly":  {Processes: &Processes{Started: []int{10}, Kernel: []int{5}, Unidentified: 3}},
		"kernel":  {Processes: &Processes{Started: []int{5}, Kernel: []int{5}, Unidentified: 1}},
		"nothing": {Processes: &Processes{Kernel: []int{5}}},
	}})
	for id, want := range map[string]bool{"seen": true, "partly": true, "kernel": false, "nothing": false} {
		err := StartsProcesses(id, 3)
		if (err == nil) != want {
			t.Errorf("StartsProcesses(%s, 3) = %v, want ok=%v", id, err, want)
		}
	}
}
