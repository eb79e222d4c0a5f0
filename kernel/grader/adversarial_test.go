//go:build linux

package grader

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/notebook"
	"github.com/goproc/goproc/kernel/sandbox"
)

// The adversarial suite grades a hostile class with the real binary: one
// submission per attack, each built from an honest full-marks submission
// with one answer replaced or one cell added, graded in the same run as
// honest submissions. For each attack it checks the points it must not
// earn; for the run, that honest scores are unchanged, that nothing of the
// source, another student or the grader's environment reaches any
// feedback, that no process is left running, that nothing was written
// outside the output directory, and that the grader finished and wrote the
// gradebook.

// Markers that must never appear in a student's feedback.
const (
	secretHidden = "SECRET-HIDDEN-TEST-7f3a"  // in a hidden test of the source
	secretSource = "SECRET-SOLUTION-91bc"     // in a model answer of the source
	secretPeer   = "SECRET-PEER-ANSWER-55d0"  // in an honest student's answer
	secretEnv    = "SECRET-GRADER-ENV-c0de"   // in the grader's environment
	secretCourse = "SECRET-COURSE-FILE-2e2e"  // in a file of the course directory
	outsideMark  = "goproc-adversarial-wrote" // a file name hostile code tries to create

	fakeTestMarker = "//FAKE-TEST\n" // makes an added cell claim to be a locked test
)

type attack struct {
	name string
	// replace maps a grade_id to its new source; before inserts new code
	// cells before the cell with that grade_id.
	replace map[string]string
	before  map[string][]string
	// zero lists tests that must score 0.
	zero []string
}

// attacks are the hostile submissions; course, sourcePath, listen and
// unixSock are what they try to reach.
func attacks(course, sourcePath, listen, unixSock string) []attack {
	pids := `import (
	"fmt"
	"syscall"
)
`
	return []attack{
		{name: "shadow_grade", zero: []string{"q5_test"}, replace: map[string]string{"q5_answer": `import "fmt"

type fakeGrade struct{}

func (fakeGrade) Test(id string, f func(string) error)       { fmt.Println("ok:", id) }
func (fakeGrade) TestSource(id string, f func(string) error) { fmt.Println("ok:", id, "(source)") }

var grade fakeGrade
fmt.Println("no pool here")
`}},
		{name: "setenv_record", zero: []string{"q5_test"}, replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
)

fake := ` + "`" + `{"cells":{"q5_answer":{"source":"NewPool","text":"[1 4 9 16 25]\n"}}}` + "`" + `
os.WriteFile("fake.json", []byte(fake), 0o644)
wd, _ := os.Getwd()
os.Setenv("GOPROC_GRADE_OUTPUTS", wd+"/fake.json")
fmt.Println("nothing computed")
`}},
		{name: "forge_replies", zero: []string{"q5_test"}, replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
	"time"
)

go func() {
	for i := 0; i < 200; i++ {
		for fd := 3; fd < 12; fd++ {
			f := os.NewFile(uintptr(fd), "x")
			fmt.Fprintf(f, "{\"id\":%d,\"op\":\"reply\",\"execute\":{\"status\":\"ok\"}}\n", i)
		}
		time.Sleep(5 * time.Millisecond)
	}
}()
time.Sleep(300 * time.Millisecond)
fmt.Println("no pool here")
`}},
		{name: "invented_pid", zero: []string{"q3_test_child", "q3_test_order"}, replace: map[string]string{"q3_answer": `import "fmt"

// multiprocessing.Process would go here
fmt.Println("Process ID: 4242, Process Name: MyProcess")
fmt.Println("multiprocessing.Process done")
fmt.Println("Main process is complete.")
`}},
		{name: "unjoined_child", zero: []string{"q3_test_child"},
			before: map[string][]string{"q3_answer": {`import (
	"fmt"
	"os"
	"time"

	"multiprocessing"
)

func late() {
	time.Sleep(1500 * time.Millisecond)
	fmt.Printf("Process ID: %d, Process Name: late\n", os.Getpid())
}

early := &multiprocessing.Process{Target: late}
early.Start()
`}},
			replace: map[string]string{"q3_answer": `import (
	"fmt"
	"time"
)

var _ = "multiprocessing.Process"
time.Sleep(3 * time.Second)
fmt.Println("Main process is complete.")
`}},
		{name: "read_secrets", replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

show := func(what string, b []byte) {
	if len(b) > 0 {
		fmt.Printf("%s: %q\n", what, b)
	}
}
for _, p := range []string{` + strconv.Quote(sourcePath) + `, ` + strconv.Quote(filepath.Join(course, "secret.txt")) + `, "/proc/1/cmdline", "/proc/1/environ"} {
	b, _ := os.ReadFile(p)
	show(p, b)
}
for pid := 1; pid < 64; pid++ {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	show("cmdline", b)
	b, _ = os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	show("environ", b)
}
fmt.Println(strings.Join(os.Environ(), "\n"))
for _, pat := range []string{"/*", "/*/*", "/*/*/*", "../*", "../../*", "../../../*/*", ` + strconv.Quote(course+"/*/*") + `} {
	m, _ := filepath.Glob(pat)
	for _, f := range m {
		if strings.HasSuffix(f, ".ipynb") || strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".txt") {
			b, _ := os.ReadFile(f)
			show(f, b)
		}
	}
}
`}},
		{name: "kill_grader", replace: map[string]string{"q5_answer": pids + `
