package multiprocessing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pool is a Pool's state, which its slots' goroutines share; the Pool
// handle is what the notebook holds (poolhandle.go).
type pool struct {
	n   int
	cfg poolConfig
	ctx context.Context

	initName string
	initArgs json.RawMessage
	err      error // the pool cannot run (bad initializer, limits)

	mu    sync.Mutex
	cond  *sync.Cond
	queue []*chunkJob
	state poolState
	order uint64 // chunks queued so far
	// busy counts the slots with a chunk in flight. A slot sends a second
	// chunk ahead to its busy worker only when no slot is idle; such chunks
	// are in ahead until their worker starts them, and an idle slot takes
	// one back (opCancel) rather than wait or run a later chunk first: the
	// next task goes to the first worker that is free, as in Python.
	busy     int
	ahead    []*aheadChunk
	stealing int // ahead chunks asked back and not answered
	slots    sync.WaitGroup
	stopped  chan struct{} // closed when every slot has ended
	workers  map[*worker]struct{}
	// globals holds, per function, the globals it reaches as they were
	// when the pool first ran it: its workers see those values, as a
	// forked worker sees the values of when it was forked.
	globals map[string]map[string]json.RawMessage
}

// globalsOf returns the globals fn reaches as the pool's workers see them.
func (p *pool) globalsOf(fn string) map[string]json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g, ok := p.globals[fn]; ok {
		return g
	}
	if p.globals == nil {
		p.globals = map[string]map[string]json.RawMessage{}
	}
	g := globalsFor(currentHost(), fn)
	p.globals[fn] = g
	return g
}

type poolState int

const (
	poolRunning poolState = iota
	poolClosed
	poolTerminated
)

type poolConfig struct {
	initializer any
	initArgs    []any
	maxTasks    int
	chunkSize   int
}

// PoolOption configures NewPool.
type PoolOption func(*poolConfig)

// WithInitializer makes every worker call fn(args...) once when it starts
// (Python's initializer and initargs).
func WithInitializer(fn any, args ...any) PoolOption {
	return func(c *poolConfig) { c.initializer, c.initArgs = fn, args }
}

// WithMaxTasksPerChild replaces a worker after it has run n chunks of tasks
// (Python's maxtasksperchild; 0 means never).
func WithMaxTasksPerChild(n int) PoolOption {
	return func(c *poolConfig) { c.maxTasks = n }
}

// WithChunkSize sets how many items travel to a worker in one message.
// The default is ceil(items / (4 × workers)), as in Python.
func WithChunkSize(n int) PoolOption {
	return func(c *poolConfig) { c.chunkSize = n }
}

// ErrTimeout is returned by the *Timeout methods when time ran out.
var ErrTimeout = errors.New("multiprocessing: timed out")

