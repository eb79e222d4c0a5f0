package multiprocessing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/cell"
)

// The worker side: a child process serving its parent.

var (
	// depth is how deep this process is nested: 0 in the engine.
	depth, _ = strconv.Atoi(os.Getenv(workerEnv))
	// self describes this process when it runs a Process target or serves
	// a pool (nil in the engine).
	self atomic.Pointer[identity]
	// replaying is set while a worker evaluates notebook declarations:
	// starting processes then is refused (a global initialiser that starts
	// processes would otherwise start them in every child, recursively).
	replaying atomic.Bool
)

// IsWorker reports whether this process was started as a worker by
// multiprocessing. The goproc binary checks it before anything else and then
// calls ServeWorker instead of its normal main.
func IsWorker() bool { return os.Getenv(workerEnv) != "" }

// NestedHost is what a Rebuilder also implements to let the notebook's
// functions start processes from a worker (a Process target that starts
// Processes or a Pool): the globals and the probe switch of the worker's
// interpreter. Without it, starting a process in a worker returns an error.
type NestedHost interface {
	Globals() map[string]json.RawMessage
	SetProbing(on bool)
}

// workerHost is the Host of a worker process: the Program it replayed, and
// its interpreter's globals.
type workerHost struct {
	nested  NestedHost
	mu      sync.Mutex
	program []string
	ctx     context.Context
}

func (h *workerHost) Program() Program {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Program{Chunks: h.program[:len(h.program):len(h.program)]}
}
func (h *workerHost) Globals() map[string]json.RawMessage { return h.nested.Globals() }
func (h *workerHost) SetProbing(on bool)                  { h.nested.SetProbing(on) }
func (h *workerHost) CellContext() context.Context        { return h.ctx }

// server serves the parent's requests in a worker.
type server struct {
	r    Rebuilder
	ctl  *conn
	host *workerHost

	mu      sync.Mutex // serialises use of the interpreter
	program []string

	// received holds the JSON of every global as the parent last sent it;
	// the parent sends only globals that changed since. dirty are globals
	// the worker's own code changed since (restored before the next run);
	// allDirty means unknown (a pool ran, or no NestedHost to compare).
	received map[string]json.RawMessage
	dirty    []string
	allDirty bool
	warned   map[string]bool

	// taskq feeds chunks of pool tasks to one goroutine, which runs them
	// in the order they came: the parent sends the next chunk before the
	// results of the previous one are back.
	taskq chan *message
	// taskState says, for each chunk received and not answered, whether it
	// is queued, running or cancelled (opCancel); the answers to opTasks and
	// opCancel are sent under taskMu, so that a cancel is never answered
	// after the chunk's results.
	taskMu    sync.Mutex
	taskState map[uint64]taskState

	// pure caches pureFunc's evaluators for a program of pureProgram
	// chunks (used by the task goroutine only).
	pure        map[string]pureEntry
	pureProgram int
}

// ServeWorker runs a worker process: it rebuilds the notebook with r as the
// parent asks, runs Process targets and pool tasks, and returns when the
// parent no longer needs it (or is gone). The caller must then exit. r is
// implemented by the engine; if it also implements NestedHost, notebook code
// in the worker may start processes itself.
func ServeWorker(ctx context.Context, r Rebuilder) error {
	os.Unsetenv(workerEnv) // commands the notebook runs are not workers
	restoreUserEnv()
	signal.Ignore(os.Interrupt)
	if os.Getppid() == 1 {
		return errors.New("multiprocessing worker: the parent is gone")
	}
	syscall.SetNonblock(3, true)
	f := os.NewFile(3, "goproc-control")
	if f == nil {
		return errors.New("multiprocessing worker: no control connection on fd 3")
	}
	s := &server{r: r, ctl: newConn(f)}
	s.host = &workerHost{ctx: ctx}
	if nh, ok := r.(NestedHost); ok {
		s.host.nested = nh
		SetHost(s.host)
	}
	workerConn.Store(s.ctl)
	for {
		m, err := s.ctl.recv()
		if err != nil {
			// The parent is gone: exit at once (our children get SIGKILL
			// from their Pdeathsig).
			os.Exit(0)
		}
		switch m.Op {
		case opReply:
			deliverReply(m)
		case opExit:
			exitWorker(0)
			return nil
		case opReplay:
			go func() {
				s.mu.Lock()
				err := s.catchUp(m)
				s.mu.Unlock()
				s.reply(&message{Op: opReady, Seq: m.Seq, Err: errString(err), Replayed: len(s.program)})
			}()
		case opRun:
			go s.run(m)
		case opPoolInit:
			go s.poolInit(m)
		case opTasks:
			if s.taskq == nil {
				s.taskq = make(chan *message, 16)
				s.taskState = map[uint64]taskState{}
				go func() {
					for m := range s.taskq {
						if s.startTask(m.Seq) {
							s.tasks(m)
						} else if m.Enc != encJSON {
							putPayload(m.Items)
						}
					}
				}()
			}
			s.taskMu.Lock()
			s.taskState[m.Seq] = taskQueued
			s.taskMu.Unlock()
			s.taskq <- m
		case opCancel:
			s.cancelTask(m.Seq)
		}
	}
}

