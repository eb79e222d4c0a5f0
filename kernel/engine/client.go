package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/crashreport"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/modules"
	"github.com/goproc/goproc/kernel/outband"
)

// Options configure an engine process.
type Options struct {
	// Binary is the goproc executable to run in engine mode; empty means
	// os.Executable(). Tests point it at a freshly built binary.
	Binary string
	// Dir is the engine's working directory; empty means the caller's.
	Dir string
	// Env is the engine's environment; nil means the caller's.
	Env []string
	// MemoryLimit caps each process's address space in bytes (0: no cap).
	MemoryLimit uint64
	// MaxProcesses caps how many child processes the notebook may start
	// over the engine's life (0: no cap).
	MaxProcesses int
	// ConfineWrites asks the engine to refuse writes outside Dir where the
	// OS supports it (Landlock on Linux).
	ConfineWrites bool
	// Log receives the engine's own diagnostics (never cell output); nil
	// discards them.
	Log io.Writer
	// NoSpare skips keeping a second engine started for fast restarts (for
	// one-shot runs such as grading, where restarts are rare).
	NoSpare bool
	// MaxEventBytes caps one event from the engine (a reply with its
	// result); a longer one breaks the protocol and the engine is killed
	// (0: 256 MiB).
	MaxEventBytes int
	// ConfineAll asks for every confinement Landlock offers, not only
	// writes: reads of the system directories, the binary and Dir only, no
	// TCP, no signals or abstract sockets outside (for running untrusted
	// code without a sandbox).
	ConfineAll bool
	// MaxFrameBytes caps the payload of a display or other frame in the
	// engine's output (0: outband.DefaultMaxFrame); a larger announced
	// frame is passed on as text, so output limits count it.
	MaxFrameBytes int
	// Launcher, when set, runs the engine process somewhere else than
	// directly (a grading sandbox); Dir is then the launcher's business.
	Launcher Launcher
	// Modules, when set, builds engines with the module packages cells
	// import (kernel/modules), and the client moves the notebook onto
	// them; nil: cells import what Binary has.
	Modules *modules.Builder
	// Packages are the module packages Binary has built in (an engine
	// built by Modules; none for goproc itself).
	Packages []string
	// Imports are module packages the notebook's later cells import
	// (goproc run reads them all ahead): the first build includes them,
	// so a notebook builds one engine, not one per cell.
	Imports []string
}

// Launcher makes the command that runs an engine (kernel/sandbox's
// Sandbox is one). Command returns the command for args (args[0] is the
// program's name); the client sets its Env, Stdout, Stderr, ExtraFiles and
// SysProcAttr's Setpgid and Pdeathsig, starts it, then calls Started.
type Launcher interface {
	Command(args ...string) *exec.Cmd
	Started(cmd *exec.Cmd) error
}

// maxPartialLine is how much of a line without a newline is held back before
// it is delivered in pieces (a 100 MB line must not wait for its end).
const maxPartialLine = 64 << 10

// EngineModeArg is the argument that starts goproc as an engine process.
const EngineModeArg = "__engine"

// Environment variables the client passes to the engine process.
const (
	envMemoryLimit   = "GOPROC_MEMORY_LIMIT"
	envMaxProcesses  = "GOPROC_MAX_PROCESSES"
	envConfineWrites = "GOPROC_CONFINE_WRITES"
	envConfined      = "GOPROC_CONFINED"
)

// How long an interrupted cell may take to stop before its engine is killed
// and replaced.
const interruptGrace = 2 * time.Second

// Client drives an engine process. It implements language.Engine.
type Client struct {
	opts Options
	log  io.Writer

	mu   sync.Mutex // guards proc
	proc *process
	info language.Info

	spare  chan *process // a started engine kept ready for restarts
	closed bool          // guarded by mu
	// firstStarted is set once the first engine has started: later ones
	// are replacements.
	firstStarted atomic.Bool
	// modulePkgs are the module packages the engine binary has (guarded
	// by mu).
	modulePkgs []string
}

var _ language.Engine = (*Client)(nil)

