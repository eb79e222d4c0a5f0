package multiprocessing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// NotExited is what ExitCode returns while a process has not been started
// or has not exited yet (Python's None).
const NotExited = -1000

// Process runs a notebook function in a child process, like Python's
// multiprocessing.Process; it reads like os/exec.Cmd: set the fields, then
// Start and Join.
//
//	p := &multiprocessing.Process{Target: worker, Args: []any{10}}
//	if err := p.Start(); err != nil { ... }
//	p.Join()
//	fmt.Println("exit code:", p.ExitCode())
//
// The child sees the notebook's declarations and its global variables as
// they were at Start (values that JSON can encode). Target must be a
// top-level function of the notebook, or a standard-library function.
// Arguments are copied to the child as JSON; its results are ignored.
type Process struct {
	// Target is the function the child runs.
	Target any
	// Args are Target's arguments.
	Args []any
	// Name defaults to "Process-N", N counting the Processes this process
	// created (a child's children are "Process-N:M"), as in Python. A
	// Process from NewProcess is named when it is created; one written as a
	// literal (&Process{Target: f}) when it is first used (Start, String,
	// Join …), since a literal runs no code.
	Name string
	// Daemon processes may not start processes; an exiting worker
	// terminates its daemonic children instead of joining them.
	Daemon bool

	mu       sync.Mutex
	started  bool
	finished bool // an exit status is known or being collected
	closed   bool
	view     bool // describes this or the parent process; cannot start
	w        *worker
	pid      int
	code     int
	done     chan struct{}
	ident    string // "1", "1:2", … (Python's _identity), once numbered
}

// NewProcess returns a Process that will run target(args...), named
// "Process-N" at once.
func NewProcess(target any, args ...any) *Process {
	p := &Process{Target: target, Args: args}
	p.numberLocked()
	return p
}

// numberLocked gives p its number, and its default name if it has none
// (p.mu held, or p not shared yet).
func (p *Process) numberLocked() {
	if p.view {
		return
	}
	if p.ident == "" {
		p.ident = nextIdent()
	}
	if p.Name == "" {
		p.Name = "Process-" + p.ident
	}
}

// children are the Processes this process started that have not finished.
var children = struct {
	sync.Mutex
	set map[*Process]struct{}
}{set: map[*Process]struct{}{}}

// livePools counts pools that have not been closed or terminated.
var livePools atomic.Int64

func liveChildren() int {
	children.Lock()
	defer children.Unlock()
	return len(children.set)
}

// childCounter numbers this process's children (Process-1, Process-2 …).
var childCounter atomic.Int64

func nextIdent() string {
	n := strconv.FormatInt(childCounter.Add(1), 10)
	if me := self.Load(); me != nil && me.Ident != "" {
		return me.Ident + ":" + n
	}
	return n
}

// mayStart says why this process may not start n processes, if it may not.
func mayStart(n int) error {
	if replaying.Load() {
		return errors.New("cannot start a process while a child process rebuilds the notebook: a global variable's initialiser starts processes? start them from a cell or a function instead")
	}
	if me := self.Load(); me != nil && me.Daemon {
		return fmt.Errorf("%s is daemonic (pool workers are): daemonic processes are not allowed to have children", me.Name)
	}
	if currentHost() == nil {
		if IsWorker() || depth > 0 {
			return errors.New("this engine does not let child processes start processes (its Rebuilder does not implement NestedHost)")
		}
		return errors.New("multiprocessing needs the goproc engine: no notebook is running in this process")
	}
	return reserve(n)
}