// newPool starts a pool's slots (see NewPool).
func newPool(n int, opts ...PoolOption) *pool {
	if n <= 0 {
		n = CPUCount()
	}
	p := &pool{n: n, ctx: hostContext(), stopped: make(chan struct{}), workers: map[*worker]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	for _, o := range opts {
		o(&p.cfg)
	}
	if p.cfg.initializer != nil {
		name, err := NameOf(p.cfg.initializer)
		if err != nil {
			p.err = fmt.Errorf("pool initializer: %w", err)
		}
		p.initName = name
		if p.err == nil {
			p.initArgs, p.err = encodeArgs(p.cfg.initArgs)
			if p.err != nil {
				p.err = fmt.Errorf("pool initializer: %w", p.err)
			}
		}
	}
	if p.err == nil {
		if err := mayStart(n); err != nil {
			p.err = fmt.Errorf("pool: %w", err)
		}
	}
	if p.err != nil {
		p.state = poolTerminated
		close(p.stopped)
		return p
	}
	livePools.Add(1)
	p.slots.Add(n)
	for range n {
		s := &poolSlot{pool: p}
		go s.loop()
	}
	go func() {
		p.slots.Wait()
		livePools.Add(-1)
		close(p.stopped)
	}()
	if done := p.ctx.Done(); done != nil {
		go func() {
			select {
			case <-done:
				if interrupted(p.ctx) {
					p.Terminate()
				}
			case <-p.stopped:
			}
		}()
	}
	return p
}

// poolCall is one Map/StarMap/Apply/Imap call.
type poolCall struct {
	globals  map[string]json.RawMessage
	fnName   string
	fnType   reflect.Type
	items    reflect.Value // the items (a slice)
	star     bool
	valueOut reflect.Type // nil: the function returns no value
	results  reflect.Value
	ctx      context.Context // cancelled when the call is abandoned
	cancel   context.CancelCauseFunc

	mu        sync.Mutex
	remaining int
	err       error
	done      chan struct{}
	completed chan [2]int // for Imap: finished ranges
}

type chunkJob struct {
	call   *poolCall
	lo, hi int
	order  uint64 // the order in which chunks were queued
}

// aheadChunk is a chunk sent to a worker busy with another one.
type aheadChunk struct {
	w        *worker
	seq      uint64
	job      *chunkJob
	asked    bool // an idle slot asked for it back
	answered bool // the worker answered, or the chunk ended
	sent     time.Time
}

// stealAfter is how long a chunk must have waited behind its worker's
// current one before an idle slot takes it back rather than start a later
// chunk from the queue. Chunks that short end before the round trip would
// pay off; with nothing queued, an idle slot takes one back at once.
const stealAfter = 5 * time.Millisecond

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// submit validates a call and queues its chunks.
func (p *pool) submit(fn any, items any, star bool, chunkSize int, wantRanges bool) (*poolCall, error) {
	if p.err != nil {
		return nil, p.err
	}
	name, err := NameOf(fn)
	if err != nil {
		return nil, fmt.Errorf("pool: %w", err)
	}
	iv := reflect.ValueOf(items)
	if iv.Kind() != reflect.Slice && iv.Kind() != reflect.Array {
		return nil, fmt.Errorf("pool: items must be a slice, not %s", describeValue(items))
	}
	if iv.Kind() == reflect.Array {
		s := reflect.MakeSlice(reflect.SliceOf(iv.Type().Elem()), iv.Len(), iv.Len())
		reflect.Copy(s, iv)
		iv = s
	}
	ft := reflect.TypeOf(fn)
	if !star && ft.NumIn() != 1 && !(ft.IsVariadic() && ft.NumIn() <= 2) {
		return nil, fmt.Errorf("pool: %s takes %d arguments; Map needs a function of one argument (use StarMap for several)", name, ft.NumIn())
	}
	// A worker gets the globals fn reaches with its first chunk of fn
	// (see poolSlot.send).
	c := &poolCall{fnName: name, fnType: ft, items: iv, star: star, done: make(chan struct{}),
		globals: p.globalsOf(name)}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	go c.abortOnInterrupt(hostContext())
	if ft.NumOut() > 0 && ft.Out(0) != errorType {
		c.valueOut = ft.Out(0)
	}
	n := iv.Len()
	if c.valueOut != nil {
		c.results = reflect.MakeSlice(reflect.SliceOf(c.valueOut), n, n)
	} else {
		c.results = reflect.ValueOf(make([]any, n))
	}
	if chunkSize <= 0 {
		chunkSize = p.cfg.chunkSize
	}
	if chunkSize <= 0 {
		chunkSize = (n + 4*p.n - 1) / (4 * p.n)
	}
	chunkSize = max(chunkSize, 1)
	if wantRanges {
		c.completed = make(chan [2]int, (n+chunkSize-1)/chunkSize+1)
	}
	if n == 0 {
		close(c.done)
		if c.completed != nil {
			close(c.completed)
		}
		return c, nil
	}
	c.remaining = (n + chunkSize - 1) / chunkSize
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != poolRunning {
		return nil, errors.New("pool: not running (it was closed or terminated)")
	}
	for lo := 0; lo < n; lo += chunkSize {
		p.order++
		p.queue = append(p.queue, &chunkJob{call: c, lo: lo, hi: min(lo+chunkSize, n), order: p.order})
	}
	p.cond.Broadcast()
	return c, nil
}

// finish records a finished chunk.
func (c *poolCall) finish(job *chunkJob, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remaining == 0 {
		return
	}
	if err != nil && c.err == nil {
		c.err = err
	}
	if err == nil && c.completed != nil {
		c.completed <- [2]int{job.lo, job.hi}
	}
	c.remaining--
	if c.remaining == 0 || (c.err != nil && c.completed == nil) {
		if c.remaining != 0 {
			c.remaining = 0
		}
		close(c.done)
		if c.completed != nil {
			close(c.completed)
		}
	}
}

func (c *poolCall) failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil || c.remaining == 0
}

