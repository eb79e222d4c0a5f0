package multiprocessing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Shared objects: Queue, Conn (Pipe), Lock, Event, Value and Array live in
// the process that created them (the owner). Passed to a child as an
// argument, an object travels as its id; the child's methods become calls
// over its control connection, which the parent answers on the owner's
// object (a grandchild's calls are relayed by its parent). Values put into
// a Queue or Value are copied as JSON with their type, so an int comes back
// an int. Every method may block for the round trip (tens of µs).

// workerConn is the control connection to the parent, in a worker.
var workerConn atomic.Pointer[conn]

// state is an object's implementation in its owner. owner identifies the
// caller (nil: this process; else the worker whose child called) so that
// locks held by a dead child can be released.
type state interface {
	invoke(ctx context.Context, owner *worker, method string, arg json.RawMessage, timeout time.Duration) (json.RawMessage, error)
}

// handle is embedded in every shared type.
type handle struct {
	mu       sync.Mutex
	local    state  // in the owner
	remoteID uint64 // elsewhere: the object's id in the parent
	localID  uint64 // this process's id for it, once sent to a child
}

var objects = struct {
	sync.Mutex
	next uint64
	byID map[uint64]*handle
}{byID: map[uint64]*handle{}}

// id registers h so that children can reach it.
func (h *handle) id() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.localID == 0 {
		objects.Lock()
		objects.next++
		h.localID = objects.next
		objects.byID[h.localID] = h
		objects.Unlock()
	}
	return h.localID
}

var errNotCreated = errors.New("shared object was not created with its constructor (NewQueue, Pipe, NewLock, NewEvent, NewValue, NewArray)")