syscall.Kill(os.Getppid(), syscall.SIGKILL)
syscall.Kill(-1, syscall.SIGTERM)
for pid := 1; pid < 100000; pid += 1 {
	if pid != os.Getpid() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
fmt.Println("killed what I could")
`}},
		{name: "stop_everything", replace: map[string]string{"q5_answer": pids + `
for pid := 1; pid < 100000; pid++ {
	if pid != os.Getpid() {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
}
syscall.Kill(-1, syscall.SIGSTOP)
fmt.Println("stopped what I could")
`}},
		{name: "outlive", replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os/exec"
	"syscall"
)

for i := 0; i < 3; i++ {
	c := exec.Command("/bin/sh", "-c", "while :; do :; done")
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	fmt.Println(c.Start())
}
`}},
		{name: "process_cap", replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os/exec"

	"multiprocessing"
)

multiprocessing.SetMaxProcesses(100000)
started := 0
for i := 0; i < 3000; i++ {
	c := exec.Command("/bin/sleep", "1000")
	if c.Start() == nil {
		started++
	}
}
fmt.Println("started", started)
`}},
		{name: "memory", replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os/exec"
)

for i := 0; i < 4; i++ {
	c := exec.Command("/bin/sh", "-c", "x=$(head -c 400000000 /dev/zero | tr '\\0' a); sleep 100")
	fmt.Println(c.Start())
}
big := make([][]byte, 0)
for i := 0; i < 64; i++ {
	b := make([]byte, 16<<20)
	for j := range b {
		b[j] = 1
	}
	big = append(big, b)
}
fmt.Println(len(big))
`}},
		{name: "write_outside", replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
)

for _, d := range []string{"/dev", "/dev/shm", "/tmp/..", "/", "/etc", ` + strconv.Quote(course) + `, "..", "../..", "/proc/self"} {
	err := os.WriteFile(d+"/` + outsideMark + `", []byte("x"), 0o644)
	fmt.Println(d, err)
}
for _, dev := range []string{"/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem", "/dev/kmsg"} {
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	fmt.Println(dev, err)
	if err == nil {
		f.Close()
	}
}
`}},
		{name: "fill_disk", replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
	"strings"
)

chunk := []byte(strings.Repeat("x", 1<<20))
for _, d := range []string{".", "/tmp"} {
	f, err := os.Create(d + "/big")
	n := 0
	for err == nil && n < 4096 {
		_, err = f.Write(chunk)
		n++
	}
	fmt.Println(d, n, "MiB:", err)
}
`}},
		{name: "no_work", zero: []string{"q5_test", "q6_test"}, replace: map[string]string{"q5_answer": `import (
	"fmt"

	"multiprocessing"
)

var _ = multiprocessing.NewPool
fmt.Println([]int{1, 4, 9, 16, 25})
`, "q6_answer": `import (
	"fmt"

	"multiprocessing"
)

var _ multiprocessing.Process
fmt.Println("1\n2\n3\n4")
`}},
		{name: "late_printers", zero: []string{"q6_test"}, replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
	"time"

	"multiprocessing"
)

func square(n int) int { return n * n }

func later(n int) {
	time.Sleep(1500 * time.Millisecond)
	fmt.Printf("%d from pid %d\n", n, os.Getpid())
}

for n := 1; n <= 4; n++ {
	p := &multiprocessing.Process{Target: later, Args: []any{n}}
	p.Start()
}
workers := multiprocessing.NewPool(4)
squares, _ := workers.Map(square, []int{1, 2, 3, 4, 5})
workers.Close()
fmt.Println(squares)
`, "q6_answer": `import (
	"time"

	"multiprocessing"
)