// Start starts the child process. It returns an error if the process was
// started before, if the target or an argument cannot be sent to a child, or
// if no child can be started. Like Python's start(), it does not wait for a
// new child to be ready: if the child cannot run the target (the notebook
// fails to rebuild in it), it says why on the cell's stderr and exits with
// code 1.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.numberLocked()
	switch {
	case p.view:
		return fmt.Errorf("cannot start %s: it describes a running process", p.Name)
	case p.closed:
		return fmt.Errorf("cannot start process %s: it is closed", p.Name)
	case p.started:
		return fmt.Errorf("cannot start process %s twice", p.Name)
	}
	name, err := NameOf(p.Target)
	if err != nil {
		return fmt.Errorf("start process: %w", err)
	}
	args, err := encodeArgs(p.Args)
	if err != nil {
		return fmt.Errorf("start process: %w", err)
	}
	if err := mayStart(1); err != nil {
		return fmt.Errorf("start process: %w", err)
	}
	h := currentHost()
	ident := p.ident
	ctx := hostContext()
	id := &identity{Name: p.Name, Ident: ident, Daemon: p.Daemon, ParentName: currentName(), ParentPid: os.Getpid()}
	prog := h.Program()
	globals := globalsFor(h, name)
	// A boot slot; watch keeps it while a new worker starts up.
	select {
	case bootSlots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("start process %s: %w", p.Name, context.Cause(ctx))
	}
	var w *worker
	starting := false // the worker has yet to confirm that the target runs
	defer func() {
		if !starting {
			<-bootSlots
		}
	}()
	for attempt := 0; ; attempt++ {
		var spawned bool
		w, spawned, err = acquireFreshWorker()
		if err != nil {
			return fmt.Errorf("start process %s: %w", p.Name, err)
		}
		from, chunks := w.catchUp(prog)
		diff, hashes := w.globalsDiff(globals)
		m := &message{Op: opRun, Seq: w.nextSeq(), From: from, Chunks: chunks, Globals: diff, Func: name, Args: args, Identity: id, Reusable: reuseEnabled()}
		if spawned {
			// A new worker takes milliseconds to start Go and rebuild the
			// notebook. As Python's start() returns once it has forked,
			// Start returns once the request is on its way: processes
			// started in a row start up side by side, and watch reports a
			// rebuild that fails as the process's error.
			if err := w.ctl.send(m); err != nil {
				w.signal(syscall.SIGKILL)
				return fmt.Errorf("start process %s: %w", p.Name, w.deathError(err))
			}
			w.sent, w.replayed, w.markSeq = hashes, len(prog.Chunks), m.Seq
			starting = true
			break
		}
		reply, err := w.request(ctx, m)
		if err != nil {
			w.signal(syscall.SIGKILL)
			if attempt == 0 && ctx.Err() == nil {
				continue // an idle worker died: try a fresh one
			}
			return fmt.Errorf("start process %s: %w", p.Name, err)
		}
		w.sent = hashes
		if reply.Err != "" {
			if reply.Reusable {
				w.replayed = len(prog.Chunks)
				releaseWorker(w)
			} else {
				w.retire()
			}
			return fmt.Errorf("start process %s: %s", p.Name, reply.Err)
		}
		w.replayed = len(prog.Chunks)
		w.markSeq = m.Seq
		break
	}
	p.started, p.w, p.pid, p.code, p.done = true, w, w.pid, NotExited, make(chan struct{})
	children.Lock()
	children.set[p] = struct{}{}
	children.Unlock()
	go p.watch(ctx, w, starting)
	go refreshIdle(prog)
	replenishLater()
	return nil
}

// bootSlots bounds how many new workers a process may have starting up at
// once. Start does not wait for a new child to be ready, so without it a
// runaway loop of Starts would spawn processes as fast as exec goes; with
// it, Start waits for a slot as it used to wait for its child.
var bootSlots = make(chan struct{}, max(2, 2*runtime.NumCPU()))

func (w *worker) nextSeq() uint64 {
	w.markSeq++
	return w.markSeq
}

// watch waits for the target to finish (the worker may then be reused) or
// the worker to exit, and terminates the child if the cell is interrupted.
// starting: the worker has not yet confirmed that the target runs; if it
// cannot run it, the process ends with exit code 1 and says why on stderr.
func (p *Process) watch(ctx context.Context, w *worker, starting bool) {
	code, reuse, terminated := NotExited, false, false
	booted := func() {
		if starting {
			starting = false
			<-bootSlots
		}
	}
	defer booted()
	for {
		m, err := w.await(ctx)
		if err == nil && starting && m.Op == opStarted {
			booted()
			if m.Err == "" {
				continue
			}
			p.mu.Lock()
			p.finished = true
			p.mu.Unlock()
			writeLines(os.Stderr, []byte(fmt.Sprintf("Process %s (pid %d) could not start: %s\n", p.Name, w.pid, m.Err)))
			w.retire()
			code = 1
			break
		}
		if err == nil && m.Op == opDone {
			p.mu.Lock()
			p.finished = true
			p.mu.Unlock()
			w.waitOutput(m.Seq)
			code, reuse = 0, m.Reusable
			break
		}
		if err == nil {
			continue // not for us
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			if !interrupted(ctx) {
				ctx = context.Background() // the cell just ended
				continue
			}
			// The cell that started the process was interrupted.
			terminated = true
			w.signal(syscall.SIGTERM)
			go func() {
				select {
				case <-w.exited:
				case <-time.After(time.Second):
					w.signal(syscall.SIGKILL)
				}
			}()
			ctx = context.Background()
			continue
		}
		<-w.exited
		p.mu.Lock()
		p.finished = true
		p.mu.Unlock()
		w.waitOutputAfterExit()
		code = exitCode(w.state)
		if reason := w.crashReason(); reason != "" {
			writeLines(os.Stderr, []byte(fmt.Sprintf("Process %s (pid %d) crashed: %s\n", p.Name, w.pid, reason)))
		} else if starting && !terminated && !w.signalled.Load() {
			booted()
			writeLines(os.Stderr, []byte(fmt.Sprintf("Process %s (pid %d) could not start: its worker %s\n", p.Name, w.pid, describeExit(w.state))))
		}
		break
	}
	p.mu.Lock()
	p.code, p.w = code, nil
	close(p.done)
	p.mu.Unlock()
	children.Lock()
	delete(children.set, p)
	children.Unlock()
	if reuse {
		releaseWorker(w)
	}
}

