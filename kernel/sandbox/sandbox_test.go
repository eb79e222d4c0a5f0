//go:build linux

package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is the box's init (with InitArg) and the program inside
// (with probeArg), so the tests need nothing built beforehand.
const probeArg = "__sandbox_probe"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == InitArg {
		err := RunInit()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == probeArg {
		os.Exit(probe(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// probeReport is what the program inside the box found.
type probeReport struct {
	PID, UID     int
	Children     []int
	Readable     map[string]bool // host paths it could read
	Writable     map[string]bool // paths it could create a file in
	Dialed       bool            // reached the host's loopback listener
	KilledParent bool            // signalled the host process that started the box
	Hostname     string
	Env          []string
}

// probe runs inside the box and reports what it can reach.
func probe(args []string) int {
	var r probeReport
	r.PID, r.UID = os.Getpid(), os.Getuid()
	r.Readable, r.Writable = map[string]bool{}, map[string]bool{}
	for _, p := range strings.Split(args[0], ",") {
		_, err := os.ReadFile(p)
		r.Readable[p] = err == nil
	}
	for _, d := range []string{WorkPath, "/etc", "/dev", "/dev/shm", "/usr", "/", BinaryPath + ".x", SharePath} {
		f, err := os.Create(filepath.Join(d, "probe-file"))
		if strings.HasSuffix(d, ".x") {
			f, err = os.Create(d)
		}
		r.Writable[d] = err == nil
		if err == nil {
			f.Close()
		}
	}
	if c, err := net.DialTimeout("tcp", args[1], 200*time.Millisecond); err == nil {
		r.Dialed = true
		c.Close()
	}
	var host int
	fmt.Sscan(args[2], &host)
	r.KilledParent = syscall.Kill(host, 0) == nil
	for i := 0; i < 3; i++ {
		c := exec.Command("/bin/true")
		if err := c.Start(); err == nil {
			r.Children = append(r.Children, c.Process.Pid)
			c.Wait()
		}
	}
	r.Hostname, _ = os.Hostname()
	r.Env = os.Environ()
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

func TestSandboxConfines(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "solutions.txt")
	os.WriteFile(secret, []byte("secret"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	work := t.TempDir()
	exe, _ := os.Executable()
	box, err := New(Config{WorkDir: work, Binary: exe, MemoryBytes: 256 << 20, MaxTasks: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Destroy()
	t.Logf("protections: %s", box.Protections())
	cmd := box.Command("probe", probeArg, secret+",/etc/hostname,"+exe, ln.Addr().String(), fmt.Sprint(os.Getpid()))
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mark := box.Mark()
	if err := box.Started(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("box: %v\n%s", err, errb.String())
	}
	var r probeReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("probe output %q: %v (stderr %s)", out.String(), err, errb.String())
	}
	if r.PID <= 1 || r.PID > 32 {
		t.Errorf("the program's pid is %d, want a small one (a pid namespace of its own, after init's threads)", r.PID)
	}
	if os.Getuid() == 0 && r.UID == 0 {
		t.Errorf("the program runs as root")
	}
	if r.Readable[secret] {
		t.Errorf("the program read %s, a host file outside the box", secret)
	}
	if !r.Readable["/etc/hostname"] && fileExists("/etc/hostname") {
		t.Errorf("the program cannot read /etc/hostname, a system file")
	}
	if r.Dialed {
		t.Errorf("the program reached a loopback port of the host")
	}
	if r.KilledParent {
		t.Errorf("the program can signal a host process")
	}
	if !r.Writable[WorkPath] {
		t.Errorf("the program cannot write its working directory")
	}
	for _, d := range []string{"/etc", "/dev", "/dev/shm", "/usr", "/", BinaryPath + ".x", SharePath} {
		if r.Writable[d] {
			t.Errorf("the program could create a file in %s", d)
		}
	}
	if r.Hostname != "goproc" {
		t.Errorf("hostname %q, want goproc", r.Hostname)
	}
	if _, err := os.Stat(filepath.Join(work, "probe-file")); err == nil {
		t.Errorf("what the program wrote in /work reached the host")
	}
	if p := box.Protections(); p.Watcher {
		span := box.Since(mark)
		for _, c := range r.Children {
			if !slices.Contains(span.Processes, c) {
				t.Errorf("child %d not in what the box ran: %+v", c, span)
			}
		}
		for _, p := range []int{1, r.PID, 4242} {
			if slices.Contains(span.Processes, p) {
				t.Errorf("pid %d counted as a child process of the program: %+v", p, span)
			}
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestSpanCountsUnidentifiedProcesses(t *testing.T) {
	tasks := []task{
		{gen: 1, id: 5, program: true},
		{gen: 1, id: 9},
		{gen: 1, id: 10}, // the mark is here
		{gen: 1, id: 0},  // ended before its id could be read
		{gen: 1, id: 11},
		{gen: 1, id: 0},
	}
	sp := spanOf(tasks, 2, 2)
	if !slices.Equal(sp.Processes, []int{10, 11}) || sp.Unidentified != 2 || !slices.Equal(sp.Programs, []int{5}) {
		t.Fatalf("span = %+v, want processes [10 11], 2 unidentified, programs [5]", sp)
	}
}