// abortOnInterrupt abandons the call if the cell that made it is
// interrupted (not when it merely finishes: MapAsync results may be
// collected by a later cell).
func (c *poolCall) abortOnInterrupt(cell context.Context) {
	select {
	case <-cell.Done():
		if interrupted(cell) {
			c.cancel(ErrInterrupted)
		}
	case <-c.done:
	}
}

// wait waits for the call's results; an interrupt of the waiter's cell
// abandons the call.
func (c *poolCall) wait(waiter context.Context) (any, error) {
	select {
	case <-c.done:
	case <-c.ctx.Done():
		return nil, fmt.Errorf("pool: %w", context.Cause(c.ctx))
	case <-waiter.Done():
		c.cancel(ErrInterrupted)
		return nil, fmt.Errorf("pool: %w", context.Cause(waiter))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	return c.results.Interface(), nil
}

// poolSlot runs one worker of the pool, replacing it when it dies or has
// run its share of tasks.
type poolSlot struct {
	pool     *pool
	w        *worker
	name     string
	tasks    int
	reusable bool
	busy     bool        // counted in pool.busy
	asked    *aheadChunk // the chunk this idle slot asked another worker for
}

// pipelineDepth is how many chunks of one call a slot keeps in flight on
// its worker. The worker runs them one after the other (serve.go), so it
// starts the next chunk at once instead of waiting for a round trip while
// the parent decodes the results of the previous one.
const pipelineDepth = 2

// sentChunk is a chunk sent to the slot's worker, not yet answered.
type sentChunk struct {
	job   *chunkJob
	seq   uint64
	plain bool        // it carried no program chunks or globals: it may be taken back
	ahead *aheadChunk // it was sent ahead (nil: not, or no longer, in pool.ahead)
}

func (s *poolSlot) loop() {
	p := s.pool
	defer p.slots.Done()
	defer s.release()
	replacement := false
	var inflight []sentChunk
	for {
		for len(inflight) < pipelineDepth {
			var job *chunkJob
			if len(inflight) == 0 {
				if job = p.next(s); job == nil {
					return
				}
			} else {
				if max := p.cfg.maxTasks; max > 0 && s.tasks+len(inflight) >= max {
					break // the worker is replaced after the chunks in flight
				}
				if job = p.nextOf(inflight[0].job.call); job == nil {
					break
				}
			}
			if job.call.failed() {
				job.call.finish(job, nil)
				continue
			}
			if s.w == nil {
				if replacement {
					if err := reserve(1); err != nil {
						job.call.finish(job, fmt.Errorf("pool: replace a worker: %w", err))
						continue
					}
				}
				replacement = true
				if err := s.start(); err != nil {
					job.call.finish(job, err)
					continue
				}
			}
			if sc, ok := s.send(job); ok {
				if len(inflight) > 0 && sc.plain {
					sc.ahead = p.sendAhead(s.w, sc)
				}
				inflight = append(inflight, sc)
			} else if s.w == nil {
				// The worker died: the chunks sent before fail with it.
				s.failInflight(inflight)
				inflight = inflight[:0]
			}
		}
		if len(inflight) == 0 {
			continue
		}
		ok := s.collect(&inflight)
		if len(inflight) == 0 {
			continue // the chunks sent ahead were taken back
		}
		p.settle(inflight[0].ahead)
		if !ok {
			s.failInflight(inflight[1:])
			inflight = inflight[:0]
			continue
		}
		inflight = append(inflight[:0], inflight[1:]...)
		if len(inflight) > 0 && inflight[0].ahead != nil {
			// The worker starts it now: no longer to be taken back.
			p.unahead(inflight[0].ahead)
		}
	}
}

// sendAhead records a chunk sent to a busy worker, which an idle slot may
// take back.
func (p *pool) sendAhead(w *worker, sc sentChunk) *aheadChunk {
	a := &aheadChunk{w: w, seq: sc.seq, job: sc.job, sent: time.Now()}
	p.mu.Lock()
	p.ahead = append(p.ahead, a)
	p.mu.Unlock()
	return a
}

// unahead removes a from the chunks that may be taken back (unless an idle
// slot asked for it already: the worker's answer settles it).
func (p *pool) unahead(a *aheadChunk) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !a.asked {
		p.dropAheadLocked(a)
	}
}

func (p *pool) dropAheadLocked(a *aheadChunk) {
	for i, x := range p.ahead {
		if x == a {
			p.ahead = append(p.ahead[:i], p.ahead[i+1:]...)
			return
		}
	}
}

