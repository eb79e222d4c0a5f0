// Package sandbox runs an untrusted program (a student's notebook engine)
// inside a box built from Linux's own isolation mechanisms, the way
// bubblewrap and nsjail do, so that nothing the program does reaches the
// process that started it, the other boxes, or files it was not given:
//
//   - namespaces: a pid namespace (it sees and signals only its own
//     processes; when the box's init dies, the kernel kills the rest), a
//     mount namespace whose root is a fresh tmpfs holding read-only binds of
//     the system's directories, the goproc binary and one writable working
//     directory, a network namespace with no interfaces up, an IPC and a
//     UTS namespace, and a user namespace when run without root;
//   - a user id of its own per box (as root), so boxes cannot signal or
//     read each other even through a shared path, and no_new_privs;
//   - a cgroup per box: memory for all its processes together, a pid limit
//     and a CPU share, torn down with the box;
//   - the kernel's process events (the proc connector), so the caller knows
//     every process that ran inside, by the pid the box's processes see.
//
// The box's first process is goproc itself in init mode (RunInit): it joins
// the cgroup, builds the mounts, then starts the real program as an
// unprivileged user and reaps every orphan until the program exits. The
// caller holds it back until it has registered the box's pid with the
// process watcher, so no fork is missed.
//
// Written here rather than by wrapping bubblewrap: a box must start in a few
// milliseconds (goproc grades ~10 submissions a second), must join a cgroup
// before its first fork, and the watcher must know the box before its first
// fork; the whole of it is a few hundred lines over syscall.SysProcAttr.
package sandbox

import (
	"fmt"
	"strings"
)

// InitArg is the argument that starts goproc as a box's init (RunInit).
const InitArg = "__sandbox_init"

// Config describes one box.
type Config struct {
	// WorkDir is a host directory the box sees read-only at SharePath,
	// for files the caller hands the program.
	WorkDir string
	// WorkBytes caps the program's writable working directory, /work, a
	// tmpfs of the box's own counted in its memory (0: 256 MiB). Nothing
	// the program writes reaches the host's disks.
	WorkBytes uint64
	// Binary is the goproc executable, mounted read-only at BinaryPath.
	Binary string
	// MemoryBytes caps the memory of all the box's processes together
	// (0: no cap).
	MemoryBytes uint64
	// MaxTasks caps the box's processes and threads together (0: no cap).
	MaxTasks int
	// CPUWeight is the box's CPU share relative to other boxes, 1-10000
	// with 100 the default (0: the default).
	CPUWeight int
	// UID is the user the program runs as when the caller is root (0: a
	// user id chosen per box).
	UID int
}

// Paths inside a box.
const (
	BinaryPath = "/goproc/goproc"
	WorkPath   = "/work"
	SharePath  = "/goproc/share"
)

// Protections says which protections a box has; the grader reports it.
type Protections struct {
	Namespaces bool   // pid, mount, network, IPC, UTS (and user when unprivileged)
	UserNS     bool   // a user namespace (unprivileged mode)
	OwnUID     bool   // a user id of its own
	Cgroup     string // "v1", "v2" or "" (none)
	Watcher    bool   // every process seen through the proc connector
	// Why lists what is missing and why.
	Why []string
}

// Full reports whether every protection is in force.
func (p Protections) Full() bool {
	return p.Namespaces && p.Cgroup != "" && p.Watcher
}

func (p Protections) String() string {
	if !p.Namespaces {
		return "no sandbox (" + strings.Join(p.Why, "; ") + ")"
	}
	var have []string
	ns := "namespaces (pid, mount, network, IPC, UTS)"
	if p.UserNS {
		ns = "namespaces (user, pid, mount, network, IPC, UTS)"
	}
	have = append(have, ns)
	if p.OwnUID {
		have = append(have, "a user id per submission")
	}
	if p.Cgroup != "" {
		have = append(have, fmt.Sprintf("a cgroup %s per submission (memory, pids, cpu)", p.Cgroup))
	}
	if p.Watcher {
		have = append(have, "every process observed")
	}
	s := strings.Join(have, ", ")
	if len(p.Why) > 0 {
		s += "; missing: " + strings.Join(p.Why, "; ")
	}
	return s
}

// Span is what ran in a box between two moments: the processes that
// started in it, by the pids they saw themselves under, and the programs
// its init started (the engine). Missed counts processes that came and
// went too fast to be identified. Observed is false when the box's
// processes could not be followed (the fields are then empty).
type Span struct {
	Observed  bool
	Processes []int
	Programs  []int
	Missed    int
	// Active are processes started before the span that read or wrote
	// during it (a worker of an earlier pool given new tasks), besides
	// inits and programs.
	Active []int
	// Unidentified counts processes started in the span that ended
	// before their ids in the box could be read (short-lived processes on
	// a loaded machine): they are not in Processes.
	Unidentified int
}

// Mark is a moment in a box's life (see Sandbox.Mark).
type Mark struct {
	n  int
	io map[int]ioSample // host pid -> I/O so far
}

func spanOf(tasks []task, mark, missed int) Span {
	sp := Span{Observed: true, Missed: missed}
	if len(tasks) == 0 {
		return sp
	}
	gen := tasks[len(tasks)-1].gen
	if mark > len(tasks) {
		mark = len(tasks)
	}
	for i, tk := range tasks {
		if tk.gen != gen {
			continue
		}
		switch {
		case tk.program:
			sp.Programs = append(sp.Programs, tk.id)
		case i >= mark && tk.id == 0:
			sp.Unidentified++
		case i >= mark:
			sp.Processes = append(sp.Processes, tk.id)
		}
	}
	return sp
}