var _ multiprocessing.Process
time.Sleep(3 * time.Second)
`}},
		{name: "restart_for_free", zero: []string{"q5_test", "q6_test"},
			before: map[string][]string{"q5_answer": {"import \"os\"\nos.Exit(0)"}, "q6_answer": {"import \"os\"\nos.Exit(0)"}},
			replace: map[string]string{"q5_answer": `import (
	"fmt"
	"time"

	"multiprocessing"
)

var _ = multiprocessing.NewPool
time.Sleep(200 * time.Millisecond)
fmt.Println([]int{1, 4, 9, 16, 25})
`, "q6_answer": `import (
	"fmt"
	"time"

	"multiprocessing"
)

var _ multiprocessing.Process
time.Sleep(200 * time.Millisecond)
fmt.Println("1\n2\n3\n4")
`}},
		{name: "kill_workers", zero: []string{"q5_test"}, replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"multiprocessing"
)

var _ = multiprocessing.NewPool
me := strconv.Itoa(os.Getpid())
ents, _ := os.ReadDir("/proc")
for _, e := range ents {
	b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
	if err != nil {
		continue
	}
	f := strings.Fields(string(b))
	if len(f) > 3 && f[3] == me {
		pid, _ := strconv.Atoi(e.Name())
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
time.Sleep(300 * time.Millisecond)
fmt.Println([]int{1, 4, 9, 16, 25})
`}},
		{name: "thread_pids", zero: []string{"q3_test_child"}, replace: map[string]string{"q3_answer": `import (
	"fmt"
	"runtime"
	"strings"
	"syscall"

	"multiprocessing"
)

var _ multiprocessing.Process
var b strings.Builder
for i := 0; i < 300; i++ {
	ch := make(chan int)
	go func() { runtime.LockOSThread(); ch <- syscall.Gettid() }()
	fmt.Fprintf(&b, "pid %d\n", <-ch)
}
fmt.Print(b.String())
fmt.Println("Main process is complete.")
`}},
		{name: "thread_flood", replace: map[string]string{"q5_answer": `import (
	"runtime"
	"time"
)

t0 := time.Now()
for time.Since(t0) < 6*time.Second {
	done := make(chan bool)
	for k := 0; k < 8; k++ {
		go func() { runtime.LockOSThread(); done <- true }()
	}
	for k := 0; k < 8; k++ {
		<-done
	}
}
`}},
		{name: "big_panic", zero: []string{"q5_test"}, replace: map[string]string{"q5_answer": `import "strings"

panic(strings.Repeat("A", 30<<20))
`}},
		{name: "forge_big_reply", zero: []string{"q5_test"}, replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
	"strings"
)

tb := strings.Repeat("B", 1<<20)
f := os.NewFile(4, "events")
for id := 1; id <= 8; id++ {
	fmt.Fprintf(f, "{\"id\":%d,\"op\":\"reply\",\"execute\":{\"status\":\"error\",\"error\":{\"ename\":\"X\",\"evalue\":\"y\",\"traceback\":[", id)
	for i := 0; i < 40; i++ {
		if i > 0 {
			f.WriteString(",")
		}
		fmt.Fprintf(f, "%q", tb)
	}
	f.WriteString("]}}}\n")
}
for i := 0; i < 200000; i++ {
	fmt.Fprintf(f, "{\"id\":%d,\"op\":\"input_request\",\"prompt\":\"x\"}\n", 1000+i)
}
`}},
		{name: "network", replace: map[string]string{"q5_answer": `import (
	"fmt"
	"net"
	"time"
)

for _, a := range [][2]string{{"tcp", ` + strconv.Quote(listen) + `}, {"unix", ` + strconv.Quote(unixSock) + `}, {"tcp", "1.1.1.1:80"}} {
	c, err := net.DialTimeout(a[0], a[1], 300*time.Millisecond)
	fmt.Println(a, err)
	if err == nil {
		c.Write([]byte("hello from a student"))
		c.Close()
	}
}
`}},
		{name: "frame_flood", zero: []string{"q5_test"}, replace: map[string]string{"q5_answer": `import (
	"fmt"
	"os"
	"strings"
)

