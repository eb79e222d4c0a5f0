package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// firstUID is the first of the user ids given to boxes when goproc runs as
// root; each box takes the next one, wrapping after uidRange.
const (
	firstUID = 210000
	uidRange = 50000
)

var boxCount atomic.Int64

// Sandbox is one box. Commands made by Command run inside it; Destroy kills
// everything in it and removes what it made on the host.
type Sandbox struct {
	cfg    Config
	prot   Protections
	cg     *cgroup
	root   string // an empty host directory, the box's root mount point
	uid    int
	userNS bool
	track  *tracker
	watch  *watcher

	mu      sync.Mutex
	pending map[*exec.Cmd]*os.File // the go-ahead pipe of commands not yet started
	inits   []*exec.Cmd
}

// Available reports whether boxes can be made here, and if not why.
func Available() error {
	if os.Getuid() == 0 {
		return nil
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && len(b) > 0 && b[0] == '0' {
		return errors.New("unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0); run as root")
	}
	return nil
}

// New makes a box. Namespaces are required; a cgroup and the process
// watcher are used when they can be (as root), and Protections says which.
func New(cfg Config) (*Sandbox, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if cfg.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding the goproc binary: %w", err)
		}
		cfg.Binary = exe
	}
	abs, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, err
	}
	cfg.WorkDir = abs
	n := boxCount.Add(1)
	s := &Sandbox{cfg: cfg, pending: map[*exec.Cmd]*os.File{}}
	s.track = &tracker{inits: map[int]int{}, exited: map[int]ioSample{}}
	s.prot.Namespaces = true
	if os.Getuid() == 0 {
		s.uid = cfg.UID
		if s.uid == 0 {
			s.uid = firstUID + int(n%uidRange)
		}
		s.prot.OwnUID = true
		name := fmt.Sprintf("goproc-%d-%d", os.Getpid(), n)
		if cg, err := newCgroup(name, cfg); err == nil {
			s.cg = cg
			s.prot.Cgroup = cg.version
		} else {
			s.prot.Why = append(s.prot.Why, "cgroup: "+err.Error())
		}
	} else {
		s.userNS = true
		s.prot.UserNS = true
		s.prot.Why = append(s.prot.Why, "cgroup and user id per submission: need root")
	}
	if w, err := procWatcher(); err == nil {
		s.watch = w
		s.prot.Watcher = true
	} else {
		s.prot.Why = append(s.prot.Why, "process watcher: "+err.Error())
	}
	root, err := os.MkdirTemp("", "goproc-box-")
	if err != nil {
		s.Destroy()
		return nil, fmt.Errorf("making the box's root: %w", err)
	}
	s.root = root
	return s, nil
}

// Protections says which protections the box has.
func (s *Sandbox) Protections() Protections { return s.prot }

// Command returns a command that runs BinaryPath with args inside the box
// (args[0] is the program's name). The caller may set Env, Stdout, Stderr,
// ExtraFiles and SysProcAttr's Setpgid and Pdeathsig, and must call Started
// right after starting it.
func (s *Sandbox) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(s.cfg.Binary, InitArg)
	cmd.Dir = "/"
	flags := uintptr(syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET |
		syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS)
	attr := &syscall.SysProcAttr{Cloneflags: flags}
	if s.userNS {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	r, w, err := os.Pipe()
	if err == nil {
		cmd.Stdin = r
		s.mu.Lock()
		s.pending[cmd] = w
		s.inits = append(s.inits, cmd)
		s.mu.Unlock()
	}
	cmd.Args = append([]string{s.cfg.Binary, InitArg}, args...)
	return cmd
}

// initConfig is what a box's init reads on its standard input once the
// caller has registered it.
type initConfig struct {
	Root      string   `json:"root"`
	WorkDir   string   `json:"work"`
	Binary    string   `json:"binary"`
	Cgroups   []string `json:"cgroups"`
	UID       int      `json:"uid"`
	UserNS    bool     `json:"userns"`
	Args      []string `json:"args"`
	ExtraFDs  int      `json:"extra_fds"`
	MaxTasks  int      `json:"max_tasks"`
	WorkBytes uint64   `json:"work_bytes"`
}

// Started lets a started command's init go ahead, after registering it
// with the process watcher.
func (s *Sandbox) Started(cmd *exec.Cmd) error {
	s.mu.Lock()
	w := s.pending[cmd]
	delete(s.pending, cmd)
	s.mu.Unlock()
	if w == nil {
		return errors.New("sandbox: Started of a command Command did not make")
	}
	defer w.Close()
	if r, ok := cmd.Stdin.(*os.File); ok {
		r.Close()
	}
	if cmd.Process == nil {
		return errors.New("sandbox: the command was not started")
	}
	if s.watch != nil {
		s.watch.register(s.track, cmd.Process.Pid)
	}
	cfg := initConfig{
		Root: s.root, WorkDir: s.cfg.WorkDir, Binary: s.cfg.Binary,
		Cgroups: s.cg.joinPaths(), UID: s.uid, UserNS: s.userNS,
		Args: cmd.Args[2:], ExtraFDs: len(cmd.ExtraFiles), MaxTasks: s.cfg.MaxTasks,
		WorkBytes: s.cfg.WorkBytes,
	}
	if cfg.WorkBytes == 0 {
		cfg.WorkBytes = 256 << 20
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("sandbox: starting the box: %w", err)
	}
	return nil
}

