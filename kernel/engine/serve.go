package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/confine"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/outband"
	"github.com/goproc/goproc/kernel/sandbox"
	"github.com/goproc/goproc/runtime/multiprocessing"
)

// ServeProcess is the engine process's main: it serves requests from fd 3 and
// answers on fd 4 until fd 3 closes. Cell output goes to fds 1 and 2.
func ServeProcess() error {
	confinement := applyLimits()
	redirectCrashOutput(crashFD)
	quietYaegiLog()
	signal.Ignore(os.Interrupt) // the front interrupts cells explicitly
	debug.SetMaxStack(256 << 20)
	reqs := os.NewFile(requestFD, "requests")
	evs := os.NewFile(eventFD, "events")
	if reqs == nil || evs == nil {
		return errors.New("engine mode needs fds 3 and 4; goproc starts it itself")
	}
	s := &server{out: json.NewEncoder(evs), inputs: map[int64]chan request{}}
	in, err := NewInterpreter(Config{Stdout: os.Stdout, Stderr: os.Stderr, Input: s.askInput})
	if err != nil {
		return err
	}
	s.in = in
	multiprocessing.SetHost(in)
	info := language.GoInfo(goVersion())
	s.send(event{Op: "ready", Info: &info, Confinement: confinement})

	sc := bufio.NewScanner(reqs)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var r request
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintf(os.Stderr, "goproc engine: bad request: %v\n", err)
			continue
		}
		s.handle(r)
	}
	s.wg.Wait()
	multiprocessing.Shutdown()
	return sc.Err()
}

// redirectCrashOutput points fd 2, where the Go runtime writes the report
// of a fatal error, at the crash pipe the parent passes as fd (5 for the
// engine, multiprocessing.WorkerCrashFD for a worker), and makes
// os.Stderr — what the engine, its interpreter and the processes cells start
// write to — a new descriptor for the cell's stderr. A stack overflow's
// report is hundreds of lines of the interpreter's own stacks: the client
// reads it for the reason it gives, instead of the cell showing it. Without
// that pipe nothing changes.
func redirectCrashOutput(fd int) {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return
	}
	cellErr, _, errno := syscall.Syscall(syscall.SYS_FCNTL, 2, syscall.F_DUPFD_CLOEXEC, 10)
	if errno != 0 {
		return
	}
	if err := syscall.Dup3(fd, 2, 0); err != nil {
		syscall.Close(int(cellErr))
		return
	}
	syscall.Close(fd)
	// The *os.File for fd 2 must stay reachable: its finalizer would close
	// fd 2, and the runtime's report would have nowhere to go.
	runtimeStderr = os.Stderr
	os.Stderr = os.NewFile(cellErr, "/dev/stderr")
}

// runtimeStderr keeps the engine's original os.Stderr (now the crash pipe)
// from being collected and closed.
var runtimeStderr *os.File

// applyLimits applies the limits the client asked for in the environment:
// an address-space cap, a cap on processes the notebook may start, and write
// confinement to the working directory (a cgo build re-executes the engine
// for that). It returns how writes are confined, for the client to report.
func applyLimits() string {
	if v := os.Getenv(envMemoryLimit); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && n > 0 {
			lim := syscall.Rlimit{Cur: n, Max: n}
			if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
				fmt.Fprintf(os.Stderr, "goproc engine: memory limit not applied: %v\n", err)
			}
			debug.SetMemoryLimit(int64(n / 2))
			// Children inherit the address-space cap: give them the same
			// soft limit, so that they collect harder near it too.
			if os.Getenv("GOMEMLIMIT") == "" {
				os.Setenv("GOMEMLIMIT", strconv.FormatUint(n/2, 10))
			}
		}
	}
	if v := os.Getenv(envMaxProcesses); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			multiprocessing.SetMaxProcesses(n)
		}
	}
	mode := os.Getenv(envConfineWrites)
	if mode != "1" && mode != "all" {
		return ""
	}
	if done := os.Getenv(envConfined); done != "" {
		return done
	}
	dir, err := os.Getwd()
	if err != nil {
		return "not confined: " + err.Error()
	}
	done := "writes confined to " + dir + " (Landlock)"
	dirs := append([]string{dir}, confine.Devices...)
	if mode == "all" {
		// Everything Landlock offers: reads of the system, the binary and
		// the working directory only, no TCP, no signals or abstract
		// sockets outside the engine and its children.
		exe, _ := os.Executable()
		p := confine.Policy{Write: dirs, Read: append([]string{exe, "/proc", "/sys"}, sandbox.SystemDirs...), NoTCP: true, Scoped: true}
		done := "writes confined to " + dir + " and " + p.Describe()
		err = p.Apply()
		if errors.Is(err, confine.ErrThreadsUnsupported) {
			// A cgo build: confine one thread and re-execute from it.
			err = p.Exec(exe, os.Args, append(os.Environ(), envConfined+"="+done))
		}
		if err == nil {
			return done
		}
		return "not confined: " + err.Error()
	}
	if err = confine.Process(dirs); err == nil {
		return done
	}
	if errors.Is(err, confine.ErrThreadsUnsupported) {
		// A cgo build: confine one thread and re-execute from it.
		var exe string
		if exe, err = os.Executable(); err == nil {
			err = confine.Exec(dirs, exe, os.Args, append(os.Environ(), envConfined+"="+done))
		}
	}
	// Only reached when confinement failed.
	return "not confined: " + err.Error()
}

// cellScopedProcesses is set when grading: a Process a cell left running
// is stopped when the cell ends, so that nothing it prints later counts as
// a later answer's output (see stopLeftProcesses).
var cellScopedProcesses = os.Getenv("GOPROC_MP_CELL_SCOPED") == "1"

