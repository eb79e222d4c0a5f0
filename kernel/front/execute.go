package front

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/wire"
)

type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      bool              `json:"allow_stdin"`
	StopOnError     *bool             `json:"stop_on_error"`
}

// handleExecute runs a cell the way ipykernel does: execute_input, the
// cell's output as it comes, execute_result or error, then execute_reply.
// silent publishes no execute_input or execute_result and neither stores
// history nor counts; stop_on_error aborts the execute_requests that arrived
// before an error reply.
func (k *Kernel) handleExecute(ctx context.Context, r *request) {
	if r.seq != 0 && r.seq <= k.abortUntil.Load() {
		k.publishBusy(r)
		k.log.Info("Aborting execute_request after an error", "msg_id", r.msg.Header.MsgID)
		k.replyWith(r, "execute_reply", map[string]any{"status": "aborted"}, map[string]any{"status": "aborted"})
		return
	}
	var req executeRequest
	if !k.decode(r, &req, "execute_reply") {
		return
	}
	store := !req.Silent
	if req.StoreHistory != nil {
		store = *req.StoreHistory && !req.Silent
	}
	stopOnError := req.StopOnError == nil || *req.StopOnError
	started := wire.Now()

	n := k.execCount + 1 // the count this cell shows
	// status busy and execute_input go out while the engine starts on the
	// cell, before any output of it (cellOutput publishes them first).
	preamble := []*wire.Message{r.busy}
	r.busy = nil
	if !req.Silent {
		preamble = append(preamble, k.newIOPub("execute_input", r.msg, map[string]any{"code": req.Code, "execution_count": n}))
	}
	histIdx := -1
	if store {
		k.execCount++
		k.history.add(k.execCount, req.Code)
		histIdx = len(k.history.entries) - 1
	}

	cellCtx, cancel := context.WithCancelCause(ctx)
	k.mu.Lock()
	k.cancelCell = cancel
	k.mu.Unlock()
	out := &cellOutput{k: k, parent: r.msg, ctx: cellCtx, allowStdin: req.AllowStdin, preamble: preamble}
	go out.publishPreamble()
	res := k.runCell(cellCtx, language.ExecuteRequest{
		Code: req.Code, Silent: req.Silent, StoreHistory: store, AllowStdin: req.AllowStdin,
		UserExpressions: req.UserExpressions, ExecutionCount: n,
	}, out)
	out.finish()
	k.mu.Lock()
	k.cancelCell = nil
	k.mu.Unlock()
	cancel(nil)

	status := res.Status
	if status != "ok" && status != "error" {
		status = "ok"
		if res.Error != nil {
			status = "error"
		}
	}
	if status == "error" && res.Error == nil {
		res.Error = &language.Error{Name: "Error", Value: "the cell failed"}
	}
	var content map[string]any
	if status == "error" {
		e := res.Error
		tb := e.Traceback
		if tb == nil {
			tb = []string{}
		}
		k.publish(k.newIOPub("error", r.msg, map[string]any{"ename": e.Name, "evalue": e.Value, "traceback": tb}))
		content = errorContent(e.Name, e.Value, tb, k.execCount)
	} else {
		if !req.Silent && len(res.Result) > 0 {
			k.publish(k.newIOPub("execute_result", r.msg, map[string]any{
				"execution_count": n, "data": res.Result, "metadata": map[string]any{}}))
			if histIdx >= 0 {
				k.history.entries[histIdx].output = textPlain(res.Result)
			}
		}
		payload := []any{}
		for _, p := range res.Payload {
			payload = append(payload, p)
		}
		content = map[string]any{"status": "ok", "execution_count": k.execCount, "payload": payload}
	}
	ue := res.UserExpressions
	if ue == nil {
		ue = map[string]json.RawMessage{}
	}
	content["user_expressions"] = ue
	k.replyWith(r, "execute_reply", content, map[string]any{"started": started, "status": status})
	if status == "error" && !req.Silent && stopOnError {
		k.abortUntil.Store(k.queue.last())
	}
}

