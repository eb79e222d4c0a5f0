package multiprocessing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/crashreport"
)

// Environment variables of worker processes.
const (
	// workerEnv marks a worker process; its value is the nesting depth.
	workerEnv = "GOPROC_MP_WORKER"
	// executableEnv overrides the binary started as a worker (tests).
	executableEnv = "GOPROC_MP_EXECUTABLE"
	// maxProcessesEnv caps the processes started (see SetMaxProcesses).
	maxProcessesEnv = "GOPROC_MAX_PROCESSES"
	// reuseEnv=1 enables reusing a finished Process's worker.
	reuseEnv = "GOPROC_MP_REUSE"
	// sparesEnv sets how many warm workers to keep ready (default 2).
	sparesEnv = "GOPROC_MP_SPARES"
	// prewarmEnv sets how many workers to start when the engine starts
	// (default 0: spares start after the first use).
	prewarmEnv = "GOPROC_MP_PREWARM"
)

// maxDepth bounds nesting (a child starting children starting …).
const maxDepth = 8

// worker is the parent's handle on one worker process.
type worker struct {
	pid            int
	cmd            *exec.Cmd
	ctl            *conn
	stdout, stderr *forwarder

	replies chan *message // replies to the one outstanding request
	dead    chan struct{} // closed when the control connection ended
	exited  chan struct{} // closed when the process was reaped
	state   *os.ProcessState
	crash   *crashreport.Report // what the Go runtime wrote as the worker crashed
	// signalled: this process sent the worker a signal (Terminate, Kill,
	// an interrupt, Shutdown), so its end is no failure to report.
	signalled atomic.Bool

	// Owned by whoever holds the worker (idle list, a Process, a pool slot).
	replayed int               // Program chunks the worker has evaluated
	sent     map[string]uint64 // hash of each global as last sent
	markSeq  uint64
	tasks    int
	used     bool // it ran a target or pool tasks: only pools may take it again unless reuse is on
}

// spawnRequests are served by a goroutine locked to one OS thread for the
// life of the process, so that Pdeathsig (which fires when the thread that
// started the child exits) only fires when this process dies.
var (
	spawnOnce     sync.Once
	spawnRequests chan func()
)

func onSpawnThread(f func()) {
	spawnOnce.Do(func() {
		spawnRequests = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for req := range spawnRequests {
				req()
			}
		}()
	})
	done := make(chan struct{})
	spawnRequests <- func() { f(); close(done) }
	<-done
}

func workerExecutable() (string, error) {
	if exe := os.Getenv(executableEnv); exe != "" {
		return exe, nil
	}
	return os.Executable()
}

