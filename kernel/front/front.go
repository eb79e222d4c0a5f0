// Package front is goproc's Jupyter protocol server: the process that owns
// the five ZeroMQ sockets, signs and verifies every message, keeps the
// execution count and history, relays stdin and publishes IOPub. It never
// runs user code: cells go to a language.Engine, which kernel/engine
// implements with a separate process.
//
// Shell requests are handled one at a time in arrival order; control,
// heartbeat and stdin each have their own goroutine, so an interrupt or a
// shutdown never waits behind a running cell. Handlers are looked up by
// msg_type, one function per message type, as in net/http.
package front

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/wire"
	"github.com/goproc/goproc/kernel/wire/zmtp"
)

// EngineFactory starts an engine. The context lives as long as the kernel.
type EngineFactory func(ctx context.Context) (language.Engine, error)

// Options tune a Kernel. The zero value is usable.
type Options struct {
	// ImplementationVersion is reported in kernel_info_reply.
	ImplementationVersion string
	// Log receives the kernel's own diagnostics; nil means stderr.
	Log *slog.Logger
	// HandleSignals makes Run catch SIGINT (interrupt the running cell) and
	// SIGTERM (shut down). Serve sets it.
	HandleSignals bool
	// StreamChunk is the largest stream message in bytes (default 64 KiB).
	StreamChunk int
	// StreamDelay is how long stream text may wait to be coalesced with
	// the text that follows it (default 10 ms). The end of a cell, a
	// display and an input request flush at once.
	StreamDelay time.Duration
	// SendTimeout bounds a write to a client that does not read; the
	// client is then disconnected (default 10 s).
	SendTimeout time.Duration
	// WatchParent makes Run shut down when the process that started the
	// kernel goes away (its parent pid changes), as ipykernel's parent
	// poller does when jupyter_client sets JPY_PARENT_PID.
	WatchParent bool
}

// Kernel is a running Jupyter kernel front.
type Kernel struct {
	conn      wire.ConnectionInfo
	signer    *wire.Signer
	sess      *wire.Session
	log       *slog.Logger
	opts      Options
	newEngine EngineFactory

	shell, control, stdin *router
	iopub                 *zmtp.Socket
	iopubMu               sync.Mutex
	hb                    *zmtp.Socket

	// running is closed when Run has set runCtx; control requests wait
	// for it. controlMu handles them one at a time.
	running   chan struct{}
	runCtx    context.Context
	controlMu sync.Mutex

	shellHandlers   map[string]handler
	controlHandlers map[string]handler

	queue  *shellQueue
	engine *engineSlot

	// mu guards the fields below it.
	mu         sync.Mutex
	cancelCell context.CancelCauseFunc
	inputID    string // msg_id of the pending input_request
	shutdown   *shutdownContent

	abortUntil   atomic.Uint64 // shell seqs <= this are aborted execute_requests
	stdinReplies chan *wire.Message
	stopOnce     sync.Once
	stopCh       chan struct{}

	created      time.Time
	answeredInfo atomic.Bool
	firstInfo    chan struct{} // closed after the first kernel_info_reply

	// Touched only by the shell goroutine.
	execCount int
	history   history
}

type shutdownContent struct {
	Status  string `json:"status"`
	Restart bool   `json:"restart"`
	// request is the shutdown_request: the parent of the shutdown_reply
	// published on IOPub as the kernel exits, as ipykernel sets it.
	request *wire.Message
}

// errInterrupted is the cause of a cell context cancelled by an interrupt.
var errInterrupted = errors.New("interrupted")

// router is a ROUTER socket. A send is on the wire when it returns.
type router struct {
	name string
	sock *zmtp.Socket
}

func (r *router) send(frames [][]byte) error {
	if err := r.sock.Send(frames); err != nil {
		return fmt.Errorf("sending on %s: %w", r.name, err)
	}
	return nil
}

