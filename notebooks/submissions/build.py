#!/usr/bin/env python3
"""Builds the assignment source (notebooks/assignment.ipynb, without outputs)
and the sample submissions (notebooks/submissions/*.ipynb) from the cells
below. The submissions start from the student version that
`goproc grade --release` makes, and replace the answer cells, as a student
would. Run from the repository root:

    python3 notebooks/submissions/build.py source       # writes notebooks/assignment.ipynb
    go run . grade --source notebooks/assignment.ipynb --stamp
    go run . run notebooks/assignment.ipynb --inplace
    go run . grade --source notebooks/assignment.ipynb --release /tmp/release.ipynb
    python3 notebooks/submissions/build.py submissions /tmp/release.ipynb
"""
import copy
import json
import sys

KERNELSPEC = {"name": "goproc", "display_name": "Go (goproc)", "language": "go"}
LANGUAGE_INFO = {"name": "go", "file_extension": ".go", "mimetype": "text/x-go",
                 "pygments_lexer": "go", "codemirror_mode": "go"}


def nbg(grade_id, grade=False, solution=False, locked=False, points=None):
    m = {"grade": grade, "solution": solution, "locked": locked, "task": False,
         "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        m["points"] = points
    return m


def md(text, **kw):
    c = {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")}
    if kw:
        c["metadata"]["nbgrader"] = nbg(**kw)
    return c


def code(text, **kw):
    c = {"cell_type": "code", "metadata": {}, "source": text.strip("\n"),
         "outputs": [], "execution_count": None}
    if kw:
        c["metadata"]["nbgrader"] = nbg(**kw)
    return c


def read_only(grade_id):
    return dict(grade_id=grade_id, locked=True)


def test(grade_id, points):
    return dict(grade_id=grade_id, grade=True, locked=True, points=points)


def manual(grade_id, points):
    return dict(grade_id=grade_id, grade=True, solution=True, points=points)


def answer(grade_id):
    return dict(grade_id=grade_id, solution=True)


CELLS = [
    md("""
# Processes in Go: an assignment

Go runs goroutines on every core at once, so a Go program does not need extra
processes to use the machine. Processes still matter when work must be kept
apart: a separate memory, a crash that stays in one place, a limit on what one
part may use, another program to run. This notebook uses goproc's
`multiprocessing` package, modelled on Python's, whose functions run in real
operating-system processes started by the notebook.

**How to work:** write your answers in the cells that say `YOUR ANSWER HERE` or
`YOUR CODE HERE` (remove the `panic` line). The cells after each coding answer
test it; they are read-only and are run again when your notebook is graded.
Outside the grader they print `not checked here`: run
`goproc grade --source assignment.ipynb your.ipynb` to check them yourself.
Run the cells from top to bottom after a restart before you hand in.
""", **read_only("intro")),
    md("""
## Q1. What is multiprocessing, and why is it useful in Go? (2 points)

Explain what it means to split work over several processes rather than several
goroutines, and give two situations in which a Go program gains something from
separate processes.
""", **read_only("q1_question")),
    md("""
Multiprocessing means running parts of a program as separate operating-system
processes, each with its own address space, instead of as goroutines inside one
process. In Go, goroutines already run in parallel on all cores (there is no
global interpreter lock), so processes are not needed for speed alone. They are
useful when parts must not share memory or fate:

* **isolation:** a process cannot corrupt another's memory or globals;
* **crash containment:** a panic in a goroutine kills its whole process, so
  untrusted or fragile work (a plugin, a student's code) belongs in a child;
* **limits:** memory, CPU time and file access can be capped per process;
* **other programs:** work done by another executable always needs a process.
""", **manual("q1_answer", 2)),
    md("""
## Q2. How do multiprocessing and multithreading differ? (2 points)

Compare processes with threads (in Go: goroutines) for memory, communication,
cost of starting, parallelism and what happens when one of them fails.
""", **read_only("q2_question")),
    md("""
| | processes | goroutines (threads) |
|---|---|---|
| memory | separate; data is copied between them | shared; needs channels or locks |
| communication | pipes, files, sockets, copied arguments | channels and shared variables |
| cost to start | milliseconds and megabytes | microseconds and kilobytes |
| parallelism | yes, one per core | yes in Go: the scheduler spreads goroutines over all cores |
| failure | a crash ends one process | an unrecovered panic ends the whole program |

Goroutines are the default in Go; processes are for isolation and containment.
""", **manual("q2_answer", 2)),
    md("""
## Q3. Create a process (3 points)

Start one child process with `multiprocessing.Process`. The child prints its
process id (`os.Getpid()`) and its name (`multiprocessing.CurrentProcess().Name`).
The parent waits for the child with `Join` and then prints a line saying that
it is done.
""", **read_only("q3_question")),
    code("""
import (
	"fmt"
	"os"

	"multiprocessing"
)

// BEGIN SOLUTION
func describe() {
	me := multiprocessing.CurrentProcess()
	fmt.Printf("child: pid %d, name %s\\n", os.Getpid(), me.Name)
}

child := &multiprocessing.Process{Target: describe, Name: "MyProcess"}
if err := child.Start(); err != nil {
	panic(err)
}
child.Join()
fmt.Println("parent: the child has finished")
// END SOLUTION
""", **answer("q3_answer")),
    code("""
// Test (2 points): the child prints a pid that is not the kernel's own.
import "grade"

grade.Test("q3_answer", func(out string) error {
	_, err := grade.ChildLine(out)
	return err
})
""", **test("q3_test_child", 2)),
    code("""
// Test (1 point): the parent's line comes last, after the child's.
import (
	"fmt"

	"grade"
)

grade.Test("q3_answer", func(out string) error {
	lines := grade.Lines(out)
	if len(lines) < 2 {
		return fmt.Errorf("expected a line from the child, then one from the parent; found %d line(s)", len(lines))
	}
	last := lines[len(lines)-1]
	if child, err := grade.ChildLine(out); err == nil {
		return grade.Before(out, child, last)
	}
	return nil
})
// BEGIN HIDDEN TESTS
grade.TestSource("q3_answer", func(src string) error {
	return grade.Uses(src, "multiprocessing.Process", "multiprocessing.NewProcess")
})
// END HIDDEN TESTS
""", **test("q3_test_order", 1)),
    md("""
## Q4. What is a pool of worker processes, and why use one? (2 points)

Explain what a pool does for you compared with starting one process per task.
The example below (read-only) runs four tasks that sleep for different times
on a pool of two workers; each task reports where it runs and when it is done.
""", **read_only("q4_question")),
    code("""
import (
	"fmt"
	"os"
	"strings"
	"time"

	"multiprocessing"
)

// nap sleeps for the task's time, e.g. "B:20ms", and reports.
func nap(task string) string {
	name, wait, _ := strings.Cut(task, ":")
	d, _ := time.ParseDuration(wait)
	fmt.Printf("task %s: sleeping %v in pid %d\\n", name, d, os.Getpid())
	time.Sleep(d)
	fmt.Printf("task %s: done\\n", name)
	return name
}

naps := multiprocessing.NewPool(2)
names, err := naps.Map(nap, []string{"A:40ms", "B:20ms", "C:10ms", "D:30ms"})
naps.Close()
if err != nil {
	panic(err)
}
fmt.Println("results in task order:", names)
""", **read_only("q4_example")),
    md("""
A pool starts a fixed number of worker processes once and hands them tasks
from a queue: `Map` splits a list over the workers and returns the results in
the order of the list. Starting a process costs far more than running a small
task, so reusing a few workers is faster than one process per task, and the
number of workers bounds how much of the machine the work takes. In the example
the two workers run A and B at once; whichever finishes first takes C, then D.
""", **manual("q4_answer", 2)),
    md("""
## Q5. Create a pool of worker processes (2 points)

Make a pool of 4 worker processes with `multiprocessing.NewPool` and use its
`Map` to square the numbers 1 to 5 in the workers. Print the list of squares:
it prints as `[1 4 9 16 25]`.
""", **read_only("q5_question")),
    code("""
import (
	"fmt"

	"multiprocessing"
)

// BEGIN SOLUTION
func square(n int) int { return n * n }

workers := multiprocessing.NewPool(4)
squares, err := workers.Map(square, []int{1, 2, 3, 4, 5})
workers.Close()
if err != nil {
	panic(err)
}
fmt.Println(squares)
// END SOLUTION
""", **answer("q5_answer")),
    code("""
// Test (2 points): the squares of 1..5, computed by a pool.
import "grade"

grade.Test("q5_answer", func(out string) error {
	return grade.PrintsValue(out, []int{1, 4, 9, 16, 25})
})
// BEGIN HIDDEN TESTS
grade.TestSource("q5_answer", func(src string) error {
	return grade.Uses(src, "NewPool")
})
// END HIDDEN TESTS
""", **test("q5_test", 2)),
    md("""
## Q6. Four processes, four numbers (2 points)

Start four processes; each prints a different number. Wait for all of them.
""", **read_only("q6_question")),
    code("""
import (
	"fmt"
	"os"

	"multiprocessing"
)

// BEGIN SOLUTION
func printNumber(n int) {
	fmt.Printf("%d from pid %d\\n", n, os.Getpid())
}

procs := []*multiprocessing.Process{}
for n := 1; n <= 4; n++ {
	p := &multiprocessing.Process{Target: printNumber, Args: []any{n}}
	if err := p.Start(); err != nil {
		panic(err)
	}
	procs = append(procs, p)
}
for _, p := range procs {
	p.Join()
}
fmt.Println("all four processes have finished")
// END SOLUTION
""", **answer("q6_answer")),
    code("""
// Test (2 points): four lines with four different numbers, in any order.
import "grade"

grade.Test("q6_answer", func(out string) error {
	return grade.DistinctNumbers(out, 4)
})
// BEGIN HIDDEN TESTS
grade.TestSource("q6_answer", func(src string) error {
	return grade.Uses(src, "multiprocessing.Process", "multiprocessing.NewProcess", "NewPool")
})
// END HIDDEN TESTS
""", **test("q6_test", 2)),
]


def source():
    nb = {"cells": CELLS, "metadata": {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO},
          "nbformat": 4, "nbformat_minor": 5}
    for i, c in enumerate(nb["cells"]):
        c["id"] = "cell-%02d" % i
    with open("notebooks/assignment.ipynb", "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")


# --- submissions ---------------------------------------------------------

IMPORTS = """import (
	"fmt"
	"os"
	"strings"
	"time"

	"multiprocessing"
)

"""

SUBMISSIONS = {
    # 000: careful and complete; prints the pid and name; Q6 with a Pool(4).
    "000": {
        "q1_answer": "Multiprocessing runs pieces of a program as separate processes, each with its own memory. Go already runs goroutines in parallel, so processes help when work must be isolated: a crash in one process does not take the others down, and each one can be limited.",
        "q2_answer": "1. **Memory:** processes have separate memory; goroutines share it.\n2. **Parallelism:** both run on several cores in Go.\n3. **Failure:** a crashed process is contained; a panicking goroutine ends the program.",
        "q4_answer": "A pool is a fixed set of worker processes that take tasks from a queue. `Map` spreads the inputs over the workers and gives back the results in order, so you do not pay for a new process per task.",
        "q3_answer": IMPORTS + """// printProcessInfo prints the process id and name.
func printProcessInfo() {
	processID := os.Getpid()
	processName := multiprocessing.CurrentProcess().Name
	fmt.Printf("Process ID: %d, Process Name: %s\\n", processID, processName)
}

// Create a process
myProcess := &multiprocessing.Process{Target: printProcessInfo, Name: "MyProcess"}
// Start the process
myProcess.Start()
// Wait for the process to finish
myProcess.Join()
fmt.Println("Main process is complete.")
""",
        "q5_answer": IMPORTS + """func square(number int) int {
	return number * number
}

// Create a multiprocessing pool with 4 worker processes
pool := multiprocessing.NewPool(4)
numbers := []int{1, 2, 3, 4, 5}
// Use Map to apply square to each number in parallel
results, err := pool.Map(square, numbers)
pool.Close()
if err != nil {
	panic(err)
}
fmt.Println("Original Numbers:", numbers)
fmt.Println("Squared Numbers:", results)
""",
        "q6_answer": IMPORTS + """func printNumber(number int) int {
	fmt.Printf("Process %d: My number is %d\\n", number, number)
	return number
}

// Create a pool of 4 worker processes and map printNumber over 1..4
pool := multiprocessing.NewPool(4)
pool.Map(printNumber, []int{1, 2, 3, 4})
pool.Close()
""",
    },
    # 001: defines multiprocessing by hardware; Q3 prints a square and a cube
    # (no pid), adds its own pool example to Q4, Q6 prints 3, 2, 1, 7.
    "001": {
        "q1_answer": "Multiprocessing is the ability of a system to use more than one processor at a time. Work is broken into routines that run independently and the operating system spreads them over the processors.",
        "q2_answer": "Multiprocessing:\n- processes run at the same time\n- every process has its own address space\n- creating a process is slow\n\nMultithreading:\n- many threads in one process\n- all threads share one address space\n- creating a thread is cheap",
        "q4_answer": "A pool runs a function over many inputs in parallel by spreading the inputs over its processes (data parallelism). See my example below.",
        "q3_answer": """//A3
import (
	"fmt"

	"multiprocessing"
)

func printCube(num int) {
	fmt.Printf("Cube: %d\\n", num*num*num)
}
func printSquare(num int) {
	fmt.Printf("Square: %d\\n", num*num)
}

p1 := &multiprocessing.Process{Target: printSquare, Args: []any{10}}
p2 := &multiprocessing.Process{Target: printCube, Args: []any{10}}
p1.Start()
p2.Start()
p1.Join()
p2.Join()
fmt.Println("Done!")
""",
        "q5_answer": """import (
	"fmt"
	"os"

	"multiprocessing"
)

func square(n int) int {
	fmt.Printf("Worker process id for %d: %d\\n", n, os.Getpid())
	return n * n
}

mylist := []int{1, 2, 3, 4, 5}
p := multiprocessing.NewPool(multiprocessing.CPUCount())
result, _ := p.Map(square, mylist)
p.Close()
fmt.Println(result)
""",
        "q6_answer": """import (
	"fmt"

	"multiprocessing"
)

func printNum(n int) {
	fmt.Println(n)
}

p1 := &multiprocessing.Process{Target: printNum, Args: []any{3}}
p1.Start()
p2 := &multiprocessing.Process{Target: printNum, Args: []any{2}}
p2.Start()
p3 := &multiprocessing.Process{Target: printNum, Args: []any{1}}
p3.Start()
p4 := &multiprocessing.Process{Target: printNum, Args: []any{7}}
p4.Start()
p1.Join()
p2.Join()
p3.Join()
p4.Join()
fmt.Println("finished main")
""",
        "_extra_after_q4_answer": """import (
	"fmt"
	"time"

	"multiprocessing"
)

func workLog(name string) string {
	fmt.Printf(" Process %s waiting\\n", name)
	time.Sleep(10 * time.Millisecond)
	fmt.Printf(" Process %s Finished.\\n", name)
	return name
}

p := multiprocessing.NewPool(2)
p.Map(workLog, []string{"A", "B", "C", "D"})
p.Close()
""",
    },
    # 002: answers prose questions as string literals in code cells (the cell
    # type changed); Q5 uses a pool of 3 over [2 4 6 8 10].
    "002": {
        "_code_q1_answer": "//1\n`\nMultiprocessing is the ability to create and manage several processes at the same time, so that tasks run in parallel on several cores.\n1. Using every core\n2. Fault isolation: each process has its own memory\n3. A simple interface for parallel work\n`",
        "_code_q2_answer": "//2\n`\nProcesses have their own memory and are isolated; threads share the memory of one process. Processes cost more to start, threads are cheaper but need synchronisation.\n`",
        "_code_q4_answer": "//4\n`\nA pool manages a set of worker processes and distributes tasks over them: parallel execution, resource management, a simpler interface and load balancing.\n`",
        "q3_answer": """//3
import (
	"fmt"

	"multiprocessing"
)

// worker is executed by the process
func worker(name string) {
	fmt.Printf("Worker %s executing.\\n", name)
}

// Create a process
process := &multiprocessing.Process{Target: worker, Args: []any{"A"}}
// Start the process
process.Start()
// Wait for the process to finish
process.Join()
fmt.Println("Process execution completed.")
""",
        "q5_answer": """//5
import (
	"fmt"

	"multiprocessing"
)

// worker squares its task
func worker5(task int) int {
	return task * task
}

// Create a multiprocessing pool with 3 worker processes
pool := multiprocessing.NewPool(3)
// List of tasks to be executed in parallel
tasks := []int{2, 4, 6, 8, 10}
results, _ := pool.Map(worker5, tasks)
fmt.Println("Results:", results)
// Close the pool and wait for the workers
pool.Close()
pool.Join()
""",
        "q6_answer": """//6
import (
	"fmt"

	"multiprocessing"
)

// printNumber prints a number
func printNumber(number int) {
	fmt.Printf("Process %d: %d\\n", number, number)
}

numbers := []int{1, 2, 3, 4}
processes := []*multiprocessing.Process{}
for _, number := range numbers {
	process := &multiprocessing.Process{Target: printNumber, Args: []any{number}}
	process.Start()
	processes = append(processes, process)
}
for _, process := range processes {
	process.Join()
}
fmt.Println("All processes completed.")
""",
    },
    # 003: short prose; Q3's child prints a fixed line; Q5 answered in words
    # only (a comment); Q6 fine.
    "003": {
        "q1_answer": "Multiprocessing runs several processes at once, each on its own part of the work, so programs use all the CPU cores for heavy computations.",
        "q2_answer": "Multiprocessing runs processes with their own memory on separate cores. Multithreading runs threads inside one process that share memory; it is simpler but needs care with shared data.",
        "q4_answer": "A pool is a group of worker processes that share out tasks, so that many tasks can run in parallel without managing each process by hand.",
        "q3_answer": """import (
	"fmt"

	"multiprocessing"
)

func processFunction() {
	fmt.Println("This is a child process.")
}

// Create a process object
process := &multiprocessing.Process{Target: processFunction}
// Start the process
process.Start()
// Wait for the process to finish
process.Join()
fmt.Println("Main process is done.")
""",
        "q5_answer": """// 1. Import the multiprocessing package.
// 2. Define the function each worker runs.
// 3. Create a pool with NewPool, giving the number of workers.
// 4. Use Map to hand the tasks to the workers.
// 5. Close the pool when done.
""",
        "q6_answer": """import (
	"fmt"

	"multiprocessing"
)

func printNumber(number int) {
	fmt.Printf("Process %d: %d\\n", number, number)
}

processes := []*multiprocessing.Process{}
for i := 1; i < 5; i++ {
	process := &multiprocessing.Process{Target: printNumber, Args: []any{i}}
	processes = append(processes, process)
	process.Start()
}
for _, process := range processes {
	process.Join()
}
fmt.Println("All processes are done.")
""",
    },
    # 004: the sum-of-squares scenario: answers with timing code instead of
    # what the questions ask.
    "004": {
        "q1_answer": "A process is a running instance of a program with its own memory. Multiprocessing splits a heavy task, such as a sum of squares, into chunks that separate processes compute in parallel.",
        "q2_answer": "- Process: independent, own memory, heavier, talks through IPC.\n- Thread: part of a process, shares memory, lightweight, talks directly.",
        "q4_answer": "A pool of 4 processes can compute 4 chunks of a sum at once with StarMap, which makes the calculation faster.",
        "q3_answer": """import (
	"fmt"
	"time"

	"multiprocessing"
)

func calculateSumOfSquares(start, end int) {
	total := 0
	for i := start; i < end; i++ {
		total += i * i
	}
	fmt.Println("Total sum of squares:", total)
}

startTime := time.Now()
p := &multiprocessing.Process{Target: calculateSumOfSquares, Args: []any{1, 1000000}}
p.Start()
p.Join()
fmt.Printf("Execution Time: %.4f seconds\\n", time.Since(startTime).Seconds())
""",
        "q5_answer": """import (
	"fmt"
	"time"

	"multiprocessing"
)

func sumOfSquares(start, end int) int {
	total := 0
	for i := start; i < end; i++ {
		total += i * i
	}
	return total
}

startTime := time.Now()
chunks := [][]any{{1, 250000}, {250000, 500000}, {500000, 750000}, {750000, 1000000}}
pool := multiprocessing.NewPool(4)
results, err := pool.StarMap(sumOfSquares, chunks)
pool.Close()
if err != nil {
	panic(err)
}
total := 0
for _, r := range results.([]int) {
	total += r
}
fmt.Println("Total sum of squares:", total)
fmt.Printf("Execution Time (Multiprocessing): %.4f seconds\\n", time.Since(startTime).Seconds())
""",
        "q6_answer": """import (
	"fmt"
	"time"

	"multiprocessing"
)

func task(num int) {
	for i := 0; i < 100000; i++ {
		num++
	}
}

startTime := time.Now()
processes := []*multiprocessing.Process{}
for i := 0; i < 12; i++ {
	p := &multiprocessing.Process{Target: task, Args: []any{i}}
	processes = append(processes, p)
	p.Start()
}
for _, p := range processes {
	p.Join()
}
fmt.Printf("All processes completed in %.2f seconds.\\n", time.Since(startTime).Seconds())
""",
    },
}

SOLUTION = None  # filled from the source: the instructor's answers

BROKEN = {
    # Hands in the student version untouched.
    "100_empty": {},
    # Q3's parent never stops waiting.
    "101_hang": {"q3_answer": IMPORTS + """func describe() {
	fmt.Printf("child: pid %d, name %s\\n", os.Getpid(), multiprocessing.CurrentProcess().Name)
}

child := &multiprocessing.Process{Target: describe}
child.Start()
child.Join()
for i := 0; i < 10; {
	// waits for ever: i never changes
}
fmt.Println("parent: done")
"""},
    # Q5 panics in a goroutine: the engine process dies.
    "102_crash": {"q5_answer": IMPORTS + """func square(n int) int { return n * n }

workers := multiprocessing.NewPool(4)
squares, _ := workers.Map(square, []int{1, 2, 3, 4, 5})
workers.Close()
fmt.Println(squares)
go func() { panic("oops, in a goroutine") }()
time.Sleep(time.Second)
"""},
    # Q6 starts processes that start processes without end.
    "103_forkbomb": {"q6_answer": IMPORTS + """func bomb(n int) {
	fmt.Println(n)
	for {
		p := &multiprocessing.Process{Target: bomb, Args: []any{n + 1}}
		if err := p.Start(); err != nil {
			fmt.Println("start:", err)
			time.Sleep(10 * time.Millisecond)
		}
	}
}

for n := 1; n <= 4; n++ {
	p := &multiprocessing.Process{Target: bomb, Args: []any{n}}
	p.Start()
}
for {
	time.Sleep(time.Second)
}
"""},
    # Q5 prints 100 MB before the right answer.
    "104_bigprint": {"q5_answer": IMPORTS + """func square(n int) int { return n * n }

fmt.Println(strings.Repeat("[1 4 9 16 25] ", 100<<20/14))
workers := multiprocessing.NewPool(4)
squares, _ := workers.Map(square, []int{1, 2, 3, 4, 5})
workers.Close()
fmt.Println(squares)
"""},
    # Q3 calls os.Exit in the notebook's own process.
    "105_exit": {"q3_answer": IMPORTS + """func describe() {
	fmt.Printf("child: pid %d, name %s\\n", os.Getpid(), multiprocessing.CurrentProcess().Name)
}

child := &multiprocessing.Process{Target: describe}
child.Start()
child.Join()
fmt.Println("parent: done")
os.Exit(0)
"""},
    # Q5 is wrong and its test was edited to pass: the test is restored.
    "106_tamper": {"q5_answer": IMPORTS + """fmt.Println("[1 4 9 16]")
""", "_test_q5_test": """// Test (2 points): the squares of 1..5, computed by a pool.
import "fmt"

fmt.Println("all good")
"""},
}


def by_id(nb):
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb["cells"])}