// Start starts an engine process and waits until it is ready.
func Start(ctx context.Context, opts Options) (*Client, error) {
	if opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the goproc binary: %w", err)
		}
		opts.Binary = exe
	}
	c := &Client{opts: opts, log: opts.Log, spare: make(chan *process, 1), modulePkgs: opts.Packages}
	if c.log == nil {
		c.log = io.Discard
	}
	p, err := c.startProcess(ctx)
	if err != nil {
		return nil, err
	}
	c.firstStarted.Store(true)
	c.proc = p
	c.info = p.info
	if !opts.NoSpare {
		go c.refillSpare()
	}
	return c, nil
}

// process is one running engine.
type process struct {
	cmd         *exec.Cmd
	info        language.Info
	confinement string
	reqMu       sync.Mutex
	req         *json.Encoder
	reqW        *os.File
	exited      chan struct{} // closed when the process has exited
	status      string        // how it exited, valid after exited is closed

	mu      sync.Mutex
	calls   map[int64]chan event
	nextID  int64
	sink    language.Output // where output goes now
	streams [2]*streamState
	stderrT tail                // the last stderr text, for crash reports
	crash   *crashreport.Report // the runtime's crash report (fd 5)
	crashAt string              // the Go runtime's last "fatal error:"/"panic:" line
	ends    chan endMark
	inputs  chan int64 // ids of the input marks seen on stdout
	readers sync.WaitGroup
}

type endMark struct {
	stream int
	seq    int64
}

type streamState struct {
	name  string
	demux outband.Demux
	lines outband.Lines
}

func (c *Client) startProcess(ctx context.Context) (*process, error) {
	p, err := c.startProcessOnce(ctx)
	if errors.Is(err, errInterruptedAtStart) && ctx.Err() == nil {
		// A SIGINT for the front's process group (jupyter_client
		// interrupts that way, and interrupts before it shuts a kernel
		// down) reaches a child forked in the instant before it moves to
		// its own group, and kills it: that says nothing about the
		// engine, so try once more.
		p, err = c.startProcessOnce(ctx)
	}
	return p, err
}

// errInterruptedAtStart is an engine killed by SIGINT before it was ready.
var errInterruptedAtStart = errors.New("interrupted while starting")

func (c *Client) startProcessOnce(ctx context.Context) (*process, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("engine pipes: %w", err)
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("engine pipes: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("engine pipes: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("engine pipes: %w", err)
	}
	crashR, crashW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("engine pipes: %w", err)
	}
	var cmd *exec.Cmd
	if c.opts.Launcher != nil {
		cmd = c.opts.Launcher.Command("goproc", EngineModeArg)
	} else {
		cmd = exec.Command(c.binary(), EngineModeArg)
		cmd.Dir = c.opts.Dir
	}
	cmd.Env = c.opts.Env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	if c.firstStarted.Load() {
		// An engine that replaces another starts no workers ahead: under
		// the grader they would start inside the next cell and pass for
		// its processes.
		cmd.Env = append(cmd.Env, "GOPROC_MP_PREWARM=0")
	}
	if c.opts.MemoryLimit > 0 {
		cmd.Env = append(cmd.Env, envMemoryLimit+"="+strconv.FormatUint(c.opts.MemoryLimit, 10))
	}
	if c.opts.MaxProcesses > 0 {
		cmd.Env = append(cmd.Env, envMaxProcesses+"="+strconv.Itoa(c.opts.MaxProcesses))
	}
	if c.opts.ConfineAll {
		cmd.Env = append(cmd.Env, envConfineWrites+"=all")
	} else if c.opts.ConfineWrites {
		cmd.Env = append(cmd.Env, envConfineWrites+"=1")
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{reqR, evW, crashW}
	// Its own process group, so that restarting kills everything the
	// notebook started; it dies with the thread that started it.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pdeathsig = true, syscall.SIGKILL
	err = startLocked(cmd)
	if err == nil && c.opts.Launcher != nil {
		if err = c.opts.Launcher.Started(cmd); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	if err != nil {
		for _, f := range []*os.File{reqR, reqW, evR, evW, outR, outW, errR, errW, crashR, crashW} {
			f.Close()
		}
		return nil, fmt.Errorf("start the engine %s: %w", c.binary(), err)
	}
	for _, f := range []*os.File{reqR, evW, outW, errW, crashW} {
		f.Close()
	}
	p := &process{
		cmd:    cmd,
		req:    json.NewEncoder(reqW),
		reqW:   reqW,
		exited: make(chan struct{}),
		calls:  map[int64]chan event{},
		ends:   make(chan endMark, 16),
		inputs: make(chan int64, 4),
	}
	p.streams[0] = &streamState{name: "stdout"}
	p.streams[1] = &streamState{name: "stderr"}
	for i, s := range p.streams {
		s.demux.H = &streamHandler{p: p, i: i}
		s.demux.MaxFrame = c.opts.MaxFrameBytes
	}
	ready := make(chan event, 1)
	p.calls[0] = ready
	p.readers.Add(2)
	go p.readOutput(0, outR)
	go p.readOutput(1, errR)
	p.crash = crashreport.Read(crashR)
	go p.readEvents(evR, c)
	go func() {
		err := cmd.Wait()
		p.status = exitStatus(cmd, err)
		close(p.exited)
	}()
	select {
	case ev := <-ready:
		if ev.Info != nil {
			p.info = *ev.Info
		}
		p.confinement = ev.Confinement
		return p, nil
	case <-p.exited:
		p.readers.Wait()
		err := fmt.Errorf("the engine exited while starting (%s): %s", p.status, strings.TrimSpace(p.stderrT.String()))
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
			err = fmt.Errorf("%w: %w", errInterruptedAtStart, err)
		}
		return nil, err
	case <-ctx.Done():
		p.kill()
		return nil, fmt.Errorf("start the engine: %w", ctx.Err())
	}
}