// Serve runs a kernel on conn until a shutdown_request, SIGTERM or the end
// of ctx. It starts listening at once and starts the engine in the
// background, so kernel_info_reply does not wait for the engine.
func Serve(ctx context.Context, conn wire.ConnectionInfo, newEngine EngineFactory, opts Options) error {
	opts.HandleSignals = true
	k, err := New(conn, newEngine, opts)
	if err != nil {
		return err
	}
	return k.Run(ctx)
}

// New binds the kernel's five sockets. A tcp port of 0 binds a free port;
// ConnectionInfo reports the ports actually bound.
func New(conn wire.ConnectionInfo, newEngine EngineFactory, opts Options) (*Kernel, error) {
	signer, err := conn.Signer()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.StreamChunk <= 0 {
		opts.StreamChunk = 64 << 10
	}
	if opts.StreamDelay <= 0 {
		opts.StreamDelay = 10 * time.Millisecond
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 10 * time.Second
	}
	k := &Kernel{
		conn:         conn,
		signer:       signer,
		sess:         wire.NewSession("kernel"),
		log:          opts.Log,
		opts:         opts,
		newEngine:    newEngine,
		queue:        newShellQueue(),
		stdinReplies: make(chan *wire.Message, 1),
		stopCh:       make(chan struct{}),
		created:      time.Now(),
		firstInfo:    make(chan struct{}),
		running:      make(chan struct{}),
	}
	k.shellHandlers = map[string]handler{
		"execute_request":     k.handleExecute,
		"kernel_info_request": k.handleKernelInfo,
		"complete_request":    k.handleComplete,
		"inspect_request":     k.handleInspect,
		"is_complete_request": k.handleIsComplete,
		"history_request":     k.handleHistory,
		"comm_info_request":   k.handleCommInfo,
		"comm_open":           k.handleCommOpen,
		"comm_msg":            k.handleCommIgnored,
		"comm_close":          k.handleCommIgnored,
		"connect_request":     k.handleConnect,
		"shutdown_request":    k.handleShutdown,
	}
	k.controlHandlers = map[string]handler{
		"kernel_info_request": k.handleKernelInfo,
		"shutdown_request":    k.handleShutdown,
		"interrupt_request":   k.handleInterrupt,
	}
	zopts := zmtp.Options{WriteTimeout: opts.SendTimeout, Logf: func(format string, args ...any) {
		k.log.Warn("zmtp", "msg", fmt.Sprintf(format, args...))
	}}
	var socks []*zmtp.Socket
	mk := func(name string, kind zmtp.Kind, port *int, h zmtp.Handler) (*zmtp.Socket, error) {
		s, err := zmtp.Listen(kind, conn.Endpoint(*port), h, zopts)
		if err != nil {
			for _, s := range socks {
				s.Close()
			}
			return nil, fmt.Errorf("kernel: binding %s socket: %w", name, err)
		}
		socks = append(socks, s)
		if a, ok := s.Addr().(*net.TCPAddr); ok && *port == 0 {
			*port = a.Port
		}
		return s, nil
	}
	// Messages are handled on the goroutine that read them: shell
	// requests are queued for the shell goroutine, the rest are handled
	// at once.
	for _, r := range []struct {
		name string
		dst  **router
		port *int
		h    func(*wire.Message)
	}{{"shell", &k.shell, &k.conn.ShellPort, k.queue.push},
		{"control", &k.control, &k.conn.ControlPort, k.handleControl},
		{"stdin", &k.stdin, &k.conn.StdinPort, k.handleStdin}} {
		s, err := mk(r.name, zmtp.Router, r.port, k.receiver(r.name, r.h))
		if err != nil {
			return nil, err
		}
		*r.dst = &router{name: r.name, sock: s}
	}
	var err2 error
	iopubOpts := zopts
	iopubOpts.OnSubscribe = k.welcome
	if k.iopub, err2 = zmtp.Listen(zmtp.Pub, conn.Endpoint(k.conn.IOPubPort), nil, iopubOpts); err2 != nil {
		for _, s := range socks {
			s.Close()
		}
		return nil, fmt.Errorf("kernel: binding iopub socket: %w", err2)
	}
	socks = append(socks, k.iopub)
	if a, ok := k.iopub.Addr().(*net.TCPAddr); ok && k.conn.IOPubPort == 0 {
		k.conn.IOPubPort = a.Port
	}
	// The heartbeat echoes each ping as it arrives.
	if k.hb, err2 = mk("heartbeat", zmtp.Rep, &k.conn.HBPort, func(p *zmtp.Peer, frames [][]byte) {
		if err := p.Send(frames); err != nil {
			k.logSendError("heartbeat echo", "", err)
		}
	}); err2 != nil {
		return nil, err2
	}
	return k, nil
}

