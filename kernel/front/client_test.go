package front

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/wire"
)

// fakeEngine is a small real language.Engine for testing the front: it
// interprets a few commands instead of Go.
type fakeEngine struct {
	mu      sync.Mutex
	busy    bool
	closed  bool
	overlap bool // two methods ran at once
}

func (e *fakeEngine) enter() func() {
	e.mu.Lock()
	if e.busy {
		e.overlap = true
	}
	e.busy = true
	e.mu.Unlock()
	return func() { e.mu.Lock(); e.busy = false; e.mu.Unlock() }
}

func (e *fakeEngine) Execute(ctx context.Context, req language.ExecuteRequest, out language.Output) language.ExecuteResult {
	defer e.enter()()
	cmd, arg, _ := strings.Cut(req.Code, " ")
	switch cmd {
	case "print":
		out.Stream("stdout", arg+"\n")
	case "eprint":
		out.Stream("stderr", arg+"\n")
	case "error":
		out.Stream("stderr", "about to fail\n")
		return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "TestError", Value: arg, Traceback: []string{"tb: " + arg}}}
	case "sleep":
		d, _ := time.ParseDuration(arg)
		select {
		case <-ctx.Done():
			return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "Interrupted", Value: "interrupted", Traceback: []string{"interrupted"}}}
		case <-time.After(d):
		}
	case "input":
		v, err := out.Input("name? ", false)
		if err != nil {
			return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "InputError", Value: err.Error()}}
		}
		out.Stream("stdout", "got "+v+"\n")
	case "ask": // fmt.Print("your name? ") and a read of stdin, as a cell does it
		out.Stream("stdout", "line one\nyour name? ")
		v, err := out.Input("", false)
		if err != nil {
			return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "InputError", Value: err.Error()}}
		}
		out.Stream("stdout", "hello "+v+"\n")
	case "display":
		out.Display(language.Display{Data: language.MimeBundle{"text/html": "<b>hi</b>"}, DisplayID: arg})
		out.Display(language.Display{Data: language.MimeBundle{"text/plain": "upd"}, DisplayID: arg, Update: true})
		out.ClearOutput(true)
	case "big":
		var n int
		fmt.Sscan(arg, &n)
		line := strings.Repeat("x", 99) + "\n"
		for i := 0; i < n/100; i++ {
			out.Stream("stdout", line)
		}
	case "panic":
		panic("engine bug")
	case "ue":
		return language.ExecuteResult{Status: "ok", UserExpressions: map[string]json.RawMessage{"a": json.RawMessage(`{"status":"ok","data":{"text/plain":"1"},"metadata":{}}`)}}
	case "noop":
	default:
		return language.ExecuteResult{Status: "ok", Result: language.MimeBundle{"text/plain": req.Code}}
	}
	return language.ExecuteResult{Status: "ok"}
}

func (e *fakeEngine) Complete(ctx context.Context, code string, pos int) (language.CompleteResult, error) {
	defer e.enter()()
	return language.CompleteResult{Matches: []string{"Println", "Printf"}, CursorStart: pos - 2, CursorEnd: pos}, nil
}

func (e *fakeEngine) Inspect(ctx context.Context, code string, pos, level int) (language.InspectResult, error) {
	defer e.enter()()
	return language.InspectResult{Found: true, Data: language.MimeBundle{"text/plain": "func Println"}}, nil
}

func (e *fakeEngine) IsComplete(ctx context.Context, code string) (language.IsCompleteResult, error) {
	defer e.enter()()
	if strings.Count(code, "{") > strings.Count(code, "}") {
		return language.IsCompleteResult{Status: "incomplete", Indent: "\t"}, nil
	}
	return language.IsCompleteResult{Status: "complete"}, nil
}

func (e *fakeEngine) Info() language.Info               { return language.GoInfo("go1.fake") }
func (e *fakeEngine) Restart(ctx context.Context) error { return nil }
func (e *fakeEngine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}

// testClient is a minimal Jupyter client over zmq4.
type testClient struct {
	t                     *testing.T
	signer                *wire.Signer
	sess                  *wire.Session
	shell, control, stdin zmq4.Socket
	iopub, hb             zmq4.Socket
	shellC, controlC      chan *wire.Message
	stdinC, iopubC        chan *wire.Message
}

type harness struct {
	k      *Kernel
	eng    *fakeEngine
	c      *testClient
	done   chan error
	cancel context.CancelFunc
}

func startKernel(t *testing.T, factory EngineFactory) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return startKernelLog(t, factory, log)
}