// startLocked starts cmd from one OS thread that never exits, so that
// Pdeathsig (which fires when the starting thread exits) only fires when
// this process dies.
func startLocked(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			lockThread()
			for r := range spawnReqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReqs <- spawnReq{cmd: cmd, done: done}
	return <-done
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

func exitStatus(cmd *exec.Cmd, err error) string {
	if cmd.ProcessState == nil {
		return fmt.Sprint(err)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		return "killed by signal " + ws.Signal().String()
	case ok:
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	}
	return cmd.ProcessState.String()
}

func (p *process) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Process.Kill()
	}
}

// discard kills the engine and closes its request pipe: it is done with.
func (p *process) discard() {
	p.kill()
	p.reqW.Close()
}

func (p *process) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// readOutput reads the engine's stdout or stderr.
func (p *process) readOutput(i int, r *os.File) {
	defer p.readers.Done()
	defer r.Close()
	s := p.streams[i]
	buf := make([]byte, 64<<10)
	for {
		// A partial line (a prompt, a progress bar) is shown after a pause.
		p.mu.Lock()
		partial := s.lines.Len() > 0
		p.mu.Unlock()
		if partial {
			r.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		} else {
			r.SetReadDeadline(time.Time{})
		}
		n, err := r.Read(buf)
		if n > 0 {
			p.mu.Lock()
			s.demux.Write(buf[:n])
			p.mu.Unlock()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			p.mu.Lock()
			p.flushPartial(i)
			p.mu.Unlock()
			continue
		}
		if err != nil {
			p.mu.Lock()
			p.flushPartial(i)
			p.mu.Unlock()
			return
		}
	}
}

// flushPartial delivers a stream's partial line. p.mu must be held.
func (p *process) flushPartial(i int) {
	if b := p.streams[i].lines.Flush(); len(b) > 0 {
		p.deliverText(i, b)
	}
}

func (p *process) deliverText(i int, b []byte) {
	if i == 1 {
		p.stderrT.Write(b)
		for _, line := range strings.Split(string(b), "\n") {
			if crashreport.IsCrashLine(line) {
				p.crashAt = line
			}
		}
	}
	if p.sink != nil {
		p.sink.Stream(p.streams[i].name, string(b))
	}
}

// streamHandler receives one stream's parsed output; p.mu is held.
type streamHandler struct {
	p *process
	i int
}