// Mark returns a moment in the box's life, for Since: where its history
// of processes stands, and how much I/O each of its live processes has
// done so far.
func (s *Sandbox) Mark() Mark {
	if s.watch == nil {
		return Mark{}
	}
	s.watch.sync()
	s.track.mu.Lock()
	n := len(s.track.tasks)
	s.track.mu.Unlock()
	return s.mark(n, nil)
}

// mark is the Mark at position n of the history, reusing the I/O samples
// in known (host pid -> sample) taken at that moment.
func (s *Sandbox) mark(n int, known map[int]ioSample) Mark {
	m := Mark{n: n, io: map[int]ioSample{}}
	for _, hp := range s.watch.live(s.track) {
		if smp, ok := known[hp]; ok {
			m.io[hp] = smp
		} else if smp, ok := sampleIO(hp); ok {
			m.io[hp] = smp
		}
	}
	return m
}

// Settle waits until no process has started in the box for quiet (at
// most timeout): the processes a program starts as it comes up (workers
// started ahead) then belong to no later moment.
func (s *Sandbox) Settle(quiet, timeout time.Duration) {
	if s.watch == nil {
		return
	}
	deadline := time.Now().Add(timeout)
	s.watch.sync()
	for time.Now().Before(deadline) {
		s.track.mu.Lock()
		n := len(s.track.tasks)
		s.track.mu.Unlock()
		time.Sleep(quiet)
		s.watch.sync()
		s.track.mu.Lock()
		same := len(s.track.tasks) == n
		s.track.mu.Unlock()
		if same {
			return
		}
	}
}

// Since says which processes ran in the box since m, as the box's
// processes see their pids.
func (s *Sandbox) Since(m Mark) Span {
	if s.watch == nil {
		return Span{}
	}
	s.watch.sync()
	sp, _, _ := s.since(m)
	return sp
}

// Next is Since(m) and a Mark of the same moment, from one look at the box
// (between two cells: what ran in the last one, and where the next starts).
func (s *Sandbox) Next(m Mark) (Span, Mark) {
	if s.watch == nil {
		return Span{}, Mark{}
	}
	s.watch.sync()
	sp, n, now := s.since(m)
	return sp, s.mark(n, now)
}

// since computes Since(m) at the current position of the history, which it
// returns with the I/O samples it took of processes still alive.
func (s *Sandbox) since(m Mark) (Span, int, map[int]ioSample) {
	s.track.mu.Lock()
	n := len(s.track.tasks)
	sp := spanOf(s.track.tasks, m.n, s.track.missed)
	s.track.mu.Unlock()
	live := map[int]ioSample{}
	for hp, before := range m.io {
		now, ok := sampleIO(hp)
		if ok {
			live[hp] = now
		} else {
			s.track.mu.Lock()
			now, ok = s.track.exited[hp]
			s.track.mu.Unlock()
		}
		switch {
		case ok && now.ns == -1:
			// Exited normally, reaped before its I/O could be read.
		case !ok || now.ns != before.ns || now.io == before.io:
			continue // idle all along (being killed is not work)
		}
		if before.ns > 1 && !slices.Contains(sp.Programs, before.ns) && !slices.Contains(sp.Processes, before.ns) {
			sp.Active = append(sp.Active, before.ns)
		}
	}
	slices.Sort(sp.Active)
	return sp, n, live
}

// ioSample is what a process of a box has read and written so far.
type ioSample struct {
	ns int    // its pid in the box
	io uint64 // rchar + wchar
}

// sampleIO reads host pid hp's id in its box and its I/O so far.
func sampleIO(hp int) (ioSample, bool) {
	ns := nsPid(hp)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(hp) + "/io")
	if ns == 0 || err != nil {
		return ioSample{}, false
	}
	var smp ioSample
	smp.ns = ns
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok && (k == "rchar" || k == "wchar") {
			n, _ := strconv.ParseUint(v, 10, 64)
			smp.io += n
		}
	}
	return smp, true
}

// Destroy kills every process of the box and removes its cgroup and root.
func (s *Sandbox) Destroy() error {
	s.mu.Lock()
	inits := s.inits
	s.inits = nil
	for cmd, w := range s.pending {
		w.Close()
		delete(s.pending, cmd)
	}
	s.mu.Unlock()
	for _, cmd := range inits {
		if cmd.Process != nil {
			// The kernel kills the rest of the box's pid namespace.
			cmd.Process.Kill()
		}
	}
	var err error
	if s.cg != nil {
		err = s.cg.remove()
	}
	if s.watch != nil {
		s.watch.forget(s.track)
	}
	if s.root != "" {
		os.Remove(s.root)
	}
	return err
}