type taskState int

const (
	taskQueued taskState = iota
	taskRunning
	taskCancelled
)

// startTask marks a chunk as running; false if it was cancelled.
func (s *server) startTask(seq uint64) bool {
	s.taskMu.Lock()
	defer s.taskMu.Unlock()
	if s.taskState[seq] == taskCancelled {
		delete(s.taskState, seq)
		return false
	}
	s.taskState[seq] = taskRunning
	return true
}

// cancelTask answers the parent's opCancel: a chunk that has not started
// will not run. A chunk already answered gets no answer.
func (s *server) cancelTask(seq uint64) {
	s.taskMu.Lock()
	defer s.taskMu.Unlock()
	st, ok := s.taskState[seq]
	if !ok || s.taskq == nil {
		return
	}
	if st == taskQueued {
		s.taskState[seq] = taskCancelled
	}
	s.reply(&message{Op: opCancelled, Seq: seq, Cancelled: st == taskQueued})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (s *server) reply(m *message) {
	if err := s.ctl.send(m); err != nil {
		exitWorker(1)
	}
}

// catchUp replays the chunks the parent sent.
func (s *server) catchUp(m *message) error {
	if len(m.Chunks) == 0 {
		return nil
	}
	if m.From != len(s.program) {
		return fmt.Errorf("program out of step: have %d chunks, got chunks from %d", len(s.program), m.From)
	}
	program := append(s.program[:len(s.program):len(s.program)], m.Chunks...)
	var err error
	rebuilding(func() { err = s.r.Replay(Program{Chunks: program}) })
	if err != nil {
		return fmt.Errorf("rebuild the notebook in the child: %w", err)
	}
	s.program = program
	s.host.mu.Lock()
	s.host.program = program
	s.host.mu.Unlock()
	return nil
}

// rebuilding runs f, which evaluates the parent's declarations, with the
// worker's output silenced (what they print, the notebook printed already)
// and starting processes refused (a global initialiser that starts one
// would start it in every child).
func rebuilding(f func()) {
	replaying.Store(true)
	restore := silenceOutput()
	f()
	restore()
	replaying.Store(false)
}

// prepare catches up, sets globals and finds the function to run.
func (s *server) prepare(m *message) (reflect.Value, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.catchUp(m); err != nil {
		return reflect.Value{}, false, err
	}
	if m.Globals != nil {
		if s.received == nil {
			s.received = map[string]json.RawMessage{}
		}
		restore := map[string]json.RawMessage{}
		if s.allDirty {
			maps.Copy(restore, s.received)
		}
		for _, name := range s.dirty {
			restore[name] = s.received[name]
		}
		maps.Copy(restore, m.Globals)
		maps.Copy(s.received, m.Globals)
		s.dirty, s.allDirty = nil, false
		if err := s.r.SetGlobals(restore); err != nil {
			// Not fatal: the target may not use those globals (typically
			// one a cell redeclared with another type, which the child's
			// replayed declarations cannot hold). Say so once.
			if msg := err.Error(); !s.warned[msg] {
				if s.warned == nil {
					s.warned = map[string]bool{}
				}
				s.warned[msg] = true
				fmt.Fprintf(os.Stderr, "multiprocessing: warning: %v\n", err)
			}
		}
	}
	if m.Func == "" {
		return reflect.Value{}, true, nil
	}
	var fn reflect.Value
	var err error
	find := func() { fn, err = s.r.Func(m.Func) }
	if d, ok := s.r.(lazyRebuilder); ok && d.NeedsDeclaring(m.Func) {
		// Func evaluates the declarations it needs first: a rebuild.
		rebuilding(find)
	} else {
		find()
	}
	if err != nil {
		return reflect.Value{}, true, fmt.Errorf("find %s in the child: %w", m.Func, err)
	}
	return fn, true, nil
}

// run runs a Process target.
func (s *server) run(m *message) {
	fn, reusable, err := s.prepare(m)
	var args []reflect.Value
	if err == nil {
		args, err = decodeArgs(fn, m.Args)
		if err != nil {
			err = fmt.Errorf("%s: %w", m.Func, err)
		}
	}
	if err != nil {
		s.reply(&message{Op: opStarted, Seq: m.Seq, Err: err.Error(), Reusable: reusable})
		return
	}
	self.Store(m.Identity)
	childCounter.Store(0)
	userSettings()
	s.reply(&message{Op: opStarted, Seq: m.Seq, Reusable: true})
	baseline := runtime.NumGoroutine()
	var p *recovered
	frames := s.captureFrames(func() { p = callTarget(fn, args) })
	if p != nil {
		p.frames = frames
		fmt.Fprintf(os.Stderr, "Process %s (pid %d):\n%s", m.Identity.Name, os.Getpid(), p.traceback())
		exitWorker(1)
	}
	if !m.Reusable || !settled(baseline) || liveChildren() > 0 || livePools.Load() > 0 {
		exitWorker(0)
	}
	self.Store(nil)
	os.Stdout.Write(markerFrame(m.Seq))
	os.Stderr.Write(markerFrame(m.Seq))
	s.mu.Lock() // the next run waits until the globals are checked
	s.reply(&message{Op: opDone, Seq: m.Seq, Reusable: true})
	s.findDirtyGlobals()
	s.mu.Unlock()
}

// findDirtyGlobals records which globals the target changed, so that the
// next run restores them to the parent's values.
func (s *server) findDirtyGlobals() {
	if s.host.nested == nil {
		s.allDirty = true
		return
	}
	for name, now := range s.host.nested.Globals() {
		if sent, ok := s.received[name]; ok && !bytes.Equal(sent, now) {
			s.dirty = append(s.dirty, name)
		}
	}
}

// settled reports whether the goroutines a target started have ended.
func settled(baseline int) bool {
	for i := 0; i < 20; i++ {
		if runtime.NumGoroutine() <= baseline {
			return true
		}
		time.Sleep(100 * time.Microsecond)
	}
	return false
}

// lazyRebuilder is implemented by a Rebuilder whose Replay only records the
// program, and whose Func evaluates the declarations the function needs.
type lazyRebuilder interface {
	NeedsDeclaring(name string) bool
}

// frameCapturer is implemented by a Rebuilder whose interpreter writes a
// line per interpreted frame to stderr while a panic unwinds (yaegi does):
// CaptureFrames runs f and returns those lines instead.
type frameCapturer interface {
	CaptureFrames(f func()) []string
}

// captureFrames runs f, a call into notebook code, and returns the frames
// of a panic in it, if the interpreter reports them.
func (s *server) captureFrames(f func()) []string {
	if fc, ok := s.r.(frameCapturer); ok {
		return fc.CaptureFrames(f)
	}
	f()
	return nil
}

// recovered is a panic caught in a target or task.
type recovered struct {
	value  any
	stack  []byte
	frames []string // the interpreted frames, innermost first
}

func (r *recovered) message() string {
	if err, ok := r.value.(error); ok {
		return cell.PanicMessage(err.Error())
	}
	return cell.PanicMessage(fmt.Sprint(r.value))
}

// traceback is what a Process prints when its target panics, like the
// engine's traceback of a cell: the panic, then the interpreted frames.
func (r *recovered) traceback() string {
	s := fmt.Sprintf("panic: %s\n", r.message())
	if t := r.frameText(); t != "" {
		s += "\ngoroutine running the target (most recent call first):\n" + t
	}
	return s
}

// frameText is the frames, one indented line each. The parent says where
// each is in the notebook (see describeFrames).
func (r *recovered) frameText() string {
	var b strings.Builder
	for _, f := range r.frames {
		b.WriteString("    " + f + "\n")
	}
	return b.String()
}

func callTarget(fn reflect.Value, args []reflect.Value) (p *recovered) {
	defer func() {
		if v := recover(); v != nil {
			p = &recovered{value: v}
		}
	}()
	if fn.Type().IsVariadic() && len(args) == fn.Type().NumIn() && args[len(args)-1].Kind() == reflect.Slice &&
		args[len(args)-1].Type() == fn.Type().In(fn.Type().NumIn()-1) {
		fn.CallSlice(args)
	} else {
		fn.Call(args)
	}
	return nil
}

// exitWorker ends the worker like Python ends a process: non-daemonic
// children are joined, daemonic ones terminated, then the process exits.
func exitWorker(code int) {
	for _, p := range ActiveChildren() {
		if p.Daemon {
			p.Terminate()
		} else {
			p.Join()
		}
	}
	os.Exit(code)
}

// silenceOutput points fds 1 and 2 at /dev/null (what replaying the
// notebook prints — its global initialisers — was printed by the notebook
// already) and returns a function that restores them.
func silenceOutput() (restore func()) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	defer null.Close()
	var saved [2]int
	for i, fd := range []int{1, 2} {
		saved[i], err = syscall.Dup(fd)
		if err != nil {
			saved[i] = -1
			continue
		}
		syscall.Dup3(int(null.Fd()), fd, 0)
	}
	return func() {
		for i, fd := range []int{1, 2} {
			if saved[i] >= 0 {
				syscall.Dup3(saved[i], fd, 0)
				syscall.Close(saved[i])
			}
		}
	}
}
