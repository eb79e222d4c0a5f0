// Package grade is what autograded test cells of a goproc assignment import
// (`import "grade"`). It gives a test cell the output an earlier cell printed
// when the grader ran it, looked up by the cell's nbgrader grade_id, and
// checks on that output that return errors: lines printed in any order, one
// line before another, a value printed as Go prints it, a line printed by a
// process other than the kernel's.
//
// The grader (goproc grade) runs a notebook cell by cell. After each cell it
// rewrites a JSON file (see Record) with what the cells printed so far, and
// the engine process — hence this package — finds that file through the
// environment variable named by EnvOutputs. Outside the grader the variable
// is unset: Output returns an error wrapping ErrNotGrading and Check reports
// the test as "not checked here" instead of failing the cell, so students can
// run test cells in Jupyter without a false failure. The grader scores a test
// cell that reports "not checked here" as failed.
//
// A typical test cell:
//
//	import "grade"
//
//	grade.Test("q5_answer", func(out string) error {
//		return grade.PrintsValue(out, []int{1, 4, 9, 16, 25})
//	})
package grade

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// EnvOutputs names the environment variable that holds the path of the JSON
// file (a Record) the grader keeps up to date while it runs a notebook.
const EnvOutputs = "GOPROC_GRADE_OUTPUTS"

// NotCheckedMarker starts the line Check prints when a test cannot run
// outside the grader. The grader scores a test cell that printed it as 0.
const NotCheckedMarker = "grade: not checked here"

// ErrNotGrading is wrapped by Output and Source when the notebook is not
// being run by the grader, so earlier cells' outputs are unknown.
var ErrNotGrading = errors.New("the outputs of earlier cells are only recorded when `goproc grade` runs the notebook (to check your answers, run `goproc grade --source ASSIGNMENT.ipynb YOURS.ipynb` with the notebook you were given as the source)")

// Record is the file the grader writes: every cell that has run so far, by
// nbgrader grade_id. Cells without a grade_id are not recorded.
type Record struct {
	// KernelPID is the engine process's pid when the record was written.
	KernelPID int `json:"kernel_pid,omitempty"`
	// Cells maps a grade_id to what that cell did.
	Cells map[string]Cell `json:"cells"`
}

// Cell is what one cell did when the grader ran it.
type Cell struct {
	// Source is the cell's source as it was run.
	Source string `json:"source"`
	// Text is everything the cell printed on stdout and stderr, in order.
	Text string `json:"text"`
	// Result is the text/plain value of the cell's execute_result, if any.
	Result string `json:"result,omitempty"`
	// Error is "name: value" of the error the cell ended with, if any
	// (a panic, a compile error, a timeout, a crashed engine).
	Error string `json:"error,omitempty"`
	// Truncated reports that the cell printed more than the grader's
	// output limit; Text holds only the beginning.
	Truncated bool `json:"truncated,omitempty"`
	// Processes is what the grader saw run in the submission's sandbox
	// while the cell ran; nil when it could not watch.
	Processes *Processes `json:"processes,omitempty"`
}

// Processes describes the processes that started while a cell ran, by
// the pids they saw themselves under.
type Processes struct {
	// Started are the processes the cell started, directly or not.
	Started []int `json:"started,omitempty"`
	// Active are processes started before the cell that read or wrote
	// while it ran: workers of an earlier pool given its tasks.
	Active []int `json:"active,omitempty"`
	// Fresh are the processes of Active that did nothing in any earlier
	// cell: workers started ahead and first given work by this cell.
	Fresh []int `json:"fresh,omitempty"`
	// Kernel are the pids of the kernel (engine) processes.
	Kernel []int `json:"kernel,omitempty"`
	// Unidentified counts processes the cell started whose pids the
	// grader could not read: they ended before it looked (a loaded
	// machine). They count as processes, but no line can be theirs.
	Unidentified int `json:"unidentified,omitempty"`
}