os.Stdout.WriteString("\x00\x1bgoproc\x1fDffffffff")
chunk := strings.Repeat("x", 1<<20)
for i := 0; i < 64; i++ {
	os.Stdout.WriteString(chunk)
}
fmt.Println("[1 4 9 16 25]")
`}},
		{name: "budget",
			before: map[string][]string{"q5_answer": {"for {}", "for {}", "for {}", "for {}", "for {}"}}, zero: []string{"q5_test", "q6_test"}},
	}
}

func TestGradeHostileClass(t *testing.T) { gradeHostile(t, false) }

// TestGradeHostileClassLandlockOnly grades the attacks that Landlock alone
// must stop, as goproc grade does where it cannot build a sandbox.
func TestGradeHostileClassLandlockOnly(t *testing.T) { gradeHostile(t, true) }

// landlockStops are the attacks Landlock alone stops (it has no pid
// namespace, no cgroup and no process watcher).
var landlockStops = map[string]bool{"shadow_grade": true, "fill_disk": false, "setenv_record": true, "read_secrets": true,
	"network": true, "write_outside": true, "kill_grader": true, "frame_flood": true, "budget": true}

func gradeHostile(t *testing.T, landlockOnly bool) {
	if goprocBinary == "" {
		t.Skip("end-to-end: needs the goproc binary (not with -short or GOPROC_SKIP_E2E)")
	}
	if os.Getuid() != 0 {
		t.Skip("the full sandbox needs root")
	}
	if !landlockOnly {
		box, err := sandbox.New(sandbox.Config{WorkDir: t.TempDir(), MemoryBytes: 64 << 20, MaxTasks: 16})
		if err != nil {
			t.Skipf("no sandbox here: %v", err)
		}
		p := box.Protections()
		box.Destroy()
		if !p.Full() {
			t.Skipf("the sandbox lacks protections here: %s", p)
		}
	}
	dir := t.TempDir()
	course := filepath.Join(dir, "course")
	subDir := filepath.Join(course, "submitted")
	outDir := filepath.Join(course, "graded")
	os.MkdirAll(subDir, 0o755)
	os.WriteFile(filepath.Join(course, "secret.txt"), []byte(secretCourse), 0o644)

	// The source, with markers in a hidden test and in a model answer.
	src, err := notebook.Read("../../notebooks/assignment.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range src.Cells {
		m, _ := MetaOf(c)
		switch m.GradeID {
		case "q5_test":
			c.Source = notebook.MultiString(strings.Replace(string(c.Source), BeginHiddenTests, BeginHiddenTests+"\n// "+secretHidden, 1))
		case "q5_answer":
			c.Source = notebook.MultiString(strings.Replace(string(c.Source), "// BEGIN SOLUTION", "// BEGIN SOLUTION\n// "+secretSource, 1))
		}
	}
	sourcePath := filepath.Join(course, "assignment.ipynb")
	writeNB(t, sourcePath, src)

	honest, err := notebook.Read("../../notebooks/submissions/000.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	marked, _ := clone(honest)
	for _, c := range marked.Cells {
		if m, _ := MetaOf(c); m.GradeID == "q5_answer" {
			c.Source = notebook.MultiString("// " + secretPeer + "\n" + string(c.Source))
		}
	}
	writeNB(t, filepath.Join(subDir, "honest1.ipynb"), marked)
	writeNB(t, filepath.Join(subDir, "honest2.ipynb"), marked)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	unixSock := filepath.Join(dir, "s.sock")
	uln, err := net.Listen("unix", unixSock)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	var tcpConns, unixConns atomic.Int32
	for l, n := range map[net.Listener]*atomic.Int32{ln: &tcpConns, uln: &unixConns} {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				c.Close()
			}
		}()
	}

	as := attacks(course, sourcePath, ln.Addr().String(), unixSock)
	// A cell the submission marks as a locked test of its own: it must
	// run in the sandbox like the rest of the submission's code.
	as = append(as, attack{name: "fake_test_cell", before: map[string][]string{"q6_answer": {fakeTestMarker + `import (
	"fmt"
	"os"
)