// settle records that a chunk sent ahead has ended (its results came, or its
// worker died): it cannot be taken back, and a slot waiting for it is told.
func (p *pool) settle(a *aheadChunk) {
	if a == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropAheadLocked(a)
	if a.asked && !a.answered {
		a.answered = true
		p.stealing--
		p.cond.Broadcast()
	}
}

// answered handles the worker's answer to an opCancel for one of the chunks
// in flight: a cancelled chunk goes back to the queue, in its place.
func (s *poolSlot) answered(inflight *[]sentChunk, m *message) {
	p := s.pool
	for i, sc := range *inflight {
		if sc.seq != m.Seq || sc.ahead == nil {
			continue
		}
		p.mu.Lock()
		a := sc.ahead
		p.dropAheadLocked(a)
		if !a.answered {
			a.answered = true
			p.stealing--
		}
		if m.Cancelled {
			*inflight = append((*inflight)[:i], (*inflight)[i+1:]...)
			if p.state == poolTerminated {
				defer sc.job.call.finish(sc.job, errors.New("pool: terminated"))
			} else {
				at := len(p.queue)
				for j, q := range p.queue {
					if q.order > sc.job.order {
						at = j
						break
					}
				}
				p.queue = append(p.queue[:at], append([]*chunkJob{sc.job}, p.queue[at:]...)...)
			}
		}
		p.cond.Broadcast()
		p.mu.Unlock()
		return
	}
}

// next waits for a job for slot s, whose worker is idle; nil when the pool
// stops. The earliest chunk not started goes first: if a busy worker holds
// one sent ahead (for stealAfter at least), s asks for it back and waits for
// the answer (a round trip), else it takes the queue's first; with nothing
// queued, it asks for any chunk sent ahead.
func (p *pool) next(s *poolSlot) *chunkJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.busy {
		s.busy = false
		p.busy--
	}
	for {
		if p.state == poolTerminated {
			return nil
		}
		if a := s.asked; a != nil && !a.answered {
			p.cond.Wait()
			continue
		}
		s.asked = nil
		if a := p.earliestAheadLocked(); a != nil && (len(p.queue) == 0 ||
			a.job.order < p.queue[0].order && time.Since(a.sent) >= stealAfter) {
			a.asked = true
			p.stealing++
			s.asked = a
			go a.w.ctl.send(&message{Op: opCancel, Seq: a.seq})
			continue
		}
		if len(p.queue) > 0 {
			job := p.queue[0]
			p.queue = p.queue[1:]
			s.busy = true
			p.busy++
			return job
		}
		if p.state != poolRunning && p.stealing == 0 {
			return nil
		}
		p.cond.Wait()
	}
}

// earliestAheadLocked is the earliest chunk sent ahead that no slot asked
// for yet.
func (p *pool) earliestAheadLocked() *aheadChunk {
	var best *aheadChunk
	for _, a := range p.ahead {
		if !a.asked && (best == nil || a.job.order < best.job.order) {
			best = a
		}
	}
	return best
}

// nextOf returns the next job to send to a worker that is busy with a job
// of call, without waiting: one of call, and only if no slot is idle and
// enough are queued that every other slot has one too (a busy worker must
// not take work an idle one could start at once).
func (p *pool) nextOf(call *poolCall) *chunkJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy < p.n || len(p.queue) < p.n || p.state == poolTerminated || p.queue[0].call != call {
		return nil
	}
	job := p.queue[0]
	p.queue = p.queue[1:]
	return job
}

// start gives the slot a worker that ran the pool's initializer.
func (s *poolSlot) start() error {
	p := s.pool
	w, err := acquireWorker()
	if err != nil {
		return fmt.Errorf("pool: start a worker: %w", err)
	}
	p.mu.Lock()
	if p.state == poolTerminated {
		p.mu.Unlock()
		w.retire()
		return errors.New("pool: terminated")
	}
	p.workers[w] = struct{}{}
	p.mu.Unlock()
	s.name = "SpawnPoolWorker-" + nextIdent()
	h := currentHost()
	prog := h.Program()
	from, chunks := w.catchUp(prog)
	// Only what the initializer reaches: each function's globals go with
	// its first chunk (poolSlot.send), so a large global no function uses
	// is not copied into every worker.
	initGlobals := map[string]json.RawMessage{}
	if p.initName != "" {
		initGlobals = globalsFor(h, p.initName)
	}
	diff, hashes := w.globalsDiff(initGlobals)
	m := &message{Op: opPoolInit, Seq: w.nextSeq(), From: from, Chunks: chunks, Globals: diff,
		Func: p.initName, Args: p.initArgs,
		Identity: &identity{Name: s.name, Ident: "", Daemon: true, ParentName: currentName(), ParentPid: osGetpid()}}
	reply, err := w.request(context.Background(), m)
	if err == nil && reply.Err != "" {
		err = errors.New(reply.Err)
	}
	if err != nil {
		s.drop(w)
		w.signal(syscall.SIGKILL)
		return fmt.Errorf("pool: start worker %s: %w", s.name, err)
	}
	w.replayed, w.sent = len(prog.Chunks), hashes
	s.w, s.tasks, s.reusable = w, 0, p.initName == ""
	replenishLater()
	return nil
}