// startKernelLog is startKernel with the kernel's log going to log.
func startKernelLog(t *testing.T, factory EngineFactory, log *slog.Logger) *harness {
	t.Helper()
	eng := &fakeEngine{}
	if factory == nil {
		factory = func(ctx context.Context) (language.Engine, error) { return eng, nil }
	}
	conn := wire.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", Key: "test-key", SignatureScheme: "hmac-sha256"}
	k, err := New(conn, factory, Options{ImplementationVersion: "test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{k: k, eng: eng, done: make(chan error, 1), cancel: cancel}
	go func() { h.done <- k.Run(ctx) }()
	h.c = dial(t, k.ConnectionInfo())
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("kernel did not stop")
		}
		h.c.close()
	})
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func dial(t *testing.T, ci wire.ConnectionInfo) *testClient {
	t.Helper()
	s, _ := ci.Signer()
	sess := wire.NewSession("tester")
	id := zmq4.WithID(zmq4.SocketIdentity(sess.ID))
	c := &testClient{t: t, signer: s, sess: sess,
		shell: zmq4.NewDealer(context.Background(), id), control: zmq4.NewDealer(context.Background(), id),
		stdin: zmq4.NewDealer(context.Background(), id), iopub: zmq4.NewSub(context.Background()),
		hb:     zmq4.NewReq(context.Background()),
		shellC: make(chan *wire.Message, 1000), controlC: make(chan *wire.Message, 100),
		stdinC: make(chan *wire.Message, 100), iopubC: make(chan *wire.Message, 100000)}
	for _, x := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, ci.ShellPort}, {c.control, ci.ControlPort}, {c.stdin, ci.StdinPort}, {c.iopub, ci.IOPubPort}, {c.hb, ci.HBPort}} {
		if err := x.s.Dial(ci.Endpoint(x.port)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		s  zmq4.Socket
		ch chan *wire.Message
	}{{c.shell, c.shellC}, {c.control, c.controlC}, {c.stdin, c.stdinC}, {c.iopub, c.iopubC}} {
		go func() {
			for {
				zm, err := x.s.Recv()
				if err != nil {
					return
				}
				m, err := wire.Decode(zm.Frames, s)
				if err != nil {
					t.Errorf("client got an undecodable message: %v", err)
					continue
				}
				x.ch <- m
			}
		}()
	}
	// Wait until IOPub is subscribed, as jupyter_client's wait_for_ready does.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		id := c.send(c.shell, "kernel_info_request", nil)
		c.reply(c.shellC, id)
		select {
		case <-c.iopubC:
			c.drainIOPub()
			return c
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("iopub never delivered")
	return nil
}

func (c *testClient) close() {
	for _, s := range []zmq4.Socket{c.shell, c.control, c.stdin, c.iopub, c.hb} {
		s.Close()
	}
}

func (c *testClient) send(s zmq4.Socket, msgType string, content any) string {
	c.t.Helper()
	m, err := c.sess.NewMessage(msgType, nil, content)
	if err != nil {
		c.t.Fatal(err)
	}
	frames, err := wire.Encode(m, c.signer)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := s.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
	return m.Header.MsgID
}

func (c *testClient) sendRaw(s zmq4.Socket, frames ...[]byte) {
	c.t.Helper()
	if err := s.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *testClient) recv(ch chan *wire.Message, timeout time.Duration) (*wire.Message, error) {
	select {
	case m := <-ch:
		return m, nil
	case <-time.After(timeout):
		return nil, errors.New("timeout")
	}
}

// reply waits for the reply to msg id on ch.
func (c *testClient) reply(ch chan *wire.Message, id string) *wire.Message {
	c.t.Helper()
	for {
		m, err := c.recv(ch, 10*time.Second)
		if err != nil {
			c.t.Fatalf("no reply to %s: %v", id, err)
		}
		if parentMsgID(m) == id {
			return m
		}
	}
}

// outputs collects the IOPub messages of request id up to its idle status.
func (c *testClient) outputs(id string) []*wire.Message {
	c.t.Helper()
	var out []*wire.Message
	for {
		m, err := c.recv(c.iopubC, 10*time.Second)
		if err != nil {
			c.t.Fatalf("no idle for %s (got %v)", id, types(out))
		}
		if parentMsgID(m) != id {
			continue
		}
		out = append(out, m)
		if m.Header.MsgType == "status" && content(c.t, m)["execution_state"] == "idle" {
			return out
		}
	}
}

func (c *testClient) drainIOPub() {
	for {
		select {
		case <-c.iopubC:
		case <-time.After(30 * time.Millisecond):
			return
		}
	}
}

// execute runs code and returns the reply and the IOPub messages.
func (c *testClient) execute(content map[string]any) (*wire.Message, []*wire.Message) {
	c.t.Helper()
	id := c.send(c.shell, "execute_request", content)
	rep := c.reply(c.shellC, id)
	return rep, c.outputs(id)
}

func content(t *testing.T, m *wire.Message) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(m.Content, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func types(ms []*wire.Message) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Header.MsgType)
	}
	return s
}

func exec(code string) map[string]any {
	return map[string]any{"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{},
		"allow_stdin": false, "stop_on_error": true}
}

func zmqMsg(s string) zmq4.Msg { return zmq4.NewMsgString(s) }
