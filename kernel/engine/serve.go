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

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/outband"
	"github.com/goproc/goproc/runtime/multiprocessing"
)

// ServeProcess is the engine process's main: it serves requests from fd 3 and
// answers on fd 4 until fd 3 closes. Cell output goes to fds 1 and 2.
func ServeProcess() error {
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
	s.send(event{Op: "ready", Info: &info})

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
	return sc.Err()
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
	cancelCell context.CancelFunc
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
		ctx, cancel := context.WithCancel(context.Background())
		s.mu.Lock()
		s.cancelCell = cancel
		s.allowStdin = r.Execute != nil && r.Execute.AllowStdin
		s.cellID = r.ID
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer cancel()
			res := s.execute(ctx, r)
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
			s.cancelCell()
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
		res := s.in.Complete(r.Code, r.Cursor)
		s.send(event{ID: r.ID, Op: "reply", Complete: &res})
	case "inspect":
		res := s.in.Inspect(r.Code, r.Cursor, r.Detail)
		s.send(event{ID: r.ID, Op: "reply", Inspect: &res})
	case "is_complete":
		res := s.in.IsComplete(r.Code)
		s.send(event{ID: r.ID, Op: "reply", IsComplete: &res})
	default:
		s.send(event{ID: r.ID, Op: "reply", Error: "unknown request " + strconv.Quote(r.Op)})
	}
}

func (s *server) execute(ctx context.Context, r request) language.ExecuteResult {
	req := r.Execute
	if req == nil {
		return language.ExecuteResult{Status: "error", Error: &language.Error{Name: "EngineError", Value: "execute without a request"}}
	}
	o := s.in.Run(ctx, req.Code)
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
	s.send(event{ID: id, Op: "input_request", Prompt: prompt, Password: password})
	r := <-ch
	if r.InputError != "" {
		return "", errors.New(r.InputError)
	}
	return r.InputValue, nil
}