func (s *poolSlot) drop(w *worker) {
	s.pool.mu.Lock()
	delete(s.pool.workers, w)
	s.pool.mu.Unlock()
	if s.w == w {
		s.w = nil
	}
}

// send sends one chunk to the slot's worker. If it cannot, the chunk is
// finished with the error, and if the worker is dead it is dropped.
func (s *poolSlot) send(job *chunkJob) (sentChunk, bool) {
	c, w := job.call, s.w
	items, enc, err := c.encodeItems(job.lo, job.hi)
	if err != nil {
		c.finish(job, err)
		return sentChunk{}, false
	}
	from, chunks := w.catchUp(currentHost().Program())
	m := &message{Op: opTasks, Seq: w.nextSeq(), From: from, Chunks: chunks, Func: c.fnName, Items: items, Enc: enc, Star: c.star}
	diff, hashes := w.globalsDiff(c.globals)
	if len(diff) > 0 {
		m.Globals = diff
	}
	err = w.ctl.send(m)
	if enc != encJSON {
		putPayload(items)
	}
	if err != nil {
		s.workerFailed(job, w.deathError(err))
		return sentChunk{}, false
	}
	// The worker replays in order: later chunks must not send these again.
	w.replayed = from + len(chunks)
	if w.sent == nil {
		w.sent = map[string]uint64{}
	}
	maps.Copy(w.sent, hashes)
	return sentChunk{job: job, seq: m.Seq, plain: len(chunks) == 0 && len(m.Globals) == 0}, true
}

// collect waits for the results of the first chunk in flight on the slot's
// worker and finishes it; false if the worker died or was killed (the
// chunks sent after it are then lost). Meanwhile the worker may give back
// chunks sent ahead: they leave inflight, which may end empty.
func (s *poolSlot) collect(inflight *[]sentChunk) bool {
	var reply *message
	var err error
	for len(*inflight) > 0 {
		reply, err = s.w.await((*inflight)[0].job.call.ctx)
		if err != nil || reply.Op != opCancelled {
			break
		}
		s.answered(inflight, reply)
	}
	if len(*inflight) == 0 {
		return true
	}
	sc := (*inflight)[0]
	job := sc.job
	c, w := job.call, s.w
	if err != nil {
		s.workerFailed(job, err)
		return false
	}
	w.waitOutput(sc.seq)
	s.reusable = s.reusable && reply.Reusable
	s.tasks++
	if max := s.pool.cfg.maxTasks; max > 0 && s.tasks >= max {
		s.drop(w)
		w.retire()
	}
	switch {
	case reply.Err != "":
		c.finish(job, fmt.Errorf("pool: %s", reply.Err))
	case reply.Failed != nil:
		f := reply.Failed
		what := "returned an error"
		if f.Panic {
			what = "panicked"
		}
		c.finish(job, &TaskError{Func: c.fnName, Index: job.lo + f.Index, Item: f.Item, Worker: s.name,
			Message: f.Message, Traceback: string(describeFrames([]byte(f.Traceback))), what: what})
	default:
		c.finish(job, c.storeResults(job, reply.Results, reply.Enc))
		if reply.Enc != encJSON {
			putPayload(reply.Results)
		}
	}
	return true
}

// workerFailed kills and drops the slot's worker, which died or whose chunk
// nobody wants any more, and fails job.
func (s *poolSlot) workerFailed(job *chunkJob, err error) {
	c, w := job.call, s.w
	s.drop(w)
	w.signal(syscall.SIGKILL)
	if c.ctx.Err() != nil {
		c.finish(job, fmt.Errorf("pool: %w", context.Cause(c.ctx)))
		return
	}
	c.finish(job, fmt.Errorf("pool: worker %s (%s) while running %s on items %d-%d; it was replaced",
		s.name, trimWorker(err), c.fnName, job.lo, job.hi-1))
}