// receiver decodes what a socket receives and passes valid messages to f;
// bad messages are logged and dropped.
func (k *Kernel) receiver(name string, f func(*wire.Message)) zmtp.Handler {
	return func(_ *zmtp.Peer, frames [][]byte) {
		m, err := wire.Decode(frames, k.signer)
		if err != nil {
			k.log.Error("dropping invalid message", "socket", name, "frames", len(frames), "err", err)
			return
		}
		f(m)
	}
}

// engineStartDelay is how long the engine start may wait for the first
// kernel_info_reply.
const engineStartDelay = 20 * time.Millisecond

// ConnectionInfo is the connection the kernel listens on, with the ports
// actually bound.
func (k *Kernel) ConnectionInfo() wire.ConnectionInfo { return k.conn }

// Run serves until a shutdown_request, SIGTERM (with HandleSignals) or the
// end of ctx, then closes the engine and the sockets.
func (k *Kernel) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	k.engine = newEngineSlot(runCtx, k.newEngine, k.log)
	k.runCtx = runCtx
	close(k.running)
	// Start the engine once the first kernel_info_reply is out (clients
	// send kernel_info_request at once) or after a short while: spawning
	// it competes for the CPU with that first reply.
	go func() {
		select {
		case <-k.firstInfo:
		case <-time.After(engineStartDelay):
		case <-runCtx.Done():
		}
		k.engine.start()
	}()
	k.publish(k.newIOPub("status", nil, map[string]string{"execution_state": "starting"}))

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		k.serveShell(runCtx)
	}()
	if k.opts.HandleSignals {
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		go func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case s := <-sigs:
					if s == os.Interrupt {
						k.log.Info("SIGINT: interrupting the running cell")
						k.Interrupt()
					} else {
						k.log.Info("SIGTERM: shutting down")
						k.Stop()
					}
				}
			}
		}()
	}

	if k.opts.WatchParent {
		go k.watchParent(runCtx)
	}

	select {
	case <-ctx.Done():
	case <-k.stopCh:
	}
	k.Interrupt()
	k.mu.Lock()
	sd := k.shutdown
	k.mu.Unlock()
	if sd != nil {
		// ipykernel also publishes the shutdown_reply on IOPub as it exits.
		k.publish(k.newIOPub("shutdown_reply", sd.request, sd))
	}
	if err := k.engine.close(10 * time.Second); err != nil {
		k.log.Warn("closing the engine", "err", err)
	}
	// Sends are written when they return, so nothing is queued to wait for.
	cancel()
	for _, s := range []*zmtp.Socket{k.shell.sock, k.control.sock, k.stdin.sock, k.iopub, k.hb} {
		s.Close()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		k.log.Warn("some handlers did not stop within 2s")
	}
	return nil
}

// watchParent stops the kernel when its parent process exits.
func (k *Kernel) watchParent(ctx context.Context) {
	parent := os.Getppid()
	if parent <= 1 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				k.log.Warn("the process that started the kernel is gone; shutting down", "parent", parent)
				k.Stop()
				return
			}
		}
	}
}

// Stop makes Run return (as SIGTERM does).
func (k *Kernel) Stop() { k.stopOnce.Do(func() { close(k.stopCh) }) }