// runCell waits for the engine and runs the cell, turning every failure
// into an error result.
func (k *Kernel) runCell(ctx context.Context, req language.ExecuteRequest, out *cellOutput) (res language.ExecuteResult) {
	eng, err := k.engine.get(ctx)
	if err != nil {
		if errors.Is(context.Cause(ctx), errInterrupted) {
			return errorResult("KeyboardInterrupt", "interrupted while the Go engine was starting")
		}
		return errorResult("EngineError", err.Error())
	}
	defer func() {
		if v := recover(); v != nil {
			buf := make([]byte, 16<<10)
			buf = buf[:runtime.Stack(buf, false)]
			k.log.Error("engine Execute panicked", "panic", fmt.Sprint(v), "stack", string(buf))
			res = errorResult("InternalError", fmt.Sprintf("goproc failed while running the cell: %v", v))
		}
	}()
	return eng.Execute(ctx, req, out)
}

func errorResult(name, value string) language.ExecuteResult {
	return language.ExecuteResult{Status: "error", Error: &language.Error{Name: name, Value: value,
		Traceback: []string{name + ": " + value}}}
}

// replyWith is reply with metadata.
func (k *Kernel) replyWith(r *request, msgType string, content, metadata any) {
	r.replied = true
	m, err := k.sess.Reply(r.msg, msgType, content)
	if err == nil && metadata != nil {
		m.Metadata, err = wire.Marshal(metadata)
	}
	if err != nil {
		k.log.Error("building reply", "msg_type", msgType, "err", err)
		return
	}
	frames, err := wire.Encode(m, k.signer)
	if err != nil {
		k.log.Error("encoding reply", "msg_type", msgType, "err", err)
		return
	}
	if err := r.sock.send(frames); err != nil {
		k.logSendError("sending reply", msgType, err)
	}
}

// cellOutput is the language.Output of one execute_request. Stream text is
// coalesced into messages of up to StreamChunk bytes, held at most
// StreamDelay; everything else flushes it first, so order is kept.
type cellOutput struct {
	k          *Kernel
	parent     *wire.Message
	ctx        context.Context
	allowStdin bool

	mu       sync.Mutex
	preamble []*wire.Message // published before anything else, then nil
	name     string          // stream of buf
	buf      []byte
	timer    *time.Timer
	finished bool
}

var _ language.Output = (*cellOutput)(nil)

func (o *cellOutput) Stream(name, text string) {
	if name != "stderr" {
		name = "stdout"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.preambleLocked()
	if len(o.buf) > 0 && name != o.name {
		o.flushLocked()
	}
	o.name = name
	o.buf = append(o.buf, text...)
	max := o.k.opts.StreamChunk
	for len(o.buf) >= max {
		n := cut(o.buf, max)
		o.publishStream(o.buf[:n])
		o.buf = o.buf[n:]
	}
	if len(o.buf) == 0 {
		o.buf = nil // drop the backing array of a huge write
		return
	}
	if o.finished {
		o.flushLocked()
		return
	}
	if o.timer == nil {
		o.timer = time.AfterFunc(o.k.opts.StreamDelay, o.flush)
	}
}

// cut returns where to split the first message of at most max bytes: after
// the last newline in its second half, else at a UTF-8 boundary.
func cut(b []byte, max int) int {
	if len(b) <= max {
		return len(b)
	}
	if i := bytes.LastIndexByte(b[max/2:max], '\n'); i >= 0 {
		return max/2 + i + 1
	}
	n := max
	for i := 0; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(b[n]); i++ {
		n--
	}
	if n == 0 {
		return max
	}
	return n
}

func (o *cellOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
}

func (o *cellOutput) publishPreamble() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.preambleLocked()
}

// preambleLocked publishes the cell's status busy and execute_input if
// they are still pending. o.mu must be held.
func (o *cellOutput) preambleLocked() {
	if o.preamble != nil {
		o.k.publish(o.preamble...)
		o.preamble = nil
	}
}