// Ran reports whether pid is a process other than the kernel that is the
// cell's own: started while it ran, or first put to work by it.
func (p *Processes) Ran(pid int) bool {
	if pid <= 1 {
		return false
	}
	for _, k := range p.Kernel {
		if k == pid {
			return false
		}
	}
	return slices.Contains(p.Started, pid) || slices.Contains(p.Fresh, pid)
}

// recordPath is EnvOutputs as the process started with it: code that runs
// later (a notebook's) cannot point the checks at a record of its own.
var recordPath = os.Getenv(EnvOutputs)

// Load reads the record named by EnvOutputs. The error wraps ErrNotGrading
// when the variable is unset.
func Load() (*Record, error) {
	path := recordPath
	if path == "" {
		path = os.Getenv(EnvOutputs)
	}
	if path == "" {
		return nil, ErrNotGrading
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("grade: reading the grader's record of cell outputs: %w", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("grade: the grader's record %s is not valid JSON: %w", path, err)
	}
	return &r, nil
}

// Lookup returns what the cell with the given grade_id did, whether or not it
// succeeded.
func Lookup(gradeID string) (Cell, error) {
	r, err := Load()
	if err != nil {
		return Cell{}, err
	}
	c, ok := r.Cells[gradeID]
	if !ok {
		return Cell{}, fmt.Errorf("cell %q has not run (was it deleted, or did the grader stop before it?)", gradeID)
	}
	return c, nil
}

// Output returns what the cell with the given grade_id printed. It fails when
// that cell ended with an error or printed more than the grader's limit: an
// answer that crashes, hangs or floods the output is not a correct answer,
// even if the right line appeared first.
func Output(gradeID string) (string, error) {
	c, err := Lookup(gradeID)
	if err != nil {
		return "", err
	}
	if c.Truncated {
		return c.Text, fmt.Errorf("cell %q printed more than the grader's output limit", gradeID)
	}
	if c.Error != "" {
		return c.Text, fmt.Errorf("cell %q ended with an error (%s); fix it so that it runs to the end", gradeID, firstLine(c.Error))
	}
	return c.Text, nil
}

// Source returns the source of the cell with the given grade_id as it ran.
func Source(gradeID string) (string, error) {
	c, err := Lookup(gradeID)
	if err != nil {
		return "", err
	}
	return c.Source, nil
}

// Lines splits text into lines, drops trailing spaces and empty lines.
func Lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// ContainsLines checks that every wanted line was printed, in any order, as a
// whole line (leading and trailing spaces ignored). Each wanted line must be
// matched by a different printed line, so a line wanted twice must be printed
// twice.
func ContainsLines(out string, want ...string) error {
	have := map[string]int{}
	for _, l := range Lines(out) {
		have[strings.TrimSpace(l)]++
	}
	var missing []string
	for _, w := range want {
		w = strings.TrimSpace(w)
		if have[w] > 0 {
			have[w]--
			continue
		}
		missing = append(missing, strconv.Quote(w))
	}
	if len(missing) > 0 {
		return fmt.Errorf("expected these lines in the output (in any order), missing: %s", strings.Join(missing, ", "))
	}
	return nil
}

// Before checks that a line containing first was printed before a line
// containing second.
func Before(out, first, second string) error {
	lines := Lines(out)
	i := indexContaining(lines, first, 0)
	if i < 0 {
		return fmt.Errorf("expected a line containing %q, found none", first)
	}
	if indexContaining(lines, second, i+1) >= 0 {
		return nil
	}
	if indexContaining(lines, second, 0) >= 0 {
		return fmt.Errorf("expected the line containing %q before the line containing %q, but it came after", first, second)
	}
	return fmt.Errorf("expected a line containing %q after the line containing %q, found none", second, first)
}

func indexContaining(lines []string, s string, from int) int {
	for i := from; i < len(lines); i++ {
		if strings.Contains(lines[i], s) {
			return i
		}
	}
	return -1
}

// PrintsValue checks that some line contains v formatted as fmt.Print
// formats it: []int{1, 4, 9} is "[1 4 9]".
func PrintsValue(out string, v any) error {
	want := fmt.Sprint(v)
	for _, l := range Lines(out) {
		if strings.Contains(l, want) {
			return nil
		}
	}
	return fmt.Errorf("expected %s to be printed, found it on no line", want)
}

// pidPattern finds a pid announced in a line: "pid 123", "PID: 123",
// "process id = 123", "Process ID: 123".
var pidPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(?:pid|process[ _-]?id|id)\b\s*(?:[:=]|is)?\s*(\d+)`)
})

// PID returns the pid a line announces ("pid 42", "Process ID: 42"), or 0.
func PID(line string) int {
	m := pidPattern().FindStringSubmatch(line)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

// KernelPID is the pid of the process running the notebook's cells.
func KernelPID() int { return os.Getpid() }

// checking is the cell whose output the running Test checks.
var (
	testingMu sync.Mutex
	checking  *Cell
)

func setTesting(c *Cell) {
	testingMu.Lock()
	checking = c
	testingMu.Unlock()
}

// ChildLine returns the first line that announces the pid of a child
// process: when the grader watched the cell's processes, one that really
// ran while the cell ran; otherwise any pid other than the kernel's.
func ChildLine(out string) (string, error) {
	testingMu.Lock()
	c := checking
	testingMu.Unlock()
	if c != nil && c.Processes != nil {
		sawPid := 0
		for _, l := range Lines(out) {
			pid := PID(l)
			if pid > 0 && c.Processes.Ran(pid) {
				return l, nil
			}
			if pid > 0 && sawPid == 0 {
				sawPid = pid
			}
		}
		if sawPid != 0 {
			return "", fmt.Errorf("pid %d is not a process the answer started: print the pid from inside the child process (os.Getpid() in the child's function)", sawPid)
		}
		return "", errors.New(`expected a line showing the child's process id (e.g. "pid 1234"), found none`)
	}
	kernel := KernelPID()
	if r, err := Load(); err == nil && r.KernelPID != 0 {
		kernel = r.KernelPID
	}
	sawKernel := false
	for _, l := range Lines(out) {
		switch pid := PID(l); {
		case pid > 1 && pid != kernel:
			return l, nil
		case pid == kernel:
			sawKernel = true
		}
	}
	if sawKernel {
		return "", fmt.Errorf("the only pid printed is the kernel's own (%d): print the pid from inside the child process", kernel)
	}
	return "", errors.New(`expected a line showing the child's process id (e.g. "pid 1234"), found none`)
}