// Interrupt cancels the running cell, if any (SIGINT, interrupt_request).
func (k *Kernel) Interrupt() {
	k.mu.Lock()
	cancel := k.cancelCell
	k.mu.Unlock()
	if cancel != nil {
		cancel(errInterrupted)
	}
}

func (k *Kernel) serveShell(ctx context.Context) {
	for {
		m, seq, ok := k.queue.pop(ctx)
		if !ok {
			return
		}
		k.dispatch(ctx, k.shell, k.shellHandlers, m, seq)
	}
}

// handleControl handles a control request on the goroutine that read it,
// one at a time, once Run has started.
func (k *Kernel) handleControl(m *wire.Message) {
	<-k.running
	k.controlMu.Lock()
	defer k.controlMu.Unlock()
	if k.runCtx.Err() != nil {
		return
	}
	k.dispatch(k.runCtx, k.control, k.controlHandlers, m, 0)
}

func (k *Kernel) handleStdin(m *wire.Message) {
	if m.Header.MsgType != "input_reply" {
		k.log.Warn("unexpected message on stdin", "msg_type", m.Header.MsgType)
		return
	}
	k.mu.Lock()
	want := k.inputID
	k.mu.Unlock()
	if parent := parentMsgID(m); want == "" || (parent != "" && parent != want) {
		k.log.Warn("dropping input_reply that answers no pending input_request", "parent", parent)
		return
	}
	select {
	case k.stdinReplies <- m:
	default:
		k.log.Warn("dropping extra input_reply")
	}
}

// request is one message being handled.
type request struct {
	msg     *wire.Message
	sock    *router
	seq     uint64 // arrival order on shell; 0 on control
	replied bool
	// busy is the status busy message while it waits to be published:
	// an execute_request publishes it with execute_input, while the engine
	// runs the cell. Touched only by the goroutine handling the request.
	busy *wire.Message
}

type handler func(ctx context.Context, r *request)

// dispatch handles one request between status busy and idle, recovering
// from a panicking handler.
func (k *Kernel) dispatch(ctx context.Context, sock *router, handlers map[string]handler, m *wire.Message, seq uint64) {
	r := &request{msg: m, sock: sock, seq: seq}
	r.busy = k.newIOPub("status", m, map[string]string{"execution_state": "busy"})
	if m.Header.MsgType != "execute_request" || sock != k.shell {
		k.publishBusy(r)
	}
	defer func() {
		k.publishBusy(r)
		k.publishStatus("idle", m)
	}()
	h := handlers[m.Header.MsgType]
	if h == nil {
		k.log.Warn("Unknown message type", "socket", sock.name, "msg_type", m.Header.MsgType)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			buf := make([]byte, 16<<10)
			buf = buf[:runtime.Stack(buf, false)]
			k.log.Error("handler panicked", "msg_type", m.Header.MsgType, "panic", fmt.Sprint(v), "stack", string(buf))
			if !r.replied && len(m.Header.MsgType) > 8 && m.Header.MsgType[len(m.Header.MsgType)-8:] == "_request" {
				k.reply(r, m.Header.MsgType[:len(m.Header.MsgType)-8]+"_reply", errorContent("InternalError", fmt.Sprint(v), nil, -1))
			}
		}
	}()
	h(ctx, r)
}

// reply sends the reply to r on the socket r came from.
func (k *Kernel) reply(r *request, msgType string, content any) {
	k.replyWith(r, msgType, content, nil)
}

// newIOPub builds an IOPub message whose parent is parent (may be nil).
func (k *Kernel) newIOPub(msgType string, parent *wire.Message, content any) *wire.Message {
	m, err := k.sess.NewMessage(msgType, parent, content)
	if err != nil {
		k.log.Error("building iopub message", "msg_type", msgType, "err", err)
		return nil
	}
	return m
}

// publishBusy publishes r's status busy if it is still pending.
func (k *Kernel) publishBusy(r *request) {
	if r.busy != nil {
		k.publish(r.busy)
		r.busy = nil
	}
}