// stopLeftProcesses kills the Processes the notebook started that are
// still running, and says so on stderr. Pools are left alone: their idle
// workers do nothing on their own.
func stopLeftProcesses() {
	for _, p := range multiprocessing.ActiveChildren() {
		if !p.IsAlive() {
			continue
		}
		p.Kill()
		p.JoinTimeout(time.Second)
		os.Stderr.WriteString("goproc grade: a process was still running when its cell ended and was stopped (join your processes)\n")
	}
}

func goVersion() string {
	v := runtime.Version()
	if len(v) > 2 && v[:2] == "go" {
		return v[2:]
	}
	return v
}

type server struct {
	in *Interpreter

	outMu sync.Mutex
	out   *json.Encoder

	mu         sync.Mutex
	cancelCell context.CancelCauseFunc
	allowStdin bool
	cellID     int64
	inputs     map[int64]chan request
	nextInput  int64
	wg         sync.WaitGroup
}

func (s *server) send(e event) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if err := s.out.Encode(e); err != nil {
		fmt.Fprintf(os.Stderr, "goproc engine: write event: %v\n", err)
		os.Exit(70) // the front is gone
	}
}

func (s *server) handle(r request) {
	switch r.Op {
	case "execute":
		ctx, cancel := context.WithCancelCause(context.Background())
		s.mu.Lock()
		s.cancelCell = cancel
		s.allowStdin = r.Execute != nil && r.Execute.AllowStdin
		s.cellID = r.ID
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer cancel(nil) // a finished cell is not an interrupted one
			res := s.execute(ctx, r)
			if cellScopedProcesses {
				stopLeftProcesses()
			}
			// End markers after everything the cell wrote: the client waits
			// for both before it reports the cell done.
			marker := outband.Encode(outband.KindEnd, []byte(strconv.FormatInt(r.Seq, 10)))
			os.Stdout.Write(marker)
			os.Stderr.Write(marker)
			s.mu.Lock()
			s.cancelCell = nil
			s.mu.Unlock()
			s.send(event{ID: r.ID, Op: "reply", Execute: &res})
		}()
	case "interrupt":
		s.mu.Lock()
		if s.cancelCell != nil {
			// The cause tells multiprocessing to terminate the cell's processes.
			s.cancelCell(multiprocessing.ErrInterrupted)
		}
		s.mu.Unlock()
	case "input_reply":
		s.mu.Lock()
		ch := s.inputs[r.ID]
		delete(s.inputs, r.ID)
		s.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	case "complete":
		res := s.complete(r.Code, r.Cursor) // magics.go
		s.send(event{ID: r.ID, Op: "reply", Complete: &res})
	case "inspect":
		res := s.in.Inspect(r.Code, r.Cursor, r.Detail)
		s.send(event{ID: r.ID, Op: "reply", Inspect: &res})
	case "is_complete":
		res := s.isComplete(r.Code) // magics.go
		s.send(event{ID: r.ID, Op: "reply", IsComplete: &res})
	case "export":
		s.send(event{ID: r.ID, Op: "reply", Export: s.in.export()})
	case "adopt":
		ev := event{ID: r.ID, Op: "reply"}
		if r.Export == nil {
			ev.Error = "adopt without a state"
		} else if err := s.in.adopt(r.Export); err != nil {
			ev.Error = err.Error()
		}
		s.send(ev)
	default:
		s.send(event{ID: r.ID, Op: "reply", Error: "unknown request " + strconv.Quote(r.Op)})
	}
}

func (s *server) execute(ctx context.Context, r request) language.ExecuteResult {
	req := r.Execute
	if req == nil {
		return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "EngineError", Value: "execute without a request"}}
	}
	if name, ok := helpRequest(req.Code); ok {
		payload, herr := s.in.Help(name)
		if herr != nil {
			return language.ExecuteResult{Status: "error", Error: herr}
		}
		return language.ExecuteResult{Status: "ok", Payload: payload}
	}
	o := s.runCell(ctx, req.Code) // magics.go
	res := language.ExecuteResult{Status: "ok", Result: o.Result}
	if o.Err != nil {
		res.Status, res.Error, res.Result = "error", o.Err, nil
	}
	if len(req.UserExpressions) > 0 {
		res.UserExpressions = map[string]json.RawMessage{}
		for name, expr := range req.UserExpressions {
			b, _ := json.Marshal(s.in.Expression(ctx, expr))
			res.UserExpressions[name] = b
		}
	}
	return res
}

// askInput sends input_request to the client and waits for the reply.
func (s *server) askInput(prompt string, password bool) (string, error) {
	s.mu.Lock()
	allowed := s.allowStdin
	s.nextInput++
	id := -s.nextInput
	ch := make(chan request, 1)
	if allowed {
		s.inputs[id] = ch
	}
	s.mu.Unlock()
	if !allowed {
		return "", errors.New("reading standard input is not possible here: this client did not allow input (allow_stdin is false); pass the data in a variable instead")
	}
	// What the cell printed before it asked is in the stdout pipe ahead of
	// this mark: the client waits for it before it passes the request on,
	// so the front has the line the cell began ("your name? ") first.
	os.Stdout.Write(outband.Encode(outband.KindInput, []byte(strconv.FormatInt(id, 10))))
	s.send(event{ID: id, Op: "input_request", Prompt: prompt, Password: password})
	r := <-ch
	if r.InputError != "" {
		return "", errors.New(r.InputError)
	}
	return r.InputValue, nil
}
