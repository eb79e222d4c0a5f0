package multiprocessing

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/goproc/goproc/kernel/outband"
)

// The control protocol between a parent and a worker process runs over a
// socketpair passed to the worker as fd 3 (never stdin/stdout): one JSON
// message per line in both directions. The worker's stdout and stderr are
// separate pipes that the parent forwards line by line (see output.go).
//
// parent → worker: opReplay, opRun, opPoolInit, opTasks, opCancel, opReply, opExit
// worker → parent: opReady, opStarted, opDone, opResult, opCancelled, opCall
const (
	opReplay   = "replay"    // catch up on Program growth; answered by opReady
	opRun      = "run"       // run a Process target; answered by opStarted, later opDone
	opPoolInit = "pool-init" // become a pool worker; answered by opReady
	opTasks    = "tasks"     // run a chunk of pool tasks; answered by opResult
	opExit     = "exit"      // exit now (the worker is no longer needed)
	// opCancel takes back a chunk of tasks sent ahead to a busy worker, for
	// an idle one: answered by opCancelled (Cancelled: it will not run; not:
	// it is running), before the chunk's opResult, or not at all once that
	// was sent.
	opCancel    = "cancel"
	opCancelled = "cancelled"
	opReady     = "ready"
	opStarted   = "started"
	opDone      = "done"
	opResult    = "result"
	opCall      = "call"  // worker → parent: an operation on a shared object
	opReply     = "reply" // parent → worker: its answer
)

// markerKind is the outband frame kind a worker writes to its stdout and
// stderr after a task; the parent's forwarder consumes it (never forwards
// it) and so knows that everything the task printed has been written.
const markerKind = 'w'

// message is one control message. Fields are used by some ops only.
type message struct {
	Op  string `json:"op"`
	Seq uint64 `json:"seq,omitempty"`
	Err string `json:"err,omitempty"`

	// Program catch-up: Chunks are Program.Chunks[From:].
	From    int                        `json:"from,omitempty"`
	Chunks  []string                   `json:"chunks,omitempty"`
	Globals map[string]json.RawMessage `json:"globals,omitempty"`

	// What to run.
	Func     string          `json:"func,omitempty"`
	Args     json.RawMessage `json:"args,omitempty"`  // opRun, opPoolInit: []typedValue
	Items    json.RawMessage `json:"items,omitempty"` // opTasks: JSON array
	Star     bool            `json:"star,omitempty"`  // opTasks: items are argument lists
	Enc      string          `json:"enc,omitempty"`   // encoding of Items or Results: "" JSON, else compact.go
	Identity *identity       `json:"identity,omitempty"`

	// Results.
	Results   json.RawMessage `json:"results,omitempty"`
	Failed    *taskFailure    `json:"failed,omitempty"`
	Reusable  bool            `json:"reusable,omitempty"`
	ExitCode  int             `json:"exit_code,omitempty"`
	Replayed  int             `json:"replayed,omitempty"`
	ObjID     uint64          `json:"obj,omitempty"`
	Method    string          `json:"method,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	Timeout   int64           `json:"timeout,omitempty"` // nanoseconds; 0 = none
	HasResult bool            `json:"has,omitempty"`
	Cancelled bool            `json:"cancelled,omitempty"`
}

// identity is what a worker knows about itself and its parent.
type identity struct {
	Name       string `json:"name"`
	Ident      string `json:"ident"` // "1", "1:2", … (Python's _identity)
	Daemon     bool   `json:"daemon"`
	ParentName string `json:"parent_name"`
	ParentPid  int    `json:"parent_pid"`
}

// taskFailure describes a pool task that panicked or returned an error.
type taskFailure struct {
	Index     int    `json:"index"` // index of the item in the call's items
	Item      string `json:"item"`  // the item, printed
	Message   string `json:"message"`
	Traceback string `json:"traceback,omitempty"`
	Panic     bool   `json:"panic"`
}

// conn is one end of a control socket. A message is framed as a 4-byte
// big-endian length and its JSON header, then a 4-byte length and the
// payload (the items or results of a pool chunk: raw JSON, or packed binary
// as message.Enc says), so that large payloads are neither escaped nor
// re-validated inside the header.
type conn struct {
	mu sync.Mutex
	w  *bufio.Writer
	r  *bufio.Reader
	c  io.Closer
}

// connBuffer is the size of a conn's read and write buffers. They hold
// headers and small payloads; a large payload bypasses them (bufio reads
// into and writes from the caller's slice once its buffer is empty), so
// bigger buffers would only cost every new worker, and the parent for
// every worker, page faults and garbage.
const connBuffer = 8 << 10

func newConn(rwc io.ReadWriteCloser) *conn {
	return &conn{w: bufio.NewWriterSize(rwc, connBuffer), r: bufio.NewReaderSize(rwc, connBuffer), c: rwc}
}

func (c *conn) send(m *message) error {
	payload := m.Items
	if m.Op == opResult {
		payload = m.Results
	}
	header := *m
	header.Items, header.Results = nil, nil
	b, err := json.Marshal(&header)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Op, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	c.w.Write(n[:])
	c.w.Write(b)
	binary.BigEndian.PutUint32(n[:], uint32(len(payload)))
	c.w.Write(n[:])
	c.w.Write(payload)
	return c.w.Flush()
}

func (c *conn) recv() (*message, error) {
	read := func(alloc func(int) []byte) ([]byte, error) {
		var n [4]byte
		if _, err := io.ReadFull(c.r, n[:]); err != nil {
			return nil, err
		}
		b := alloc(int(binary.BigEndian.Uint32(n[:])))
		_, err := io.ReadFull(c.r, b)
		return b, err
	}
	header, err := read(func(n int) []byte { return make([]byte, n) })
	if err != nil {
		return nil, err
	}
	// The payload's buffer is recycled by whoever decodes a compact one.
	payload, err := read(getPayload)
	if err != nil {
		return nil, err
	}
	var m message
	if err := json.Unmarshal(header, &m); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	if len(payload) > 0 {
		if m.Op == opResult {
			m.Results = payload
		} else {
			m.Items = payload
		}
	}
	return &m, nil
}

func (c *conn) close() error { return c.c.Close() }

func markerFrame(seq uint64) []byte {
	return outband.Encode(markerKind, []byte(strconv.FormatUint(seq, 10)))
}