def submissions(release_path):
    with open(release_path) as f:
        release = json.load(f)
    with open("notebooks/assignment.ipynb") as f:
        src = json.load(f)
    src_ids = by_id(src)
    full = {gid: "".join(src["cells"][i]["source"]).replace("// BEGIN SOLUTION\n", "").replace("// END SOLUTION\n", "")
            .replace("<!-- BEGIN SOLUTION -->\n", "").replace("<!-- END SOLUTION -->", "").strip() + "\n"
            for gid, i in src_ids.items() if gid and gid.endswith("_answer")}
    for name, changes in list(SUBMISSIONS.items()) + list(BROKEN.items()):
        nb = copy.deepcopy(release)
        if name in BROKEN and name != "100_empty":
            changes = {**full, **changes}
        ids = by_id(nb)
        extra = {}
        for key, text in changes.items():
            if key.startswith("_extra_after_"):
                extra[key[len("_extra_after_"):]] = text
                continue
            if key.startswith("_code_"):
                c = nb["cells"][ids[key[len("_code_"):]]]
                c["cell_type"] = "code"
                c["outputs"] = []
                c["execution_count"] = None
                c["source"] = text
                continue
            if key.startswith("_test_"):
                nb["cells"][ids[key[len("_test_"):]]]["source"] = text
                continue
            nb["cells"][ids[key]]["source"] = text
        for after, text in extra.items():
            i = by_id(nb)[after]
            nb["cells"].insert(i + 1, {"cell_type": "code", "id": "student-extra", "metadata": {},
                                       "source": text, "outputs": [], "execution_count": None})
        with open("notebooks/submissions/%s.ipynb" % name, "w") as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    if sys.argv[1] == "source":
        source()
    else:
        submissions(sys.argv[2])