func (h *streamHandler) Text(b []byte) {
	s := h.p.streams[h.i]
	if lines := s.lines.Add(b); len(lines) > 0 {
		h.p.deliverText(h.i, lines)
	}
	if s.lines.Len() > maxPartialLine {
		h.p.flushPartial(h.i)
	}
}

func (h *streamHandler) Frame(kind byte, payload []byte) {
	p := h.p
	if kind == outband.KindInput {
		// The unfinished line stays for the input request (inputReady).
		id, _ := strconv.ParseInt(string(payload), 10, 64)
		select {
		case p.inputs <- id:
		default:
		}
		return
	}
	p.flushPartial(h.i)
	switch kind {
	case outband.KindEnd:
		seq, _ := strconv.ParseInt(string(payload), 10, 64)
		select {
		case p.ends <- endMark{stream: h.i, seq: seq}:
		default:
		}
	case outband.KindDisplay:
		var d language.Display
		if err := json.Unmarshal(payload, &d); err == nil && p.sink != nil {
			p.sink.Display(d)
		}
	case outband.KindClear:
		if p.sink != nil {
			p.sink.ClearOutput(string(payload) == "wait")
		}
	}
}

// readEvents reads replies and input requests from the engine.
func (p *process) readEvents(r *os.File, c *Client) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	max := c.opts.MaxEventBytes
	if max <= 0 {
		max = 256 << 20
	}
	sc.Buffer(make([]byte, min(1<<20, max)), max)
	defer func() {
		if sc.Err() != nil {
			// A line longer than the cap is not the engine's: something in
			// the notebook wrote to the event pipe. The engine is lost.
			fmt.Fprintf(c.log, "goproc: the engine's events broke the protocol: %v\n", sc.Err())
			p.kill()
		}
	}()
	inputBusy := make(chan struct{}, 1)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			fmt.Fprintf(c.log, "goproc: bad event from the engine: %v\n", err)
			continue
		}
		switch ev.Op {
		case "ready":
			p.mu.Lock()
			ch := p.calls[0]
			delete(p.calls, 0)
			p.mu.Unlock()
			if ch != nil {
				ch <- ev
			}
		case "input_request":
			p.mu.Lock()
			sink := p.sink
			p.mu.Unlock()
			select {
			case inputBusy <- struct{}{}:
			default:
				// The engine asks for one line at a time; more at once
				// are not its requests.
				p.send(request{ID: ev.ID, Op: "input_reply", InputError: "another input request is pending"})
				continue
			}
			go func(id int64) {
				defer func() { <-inputBusy }()
				p.inputReady(id)
				reply := request{ID: id, Op: "input_reply"}
				if sink == nil {
					reply.InputError = "no cell is running to ask for input"
				} else if v, err := sink.Input(ev.Prompt, ev.Password); err != nil {
					reply.InputError = err.Error()
				} else {
					reply.InputValue = v
				}
				p.send(reply)
			}(ev.ID)
		default:
			p.mu.Lock()
			ch := p.calls[ev.ID]
			delete(p.calls, ev.ID)
			p.mu.Unlock()
			if ch != nil {
				ch <- ev
			}
		}
	}
}

// inputReady waits (a second at most) until the output the cell wrote
// before input request id has been read, then delivers stdout's unfinished
// line just before the request: the front makes it the prompt.
func (p *process) inputReady(id int64) {
	timeout := time.After(time.Second)
wait:
	for {
		select {
		case got := <-p.inputs:
			if got == id {
				break wait
			}
		case <-timeout:
			break wait
		case <-p.exited:
			break wait
		}
	}
	p.mu.Lock()
	p.flushPartial(0)
	p.mu.Unlock()
}

func (p *process) send(r request) error {
	p.reqMu.Lock()
	defer p.reqMu.Unlock()
	if err := p.req.Encode(r); err != nil {
		return fmt.Errorf("send to the engine: %w", err)
	}
	return nil
}

// call sends a request and waits for its reply.
func (p *process) call(ctx context.Context, r request) (event, error) {
	ch := make(chan event, 1)
	p.mu.Lock()
	p.nextID++
	r.ID = p.nextID
	p.calls[r.ID] = ch
	p.mu.Unlock()
	if err := p.send(r); err != nil {
		return event{}, err
	}
	select {
	case ev := <-ch:
		if ev.Error != "" {
			return ev, errors.New(ev.Error)
		}
		return ev, nil
	case <-p.exited:
		return event{}, fmt.Errorf("the engine exited (%s)", p.status)
	case <-ctx.Done():
		return event{}, ctx.Err()
	}
}