b, err := os.ReadFile(` + strconv.Quote(sourcePath) + `)
fmt.Println(len(b), err, string(b))
os.WriteFile(` + strconv.Quote(filepath.Join(course, outsideMark)) + `, []byte("x"), 0o644)
`}}})
	if landlockOnly {
		var keep []attack
		for _, a := range as {
			if landlockStops[a.name] {
				keep = append(keep, a)
			}
		}
		as = keep
	}
	for _, a := range as {
		nb, _ := clone(honest)
		var cells []*notebook.Cell
		for _, c := range nb.Cells {
			m, _ := MetaOf(c)
			for _, extra := range a.before[m.GradeID] {
				nc := &notebook.Cell{CellType: "code", Metadata: map[string]any{}, Source: notebook.MultiString(extra)}
				if rest, ok := strings.CutPrefix(extra, fakeTestMarker); ok {
					nc.Source = notebook.MultiString(rest)
					SetMeta(nc, Meta{GradeID: "extra_test", Grade: true, Locked: true, Points: 5})
				}
				cells = append(cells, nc)
			}
			if s, ok := a.replace[m.GradeID]; ok {
				c.Source = notebook.MultiString(s)
			}
			cells = append(cells, c)
		}
		nb.Cells = cells
		writeNB(t, filepath.Join(subDir, a.name+".ipynb"), nb)
	}
	// Bad files and names.
	syscall.Mkfifo(filepath.Join(subDir, "fifo.ipynb"), 0o644)
	os.Symlink("/dev/zero", filepath.Join(subDir, "zero.ipynb"))
	os.Symlink(sourcePath, filepath.Join(subDir, "copycat.ipynb"))
	writeNB(t, filepath.Join(subDir, "...ipynb"), honest)
	writeNB(t, filepath.Join(subDir, "..ipynb"), honest)
	writeNB(t, filepath.Join(subDir, "=cmd|calc.ipynb"), honest)
	writeNB(t, filepath.Join(subDir, "bell\x07\x1b[2J.ipynb"), honest)
	os.MkdirAll(filepath.Join(subDir, "twice", "a"), 0o755)
	writeNB(t, filepath.Join(subDir, "twice", "dup.ipynb"), honest)
	writeNB(t, filepath.Join(subDir, "twice", "a", "dup.ipynb"), honest)

	before := snapshot(t, dir, outDir)
	args := []string{"grade", "--source", sourcePath, "--out", outDir, "--quiet", "--require-sandbox",
		"--jobs", "2", "--timeout", "4s", "--budget", "8s", "--memory", strconv.Itoa(512 << 20), "--max-processes", "32", subDir}
	if landlockOnly {
		args[6] = "--sandbox=false"
		args[14] = strconv.Itoa(4 << 30) // an address-space cap per process, without a cgroup
	}
	cmd := exec.Command(goprocBinary, args...)
	cmd.Env = append(os.Environ(), "GOPROC_ADVERSARIAL="+secretEnv)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err = cmd.Run()
	elapsed := time.Since(t0)
	t.Logf("graded in %v: %v\n%s\n%s", elapsed, err, stdout.String(), stderr.String())
	if cmd.ProcessState == nil || cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("the grader was killed: %v", err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > 300<<10 {
		t.Errorf("the grader grew to %d MB", ru.Maxrss>>10)
	}

	gb, err := ReadGradebook(filepath.Join(outDir, "gradebook.json"))
	if err != nil {
		t.Fatalf("no gradebook: %v", err)
	}
	byName := map[string]Result{}
	for _, r := range gb.Students {
		byName[r.Student] = r
	}
	points := func(r Result, id string) float64 {
		for _, s := range r.Scores {
			if s.GradeID == id {
				return s.Points
			}
		}
		return -1
	}
	for _, h := range []string{"honest1", "honest2"} {
		if r := byName[h]; r.Total != 7 || r.Error != "" {
			t.Errorf("%s scored %v (error %q), want 7", h, r.Total, r.Error)
		}
	}
	for _, a := range as {
		r, ok := byName[a.name]
		if !ok {
			t.Errorf("%s: not in the gradebook", a.name)
			continue
		}
		if r.Total > 7 {
			t.Errorf("%s: %v points", a.name, r.Total)
		}
		for _, id := range a.zero {
			if p := points(r, id); p != 0 {
				t.Errorf("%s: %s scored %v, want 0 (%+v)", a.name, id, p, r.Scores)
			}
		}
	}
	if r := byName["budget"]; r.Seconds > 20 {
		t.Errorf("budget: the submission took %.1fs with an 8s budget", r.Seconds)
	}
	for _, bad := range []string{"fifo", "zero", "copycat"} {
		if r := byName[bad]; r.Error == "" || r.Total != 0 {
			t.Errorf("%s: graded (%v points, error %q), want an error", bad, r.Total, r.Error)
		}
	}
	dups := 0
	invalid := 0
	for _, r := range gb.Students {
		if strings.HasPrefix(r.Student, "dup") && strings.Contains(r.Error, "submissions for student") {
			dups++
		}
		if strings.HasPrefix(r.Student, "invalid-name-") && r.Error != "" {
			invalid++
		}
	}
	if dups != 2 {
		t.Errorf("two files for one student: %d reported, want 2", dups)
	}
	if invalid < 3 {
		t.Errorf("files named ...ipynb, ..ipynb and with control characters: %d reported, want 3", invalid)
	}

	// Nothing of the source, a peer or the grader in any hostile feedback;
	// no hidden test in any feedback.
	for _, r := range gb.Students {
		if r.Feedback == "" {
			continue
		}
		b, err := os.ReadFile(r.Feedback)
		if err != nil {
			t.Errorf("%s: feedback: %v", r.Student, err)
			continue
		}
		if len(b) > 8<<20 {
			t.Errorf("%s's feedback is %d MiB", r.Student, len(b)>>20)
		}
		for _, m := range []string{secretHidden, secretSource, secretEnv, secretCourse} {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("%s's feedback holds %s", r.Student, m)
			}
		}
		if !strings.HasPrefix(r.Student, "honest") && bytes.Contains(b, []byte(secretPeer)) {
			t.Errorf("%s's feedback holds another student's answer", r.Student)
		}
	}
	csvb, _ := os.ReadFile(filepath.Join(outDir, "gradebook.csv"))
	rows, err := csv.NewReader(bytes.NewReader(csvb)).ReadAll()
	if err != nil {
		t.Fatalf("gradebook.csv: %v", err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("CSV cell %q starts a formula", cell)
			}
		}
	}
	if bytes.ContainsAny(stdout.Bytes(), "\x07\x1b") || bytes.ContainsAny(stderr.Bytes(), "\x07\x1b") {
		t.Errorf("control characters from a file name reached the terminal")
	}
	if n := tcpConns.Load(); n != 0 {
		t.Errorf("%d connections reached the host's loopback TCP listener", n)
	}
	// Landlock has no right for connecting to a unix socket by path.
	if n := unixConns.Load(); n != 0 && !landlockOnly {
		t.Errorf("%d connections reached the host's unix socket", n)
	}
	// Nothing left running, nothing written outside the output directory.
	if left := leftProcesses(outDir, landlockOnly); len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
	after := snapshot(t, dir, outDir)
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("written outside the output directory: %s", p)
		}
	}
	for _, p := range []string{"/", "/etc", "/tmp", "/dev/shm", course} {
		if _, err := os.Stat(filepath.Join(p, outsideMark)); err == nil {
			t.Errorf("a submission wrote %s", filepath.Join(p, outsideMark))
			os.Remove(filepath.Join(p, outsideMark))
		}
	}
	var workBytes int64
	filepath.Walk(filepath.Join(outDir, "work"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			workBytes += info.Size()
		}
		return nil
	})
	if fb := byName["fill_disk"].Feedback; fb != "" && !landlockOnly {
		b, _ := os.ReadFile(fb)
		var n int
		if i := bytes.Index(b, []byte(`". `)); i >= 0 {
			fmt.Sscan(string(b[i+3:]), &n)
		}
		if n == 0 || n > 300 {
			t.Errorf("fill_disk wrote %d MiB in its working directory, want it stopped near 256", n)
		}
	}
	if workBytes > 64<<20 {
		t.Errorf("submissions left %d MiB on the host's disk", workBytes>>20)
	}
	if _, err := os.Stat(filepath.Join(outDir, "gradebook.csv")); err != nil {
		t.Errorf("the output directory lost its gradebook: %v", err)
	}
}

// snapshot lists the files under dir, except under skip.
func snapshot(t *testing.T, dir, skip string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if p == skip {
			return filepath.SkipDir
		}
		m[p] = true
		return nil
	})
	return m
}

// leftProcesses lists the processes a grading left running: those of
// sandbox users, or, without a sandbox, those working under outDir.
func leftProcesses(outDir string, landlockOnly bool) []string {
	var left []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) != nil {
			continue
		}
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		mine := strings.HasPrefix(cwd, outDir)
		if !landlockOnly {
			// Boxes of other gradings may run at the same time: ours are
			// those whose init is gone or whose work dir is ours.
			mine = mine || st.Uid >= 210000 && st.Uid < 260000 && boxOf(pid, outDir)
		}
		if mine {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			left = append(left, fmt.Sprintf("%d %q", pid, b))
		}
	}
	return left
}

// boxOf reports whether the sandboxed process pid works in outDir: its
// /work is a bind of a directory under outDir.
func boxOf(pid int, outDir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == "/work" && strings.Contains(f[3], filepath.Base(filepath.Dir(outDir))) {
			return true
		}
	}
	return false
}