func (p *Process) doneChan(op string) (chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.numberLocked()
	switch {
	case p.view:
		return nil, fmt.Errorf("cannot %s %s: it describes a running process", op, p.Name)
	case !p.started:
		return nil, fmt.Errorf("cannot %s process %s: it was not started", op, p.Name)
	}
	return p.done, nil
}

// Join waits until the process exits and everything it printed has been
// written. If the running cell is interrupted, the process is terminated and
// Join returns the interruption.
func (p *Process) Join() error {
	done, err := p.doneChan("join")
	if err != nil {
		return err
	}
	ctx := hostContext()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.Terminate()
		return fmt.Errorf("join %s: %w", p.Name, context.Cause(ctx))
	}
}

// JoinTimeout waits at most d for the process to exit; it reports whether
// it did.
func (p *Process) JoinTimeout(d time.Duration) (bool, error) {
	done, err := p.doneChan("join")
	if err != nil {
		return false, err
	}
	ctx := hostContext()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true, nil
	case <-t.C:
		return false, nil
	case <-ctx.Done():
		p.Terminate()
		return false, fmt.Errorf("join %s: %w", p.Name, context.Cause(ctx))
	}
}

// IsAlive reports whether the process was started and has not exited.
func (p *Process) IsAlive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.view {
		return p.pid == os.Getpid() || syscall.Kill(p.pid, 0) == nil
	}
	if !p.started {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pid is the child's process id (0 before Start). A worker whose target
// returned cleanly may serve a later Process, so two Processes that did not
// run at the same time can show the same pid.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Ident is the same as Pid, as in Python.
func (p *Process) Ident() int { return p.Pid() }

// ExitCode is 0 once the target returned, 1 if it panicked, n if it called
// os.Exit(n), -N if a signal N killed the process, and NotExited (-1000)
// before that.
func (p *Process) ExitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.view || !p.started {
		return NotExited
	}
	select {
	case <-p.done:
		return p.code
	default:
		return NotExited
	}
}

// Terminate sends SIGTERM to the process (exit code -15).
func (p *Process) Terminate() error { return p.signal(syscall.SIGTERM, "terminate") }

// Kill sends SIGKILL to the process (exit code -9).
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL, "kill") }

func (p *Process) signal(sig syscall.Signal, op string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.numberLocked()
	switch {
	case p.view:
		return fmt.Errorf("cannot %s %s: it describes a running process", op, p.Name)
	case !p.started:
		return fmt.Errorf("cannot %s process %s: it was not started", op, p.Name)
	case p.finished || p.w == nil:
		return nil
	}
	return p.w.signal(sig)
}

// Close releases the Process. It fails while the process is running.
func (p *Process) Close() error {
	if p.IsAlive() && !p.view {
		return fmt.Errorf("cannot close process %s: it is still running", p.Name)
	}
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return nil
}

// String describes the process like Python's repr.
func (p *Process) String() string {
	status := "initial"
	switch code := p.ExitCode(); {
	case p.view || p.IsAlive():
		status = "started"
	case code != NotExited:
		status = "stopped exitcode=" + strconv.Itoa(code)
	}
	p.mu.Lock()
	p.numberLocked()
	name := p.Name
	p.mu.Unlock()
	return fmt.Sprintf("<Process name='%s' pid=%d %s>", name, p.Pid(), status)
}

func currentName() string {
	if me := self.Load(); me != nil {
		return me.Name
	}
	if depth > 0 {
		return "Worker"
	}
	return "MainProcess"
}

// CurrentProcess describes the process running the caller: "MainProcess"
// in the engine, the Process name or "SpawnPoolWorker-N" in a child.
func CurrentProcess() *Process {
	p := &Process{Name: currentName(), view: true, pid: os.Getpid(), started: true}
	if me := self.Load(); me != nil {
		p.Daemon = me.Daemon
	}
	return p
}

// ParentProcess describes the process that started this one; it is nil in
// the engine.
func ParentProcess() *Process {
	me := self.Load()
	if me == nil {
		return nil
	}
	return &Process{Name: me.ParentName, view: true, pid: me.ParentPid, started: true}
}

// ActiveChildren returns the Processes this process started that are still
// running (pool workers are not included).
func ActiveChildren() []*Process {
	children.Lock()
	defer children.Unlock()
	out := make([]*Process, 0, len(children.set))
	for p := range children.set {
		out = append(out, p)
	}
	return out
}

// CPUCount is the number of CPUs usable by this process.
func CPUCount() int { return runtime.NumCPU() }

func osGetpid() int { return os.Getpid() }