// call runs method on the object, here or in the owner.
func (h *handle) call(method string, arg any, timeout time.Duration) (json.RawMessage, error) {
	var raw json.RawMessage
	if arg != nil {
		b, err := json.Marshal(arg)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	return h.invoke(hostContext(), nil, method, raw, timeout)
}

func (h *handle) invoke(ctx context.Context, owner *worker, method string, raw json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	if h == nil {
		return nil, errNotCreated
	}
	if h.local != nil {
		return h.local.invoke(ctx, owner, method, raw, timeout)
	}
	if h.remoteID == 0 {
		return nil, errNotCreated
	}
	return callParent(ctx, h.remoteID, method, raw, timeout)
}

func (h *handle) marshal() ([]byte, error) { return json.Marshal(map[string]uint64{"id": h.id()}) }

func (h *handle) unmarshal(b []byte) error {
	var v struct{ ID uint64 }
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.ID == 0 {
		return errors.New("shared object without id")
	}
	h.remoteID = v.ID
	return nil
}

var (
	callSeq      atomic.Uint64
	pendingCalls sync.Map // seq → chan *message
)

// callParent asks the parent to run method on its object id.
func callParent(ctx context.Context, id uint64, method string, arg json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	c := workerConn.Load()
	if c == nil {
		return nil, errors.New("this shared object belongs to another process")
	}
	seq := callSeq.Add(1)
	ch := make(chan *message, 1)
	pendingCalls.Store(seq, ch)
	defer pendingCalls.Delete(seq)
	if err := c.send(&message{Op: opCall, Seq: seq, ObjID: id, Method: method, Value: arg, Timeout: int64(timeout)}); err != nil {
		return nil, fmt.Errorf("reach the parent: %w", err)
	}
	select {
	case m := <-ch:
		if m.Err != "" {
			if m.Timeout != 0 {
				return nil, fmt.Errorf("%s: %w", m.Err, ErrTimeout)
			}
			return nil, errors.New(m.Err)
		}
		return m.Value, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// deliverReply hands a parent's answer to the waiting call.
func deliverReply(m *message) {
	if ch, ok := pendingCalls.Load(m.Seq); ok {
		ch.(chan *message) <- m
	}
}

// serveCall answers a child's call on one of this process's objects.
func serveCall(ctx context.Context, w *worker, m *message) {
	objects.Lock()
	h := objects.byID[m.ObjID]
	objects.Unlock()
	reply := &message{Op: opReply, Seq: m.Seq}
	if h == nil {
		reply.Err = fmt.Sprintf("no shared object %d in the parent", m.ObjID)
	} else {
		v, err := h.invoke(ctx, w, m.Method, m.Value, time.Duration(m.Timeout))
		reply.Value = v
		if err != nil {
			reply.Err = err.Error()
			if errors.Is(err, ErrTimeout) {
				reply.Timeout = 1
			}
		}
	}
	w.ctl.send(reply)
}

// notifier wakes waiters when an object's state changes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait blocks until ready() (checked under n.mu) or ctx/timeout; ready runs
// with n.mu held and may change the state.
func (n *notifier) wait(ctx context.Context, timeout time.Duration, ready func() (bool, error)) error {
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		n.mu.Lock()
		ok, err := ready()
		if ok || err != nil {
			n.mu.Unlock()
			return err
		}
		if n.ch == nil {
			n.ch = make(chan struct{})
		}
		ch := n.ch
		n.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return fmt.Errorf("waited %v: %w", timeout, ErrTimeout)
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// wake is called with n.mu held after a change.
func (n *notifier) wake() {
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

func unknownMethod(kind, method string) error {
	return fmt.Errorf("%s has no method %q", kind, method)
}

// ---- Queue -----------------------------------------------------------------

// Queue is a FIFO queue shared between processes (Python's
// multiprocessing.Queue). Items are copied.
type Queue struct{ h *handle }

type queueState struct {
	notifier
	items  []json.RawMessage
	closed bool
}

// NewQueue returns an empty queue.
func NewQueue() *Queue { return &Queue{h: &handle{local: &queueState{}}} }

func (q *queueState) invoke(ctx context.Context, _ *worker, method string, arg json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	switch method {
	case "put":
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.closed {
			return nil, errors.New("queue is closed")
		}
		q.items = append(q.items, arg)
		q.wake()
		return nil, nil
	case "get":
		var item json.RawMessage
		err := q.wait(ctx, timeout, func() (bool, error) {
			if len(q.items) > 0 {
				item, q.items = q.items[0], q.items[1:]
				return true, nil
			}
			if q.closed {
				return false, errors.New("queue is closed and empty")
			}
			return false, nil
		})
		return item, err
	case "len":
		q.mu.Lock()
		defer q.mu.Unlock()
		return json.Marshal(len(q.items))
	case "close":
		q.mu.Lock()
		defer q.mu.Unlock()
		q.closed = true
		q.wake()
		return nil, nil
	}
	return nil, unknownMethod("Queue", method)
}

// Put appends v.
func (q *Queue) Put(v any) error {
	tv, err := encodeTyped(v)
	if err != nil {
		return fmt.Errorf("queue: %s cannot be shared between processes: %w", describeValue(v), err)
	}
	_, err = q.h.call("put", tv, 0)
	return wrap("queue put", err)
}

// Get removes and returns the first item, waiting for one.
func (q *Queue) Get() (any, error) { return q.GetTimeout(0) }

// GetTimeout is Get waiting at most d (0: no limit); ErrTimeout if empty.
func (q *Queue) GetTimeout(d time.Duration) (any, error) {
	raw, err := q.h.call("get", nil, d)
	if err != nil {
		return nil, wrap("queue get", err)
	}
	return decodeRaw(raw)
}

// Len is the number of items in the queue.
func (q *Queue) Len() int {
	raw, err := q.h.call("len", nil, 0)
	var n int
	if err == nil {
		json.Unmarshal(raw, &n)
	}
	return n
}

// Empty reports whether the queue has no items.
func (q *Queue) Empty() bool { return q.Len() == 0 }

// Close stops Put; Get returns an error once the queue is empty.
func (q *Queue) Close() error {
	_, err := q.h.call("close", nil, 0)
	return wrap("queue close", err)
}

// MarshalJSON sends the queue to a child by reference.
func (q *Queue) MarshalJSON() ([]byte, error) { return q.h.marshal() }

// UnmarshalJSON makes q refer to the parent's queue.
func (q *Queue) UnmarshalJSON(b []byte) error {
	q.h = &handle{}
	return q.h.unmarshal(b)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

func decodeRaw(raw json.RawMessage) (any, error) {
	var tv typedValue
	if err := json.Unmarshal(raw, &tv); err != nil {
		return nil, err
	}
	return decodeAny(tv)
}

// ---- Pipe ------------------------------------------------------------------

// Conn is one end of a Pipe.
type Conn struct {
	send, recv *Queue
}

// Pipe returns two connected ends: what one Sends the other Recvs.
func Pipe() (*Conn, *Conn) {
	a, b := NewQueue(), NewQueue()
	return &Conn{send: a, recv: b}, &Conn{send: b, recv: a}
}

// Send sends v to the other end.
func (c *Conn) Send(v any) error { return c.send.Put(v) }

// Recv waits for the next value from the other end.
func (c *Conn) Recv() (any, error) { return c.recv.Get() }

// RecvTimeout is Recv waiting at most d.
func (c *Conn) RecvTimeout(d time.Duration) (any, error) { return c.recv.GetTimeout(d) }

// Poll reports whether a value is waiting.
func (c *Conn) Poll() bool { return !c.recv.Empty() }

// Close closes this end: the other end's Recv fails once it drained.
func (c *Conn) Close() error { return c.send.Close() }

// MarshalJSON sends the end to a child by reference.
func (c *Conn) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]*Queue{"send": c.send, "recv": c.recv})
}

// UnmarshalJSON makes c refer to the parent's end.
func (c *Conn) UnmarshalJSON(b []byte) error {
	var v struct{ Send, Recv *Queue }
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.send, c.recv = v.Send, v.Recv
	return nil
}

// ---- Lock ------------------------------------------------------------------

// Lock is a mutual-exclusion lock shared between processes. A lock held by
// a child process that dies is released.
type Lock struct{ h *handle }

type lockState struct {
	notifier
	held  bool
	owner *worker
}

var liveLocks sync.Map // *lockState → struct{}

// NewLock returns an unlocked Lock.
func NewLock() *Lock {
	s := &lockState{}
	liveLocks.Store(s, struct{}{})
	return &Lock{h: &handle{local: s}}
}

func (l *lockState) invoke(ctx context.Context, owner *worker, method string, _ json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	switch method {
	case "acquire":
		err := l.wait(ctx, timeout, func() (bool, error) {
			if !l.held {
				l.held, l.owner = true, owner
				return true, nil
			}
			return false, nil
		})
		return nil, err
	case "release":
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.held {
			return nil, errors.New("release of an unlocked lock")
		}
		l.held, l.owner = false, nil
		l.wake()
		return nil, nil
	}
	return nil, unknownMethod("Lock", method)
}

// releaseLocksOf releases the locks a dead worker held.
func releaseLocksOf(w *worker) {
	liveLocks.Range(func(k, _ any) bool {
		l := k.(*lockState)
		l.mu.Lock()
		if l.held && l.owner == w {
			l.held, l.owner = false, nil
			l.wake()
		}
		l.mu.Unlock()
		return true
	})
}

// Acquire waits for the lock.
func (l *Lock) Acquire() error {
	_, err := l.h.call("acquire", nil, 0)
	return wrap("lock acquire", err)
}

// AcquireTimeout waits at most d; it reports whether it got the lock.
func (l *Lock) AcquireTimeout(d time.Duration) (bool, error) {
	_, err := l.h.call("acquire", nil, max(d, time.Nanosecond))
	if errors.Is(err, ErrTimeout) {
		return false, nil
	}
	return err == nil, wrap("lock acquire", err)
}

// Release releases the lock.
func (l *Lock) Release() error {
	_, err := l.h.call("release", nil, 0)
	return wrap("lock release", err)
}

// MarshalJSON sends the lock to a child by reference.
func (l *Lock) MarshalJSON() ([]byte, error) { return l.h.marshal() }

// UnmarshalJSON makes l refer to the parent's lock.
func (l *Lock) UnmarshalJSON(b []byte) error {
	l.h = &handle{}
	return l.h.unmarshal(b)
}

// ---- Event -----------------------------------------------------------------

// Event is a flag shared between processes that processes can wait for.
type Event struct{ h *handle }

type eventState struct {
	notifier
	set bool
}

// NewEvent returns an Event that is not set.
func NewEvent() *Event { return &Event{h: &handle{local: &eventState{}}} }

func (e *eventState) invoke(ctx context.Context, _ *worker, method string, _ json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	switch method {
	case "set", "clear":
		e.mu.Lock()
		defer e.mu.Unlock()
		e.set = method == "set"
		e.wake()
		return nil, nil
	case "isset":
		e.mu.Lock()
		defer e.mu.Unlock()
		return json.Marshal(e.set)
	case "wait":
		return nil, e.wait(ctx, timeout, func() (bool, error) { return e.set, nil })
	}
	return nil, unknownMethod("Event", method)
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() error { _, err := e.h.call("set", nil, 0); return wrap("event set", err) }

// Clear resets the flag.
func (e *Event) Clear() error { _, err := e.h.call("clear", nil, 0); return wrap("event clear", err) }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool {
	raw, err := e.h.call("isset", nil, 0)
	var set bool
	if err == nil {
		json.Unmarshal(raw, &set)
	}
	return set
}

// Wait waits until the flag is set.
func (e *Event) Wait() error { _, err := e.h.call("wait", nil, 0); return wrap("event wait", err) }

// WaitTimeout waits at most d; it reports whether the flag is set.
func (e *Event) WaitTimeout(d time.Duration) (bool, error) {
	_, err := e.h.call("wait", nil, max(d, time.Nanosecond))
	if errors.Is(err, ErrTimeout) {
		return false, nil
	}
	return err == nil, wrap("event wait", err)
}

// MarshalJSON sends the event to a child by reference.
func (e *Event) MarshalJSON() ([]byte, error) { return e.h.marshal() }

// UnmarshalJSON makes e refer to the parent's event.
func (e *Event) UnmarshalJSON(b []byte) error {
	e.h = &handle{}
	return e.h.unmarshal(b)
}

// ---- Value and Array -------------------------------------------------------

// Value is a single value shared between processes (Python's
// multiprocessing.Value), with a Lock for read-modify-write sequences:
//
//	v.GetLock().Acquire(); x, _ := v.Get(); v.Set(x.(int) + 1); v.GetLock().Release()
//
// or simply v.Add(1), which is atomic.
type Value struct {
	h    *handle
	lock *Lock
}

type valueState struct {
	mu sync.Mutex
	v  reflect.Value // of the initial value's type
}

// NewValue returns a shared value holding initial (its type is kept).
func NewValue(initial any) *Value {
	if initial == nil {
		initial = 0
	}
	v := reflect.New(reflect.TypeOf(initial)).Elem()
	v.Set(reflect.ValueOf(initial))
	return &Value{h: &handle{local: &valueState{v: v}}, lock: NewLock()}
}

func (s *valueState) invoke(_ context.Context, _ *worker, method string, arg json.RawMessage, _ time.Duration) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "get":
		return typedJSON(s.v.Interface())
	case "set", "add":
		var tv typedValue
		if err := json.Unmarshal(arg, &tv); err != nil {
			return nil, err
		}
		nv, err := decodeInto(tv, s.v.Type())
		if err != nil {
			return nil, fmt.Errorf("value of type %s: %w", s.v.Type(), err)
		}
		if method == "add" {
			if err := addTo(s.v, nv); err != nil {
				return nil, err
			}
		} else {
			s.v.Set(nv)
		}
		return typedJSON(s.v.Interface())
	}
	return nil, unknownMethod("Value", method)
}

func typedJSON(v any) (json.RawMessage, error) {
	tv, err := encodeTyped(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(tv)
}

func addTo(dst, delta reflect.Value) error {
	switch dst.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		dst.SetInt(dst.Int() + delta.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		dst.SetUint(dst.Uint() + delta.Uint())
	case reflect.Float32, reflect.Float64:
		dst.SetFloat(dst.Float() + delta.Float())
	case reflect.String:
		dst.SetString(dst.String() + delta.String())
	default:
		return fmt.Errorf("cannot Add to a value of type %s", dst.Type())
	}
	return nil
}

// Get returns the value.
func (v *Value) Get() (any, error) {
	raw, err := v.h.call("get", nil, 0)
	if err != nil {
		return nil, wrap("value get", err)
	}
	return decodeRaw(raw)
}

// Set replaces the value (converted to the value's type).
func (v *Value) Set(x any) error {
	tv, err := encodeTyped(x)
	if err == nil {
		_, err = v.h.call("set", tv, 0)
	}
	return wrap("value set", err)
}

// Add adds delta atomically (numbers; strings are appended) and returns the
// new value.
func (v *Value) Add(delta any) (any, error) {
	tv, err := encodeTyped(delta)
	if err != nil {
		return nil, wrap("value add", err)
	}
	raw, err := v.h.call("add", tv, 0)
	if err != nil {
		return nil, wrap("value add", err)
	}
	return decodeRaw(raw)
}

// GetLock returns the Lock that goes with the value.
func (v *Value) GetLock() *Lock { return v.lock }

// MarshalJSON sends the value to a child by reference.
func (v *Value) MarshalJSON() ([]byte, error) {
	id := v.h.id()
	return json.Marshal(struct {
		ID   uint64 `json:"id"`
		Lock *Lock  `json:"lock"`
	}{id, v.lock})
}

// UnmarshalJSON makes v refer to the parent's value.
func (v *Value) UnmarshalJSON(b []byte) error {
	var s struct {
		ID   uint64
		Lock *Lock
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v.h, v.lock = &handle{remoteID: s.ID}, s.Lock
	return nil
}

// Array is a slice shared between processes (Python's
// multiprocessing.Array), with a Lock.
type Array struct {
	h    *handle
	lock *Lock
}

type arrayState struct {
	mu sync.Mutex
	s  reflect.Value // a slice
}

// NewArray returns a shared array holding a copy of the slice init.
func NewArray(init any) (*Array, error) {
	v := reflect.ValueOf(init)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, fmt.Errorf("NewArray needs a slice, not %s", describeValue(init))
	}
	s := reflect.MakeSlice(reflect.SliceOf(v.Type().Elem()), v.Len(), v.Len())
	reflect.Copy(s, v)
	return &Array{h: &handle{local: &arrayState{s: s}}, lock: NewLock()}, nil
}

type indexed struct {
	I int        `json:"i"`
	V typedValue `json:"v"`
}

func (a *arrayState) invoke(_ context.Context, _ *worker, method string, arg json.RawMessage, _ time.Duration) (json.RawMessage, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var in indexed
	if len(arg) > 0 {
		if err := json.Unmarshal(arg, &in); err != nil {
			return nil, err
		}
	}
	if (method == "get" || method == "set" || method == "add") && (in.I < 0 || in.I >= a.s.Len()) {
		return nil, fmt.Errorf("index %d out of range [0:%d]", in.I, a.s.Len())
	}
	switch method {
	case "get":
		return typedJSON(a.s.Index(in.I).Interface())
	case "set", "add":
		nv, err := decodeInto(in.V, a.s.Type().Elem())
		if err != nil {
			return nil, err
		}
		if method == "add" {
			if err := addTo(a.s.Index(in.I), nv); err != nil {
				return nil, err
			}
		} else {
			a.s.Index(in.I).Set(nv)
		}
		return typedJSON(a.s.Index(in.I).Interface())
	case "len":
		return json.Marshal(a.s.Len())
	case "slice":
		return typedJSON(a.s.Interface())
	}
	return nil, unknownMethod("Array", method)
}

// Get returns element i.
func (a *Array) Get(i int) (any, error) {
	raw, err := a.h.call("get", indexed{I: i}, 0)
	if err != nil {
		return nil, wrap("array get", err)
	}
	return decodeRaw(raw)
}

// Set sets element i.
func (a *Array) Set(i int, x any) error {
	tv, err := encodeTyped(x)
	if err == nil {
		_, err = a.h.call("set", indexed{I: i, V: tv}, 0)
	}
	return wrap("array set", err)
}

// Add adds delta to element i atomically and returns the new element.
func (a *Array) Add(i int, delta any) (any, error) {
	tv, err := encodeTyped(delta)
	if err != nil {
		return nil, wrap("array add", err)
	}
	raw, err := a.h.call("add", indexed{I: i, V: tv}, 0)
	if err != nil {
		return nil, wrap("array add", err)
	}
	return decodeRaw(raw)
}

// Len is the number of elements.
func (a *Array) Len() int {
	raw, err := a.h.call("len", indexed{}, 0)
	var n int
	if err == nil {
		json.Unmarshal(raw, &n)
	}
	return n
}

// Slice returns a copy of all elements (a slice of the element type).
func (a *Array) Slice() (any, error) {
	raw, err := a.h.call("slice", indexed{}, 0)
	if err != nil {
		return nil, wrap("array slice", err)
	}
	return decodeRaw(raw)
}

// GetLock returns the Lock that goes with the array.
func (a *Array) GetLock() *Lock { return a.lock }

// MarshalJSON sends the array to a child by reference.
func (a *Array) MarshalJSON() ([]byte, error) {
	id := a.h.id()
	return json.Marshal(struct {
		ID   uint64 `json:"id"`
		Lock *Lock  `json:"lock"`
	}{id, a.lock})
}

// UnmarshalJSON makes a refer to the parent's array.
func (a *Array) UnmarshalJSON(b []byte) error {
	var s struct {
		ID   uint64
		Lock *Lock
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	a.h, a.lock = &handle{remoteID: s.ID}, s.Lock
	return nil
}