// failInflight fails chunks that were sent to a worker that is gone.
func (s *poolSlot) failInflight(lost []sentChunk) {
	for _, sc := range lost {
		s.pool.settle(sc.ahead)
		c := sc.job.call
		if c.ctx.Err() != nil {
			c.finish(sc.job, fmt.Errorf("pool: %w", context.Cause(c.ctx)))
			continue
		}
		c.finish(sc.job, fmt.Errorf("pool: worker %s died while running %s on items %d-%d; it was replaced",
			s.name, c.fnName, sc.job.lo, sc.job.hi-1))
	}
}

func trimWorker(err error) string {
	return fmt.Sprint(err)
}

// release returns the slot's worker when the pool stops.
func (s *poolSlot) release() {
	if s.w == nil {
		return
	}
	w := s.w
	s.drop(w)
	if s.pool.state == poolTerminated || !s.reusable || !poolReuseEnabled() {
		w.signal(syscall.SIGTERM)
		return
	}
	releaseWorker(w)
}

// encodeItems encodes items[lo:hi] for the worker, in the compact
// encoding it returns or as JSON ("").
func (c *poolCall) encodeItems(lo, hi int) (json.RawMessage, string, error) {
	part := c.items.Slice(lo, hi)
	if !c.star {
		// Compact only when the items and the parameter are of one kind:
		// otherwise JSON converts (ints to a float parameter) or fails
		// (300 to an int8) as it always did.
		if enc := compactEncoding(part.Type().Elem()); enc != encJSON && enc == compactEncoding(c.fnType.In(0)) &&
			!(c.fnType.IsVariadic() && c.fnType.NumIn() == 1) {
			return encodeCompact(enc, part), enc, nil
		}
	}
	if c.star {
		lists := make([][]typedValue, part.Len())
		for i := range lists {
			args := part.Index(i)
			for args.Kind() == reflect.Interface {
				args = args.Elem()
			}
			if args.Kind() != reflect.Slice && args.Kind() != reflect.Array {
				return nil, "", fmt.Errorf("pool: item %d is %s; StarMap needs a slice of argument lists", lo+i, describeValue(args.Interface()))
			}
			lists[i] = make([]typedValue, args.Len())
			for j := range lists[i] {
				tv, err := encodeTyped(args.Index(j).Interface())
				if err != nil {
					return nil, "", fmt.Errorf("pool: item %d, argument %d (%s) cannot be sent to a worker: %w", lo+i, j+1, describeValue(args.Index(j).Interface()), err)
				}
				lists[i][j] = tv
			}
		}
		b, err := json.Marshal(lists)
		return b, encJSON, err
	}
	if c.fnType.In(0).Kind() == reflect.Interface {
		tvs := make([]typedValue, part.Len())
		for i := range tvs {
			tv, err := encodeTyped(part.Index(i).Interface())
			if err != nil {
				return nil, "", fmt.Errorf("pool: item %d (%s) cannot be sent to a worker: %w", lo+i, describeValue(part.Index(i).Interface()), err)
			}
			tvs[i] = tv
		}
		b, err := json.Marshal(tvs)
		return b, encJSON, err
	}
	b, err := marshalValue(part)
	if err != nil {
		return nil, "", fmt.Errorf("pool: items %d-%d cannot be sent to a worker: %w", lo, hi-1, err)
	}
	return b, encJSON, nil
}

// storeResults decodes a chunk's results into the call's result slice.
func (c *poolCall) storeResults(job *chunkJob, raw json.RawMessage, enc string) error {
	if c.valueOut == nil {
		return nil
	}
	if enc != encJSON {
		if err := decodeCompactInto(enc, raw, c.results.Slice(job.lo, job.hi)); err != nil {
			return fmt.Errorf("pool: decode results of %s: %w", c.fnName, err)
		}
		return nil
	}
	if c.valueOut.Kind() == reflect.Interface {
		var tvs []typedValue
		if err := json.Unmarshal(raw, &tvs); err != nil {
			return fmt.Errorf("pool: decode results: %w", err)
		}
		for i, tv := range tvs {
			v, err := decodeInto(tv, c.valueOut)
			if err != nil {
				return fmt.Errorf("pool: decode result %d: %w", job.lo+i, err)
			}
			c.results.Index(job.lo + i).Set(v)
		}
		return nil
	}
	dst := reflect.New(reflect.SliceOf(c.valueOut))
	if err := unmarshalValue(raw, dst.Elem()); err != nil {
		return fmt.Errorf("pool: decode results of %s: %w", c.fnName, err)
	}
	if dst.Elem().Len() != job.hi-job.lo {
		return fmt.Errorf("pool: worker returned %d results for %d items", dst.Elem().Len(), job.hi-job.lo)
	}
	reflect.Copy(c.results.Slice(job.lo, job.hi), dst.Elem())
	return nil
}

