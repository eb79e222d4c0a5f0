package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// The proc connector (linux/cn_proc.h) reports every fork and exit of the
// machine to a root process that listens; the watcher follows the boxes'
// process trees with it. One watcher serves every box of the process.
const (
	netlinkConnector  = 11
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventFork     = 0x1
	procEventExit     = 0x80000000
	procEventComm     = 0x200
	procEventExec     = 0x2
	schedFIFO         = 1
	prSetName         = 15
)

// tracker is what the watcher knows of one box: every process that started
// in it, by the id the box sees, in order. Threads are not followed: a
// thread flood in one box must not slow the watcher for the others.
type tracker struct {
	mu     sync.Mutex
	tasks  []task
	gen    int              // counts the box's inits: each has a pid namespace of its own
	missed int              // processes whose id could not be read
	exited map[int]ioSample // host pid -> its I/O when it exited
	inits  map[int]int      // host pid of an init -> its generation
}

type task struct {
	gen, id int
	program bool // started by an init
}

// unresolved is a process of a box whose id in the box is not known yet.
type unresolved struct {
	t    *tracker
	task task
}

func (t *tracker) add(tk task) {
	t.mu.Lock()
	t.tasks = append(t.tasks, tk)
	t.mu.Unlock()
}

type watcher struct {
	fd int

	mu         sync.Mutex
	members    map[int]*tracker // host pid of a live process -> its box
	unresolved map[int]unresolved

	// Barriers: a thread of the watcher's own renames itself, and the
	// rename's event, queued after every event before it, says the watcher
	// has seen everything that happened before the barrier.
	barrierReq chan chan struct{}
	barrierTid int
	pending    map[string]chan struct{} // name -> closed when seen
	barrierN   int
}

var (
	watchOnce sync.Once
	theWatch  *watcher
	watchErr  error
)

// procWatcher starts the watcher on first use.
func procWatcher() (*watcher, error) {
	watchOnce.Do(func() { theWatch, watchErr = startWatcher() })
	return theWatch, watchErr
}

func startWatcher() (*watcher, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkConnector)
	if err != nil {
		return nil, fmt.Errorf("proc connector socket: %w", err)
	}
	// A burst of forks elsewhere on the machine must not overflow it.
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 64<<20)
	sa := &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: cnIdxProc}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("proc connector bind (needs root): %w", err)
	}
	msg := make([]byte, 16+20+4)
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.LittleEndian.PutUint16(msg[4:], syscall.NLMSG_DONE)
	binary.LittleEndian.PutUint32(msg[16:], cnIdxProc)
	binary.LittleEndian.PutUint32(msg[20:], cnValProc)
	binary.LittleEndian.PutUint16(msg[32:], 4)
	binary.LittleEndian.PutUint32(msg[36:], procCnMcastListen)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("proc connector listen: %w", err)
	}
	w := &watcher{fd: fd, members: map[int]*tracker{}, unresolved: map[int]unresolved{}, barrierReq: make(chan chan struct{}), pending: map[string]chan struct{}{}}
	ready := make(chan struct{})
	go w.barriers(ready)
	<-ready
	go w.loop()
	return w, nil
}

// barriers serves barrier requests from a thread of its own.
func (w *watcher) barriers(ready chan struct{}) {
	runtime.LockOSThread() // never unlocked: the thread is the barrier's
	w.barrierTid = syscall.Gettid()
	close(ready)
	for done := range w.barrierReq {
		w.mu.Lock()
		w.barrierN++
		name := fmt.Sprintf("gpbar%d", w.barrierN)
		w.pending[name] = done
		w.mu.Unlock()
		b := append([]byte(name), 0)
		syscall.RawSyscall(syscall.SYS_PRCTL, prSetName, uintptr(unsafe.Pointer(&b[0])), 0)
	}
}

// sync returns once the watcher has handled every process event that
// happened before it was called (or after a second, if it cannot tell).
func (w *watcher) sync() {
	done := make(chan struct{})
	w.barrierReq <- done
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// register makes the watcher follow the box whose init is initPid. The init
// must not have forked yet.
func (w *watcher) register(t *tracker, initPid int) {
	t.mu.Lock()
	t.gen++
	t.inits[initPid] = t.gen
	t.mu.Unlock()
	w.mu.Lock()
	w.members[initPid] = t
	w.mu.Unlock()
}

// live returns the host pids of the box's live processes.
func (w *watcher) live(t *tracker) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var pids []int
	for p, tt := range w.members {
		if tt == t {
			pids = append(pids, p)
		}
	}
	return pids
}

// forget stops following a box.
func (w *watcher) forget(t *tracker) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for p, tt := range w.members {
		if tt == t {
			delete(w.members, p)
		}
	}
}