// StartsProcesses checks that the cell with the given grade_id used at
// least n processes besides the kernel, as the grader saw them: processes
// it started, and processes started before (an earlier pool's workers)
// that did I/O while it ran. An answer that prints what processes would
// have printed, without any, fails. Where the grader could not watch processes (no sandbox, or
// `goproc run`) the check passes.
func StartsProcesses(gradeID string, n int) error {
	c, err := Lookup(gradeID)
	if err != nil {
		return err
	}
	if c.Processes == nil {
		return nil
	}
	used := 0
	for _, p := range append(c.Processes.Started, c.Processes.Active...) {
		if p > 1 && !slices.Contains(c.Processes.Kernel, p) {
			used++
		}
	}
	used += c.Processes.Unidentified
	if used < n {
		return fmt.Errorf("expected the answer to use at least %d process(es) besides the kernel; it used %d", n, used)
	}
	return nil
}

var numberPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`-?\d+`) })

// DistinctNumbers checks that at least n lines each start with a different
// number: the first number on each line is taken, lines without a number are
// ignored.
func DistinctNumbers(out string, n int) error {
	seen := map[string]bool{}
	var order []string
	for _, l := range Lines(out) {
		m := numberPattern().FindString(l)
		if m == "" || seen[m] {
			continue
		}
		seen[m] = true
		order = append(order, m)
	}
	if len(order) < n {
		return fmt.Errorf("expected %d lines with different numbers, found %d (%s)", n, len(order), strings.Join(order, ", "))
	}
	return nil
}