// binary is the engine binary new engines run (a module engine once the
// notebook has moved onto one).
func (c *Client) binary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts.Binary
}

func (c *Client) current() *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc
}

// Execute implements language.Engine.
func (c *Client) Execute(ctx context.Context, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	p := c.current()
	if p == nil || !p.alive() {
		if err := c.replace(context.Background()); err != nil {
			return errorResult("EngineError", "the Go engine could not be started: "+err.Error())
		}
		p = c.current()
	}
	if c.opts.Modules != nil {
		code, res := c.modulesFor(ctx, req.Code, out)
		if res != nil {
			return *res
		}
		req.Code = code
		p = c.current()
	}
	return c.executeOn(ctx, p, req, out)
}

// executeOn runs a cell on the engine p; out nil drops its output.
func (c *Client) executeOn(ctx context.Context, p *process, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	p.mu.Lock()
	p.sink = out
	p.nextID++
	id := p.nextID
	ch := make(chan event, 1)
	p.calls[id] = ch
	p.mu.Unlock()
	// drop stale end marks
	for len(p.ends) > 0 {
		<-p.ends
	}
	if err := p.send(request{ID: id, Op: "execute", Seq: id, Execute: &req}); err != nil {
		return c.crashed(p, out)
	}
	var reply event
	interrupted := ctx.Done()
	var killTimer <-chan time.Time
wait:
	for {
		select {
		case reply = <-ch:
			break wait
		case <-p.exited:
			return c.crashed(p, out)
		case <-interrupted:
			interrupted = nil
			p.send(request{Op: "interrupt"})
			killTimer = time.After(interruptGrace)
		case <-killTimer:
			p.kill()
			<-p.exited
			p.readers.Wait()
			if err := c.replace(context.Background()); err != nil {
				return errorResult("EngineError", "the Go engine could not be restarted: "+err.Error())
			}
			r := errorResult("Interrupted", "the cell did not stop when interrupted, so the Go engine was restarted: the notebook's state was reset")
			r.EngineRestarted = true
			return r
		}
	}
	// Wait for the end markers on both streams: everything the cell wrote
	// before it returned has then been delivered.
	got := [2]bool{}
	deadline := time.After(5 * time.Second)
	for !got[0] || !got[1] {
		select {
		case m := <-p.ends:
			if m.seq == id {
				got[m.stream] = true
			}
		case <-p.exited:
			got = [2]bool{true, true}
		case <-deadline:
			fmt.Fprintf(c.log, "goproc: end of cell output not seen after 5s\n")
			got = [2]bool{true, true}
		}
	}
	if reply.Execute == nil {
		return errorResult("EngineError", "the engine sent no result")
	}
	return *reply.Execute
}