// TaskError is a pool task that panicked or returned an error.
type TaskError struct {
	Func      string // the function
	Index     int    // the item's index in the call's items
	Item      string // the item, printed
	Worker    string // the worker's name
	Message   string // the panic value or error
	Traceback string // the worker's traceback, if any
	what      string
}

func (e *TaskError) Error() string {
	s := fmt.Sprintf("%s(%s) %s in %s (item %d): %s", e.Func, e.Item, e.what, e.Worker, e.Index, e.Message)
	if e.Traceback != "" {
		s += "\nworker traceback:\n" + strings.TrimRight(e.Traceback, "\n")
	}
	return s
}

// Map is Pool.Map.
func (p *pool) Map(fn any, items any) (any, error) {
	c, err := p.submit(fn, items, false, 0, false)
	if err != nil {
		return nil, err
	}
	return c.wait(hostContext())
}

// MapChunks is Pool.MapChunks.
func (p *pool) MapChunks(fn any, items any, chunkSize int) (any, error) {
	c, err := p.submit(fn, items, false, chunkSize, false)
	if err != nil {
		return nil, err
	}
	return c.wait(hostContext())
}

// StarMap is Pool.StarMap.
func (p *pool) StarMap(fn any, items any) (any, error) {
	c, err := p.submit(fn, items, true, 0, false)
	if err != nil {
		return nil, err
	}
	return c.wait(hostContext())
}

// Apply is Pool.Apply.
func (p *pool) Apply(fn any, args ...any) (any, error) {
	return p.ApplyAsync(fn, args...).Get()
}

// ApplyAsync is Pool.ApplyAsync.
func (p *pool) ApplyAsync(fn any, args ...any) *AsyncResult {
	c, err := p.submit(fn, [][]any{args}, true, 1, false)
	r := &AsyncResult{done: make(chan struct{}), call: c}
	go func() {
		if err == nil {
			var v any
			v, err = c.wait(context.Background())
			if err == nil {
				if rv := reflect.ValueOf(v); rv.Len() == 1 {
					r.value = rv.Index(0).Interface()
				}
			}
		}
		r.err = err
		close(r.done)
	}()
	return r
}

// MapAsync is Pool.MapAsync.
func (p *pool) MapAsync(fn any, items any) *AsyncResult {
	return p.async(fn, items, false)
}

// StarMapAsync is Pool.StarMapAsync.
func (p *pool) StarMapAsync(fn any, items any) *AsyncResult {
	return p.async(fn, items, true)
}

func (p *pool) async(fn any, items any, star bool) *AsyncResult {
	c, err := p.submit(fn, items, star, 0, false)
	r := &AsyncResult{done: make(chan struct{}), call: c}
	go func() {
		if err == nil {
			r.value, err = c.wait(context.Background())
		}
		r.err = err
		close(r.done)
	}()
	return r
}

// AsyncResult is the result of an asynchronous pool call.
type AsyncResult struct {
	keep  *Pool // the pool is not reclaimed while its result is wanted
	call  *poolCall
	done  chan struct{}
	value any
	err   error
}

// Get waits for the result. If the cell is interrupted meanwhile, the call
// is abandoned.
func (r *AsyncResult) Get() (any, error) {
	ctx := hostContext()
	select {
	case <-r.done:
		return r.value, r.err
	case <-ctx.Done():
		if r.call != nil {
			r.call.cancel(ErrInterrupted)
		}
		return nil, fmt.Errorf("pool: %w", context.Cause(ctx))
	}
}

// GetTimeout waits at most d for the result; ErrTimeout if it is not ready.
func (r *AsyncResult) GetTimeout(d time.Duration) (any, error) {
	if !r.WaitTimeout(d) {
		return nil, fmt.Errorf("get result after %v: %w", d, ErrTimeout)
	}
	return r.value, r.err
}

// Wait waits until the result is ready.
func (r *AsyncResult) Wait() { <-r.done }

// WaitTimeout waits at most d; it reports whether the result is ready.
func (r *AsyncResult) WaitTimeout(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.done:
		return true
	case <-t.C:
		return false
	}
}