// publish sends messages on IOPub, in order and in one write, with the
// topic ipykernel uses. They are on the wire when it returns.
func (k *Kernel) publish(ms ...*wire.Message) {
	var all [][][]byte
	for _, m := range ms {
		if m == nil {
			continue
		}
		m.Identities = [][]byte{[]byte("kernel." + k.sess.ID + "." + m.Header.MsgType)}
		frames, err := wire.Encode(m, k.signer)
		if err != nil {
			k.log.Error("encoding iopub message", "msg_type", m.Header.MsgType, "err", err)
			continue
		}
		all = append(all, frames)
	}
	if len(all) == 0 {
		return
	}
	k.iopubMu.Lock()
	defer k.iopubMu.Unlock()
	if err := k.iopub.Send(all...); err != nil {
		k.logSendError("publishing", ms[0].Header.MsgType, err)
	}
}

// welcome sends a new IOPub subscriber the kernel's status. What was
// published before it subscribed never reached it, and clients wait for an
// IOPub message to know they are connected: jupyter_client's
// wait_for_ready (nbclient, nbconvert) otherwise sleeps 0.2 s and asks
// again. ipykernel 7 greets subscribers too (JEP 65); a status message is
// what every client already understands.
func (k *Kernel) welcome(p *zmtp.Peer) {
	state := "idle"
	k.mu.Lock()
	if k.cancelCell != nil {
		state = "busy"
	}
	k.mu.Unlock()
	m := k.newIOPub("status", nil, map[string]string{"execution_state": state})
	if m == nil {
		return
	}
	m.Identities = [][]byte{[]byte("kernel." + k.sess.ID + ".status")}
	frames, err := wire.Encode(m, k.signer)
	if err != nil {
		k.log.Error("encoding iopub message", "msg_type", "status", "err", err)
		return
	}
	if err := p.Send(frames); err != nil {
		k.logSendError("greeting an iopub subscriber", "status", err)
	}
}

// logSendError logs a failed send. A client that went away (it closed its
// sockets, as clients do when they restart or shut a kernel down, or
// after a shutdown_reply) is a normal event, logged at Info; anything
// else is an error.
func (k *Kernel) logSendError(what, msgType string, err error) {
	if peerGone(err) {
		k.log.Info(what+": the client is gone", "msg_type", msgType, "err", err)
		return
	}
	k.log.Error(what, "msg_type", msgType, "err", err)
}

// peerGone reports whether err says only that the other end disconnected.
func peerGone(err error) bool {
	if err == nil {
		return false
	}
	for _, e := range []error{zmtp.ErrNoPeer, net.ErrClosed, syscall.EPIPE, syscall.ECONNRESET, io.EOF} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (k *Kernel) publishStatus(state string, parent *wire.Message) {
	k.publish(k.newIOPub("status", parent, map[string]string{"execution_state": state}))
}

func parentMsgID(m *wire.Message) string {
	var p struct {
		MsgID string `json:"msg_id"`
	}
	if len(m.ParentHeader) > 0 {
		_ = json.Unmarshal(m.ParentHeader, &p)
	}
	return p.MsgID
}

// shellQueue is the unbounded FIFO between the shell socket and the shell
// goroutine. Each message gets an arrival number, which stop_on_error uses
// to abort the execute_requests that arrived before an error reply.
type shellQueue struct {
	mu     sync.Mutex
	items  []queued
	seq    uint64
	notify chan struct{}
}

type queued struct {
	msg *wire.Message
	seq uint64
}

func newShellQueue() *shellQueue { return &shellQueue{notify: make(chan struct{}, 1)} }

func (q *shellQueue) push(m *wire.Message) {
	q.mu.Lock()
	q.seq++
	q.items = append(q.items, queued{m, q.seq})
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// last is the arrival number of the latest message received.
func (q *shellQueue) last() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.seq
}

func (q *shellQueue) pop(ctx context.Context) (*wire.Message, uint64, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items[0] = queued{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return it.msg, it.seq, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, 0, false
		case <-q.notify:
		}
	}
}