// Failure is the panic value of a failed check.
type Failure struct{ Err error }

func (f *Failure) Error() string { return "test failed: " + f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// Check fails the cell (by panicking with a *Failure) when err is not nil.
// When err wraps ErrNotGrading it prints a line starting with
// NotCheckedMarker instead, so the cell does not fail outside the grader.
func Check(err error) {
	if err == nil {
		return
	}
	if errors.Is(err, ErrNotGrading) {
		notChecked("")
		return
	}
	panic(&Failure{Err: err})
}

// Test runs check on what the cell with the given grade_id printed and fails
// the test cell (by panicking with a *Failure) when the output is missing,
// the answer cell failed, or check returns an error. Outside the grader it
// prints a line starting with NotCheckedMarker and returns. On success it
// prints "ok: " and the grade_id.
func Test(gradeID string, check func(out string) error) {
	out, err := Output(gradeID)
	if errors.Is(err, ErrNotGrading) {
		notChecked(gradeID)
		return
	}
	if err == nil {
		if c, lerr := Lookup(gradeID); lerr == nil {
			setTesting(&c)
			defer setTesting(nil)
		}
		err = check(out)
	}
	Check(err)
	if err == nil {
		fmt.Println("ok:", gradeID)
	}
}

// TestSource is Test for the source of the cell with the given grade_id.
func TestSource(gradeID string, check func(src string) error) {
	src, err := Source(gradeID)
	if errors.Is(err, ErrNotGrading) {
		notChecked(gradeID + " (source)")
		return
	}
	if err == nil {
		err = check(src)
	}
	Check(err)
	if err == nil {
		fmt.Println("ok:", gradeID, "(source)")
	}
}

// Uses checks that the Go code src uses at least one of the given names
// (for example "multiprocessing.Process" or "NewPool"): a name, or a
// qualified name, as code; names in comments and strings do not count.
func Uses(src string, anyOf ...string) error {
	code := codeTokens(src)
	for _, s := range anyOf {
		if usesName(code, s) {
			return nil
		}
	}
	q := make([]string, len(anyOf))
	for i, s := range anyOf {
		q[i] = strconv.Quote(s)
	}
	return fmt.Errorf("expected the answer to use %s", strings.Join(q, " or "))
}

func notChecked(what string) {
	if what != "" {
		what = ": " + what
	}
	fmt.Println(NotCheckedMarker + " (outside `goproc grade`)" + what)
}

// Fail fails the cell with a formatted message.
func Fail(format string, args ...any) {
	panic(&Failure{Err: fmt.Errorf(format, args...)})
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// codeTokens returns the identifiers and periods of Go source, in order,
// without comments and literals; other tokens are kept as "".
func codeTokens(src string) []string {
	fset := token.NewFileSet()
	f := fset.AddFile("cell.go", -1, len(src))
	var sc scanner.Scanner
	sc.Init(f, []byte(src), nil, 0)
	var out []string
	for {
		_, t, lit := sc.Scan()
		switch t {
		case token.EOF:
			return out
		case token.IDENT:
			out = append(out, lit)
		case token.PERIOD:
			out = append(out, ".")
		default:
			out = append(out, "")
		}
	}
}

// usesName reports whether name ("NewPool", "multiprocessing.Process")
// appears in the tokens as code.
func usesName(code []string, name string) bool {
	parts := strings.Split(name, ".")
	var want []string
	for i, p := range parts {
		if i > 0 {
			want = append(want, ".")
		}
		want = append(want, p)
	}
	for i := 0; i+len(want) <= len(code); i++ {
		match := true
		for j, w := range want {
			if code[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