func (o *cellOutput) flushLocked() {
	o.preambleLocked()
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	if len(o.buf) == 0 {
		return
	}
	o.publishStream(o.buf)
	o.buf = o.buf[:0]
	if cap(o.buf) > 4*o.k.opts.StreamChunk {
		o.buf = nil
	}
}

func (o *cellOutput) publishStream(text []byte) {
	o.k.publish(o.k.newIOPub("stream", o.parent, map[string]string{"name": o.name, "text": string(text)}))
}

func (o *cellOutput) Display(d language.Display) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	data := d.Data
	if data == nil {
		data = language.MimeBundle{}
	}
	md := d.Metadata
	if md == nil {
		md = map[string]any{}
	}
	transient := map[string]any{}
	if d.DisplayID != "" {
		transient["display_id"] = d.DisplayID
	}
	typ := "display_data"
	if d.Update {
		typ = "update_display_data"
	}
	o.k.publish(o.k.newIOPub(typ, o.parent, map[string]any{"data": data, "metadata": md, "transient": transient}))
}

func (o *cellOutput) ClearOutput(wait bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	o.k.publish(o.k.newIOPub("clear_output", o.parent, map[string]any{"wait": wait}))
}

// ErrNoStdin is returned by Input when the client did not allow stdin.
var ErrNoStdin = errors.New("stdin is not available for this execution: the client sent allow_stdin=false")

// Input asks the client for a line. Go has no input("your name? "): a cell
// prints its question with fmt.Print and then reads stdin. The line it
// began on stdout and has not ended is therefore the prompt: it goes in the
// input_request, as ipykernel sends input()'s prompt, instead of a stream,
// so the front end shows the question and the answer on one line.
func (o *cellOutput) Input(prompt string, password bool) (string, error) {
	o.mu.Lock()
	if o.allowStdin && o.name == "stdout" && len(o.buf) > 0 && o.buf[len(o.buf)-1] != '\n' {
		i := bytes.LastIndexByte(o.buf, '\n') + 1
		prompt = string(o.buf[i:]) + prompt
		o.buf = o.buf[:i]
	}
	o.flushLocked() // publishes the preamble too
	o.mu.Unlock()
	if !o.allowStdin {
		return "", ErrNoStdin
	}
	return o.k.requestInput(o.ctx, o.parent, prompt, password)
}

// finish flushes what is buffered; later output is published at once.
func (o *cellOutput) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	o.finished = true
}

// requestInput sends an input_request to the client that sent parent and
// waits for its input_reply or the end of ctx.
func (k *Kernel) requestInput(ctx context.Context, parent *wire.Message, prompt string, password bool) (string, error) {
	m := k.newIOPub("input_request", parent, map[string]any{"prompt": prompt, "password": password})
	if m == nil {
		return "", errors.New("input: building input_request failed")
	}
	m.Identities = parent.Identities
	for drained := false; !drained; {
		select {
		case <-k.stdinReplies:
		default:
			drained = true
		}
	}
	k.mu.Lock()
	k.inputID = m.Header.MsgID
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.inputID = ""
		k.mu.Unlock()
	}()
	frames, err := wire.Encode(m, k.signer)
	if err != nil {
		return "", fmt.Errorf("input: %w", err)
	}
	if err := k.stdin.send(frames); err != nil {
		return "", fmt.Errorf("input: %w", err)
	}
	select {
	case rep := <-k.stdinReplies:
		var c struct {
			Value  string `json:"value"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(rep.Content, &c); err != nil {
			return "", fmt.Errorf("input: malformed input_reply: %w", err)
		}
		if c.Status == "error" {
			return "", errors.New("input: the client answered the input_request with an error")
		}
		return c.Value, nil
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), errInterrupted) {
			return "", errors.New("input interrupted")
		}
		return "", fmt.Errorf("input: %w", context.Cause(ctx))
	}
}