// spawnWorker starts a worker process; it has replayed nothing yet.
func spawnWorker() (*worker, error) {
	if depth >= maxDepth {
		return nil, fmt.Errorf("processes nested %d deep: refusing to start more (runaway recursion?)", depth)
	}
	exe, err := workerExecutable()
	if err != nil {
		return nil, fmt.Errorf("find the goproc binary: %w", err)
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	syscall.SetNonblock(fds[0], true)
	parentEnd := os.NewFile(uintptr(fds[0]), "goproc-control")
	childEnd := os.NewFile(uintptr(fds[1]), "goproc-control-child")
	outR, outW, err := os.Pipe()
	if err != nil {
		parentEnd.Close()
		childEnd.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		parentEnd.Close()
		childEnd.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	crashR, crashW, err := os.Pipe()
	if err != nil {
		parentEnd.Close()
		childEnd.Close()
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(workerEnviron(), workerEnv+"="+strconv.Itoa(depth+1))
	cmd.Env = append(cmd.Env, bootstrapEnv()...)
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{childEnd, crashW} // fd 3, and fd 4: WorkerCrashFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	onSpawnThread(func() { err = cmd.Start() })
	childEnd.Close()
	outW.Close()
	errW.Close()
	crashW.Close()
	if err != nil {
		parentEnd.Close()
		outR.Close()
		errR.Close()
		crashR.Close()
		return nil, fmt.Errorf("start worker %s: %w", exe, err)
	}
	w := &worker{
		pid:     cmd.Process.Pid,
		cmd:     cmd,
		ctl:     newConn(parentEnd),
		stdout:  newForwarder(outR, os.Stdout, false),
		stderr:  newForwarder(errR, os.Stderr, true),
		replies: make(chan *message, 4),
		dead:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	w.crash = crashreport.Read(crashR)
	registry.add(w)
	go w.readLoop()
	go func() {
		w.cmd.Wait()
		w.state = w.cmd.ProcessState
		close(w.exited)
		<-w.dead
		w.ctl.close()
		registry.remove(w)
	}()
	return w, nil
}

// workerEnviron is this process's environment without worker markers.
func workerEnviron() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, workerEnv+"=") || isBootstrapEntry(kv) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (w *worker) readLoop() {
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel() // abandons the calls the worker's children were waiting in
		releaseLocksOf(w)
		close(w.dead)
	}()
	for {
		m, err := w.ctl.recv()
		if err != nil {
			return
		}
		if m.Op == opCall {
			go serveCall(ctx, w, m)
			continue
		}
		// Deliver before looking at exited: a worker that exits right after
		// replying (a fresh worker whose quick target returned) must not
		// lose the reply to select's random choice — Start would then run
		// the target again on another worker.
		select {
		case w.replies <- m:
			continue
		default:
		}
		select {
		case w.replies <- m:
		case <-w.exited:
			return
		}
	}
}

// request sends m and waits for the reply, the worker's death or ctx.
func (w *worker) request(ctx context.Context, m *message) (*message, error) {
	if err := w.ctl.send(m); err != nil {
		return nil, w.deathError(err)
	}
	return w.await(ctx)
}

func (w *worker) await(ctx context.Context) (*message, error) {
	select {
	case m := <-w.replies:
		return m, nil
	case <-w.dead:
		// A reply may have arrived just before the connection closed.
		select {
		case m := <-w.replies:
			return m, nil
		default:
		}
		return nil, w.deathError(nil)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// deathError describes how the worker ended, waiting briefly for its status.
func (w *worker) deathError(cause error) error {
	select {
	case <-w.exited:
	case <-time.After(time.Second):
		if cause != nil {
			return fmt.Errorf("worker pid %d stopped responding: %w", w.pid, cause)
		}
		return fmt.Errorf("worker pid %d closed its control connection", w.pid)
	}
	if reason := w.crashReason(); reason != "" {
		return fmt.Errorf("worker pid %d crashed (%s)", w.pid, reason)
	}
	return fmt.Errorf("worker pid %d %s", w.pid, describeExit(w.state))
}

// WorkerCrashFD is the worker's descriptor for the Go runtime's crash
// report: a worker's main points fd 2 there (kernel/engine does, as for
// the engine itself), and the parent reads it for a one-line reason instead
// of forwarding hundreds of lines of the interpreter's stacks into the cell.
const WorkerCrashFD = 4

// crashReason is the Go runtime's account of the worker's crash, or "" if
// it did not crash (waiting briefly for the report to be read).
func (w *worker) crashReason() string {
	w.crash.Wait(time.Second)
	return crashreport.Reason(w.crash.String())
}

// exitCode is Python's exitcode: the exit status, or -signal.
func exitCode(st *os.ProcessState) int {
	if st == nil {
		return NotExited
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return st.ExitCode()
}

func describeExit(st *os.ProcessState) string {
	code := exitCode(st)
	switch {
	case code < 0 && code != NotExited:
		return "was killed by signal " + syscall.Signal(-code).String()
	default:
		return "exited with code " + strconv.Itoa(code)
	}
}

func (w *worker) signal(sig syscall.Signal) error {
	select {
	case <-w.exited:
		return nil
	default:
	}
	w.signalled.Store(true)
	if err := w.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// catchUp returns the Program chunks w has not replayed.
func (w *worker) catchUp(p Program) (int, []string) {
	if w.replayed >= len(p.Chunks) {
		return w.replayed, nil
	}
	return w.replayed, p.Chunks[w.replayed:]
}

// finishTask waits until everything the worker printed during the task that
// just ended has been forwarded: it writes a marker after the task, and the
// forwarders report when they reach it.
func (w *worker) waitOutput(seq uint64) {
	w.stdout.waitMarker(seq)
	w.stderr.waitMarker(seq)
}

// waitOutputAfterExit waits until the dead worker's output is forwarded.
func (w *worker) waitOutputAfterExit() {
	w.stdout.waitDrained()
	w.stderr.waitDrained()
}

// retire asks an idle worker to exit and reaps it in the background.
func (w *worker) retire() {
	if err := w.ctl.send(&message{Op: opExit}); err != nil {
		w.signal(syscall.SIGKILL)
	}
	go func() {
		select {
		case <-w.exited:
		case <-time.After(2 * time.Second):
			w.signal(syscall.SIGKILL)
		}
	}()
}

// registry holds every live worker so Shutdown can kill them.
var registry = workerRegistry{all: map[*worker]struct{}{}}

type workerRegistry struct {
	sync.Mutex
	all map[*worker]struct{}
}

func (r *workerRegistry) add(w *worker) {
	r.Lock()
	r.all[w] = struct{}{}
	r.Unlock()
}

func (r *workerRegistry) remove(w *worker) {
	r.Lock()
	delete(r.all, w)
	r.Unlock()
}

func (r *workerRegistry) snapshot() []*worker {
	r.Lock()
	defer r.Unlock()
	out := make([]*worker, 0, len(r.all))
	for w := range r.all {
		out = append(out, w)
	}
	return out
}

// globalsDiff returns the globals that changed since they were last sent to
// w, and the hashes to remember once the worker accepted them.
func (w *worker) globalsDiff(globals map[string]json.RawMessage) (map[string]json.RawMessage, map[string]uint64) {
	diff := map[string]json.RawMessage{}
	hashes := make(map[string]uint64, len(globals))
	for name, raw := range globals {
		h := fnv.New64a()
		h.Write(raw)
		sum := h.Sum64()
		hashes[name] = sum
		if old, ok := w.sent[name]; !ok || old != sum {
			diff[name] = raw
		}
	}
	return diff, hashes
}