func (w *watcher) loop() {
	// The watcher must read a process's id before the process is gone: it
	// runs on a thread of its own at a real-time priority (as root), so a
	// busy machine does not make it late.
	runtime.LockOSThread()
	param := struct{ priority int32 }{1}
	syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedFIFO, uintptr(unsafe.Pointer(&param)))
	buf := make([]byte, 64<<10)
	for {
		n, _, err := syscall.Recvfrom(w.fd, buf, 0)
		if err != nil {
			if err == syscall.EINTR || err == syscall.ENOBUFS {
				continue
			}
			return
		}
		for off := 0; off+16 <= n; {
			l := int(binary.LittleEndian.Uint32(buf[off:]))
			if l < 16 || off+l > n {
				break
			}
			w.event(buf[off+16 : off+l])
			off += (l + 3) &^ 3
		}
	}
}

// event handles one cn_msg carrying a proc_event.
func (w *watcher) event(m []byte) {
	// cn_msg: id(8) seq(4) ack(4) len(2) flags(2) = 20; proc_event:
	// what(4) cpu(4) timestamp(8) then the event's data.
	if len(m) < 20+16+16 {
		return
	}
	ev := m[20:]
	what := binary.LittleEndian.Uint32(ev[0:])
	data := ev[16:]
	switch what {
	case procEventFork:
		parentTgid := int(binary.LittleEndian.Uint32(data[4:]))
		childPid := int(binary.LittleEndian.Uint32(data[8:]))
		childTgid := int(binary.LittleEndian.Uint32(data[12:]))
		if childPid != childTgid {
			return // a thread: not a process a notebook can have started
		}
		w.mu.Lock()
		t := w.members[parentTgid]
		if t != nil {
			w.members[childPid] = t
		}
		w.mu.Unlock()
		if t == nil {
			return
		}
		t.mu.Lock()
		gen, fromInit := t.inits[parentTgid]
		if !fromInit {
			gen = t.gen
		}
		t.mu.Unlock()
		tk := task{gen: gen, program: fromInit}
		if tk.id = nsPid(childPid); tk.id > 0 {
			t.add(tk)
			return
		}
		// Gone already, or not readable yet: try again when it execs and
		// when it exits (a zombie still has its status).
		w.mu.Lock()
		w.unresolved[childPid] = unresolved{t, tk}
		w.mu.Unlock()
	case procEventExec:
		w.resolve(int(binary.LittleEndian.Uint32(data[0:])), false)
	case procEventComm:
		pid := int(binary.LittleEndian.Uint32(data[0:]))
		if pid != w.barrierTid || len(data) < 8+16 {
			return
		}
		name := string(data[8 : 8+16])
		if i := strings.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		w.mu.Lock()
		done := w.pending[name]
		delete(w.pending, name)
		w.mu.Unlock()
		if done != nil {
			close(done)
		}
	case procEventExit:
		pid := int(binary.LittleEndian.Uint32(data[0:]))
		tgid := int(binary.LittleEndian.Uint32(data[4:]))
		if pid != tgid {
			return
		}
		w.resolve(pid, true)
		w.mu.Lock()
		t := w.members[pid]
		delete(w.members, pid)
		w.mu.Unlock()
		if t != nil {
			// Its last I/O, read as it exits: Since tells a process that
			// worked and exited from one killed idle. If it is reaped
			// before the read, how it ended says it: a process killed by
			// a signal did no work by exiting; one that returned did.
			smp, ok := sampleIO(pid)
			if !ok {
				code := binary.LittleEndian.Uint32(data[8:])
				smp = ioSample{ns: -1}
				if code&0x7f != 0 {
					smp.ns = -2 // killed
				}
			}
			t.mu.Lock()
			t.exited[pid] = smp
			t.mu.Unlock()
		}
	}
}

// resolve reads the box's id of a process the fork event could not, if
// it is one; last says it is the last chance (the process exits).
func (w *watcher) resolve(pid int, last bool) {
	w.mu.Lock()
	u, ok := w.unresolved[pid]
	w.mu.Unlock()
	if !ok {
		return
	}
	if u.task.id = nsPid(pid); u.task.id > 0 {
		u.t.add(u.task)
	} else if !last {
		return
	} else {
		// Ended and reaped before the watcher could read its id (a
		// short-lived process on a loaded machine): still a process of
		// the box, started before now, of unknown id.
		u.t.mu.Lock()
		u.t.missed++
		if !u.task.program {
			u.t.tasks = append(u.t.tasks, u.task) // id 0
		}
		u.t.mu.Unlock()
	}
	w.mu.Lock()
	delete(w.unresolved, pid)
	w.mu.Unlock()
}

// nsPid returns the pid the process's own (innermost) pid namespace gives
// host pid pid, or 0.
func nsPid(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			n, _ := strconv.Atoi(f[len(f)-1])
			return n
		}
	}
	return 0
}
