package grader

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goproc/goproc/kernel/notebook"
	"github.com/goproc/goproc/kernel/sandbox"
)

// sandboxStatus says which protections submissions will run under, from a
// box made and destroyed for the purpose; with RequireSandbox it fails
// unless all of them are in force.
func sandboxStatus(opts Options) (string, error) {
	if opts.NoSandbox {
		if opts.RequireSandbox {
			return "", fmt.Errorf("--require-sandbox and --sandbox=false contradict each other")
		}
		return "off (--sandbox=false): submissions run with Landlock and rlimits only", nil
	}
	dir, err := os.MkdirTemp("", "goproc-probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	box, err := sandbox.New(sandbox.Config{WorkDir: dir, Binary: opts.Binary, MemoryBytes: 64 << 20, MaxTasks: 16})
	if err != nil {
		if opts.RequireSandbox {
			return "", fmt.Errorf("--require-sandbox: no sandbox can be made here: %w", err)
		}
		return "not available (" + err.Error() + "): submissions run with Landlock and rlimits only", nil
	}
	p := box.Protections()
	box.Destroy()
	if opts.RequireSandbox && !p.Full() {
		return "", fmt.Errorf("--require-sandbox: the sandbox lacks %s (run goproc grade as root)", strings.Join(p.Why, "; "))
	}
	return p.String(), nil
}

// engineEnv is the whole environment of a submission's engine: nothing of
// the grader's own (which may hold secrets) reaches it.
func engineEnv(sandboxed, multiprocessing bool) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=C.UTF-8",
		// A submission runs once: warm workers started near its end are
		// wasted CPU that other submissions need (measured: 2.4 -> 3.0/s).
		"GOPROC_MP_SPARES=0",
		// A submission's engine and children live for seconds: collecting
		// their small heaps four times less often saves ~9% of a grading
		// run's CPU (grade_bench). The memory cap still holds: the engine
		// sets the runtime's soft memory limit to half of it.
		"GOGC=400",
		// --jobs submissions share the cores, a core each by default: one
		// P per process. More Ps only spin looking for work another
		// submission could do (~8% of a grading run's CPU, grade_bench).
		"GOMAXPROCS=1",
		// A Process a cell leaves running is stopped when the cell ends:
		// what it would print later would count as a later answer's.
		"GOPROC_MP_CELL_SCOPED=1",
	}
	if sandboxed {
		env = append(env, "HOME="+sandbox.WorkPath, "TMPDIR=/tmp")
	} else if home, err := os.UserHomeDir(); err == nil {
		env = append(env, "HOME="+home)
	}
	if multiprocessing {
		// The engine, started ahead, starts three workers while it waits:
		// the first Process and a first pool of two find them ready
		// instead of waiting ~10 ms each. The grader counts a worker
		// started ahead as the process of the cell that first gives it
		// work.
		env = append(env, "GOPROC_MP_PREWARM=3")
	}
	for _, kv := range os.Environ() {
		// goproc's own tuning knobs pass through; nothing else does.
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GOPROC_TIMER") {
			env = append(env, kv)
		}
	}
	return env
}

// tasksFor is the box's cap on processes and threads together for a cap
// of n child processes: a Go process runs about eight threads.
func tasksFor(n int) int {
	if n <= 0 {
		return 0
	}
	return 16 * (n + 2)
}

// workName names a submission's working files after a hash of its
// student's name, never after the name itself.
func workName(student string) string {
	h := sha256.Sum256([]byte(student))
	return "s-" + hex.EncodeToString(h[:8])
}

// removeWithin removes path, which must lie strictly inside root: the
// grader never removes anything outside its own work directory.
func removeWithin(root, path string) error {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("refusing to remove %s: not inside %s", path, root)
	}
	return os.RemoveAll(path)
}

// hideHiddenTests replaces the hidden tests of every test cell by a line
// that says they are hidden, for the feedback a student sees.
func hideHiddenTests(nb *notebook.Notebook) {
	for _, c := range nb.Cells {
		m, ok := MetaOf(c)
		if !ok || !m.IsTest(c.CellType) {
			continue
		}
		src, err := replaceRegions(string(c.Source), BeginHiddenTests, EndHiddenTests, func(indent string) []string {
			return []string{indent + "// (hidden tests: not shown)"}
		})
		if err == nil {
			c.Source = notebook.MultiString(src)
		}
	}
}