// crashed reports a dead engine and starts a fresh one.
func (c *Client) crashed(p *process, out language.Output) language.ExecuteResult {
	<-p.exited
	waitTimeout(&p.readers, time.Second)
	p.crash.Wait(time.Second)
	report := p.crash.String()
	p.mu.Lock()
	why := crashReason(p.status, report+"\n"+p.crashAt+"\n"+p.stderrT.String())
	p.mu.Unlock()
	if report != "" {
		// For whoever debugs goproc: the kernel's log, not the cell.
		fmt.Fprintf(c.log, "goproc: the engine crashed; the Go runtime's report begins:\n%s\n", report)
	}
	msg := fmt.Sprintf("the Go engine crashed (%s); the notebook's state was reset", why)
	if err := c.replace(context.Background()); err != nil {
		msg += "; restarting it failed: " + err.Error()
	}
	r := errorResult("EngineCrashed", msg)
	r.EngineRestarted = true
	return r
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// crashReason finds the Go runtime's own words for a crash in its report
// and the tail of stderr, or describes the exit status.
func crashReason(status, text string) string {
	if why := crashreport.Reason(text); why != "" {
		return why
	}
	if strings.HasPrefix(status, "exit status") {
		return status + ": os.Exit was called or the process ended"
	}
	return status
}

func errorResult(name, value string) language.ExecuteResult {
	return language.ExecuteResult{Status: "error", Error: &language.Error{Name: name, Value: value, Traceback: []string{name + ": " + value}}}
}

// errClosed is returned when an engine would be started after Close.
var errClosed = errors.New("the engine client is closed")

// replace kills the current engine (if any) and installs a fresh one.
func (c *Client) replace(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		// A cell interrupted by the shutdown sees its engine die; it must
		// not start another.
		c.mu.Unlock()
		return errClosed
	}
	old := c.proc
	c.proc = nil
	c.mu.Unlock()
	if old != nil {
		old.discard()
	}
	var p *process
	select {
	case p = <-c.spare:
		if !p.alive() {
			p = nil
		}
	default:
	}
	if p == nil {
		var err error
		if p, err = c.startProcess(ctx); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		p.discard()
		return errClosed
	}
	c.proc = p
	c.mu.Unlock()
	if !c.opts.NoSpare {
		go c.refillSpare()
	}
	return nil
}

// refillSpare starts a spare engine so that a restart costs no start-up.
func (c *Client) refillSpare() {
	if len(c.spare) > 0 {
		return
	}
	p, err := c.startProcess(context.Background())
	if err != nil {
		fmt.Fprintf(c.log, "goproc: start a spare engine: %v\n", err)
		return
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if !closed {
		select {
		case c.spare <- p:
			return
		default:
		}
	}
	p.discard()
}

// Complete implements language.Engine.
func (c *Client) Complete(ctx context.Context, code string, cursorPos int) (language.CompleteResult, error) {
	ev, err := c.current().call(ctx, request{Op: "complete", Code: code, Cursor: cursorPos})
	if err != nil || ev.Complete == nil {
		return language.CompleteResult{Matches: []string{}, CursorStart: cursorPos, CursorEnd: cursorPos, Metadata: map[string]any{}}, err
	}
	return *ev.Complete, nil
}

// Inspect implements language.Engine.
func (c *Client) Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (language.InspectResult, error) {
	ev, err := c.current().call(ctx, request{Op: "inspect", Code: code, Cursor: cursorPos, Detail: detailLevel})
	if err != nil || ev.Inspect == nil {
		return language.InspectResult{Data: language.MimeBundle{}, Metadata: map[string]any{}}, err
	}
	return *ev.Inspect, nil
}

// IsComplete implements language.Engine.
func (c *Client) IsComplete(ctx context.Context, code string) (language.IsCompleteResult, error) {
	ev, err := c.current().call(ctx, request{Op: "is_complete", Code: code})
	if err != nil || ev.IsComplete == nil {
		return language.IsCompleteResult{Status: "unknown"}, err
	}
	return *ev.IsComplete, nil
}

// Confinement says how the engine's file writes are confined, when
// Options.ConfineWrites asked for it: "writes confined to DIR (Landlock)" or
// "not confined: REASON".
func (c *Client) Confinement() string {
	if p := c.current(); p != nil {
		return p.confinement
	}
	return ""
}

// Info implements language.Engine.
func (c *Client) Info() language.Info { return c.info }

// Restart implements language.Engine.
func (c *Client) Restart(ctx context.Context) error { return c.replace(ctx) }

// Close implements language.Engine: it kills the engine and everything the
// notebook started.
func (c *Client) Close() error {
	c.mu.Lock()
	p := c.proc
	c.proc = nil
	c.closed = true
	c.mu.Unlock()
	// Both engines are killed before waiting for either.
	if p != nil {
		p.discard()
	}
	select {
	case s := <-c.spare:
		s.discard()
	default:
	}
	if p == nil {
		return nil
	}
	<-p.exited
	return nil
}

// tail keeps the last few KiB written to it.
type tail struct {
	b []byte
}

func (t *tail) Write(p []byte) {
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = append([]byte(nil), t.b[len(t.b)-8<<10:]...)
	}
}

func (t *tail) String() string { return string(t.b) }