// Ready reports whether the call has finished.
func (r *AsyncResult) Ready() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Successful reports whether the call finished without error (false while
// it is running).
func (r *AsyncResult) Successful() bool { return r.Ready() && r.err == nil }

// Imap is Pool.Imap.
func (p *pool) Imap(fn any, items any) *ResultIterator {
	return p.iterate(fn, items, true)
}

// ImapUnordered is Pool.ImapUnordered.
func (p *pool) ImapUnordered(fn any, items any) *ResultIterator {
	return p.iterate(fn, items, false)
}

func (p *pool) iterate(fn any, items any, ordered bool) *ResultIterator {
	chunk := p.cfg.chunkSize
	if chunk <= 0 {
		chunk = 1 // as in Python: results stream one by one
		if n := reflect.ValueOf(items); (n.Kind() == reflect.Slice || n.Kind() == reflect.Array) && n.Len() > 64*p.n {
			chunk = (n.Len() + 16*p.n - 1) / (16 * p.n)
		}
	}
	c, err := p.submit(fn, items, false, chunk, true)
	it := &ResultIterator{call: c, err: err, ordered: ordered, next: -1}
	if c != nil {
		it.have = make([]bool, c.items.Len())
	}
	return it
}

// ResultIterator yields the results of Imap and ImapUnordered.
type ResultIterator struct {
	keep    *Pool // as AsyncResult.keep
	call    *poolCall
	ordered bool
	have    []bool
	pending []int // unordered: indices ready to yield
	next    int   // index of the current value
	cursor  int   // ordered: the next index to yield
	err     error
}

// Next advances to the next result; false at the end or on error (see Err).
func (it *ResultIterator) Next() bool {
	if it.err != nil || it.call == nil {
		return false
	}
	for {
		if it.ordered {
			if it.cursor < len(it.have) && it.have[it.cursor] {
				it.next = it.cursor
				it.cursor++
				return true
			}
			if it.cursor >= len(it.have) {
				return false
			}
		} else if len(it.pending) > 0 {
			it.next, it.pending = it.pending[0], it.pending[1:]
			return true
		}
		select {
		case r, ok := <-it.call.completed:
			if !ok {
				it.call.mu.Lock()
				it.err = it.call.err
				it.call.mu.Unlock()
				if it.err == nil && it.ordered && it.cursor < len(it.have) {
					continue
				}
				if it.err == nil && !it.ordered && len(it.pending) > 0 {
					continue
				}
				return false
			}
			for i := r[0]; i < r[1]; i++ {
				it.have[i] = true
				if !it.ordered {
					it.pending = append(it.pending, i)
				}
			}
		case <-it.call.ctx.Done():
			it.err = fmt.Errorf("pool: %w", context.Cause(it.call.ctx))
			return false
		case <-hostContext().Done():
			it.call.cancel(ErrInterrupted)
			it.err = fmt.Errorf("pool: %w", ErrInterrupted)
			return false
		}
	}
}

// Value is the current result.
func (it *ResultIterator) Value() any {
	if it.call == nil || it.next < 0 {
		return nil
	}
	return it.call.results.Index(it.next).Interface()
}

// Err is the error that ended the iteration, if any.
func (it *ResultIterator) Err() error { return it.err }

// Close is Pool.Close.
func (p *pool) Close() error {
	p.mu.Lock()
	if p.state == poolRunning {
		p.state = poolClosed
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	return p.Join()
}

// Join is Pool.Join.
func (p *pool) Join() error {
	p.mu.Lock()
	state := p.state
	p.mu.Unlock()
	if state == poolRunning {
		return errors.New("pool: Join needs Close or Terminate first")
	}
	ctx := hostContext()
	select {
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		p.Terminate()
		return fmt.Errorf("pool: %w", context.Cause(ctx))
	}
}

// Terminate is Pool.Terminate.
func (p *pool) Terminate() error {
	p.mu.Lock()
	if p.state == poolTerminated && p.err != nil {
		p.mu.Unlock()
		return nil
	}
	p.state = poolTerminated
	queued := p.queue
	p.queue = nil
	workers := make([]*worker, 0, len(p.workers))
	for w := range p.workers {
		workers = append(workers, w)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, job := range queued {
		job.call.finish(job, errors.New("pool: terminated"))
	}
	for _, w := range workers {
		w.signal(syscall.SIGTERM)
	}
	<-p.stopped
	return nil
}
